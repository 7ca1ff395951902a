package losses_test

import (
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/losses"
)

// BenchmarkBoxLosses times each box loss (mean, gradient w.r.t. boxes1)
// on the host in float32 over 2^20 pairs.
func BenchmarkBoxLosses(b *testing.B) {
	const n = 1 << 20
	r := rand.New(rand.NewPCG(1, 1))
	b1, b2 := randBoxes(r, n)
	x1, x2 := to32s(b1), to32s(b2)
	loss, g1 := []float32{0}, make([]float32, 4*n)
	for name, fn := range boxLosses {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(4 * 12 * n)
			b.ReportAllocs()
			a := losses.BoxArgs{Boxes1: losses.HostTensor(x1, n, 4), Boxes2: losses.HostTensor(x2, n, 4),
				Loss: losses.HostTensor(loss), GradBoxes1: losses.HostTensor(g1, n, 4)}
			o := losses.BoxLossOptions{Reduction: losses.ReductionOpt(losses.Mean)}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := fn(hostDev, a, o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBoundaryLoss times boundary_loss (softmax, mean, gradient) on
// the host in float32 over 4x4x128x128.
func BenchmarkBoundaryLoss(b *testing.B) {
	sh := []int{4, 4, 128, 128}
	total := 4 * 4 * 128 * 128
	r := rand.New(rand.NewPCG(2, 2))
	x, dist := to32s(randLogits(r, total, 2)), to32s(randLogits(r, total, 20))
	loss, grad := []float32{0}, make([]float32, total)
	b.SetBytes(int64(4 * 3 * total))
	b.ReportAllocs()
	a := losses.BoundaryLossArgs{Input: losses.HostTensor(x, sh...), DistMap: losses.HostTensor(dist, sh...),
		Loss: losses.HostTensor(loss), GradInput: losses.HostTensor(grad, sh...)}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := losses.BoundaryLoss(hostDev, a, losses.BoundaryLossOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
