package losses_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/losses"
)

// BenchmarkMultitask times the three weightings (mean, every gradient) on
// the host in float32 at K = 8 tasks, one set (launch-bound) and 65536
// sets.
func BenchmarkMultitask(b *testing.B) {
	r := rand.New(rand.NewPCG(2, 2))
	for _, m := range []int{1, 65536} {
		const k = 8
		n := m * k
		v := func(lo, hi float64) []float32 {
			out := make([]float32, n)
			for i := range out {
				out[i] = float32(lo + r.Float64()*(hi-lo))
			}
			return out
		}
		l, w, g, l0 := v(0, 3), v(0.2, 2), v(0.1, 3), v(0.5, 2)
		gl, gw := make([]float32, n), make([]float32, n)
		loss := []float32{0}
		h := func(x []float32) losses.Tensor { return losses.HostTensor(x, m, k) }
		calls := map[string]func() error{
			"weighted_sum": func() error {
				return losses.WeightedSum(hostDev, losses.WeightedSumArgs{Losses: h(l), Weights: h(w), Loss: losses.HostTensor(loss),
					GradLosses: h(gl), GradWeights: h(gw)}, losses.WeightedSumOptions{})
			},
			"uncertainty_weighting": func() error {
				return losses.UncertaintyWeighting(hostDev, losses.UncertaintyWeightingArgs{Losses: h(l), LogVars: h(w),
					Loss: losses.HostTensor(loss), GradLosses: h(gl), GradLogVars: h(gw)}, losses.UncertaintyWeightingOptions{})
			},
			"gradnorm_loss": func() error {
				return losses.GradNormLoss(hostDev, losses.GradNormLossArgs{Weights: h(w), GradNorms: h(g), InitialLosses: h(l0),
					Losses: h(l), Loss: losses.HostTensor(loss), GradWeights: h(gl), GradGradNorms: h(gw)}, losses.GradNormLossOptions{})
			},
		}
		for _, name := range []string{"weighted_sum", "uncertainty_weighting", "gradnorm_loss"} {
			b.Run(fmt.Sprintf("%s/M=%d", name, m), func(b *testing.B) {
				b.SetBytes(int64(4 * 4 * n))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := calls[name](); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
