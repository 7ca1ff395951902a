package losses_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

// Benchmarks of the buffer API on the host device, with inputs already in
// place (no copies): the cost a training loop pays per step. SetBytes counts
// the bytes a call must move at least (inputs read, gradients written), so
// the MB/s column compares with BenchmarkCopy of the same bytes.

func f32s(r *rand.Rand, n int, scale float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * scale)
	}
	return x
}

func BenchmarkCrossEntropy(b *testing.B) {
	for _, s := range [][2]int{{512, 32000}, {64, 1000}, {4096, 128}} {
		n, c := s[0], s[1]
		b.Run(fmt.Sprintf("%dx%d", n, c), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			x, _ := host.Wrap(f32s(r, n*c, 2))
			tgs := make([]int32, n)
			for i := range tgs {
				tgs[i] = int32(r.IntN(c))
			}
			tg, _ := host.Wrap(tgs)
			g, _ := host.Wrap(make([]float32, n*c))
			l, _ := host.Wrap(make([]float32, 1))
			args := losses.CrossEntropyArgs{Input: losses.NewTensor(x, n, c), Target: losses.NewTensor(tg), Loss: losses.NewTensor(l),
				GradInput: losses.NewTensor(g, n, c)}
			b.SetBytes(int64(8*n*c + 4*n))
			b.ReportAllocs()
			b.ResetTimer()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := losses.CrossEntropy(host.Default(), args, losses.CrossEntropyOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n*c), "ns/elem")
		})
	}
}

func BenchmarkMSELoss(b *testing.B) {
	for _, n := range []int{1 << 20, 1 << 24} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			x, _ := host.Wrap(f32s(r, n, 1))
			y, _ := host.Wrap(f32s(r, n, 1))
			gx, _ := host.Wrap(make([]float32, n))
			l, _ := host.Wrap(make([]float32, 1))
			args := losses.ElementwiseArgs{Input: losses.NewTensor(x), Target: losses.NewTensor(y), Loss: losses.NewTensor(l),
				GradInput: losses.NewTensor(gx)}
			b.SetBytes(int64(12 * n))
			b.ReportAllocs()
			b.ResetTimer()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := losses.MSELoss(host.Default(), args, losses.MSELossOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/elem")
		})
	}
}

// BenchmarkCopy is the bandwidth peer: a parallel device copy of 12·n/8
// float32 in and out, i.e. the same 12·n bytes moved as BenchmarkMSELoss.
func BenchmarkCopy(b *testing.B) {
	for _, n := range []int{1 << 20, 1 << 24} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			m := 12 * n / 8 // elements: read m*4 + write m*4 = 8m = 12n bytes
			src, _ := host.Default().Alloc(device.Float32, m)
			dst, _ := host.Default().Alloc(device.Float32, m)
			b.SetBytes(int64(8 * m))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := host.Default().Copy(dst, src, m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSmall times calls on inputs small enough that the per-call work
// outside the kernels (validation, argument checks, launches) is most of
// the time: the overhead a training loop of small tensors pays per step.
// Each call's launches are listed with its case.
func BenchmarkSmall(b *testing.B) {
	const n, c = 8, 16
	r := rand.New(rand.NewPCG(1, 4))
	x, _ := host.Wrap(f32s(r, n*c, 2))
	y, _ := host.Wrap(f32s(r, n*c, 1))
	g, _ := host.Wrap(make([]float32, n*c))
	out, _ := host.Wrap(make([]float32, n*c))
	tgs := make([]int32, n)
	for i := range tgs {
		tgs[i] = int32(r.IntN(c))
	}
	tg, _ := host.Wrap(tgs)
	l, _ := host.Wrap(make([]float32, 1))
	dev := host.Default()
	for _, k := range []struct {
		name string
		call func() error
	}{
		// pointwise_loss, reduce_sum
		{"mse_loss", func() error {
			return losses.MSELoss(dev, losses.ElementwiseArgs{Input: losses.NewTensor(x, n*c), Target: losses.NewTensor(y, n*c),
				Loss: losses.NewTensor(l), GradInput: losses.NewTensor(g, n*c)}, losses.MSELossOptions{})
		}},
		// cross_entropy_weight_sum, cross_entropy_rows, reduce_sum
		{"cross_entropy", func() error {
			return losses.CrossEntropy(dev, losses.CrossEntropyArgs{Input: losses.NewTensor(x, n, c), Target: losses.NewTensor(tg, n),
				Loss: losses.NewTensor(l), GradInput: losses.NewTensor(g, n, c)}, losses.CrossEntropyOptions{SkipTargetCheck: true})
		}},
		// cross_entropy_weight_sum, nll_rows, reduce_sum
		{"nll_loss", func() error {
			return losses.NLLLoss(dev, losses.ClassTargetArgs{Input: losses.NewTensor(x, n, c), Target: losses.NewTensor(tg, n),
				Loss: losses.NewTensor(l), GradInput: losses.NewTensor(g, n, c)}, losses.NLLLossOptions{SkipTargetCheck: true})
		}},
		// softmax_rows
		{"softmax", func() error {
			return losses.Softmax(dev, losses.SoftmaxArgs{Input: losses.NewTensor(x, n, c), Output: losses.NewTensor(out, n, c)},
				losses.SoftmaxOptions{})
		}},
	} {
		b.Run(k.name, func(b *testing.B) {
			if err := k.call(); err != nil { // warm: pools, workers
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := k.call(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
