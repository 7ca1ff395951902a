package losses_test

import (
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/losses"
)

// BenchmarkImageLosses times ssim_loss, ms_ssim_loss and total_variation
// (loss and gradient w.r.t. the input, float32) on the host device over
// 2 x 3 x 256 x 256 8-bit images; bytes are the input and target read
// and the gradient written.
func BenchmarkImageLosses(b *testing.B) {
	sh := []int{2, 3, 256, 256}
	n := 2 * 3 * 256 * 256
	r := rand.New(rand.NewPCG(5, 5))
	x, y, g := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = float32(r.IntN(256))
		y[i] = float32(min(255, max(0, int(x[i])+r.IntN(41)-20)))
	}
	loss := make([]float32, 1)
	args := losses.SSIMArgs{Input: losses.HostTensor(x, sh...), Target: losses.HostTensor(y, sh...),
		Loss: losses.HostTensor(loss), GradInput: losses.HostTensor(g, sh...)}
	for _, c := range []struct {
		name string
		call func() error
	}{
		{"ssim_loss", func() error { return losses.SSIMLoss(hostDev, args, losses.SSIMLossOptions{}) }},
		{"ms_ssim_loss", func() error {
			return losses.MSSSIMLoss(hostDev, args, losses.MSSSIMLossOptions{Weights: []float64{0.3, 0.3, 0.4}})
		}},
		{"total_variation", func() error {
			return losses.TotalVariation(hostDev, losses.TVArgs{Input: args.Input, Loss: args.Loss, GradInput: args.GradInput},
				losses.TotalVariationOptions{})
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(3 * 4 * n))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := c.call(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
