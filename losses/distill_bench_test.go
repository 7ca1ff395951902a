package losses_test

import (
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/losses"
)

// BenchmarkJSDLoss times jsd_loss (beta 0.5, mean, gradient w.r.t. the
// student) on the host in float32 over 256 rows of 32000 classes; it
// reads two matrices and writes one.
func BenchmarkJSDLoss(b *testing.B) {
	const n, c = 256, 32000
	r := rand.New(rand.NewPCG(3, 3))
	x, y := to32s(randLogits(r, n*c, 2)), to32s(randLogits(r, n*c, 2))
	loss, grad := []float32{0}, make([]float32, n*c)
	for _, beta := range []float64{0, 0.5, 1} {
		b.Run(map[float64]string{0: "forward-kl", 0.5: "jsd", 1: "reverse-kl"}[beta], func(b *testing.B) {
			b.SetBytes(4 * 3 * n * c)
			b.ReportAllocs()
			a := losses.JSDArgs{Input: losses.HostTensor(x, n, c), Target: losses.HostTensor(y, n, c),
				Loss: losses.HostTensor(loss), GradInput: losses.HostTensor(grad, n, c)}
			o := losses.JSDLossOptions{Beta: losses.Value(beta)}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := losses.JSDLoss(hostDev, a, o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSequenceLogProbs times sequence_log_probs (output and gradient
// w.r.t. the logits) on the host in float32 over 4 sequences of 64
// tokens of 32000 classes: it reads the logits and writes the gradient.
func BenchmarkSequenceLogProbs(b *testing.B) {
	const bs, tl, v = 4, 64, 32000
	r := rand.New(rand.NewPCG(4, 4))
	x := to32s(randLogits(r, bs*tl*v, 2))
	tg := make([]int32, bs*tl)
	for i := range tg {
		tg[i] = int32(r.IntN(v))
	}
	out, grad := make([]float32, bs), make([]float32, bs*tl*v)
	b.SetBytes(4 * 2 * bs * tl * v)
	b.ReportAllocs()
	a := losses.SequenceLogProbsArgs{Input: losses.HostTensor(x, bs, tl, v), Target: losses.HostTensor(tg, bs, tl),
		Output: losses.HostTensor(out, bs), GradInput: losses.HostTensor(grad, bs, tl, v)}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := losses.SequenceLogProbs(hostDev, a, losses.SequenceLogProbsOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDPOLoss times dpo_loss (sigmoid, mean, both gradients and the
// rewards) on the host in float32 over 2^20 pairs.
func BenchmarkDPOLoss(b *testing.B) {
	const n = 1 << 20
	r := rand.New(rand.NewPCG(5, 5))
	pc, pr, rc, rr := to32s(randLogits(r, n, 30)), to32s(randLogits(r, n, 30)), to32s(randLogits(r, n, 30)), to32s(randLogits(r, n, 30))
	loss, gc, gr, cr, rj := []float32{0}, make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	b.SetBytes(4 * 8 * n)
	b.ReportAllocs()
	a := losses.DPOArgs{PolicyChosenLogps: losses.HostTensor(pc), PolicyRejectedLogps: losses.HostTensor(pr),
		ReferenceChosenLogps: losses.HostTensor(rc), ReferenceRejectedLogps: losses.HostTensor(rr), Loss: losses.HostTensor(loss),
		ChosenRewards: losses.HostTensor(cr), RejectedRewards: losses.HostTensor(rj),
		GradPolicyChosenLogps: losses.HostTensor(gc), GradPolicyRejectedLogps: losses.HostTensor(gr)}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := losses.DPOLoss(hostDev, a, losses.DPOLossOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
