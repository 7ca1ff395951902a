package host

import (
	"math"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() {
	register("sm_partials", smPartials[float32], smPartials[float64])
	register("sm_finish", smFinish[float32], smFinish[float64])
	register("sm_grad", smGrad[float32], smGrad[float64])
}

// smAct is the probability p of input v and q = 1 − p: with sigmoid, from
// e = exp(−|v|) (in T's precision, expT), p = 1/(1 + e), q = e/(1 + e) for
// v ≥ 0 (the other way round for v < 0), so that q keeps its digits where
// p is near 1; else p = v, q = 1 − v.
func smAct[T Float](sigmoid bool, x T) (p, q float64) {
	v := float64(x)
	if !sigmoid {
		return v, 1 - v
	}
	e := float64(expT(-T(math.Abs(v))))
	r, s := 1/(1+e), e/(1+e)
	if v >= 0 {
		return r, s
	}
	return s, r
}

// smPartials mirrors sm_partials(x, y, n, c, nb, rpb, flags, part): for
// block b < nb and class j < c, over the rows r in [b·rpb, min(n,
// (b+1)·rpb)), with (p, q) = smAct(flags&SMSigmoid, x[r·c + j]) and
// t = y[r·c + j]:
//
//	part[(b·c + j)·4 + 0] = Σ p·t          (tp)
//	part[(b·c + j)·4 + 1] = Σ p·(1 − t)    (fp)
//	part[(b·c + j)·4 + 2] = Σ q·t          (fn)
//	part[(b·c + j)·4 + 3] = Σ q·(1 − t)    (tn)
//
// added here in float64 in row order (the kernel: per thread, then a
// tree, in float32).
func smPartials[T Float](a argv) error {
	x, y, n, c, nb, rpb, flags, part := fbuf[T](a, 0), fbuf[T](a, 1), a.int(2), a.int(3), a.int(4), a.int(5), int32(a.int(6)), fbuf[T](a, 7)
	sig := flags&kernelspec.SMSigmoid != 0
	parallelFor(nb, 1, func(lo, hi int) {
		acc := make([]float64, 4*c)
		for b := lo; b < hi; b++ {
			clear(acc)
			for r := b * rpb; r < min(n, (b+1)*rpb); r++ {
				xr, yr := x[r*c:r*c+c], y[r*c:r*c+c]
				for j := range c {
					p, q := smAct(sig, xr[j])
					t := float64(yr[j])
					u := 1 - t
					s := acc[4*j : 4*j+4 : 4*j+4]
					s[0] += p * t
					s[1] += p * u
					s[2] += q * t
					s[3] += q * u
				}
			}
			for i, v := range acc {
				part[b*c*4+i] = T(v)
			}
		}
	})
	return nil
}

// smLossCoef is sm_loss_coef: from one class's sums (or every class's,
// micro) the term v of the loss 1 − v and the coefficients of
// d(1 − v)/dp = k0·(1 − y) + k1·y + k2, each divided by div (k0 the
// derivative at y = 0, k1 at y = 1, k2 = 0):
//
//	SMF1:  D = 2tp + fp + fn + eps, v = 2tp/D; k0 = v/D, k1 = (v − 2)/D
//	SMMCC: each sum + eps, A = tp + fp, B = tp + fn, C = tn + fp,
//	       E = tn + fn, den = √(A·B)·√(C·E), v = (tp·tn − fp·fn)/den,
//	       h = v·(1/A − 1/E)/2; k0 = B/den + h, k1 = h − C/den
func smLossCoef(op int32, tp, fp, fn, tn, eps, div float64) (v, k0, k1, k2 float64) {
	if op == kernelspec.SMMCC {
		tp, fp, fn, tn = tp+eps, fp+eps, fn+eps, tn+eps
		A, B, C, E := tp+fp, tp+fn, tn+fp, tn+fn
		den := math.Sqrt(A*B) * math.Sqrt(C*E)
		v = (tp*tn - fp*fn) / den
		h := 0.5 * v * (1/A - 1/E)
		return v, (B/den + h) / div, (h - C/den) / div, 0
	}
	D := 2*tp + fp + fn + eps
	v = 2 * tp / D
	return v, v / D / div, (v - 2) / D / div, 0
}

// smFinish mirrors sm_finish(part, nb, c, op, flags, eps, grad_scale,
// coef, loss): class j's sums s_j = Σ_{b<nb} part[(b·c + j)·4 + q]; with
// SMMicro, S = Σ_j s_j, (v, k) = smLossCoef(op, S, eps, 1), loss[0] = 1 − v
// and every class gets k; otherwise (v_j, k_j) = smLossCoef(op, s_j, eps,
// c) and loss[0] = 1 − (Σ_j v_j)/c (NaN for c = 0). coef[3j + q] =
// grad_scale·k_q of class j. In float64 from the stored partials.
func smFinish[T Float](a argv) error {
	part, nb, c, op, flags, eps, gs := fbuf[T](a, 0), a.int(1), a.int(2), int32(a.int(3)), int32(a.int(4)), a.real(5), a.real(6)
	coef, loss := fbuf[T](a, 7), fbuf[T](a, 8)
	micro := flags&kernelspec.SMMicro != 0
	var tot [4]float64
	vs := 0.0
	for j := range c {
		var s [4]float64
		for b := range nb {
			o := (b*c + j) * 4
			for q := range 4 {
				s[q] += float64(part[o+q])
			}
		}
		if micro {
			for q := range 4 {
				tot[q] += s[q]
			}
			continue
		}
		v, k0, k1, k2 := smLossCoef(op, s[0], s[1], s[2], s[3], eps, float64(c))
		vs += v
		coef[3*j], coef[3*j+1], coef[3*j+2] = T(gs*k0), T(gs*k1), T(gs*k2)
	}
	if !micro {
		loss[0] = T(1 - vs/float64(c))
		return nil
	}
	v, k0, k1, k2 := smLossCoef(op, tot[0], tot[1], tot[2], tot[3], eps, 1)
	for j := range c {
		coef[3*j], coef[3*j+1], coef[3*j+2] = T(gs*k0), T(gs*k1), T(gs*k2)
	}
	loss[0] = T(1 - v)
	return nil
}

// smGrad mirrors sm_grad(x, y, n, c, flags, coef, grad): for e < n·c,
// j = e mod c, grad[e] = coef[3j]·(1 − y[e]) + coef[3j+1]·y[e] +
// coef[3j+2], times p·q with SMSigmoid ((p, q) = smAct(x[e])). grad may
// be x.
func smGrad[T Float](a argv) error {
	x, y, n, c, flags, coef, grad := fbuf[T](a, 0), fbuf[T](a, 1), a.int(2), a.int(3), int32(a.int(4)), fbuf[T](a, 5), fbuf[T](a, 6)
	sig := flags&kernelspec.SMSigmoid != 0
	if n == 0 || c == 0 {
		return nil
	}
	parallelFor(n, 64, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			for j := range c {
				e := r*c + j
				t := float64(y[e])
				g := float64(coef[3*j])*(1-t) + float64(coef[3*j+1])*t + float64(coef[3*j+2])
				if sig {
					p, q := smAct(true, x[e])
					g *= p * q
				}
				grad[e] = T(g)
			}
		}
	})
	return nil
}
