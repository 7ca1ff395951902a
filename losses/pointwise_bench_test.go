package losses_test

import (
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/internal/losstest"
	"github.com/lossengine/lossengine/losses"
)

// BenchmarkPointwise times every elementwise loss on the host, float32,
// 2^22 elements, reduction mean, gradient w.r.t. input: 12 bytes per
// element (read input and target, write the gradient).
func BenchmarkPointwise(b *testing.B) {
	for _, p := range losses.PointwiseLosses() {
		b.Run(p.Name(), func(b *testing.B) {
			n := 1 << 22
			x, y, _ := losstest.PointwiseDomain(rand.New(rand.NewPCG(1, 2)), p, n, 0, 1)
			x32, y32 := make([]float32, n), make([]float32, n)
			for i := range x {
				x32[i], y32[i] = float32(x[i]), float32(y[i])
			}
			g := make([]float32, n)
			loss := make([]float32, 1)
			hb := func(v []float32) *host.Buffer { w, _ := host.Wrap(v); return w }
			bb := losses.PointwiseBuffers{Input: hb(x32), Target: hb(y32), N: n, Loss: hb(loss), GradInput: hb(g)}
			if p == losses.GaussianNLL {
				bb.Var = hb(append([]float32{}, y32...))
				bb.VarBcast = losses.Bcast{Len: n, Stride: 1}
			}
			opt := losses.PointwiseOptions{SkipInputCheck: true}
			if err := losses.PointwiseLoss(host.Default(), p, bb, opt); err != nil { // warm: pools, workers
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(12 * n))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := losses.PointwiseLoss(host.Default(), p, bb, opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
