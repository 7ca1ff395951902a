package host

import (
	"math"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() {
	register("cross_entropy_prob_rows", crossEntropyProbRows[float32], crossEntropyProbRows[float64])
	register("nll_rows", nllRows[float32], nllRows[float64])
	register("focal_rows", focalRows[float32], focalRows[float64])
	register("multi_margin_rows", multiMarginRows[float32], multiMarginRows[float64])
	register("categorical_hinge_rows", categoricalHingeRows[float32], categoricalHingeRows[float64])
	register("distill_kl_rows", distillKLRows[float32], distillKLRows[float64])
	register("poly_cross_entropy_rows", polyCrossEntropyRows[float32], polyCrossEntropyRows[float64])
	register("scale_rows", scaleRows[float32], scaleRows[float64])
	register("mask_targets", maskTargets[float32], maskTargets[float64])
}

// The rowloss family: row-wise losses over x [n, c], one block per row in
// the kernels (kernels/src/rowloss.h). The mirrors compute each row in
// float64 and add in index order, where the kernels add each thread's
// columns and then the threads in a fixed tree; the exponentials of a
// float32 row are float32 (expShiftSum, taken for the whole row before
// anything is written to it). The softmax-based mirrors take the row's
// maximum m (rowMax) and s = Σ_k exp(x[i,k] - m) (expShiftSum) and form
// log-probabilities as (x[i,k] - m) - log(s), as the kernels do. w(k) is
// weight[k] when has_weight, else 1.

// weightFn returns w(k) for a weight buffer.
func weightFn[T Float](w []T, has bool) func(k int) float64 {
	if !has {
		return func(int) float64 { return 1 }
	}
	return func(k int) float64 { return float64(w[k]) }
}

func fillRow[T Float](row []T, v float64) {
	for k := range row {
		row[k] = T(v)
	}
}

// crossEntropyProbRows mirrors cross_entropy_prob_rows(x, y, weight, n,
// c, has_weight, label_smoothing, grad_scale, has_grad, grad,
// has_grad_target, grad_target, loss_rows): softmax cross-entropy with
// probability targets y [n, c]. For row i with m = max_k x[i,k],
// s = Σ_k exp(x[i,k] - m), nl_k = log(s) - (x[i,k] - m) (−log p_k,
// accurate on confident rows), ε = label_smoothing, y'_k = (1-ε) y[i,k] +
// ε/c and S = Σ_k w(k) y'_k:
//
//	loss_rows[i]     = Σ_k w(k) y'_k nl_k
//	grad[i,k]        = grad_scale (exp(x[i,k] - m) (S / s) - w(k) y'_k)  (if has_grad)
//	grad_target[i,k] = grad_scale (1-ε) w(k) nl_k                          (if has_grad_target)
//
// A term with y'_k = 0 and x[i,k] = -Inf is NaN (0·∞), as in PyTorch. grad
// may be x and grad_target may be y.
func crossEntropyProbRows[T Float](a argv) error {
	x, y, w := fbuf[T](a, 0), fbuf[T](a, 1), fbuf[T](a, 2)
	n, c, hasW, eps, gs := a.int(3), a.int(4), a.int(5) != 0, a.real(6), a.real(7)
	hasGrad, grad, hasGT, gt, loss := a.int(8) != 0, fbuf[T](a, 9), a.int(10) != 0, fbuf[T](a, 11), fbuf[T](a, 12)
	keep, u := 1-eps, eps/float64(c)
	parallelFor(n, rowsGrain(c), func(lo, hi int) {
		var e []T // exp(x - m) of a row, before any write to it
		if hasGrad {
			e = make([]T, c)
		}
		for i := lo; i < hi; i++ {
			xr, yr := x[i*c:(i+1)*c], y[i*c:(i+1)*c]
			m := rowMax(xr)
			if x32, ok := any(xr).([]float32); ok && !hasW {
				var g, h []float32
				if hasGrad {
					g = as32(grad[i*c : (i+1)*c])
				}
				if hasGT {
					h = as32(gt[i*c : (i+1)*c])
				}
				loss[i] = T(ceProbRow32(x32, as32(yr), as32(e), g, h, float32(m), keep, u, gs))
				continue
			}
			s := expShiftSum(e, xr, m)
			ls, mf := math.Log(s), float64(m)
			var S float64
			if hasGrad {
				for k, yv := range yr {
					wy := keep*float64(yv) + u
					if hasW {
						wy *= float64(w[k])
					}
					S += wy
				}
			}
			r := S / s
			var l float64
			for k := range xr {
				wv := 1.0
				if hasW {
					wv = float64(w[k])
				}
				nl := ls - (float64(xr[k]) - mf)
				wy := wv * (keep*float64(yr[k]) + u)
				l += wy * nl
				if hasGrad {
					grad[i*c+k] = T(gs * (float64(e[k])*r - wy))
				}
				if hasGT {
					gt[i*c+k] = T(gs * keep * wv * nl)
				}
			}
			loss[i] = T(l)
		}
	})
	return nil
}

// ceProbRow32 is one row of crossEntropyProbRows for float32 without class
// weights, in float32 arithmetic with float64 sums, given the row's
// maximum m: it returns the row's loss and writes grad and gt where they
// are not nil (e is scratch of the row's length, needed with grad).
func ceProbRow32(x, y, e, grad, gt []float32, m float32, keep, u, gs float64) float64 {
	y = y[:len(x)]
	var s float64
	if grad != nil {
		// exp(x - m) of the elements past the vector loop's (which takes
		// its own) into e, for the gradient.
		nv := ceProbRowVecLen(len(x))
		s = expShiftSum32(nil, x[:nv], m) + expShiftSum32(e[nv:len(x)], x[nv:], m)
	} else {
		s = expShiftSum32(nil, x, m)
	}
	ls := float32(math.Log(s))
	kf, uf := float32(keep), float32(u)
	var l0, l1 float64
	switch {
	case grad != nil:
		var sy0, sy1 float64
		i := 0
		for ; i+2 <= len(y); i += 2 {
			sy0 += float64(y[i])
			sy1 += float64(y[i+1])
		}
		for ; i < len(y); i++ {
			sy0 += float64(y[i])
		}
		r := float32((keep*(sy0+sy1) + u*float64(len(x))) / s) // S / s
		gf, gk := float32(gs), float32(gs*keep)
		// AVX-512: the first ceProbRowVecLen elements, exp included.
		l0, i = ceProbRowVec(x, y, grad, gt, m, r, ls, kf, uf, gf, gk)
		e, grad = e[:len(x)], grad[:len(x)]
		for k := i; k < len(x); k++ {
			nl := ls - (x[k] - m)
			wy := kf*y[k] + uf
			if k&1 == 0 {
				l0 += float64(wy * nl)
			} else {
				l1 += float64(wy * nl)
			}
			grad[k] = gf * (e[k]*r - wy)
			if gt != nil {
				gt[k] = gk * nl
			}
		}
	default:
		gk := float32(gs * keep)
		for k, xv := range x {
			nl := ls - (xv - m)
			l0 += float64((kf*y[k] + uf) * nl)
			if gt != nil {
				gt[k] = gk * nl
			}
		}
	}
	return l0 + l1
}

// nllRows mirrors nll_rows(x, target, weight, n, c, has_weight,
// ignore_index, denom, has_grad, grad, loss_rows): nll_loss on
// log-probabilities x [n, c]. For row i with target t:
//
//	loss_rows[i] = -w(t) x[i,t]
//	grad[i,k]    = -w(t) [k == t] / denom[1]                          (if has_grad)
//
// denom comes from cross_entropy_weight_sum (denom[1] is Σ w(t) for mean,
// else 1). An ignored row (t == ignore_index) gets loss 0 and a zero
// gradient row; a target outside [0, c) that is not ignore_index (only
// reachable with SkipTargetCheck) a NaN loss and a NaN gradient row. grad
// may be x.
func nllRows[T Float](a argv) error {
	x, tg, w, n, c, hasW, ign := fbuf[T](a, 0), a.ints(1), fbuf[T](a, 2), a.int(3), a.int(4), a.int(5) != 0, a.int(6)
	denom, hasGrad, grad, loss := fbuf[T](a, 7), a.int(8) != 0, fbuf[T](a, 9), fbuf[T](a, 10)
	wk := weightFn(w, hasW)
	parallelFor(n, rowsGrain(c), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			o, t := i*c, int(tg[i])
			switch {
			case t == ign:
				loss[i] = 0
				if hasGrad {
					clear(grad[o : o+c])
				}
			case t < 0 || t >= c:
				loss[i] = T(math.NaN())
				if hasGrad {
					fillRow(grad[o:o+c], math.NaN())
				}
			default:
				loss[i] = T(-wk(t) * float64(x[o+t]))
				if hasGrad {
					clear(grad[o : o+c])
					grad[o+t] = T(-wk(t) / float64(denom[1]))
				}
			}
		}
	})
	return nil
}

// focalTerms returns, for log p_t = lp, alpha a and gamma g, the focal loss
// -a q^g lp and its derivative D = -a (q^g - g p_t lp q^(g-1)) w.r.t. lp,
// where q = 1 - p_t = -expm1(lp) (0 if negative) and the second term of D
// is 0 when g == 0 or q == 0 (its limit).
func focalTerms(lp, a, g float64) (q, loss, d float64) {
	q = -math.Expm1(lp)
	if q < 0 {
		q = 0
	}
	var qg, qg1 float64 // q^γ and q^(γ−1); γ = 2 (the default) without Pow
	if g == 2 {
		qg, qg1 = q*q, q
	} else {
		qg, qg1 = math.Pow(q, g), math.Pow(q, g-1)
	}
	var d2 float64
	if g != 0 && q != 0 {
		d2 = g * math.Exp(lp) * lp * qg1
	}
	return q, -a * qg * lp, -a * (qg - d2)
}

// focalRows mirrors focal_rows(x, target, alpha, n, c, has_alpha,
// ignore_index, gamma, denom, has_grad, grad, loss_rows): the softmax
// focal loss of logits x [n, c]. For row i with target t, m = max_k
// x[i,k], s = Σ_k exp(x[i,k] - m), lp = (x[i,t] - m) - log(s) (log p_t,
// accurate on confident rows), a = alpha[t] (1 without has_alpha) and q, D
// from focalTerms:
//
//	loss_rows[i] = -a q^γ lp
//	grad[i,k]    = D ([k == t] - p_k) / denom[1],  p_k = exp(x[i,k] - m) / s (if has_grad)
//
// with [k == t] - p_k taken as q at k == t. denom comes from
// cross_entropy_weight_sum without weights (denom[1] = the number of
// non-ignored rows for mean, else 1). Ignored rows: loss 0 and a zero
// gradient row; a target outside [0, c) that is not ignore_index: NaN loss
// and gradient row. grad may be x.
func focalRows[T Float](a argv) error {
	x, tg, al := fbuf[T](a, 0), a.ints(1), fbuf[T](a, 2)
	n, c, hasA, ign, gamma := a.int(3), a.int(4), a.int(5) != 0, a.int(6), a.real(7)
	denom, hasGrad, grad, loss := fbuf[T](a, 8), a.int(9) != 0, fbuf[T](a, 10), fbuf[T](a, 11)
	ak := weightFn(al, hasA)
	parallelFor(n, rowsGrain(c), func(lo, hi int) {
		e := make([]T, c) // exp(x[i,k] - m) of a row, before any write to it
		for i := lo; i < hi; i++ {
			o, t := i*c, int(tg[i])
			if t == ign {
				loss[i] = 0
				if hasGrad {
					clear(grad[o : o+c])
				}
				continue
			}
			if t < 0 || t >= c {
				loss[i] = T(math.NaN())
				if hasGrad {
					fillRow(grad[o:o+c], math.NaN())
				}
				continue
			}
			m := rowMax(x[o : o+c])
			s := expShiftSum(e, x[o:o+c], m)
			q, l, d := focalTerms((float64(x[o+t])-float64(m))-math.Log(s), ak(t), gamma)
			loss[i] = T(l)
			if !hasGrad {
				continue
			}
			f := d / float64(denom[1])
			gr := grad[o : o+c]
			for k, p := range e {
				gr[k] = T(-f * float64(p) / s)
			}
			gr[t] = T(f * q)
		}
	})
	return nil
}

// multiMarginRows mirrors multi_margin_rows(x, target, weight, n, c,
// has_weight, p, margin, grad_scale, has_grad, grad, loss_rows): PyTorch's
// multi_margin_loss. For row i with target t, z_j = margin - x[i,t] +
// x[i,j] and f = w(t)/c:
//
//	loss_rows[i] = f Σ_{j != t, z_j > 0} z_j^p
//	grad[i,j]    = grad_scale f p z_j^(p-1)  for j != t with z_j > 0, else 0 (j != t)
//	grad[i,t]    = -Σ_{j != t} grad[i,j]
//
// p is 1 or 2; a NaN z_j counts as not > 0, as in PyTorch. A target outside
// [0, c) (only reachable with SkipTargetCheck) gives a NaN loss and
// gradient row. grad may be x.
func multiMarginRows[T Float](a argv) error {
	x, tg, w, n, c, hasW := fbuf[T](a, 0), a.ints(1), fbuf[T](a, 2), a.int(3), a.int(4), a.int(5) != 0
	p, margin, gscale, hasGrad, grad, loss := a.int(6), a.real(7), a.real(8), a.int(9) != 0, fbuf[T](a, 10), fbuf[T](a, 11)
	wk := weightFn(w, hasW)
	parallelFor(n, rowsGrain(c), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			o, t := i*c, int(tg[i])
			if t < 0 || t >= c {
				loss[i] = T(math.NaN())
				if hasGrad {
					fillRow(grad[o:o+c], math.NaN())
				}
				continue
			}
			f := wk(t) / float64(c)
			gs := gscale * f
			xt := float64(x[o+t])
			var l, gsum float64
			for k := 0; k < c; k++ {
				if k == t {
					continue
				}
				z := margin - xt + float64(x[o+k])
				var h, g float64
				if z > 0 {
					if p == 1 {
						h, g = z, gs
					} else {
						h, g = z*z, gs*2*z
					}
				}
				l += h
				gsum += g
				if hasGrad {
					grad[o+k] = T(g)
				}
			}
			loss[i] = T(f * l)
			if hasGrad {
				grad[o+t] = T(-gsum)
			}
		}
	})
	return nil
}

// categoricalHingeRows mirrors categorical_hinge_rows(x, y, n, c,
// grad_scale, has_grad, grad, loss_rows): Keras' categorical_hinge with
// targets y [n, c] (one-hot or probabilities). For row i, pos = Σ_k y_k
// x_k, v_k = (1 - y_k) x_k (rounded to T), neg = max_k v_k, m = the number
// of k with v_k == neg, d = neg - pos + 1:
//
//	loss_rows[i] = max(0, d)                                   (NaN if d is NaN)
//	grad[i,k]    = grad_scale ((1 - y_k) [v_k == neg] / m - y_k) if d >= 0, else 0
//
// (a NaN gradient row if d is NaN). The maximum's gradient is shared evenly
// among ties, as TensorFlow's reduce_max and torch.amax do, and it passes
// at d == 0, as TensorFlow's maximum does. grad may be x.
func categoricalHingeRows[T Float](a argv) error {
	x, y, n, c, gs := fbuf[T](a, 0), fbuf[T](a, 1), a.int(2), a.int(3), a.real(4)
	hasGrad, grad, loss := a.int(5) != 0, fbuf[T](a, 6), fbuf[T](a, 7)
	parallelFor(n, rowsGrain(c), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			o := i * c
			var pos, m float64
			neg := T(math.Inf(-1))
			nan := false
			xr, yr := x[o:o+c], y[o:o+c]
			var p0, p1, p2, p3 float64 // pos in four lanes: no chain of dependent adds
			k := 0
			for ; k+4 <= c; k += 4 {
				xv, yv := xr[k:k+4:k+4], yr[k:k+4:k+4]
				p0 += float64(yv[0]) * float64(xv[0])
				p1 += float64(yv[1]) * float64(xv[1])
				p2 += float64(yv[2]) * float64(xv[2])
				p3 += float64(yv[3]) * float64(xv[3])
			}
			for ; k < c; k++ {
				p0 += float64(yr[k]) * float64(xr[k])
			}
			pos = (p0 + p1) + (p2 + p3)
			for k := range xr {
				v := (1 - yr[k]) * xr[k]
				switch {
				case v != v:
					nan = true
				case v > neg:
					neg, m = v, 1
				case v == neg:
					m++
				}
			}
			d := float64(neg) - pos + 1
			if nan {
				d = math.NaN()
			}
			switch {
			case d != d:
				loss[i] = T(math.NaN())
			case d > 0:
				loss[i] = T(d)
			default:
				loss[i] = 0
			}
			if !hasGrad {
				continue
			}
			gr := grad[o : o+c]
			switch {
			case d != d:
				fillRow(gr, math.NaN())
			case d >= 0:
				for k, xv := range xr {
					yv := yr[k]
					g := 0 - float64(yv) // +0 where y is 0
					if (1-yv)*xv == neg {
						g += (1 - float64(yv)) / m
					}
					gr[k] = T(gs * g)
				}
			default:
				clear(gr)
			}
		}
	})
	return nil
}

// distillKLRows mirrors distill_kl_rows(s, t, n, c, inv_tau, loss_scale,
// grad_scale, has_grad, grad, loss_rows): the knowledge distillation term
// KL(softmax(t/τ) || softmax(s/τ)) per row, for student logits s and
// teacher logits t [n, c]. With a_k = s[i,k]·inv_tau and b_k =
// t[i,k]·inv_tau (rounded to T), m_s = max_k a_k, S_s = Σ_k exp(a_k - m_s),
// m_t and S_t likewise for b, zs_k = (a_k - m_s) - log(S_s),
// zt_k = (b_k - m_t) - log(S_t) and q_k = exp(b_k - m_t)·(1/S_t):
//
//	loss_rows[i] = loss_scale Σ_k q_k (zt_k - zs_k)     (a term with q_k == 0 counts 0)
//	grad[i,k]    = grad_scale (exp(a_k - m_s)·(1/S_s) - q_k)              (if has_grad)
//
// The caller passes loss_scale = τ² and grad_scale = τ²·inv_tau times the
// reduction's factor. grad may be s.
func distillKLRows[T Float](a argv) error {
	s, t, n, c := fbuf[T](a, 0), fbuf[T](a, 1), a.int(2), a.int(3)
	inv, ls, gs, hasGrad, grad, loss := T(a.real(4)), a.real(5), a.real(6), a.int(7) != 0, fbuf[T](a, 8), fbuf[T](a, 9)
	parallelFor(n, rowsGrain(c), func(lo, hi int) {
		// The scaled logits, rounded to T as the kernel rounds them, and
		// their exponentials, all made before any write to the row.
		bs, bt, es, et := make([]T, c), make([]T, c), make([]T, c), make([]T, c)
		for i := lo; i < hi; i++ {
			sr, tr := scaled(bs, s[i*c:(i+1)*c], inv), scaled(bt, t[i*c:(i+1)*c], inv)
			ms, mt := rowMax(sr), rowMax(tr)
			if s32, ok := any(sr).([]float32); ok {
				var g []float32
				if hasGrad {
					g = as32(grad[i*c : (i+1)*c])
				}
				loss[i] = T(ls * distillRow32(s32, as32(tr), as32(es), as32(et), g, float32(ms), float32(mt), float32(gs)))
				continue
			}
			St := expShiftSum(et, tr, mt)
			Ss := expShiftSum(es, sr, ms)
			lss, lst, mfs, mft := math.Log(Ss), math.Log(St), float64(ms), float64(mt)
			rs, rt := 1/Ss, 1/St
			var l float64
			for k := range sr {
				ds, dt := float64(sr[k])-mfs, float64(tr[k])-mft
				e := float64(et[k])
				if dt < -87 { // where float32's exp underflows: exactly 0, as the kernel's
					e = float64(expT(T(dt)))
				}
				q := e * rt
				if q != 0 {
					l += q * ((dt - lst) - (ds - lss))
				}
				if hasGrad {
					grad[i*c+k] = T(gs * (float64(es[k])*rs - q))
				}
			}
			loss[i] = T(ls * l)
		}
	})
	return nil
}

// distillRow32 is one row of distillKLRows for float32, in float32
// arithmetic with a float64 sum, given the rows' maxima ms and mt: it
// returns Σ_k q_k (zt_k − zs_k) and writes grad where it is not nil (es,
// et are scratch of the row's length).
func distillRow32(sr, tr, es, et, grad []float32, ms, mt, gs float32) float64 {
	tr, es, et = tr[:len(sr)], es[:len(sr)], et[:len(sr)]
	St := expShiftSum32(et, tr, mt)
	var Ss float64
	if grad != nil {
		grad = grad[:len(sr)]
		Ss = expShiftSum32(es, sr, ms)
	} else {
		Ss = expShiftSum32(nil, sr, ms)
	}
	lss, lst := float32(math.Log(Ss)), float32(math.Log(St))
	rs, rt := float32(1/Ss), float32(1/St)
	var l0, l1 float64
	for k := range sr {
		ds, dt := sr[k]-ms, tr[k]-mt
		e := et[k]
		if dt < -87 { // where float32's exp underflows: exactly 0, as the kernel's
			e = expf(dt)
		}
		q := e * rt
		if q != 0 {
			if k&1 == 0 {
				l0 += float64(q * ((dt - lst) - (ds - lss)))
			} else {
				l1 += float64(q * ((dt - lst) - (ds - lss)))
			}
		}
		if grad != nil {
			grad[k] = gs * (es[k]*rs - q)
		}
	}
	return l0 + l1
}

// scaleRows mirrors scale_rows(loss_rows, grad, grad_target, n, c,
// sample_weight, mask, flags, num, denom): for each row i < n, with
// keep = mask[i] != 0 (true without RowsMask), w = sample_weight[i] (1
// without RowsWeight) and g = w·(num / denom[0]) (w without RowsDenom),
//
//	loss_rows[i]      = keep ? w·loss_rows[i] : 0
//	grad[i, j]        = keep ? g·grad[i, j] : 0          if RowsGrad
//	grad_target[i, j] = keep ? g·grad_target[i, j] : 0   if RowsGradTarget
func scaleRows[T Float](a argv) error {
	rows, grad, gt := fbuf[T](a, 0), fbuf[T](a, 1), fbuf[T](a, 2)
	n, c, sw, mask := a.int(3), a.int(4), fbuf[T](a, 5), a.ints(6)
	flags, num, denom := int32(a.int(7)), T(a.real(8)), fbuf[T](a, 9)
	for i := range n {
		keep := flags&kernelspec.RowsMask == 0 || mask[i] != 0
		w := T(1)
		if flags&kernelspec.RowsWeight != 0 {
			w = sw[i]
		}
		g := w
		if flags&kernelspec.RowsDenom != 0 {
			g = w * (num / denom[0])
		}
		for _, p := range []struct {
			on bool
			v  []T
		}{{flags&kernelspec.RowsGrad != 0, grad}, {flags&kernelspec.RowsGradTarget != 0, gt}} {
			if !p.on {
				continue
			}
			row := p.v[i*c : i*c+c]
			for j := range row {
				if keep {
					row[j] *= g
				} else {
					row[j] = 0
				}
			}
		}
		if keep {
			rows[i] *= w
		} else {
			rows[i] = 0
		}
	}
	return nil
}

// maskTargets mirrors mask_targets(target, mask, n, ignore_index, out):
// out[i] = mask[i] != 0 ? target[i] : ignore_index for i < n.
func maskTargets[T Float](a argv) error {
	tg, mask, n, ign, out := a.ints(0), a.ints(1), a.int(2), int32(a.int(3)), a.ints(4)
	for i := range n {
		if mask[i] != 0 {
			out[i] = tg[i]
		} else {
			out[i] = ign
		}
	}
	return nil
}

// polyCrossEntropyRows mirrors poly_cross_entropy_rows(x, y, n, c,
// epsilon, grad_scale, has_grad, grad, has_grad_target, grad_target,
// loss_rows): the Poly-1 loss of Leng et al. (2022), Optax's
// poly_loss_cross_entropy, over logits x [n, c] and label distributions
// y [n, c]. For row i with m = max_k x[i,k], s = Σ_k exp(x[i,k] − m),
// z_k = (x[i,k] − m) − log(s) (log p_k, accurate on confident rows),
// p_k = exp(z_k) (taken here as exp(x[i,k] − m)·(1/s)),
// q_k = 1 − p_k = −expm1(z_k), Y = Σ_k y[i,k] and S = Σ_k y[i,k] p_k:
//
//	loss_rows[i]     = −Σ_k y[i,k] z_k + ε Σ_k y[i,k] q_k
//	grad[i,k]        = grad_scale (p_k (Y + ε (S − y[i,k])) − y[i,k])   (if has_grad)
//	grad_target[i,k] = grad_scale (−z_k + ε q_k)                        (if has_grad_target)
//
// The sums are in index order in float64. grad may be x and grad_target
// may be y: a row's values are all read before any of them is written.
func polyCrossEntropyRows[T Float](a argv) error {
	x, y := fbuf[T](a, 0), fbuf[T](a, 1)
	n, c, eps, gs := a.int(2), a.int(3), a.real(4), a.real(5)
	hasGrad, grad, hasGT, gt, loss := a.int(6) != 0, fbuf[T](a, 7), a.int(8) != 0, fbuf[T](a, 9), fbuf[T](a, 10)
	parallelFor(n, rowsGrain(c), func(lo, hi int) {
		e := make([]T, c) // exp(x - m) of a row, before any write to it
		for i := lo; i < hi; i++ {
			xr, yr := x[i*c:(i+1)*c], y[i*c:(i+1)*c]
			m := rowMax(xr)
			s := expShiftSum(e, xr, m)
			ls, mf, rs := math.Log(s), float64(m), 1/s
			var ce, poly, Y, S float64
			for k := range xr {
				yv, z, pk := float64(yr[k]), (float64(xr[k])-mf)-ls, float64(e[k])*rs
				ce -= yv * z
				poly += yv * polyQ(z, pk)
				Y += yv
				S += yv * pk
			}
			loss[i] = T(ce + eps*poly)
			if !hasGrad && !hasGT {
				continue
			}
			for k := range xr {
				yv, z, pk := float64(yr[k]), (float64(xr[k])-mf)-ls, float64(e[k])*rs
				if hasGrad {
					grad[i*c+k] = T(gs * (pk*(Y+eps*(S-yv)) - yv))
				}
				if hasGT {
					gt[i*c+k] = T(gs * (-z + eps*polyQ(z, pk)))
				}
			}
		}
	})
	return nil
}

// polyQ is 1 − p for p = exp(z): −expm1(z) where p is near 1 (z > −0.5,
// where 1 − p would cancel), else 1 − p.
func polyQ(z, p float64) float64 {
	if z > -0.5 {
		return -math.Expm1(z)
	}
	return 1 - p
}
