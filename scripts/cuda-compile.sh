#!/usr/bin/env bash
# The CUDA compile check (no GPU needed): go vet and go test -c of every
# package, and lossbench, with -tags cuda, against the toolkit's headers
# and its libcuda stub (scripts/cuda-env.sh). scripts/test.sh runs it;
# so does the cuda-compile stage of docker/cpu.Dockerfile.
#
#   scripts/cuda-compile.sh [DIR]   the binaries go to DIR (default: a
#                                   temporary folder, removed at the end)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/cuda-env.sh
out="${1:-}"
if [ -z "$out" ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi
go vet -tags cuda ./...
go test -tags cuda -c -o "$out/" ./...
go build -tags cuda -o "$out/lossbench-cuda" ./cmd/lossbench
echo "cuda test binaries: $(ls "$out" | tr '\n' ' ')"
