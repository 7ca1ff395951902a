// Package kernels embeds lossengine's kernel sources: the OpenCL program
// (OpenCLSource) and, behind the cuda build tag, the committed PTX. The
// manifest of kernels and argument kinds that the backends check launches
// against is internal (internal/kernelspec).
//
// Every kernel is written once, for both accelerator dialects, in the
// body of its family, src/<family>.h, in the vocabulary of lemath.h
// (LE_KERNEL, LE_GLOBAL, LE_TID, ...). The dialect files cuda/<family>.cu
// and opencl/<family>.cl are thin: they include lemath.h, which maps that
// vocabulary onto CUDA or OpenCL C and holds the dialect's settings (such
// as LE_UNROLL), and then the body. The host mirror of each kernel, under
// the same name and argument order, is in package host (file
// host/<family>.go). The manifest (internal/kernelspec) lists each kernel
// with its argument kinds; TestParity fails when a kernel is missing from
// either dialect's build (host.TestMirrorParity: from the host mirrors), TestThinDialectFiles when a dialect file has code
// of its own, and every backend's Launch checks its arguments against the
// manifest with CheckArgs.
//
// Math shared by the kernel bodies (log-sum-exp, log1p-exp, log-add-exp,
// the block reductions) lives in lemath.h too; package host has Go twins
// with the same names.
//
// All kernels run on one-dimensional grids of 256-thread blocks and
// take float32 buffers on accelerators (the host mirrors also take float64).
// Reductions use fixed trees: the result depends only on the inputs and the
// grid, never on timing, so repeated calls are bitwise identical.
//
// CUDA sources are compiled to PTX by `go generate` (see gen.go) and the PTX
// is committed and embedded behind the cuda build tag. The OpenCL program
// (OpenCLSource) is the opencl/*.cl files with their includes inlined from
// the embedded sources, compiled by the OpenCL backend at run time.
package kernels
