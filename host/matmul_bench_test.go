package host

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// mmBenchShapes are the products of a fused linear + cross-entropy layer
// over a 50257-token vocabulary (GPT-2's) with 128 rows of hidden size
// 1024: the logits tile hidden·Wᵀ, the hidden gradient G·W and the weight
// gradient Gᵀ·hidden; and a square 1024³ product.
var mmBenchShapes = []struct {
	name    string
	ta, tb  bool
	m, n, k int
}{
	{"logits=128x1024.(50257x1024)T", false, true, 128, 50257, 1024},
	{"dhidden=128x50257.50257x1024", false, false, 128, 1024, 50257},
	{"dweight=(128x50257)T.128x1024", true, false, 50257, 1024, 128},
	{"square=1024x1024x1024", false, false, 1024, 1024, 1024},
}

// BenchmarkMatmul times Matmul in float32 (blas32.Gemm: gonum's, or
// OpenBLAS's with the openblas build tag) on mmBenchShapes. The bytes are
// those of a, b and c once each; GFLOP/s counts 2·m·n·k.
func BenchmarkMatmul(b *testing.B) {
	for _, s := range mmBenchShapes {
		b.Run(fmt.Sprintf("%s/%s", s.name, blasName()), func(b *testing.B) {
			r := rand.New(rand.NewPCG(5, 6))
			x, y, c := mmRandom[float32](r, s.m*s.k), mmRandom[float32](r, s.k*s.n), make([]float32, s.m*s.n)
			// One untimed call: c's pages are touched and BLAS's threads
			// started before the clock runs.
			if err := Matmul(s.ta, s.tb, s.m, s.n, s.k, 1, x, y, 0, c, nil); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(4 * (s.m*s.k + s.k*s.n + s.m*s.n)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := Matmul(s.ta, s.tb, s.m, s.n, s.k, 1, x, y, 0, c, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(2*float64(s.m)*float64(s.n)*float64(s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
