package losses_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

// BenchmarkRowLosses times each row loss (mean, gradient w.r.t. the input)
// through the buffer API on the host device, float32. SetBytes counts the
// inputs read and the gradient written once, as lossbench's byte model.
func BenchmarkRowLosses(b *testing.B) {
	type rl struct {
		name  string
		int   bool // class-index targets
		probs bool // probability targets (else teacher logits)
		call  func(b rowTensors) error
	}
	dev := host.Default()
	for _, l := range []rl{
		{"cross_entropy_probs", false, true, func(b rowTensors) error {
			return losses.CrossEntropy(dev, losses.CrossEntropyArgs{Input: b.Input, Target: b.Target, Loss: b.Loss, GradInput: b.GradInput},
				losses.CrossEntropyOptions{})
		}},
		{"nll_loss", true, false, func(b rowTensors) error {
			return losses.NLLLoss(dev, losses.ClassTargetArgs{Input: b.Input, Target: b.Target, Loss: b.Loss, GradInput: b.GradInput},
				losses.NLLLossOptions{})
		}},
		{"focal_loss", true, false, func(b rowTensors) error {
			return losses.FocalLoss(dev, losses.ClassTargetArgs{Input: b.Input, Target: b.Target, Loss: b.Loss, GradInput: b.GradInput},
				losses.FocalLossOptions{})
		}},
		{"multi_margin_loss", true, false, func(b rowTensors) error {
			return losses.MultiMarginLoss(dev, losses.ClassTargetArgs{Input: b.Input, Target: b.Target, Loss: b.Loss, GradInput: b.GradInput},
				losses.MultiMarginLossOptions{})
		}},
		{"categorical_hinge", false, true, func(b rowTensors) error {
			return losses.CategoricalHinge(dev, losses.RowArgs{Input: b.Input, Target: b.Target, Loss: b.Loss, GradInput: b.GradInput},
				losses.CategoricalHingeOptions{})
		}},
		{"distill_kl", false, false, func(b rowTensors) error {
			return losses.DistillKL(dev, losses.RowArgs{Input: b.Input, Target: b.Target, Loss: b.Loss, GradInput: b.GradInput},
				losses.DistillKLOptions{Temperature: 2})
		}},
		{"poly_loss_cross_entropy", false, true, func(b rowTensors) error {
			return losses.PolyLossCrossEntropy(dev, losses.SoftTargetArgs{Input: b.Input, Target: b.Target, Loss: b.Loss, GradInput: b.GradInput},
				losses.PolyLossCrossEntropyOptions{})
		}},
	} {
		for _, s := range [][2]int{{512, 32000}, {4096, 128}} {
			n, c := s[0], s[1]
			b.Run(fmt.Sprintf("%s/%dx%d", l.name, n, c), func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 1))
				x, _ := host.Wrap(f32s(r, n*c, 2))
				bufs := rowTensors{Input: losses.NewTensor(x, n, c)}
				bytes := int64(8 * n * c)
				switch {
				case l.int:
					tgs := make([]int32, n)
					for i := range tgs {
						tgs[i] = int32(r.IntN(c))
					}
					bufs.Target = losses.HostTensor(tgs)
					bytes += int64(4 * n)
				case l.probs:
					y := make([]float32, n*c)
					for i := 0; i < n; i++ {
						y[i*c+r.IntN(c)] = 0.5
						y[i*c+r.IntN(c)] += 0.5
					}
					bufs.Target = losses.HostTensor(y, n, c)
					bytes += int64(4 * n * c)
				default:
					bufs.Target = losses.HostTensor(f32s(r, n*c, 2), n, c)
					bytes += int64(4 * n * c)
				}
				bufs.GradInput = losses.HostTensor(make([]float32, n*c), n, c)
				bufs.Loss = losses.HostTensor(make([]float32, 1))
				b.SetBytes(bytes)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := l.call(bufs); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n*c), "ns/elem")
			})
		}
	}
}
