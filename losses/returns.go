package losses

import (
	"math"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// The returns family: returns and advantages of time-major rollouts
// (GAE, λ-returns, n-step returns), computed by one reverse-scan kernel,
// and the TD-error losses of rlax (td_learning, q_learning,
// double_q_learning).
//
// Rollouts are time-major: rewards, values and the episode ends have
// shape [T, B] (more generally [T, ...]: every dimension after the first
// is flattened into B columns), element (t, b) at t·B + b. The episode
// ends come either as discounts (rlax's discount_t: γ·(1 − terminated)
// already folded in) or as terminated, a float tensor of 0 and 1 (any
// value x gives the discount γ·(1 − x)) with the option gamma.

// GAEArgs are the tensors of GAE. The advantages are the tensor named
// "output" (every declared loss has a loss or an output), the returns
// "returns"; both are optional. BootstrapValue has shape [B] (the
// trailing shape of rewards): V of the state after the last step.
// Exactly one of Discounts and Terminated is given. Truncated (float 0/1)
// and TruncationValues (V of the final observation of a truncated
// episode, read only where truncated ≠ 0) come together or not at all.
type GAEArgs struct {
	Rewards          Tensor `loss:"rewards,in"`
	Values           Tensor `loss:"values,in"`
	BootstrapValue   Tensor `loss:"bootstrap_value,in"`
	Discounts        Tensor `loss:"discounts,in,optional"`
	Terminated       Tensor `loss:"terminated,in,optional"`
	Truncated        Tensor `loss:"truncated,in,optional"`
	TruncationValues Tensor `loss:"truncation_values,in,optional"`
	Advantages       Tensor `loss:"output,out"`
	Returns          Tensor `loss:"returns,out"`
}

// GAEOptions are the options of GAE.
type GAEOptions struct {
	// Gamma in [0, 1] is the discount with Terminated (ignored with
	// Discounts); nil: 0.99.
	Gamma *float64 `json:"gamma"`
	// Lambda in [0, 1] is rlax's lambda_; nil: 0.95.
	Lambda *float64 `json:"lambda"`
}

// GAE is generalized advantage estimation over a time-major rollout:
// with d_t the discount of step t, nv_t = values[t+1] (bootstrap_value
// after the last step) and
//
//	δ_t = r_t + d_t·nv_t − v_t,  A_t = δ_t + d_t·λ·A_{t+1},  A_T = 0,
//
// advantages = A and returns = A + values (Stable-Baselines3's
// RolloutBuffer.compute_returns_and_advantage, whose dones after step t
// are terminated[t]; rlax.truncated_generalized_advantage_estimation with
// discount_t = d and values [v, bootstrap]). Where truncated[t] ≠ 0 the
// one-step target bootstraps from truncation_values[t] instead of nv_t
// and the λ-trace is cut (A_t = δ_t); at a termination d_t = 0 cuts both.
// No gradient: advantages and returns are targets. Launches returns_scan.
func GAE(dev device.Device, a GAEArgs, o GAEOptions) error {
	const name = "gae"
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	s := stage{dev: dev, loss: name}
	return s.finish(retGAE(&s, a, o))
}

// retOpt is an option in [0, 1] with default def.
func retOpt(name, arg string, v *float64, def float64) (float64, error) {
	if v == nil {
		return def, nil
	}
	if !(*v >= 0 && *v <= 1) {
		return 0, argErr(name, arg, "must be in [0, 1], got %v", *v)
	}
	return *v, nil
}

// retSeq is the layout of a rollout: T steps of B columns, its shape.
type retSeq struct {
	T, B  int
	shape []int
}

// retNamed is a tensor with its argument name.
type retNamed struct {
	arg string
	t   Tensor
}

// retLayout checks rewards (rank >= 1) and the tensors that must share
// its shape, in the order given (the first mismatch is the error).
func retLayout(name string, rewards Tensor, same []retNamed) (retSeq, error) {
	if !rewards.Present() {
		return retSeq{}, argErr(name, "rewards", "buffer is nil")
	}
	sh := rewards.Shape
	if len(sh) == 0 {
		return retSeq{}, argErr(name, "rewards", "has shape []: want [T, ...] (time-major)")
	}
	for _, c := range same {
		if c.t.Present() && !sameShape(c.t.Shape, sh) {
			return retSeq{}, argErr(name, c.arg, "has shape %v: want rewards' %v", c.t.Shape, sh)
		}
	}
	return retSeq{T: sh[0], B: prod(sh[1:]), shape: sh}, nil
}

// retEnds checks the episode-end arguments: exactly one of discounts and
// terminated, and returns the flags and the tensor to pass as disc.
func retEnds(name string, disc, term Tensor) (Tensor, int32, error) {
	switch {
	case disc.Present() && term.Present():
		return Tensor{}, 0, argErr(name, "terminated", "give discounts or terminated, not both")
	case disc.Present():
		return disc, kernelspec.RetFlagDiscounts, nil
	case term.Present():
		return term, 0, nil
	}
	return Tensor{}, 0, argErr(name, "discounts", "missing: give discounts or terminated")
}

// retCheckBufs checks the bound buffers: each of the float type ft with
// at least its tensor's elements.
func retCheckBufs(name string, dev device.Device, ft device.DType, bufs []device.Buffer, args []string, ns []int) error {
	for i, b := range bufs {
		if err := checkBuf(name, args[i], dev, b, ft, ns[i], true); err != nil {
			return err
		}
	}
	return nil
}

func retGAE(s *stage, a GAEArgs, o GAEOptions) error {
	const name = "gae"
	gamma, err := retOpt(name, "gamma", o.Gamma, 0.99)
	if err != nil {
		return err
	}
	lambda, err := retOpt(name, "lambda", o.Lambda, 0.95)
	if err != nil {
		return err
	}
	if !a.Values.Present() {
		return argErr(name, "values", "buffer is nil")
	}
	if !a.BootstrapValue.Present() {
		return argErr(name, "bootstrap_value", "buffer is nil")
	}
	sq, err := retLayout(name, a.Rewards, []retNamed{{"values", a.Values}, {"discounts", a.Discounts},
		{"terminated", a.Terminated}, {"truncated", a.Truncated}, {"truncation_values", a.TruncationValues},
		{"output", a.Advantages}, {"returns", a.Returns}})
	if err != nil {
		return err
	}
	if !sameShape(a.BootstrapValue.Shape, sq.shape[1:]) {
		return argErr(name, "bootstrap_value", "has shape %v: want %v (rewards' shape after T)", a.BootstrapValue.Shape, sq.shape[1:])
	}
	ends, flags, err := retEnds(name, a.Discounts, a.Terminated)
	if err != nil {
		return err
	}
	if a.Truncated.Present() != a.TruncationValues.Present() {
		if a.Truncated.Present() {
			return argErr(name, "truncation_values", "missing: truncated needs truncation_values")
		}
		return argErr(name, "truncated", "missing: truncation_values needs truncated")
	}
	var rw, vs, bs, dc, tr, tv, adv, ret device.Buffer
	if err := s.bind(in("rewards", a.Rewards, &rw), in("values", a.Values, &vs), in("bootstrap_value", a.BootstrapValue, &bs),
		in(map[bool]string{true: "discounts", false: "terminated"}[flags != 0], ends, &dc),
		in("truncated", a.Truncated, &tr), in("truncation_values", a.TruncationValues, &tv),
		out("output", a.Advantages, &adv), out("returns", a.Returns, &ret)); err != nil {
		return err
	}
	dev := s.dev
	ft := rw.DType()
	if err := floatType(name, "rewards", dev, ft); err != nil {
		return err
	}
	n := sq.T * sq.B
	if err := retCheckBufs(name, dev, ft, []device.Buffer{vs, bs, dc, tr, tv, adv, ret},
		[]string{"values", "bootstrap_value", "discounts", "truncated", "truncation_values", "output", "returns"},
		[]int{n, sq.B, n, n, n, n, n}); err != nil {
		return err
	}
	if (adv == nil && ret == nil) || n == 0 {
		return nil
	}
	flags |= kernelspec.RetFlagBootstrap
	if tr != nil {
		flags |= kernelspec.RetFlagTruncated
	}
	outA := adv
	if adv == nil {
		p, err := pool.get(dev, ft, n)
		if err != nil {
			return err
		}
		defer pool.put(p)
		outA = p
	}
	if ret != nil {
		flags |= kernelspec.RetFlagOut2
	}
	return dev.Launch("returns_scan", retGrid(sq.B), kernelspec.RetGAE, rw, vs, bs, dc, other(tr, rw), other(tv, rw),
		int32(sq.T), int32(sq.B), gamma, lambda, int32(1), flags, outA, other(ret, outA))
}

// retGrid is the grid of returns_scan: one thread per column.
func retGrid(b int) device.Grid {
	return device.Grid{Blocks: (b + kernelspec.BlockSize - 1) / kernelspec.BlockSize, Threads: kernelspec.BlockSize}
}

// ReturnsArgs are the tensors of LambdaReturns and NStepReturns (rlax's
// r_t, discount_t, v_t): rewards, values and the episode ends of one
// shape [T, ...]; values[t] is v_t, the value of the state after step t
// (rlax's convention, not GAE's). Exactly one of Discounts and Terminated
// is given. The returns are the tensor named "output".
type ReturnsArgs struct {
	Rewards    Tensor `loss:"rewards,in"`
	Values     Tensor `loss:"values,in"`
	Discounts  Tensor `loss:"discounts,in,optional"`
	Terminated Tensor `loss:"terminated,in,optional"`
	Returns    Tensor `loss:"output,out"`
}

// LambdaReturnsOptions are the options of LambdaReturns.
type LambdaReturnsOptions struct {
	// Gamma in [0, 1]: the discount with Terminated; nil: 0.99.
	Gamma *float64 `json:"gamma"`
	// Lambda in [0, 1]: rlax's lambda_; nil: 1.
	Lambda *float64 `json:"lambda"`
}

// NStepReturnsOptions are the options of NStepReturns.
type NStepReturnsOptions struct {
	// Gamma in [0, 1]: the discount with Terminated; nil: 0.99.
	Gamma *float64 `json:"gamma"`
	// Lambda in [0, 1]: rlax's lambda_t; nil: 1.
	Lambda *float64 `json:"lambda"`
	// N >= 1 is the number of steps; nil: 1.
	N *int `json:"n"`
}

// LambdaReturns is rlax.lambda_returns over a time-major rollout:
// G_t = r_t + d_t·((1 − λ)·v_t + λ·G_{t+1}), G_T = v_{T−1}, with d_t the
// discount of step t and v_t = values[t]. No gradient (rlax's
// stop_target_gradients). Launches returns_scan.
func LambdaReturns(dev device.Device, a ReturnsArgs, o LambdaReturnsOptions) error {
	const name = "lambda_returns"
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	s := stage{dev: dev, loss: name}
	return s.finish(retScan(&s, name, kernelspec.RetLambda, a, o.Gamma, o.Lambda, 1, 1))
}

// NStepReturns is rlax.n_step_bootstrapped_returns over a time-major
// rollout: G_t is g after g = v_{min(t+n−1, T−1)} and, for k = n−1 down
// to 0, g = r_{t+k} + d_{t+k}·((1 − λ)·v_{t+k} + λ·g), where steps past T
// (rlax's padding: reward 0, discount 1, λ 1) leave g as it is. With λ = 1:
// r_t + d_t·r_{t+1} + … + d_t⋯d_{t+n−2}·r_{t+n−1} + d_t⋯d_{t+n−1}·v_{t+n−1}.
// The kernel runs this window for each t (T·min(n, T) steps per column),
// not a scan. Launches returns_scan.
func NStepReturns(dev device.Device, a ReturnsArgs, o NStepReturnsOptions) error {
	const name = "n_step_returns"
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	n := 1
	if o.N != nil {
		n = *o.N
	}
	s := stage{dev: dev, loss: name}
	return s.finish(retScan(&s, name, kernelspec.RetNStep, a, o.Gamma, o.Lambda, 1, n))
}

func retScan(s *stage, name string, op int32, a ReturnsArgs, g, l *float64, defLambda float64, n int) error {
	gamma, err := retOpt(name, "gamma", g, 0.99)
	if err != nil {
		return err
	}
	lambda, err := retOpt(name, "lambda", l, defLambda)
	if err != nil {
		return err
	}
	if n < 1 {
		return argErr(name, "n", "must be >= 1, got %d", n)
	}
	if !a.Values.Present() {
		return argErr(name, "values", "buffer is nil")
	}
	sq, err := retLayout(name, a.Rewards, []retNamed{{"values", a.Values}, {"discounts", a.Discounts},
		{"terminated", a.Terminated}, {"output", a.Returns}})
	if err != nil {
		return err
	}
	ends, flags, err := retEnds(name, a.Discounts, a.Terminated)
	if err != nil {
		return err
	}
	var rw, vs, dc, ret device.Buffer
	if err := s.bind(in("rewards", a.Rewards, &rw), in("values", a.Values, &vs),
		in(map[bool]string{true: "discounts", false: "terminated"}[flags != 0], ends, &dc),
		out("output", a.Returns, &ret)); err != nil {
		return err
	}
	dev := s.dev
	ft := rw.DType()
	if err := floatType(name, "rewards", dev, ft); err != nil {
		return err
	}
	nn := sq.T * sq.B
	if err := retCheckBufs(name, dev, ft, []device.Buffer{vs, dc, ret}, []string{"values", "discounts", "output"},
		[]int{nn, nn, nn}); err != nil {
		return err
	}
	if ret == nil || nn == 0 {
		return nil
	}
	n = min(n, sq.T) // steps past T change nothing
	return dev.Launch("returns_scan", retGrid(sq.B), op, rw, vs, rw, dc, rw, rw, int32(sq.T), int32(sq.B), gamma, lambda,
		int32(n), flags, ret, ret)
}

// TDLossOptions are the options shared by the TD losses.
type TDLossOptions struct {
	// Reduction of the per-sample losses: Mean (the zero value), Sum or
	// None. The mean of no samples is NaN, as in PyTorch.
	Reduction Reduction `json:"reduction"`
	// Kind is "mse" (the zero value "" too): ½δ² (rlax.l2_loss); or
	// "huber": rlax.huber_loss(δ, delta).
	Kind string `json:"kind"`
	// Delta > 0 is the Huber loss's threshold; nil: 1.
	Delta *float64 `json:"delta"`
}

// TDLearningOptions are the options of TDLearning.
type TDLearningOptions struct{ TDLossOptions }

// QLearningOptions are the options of QLearning.
type QLearningOptions struct{ TDLossOptions }

// DoubleQLearningOptions are the options of DoubleQLearning.
type DoubleQLearningOptions struct{ TDLossOptions }

// TDLearningArgs are the tensors of TDLearning (rlax.td_learning's
// names), all of one shape [...]: v_tm1 (the prediction), r_t,
// discount_t and v_t (the bootstrap value). TD is the TD error per
// sample (no gradient); Loss one element, or [...] with reduction None.
type TDLearningArgs struct {
	VTm1      Tensor `loss:"v_tm1,in"`
	RT        Tensor `loss:"r_t,in"`
	DiscountT Tensor `loss:"discount_t,in"`
	VT        Tensor `loss:"v_t,in"`
	Loss      Tensor `loss:"loss,out"`
	TD        Tensor `loss:"td,out"`
	GradVTm1  Tensor `loss:"grad_v_tm1,grad"`
}

// QLearningArgs are the tensors of QLearning (rlax.q_learning's names):
// q_tm1 and q_t [..., A], a_tm1 (int32 in [0, A)), r_t and discount_t
// [...].
type QLearningArgs struct {
	QTm1      Tensor `loss:"q_tm1,in"`
	ATm1      Tensor `loss:"a_tm1,in,int32"`
	RT        Tensor `loss:"r_t,in"`
	DiscountT Tensor `loss:"discount_t,in"`
	QT        Tensor `loss:"q_t,in"`
	Loss      Tensor `loss:"loss,out"`
	TD        Tensor `loss:"td,out"`
	GradQTm1  Tensor `loss:"grad_q_tm1,grad"`
}

// DoubleQLearningArgs are the tensors of DoubleQLearning
// (rlax.double_q_learning's names): as QLearningArgs, with q_t_value and
// q_t_selector [..., A] in place of q_t.
type DoubleQLearningArgs struct {
	QTm1       Tensor `loss:"q_tm1,in"`
	ATm1       Tensor `loss:"a_tm1,in,int32"`
	RT         Tensor `loss:"r_t,in"`
	DiscountT  Tensor `loss:"discount_t,in"`
	QTValue    Tensor `loss:"q_t_value,in"`
	QTSelector Tensor `loss:"q_t_selector,in"`
	Loss       Tensor `loss:"loss,out"`
	TD         Tensor `loss:"td,out"`
	GradQTm1   Tensor `loss:"grad_q_tm1,grad"`
}

// TDLearning is rlax.td_learning with its loss: δ = r_t + discount_t·v_t
// − v_tm1 per sample (td), and the loss ½δ² (or the Huber loss) reduced
// over the samples, with its gradient w.r.t. v_tm1; the target r_t +
// discount_t·v_t is not differentiated (rlax's stop_target_gradients
// default). Launches td_loss and reduce_sum.
func TDLearning(dev device.Device, a TDLearningArgs, o TDLearningOptions) error {
	return tdCall(dev, "td_learning", kernelspec.TDError, tdTensors{xm: a.VTm1, r: a.RT, d: a.DiscountT, xt: a.VT,
		loss: a.Loss, td: a.TD, grad: a.GradVTm1}, o.TDLossOptions)
}

// QLearning is rlax.q_learning with its loss: δ = r_t + discount_t·max_a
// q_t[a] − q_tm1[a_tm1] per sample (td), the loss as TDLearning's, and its
// gradient w.r.t. q_tm1 (zero but at a_tm1). An action outside [0, A) is
// an *ArgError. Launches td_loss and reduce_sum.
func QLearning(dev device.Device, a QLearningArgs, o QLearningOptions) error {
	return tdCall(dev, "q_learning", kernelspec.TDQ, tdTensors{xm: a.QTm1, acts: a.ATm1, r: a.RT, d: a.DiscountT, xt: a.QT,
		loss: a.Loss, td: a.TD, grad: a.GradQTm1}, o.TDLossOptions)
}

// DoubleQLearning is rlax.double_q_learning with its loss: δ = r_t +
// discount_t·q_t_value[argmax q_t_selector] − q_tm1[a_tm1], the argmax
// the lowest index among ties (jnp.argmax), the loss and gradient as
// QLearning's. Launches td_loss and reduce_sum.
func DoubleQLearning(dev device.Device, a DoubleQLearningArgs, o DoubleQLearningOptions) error {
	return tdCall(dev, "double_q_learning", kernelspec.TDDoubleQ, tdTensors{xm: a.QTm1, acts: a.ATm1, r: a.RT, d: a.DiscountT,
		xt: a.QTValue, sel: a.QTSelector, loss: a.Loss, td: a.TD, grad: a.GradQTm1}, o.TDLossOptions)
}

type tdTensors struct {
	xm, acts, r, d, xt, sel, loss, td, grad Tensor
}

// tdNames are the tensor names of each TD op: prediction, bootstrap,
// selector, gradient.
var tdNames = map[int32][4]string{
	kernelspec.TDError:   {"v_tm1", "v_t", "", "grad_v_tm1"},
	kernelspec.TDQ:       {"q_tm1", "q_t", "", "grad_q_tm1"},
	kernelspec.TDDoubleQ: {"q_tm1", "q_t_value", "q_t_selector", "grad_q_tm1"},
}

func tdCall(dev device.Device, name string, op int32, a tdTensors, o TDLossOptions) error {
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	s := stage{dev: dev, loss: name}
	return s.finish(tdStaged(&s, name, op, a, o))
}

// tdActions reads the actions (a host tensor in place, else from the
// device) and refuses one outside [0, nA).
func tdActions(s *stage, name string, t Tensor, n, nA int) error {
	if n == 0 {
		return nil
	}
	var v []int32
	if hb, ok := t.Buf.(*host.Buffer); ok {
		if sl, ok := hb.Slice().([]int32); ok {
			v = sl[:n]
		}
	}
	if v == nil {
		v = make([]int32, t.Buf.Len())
		if err := s.dev.Read(v, t.Buf); err != nil {
			return bufErr(name, "a_tm1", err)
		}
		v = v[:n]
	}
	for i, a := range v {
		if a < 0 || int(a) >= nA {
			return argErr(name, "a_tm1", "action %d at %d is outside [0, %d)", a, i, nA)
		}
	}
	return nil
}

func tdStaged(s *stage, name string, op int32, a tdTensors, o TDLossOptions) error {
	red := o.Reduction
	if !red.valid() {
		return argErr(name, "reduction", "unknown reduction %d", int(red))
	}
	huber := false
	switch o.Kind {
	case "", "mse":
	case "huber":
		huber = true
	default:
		return argErr(name, "kind", "unknown kind %q: want mse or huber", clip(o.Kind))
	}
	delta := 1.0
	if o.Delta != nil {
		delta = *o.Delta
	}
	if !(delta > 0) || math.IsInf(delta, 1) {
		return argErr(name, "delta", "must be finite and > 0, got %v", delta)
	}
	nm := tdNames[op]
	if !a.xm.Present() {
		return argErr(name, nm[0], "buffer is nil")
	}
	for _, c := range []struct {
		arg string
		t   Tensor
	}{{"r_t", a.r}, {"discount_t", a.d}, {nm[1], a.xt}} {
		if !c.t.Present() {
			return argErr(name, c.arg, "buffer is nil")
		}
	}
	sh := a.xm.Shape
	batch, nA := sh, 1
	if op != kernelspec.TDError {
		if len(sh) == 0 {
			return argErr(name, nm[0], "has shape []: want [..., A]")
		}
		batch, nA = sh[:len(sh)-1], sh[len(sh)-1]
		if !a.acts.Present() {
			return argErr(name, "a_tm1", "buffer is nil")
		}
		if !sameShape(a.acts.Shape, batch) {
			return argErr(name, "a_tm1", "has shape %v: want %v", a.acts.Shape, batch)
		}
		if a.acts.DType() != device.Int32 {
			return argErr(name, "a_tm1", "dtype is %s, want int32", a.acts.DType())
		}
	}
	if !sameShape(a.xt.Shape, sh) {
		return argErr(name, nm[1], "has shape %v: want %s's %v", a.xt.Shape, nm[0], sh)
	}
	if op == kernelspec.TDDoubleQ {
		if !a.sel.Present() {
			return argErr(name, nm[2], "buffer is nil")
		}
		if !sameShape(a.sel.Shape, sh) {
			return argErr(name, nm[2], "has shape %v: want %s's %v", a.sel.Shape, nm[0], sh)
		}
	}
	for _, c := range []struct {
		arg string
		t   Tensor
	}{{"r_t", a.r}, {"discount_t", a.d}, {"td", a.td}} {
		if c.t.Present() && !sameShape(c.t.Shape, batch) {
			return argErr(name, c.arg, "has shape %v: want %v", c.t.Shape, batch)
		}
	}
	if a.grad.Present() && !sameShape(a.grad.Shape, sh) {
		return argErr(name, nm[3], "has shape %v: want %v", a.grad.Shape, sh)
	}
	if err := s.check(nm[0], a.xm); err != nil {
		return err
	}
	n := prod(batch)
	if err := checkLoss(name, a.loss, red, n); err != nil {
		return err
	}
	if op != kernelspec.TDError {
		if err := s.check("a_tm1", a.acts); err != nil {
			return err
		}
		if err := tdActions(s, name, a.acts, n, nA); err != nil {
			return err
		}
	}
	var xm, acts, r, d, xt, sel, loss, td, grad device.Buffer
	bs := []binding{in(nm[0], a.xm, &xm), in("r_t", a.r, &r), in("discount_t", a.d, &d), in(nm[1], a.xt, &xt),
		out("loss", a.loss, &loss), out("td", a.td, &td), out(nm[3], a.grad, &grad)}
	if op != kernelspec.TDError {
		bs = append(bs, in("a_tm1", a.acts, &acts))
	}
	if op == kernelspec.TDDoubleQ {
		bs = append(bs, in(nm[2], a.sel, &sel))
	}
	if err := s.bind(bs...); err != nil {
		return err
	}
	dev := s.dev
	ft := xm.DType()
	if err := floatType(name, nm[0], dev, ft); err != nil {
		return err
	}
	if err := retCheckBufs(name, dev, ft, []device.Buffer{r, d, xt, sel, loss, td, grad},
		[]string{"r_t", "discount_t", nm[1], nm[2], "loss", "td", nm[3]},
		[]int{n, n, n * nA, n * nA, a.loss.Len(), n, n * nA}); err != nil {
		return err
	}
	if loss == nil && td == nil && grad == nil {
		return nil
	}
	if n == 0 {
		if loss == nil || red == None {
			return nil
		}
		// the mean of nothing is NaN (0·∞), the sum 0
		z, err := pool.get(dev, ft, 1)
		if err != nil {
			return err
		}
		defer pool.put(z)
		sc := 1.0
		if red == Mean {
			sc = math.Inf(1)
		}
		return dev.Launch("reduce_sum", oneBlock, z, int32(0), sc, int32(0), z, loss)
	}
	gs := 1.0
	if red == Mean {
		gs = 1 / float64(n)
	}
	flags := int32(0)
	if huber {
		flags |= kernelspec.TDFlagHuber
	}
	if grad != nil {
		flags |= kernelspec.TDFlagGrad
	}
	if td != nil {
		flags |= kernelspec.TDFlagOutTD
	}
	if op != kernelspec.TDError {
		flags |= kernelspec.TDFlagActions
	}
	if sel != nil {
		flags |= kernelspec.TDFlagSelector
	}
	g := partialGrid(n)
	outBuf := loss
	if red != None || loss == nil {
		flags |= kernelspec.TDFlagReduce
		p, err := pool.get(dev, ft, g.Blocks)
		if err != nil {
			return err
		}
		defer pool.put(p)
		outBuf = p
	}
	if acts == nil {
		ib, err := pool.get(dev, device.Int32, 1) // not read
		if err != nil {
			return err
		}
		defer pool.put(ib)
		acts = ib
	}
	if err := dev.Launch("td_loss", g, op, xm, acts, r, d, xt, other(sel, xt), int32(n), int32(nA),
		delta, gs, flags, other(grad, xm), other(td, r), outBuf); err != nil {
		return err
	}
	if red == None || loss == nil {
		return nil
	}
	return dev.Launch("reduce_sum", oneBlock, outBuf, int32(g.Blocks), gs, int32(0), outBuf, loss)
}

// retShapes gives GAE's outputs the shape of rewards.
func retGAEShapes(a GAEArgs, _ GAEOptions) map[string][]int {
	return map[string][]int{"output": a.Rewards.Shape, "returns": a.Rewards.Shape}
}

func retShapes[O any](a ReturnsArgs, _ O) map[string][]int {
	return map[string][]int{"output": a.Rewards.Shape}
}

// tdShapes: the loss (one element, or the batch shape with None) and td.
func tdShapes(op int32, red Reduction, pred Tensor) map[string][]int {
	batch := pred.Shape
	if op != kernelspec.TDError && len(batch) > 0 {
		batch = batch[:len(batch)-1]
	}
	return map[string][]int{"loss": lossShape(red, batch), "td": batch}
}

func init() {
	register("gae", "GAE", GAE, retGAEShapes, "returns_scan")
	register("lambda_returns", "LambdaReturns", LambdaReturns, retShapes[LambdaReturnsOptions], "returns_scan")
	register("n_step_returns", "NStepReturns", NStepReturns, retShapes[NStepReturnsOptions], "returns_scan")
	register("td_learning", "TDLearning", TDLearning, func(a TDLearningArgs, o TDLearningOptions) map[string][]int {
		return tdShapes(kernelspec.TDError, o.Reduction, a.VTm1)
	}, "td_loss", "reduce_sum")
	register("q_learning", "QLearning", QLearning, func(a QLearningArgs, o QLearningOptions) map[string][]int {
		return tdShapes(kernelspec.TDQ, o.Reduction, a.QTm1)
	}, "td_loss", "reduce_sum")
	register("double_q_learning", "DoubleQLearning", DoubleQLearning,
		func(a DoubleQLearningArgs, o DoubleQLearningOptions) map[string][]int {
			return tdShapes(kernelspec.TDDoubleQ, o.Reduction, a.QTm1)
		}, "td_loss", "reduce_sum")
}
