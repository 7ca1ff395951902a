package losses

import (
	"fmt"
	"math"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// The overlap losses of dense prediction: dice_loss (with its Jaccard
// form), tversky_loss and generalized_dice_loss, over an input
// [N, C, *spatial] (class dimension not contiguous: its stride is the
// product S of the spatial dimensions). Each call launches dice_partials
// (per sample and pixel chunk, per class: the chunk's sums), dice_combine
// (per row: the row's sums), dice_finish (per row: the loss and the two
// coefficients of its gradient, and the reduction) and, for the gradient,
// dice_grad (per pixel, through the activation). Every reduction is a
// fixed tree: the same call twice is bitwise identical.

// Dice conventions (OverlapOptions.Convention).
const (
	// ConventionMONAI is MONAI's DiceLoss / TverskyLoss /
	// GeneralizedDiceLoss: one loss per (sample, class) (per class with
	// Batch), smooth_nr and smooth_dr.
	ConventionMONAI = "monai"
	// ConventionSMP is segmentation_models_pytorch's DiceLoss /
	// JaccardLoss / TverskyLoss: one loss per class pooled over the batch
	// and the pixels, classes absent from the target dropped, smooth and
	// an eps clamp of the denominator.
	ConventionSMP = "smp"
)

// DiceArgs are the tensors of the overlap losses.
type DiceArgs struct {
	// Input [N, C, *spatial] (at least one spatial dimension): logits, or
	// probabilities with activation none.
	Input Tensor `loss:"input,in"`
	// Target is class indices, int32 [N, *spatial] (one-hot inside, never
	// stored), or a float target shaped like Input (one-hot or soft).
	Target Tensor `loss:"target,in,any"`
	// Loss: one element, or with reduction None [N, C'] (C' = the classes
	// kept), [C'] with Batch or the smp convention, [N] (generalized
	// Dice; [1] with Batch).
	Loss Tensor `loss:"loss,out"`
	// GradInput, shaped like Input, may be Input itself.
	GradInput Tensor `loss:"grad_input,grad"`
}

// OverlapOptions are the options shared by the overlap losses. The zero
// value is MONAI's defaults (activation none, include_background true,
// smooth_nr = smooth_dr = 1e-5, reduction mean).
type OverlapOptions struct {
	// Activation applied to the input: "none" (or ""), "sigmoid", or
	// "softmax" over the classes of each pixel. (MONAI's sigmoid and
	// softmax booleans; SMP's from_logits with its mode.) With C = 1 the
	// softmax is skipped, as MONAI does (with a warning there).
	Activation string `json:"activation"`
	// IncludeBackground false leaves class 0 out of the loss (after the
	// softmax, which still runs over every class); ignored when C = 1, as
	// in MONAI. nil means true.
	IncludeBackground *bool `json:"include_background"`
	// SmoothNr and SmoothDr (monai convention) are added to the numerator
	// and the denominator; nil means 1e-5. Must be >= 0 and finite.
	SmoothNr *float64 `json:"smooth_nr"`
	SmoothDr *float64 `json:"smooth_dr"`
	// Batch pools the batch: one loss per class over every sample's pixels
	// (monai convention; the smp convention always pools).
	Batch bool `json:"batch"`
	// IgnoreIndex (class-index targets only; nil: none): pixels whose
	// target is IgnoreIndex contribute nothing (their prediction and
	// target both count as 0) and get a zero gradient. With a float target
	// it is an error.
	IgnoreIndex *int `json:"ignore_index"`
	// SoftLabel uses the soft-label form of the intersection,
	// I = (Σ|p| + Σ|t| − Σ|p − t|)/2, P = Σ|p|, T = Σ|t| (the same as Σ p·t
	// for hard labels), as MONAI's and SMP's soft_label options do.
	SoftLabel bool `json:"soft_label"`
	// Reduction: Mean averages the losses (over the samples and the kept
	// classes, or as said per loss), Sum adds them, None returns them.
	Reduction Reduction `json:"reduction"`
	// Convention: "monai" (or "") or "smp".
	Convention string `json:"convention"`
	// Smooth (smp convention) is added to the numerator and the
	// denominator (0 by default); Eps (smp, nil: 1e-7) is the lower clamp
	// of the denominator.
	Smooth float64  `json:"smooth"`
	Eps    *float64 `json:"eps"`
	// SkipTargetCheck skips the read-back that checks the class indices;
	// an index outside [0, C) that is not IgnoreIndex is then a target of
	// zeros instead of an error.
	SkipTargetCheck bool `json:"skip_target_check"`
}

// DiceLossOptions are the options of dice_loss.
type DiceLossOptions struct {
	OverlapOptions
	// SquaredPred uses Σp² and Σt² in the denominator (monai only).
	SquaredPred bool `json:"squared_pred"`
	// Jaccard gives the IoU loss: the denominator minus the intersection.
	Jaccard bool `json:"jaccard"`
	// Weight [C'] multiplies each class's loss (monai only; as in MONAI,
	// not used when one class is kept). Must be >= 0 and finite.
	Weight []float64 `json:"weight"`
}

// TverskyLossOptions are the options of tversky_loss.
type TverskyLossOptions struct {
	OverlapOptions
	// Alpha weighs the false positives, Beta the false negatives; nil
	// means 0.5 each (the Dice loss).
	Alpha *float64 `json:"alpha"`
	Beta  *float64 `json:"beta"`
	// Gamma is the focal Tversky exponent (nil: 1, the plain loss): monai
	// raises each row's loss to it, smp the mean (reduction mean only).
	Gamma *float64 `json:"gamma"`
	// Weight [C'] multiplies each class's loss (monai only).
	Weight []float64 `json:"weight"`
}

// GeneralizedDiceLossOptions are the options of generalized_dice_loss
// (monai convention only).
type GeneralizedDiceLossOptions struct {
	OverlapOptions
	// WType is the class weight of the target volume T: "square" (or "",
	// 1/T²), "simple" (1/T) or "uniform" (1). An infinite weight (a class
	// absent from the target) becomes the largest finite weight of its
	// sample (of the batch with Batch), 0 if there is none.
	WType string `json:"w_type"`
}

// DiceCELossOptions are the options of dice_ce_loss (MONAI's DiceCELoss,
// convention monai only): the dice options, the two factors and the
// cross-entropy's label smoothing. Weight (length C) weighs both terms:
// the classes of the Dice term and, as torch's cross_entropy weight, the
// cross-entropy (not with include_background false, which MONAI refuses
// too). Reduction is mean or sum.
type DiceCELossOptions struct {
	DiceLossOptions
	// LambdaDice and LambdaCE multiply the two terms; nil means 1. Must be
	// >= 0 and finite.
	LambdaDice *float64 `json:"lambda_dice"`
	LambdaCE   *float64 `json:"lambda_ce"`
	// LabelSmoothing ε in [0, 1] of the cross-entropy term.
	LabelSmoothing float64 `json:"label_smoothing"`
}

func (o OverlapOptions) reduction() Reduction { return o.Reduction }

// overlapCall is one call's settings after validation.
type overlapCall struct {
	name                                string
	kind, flags                         int32
	snr, sdr, alpha, beta, gamma, eps   float64
	weight                              []float64
	ignore                              int
	red                                 Reduction
	n, c, s, c0                         int
	skip                                bool
	intTarget, batchRows, gdl, smp, tvk bool
	// dice_ce_loss: the cross-entropy term
	ce                   bool
	ceWeight             []float64
	lambdaDice, lambdaCE float64
	labelSmoothing       float64 // the kernels' ce_eps: label smoothing, or the focal term's gamma
	// dice_focal_loss: the focal term (alpha in ceP1)
	focal bool
	ceP1  float64
}

// opt2 returns *p, or def when p is nil.
func opt2(p *float64, def float64) float64 {
	if p == nil {
		return def
	}
	return *p
}

// settings validates the options shared by the overlap losses for input
// [n, c, s] and fills the call.
func (o OverlapOptions) settings(oc *overlapCall) error {
	name := oc.name
	switch o.Activation {
	case "", "none":
	case "sigmoid":
		oc.flags |= kernelspec.DiceSigmoid
	case "softmax":
		if oc.c > 1 {
			oc.flags |= kernelspec.DiceSoftmax
		}
	default:
		return argErr(name, "activation", "is %q: want none, sigmoid or softmax", o.Activation)
	}
	switch o.Convention {
	case "", ConventionMONAI:
	case ConventionSMP:
		oc.smp = true
		oc.flags |= kernelspec.DiceSMP | kernelspec.DiceBatch
	default:
		return argErr(name, "convention", "is %q: want monai or smp", o.Convention)
	}
	if !o.Reduction.valid() {
		return argErr(name, "reduction", "unknown reduction %d", int(o.Reduction))
	}
	oc.red = o.Reduction
	if o.Batch {
		oc.flags |= kernelspec.DiceBatch
	}
	oc.batchRows = oc.flags&kernelspec.DiceBatch != 0
	if o.IncludeBackground != nil && !*o.IncludeBackground && oc.c > 1 {
		oc.c0 = 1
	}
	for _, v := range []struct {
		arg string
		p   *float64
		def float64
		dst *float64
	}{{"smooth_nr", o.SmoothNr, 1e-5, &oc.snr}, {"smooth_dr", o.SmoothDr, 1e-5, &oc.sdr}, {"eps", o.Eps, 1e-7, &oc.eps}} {
		x := opt2(v.p, v.def)
		if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
			return argErr(name, v.arg, "is %v: want a finite value >= 0", x)
		}
		*v.dst = x
	}
	if math.IsNaN(o.Smooth) || math.IsInf(o.Smooth, 0) || o.Smooth < 0 {
		return argErr(name, "smooth", "is %v: want a finite value >= 0", o.Smooth)
	}
	if oc.smp {
		oc.snr, oc.sdr = o.Smooth, o.Smooth
		if o.SmoothNr != nil || o.SmoothDr != nil || o.Batch {
			return argErr(name, "convention", "smp takes smooth and eps (and always pools the batch): smooth_nr, smooth_dr and batch are monai options")
		}
	} else if o.Smooth != 0 || o.Eps != nil {
		return argErr(name, "convention", "smooth and eps are smp options: monai takes smooth_nr and smooth_dr")
	}
	if o.SoftLabel {
		oc.flags |= kernelspec.DiceSoftLabel
	}
	if o.IgnoreIndex != nil {
		if !oc.intTarget {
			return argErr(name, "ignore_index", "is set, but the target is a float tensor: ignore_index applies to class-index targets only")
		}
		if err := checkIgnoreIndex(name, *o.IgnoreIndex); err != nil {
			return err
		}
		oc.ignore = *o.IgnoreIndex
		oc.flags |= kernelspec.DiceIgnore
	}
	oc.skip = o.SkipTargetCheck
	return nil
}

// classWeights validates a per-class weight of the kept classes.
func (oc *overlapCall) classWeights(w []float64) error {
	if w == nil {
		return nil
	}
	if oc.smp {
		return argErr(oc.name, "weight", "is a monai option (the smp convention has no class weights)")
	}
	kept := oc.c - oc.c0
	if len(w) != kept {
		return argErr(oc.name, "weight", "has %d elements, want one per class kept (%d)", len(w), kept)
	}
	for i, v := range w {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return argErr(oc.name, "weight", "weight[%d] = %v: want a finite value >= 0", i, v)
		}
	}
	if kept > 1 { // MONAI applies class weights only with more than one class
		oc.weight = make([]float64, oc.c)
		copy(oc.weight[oc.c0:], w)
		oc.flags |= kernelspec.DiceWeight
	}
	return nil
}

// lossLen is the number of loss elements with reduction None.
func (oc *overlapCall) lossShape() []int {
	if oc.red != None {
		return []int{}
	}
	switch {
	case oc.gdl && oc.batchRows:
		return []int{1}
	case oc.gdl:
		return []int{oc.n}
	case oc.batchRows:
		return []int{oc.c - oc.c0}
	}
	return []int{oc.n, oc.c - oc.c0}
}

func (o DiceLossOptions) call(oc *overlapCall) error {
	oc.kind = kernelspec.DiceKindDice
	if err := o.settings(oc); err != nil {
		return err
	}
	if o.SquaredPred {
		if oc.smp {
			return argErr(oc.name, "squared_pred", "is a monai option")
		}
		oc.flags |= kernelspec.DiceSquared
		oc.flags &^= kernelspec.DiceSoftLabel // the same intersection with p², t²
	}
	if o.Jaccard {
		oc.flags |= kernelspec.DiceJaccard
	}
	return oc.classWeights(o.Weight)
}

func (o DiceCELossOptions) call(oc *overlapCall) error {
	w := o.Weight
	if w != nil && o.IncludeBackground != nil && !*o.IncludeBackground && oc.c > 1 {
		return argErr(oc.name, "weight", "with include_background false: the cross-entropy's weight has one element per class (C), the Dice term's one per class kept (MONAI refuses it too)")
	}
	if err := o.DiceLossOptions.call(oc); err != nil {
		return err
	}
	if oc.smp {
		return argErr(oc.name, "convention", "dice_ce_loss is MONAI's: the smp convention has none")
	}
	if oc.red == None {
		return argErr(oc.name, "reduction", "none is not supported by dice_ce_loss (MONAI's DiceCELoss takes mean or sum)")
	}
	if oc.intTarget && oc.c == 1 {
		return argErr(oc.name, "target", "with C = 1 the cross-entropy term is a binary cross-entropy: give a float target")
	}
	oc.ce, oc.lambdaDice, oc.lambdaCE, oc.labelSmoothing = true, or1(o.LambdaDice), or1(o.LambdaCE), o.LabelSmoothing
	for _, v := range []struct {
		arg string
		x   float64
	}{{"lambda_dice", oc.lambdaDice}, {"lambda_ce", oc.lambdaCE}} {
		if math.IsNaN(v.x) || math.IsInf(v.x, 0) || v.x < 0 {
			return argErr(oc.name, v.arg, "is %v: want a finite value >= 0", v.x)
		}
	}
	if !(o.LabelSmoothing >= 0 && o.LabelSmoothing <= 1) {
		return argErr(oc.name, "label_smoothing", "is %v: want a value in [0, 1]", o.LabelSmoothing)
	}
	oc.flags |= kernelspec.DiceCE
	if w != nil && oc.c > 1 {
		oc.ceWeight = w
		oc.flags |= kernelspec.DiceCEWeight
	}
	return nil
}

func or1(p *float64) float64 { return opt2(p, 1) }

// DiceFocalLossOptions are the options of dice_focal_loss (MONAI's
// DiceFocalLoss, convention monai only): the dice options, the two
// factors and MONAI's FocalLoss options. Weight [C'] weighs the classes
// kept in both terms. Reduction is mean or sum.
type DiceFocalLossOptions struct {
	DiceLossOptions
	// LambdaDice and LambdaFocal multiply the two terms; nil means 1.
	LambdaDice  *float64 `json:"lambda_dice"`
	LambdaFocal *float64 `json:"lambda_focal"`
	// Gamma is the focusing exponent γ >= 0; nil means 2.
	Gamma *float64 `json:"gamma"`
	// Alpha (nil: none) balances the classes: with the softmax form 1 − α
	// for the first class kept and α for the others (MONAI drops it when
	// include_background is false), with the sigmoid form t·α + (1 − t)(1 − α).
	Alpha *float64 `json:"alpha"`
}

func (o DiceFocalLossOptions) call(oc *overlapCall) error {
	if err := o.DiceLossOptions.call(oc); err != nil {
		return err
	}
	if oc.smp {
		return argErr(oc.name, "convention", "dice_focal_loss is MONAI's: the smp convention has none")
	}
	if oc.red == None {
		return argErr(oc.name, "reduction", "none is not supported by dice_focal_loss (give mean or sum)")
	}
	oc.focal, oc.lambdaDice, oc.lambdaCE = true, or1(o.LambdaDice), or1(o.LambdaFocal)
	oc.labelSmoothing = opt2(o.Gamma, 2) // the focal term's gamma (ce_eps of the kernels)
	for _, v := range []struct {
		arg string
		x   float64
	}{{"lambda_dice", oc.lambdaDice}, {"lambda_focal", oc.lambdaCE}, {"gamma", oc.labelSmoothing}} {
		if math.IsNaN(v.x) || math.IsInf(v.x, 0) || v.x < 0 {
			return argErr(oc.name, v.arg, "is %v: want a finite value >= 0", v.x)
		}
	}
	oc.flags |= kernelspec.DiceFocal
	softmax := o.Activation == "softmax"
	if softmax {
		oc.flags |= kernelspec.DiceFocalSoftmax
	}
	if oc.c0 == 1 {
		oc.flags |= kernelspec.DiceNoBG
	}
	if o.Alpha != nil {
		a := *o.Alpha
		if math.IsNaN(a) || a < 0 || a > 1 {
			return argErr(oc.name, "alpha", "is %v: want a value in [0, 1]", a)
		}
		if !(softmax && oc.c0 == 1) { // MONAI drops alpha there
			oc.ceP1 = a
			oc.flags |= kernelspec.DiceFocalAlpha
		}
	}
	if oc.weight != nil {
		oc.ceWeight = oc.weight
		oc.flags |= kernelspec.DiceCEWeight
	}
	return nil
}

func (o TverskyLossOptions) call(oc *overlapCall) error {
	oc.kind, oc.tvk = kernelspec.DiceKindTversky, true
	if err := o.settings(oc); err != nil {
		return err
	}
	oc.alpha, oc.beta, oc.gamma = opt2(o.Alpha, 0.5), opt2(o.Beta, 0.5), opt2(o.Gamma, 1)
	for _, v := range []struct {
		arg string
		x   float64
	}{{"alpha", oc.alpha}, {"beta", oc.beta}} {
		if math.IsNaN(v.x) || math.IsInf(v.x, 0) || v.x < 0 {
			return argErr(oc.name, v.arg, "is %v: want a finite value >= 0", v.x)
		}
	}
	if math.IsNaN(oc.gamma) || math.IsInf(oc.gamma, 0) || oc.gamma <= 0 {
		return argErr(oc.name, "gamma", "is %v: want a finite value > 0", oc.gamma)
	}
	if oc.smp && oc.gamma != 1 && oc.red != Mean {
		return argErr(oc.name, "gamma", "is %v: with the smp convention gamma applies to the mean (reduction mean only)", oc.gamma)
	}
	return oc.classWeights(o.Weight)
}

func (o GeneralizedDiceLossOptions) call(oc *overlapCall) error {
	oc.gdl = true
	switch o.WType {
	case "", "square":
		oc.kind = kernelspec.DiceKindGDLSquare
	case "simple":
		oc.kind = kernelspec.DiceKindGDLSimple
	case "uniform":
		oc.kind = kernelspec.DiceKindGDLUniform
	default:
		return argErr(oc.name, "w_type", "is %q: want square, simple or uniform", o.WType)
	}
	if o.Convention == ConventionSMP {
		return argErr(oc.name, "convention", "generalized_dice_loss is MONAI's: the smp convention has none")
	}
	return o.settings(oc)
}

// overlapShapes returns the loss shape of a call (nil when the inputs do
// not say: the call then reports the error).
func overlapShapes(a DiceArgs, name string, cfg func(*overlapCall) error) map[string][]int {
	oc := overlapCall{name: name}
	if len(a.Input.Shape) >= 3 {
		oc.n, oc.c = a.Input.Shape[0], a.Input.Shape[1]
	}
	oc.intTarget = a.Target.Present() && a.Target.DType() == device.Int32
	if cfg(&oc) != nil {
		return map[string][]int{"loss": {}}
	}
	return map[string][]int{"loss": oc.lossShape()}
}

// DiceLoss computes MONAI's DiceLoss (convention monai, the default) or
// segmentation_models_pytorch's DiceLoss / JaccardLoss (convention smp)
// over input [N, C, *spatial] and target indices [N, *spatial] or a float
// target shaped like input, and d loss / d input.
//
// With p the activated input and t the (one-hot) target, per row — a
// (sample, class), or a class with Batch or smp — I = Σ p·t (the
// soft-label form with SoftLabel), P = Σ p (Σ p² with SquaredPred),
// T = Σ t (Σ t²), sums over the row's pixels, and
//
//	monai:  L = 1 − (2I + smooth_nr) / (P + T + smooth_dr)
//	        Jaccard: L = 1 − (2I + smooth_nr) / (2(P + T − I) + smooth_dr)
//	smp:    L = [T > 0]·(1 − (2I + smooth) / max(P + T + smooth, eps))
//	        Jaccard: L = [T > 0]·(1 − (I + smooth) / max(P + T − I + smooth, eps))
//
// times Weight[k] (monai). Mean averages the rows kept (smp: over the
// classes, absent ones counting as 0, as SMP's loss·mask then mean).
func DiceLoss(dev device.Device, a DiceArgs, opt DiceLossOptions) error {
	return overlap(dev, "dice_loss", a, opt.call)
}

// TverskyLoss computes MONAI's TverskyLoss (and the focal Tversky loss
// with Gamma) or SMP's TverskyLoss: per row, with I, P, T as in DiceLoss
// (no squared form),
//
//	monai: L = (1 − (I + smooth_nr) / (I + α(P − I) + β(T − I) + smooth_dr))^γ
//	smp:   L = [T > 0]·(1 − (I + smooth) / max(I + α(P − I) + β(T − I) + smooth, eps)),
//	       and the loss is (mean L)^γ
//
// α weighs the false positives P − I, β the false negatives T − I.
func TverskyLoss(dev device.Device, a DiceArgs, opt TverskyLossOptions) error {
	return overlap(dev, "tversky_loss", a, opt.call)
}

// GeneralizedDiceLoss computes MONAI's GeneralizedDiceLoss (Sudre et al.
// 2017): per sample (or for the batch with Batch), with per-class I_k,
// P_k, T_k as in DiceLoss and w_k from WType,
//
//	L = 1 − (2 Σ_k w_k I_k + smooth_nr) / (Σ_k w_k (P_k + T_k) + smooth_dr)
//
// Mean averages over the samples; None gives [N] ([1] with Batch).
func GeneralizedDiceLoss(dev device.Device, a DiceArgs, opt GeneralizedDiceLossOptions) error {
	return overlap(dev, "generalized_dice_loss", a, opt.call)
}

// DiceCELoss computes MONAI's DiceCELoss: LambdaDice·Dice + LambdaCE·CE,
// the Dice term as DiceLoss (monai convention) and the cross-entropy over
// the logits (whatever the activation), in the same passes over the
// input: with C > 1 torch's cross_entropy per pixel (softmax over the
// classes of the pixel; class-index targets with Weight, LabelSmoothing
// and IgnoreIndex, Mean = Σ / Σ w_target over the pixels kept; or float
// targets as class probabilities, Mean = Σ / (N·S)); with C = 1 (a float
// target) binary_cross_entropy_with_logits, Mean over N·S. Reduction mean
// or sum.
func DiceCELoss(dev device.Device, a DiceArgs, opt DiceCELossOptions) error {
	return overlap(dev, "dice_ce_loss", a, opt.call)
}

// DiceFocalLoss computes MONAI's DiceFocalLoss: LambdaDice·Dice +
// LambdaFocal·Focal, the Dice term as DiceLoss (monai convention) and
// MONAI's FocalLoss over the logits of the classes kept, in the same
// passes over the input: with activation softmax the softmax form
// −a_k t_k (1 − p_k)^γ log p_k, p the softmax over the classes kept,
// otherwise the sigmoid form a_k·bce(x, t)·σ(−x(2t − 1))^γ (see
// DiceFocalLossOptions for a_k). Mean averages over the elements
// [N, C', *spatial] (pixels ignored by IgnoreIndex left out), Sum adds
// each (sample, class)'s spatial mean, as MONAI's FocalLoss does.
func DiceFocalLoss(dev device.Device, a DiceArgs, opt DiceFocalLossOptions) error {
	return overlap(dev, "dice_focal_loss", a, opt.call)
}

func overlap(dev device.Device, name string, a DiceArgs, cfg func(*overlapCall) error) error {
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	s := stage{dev: dev, loss: name}
	return s.finish(overlapStaged(&s, name, a, cfg))
}

func overlapStaged(s *stage, name string, a DiceArgs, cfg func(*overlapCall) error) error {
	if !a.Input.Present() {
		return argErr(name, "input", "buffer is nil")
	}
	if err := a.Input.check(name, "input"); err != nil {
		return err
	}
	if err := a.Target.check(name, "target"); err != nil {
		return err
	}
	if len(a.Input.Shape) < 3 {
		return argErr(name, "input", "has shape %v: want [N, C, *spatial] with at least one spatial dimension", a.Input.Shape)
	}
	oc := overlapCall{name: name, n: a.Input.Shape[0], c: a.Input.Shape[1], s: 1, lambdaDice: 1}
	for _, d := range a.Input.Shape[2:] {
		oc.s *= d
	}
	if oc.c == 0 {
		return argErr(name, "input", "has shape %v: C (number of classes) must be at least 1", a.Input.Shape)
	}
	if !a.Target.Present() {
		return argErr(name, "target", "buffer is nil")
	}
	ft := a.Input.DType()
	if !ft.IsFloat() {
		return argErr(name, "input", "dtype is %s, want a float type", ft)
	}
	oc.intTarget = a.Target.DType() == device.Int32
	if oc.intTarget {
		want := append([]int{oc.n}, a.Input.Shape[2:]...)
		if !sameShape(a.Target.Shape, want) {
			return argErr(name, "target", "has shape %v: want [N, *spatial] = %v (class indices) or input's shape %v", a.Target.Shape, want, a.Input.Shape)
		}
		oc.flags |= kernelspec.DiceTargetIndex
	} else {
		if a.Target.DType() != ft {
			return argErr(name, "target", "dtype is %s: want int32 class indices or input's %s", a.Target.DType(), ft)
		}
		if !sameShape(a.Target.Shape, a.Input.Shape) {
			return argErr(name, "target", "has shape %v: want input's %v (or int32 class indices [N, *spatial])", a.Target.Shape, a.Input.Shape)
		}
		oc.flags |= kernelspec.DiceTargetFloat
	}
	if err := cfg(&oc); err != nil {
		return err
	}
	ls := oc.lossShape()
	nl := 1
	for _, d := range ls {
		nl *= d
	}
	if a.Loss.Present() && a.Loss.Len() != nl {
		return argErr(name, "loss", "has shape %v: want %v", a.Loss.Shape, ls)
	}
	if a.GradInput.Present() && !sameShape(a.GradInput.Shape, a.Input.Shape) {
		return argErr(name, "grad_input", "has shape %v, want %v", a.GradInput.Shape, a.Input.Shape)
	}
	var xb, tg, lossB, grad device.Buffer
	if err := s.bind(in("input", a.Input, &xb), in("target", a.Target, &tg),
		out("loss", a.Loss, &lossB), out("grad_input", a.GradInput, &grad)); err != nil {
		return err
	}
	dev := s.dev
	if ft == device.Float64 && !dev.Info().Float64 {
		return argErr(name, "input", "float64 is not supported on device %s (use float32, or the host device)", dev.Info().Name)
	}
	nel := oc.n * oc.c * oc.s
	if err := checkBuf(name, "input", dev, xb, ft, nel, false); err != nil {
		return err
	}
	if oc.intTarget {
		if err := checkBuf(name, "target", dev, tg, device.Int32, oc.n*oc.s, false); err != nil {
			return err
		}
	} else if err := checkBuf(name, "target", dev, tg, ft, nel, false); err != nil {
		return err
	}
	if err := checkBuf(name, "loss", dev, lossB, ft, nl, false); err != nil {
		return err
	}
	if err := checkBuf(name, "grad_input", dev, grad, ft, nel, true); err != nil {
		return err
	}
	if oc.intTarget && !oc.skip && oc.n*oc.s > 0 {
		if err := checkWorkspace(dev, name, 4*int64(oc.n*oc.s)); err != nil {
			return err
		}
		t := make([]int32, oc.n*oc.s)
		if err := dev.Read(t, tg); err != nil {
			return fmt.Errorf("losses: %s: target: %w", name, err)
		}
		for i, v := range t {
			if (v < 0 || int(v) >= oc.c) && !(oc.flags&kernelspec.DiceIgnore != 0 && int(v) == oc.ignore) {
				if oc.flags&kernelspec.DiceIgnore != 0 {
					return argErr(name, "target", "target[%d] = %d is out of range [0, %d) and is not ignore_index (%d)", i, v, oc.c, oc.ignore)
				}
				return argErr(name, "target", "target[%d] = %d is out of range [0, %d)", i, v, oc.c)
			}
		}
	}
	if nel == 0 {
		return oc.empty(dev, lossB, nl)
	}
	return oc.launch(dev, ft, xb, tg, lossB, grad)
}

// empty writes the loss of an input without pixels (N = 0 or S = 0):
// every row's sums are 0.
func (oc *overlapCall) empty(dev device.Device, lossB device.Buffer, nl int) error {
	groups := oc.n
	if oc.batchRows {
		groups = 1
	}
	kept := oc.c - oc.c0
	// The loss of a row (a group for the generalized Dice) with I = P = T = 0.
	zero := 1 - oc.snr/oc.sdr
	if oc.smp {
		zero = 0 // absent from the target
	} else if oc.tvk && oc.gamma != 1 {
		zero = math.Pow(zero, oc.gamma)
	}
	// per is the number of losses per group, val(k) the k-th of them.
	per := kept
	if oc.gdl {
		per = 1
	}
	val := func(k int) float64 {
		if oc.weight != nil {
			return zero * oc.weight[oc.c0+k]
		}
		return zero
	}
	if oc.red == None {
		if nl == 0 {
			return nil
		}
		if err := checkWorkspace(dev, oc.name, 8*int64(nl)); err != nil {
			return err
		}
		v := make([]float64, nl)
		for i := range v {
			v[i] = val(i % per)
		}
		return writeFloats(dev, lossB, v)
	}
	sum := zero * float64(per)
	if oc.weight != nil {
		sum = 0
		for k := 0; k < per; k++ {
			sum += val(k)
		}
	}
	total := sum * float64(groups)
	if oc.red == Mean {
		total /= float64(groups) * float64(per) // NaN for no loss
		if oc.smp && oc.tvk && oc.gamma != 1 {
			total = math.Pow(total, oc.gamma)
		}
	}
	if oc.ce || oc.focal {
		total *= oc.lambdaDice
		if oc.red == Mean {
			total = math.NaN() // the cross-entropy's or focal term's mean over no element
		}
	}
	return writeFloats(dev, lossB, []float64{total})
}

// diceChunks is the number of pixel chunks per sample of dice_partials:
// about 1024 pixels each, and about 2048 blocks over the batch at most
// (it depends on the shape alone, so results do not depend on the device).
func diceChunks(n, s int) int {
	nb := min((s+1023)/1024, (2048+n-1)/n)
	return max(nb, 1)
}

func (oc *overlapCall) launch(dev device.Device, ft device.DType, x, tg, lossB, grad device.Buffer) error {
	n, c, s := oc.n, oc.c, oc.s
	nb := diceChunks(n, s)
	rows := n * c
	if oc.batchRows {
		rows = c
	}
	var tmp []device.Buffer
	defer func() { pool.put(tmp...) }()
	get := func(dt device.DType, k int) (device.Buffer, error) {
		b, err := pool.get(dev, dt, k)
		if err == nil {
			tmp = append(tmp, b)
		}
		return b, err
	}
	if err := checkWorkspace(dev, oc.name, int64(ft.Size())*int64(n*c*3*nb+rows*5+2*c+2*n*nb+1)); err != nil {
		return err
	}
	part, err := get(ft, n*c*3*nb)
	if err != nil {
		return err
	}
	stats, err := get(ft, rows*3)
	if err != nil {
		return err
	}
	coef, err := get(ft, rows*2)
	if err != nil {
		return err
	}
	w := stats // not read without DiceWeight
	if oc.weight != nil {
		if w, err = get(ft, c); err != nil {
			return err
		}
		if err := writeFloats(dev, w, oc.weight); err != nil {
			return err
		}
	}
	cw, xpart, extra := stats, stats, coef // stand-ins, not read without DiceCE or DiceFocal
	lce := oc.lambdaCE
	if oc.focal && oc.red == Sum {
		lce /= float64(s) // MONAI's focal sum: the spatial mean of each (sample, class), summed
	}
	if oc.ce || oc.focal {
		if xpart, err = get(ft, n*nb*2); err != nil {
			return err
		}
		if extra, err = get(ft, 1); err != nil {
			return err
		}
		if oc.ceWeight != nil {
			if cw, err = get(ft, c); err != nil {
				return err
			}
			if err := writeFloats(dev, cw, oc.ceWeight); err != nil {
				return err
			}
		}
	}
	tidx, tf := tg, x // the target buffer the flags name; a stand-in for the other
	if !oc.intTarget {
		ib, err := get(device.Int32, 1)
		if err != nil {
			return err
		}
		tidx, tf = ib, tg
	}
	ign := int32(oc.ignore)
	flags := oc.flags
	if err := dev.Launch("dice_partials", device.Grid{Blocks: n * nb, Threads: kernelspec.BlockSize}, x, tidx, tf, cw,
		int32(n), int32(c), int32(s), int32(nb), flags, ign, oc.labelSmoothing, oc.ceP1, part, xpart); err != nil {
		return err
	}
	if err := dev.Launch("dice_combine", rowGrid(rows), part, int32(n), int32(c), int32(nb), flags, stats); err != nil {
		return err
	}
	if err := dev.Launch("dice_finish", oneBlock, stats, w, xpart, int32(n), int32(c), int32(oc.c0), oc.kind, flags,
		int32(n*nb), oc.snr, oc.sdr, oc.alpha, oc.beta, oc.gamma, oc.eps, oc.lambdaDice, lce, int32(oc.red),
		lossB, coef, extra); err != nil {
		return err
	}
	if grad == nil {
		return nil
	}
	blocks := min((n*s+kernelspec.BlockSize-1)/kernelspec.BlockSize, kernelspec.DiceGradBlocks)
	return dev.Launch("dice_grad", device.Grid{Blocks: max(blocks, 1), Threads: kernelspec.BlockSize}, x, tidx, tf, coef,
		cw, extra, int32(n), int32(c), int32(s), flags, ign, oc.labelSmoothing, oc.ceP1, grad)
}

func init() {
	kernels := []string{"dice_partials", "dice_combine", "dice_finish", "dice_grad"}
	register("dice_loss", "DiceLoss", DiceLoss, func(a DiceArgs, o DiceLossOptions) map[string][]int {
		return overlapShapes(a, "dice_loss", o.call)
	}, kernels...)
	register("tversky_loss", "TverskyLoss", TverskyLoss, func(a DiceArgs, o TverskyLossOptions) map[string][]int {
		return overlapShapes(a, "tversky_loss", o.call)
	}, kernels...)
	register("generalized_dice_loss", "GeneralizedDiceLoss", GeneralizedDiceLoss,
		func(a DiceArgs, o GeneralizedDiceLossOptions) map[string][]int {
			return overlapShapes(a, "generalized_dice_loss", o.call)
		}, kernels...)
	register("dice_ce_loss", "DiceCELoss", DiceCELoss, func(a DiceArgs, o DiceCELossOptions) map[string][]int {
		return overlapShapes(a, "dice_ce_loss", o.call)
	}, kernels...)
	register("dice_focal_loss", "DiceFocalLoss", DiceFocalLoss, func(a DiceArgs, o DiceFocalLossOptions) map[string][]int {
		return overlapShapes(a, "dice_focal_loss", o.call)
	}, kernels...)
}
