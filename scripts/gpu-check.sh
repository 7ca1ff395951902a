#!/usr/bin/env bash
# GPU check in two halves, so that the machine with the GPU needs no Go:
#
#   scripts/gpu-check.sh build [DIR]   on a machine with Go and the CUDA
#                                      headers: build the cuda-tagged test
#                                      binaries and lossbench into DIR
#   scripts/gpu-check.sh run [DIR]     on the GPU machine (NVIDIA driver
#                                      only): run them and print the results
#
# DIR defaults to ./gpu-check. run also times PyTorch's CUDA losses when
# python3 with torch is present (scripts/bench_torch.py --device cuda).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mode="${1:-}"
dir="${2:-$root/gpu-check}"

case "$mode" in
build)
  cd "$root"
  . scripts/cuda-env.sh
  mkdir -p "$dir"
  go test -tags cuda -c -o "$dir/cuda.test" ./device/cuda
  go test -tags cuda -c -o "$dir/losstest.test" ./internal/losstest
  go test -tags cuda -c -o "$dir/losses.test" ./losses
  go build -tags cuda -o "$dir/lossbench" ./cmd/lossbench
  # The CUDA-enabled binary that starts everywhere: the backend as a plugin.
  mkdir -p "$dir/plugin"
  go build -tags cuda,cudaplugin -o "$dir/plugin/lossbench" ./cmd/lossbench
  go build -tags cuda,cudaplugin -buildmode=plugin -o "$dir/plugin/lossengine-cuda.so" ./device/cuda/plugin
  cp scripts/bench_torch.py scripts/bench_torch_rows.py scripts/benchpeer.py scripts/torch_check.py scripts/gpu-check.sh "$dir/"
  echo "gpu-check: built into $dir"
  ;;
run)
  cd "$dir"
  if ! ldconfig -p 2>/dev/null | grep -q 'libcuda.so.1'; then
    lib=$(find / -name 'libcuda.so.1' -not -path '*/stubs/*' 2>/dev/null | head -1 || true)
    [ -n "$lib" ] && export LD_LIBRARY_PATH="$(dirname "$lib"):${LD_LIBRARY_PATH:-}"
  fi
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || true
  echo "== lossbench devices"; ./lossbench devices
  echo "== lossbench devices, CUDA backend loaded as a plugin"; ./plugin/lossbench devices
  status=0
  echo "== plugin build: lossbench --device cuda --loss mse_loss,cross_entropy"
  ./plugin/lossbench --device cuda --loss mse_loss,cross_entropy || status=1
  echo "== CUDA backend tests (the kernel suite of internal/kerneltest and the device tests)"
  if ./cuda.test -test.count=1 -test.v > cuda-tests.log 2>&1; then
    echo "pass: $(grep -c -- '--- PASS' cuda-tests.log) subtests; $(grep -c -- '--- SKIP' cuda-tests.log) skipped"
  else
    status=1
    grep -E -- '--- FAIL|^FAIL|panic|Error' cuda-tests.log | head -60
  fi
  grep -A40 'kernel cases compared' cuda-tests.log | head -45 || true
  echo "== equivalence table on every device"; ./losstest.test -test.count=1 -test.v -test.run TestEquivalence 2>&1 | grep -vE '^=== RUN' || status=1
  echo "== losses tests"; ./losses.test -test.count=1 2>&1 | tail -3 || status=1
  echo "== lossbench --device cuda"; ./lossbench --device cuda || status=1
  echo "== lossbench --device cuda --loss cross_entropy --skip-target-check"
  ./lossbench --device cuda --loss cross_entropy --skip-target-check || status=1
  echo "== lossbench --device cuda --loss pointwise (every elementwise loss)"
  ./lossbench --device cuda --loss pointwise || status=1
  echo "== lossbench --device cuda, row-wise losses"
  ./lossbench --device cuda --loss cross_entropy_probs --loss nll_loss --loss focal_loss --loss multi_margin_loss \
    --loss categorical_hinge --loss distill_kl --loss poly_loss_cross_entropy || status=1
  if python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
    echo "== PyTorch CUDA peer"; python3 bench_torch.py --device cuda || status=1
  fi
  exit $status
  ;;
*)
  echo "usage: $0 build|run [DIR]" >&2
  exit 2
  ;;
esac
