package losses_test

import (
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/losses"
)

// BenchmarkActorCriticLoss times actor_critic_loss with the PPO term
// (CleanRL's loss: normalised advantages, clipped surrogate, value loss,
// entropy bonus, gradients w.r.t. the logits and values) on the host in
// float32 over N = 65536 rows of A = 18 actions. Bytes: the logits read
// and their gradient written, and the per-row inputs and value gradient.
func BenchmarkActorCriticLoss(b *testing.B) {
	const n, a = 65536, 18
	r := rand.New(rand.NewPCG(3, 3))
	x := to32s(randLogits(r, n*a, 1))
	acts := make([]int32, n)
	old, adv, v, ret := to32s(randLogits(r, n, 0.5)), to32s(randLogits(r, n, 1)), to32s(randLogits(r, n, 1)), to32s(randLogits(r, n, 1))
	for i := range acts {
		acts[i] = int32(r.IntN(a))
		old[i] -= 2.9
	}
	loss, pol, val, ent := []float32{0}, []float32{0}, []float32{0}, []float32{0}
	gx, gv := make([]float32, n*a), make([]float32, n)
	args := losses.ActorCriticLossArgs{Logits: losses.HostTensor(x, n, a), Actions: losses.HostTensor(acts),
		OldLogProbs: losses.HostTensor(old), Advantages: losses.HostTensor(adv), Values: losses.HostTensor(v),
		Returns: losses.HostTensor(ret), Loss: losses.HostTensor(loss), PolicyLoss: losses.HostTensor(pol),
		ValueLossOut: losses.HostTensor(val), Entropy: losses.HostTensor(ent),
		GradLogits: losses.HostTensor(gx, n, a), GradValues: losses.HostTensor(gv)}
	opt := losses.ActorCriticLossOptions{PolicyLoss: "ppo", NormalizeAdvantages: true}
	b.SetBytes(4 * (2*n*a + 7*n))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := losses.ActorCriticLoss(hostDev, args, opt); err != nil {
			b.Fatal(err)
		}
	}
}
