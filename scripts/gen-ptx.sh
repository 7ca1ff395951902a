#!/usr/bin/env bash
# Compiles each kernels/cuda/<family>.cu (lemath.h and the family's body
# kernels/src/<family>.h) to PTX with nvcc:
#
#   scripts/gen-ptx.sh [OUTDIR]
#
# OUTDIR defaults to kernels/cuda (the committed PTX, embedded by
# kernels/ptx_cuda.go behind the cuda build tag). `go generate ./kernels/`
# runs this script; kernels/ptx_test.go runs it into a temporary folder and
# fails when the committed PTX is stale.
#
# The flags keep float32 arithmetic IEEE-faithful (no fused multiply-add,
# correctly rounded division and square root, no flush-to-zero), so that
# results match the host mirrors' formulas. compute_70 PTX is JIT-compiled
# by the driver for any GPU from Volta on.
#
# The committed PTX comes from CUDA 11.8 (Debian's nvidia-cuda-toolkit):
# PTX ISA 7.8, which drivers from R520 on load. Another nvcc release writes
# different PTX (and a newer ISA that older drivers refuse), so regenerate
# with 11.8; the stale-PTX test skips itself under another release.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/kernels/cuda}"
nvcc="${NVCC:-nvcc}"
flags=(-ptx -arch=compute_70 -fmad=false -prec-div=true -prec-sqrt=true -ftz=false -O3)

if ! command -v "$nvcc" >/dev/null; then
  echo "gen-ptx: $nvcc not found (install the CUDA toolkit: scripts/install-deps.sh cuda)" >&2
  exit 1
fi
mkdir -p "$out"
# Each .cu is thin: its #include "../lemath.h" and "../src/<family>.h" (the
# family's one kernel body, shared with the OpenCL build) are resolved by
# nvcc relative to the .cu file, so no -I is needed.
for src in "$root"/kernels/cuda/*.cu; do
  fam="$(basename "$src" .cu)"
  "$nvcc" "${flags[@]}" -o "$out/$fam.ptx" "$src"
done
