//go:build cuda

package cuda_test

import (
	"testing"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/device/cuda"
	"github.com/lossengine/lossengine/internal/kernelspec"
	"gorgonia.org/cu"
)

// openGPU opens GPU 0, or skips the test when the driver reports no GPU.
// (Without a driver at all the test binary never gets here: gorgonia.org/cu
// exits the process in its init when cuInit fails.)
func openGPU(t testing.TB) *cuda.Device {
	t.Helper()
	n, err := cu.NumDevices()
	if err != nil {
		t.Skipf("cuda: the driver cannot count devices: %v", err)
	}
	if n == 0 {
		t.Skip("cuda: no GPU present")
	}
	d, err := cuda.Open(0)
	if err != nil {
		t.Fatalf("cuda.Open(0): %v", err)
	}
	return d
}

var oneBlock = device.Grid{Blocks: 1, Threads: kernelspec.BlockSize}

func mustAlloc(t *testing.T, d device.Device, dt device.DType, n int) device.Buffer {
	t.Helper()
	b, err := d.Alloc(dt, n)
	if err != nil {
		t.Fatalf("alloc %d %s: %v", n, dt, err)
	}
	t.Cleanup(func() { b.Release() })
	return b
}

func upload(t *testing.T, d device.Device, v []float32) device.Buffer {
	t.Helper()
	b := mustAlloc(t, d, device.Float32, len(v))
	if err := d.Write(b, v); err != nil {
		t.Fatal(err)
	}
	return b
}

func download(t *testing.T, d device.Device, b device.Buffer) []float32 {
	t.Helper()
	v := make([]float32, b.Len())
	if err := d.Read(v, b); err != nil {
		t.Fatal(err)
	}
	return v
}
