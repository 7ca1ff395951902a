package losses

import (
	"fmt"
	"math"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// Pointwise names an elementwise loss: one loss value per element of
// input and target (same shape), each with its gradient. All of them run
// through one kernel, pointwise_loss; the formula of each is in the doc of
// host.pointwiseOp and in kernels/lemath.h.
type pwKind int

const (
	pwMSE                          pwKind = iota // mse_loss: (x − y)²
	pwL1                                         // l1_loss: |x − y|
	pwHuber                                      // huber_loss (Delta)
	pwSmoothL1                                   // smooth_l1_loss (Beta)
	pwLogCosh                                    // log_cosh: log cosh(x − y), stable for |x − y| up to 1e38
	pwMeanAbsolutePercentageError                // Keras MAPE: 100·|x − y| / max(|y|, Epsilon)
	pwMeanSquaredLogarithmicError                // Keras MSLE: (log(max(x, ε)+1) − log(max(y, ε)+1))²
	pwBinaryCrossEntropy                         // binary_cross_entropy on probabilities (logs clamped at −100)
	pwBinaryCrossEntropyWithLogits               // binary_cross_entropy_with_logits (PosWeight)
	pwSigmoidFocal                               // torchvision sigmoid_focal_loss (Alpha, Gamma)
	pwHingeEmbedding                             // hinge_embedding_loss (Margin), target ±1
	pwSoftMargin                                 // soft_margin_loss: log(1 + exp(−y·x)), target ±1
	pwHinge                                      // binary hinge: max(0, 1 − y·x), target ±1
	pwSquaredHinge                               // squared hinge: max(0, 1 − y·x)², target ±1
	pwKLDiv                                      // kl_div: input log-probabilities (LogTarget)
	pwPoissonNLL                                 // poisson_nll_loss (LogInput, Full, Eps)
	pwGaussianNLL                                // gaussian_nll_loss (Var; Full, Eps)
)

// pointwiseInfo describes one elementwise loss to the shared machinery.
type pointwiseInfo struct {
	name      string
	op        int32
	labels    bool // target holds ±1 labels: checked, and it has no gradient
	prob      bool // input holds probabilities in [0, 1]: checked
	posWeight bool // takes PosWeight
	variance  bool // takes Var (required)
}

var pointwiseInfos = [...]pointwiseInfo{
	pwMSE:                          {name: "mse_loss", op: kernelspec.OpMSE},
	pwL1:                           {name: "l1_loss", op: kernelspec.OpL1},
	pwHuber:                        {name: "huber_loss", op: kernelspec.OpHuber},
	pwSmoothL1:                     {name: "smooth_l1_loss", op: kernelspec.OpSmoothL1},
	pwLogCosh:                      {name: "log_cosh", op: kernelspec.OpLogCosh},
	pwMeanAbsolutePercentageError:  {name: "mean_absolute_percentage_error", op: kernelspec.OpMAPE},
	pwMeanSquaredLogarithmicError:  {name: "mean_squared_logarithmic_error", op: kernelspec.OpMSLE},
	pwBinaryCrossEntropy:           {name: "binary_cross_entropy", op: kernelspec.OpBCE, prob: true},
	pwBinaryCrossEntropyWithLogits: {name: "binary_cross_entropy_with_logits", op: kernelspec.OpBCEWithLogits, posWeight: true},
	pwSigmoidFocal:                 {name: "sigmoid_focal_loss", op: kernelspec.OpSigmoidFocal},
	pwHingeEmbedding:               {name: "hinge_embedding_loss", op: kernelspec.OpHingeEmbedding, labels: true},
	pwSoftMargin:                   {name: "soft_margin_loss", op: kernelspec.OpSoftMargin, labels: true},
	pwHinge:                        {name: "hinge", op: kernelspec.OpHinge, labels: true},
	pwSquaredHinge:                 {name: "squared_hinge", op: kernelspec.OpSquaredHinge, labels: true},
	pwKLDiv:                        {name: "kl_div", op: kernelspec.OpKLDiv},
	pwPoissonNLL:                   {name: "poisson_nll_loss", op: kernelspec.OpPoissonNLL},
	pwGaussianNLL:                  {name: "gaussian_nll_loss", op: kernelspec.OpGaussianNLL, variance: true},
}

// Name is the loss's name (PyTorch's where PyTorch has the loss).
func (p pwKind) Name() string {
	if p < 0 || int(p) >= len(pointwiseInfos) {
		return fmt.Sprintf("Pointwise(%d)", int(p))
	}
	return pointwiseInfos[p].name
}

func (p pwKind) String() string { return p.Name() }

// Bcast says how a buffer of Len values spreads over the N elements of a
// loss: element i reads value (i / Stride) mod Len. The zero value means
// one value per element. Len·Stride must divide N.
type Bcast struct{ Len, Stride int }

// PerRow spreads one value over each row of a [rows, cols] tensor: a
// per-sample weight or mask, or gaussian_nll_loss's var of shape [rows, 1].
func PerRow(rows, cols int) Bcast { return Bcast{Len: rows, Stride: cols} }

// PerColumn spreads cols values along the last dimension of a
// [rows, cols] tensor (a per-class weight, pos_weight).
func PerColumn(cols int) Bcast { return Bcast{Len: cols, Stride: 1} }

// Scalar spreads one value over every element.
func Scalar() Bcast { return Bcast{Len: 1, Stride: 1} }

func (b Bcast) resolve(n int) Bcast {
	if b == (Bcast{}) {
		return Bcast{Len: n, Stride: 1}
	}
	return b
}

// pointwiseBuffers are the device buffers of an elementwise loss between
// input and target of the same shape (N elements in all).
type pointwiseBuffers struct {
	Input, Target device.Buffer // [N] float
	N             int
	// Loss receives the loss: 1 element, or N with reduction None.
	Loss device.Buffer
	// GradInput and GradTarget, if not nil, receive d loss / d input and
	// d loss / d target [N]. Either may alias its own argument. Losses
	// whose target holds ±1 labels have no GradTarget.
	GradInput, GradTarget device.Buffer

	// Weight, if not nil, multiplies each element's loss (and gradient):
	// per-element or per-sample weights, spread by WeightBcast. Like
	// PyTorch's weight argument it does not change the divisor of Mean.
	Weight      device.Buffer
	WeightBcast Bcast
	// Mask, if not nil, is an int32 buffer: elements whose mask is 0
	// contribute nothing (loss and gradients exactly 0, even where the
	// input is NaN) and Mean divides by the number of elements kept (the
	// mean of nothing is NaN). Spread by MaskBcast.
	Mask      device.Buffer
	MaskBcast Bcast

	// PosWeight is binary_cross_entropy_with_logits's pos_weight: one
	// value per class, broadcast along the last dimension (PerColumn(len)).
	PosWeight device.Buffer
	// Var is gaussian_nll_loss's variance, spread by VarBcast: the shape
	// of input, or one value per row (PerRow(rows, cols), PyTorch's var
	// of shape [..., 1]). GradVar, if not nil, receives d loss / d var, in
	// Var's shape (summed over the elements that share a value).
	Var, GradVar device.Buffer
	VarBcast     Bcast

	// Rows is the batch size (input's first dimension) that BatchMean
	// divides by; 0 means N.
	Rows int
}

// pointwiseOptions are the options of the elementwise losses, all in one. Each loss
// reads only the fields named in its doc; the zero value gives PyTorch's
// (or Keras's) defaults.
type pointwiseOptions struct {
	// Reduction: Mean divides by N (by the number of elements kept under
	// Mask); BatchMean (kl_div only) divides by Rows.
	Reduction Reduction
	NaN       NaNPolicy
	// Delta is huber_loss's δ (> 0; nil: 1).
	Delta *float64
	// Beta is smooth_l1_loss's β (>= 0; nil: 1; 0 is L1).
	Beta *float64
	// Margin is hinge_embedding_loss's margin (nil: 1).
	Margin *float64
	// Alpha (nil: 0.25; negative: no weighting) and Gamma (>= 0; nil: 2)
	// are sigmoid_focal_loss's.
	Alpha, Gamma *float64
	// LogTarget: kl_div's target holds log-probabilities.
	LogTarget bool
	// NoLogInput: poisson_nll_loss's input is the rate itself, not its
	// log (PyTorch's log_input=False).
	NoLogInput bool
	// Full adds poisson_nll_loss's Stirling term, or gaussian_nll_loss's
	// constant ½·log 2π.
	Full bool
	// Eps is poisson_nll_loss's eps (nil: 1e-8), gaussian_nll_loss's
	// variance floor (nil: 1e-6) and the Keras epsilon of MAPE and MSLE
	// (nil: 1e-7). It must be >= 0.
	Eps *float64
	// SkipInputCheck skips the device-side checks of input ranges
	// (binary_cross_entropy's probabilities, ±1 labels, non-negative
	// var), which cost one read of the buffer and a synchronisation.
	SkipInputCheck bool
}

func optOr(p *float64, def float64) float64 {
	if p == nil {
		return def
	}
	return *p
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// params returns the kernel parameters p0, p1, p2 of loss p under opt.
func (p pwKind) params(opt pointwiseOptions) (p0, p1, p2 float64, err error) {
	name := p.Name()
	finite := func(arg string, v float64) error {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return argErr(name, arg, "must be finite, got %v", v)
		}
		return nil
	}
	eps := func(def float64) (float64, error) {
		e := optOr(opt.Eps, def)
		if !(e >= 0) || math.IsInf(e, 0) {
			return 0, argErr(name, "eps", "must be finite and >= 0, got %v", e)
		}
		return e, nil
	}
	switch p {
	case pwHuber:
		d := optOr(opt.Delta, 1)
		if !(d > 0) || math.IsInf(d, 0) {
			return 0, 0, 0, argErr(name, "delta", "must be positive and finite, got %v", d)
		}
		return d, 0, 0, nil
	case pwSmoothL1:
		b := optOr(opt.Beta, 1)
		if !(b >= 0) || math.IsInf(b, 0) {
			return 0, 0, 0, argErr(name, "beta", "must be finite and >= 0, got %v", b)
		}
		return b, 0, 0, nil
	case pwMeanAbsolutePercentageError, pwMeanSquaredLogarithmicError:
		e, err := eps(1e-7)
		return e, 0, 0, err
	case pwSigmoidFocal:
		a, g := optOr(opt.Alpha, 0.25), optOr(opt.Gamma, 2)
		if err := finite("alpha", a); err != nil {
			return 0, 0, 0, err
		}
		if a > 1 {
			return 0, 0, 0, argErr(name, "alpha", "must be at most 1 (or negative for no weighting), got %v", a)
		}
		if !(g >= 0) || math.IsInf(g, 0) {
			return 0, 0, 0, argErr(name, "gamma", "must be finite and >= 0, got %v", g)
		}
		return a, g, 0, nil
	case pwHingeEmbedding:
		m := optOr(opt.Margin, 1)
		return m, 0, 0, finite("margin", m)
	case pwKLDiv:
		return b2f(opt.LogTarget), 0, 0, nil
	case pwPoissonNLL:
		e, err := eps(1e-8)
		return b2f(!opt.NoLogInput), b2f(opt.Full), e, err
	case pwGaussianNLL:
		e, err := eps(1e-6)
		return b2f(opt.Full), e, 0, err
	}
	return 0, 0, 0, nil
}

func checkBcast(name, arg string, bc Bcast, n int) error {
	if n == 0 && bc.Len >= 0 && bc.Stride >= 0 {
		return nil // nothing is read
	}
	if bc.Len < 1 || bc.Stride < 1 {
		return argErr(name, arg, "broadcast (len %d, stride %d) needs len >= 1 and stride >= 1", bc.Len, bc.Stride)
	}
	if p := int64(bc.Len) * int64(bc.Stride); p > int64(n) && n > 0 || n > 0 && int64(n)%p != 0 {
		return argErr(name, arg, "broadcast (len %d, stride %d) does not tile the %d elements of input", bc.Len, bc.Stride, n)
	}
	return checkSize(name, arg, bc.Len)
}

func validatePointwise(dev device.Device, p pwKind, b pointwiseBuffers, opt pointwiseOptions) (pointwiseInfo, error) {
	if p < 0 || int(p) >= len(pointwiseInfos) {
		return pointwiseInfo{}, argErr("pointwise", "loss", "unknown elementwise loss %d", int(p))
	}
	in := pointwiseInfos[p]
	name := in.name
	if dev == nil {
		return in, argErr(name, "device", "is nil")
	}
	if err := checkSize(name, "N", b.N); err != nil {
		return in, err
	}
	if !opt.Reduction.valid() && !(opt.Reduction == BatchMean && p == pwKLDiv) {
		return in, argErr(name, "reduction", "unknown reduction %s", opt.Reduction)
	}
	if opt.NaN != NaNPropagate && opt.NaN != NaNError {
		return in, argErr(name, "nan_policy", "unknown NaN policy %d", int(opt.NaN))
	}
	if _, _, _, err := p.params(opt); err != nil {
		return in, err
	}
	if b.Input == nil {
		return in, argErr(name, "input", "buffer is nil")
	}
	ft := b.Input.DType()
	if !ft.IsFloat() {
		return in, argErr(name, "input", "dtype is %s, want a float type", ft)
	}
	if ft == device.Float64 && !dev.Info().Float64 {
		return in, argErr(name, "input", "float64 is not supported on device %s (use float32, or the host device)", dev.Info().Name)
	}
	nLoss := 1
	if opt.Reduction == None {
		nLoss = b.N
	}
	if in.labels && b.GradTarget != nil {
		return in, argErr(name, "grad_target", "target holds ±1 labels, which have no gradient: pass nil")
	}
	if !in.posWeight && b.PosWeight != nil {
		return in, argErr(name, "pos_weight", "is binary_cross_entropy_with_logits's only")
	}
	if !in.variance && (b.Var != nil || b.GradVar != nil) {
		return in, argErr(name, "var", "is gaussian_nll_loss's only")
	}
	if in.variance && b.Var == nil {
		return in, argErr(name, "var", "buffer is nil")
	}
	if b.Rows < 0 || b.Rows > b.N && b.N > 0 || b.Rows > 0 && b.N%b.Rows != 0 {
		return in, argErr(name, "rows", "%d does not divide N = %d", b.Rows, b.N)
	}
	wb, mb, vb := b.WeightBcast.resolve(b.N), b.MaskBcast.resolve(b.N), b.VarBcast.resolve(b.N)
	type bufCheck struct {
		arg string
		b   device.Buffer
		dt  device.DType
		n   int
		opt bool
	}
	var cbuf [9]bufCheck
	checks := append(cbuf[:0], bufCheck{"input", b.Input, ft, b.N, false}, bufCheck{"target", b.Target, ft, b.N, false},
		bufCheck{"loss", b.Loss, ft, nLoss, false}, bufCheck{"grad_input", b.GradInput, ft, b.N, true},
		bufCheck{"grad_target", b.GradTarget, ft, b.N, true})
	if b.Weight != nil {
		if err := checkBcast(name, "weight", wb, b.N); err != nil {
			return in, err
		}
		checks = append(checks, bufCheck{"weight", b.Weight, ft, wb.Len, false})
	}
	if b.Mask != nil {
		if err := checkBcast(name, "mask", mb, b.N); err != nil {
			return in, err
		}
		checks = append(checks, bufCheck{"mask", b.Mask, device.Int32, mb.Len, false})
	}
	if b.PosWeight != nil {
		c := b.PosWeight.Len()
		if err := checkBcast(name, "pos_weight", PerColumn(c), b.N); err != nil {
			return in, err
		}
		checks = append(checks, bufCheck{"pos_weight", b.PosWeight, ft, c, false})
	}
	if in.variance {
		if err := checkBcast(name, "var", vb, b.N); err != nil {
			return in, err
		}
		checks = append(checks, bufCheck{"var", b.Var, ft, vb.Len, false}, bufCheck{"grad_var", b.GradVar, ft, vb.Len, true})
	}
	for _, c := range checks {
		if err := checkBuf(name, c.arg, dev, c.b, c.dt, c.n, c.opt); err != nil {
			return in, err
		}
	}
	return in, nil
}

// countInvalid reports whether any of the first n elements of b is
// invalid for mode (count_invalid).
func countInvalid(dev device.Device, b device.Buffer, n int, mode int32, lo, hi float64) (bool, error) {
	return anyCounted(dev, n, func(g device.Grid, counts device.Buffer) error {
		return dev.Launch("count_invalid", g, b, int32(n), mode, lo, hi, counts)
	})
}

// pointwiseLossBuf computes elementwise loss p between b.Input and b.Target,
// reduced by opt.Reduction, and the gradients asked for in b. It runs one
// grid-stride kernel that writes the gradients and one partial sum per
// block, then one block that adds the partials (plus, with a Mask and
// Mean, one pass over the mask to count what it keeps, and for a
// broadcast Var one kernel that sums its gradient): no workspace beyond
// MaxReduceBlocks floats and, with GradVar broadcast, N floats. The result
// is bitwise reproducible. Bad input leaves every buffer untouched.
func pointwiseLossBuf(dev device.Device, p pwKind, b pointwiseBuffers, opt pointwiseOptions) error {
	in, err := validatePointwise(dev, p, b, opt)
	if err != nil {
		return err
	}
	for _, c := range []struct {
		arg string
		b   device.Buffer
		n   int
	}{{"input", b.Input, b.N}, {"target", b.Target, b.N}, {"var", b.Var, b.VarBcast.resolve(b.N).Len}} {
		if c.b == nil {
			continue
		}
		if err := checkNaN(in.name, c.arg, dev, opt.NaN, c.b, c.n); err != nil {
			return err
		}
	}
	if !opt.SkipInputCheck {
		if err := checkPointwiseRanges(dev, in, b); err != nil {
			return err
		}
	}
	return pointwiseLaunch(dev, p, b, opt)
}

func checkPointwiseRanges(dev device.Device, in pointwiseInfo, b pointwiseBuffers) error {
	type rc struct {
		arg    string
		b      device.Buffer
		n      int
		mode   int32
		lo, hi float64
		msg    string
	}
	var cs []rc
	if in.prob {
		cs = append(cs, rc{"input", b.Input, b.N, kernelspec.InvalidOutside, 0, 1, "has elements outside [0, 1]: binary_cross_entropy takes probabilities (use binary_cross_entropy_with_logits for logits)"})
	}
	if in.labels {
		cs = append(cs, rc{"target", b.Target, b.N, kernelspec.InvalidNotSign, 0, 0, "has elements other than -1 and 1"})
	}
	if in.variance {
		cs = append(cs, rc{"var", b.Var, b.VarBcast.resolve(b.N).Len, kernelspec.InvalidOutside, 0, math.Inf(1), "has negative elements"})
	}
	for _, c := range cs {
		bad, err := countInvalid(dev, c.b, c.n, c.mode, c.lo, c.hi)
		if err != nil {
			return fmt.Errorf("losses: %s: %s: %w", in.name, c.arg, err)
		}
		if bad {
			return argErr(in.name, c.arg, "%s", c.msg)
		}
	}
	return nil
}

func pointwiseLaunch(dev device.Device, p pwKind, b pointwiseBuffers, opt pointwiseOptions) error {
	in := pointwiseInfos[p]
	p0, p1, p2, _ := p.params(opt)
	ft := b.Input.DType()
	g := partialGrid(b.N)
	wb, mb, vb := b.WeightBcast.resolve(b.N), b.MaskBcast.resolve(b.N), b.VarBcast.resolve(b.N)
	var flags int32
	gs := 1.0
	// Scratch buffers from the pool, returned when the launches are queued.
	var scratch [4]device.Buffer
	ns := 0
	defer pool.put(scratch[:]...)
	get := func(dt device.DType, n int) (device.Buffer, error) {
		s, err := pool.get(dev, dt, n)
		if err == nil {
			scratch[ns] = s
			ns++
		}
		return s, err
	}
	denom := b.Input
	switch opt.Reduction {
	case Mean:
		if b.Mask != nil {
			d, err := get(ft, g.Blocks)
			if err != nil {
				return err
			}
			if err := dev.Launch("mask_count", g, b.Mask, int32(b.N), int32(mb.Len), int32(mb.Stride), d); err != nil {
				return err
			}
			if err := dev.Launch("reduce_sum", oneBlock, d, int32(g.Blocks), 1.0, int32(0), d, d); err != nil {
				return err
			}
			denom = d
			flags |= kernelspec.FlagDenom
		} else {
			gs = 1 / float64(b.N) // +Inf for N = 0: no element is touched
		}
	case BatchMean:
		rows := b.Rows
		if rows == 0 {
			rows = b.N
		}
		gs = 1 / float64(rows)
	}
	gx, gy, ga := b.GradInput, b.GradTarget, b.Input
	if gx != nil {
		flags |= kernelspec.FlagGradInput
	} else {
		gx = b.Input
	}
	if gy != nil {
		flags |= kernelspec.FlagGradTarget
	} else {
		gy = b.Input
	}
	aux, auxLen, auxStride := b.Input, 1, 1
	switch {
	case b.PosWeight != nil:
		aux, auxLen, auxStride = b.PosWeight, b.PosWeight.Len(), 1
		flags |= kernelspec.FlagAux
	case b.Var != nil:
		aux, auxLen, auxStride = b.Var, vb.Len, vb.Stride
		flags |= kernelspec.FlagAux
	}
	if b.GradVar != nil {
		flags |= kernelspec.FlagGradAux
		ga = b.GradVar
		if vb.Len != b.N || vb.Stride != 1 {
			s, err := get(ft, b.N)
			if err != nil {
				return err
			}
			ga = s
		}
	}
	w := b.Input
	if b.Weight != nil {
		w = b.Weight
		flags |= kernelspec.FlagWeight
	}
	mask := b.Mask
	if mask != nil {
		flags |= kernelspec.FlagMask
	} else {
		m, err := get(device.Int32, 1)
		if err != nil {
			return err
		}
		mask = m
	}
	out := b.Loss
	if opt.Reduction != None {
		flags |= kernelspec.FlagReduce
		o, err := get(ft, g.Blocks)
		if err != nil {
			return err
		}
		out = o
	}
	if b.N > 0 || opt.Reduction != None {
		k := pwLaunchKey{in.op, int32(b.N), p0, p1, p2,
			int32(auxLen), int32(auxStride), int32(wb.Len), int32(wb.Stride), int32(mb.Len), int32(mb.Stride),
			gs, flags}
		tmpl := pwArgs.get(k, func() []any {
			return []any{k.op, nil, nil, nil, nil, nil, k.n, k.p0, k.p1, k.p2, k.auxLen, k.auxStride,
				k.wLen, k.wStride, k.mLen, k.mStride, k.gs, nil, k.flags, nil, nil, nil, nil}
		})
		if err := launch(dev, "pointwise_loss", g, tmpl, b.Input, b.Target, aux, w, mask, denom, gx, gy, ga, out); err != nil {
			return err
		}
	}
	if b.GradVar != nil && ga != b.GradVar {
		vg := device.Grid{Blocks: vb.Len, Threads: kernelspec.BlockSize}
		// An empty input has stride 0: any stride sums nothing into zeros.
		stride := max(vb.Stride, 1)
		if err := dev.Launch("broadcast_sum", vg, ga, int32(b.N), int32(vb.Len), int32(stride), b.GradVar); err != nil {
			return err
		}
	}
	if opt.Reduction == None {
		return nil
	}
	hasDiv := int32(0)
	if flags&kernelspec.FlagDenom != 0 {
		hasDiv = 1
	}
	rk := reduceLaunchKey{int32(g.Blocks), gs, hasDiv}
	tmpl := reduceArgs.get(rk, func() []any { return []any{nil, rk.n, rk.scale, rk.hasDiv, nil, nil} })
	return launch(dev, "reduce_sum", oneBlock, tmpl, out, denom, b.Loss)
}

// pwLaunchKey and reduceLaunchKey are the scalar arguments of
// pointwise_loss and reduce_sum, unboxed: a training loop that repeats a
// call reuses their boxed values (launchArgs), so the call allocates
// nothing.
type pwLaunchKey struct {
	op                                              int32
	n                                               int32
	p0, p1, p2                                      float64
	auxLen, auxStride, wLen, wStride, mLen, mStride int32
	gs                                              float64
	flags                                           int32
}

type reduceLaunchKey struct {
	n      int32
	scale  float64
	hasDiv int32
}

var (
	pwArgs     launchArgs[pwLaunchKey]
	reduceArgs launchArgs[reduceLaunchKey]
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
	if err := checkLoss(name, a.loss, opt.Reduction, n); err != nil {
		return err
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
