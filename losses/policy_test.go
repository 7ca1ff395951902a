package losses_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/diff/fd"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// polIn is one named input of a policy-family call: float64 values, or
// int32 actions.
type polIn struct {
	f     []float64
	i     []int32
	shape []int
}

// polRun runs loss name through its declaration on dev (float64 inputs
// unless f32) and returns every result as float64.
func polRun(t *testing.T, dev device.Device, name string, ins map[string]polIn, opt any, f32 bool) map[string][]float64 {
	t.Helper()
	res, err := polTry(dev, name, ins, opt, f32)
	require.NoError(t, err)
	return res
}

func polTry(dev device.Device, name string, ins map[string]polIn, opt any, f32 bool) (map[string][]float64, error) {
	d, ok := losses.Lookup(name)
	if !ok {
		return nil, errors.New("not declared: " + name)
	}
	ts := map[string]losses.Tensor{}
	for k, v := range ins {
		switch {
		case v.f == nil && v.i == nil && v.shape == nil:
			continue // absent
		case v.i != nil:
			ts[k] = losses.HostTensor(v.i, v.shape...)
		case f32:
			x := make([]float32, len(v.f))
			for j, e := range v.f {
				x[j] = float32(e)
			}
			ts[k] = losses.HostTensor(x, v.shape...)
		default:
			ts[k] = losses.HostTensor(append([]float64(nil), v.f...), v.shape...)
		}
	}
	res, err := d.Call(dev, ts, opt)
	if err != nil {
		return nil, err
	}
	out := map[string][]float64{}
	for k, v := range res {
		out[k] = losses.Floats(v)
	}
	return out, nil
}

func fin(v []float64, shape ...int) polIn { return polIn{f: v, shape: shape} }

func polRand(r *rand.Rand, n int, scale, off float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = off + scale*r.NormFloat64()
	}
	return x
}

func TestPolicyClosedForms(t *testing.T) {
	l4 := math.Log(4)
	// uniform logits over 4 actions: log π = −log 4 whatever the action
	res := polRun(t, hostDev, "policy_gradient_loss", map[string]polIn{
		"logits": fin(make([]float64, 8), 2, 4), "actions": {i: []int32{1, 3}, shape: []int{2}},
		"advantages": fin([]float64{2, -1}, 2), "weights": fin([]float64{1, 3}, 2)}, nil, false)
	require.InDelta(t, l4*(2*1+(-1)*3)/2, res["loss"][0], 1e-12)
	// grad = −A·w/N·(onehot − ¼)
	want := []float64{0.25, -0.75, 0.25, 0.25, -0.375, -0.375, -0.375, 1.125}
	require.InDeltaSlice(t, want, res["grad_logits"], 1e-12)

	// A = 1: log π = 0, entropy 0
	res = polRun(t, hostDev, "policy_gradient_loss", map[string]polIn{
		"logits": fin([]float64{5, -3}, 2, 1), "actions": {i: []int32{0, 0}, shape: []int{2}},
		"advantages": fin([]float64{2, 7}, 2)}, nil, false)
	require.Equal(t, 0.0, math.Abs(res["loss"][0]))
	require.Equal(t, []float64{0, 0}, res["grad_logits"])
	res = polRun(t, hostDev, "entropy_loss", map[string]polIn{"logits": fin([]float64{5, -3}, 2, 1)}, nil, false)
	require.Equal(t, 0.0, math.Abs(res["loss"][0]))

	// two actions by hand: logits (0, log 3): p = (¼, ¾)
	h := -(0.25*math.Log(0.25) + 0.75*math.Log(0.75))
	res = polRun(t, hostDev, "entropy_loss", map[string]polIn{"logits": fin([]float64{0, math.Log(3)}, 1, 2)},
		losses.EntropyLossOptions{Reduction: losses.Sum}, false)
	require.InDelta(t, -h, res["loss"][0], 1e-12)
	// dH/dx_j = −p_j(log p_j + H)
	require.InDeltaSlice(t, []float64{0.25 * (math.Log(0.25) + h), 0.75 * (math.Log(0.75) + h)}, res["grad_logits"], 1e-12)

	// Gaussian: mean 0, std 1, action 1 per dim, A = 2
	res = polRun(t, hostDev, "policy_gradient_loss", map[string]polIn{
		"mean": fin([]float64{0, 0}, 1, 2), "log_std": fin([]float64{0, math.Log(2)}, 1, 2),
		"actions": fin([]float64{1, 1}, 1, 2), "advantages": fin([]float64{1}, 1)}, nil, false)
	lp := (-0.5 - 0.5*math.Log(2*math.Pi)) + (-0.125 - math.Log(2) - 0.5*math.Log(2*math.Pi))
	require.InDelta(t, -lp, res["loss"][0], 1e-12)
	require.InDeltaSlice(t, []float64{-1, -0.25}, res["grad_mean"], 1e-12)  // −z/σ
	require.InDeltaSlice(t, []float64{0, 0.75}, res["grad_log_std"], 1e-12) // −(z² − 1)
	res = polRun(t, hostDev, "gaussian_entropy_loss", map[string]polIn{
		"mean": fin([]float64{3, 1}, 1, 2), "log_std": fin([]float64{0.5, -1}, 1, 2)}, nil, false)
	require.InDelta(t, -(0.5 - 1 + math.Log(2*math.Pi*math.E)), res["loss"][0], 1e-12)
	require.InDeltaSlice(t, []float64{-1, -1}, res["grad_log_std"], 1e-12)

	// squash: a = tanh(u); log π = log N(u) − log(1 − a² + 1e-6)
	u := 0.3
	res = polRun(t, hostDev, "policy_gradient_loss", map[string]polIn{
		"mean": fin([]float64{0.1}, 1, 1), "log_std": fin([]float64{0}, 1, 1),
		"actions": fin([]float64{math.Tanh(u)}, 1, 1), "advantages": fin([]float64{-1}, 1)},
		losses.PolicyGradientLossOptions{Squash: true}, false)
	a := math.Tanh(u)
	lp = -0.5*0.2*0.2 - 0.5*math.Log(2*math.Pi) - math.Log(1-a*a+1e-6)
	require.InDelta(t, lp, res["loss"][0], 1e-12)

	// PPO from log_probs: ratio 1.5 > 1 + ε
	ppo := func(adv float64) map[string][]float64 {
		return polRun(t, hostDev, "ppo_clip_loss", map[string]polIn{
			"log_probs": fin([]float64{math.Log(1.5) - 2}, 1), "old_log_probs": fin([]float64{-2}, 1),
			"advantages": fin([]float64{adv}, 1)}, nil, false)
	}
	res = ppo(1) // max(−1.5, −1.2) = −1.2, clipped: no gradient
	require.InDelta(t, -1.2, res["loss"][0], 1e-12)
	require.Equal(t, 0.0, res["grad_log_probs"][0])
	require.Equal(t, 1.0, res["clip_fraction"][0])
	require.InDelta(t, 0.5-math.Log(1.5), res["approx_kl"][0], 1e-12)
	res = ppo(-1) // max(1.5, 1.2) = 1.5, d/dlp (−A·r) = 1.5
	require.InDelta(t, 1.5, res["loss"][0], 1e-12)
	require.InDelta(t, 1.5, res["grad_log_probs"][0], 1e-12)

	// value loss: v = 3, R = 1
	val := func(o losses.ValueLossOptions, old []float64) float64 {
		ins := map[string]polIn{"values": fin([]float64{3}, 1), "returns": fin([]float64{1}, 1)}
		if old != nil {
			ins["old_values"] = fin(old, 1)
		}
		return polRun(t, hostDev, "value_loss", ins, o, false)["loss"][0]
	}
	require.InDelta(t, 2.0, val(losses.ValueLossOptions{}, nil), 1e-12)
	require.InDelta(t, 1.5, val(losses.ValueLossOptions{ValueOptions: losses.ValueOptions{Kind: "huber"}}, nil), 1e-12)
	require.InDelta(t, 2.0, val(losses.ValueLossOptions{ValueOptions: losses.ValueOptions{ClipVF: 0.5}}, []float64{2}), 1e-12)
	// v = 3, old = 0.5, R = 3: the clipped value 1 is far: max(0, 2) = 2
	res = polRun(t, hostDev, "value_loss", map[string]polIn{"values": fin([]float64{3}, 1),
		"returns": fin([]float64{3}, 1), "old_values": fin([]float64{0.5}, 1)},
		losses.ValueLossOptions{ValueOptions: losses.ValueOptions{ClipVF: 0.5}}, false)
	require.InDelta(t, 2.0, res["loss"][0], 1e-12)
	require.Equal(t, 0.0, res["grad_values"][0]) // the clamp is saturated
}

// polFD runs name with its differentiable inputs perturbed in turn and
// compares each gradient with central differences of the loss (summed
// over elements for reduction None).
func polFD(t *testing.T, name string, ins map[string]polIn, opt any, diff []string) {
	t.Helper()
	res := polRun(t, hostDev, name, ins, opt, false)
	for _, in := range diff {
		g := res["grad_"+in]
		require.Len(t, g, len(ins[in].f), "grad_%s", in)
		x := ins[in].f
		f := func() float64 {
			r := polRun(t, hostDev, name, ins, opt, false)
			s := 0.0
			for _, v := range r["loss"] {
				s += v
			}
			return s
		}
		for i := range x {
			old := x[i]
			// Central differences with a step relative to the value:
			// h = 1e-6·max(1, |x|).
			d := fd.Derivative(func(v float64) float64 {
				x[i] = v
				return f()
			}, old, &fd.Settings{Formula: fd.Central, Step: 1e-6 * math.Max(1, math.Abs(old))})
			x[i] = old
			require.InDelta(t, d, g[i], 1e-6*(1+math.Abs(d)), "%s grad_%s[%d]", name, in, i)
		}
	}
}

func TestPolicyFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const n, a = 7, 5
	cat := func() map[string]polIn {
		acts := make([]int32, n)
		for i := range acts {
			acts[i] = int32(r.IntN(a))
		}
		return map[string]polIn{"logits": fin(polRand(r, n*a, 1.5, 0), n, a), "actions": {i: acts, shape: []int{n}}}
	}
	gauss := func(squash bool) map[string]polIn {
		act := polRand(r, n*a, 1, 0)
		if squash {
			for i := range act {
				act[i] = math.Tanh(act[i])
			}
		}
		return map[string]polIn{"mean": fin(polRand(r, n*a, 0.5, 0), n, a), "log_std": fin(polRand(r, n*a, 0.3, -0.2), n, a),
			"actions": fin(act, n, a)}
	}
	with := func(m map[string]polIn, kv ...any) map[string]polIn {
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1].(polIn)
		}
		return m
	}
	adv := func() polIn { return fin(polRand(r, n, 1, 0), n) }
	wts := func() polIn { return fin([]float64{1, 0, 2, 0.5, 0, 1, 3}, n) }
	for _, red := range []losses.Reduction{losses.Mean, losses.Sum, losses.None} {
		polFD(t, "policy_gradient_loss", with(cat(), "advantages", adv(), "weights", wts()),
			losses.PolicyGradientLossOptions{Reduction: red}, []string{"logits"})
		polFD(t, "policy_gradient_loss", with(gauss(false), "advantages", adv()),
			losses.PolicyGradientLossOptions{Reduction: red}, []string{"mean", "log_std"})
		polFD(t, "policy_gradient_loss", with(gauss(true), "advantages", adv()),
			losses.PolicyGradientLossOptions{Reduction: red, Squash: true}, []string{"mean", "log_std"})
		polFD(t, "entropy_loss", with(cat(), "weights", wts(), "actions", polIn{}), losses.EntropyLossOptions{Reduction: red}, []string{"logits"})
	}
	ent := cat()
	delete(ent, "actions")
	polFD(t, "entropy_loss", ent, nil, []string{"logits"})
	g := gauss(false)
	delete(g, "actions")
	polFD(t, "gaussian_entropy_loss", g, nil, []string{"mean", "log_std"})
	delete(g, "mean") // the entropy does not depend on the mean
	polFD(t, "gaussian_entropy_loss", g, nil, []string{"log_std"})
	polFD(t, "gaussian_entropy_loss", gauss(true), losses.GaussianEntropyLossOptions{Squash: true}, []string{"mean", "log_std"})

	// PPO: ratios inside and outside the clip range, away from the kinks
	ppoIns := func(m map[string]polIn, lpOf func(i int) float64) map[string]polIn {
		old := make([]float64, n)
		for i := range old {
			// log-ratios −0.6, −0.1, 0.05, 0.5, ... around the current log π
			old[i] = lpOf(i) - []float64{-0.6, -0.1, 0.05, 0.5, 0.12, -0.3, 0.4}[i]
		}
		return with(m, "old_log_probs", fin(old, n), "advantages", fin([]float64{1, -1, 2, -0.5, -1, 1, 0.7}, n))
	}
	for _, o := range []losses.PPOClipLossOptions{{}, {NormalizeAdvantages: true}, {Reduction: losses.None, ClipEps: losses.Value(0.3)}} {
		lps := polRand(r, n, 1, -1)
		polFD(t, "ppo_clip_loss", ppoIns(map[string]polIn{"log_probs": fin(lps, n)}, func(i int) float64 { return lps[i] }),
			o, []string{"log_probs"})
		c := cat()
		x, acts := c["logits"].f, c["actions"].i
		polFD(t, "ppo_clip_loss", ppoIns(c, func(i int) float64 { return catLogProb(x[i*a:i*a+a], int(acts[i])) }),
			o, []string{"logits"})
		gs := gauss(true)
		o.Squash = true
		mu, ls, act := gs["mean"].f, gs["log_std"].f, gs["actions"].f
		polFD(t, "ppo_clip_loss", ppoIns(gs, func(i int) float64 {
			return squashLogProb(mu[i*a:i*a+a], ls[i*a:i*a+a], act[i*a:i*a+a])
		}), o, []string{"mean", "log_std"})
	}

	// value loss: mse, huber, clipped (|v − old| inside and outside c)
	vals := []float64{1, -2, 0.3, 4, 0.5, -1, 2}
	rets := []float64{0.2, 0.5, 0.1, 1, -3, -1.5, 2.9}
	olds := []float64{1.4, -2.05, 0.8, 3, 0.6, -0.2, 2.5}
	for _, vo := range []losses.ValueOptions{{}, {Kind: "huber"}, {Kind: "huber", Delta: losses.Value(0.4)},
		{ClipVF: 0.2}, {Kind: "huber", ClipVF: 0.3}} {
		ins := map[string]polIn{"values": fin(append([]float64(nil), vals...), n), "returns": fin(rets, n)}
		if vo.ClipVF > 0 {
			ins["old_values"] = fin(olds, n)
		}
		polFD(t, "value_loss", ins, losses.ValueLossOptions{ValueOptions: vo}, []string{"values"})
		// actor-critic, pg and ppo
		ac := with(cat(), "advantages", adv(), "values", fin(append([]float64(nil), vals...), n), "returns", fin(rets, n))
		if vo.ClipVF > 0 {
			ac["old_values"] = fin(olds, n)
		}
		polFD(t, "actor_critic_loss", ac, losses.ActorCriticLossOptions{ValueOptions: vo}, []string{"logits", "values"})
		x, acts := ac["logits"].f, ac["actions"].i
		ac = ppoIns(ac, func(i int) float64 { return catLogProb(x[i*a:i*a+a], int(acts[i])) })
		polFD(t, "actor_critic_loss", ac, losses.ActorCriticLossOptions{PolicyLoss: "ppo", ValueOptions: vo,
			NormalizeAdvantages: true, EntropyCoef: losses.Value(0.3)}, []string{"logits", "values"})
		gac := with(gauss(true), "advantages", adv(), "values", fin(append([]float64(nil), vals...), n), "returns", fin(rets, n))
		if vo.ClipVF > 0 {
			gac["old_values"] = fin(olds, n)
		}
		polFD(t, "actor_critic_loss", gac, losses.ActorCriticLossOptions{ValueOptions: vo, Squash: true,
			EntropyCoef: losses.Value(0.2)}, []string{"mean", "log_std", "values"})
	}
}

// squashLogProb is SB3's squashed Gaussian log-probability of the
// actions act (in (−1, 1)), in float64.
func squashLogProb(mu, ls, act []float64) float64 {
	lp := 0.0
	for k := range mu {
		u := math.Atanh(act[k])
		z := (u - mu[k]) / math.Exp(ls[k])
		lp += -0.5*z*z - ls[k] - 0.5*math.Log(2*math.Pi) - math.Log(1-act[k]*act[k]+1e-6)
	}
	return lp
}

// catLogProb is log_softmax(x)[k], in float64.
func catLogProb(x []float64, k int) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, v)
	}
	s := 0.0
	for _, v := range x {
		s += math.Exp(v - m)
	}
	return x[k] - m - math.Log(s)
}

// TestActorCriticComponents: the one-pass loss is the sum of the separate
// losses, and its components are theirs.
func TestActorCriticComponents(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	const n, a = 11, 6
	x := polRand(r, n*a, 2, 0)
	acts := make([]int32, n)
	for i := range acts {
		acts[i] = int32(r.IntN(a))
	}
	old, adv, v, ret := polRand(r, n, 0.5, -1.8), polRand(r, n, 1, 0.2), polRand(r, n, 1, 0), polRand(r, n, 1, 0)
	ins := func() map[string]polIn {
		return map[string]polIn{"logits": fin(x, n, a), "actions": {i: acts, shape: []int{n}}}
	}
	ac := ins()
	ac["old_log_probs"], ac["advantages"], ac["values"], ac["returns"] = fin(old, n), fin(adv, n), fin(v, n), fin(ret, n)
	res := polRun(t, hostDev, "actor_critic_loss", ac, losses.ActorCriticLossOptions{PolicyLoss: "ppo", ClipEps: losses.Value(0.1),
		NormalizeAdvantages: true, ValueCoef: losses.Value(0.7), EntropyCoef: losses.Value(0.05)}, false)
	p := ins()
	p["old_log_probs"], p["advantages"] = fin(old, n), fin(adv, n)
	pp := polRun(t, hostDev, "ppo_clip_loss", p, losses.PPOClipLossOptions{ClipEps: losses.Value(0.1), NormalizeAdvantages: true}, false)
	vl := polRun(t, hostDev, "value_loss", map[string]polIn{"values": fin(v, n), "returns": fin(ret, n)}, nil, false)
	e := ins()
	delete(e, "actions")
	el := polRun(t, hostDev, "entropy_loss", e, nil, false)
	require.InDelta(t, pp["loss"][0], res["policy_loss"][0], 1e-12)
	require.InDelta(t, vl["loss"][0], res["value_loss"][0], 1e-12)
	require.InDelta(t, -el["loss"][0], res["entropy"][0], 1e-12)
	require.InDelta(t, pp["clip_fraction"][0], res["clip_fraction"][0], 1e-12)
	require.InDelta(t, pp["approx_kl"][0], res["approx_kl"][0], 1e-12)
	require.InDelta(t, pp["loss"][0]+0.7*vl["loss"][0]+0.05*el["loss"][0], res["loss"][0], 1e-12)
	for i := range x {
		require.InDelta(t, pp["grad_logits"][i]+0.05*el["grad_logits"][i], res["grad_logits"][i], 1e-12)
	}
	for i := range v {
		require.InDelta(t, 0.7*vl["grad_values"][i], res["grad_values"][i], 1e-12)
	}
	// normalize_advantages is PPO on (A − mean)/(std + 1e-8), std unbiased
	mean, sq := 0.0, 0.0
	for _, e := range adv {
		mean += e / n
	}
	for _, e := range adv {
		sq += (e - mean) * (e - mean)
	}
	std := math.Sqrt(sq / (n - 1))
	na := make([]float64, n)
	for i := range adv {
		na[i] = (adv[i] - mean) / (std + 1e-8)
	}
	p["advantages"] = fin(na, n)
	pn := polRun(t, hostDev, "ppo_clip_loss", p, losses.PPOClipLossOptions{ClipEps: losses.Value(0.1)}, false)
	require.InDelta(t, pn["loss"][0], pp["loss"][0], 1e-12)
}

// TestPolicySaturatedLogits: float32 logits at ±1e4 give the exact log π
// and entropy (0 for a one-hot row, −2e4 − ... for the others).
func TestPolicySaturatedLogits(t *testing.T) {
	x := []float64{1e4, -1e4, -1e4, -1e4, 1e4, 1e4}
	res := polRun(t, hostDev, "policy_gradient_loss", map[string]polIn{"logits": fin(x, 2, 3),
		"actions": {i: []int32{0, 1}, shape: []int{2}}, "advantages": fin([]float64{1, 1}, 2)},
		losses.PolicyGradientLossOptions{Reduction: losses.None}, true)
	require.Equal(t, 0.0, math.Abs(res["loss"][0]))
	require.InDelta(t, math.Log(2), res["loss"][1], 1e-7)
	e := polRun(t, hostDev, "entropy_loss", map[string]polIn{"logits": fin(x, 2, 3)},
		losses.EntropyLossOptions{Reduction: losses.None}, true)
	require.Equal(t, 0.0, math.Abs(e["loss"][0]))
	require.InDelta(t, -math.Log(2), e["loss"][1], 1e-7)
	for _, g := range append(res["grad_logits"], e["grad_logits"]...) {
		require.False(t, math.IsNaN(g))
	}
}

func TestPolicyBadInput(t *testing.T) {
	catIns := func() map[string]polIn {
		return map[string]polIn{"logits": fin(make([]float64, 6), 2, 3), "actions": {i: []int32{0, 2}, shape: []int{2}},
			"advantages": fin([]float64{1, 2}, 2)}
	}
	gaussIns := map[string]polIn{"mean": fin(make([]float64, 6), 2, 3), "log_std": fin(make([]float64, 6), 2, 3),
		"actions": fin(make([]float64, 6), 2, 3), "advantages": fin([]float64{1, 2}, 2)}
	mod := func(m map[string]polIn, kv ...any) map[string]polIn {
		out := map[string]polIn{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(out, kv[i].(string))
			} else {
				out[kv[i].(string)] = kv[i+1].(polIn)
			}
		}
		return out
	}
	nan := math.NaN()
	vIns := map[string]polIn{"values": fin([]float64{1, 2}, 2), "returns": fin([]float64{1, 2}, 2)}
	acIns := mod(catIns(), "values", fin([]float64{1, 2}, 2), "returns", fin([]float64{1, 2}, 2))
	cases := []struct {
		what, loss string
		ins        map[string]polIn
		opt        any
		arg        string
	}{
		{"action out of range", "policy_gradient_loss", mod(catIns(), "actions", polIn{i: []int32{0, 3}, shape: []int{2}}), nil, "actions"},
		{"negative action", "ppo_clip_loss", mod(catIns(), "actions", polIn{i: []int32{-1, 0}, shape: []int{2}}, "old_log_probs", fin([]float64{0, 0}, 2)), nil, "actions"},
		{"shape mismatch", "policy_gradient_loss", mod(catIns(), "advantages", fin([]float64{1, 2, 3}, 3)), nil, "advantages"},
		{"actions shape", "policy_gradient_loss", mod(catIns(), "actions", polIn{i: []int32{0, 1, 1}, shape: []int{3}}), nil, "actions"},
		{"both policies", "policy_gradient_loss", mod(gaussIns, "logits", fin(make([]float64, 6), 2, 3)), nil, "logits"},
		{"no policy", "policy_gradient_loss", mod(catIns(), "logits", nil), nil, "logits"},
		{"mean without log_std", "policy_gradient_loss", mod(gaussIns, "log_std", nil), nil, "log_std"},
		{"squash categorical", "policy_gradient_loss", catIns(), losses.PolicyGradientLossOptions{Squash: true}, "squash"},
		{"clip_eps 0", "ppo_clip_loss", mod(catIns(), "old_log_probs", fin([]float64{0, 0}, 2)), losses.PPOClipLossOptions{ClipEps: losses.Value(0)}, "clip_eps"},
		{"clip_eps NaN", "ppo_clip_loss", mod(catIns(), "old_log_probs", fin([]float64{0, 0}, 2)), losses.PPOClipLossOptions{ClipEps: losses.Value(nan)}, "clip_eps"},
		{"log_probs and logits", "ppo_clip_loss", mod(catIns(), "old_log_probs", fin([]float64{0, 0}, 2), "log_probs", fin([]float64{0, 0}, 2)), nil, "logits"},
		{"negative clip_vf", "value_loss", vIns, losses.ValueLossOptions{ValueOptions: losses.ValueOptions{ClipVF: -1}}, "clip_vf"},
		{"clip_vf without old_values", "value_loss", vIns, losses.ValueLossOptions{ValueOptions: losses.ValueOptions{ClipVF: 1}}, "old_values"},
		{"unknown kind", "value_loss", vIns, losses.ValueLossOptions{ValueOptions: losses.ValueOptions{Kind: "l1"}}, "kind"},
		{"delta 0", "value_loss", vIns, losses.ValueLossOptions{ValueOptions: losses.ValueOptions{Kind: "huber", Delta: losses.Value(0)}}, "delta"},
		{"unknown reduction", "value_loss", vIns, losses.ValueLossOptions{Reduction: 7}, "reduction"},
		{"NaN value_coef", "actor_critic_loss", acIns, losses.ActorCriticLossOptions{ValueCoef: losses.Value(nan)}, "value_coef"},
		{"Inf entropy_coef", "actor_critic_loss", acIns, losses.ActorCriticLossOptions{EntropyCoef: losses.Value(math.Inf(1))}, "entropy_coef"},
		{"unknown policy_loss", "actor_critic_loss", acIns, losses.ActorCriticLossOptions{PolicyLoss: "a3c"}, "policy_loss"},
		{"ppo without old_log_probs", "actor_critic_loss", acIns, losses.ActorCriticLossOptions{PolicyLoss: "ppo"}, "old_log_probs"},
		{"zero actions", "entropy_loss", map[string]polIn{"logits": fin(nil, 2, 0)}, nil, "logits"},
		{"squash without actions", "gaussian_entropy_loss", map[string]polIn{"mean": fin(make([]float64, 2), 1, 2),
			"log_std": fin(make([]float64, 2), 1, 2)}, losses.GaussianEntropyLossOptions{Squash: true}, "actions"},
		{"actions without squash", "gaussian_entropy_loss", map[string]polIn{"log_std": fin(make([]float64, 2), 1, 2),
			"actions": fin(make([]float64, 2), 1, 2)}, nil, "actions"},
	}
	for _, c := range cases {
		_, err := polTry(hostDev, c.loss, c.ins, c.opt, false)
		var ae *losses.ArgError
		require.True(t, errors.As(err, &ae), "%s: %v", c.what, err)
		require.Equal(t, c.arg, ae.Arg, "%s: %v", c.what, err)
	}
	// nothing is written before the error
	g := []float64{7, 7, 7, 7, 7, 7}
	err := losses.PolicyGradientLoss(hostDev, losses.PolicyGradientLossArgs{Logits: losses.HostTensor(make([]float64, 6), 2, 3),
		Actions: losses.HostTensor([]int32{0, 5}), Advantages: losses.HostTensor([]float64{1, 1}),
		GradLogits: losses.HostTensor(g, 2, 3)}, losses.PolicyGradientLossOptions{})
	require.ErrorIs(t, err, losses.ErrInvalidArgument)
	require.Equal(t, []float64{7, 7, 7, 7, 7, 7}, g)
}

// TestPolicyEmpty: the mean of no elements is NaN, the sum 0.
func TestPolicyEmpty(t *testing.T) {
	ins := map[string]polIn{"logits": fin(nil, 0, 4), "actions": {i: []int32{}, shape: []int{0}}, "advantages": fin(nil, 0)}
	res := polRun(t, hostDev, "policy_gradient_loss", ins, nil, false)
	require.True(t, math.IsNaN(res["loss"][0]))
	res = polRun(t, hostDev, "policy_gradient_loss", ins, losses.PolicyGradientLossOptions{Reduction: losses.Sum}, false)
	require.Equal(t, 0.0, res["loss"][0])
}

// TestPolicyInPlace: the gradient written over its own input (logits,
// values) equals the one written apart.
func TestPolicyInPlace(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 13))
	const n, a = 9, 4
	x := polRand(r, n*a, 1.5, 0)
	acts := make([]int32, n)
	for i := range acts {
		acts[i] = int32(r.IntN(a))
	}
	old, adv, v, ret := polRand(r, n, 0.3, -1.4), polRand(r, n, 1, 0), polRand(r, n, 1, 0), polRand(r, n, 1, 0)
	run := func(inPlace bool) (loss, gx, gv []float64) {
		xs, vs := append([]float64(nil), x...), append([]float64(nil), v...)
		gx, gv, loss = make([]float64, n*a), make([]float64, n), make([]float64, 1)
		if inPlace {
			gx, gv = xs, vs
		}
		err := losses.ActorCriticLoss(hostDev, losses.ActorCriticLossArgs{Logits: losses.HostTensor(xs, n, a),
			Actions: losses.HostTensor(acts), OldLogProbs: losses.HostTensor(old), Advantages: losses.HostTensor(adv),
			Values: losses.HostTensor(vs), Returns: losses.HostTensor(ret), Loss: losses.HostTensor(loss),
			GradLogits: losses.HostTensor(gx, n, a), GradValues: losses.HostTensor(gv)},
			losses.ActorCriticLossOptions{PolicyLoss: "ppo"})
		require.NoError(t, err)
		return loss, gx, gv
	}
	l1, gx1, gv1 := run(false)
	l2, gx2, gv2 := run(true)
	require.Equal(t, l1, l2)
	require.Equal(t, gx1, gx2)
	require.Equal(t, gv1, gv2)
}
