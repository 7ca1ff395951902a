package losses_test

import (
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/losses"
)

// BenchmarkGAE times GAE on the host in float32 over a 2048x64 rollout
// (reads rewards, values, terminated; writes advantages and returns).
func BenchmarkGAE(b *testing.B) {
	const T, B = 2048, 64
	r := rand.New(rand.NewPCG(1, 1))
	ro := newRollout(r.Uint64(), T, B, 0.02, false)
	rw, v, term, boot := to32s(ro.r), to32s(ro.v), to32s(ro.term), to32s(ro.boot)
	adv, ret := make([]float32, T*B), make([]float32, T*B)
	a := losses.GAEArgs{Rewards: losses.HostTensor(rw, T, B), Values: losses.HostTensor(v, T, B),
		BootstrapValue: losses.HostTensor(boot, B), Terminated: losses.HostTensor(term, T, B),
		Advantages: losses.HostTensor(adv, T, B), Returns: losses.HostTensor(ret, T, B)}
	b.SetBytes(4 * (5*T*B + B))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := losses.GAE(hostDev, a, losses.GAEOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQLearning times q_learning (mean of ½δ², gradient) on the host
// in float32 over 65536 transitions of 18 actions.
func BenchmarkQLearning(b *testing.B) {
	const n, A = 65536, 18
	r := rand.New(rand.NewPCG(2, 2))
	qm, qt := to32s(randLogits(r, n*A, 1)), to32s(randLogits(r, n*A, 1))
	rt, dt := to32s(randLogits(r, n, 1)), make([]float32, n)
	acts := make([]int32, n)
	for i := range acts {
		acts[i], dt[i] = int32(r.IntN(A)), 0.99
	}
	loss, grad := []float32{0}, make([]float32, n*A)
	a := losses.QLearningArgs{QTm1: losses.HostTensor(qm, n, A), ATm1: losses.HostTensor(acts), RT: losses.HostTensor(rt),
		DiscountT: losses.HostTensor(dt), QT: losses.HostTensor(qt, n, A), Loss: losses.HostTensor(loss, 1),
		GradQTm1: losses.HostTensor(grad, n, A)}
	b.SetBytes(4 * (3*n*A + 3*n))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := losses.QLearning(hostDev, a, losses.QLearningOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
