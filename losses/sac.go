package losses

import (
	"math"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// The sac family: the losses of soft actor-critic as CleanRL writes them
// (sac_atari for discrete actions, sac_continuous_action for the
// tanh-squashed Gaussian policy). Policies come as logits [B, A] or as a
// Gaussian's mean and log_std [B, A]; Q-values are the caller's (the
// minimum over its two critics), never differentiated here.

// SACDiscreteActorLossArgs are the tensors of SACDiscreteActorLoss:
// policy logits and the Q-values q_values, both [B, A].
type SACDiscreteActorLossArgs struct {
	Logits     Tensor `loss:"logits,in"`
	QValues    Tensor `loss:"q_values,in"`
	Loss       Tensor `loss:"loss,out"`
	GradLogits Tensor `loss:"grad_logits,grad"`
}

// SACDiscreteActorLossOptions are the options of SACDiscreteActorLoss.
type SACDiscreteActorLossOptions struct {
	// Alpha >= 0 is the entropy temperature; nil: 0.2 (CleanRL's
	// --alpha). With automatic tuning pass exp(log_alpha).
	Alpha *float64 `json:"alpha"`
	// Reduction over the B rows: Mean (the zero value), Sum or None.
	Reduction Reduction `json:"reduction"`
	// ActionReduction is how a row's A terms combine: "sum" (the zero
	// value "" too: the expectation over the policy) or "mean" (CleanRL's
	// .mean() over all B·A entries: the sum divided by A).
	ActionReduction string `json:"action_reduction"`
}

// SACDiscreteActorLoss is discrete SAC's policy loss: per row
// l = Σ_a π_a·(α·log π_a − Q_a), π = softmax(logits) through the stable
// log-softmax, with its gradient w.r.t. the logits, π_k·((α·log π_k − Q_k)
// − l); Q is not differentiated (CleanRL computes it under no_grad).
// Launches sac_rows and reduce_sum.
func SACDiscreteActorLoss(dev device.Device, a SACDiscreteActorLossArgs, o SACDiscreteActorLossOptions) error {
	const name = "sac_discrete_actor_loss"
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	alpha, err := sacAlpha(name, o.Alpha)
	if err != nil {
		return err
	}
	s := stage{dev: dev, loss: name}
	return s.finish(sacRowsStaged(&s, sacRowsCall{name: name, op: kernelspec.SacActor, x: a.Logits, xName: "logits",
		q: a.QValues, qName: "q_values", loss: a.Loss, grad: a.GradLogits, gradName: "grad_logits", alpha: alpha,
		red: o.Reduction, actRed: o.ActionReduction}))
}

// SACDiscreteCriticTargetArgs are the tensors of SACDiscreteCriticTarget:
// the policy's next_logits and the target critics' next_q_values [B, A],
// rewards and dones [B] (float 0/1); Target [B] is the result, the
// tensor named "output".
type SACDiscreteCriticTargetArgs struct {
	NextLogits  Tensor `loss:"next_logits,in"`
	NextQValues Tensor `loss:"next_q_values,in"`
	Rewards     Tensor `loss:"rewards,in"`
	Dones       Tensor `loss:"dones,in"`
	Target      Tensor `loss:"output,out"`
}

// SACDiscreteCriticTargetOptions are the options of SACDiscreteCriticTarget.
type SACDiscreteCriticTargetOptions struct {
	// Gamma in [0, 1]; nil: 0.99.
	Gamma *float64 `json:"gamma"`
	// Alpha >= 0; nil: 0.2.
	Alpha *float64 `json:"alpha"`
}

// SACDiscreteCriticTarget is discrete SAC's soft Q target:
// target = r + γ·(1 − done)·Σ_a π_a·(Q_a − α·log π_a), π from next_logits
// (CleanRL's next_q_value). No gradient. Launches sac_rows.
func SACDiscreteCriticTarget(dev device.Device, a SACDiscreteCriticTargetArgs, o SACDiscreteCriticTargetOptions) error {
	const name = "sac_discrete_critic_target"
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	alpha, err := sacAlpha(name, o.Alpha)
	if err != nil {
		return err
	}
	gamma, err := retOpt(name, "gamma", o.Gamma, 0.99)
	if err != nil {
		return err
	}
	s := stage{dev: dev, loss: name}
	return s.finish(sacRowsStaged(&s, sacRowsCall{name: name, op: kernelspec.SacTarget, x: a.NextLogits, xName: "next_logits",
		q: a.NextQValues, qName: "next_q_values", rewards: a.Rewards, dones: a.Dones, loss: a.Target, lossName: "output",
		alpha: alpha, gamma: gamma, red: None}))
}

// SACTemperatureLossArgs are the tensors of SACTemperatureLoss: log_alpha
// (one element) and either the policy's logits [B, A] (discrete form) or
// its log-probabilities log_pi [B] of sampled actions (continuous form).
type SACTemperatureLossArgs struct {
	LogAlpha     Tensor `loss:"log_alpha,in"`
	Logits       Tensor `loss:"logits,in,optional"`
	LogPi        Tensor `loss:"log_pi,in,optional"`
	Loss         Tensor `loss:"loss,out"`
	GradLogAlpha Tensor `loss:"grad_log_alpha,grad"`
}

// SACTemperatureLossOptions are the options of SACTemperatureLoss.
type SACTemperatureLossOptions struct {
	// TargetEntropy is the entropy target; nil: with logits, CleanRL
	// sac_atari's 0.89·log A; with log_pi it must be given (CleanRL
	// sac_continuous_action uses −A).
	TargetEntropy *float64 `json:"target_entropy"`
	// Reduction over the B rows: Mean (the zero value), Sum or None.
	Reduction Reduction `json:"reduction"`
	// ActionReduction (logits only): "sum" (default) or "mean" (CleanRL's
	// mean over B·A entries), as SACDiscreteActorLossOptions'.
	ActionReduction string `json:"action_reduction"`
}

// SACTemperatureLoss is SAC's temperature (entropy coefficient) loss with
// its gradient w.r.t. log_alpha, α = exp(log_alpha) as CleanRL writes it:
// per row −α·Σ_a π_a·(log π_a + target_entropy) (logits; π, log π not
// differentiated) or −α·(log_pi + target_entropy) (log_pi). Its gradient
// w.r.t. log_alpha equals the (reduced) loss. Launches sac_rows and
// reduce_sum.
func SACTemperatureLoss(dev device.Device, a SACTemperatureLossArgs, o SACTemperatureLossOptions) error {
	const name = "sac_temperature_loss"
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	c := sacRowsCall{name: name, op: kernelspec.SacTemp, x: a.Logits, xName: "logits", logAlpha: a.LogAlpha,
		loss: a.Loss, grad: a.GradLogAlpha, gradName: "grad_log_alpha", red: o.Reduction, actRed: o.ActionReduction}
	switch {
	case a.Logits.Present() && a.LogPi.Present():
		return argErr(name, "log_pi", "give logits or log_pi, not both")
	case a.LogPi.Present():
		if o.ActionReduction != "" {
			return argErr(name, "action_reduction", "applies to logits only")
		}
		c.op, c.x, c.xName = kernelspec.SacTempLogPi, a.LogPi, "log_pi"
	case !a.Logits.Present():
		return argErr(name, "logits", "missing: give logits or log_pi")
	}
	if o.TargetEntropy != nil {
		c.te = *o.TargetEntropy
		if math.IsNaN(c.te) || math.IsInf(c.te, 0) {
			return argErr(name, "target_entropy", "must be finite, got %v", c.te)
		}
	} else if c.op == kernelspec.SacTempLogPi {
		return argErr(name, "target_entropy", "missing: log_pi needs target_entropy (CleanRL: −action dimensions)")
	} else {
		c.teDefault = true
	}
	s := stage{dev: dev, loss: name}
	return s.finish(sacRowsStaged(&s, c))
}

// sacAlpha is the option alpha >= 0, default 0.2.
func sacAlpha(name string, v *float64) (float64, error) {
	if v == nil {
		return 0.2, nil
	}
	if !(*v >= 0) || math.IsInf(*v, 1) {
		return 0, argErr(name, "alpha", "must be finite and >= 0, got %v", *v)
	}
	return *v, nil
}

// sacRowsCall is one call of sac_rows with its tensors.
type sacRowsCall struct {
	name                 string
	op                   int32
	x, q, rewards, dones Tensor
	logAlpha, loss, grad Tensor
	xName, qName         string
	gradName, lossName   string
	alpha, gamma, te     float64
	teDefault            bool
	red                  Reduction
	actRed               string
}

func sacRowsStaged(s *stage, c sacRowsCall) error {
	name := c.name
	if !c.red.valid() {
		return argErr(name, "reduction", "unknown reduction %d", int(c.red))
	}
	actScale := 1.0
	if !c.x.Present() {
		return argErr(name, c.xName, "buffer is nil")
	}
	sh := c.x.Shape
	batch, nA := sh, 1
	if c.op != kernelspec.SacTempLogPi {
		if len(sh) == 0 {
			return argErr(name, c.xName, "has shape []: want [B, A]")
		}
		batch, nA = sh[:len(sh)-1], sh[len(sh)-1]
		switch c.actRed {
		case "", "sum":
		case "mean":
			if nA > 0 {
				actScale = 1 / float64(nA)
			}
		default:
			return argErr(name, "action_reduction", "unknown %s: want sum or mean", clip(c.actRed))
		}
	}
	if c.teDefault {
		c.te = 0.89 * math.Log(float64(nA)) // CleanRL: −0.89·log(1/A)
	}
	if c.qName != "" {
		if !c.q.Present() {
			return argErr(name, c.qName, "buffer is nil")
		}
		if !sameShape(c.q.Shape, sh) {
			return argErr(name, c.qName, "has shape %v: want %s's %v", c.q.Shape, c.xName, sh)
		}
	}
	if c.op == kernelspec.SacTarget {
		for _, t := range []struct {
			arg string
			t   Tensor
		}{{"rewards", c.rewards}, {"dones", c.dones}} {
			if !t.t.Present() {
				return argErr(name, t.arg, "buffer is nil")
			}
			if !sameShape(t.t.Shape, batch) {
				return argErr(name, t.arg, "has shape %v: want %v", t.t.Shape, batch)
			}
		}
	}
	temp := c.op == kernelspec.SacTemp || c.op == kernelspec.SacTempLogPi
	if temp {
		if !c.logAlpha.Present() {
			return argErr(name, "log_alpha", "buffer is nil")
		}
		if c.logAlpha.Len() != 1 {
			return argErr(name, "log_alpha", "has shape %v: want one element", c.logAlpha.Shape)
		}
		if c.grad.Present() && !sameShape(c.grad.Shape, c.logAlpha.Shape) {
			return argErr(name, c.gradName, "has shape %v, want %v", c.grad.Shape, c.logAlpha.Shape)
		}
	} else if c.grad.Present() && !sameShape(c.grad.Shape, sh) {
		return argErr(name, c.gradName, "has shape %v, want %v", c.grad.Shape, sh)
	}
	n := prod(batch)
	lossName := "loss"
	if c.lossName != "" {
		lossName = c.lossName
		if c.loss.Present() && !sameShape(c.loss.Shape, batch) {
			return argErr(name, lossName, "has shape %v: want %v", c.loss.Shape, batch)
		}
	} else if err := checkLoss(name, c.loss, c.red, n); err != nil {
		return err
	}
	gradLen := n * nA
	if temp {
		gradLen = 1
	}
	var x, q, rw, dn, la, loss, grad device.Buffer
	if err := s.bind(in(c.xName, c.x, &x), in(c.qName, c.q, &q), in("rewards", c.rewards, &rw), in("dones", c.dones, &dn),
		in("log_alpha", c.logAlpha, &la), out(lossName, c.loss, &loss), out(c.gradName, c.grad, &grad)); err != nil {
		return err
	}
	dev := s.dev
	ft := x.DType()
	if err := floatType(name, c.xName, dev, ft); err != nil {
		return err
	}
	if err := retCheckBufs(name, dev, ft, []device.Buffer{q, rw, dn, la, loss, grad},
		[]string{c.qName, "rewards", "dones", "log_alpha", lossName, c.gradName}, []int{n * nA, n, n, 1, c.loss.Len(), gradLen}); err != nil {
		return err
	}
	if loss == nil && grad == nil {
		return nil
	}
	gs, rs := actScale, 1.0
	if c.red == Mean {
		gs /= float64(n) // +Inf for n = 0: the mean of nothing is NaN
		rs = 1 / float64(n)
	}
	flags := int32(0)
	if q != nil {
		flags |= kernelspec.SacFlagQ
	}
	if rw != nil {
		flags |= kernelspec.SacFlagTarget
	}
	if la != nil {
		flags |= kernelspec.SacFlagLogAlpha
	}
	if grad != nil && !temp {
		flags |= kernelspec.SacFlagGrad
	}
	partials := (temp && grad != nil) || c.red != None || loss == nil
	if n == 0 && !partials {
		return nil
	}
	g := partialGrid(n)
	// With A = 0 the actor and discrete temperature losses of every row are
	// 0: their sums need no pass over the (empty) rows.
	rows := n
	if nA == 0 && (c.op == kernelspec.SacActor || c.op == kernelspec.SacTemp) {
		rows, g = 0, partialGrid(0)
	}
	launch := func(flags int32, out device.Buffer) error {
		if flags&kernelspec.SacFlagReduce == 0 {
			rows = n // per-row values: one per output element
		}
		return dev.Launch("sac_rows", g, c.op, x, other(q, x), other(rw, x), other(dn, x), other(la, x), int32(rows), int32(nA),
			c.alpha, c.gamma, c.te, actScale, gs, flags, other(grad, x), out)
	}
	if !partials {
		return launch(flags, loss)
	}
	p, err := pool.get(dev, ft, g.Blocks)
	if err != nil {
		return err
	}
	defer pool.put(p)
	if err := launch(flags|kernelspec.SacFlagReduce, p); err != nil {
		return err
	}
	if loss != nil {
		if c.red != None {
			err = dev.Launch("reduce_sum", oneBlock, p, int32(g.Blocks), rs, int32(0), p, loss)
		} else if n > 0 { // None with a temperature gradient: the per-row losses too
			err = launch(flags&^kernelspec.SacFlagGrad, loss)
		}
		if err != nil {
			return err
		}
	}
	if temp && grad != nil {
		// d loss / d log_alpha is the loss itself (the sum over the rows
		// with None); 0 for no rows, as autograd gives (the loss is NaN)
		if n == 0 {
			rs = 1
		}
		return dev.Launch("reduce_sum", oneBlock, p, int32(g.Blocks), rs, int32(0), p, grad)
	}
	return nil
}

// SACContinuousActorLossArgs are the tensors of SACContinuousActorLoss:
// the Gaussian policy's mean and log_std [B, A], the standard normal
// noise ε [B, A] the caller drew, q_value [B] = min Q(s, ã) of the
// caller's critics at the squashed action ã, and dq_da [B, A] its
// gradient w.r.t. ã (the caller's autodiff; needed for the gradients
// only). LogPi [B] and Action [B, A] (ã) are optional outputs.
type SACContinuousActorLossArgs struct {
	Mean       Tensor `loss:"mean,in"`
	LogStd     Tensor `loss:"log_std,in"`
	Noise      Tensor `loss:"noise,in"`
	QValue     Tensor `loss:"q_value,in"`
	DqDa       Tensor `loss:"dq_da,in,optional"`
	Loss       Tensor `loss:"loss,out"`
	LogPi      Tensor `loss:"log_pi,out"`
	Action     Tensor `loss:"action,out,optional"`
	GradMean   Tensor `loss:"grad_mean,grad"`
	GradLogStd Tensor `loss:"grad_log_std,grad"`
}

// SACContinuousActorLossOptions are the options of SACContinuousActorLoss.
type SACContinuousActorLossOptions struct {
	// Alpha >= 0; nil: 0.2.
	Alpha *float64 `json:"alpha"`
	// ActionScale > 0 and ActionBias map tanh's (−1, 1) to the action
	// space, one scalar each (CleanRL: per dimension); nil: 1 and 0.
	ActionScale *float64 `json:"action_scale"`
	ActionBias  *float64 `json:"action_bias"`
	// Reduction over the B rows: Mean (the zero value), Sum or None.
	Reduction Reduction `json:"reduction"`
}

// SACContinuousActorLoss is continuous SAC's policy loss (CleanRL
// sac_continuous_action): x = mean + exp(log_std)·ε, y = tanh x,
// ã = y·action_scale + action_bias,
//
//	log π = Σ_A [Normal(mean, σ).log_prob(x) − log(action_scale·(1 − y²) + 1e-6)]
//	loss  = α·log π − q_value   (per row; mean over the rows by default)
//
// with its reparameterised gradient w.r.t. mean and log_std: through x,
// −dq_da·action_scale·(1 − y²) + α·2·action_scale·y·(1 − y²)/(action_scale·
// (1 − y²) + 1e-6), times 1 (mean) or σ·ε (log_std); and −α w.r.t.
// log_std from the Gaussian's normaliser (its exponent, −ε²/2, does not
// depend on mean or log_std once x is). 1 − y² is computed as
// 4e^{−2|x|}/(1 + e^{−2|x|})², exact where |x| is large (PyTorch's
// 1 − tanh² loses it); the Gaussian term takes (x − mean)/σ as ε.
// Launches sac_continuous_actor and reduce_sum.
func SACContinuousActorLoss(dev device.Device, a SACContinuousActorLossArgs, o SACContinuousActorLossOptions) error {
	const name = "sac_continuous_actor_loss"
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	s := stage{dev: dev, loss: name}
	return s.finish(sacContinuousStaged(&s, a, o))
}

func sacContinuousStaged(s *stage, a SACContinuousActorLossArgs, o SACContinuousActorLossOptions) error {
	const name = "sac_continuous_actor_loss"
	alpha, err := sacAlpha(name, o.Alpha)
	if err != nil {
		return err
	}
	scale, bias := 1.0, 0.0
	if o.ActionScale != nil {
		scale = *o.ActionScale
	}
	if !(scale > 0) || math.IsInf(scale, 1) {
		return argErr(name, "action_scale", "must be finite and > 0, got %v", scale)
	}
	if o.ActionBias != nil {
		bias = *o.ActionBias
	}
	if math.IsNaN(bias) || math.IsInf(bias, 0) {
		return argErr(name, "action_bias", "must be finite, got %v", bias)
	}
	red := o.Reduction
	if !red.valid() {
		return argErr(name, "reduction", "unknown reduction %d", int(red))
	}
	if !a.Mean.Present() {
		return argErr(name, "mean", "buffer is nil")
	}
	sh := a.Mean.Shape
	if len(sh) == 0 {
		return argErr(name, "mean", "has shape []: want [B, A]")
	}
	batch, nA := sh[:len(sh)-1], sh[len(sh)-1]
	for _, c := range []struct {
		arg  string
		t    Tensor
		want []int
		req  bool
	}{{"log_std", a.LogStd, sh, true}, {"noise", a.Noise, sh, true}, {"q_value", a.QValue, batch, true},
		{"dq_da", a.DqDa, sh, false}, {"log_pi", a.LogPi, batch, false}, {"action", a.Action, sh, false},
		{"grad_mean", a.GradMean, sh, false}, {"grad_log_std", a.GradLogStd, sh, false}} {
		if !c.t.Present() {
			if c.req {
				return argErr(name, c.arg, "buffer is nil")
			}
			continue
		}
		if !sameShape(c.t.Shape, c.want) {
			return argErr(name, c.arg, "has shape %v: want %v", c.t.Shape, c.want)
		}
	}
	if (a.GradMean.Present() || a.GradLogStd.Present()) && !a.DqDa.Present() {
		return argErr(name, "dq_da", "missing: the gradients need dq_da")
	}
	n := prod(batch)
	if err := checkLoss(name, a.Loss, red, n); err != nil {
		return err
	}
	var mean, lstd, noise, qv, dq, loss, lp, act, gm, gl device.Buffer
	if err := s.bind(in("mean", a.Mean, &mean), in("log_std", a.LogStd, &lstd), in("noise", a.Noise, &noise),
		in("q_value", a.QValue, &qv), in("dq_da", a.DqDa, &dq), out("loss", a.Loss, &loss), out("log_pi", a.LogPi, &lp),
		out("action", a.Action, &act), out("grad_mean", a.GradMean, &gm), out("grad_log_std", a.GradLogStd, &gl)); err != nil {
		return err
	}
	dev := s.dev
	ft := mean.DType()
	if err := floatType(name, "mean", dev, ft); err != nil {
		return err
	}
	m := n * nA
	if err := retCheckBufs(name, dev, ft, []device.Buffer{lstd, noise, qv, dq, loss, lp, act, gm, gl},
		[]string{"log_std", "noise", "q_value", "dq_da", "loss", "log_pi", "action", "grad_mean", "grad_log_std"},
		[]int{m, m, n, m, a.Loss.Len(), n, m, m, m}); err != nil {
		return err
	}
	if loss == nil && lp == nil && act == nil && gm == nil && gl == nil {
		return nil
	}
	gs := 1.0
	if red == Mean {
		gs = 1 / float64(n) // +Inf for n = 0: the mean of nothing is NaN
	}
	flags := int32(0)
	if gm != nil || gl != nil {
		flags |= kernelspec.SacFlagGrad
		// both gradients come from one pass: a missing one goes to scratch
		for _, g := range []*device.Buffer{&gm, &gl} {
			if *g == nil {
				b, err := pool.get(dev, ft, m)
				if err != nil {
					return err
				}
				defer pool.put(b)
				*g = b
			}
		}
	}
	if lp != nil {
		flags |= kernelspec.SacFlagLogPi
	}
	if act != nil {
		flags |= kernelspec.SacFlagAction
	}
	partials := red != None || loss == nil
	if n == 0 && !(partials && loss != nil) {
		return nil
	}
	g := partialGrid(n)
	outBuf := loss
	if partials {
		flags |= kernelspec.SacFlagReduce
		p, err := pool.get(dev, ft, g.Blocks)
		if err != nil {
			return err
		}
		defer pool.put(p)
		outBuf = p
	}
	if err := dev.Launch("sac_continuous_actor", g, mean, lstd, noise, qv, other(dq, mean), int32(n), int32(nA), alpha, scale,
		bias, gs, flags, other(gm, mean), other(gl, mean), other(lp, qv), other(act, mean), outBuf); err != nil {
		return err
	}
	if !partials || loss == nil {
		return nil
	}
	return dev.Launch("reduce_sum", oneBlock, outBuf, int32(g.Blocks), gs, int32(0), outBuf, loss)
}

func sacShapes(x Tensor, red Reduction, lastIsA bool) []int {
	b := x.Shape
	if lastIsA && len(b) > 0 {
		b = b[:len(b)-1]
	}
	return lossShape(red, b)
}

func init() {
	register("sac_discrete_actor_loss", "SACDiscreteActorLoss", SACDiscreteActorLoss,
		func(a SACDiscreteActorLossArgs, o SACDiscreteActorLossOptions) map[string][]int {
			return map[string][]int{"loss": sacShapes(a.Logits, o.Reduction, true)}
		}, "sac_rows", "reduce_sum")
	register("sac_discrete_critic_target", "SACDiscreteCriticTarget", SACDiscreteCriticTarget,
		func(a SACDiscreteCriticTargetArgs, _ SACDiscreteCriticTargetOptions) map[string][]int {
			return map[string][]int{"output": sacShapes(a.NextLogits, None, true)}
		}, "sac_rows")
	register("sac_temperature_loss", "SACTemperatureLoss", SACTemperatureLoss,
		func(a SACTemperatureLossArgs, o SACTemperatureLossOptions) map[string][]int {
			if a.LogPi.Present() {
				return map[string][]int{"loss": sacShapes(a.LogPi, o.Reduction, false)}
			}
			return map[string][]int{"loss": sacShapes(a.Logits, o.Reduction, true)}
		}, "sac_rows", "reduce_sum")
	register("sac_continuous_actor_loss", "SACContinuousActorLoss", SACContinuousActorLoss,
		func(a SACContinuousActorLossArgs, o SACContinuousActorLossOptions) map[string][]int {
			b := sacShapes(a.Mean, None, true)
			return map[string][]int{"loss": sacShapes(a.Mean, o.Reduction, true), "log_pi": b}
		}, "sac_continuous_actor", "reduce_sum")
}
