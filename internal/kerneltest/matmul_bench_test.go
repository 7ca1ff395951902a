package kerneltest_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	_ "github.com/lossengine/lossengine/backends"
	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// BenchmarkMatmulKernel times the matmul kernel on a 1024×1024×1024
// product (each transpose combination of the fused linear layer: a·b,
// a·bᵀ, aᵀ·b) on the device LOSSENGINE_DEVICE names ("opencl" for PoCL;
// the default picks a GPU, else the host mirror), waiting for each launch
// to finish, and gram_gemm on the same product. GFLOP/s counts 2·m·n·k.
//
//	LOSSENGINE_DEVICE=opencl go test -tags opencl ./internal/kerneltest -run '^$' -bench MatmulKernel
func BenchmarkMatmulKernel(b *testing.B) {
	d, err := device.Open("")
	if err != nil {
		b.Skip(err)
	}
	const m, n, k = 1024, 1024, 1024
	r := rand.New(rand.NewPCG(9, 9))
	rnd := func(e int) device.Buffer {
		v := make([]float32, e)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		buf, err := d.Alloc(device.Float32, e)
		if err != nil {
			b.Fatal(err)
		}
		if err := d.Write(buf, v); err != nil {
			b.Fatal(err)
		}
		return buf
	}
	x, y, c, bias := rnd(m*k), rnd(k*n), rnd(m*n), rnd(n)
	g := device.Grid{Blocks: ((m + 63) / 64) * ((n + 63) / 64), Threads: kernelspec.BlockSize}
	for _, tr := range [][2]int32{{0, 0}, {0, 1}, {1, 0}} {
		b.Run(fmt.Sprintf("%s/%dx%dx%d/trans=%d%d", d.Info().Name, m, n, k, tr[0], tr[1]), func(b *testing.B) {
			b.SetBytes(4 * (m*k + k*n + m*n))
			b.ReportAllocs()
			for range b.N {
				if err := d.Launch("matmul", g, x, y, c, int32(m), int32(n), int32(k), tr[0], tr[1], 1.0, 0.0, int32(1),
					bias, int32(0), int32(0), int32(0)); err != nil {
					b.Fatal(err)
				}
				if err := d.Sync(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(2*float64(m)*n*k*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
	// The gram family's 16×16 kernel, one output per thread, on the same
	// product: the baseline of the register tiling.
	b.Run(fmt.Sprintf("%s/%dx%dx%d/gram_gemm", d.Info().Name, m, n, k), func(b *testing.B) {
		gg := device.Grid{Blocks: ((m + 15) / 16) * ((n + 15) / 16), Threads: kernelspec.BlockSize}
		b.SetBytes(4 * (m*k + k*n + m*n))
		b.ReportAllocs()
		for range b.N {
			if err := d.Launch("gram_gemm", gg, x, y, c, int32(1), int32(m), int32(n), int32(k), int32(0), int32(0),
				1.0); err != nil {
				b.Fatal(err)
			}
			if err := d.Sync(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(2*float64(m)*n*k*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}
