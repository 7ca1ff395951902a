package losses

import (
	"math"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// GanArgs are the tensors of gan_discriminator_loss: the discriminator's
// outputs on real data, RealLogits (any shape, N_r elements), and on
// generated data, GenLogits (any shape, N_g elements; N_g may differ from
// N_r). RealWeights and GeneratedWeights, if given, have the shape of
// their outputs and weight each element's term (TF-GAN's real_weights and
// generated_weights; absent means weight 1). Loss is one element, or with
// reduction None the N_r + N_g per-element terms, the real ones first.
// GradRealLogits and GradGenLogits are shaped like their outputs.
type GanArgs struct {
	RealLogits       Tensor `loss:"real_logits,in"`
	GenLogits        Tensor `loss:"gen_logits,in"`
	RealWeights      Tensor `loss:"real_weights,in,optional"`
	GeneratedWeights Tensor `loss:"generated_weights,in,optional"`
	Loss             Tensor `loss:"loss,out"`
	GradRealLogits   Tensor `loss:"grad_real_logits,grad"`
	GradGenLogits    Tensor `loss:"grad_gen_logits,grad"`
}

// GanGeneratorArgs are the tensors of gan_generator_loss, those of GanArgs
// with RealLogits optional: only the relativistic_average kind reads it.
// Loss is one element, or with reduction None the N_g per-element terms
// (relativistic_average: N_r + N_g, the real ones first).
// GradRealLogits, if given, needs RealLogits; it is zero except for
// relativistic_average, the one kind whose generator loss depends on the
// real outputs.
type GanGeneratorArgs struct {
	RealLogits       Tensor `loss:"real_logits,in,optional"`
	GenLogits        Tensor `loss:"gen_logits,in"`
	RealWeights      Tensor `loss:"real_weights,in,optional"`
	GeneratedWeights Tensor `loss:"generated_weights,in,optional"`
	Loss             Tensor `loss:"loss,out"`
	GradRealLogits   Tensor `loss:"grad_real_logits,grad"`
	GradGenLogits    Tensor `loss:"grad_gen_logits,grad"`
}

// GAN loss kinds (the kind option).
const (
	GanMinimax             = "minimax"
	GanNonSaturating       = "non_saturating"
	GanWasserstein         = "wasserstein"
	GanHinge               = "hinge"
	GanLeastSquares        = "least_squares"
	GanRelativisticAverage = "relativistic_average"
)

// GanDiscriminatorLossOptions are the options of gan_discriminator_loss.
type GanDiscriminatorLossOptions struct {
	// Kind: minimax, non_saturating (the default; its discriminator loss is
	// minimax's), wasserstein, hinge, least_squares or
	// relativistic_average.
	Kind string `json:"kind"`
	// Reduction: Mean (the default) is TF-GAN's SUM_BY_NONZERO_WEIGHTS, each
	// tensor's weighted sum over the number of its nonzero weights (its
	// element count without weights); Sum; None, the per-element terms.
	Reduction Reduction `json:"reduction"`
	// LabelSmoothing in [0, 1] smooths the real target of the sigmoid
	// cross-entropy kinds to 1 − ls/2 (tf.losses.sigmoid_cross_entropy);
	// nil: 0.25, TF-GAN's default for these losses.
	LabelSmoothing *float64 `json:"label_smoothing"`
	// RealLabel and FakeLabel are least_squares' targets; nil: 1 and 0.
	RealLabel *float64 `json:"real_label"`
	FakeLabel *float64 `json:"fake_label"`
}

// GanGeneratorLossOptions are the options of gan_generator_loss (see
// GanDiscriminatorLossOptions).
type GanGeneratorLossOptions struct {
	Kind      string    `json:"kind"`
	Reduction Reduction `json:"reduction"`
	// LabelSmoothing smooths non_saturating's target 1 to 1 − ls/2; nil: 0,
	// as TF-GAN's modified_generator_loss.
	LabelSmoothing *float64 `json:"label_smoothing"`
	// RealLabel is least_squares' generator target; nil: 1.
	RealLabel *float64 `json:"real_label"`
}

// ganSide is what gan_terms computes on one tensor: the element op, its
// target p, sign s, coefficient and, for the relativistic kind, whose mean
// it subtracts.
type ganSide struct {
	op         int32
	p, s, coef float64
}

// ganKinds returns the real and generated sides of a kind's loss (for the
// discriminator, or with gen set for the generator), or ok false for an
// unknown kind.
func ganKinds(kind string, gen bool, ls, real, fake float64) (r, g ganSide, ok bool) {
	zero := ganSide{op: kernelspec.GanOpZero}
	switch kind {
	case GanMinimax, GanNonSaturating:
		if !gen {
			return ganSide{kernelspec.GanOpSCE, 1 - ls/2, 0, 1}, ganSide{kernelspec.GanOpSCE, 0, 0, 1}, true
		}
		if kind == GanMinimax {
			return zero, ganSide{kernelspec.GanOpSCE, 0, 0, -1}, true
		}
		return zero, ganSide{kernelspec.GanOpSCE, 1 - ls/2, 0, 1}, true
	case GanWasserstein:
		if !gen {
			return ganSide{kernelspec.GanOpLin, 0, 0, -1}, ganSide{kernelspec.GanOpLin, 0, 0, 1}, true
		}
		return zero, ganSide{kernelspec.GanOpLin, 0, 0, -1}, true
	case GanHinge:
		if !gen {
			return ganSide{kernelspec.GanOpHinge, 0, -1, 1}, ganSide{kernelspec.GanOpHinge, 0, 1, 1}, true
		}
		return zero, ganSide{kernelspec.GanOpLin, 0, 0, -1}, true
	case GanLeastSquares:
		if !gen {
			return ganSide{kernelspec.GanOpSq, real, 0, 1}, ganSide{kernelspec.GanOpSq, fake, 0, 1}, true
		}
		return zero, ganSide{kernelspec.GanOpSq, real, 0, 1}, true
	case GanRelativisticAverage:
		s := 1.0
		if gen {
			s = -1
		}
		return ganSide{kernelspec.GanOpRA, 0, -s, 1}, ganSide{kernelspec.GanOpRA, 0, s, 1}, true
	}
	return r, g, false
}

// GanDiscriminatorLoss is TF-GAN's discriminator loss of the given kind
// over the discriminator's outputs on real data x_r and generated data
// x_g (logits for the cross-entropy and relativistic kinds), each mean
// taken over its own tensor (weighted: Σ w·t / #{w ≠ 0}):
//
//	minimax, non_saturating: mean softplus(−x_r)·… = mean[softplus(x_r) − y·x_r] + mean softplus(x_g),
//	                          y = 1 − label_smoothing/2 (TF-GAN minimax/modified_discriminator_loss)
//	wasserstein:    mean(x_g) − mean(x_r)
//	hinge:          mean relu(1 − x_r) + mean relu(1 + x_g) (Lim & Ye 2017, Miyato et al. 2018)
//	least_squares:  ½mean (x_r − real_label)² + ½mean (x_g − fake_label)²
//	relativistic_average: mean softplus(−(x_r − mean x_g)) + mean softplus(x_g − mean x_r)
//	                (Jolicoeur-Martineau 2018, RaSGAN; the means are unweighted and
//	                the gradient flows through them)
//
// with the gradients w.r.t. both outputs. A mean over no elements (or no
// nonzero weight) is NaN, as PyTorch's mean (TF-GAN's div_no_nan gives 0).
// Launches gan_partials and gan_reduce (weights or relativistic),
// gan_terms, gan_reduce, and gan_add (relativistic gradients).
func GanDiscriminatorLoss(dev device.Device, a GanArgs, o GanDiscriminatorLossOptions) error {
	const name = "gan_discriminator_loss"
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	if !a.RealLogits.Present() {
		return argErr(name, "real_logits", "buffer is nil")
	}
	ls, err := ganOpt(name, "label_smoothing", o.LabelSmoothing, 0.25, true)
	if err != nil {
		return err
	}
	rl, err := ganOpt(name, "real_label", o.RealLabel, 1, false)
	if err != nil {
		return err
	}
	fl, err := ganOpt(name, "fake_label", o.FakeLabel, 0, false)
	if err != nil {
		return err
	}
	s := stage{dev: dev, loss: name}
	return s.finish(ganStaged(&s, name, false, o.Kind, o.Reduction, ls, rl, fl, GanGeneratorArgs(a)))
}

// GanGeneratorLoss is TF-GAN's generator loss of the given kind over the
// discriminator's outputs on generated data x_g (see GanDiscriminatorLoss
// for the means and weights):
//
//	minimax:        −mean softplus(x_g) (TF-GAN minimax_generator_loss: −D's generated term)
//	non_saturating: mean[softplus(x_g) − y·x_g], y = 1 − label_smoothing/2 (modified_generator_loss)
//	wasserstein, hinge: −mean(x_g)
//	least_squares:  ½mean (x_g − real_label)²
//	relativistic_average: mean softplus(−(x_g − mean x_r)) + mean softplus(x_r − mean x_g)
//
// with the gradient w.r.t. x_g, and w.r.t. x_r (zero but for
// relativistic_average) if asked.
func GanGeneratorLoss(dev device.Device, a GanGeneratorArgs, o GanGeneratorLossOptions) error {
	const name = "gan_generator_loss"
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	ls, err := ganOpt(name, "label_smoothing", o.LabelSmoothing, 0, true)
	if err != nil {
		return err
	}
	rl, err := ganOpt(name, "real_label", o.RealLabel, 1, false)
	if err != nil {
		return err
	}
	if o.Kind == GanRelativisticAverage && !a.RealLogits.Present() {
		return argErr(name, "real_logits", "buffer is nil (relativistic_average needs it)")
	}
	if a.GradRealLogits.Present() && !a.RealLogits.Present() {
		return argErr(name, "grad_real_logits", "is given without real_logits")
	}
	s := stage{dev: dev, loss: name}
	return s.finish(ganStaged(&s, name, true, o.Kind, o.Reduction, ls, rl, 0, a))
}

// ganOpt returns *v, or def for nil, after checking it is finite (and in
// [0, 1] with unit).
func ganOpt(name, arg string, v *float64, def float64, unit bool) (float64, error) {
	if v == nil {
		return def, nil
	}
	x := *v
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, argErr(name, arg, "must be finite, got %v", x)
	}
	if unit && (x < 0 || x > 1) {
		return 0, argErr(name, arg, "must be in [0, 1], got %v", x)
	}
	return x, nil
}

func ganKind(kind string) string {
	if kind == "" {
		return GanNonSaturating
	}
	return kind
}

func ganStaged(s *stage, name string, gen bool, kind string, red Reduction, ls, rl, fl float64, a GanGeneratorArgs) error {
	kind = ganKind(kind)
	rs, gside, ok := ganKinds(kind, gen, ls, rl, fl)
	if !ok {
		return argErr(name, "kind", "unknown kind %q (minimax, non_saturating, wasserstein, hinge, least_squares, relativistic_average)", kind)
	}
	if !red.valid() {
		return argErr(name, "reduction", "unknown reduction %d", int(red))
	}
	ra := kind == GanRelativisticAverage
	if !a.GenLogits.Present() {
		return argErr(name, "gen_logits", "buffer is nil")
	}
	hasReal := a.RealLogits.Present()
	if err := s.check("gen_logits", a.GenLogits); err != nil {
		return err
	}
	if hasReal {
		if err := s.check("real_logits", a.RealLogits); err != nil {
			return err
		}
	}
	if a.RealWeights.Present() && (!hasReal || !sameShape(a.RealWeights.Shape, a.RealLogits.Shape)) {
		return argErr(name, "real_weights", "has shape %v, want real_logits' %v", a.RealWeights.Shape, a.RealLogits.Shape)
	}
	if a.GeneratedWeights.Present() && !sameShape(a.GeneratedWeights.Shape, a.GenLogits.Shape) {
		return argErr(name, "generated_weights", "has shape %v, want gen_logits' %v", a.GeneratedWeights.Shape, a.GenLogits.Shape)
	}
	if a.GradRealLogits.Present() && !sameShape(a.GradRealLogits.Shape, a.RealLogits.Shape) {
		return argErr(name, "grad_real_logits", "has shape %v, want %v", a.GradRealLogits.Shape, a.RealLogits.Shape)
	}
	if a.GradGenLogits.Present() && !sameShape(a.GradGenLogits.Shape, a.GenLogits.Shape) {
		return argErr(name, "grad_gen_logits", "has shape %v, want %v", a.GradGenLogits.Shape, a.GenLogits.Shape)
	}
	ng, nr := a.GenLogits.Len(), 0
	if hasReal {
		nr = a.RealLogits.Len()
	}
	realTerms := !gen || ra // the real tensor has loss terms
	nOut := ng
	if realTerms {
		nOut += nr
	}
	if err := checkLoss(name, a.Loss, red, nOut); err != nil {
		return err
	}
	var xr, xg, wr, wg, loss, gr, gg device.Buffer
	if err := s.bind(in("real_logits", a.RealLogits, &xr), in("gen_logits", a.GenLogits, &xg),
		in("real_weights", a.RealWeights, &wr), in("generated_weights", a.GeneratedWeights, &wg),
		out("loss", a.Loss, &loss), out("grad_real_logits", a.GradRealLogits, &gr),
		out("grad_gen_logits", a.GradGenLogits, &gg)); err != nil {
		return err
	}
	dev := s.dev
	ft := xg.DType()
	if err := floatType(name, "gen_logits", dev, ft); err != nil {
		return err
	}
	for _, c := range []struct {
		arg string
		b   device.Buffer
		n   int
	}{{"real_logits", xr, nr}, {"real_weights", wr, nr}, {"generated_weights", wg, ng}, {"loss", loss, a.Loss.Len()},
		{"grad_real_logits", gr, nr}, {"grad_gen_logits", gg, ng}} {
		if err := checkBuf(name, c.arg, dev, c.b, ft, c.n, true); err != nil {
			return err
		}
	}
	if loss == nil && gr == nil && gg == nil {
		return nil
	}
	g := partialGrid(max(nr, ng))
	B := g.Blocks
	// Scratch: part, the per-block partials of the statistics (gen then
	// real: sums, counts); stats, the statistics [Σ x_g, #{w_g ≠ 0}, Σ x_r,
	// #{w_r ≠ 0}]; lpart, the loss partials (gen, real); dpart, the
	// gradient sums per block (gen, real) and dstat their totals.
	bufs := make([]device.Buffer, 5)
	for i, n := range []int{4 * B, 4, 2 * B, 2 * B, 2} {
		b, err := pool.get(dev, ft, n)
		if err != nil {
			return err
		}
		defer pool.put(b)
		bufs[i] = b
	}
	part, stats, lpart, dpart, dstat := bufs[0], bufs[1], bufs[2], bufs[3], bufs[4]
	weighted := wr != nil || wg != nil
	if weighted || ra {
		if err := dev.Launch("gan_partials", g, xg, other(wg, xg), int32(ng), b2i(wg != nil), part, int32(0)); err != nil {
			return err
		}
		nseg := int32(2)
		if hasReal {
			if err := dev.Launch("gan_partials", g, xr, other(wr, xr), int32(nr), b2i(wr != nil), part, int32(2*B)); err != nil {
				return err
			}
			nseg = 4
		}
		if err := dev.Launch("gan_reduce", oneBlock, part, int32(B), nseg, int32(0), 1.0, stats); err != nil {
			return err
		}
	}
	perElem := red == None && loss != nil
	dsum := ra && (gr != nil || gg != nil)
	type sideRun struct {
		side          ganSide
		x, w, grad    device.Buffer
		n, seg        int
		outOff        int
		meanIdx       int32
		meanScale     float64
		denIdx, cntAt int32
	}
	runs := []sideRun{{side: gside, x: xg, w: wg, grad: gg, n: ng, seg: 0, meanIdx: 2, meanScale: 1 / float64(nr), cntAt: 1}}
	if realTerms {
		runs[0].outOff = nr
	}
	if hasReal && (realTerms || gr != nil) {
		runs = append(runs, sideRun{side: rs, x: xr, w: wr, grad: gr, n: nr, seg: 1, meanIdx: 0, meanScale: 1 / float64(ng), cntAt: 3})
	}
	for _, r := range runs {
		gs := 1.0
		den := int32(-1)
		if red == Mean {
			if r.w != nil {
				den = r.cntAt
			} else {
				gs = 1 / float64(r.n) // +Inf for no elements: the mean is NaN
			}
		}
		mi := int32(-1)
		if ra {
			mi = r.meanIdx
		}
		if r.side.op == kernelspec.GanOpZero {
			gs, den = 1, -1
		}
		flags := int32(0)
		if r.grad != nil {
			flags |= kernelspec.GanGrad
		}
		if dsum {
			flags |= kernelspec.GanDSum
		}
		outBuf, off := lpart, r.seg*B
		if perElem {
			outBuf, off = loss, r.outOff
			if r.side.op == kernelspec.GanOpZero {
				outBuf, off = lpart, r.seg*B // a zero gradient only
				flags |= kernelspec.GanReduce
			}
		} else {
			flags |= kernelspec.GanReduce
		}
		if err := dev.Launch("gan_terms", g, r.side.op, r.x, other(r.w, r.x), int32(r.n), b2i(r.w != nil), r.side.p,
			r.side.s, r.side.coef, gs, stats, mi, r.meanScale, den, flags, other(r.grad, r.x), outBuf, int32(off),
			dpart, int32(r.seg*B)); err != nil {
			return err
		}
	}
	if dsum {
		// The relativistic means couple the tensors: d/dx_r of the
		// generated terms is −(1/N_r)·Σ_j (their gradient w.r.t. x_g_j),
		// and the other way round.
		if err := dev.Launch("gan_reduce", oneBlock, dpart, int32(B), int32(2), int32(0), 1.0, dstat); err != nil {
			return err
		}
		if gr != nil {
			if err := dev.Launch("gan_add", g, gr, int32(nr), dstat, int32(0), -1/float64(nr)); err != nil {
				return err
			}
		}
		if gg != nil {
			if err := dev.Launch("gan_add", g, gg, int32(ng), dstat, int32(1), -1/float64(ng)); err != nil {
				return err
			}
		}
	}
	if loss == nil || perElem {
		return nil
	}
	nseg := int32(1)
	if len(runs) == 2 {
		nseg = 2
	}
	return dev.Launch("gan_reduce", oneBlock, lpart, int32(B), nseg, int32(1), 1.0, loss)
}

// GradientPenaltyArgs are the tensors of gradient_penalty and r1_penalty:
// Gradients [N, ...], per sample i the gradient ∇_x D(x) of the
// discriminator's output w.r.t. that sample's input (flattened per sample:
// N rows of D elements). The caller forms it with its own autodiff as the
// gradient of D's outputs summed over the batch, w.r.t. the interpolates
// x̂ = ε·x_real + (1 − ε)·x_gen (gradient_penalty) or w.r.t. the real
// inputs (r1_penalty), keeping the graph (create_graph=True in PyTorch) so
// that it can chain GradGradients, the gradient of the penalty w.r.t.
// Gradients, back through that first derivative (the double backward is
// the caller's). Loss is one element, or N with reduction None.
type GradientPenaltyArgs struct {
	Gradients     Tensor `loss:"gradients,in"`
	Loss          Tensor `loss:"loss,out"`
	GradGradients Tensor `loss:"grad_gradients,grad"`
}

// GradientPenaltyOptions are the options of gradient_penalty.
type GradientPenaltyOptions struct {
	// Target is the norm the penalty pulls toward; nil: 1.
	Target *float64 `json:"target"`
	// Weight λ >= 0 multiplies the penalty; nil: 10 (Gulrajani et al.).
	Weight *float64 `json:"weight"`
	// Epsilon >= 0 inside the square root, sqrt(Σg² + eps); nil: 1e-10
	// (TF-GAN's).
	Epsilon *float64 `json:"epsilon"`
	// OneSided penalises only norms above Target.
	OneSided bool `json:"one_sided"`
	// Reduction: Mean (default) over the samples, Sum, None.
	Reduction Reduction `json:"reduction"`
}

// R1PenaltyOptions are the options of r1_penalty.
type R1PenaltyOptions struct {
	// Gamma >= 0; nil: 10 (Mescheder et al. 2018's γ for most of their
	// experiments, and StyleGAN2's FFHQ setting).
	Gamma *float64 `json:"gamma"`
	// Reduction: Mean (default) over the samples, Sum, None.
	Reduction Reduction `json:"reduction"`
}

// GradientPenalty is the WGAN-GP penalty (Gulrajani et al. 2017; TF-GAN
// wasserstein_gradient_penalty's norm sqrt(Σg² + eps)): per sample
// λ·(‖g_i‖ − target)², ‖g_i‖ = sqrt(Σ_k g_ik² + eps), with (‖g_i‖ −
// target) clamped at 0 below when one_sided, then the mean over the N
// samples; and its gradient w.r.t. the gradients, 2λ(‖g_i‖ −
// target)·g_ik/‖g_i‖. TF-GAN forms (‖g‖/target − 1)², the same for the
// default target 1 and 1/target² times this otherwise. A row of zeros has
// norm sqrt(eps) and a finite gradient (0). Launches gan_penalty and
// gan_reduce.
func GradientPenalty(dev device.Device, a GradientPenaltyArgs, o GradientPenaltyOptions) error {
	const name = "gradient_penalty"
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	target, err := ganOpt(name, "target", o.Target, 1, false)
	if err != nil {
		return err
	}
	w, err := ganOpt(name, "weight", o.Weight, 10, false)
	if err != nil {
		return err
	}
	eps, err := ganOpt(name, "epsilon", o.Epsilon, 1e-10, false)
	if err != nil {
		return err
	}
	if w < 0 {
		return argErr(name, "weight", "must be >= 0, got %v", w)
	}
	if eps < 0 {
		return argErr(name, "epsilon", "must be >= 0, got %v", eps)
	}
	s := stage{dev: dev, loss: name}
	return s.finish(ganPenaltyStaged(&s, name, kernelspec.GanPenaltyGP, target, eps, w, o.OneSided, o.Reduction, a))
}

// R1Penalty is the R1 penalty (Mescheder et al. 2018): γ/2·‖g_i‖² per
// sample, ‖g_i‖² = Σ_k g_ik², then the mean over the N samples; and its
// gradient w.r.t. the gradients, γ·g_ik (over N for the mean). Launches
// gan_penalty and gan_reduce.
func R1Penalty(dev device.Device, a GradientPenaltyArgs, o R1PenaltyOptions) error {
	const name = "r1_penalty"
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	gamma, err := ganOpt(name, "gamma", o.Gamma, 10, false)
	if err != nil {
		return err
	}
	if gamma < 0 {
		return argErr(name, "gamma", "must be >= 0, got %v", gamma)
	}
	s := stage{dev: dev, loss: name}
	return s.finish(ganPenaltyStaged(&s, name, kernelspec.GanPenaltyR1, 0, 0, gamma/2, false, o.Reduction, a))
}

func ganPenaltyStaged(s *stage, name string, op int32, target, eps, coef float64, oneSided bool, red Reduction,
	a GradientPenaltyArgs) error {
	if !red.valid() {
		return argErr(name, "reduction", "unknown reduction %d", int(red))
	}
	if !a.Gradients.Present() {
		return argErr(name, "gradients", "buffer is nil")
	}
	sh := a.Gradients.Shape
	if len(sh) == 0 {
		return argErr(name, "gradients", "has shape %v: want [N, ...], one row per sample", sh)
	}
	if err := s.check("gradients", a.Gradients); err != nil {
		return err
	}
	rows := sh[0]
	d := prod(sh[1:])
	if d > kernelspec.MaxIntLoop {
		return argErr(name, "gradients", "has %d elements per sample, more than %d", d, kernelspec.MaxIntLoop)
	}
	if err := checkLoss(name, a.Loss, red, rows); err != nil {
		return err
	}
	if a.GradGradients.Present() && !sameShape(a.GradGradients.Shape, sh) {
		return argErr(name, "grad_gradients", "has shape %v, want %v", a.GradGradients.Shape, sh)
	}
	var gb, loss, gg device.Buffer
	if err := s.bind(in("gradients", a.Gradients, &gb), out("loss", a.Loss, &loss),
		out("grad_gradients", a.GradGradients, &gg)); err != nil {
		return err
	}
	dev := s.dev
	ft := gb.DType()
	if err := floatType(name, "gradients", dev, ft); err != nil {
		return err
	}
	for _, c := range []struct {
		arg string
		b   device.Buffer
		n   int
	}{{"loss", loss, a.Loss.Len()}, {"grad_gradients", gg, rows * d}} {
		if err := checkBuf(name, c.arg, dev, c.b, ft, c.n, true); err != nil {
			return err
		}
	}
	if loss == nil && gg == nil {
		return nil
	}
	// With no columns every row has the same loss: one row stands for them
	// (the reduction's scale counts them), so that the time does not grow
	// with an empty dimension.
	lrows, rscale := rows, 1.0
	if d == 0 && red != None && rows > 0 {
		lrows = 1
		if red == Sum {
			rscale = float64(rows)
		}
	}
	gs := 1.0
	if red == Mean {
		gs = 1 / float64(lrows) // +Inf for no rows: the mean is NaN
	}
	g := device.Grid{Blocks: max(1, min(lrows, kernelspec.MaxReduceBlocks)), Threads: kernelspec.BlockSize}
	flags := int32(0)
	if gg != nil {
		flags |= kernelspec.GanGrad
	}
	outBuf := loss
	if red != None || loss == nil {
		flags |= kernelspec.GanReduce
		p, err := pool.get(dev, ft, g.Blocks)
		if err != nil {
			return err
		}
		defer pool.put(p)
		outBuf = p
	}
	ggs := gs
	if red == None {
		ggs = 1
	}
	if err := dev.Launch("gan_penalty", g, op, gb, int32(lrows), int32(d), target, eps, coef, b2i(oneSided), ggs, flags,
		other(gg, gb), outBuf); err != nil {
		return err
	}
	if red == None || loss == nil {
		return nil
	}
	return dev.Launch("gan_reduce", oneBlock, outBuf, int32(g.Blocks), int32(1), int32(1), gs*rscale, loss)
}

func ganShapes(red Reduction, n int) map[string][]int {
	return map[string][]int{"loss": lossShape(red, []int{n})}
}

func init() {
	register("gan_discriminator_loss", "GanDiscriminatorLoss", GanDiscriminatorLoss,
		func(a GanArgs, o GanDiscriminatorLossOptions) map[string][]int {
			return ganShapes(o.Reduction, a.RealLogits.Len()+a.GenLogits.Len())
		}, "gan_partials", "gan_reduce", "gan_terms", "gan_add")
	register("gan_generator_loss", "GanGeneratorLoss", GanGeneratorLoss,
		func(a GanGeneratorArgs, o GanGeneratorLossOptions) map[string][]int {
			n := a.GenLogits.Len()
			if ganKind(o.Kind) == GanRelativisticAverage && a.RealLogits.Present() {
				n += a.RealLogits.Len()
			}
			return ganShapes(o.Reduction, n)
		}, "gan_partials", "gan_reduce", "gan_terms", "gan_add")
	register("gradient_penalty", "GradientPenalty", GradientPenalty,
		func(a GradientPenaltyArgs, o GradientPenaltyOptions) map[string][]int {
			if len(a.Gradients.Shape) == 0 {
				return map[string][]int{"loss": {}}
			}
			return ganShapes(o.Reduction, a.Gradients.Shape[0])
		}, "gan_penalty", "gan_reduce")
	register("r1_penalty", "R1Penalty", R1Penalty,
		func(a GradientPenaltyArgs, o R1PenaltyOptions) map[string][]int {
			if len(a.Gradients.Shape) == 0 {
				return map[string][]int{"loss": {}}
			}
			return ganShapes(o.Reduction, a.Gradients.Shape[0])
		}, "gan_penalty", "gan_reduce")
}
