#!/usr/bin/env bash
# Installs, from Debian's packages, what the full test suite needs and the
# machine lacks: OpenCL headers and loader plus PoCL (a CPU OpenCL device),
# the CUDA toolkit (nvcc and cuda.h, to compile the cuda-tagged code and
# regenerate PTX), PyTorch for the cross-check, OpenMPI (collective/mpi)
# and OpenBLAS (-tags openblas). Safe to run repeatedly:
# it installs nothing that is already present.
#
#   scripts/install-deps.sh            everything
#   scripts/install-deps.sh opencl     only the OpenCL part (likewise
#                                      cuda, torch, mpi, openblas)
set -euo pipefail

want="${1:-all}"
sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "install-deps: not root and no sudo; install the packages listed in this script by hand" >&2
    exit 1
  fi
fi

missing=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
need() { for p in "$@"; do have_pkg "$p" || missing+=("$p"); done; }

case "$want" in
  all|opencl) need ocl-icd-opencl-dev opencl-headers pocl-opencl-icd ;;
esac
# LOSSENGINE_SKIP_CUDA=1 leaves the toolkit out of "all" (the CPU image,
# whose cuda-compile stage installs it apart: docker/cpu.Dockerfile).
case "$want" in
  all) [ "${LOSSENGINE_SKIP_CUDA:-}" = 1 ] || need nvidia-cuda-toolkit ;;
  cuda) need nvidia-cuda-toolkit ;;
esac
case "$want" in
  all|torch) need python3-torch ;;
esac
# OpenMPI for collective/mpi (-tags mpi) and its mpirun test; OpenBLAS for
# the host's matrix products under -tags openblas.
case "$want" in
  all|mpi) need libopenmpi-dev openmpi-bin ;;
esac
case "$want" in
  all|openblas) need libopenblas-dev pkg-config ;;
esac

if [ "${#missing[@]}" = 0 ]; then
  exit 0
fi

# nvidia-cuda-toolkit lives in Debian's contrib and non-free components.
if [[ " ${missing[*]} " == *" nvidia-cuda-toolkit "* ]] && ! grep -rqs "non-free" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  . /etc/os-release
  $sudo tee /etc/apt/sources.list.d/lossengine-nonfree.sources >/dev/null <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: ${VERSION_CODENAME} ${VERSION_CODENAME}-updates
Components: contrib non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

echo "install-deps: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
