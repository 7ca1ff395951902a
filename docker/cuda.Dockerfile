# syntax=docker/dockerfile:1
#
# CUDA image: the cuda-tagged test binaries and lossbench, built in NVIDIA's
# CUDA devel image, run in the CUDA runtime image with PyTorch for CUDA, so
# that scripts/gpu-check.sh run checks every loss on the GPU and times
# PyTorch's CUDA losses beside them. Build from the repository root.
#
# Targets (--target):
#   build   nvidia/cuda devel + Go (its checksum checked): runs
#           scripts/gpu-check.sh build /opt/lossengine
#   gpu     (the default, last stage) nvidia/cuda runtime + python3 +
#           torch (CUDA 12.4 wheels) + what build wrote to /opt/lossengine;
#           runs scripts/gpu-check.sh run /opt/lossengine
#
#   docker build -f docker/cuda.Dockerfile -t lossengine-cuda .
#   docker run --rm --gpus all lossengine-cuda
#
# Base images are pinned by their exact tags; to pin them by digest too,
# pass references with @sha256:<digest> in CUDA_DEVEL_IMAGE and
# CUDA_RUNTIME_IMAGE. The runtime image and the torch wheels must agree on
# the CUDA release (12.4 here: TORCH_INDEX .../cu124).
ARG CUDA_DEVEL_IMAGE=nvidia/cuda:12.4.1-devel-ubuntu22.04
ARG CUDA_RUNTIME_IMAGE=nvidia/cuda:12.4.1-runtime-ubuntu22.04

FROM ${CUDA_DEVEL_IMAGE} AS build
SHELL ["/bin/bash", "-euo", "pipefail", "-c"]
# Go comes from the module proxy as the golang.org/toolchain module (the
# release the go command itself downloads for GOTOOLCHAIN). GO_SHA256 is
# the SHA-256 of that zip file, whose content sum.golang.org also records
# (h1:ZOmGe1OnfREDMIdb1Qi4G9JSuDPBLGExZMQ4nis1RXM= for go1.26.8).
ARG GO_VERSION=1.26.8
ARG GO_SHA256=30c2b1bf7dcc88d3eb0a1364e47ddd9128edb3110a30e8a0ef61cd5856b31de7
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ca-certificates curl unzip gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/* \
 && curl -fsSL -o /tmp/go.zip "https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go${GO_VERSION}.linux-amd64.zip" \
 && echo "${GO_SHA256}  /tmp/go.zip" | sha256sum -c - \
 && unzip -q /tmp/go.zip -d /tmp/go \
 && mv "/tmp/go/golang.org/toolchain@v0.0.1-go${GO_VERSION}.linux-amd64" /usr/local/go \
 && rm -rf /tmp/go /tmp/go.zip
ENV PATH=/usr/local/go/bin:$PATH GOTOOLCHAIN=local
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN scripts/gpu-check.sh build /opt/lossengine

FROM ${CUDA_RUNTIME_IMAGE} AS gpu
SHELL ["/bin/bash", "-euo", "pipefail", "-c"]
ARG TORCH_VERSION=2.5.1
ARG TORCH_INDEX=https://download.pytorch.org/whl/cu124
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 python3-pip \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -m pip install --no-cache-dir --index-url "${TORCH_INDEX}" "torch==${TORCH_VERSION}"
COPY --from=build /opt/lossengine /opt/lossengine
WORKDIR /opt/lossengine
CMD ["/opt/lossengine/gpu-check.sh", "run", "/opt/lossengine"]
