#!/usr/bin/env bash
# The whole test suite, as CI runs it. Installs what it needs first
# (scripts/install-deps.sh), then:
#   1. gofmt and go vet on the default build, and again with the
#      lowest Go release go.mod names
#   2. go test ./...                      host backend (Go, with AVX2 loops
#                                         where the CPU has them), and the
#                                         host packages again under -tags
#                                         purego (scalar Go only)
#                                         (FuzzEval's seeds run as tests)
#   3. go test -fuzz, FUZZTIME each       every fuzz target for a fixed
#                                         number of runs (default 50000x)
#   4. go test -tags opencl ./...         OpenCL kernels on every OpenCL
#                                         device present (PoCL in CI)
#   5. go test -race                      host suites; an OpenCL subset
#   6. go vet and go test -c -tags cuda   CUDA code compiles (running it
#                                         needs a GPU: scripts/gpu-check.sh;
#                                         scripts/cuda-compile.sh; skipped,
#                                         with the toolkit's install, when
#                                         LOSSENGINE_SKIP_CUDA=1)
#                                         and a CUDA-enabled binary (plugin
#                                         loader) run without a GPU
#   7. the stale-PTX check (part of 2, needs nvcc)
#   8. mpirun -np 4 of collective/mpi     vocabulary shards over OpenMPI
#   9. go test -tags openblas             host products through OpenBLAS
#  10. scripts/torch_check.py             values and gradients vs PyTorch
#  11. integrations/gorgonia              its own module: vet and tests
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
export CGO_CFLAGS="${CGO_CFLAGS:--DCL_TARGET_OPENCL_VERSION=120}"

step() { printf '\n== %s\n' "$*"; }

step "gofmt, go vet"
bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$bad" ]; then echo "gofmt needed:"; echo "$bad"; exit 1; fi
go vet ./...
# The avo generator of host/*_amd64.s is a module of its own (so that the
# library does not depend on avo); host's TestAsmgenFresh checks its output.
(cd internal/asmgen && go vet ./... && go test -count=1 ./...)

# go.mod states the lowest Go the module needs (go 1.22): the library and
# its tests must build with that release as well as with the current one.
# go vet's stdversion check above already rejects newer standard-library
# API; this builds and vets everything with the oldest toolchain itself
# (downloaded once through the module proxy into the module cache).
step "lowest Go: $(sed -n 's/^go //p' go.mod)"
lowest="go$(sed -n 's/^go //p' go.mod).12"
GOTOOLCHAIN=$lowest go build ./...
GOTOOLCHAIN=$lowest go vet ./...

step "go test ./... (host)"
go test -count=1 ./...
go vet -tags purego ./...
go test -count=1 -tags purego ./host ./losses ./internal/losstest

FUZZTIME="${FUZZTIME:-50000x}"
step "fuzzing ($FUZZTIME per target)"
# Each fuzz target runs for FUZZTIME: 50000 inputs (5-15 s on two cores)
# by default, a count rather than a duration because of the deadline race
# below; FUZZTIME=5m scripts/test.sh for a longer run. A failing input
# fails CI: go test writes it to
# <package>/testdata/fuzz/<Target>/<hash> (printed below); reproduce it with
#   go test -run '<Target>/<hash>' ./<package>
# and commit it with the fix, so that it runs with the tests from then on.
# -fuzzminimizetime 2s: by default every input that finds new coverage is
# minimised for up to 60 s, and for a JSON case of 1-2 KB the minimiser's
# quadratic pass takes all of it (about 10^6 runs); while the workers
# minimise, the status line shows 0 execs/sec and nothing new is tried.
# The outer timeout covers the instrumented build (about 40 s cold on two
# cores) and a worker that hangs.
fuzzstamp=$(mktemp)
fuzzlog=$(mktemp)
# With a duration, Go 1.26's fuzzing coordinator can report "context
# deadline exceeded" when -fuzztime expires while a worker is mid-call,
# with no failing input (go.dev/issue/75804, fixed in Go 1.27): such a
# run, and only such a run, is repeated once.
fuzz() {
	local pkg=$1 target=$2 try
	for try in 1 2; do
		if timeout 300 go test -run '^$' -fuzz "^$target\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 2s "$pkg" 2>&1 | tee "$fuzzlog"; then
			return 0 # pipefail: go test's status
		fi
		if [ "$try" = 1 ] && grep -q 'context deadline exceeded' "$fuzzlog" &&
			[ -z "$(find "$pkg/testdata/fuzz/$target" -type f -newer "$fuzzstamp" 2>/dev/null)" ]; then
			echo "fuzzing $target: the coordinator's deadline race (no failing input); once more"
			continue
		fi
		echo "fuzzing $target failed; new inputs:"
		find "$pkg/testdata/fuzz/$target" -type f -newer "$fuzzstamp" 2>/dev/null | while read -r f; do
			echo "== $f"
			cat "$f"
		done
		exit 1
	done
}
for target in FuzzCrossEntropy FuzzPointwise FuzzRows FuzzCTC FuzzSeqCE FuzzSoftmax FuzzDice FuzzLovasz FuzzBox FuzzBoundary FuzzSSIM FuzzGram FuzzPairwise FuzzContrastive FuzzMining \
	FuzzPolicy FuzzReturns FuzzSAC FuzzGan FuzzMultitask FuzzSoftmetric FuzzSoftMetricValues FuzzClip FuzzClipGradNorm \
	FuzzDistill FuzzVocabParallel FuzzVocabParallelDecl FuzzLinearCE; do
	fuzz ./losses "$target"
done
fuzz ./host FuzzMatmul
fuzz ./cmd/lossbench FuzzEval
rm -f "$fuzzstamp" "$fuzzlog"

step "go test -tags opencl ./... (every OpenCL device present; PoCL in CI)"
go vet -tags opencl ./...
go test -count=1 -tags opencl ./...
go test -count=1 -tags opencl -run TestEquivalence -v ./internal/losstest | grep -E "equivalence cases ran|SKIP|FAIL|^ok" || true

step "long test: cross_entropy over 2^31 + 2 float32 logits (8.6 GB, about 5 minutes)"
LOSSENGINE_LONG=1 go test -count=1 -run TestCrossEntropyBeyondInt32 -v ./losses | grep -E "^(--- |ok|FAIL)"

step "go test -race (host suites; OpenCL subset)"
# The host device runs kernels on goroutines (runPar, parallelFor, the job
# and scratch pools); -short leaves out the long CTC cases, which take the
# same paths as the shorter ones. The equivalence table runs every loss at
# sizes that split across goroutines. On the host the kernel suite compares
# the mirrors with themselves, so under -race (where all of it takes about
# 2 minutes more) only its determinism family, which runs each parallel
# mirror at 3x131072 twice, and the small families. About 1 minute on two
# cores.
go test -count=1 -race -short ./host ./losses ./internal/losstest ./cmd/lossbench
go test -count=1 -race -short -run 'TestHost/(determinism|reduce|scale_rows|ctc_nan)$' ./internal/kerneltest
# All the OpenCL suites under -race take over 3 minutes (the host mirrors
# they compare with run instrumented too, and the host suites again), so a
# representative subset, about 1 minute: the backend's own tests (buffers,
# Wrap, errors, concurrent use), the reduce, scale_rows, pointwise, ctc_nan
# and determinism kernel families on each device, and the equivalence
# table on OpenCL.
go test -count=1 -race -tags opencl \
	-run 'TestConcurrent|TestWrap|TestErrors|TestInfo|TestKernels/[^/]+/(reduce|scale_rows|pointwise|ctc_nan|determinism)$' ./device/opencl
go test -count=1 -race -tags opencl -run 'TestEquivalence/opencl' ./internal/losstest

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ "${LOSSENGINE_SKIP_CUDA:-}" = 1 ]; then
  step "CUDA compile check skipped (LOSSENGINE_SKIP_CUDA=1; docker/cpu.Dockerfile runs it in its cuda-compile stage)"
else
  step "go vet / go test -c -tags cuda (compile only)"
  scripts/cuda-compile.sh "$tmp"
  # A binary built with CUDA support (-tags cuda,cudaplugin: the backend as
  # a plugin, loaded after a driver probe) starts here, with no GPU, lists
  # cuda as absent with the reason, and sweeps on the host.
  step "CUDA-enabled binary without a GPU"
  scripts/cuda-fallback-check.sh
fi

# The MPI communicator under mpirun (4 ranks on any core count): each rank's
# vocabulary shard against the one-process call.
step "collective/mpi under mpirun -np 4"
go vet -tags mpi ./collective/...
go test -tags mpi -c -o "$tmp/mpi.test" ./collective/mpi
if ! mpirun -np 4 --allow-run-as-root --oversubscribe "$tmp/mpi.test" -test.count=1 -test.v \
	-test.run 'TestAllReduce|TestVocabParallelCrossEntropy$|TestVocabParallelLinearCrossEntropy$|TestVocabParallelMismatch' >"$tmp/mpi.log" 2>&1; then
  cat "$tmp/mpi.log"
  exit 1
fi
echo "mpirun -np 4: $(grep -c '^--- PASS' "$tmp/mpi.log") test runs passed over the 4 ranks"

step "go test -tags openblas (the host's matrix products through OpenBLAS)"
go vet -tags openblas ./host/... ./losses
go test -count=1 -tags openblas ./host/...
go test -count=1 -tags openblas -run 'LinearCrossEntropy|Gram|Contrastive|Matmul' ./losses ./internal/kerneltest

step "integrations/gorgonia (a module of its own, on gorgonia.org/gorgonia v0.9.18)"
(cd integrations/gorgonia && go vet ./... && go test -count=1 ./...)

step "PyTorch cross-check"
go build -o "$tmp/lossbench" ./cmd/lossbench
/usr/bin/python3 scripts/torch_check.py --lossbench "$tmp/lossbench"

echo
echo "test.sh: all passed"
