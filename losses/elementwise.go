package losses

import (
	"fmt"

	"github.com/lossengine/lossengine/device"
)

// The elementwise losses: one function and one options type each, all
// computed by the pointwise_loss kernel (kernels/src/pointwise.h,
// host/pointwise.go; see pointwise.go for the per-element formulas).

// ElementwiseArgs are the tensors of an elementwise loss between input and
// target of the same shape.
type ElementwiseArgs struct {
	Input  Tensor `loss:"input,in"`
	Target Tensor `loss:"target,in"`
	// Weight multiplies each element's loss and gradients; its shape
	// broadcasts against input's (NumPy rules, one contiguous run of
	// input's dimensions: per element, per sample [N, 1, …], per class
	// [C], or a scalar). It does not change the divisor of Mean.
	Weight Tensor `loss:"weight,in,optional"`
	// Mask (int32, broadcast like Weight): elements whose mask is 0
	// contribute exactly nothing, and Mean counts only the others.
	Mask Tensor `loss:"mask,in,int32,optional"`
	// Loss receives the loss: one element, or input's shape with
	// reduction None.
	Loss Tensor `loss:"loss,out"`
	// GradInput and GradTarget, when given, receive d loss / d input and
	// d loss / d target, shaped like them. Either may alias its input.
	GradInput  Tensor `loss:"grad_input,grad"`
	GradTarget Tensor `loss:"grad_target,grad"`
}

// LabelArgs are the tensors of a loss whose target holds ±1 labels
// (hinge_embedding_loss, soft_margin_loss, hinge, squared_hinge): as
// ElementwiseArgs, without a gradient w.r.t. the labels.
type LabelArgs struct {
	Input     Tensor `loss:"input,in"`
	Target    Tensor `loss:"target,in"`
	Weight    Tensor `loss:"weight,in,optional"`
	Mask      Tensor `loss:"mask,in,int32,optional"`
	Loss      Tensor `loss:"loss,out"`
	GradInput Tensor `loss:"grad_input,grad"`
}

// BinaryCrossEntropyWithLogitsArgs are ElementwiseArgs with PyTorch's
// pos_weight: one weight of the positive term per class (input's last
// dimension).
type BinaryCrossEntropyWithLogitsArgs struct {
	Input      Tensor `loss:"input,in"`
	Target     Tensor `loss:"target,in"`
	Weight     Tensor `loss:"weight,in,optional"`
	Mask       Tensor `loss:"mask,in,int32,optional"`
	PosWeight  Tensor `loss:"pos_weight,in,optional"`
	Loss       Tensor `loss:"loss,out"`
	GradInput  Tensor `loss:"grad_input,grad"`
	GradTarget Tensor `loss:"grad_target,grad"`
}

// GaussianNLLLossArgs are ElementwiseArgs with the variance var: input's
// shape, or input's shape with the last dimension 1 or dropped (one
// variance per row); GradVar receives d loss / d var in var's shape.
type GaussianNLLLossArgs struct {
	Input      Tensor `loss:"input,in"`
	Target     Tensor `loss:"target,in"`
	Var        Tensor `loss:"var,in"`
	Weight     Tensor `loss:"weight,in,optional"`
	Mask       Tensor `loss:"mask,in,int32,optional"`
	Loss       Tensor `loss:"loss,out"`
	GradInput  Tensor `loss:"grad_input,grad"`
	GradTarget Tensor `loss:"grad_target,grad"`
	GradVar    Tensor `loss:"grad_var,grad"`
}

// ElementwiseOptions are the options every elementwise loss takes.
type ElementwiseOptions struct {
	// Reduction: Mean divides by the number of elements (of those kept
	// under a mask; the mean of nothing is NaN).
	Reduction Reduction `json:"reduction"`
	NaN       NaNPolicy `json:"nan_policy"`
	// SkipInputCheck skips the device-side checks of input ranges
	// (binary_cross_entropy's probabilities, ±1 labels, non-negative var),
	// which cost one read of the buffer and a wait for the device.
	SkipInputCheck bool `json:"skip_input_check"`
}

func (o ElementwiseOptions) base() pointwiseOptions {
	return pointwiseOptions{Reduction: o.Reduction, NaN: o.NaN, SkipInputCheck: o.SkipInputCheck}
}

// MSELossOptions are the options of mse_loss.
type MSELossOptions struct{ ElementwiseOptions }

// L1LossOptions are the options of l1_loss.
type L1LossOptions struct{ ElementwiseOptions }

// HuberLossOptions are the options of huber_loss.
type HuberLossOptions struct {
	ElementwiseOptions
	Delta *float64 `json:"delta"` // δ > 0; nil: 1
}

// SmoothL1LossOptions are the options of smooth_l1_loss.
type SmoothL1LossOptions struct {
	ElementwiseOptions
	Beta *float64 `json:"beta"` // β >= 0 (0 is L1); nil: 1
}

// LogCoshOptions are the options of log_cosh.
type LogCoshOptions struct{ ElementwiseOptions }

// MeanAbsolutePercentageErrorOptions are the options of Keras' MAPE.
type MeanAbsolutePercentageErrorOptions struct {
	ElementwiseOptions
	Eps *float64 `json:"eps"` // floor of |target|; nil: 1e-7
}

// MeanSquaredLogarithmicErrorOptions are the options of Keras' MSLE.
type MeanSquaredLogarithmicErrorOptions struct {
	ElementwiseOptions
	Eps *float64 `json:"eps"` // floor of input and target; nil: 1e-7
}

// BinaryCrossEntropyOptions are the options of binary_cross_entropy.
type BinaryCrossEntropyOptions struct{ ElementwiseOptions }

// BinaryCrossEntropyWithLogitsOptions are the options of
// binary_cross_entropy_with_logits (pos_weight is a tensor of its Args).
type BinaryCrossEntropyWithLogitsOptions struct{ ElementwiseOptions }

// SigmoidFocalLossOptions are the options of torchvision's
// sigmoid_focal_loss.
type SigmoidFocalLossOptions struct {
	ElementwiseOptions
	Alpha *float64 `json:"alpha"` // <= 1; negative: no weighting; nil: 0.25
	Gamma *float64 `json:"gamma"` // >= 0; nil: 2
}

// HingeEmbeddingLossOptions are the options of hinge_embedding_loss.
type HingeEmbeddingLossOptions struct {
	ElementwiseOptions
	Margin *float64 `json:"margin"` // nil: 1
}

// SoftMarginLossOptions are the options of soft_margin_loss.
type SoftMarginLossOptions struct{ ElementwiseOptions }

// HingeOptions are the options of the binary hinge loss.
type HingeOptions struct{ ElementwiseOptions }

// SquaredHingeOptions are the options of the binary squared hinge loss.
type SquaredHingeOptions struct{ ElementwiseOptions }

// KLDivOptions are the options of kl_div (reduction BatchMean divides by
// input's first dimension).
type KLDivOptions struct {
	ElementwiseOptions
	LogTarget bool `json:"log_target"` // target holds log-probabilities
}

// PoissonNLLLossOptions are the options of poisson_nll_loss.
type PoissonNLLLossOptions struct {
	ElementwiseOptions
	// LogInput: input is the log of the rate (nil: true, PyTorch's
	// default); false: input is the rate itself.
	LogInput *bool    `json:"log_input"`
	Full     bool     `json:"full"` // add the Stirling term
	Eps      *float64 `json:"eps"`  // nil: 1e-8
}

// GaussianNLLLossOptions are the options of gaussian_nll_loss.
type GaussianNLLLossOptions struct {
	ElementwiseOptions
	Full bool     `json:"full"` // add ½·log 2π
	Eps  *float64 `json:"eps"`  // variance floor; nil: 1e-6
}

// pwCall is the union of the elementwise Args.
type pwCall struct {
	input, target, weight, mask, posWeight, variance Tensor
	loss, gradInput, gradTarget, gradVar             Tensor
}

func (a ElementwiseArgs) call() pwCall {
	return pwCall{input: a.Input, target: a.Target, weight: a.Weight, mask: a.Mask, loss: a.Loss,
		gradInput: a.GradInput, gradTarget: a.GradTarget}
}

func (a LabelArgs) call() pwCall {
	return pwCall{input: a.Input, target: a.Target, weight: a.Weight, mask: a.Mask, loss: a.Loss, gradInput: a.GradInput}
}

// MSELoss is mse_loss: (input − target)².
func MSELoss(dev device.Device, a ElementwiseArgs, o MSELossOptions) error {
	return elementwise(dev, pwMSE, a.call(), o.base())
}

// L1Loss is l1_loss: |input − target| (gradient sign(d), 0 at 0).
func L1Loss(dev device.Device, a ElementwiseArgs, o L1LossOptions) error {
	return elementwise(dev, pwL1, a.call(), o.base())
}

// HuberLoss is huber_loss: ½d² if |d| < δ, else δ(|d| − ½δ).
func HuberLoss(dev device.Device, a ElementwiseArgs, o HuberLossOptions) error {
	p := o.base()
	p.Delta = o.Delta
	return elementwise(dev, pwHuber, a.call(), p)
}

// SmoothL1Loss is smooth_l1_loss: ½d²/β if |d| < β, else |d| − ½β.
func SmoothL1Loss(dev device.Device, a ElementwiseArgs, o SmoothL1LossOptions) error {
	p := o.base()
	p.Beta = o.Beta
	return elementwise(dev, pwSmoothL1, a.call(), p)
}

// LogCosh is log(cosh(input − target)), computed without overflow.
func LogCosh(dev device.Device, a ElementwiseArgs, o LogCoshOptions) error {
	return elementwise(dev, pwLogCosh, a.call(), o.base())
}

// MeanAbsolutePercentageError is Keras' 100·|d| / max(|target|, ε).
func MeanAbsolutePercentageError(dev device.Device, a ElementwiseArgs, o MeanAbsolutePercentageErrorOptions) error {
	p := o.base()
	p.Eps = o.Eps
	return elementwise(dev, pwMeanAbsolutePercentageError, a.call(), p)
}

// MeanSquaredLogarithmicError is Keras' (log(max(x, ε)+1) − log(max(y, ε)+1))².
func MeanSquaredLogarithmicError(dev device.Device, a ElementwiseArgs, o MeanSquaredLogarithmicErrorOptions) error {
	p := o.base()
	p.Eps = o.Eps
	return elementwise(dev, pwMeanSquaredLogarithmicError, a.call(), p)
}

// BinaryCrossEntropy is binary_cross_entropy on probabilities in [0, 1].
func BinaryCrossEntropy(dev device.Device, a ElementwiseArgs, o BinaryCrossEntropyOptions) error {
	return elementwise(dev, pwBinaryCrossEntropy, a.call(), o.base())
}

// BinaryCrossEntropyWithLogits is binary_cross_entropy_with_logits.
func BinaryCrossEntropyWithLogits(dev device.Device, a BinaryCrossEntropyWithLogitsArgs, o BinaryCrossEntropyWithLogitsOptions) error {
	return elementwise(dev, pwBinaryCrossEntropyWithLogits, pwCall{input: a.Input, target: a.Target, weight: a.Weight,
		mask: a.Mask, posWeight: a.PosWeight, loss: a.Loss, gradInput: a.GradInput, gradTarget: a.GradTarget}, o.base())
}

// SigmoidFocalLoss is torchvision's sigmoid_focal_loss.
func SigmoidFocalLoss(dev device.Device, a ElementwiseArgs, o SigmoidFocalLossOptions) error {
	p := o.base()
	p.Alpha, p.Gamma = o.Alpha, o.Gamma
	return elementwise(dev, pwSigmoidFocal, a.call(), p)
}

// HingeEmbeddingLoss is hinge_embedding_loss with ±1 labels.
func HingeEmbeddingLoss(dev device.Device, a LabelArgs, o HingeEmbeddingLossOptions) error {
	p := o.base()
	p.Margin = o.Margin
	return elementwise(dev, pwHingeEmbedding, a.call(), p)
}

// SoftMarginLoss is soft_margin_loss: log(1 + e^(−y·x)).
func SoftMarginLoss(dev device.Device, a LabelArgs, o SoftMarginLossOptions) error {
	return elementwise(dev, pwSoftMargin, a.call(), o.base())
}

// Hinge is the binary hinge loss max(0, 1 − y·x) with ±1 labels.
func Hinge(dev device.Device, a LabelArgs, o HingeOptions) error {
	return elementwise(dev, pwHinge, a.call(), o.base())
}

// SquaredHinge is max(0, 1 − y·x)² with ±1 labels.
func SquaredHinge(dev device.Device, a LabelArgs, o SquaredHingeOptions) error {
	return elementwise(dev, pwSquaredHinge, a.call(), o.base())
}

// KLDiv is kl_div: input holds log-probabilities.
func KLDiv(dev device.Device, a ElementwiseArgs, o KLDivOptions) error {
	p := o.base()
	p.LogTarget = o.LogTarget
	return elementwise(dev, pwKLDiv, a.call(), p)
}

// PoissonNLLLoss is poisson_nll_loss.
func PoissonNLLLoss(dev device.Device, a ElementwiseArgs, o PoissonNLLLossOptions) error {
	p := o.base()
	p.NoLogInput = o.LogInput != nil && !*o.LogInput
	p.Full, p.Eps = o.Full, o.Eps
	return elementwise(dev, pwPoissonNLL, a.call(), p)
}

// GaussianNLLLoss is gaussian_nll_loss.
func GaussianNLLLoss(dev device.Device, a GaussianNLLLossArgs, o GaussianNLLLossOptions) error {
	p := o.base()
	p.Full, p.Eps = o.Full, o.Eps
	return elementwise(dev, pwGaussianNLL, pwCall{input: a.Input, target: a.Target, variance: a.Var, weight: a.Weight,
		mask: a.Mask, loss: a.Loss, gradInput: a.GradInput, gradTarget: a.GradTarget, gradVar: a.GradVar}, p)
}

// bcastOf maps a tensor shape that broadcasts against shape (NumPy rules)
// onto a Bcast: its dimensions other than 1, after left-padding with 1s,
// must be one contiguous run equal to shape's.
func bcastOf(loss, arg string, t, shape []int) (Bcast, error) {
	if len(t) > len(shape) {
		return Bcast{}, argErr(loss, arg, "has shape %v, which does not broadcast to input's %v", t, shape)
	}
	pad := make([]int, len(shape)-len(t), len(shape))
	for i := range pad {
		pad[i] = 1
	}
	pad = append(pad, t...)
	lo, hi := -1, -1
	for i, d := range pad {
		if d == 1 && shape[i] != 1 {
			continue
		}
		if d != shape[i] {
			return Bcast{}, argErr(loss, arg, "has shape %v, which does not broadcast to input's %v", t, shape)
		}
		if d == 1 {
			continue
		}
		if lo < 0 {
			lo = i
		} else if hi != i {
			return Bcast{}, argErr(loss, arg, "has shape %v: only one contiguous run of broadcast dimensions is supported against %v", t, shape)
		}
		hi = i + 1
	}
	if lo < 0 {
		return Scalar(), nil
	}
	b := Bcast{Len: 1, Stride: 1}
	for _, d := range shape[lo:hi] {
		b.Len *= d
	}
	for _, d := range shape[hi:] {
		b.Stride *= d
	}
	return b, nil
}

// elementwise stages the tensors of an elementwise loss, maps shapes onto
// the broadcasts of pointwiseBuffers and runs it.
func elementwise(dev device.Device, p pwKind, a pwCall, opt pointwiseOptions) error {
	name := p.Name()
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	s := stage{dev: dev, loss: name}
	err := elementwiseStaged(&s, p, a, opt)
	return s.finish(err)
}

func elementwiseStaged(s *stage, p pwKind, a pwCall, opt pointwiseOptions) error {
	name := p.Name()
	if !a.input.Present() {
		return argErr(name, "input", "buffer is nil")
	}
	shape := a.input.Shape
	if err := a.input.check(name, "input"); err != nil {
		return err
	}
	if a.target.Present() && !sameShape(a.target.Shape, shape) {
		return argErr(name, "target", "has shape %v but input has shape %v: they must be equal (no broadcasting)", a.target.Shape, shape)
	}
	n := a.input.Len()
	b := pointwiseBuffers{N: n, Rows: n}
	if len(shape) > 0 {
		b.Rows = shape[0]
	}
	var err error
	if a.weight.Present() {
		if b.WeightBcast, err = bcastOf(name, "weight", a.weight.Shape, shape); err != nil {
			return err
		}
	}
	if a.mask.Present() {
		if b.MaskBcast, err = bcastOf(name, "mask", a.mask.Shape, shape); err != nil {
			return err
		}
	}
	if a.posWeight.Present() {
		if len(shape) == 0 || len(a.posWeight.Shape) != 1 || a.posWeight.Shape[0] != shape[len(shape)-1] {
			return argErr(name, "pos_weight", "has shape %v: want [%s] (one value per class, the last dimension of input)", a.posWeight.Shape, lastDim(shape))
		}
	}
	if a.variance.Present() {
		vs := a.variance.Shape
		// PyTorch accepts var with input's shape minus the last dimension.
		if len(shape) > 0 && sameShape(vs, shape[:len(shape)-1]) && !sameShape(vs, shape) {
			vs = append(append([]int{}, vs...), 1)
		}
		if b.VarBcast, err = bcastOf(name, "var", vs, shape); err != nil {
			return err
		}
	}
	if a.loss.Present() {
		want := 1
		if opt.Reduction == None {
			want = n
		}
		if a.loss.Len() != want {
			return argErr(name, "loss", "has shape %v: want %d element(s)", a.loss.Shape, want)
		}
	}
	for _, g := range []struct {
		arg  string
		t, s Tensor
	}{{"grad_input", a.gradInput, a.input}, {"grad_target", a.gradTarget, a.target}, {"grad_var", a.gradVar, a.variance}} {
		if g.t.Present() && !sameShape(g.t.Shape, g.s.Shape) {
			return argErr(name, g.arg, "has shape %v, want %v", g.t.Shape, g.s.Shape)
		}
	}
	if err := s.bind(in("input", a.input, &b.Input), in("target", a.target, &b.Target), in("weight", a.weight, &b.Weight),
		in("mask", a.mask, &b.Mask), in("pos_weight", a.posWeight, &b.PosWeight), in("var", a.variance, &b.Var),
		out("loss", a.loss, &b.Loss), out("grad_input", a.gradInput, &b.GradInput),
		out("grad_target", a.gradTarget, &b.GradTarget), out("grad_var", a.gradVar, &b.GradVar)); err != nil {
		return err
	}
	return pointwiseLossBuf(s.dev, p, b, opt)
}

func lastDim(shape []int) string {
	if len(shape) == 0 {
		return "C"
	}
	return fmt.Sprint(shape[len(shape)-1])
}

// lossShape is the shape of the loss: a scalar, or the per-sample shape
// with reduction None.
func lossShape(red Reduction, perSample []int) []int {
	if red == None {
		return perSample
	}
	return []int{}
}

func elementwiseShapes[O interface{ reduction() Reduction }](a ElementwiseArgs, o O) map[string][]int {
	return map[string][]int{"loss": lossShape(o.reduction(), a.Input.Shape)}
}

func labelShapes[O interface{ reduction() Reduction }](a LabelArgs, o O) map[string][]int {
	return map[string][]int{"loss": lossShape(o.reduction(), a.Input.Shape)}
}

func (o ElementwiseOptions) reduction() Reduction { return o.Reduction }

// pwKernels are the kernels elementwise loss p launches: pointwise_loss
// and reduce_sum; mask_count for a mask under Mean; count_nan for
// NaNError; count_invalid for the losses whose inputs are checked;
// broadcast_sum for a broadcast var's gradient.
func pwKernels(p pwKind) []string {
	k := []string{"pointwise_loss", "reduce_sum", "mask_count", "count_nan"}
	in := pointwiseInfos[p]
	if in.labels || in.prob || in.variance {
		k = append(k, "count_invalid")
	}
	if in.variance {
		k = append(k, "broadcast_sum")
	}
	return k
}

func init() {
	register("mse_loss", "MSELoss", MSELoss, elementwiseShapes[MSELossOptions], pwKernels(pwMSE)...)
	register("l1_loss", "L1Loss", L1Loss, elementwiseShapes[L1LossOptions], pwKernels(pwL1)...)
	register("huber_loss", "HuberLoss", HuberLoss, elementwiseShapes[HuberLossOptions], pwKernels(pwHuber)...)
	register("smooth_l1_loss", "SmoothL1Loss", SmoothL1Loss, elementwiseShapes[SmoothL1LossOptions], pwKernels(pwSmoothL1)...)
	register("log_cosh", "LogCosh", LogCosh, elementwiseShapes[LogCoshOptions], pwKernels(pwLogCosh)...)
	register("mean_absolute_percentage_error", "MeanAbsolutePercentageError", MeanAbsolutePercentageError,
		elementwiseShapes[MeanAbsolutePercentageErrorOptions], pwKernels(pwMeanAbsolutePercentageError)...)
	register("mean_squared_logarithmic_error", "MeanSquaredLogarithmicError", MeanSquaredLogarithmicError,
		elementwiseShapes[MeanSquaredLogarithmicErrorOptions], pwKernels(pwMeanSquaredLogarithmicError)...)
	register("binary_cross_entropy", "BinaryCrossEntropy", BinaryCrossEntropy, elementwiseShapes[BinaryCrossEntropyOptions], pwKernels(pwBinaryCrossEntropy)...)
	register("binary_cross_entropy_with_logits", "BinaryCrossEntropyWithLogits", BinaryCrossEntropyWithLogits,
		func(a BinaryCrossEntropyWithLogitsArgs, o BinaryCrossEntropyWithLogitsOptions) map[string][]int {
			return map[string][]int{"loss": lossShape(o.Reduction, a.Input.Shape)}
		}, pwKernels(pwBinaryCrossEntropyWithLogits)...)
	register("sigmoid_focal_loss", "SigmoidFocalLoss", SigmoidFocalLoss, elementwiseShapes[SigmoidFocalLossOptions], pwKernels(pwSigmoidFocal)...)
	register("hinge_embedding_loss", "HingeEmbeddingLoss", HingeEmbeddingLoss, labelShapes[HingeEmbeddingLossOptions], pwKernels(pwHingeEmbedding)...)
	register("soft_margin_loss", "SoftMarginLoss", SoftMarginLoss, labelShapes[SoftMarginLossOptions], pwKernels(pwSoftMargin)...)
	register("hinge", "Hinge", Hinge, labelShapes[HingeOptions], pwKernels(pwHinge)...)
	register("squared_hinge", "SquaredHinge", SquaredHinge, labelShapes[SquaredHingeOptions], pwKernels(pwSquaredHinge)...)
	register("kl_div", "KLDiv", KLDiv, elementwiseShapes[KLDivOptions], pwKernels(pwKLDiv)...)
	register("poisson_nll_loss", "PoissonNLLLoss", PoissonNLLLoss, elementwiseShapes[PoissonNLLLossOptions], pwKernels(pwPoissonNLL)...)
	register("gaussian_nll_loss", "GaussianNLLLoss", GaussianNLLLoss,
		func(a GaussianNLLLossArgs, o GaussianNLLLossOptions) map[string][]int {
			return map[string][]int{"loss": lossShape(o.Reduction, a.Input.Shape)}
		}, pwKernels(pwGaussianNLL)...)
}
