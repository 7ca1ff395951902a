// Package kernels holds lossengine's kernel manifest and embeds the kernel
// sources.
//
// Every kernel exists three times under one name and one argument order:
// a __global__ function in cuda/<family>.cu, a __kernel function in
// opencl/<family>.cl, and a host mirror in package host (file
// host/<family>.go). Manifest lists each kernel with its argument kinds;
// TestParity fails when a kernel is missing from any of the three, and
// every backend's Launch checks its arguments against the manifest with
// CheckArgs.
//
// Math shared by the CUDA and OpenCL sources (log-sum-exp, log1p-exp,
// log-add-exp, the block reductions) lives in lemath.h, which both dialects
// include; package host has Go twins with the same names.
//
// All kernels run on one-dimensional grids of BlockSize-thread blocks and
// take float32 buffers on accelerators (the host mirrors also take float64).
// Reductions use fixed trees: the result depends only on the inputs and the
// grid, never on timing, so repeated calls are bitwise identical.
//
// CUDA sources are compiled to PTX by `go generate` (see gen.go) and the PTX
// is committed and embedded behind the cuda build tag.
package kernels
