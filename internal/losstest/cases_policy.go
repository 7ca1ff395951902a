package losstest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

func init() { familyCases = append(familyCases, policyCases) }

// polOutputs maps the results of a policy-family call onto Outputs: Loss;
// Output the scalar extras in a fixed order (clip_fraction, approx_kl,
// policy_loss, value_loss, entropy, those present); Grad the gradient
// w.r.t. the policy (grad_logits, grad_mean or grad_log_probs; for
// value_loss grad_values); GradTarget grad_log_std; GradVar grad_values of
// actor_critic_loss.
func polOutputs(loss string, res map[string]losses.Tensor) (Outputs, error) {
	var o Outputs
	names := make([]string, 0, len(res))
	for k := range res {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := losses.Floats(res[k])
		switch k {
		case "loss":
			o.Loss = v
		case "clip_fraction", "approx_kl", "policy_loss", "value_loss", "entropy":
		case "grad_logits", "grad_mean", "grad_log_probs":
			o.Grad = v
		case "grad_log_std":
			o.GradTarget = v
		case "grad_values":
			if loss == "value_loss" {
				o.Grad = v
			} else {
				o.GradVar = v
			}
		default:
			return Outputs{}, fmt.Errorf("%s: result %q has no place in Outputs", loss, k)
		}
	}
	for _, k := range []string{"clip_fraction", "approx_kl", "policy_loss", "value_loss", "entropy"} {
		if t, ok := res[k]; ok {
			o.Output = append(o.Output, losses.Floats(t)...)
		}
	}
	return o, nil
}

// polCase is a case of the policy family: the declared loss called with
// ins and opt, its results gathered by polOutputs.
func polCase(name, loss string, tol float64, ins inputs, opt any) Case {
	return Case{Name: name, Loss: loss, Tol: tol, ins: ins, opt: opt,
		Run: func(dev device.Device, f64 bool) (Outputs, error) {
			d, _ := losses.Lookup(loss)
			ts := map[string]losses.Tensor{}
			for k, v := range ins {
				switch {
				case v.isInt:
					ts[k] = losses.HostTensor(v.i, v.shape...)
				case f64:
					ts[k] = losses.HostTensor(v.f, v.shape...)
				default:
					ts[k] = losses.HostTensor(to32(v.f), v.shape...)
				}
			}
			res, err := d.Call(dev, ts, opt)
			if err != nil {
				return Outputs{}, err
			}
			return polOutputs(loss, res)
		}}
}

// polInputs returns the inputs of a batch of shape lead with a actions:
// a categorical (logits, int32 actions) or Gaussian (mean, log_std, float
// actions; squashed ones in (−1, 1)) policy, and the per-element tensors
// (advantages with zeros, weights with zeros, old log-probabilities near
// the new ones, values, returns, old values). Every third row of logits is
// saturated at ±1e4 with its action at a maximum.
func polInputs(lead []int, a int, gauss, squash bool, seed uint64) inputs {
	r := rand.New(rand.NewPCG(seed, 31))
	n := 1
	for _, d := range lead {
		n *= d
	}
	full := append(append([]int{}, lead...), a)
	in := inputs{}
	per := func(scale, off float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = off + scale*r.NormFloat64()
		}
		return roundTo32(v)
	}
	adv, wts := per(1, 0.5), per(1, 0.5) // advantages off 0: a mean that does not cancel to nothing
	for i := range n {
		if i%4 == 1 {
			adv[i], wts[i] = 0, 0
		}
	}
	in["advantages"], in["weights"] = fl(adv, lead...), fl(wts, lead...)
	in["values"], in["returns"], in["old_values"] = fl(per(2, 0), lead...), fl(per(2, 0), lead...), fl(per(2, 0), lead...)
	old := per(0.25, 0)
	if !gauss {
		x := logits(r, n*a, 2)
		acts := make([]int32, n)
		for i := range n {
			acts[i] = int32(r.IntN(a))
			if i%3 == 2 {
				for j := range a {
					x[i*a+j] = 1e4 * float64(1-2*(j%2))
				}
				acts[i] = int32(2 * r.IntN((a+1)/2))
			}
			m, s := math.Inf(-1), 0.0
			for _, v := range x[i*a : i*a+a] {
				m = math.Max(m, v)
			}
			for _, v := range x[i*a : i*a+a] {
				s += math.Exp(v - m)
			}
			old[i] += x[i*a+int(acts[i])] - m - math.Log(s)
		}
		in["logits"], in["actions"] = fl(x, full...), ints(acts, lead...)
	} else {
		mu, ls, act := logits(r, n*a, 0.5), logits(r, n*a, 0.3), logits(r, n*a, 0.8)
		for i := range act {
			if squash {
				act[i] = math.Tanh(act[i])
			}
		}
		// log π of the rounded inputs, for the old log-probabilities
		act, mu, ls = roundTo32(act), roundTo32(mu), roundTo32(ls)
		for i := range n {
			lp := 0.0
			for k := i * a; k < i*a+a; k++ {
				u := act[k]
				if squash {
					u = math.Atanh(u)
					lp -= math.Log(1 - act[k]*act[k] + 1e-6)
				}
				z := (u - mu[k]) / math.Exp(ls[k])
				lp += -0.5*z*z - ls[k] - 0.5*math.Log(2*math.Pi)
			}
			old[i] += lp
		}
		in["mean"], in["log_std"], in["actions"] = fl(mu, full...), fl(ls, full...), fl(act, full...)
	}
	in["old_log_probs"] = fl(roundTo32(old), lead...)
	in["log_probs"] = fl(roundTo32(per(0.3, -1)), lead...)
	return in
}

// pick returns the named inputs of in.
func pick(in inputs, names ...string) inputs {
	out := inputs{}
	for _, k := range names {
		out[k] = in[k]
	}
	return out
}

func policyCases() []Case {
	var cs []Case
	const tol = 2e-5
	type shape struct {
		lead []int
		a    int
	}
	// the first shape has two distinct dimensions (TestEmptyWithHugeDimensions)
	shapes := []shape{{[]int{5, 3}, 4}, {[]int{1}, 1}, {[]int{7}, 2}, {[]int{257}, 18}, {[]int{0}, 6}, {[]int{31, 33}, 6}}
	for si, sh := range shapes {
		tag := fmt.Sprintf("%vx%d", sh.lead, sh.a)
		for _, pol := range []string{"cat", "gauss", "squash"} {
			gauss, squash := pol != "cat", pol == "squash"
			in := polInputs(sh.lead, sh.a, gauss, squash, uint64(si*10+len(pol)))
			polIns := []string{"logits", "actions"}
			if gauss {
				polIns = []string{"mean", "log_std", "actions"}
			}
			with := func(extra ...string) inputs { return pick(in, append(append([]string{}, polIns...), extra...)...) }
			name := func(loss, what string) string { return fmt.Sprintf("%s/%s/%s/%s", loss, pol, what, tag) }
			for _, red := range []losses.Reduction{losses.Mean, losses.Sum, losses.None} {
				cs = append(cs, polCase(name("policy_gradient_loss", red.String()), "policy_gradient_loss", tol,
					with("advantages", "weights"), losses.PolicyGradientLossOptions{Reduction: red, Squash: squash}))
			}
			if gauss {
				entIns := pick(in, "log_std", "weights")
				if squash {
					entIns = with("weights")
				}
				cs = append(cs, polCase(name("gaussian_entropy_loss", "mean"), "gaussian_entropy_loss", tol, entIns,
					losses.GaussianEntropyLossOptions{Squash: squash}))
			} else {
				cs = append(cs, polCase(name("entropy_loss", "mean"), "entropy_loss", tol, pick(in, "logits", "weights"), nil))
			}
			cs = append(cs, polCase(name("ppo_clip_loss", "mean"), "ppo_clip_loss", tol,
				with("old_log_probs", "advantages"), losses.PPOClipLossOptions{Squash: squash}))
			cs = append(cs, polCase(name("ppo_clip_loss", "norm-none-eps0.1"), "ppo_clip_loss", tol,
				with("old_log_probs", "advantages"), losses.PPOClipLossOptions{Squash: squash, Reduction: losses.None,
					NormalizeAdvantages: true, ClipEps: ptr(0.1)}))
			cs = append(cs, polCase(name("actor_critic_loss", "pg"), "actor_critic_loss", tol,
				with("advantages", "values", "returns"), losses.ActorCriticLossOptions{Squash: squash}))
			cs = append(cs, polCase(name("actor_critic_loss", "ppo-clip-huber"), "actor_critic_loss", tol,
				with("advantages", "values", "returns", "old_log_probs", "old_values"),
				losses.ActorCriticLossOptions{Squash: squash, PolicyLoss: "ppo", NormalizeAdvantages: true,
					ValueOptions: losses.ValueOptions{Kind: "huber", ClipVF: 0.2}}))
			if pol == "cat" {
				cs = append(cs, polCase(name("ppo_clip_loss", "log_probs"), "ppo_clip_loss", tol,
					pick(in, "log_probs", "old_log_probs", "advantages"), losses.PPOClipLossOptions{Reduction: losses.Sum}))
				for _, vo := range []losses.ValueOptions{{}, {Kind: "huber", Delta: ptr(0.5)}, {ClipVF: 0.3}} {
					vin := pick(in, "values", "returns")
					if vo.ClipVF > 0 {
						vin["old_values"] = in["old_values"]
					}
					cs = append(cs, polCase(fmt.Sprintf("value_loss/%s-%v/%s", vo.Kind, vo.ClipVF, tag), "value_loss", tol,
						vin, losses.ValueLossOptions{ValueOptions: vo}))
				}
			}
		}
	}
	// confident rows: the chosen action's logit 16 to 24 above the others,
	// log π(a) = −log1p(Σ exp(x_j − m)) of 1e-10 to 1e-7, which a float32
	// log(s) with s rounded to 1 gives as 0 (and the entropy likewise)
	const cn, ca = 40, 6
	cx, cact, cadv := make([]float64, cn*ca), make([]int32, cn), make([]float64, cn)
	cr := rand.New(rand.NewPCG(7, 7))
	for i := range cn {
		cact[i] = int32(cr.IntN(ca))
		for j := range ca {
			cx[i*ca+j] = cr.Float64()
		}
		cx[i*ca+int(cact[i])] += 16 + 8*cr.Float64()
		cadv[i] = 1
	}
	cx = roundTo32(cx)
	conf := inputs{"logits": fl(cx, cn, ca), "actions": ints(cact, cn), "advantages": fl(cadv, cn)}
	cs = append(cs, polCase("policy_gradient_loss/cat/confident-none", "policy_gradient_loss", tol, conf,
		losses.PolicyGradientLossOptions{Reduction: losses.None}))
	cs = append(cs, polCase("entropy_loss/cat/confident-none", "entropy_loss", tol, pick(conf, "logits"),
		losses.EntropyLossOptions{Reduction: losses.None}))
	// zero advantages everywhere: a zero policy gradient
	in := polInputs([]int{13}, 5, false, false, 99)
	in["advantages"] = fl(make([]float64, 13), 13)
	cs = append(cs, polCase("policy_gradient_loss/cat/zero-advantages", "policy_gradient_loss", tol,
		pick(in, "logits", "actions", "advantages"), nil))
	return cs
}
