//go:build opencl

package opencl_test

import (
	"testing"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kerneltest"
)

// TestKernels runs the kernel suite on every OpenCL device.
func TestKernels(t *testing.T) {
	forEachDevice(t, func(t *testing.T, d device.Device) { kerneltest.Run(t, d) })
}

// BenchmarkCTC times the CTC kernels on the first OpenCL device.
func BenchmarkCTC(b *testing.B) {
	devs, err := devices()
	if err != nil || len(devs) == 0 {
		b.Skipf("no OpenCL device: %v", err)
	}
	kerneltest.Bench(b, devs[0])
}
