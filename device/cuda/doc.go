// Package cuda is lossengine's CUDA backend: the kernels of package kernels
// (compiled to PTX, embedded, JIT-compiled by the driver when a device is
// opened) run on NVIDIA GPUs through the CUDA driver API, using
// gorgonia.org/cu.
//
// # Build
//
// The backend is compiled in only with the cuda build tag; without it the
// package registers "cuda" as a missing backend, so that selecting it says
// which tag to add. Building with the tag needs cgo, the CUDA headers and a
// libcuda.so to link against (the toolkit's stub is enough):
//
//	. scripts/cuda-env.sh   # sets CGO_CFLAGS and CGO_LDFLAGS
//	go build -tags cuda ./...
//
// A binary built with -tags cuda needs the NVIDIA driver to run:
// gorgonia.org/cu calls cuInit in its package init and exits the process
// (status 1) when that fails, before any of lossengine's code runs, and
// the binary links libcuda.so.1, so it cannot even start on a machine
// without the driver. For one binary that runs everywhere, build with
// -tags cuda,cudaplugin: the binary then links the loader of package
// device/cudaload instead of this package, and this package is built as a
// plugin (package device/cuda/plugin) that the loader opens only after
// cuInit has succeeded through dlopen.
//
// # Threads and contexts
//
// A CUDA context is current per OS thread, while goroutines move between
// threads. Each opened GPU uses its primary context (the one the CUDA
// runtime, and so most training frameworks, use; memory they allocate can
// be passed to Wrap), and every driver call that needs the context
// (allocation, copies, module loading, launches, synchronisation) is made
// in one of two ways:
//
//   - direct (the default): on the calling goroutine, locked to its OS
//     thread for the duration of the call, with the context pushed before
//     and popped after (cuCtxPushCurrent/cuCtxPopCurrent), so the thread's
//     own current context is left as it was;
//   - locked (environment variable LOSSENGINE_CUDA_WORKER=1 when the device
//     is opened): sent to a goroutine that is locked to one OS thread with
//     the context current, and run there.
//
// Either way the device's calls run one at a time, so a Device is safe for
// concurrent use from any number of goroutines. The locked goroutine
// exists in both modes: it retains the context when the device is opened
// and releases it when the device is closed. Direct mode is the default
// because handing each call to another OS thread and back costs two thread
// wake-ups: on an H200 host, queuing a small kernel took 5 µs direct and
// 28 µs locked, and a launch plus a 4-byte read 15 µs against 57 µs.
//
// Kernels are launched on the context's default (NULL) stream, in the
// order their Launch calls were made; Launch returns once the launch is
// queued. Read and Sync wait for all queued work and return any error a
// kernel raised; Write, Copy and Release are ordered after queued work.
//
// Opening the same index twice returns the same Device. Close frees every
// buffer the Device allocated, unloads its modules and releases its hold
// on the primary context; buffers wrapped with Wrap are never freed.
//
// All buffers are float32 or int32 (Info.Float64 is false). Setting the
// environment variable LOSSENGINE_CUDA_SYNC=1 makes every Launch wait for
// its kernel, so that an asynchronous fault is reported by the launch that
// caused it.
//
// Error messages are prefixed with "cuda: ".
package cuda
