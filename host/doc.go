// Package host is lossengine's pure-Go backend: a device.Device whose
// buffers are Go slices and whose kernels are Go mirrors of the CUDA and
// OpenCL kernels, registered under the same names (see package kernels).
//
// The doc comment of each mirror states exactly what the kernel computes;
// the mirrors are the reference the equivalence tests hold the other
// backends to. Mirrors accept float32 buffers (computing like the device
// kernels, with float64 accumulators where that is cheap) and float64
// buffers (computing in float64 end to end).
//
// Work is split across GOMAXPROCS goroutines by rows or by blocks; every
// sum is taken in a fixed order, so results are bitwise reproducible
// whatever the number of cores.
//
// The host device is registered as "host" and is always present.
package host
