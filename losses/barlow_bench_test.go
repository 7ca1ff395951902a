package losses_test

import (
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/losses"
)

// BenchmarkBarlowTwinsLoss times barlow_twins_loss and both gradients on
// the host, float32, N = 512, D = 1024; bytes: the two views read and
// their gradients written.
func BenchmarkBarlowTwinsLoss(b *testing.B) {
	n, d := 512, 1024
	r := rand.New(rand.NewPCG(1, 1))
	z1, z2 := make([]float32, n*d), make([]float32, n*d)
	for i := range z1 {
		z1[i] = float32(r.NormFloat64())
		z2[i] = 0.6*z1[i] + 0.8*float32(r.NormFloat64())
	}
	loss, g1, g2 := make([]float32, 1), make([]float32, n*d), make([]float32, n*d)
	a := losses.BarlowTwinsArgs{Z1: losses.HostTensor(z1, n, d), Z2: losses.HostTensor(z2, n, d), Loss: losses.HostTensor(loss),
		GradZ1: losses.HostTensor(g1, n, d), GradZ2: losses.HostTensor(g2, n, d)}
	b.SetBytes(int64(16 * n * d))
	b.ReportAllocs()
	for b.Loop() {
		if err := losses.BarlowTwinsLoss(hostDev, a, losses.BarlowTwinsLossOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
