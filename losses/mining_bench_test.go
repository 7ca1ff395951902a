package losses_test

import (
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/losses"
)

// BenchmarkBatchTripletLoss times batch_triplet_loss (loss and gradient)
// on the host in float32, B = 1024 rows of D = 128 in 16 classes, per
// mining and distance. Bytes: the embeddings read and the gradient
// written.
func BenchmarkBatchTripletLoss(b *testing.B) {
	const n, d = 1024, 128
	r := rand.New(rand.NewPCG(3, 3))
	x64, lab := mineRand(r, n, d, 16)
	x := to32s(x64)
	loss, grad := []float32{0}, make([]float32, n*d)
	for _, c := range []struct{ name, mining, dist string }{{"hard", "hard", "l2"}, {"hard-cosine", "hard", "cosine"},
		{"semi_hard", "semi_hard", "l2"}, {"all", "all", "l2"}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(4 * 2 * n * d)
			b.ReportAllocs()
			a := losses.MiningArgs{Embeddings: losses.HostTensor(x, n, d), Labels: losses.HostTensor(lab, n),
				Loss: losses.HostTensor(loss), GradEmbeddings: losses.HostTensor(grad, n, d)}
			o := losses.BatchTripletLossOptions{Mining: c.mining, Distance: c.dist}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := losses.BatchTripletLoss(hostDev, a, o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
