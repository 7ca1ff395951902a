package losses

import (
	"fmt"
	"math"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// CrossEntropyOptions are the options of cross_entropy with class-index
// targets. The zero value means PyTorch's defaults.
type CrossEntropyOptions struct {
	Reduction Reduction `json:"reduction"`
	// Weight holds one rescaling weight per class (length C), or nil.
	// With Mean, the loss is Σ w[t_i] l_i / Σ w[t_i] over non-ignored rows.
	Weight []float64 `json:"weight"`
	// IgnoreIndex: rows whose target equals it contribute nothing and are
	// not counted by Mean. nil means DefaultIgnoreIndex (-100).
	IgnoreIndex *int `json:"ignore_index"`
	// LabelSmoothing ε in [0, 1]: the target distribution is
	// (1-ε)·onehot(t) + ε/C.
	LabelSmoothing float64   `json:"label_smoothing"`
	NaN            NaNPolicy `json:"nan_policy"`
	// SkipTargetCheck skips the check of the targets, which reads them
	// back to the host (4·N bytes and a wait for the device). The call is
	// then fully asynchronous; a target outside [0, C) that is not
	// IgnoreIndex gives that row a NaN loss and a NaN gradient row (and a
	// NaN mean or sum) instead of an error.
	SkipTargetCheck bool `json:"skip_target_check"`
	// Softcap s > 0 replaces every logit x by s·tanh(x/s) before the
	// softmax (Gemma 2's logit soft-capping; the gradient carries the
	// factor 1 − tanh²(x/s)). 0 turns it off.
	Softcap float64 `json:"softcap"`
	// ZLoss z ≥ 0 adds PaLM's z-loss z·L_i² to every counted row, with
	// L_i the row's log-sum-exp (of the soft-capped logits). It is not
	// class-weighted: with Mean it is divided by the number of counted
	// rows (Liger-Kernel's convention), while the cross-entropy is
	// divided by Σ w[t_i] as in PyTorch; the two divisors agree without
	// weights. The z part alone is returned in the z_loss output.
	ZLoss float64 `json:"z_loss"`
	// ReturnAccuracy asks for the accuracy output (required with it):
	// whether each counted row's first largest logit is its target, per
	// row with None, their number with Sum, their share of the counted
	// rows with Mean (NaN when none is counted). Computed in the same
	// pass over the logits.
	ReturnAccuracy bool `json:"return_accuracy"`
}

// ext reports whether a call needs cross_entropy_rows_ext.
func (o CrossEntropyOptions) ext(b ceBuffers) bool {
	return o.Softcap != 0 || o.ZLoss != 0 || b.ZLoss != nil || b.Accuracy != nil
}

func (o CrossEntropyOptions) ignoreIndex() int {
	if o.IgnoreIndex == nil {
		return DefaultIgnoreIndex
	}
	return *o.IgnoreIndex
}

// ceBuffers are the device buffers of the fused cross-entropy launch.
type ceBuffers struct {
	Input  device.Buffer // logits [N, C], float
	Target device.Buffer // [N], int32, each in [0, C) or IgnoreIndex
	N, C   int
	// Loss receives the loss: 1 element, or N with reduction None.
	Loss device.Buffer
	// Grad, if not nil, receives d loss / d Input [N, C]. It may be Input
	// itself: the gradient then overwrites the logits.
	Grad device.Buffer
	// LSE, if not nil, receives each row's log-sum-exp [N].
	LSE device.Buffer
	// ZLoss and Accuracy, if not nil, receive the z-loss part of Loss and
	// the accuracy, shaped like Loss.
	ZLoss, Accuracy device.Buffer
}

const ceName = "cross_entropy"

// CrossEntropy computes softmax cross-entropy between logits and class
// targets, and its gradient w.r.t. the logits, in one fused kernel launch
// over the rows (probabilities are never stored apart from the gradient).
// It matches torch.nn.functional.cross_entropy with class-index targets,
// including weight, ignore_index, label_smoothing and reduction; an
// all-ignored batch with Mean gives NaN, as in PyTorch (0/0), and a zero
// gradient.
//
// It needs no workspace beyond N+2 floats (per-row losses and the mean's
// denominator), taken from a per-device pool. The targets are read back to
// the host once for validation (4·N bytes).
func crossEntropyBuf(dev device.Device, b ceBuffers, opt CrossEntropyOptions) error {
	if dev == nil {
		return argErr(ceName, "device", "is nil")
	}
	if err := validateCE(dev, b, opt); err != nil {
		return err
	}
	ft := b.Input.DType()
	// Validate the targets on the host.
	if !opt.SkipTargetCheck && b.N > 0 {
		tg := make([]int32, b.N)
		if err := dev.Read(tg, b.Target); err != nil {
			return fmt.Errorf("losses: %s: target: %w", ceName, err)
		}
		if err := checkTargets(ceName, tg, b.C, opt.ignoreIndex()); err != nil {
			return err
		}
	}
	if err := checkNaN(ceName, "input", dev, opt.NaN, b.Input, b.N*b.C); err != nil {
		return err
	}
	return crossEntropyLaunch(dev, ft, b, opt)
}

func validateCE(dev device.Device, b ceBuffers, opt CrossEntropyOptions) error {
	if err := checkSize(ceName, "N", b.N); err != nil {
		return err
	}
	if err := checkSize(ceName, "C", b.C); err != nil {
		return err
	}
	if b.C == 0 {
		return argErr(ceName, "input", "C (number of classes) must be at least 1")
	}
	if int64(b.N)*int64(b.C) > maxInt32 && opt.NaN == NaNError {
		// count_nan counts in int32: the one kernel of the call that
		// does not take a 64-bit element count.
		return argErr(ceName, "nan_policy", "NaNError checks at most 2^31-1 logits; N*C = %d", int64(b.N)*int64(b.C))
	}
	if b.Input == nil {
		return argErr(ceName, "input", "buffer is nil")
	}
	ft := b.Input.DType()
	if !ft.IsFloat() {
		return argErr(ceName, "input", "dtype is %s, want a float type", ft)
	}
	if ft == device.Float64 && !dev.Info().Float64 {
		return argErr(ceName, "input", "float64 is not supported on device %s (use float32, or the host device)", dev.Info().Name)
	}
	if err := checkBuf(ceName, "input", dev, b.Input, ft, b.N*b.C, false); err != nil {
		return err
	}
	if err := checkBuf(ceName, "target", dev, b.Target, device.Int32, b.N, false); err != nil {
		return err
	}
	nLoss := 1
	if opt.Reduction == None {
		nLoss = b.N
	}
	if err := checkBuf(ceName, "loss", dev, b.Loss, ft, nLoss, false); err != nil {
		return err
	}
	if err := checkBuf(ceName, "grad_input", dev, b.Grad, ft, b.N*b.C, true); err != nil {
		return err
	}
	if err := checkBuf(ceName, "lse", dev, b.LSE, ft, b.N, true); err != nil {
		return err
	}
	if err := checkBuf(ceName, "z_loss", dev, b.ZLoss, ft, nLoss, true); err != nil {
		return err
	}
	if err := checkBuf(ceName, "accuracy", dev, b.Accuracy, ft, nLoss, true); err != nil {
		return err
	}
	if opt.ReturnAccuracy && b.Accuracy == nil {
		return argErr(ceName, "accuracy", "is required with return_accuracy")
	}
	return validateCEOptions(opt, b.C)
}

func validateCEOptions(opt CrossEntropyOptions, c int) error {
	if !opt.Reduction.valid() {
		return argErr(ceName, "reduction", "unknown reduction %d", int(opt.Reduction))
	}
	if opt.Weight != nil && len(opt.Weight) != c {
		return argErr(ceName, "weight", "has %d elements, want C = %d", len(opt.Weight), c)
	}
	for i, w := range opt.Weight {
		if math.IsNaN(w) || math.IsInf(w, 0) {
			return argErr(ceName, "weight", "weight[%d] = %v is not finite", i, w)
		}
	}
	if e := opt.LabelSmoothing; !(e >= 0 && e <= 1) {
		return argErr(ceName, "label_smoothing", "must be in [0, 1], got %v", e)
	}
	if ig := opt.ignoreIndex(); ig < math.MinInt32 || ig > math.MaxInt32 {
		return argErr(ceName, "ignore_index", "%d is outside the int32 range", ig)
	}
	if opt.NaN != NaNPropagate && opt.NaN != NaNError {
		return argErr(ceName, "nan_policy", "unknown NaN policy %d", int(opt.NaN))
	}
	if s := opt.Softcap; !(s >= 0 && !math.IsInf(s, 1)) {
		return argErr(ceName, "softcap", "must be finite and > 0 (0 turns it off), got %v", s)
	}
	if z := opt.ZLoss; !(z >= 0 && !math.IsInf(z, 1)) {
		return argErr(ceName, "z_loss", "must be finite and ≥ 0, got %v", z)
	}
	return nil
}

func checkTargets(loss string, tg []int32, c, ignore int) error {
	for i, t := range tg {
		if int(t) == ignore {
			continue
		}
		if t < 0 || int(t) >= c {
			return argErr(loss, "target", "target[%d] = %d is out of range [0, %d) and is not ignore_index (%d)", i, t, c, ignore)
		}
	}
	return nil
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

func crossEntropyLaunch(dev device.Device, ft device.DType, b ceBuffers, opt CrossEntropyOptions) (err error) {
	bufs := callBufs{dev: dev, ft: ft}
	defer bufs.release()
	get := bufs.get
	denom, err := get(2)
	if err != nil {
		return err
	}
	weight := denom // any float buffer stands in when there is no weight
	if opt.Weight != nil {
		if weight, err = get(b.C); err != nil {
			return err
		}
		if err := writeFloats(dev, weight, opt.Weight); err != nil {
			return err
		}
	}
	rows := b.Loss
	if opt.Reduction != None {
		if rows, err = get(b.N); err != nil {
			return err
		}
	}
	grad, lse := b.Grad, b.LSE
	if grad == nil {
		grad = denom
	}
	if lse == nil {
		lse = denom
	}
	ign := int32(opt.ignoreIndex())
	hasW := b2i(opt.Weight != nil)
	if err := dev.Launch("cross_entropy_weight_sum", oneBlock, b.Target, weight, int32(b.N), int32(b.C), hasW, ign,
		int32(opt.Reduction), denom); err != nil {
		return err
	}
	if !opt.ext(b) {
		if b.N > 0 {
			if err := dev.Launch("cross_entropy_rows", rowGrid(b.N), b.Input, b.Target, weight, int32(b.N), int32(b.C),
				hasW, ign, opt.LabelSmoothing, denom, b2i(b.Grad != nil), grad, rows, b2i(b.LSE != nil), lse); err != nil {
				return err
			}
		}
		if opt.Reduction != None {
			return dev.Launch("reduce_sum", oneBlock, rows, int32(b.N), 1.0, b2i(opt.Reduction == Mean), denom, b.Loss)
		}
		return nil
	}
	// The epilogues: zdenom counts the rows (the z-loss's and the
	// accuracy's divisor), which denom already does without weights.
	zdenom := denom
	if opt.Weight != nil {
		if zdenom, err = get(2); err != nil {
			return err
		}
		if err := dev.Launch("cross_entropy_weight_sum", oneBlock, b.Target, zdenom, int32(b.N), int32(b.C), int32(0), ign,
			int32(opt.Reduction), zdenom); err != nil {
			return err
		}
	}
	zRows, accRows := b.ZLoss, b.Accuracy
	if opt.Reduction != None {
		if zRows != nil {
			if zRows, err = get(b.N); err != nil {
				return err
			}
		}
		if accRows != nil {
			if accRows, err = get(b.N); err != nil {
				return err
			}
		}
	}
	if b.N > 0 {
		zr, ar := zRows, accRows
		if zr == nil {
			zr = denom
		}
		if ar == nil {
			ar = denom
		}
		if err := dev.Launch("cross_entropy_rows_ext", rowGrid(b.N), b.Input, b.Target, weight, int32(b.N), int32(b.C),
			hasW, ign, opt.LabelSmoothing, denom, b2i(b.Grad != nil), grad, rows, b2i(b.LSE != nil), lse,
			opt.Softcap, opt.ZLoss, zdenom, b2i(zRows != nil), zr, b2i(accRows != nil), ar, int32(0)); err != nil {
			return err
		}
	}
	if opt.Reduction == None {
		return nil
	}
	mean := b2i(opt.Reduction == Mean)
	if err := dev.Launch("reduce_sum", oneBlock, rows, int32(b.N), 1.0, mean, denom, b.Loss); err != nil {
		return err
	}
	for _, r := range []struct{ rows, out device.Buffer }{{zRows, b.ZLoss}, {accRows, b.Accuracy}} {
		if r.out != nil {
			if err := dev.Launch("reduce_sum", oneBlock, r.rows, int32(b.N), 1.0, mean, zdenom, r.out); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeFloats uploads v into a float buffer of dtype b.DType().
func writeFloats(dev device.Device, b device.Buffer, v []float64) error {
	if b.DType() == device.Float64 {
		return dev.Write(b, v)
	}
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	return dev.Write(b, f)
}

// result is what the internal slice form returns.
type result[T Float] struct {
	// Loss is the reduced loss (1 element) or, with reduction None, one
	// loss per sample.
	Loss []T
	// Grad is d loss / d input, shaped like input (nil when not asked for).
	Grad []T
	// GradTarget is d loss / d target, where the loss has one.
	GradTarget []T
	// LSE is each row's log-sum-exp, where the loss computes it.
	LSE []T
	// ZLoss and Accuracy are cross_entropy's z-loss part and accuracy,
	// shaped like Loss, when asked for.
	ZLoss, Accuracy []T
	// LogLikelihood and LogLikelihoodBeta are, for ctc_loss, each
	// sequence's log p(target | input) from the forward (alpha) and from
	// the backward (beta) recursion; they agree up to rounding.
	LogLikelihood, LogLikelihoodBeta []T
	// GradVar is gaussian_nll_loss's d loss / d var, shaped like var.
	GradVar []T
}

// crossEntropySlices is the fused cross-entropy on Go slices (used by
// SeqCrossEntropy's per-sequence normalisation): input [n*c] logits,
// target [n]. It returns the loss, the gradient w.r.t. input, and each
// row's log-sum-exp. On the host device, float64 slices are computed in
// float64 end to end.
func crossEntropySlices[T Float](dev device.Device, input []T, target []int32, n, c int, opt CrossEntropyOptions) (*result[T], error) {
	if dev == nil {
		return nil, argErr(ceName, "device", "is nil")
	}
	if err := checkSize(ceName, "N", n); err != nil {
		return nil, err
	}
	if err := checkSize(ceName, "C", c); err != nil {
		return nil, err
	}
	if c == 0 {
		return nil, argErr(ceName, "input", "C (number of classes) must be at least 1")
	}
	if len(input) != n*c {
		return nil, argErr(ceName, "input", "has %d elements, want N*C = %d*%d = %d", len(input), n, c, n*c)
	}
	if len(target) != n {
		return nil, argErr(ceName, "target", "has %d elements, want N = %d", len(target), n)
	}
	if err := validateCEOptions(opt, c); err != nil {
		return nil, err
	}
	if err := checkTargets(ceName, target, c, opt.ignoreIndex()); err != nil {
		return nil, err
	}
	if opt.NaN == NaNError {
		for i, v := range input {
			if v != v {
				return nil, argErr(ceName, "input", "input[%d] is NaN (NaN policy is NaNError)", i)
			}
		}
	}
	if floatDType[T]() == device.Float64 && !dev.Info().Float64 {
		return nil, argErr(ceName, "input", "float64 is not supported on device %s (use float32, or the host device)", dev.Info().Name)
	}
	nLoss := 1
	if opt.Reduction == None {
		nLoss = n
	}
	res := &result[T]{Loss: make([]T, nLoss), Grad: make([]T, n*c), LSE: make([]T, n)}
	if opt.ZLoss != 0 {
		res.ZLoss = make([]T, nLoss)
	}
	if opt.ReturnAccuracy {
		res.Accuracy = make([]T, nLoss)
	}
	s := staged{dev: dev}
	defer s.release()
	var bufs ceBuffers
	var err error
	bufs.N, bufs.C = n, c
	if bufs.Input, err = s.in(ceName, "input", input); err != nil {
		return nil, err
	}
	if bufs.Target, err = s.in(ceName, "target", target); err != nil {
		return nil, err
	}
	if bufs.Loss, err = s.out(ceName, "loss", res.Loss); err != nil {
		return nil, err
	}
	if bufs.Grad, err = s.out(ceName, "grad", res.Grad); err != nil {
		return nil, err
	}
	if bufs.LSE, err = s.out(ceName, "lse", res.LSE); err != nil {
		return nil, err
	}
	if res.ZLoss != nil {
		if bufs.ZLoss, err = s.out(ceName, "z_loss", res.ZLoss); err != nil {
			return nil, err
		}
	}
	if res.Accuracy != nil {
		if bufs.Accuracy, err = s.out(ceName, "accuracy", res.Accuracy); err != nil {
			return nil, err
		}
	}
	if err := crossEntropyLaunch(dev, floatDType[T](), bufs, opt); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		v any
		b device.Buffer
	}{{res.Loss, bufs.Loss}, {res.Grad, bufs.Grad}, {res.LSE, bufs.LSE}, {res.ZLoss, bufs.ZLoss}, {res.Accuracy, bufs.Accuracy}} {
		if p.b == nil {
			continue
		}
		if err := s.read(p.v, p.b); err != nil {
			return nil, err
		}
	}
	return res, nil
}

var _ = kernelspec.BlockSize

// CrossEntropyArgs are the tensors of CrossEntropy.
type CrossEntropyArgs struct {
	Input Tensor `loss:"input,in"` // logits [N, C]
	// Target is class indices [N] (int32, each in [0, C) or IgnoreIndex),
	// or class probabilities [N, C] (float), as PyTorch decides by shape.
	Target Tensor `loss:"target,in,any"`
	// SampleWeight [N] and Mask [N] (int32; 0 drops the row): probability
	// targets only.
	SampleWeight Tensor `loss:"sample_weight,in,optional"`
	Mask         Tensor `loss:"mask,in,int32,optional"`
	Loss         Tensor `loss:"loss,out"` // one element, or [N] with reduction None
	// GradInput [N, C] may be Input itself: the gradient then overwrites
	// the logits.
	GradInput Tensor `loss:"grad_input,grad"`
	// GradTarget [N, C]: probability targets only.
	GradTarget Tensor `loss:"grad_target,grad"`
	// LSE receives each row's log-sum-exp [N] (class-index targets).
	LSE Tensor `loss:"lse,out,optional"`
	// ZLoss receives the z-loss part of Loss, shaped like Loss (class-index
	// targets; see CrossEntropyOptions.ZLoss).
	ZLoss Tensor `loss:"z_loss,out,optional"`
	// Accuracy receives the accuracy, shaped like Loss (class-index
	// targets; see CrossEntropyOptions.ReturnAccuracy).
	Accuracy Tensor `loss:"accuracy,out,optional"`
}

// CrossEntropy computes torch.nn.functional.cross_entropy over logits
// [N, C] and its gradients.
//
// With class-index targets it is one fused kernel launch over the rows
// (softmax, NLL and gradient; probabilities are never stored apart from
// the gradient), with weight, ignore_index, label_smoothing and reduction
// as in PyTorch; an all-ignored batch with Mean gives NaN (0/0) and a
// zero gradient. Scratch: N + 2 floats. The targets are read back once to
// be checked (4·N bytes; see SkipTargetCheck).
//
// With probability targets y [N, C], with p = softmax(x) and
// y' = (1−ε)·y + ε/C, l_i = −Σ_k w_k y'_ik log p_ik, Mean is Σ l_i / N
// (as PyTorch for probability targets), and the gradient w.r.t. the
// target −(1−ε)·w_k·log p_ik is available too. Launches
// cross_entropy_prob_rows, reduce_sum.
func CrossEntropy(dev device.Device, a CrossEntropyArgs, opt CrossEntropyOptions) error {
	if dev == nil || isNilDevice(dev) {
		return argErr(ceName, "device", "is nil")
	}
	if err := a.Target.check(ceName, "target"); err != nil {
		return err
	}
	if a.Target.Present() && a.Target.DType().IsFloat() {
		if opt.NaN != NaNPropagate {
			return argErr(ceName, "nan_policy", "is supported with class-index targets only")
		}
		if a.LSE.Present() {
			return argErr(ceName, "lse", "is written with class-index targets only")
		}
		if a.ZLoss.Present() || opt.ZLoss != 0 {
			return argErr(ceName, "z_loss", "is supported with class-index targets only")
		}
		if a.Accuracy.Present() || opt.ReturnAccuracy {
			return argErr(ceName, "accuracy", "is supported with class-index targets only")
		}
		if opt.Softcap != 0 {
			return argErr(ceName, "softcap", "is supported with class-index targets only")
		}
		r := crossEntropyProbsLoss(crossEntropyProbsOptions{Reduction: opt.Reduction, Weight: opt.Weight,
			LabelSmoothing: opt.LabelSmoothing, IgnoreIndex: opt.IgnoreIndex})
		return rows(dev, r, rowCall{a.Input, a.Target, a.SampleWeight, a.Mask, a.Loss, a.GradInput, a.GradTarget})
	}
	for _, t := range []struct {
		arg string
		t   Tensor
	}{{"sample_weight", a.SampleWeight}, {"mask", a.Mask}, {"grad_target", a.GradTarget}} {
		if t.t.Present() {
			return argErr(ceName, t.arg, "is supported with probability targets only")
		}
	}
	// The fused kernels index the logits with 64-bit offsets: N·C may
	// pass 2³¹ (the probability-target path above may not).
	s := stage{dev: dev, loss: ceName, wide: true}
	return s.finish(crossEntropyStaged(&s, a, opt))
}

func crossEntropyStaged(s *stage, a CrossEntropyArgs, opt CrossEntropyOptions) error {
	if !a.Input.Present() {
		return argErr(ceName, "input", "buffer is nil")
	}
	if len(a.Input.Shape) != 2 {
		return argErr(ceName, "input", "has shape %v: want [N, C] (class-index targets on 2-D input only)", a.Input.Shape)
	}
	n, c := a.Input.Shape[0], a.Input.Shape[1]
	if a.Target.Present() && (len(a.Target.Shape) != 1 || a.Target.Shape[0] != n) {
		return argErr(ceName, "target", "has shape %v: want [N] = [%d] (class indices)", a.Target.Shape, n)
	}
	if err := checkLoss(ceName, a.Loss, opt.Reduction, n); err != nil {
		return err
	}
	if a.GradInput.Present() && !sameShape(a.GradInput.Shape, a.Input.Shape) {
		return argErr(ceName, "grad_input", "has shape %v, want %v", a.GradInput.Shape, a.Input.Shape)
	}
	if a.LSE.Present() && a.LSE.Len() != n {
		return argErr(ceName, "lse", "has shape %v, want [%d]", a.LSE.Shape, n)
	}
	for _, x := range []struct {
		arg string
		t   Tensor
	}{{"z_loss", a.ZLoss}, {"accuracy", a.Accuracy}} {
		if x.t.Present() && x.t.Len() != len1(opt.Reduction, n) {
			return argErr(ceName, x.arg, "has shape %v: want %d element(s), as loss", x.t.Shape, len1(opt.Reduction, n))
		}
	}
	b := ceBuffers{N: n, C: c}
	if err := s.bind(in("input", a.Input, &b.Input), in("target", a.Target, &b.Target),
		out("loss", a.Loss, &b.Loss), out("grad_input", a.GradInput, &b.Grad), out("lse", a.LSE, &b.LSE),
		out("z_loss", a.ZLoss, &b.ZLoss), out("accuracy", a.Accuracy, &b.Accuracy)); err != nil {
		return err
	}
	return crossEntropyBuf(s.dev, b, opt)
}

func init() {
	register("cross_entropy", "CrossEntropy", CrossEntropy,
		func(a CrossEntropyArgs, o CrossEntropyOptions) map[string][]int {
			sh := map[string][]int{"loss": lossShape(o.Reduction, firstDim(a.Input.Shape))}
			if a.Target.Present() && a.Target.DType() == device.Int32 {
				sh["lse"] = firstDim(a.Input.Shape)
				if o.ZLoss != 0 {
					sh["z_loss"] = sh["loss"]
				}
				if o.ReturnAccuracy {
					sh["accuracy"] = sh["loss"]
				}
			}
			return sh
		},
		"cross_entropy_weight_sum", "cross_entropy_rows", "cross_entropy_rows_ext", "reduce_sum", "count_nan",
		"cross_entropy_prob_rows", "mask_count", "scale_rows")
}

// len1 is the number of elements of a loss-shaped output: 1, or n with None.
func len1(red Reduction, n int) int {
	if red == None {
		return n
	}
	return 1
}
