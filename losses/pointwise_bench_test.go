package losses_test

import (
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

// BenchmarkPointwise times every elementwise loss on the host, float32,
// 2^22 elements, reduction mean, gradient w.r.t. input: 12 bytes per
// element (read input and target, write the gradient).
func BenchmarkPointwise(b *testing.B) {
	for _, p := range pwAll() {
		b.Run(p.String(), func(b *testing.B) {
			n := 1 << 22
			x, y, _ := domain(rand.New(rand.NewPCG(1, 2)), p, n)
			x32, y32 := make([]float32, n), make([]float32, n)
			for i := range x {
				x32[i], y32[i] = float32(x[i]), float32(y[i])
			}
			a := pwArgs{Input: losses.HostTensor(x32), Target: losses.HostTensor(y32), Loss: losses.HostTensor(make([]float32, 1)),
				GradInput: losses.HostTensor(make([]float32, n))}
			if p == pwGaussianNLL {
				a.Var = losses.HostTensor(append([]float32{}, y32...))
			}
			opt := pwOpts{SkipInputCheck: true}
			if err := pwCall(host.Default(), p, a, opt); err != nil { // warm: pools, workers
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(12 * n))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := pwCall(host.Default(), p, a, opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
