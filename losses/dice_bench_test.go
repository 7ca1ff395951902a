package losses_test

import (
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/losses"
)

// BenchmarkDiceLoss times dice_loss with a softmax and its gradient on the
// host, float32, [16, 4, 256, 256]; bytes: the logits and targets read,
// the gradient written.
func BenchmarkDiceLoss(b *testing.B) {
	n, c, h, w := 16, 4, 256, 256
	r := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, n*c*h*w)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	tg := make([]int32, n*h*w)
	for i := range tg {
		tg[i] = int32(r.IntN(c))
	}
	loss, grad := make([]float32, 1), make([]float32, len(x))
	a := losses.DiceArgs{Input: losses.HostTensor(x, n, c, h, w), Target: losses.HostTensor(tg, n, h, w),
		Loss: losses.HostTensor(loss), GradInput: losses.HostTensor(grad, n, c, h, w)}
	opt := losses.DiceLossOptions{OverlapOptions: losses.OverlapOptions{Activation: "softmax", SkipTargetCheck: true}}
	b.SetBytes(int64(4 * (2*len(x) + len(tg))))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := losses.DiceLoss(hostDev, a, opt); err != nil {
			b.Fatal(err)
		}
	}
}
