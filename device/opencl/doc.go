// Package opencl is lossengine's OpenCL backend. Built with the opencl
// tag (go build -tags opencl), it registers the backend "opencl" with
// package device; its devices are named "opencl:0", "opencl:1", ... in the
// order the OpenCL platforms and their devices are reported. Without the
// tag the backend is recorded as missing, and device.Open("opencl") says
// which tag to add.
//
// The backend needs an OpenCL 1.2 runtime (an ICD loader and at least one
// platform, for instance PoCL on a CPU) and cgo. The kernels are the
// OpenCL C sources of package kernels (kernels.OpenCLSource), compiled
// once per opened device, at the first launch, with -cl-std=CL1.2 and no
// fast-math options, so that results follow IEEE float32 arithmetic.
//
// Buffers hold float32 or int32; the kernels are float32-only, so Alloc of
// a float64 buffer fails with device.ErrUnsupported. Kernel launches are
// queued on one in-order command queue per opened device; Read and Sync
// wait for them. Every method is safe for concurrent use.
//
// Callers with their own OpenCL code can reach a device's context and
// queue (Device.Context, Device.Queue), and wrap their own memory objects
// as buffers with Wrap.
//
// Error messages are prefixed with "opencl: ".
package opencl
