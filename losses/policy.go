package losses

import (
	"math"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// The policy family: reinforcement-learning losses over time-major batches
// ([T, B], [B] or any shape, flattened to N elements; the default
// reduction is the mean over all N). A policy is either categorical,
// logits [..., A] with int32 actions [...] (the log-softmax fused in the
// kernel, formed from the row maximum, so saturated logits stay exact), or
// a diagonal Gaussian, mean and log_std [..., A] with float actions
// [..., A] (log π summed over A), optionally tanh-squashed (Squash). A
// call gives exactly one of the two (an *ArgError otherwise). Advantages,
// returns, old log-probabilities and old values are never differentiated.

// PolicyGradientLossArgs are the tensors of PolicyGradientLoss: a policy
// (Logits and int32 Actions, or Mean, LogStd and float Actions),
// Advantages [...] and optional Weights [...] of the batch shape. Loss is
// one element, or [...] with reduction None. The gradients (shaped like
// their inputs) are written where given.
type PolicyGradientLossArgs struct {
	Logits     Tensor `loss:"logits,in,optional"`
	Mean       Tensor `loss:"mean,in,optional"`
	LogStd     Tensor `loss:"log_std,in,optional"`
	Actions    Tensor `loss:"actions,in,any"`
	Advantages Tensor `loss:"advantages,in"`
	Weights    Tensor `loss:"weights,in,optional"`
	Loss       Tensor `loss:"loss,out"`
	GradLogits Tensor `loss:"grad_logits,grad"`
	GradMean   Tensor `loss:"grad_mean,grad"`
	GradLogStd Tensor `loss:"grad_log_std,grad"`
}

// PolicyGradientLossOptions are the options of PolicyGradientLoss.
type PolicyGradientLossOptions struct {
	// Reduction: Mean (the default, rlax's mean over all elements), Sum
	// or None (one loss per element).
	Reduction Reduction `json:"reduction"`
	// Squash: the Gaussian actions are tanh-squashed (see
	// PolicyGradientLoss).
	Squash bool `json:"squash"`
}

// PolicyGradientLoss is rlax.policy_gradient_loss: −mean(log π(a)·A·w)
// over the batch, A the advantages (not differentiated) and w the weights
// (rlax's w_t; 1 when absent). log π(a) is log_softmax(logits)[a], or for
// a Gaussian policy Σ_A log N(a; mean, exp(log_std)). With Squash the
// actions are given in the squashed space, as SB3's
// SquashedDiagGaussianDistribution takes them: u = atanh(a) with a
// clamped to ±(1 − 1.19e-7) (float32's machine epsilon, for both float
// types; SB3 uses the epsilon of the dtype), and log π(a) = Σ log N(u;
// mean, std) − Σ log(1 − a² + 1e-6), the correction taken at the given a.
// An action outside [0, A) is an *ArgError (the actions are read back to
// the host: 4·N bytes). Launches policy_rows and policy_reduce.
func PolicyGradientLoss(dev device.Device, a PolicyGradientLossArgs, o PolicyGradientLossOptions) error {
	c := polCall{name: "policy_gradient_loss", op: kernelspec.PolPG, red: o.Reduction, squash: o.Squash,
		logits: a.Logits, mean: a.Mean, logStd: a.LogStd, actions: a.Actions, adv: a.Advantages, weights: a.Weights,
		loss: a.Loss, gLogits: a.GradLogits, gMean: a.GradMean, gLogStd: a.GradLogStd}
	return c.run(dev)
}

// EntropyLossArgs are the tensors of EntropyLoss: the logits [..., A]
// of a categorical policy and optional Weights [...].
type EntropyLossArgs struct {
	Logits     Tensor `loss:"logits,in"`
	Weights    Tensor `loss:"weights,in,optional"`
	Loss       Tensor `loss:"loss,out"`
	GradLogits Tensor `loss:"grad_logits,grad"`
}

// EntropyLossOptions are the options of EntropyLoss.
type EntropyLossOptions struct {
	// Reduction: Mean (the default), Sum or None.
	Reduction Reduction `json:"reduction"`
}

// EntropyLoss is rlax.entropy_loss of a categorical policy: −mean(H(π)·w),
// H = −Σ p log p of softmax(logits), formed as log s − Σ p·(x − m) (m the
// row maximum, s = Σ exp(x − m)), with 0·log 0 = 0. The Gaussian policy's
// entropy is GaussianEntropyLoss.
func EntropyLoss(dev device.Device, a EntropyLossArgs, o EntropyLossOptions) error {
	c := polCall{name: "entropy_loss", op: kernelspec.PolEnt, red: o.Reduction,
		logits: a.Logits, weights: a.Weights, loss: a.Loss, gLogits: a.GradLogits}
	return c.run(dev)
}

// GaussianEntropyLossArgs are the tensors of GaussianEntropyLoss: LogStd
// [..., A] of a diagonal Gaussian policy; Mean and Actions (shaped like
// LogStd) only with Squash; optional Weights [...].
type GaussianEntropyLossArgs struct {
	LogStd     Tensor `loss:"log_std,in"`
	Mean       Tensor `loss:"mean,in,optional"`
	Actions    Tensor `loss:"actions,in,optional"`
	Weights    Tensor `loss:"weights,in,optional"`
	Loss       Tensor `loss:"loss,out"`
	GradLogStd Tensor `loss:"grad_log_std,grad"`
	GradMean   Tensor `loss:"grad_mean,grad"`
}

// GaussianEntropyLossOptions are the options of GaussianEntropyLoss.
type GaussianEntropyLossOptions struct {
	// Reduction: Mean (the default), Sum or None.
	Reduction Reduction `json:"reduction"`
	// Squash: the policy is tanh-squashed; its entropy is then estimated
	// from the given actions (see GaussianEntropyLoss).
	Squash bool `json:"squash"`
}

// GaussianEntropyLoss is rlax.entropy_loss of a diagonal Gaussian policy:
// −mean(H·w), H = Σ_A (log_std + ½ log(2πe)) (which does not depend on
// the mean). A squashed Gaussian has no closed form: as SB3 does, the
// entropy is estimated as −log π(a) of the given Actions (Mean and Actions
// required then; log π as PolicyGradientLoss computes it), whose gradient
// flows through log π to the mean and log_std.
func GaussianEntropyLoss(dev device.Device, a GaussianEntropyLossArgs, o GaussianEntropyLossOptions) error {
	c := polCall{name: "gaussian_entropy_loss", op: kernelspec.PolEnt, red: o.Reduction, squash: o.Squash,
		mean: a.Mean, logStd: a.LogStd, actions: a.Actions, weights: a.Weights,
		loss: a.Loss, gMean: a.GradMean, gLogStd: a.GradLogStd}
	return c.run(dev)
}

// PPOClipLossArgs are the tensors of PPOClipLoss: the new log-probabilities
// from a policy (Logits and Actions, or Mean, LogStd and Actions) or given
// directly as LogProbs [...]; OldLogProbs and Advantages [...]. ClipFraction
// and ApproxKL (one element each, no gradient) are written where given.
type PPOClipLossArgs struct {
	Logits       Tensor `loss:"logits,in,optional"`
	Mean         Tensor `loss:"mean,in,optional"`
	LogStd       Tensor `loss:"log_std,in,optional"`
	Actions      Tensor `loss:"actions,in,any,optional"`
	LogProbs     Tensor `loss:"log_probs,in,optional"`
	OldLogProbs  Tensor `loss:"old_log_probs,in"`
	Advantages   Tensor `loss:"advantages,in"`
	Loss         Tensor `loss:"loss,out"`
	ClipFraction Tensor `loss:"clip_fraction,out"`
	ApproxKL     Tensor `loss:"approx_kl,out"`
	GradLogits   Tensor `loss:"grad_logits,grad"`
	GradMean     Tensor `loss:"grad_mean,grad"`
	GradLogStd   Tensor `loss:"grad_log_std,grad"`
	GradLogProbs Tensor `loss:"grad_log_probs,grad"`
}

// PPOClipLossOptions are the options of PPOClipLoss, CleanRL's names.
type PPOClipLossOptions struct {
	// Reduction: Mean (the default, CleanRL's), Sum or None.
	Reduction Reduction `json:"reduction"`
	// ClipEps > 0 is the clip range ε; nil: 0.2.
	ClipEps *float64 `json:"clip_eps"`
	// NormalizeAdvantages: CleanRL's norm_adv, (A − mean)/(std + 1e-8)
	// over the call's batch, std unbiased as torch.std. Off by default
	// here (CleanRL's default is on).
	NormalizeAdvantages bool `json:"normalize_advantages"`
	// Squash: the Gaussian actions are tanh-squashed.
	Squash bool `json:"squash"`
}

// PPOClipLoss is CleanRL's PPO policy loss: ratio r = exp(log π(a) −
// old_log_probs), loss mean(max(−A·r, −A·clamp(r, 1 − ε, 1 + ε))), with
// the gradient of PyTorch's autograd (a tie of the two terms splits
// evenly; clamp passes the gradient inside [1 − ε, 1 + ε], boundaries
// included). ClipFraction = mean(|r − 1| > ε) and ApproxKL = mean((r − 1)
// − log r), the k3 estimator CleanRL logs, formed as expm1(d) − d so that
// it keeps its digits for small d = log r. Both are means over the batch
// whatever the reduction.
func PPOClipLoss(dev device.Device, a PPOClipLossArgs, o PPOClipLossOptions) error {
	c := polCall{name: "ppo_clip_loss", op: kernelspec.PolPPO, red: o.Reduction, squash: o.Squash,
		clipEps: o.ClipEps, normAdv: o.NormalizeAdvantages,
		logits: a.Logits, mean: a.Mean, logStd: a.LogStd, actions: a.Actions, logProbs: a.LogProbs,
		oldLogProbs: a.OldLogProbs, adv: a.Advantages,
		loss: a.Loss, clipFrac: a.ClipFraction, approxKL: a.ApproxKL,
		gLogits: a.GradLogits, gMean: a.GradMean, gLogStd: a.GradLogStd, gLogProbs: a.GradLogProbs}
	return c.run(dev)
}

// ValueLossArgs are the tensors of ValueLoss: Values, Returns and, for the
// clipped form, OldValues, all of one shape.
type ValueLossArgs struct {
	Values     Tensor `loss:"values,in"`
	Returns    Tensor `loss:"returns,in"`
	OldValues  Tensor `loss:"old_values,in,optional"`
	Loss       Tensor `loss:"loss,out"`
	GradValues Tensor `loss:"grad_values,grad"`
}

// ValueOptions are the value-loss options of ValueLoss and
// ActorCriticLoss.
type ValueOptions struct {
	// Kind is "mse" (the default: ½(v − R)², CleanRL's and rlax's l2_loss;
	// SB3's F.mse_loss has no ½) or "huber" (rlax.huber_loss with Delta:
	// ½x² for |x| ≤ δ, δ(|x| − ½δ) outside).
	Kind string `json:"kind"`
	// Delta > 0 is Huber's δ; nil: 1.
	Delta *float64 `json:"delta"`
	// ClipVF >= 0: 0 is off; else PPO's clipped value loss, v_clip = old +
	// clamp(v − old, −c, c), loss max(l(v − R), l(v_clip − R)) (OldValues
	// required).
	ClipVF float64 `json:"clip_vf"`
}

// ValueLossOptions are the options of ValueLoss.
type ValueLossOptions struct {
	// Reduction: Mean (the default), Sum or None.
	Reduction Reduction `json:"reduction"`
	ValueOptions
}

// ValueLoss is the value (critic) loss: l(v − R) per element with l as
// Kind says, or CleanRL's clipped form with ClipVF (a tie of the two terms
// splits the gradient evenly, as torch.max; the clamp passes it inside
// [−c, c]). Gradient w.r.t. Values.
func ValueLoss(dev device.Device, a ValueLossArgs, o ValueLossOptions) error {
	c := polCall{name: "value_loss", op: kernelspec.PolValue, red: o.Reduction, vo: o.ValueOptions,
		values: a.Values, returns: a.Returns, oldValues: a.OldValues, loss: a.Loss, gValues: a.GradValues}
	return c.run(dev)
}

// ActorCriticLossArgs are the tensors of ActorCriticLoss: a policy
// (Logits and Actions, or Mean, LogStd and Actions), Advantages, Values,
// Returns, OldLogProbs (for the PPO term only) and OldValues (for ClipVF),
// all of the batch shape. Loss and the components PolicyLoss, ValueLoss,
// Entropy, ClipFraction and ApproxKL are one element each.
type ActorCriticLossArgs struct {
	Logits       Tensor `loss:"logits,in,optional"`
	Mean         Tensor `loss:"mean,in,optional"`
	LogStd       Tensor `loss:"log_std,in,optional"`
	Actions      Tensor `loss:"actions,in,any"`
	OldLogProbs  Tensor `loss:"old_log_probs,in,optional"`
	Advantages   Tensor `loss:"advantages,in"`
	Values       Tensor `loss:"values,in"`
	Returns      Tensor `loss:"returns,in"`
	OldValues    Tensor `loss:"old_values,in,optional"`
	Loss         Tensor `loss:"loss,out"`
	PolicyLoss   Tensor `loss:"policy_loss,out"`
	ValueLossOut Tensor `loss:"value_loss,out"`
	Entropy      Tensor `loss:"entropy,out"`
	ClipFraction Tensor `loss:"clip_fraction,out"`
	ApproxKL     Tensor `loss:"approx_kl,out"`
	GradLogits   Tensor `loss:"grad_logits,grad"`
	GradMean     Tensor `loss:"grad_mean,grad"`
	GradLogStd   Tensor `loss:"grad_log_std,grad"`
	GradValues   Tensor `loss:"grad_values,grad"`
}

// ActorCriticLossOptions are the options of ActorCriticLoss.
type ActorCriticLossOptions struct {
	// PolicyLoss is "pg" (the default: the policy gradient term of
	// PolicyGradientLoss, without weights) or "ppo" (PPOClipLoss's term,
	// with ClipEps and NormalizeAdvantages).
	PolicyLoss string `json:"policy_loss"`
	// ClipEps > 0 is PPO's ε; nil: 0.2.
	ClipEps *float64 `json:"clip_eps"`
	// NormalizeAdvantages: CleanRL's norm_adv (off by default here).
	NormalizeAdvantages bool `json:"normalize_advantages"`
	ValueOptions
	// ValueCoef is the value term's coefficient (CleanRL's vf_coef); nil: 0.5.
	ValueCoef *float64 `json:"value_coef"`
	// EntropyCoef is the entropy bonus's coefficient (ent_coef); nil: 0.01.
	EntropyCoef *float64 `json:"entropy_coef"`
	// Squash: the Gaussian actions are tanh-squashed (the entropy is then
	// estimated as −log π(a), see EntropyLoss).
	Squash bool `json:"squash"`
}

// ActorCriticLoss is CleanRL's PPO loss, or the A2C loss with the policy
// gradient term: policy_loss + value_coef·value_loss − entropy_coef·entropy,
// each a mean over the batch (policy_loss as PPOClipLoss or
// PolicyGradientLoss, value_loss as ValueLoss, entropy as EntropyLoss's
// H), computed in one pass over the policy rows: one thread reads each
// logits row, forms its log-softmax, log π(a), entropy and their
// gradients together. Gradients w.r.t. the logits (or mean and log_std)
// and the values. The components are written to PolicyLoss, ValueLossOut
// ("value_loss"), Entropy, and for PPO ClipFraction and ApproxKL (0 with
// "pg"), where given.
func ActorCriticLoss(dev device.Device, a ActorCriticLossArgs, o ActorCriticLossOptions) error {
	c := polCall{name: "actor_critic_loss", op: kernelspec.PolACPG, red: Mean, squash: o.Squash,
		clipEps: o.ClipEps, normAdv: o.NormalizeAdvantages, vo: o.ValueOptions, vcoef: o.ValueCoef, ecoef: o.EntropyCoef,
		logits: a.Logits, mean: a.Mean, logStd: a.LogStd, actions: a.Actions, oldLogProbs: a.OldLogProbs,
		adv: a.Advantages, values: a.Values, returns: a.Returns, oldValues: a.OldValues,
		loss: a.Loss, polLoss: a.PolicyLoss, valLoss: a.ValueLossOut, ent: a.Entropy, clipFrac: a.ClipFraction,
		approxKL: a.ApproxKL, gLogits: a.GradLogits, gMean: a.GradMean, gLogStd: a.GradLogStd, gValues: a.GradValues}
	switch o.PolicyLoss {
	case "", "pg":
	case "ppo":
		c.op = kernelspec.PolACPPO
	default:
		return argErr(c.name, "policy_loss", "unknown policy loss %s: want pg or ppo", clip(o.PolicyLoss))
	}
	return c.run(dev)
}

// polCall is one call of a policy-family loss: its tensors (absent where
// the loss has no such tensor) and options.
type polCall struct {
	name                                string
	op                                  int32
	red                                 Reduction
	squash, normAdv                     bool
	clipEps, vcoef, ecoef               *float64
	vo                                  ValueOptions
	logits, mean, logStd, actions       Tensor
	logProbs, oldLogProbs, adv, weights Tensor
	values, returns, oldValues          Tensor
	loss, polLoss, valLoss, ent         Tensor
	clipFrac, approxKL                  Tensor
	gLogits, gMean, gLogStd, gLogProbs  Tensor
	gValues                             Tensor
}

// polKind is the policy form of a call.
const (
	polNone   = iota // no policy (value_loss)
	polCat           // logits and int32 actions
	polGauss         // mean, log_std and float actions
	polDirect        // log_probs given
)

// polScalars are the resolved scalar options of a call.
type polScalars struct {
	clipEps, clipVF, delta, vcoef, ecoef float64
	huber                                bool
}

func (c *polCall) scalars() (polScalars, error) {
	s := polScalars{clipEps: 0.2, delta: 1, vcoef: 0.5, ecoef: 0.01, clipVF: c.vo.ClipVF}
	if !c.red.valid() {
		return s, argErr(c.name, "reduction", "unknown reduction %d", int(c.red))
	}
	if c.clipEps != nil {
		s.clipEps = *c.clipEps
	}
	if !(s.clipEps > 0) || math.IsInf(s.clipEps, 1) {
		return s, argErr(c.name, "clip_eps", "must be finite and > 0, got %v", s.clipEps)
	}
	if !(s.clipVF >= 0) || math.IsInf(s.clipVF, 1) {
		return s, argErr(c.name, "clip_vf", "must be finite and >= 0 (0: off), got %v", s.clipVF)
	}
	switch c.vo.Kind {
	case "", "mse":
	case "huber":
		s.huber = true
	default:
		return s, argErr(c.name, "kind", "unknown value loss kind %s: want mse or huber", clip(c.vo.Kind))
	}
	if c.vo.Delta != nil {
		s.delta = *c.vo.Delta
	}
	if !(s.delta > 0) || math.IsInf(s.delta, 1) {
		return s, argErr(c.name, "delta", "must be finite and > 0, got %v", s.delta)
	}
	if c.vcoef != nil {
		s.vcoef = *c.vcoef
	}
	if c.ecoef != nil {
		s.ecoef = *c.ecoef
	}
	if math.IsNaN(s.vcoef) || math.IsInf(s.vcoef, 0) {
		return s, argErr(c.name, "value_coef", "must be finite, got %v", s.vcoef)
	}
	if math.IsNaN(s.ecoef) || math.IsInf(s.ecoef, 0) {
		return s, argErr(c.name, "entropy_coef", "must be finite, got %v", s.ecoef)
	}
	return s, nil
}

// shape works out the policy form, the batch shape and A from the
// inputs, and checks every input's shape against them.
func (c *polCall) shape() (kind int, lead []int, a int, err error) {
	name := c.name
	cat, gauss, direct := c.logits.Present(), c.mean.Present() || c.logStd.Present(), c.logProbs.Present()
	count := 0
	for _, b := range []bool{cat, gauss, direct} {
		if b {
			count++
		}
	}
	switch {
	case c.op == kernelspec.PolValue:
		if !c.values.Present() {
			return 0, nil, 0, argErr(name, "values", "buffer is nil")
		}
		kind, lead, a = polNone, c.values.Shape, 1
	case count == 0:
		want := "logits, or mean and log_std"
		if c.op == kernelspec.PolPPO {
			want += ", or log_probs"
		}
		return 0, nil, 0, argErr(name, "logits", "no policy given: want %s", want)
	case count > 1:
		return 0, nil, 0, argErr(name, "logits", "give one policy: logits (categorical), mean and log_std (Gaussian) or log_probs, not several")
	case cat:
		sh := c.logits.Shape
		if len(sh) == 0 || sh[len(sh)-1] < 1 {
			return 0, nil, 0, argErr(name, "logits", "has shape %v: want [..., A] with A >= 1", sh)
		}
		kind, lead, a = polCat, sh[:len(sh)-1], sh[len(sh)-1]
	case gauss:
		noMean := c.op == kernelspec.PolEnt && !c.squash // the entropy does not depend on the mean
		switch {
		case !c.logStd.Present():
			return 0, nil, 0, argErr(name, "log_std", "a Gaussian policy needs both mean and log_std")
		case !c.mean.Present() && !noMean:
			return 0, nil, 0, argErr(name, "mean", "a Gaussian policy needs both mean and log_std")
		}
		sh := c.logStd.Shape
		if len(sh) == 0 || sh[len(sh)-1] < 1 {
			return 0, nil, 0, argErr(name, "log_std", "has shape %v: want [..., A] with A >= 1", sh)
		}
		if c.mean.Present() && !sameShape(c.mean.Shape, sh) {
			return 0, nil, 0, argErr(name, "mean", "has shape %v: want log_std's %v", c.mean.Shape, sh)
		}
		kind, lead, a = polGauss, sh[:len(sh)-1], sh[len(sh)-1]
	default:
		kind, lead, a = polDirect, c.logProbs.Shape, 1
	}
	if c.squash && kind != polGauss {
		return 0, nil, 0, argErr(name, "squash", "applies to a Gaussian policy (mean and log_std)")
	}
	// the actions
	needActions := kind == polCat && c.op != kernelspec.PolEnt || kind == polGauss && (c.op != kernelspec.PolEnt || c.squash)
	switch {
	case !needActions && c.actions.Present():
		return 0, nil, 0, argErr(name, "actions", "given where the loss does not use them (entropy_loss uses them only for a squashed Gaussian; ppo_clip_loss not with log_probs)")
	case !needActions:
	case kind == polCat:
		if !c.actions.Present() {
			return 0, nil, 0, argErr(name, "actions", "buffer is nil")
		}
		if !sameShape(c.actions.Shape, lead) {
			return 0, nil, 0, argErr(name, "actions", "has shape %v: want the logits' batch shape %v", c.actions.Shape, lead)
		}
	default:
		if !c.actions.Present() {
			return 0, nil, 0, argErr(name, "actions", "buffer is nil")
		}
		if !sameShape(c.actions.Shape, c.logStd.Shape) {
			return 0, nil, 0, argErr(name, "actions", "has shape %v: want log_std's %v", c.actions.Shape, c.logStd.Shape)
		}
	}
	isPPO := c.op == kernelspec.PolPPO || c.op == kernelspec.PolACPPO
	if c.op == kernelspec.PolACPG && c.oldLogProbs.Present() {
		return 0, nil, 0, argErr(name, "old_log_probs", "given with policy_loss pg, which has no use for it")
	}
	if isPPO && !c.oldLogProbs.Present() {
		return 0, nil, 0, argErr(name, "old_log_probs", "buffer is nil (the PPO term needs it)")
	}
	hasVal := c.op == kernelspec.PolValue || c.op == kernelspec.PolACPG || c.op == kernelspec.PolACPPO
	if hasVal && c.vo.ClipVF > 0 && !c.oldValues.Present() {
		return 0, nil, 0, argErr(name, "old_values", "buffer is nil (clip_vf > 0 needs it)")
	}
	if hasVal && c.vo.ClipVF == 0 && c.oldValues.Present() {
		return 0, nil, 0, argErr(name, "old_values", "given with clip_vf 0 (off): set clip_vf or leave it out")
	}
	for _, t := range []struct {
		arg  string
		t    Tensor
		need bool
	}{{"old_log_probs", c.oldLogProbs, false}, {"advantages", c.adv, c.op != kernelspec.PolEnt && c.op != kernelspec.PolValue},
		{"weights", c.weights, false}, {"values", c.values, hasVal}, {"returns", c.returns, hasVal},
		{"old_values", c.oldValues, false}} {
		if !t.t.Present() {
			if t.need {
				return 0, nil, 0, argErr(name, t.arg, "buffer is nil")
			}
			continue
		}
		if !sameShape(t.t.Shape, lead) {
			return 0, nil, 0, argErr(name, t.arg, "has shape %v: want the batch shape %v", t.t.Shape, lead)
		}
	}
	return kind, lead, a, nil
}

// polShapes gives the output shapes of a call (for the declarations).
func (c *polCall) shapes() map[string][]int {
	_, lead, _, err := c.shape()
	if err != nil {
		return map[string][]int{"loss": {}} // the call refuses it
	}
	m := map[string][]int{"loss": lossShape(c.red, lead)}
	switch c.op {
	case kernelspec.PolPPO:
		m["clip_fraction"], m["approx_kl"] = []int{}, []int{}
	case kernelspec.PolACPG, kernelspec.PolACPPO:
		for _, k := range []string{"policy_loss", "value_loss", "entropy", "clip_fraction", "approx_kl"} {
			m[k] = []int{}
		}
	}
	return m
}

func (c *polCall) run(dev device.Device) error {
	if dev == nil || isNilDevice(dev) {
		return argErr(c.name, "device", "is nil")
	}
	s := stage{dev: dev, loss: c.name}
	return s.finish(c.staged(&s))
}

func (c *polCall) staged(s *stage) error {
	name := c.name
	sc, err := c.scalars()
	if err != nil {
		return err
	}
	kind, lead, a, err := c.shape()
	if err != nil {
		return err
	}
	n := prod(lead)
	if err := checkLoss(name, c.loss, c.red, n); err != nil {
		return err
	}
	for _, o := range []struct {
		arg string
		t   Tensor
	}{{"policy_loss", c.polLoss}, {"value_loss", c.valLoss}, {"entropy", c.ent}, {"clip_fraction", c.clipFrac},
		{"approx_kl", c.approxKL}} {
		if o.t.Present() && o.t.Len() != 1 {
			return argErr(name, o.arg, "has shape %v: want one element", o.t.Shape)
		}
	}
	for _, g := range []struct {
		arg  string
		t, x Tensor
	}{{"grad_logits", c.gLogits, c.logits}, {"grad_mean", c.gMean, c.mean}, {"grad_log_std", c.gLogStd, c.logStd},
		{"grad_log_probs", c.gLogProbs, c.logProbs}, {"grad_values", c.gValues, c.values}} {
		if !g.t.Present() {
			continue
		}
		if !g.x.Present() {
			return argErr(name, g.arg, "given without its input %s", g.arg[len("grad_"):])
		}
		if !sameShape(g.t.Shape, g.x.Shape) {
			return argErr(name, g.arg, "has shape %v, want %v", g.t.Shape, g.x.Shape)
		}
	}
	var logits, mean, logStd, actions, logProbs, oldLP, adv, wts, values, returns, oldV device.Buffer
	var loss, polLoss, valLoss, ent, cf, kl, gLogits, gMean, gLogStd, gLP, gV device.Buffer
	if err := s.bind(in("logits", c.logits, &logits), in("mean", c.mean, &mean), in("log_std", c.logStd, &logStd),
		in("actions", c.actions, &actions), in("log_probs", c.logProbs, &logProbs),
		in("old_log_probs", c.oldLogProbs, &oldLP), in("advantages", c.adv, &adv), in("weights", c.weights, &wts),
		in("values", c.values, &values), in("returns", c.returns, &returns), in("old_values", c.oldValues, &oldV),
		out("loss", c.loss, &loss), out("policy_loss", c.polLoss, &polLoss), out("value_loss", c.valLoss, &valLoss),
		out("entropy", c.ent, &ent), out("clip_fraction", c.clipFrac, &cf), out("approx_kl", c.approxKL, &kl),
		out("grad_logits", c.gLogits, &gLogits), out("grad_mean", c.gMean, &gMean),
		out("grad_log_std", c.gLogStd, &gLogStd), out("grad_log_probs", c.gLogProbs, &gLP),
		out("grad_values", c.gValues, &gV)); err != nil {
		return err
	}
	dev := s.dev
	// x: the policy's first float input, whose dtype every float buffer shares
	var x device.Buffer
	xArg := "values"
	switch kind {
	case polCat:
		x, xArg = logits, "logits"
	case polGauss:
		x, xArg = other(mean, logStd), "log_std"
	case polDirect:
		x, xArg = logProbs, "log_probs"
	default:
		x = values
	}
	ft := x.DType()
	if err := floatType(name, xArg, dev, ft); err != nil {
		return err
	}
	na := n * a
	actF := kind == polGauss && actions != nil
	for _, b := range []struct {
		arg string
		b   device.Buffer
		n   int
	}{{"logits", logits, na}, {"mean", mean, na}, {"log_std", logStd, na}, {"log_probs", logProbs, n},
		{"old_log_probs", oldLP, n}, {"advantages", adv, n}, {"weights", wts, n}, {"values", values, n},
		{"returns", returns, n}, {"old_values", oldV, n}, {"loss", loss, c.loss.Len()}, {"policy_loss", polLoss, 1},
		{"value_loss", valLoss, 1}, {"entropy", ent, 1}, {"clip_fraction", cf, 1}, {"approx_kl", kl, 1},
		{"grad_logits", gLogits, na}, {"grad_mean", gMean, na}, {"grad_log_std", gLogStd, na},
		{"grad_log_probs", gLP, n}, {"grad_values", gV, n}} {
		if err := checkBuf(name, b.arg, dev, b.b, ft, b.n, true); err != nil {
			return err
		}
	}
	if actF {
		if err := checkBuf(name, "actions", dev, actions, ft, na, false); err != nil {
			return err
		}
	}
	if kind == polCat && actions != nil {
		if err := checkBuf(name, "actions", dev, actions, device.Int32, n, false); err != nil {
			return err
		}
		if n > 0 {
			acts, ok := hostInts(actions)
			if !ok {
				acts = make([]int32, n)
				if err := dev.Read(acts, actions); err != nil {
					return bufErr(name, "actions", err)
				}
			}
			for i, v := range acts[:n] {
				if v < 0 || int(v) >= a {
					return argErr(name, "actions", "actions[%d] = %d is out of range [0, %d)", i, v, a)
				}
			}
		}
	}
	if loss == nil && polLoss == nil && valLoss == nil && ent == nil && cf == nil && kl == nil &&
		gLogits == nil && gMean == nil && gLogStd == nil && gLP == nil && gV == nil {
		return nil
	}
	var flags int32
	set := func(on bool, f int32) {
		if on {
			flags |= f
		}
	}
	set(kind == polGauss, kernelspec.PolGauss)
	set(c.squash, kernelspec.PolSquash)
	set(kind == polDirect, kernelspec.PolLogP)
	set(wts != nil, kernelspec.PolWeights)
	set(c.normAdv && adv != nil, kernelspec.PolNormAdv)
	set(sc.clipVF > 0, kernelspec.PolClipVF)
	set(sc.huber, kernelspec.PolHuber)
	set(gLogits != nil || gMean != nil, kernelspec.PolGradX)
	set(gLogStd != nil, kernelspec.PolGradLogStd)
	set(gLP != nil, kernelspec.PolGradLogP)
	set(gV != nil, kernelspec.PolGradValues)
	rowsOut := c.red == None && loss != nil
	set(rowsOut, kernelspec.PolRows)
	gs := 1.0
	scale := 1 / float64(n)
	if n == 0 {
		scale = math.NaN() // the mean of nothing, as PyTorch
	}
	if c.red == Mean {
		gs = scale
	}
	g := partialGrid(n)
	part, err := pool.get(dev, ft, kernelspec.PolParts*g.Blocks)
	if err != nil {
		return err
	}
	defer pool.put(part)
	var stats device.Buffer
	if flags&kernelspec.PolNormAdv != 0 && n > 0 {
		if stats, err = pool.get(dev, ft, 2); err != nil {
			return err
		}
		defer pool.put(stats)
		if err := dev.Launch("policy_adv_stats", oneBlock, adv, int32(n), stats); err != nil {
			return err
		}
	}
	actI := actions
	if kind != polCat || actI == nil {
		if actI, err = pool.get(dev, device.Int32, 1); err != nil {
			return err
		}
		defer pool.put(actI)
	}
	gx := other(gLogits, gMean)
	if err := dev.Launch("policy_rows", g, c.op, flags, x, other(logStd, x), actI, other(actionsIf(actF, actions), x),
		other(logProbs, x), other(oldLP, x), other(adv, x), other(wts, x), other(stats, x), other(values, x),
		other(returns, x), other(oldV, x), int32(n), int32(a), sc.clipEps, sc.clipVF, sc.delta, sc.vcoef, sc.ecoef, gs,
		other(gx, x), other(gLogStd, x), other(gLP, x), other(gV, x), other(ifRows(rowsOut, loss), x), part); err != nil {
		return err
	}
	for _, r := range []struct {
		b device.Buffer
		k int32
	}{{ifRows(!rowsOut, loss), 0}, {polLoss, 1}, {valLoss, 2}, {ent, 3}, {cf, 4}, {kl, 5}} {
		if r.b == nil {
			continue
		}
		sc := scale
		if r.k == 0 && c.red == Sum {
			sc = 1
		}
		if err := dev.Launch("policy_reduce", oneBlock, part, int32(g.Blocks), r.k, sc, r.b); err != nil {
			return err
		}
	}
	return nil
}

// actionsIf is the float actions buffer where the policy is Gaussian, else nil.
func actionsIf(gauss bool, b device.Buffer) device.Buffer {
	if gauss {
		return b
	}
	return nil
}

// ifRows is b where on, else nil.
func ifRows(on bool, b device.Buffer) device.Buffer {
	if on {
		return b
	}
	return nil
}

func init() {
	register("policy_gradient_loss", "PolicyGradientLoss", PolicyGradientLoss,
		func(a PolicyGradientLossArgs, o PolicyGradientLossOptions) map[string][]int {
			c := polCall{op: kernelspec.PolPG, red: o.Reduction, squash: o.Squash, logits: a.Logits, mean: a.Mean,
				logStd: a.LogStd, actions: a.Actions, adv: a.Advantages, weights: a.Weights}
			return c.shapes()
		}, "policy_rows", "policy_reduce")
	register("entropy_loss", "EntropyLoss", EntropyLoss,
		func(a EntropyLossArgs, o EntropyLossOptions) map[string][]int {
			c := polCall{op: kernelspec.PolEnt, red: o.Reduction, logits: a.Logits, weights: a.Weights}
			return c.shapes()
		}, "policy_rows", "policy_reduce")
	register("gaussian_entropy_loss", "GaussianEntropyLoss", GaussianEntropyLoss,
		func(a GaussianEntropyLossArgs, o GaussianEntropyLossOptions) map[string][]int {
			c := polCall{op: kernelspec.PolEnt, red: o.Reduction, squash: o.Squash, mean: a.Mean, logStd: a.LogStd,
				actions: a.Actions, weights: a.Weights}
			return c.shapes()
		}, "policy_rows", "policy_reduce")
	register("ppo_clip_loss", "PPOClipLoss", PPOClipLoss,
		func(a PPOClipLossArgs, o PPOClipLossOptions) map[string][]int {
			c := polCall{op: kernelspec.PolPPO, red: o.Reduction, squash: o.Squash, logits: a.Logits, mean: a.Mean,
				logStd: a.LogStd, actions: a.Actions, logProbs: a.LogProbs, oldLogProbs: a.OldLogProbs, adv: a.Advantages}
			return c.shapes()
		}, "policy_rows", "policy_adv_stats", "policy_reduce")
	register("value_loss", "ValueLoss", ValueLoss,
		func(a ValueLossArgs, o ValueLossOptions) map[string][]int {
			c := polCall{op: kernelspec.PolValue, red: o.Reduction, vo: o.ValueOptions, values: a.Values,
				returns: a.Returns, oldValues: a.OldValues}
			return c.shapes()
		}, "policy_rows", "policy_reduce")
	register("actor_critic_loss", "ActorCriticLoss", ActorCriticLoss,
		func(a ActorCriticLossArgs, o ActorCriticLossOptions) map[string][]int {
			c := polCall{op: kernelspec.PolACPG, red: Mean, vo: o.ValueOptions, squash: o.Squash, logits: a.Logits,
				mean: a.Mean, logStd: a.LogStd, actions: a.Actions, oldLogProbs: a.OldLogProbs, adv: a.Advantages,
				values: a.Values, returns: a.Returns, oldValues: a.OldValues}
			if o.PolicyLoss == "ppo" {
				c.op = kernelspec.PolACPPO
			}
			return c.shapes()
		}, "policy_rows", "policy_adv_stats", "policy_reduce")
}
