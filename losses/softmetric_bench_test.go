package losses_test

import (
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/losses"
)

// BenchmarkSoftMetric times soft_f1_loss (macro) and soft_mcc_loss with
// the sigmoid, the loss and the gradient w.r.t. the input, on the host in
// float32 at N = 65536, C = 20 (bytes: the input and the target read
// twice, the gradient written).
func BenchmarkSoftMetric(b *testing.B) {
	const n, c = 65536, 20
	r := rand.New(rand.NewPCG(1, 1))
	x, y := make([]float32, n*c), make([]float32, n*c)
	for i := range x {
		x[i] = float32(r.NormFloat64() * 2)
		if r.IntN(4) == 0 {
			y[i] = 1
		}
	}
	loss, g := []float32{0}, make([]float32, n*c)
	a := losses.SoftMetricArgs{Input: losses.HostTensor(x, n, c), Target: losses.HostTensor(y, n, c),
		Loss: losses.HostTensor(loss), GradInput: losses.HostTensor(g, n, c)}
	for _, name := range []string{"soft_f1_loss", "soft_mcc_loss"} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(4 * 5 * n * c)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var err error
				if name == "soft_f1_loss" {
					err = losses.SoftF1Loss(hostDev, a, losses.SoftF1LossOptions{Activation: "sigmoid"})
				} else {
					err = losses.SoftMCCLoss(hostDev, a, losses.SoftMCCLossOptions{Activation: "sigmoid"})
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
