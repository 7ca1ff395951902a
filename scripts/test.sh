#!/usr/bin/env bash
# The whole test suite, as CI runs it. Installs what it needs first
# (scripts/install-deps.sh), then:
#   1. gofmt and go vet on the default build
#   2. go test ./...                      host backend (Go, with AVX2 loops
#                                         where the CPU has them), and the
#                                         host packages again under -tags
#                                         purego (scalar Go only)
#                                         (FuzzEval's seeds run as tests)
#   3. go test -tags opencl ./...         OpenCL kernels on every OpenCL
#                                         device present (PoCL in CI)
#   4. go vet and go test -c -tags cuda   CUDA code compiles (running it
#                                         needs a GPU: scripts/gpu-check.sh)
#   5. the stale-PTX check (part of 2, needs nvcc)
#   6. scripts/torch_check.py             values and gradients vs PyTorch
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
export CGO_CFLAGS="${CGO_CFLAGS:--DCL_TARGET_OPENCL_VERSION=120}"

step() { printf '\n== %s\n' "$*"; }

step "gofmt, go vet"
bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$bad" ]; then echo "gofmt needed:"; echo "$bad"; exit 1; fi
go vet ./...

step "go test ./... (host)"
go test -count=1 ./...
go vet -tags purego ./...
go test -count=1 -tags purego ./host ./losses ./internal/losstest

step "go test -tags opencl ./... (OpenCL devices: $(clinfo -l 2>/dev/null | grep -c Device || echo 0))"
go vet -tags opencl ./...
go test -count=1 -tags opencl ./...
go test -count=1 -tags opencl -run TestEquivalence -v ./internal/losstest | grep -E "equivalence cases ran|SKIP|FAIL|^ok" || true

step "go vet / go test -c -tags cuda (compile only)"
. scripts/cuda-env.sh
go vet -tags cuda ./...
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -tags cuda -c -o "$tmp/" ./...
go build -tags cuda -o "$tmp/lossbench-cuda" ./cmd/lossbench
echo "cuda test binaries: $(ls "$tmp" | tr '\n' ' ')"

step "PyTorch cross-check"
go build -o "$tmp/lossbench" ./cmd/lossbench
/usr/bin/python3 scripts/torch_check.py --lossbench "$tmp/lossbench"

echo
echo "test.sh: all passed"
