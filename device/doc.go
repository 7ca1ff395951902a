// Package device is lossengine's device abstraction: one interface that the
// host, OpenCL and CUDA backends implement, and the registry that selects
// between them.
//
// # Conventions
//
// A Device owns typed, one-dimensional buffers (float32, float64 where the
// backend supports it, int32). Multi-dimensional tensors are stored
// row-major: element (i, j) of an [N, C] matrix is at index i*C + j.
//
// Kernels are launched by name (see package kernels for the manifest of
// names and argument kinds) on a one-dimensional grid of Blocks blocks of
// Threads threads. Kernel arguments are passed as Go values:
//
//	buffer  -> Buffer
//	integer -> int32
//	real    -> float64 (converted to the kernel's float type by the backend)
//
// Launches are asynchronous on accelerators; Read and Sync wait for all work
// queued before them. Every method is safe for concurrent use.
//
// # Selection
//
// Backends register themselves under a name ("host", "opencl", "cuda").
// Open accepts "host", "opencl", "opencl:N", "cuda", "cuda:N" and "auto"; an
// empty name means the LOSSENGINE_DEVICE environment variable, then "auto".
// Asking for a backend that was not compiled in returns an error naming the
// build tag to add; asking for one that is compiled in but absent (no OpenCL
// platform, no GPU) returns an error that says so.
//
// Error messages are prefixed with "device: ".
package device
