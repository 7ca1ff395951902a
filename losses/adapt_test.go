package losses_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// Helpers that run a loss on Go slices with its dimensions passed apart:
// each wraps the slices with losses.HostTensor in the shapes those
// dimensions give (so a slice too short for them is an *ArgError naming
// the argument), allocates every output, calls the loss's function and
// returns the outputs as slices.

// flt is the float element type of a host tensor.
type flt interface{ float32 | float64 }

// result holds the outputs of one call (nil where the loss has no such
// output).
type result[T flt] struct {
	// Loss is the reduced loss (1 element) or, with reduction None, one
	// loss per sample; for the softmax family, the output.
	Loss []T
	// Grad is d loss / d input, shaped like input.
	Grad []T
	// GradTarget is d loss / d target, where the loss has one.
	GradTarget []T
	// LSE is each row's log-sum-exp (cross_entropy with class targets).
	LSE []T
	// LogLikelihood and LogLikelihoodBeta are ctc_loss's forward and
	// backward log-likelihoods.
	LogLikelihood, LogLikelihoodBeta []T
	// GradVar is gaussian_nll_loss's d loss / d var, shaped like var.
	GradVar []T
}

// requireArg asserts that err is an *ArgError of the given loss naming
// arg (and so matches ErrInvalidArgument).
func requireArg(t testing.TB, err error, loss, arg string) {
	t.Helper()
	var ae *losses.ArgError
	require.ErrorAs(t, err, &ae)
	require.ErrorIs(t, err, losses.ErrInvalidArgument)
	require.Equal(t, loss, ae.Loss, "%v", err)
	require.Equal(t, arg, ae.Arg, "%v", err)
}

func prod(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return max(n, 0)
}

// lossOut allocates the loss: one element, or perSample's shape with
// reduction None.
func lossOut[T flt](red losses.Reduction, perSample ...int) ([]T, losses.Tensor) {
	if red == losses.None {
		v := make([]T, prod(perSample))
		return v, losses.HostTensor(v, perSample...)
	}
	v := make([]T, 1)
	return v, losses.HostTensor(v)
}

func done[T flt](r *result[T], err error) (*result[T], error) {
	if err != nil {
		return nil, err
	}
	return r, nil
}

func floatsOf[T flt](v []float64) []T {
	if v == nil {
		return nil
	}
	out := make([]T, len(v))
	for i, x := range v {
		out[i] = T(x)
	}
	return out
}

// mask32 is a boolean mask as the int32 tensor data the losses take.
func mask32(m []bool) []int32 {
	if m == nil {
		return nil
	}
	out := make([]int32, len(m))
	for i, keep := range m {
		if keep {
			out[i] = 1
		}
	}
	return out
}

// perRow holds a row loss's per-sample weights and mask as slices; they
// become the SampleWeight [N] and Mask [N] (int32) tensors of its Args.
type perRow struct {
	SampleWeight []float64
	Mask         []bool
}

func perRowTensors[T flt](pr []perRow) (sw, mask losses.Tensor) {
	for _, p := range pr {
		if p.SampleWeight != nil {
			sw = losses.HostTensor(floatsOf[T](p.SampleWeight), len(p.SampleWeight))
		}
		if p.Mask != nil {
			mask = losses.HostTensor(mask32(p.Mask), len(p.Mask))
		}
	}
	return sw, mask
}

// ceSlices runs CrossEntropy with class-index targets: x [n, c], tg [n].
func ceSlices[T flt](dev device.Device, x []T, tg []int32, n, c int, opt losses.CrossEntropyOptions) (*result[T], error) {
	r := &result[T]{Grad: make([]T, max(n*c, 0)), LSE: make([]T, max(n, 0))}
	var lt losses.Tensor
	r.Loss, lt = lossOut[T](opt.Reduction, n)
	return done(r, losses.CrossEntropy(dev, losses.CrossEntropyArgs{
		Input:     losses.HostTensor(x, n, c),
		Target:    losses.HostTensor(tg, n),
		Loss:      lt,
		GradInput: losses.HostTensor(r.Grad, n, c),
		LSE:       losses.HostTensor(r.LSE, n),
	}, opt))
}

// ceProbsSlices runs CrossEntropy with probability targets: x and y [n, c].
func ceProbsSlices[T flt](dev device.Device, x, y []T, n, c int, opt losses.CrossEntropyOptions, pr ...perRow) (*result[T], error) {
	r := &result[T]{Grad: make([]T, max(n*c, 0)), GradTarget: make([]T, max(n*c, 0))}
	var lt losses.Tensor
	r.Loss, lt = lossOut[T](opt.Reduction, n)
	a := losses.CrossEntropyArgs{
		Input:      losses.HostTensor(x, n, c),
		Target:     losses.HostTensor(y, n, c),
		Loss:       lt,
		GradInput:  losses.HostTensor(r.Grad, n, c),
		GradTarget: losses.HostTensor(r.GradTarget, n, c),
	}
	a.SampleWeight, a.Mask = perRowTensors[T](pr)
	return done(r, losses.CrossEntropy(dev, a, opt))
}

// classArgs are the tensors of a row loss with class-index targets.
func classArgs[T flt](x []T, tg []int32, n, c int, red losses.Reduction, pr []perRow) (*result[T], losses.ClassTargetArgs) {
	r := &result[T]{Grad: make([]T, max(n*c, 0))}
	var lt losses.Tensor
	r.Loss, lt = lossOut[T](red, n)
	a := losses.ClassTargetArgs{Input: losses.HostTensor(x, n, c), Target: losses.HostTensor(tg, n), Loss: lt,
		GradInput: losses.HostTensor(r.Grad, n, c)}
	a.SampleWeight, a.Mask = perRowTensors[T](pr)
	return r, a
}

// rowArgs are the tensors of a row loss with a float target [n, c].
func rowArgs[T flt](x, y []T, n, c int, red losses.Reduction, pr []perRow) (*result[T], losses.RowArgs) {
	r := &result[T]{Grad: make([]T, max(n*c, 0))}
	var lt losses.Tensor
	r.Loss, lt = lossOut[T](red, n)
	a := losses.RowArgs{Input: losses.HostTensor(x, n, c), Target: losses.HostTensor(y, n, c), Loss: lt,
		GradInput: losses.HostTensor(r.Grad, n, c)}
	a.SampleWeight, a.Mask = perRowTensors[T](pr)
	return r, a
}

func nllSlices[T flt](dev device.Device, x []T, tg []int32, n, c int, opt losses.NLLLossOptions, pr ...perRow) (*result[T], error) {
	r, a := classArgs(x, tg, n, c, opt.Reduction, pr)
	return done(r, losses.NLLLoss(dev, a, opt))
}

func focalSlices[T flt](dev device.Device, x []T, tg []int32, n, c int, opt losses.FocalLossOptions, pr ...perRow) (*result[T], error) {
	r, a := classArgs(x, tg, n, c, opt.Reduction, pr)
	return done(r, losses.FocalLoss(dev, a, opt))
}

func marginSlices[T flt](dev device.Device, x []T, tg []int32, n, c int, opt losses.MultiMarginLossOptions, pr ...perRow) (*result[T], error) {
	r, a := classArgs(x, tg, n, c, opt.Reduction, pr)
	return done(r, losses.MultiMarginLoss(dev, a, opt))
}

func hingeSlices[T flt](dev device.Device, x, y []T, n, c int, opt losses.CategoricalHingeOptions, pr ...perRow) (*result[T], error) {
	r, a := rowArgs(x, y, n, c, opt.Reduction, pr)
	return done(r, losses.CategoricalHinge(dev, a, opt))
}

func distillSlices[T flt](dev device.Device, student, teacher []T, n, c int, opt losses.DistillKLOptions, pr ...perRow) (*result[T], error) {
	r, a := rowArgs(student, teacher, n, c, opt.Reduction, pr)
	return done(r, losses.DistillKL(dev, a, opt))
}

// seqSlices runs SeqCrossEntropy: logits [n, t, v], targets [n, t].
func seqSlices[T flt](dev device.Device, x []T, tg []int32, n, t, v int, opt losses.SeqCrossEntropyOptions) (*result[T], error) {
	r := &result[T]{Loss: make([]T, 1), Grad: make([]T, max(n*t*v, 0))}
	return done(r, losses.SeqCrossEntropy(dev, losses.SeqCrossEntropyArgs{
		Input:     losses.HostTensor(x, n, t, v),
		Target:    losses.HostTensor(tg, n, t),
		Loss:      losses.HostTensor(r.Loss),
		GradInput: losses.HostTensor(r.Grad, n, t, v),
	}, opt))
}

// mseSlices runs MSELoss on two slices of the same length.
func mseSlices[T flt](dev device.Device, x, y []T, opt losses.MSELossOptions) (*result[T], error) {
	r := &result[T]{Grad: make([]T, len(x)), GradTarget: make([]T, len(y))}
	var lt losses.Tensor
	r.Loss, lt = lossOut[T](opt.Reduction, len(x))
	return done(r, losses.MSELoss(dev, losses.ElementwiseArgs{
		Input:      losses.HostTensor(x),
		Target:     losses.HostTensor(y),
		Loss:       lt,
		GradInput:  losses.HostTensor(r.Grad),
		GradTarget: losses.HostTensor(r.GradTarget),
	}, opt))
}

// rowOp names a function of the softmax family.
type rowOp string

const (
	opSoftmax    rowOp = "softmax"
	opLogSoftmax rowOp = "log_softmax"
	opLogSumExp  rowOp = "logsumexp"
)

// rowOpSlices runs op on x [rows, cols] at temperature tau and its
// backward with the upstream gradient dy (shaped like the output; nil:
// ones). Loss is the output, Grad d(Σ dy·output)/dx.
func rowOpSlices[T flt](dev device.Device, op rowOp, x []T, rows, cols int, tau float64, dy []T) (*result[T], error) {
	out := []int{rows, cols}
	if op == opLogSumExp {
		out = []int{rows}
	}
	r := &result[T]{Loss: make([]T, prod(out)), Grad: make([]T, max(rows*cols, 0))}
	a := losses.SoftmaxArgs{Input: losses.HostTensor(x, rows, cols), Output: losses.HostTensor(r.Loss, out...),
		GradInput: losses.HostTensor(r.Grad, rows, cols)}
	if dy != nil {
		a.GradOutput = losses.HostTensor(dy, out...)
	}
	o := losses.SoftmaxOptions{Temperature: &tau}
	var err error
	switch op {
	case opSoftmax:
		err = losses.Softmax(dev, a, o)
	case opLogSoftmax:
		err = losses.LogSoftmax(dev, a, losses.LogSoftmaxOptions(o))
	case opLogSumExp:
		err = losses.LogSumExp(dev, a, losses.LogSumExpOptions{SoftmaxOptions: o})
	default:
		panic("unknown row op " + string(op))
	}
	return done(r, err)
}

// ctcSlices is a CTC problem as slices with its dimensions: Input
// [T, N, C] ([N, T, C] with BatchFirst); Targets padded [N, S] with
// TargetsPadded = S != 0, else concatenated.
type ctcSlices[T flt] struct {
	Input                       []T
	T, N, C                     int
	Targets                     []int32
	TargetsPadded               int
	InputLengths, TargetLengths []int32
}

// ctcLoss runs CTCLoss on the slices, with every output.
func ctcLoss[T flt](dev device.Device, in ctcSlices[T], opt losses.CTCLossOptions) (*result[T], error) {
	shape := []int{in.T, in.N, in.C}
	if opt.BatchFirst {
		shape = []int{in.N, in.T, in.C}
	}
	n := max(in.N, 0)
	r := &result[T]{Grad: make([]T, prod(shape)), LogLikelihood: make([]T, n), LogLikelihoodBeta: make([]T, n)}
	var lt losses.Tensor
	r.Loss, lt = lossOut[T](opt.Reduction, in.N)
	targets := losses.HostTensor(in.Targets)
	if in.TargetsPadded != 0 {
		targets = losses.HostTensor(in.Targets, in.N, in.TargetsPadded)
	}
	return done(r, losses.CTCLoss(dev, losses.CTCLossArgs{
		LogProbs:          losses.HostTensor(in.Input, shape...),
		Targets:           targets,
		InputLengths:      losses.HostTensor(in.InputLengths, in.N),
		TargetLengths:     losses.HostTensor(in.TargetLengths, in.N),
		Loss:              lt,
		GradLogProbs:      losses.HostTensor(r.Grad, shape...),
		LogLikelihood:     losses.HostTensor(r.LogLikelihood, in.N),
		LogLikelihoodBeta: losses.HostTensor(r.LogLikelihoodBeta, in.N),
	}, opt))
}

// pwKind names an elementwise loss for the table-driven tests.
type pwKind int

const (
	pwMSE pwKind = iota
	pwL1
	pwHuber
	pwSmoothL1
	pwLogCosh
	pwMeanAbsolutePercentageError
	pwMeanSquaredLogarithmicError
	pwBinaryCrossEntropy
	pwBinaryCrossEntropyWithLogits
	pwSigmoidFocal
	pwHingeEmbedding
	pwSoftMargin
	pwHinge
	pwSquaredHinge
	pwKLDiv
	pwPoissonNLL
	pwGaussianNLL
	pwCount
)

var pwNames = [pwCount]string{"mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "log_cosh",
	"mean_absolute_percentage_error", "mean_squared_logarithmic_error", "binary_cross_entropy",
	"binary_cross_entropy_with_logits", "sigmoid_focal_loss", "hinge_embedding_loss", "soft_margin_loss",
	"hinge", "squared_hinge", "kl_div", "poisson_nll_loss", "gaussian_nll_loss"}

func (p pwKind) String() string { return pwNames[p] }

// labels: the target holds ±1 labels (LabelArgs: no gradient w.r.t. it).
func (p pwKind) labels() bool {
	return p == pwHingeEmbedding || p == pwSoftMargin || p == pwHinge || p == pwSquaredHinge
}

// pwAll lists every elementwise loss.
func pwAll() []pwKind {
	out := make([]pwKind, pwCount)
	for i := range out {
		out[i] = pwKind(i)
	}
	return out
}

// pwOpts holds the options of every elementwise loss; pwRun passes each
// loss the fields its options type has.
type pwOpts struct {
	Reduction                losses.Reduction
	NaN                      losses.NaNPolicy
	SkipInputCheck           bool
	Delta, Beta, Margin, Eps *float64
	Alpha, Gamma             *float64
	LogTarget, Full          bool
	LogInput                 *bool
}

// pwData holds the tensors of an elementwise loss as slices. Shape is
// input's shape (nil: 1-D). Target, Weight, Mask and Var as long as input
// take its shape, other lengths a 1-D shape, unless their own shape is
// given.
type pwData[T flt] struct {
	Input, Target []T
	Shape         []int
	Weight        []T
	WeightShape   []int
	Mask          []bool
	MaskShape     []int
	PosWeight     []T // [len]: one per class, input's last dimension
	Var           []T
	VarShape      []int
}

// pwRun runs elementwise loss p with GradInput, GradTarget (unless the
// target holds labels) and GradVar (with Var).
func pwRun[T flt](dev device.Device, p pwKind, d pwData[T], o pwOpts) (*result[T], error) {
	shape := d.Shape
	if shape == nil {
		shape = []int{len(d.Input)}
	}
	n := prod(shape)
	like := func(l int, s []int) []int {
		switch {
		case s != nil:
			return s
		case l == n:
			return shape
		}
		return []int{l}
	}
	r := &result[T]{Grad: make([]T, n)}
	var a pwArgs
	r.Loss, a.Loss = lossOut[T](o.Reduction, shape...)
	tshape := like(len(d.Target), nil)
	a.Input, a.Target = losses.HostTensor(d.Input, shape...), losses.HostTensor(d.Target, tshape...)
	a.GradInput = losses.HostTensor(r.Grad, shape...)
	if d.Weight != nil {
		a.Weight = losses.HostTensor(d.Weight, like(len(d.Weight), d.WeightShape)...)
	}
	if d.Mask != nil {
		a.Mask = losses.HostTensor(mask32(d.Mask), like(len(d.Mask), d.MaskShape)...)
	}
	if d.PosWeight != nil {
		a.PosWeight = losses.HostTensor(d.PosWeight)
	}
	if d.Var != nil {
		vs := like(len(d.Var), d.VarShape)
		r.GradVar = make([]T, len(d.Var))
		a.Var, a.GradVar = losses.HostTensor(d.Var, vs...), losses.HostTensor(r.GradVar, vs...)
	}
	if !p.labels() {
		r.GradTarget = make([]T, len(d.Target))
		a.GradTarget = losses.HostTensor(r.GradTarget, tshape...)
	}
	return done(r, pwCall(dev, p, a, o))
}

// pwArgs are the tensors of every elementwise loss; pwCall passes each
// loss those its Args have (and panics on any other).
type pwArgs struct {
	Input, Target, Weight, Mask, PosWeight, Var losses.Tensor
	Loss, GradInput, GradTarget, GradVar        losses.Tensor
}

func pwCall(dev device.Device, p pwKind, a pwArgs, o pwOpts) error {
	if a.PosWeight.Present() && p != pwBinaryCrossEntropyWithLogits {
		panic(fmt.Sprintf("%s takes no pos_weight", p))
	}
	if (a.Var.Present() || a.GradVar.Present()) && p != pwGaussianNLL {
		panic(fmt.Sprintf("%s takes no var", p))
	}
	if a.GradTarget.Present() && p.labels() {
		panic(fmt.Sprintf("%s has no grad_target", p))
	}
	ea := losses.ElementwiseArgs{Input: a.Input, Target: a.Target, Weight: a.Weight, Mask: a.Mask, Loss: a.Loss,
		GradInput: a.GradInput, GradTarget: a.GradTarget}
	la := losses.LabelArgs{Input: a.Input, Target: a.Target, Weight: a.Weight, Mask: a.Mask, Loss: a.Loss, GradInput: a.GradInput}
	base := losses.ElementwiseOptions{Reduction: o.Reduction, NaN: o.NaN, SkipInputCheck: o.SkipInputCheck}
	switch p {
	case pwMSE:
		return losses.MSELoss(dev, ea, losses.MSELossOptions{ElementwiseOptions: base})
	case pwL1:
		return losses.L1Loss(dev, ea, losses.L1LossOptions{ElementwiseOptions: base})
	case pwHuber:
		return losses.HuberLoss(dev, ea, losses.HuberLossOptions{ElementwiseOptions: base, Delta: o.Delta})
	case pwSmoothL1:
		return losses.SmoothL1Loss(dev, ea, losses.SmoothL1LossOptions{ElementwiseOptions: base, Beta: o.Beta})
	case pwLogCosh:
		return losses.LogCosh(dev, ea, losses.LogCoshOptions{ElementwiseOptions: base})
	case pwMeanAbsolutePercentageError:
		return losses.MeanAbsolutePercentageError(dev, ea, losses.MeanAbsolutePercentageErrorOptions{ElementwiseOptions: base, Eps: o.Eps})
	case pwMeanSquaredLogarithmicError:
		return losses.MeanSquaredLogarithmicError(dev, ea, losses.MeanSquaredLogarithmicErrorOptions{ElementwiseOptions: base, Eps: o.Eps})
	case pwBinaryCrossEntropy:
		return losses.BinaryCrossEntropy(dev, ea, losses.BinaryCrossEntropyOptions{ElementwiseOptions: base})
	case pwBinaryCrossEntropyWithLogits:
		return losses.BinaryCrossEntropyWithLogits(dev, losses.BinaryCrossEntropyWithLogitsArgs{Input: a.Input, Target: a.Target,
			Weight: a.Weight, Mask: a.Mask, PosWeight: a.PosWeight, Loss: a.Loss, GradInput: a.GradInput, GradTarget: a.GradTarget},
			losses.BinaryCrossEntropyWithLogitsOptions{ElementwiseOptions: base})
	case pwSigmoidFocal:
		return losses.SigmoidFocalLoss(dev, ea, losses.SigmoidFocalLossOptions{ElementwiseOptions: base, Alpha: o.Alpha, Gamma: o.Gamma})
	case pwHingeEmbedding:
		return losses.HingeEmbeddingLoss(dev, la, losses.HingeEmbeddingLossOptions{ElementwiseOptions: base, Margin: o.Margin})
	case pwSoftMargin:
		return losses.SoftMarginLoss(dev, la, losses.SoftMarginLossOptions{ElementwiseOptions: base})
	case pwHinge:
		return losses.Hinge(dev, la, losses.HingeOptions{ElementwiseOptions: base})
	case pwSquaredHinge:
		return losses.SquaredHinge(dev, la, losses.SquaredHingeOptions{ElementwiseOptions: base})
	case pwKLDiv:
		return losses.KLDiv(dev, ea, losses.KLDivOptions{ElementwiseOptions: base, LogTarget: o.LogTarget})
	case pwPoissonNLL:
		return losses.PoissonNLLLoss(dev, ea, losses.PoissonNLLLossOptions{ElementwiseOptions: base, LogInput: o.LogInput,
			Full: o.Full, Eps: o.Eps})
	case pwGaussianNLL:
		return losses.GaussianNLLLoss(dev, losses.GaussianNLLLossArgs{Input: a.Input, Target: a.Target, Var: a.Var,
			Weight: a.Weight, Mask: a.Mask, Loss: a.Loss, GradInput: a.GradInput, GradTarget: a.GradTarget, GradVar: a.GradVar},
			losses.GaussianNLLLossOptions{ElementwiseOptions: base, Full: o.Full, Eps: o.Eps})
	}
	panic(fmt.Sprintf("unknown elementwise loss %d", int(p)))
}
