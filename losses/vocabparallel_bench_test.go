package losses_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/lossengine/lossengine/collective"
	"github.com/lossengine/lossengine/losses"
)

// BenchmarkVocabParallelCrossEntropy times forward and backward (mean,
// float32, host device) over N = 256 rows of a V = 32000 vocabulary: as
// one call over the full logits (ranks=1, no collective), and split over
// 2 and 4 in-process ranks (collective.NewLocal, one goroutine each, all
// on the one host device), where one iteration is every rank's call. The
// difference is the overhead of the split: two all-reduces through the
// host, the header check and the per-rank launches. The bytes are the
// logits read and the gradient written, over all ranks; cross_entropy is
// timed on the same logits for reference.
func BenchmarkVocabParallelCrossEntropy(b *testing.B) {
	const n, v = 256, 32000
	r := rand.New(rand.NewPCG(5, 5))
	x := make([]float32, n*v)
	for i := range x {
		x[i] = float32(r.NormFloat64() * 2)
	}
	tg := make([]int32, n)
	for i := range tg {
		tg[i] = int32(r.IntN(v))
	}
	b.Run("cross_entropy", func(b *testing.B) {
		loss, grad := []float32{0}, make([]float32, n*v)
		a := losses.CrossEntropyArgs{Input: losses.HostTensor(x, n, v), Target: losses.HostTensor(tg),
			Loss: losses.HostTensor(loss), GradInput: losses.HostTensor(grad, n, v)}
		b.SetBytes(8 * n * v)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := losses.CrossEntropy(hostDev, a, losses.CrossEntropyOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, ranks := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("ranks=%d", ranks), func(b *testing.B) {
			comms := collective.NewLocal(ranks)
			args := make([]losses.VocabParallelCrossEntropyArgs, ranks)
			opts := make([]losses.VocabParallelCrossEntropyOptions, ranks)
			for q, rg := range vpShards(v, ranks) {
				vs := rg[1] - rg[0]
				xs := make([]float32, n*vs)
				for i := range n {
					copy(xs[i*vs:], x[i*v+rg[0]:i*v+rg[1]])
				}
				args[q] = losses.VocabParallelCrossEntropyArgs{Input: losses.HostTensor(xs, n, vs), Target: losses.HostTensor(tg),
					Loss: losses.HostTensor([]float32{0}), GradInput: losses.HostTensor(make([]float32, n*vs), n, vs)}
				opts[q] = losses.VocabParallelCrossEntropyOptions{VocabSize: v, VocabStart: rg[0]}
			}
			b.SetBytes(8 * n * v)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if ranks == 1 {
					if err := losses.VocabParallelCrossEntropy(hostDev, nil, args[0], opts[0]); err != nil {
						b.Fatal(err)
					}
					continue
				}
				var wg sync.WaitGroup
				errs := make([]error, ranks)
				for q := range ranks {
					wg.Add(1)
					go func() {
						defer wg.Done()
						errs[q] = losses.VocabParallelCrossEntropy(hostDev, comms[q], args[q], opts[q])
					}()
				}
				wg.Wait()
				for _, err := range errs {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
