// Package host is lossengine's CPU backend: a device.Device whose
// buffers are Go slices and whose kernels are Go mirrors of the CUDA and
// OpenCL kernels, registered under the same names (see package kernels).
//
// The doc comment of each mirror states exactly what the kernel computes;
// the mirrors are the reference the equivalence tests hold the other
// backends to. Mirrors accept float32 buffers (computing like the device
// kernels, with float64 accumulators where that is cheap) and float64
// buffers (computing in float64 end to end).
//
// On amd64 CPUs with AVX2 and FMA3 (detected at start-up), the float32
// elementwise losses without weight or mask, the exponentials and maxima
// of the softmax rows, and the CTC time steps run as assembly loops
// (pw_amd64.s, ctc_amd64.s; 8 lanes), and where the CPU also has
// AVX-512F the exp/log elementwise losses and the softmax exponentials
// take 16 lanes (pw512_amd64.s). They compute what the scalar Go does, to
// a few float32 ulps (CTC: float64 polynomials near 1e-13), in a fixed
// order; tests run each loop against the scalar code. The build tag
// purego leaves them out; other architectures run the scalar Go.
//
// Work is split across GOMAXPROCS goroutines by rows or by blocks; every
// sum is taken in a fixed order, so results are bitwise reproducible
// whatever the number of cores.
//
// The host device is registered as "host" and is always present.
package host
