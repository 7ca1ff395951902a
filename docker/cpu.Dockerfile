# syntax=docker/dockerfile:1
#
# CPU image: Go + PoCL (a CPU OpenCL device) + PyTorch (CPU) + OpenMPI +
# OpenBLAS; its default command runs the test suite as CI does, less the
# CUDA compile check, which a stage of its own runs at build time, so that
# the image does not carry the CUDA toolkit. Build from the repository root.
#
# Targets (--target):
#   deps          Debian bookworm with Go 1.26.8, the packages of
#                 scripts/install-deps.sh but the CUDA toolkit, the module
#                 cache and the go.mod's lowest Go toolchain (for test.sh)
#   cuda-compile  deps + Debian's nvidia-cuda-toolkit: scripts/cuda-compile.sh
#                 (go vet, go test -c, lossbench with -tags cuda) and the
#                 tests of ./kernels that need nvcc (the stale-PTX check,
#                 every family compiled with nvcc); the build fails if any
#                 of them fails
#   test          (the default, last stage) deps + the source; requires
#                 cuda-compile to have passed; runs
#                 LOSSENGINE_SKIP_CUDA=1 scripts/test.sh
#
#   docker build -f docker/cpu.Dockerfile -t lossengine-cpu .
#   docker run --rm lossengine-cpu                 # the whole suite (about an hour on 2 cores)
#   docker run --rm -e FUZZTIME=1000x lossengine-cpu
#   docker build -f docker/cpu.Dockerfile --target cuda-compile .
#
# The base image is pinned by its exact tag. To pin it by digest as well,
# pass the digest in the image reference:
#   --build-arg GOLANG_IMAGE=golang:1.26.8-bookworm@sha256:<digest>
# (docker buildx imagetools inspect golang:1.26.8-bookworm prints it).
ARG GOLANG_IMAGE=golang:1.26.8-bookworm

FROM ${GOLANG_IMAGE} AS deps
SHELL ["/bin/bash", "-euo", "pipefail", "-c"]
ENV LOSSENGINE_SKIP_CUDA=1
WORKDIR /src
COPY scripts/install-deps.sh scripts/
RUN scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY go.mod go.sum ./
# test.sh builds and vets with the lowest Go release go.mod names (go1.22.12,
# the module proxy's golang.org/toolchain, checked against go.sum's
# database): fetch it now, so that the test run needs no network for it.
RUN go mod download \
 && GOTOOLCHAIN="go$(sed -n 's/^go //p' go.mod).12" go version

FROM deps AS cuda-compile
ENV LOSSENGINE_SKIP_CUDA=0
RUN scripts/install-deps.sh cuda && rm -rf /var/lib/apt/lists/*
COPY . .
RUN scripts/cuda-compile.sh \
 && go test -count=1 -v -run 'TestPTX|TestCompileCUDA' ./kernels \
 && touch /cuda-compile.ok

FROM deps AS test
# Only the marker comes over: the build of this stage waits for
# cuda-compile's checks, and the toolkit stays behind in that stage.
COPY --from=cuda-compile /cuda-compile.ok /
COPY . .
CMD ["scripts/test.sh"]
