package main

import (
	"math"
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// The policy family in the sweep (not in the default sweep: run them with
// -loss). A shape is NxA: N = T·B policy rows of A actions, a categorical
// policy (logits, int32 actions). actor_critic_loss runs CleanRL's PPO
// form (clipped surrogate, normalised advantages, value loss, entropy
// bonus) and writes the loss, its three components, the clip fraction and
// approximate KL, and the gradients w.r.t. the logits and the values.
func init() {
	for _, name := range []string{"policy_gradient_loss", "entropy_loss", "ppo_clip_loss", "actor_critic_loss"} {
		benchLosses = append(benchLosses, benchLoss{name: name, dims: 2, shapes: []string{"65536x18"},
			byteModel: "NxA: reads the N*A logits and the per-row inputs, writes the N*A logit gradients " +
				"(actor_critic_loss: 4*(2*N*A + 7*N) bytes: actions, old log-probs, advantages, values, returns, grad values)",
			prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
				return preparePolicy(d, s, r, name)
			}})
	}
}

// policyBenchInputs returns n rows of a logits, actions, old log-probs
// near the new ones, advantages, values and returns.
func policyBenchInputs(rng *rand.Rand, n, a int) (x []float32, acts []int32, old, adv, v, ret []float32) {
	x, acts = make([]float32, n*a), make([]int32, n)
	old, adv, v, ret = make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range n {
		m, s := math.Inf(-1), 0.0
		for j := range a {
			x[i*a+j] = float32(rng.NormFloat64())
			m = math.Max(m, float64(x[i*a+j]))
		}
		for j := range a {
			s += math.Exp(float64(x[i*a+j]) - m)
		}
		acts[i] = int32(rng.IntN(a))
		old[i] = float32(float64(x[i*a+int(acts[i])]) - m - math.Log(s) + 0.2*rng.NormFloat64())
		adv[i], v[i], ret[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	return
}

func preparePolicy(dev device.Device, shape []int, rng *rand.Rand, name string) (*benchCase, error) {
	n, a := shape[0], shape[1]
	x, acts, old, adv, v, ret := policyBenchInputs(rng, n, a)
	ins := map[string]hostIn{"logits": {x, []int{n, a}}}
	var opt any
	outs := []string{"loss", "grad_logits"}
	bytes := 4 * (2*int64(n)*int64(a) + 2*int64(n))
	switch name {
	case "policy_gradient_loss":
		ins["actions"], ins["advantages"] = hostIn{acts, []int{n}}, hostIn{adv, []int{n}}
		opt = losses.PolicyGradientLossOptions{}
	case "entropy_loss":
		opt = losses.EntropyLossOptions{}
		bytes = 4 * 2 * int64(n) * int64(a)
	case "ppo_clip_loss":
		ins["actions"], ins["advantages"], ins["old_log_probs"] = hostIn{acts, []int{n}}, hostIn{adv, []int{n}}, hostIn{old, []int{n}}
		opt = losses.PPOClipLossOptions{NormalizeAdvantages: true}
		bytes = 4 * (2*int64(n)*int64(a) + 3*int64(n))
	default:
		ins["actions"], ins["advantages"], ins["old_log_probs"] = hostIn{acts, []int{n}}, hostIn{adv, []int{n}}, hostIn{old, []int{n}}
		ins["values"], ins["returns"] = hostIn{v, []int{n}}, hostIn{ret, []int{n}}
		opt = losses.ActorCriticLossOptions{PolicyLoss: "ppo", NormalizeAdvantages: true}
		outs = []string{"loss", "policy_loss", "value_loss", "entropy", "clip_fraction", "approx_kl", "grad_logits", "grad_values"}
		bytes = 4 * (2*int64(n)*int64(a) + 7*int64(n))
	}
	return prepareDecl(dev, mustDecl(name), ins, opt, outs, nil, bytes)
}
