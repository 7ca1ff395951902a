package losses_test

import (
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

// BenchmarkLovaszSoftmax times lovasz_softmax_loss with its gradient on
// the host, float32, [8, 21, 128, 128] (lossbench's default shape);
// bytes are the logits and labels read and the gradient written.
func BenchmarkLovaszSoftmax(b *testing.B) {
	const n, c, hw = 8, 21, 128 * 128
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n*c*hw)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	tg := make([]int32, n*hw)
	for i := range tg {
		tg[i] = int32(r.IntN(c))
	}
	loss, grad := make([]float32, 1), make([]float32, len(x))
	a := losses.LovaszSoftmaxArgs{Input: losses.HostTensor(x, n, c, 128, 128), Target: losses.HostTensor(tg, n, 128, 128),
		Loss: losses.HostTensor(loss), GradInput: losses.HostTensor(grad, n, c, 128, 128)}
	b.SetBytes(int64(4 * (2*len(x) + len(tg))))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := losses.LovaszSoftmaxLoss(host.Default(), a, losses.LovaszSoftmaxLossOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLovaszHinge times lovasz_hinge_loss with its gradient on the
// host, float32, [8, 1, 256, 256].
func BenchmarkLovaszHinge(b *testing.B) {
	const n, hw = 8, 256 * 256
	r := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, n*hw)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	tg := make([]int32, n*hw)
	for i := range tg {
		tg[i] = int32(r.IntN(2))
	}
	loss, grad := make([]float32, 1), make([]float32, len(x))
	a := losses.LovaszHingeArgs{Input: losses.HostTensor(x, n, 1, 256, 256), Target: losses.HostTensor(tg, n, 1, 256, 256),
		Loss: losses.HostTensor(loss), GradInput: losses.HostTensor(grad, n, 1, 256, 256)}
	b.SetBytes(int64(4 * 3 * len(x)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := losses.LovaszHingeLoss(host.Default(), a, losses.LovaszHingeLossOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
