package host

import (
	"math"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() {
	register("dice_partials", dicePartials[float32], dicePartials[float64])
	register("dice_combine", diceCombine[float32], diceCombine[float64])
	register("dice_finish", diceFinish[float32], diceFinish[float64])
	register("dice_grad", diceGrad[float32], diceGrad[float64])
}

// The dice family (kernels/src/dice.h): overlap losses over an input
// [n, c, s] whose class dimension has stride s. Per pixel, p_k is the
// activated input — x itself, sigmoid(x) (DiceSigmoid) or the softmax
// over the c classes of the pixel (DiceSoftmax) — and t_k the target: the
// float target tf (DiceTargetFloat) or the one-hot of the class index
// tidx[i, px] (DiceTargetIndex; an index outside [0, c) is a target of
// zeros). With DiceIgnore a pixel whose index is ignore_index contributes
// nothing and gets a zero gradient. The mirrors add in float64.

// dicePixel holds one pixel's view for the dice mirrors.
type dicePixel[T Float] struct {
	x, tf       []T // the input and the float target (nil without DiceTargetFloat)
	flags       int32
	m, z        float64 // softmax state
	label       int
	ignored     bool
	c           int
	s, base, to int       // stride, offset of class 0 of the pixel in x (and tf)
	pv          []float64 // p_k of the pixel (load fills it)
}

func (d *dicePixel[T]) load(tidx []int32, i, px, ignore int) {
	d.base = (i*d.c)*d.s + px
	d.label = -1
	if d.flags&kernelspec.DiceTargetIndex != 0 {
		d.label = int(tidx[i*d.s+px])
	}
	d.ignored = d.flags&kernelspec.DiceIgnore != 0 && d.flags&kernelspec.DiceTargetIndex != 0 && d.label == ignore
	if d.ignored {
		return
	}
	if len(d.pv) < d.c {
		d.pv = make([]float64, d.c)
	}
	if d.flags&(kernelspec.DiceSoftmax|kernelspec.DiceCE) != 0 {
		d.m = math.Inf(-1)
		for k := 0; k < d.c; k++ {
			d.m = math.Max(d.m, d.xv(k))
		}
		d.z = 0
		for k := 0; k < d.c; k++ {
			e := math.Exp(d.xv(k) - d.m)
			d.pv[k] = e
			d.z += e
		}
		if d.flags&kernelspec.DiceSoftmax != 0 {
			for k := 0; k < d.c; k++ {
				d.pv[k] /= d.z
			}
			return
		}
	}
	for k := 0; k < d.c; k++ {
		d.pv[k] = d.p(d.xv(k))
	}
}

// xv is the input of class k at the pixel.
func (d *dicePixel[T]) xv(k int) float64 { return float64(d.x[d.base+k*d.s]) }

// p is p_k of the pixel for logit v (load keeps them in pv).
func (d *dicePixel[T]) p(v float64) float64 {
	switch {
	case d.flags&kernelspec.DiceSoftmax != 0:
		return math.Exp(v-d.m) / d.z
	case d.flags&kernelspec.DiceSigmoid != 0:
		return 1 / (1 + math.Exp(-v))
	}
	return v
}

func (d *dicePixel[T]) t(k int) float64 {
	if d.flags&kernelspec.DiceTargetFloat != 0 {
		return float64(d.tf[d.base+k*d.s])
	}
	if d.label == k {
		return 1
	}
	return 0
}

// diceCEWeights returns the class weights of the cross-entropy term
// (cw with DiceCEWeight, else ones).
func diceCEWeights[T Float](flags int32, cw []T, c int) []float64 {
	w := make([]float64, c)
	for k := range w {
		w[k] = 1
		if flags&kernelspec.DiceCEWeight != 0 {
			w[k] = float64(cw[k])
		}
	}
	return w
}

// ce is the cross-entropy term of the pixel (dice_ce_loss) and its share
// of the mean's divisor. With c > 1, lp_k = (x_k − m) − log z, smoothing ε
// and class weights w_k:
//
//	index target t: (1−ε)(−w_t lp_t) + (ε/c)(−Σ_k w_k lp_k), divisor share w_t
//	float target y: −Σ_k w_k y'_k lp_k, y'_k = (1−ε) y_k + ε/c, divisor share 1
//
// With c = 1 (float target y): the binary cross-entropy with logits
// max(x, 0) − x·y + log1p(e^−|x|), divisor share 1.
func (d *dicePixel[T]) ce(w []float64, eps float64) (l, wd float64) {
	if d.c == 1 {
		v, y := d.xv(0), d.t(0)
		return math.Max(v, 0) - v*y + math.Log1p(math.Exp(-math.Abs(v))), 1
	}
	if d.flags&kernelspec.DiceTargetFloat == 0 && (d.label < 0 || d.label >= d.c) {
		return 0, 0 // not a class (SkipTargetCheck): no term
	}
	ls := math.Log(d.z)
	var sm float64
	for k := 0; k < d.c; k++ {
		lp := (d.xv(k) - d.m) - ls
		if d.flags&kernelspec.DiceTargetFloat != 0 {
			l -= w[k] * ((1-eps)*d.t(k) + eps/float64(d.c)) * lp
			continue
		}
		sm -= w[k] * lp
		if k == d.label {
			l -= w[k] * lp
		}
	}
	if d.flags&kernelspec.DiceTargetFloat != 0 {
		return l, 1
	}
	return (1-eps)*l + eps/float64(d.c)*sm, w[d.label]
}

// focal is MONAI's focal term of the pixel (dice_focal_loss), summed
// over its kept classes k >= k0 (k0 = 1 with DiceNoBG and c > 1), and its
// share of the mean's divisor, c − k0. With a_k the class weight w_k times
// the alpha factor (DiceFocalAlpha: softmax, 1 − α for class k0 and α for
// the others; sigmoid, t·α + (1 − t)(1 − α)):
//
//	softmax (DiceFocalSoftmax; lp_k the log-softmax over the kept classes):
//	        f_k = −a_k t_k (1 − p_k)^γ lp_k
//	sigmoid: f_k = a_k ce_k σ(−u_k)^γ, ce_k = max(x, 0) − x t + log1p(e^−|x|), u_k = x(2t − 1)
//
// If grad is not nil it receives d Σ_k f_k / d x_k for each class
// (0 below k0): softmax D_k − p_k Σ_j D_j with D_k = d f_k / d lp_k;
// sigmoid a_k((σ(x) − t) q − γ(2t − 1) ce q σ(u)), q = σ(−u)^γ.
func (d *dicePixel[T]) focal(w []float64, g, alpha float64, grad []float64) (l, wd float64) {
	k0 := 0
	if d.flags&kernelspec.DiceNoBG != 0 && d.c > 1 {
		k0 = 1
	}
	soft := d.flags&kernelspec.DiceFocalSoftmax != 0
	m, lz := 0.0, 0.0
	if soft {
		m = math.Inf(-1)
		for k := k0; k < d.c; k++ {
			m = math.Max(m, d.xv(k))
		}
		var z float64
		for k := k0; k < d.c; k++ {
			z += math.Exp(d.xv(k) - m)
		}
		lz = math.Log(z)
	}
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	var sumD float64
	for k := k0; k < d.c; k++ {
		v, t := d.xv(k), d.t(k)
		a := w[k]
		if d.flags&kernelspec.DiceFocalAlpha != 0 {
			switch {
			case soft && k == k0:
				a *= 1 - alpha
			case soft:
				a *= alpha
			default:
				a *= t*alpha + (1-t)*(1-alpha)
			}
		}
		var f, df float64
		if soft {
			lp := (v - m) - lz
			p, q := math.Exp(lp), -math.Expm1(lp)
			q = math.Max(q, 0)
			dq := 0.0
			if g != 0 && q != 0 {
				dq = g * powg(q, g-1) * p * lp
			}
			f, df = -a*t*powg(q, g)*lp, -a*t*(powg(q, g)-dq)
			sumD += df
		} else {
			ce := math.Max(v, 0) - v*t + math.Log1p(math.Exp(-math.Abs(v)))
			u := v * (2*t - 1)
			q := powg(sig(-u), g)
			f, df = a*ce*q, a*((sig(v)-t)*q-g*(2*t-1)*ce*q*sig(u))
		}
		l += f
		if grad != nil {
			grad[k] = df
		}
	}
	if grad != nil {
		for k := 0; k < k0; k++ {
			grad[k] = 0
		}
		if soft {
			for k := k0; k < d.c; k++ {
				grad[k] -= math.Exp((d.xv(k)-m)-lz) * sumD
			}
		}
	}
	return l, float64(d.c - k0)
}

// powg is math.Pow(q, g), by multiplication for the common small integer
// exponents (the focal γ = 2 of every peer's default).
func powg(q, g float64) float64 {
	switch g {
	case 0:
		return 1
	case 1:
		return q
	case 2:
		return q * q
	}
	return math.Pow(q, g)
}

// diceSums are a0, a1, a2 of one (p, t) pair (see dicePartials).
func diceSums(flags int32, p, t float64) (a0, a1, a2 float64) {
	switch {
	case flags&kernelspec.DiceSoftLabel != 0:
		return math.Abs(p - t), math.Abs(p), math.Abs(t)
	case flags&kernelspec.DiceSquared != 0:
		return p * t, p * p, t * t
	}
	return p * t, p, t
}

// dicePartials mirrors dice_partials(x, tidx, tf, n, c, s, nb, flags,
// ignore_index, part): for sample i < n, chunk b < nb (the pixels
// [b*s/nb, (b+1)*s/nb)) and class k < c,
//
//	part[((i*c + k)*3 + j)*nb + b] = Σ over the chunk's pixels of aj
//
// where, with p and t the pixel's p_k and t_k,
//
//	DiceSoftLabel: a0 = |p − t|, a1 = |p|, a2 = |t|
//	DiceSquared:   a0 = p·t,     a1 = p²,  a2 = t²
//	otherwise:     a0 = p·t,     a1 = p,   a2 = t
//
// Ignored pixels add nothing. With DiceCE (DiceFocal), xpart[blk*2] and
// xpart[blk*2+1] (blk = i*nb + b) are the chunk's sums of the pixels'
// cross-entropy (focal) terms and divisor shares (dicePixel.ce,
// dicePixel.focal; ce_eps is the label smoothing or the focal γ, ce_p1
// the focal α, cw the class weights with DiceCEWeight).
func dicePartials[T Float](a argv) error {
	xs, tidx, tfs, cws := fbuf[T](a, 0), a.ints(1), fbuf[T](a, 2), fbuf[T](a, 3)
	n, c, s, nb, flags, ign := a.int(4), a.int(5), a.int(6), a.int(7), int32(a.int(8)), a.int(9)
	eps, p1, part, xpart := a.real(10), a.real(11), fbuf[T](a, 12), fbuf[T](a, 13)
	if nb < 1 || n == 0 || c == 0 {
		return nil
	}
	cw := diceCEWeights(flags, cws, c)
	var tf []T
	if flags&kernelspec.DiceTargetFloat != 0 {
		tf = tfs
	}
	if r, ok := diceRun(xs, tidx, tf, cw, c, s, flags, ign, eps, p1); ok {
		dicePartials32(r, n, nb, any(part).([]float32), any(xpart).([]float32))
		return nil
	}
	parallelFor(n*nb, 1, func(lo, hi int) {
		acc := make([]float64, 3*c)
		d := dicePixel[T]{x: xs, tf: tf, flags: flags, c: c, s: s}
		for blk := lo; blk < hi; blk++ {
			i, b := blk/nb, blk%nb
			clear(acc)
			var ce, ced float64
			for px := b * s / nb; px < (b+1)*s/nb; px++ {
				d.load(tidx, i, px, ign)
				if d.ignored {
					continue
				}
				if flags&kernelspec.DiceCE != 0 {
					l, wd := d.ce(cw, eps)
					ce += l
					ced += wd
				}
				if flags&kernelspec.DiceFocal != 0 {
					l, wd := d.focal(cw, eps, p1, nil)
					ce += l
					ced += wd
				}
				for k := 0; k < c; k++ {
					a0, a1, a2 := diceSums(flags, d.pv[k], d.t(k))
					acc[3*k] += a0
					acc[3*k+1] += a1
					acc[3*k+2] += a2
				}
			}
			for k := 0; k < c; k++ {
				for j := 0; j < 3; j++ {
					part[((i*c+k)*3+j)*nb+b] = T(acc[3*k+j])
				}
			}
			if flags&(kernelspec.DiceCE|kernelspec.DiceFocal) != 0 {
				xpart[blk*2], xpart[blk*2+1] = T(ce), T(ced)
			}
		}
	})
	return nil
}

// diceCombine mirrors dice_combine(part, n, c, nb, flags, stats): for
// each row r (class r < c with DiceBatch, pooled over the samples; else
// sample r / c and class r % c, r < n*c) and j < 3,
//
//	stats[r*3 + j] = Σ_{i in the row's samples} Σ_{b<nb} part[((i*c + k)*3 + j)*nb + b]
func diceCombine[T Float](a argv) error {
	part, n, c, nb, flags, stats := fbuf[T](a, 0), a.int(1), a.int(2), a.int(3), int32(a.int(4)), fbuf[T](a, 5)
	batch := flags&kernelspec.DiceBatch != 0
	rows := n * c
	if batch {
		rows = c
	}
	for r := 0; r < rows; r++ {
		k, i0, ns := r%c, r/c, 1
		if batch {
			i0, ns = 0, n
		}
		for j := 0; j < 3; j++ {
			var sum float64
			for i := i0; i < i0+ns; i++ {
				for b := 0; b < nb; b++ {
					sum += float64(part[((i*c+k)*3+j)*nb+b])
				}
			}
			stats[r*3+j] = T(sum)
		}
	}
	return nil
}

// diceRow is one row of the per-class kinds: the loss from the row's
// intersection I, P and T, and dL/dI, dL/dP.
//
// Convention monai (MONAI's DiceLoss and TverskyLoss), with ε_n =
// smooth_nr and ε_d = smooth_dr:
//
//	Dice:     L = 1 − (2I + ε_n) / (P + T + ε_d)
//	Jaccard:  L = 1 − (2I + ε_n) / (2(P + T − I) + ε_d)
//	Tversky:  L = (1 − (I + ε_n) / (I + α(P − I) + β(T − I) + ε_d))^γ
//
// Convention smp (segmentation_models_pytorch), with smooth = smooth_nr
// and eps: L = 0 when T ≤ 0 (the class is absent from the target), else
//
//	Dice:     L = 1 − (2I + smooth) / max(P + T + smooth, eps)
//	Jaccard:  L = 1 − (I + smooth) / max(P + T − I + smooth, eps)
//	Tversky:  L = 1 − (I + smooth) / max(I + α(P − I) + β(T − I) + smooth, eps)
//
// (no gradient through the clamp; γ applies after the mean, in
// diceFinish).
func diceRow(kind, flags int32, I, P, T, snr, sdr, alpha, beta, gamma, eps float64) (l, gI, gP float64) {
	jac := flags&kernelspec.DiceJaccard != 0
	var num, den, dnI, ddI, ddP float64
	if flags&kernelspec.DiceSMP != 0 {
		switch {
		case kind == kernelspec.DiceKindTversky:
			num, den, dnI, ddI, ddP = I+snr, I+alpha*(P-I)+beta*(T-I)+snr, 1, 1-alpha-beta, alpha
		case jac:
			num, den, dnI, ddI, ddP = I+snr, P+T-I+snr, 1, -1, 1
		default:
			num, den, dnI, ddI, ddP = 2*I+snr, P+T+snr, 2, 0, 1
		}
		if den < eps {
			den, ddI, ddP = eps, 0, 0
		}
		if !(T > 0) {
			return 0, 0, 0
		}
		q := num / den
		return 1 - q, -dnI/den + q/den*ddI, q / den * ddP
	}
	switch {
	case kind == kernelspec.DiceKindTversky:
		num, den, dnI, ddI, ddP = I+snr, I+alpha*(P-I)+beta*(T-I)+sdr, 1, 1-alpha-beta, alpha
	case jac:
		num, den, dnI, ddI, ddP = 2*I+snr, 2*(P+T-I)+sdr, 2, -2, 2
	default:
		num, den, dnI, ddI, ddP = 2*I+snr, P+T+sdr, 2, 0, 1
	}
	q := num / den
	l, gI, gP = 1-q, -dnI/den+q/den*ddI, q/den*ddP
	if kind == kernelspec.DiceKindTversky && gamma != 1 {
		f := gamma * math.Pow(l, gamma-1)
		l = math.Pow(l, gamma)
		gI, gP = gI*f, gP*f
	}
	return l, gI, gP
}

// diceGDLWeight is the generalized Dice weight of a class whose target
// sum is T: 1/T² (square), 1/T (simple) or 1 (uniform).
func diceGDLWeight(kind int32, T float64) float64 {
	switch kind {
	case kernelspec.DiceKindGDLSquare:
		return 1 / (T * T)
	case kernelspec.DiceKindGDLSimple:
		return 1 / T
	}
	return 1
}

// diceIntersection is I of a row from its sums st[0:3]: st[0], or
// (st[1] + st[2] − st[0]) / 2 with DiceSoftLabel.
func diceIntersection(flags int32, a0, a1, a2 float64) float64 {
	if flags&kernelspec.DiceSoftLabel != 0 {
		return 0.5 * (a1 + a2 - a0)
	}
	return a0
}

// diceFinish mirrors dice_finish(stats, weight, n, c, c0, kind, flags,
// smooth_nr, smooth_dr, alpha, beta, gamma, eps, reduction, loss, coef).
// A group is a sample (or, with DiceBatch, the batch): its rows are
// stats[(g*c + k)*3 : +3], k < c, rows of class k < c0 left out (their
// coefficients are 0).
//
// Per-class kinds (dice, Tversky): each kept row's loss is
// L = w_k·diceRow(...) (w_k = weight[k] with DiceWeight, else 1), and its
// coefficients w_k·(dL/dI, dL/dP).
//
// Generalized Dice (Sudre et al. 2017, MONAI's GeneralizedDiceLoss), per
// group: w_k = diceGDLWeight(T_k), an infinite w_k replaced by the
// largest finite w of the group (0 if none),
//
//	L = 1 − (2 Σ_k w_k I_k + ε_n) / (Σ_k w_k (P_k + T_k) + ε_d)
//
// with the coefficients dL/dI_k = −2w_k/D and dL/dP_k = (N/D)·w_k/D.
//
// Reduction none: loss[g*(c−c0) + k − c0] = L (per-class kinds) or
// loss[g] = L (generalized Dice). Sum: loss[0] = Σ L; mean: Σ L / count
// (the number of losses; NaN when 0). With DiceSMP and the Tversky kind,
// loss[0] = that^γ. coef[r*2], coef[r*2 + 1] hold dL/dI_r and dL/dP_r of
// the loss written (of the sum of the losses with none). lambda_dice
// multiplies loss[0] and the coefficients. With DiceCE or DiceFocal, A and
// D the sums of the nxp pairs of xpart and D' = D (mean) or 1 (sum):
// loss[0] += lambda_ce·A/D' and extra[0] = lambda_ce/D' (NaN and 0 when
// D' = 0).
func diceFinish[T Float](a argv) error {
	stats, weight, xpart := fbuf[T](a, 0), fbuf[T](a, 1), fbuf[T](a, 2)
	n, c, c0, kind, flags, nxp := a.int(3), a.int(4), a.int(5), int32(a.int(6)), int32(a.int(7)), a.int(8)
	snr, sdr, alpha, beta, gamma, eps := a.real(9), a.real(10), a.real(11), a.real(12), a.real(13), a.real(14)
	ld, lce := a.real(15), a.real(16)
	red, loss, coef, extra := int32(a.int(17)), fbuf[T](a, 18), fbuf[T](a, 19), fbuf[T](a, 20)
	groups := n
	if flags&kernelspec.DiceBatch != 0 {
		groups = 1
	}
	kept := c - c0
	gdl := kind >= kernelspec.DiceKindGDLSquare
	count := float64(groups * kept)
	if gdl {
		count = float64(groups)
	}
	gs := ld
	if red == kernelspec.ReductionMean {
		gs = ld / count
	}
	st := func(g, k, j int) float64 { return float64(stats[(g*c+k)*3+j]) }
	iof := func(g, k int) float64 { return diceIntersection(flags, st(g, k, 0), st(g, k, 1), st(g, k, 2)) }
	var acc float64
	for g := 0; g < groups; g++ {
		cf := coef[g*c*2 : (g+1)*c*2]
		for k := 0; k < c0; k++ {
			cf[2*k], cf[2*k+1] = 0, 0
		}
		if gdl {
			wmax := 0.0
			for k := c0; k < c; k++ {
				if w := T(diceGDLWeight(kind, st(g, k, 2))); !math.IsInf(float64(w), 1) && float64(w) > wmax {
					wmax = float64(w)
				}
			}
			wk := func(k int) float64 {
				w := T(diceGDLWeight(kind, st(g, k, 2))) // infinite where the kernel's float is
				if math.IsInf(float64(w), 1) {
					return wmax
				}
				return diceGDLWeight(kind, st(g, k, 2))
			}
			var num, den float64
			for k := c0; k < c; k++ {
				w := wk(k)
				num += w * iof(g, k)
				den += w * (st(g, k, 1) + st(g, k, 2))
			}
			num, den = 2*num+snr, den+sdr
			q := num / den
			for k := c0; k < c; k++ {
				w := wk(k)
				cf[2*k], cf[2*k+1] = T(gs*(-2*w/den)), T(gs*(q/den*w))
			}
			if red == kernelspec.ReductionNone {
				loss[g] = T(1 - q)
			}
			acc += 1 - q
			continue
		}
		for k := c0; k < c; k++ {
			l, gI, gP := diceRow(kind, flags, iof(g, k), st(g, k, 1), st(g, k, 2), snr, sdr, alpha, beta, gamma, eps)
			if flags&kernelspec.DiceWeight != 0 {
				w := float64(weight[k])
				l, gI, gP = l*w, gI*w, gP*w
			}
			cf[2*k], cf[2*k+1] = T(gs*gI), T(gs*gP)
			if red == kernelspec.ReductionNone {
				loss[g*kept+k-c0] = T(l)
			}
			acc += l
		}
	}
	if red == kernelspec.ReductionNone {
		return nil
	}
	if red == kernelspec.ReductionMean {
		acc /= count
	}
	if flags&kernelspec.DiceSMP != 0 && kind == kernelspec.DiceKindTversky && gamma != 1 {
		f := gamma * math.Pow(acc, gamma-1)
		acc = math.Pow(acc, gamma)
		for g := 0; g < groups; g++ {
			for k := 0; k < 2*c; k++ {
				coef[g*c*2+k] = T(float64(coef[g*c*2+k]) * f)
			}
		}
	}
	v := ld * acc
	if flags&(kernelspec.DiceCE|kernelspec.DiceFocal) != 0 {
		var ca, cd float64
		for q := 0; q < nxp; q++ {
			ca += float64(xpart[2*q])
			cd += float64(xpart[2*q+1])
		}
		den := 1.0
		if red == kernelspec.ReductionMean {
			den = cd
		}
		if den == 0 {
			v, extra[0] = math.NaN(), 0
		} else {
			v += lce * ca / den
			extra[0] = T(lce / den)
		}
	}
	loss[0] = T(v)
	return nil
}

// diceGrad mirrors dice_grad(x, tidx, tf, coef, n, c, s, flags,
// ignore_index, grad): for every pixel (i, px), with gI, gP the
// coefficients of the row of (i, k) (of k with DiceBatch) and p, t the
// pixel's p_k, t_k,
//
//	DiceSquared:   g_k = gI·t + 2·gP·p
//	DiceSoftLabel: g_k = gI·(sgn p − sgn(p − t))/2 + gP·sgn p
//	otherwise:     g_k = gI·t + gP
//
// and grad[i, k, px] = g_k (no activation), g_k·p(1 − p) (sigmoid) or
// p_k·(g_k − Σ_j p_j g_j) (softmax), plus extra[0] times the derivative of
// the pixel's cross-entropy term (DiceCE: (1−ε)w_t(q_k − [k = t]) +
// (ε/c)(W q_k − w_k) for an index t, S q_k − w_k y'_k for a float target,
// q the softmax of the logits, W = Σ w_k, S = Σ w_k y'_k; c = 1:
// σ(x) − y) or focal term (DiceFocal, dicePixel.focal); 0 for an ignored
// pixel. grad may be x.
func diceGrad[T Float](a argv) error {
	xs, tidx, tfs, coef, cws, extra := fbuf[T](a, 0), a.ints(1), fbuf[T](a, 2), fbuf[T](a, 3), fbuf[T](a, 4), fbuf[T](a, 5)
	n, c, s, flags, ign, eps, p1, grad := a.int(6), a.int(7), a.int(8), int32(a.int(9)), a.int(10), a.real(11), a.real(12), fbuf[T](a, 13)
	if n*s == 0 || c == 0 {
		return nil
	}
	cw := diceCEWeights(flags, cws, c)
	ceScale := 0.0
	if flags&(kernelspec.DiceCE|kernelspec.DiceFocal) != 0 {
		ceScale = float64(extra[0])
	}
	// x may be grad: each pixel's x is read before its gradient is written.
	var tf []T
	if flags&kernelspec.DiceTargetFloat != 0 {
		tf = tfs
	}
	if r, ok := diceRun(xs, tidx, tf, cw, c, s, flags, ign, eps, p1); ok {
		diceGrad32(r, n, any(coef).([]float32), ceScale, any(grad).([]float32))
		return nil
	}
	batch := flags&kernelspec.DiceBatch != 0
	parallelFor(n*s, 4096, func(lo, hi int) {
		g, fg := make([]float64, c), make([]float64, c)
		d := dicePixel[T]{x: xs, tf: tf, flags: flags, c: c, s: s}
		for q := lo; q < hi; q++ {
			i, px := q/s, q%s
			cf := coef
			if !batch {
				cf = coef[i*c*2:]
			}
			d.grad(tidx, i, px, ign, cf, cw, ceScale, eps, p1, g, fg, grad)
		}
	})
	return nil
}

// grad writes the gradient of pixel px of sample i (see diceGrad): cf
// holds the sample's (gI, gP) pairs, g and fg are scratch of c floats.
func (d *dicePixel[T]) grad(tidx []int32, i, px, ign int, cf []T, cw []float64, ceScale, eps, p1 float64, g, fg []float64, grad []T) {
	c, s, flags := d.c, d.s, d.flags
	d.load(tidx, i, px, ign)
	if d.ignored {
		for k := 0; k < c; k++ {
			grad[d.base+k*s] = 0
		}
		return
	}
	var dot float64
	for k := 0; k < c; k++ {
		p, t := d.pv[k], d.t(k)
		gI, gP := float64(cf[2*k]), float64(cf[2*k+1])
		switch {
		case flags&kernelspec.DiceSquared != 0:
			g[k] = gI*t + 2*gP*p
		case flags&kernelspec.DiceSoftLabel != 0:
			g[k] = 0.5*gI*(sgn(p)-sgn(p-t)) + gP*sgn(p)
		default:
			g[k] = gI*t + gP
		}
		dot += p * g[k]
	}
	// the cross-entropy term: W = Σ_k w_k, S = Σ_k w_k y'_k
	var cW, cS float64
	for k := 0; k < c; k++ {
		cW += cw[k]
		if flags&kernelspec.DiceTargetFloat != 0 {
			cS += cw[k] * ((1-eps)*d.t(k) + eps/float64(c))
		}
	}
	if flags&kernelspec.DiceFocal != 0 {
		d.focal(cw, eps, p1, fg)
	}
	for k := 0; k < c; k++ {
		v := d.xv(k)
		p := d.pv[k]
		var gk float64
		switch {
		case flags&kernelspec.DiceSoftmax != 0:
			gk = p * (g[k] - dot)
		case flags&kernelspec.DiceSigmoid != 0:
			gk = g[k] * p * (1 / (1 + math.Exp(v)))
		default:
			gk = g[k]
		}
		if flags&kernelspec.DiceCE != 0 {
			var h float64
			switch {
			case c == 1:
				h = 1/(1+math.Exp(-v)) - d.t(k)
			case flags&kernelspec.DiceTargetFloat != 0:
				q := math.Exp(v-d.m) / d.z
				h = cS*q - cw[k]*((1-eps)*d.t(k)+eps/float64(c))
			case d.label >= 0 && d.label < c:
				q := math.Exp(v-d.m) / d.z
				ind := 0.0
				if k == d.label {
					ind = 1
				}
				h = (1-eps)*cw[d.label]*(q-ind) + eps/float64(c)*(cW*q-cw[k])
			}
			gk += ceScale * h
		}
		if flags&kernelspec.DiceFocal != 0 {
			gk += ceScale * fg[k]
		}
		grad[d.base+k*s] = T(gk)
	}
}

// sgn is −1, 0 or 1 (NaN for NaN).
func sgn(v float64) float64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return v
}
