package losses_test

import (
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/losses"
)

// BenchmarkSACDiscreteActorLoss times the discrete actor loss (mean,
// gradient w.r.t. the logits) on the host in float32 over 65536x18.
func BenchmarkSACDiscreteActorLoss(b *testing.B) {
	const n, A = 65536, 18
	r := rand.New(rand.NewPCG(3, 3))
	z, q := to32s(randLogits(r, n*A, 2)), to32s(randLogits(r, n*A, 3))
	loss, g := []float32{0}, make([]float32, n*A)
	a := losses.SACDiscreteActorLossArgs{Logits: losses.HostTensor(z, n, A), QValues: losses.HostTensor(q, n, A),
		Loss: losses.HostTensor(loss), GradLogits: losses.HostTensor(g, n, A)}
	b.SetBytes(4 * 3 * n * A)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := losses.SACDiscreteActorLoss(hostDev, a, losses.SACDiscreteActorLossOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSACContinuousActorLoss times the continuous actor loss (mean,
// log_pi, gradients w.r.t. mean and log_std) on the host in float32 over
// 65536x6.
func BenchmarkSACContinuousActorLoss(b *testing.B) {
	const n, A = 65536, 6
	r := rand.New(rand.NewPCG(4, 4))
	mean, ls, eps, dq := to32s(randLogits(r, n*A, 1)), to32s(randLogits(r, n*A, 0.3)), to32s(randLogits(r, n*A, 1)),
		to32s(randLogits(r, n*A, 1))
	q := to32s(randLogits(r, n, 1))
	loss, lp, gm, gl := []float32{0}, make([]float32, n), make([]float32, n*A), make([]float32, n*A)
	a := losses.SACContinuousActorLossArgs{Mean: losses.HostTensor(mean, n, A), LogStd: losses.HostTensor(ls, n, A),
		Noise: losses.HostTensor(eps, n, A), QValue: losses.HostTensor(q), DqDa: losses.HostTensor(dq, n, A),
		Loss: losses.HostTensor(loss), LogPi: losses.HostTensor(lp), GradMean: losses.HostTensor(gm, n, A),
		GradLogStd: losses.HostTensor(gl, n, A)}
	b.SetBytes(4 * (6*n*A + 2*n))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := losses.SACContinuousActorLoss(hostDev, a, losses.SACContinuousActorLossOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
