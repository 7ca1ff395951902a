//go:build cuda

package cuda_test

import (
	"testing"

	"github.com/lossengine/lossengine/device"
)

// BenchmarkLaunch measures the host-side cost of queuing one small kernel
// (through the device's thread), without waiting for it.
func BenchmarkLaunch(b *testing.B) {
	d := openGPU(b)
	x, _ := d.Alloc(device.Float32, 256)
	out, _ := d.Alloc(device.Float32, 1)
	defer x.Release()
	defer out.Release()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := d.Launch("reduce_sum", oneBlock, x, int32(256), 1.0, int32(0), x, out); err != nil {
			b.Fatal(err)
		}
	}
	d.Sync()
}

// BenchmarkLaunchRead measures a launch followed by a 4-byte read, the
// round trip of a loss that returns a scalar.
func BenchmarkLaunchRead(b *testing.B) {
	d := openGPU(b)
	x, _ := d.Alloc(device.Float32, 256)
	out, _ := d.Alloc(device.Float32, 1)
	defer x.Release()
	defer out.Release()
	v := []float32{0}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := d.Launch("reduce_sum", oneBlock, x, int32(256), 1.0, int32(0), x, out); err != nil {
			b.Fatal(err)
		}
		if err := d.Read(v, out); err != nil {
			b.Fatal(err)
		}
	}
}
