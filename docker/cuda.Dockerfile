# CUDA image: NVIDIA's CUDA devel base + Go. Builds lossbench and the test
# binaries with -tags cuda (scripts/gpu-check.sh build) and, by default,
# runs them on the GPU (scripts/gpu-check.sh run).
#
#   docker build -f docker/cuda.Dockerfile -t lossengine-cuda .
#   docker run --rm --gpus all lossengine-cuda
FROM nvidia/cuda:12.4.1-devel-ubuntu22.04
ARG GO_VERSION=1.26.8
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends ca-certificates curl git python3 \
 && curl -fsSL https://go.dev/dl/go${GO_VERSION}.linux-amd64.tar.gz | tar -C /usr/local -xz
ENV PATH=/usr/local/go/bin:$PATH
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN scripts/gpu-check.sh build /opt/lossengine
CMD ["scripts/gpu-check.sh", "run", "/opt/lossengine"]
