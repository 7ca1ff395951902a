package losses

import (
	"math"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// The metric-aligned losses: soft_f1_loss and soft_mcc_loss, 1 − a soft
// (probability-weighted) F1 score or Matthews correlation. From the
// probabilities p (the input, or sigmoid(input) with activation sigmoid)
// and the target y (0/1 or soft), per class j over the batch:
//
//	tp = Σ p·y,  fp = Σ p·(1 − y),  fn = Σ (1 − p)·y,  tn = Σ (1 − p)·(1 − y)
//
// each sum formed as written (never as a difference of sums). Each call
// launches sm_partials (per block of rows and class: the block's four
// sums), sm_finish (one block: each class's sums over the blocks in order,
// the loss, and the coefficients of the gradient) and, for the gradient,
// sm_grad (per element): no atomics, the same call twice is bitwise
// identical. Workspace: 4·nb·C + 3·C floats, nb = min(⌈N/256⌉, 1024).

// SoftMetricArgs are the tensors of soft_f1_loss and soft_mcc_loss: Input
// and Target of one shape; Loss is one element; GradInput (shaped like
// Input) may be Input itself.
type SoftMetricArgs struct {
	Input     Tensor `loss:"input,in"`
	Target    Tensor `loss:"target,in"`
	Loss      Tensor `loss:"loss,out"`
	GradInput Tensor `loss:"grad_input,grad"`
}

// SoftF1LossOptions are the options of soft_f1_loss; the zero value is
// the defaults.
type SoftF1LossOptions struct {
	// Average: "macro" (or ""): 1 − the mean over the C classes of each
	// class's soft F1; "micro": the sums over every class first, one F1;
	// "binary": the input as one class (any shape), the same as micro.
	Average string `json:"average"`
	// Activation: "none" (or "", the input is probabilities) or "sigmoid"
	// (the input is logits).
	Activation string `json:"activation"`
	// Eps >= 0 is added to the F1 denominator; nil: 1e-16, as the common
	// macro soft-F1 loss.
	Eps *float64 `json:"eps"`
}

// SoftMCCLossOptions are the options of soft_mcc_loss; the zero value is
// segmentation_models_pytorch's MCCLoss.
type SoftMCCLossOptions struct {
	// Activation: "none" (or "", as SMP: the input is probabilities) or
	// "sigmoid".
	Activation string `json:"activation"`
	// Eps >= 0 is added to each of tp, tn, fp and fn; nil: 1e-5 (SMP).
	Eps *float64 `json:"eps"`
}

// SoftF1Loss is 1 − soft F1, the macro soft-F1 loss of multi-label
// classification: input [N, C] (or [N]: C = 1), per class
//
//	F1_j = 2·tp_j / (2·tp_j + fp_j + fn_j + eps)
//
// and the loss 1 − mean_j F1_j (macro), or 1 − F1 of the sums over every
// class (micro, binary). Its gradient w.r.t. p is (F1_j − 2y)/(C·D_j) per
// element (D_j the denominator; C = 1 for micro), times p·(1 − p) through
// the sigmoid. A class with no positive target and p = 0 everywhere has
// F1 = 0 (loss term 1), as in the published formula; with eps = 0 it is
// NaN. No class (C = 0) gives NaN for macro. N = 0: each class's sums are
// 0, F1 = 0, the loss 1.
func SoftF1Loss(dev device.Device, a SoftMetricArgs, o SoftF1LossOptions) error {
	const name = "soft_f1_loss"
	eps := 1e-16
	if o.Eps != nil {
		eps = *o.Eps
	}
	flags := int32(0)
	switch o.Average {
	case "", "macro":
	case "micro", "binary":
		flags |= kernelspec.SMMicro
	default:
		return argErr(name, "average", "is %q: want macro, micro or binary", o.Average)
	}
	return smCall(dev, name, kernelspec.SMF1, a, o.Activation, eps, flags, o.Average == "binary")
}

// SoftMCCLoss is 1 − soft Matthews correlation, segmentation_models_
// pytorch's MCCLoss: the input (any shape, usually [N, 1, H, W]) pooled
// into one set of sums, each plus eps:
//
//	MCC = (tp·tn − fp·fn) / √((tp + fp)(tp + fn)(tn + fp)(tn + fn))
//
// The square root is taken as √((tp + fp)(tp + fn))·√((tn + fp)(tn + fn)),
// which keeps the float32 product in range for any batch. Its gradient
// w.r.t. p is −(y·(tn + fp) − (1 − y)·(tp + fn))/den + MCC·(1/(tp + fp) −
// 1/(tn + fn))/2, times p·(1 − p) through the sigmoid. N = 0: MCC = 0,
// loss 1.
func SoftMCCLoss(dev device.Device, a SoftMetricArgs, o SoftMCCLossOptions) error {
	const name = "soft_mcc_loss"
	eps := 1e-5
	if o.Eps != nil {
		eps = *o.Eps
	}
	return smCall(dev, name, kernelspec.SMMCC, a, o.Activation, eps, kernelspec.SMMicro, true)
}

// smCall validates and launches a softmetric loss; flat takes the input as
// one class of any shape.
func smCall(dev device.Device, name string, op int32, a SoftMetricArgs, act string, eps float64, flags int32, flat bool) error {
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	s := stage{dev: dev, loss: name}
	return s.finish(smStaged(&s, name, op, a, act, eps, flags, flat))
}

func smStaged(s *stage, name string, op int32, a SoftMetricArgs, act string, eps float64, flags int32, flat bool) error {
	switch act {
	case "", "none":
	case "sigmoid":
		flags |= kernelspec.SMSigmoid
	default:
		return argErr(name, "activation", "is %q: want none or sigmoid", act)
	}
	if !(eps >= 0) || math.IsInf(eps, 1) {
		return argErr(name, "eps", "must be finite and >= 0, got %v", eps)
	}
	if !a.Input.Present() {
		return argErr(name, "input", "buffer is nil")
	}
	if !a.Target.Present() {
		return argErr(name, "target", "buffer is nil")
	}
	sh := a.Input.Shape
	if len(sh) == 0 || (!flat && len(sh) > 2) {
		want := "[N, C] or [N]"
		if flat {
			want = "at least one dimension"
		}
		return argErr(name, "input", "has shape %v: want %s", sh, want)
	}
	if !sameShape(a.Target.Shape, sh) {
		return argErr(name, "target", "has shape %v: want input's %v", a.Target.Shape, sh)
	}
	if err := s.check("input", a.Input); err != nil {
		return err
	}
	n, c := a.Input.Len(), 1
	if !flat && len(sh) == 2 {
		n, c = sh[0], sh[1]
	}
	if a.Loss.Present() && a.Loss.Len() != 1 {
		return argErr(name, "loss", "has shape %v: want one element", a.Loss.Shape)
	}
	if a.GradInput.Present() && !sameShape(a.GradInput.Shape, sh) {
		return argErr(name, "grad_input", "has shape %v, want %v", a.GradInput.Shape, sh)
	}
	var x, y, loss, gx device.Buffer
	if err := s.bind(in("input", a.Input, &x), in("target", a.Target, &y), out("loss", a.Loss, &loss),
		out("grad_input", a.GradInput, &gx)); err != nil {
		return err
	}
	dev := s.dev
	ft := x.DType()
	if err := floatType(name, "input", dev, ft); err != nil {
		return err
	}
	for _, cb := range []struct {
		arg string
		b   device.Buffer
		n   int
	}{{"target", y, n * c}, {"loss", loss, 1}, {"grad_input", gx, n * c}} {
		if err := checkBuf(name, cb.arg, dev, cb.b, ft, cb.n, cb.arg != "target"); err != nil {
			return err
		}
	}
	if loss == nil && gx == nil {
		return nil
	}
	nb := partialGrid(n).Blocks
	if n == 0 {
		// No rows: every class has the same (zero) sums, so one class
		// gives the loss without a pass over C classes; there is no
		// gradient to write.
		nb = 0
		c = min(c, 1)
	}
	rpb := 0
	if nb > 0 {
		rpb = (n + nb - 1) / nb
	}
	elem := int64(4)
	if ft == device.Float64 {
		elem = 8
	}
	ws := elem * (4*int64(nb)*int64(c) + 3*int64(c) + 1)
	if err := checkWorkspace(dev, name, ws); err != nil {
		return err
	}
	part, err := pool.get(dev, ft, 4*nb*c)
	if err != nil {
		return err
	}
	defer pool.put(part)
	coef, err := pool.get(dev, ft, 3*c)
	if err != nil {
		return err
	}
	defer pool.put(coef)
	if nb > 0 && c > 0 {
		g := device.Grid{Blocks: nb, Threads: kernelspec.BlockSize}
		if err := dev.Launch("sm_partials", g, x, y, int32(n), int32(c), int32(nb), int32(rpb), flags, part); err != nil {
			return err
		}
	}
	lb := loss
	if lb == nil {
		l, err := pool.get(dev, ft, 1)
		if err != nil {
			return err
		}
		defer pool.put(l)
		lb = l
	}
	if err := dev.Launch("sm_finish", oneBlock, part, int32(nb), int32(c), op, flags, eps, 1.0, coef, lb); err != nil {
		return err
	}
	if gx == nil || n*c == 0 {
		return nil
	}
	return dev.Launch("sm_grad", partialGrid(n*c), x, y, int32(n), int32(c), flags, coef, gx)
}

func smShapes[O any](a SoftMetricArgs, o O) map[string][]int { return map[string][]int{"loss": {}} }

func init() {
	register("soft_f1_loss", "SoftF1Loss", SoftF1Loss, smShapes[SoftF1LossOptions], "sm_partials", "sm_finish", "sm_grad")
	register("soft_mcc_loss", "SoftMCCLoss", SoftMCCLoss, smShapes[SoftMCCLossOptions], "sm_partials", "sm_finish", "sm_grad")
}
