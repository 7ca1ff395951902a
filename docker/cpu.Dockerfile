# CPU image: Go + PoCL (a CPU OpenCL device) + the CUDA toolkit for
# compile-only checks + PyTorch for the cross-check. Its default command
# runs the whole test suite, exactly as CI does.
#
#   docker build -f docker/cpu.Dockerfile -t lossengine-cpu .
#   docker run --rm lossengine-cpu
FROM golang:1.26-bookworm
WORKDIR /src
COPY scripts/install-deps.sh scripts/
RUN scripts/install-deps.sh
COPY go.mod go.sum ./
RUN go mod download
COPY . .
CMD ["scripts/test.sh"]
