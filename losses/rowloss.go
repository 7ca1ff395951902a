package losses

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// Row-wise losses over an [N, C] input: cross_entropy with probability
// targets, nll_loss, softmax focal loss, multi_margin_loss, Keras'
// categorical_hinge and the knowledge-distillation KL term. Each runs one
// block per row (kernels/*/rowloss.*, host/rowloss.go; the softmax-based
// ones find each row's maximum and sum of exponentials themselves), then
// reduce_sum over the rows.
// With reduction None the gradient is that of the sum of the per-row
// losses.

// rowLossBuffers are the device buffers of a row-wise loss over [N, C].
type rowLossBuffers struct {
	// Input is [N, C], float: logits (log-probabilities for NLLLoss, the
	// student's logits for DistillKL).
	Input device.Buffer
	// Target is int32 [N] class indices (NLLLoss, FocalLoss,
	// MultiMarginLoss), or float [N, C] of Input's dtype: probabilities
	// (CrossEntropyProbs), one-hot or probability targets
	// (CategoricalHinge), the teacher's logits (DistillKL).
	Target device.Buffer
	N, C   int
	// Loss receives the loss: 1 element, or N with reduction None.
	Loss device.Buffer
	// Grad, if not nil, receives d loss / d Input [N, C]. It may be Input
	// itself (the gradient then overwrites it).
	Grad device.Buffer
	// GradTarget, if not nil, receives d loss / d Target [N, C]
	// (CrossEntropyProbs only). It may be Target itself.
	GradTarget device.Buffer
	// SampleWeight, if not nil, is one float weight per row [N]: it
	// multiplies the row's loss and gradients and, as the weights of the
	// elementwise losses, does not change the divisor of Mean.
	SampleWeight device.Buffer
	// Mask, if not nil, is int32 [N]: rows whose mask is 0 contribute
	// nothing (loss and gradients exactly 0, even where they hold NaN)
	// and Mean does not count them (the losses with ignore_index treat
	// them as ignored).
	Mask device.Buffer
}

// crossEntropyProbsOptions are the options of cross_entropy with
// probability targets. The zero value means PyTorch's defaults.
type crossEntropyProbsOptions struct {
	// Reduction: Mean divides the sum by N (not by a sum of weights, as
	// PyTorch does for probability targets).
	Reduction Reduction
	// Weight holds one rescaling weight per class (length C), or nil.
	Weight []float64
	// LabelSmoothing ε in [0, 1]: the target becomes (1-ε)·y + ε/C.
	LabelSmoothing float64
	// IgnoreIndex must be unset or negative.
	IgnoreIndex *int
}

// NLLLossOptions are the options of nll_loss. The zero value means
// PyTorch's defaults.
type NLLLossOptions struct {
	// Reduction: Mean is Σ w[t_i] l_i / Σ w[t_i] over the rows that are not
	// ignored (NaN when that sum is 0, as in PyTorch).
	Reduction Reduction `json:"reduction"`
	// Weight holds one weight per class (length C), or nil.
	Weight []float64 `json:"weight"`
	// IgnoreIndex: rows whose target equals it contribute nothing. nil
	// means DefaultIgnoreIndex (-100).
	IgnoreIndex *int `json:"ignore_index"`
	// SkipTargetCheck skips the read-back of the targets that checks them; a
	// target outside [0, C) that is not IgnoreIndex then gives a NaN row
	// instead of an error.
	SkipTargetCheck bool `json:"skip_target_check"`
}

// FocalLossOptions are the options of the softmax focal loss (Lin et al.,
// 2017) with class-index targets. The zero value means alpha 1, gamma 2,
// mean reduction, ignore_index -100.
type FocalLossOptions struct {
	// Reduction: Mean divides the sum by the number of rows that are not
	// ignored (alpha does not normalise; NaN when every row is ignored).
	Reduction Reduction `json:"reduction"`
	// Alpha holds one balancing factor per class (length C), or nil for 1.
	Alpha []float64 `json:"alpha"`
	// Gamma is the focusing parameter γ >= 0; nil means 2 (Value(0.5) sets
	// 0.5, Value(0) gives the alpha-weighted cross-entropy).
	Gamma *float64 `json:"gamma"`
	// IgnoreIndex: rows whose target equals it contribute nothing. nil
	// means DefaultIgnoreIndex (-100).
	IgnoreIndex *int `json:"ignore_index"`
	// SkipTargetCheck: as in NLLLossOptions.
	SkipTargetCheck bool `json:"skip_target_check"`
}

func (o FocalLossOptions) gamma() float64 {
	if o.Gamma == nil {
		return 2
	}
	return *o.Gamma
}

// MultiMarginLossOptions are the options of multi_margin_loss. The zero value
// means PyTorch's defaults.
type MultiMarginLossOptions struct {
	// Reduction: Mean divides the sum by N (weights do not normalise, as in
	// PyTorch).
	Reduction Reduction `json:"reduction"`
	// P is 1 or 2; 0 means 1.
	P int `json:"p"`
	// Margin; nil means 1.
	Margin *float64 `json:"margin"`
	// Weight holds one weight per class (length C), or nil.
	Weight []float64 `json:"weight"`
	// SkipTargetCheck: as in NLLLossOptions (multi_margin_loss has no
	// ignore_index: every target must be in [0, C)).
	SkipTargetCheck bool `json:"skip_target_check"`
}

func (o MultiMarginLossOptions) p() int {
	if o.P == 0 {
		return 1
	}
	return o.P
}

func (o MultiMarginLossOptions) margin() float64 {
	if o.Margin == nil {
		return 1
	}
	return *o.Margin
}

// CategoricalHingeOptions are the options of Keras' categorical_hinge.
type CategoricalHingeOptions struct {
	// Reduction: Mean divides the sum by N (Keras' "sum_over_batch_size").
	Reduction Reduction `json:"reduction"`
}

// DistillKLOptions are the options of the knowledge-distillation loss.
type DistillKLOptions struct {
	// Reduction: Mean divides the sum over the rows by N — PyTorch's
	// kl_div reduction "batchmean", not its "mean" (which would also divide
	// by C).
	Reduction Reduction `json:"reduction"`
	// Temperature τ of both softmaxes; 0 means 1.
	Temperature Temperature `json:"temperature"`
}

// rowLoss describes one row-wise loss to the shared machinery.
type rowLoss struct {
	name       string
	red        Reduction
	intTarget  bool // Target is int32 [N]; else float [N, C]
	gradTarget bool // GradTarget is supported
	// checkTargets validates int32 targets, unless skip.
	checkTargets func(tg []int32, c int) error
	skip         bool
	// options validates the options for C classes.
	options func(c int, ft device.DType) error
	// launch queues the kernels; the buffers are valid.
	launch func(w *rowWork, b rowLossBuffers) error
	// maskIgnore: a Mask is applied by setting the masked-out targets to
	// ignoreIndex (the losses with ignore_index), not by scale_rows.
	maskIgnore  bool
	ignoreIndex int32
}

// rowWork holds the scratch buffers of one call.
type rowWork struct {
	dev device.Device
	ft  device.DType
	tmp []device.Buffer
	// sampleWeight and mask (nil when absent) are applied by reduce;
	// maskDone says the mask went into the targets instead.
	sampleWeight, mask device.Buffer
	maskDone           bool
}

func (w *rowWork) get(n int) (device.Buffer, error) {
	b, err := pool.get(w.dev, w.ft, n)
	if err == nil {
		w.tmp = append(w.tmp, b)
	}
	return b, err
}

// upload returns a scratch buffer holding v, or stand-in (any float buffer,
// for a kernel argument that is not read) when v is nil.
func (w *rowWork) upload(v []float64, standIn device.Buffer) (device.Buffer, error) {
	if v == nil {
		return standIn, nil
	}
	b, err := w.get(len(v))
	if err != nil {
		return nil, err
	}
	return b, writeFloats(w.dev, b, v)
}

// lossRows returns the per-row loss buffer: b.Loss with None, else scratch.
func (w *rowWork) lossRows(b rowLossBuffers, red Reduction) (device.Buffer, error) {
	if red == None {
		return b.Loss, nil
	}
	return w.get(b.N)
}

// gradScale is the factor of a gradient under red when the mean divides
// by N.
func gradScale(red Reduction, n int) float64 {
	if red == Mean && n > 0 {
		return 1 / float64(n)
	}
	return 1
}

// reduce writes the reduced loss into b.Loss: the sum of rows, divided by
// denom[0] under Mean when denom is not nil, else by N (the mean of
// nothing is NaN).
func (w *rowWork) reduce(b rowLossBuffers, red Reduction, rows, denom device.Buffer) error {
	mask := w.mask
	if w.maskDone {
		mask = nil
	}
	if (w.sampleWeight != nil || mask != nil) && b.N > 0 {
		flags, num, den := int32(0), 0.0, rows
		if w.sampleWeight != nil {
			flags |= kernelspec.RowsWeight
		}
		m := mask
		if mask != nil {
			flags |= kernelspec.RowsMask
			if red == Mean && denom == nil {
				// The kernel divided by N; the mean is over the rows kept.
				g := partialGrid(b.N)
				kept, err := w.get(g.Blocks)
				if err != nil {
					return err
				}
				if err := w.dev.Launch("mask_count", g, mask, int32(b.N), int32(b.N), int32(1), kept); err != nil {
					return err
				}
				if err := w.dev.Launch("reduce_sum", oneBlock, kept, int32(g.Blocks), 1.0, int32(0), kept, kept); err != nil {
					return err
				}
				flags |= kernelspec.RowsDenom
				num, den, denom = float64(b.N), kept, kept
			}
		} else {
			mi, err := pool.get(w.dev, device.Int32, 1) // not read
			if err != nil {
				return err
			}
			w.tmp = append(w.tmp, mi)
			m = mi
		}
		if b.Grad != nil {
			flags |= kernelspec.RowsGrad
		}
		if b.GradTarget != nil {
			flags |= kernelspec.RowsGradTarget
		}
		if err := w.dev.Launch("scale_rows", rowGrid(b.N), rows, other(b.Grad, rows), other(b.GradTarget, rows),
			int32(b.N), int32(b.C), other(w.sampleWeight, rows), m, flags, num, den); err != nil {
			return err
		}
	}
	if red == None {
		return nil
	}
	scale, hasDiv, div := 1.0, int32(0), rows
	if red == Mean {
		if denom != nil {
			hasDiv, div = 1, denom
		} else {
			scale = 1 / float64(b.N) // +Inf for N = 0: 0·Inf is NaN
		}
	}
	return w.dev.Launch("reduce_sum", oneBlock, rows, int32(b.N), scale, hasDiv, div, b.Loss)
}

// other returns b if not nil, else standIn (for optional outputs).
func other(b, standIn device.Buffer) device.Buffer {
	if b == nil {
		return standIn
	}
	return b
}

func (r *rowLoss) validate(dev device.Device, b rowLossBuffers) (device.DType, error) {
	if dev == nil {
		return 0, argErr(r.name, "device", "is nil")
	}
	if err := checkSize(r.name, "N", b.N); err != nil {
		return 0, err
	}
	if err := checkSize(r.name, "C", b.C); err != nil {
		return 0, err
	}
	if b.C == 0 {
		return 0, argErr(r.name, "input", "C (number of classes) must be at least 1")
	}
	if int64(b.N)*int64(b.C) > maxInt32 {
		return 0, argErr(r.name, "input", "N*C = %d exceeds the int32 range of the kernels", int64(b.N)*int64(b.C))
	}
	if !r.red.valid() {
		return 0, argErr(r.name, "reduction", "unknown reduction %d", int(r.red))
	}
	if b.Input == nil {
		return 0, argErr(r.name, "input", "buffer is nil")
	}
	ft := b.Input.DType()
	if !ft.IsFloat() {
		return 0, argErr(r.name, "input", "dtype is %s, want a float type", ft)
	}
	if ft == device.Float64 && !dev.Info().Float64 {
		return 0, argErr(r.name, "input", "float64 is not supported on device %s (use float32, or the host device)", dev.Info().Name)
	}
	nc := b.N * b.C
	if err := checkBuf(r.name, "input", dev, b.Input, ft, nc, false); err != nil {
		return 0, err
	}
	if r.intTarget {
		if err := checkBuf(r.name, "target", dev, b.Target, device.Int32, b.N, false); err != nil {
			return 0, err
		}
	} else if err := checkBuf(r.name, "target", dev, b.Target, ft, nc, false); err != nil {
		return 0, err
	}
	nLoss := 1
	if r.red == None {
		nLoss = b.N
	}
	if err := checkBuf(r.name, "loss", dev, b.Loss, ft, nLoss, false); err != nil {
		return 0, err
	}
	if err := checkBuf(r.name, "grad_input", dev, b.Grad, ft, nc, true); err != nil {
		return 0, err
	}
	if b.GradTarget != nil && !r.gradTarget {
		return 0, argErr(r.name, "grad_target", "%s has no gradient w.r.t. its target: leave GradTarget nil", r.name)
	}
	if err := checkBuf(r.name, "grad_target", dev, b.GradTarget, ft, nc, true); err != nil {
		return 0, err
	}
	if err := checkBuf(r.name, "sample_weight", dev, b.SampleWeight, ft, b.N, true); err != nil {
		return 0, err
	}
	if err := checkBuf(r.name, "mask", dev, b.Mask, device.Int32, b.N, true); err != nil {
		return 0, err
	}
	return ft, r.options(b.C, ft)
}

// run is the buffer form: validate everything, check the targets, launch.
func (r *rowLoss) run(dev device.Device, b rowLossBuffers) error {
	ft, err := r.validate(dev, b)
	if err != nil {
		return err
	}
	if r.intTarget && !r.skip && b.N > 0 {
		tg := make([]int32, b.N)
		if err := dev.Read(tg, b.Target); err != nil {
			return fmt.Errorf("losses: %s: target: %w", r.name, err)
		}
		if err := r.checkTargets(tg, b.C); err != nil {
			return err
		}
	}
	w := &rowWork{dev: dev, ft: ft, sampleWeight: b.SampleWeight, mask: b.Mask}
	defer func() { pool.put(w.tmp...) }()
	if b.Mask != nil && r.maskIgnore && b.N > 0 {
		// The masked-out rows become ignored rows, in a copy of the targets.
		tg, err := pool.get(dev, device.Int32, b.N)
		if err != nil {
			return err
		}
		w.tmp = append(w.tmp, tg)
		if err := dev.Launch("mask_targets", partialGrid(b.N), b.Target, b.Mask, int32(b.N), r.ignoreIndex, tg); err != nil {
			return err
		}
		b.Target = tg
		w.maskDone = true
	}
	return r.launch(w, b)
}

// Option checks shared by the row losses.

func checkClassWeights(loss, arg string, w []float64, c int) error {
	if w != nil && len(w) != c {
		return argErr(loss, arg, "has %d elements, want C = %d", len(w), c)
	}
	for i, v := range w {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return argErr(loss, arg, "%s[%d] = %v is not finite", arg, i, v)
		}
	}
	return nil
}

func checkIgnoreIndex(loss string, ig int) error {
	if ig < math.MinInt32 || ig > math.MaxInt32 {
		return argErr(loss, "ignore_index", "%d is outside the int32 range", ig)
	}
	return nil
}

func ignoreOrDefault(p *int) int {
	if p == nil {
		return DefaultIgnoreIndex
	}
	return *p
}

// checkAllTargets requires every target in [0, c) (no ignore_index).
func checkAllTargets(loss string, tg []int32, c int) error {
	for i, t := range tg {
		if t < 0 || int(t) >= c {
			return argErr(loss, "target", "target[%d] = %d is out of range [0, %d)", i, t, c)
		}
	}
	return nil
}

// cross_entropy with probability targets.

func crossEntropyProbsLoss(opt crossEntropyProbsOptions) *rowLoss {
	r := &rowLoss{name: ceName, red: opt.Reduction, gradTarget: true}
	r.options = func(c int, _ device.DType) error {
		if opt.IgnoreIndex != nil && *opt.IgnoreIndex >= 0 {
			return argErr(r.name, "ignore_index", "is %d: with probability targets there is no class to ignore (PyTorch refuses ignore_index >= 0 there)", *opt.IgnoreIndex)
		}
		if err := checkClassWeights(r.name, "weight", opt.Weight, c); err != nil {
			return err
		}
		if e := opt.LabelSmoothing; !(e >= 0 && e <= 1) {
			return argErr(r.name, "label_smoothing", "must be in [0, 1], got %v", e)
		}
		return nil
	}
	r.launch = func(w *rowWork, b rowLossBuffers) error {
		rows, err := w.lossRows(b, r.red)
		if err != nil {
			return err
		}
		if b.N > 0 {
			weight, err := w.upload(opt.Weight, rows)
			if err != nil {
				return err
			}
			if err := w.dev.Launch("cross_entropy_prob_rows", rowGrid(b.N), b.Input, b.Target, weight,
				int32(b.N), int32(b.C), b2i(opt.Weight != nil), opt.LabelSmoothing, gradScale(r.red, b.N),
				b2i(b.Grad != nil), other(b.Grad, rows), b2i(b.GradTarget != nil), other(b.GradTarget, rows), rows); err != nil {
				return err
			}
		}
		return w.reduce(b, r.red, rows, nil)
	}
	return r
}

// nll_loss.

func nllLoss(opt NLLLossOptions) *rowLoss {
	const name = "nll_loss"
	ign := ignoreOrDefault(opt.IgnoreIndex)
	r := &rowLoss{name: name, red: opt.Reduction, intTarget: true, skip: opt.SkipTargetCheck}
	r.maskIgnore, r.ignoreIndex = true, int32(ign)
	r.checkTargets = func(tg []int32, c int) error { return checkTargets(name, tg, c, ign) }
	r.options = func(c int, _ device.DType) error {
		if err := checkClassWeights(name, "weight", opt.Weight, c); err != nil {
			return err
		}
		return checkIgnoreIndex(name, ign)
	}
	r.launch = func(w *rowWork, b rowLossBuffers) error {
		denom, err := w.get(2)
		if err != nil {
			return err
		}
		weight, err := w.upload(opt.Weight, denom)
		if err != nil {
			return err
		}
		rows, err := w.lossRows(b, r.red)
		if err != nil {
			return err
		}
		hasW := b2i(opt.Weight != nil)
		if err := w.dev.Launch("cross_entropy_weight_sum", oneBlock, b.Target, weight, int32(b.N), int32(b.C), hasW,
			int32(ign), int32(r.red), denom); err != nil {
			return err
		}
		if b.N > 0 {
			if err := w.dev.Launch("nll_rows", rowGrid(b.N), b.Input, b.Target, weight, int32(b.N), int32(b.C), hasW,
				int32(ign), denom, b2i(b.Grad != nil), other(b.Grad, denom), rows); err != nil {
				return err
			}
		}
		return w.reduce(b, r.red, rows, denom)
	}
	return r
}

// focal loss.

func focalLoss(opt FocalLossOptions) *rowLoss {
	const name = "focal_loss"
	ign := ignoreOrDefault(opt.IgnoreIndex)
	r := &rowLoss{name: name, red: opt.Reduction, intTarget: true, skip: opt.SkipTargetCheck}
	r.maskIgnore, r.ignoreIndex = true, int32(ign)
	r.checkTargets = func(tg []int32, c int) error { return checkTargets(name, tg, c, ign) }
	r.options = func(c int, _ device.DType) error {
		if err := checkClassWeights(name, "alpha", opt.Alpha, c); err != nil {
			return err
		}
		if g := opt.gamma(); !(g >= 0) || math.IsInf(g, 1) {
			return argErr(name, "gamma", "must be finite and >= 0, got %v", g)
		}
		return checkIgnoreIndex(name, ign)
	}
	r.launch = func(w *rowWork, b rowLossBuffers) error {
		denom, err := w.get(2)
		if err != nil {
			return err
		}
		rows, err := w.lossRows(b, r.red)
		if err != nil {
			return err
		}
		// The number of rows kept (no weights) and, under Mean, its inverse.
		if err := w.dev.Launch("cross_entropy_weight_sum", oneBlock, b.Target, denom, int32(b.N), int32(b.C), int32(0),
			int32(ign), int32(r.red), denom); err != nil {
			return err
		}
		if b.N > 0 {
			alpha, err := w.upload(opt.Alpha, denom)
			if err != nil {
				return err
			}
			if err := w.dev.Launch("focal_rows", rowGrid(b.N), b.Input, b.Target, alpha, int32(b.N), int32(b.C),
				b2i(opt.Alpha != nil), int32(ign), opt.gamma(), denom, b2i(b.Grad != nil), other(b.Grad, denom), rows); err != nil {
				return err
			}
		}
		return w.reduce(b, r.red, rows, denom)
	}
	return r
}

// multi_margin_loss.

func multiMarginLoss(opt MultiMarginLossOptions) *rowLoss {
	const name = "multi_margin_loss"
	r := &rowLoss{name: name, red: opt.Reduction, intTarget: true, skip: opt.SkipTargetCheck}
	r.checkTargets = func(tg []int32, c int) error { return checkAllTargets(name, tg, c) }
	r.options = func(c int, _ device.DType) error {
		if p := opt.p(); p != 1 && p != 2 {
			return argErr(name, "p", "must be 1 or 2, got %d", p)
		}
		if m := opt.margin(); math.IsNaN(m) || math.IsInf(m, 0) {
			return argErr(name, "margin", "must be finite, got %v", m)
		}
		return checkClassWeights(name, "weight", opt.Weight, c)
	}
	r.launch = func(w *rowWork, b rowLossBuffers) error {
		rows, err := w.lossRows(b, r.red)
		if err != nil {
			return err
		}
		if b.N > 0 {
			weight, err := w.upload(opt.Weight, rows)
			if err != nil {
				return err
			}
			if err := w.dev.Launch("multi_margin_rows", rowGrid(b.N), b.Input, b.Target, weight, int32(b.N), int32(b.C),
				b2i(opt.Weight != nil), int32(opt.p()), opt.margin(), gradScale(r.red, b.N), b2i(b.Grad != nil),
				other(b.Grad, rows), rows); err != nil {
				return err
			}
		}
		return w.reduce(b, r.red, rows, nil)
	}
	return r
}

// categorical_hinge.

func categoricalHingeLoss(opt CategoricalHingeOptions) *rowLoss {
	r := &rowLoss{name: "categorical_hinge", red: opt.Reduction}
	r.options = func(int, device.DType) error { return nil }
	r.launch = func(w *rowWork, b rowLossBuffers) error {
		rows, err := w.lossRows(b, r.red)
		if err != nil {
			return err
		}
		if b.N > 0 {
			if err := w.dev.Launch("categorical_hinge_rows", rowGrid(b.N), b.Input, b.Target, int32(b.N), int32(b.C),
				gradScale(r.red, b.N), b2i(b.Grad != nil), other(b.Grad, rows), rows); err != nil {
				return err
			}
		}
		return w.reduce(b, r.red, rows, nil)
	}
	return r
}

// knowledge distillation.

// UnmarshalJSON reads the options by PyTorch's names, as kl_div takes
// them: reduction "batchmean" (the default: Σ/N, Mean here), "sum" or
// "none"; "mean" is refused, since kl_div's "mean" also divides by C. A
// temperature, when given, must be positive (0 is not "the default").
func (o *DistillKLOptions) UnmarshalJSON(b []byte) error {
	var raw struct {
		Reduction   *string  `json:"reduction"`
		Temperature *float64 `json:"temperature"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	if raw.Reduction != nil {
		switch *raw.Reduction {
		case "batchmean":
			o.Reduction = Mean
		case "mean":
			return fmt.Errorf("reduction \"mean\" is ambiguous for distill_kl (kl_div's mean also divides by C): use \"batchmean\"")
		default:
			if err := o.Reduction.UnmarshalText([]byte(*raw.Reduction)); err != nil {
				return err
			}
		}
	}
	if raw.Temperature != nil {
		if !(*raw.Temperature > 0) {
			return fmt.Errorf("temperature must be positive, got %v", *raw.Temperature)
		}
		o.Temperature = Temperature(*raw.Temperature)
	}
	return nil
}

func distillKLLoss(opt DistillKLOptions) *rowLoss {
	const name = "distill_kl"
	r := &rowLoss{name: name, red: opt.Reduction}
	r.options = func(_ int, ft device.DType) error {
		_, err := opt.Temperature.inv(name, ft)
		if err == nil && !fits(ft, float64(opt.Temperature)*float64(opt.Temperature)) {
			err = argErr(name, "temperature", "%v: τ² (the loss scale) overflows %s", float64(opt.Temperature), ft)
		}
		return err
	}
	r.launch = func(w *rowWork, b rowLossBuffers) error {
		inv, _ := opt.Temperature.inv(name, device.Float64)
		tau := float64(opt.Temperature)
		if tau == 0 {
			tau = 1
		}
		rows, err := w.lossRows(b, r.red)
		if err != nil {
			return err
		}
		if b.N > 0 {
			if err := w.dev.Launch("distill_kl_rows", rowGrid(b.N), b.Input, b.Target, int32(b.N), int32(b.C),
				inv, tau*tau, tau*gradScale(r.red, b.N), b2i(b.Grad != nil), other(b.Grad, rows), rows); err != nil {
				return err
			}
		}
		return w.reduce(b, r.red, rows, nil)
	}
	return r
}

// poly_loss_cross_entropy.

// PolyLossCrossEntropyOptions are the options of PolyLossCrossEntropy.
type PolyLossCrossEntropyOptions struct {
	// Reduction: Mean divides the sum over the rows by N (Optax returns
	// the per-row losses: reduction None).
	Reduction Reduction `json:"reduction"`
	// Epsilon is the weight ε of the first polynomial term; nil means
	// Optax's default, 2. It must be finite.
	Epsilon *float64 `json:"epsilon"`
}

func (o PolyLossCrossEntropyOptions) reduction() Reduction { return o.Reduction }

func polyLoss(opt PolyLossCrossEntropyOptions) *rowLoss {
	const name = "poly_loss_cross_entropy"
	r := &rowLoss{name: name, red: opt.Reduction, gradTarget: true}
	eps := 2.0
	if opt.Epsilon != nil {
		eps = *opt.Epsilon
	}
	r.options = func(int, device.DType) error {
		if math.IsNaN(eps) || math.IsInf(eps, 0) {
			return argErr(name, "epsilon", "must be finite, got %v", eps)
		}
		return nil
	}
	r.launch = func(w *rowWork, b rowLossBuffers) error {
		rows, err := w.lossRows(b, r.red)
		if err != nil {
			return err
		}
		if b.N > 0 {
			if err := w.dev.Launch("poly_cross_entropy_rows", rowGrid(b.N), b.Input, b.Target, int32(b.N),
				int32(b.C), eps, gradScale(r.red, b.N), b2i(b.Grad != nil), other(b.Grad, rows),
				b2i(b.GradTarget != nil), other(b.GradTarget, rows), rows); err != nil {
				return err
			}
		}
		return w.reduce(b, r.red, rows, nil)
	}
	return r
}

// The public face of the row-wise losses over input [N, C] (the machinery
// is in rowloss.go): nll_loss, focal_loss and multi_margin_loss with
// class-index targets, categorical_hinge and distill_kl with float
// targets [N, C], and cross_entropy with probability targets (through
// CrossEntropy).

// ClassTargetArgs are the tensors of a row-wise loss with class-index
// targets.
type ClassTargetArgs struct {
	Input  Tensor `loss:"input,in"`        // [N, C]
	Target Tensor `loss:"target,in,int32"` // [N], each in [0, C) or ignore_index
	// SampleWeight [N] multiplies each row's loss and gradient (not the
	// divisor of Mean); Mask [N] (int32) drops the rows where it is 0.
	SampleWeight Tensor `loss:"sample_weight,in,optional"`
	Mask         Tensor `loss:"mask,in,int32,optional"`
	Loss         Tensor `loss:"loss,out"`        // one element, or [N] with reduction None
	GradInput    Tensor `loss:"grad_input,grad"` // [N, C]; may alias Input
}

// RowArgs are the tensors of a row-wise loss whose target is a float
// [N, C] (Keras' y_true, or the teacher's logits).
type RowArgs struct {
	Input        Tensor `loss:"input,in"`  // [N, C]
	Target       Tensor `loss:"target,in"` // [N, C]
	SampleWeight Tensor `loss:"sample_weight,in,optional"`
	Mask         Tensor `loss:"mask,in,int32,optional"`
	Loss         Tensor `loss:"loss,out"`
	GradInput    Tensor `loss:"grad_input,grad"`
}

// SoftTargetArgs are RowArgs for a loss that also has a gradient w.r.t.
// its float target [N, C] (label distributions).
type SoftTargetArgs struct {
	Input        Tensor `loss:"input,in"`  // [N, C] logits
	Target       Tensor `loss:"target,in"` // [N, C]
	SampleWeight Tensor `loss:"sample_weight,in,optional"`
	Mask         Tensor `loss:"mask,in,int32,optional"`
	Loss         Tensor `loss:"loss,out"`
	GradInput    Tensor `loss:"grad_input,grad"`  // [N, C]; may alias Input
	GradTarget   Tensor `loss:"grad_target,grad"` // [N, C]; may alias Target
}

// rowCall is the union of the row-wise Args.
type rowCall struct {
	input, target, sampleWeight, mask, loss, gradInput, gradTarget Tensor
}

func (a ClassTargetArgs) call() rowCall {
	return rowCall{a.Input, a.Target, a.SampleWeight, a.Mask, a.Loss, a.GradInput, Tensor{}}
}

func (a RowArgs) call() rowCall {
	return rowCall{a.Input, a.Target, a.SampleWeight, a.Mask, a.Loss, a.GradInput, Tensor{}}
}

func (a SoftTargetArgs) call() rowCall {
	return rowCall{a.Input, a.Target, a.SampleWeight, a.Mask, a.Loss, a.GradInput, a.GradTarget}
}

// rows stages the tensors of a row-wise loss and runs it.
func rows(dev device.Device, r *rowLoss, a rowCall) error {
	if dev == nil || isNilDevice(dev) {
		return argErr(r.name, "device", "is nil")
	}
	s := stage{dev: dev, loss: r.name}
	return s.finish(rowsStaged(&s, r, a))
}

func rowsStaged(s *stage, r *rowLoss, a rowCall) error {
	name := r.name
	if !a.input.Present() {
		return argErr(name, "input", "buffer is nil")
	}
	if len(a.input.Shape) != 2 {
		return argErr(name, "input", "has shape %v: want [N, C]", a.input.Shape)
	}
	n, c := a.input.Shape[0], a.input.Shape[1]
	if a.target.Present() {
		if r.intTarget && (len(a.target.Shape) != 1 || a.target.Shape[0] != n) {
			return argErr(name, "target", "has shape %v: want [N] = [%d] (class indices)", a.target.Shape, n)
		}
		if !r.intTarget && !sameShape(a.target.Shape, a.input.Shape) {
			return argErr(name, "target", "has shape %v: want input's [N, C] = %v", a.target.Shape, a.input.Shape)
		}
	}
	for _, t := range []struct {
		arg string
		t   Tensor
	}{{"sample_weight", a.sampleWeight}, {"mask", a.mask}} {
		if t.t.Present() && t.t.Len() != n {
			return argErr(name, t.arg, "has shape %v: want [N] = [%d]", t.t.Shape, n)
		}
	}
	if err := checkLoss(name, a.loss, r.red, n); err != nil {
		return err
	}
	if a.gradInput.Present() && !sameShape(a.gradInput.Shape, a.input.Shape) {
		return argErr(name, "grad_input", "has shape %v, want %v", a.gradInput.Shape, a.input.Shape)
	}
	if a.gradTarget.Present() && !sameShape(a.gradTarget.Shape, a.target.Shape) {
		return argErr(name, "grad_target", "has shape %v, want %v", a.gradTarget.Shape, a.target.Shape)
	}
	b := rowLossBuffers{N: n, C: c}
	if err := s.bind(in("input", a.input, &b.Input), in("target", a.target, &b.Target),
		in("sample_weight", a.sampleWeight, &b.SampleWeight), in("mask", a.mask, &b.Mask),
		out("loss", a.loss, &b.Loss), out("grad_input", a.gradInput, &b.Grad), out("grad_target", a.gradTarget, &b.GradTarget)); err != nil {
		return err
	}
	return r.run(s.dev, b)
}

// NLLLoss computes torch.nn.functional.nll_loss on log-probabilities
// input [N, C] with class-index targets [N]: l_i = −w[t_i]·x[i, t_i], rows
// whose target is IgnoreIndex left out; Mean is Σ l_i / Σ w[t_i] over the
// rows kept (NaN when that is 0, as in PyTorch). Launches
// cross_entropy_weight_sum, nll_rows, reduce_sum. The targets are read
// back once to be checked (see SkipTargetCheck).
func NLLLoss(dev device.Device, a ClassTargetArgs, opt NLLLossOptions) error {
	return rows(dev, nllLoss(opt), a.call())
}

// FocalLoss computes the softmax focal loss (Lin et al., 2017)
// −α_t (1 − p_t)^γ log p_t over logits [N, C] with class-index targets;
// Mean divides by the number of rows kept. Launches
// cross_entropy_weight_sum, focal_rows, reduce_sum.
func FocalLoss(dev device.Device, a ClassTargetArgs, opt FocalLossOptions) error {
	return rows(dev, focalLoss(opt), a.call())
}

// MultiMarginLoss computes torch.nn.functional.multi_margin_loss:
// l_i = Σ_{j≠t} w[t]·max(0, margin − x[i,t] + x[i,j])^p / C. Launches
// multi_margin_rows, reduce_sum.
func MultiMarginLoss(dev device.Device, a ClassTargetArgs, opt MultiMarginLossOptions) error {
	return rows(dev, multiMarginLoss(opt), a.call())
}

// CategoricalHinge computes Keras' categorical_hinge:
// max(0, max_j (1 − y_j)·x_j − Σ_j y_j x_j + 1) per row, target y [N, C]
// one-hot or probabilities. Launches categorical_hinge_rows, reduce_sum.
func CategoricalHinge(dev device.Device, a RowArgs, opt CategoricalHingeOptions) error {
	return rows(dev, categoricalHingeLoss(opt), a.call())
}

// DistillKL computes the knowledge-distillation term of Hinton et al.:
// τ²·KL(softmax(t/τ) ‖ softmax(s/τ)) per row, student logits as input
// and teacher logits as target; Mean is PyTorch's batchmean. The gradient
// is w.r.t. the student. Launches distill_kl_rows, reduce_sum.
func DistillKL(dev device.Device, a RowArgs, opt DistillKLOptions) error {
	return rows(dev, distillKLLoss(opt), a.call())
}

// PolyLossCrossEntropy computes the Poly-1 loss of Leng et al. (2022),
// Optax's poly_loss_cross_entropy: per row, with p = softmax(x) and
// label distribution y,
//
//	l_i = −Σ_k y_ik log p_ik + ε·Σ_k y_ik (1 − p_ik)
//
// and its gradients d l_i / d x_ik = p_ik (Y_i + ε (S_i − y_ik)) − y_ik and
// d l_i / d y_ik = −log p_ik + ε (1 − p_ik), with Y_i = Σ_k y_ik and
// S_i = Σ_k y_ik p_ik. Launches poly_cross_entropy_rows, reduce_sum.
func PolyLossCrossEntropy(dev device.Device, a SoftTargetArgs, opt PolyLossCrossEntropyOptions) error {
	return rows(dev, polyLoss(opt), a.call())
}

func classShapes[O interface{ reduction() Reduction }](a ClassTargetArgs, o O) map[string][]int {
	return map[string][]int{"loss": lossShape(o.reduction(), firstDim(a.Input.Shape))}
}

func rowShapes[O interface{ reduction() Reduction }](a RowArgs, o O) map[string][]int {
	return map[string][]int{"loss": lossShape(o.reduction(), firstDim(a.Input.Shape))}
}

func firstDim(shape []int) []int {
	if len(shape) == 0 {
		return []int{}
	}
	return shape[:1]
}

func (o NLLLossOptions) reduction() Reduction          { return o.Reduction }
func (o FocalLossOptions) reduction() Reduction        { return o.Reduction }
func (o MultiMarginLossOptions) reduction() Reduction  { return o.Reduction }
func (o CategoricalHingeOptions) reduction() Reduction { return o.Reduction }
func (o DistillKLOptions) reduction() Reduction        { return o.Reduction }

func init() {
	register("nll_loss", "NLLLoss", NLLLoss, classShapes[NLLLossOptions],
		"cross_entropy_weight_sum", "nll_rows", "reduce_sum", "mask_targets", "scale_rows")
	register("focal_loss", "FocalLoss", FocalLoss, classShapes[FocalLossOptions],
		"cross_entropy_weight_sum", "focal_rows", "reduce_sum", "mask_targets", "scale_rows")
	register("multi_margin_loss", "MultiMarginLoss", MultiMarginLoss, classShapes[MultiMarginLossOptions],
		"multi_margin_rows", "reduce_sum", "mask_count", "scale_rows")
	register("categorical_hinge", "CategoricalHinge", CategoricalHinge, rowShapes[CategoricalHingeOptions],
		"categorical_hinge_rows", "reduce_sum", "mask_count", "scale_rows")
	register("poly_loss_cross_entropy", "PolyLossCrossEntropy", PolyLossCrossEntropy,
		func(a SoftTargetArgs, o PolyLossCrossEntropyOptions) map[string][]int {
			return map[string][]int{"loss": lossShape(o.Reduction, firstDim(a.Input.Shape))}
		}, "poly_cross_entropy_rows", "reduce_sum", "mask_count", "scale_rows")
	register("distill_kl", "DistillKL", DistillKL, rowShapes[DistillKLOptions],
		"distill_kl_rows", "reduce_sum", "mask_count", "scale_rows")
}
