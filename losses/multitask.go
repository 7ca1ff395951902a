package losses

import (
	"math"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// The multi-task weightings: weighted_sum, uncertainty_weighting (Kendall,
// Gal & Cipolla 2018) and gradnorm_loss (Chen et al. 2018). Their inputs
// are K per-task losses (and per-task weights, log-variances or gradient
// norms), shaped [K], or [..., K] for M = the product of the leading
// dimensions independent sets of K tasks: every input of a call has the
// same shape, set i's task k at i·K + k. Each set gives one loss; the
// reduction combines the M set losses (Mean by default, which for one set
// [K] is that set's loss; None returns them, shaped [...], a scalar for
// [K]). Each call launches multitask_loss (one thread per set, looping
// over its K tasks in order; the set losses added per block in a fixed
// tree) and reduce_sum: the same call twice is bitwise identical. The
// mean over no sets (M = 0) is NaN, as PyTorch's mean of nothing; K = 0
// gives loss 0 per set.

// WeightedSumArgs are the tensors of weighted_sum: Losses and Weights of
// one shape [K] or [..., K]. GradLosses (= the weights) and GradWeights
// (= the losses), shaped like them, may be their own input's buffers.
type WeightedSumArgs struct {
	Losses      Tensor `loss:"losses,in"`
	Weights     Tensor `loss:"weights,in"`
	Loss        Tensor `loss:"loss,out"`
	GradLosses  Tensor `loss:"grad_losses,grad"`
	GradWeights Tensor `loss:"grad_weights,grad"`
}

// UncertaintyWeightingArgs are the tensors of uncertainty_weighting:
// Losses and LogVars (s_k = log σ_k², the learned parameters) of one shape
// [K] or [..., K].
type UncertaintyWeightingArgs struct {
	Losses      Tensor `loss:"losses,in"`
	LogVars     Tensor `loss:"log_vars,in"`
	Loss        Tensor `loss:"loss,out"`
	GradLosses  Tensor `loss:"grad_losses,grad"`
	GradLogVars Tensor `loss:"grad_log_vars,grad"`
}

// GradNormLossArgs are the tensors of gradnorm_loss, all of one shape [K]
// or [..., K]: the task weights w_k, the norms g_k = ‖∇_W L_k‖ of the
// gradients of the unweighted task losses at the shared layer W, the
// initial losses L_k(0) (> 0) and the current losses L_k(t). The loss has
// gradients w.r.t. the weights and the gradient norms only (the target is
// a constant, as in the paper).
type GradNormLossArgs struct {
	Weights       Tensor `loss:"weights,in"`
	GradNorms     Tensor `loss:"grad_norms,in"`
	InitialLosses Tensor `loss:"initial_losses,in"`
	Losses        Tensor `loss:"losses,in"`
	Loss          Tensor `loss:"loss,out"`
	GradWeights   Tensor `loss:"grad_weights,grad"`
	GradGradNorms Tensor `loss:"grad_grad_norms,grad"`
}

// WeightedSumOptions are the options of weighted_sum.
type WeightedSumOptions struct {
	// Reduction over the sets: Mean (the default), Sum or None.
	Reduction Reduction `json:"reduction"`
}

// Task types of uncertainty_weighting (UncertaintyWeightingOptions.TaskTypes).
const (
	TaskRegression     = "regression"
	TaskClassification = "classification"
)

// UncertaintyWeightingOptions are the options of uncertainty_weighting.
type UncertaintyWeightingOptions struct {
	// Reduction over the sets: Mean (the default), Sum or None.
	Reduction Reduction `json:"reduction"`
	// TaskTypes, nil or one per task (K entries): "regression" (or "")
	// weighs the task's loss by exp(−s)/2, "classification" by exp(−s)
	// (the paper's eq. 10 with its approximation); nil: every task a
	// regression.
	TaskTypes []string `json:"task_types"`
}

// GradNormLossOptions are the options of gradnorm_loss.
type GradNormLossOptions struct {
	// Reduction over the sets: Mean (the default), Sum or None.
	Reduction Reduction `json:"reduction"`
	// Alpha >= 0 is the restoring force's exponent; nil: 1.5 (the paper's
	// default in its experiments).
	Alpha *float64 `json:"alpha"`
	// SkipInputCheck skips the read-back that checks initial_losses > 0
	// (at least the smallest normal float32, 1.18·10⁻³⁸); a zero or
	// negative initial loss then gives Inf or NaN instead of an error.
	SkipInputCheck bool `json:"skip_input_check"`
}

func (o WeightedSumOptions) reduction() Reduction          { return o.Reduction }
func (o UncertaintyWeightingOptions) reduction() Reduction { return o.Reduction }
func (o GradNormLossOptions) reduction() Reduction         { return o.Reduction }

// WeightedSum is Σ_k w_k·L_k per set of K task losses, the plain
// multi-task objective with given (or learned) weights: d/dL_k = w_k,
// d/dw_k = L_k. See the family's conventions above.
func WeightedSum(dev device.Device, a WeightedSumArgs, o WeightedSumOptions) error {
	return mtCall(dev, "weighted_sum", kernelspec.MTWeightedSum, o.Reduction, mtTensors{
		{"losses", a.Losses}, {"weights", a.Weights}, {}, {}}, a.Loss,
		mtTensors{{"grad_losses", a.GradLosses}, {"grad_weights", a.GradWeights}, {}}, nil, 0, false)
}

// UncertaintyWeighting is Kendall, Gal & Cipolla's (2018) homoscedastic
// uncertainty weighting with s_k = log σ_k² as the learned parameter (as
// the common implementations do):
//
//	Σ_k c_k·exp(−s_k)·L_k + s_k/2,  c_k = 1/2 (regression) or 1 (classification)
//
// with d/dL_k = c_k·exp(−s_k) and d/ds_k = 1/2 − c_k·exp(−s_k)·L_k. In
// float32 exp(−s) overflows for s < −88.7 (−709 in float64): the loss is
// then +Inf (NaN where L_k = 0), as PyTorch's float32 gives; for s up to
// ±30 it is accurate to float32 rounding.
func UncertaintyWeighting(dev device.Device, a UncertaintyWeightingArgs, o UncertaintyWeightingOptions) error {
	const name = "uncertainty_weighting"
	k := 0
	if sh := a.Losses.Shape; len(sh) > 0 {
		k = sh[len(sh)-1]
	}
	if o.TaskTypes != nil && len(o.TaskTypes) != k {
		return argErr(name, "task_types", "has %d entries: want one per task (%d)", len(o.TaskTypes), k)
	}
	coef := make([]float64, 0, len(o.TaskTypes))
	for i, t := range o.TaskTypes {
		switch t {
		case "", TaskRegression:
			coef = append(coef, 0.5)
		case TaskClassification:
			coef = append(coef, 1)
		default:
			return argErr(name, "task_types", "entry %d is %q: want regression or classification", i, t)
		}
	}
	if o.TaskTypes == nil {
		coef = nil // all regression: filled once k is known to be valid
	}
	return mtCall(dev, name, kernelspec.MTUncertainty, o.Reduction, mtTensors{
		{"losses", a.Losses}, {"log_vars", a.LogVars}, {}, {}}, a.Loss,
		mtTensors{{"grad_losses", a.GradLosses}, {"grad_log_vars", a.GradLogVars}, {}}, coef, 0, false)
}

// GradNormLoss is the GradNorm loss of Chen et al. (2018) per set of K
// tasks:
//
//	G_k = w_k·g_k,  L̃_k = L_k(t)/L_k(0),  r_k = L̃_k / mean_k(L̃),
//	target_k = mean_k(G)·r_k^α (a constant),  L_grad = Σ_k |G_k − target_k|
//
// with d/dw_k = sign(G_k − target_k)·g_k and d/dg_k = sign(G_k −
// target_k)·w_k (a subgradient 0 at the kink G_k = target_k, as
// PyTorch's abs). The target, mean(G) included, is held constant, as the
// paper prescribes; there is no gradient w.r.t. the losses. After the
// weights' step the caller renormalises them to Σ_k w_k = K, as the paper
// does. The current losses should be >= 0: a negative ratio r_k gives NaN
// for a non-integer α (as PyTorch's pow). initial_losses <= 0 is an
// *ArgError (checked on the device and read back: one wait), unless
// SkipInputCheck.
func GradNormLoss(dev device.Device, a GradNormLossArgs, o GradNormLossOptions) error {
	const name = "gradnorm_loss"
	alpha := 1.5
	if o.Alpha != nil {
		alpha = *o.Alpha
	}
	if !(alpha >= 0) || math.IsInf(alpha, 1) {
		return argErr(name, "alpha", "must be finite and >= 0, got %v", alpha)
	}
	return mtCall(dev, name, kernelspec.MTGradNorm, o.Reduction, mtTensors{
		{"losses", a.Losses}, {"weights", a.Weights}, {"grad_norms", a.GradNorms}, {"initial_losses", a.InitialLosses}},
		a.Loss, mtTensors{{}, {"grad_weights", a.GradWeights}, {"grad_grad_norms", a.GradGradNorms}}, nil, alpha,
		!o.SkipInputCheck)
}

// mtTensor is one named tensor of a multitask call (absent: arg "").
type mtTensor struct {
	arg string
	t   Tensor
}

type mtTensors []mtTensor

// mtCall validates and launches one multitask loss: ins are (losses, a,
// b, l0), grads (grad_losses, grad_a, grad_b); an entry with arg "" is
// not part of the loss. coef (uncertainty_weighting) has one factor per
// task, nil for all 1/2.
func mtCall(dev device.Device, name string, op int32, red Reduction, ins mtTensors, lossT Tensor, grads mtTensors,
	coef []float64, alpha float64, checkL0 bool) error {
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	s := stage{dev: dev, loss: name}
	return s.finish(mtStaged(&s, name, op, red, ins, lossT, grads, coef, alpha, checkL0))
}

func mtStaged(s *stage, name string, op int32, red Reduction, ins mtTensors, lossT Tensor, grads mtTensors,
	coef []float64, alpha float64, checkL0 bool) error {
	if !red.valid() {
		return argErr(name, "reduction", "unknown reduction %d", int(red))
	}
	for _, t := range ins {
		if t.arg != "" && !t.t.Present() {
			return argErr(name, t.arg, "buffer is nil")
		}
	}
	sh := ins[0].t.Shape
	if len(sh) == 0 {
		return argErr(name, ins[0].arg, "has shape %v: want [K] or [..., K]", sh)
	}
	for _, t := range ins[1:] {
		if t.arg != "" && !sameShape(t.t.Shape, sh) {
			return argErr(name, t.arg, "has shape %v: want %s's %v", t.t.Shape, ins[0].arg, sh)
		}
	}
	for _, t := range ins {
		if t.arg != "" {
			if err := s.check(t.arg, t.t); err != nil {
				return err
			}
		}
	}
	k := sh[len(sh)-1]
	m := prod(sh[:len(sh)-1])
	if err := checkLoss(name, lossT, red, m); err != nil {
		return err
	}
	for _, g := range grads {
		if g.arg != "" && g.t.Present() && !sameShape(g.t.Shape, sh) {
			return argErr(name, g.arg, "has shape %v, want %v", g.t.Shape, sh)
		}
	}
	var bufs [4]device.Buffer
	var gbufs [3]device.Buffer
	var loss device.Buffer
	var bs []binding
	for i, t := range ins {
		if t.arg != "" {
			bs = append(bs, in(t.arg, t.t, &bufs[i]))
		}
	}
	bs = append(bs, out("loss", lossT, &loss))
	for i, g := range grads {
		if g.arg != "" {
			bs = append(bs, out(g.arg, g.t, &gbufs[i]))
		}
	}
	if err := s.bind(bs...); err != nil {
		return err
	}
	dev := s.dev
	ft := bufs[0].DType()
	if err := floatType(name, ins[0].arg, dev, ft); err != nil {
		return err
	}
	for i, t := range ins[1:] {
		if t.arg != "" {
			if err := checkBuf(name, t.arg, dev, bufs[i+1], ft, m*k, false); err != nil {
				return err
			}
		}
	}
	if err := checkBuf(name, "loss", dev, loss, ft, lossT.Len(), true); err != nil {
		return err
	}
	for i, g := range grads {
		if g.arg != "" {
			if err := checkBuf(name, g.arg, dev, gbufs[i], ft, m*k, true); err != nil {
				return err
			}
		}
	}
	if checkL0 && m*k > 0 {
		// initial_losses > 0: below the smallest normal float32 (or NaN
		// aside, which propagates) is refused.
		bad, err := countInvalid(dev, bufs[3], m*k, 0, 0x1p-126, math.Inf(1))
		if err != nil {
			return err
		}
		if bad {
			return argErr(name, "initial_losses", "has a value <= 0 (below 1.18e-38): each must be > 0")
		}
	}
	if loss == nil && gbufs[0] == nil && gbufs[1] == nil && gbufs[2] == nil {
		return nil
	}
	if m == 0 {
		if loss == nil || red == None {
			return nil
		}
		// The sum of no sets is 0; their mean NaN (0·NaN), as PyTorch.
		z, err := pool.get(dev, ft, 1)
		if err != nil {
			return err
		}
		defer pool.put(z)
		scale := 1.0
		if red == Mean {
			scale = math.NaN()
		}
		return dev.Launch("reduce_sum", oneBlock, z, int32(0), scale, int32(0), z, loss)
	}
	if k == 0 && red != None {
		// Every set's loss is 0 (no task): the mean and the sum are 0,
		// without a pass over the M empty sets.
		if loss == nil {
			return nil
		}
		z, err := pool.get(dev, ft, 1)
		if err != nil {
			return err
		}
		defer pool.put(z)
		return dev.Launch("reduce_sum", oneBlock, z, int32(0), 1.0, int32(0), z, loss)
	}
	gs := 1.0
	if red == Mean {
		gs = 1 / float64(m)
	}
	flags := int32(0)
	for i, f := range []int32{kernelspec.MTGradLosses, kernelspec.MTGradA, kernelspec.MTGradB} {
		if gbufs[i] != nil {
			flags |= f
		}
	}
	var cb device.Buffer = bufs[0]
	if op == kernelspec.MTUncertainty {
		if coef == nil {
			coef = make([]float64, k)
			for i := range coef {
				coef[i] = 0.5
			}
		}
		c, err := pool.get(dev, ft, k)
		if err != nil {
			return err
		}
		defer pool.put(c)
		if k > 0 {
			if err := writeFloats(dev, c, coef); err != nil {
				return err
			}
		}
		cb = c
	}
	g := partialGrid(m)
	outBuf := loss
	if red != None || loss == nil {
		flags |= kernelspec.MTReduce
		p, err := pool.get(dev, ft, g.Blocks)
		if err != nil {
			return err
		}
		defer pool.put(p)
		outBuf = p
	}
	b, l0 := other(bufs[2], bufs[0]), other(bufs[3], bufs[0])
	if err := dev.Launch("multitask_loss", g, op, int32(m), int32(k), bufs[0], bufs[1], b, l0, cb, alpha, gs, flags,
		other(gbufs[0], bufs[0]), other(gbufs[1], bufs[1]), other(gbufs[2], b), outBuf); err != nil {
		return err
	}
	if red == None || loss == nil {
		return nil
	}
	return dev.Launch("reduce_sum", oneBlock, outBuf, int32(g.Blocks), gs, int32(0), outBuf, loss)
}

func mtShapes[O interface{ reduction() Reduction }](first Tensor, o O) map[string][]int {
	sh := first.Shape
	if len(sh) == 0 {
		return map[string][]int{"loss": {}} // the call refuses it
	}
	return map[string][]int{"loss": lossShape(o.reduction(), sh[:len(sh)-1])}
}

func init() {
	register("weighted_sum", "WeightedSum", WeightedSum,
		func(a WeightedSumArgs, o WeightedSumOptions) map[string][]int { return mtShapes(a.Losses, o) },
		"multitask_loss", "reduce_sum")
	register("uncertainty_weighting", "UncertaintyWeighting", UncertaintyWeighting,
		func(a UncertaintyWeightingArgs, o UncertaintyWeightingOptions) map[string][]int {
			return mtShapes(a.Losses, o)
		},
		"multitask_loss", "reduce_sum")
	register("gradnorm_loss", "GradNormLoss", GradNormLoss,
		func(a GradNormLossArgs, o GradNormLossOptions) map[string][]int { return mtShapes(a.Losses, o) },
		"multitask_loss", "reduce_sum", "count_invalid")
}
