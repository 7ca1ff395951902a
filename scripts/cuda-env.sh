# shellcheck shell=bash
# Source this before building with -tags cuda:
#
#   . scripts/cuda-env.sh
#   go build -tags cuda ./...
#
# gorgonia.org/cu needs cuda.h to compile and libcuda.so to link. Its own
# cgo flags cover /usr/include, /usr/local/cuda/{include,lib64} and
# /usr/lib/x86_64-linux-gnu, but not the toolkit's stub folders, where
# libcuda.so lives on a machine (or image) without the NVIDIA driver:
# Debian's nvidia-cuda-toolkit puts it in /usr/lib/<arch>-linux-gnu/stubs,
# NVIDIA's images in /usr/local/cuda/lib64/stubs. This script finds
# cuda.h and a libcuda.so (the driver's first, else a stub) and appends
# -I and -L flags for them to CGO_CFLAGS and CGO_LDFLAGS. Linking against
# the stub is enough: at run time the driver's libcuda.so.1 is loaded.
#
# CUDA_HOME (or CUDA_PATH), if set, is searched first.

_le_arch="$(uname -m)-linux-gnu"
_le_inc=""
for _le_d in "${CUDA_HOME:-}" "${CUDA_PATH:-}" /usr/local/cuda /usr/lib/cuda /usr; do
  if [ -n "$_le_d" ] && [ -f "$_le_d/include/cuda.h" ]; then _le_inc="$_le_d/include"; break; fi
done
_le_lib=""
for _le_d in \
  ${CUDA_HOME:+"$CUDA_HOME/lib64"} ${CUDA_PATH:+"$CUDA_PATH/lib64"} \
  "/usr/lib/$_le_arch" /usr/lib64 /usr/local/cuda/lib64 \
  ${CUDA_HOME:+"$CUDA_HOME/lib64/stubs"} ${CUDA_PATH:+"$CUDA_PATH/lib64/stubs"} \
  "/usr/lib/$_le_arch/stubs" /usr/local/cuda/lib64/stubs /usr/lib/cuda/lib64/stubs \
  "/usr/local/cuda/targets/$(uname -m)-linux/lib/stubs"; do
  if [ -e "$_le_d/libcuda.so" ]; then _le_lib="$_le_d"; break; fi
done

if [ -z "$_le_inc" ]; then
  echo "cuda-env: cuda.h not found (install the CUDA toolkit: scripts/install-deps.sh cuda, or set CUDA_HOME)" >&2
elif [ "$_le_inc" != /usr/include ]; then
  export CGO_CFLAGS="${CGO_CFLAGS:+$CGO_CFLAGS }-I$_le_inc"
fi
if [ -z "$_le_lib" ]; then
  echo "cuda-env: libcuda.so not found, not even the toolkit's stub (set CUDA_HOME)" >&2
else
  export CGO_LDFLAGS="${CGO_LDFLAGS:+$CGO_LDFLAGS }-L$_le_lib"
fi
export CGO_ENABLED=1
unset _le_arch _le_inc _le_lib _le_d
