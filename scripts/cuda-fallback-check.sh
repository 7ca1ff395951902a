#!/usr/bin/env bash
# Proves that a binary built with CUDA support starts where CUDA cannot run.
# Builds lossbench with -tags cuda,cudaplugin (the plugin loader of package
# device/cudaload) and the CUDA backend as a plugin, then runs them:
#
#   1. with this machine's driver, if any (in CI: the driver library
#      without a GPU): "lossbench devices" lists cuda as compiled in and
#      absent with the driver's reason, and a sweep falls back to the host;
#   2. with no driver library at all: the same, with dlopen's reason;
#   3. with a stand-in driver (device/cudaload/testdata/fakecuda.c) whose
#      cuInit succeeds: the plugin loads (gorgonia.org/cu's init runs), the
#      real backend lists the stand-in's GPU, opening it fails cleanly and
#      "auto" falls back; and with the stand-in's cuInit failing (100), the
#      plugin is never loaded and the process does not exit.
#
# Needs Go, a C compiler and the CUDA headers (scripts/install-deps.sh cuda).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
. scripts/cuda-env.sh
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

go vet -tags cuda,cudaplugin ./...
go build -tags cuda,cudaplugin -o "$dir/lossbench" ./cmd/lossbench
go build -tags cuda,cudaplugin -buildmode=plugin -o "$dir/lossengine-cuda.so" ./device/cuda/plugin
go test -tags cuda,cudaplugin -c -o "$dir/cudaload.test" ./device/cudaload
if readelf -d "$dir/lossbench" | grep -q 'libcuda'; then
  echo "cuda-fallback: lossbench links libcuda directly"; exit 1
fi

# The stand-in driver: fakecuda.c plus every other cu* symbol the plugin
# imports, each returning CUDA_ERROR_UNKNOWN.
{
  cat device/cudaload/testdata/fakecuda.c
  defined=$(grep -oE '^int (cu[A-Za-z0-9_]+)' device/cudaload/testdata/fakecuda.c | awk '{print $2}')
  nm -D --undefined-only "$dir/lossengine-cuda.so" | awk '$2 ~ /^cu/ {print $2}' | sort -u | while read -r s; do
    grep -qx "$s" <<<"$defined" || echo "int $s(void) { return 999; }"
  done
} > "$dir/fakecuda.c"
mkdir -p "$dir/fake"
cc -shared -fPIC -w -Wl,-soname,libcuda.so.1 -o "$dir/fake/libcuda.so.1" "$dir/fakecuda.c"

expect() { # expect NAME PATTERN FILE
  if ! grep -qE -- "$2" "$3"; then
    echo "cuda-fallback: $1: expected /$2/ in:"; cat "$3"; exit 1
  fi
}

echo "== 1. this machine's driver"
"$dir/lossbench" devices | tee "$dir/out1"
expect "devices" '^cuda: compiled in' "$dir/out1"
expect "devices" '^host: compiled in' "$dir/out1"
"$dir/lossbench" -device auto -loss mse_loss,cross_entropy | tee "$dir/sweep1"
expect "auto sweep" 'host' "$dir/sweep1"
if "$dir/lossbench" -device cuda -loss mse_loss > "$dir/out1c" 2>&1; then
  if ! grep -q 'cuda:0' "$dir/out1"; then echo "cuda-fallback: -device cuda succeeded without a GPU"; exit 1; fi
fi

echo "== 2. no driver library"
LOSSENGINE_CUDA_DRIVER=libcuda-absent.so.1 "$dir/lossbench" devices | tee "$dir/out2"
expect "devices" 'no CUDA driver: libcuda-absent.so.1' "$dir/out2"

echo "== 3. a stand-in driver"
LOSSENGINE_CUDA_DRIVER="$dir/fake/libcuda.so.1" "$dir/lossbench" devices | tee "$dir/out3"
expect "devices" 'fake GPU of the loader test' "$dir/out3"
LOSSENGINE_CUDA_DRIVER="$dir/fake/libcuda.so.1" "$dir/lossbench" -device auto -loss mse_loss | tee "$dir/sweep3"
expect "auto sweep" 'host' "$dir/sweep3"
FAKECUDA_INIT=100 LOSSENGINE_CUDA_DRIVER="$dir/fake/libcuda.so.1" "$dir/lossbench" devices | tee "$dir/out3b"
expect "devices" 'fails to initialise: CUDA_ERROR_NO_DEVICE \(100\)' "$dir/out3b"
FAKECUDA_DIR="$dir/fake" LOSSENGINE_CUDA_PLUGIN="$dir/lossengine-cuda.so" "$dir/cudaload.test" -test.count=1 -test.v 2>&1 | tee "$dir/test3"
expect "loader test" '^ok|^PASS' "$dir/test3"
echo "cuda-fallback: ok"
