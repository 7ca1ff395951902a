// Package cudaload registers a "cuda" backend that loads the real CUDA
// backend as a Go plugin, after checking that the NVIDIA driver works, so
// that one binary built with CUDA support starts on every machine: with a
// GPU it uses it; without a driver or a GPU it lists cuda as compiled in but
// absent, with the reason, and device.Open("auto") falls back to OpenCL or
// the host.
//
// # Why a plugin
//
// gorgonia.org/cu calls cuInit in its package init and exits the process
// when it fails, and a binary that links it needs libcuda.so.1 just to
// start. Neither can be caught from Go. So a binary built with
//
//	go build -tags cuda,cudaplugin ./cmd/lossbench
//
// does not link gorgonia.org/cu at all (package backends imports this
// package instead of device/cuda). The first time the cuda backend is asked
// for its devices, this package
//
//  1. opens the driver library (libcuda.so.1, or $LOSSENGINE_CUDA_DRIVER)
//     with dlopen and calls cuInit(0) and cuDeviceGetCount through dlsym:
//     the calls gorgonia.org/cu would make, where a failure is an error
//     instead of an exit;
//
//  2. only if cuInit succeeded, opens the plugin (lossengine-cuda.so next
//     to the executable, or $LOSSENGINE_CUDA_PLUGIN) built from package
//     device/cuda/plugin with the same tags:
//
//     go build -tags cuda,cudaplugin -buildmode=plugin -o lossengine-cuda.so ./device/cuda/plugin
//
//     whose init registers the real backend, which this package then
//     forwards to.
//
// Each step's failure is the backend's error, which "lossbench devices"
// prints. The probe and the load happen once per process. A probe process
// (a child that links the driver) was the alternative; it would still
// leave the CUDA work itself in a binary that cannot start without the
// driver, so the plugin is the one design that keeps a single process and
// shares device buffers with the caller.
//
// Building with -tags cuda alone links the backend directly (no plugin
// file to ship), for programs that run only where the driver is.
package cudaload
