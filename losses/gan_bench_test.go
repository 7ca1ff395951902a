package losses_test

import (
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/losses"
)

// BenchmarkGanDiscriminatorLoss times gan_discriminator_loss (minimax,
// mean, both gradients) on the host in float32 over 2^20 real and 2^20
// generated outputs: 4·4·N bytes (read both, write both gradients).
func BenchmarkGanDiscriminatorLoss(b *testing.B) {
	const n = 1 << 20
	r := rand.New(rand.NewPCG(4, 4))
	xr, xg := to32s(randLogits(r, n, 2)), to32s(randLogits(r, n, 2))
	loss, gr, gg := []float32{0}, make([]float32, n), make([]float32, n)
	a := losses.GanArgs{RealLogits: losses.HostTensor(xr), GenLogits: losses.HostTensor(xg), Loss: losses.HostTensor(loss),
		GradRealLogits: losses.HostTensor(gr), GradGenLogits: losses.HostTensor(gg)}
	b.SetBytes(4 * 4 * n)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := losses.GanDiscriminatorLoss(hostDev, a, losses.GanDiscriminatorLossOptions{Kind: losses.GanMinimax}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGradientPenalty times gradient_penalty (mean, gradient) on the
// host in float32 over N = 4096 rows of D = 3·64·64: 4·2·N·D bytes.
func BenchmarkGradientPenalty(b *testing.B) {
	const n, d = 4096, 3 * 64 * 64
	r := rand.New(rand.NewPCG(5, 5))
	g := to32s(randLogits(r, n*d, 0.01))
	loss, gg := []float32{0}, make([]float32, n*d)
	a := losses.GradientPenaltyArgs{Gradients: losses.HostTensor(g, n, d), Loss: losses.HostTensor(loss),
		GradGradients: losses.HostTensor(gg, n, d)}
	b.SetBytes(4 * 2 * n * d)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := losses.GradientPenalty(hostDev, a, losses.GradientPenaltyOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
