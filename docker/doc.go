// Package docker holds the project's container images, which is why it
// has no Go API of its own:
//
//   - cpu.Dockerfile: Go, PoCL (a CPU OpenCL device), PyTorch (CPU),
//     OpenMPI and OpenBLAS; runs scripts/test.sh without the CUDA compile
//     check, which its cuda-compile stage runs at build time;
//   - cuda.Dockerfile: the cuda-tagged binaries built in NVIDIA's CUDA
//     devel image, run by scripts/gpu-check.sh in the CUDA runtime image
//     beside PyTorch for CUDA.
//
// Its test reads both files with a small line-oriented parser and checks
// what a build would need without building them: every base image pinned
// to an exact release, every download checked against a SHA-256 given in
// the file, every pip package pinned, every COPY --from naming an earlier
// stage, every scripts/ path present in the repository (and executable
// where it is run), nothing the images copy left out by .dockerignore, and
// the CPU image's final stage free of the CUDA toolkit.
package docker
