package losses_test

import (
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/losses"
)

// BenchmarkPairwiseLosses times triplet_margin_loss and
// cosine_embedding_loss (mean, every input's gradient) on the host in
// float32 over N = 65536 rows of D = 128.
func BenchmarkPairwiseLosses(b *testing.B) {
	const n, d = 65536, 128
	r := rand.New(rand.NewPCG(1, 3))
	x := make([][]float32, 3)
	g := make([][]float32, 3)
	for i := range x {
		x[i], g[i] = make([]float32, n*d), make([]float32, n*d)
		for j := range x[i] {
			x[i][j] = float32(r.NormFloat64())
		}
	}
	y := make([]float32, n)
	for i := range y {
		y[i] = float32(1 - 2*(i%2))
	}
	loss := []float32{0}
	t := func(v []float32) losses.Tensor { return losses.HostTensor(v, n, d) }
	b.Run("triplet_margin_loss", func(b *testing.B) {
		b.SetBytes(4 * 6 * n * d) // three inputs read, three gradients written
		b.ReportAllocs()
		a := losses.TripletArgs{Anchor: t(x[0]), Positive: t(x[1]), Negative: t(x[2]), Loss: losses.HostTensor(loss),
			GradAnchor: t(g[0]), GradPositive: t(g[1]), GradNegative: t(g[2])}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := losses.TripletMarginLoss(hostDev, a, losses.TripletMarginLossOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cosine_embedding_loss", func(b *testing.B) {
		b.SetBytes(4 * 4 * n * d)
		b.ReportAllocs()
		a := losses.CosineEmbeddingArgs{Input1: t(x[0]), Input2: t(x[1]), Target: losses.HostTensor(y, n),
			Loss: losses.HostTensor(loss), GradInput1: t(g[0]), GradInput2: t(g[1])}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := losses.CosineEmbeddingLoss(hostDev, a, losses.CosineEmbeddingLossOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
