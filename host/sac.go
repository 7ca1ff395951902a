package host

import (
	"math"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() {
	register("sac_rows", sacRows[float32], sacRows[float64])
	register("sac_continuous_actor", sacContinuousActor[float32], sacContinuousActor[float64])
}

// sacBlocks runs row(i, scratch) for the rows of each block of a
// grid-stride kernel with one thread per row and, with reduce, sets out[b]
// to the sum of block b's values (in float64, in index order); else out[i]
// is row i's value. scratch holds w float64s, one slice per worker.
func sacBlocks[T Float](blocks, n, w int, reduce bool, out []T, row func(i int, scratch []float64) float64) {
	const bs = kernelspec.BlockSize
	parallelFor(blocks, 1, func(lo, hi int) {
		var scratch []float64 // made at the first row: w is bounded by the rows' data only
		for b := lo; b < hi; b++ {
			acc := 0.0
			for start := b * bs; start < n; start += blocks * bs {
				for i := start; i < min(start+bs, n); i++ {
					if scratch == nil {
						scratch = make([]float64, w)
					}
					l := row(i, scratch)
					if reduce {
						acc += l
					} else {
						out[i] = T(l)
					}
				}
			}
			if reduce {
				out[b] = T(acc)
			}
		}
	})
}

// sacRows mirrors sac_rows(op, x, q, rewards, dones, log_alpha, n, A,
// alpha, gamma, te, loss_scale, grad_scale, flags, grad, out), in float64: for row
// i < n, with z = x[i·A : i·A+A], log π_k = z_k − logsumexp(z) (with the
// row maximum), π_k = exp(log π_k), Q_k = q[i·A+k] (0 without SacFlagQ),
// r, d = rewards[i], dones[i] (0 without SacFlagTarget) and
// ea = exp(log_alpha[0]) (1 without SacFlagLogAlpha):
//
//	SacActor:     f_k = alpha·log π_k − Q_k, l = Σ_k π_k·f_k,
//	              grad[i·A+k] = grad_scale·π_k·(f_k − l) with SacFlagGrad
//	SacTarget:    l = r + gamma·(1 − d)·Σ_k π_k·(Q_k − alpha·log π_k)
//	SacTemp:      l = −ea·Σ_k π_k·(log π_k + te)
//	SacTempLogPi: l = −ea·(x[i] + te)  (A = 1)
//
// and out[i] = loss_scale·l, or with SacFlagReduce out[b] = Σ loss_scale·l over block b's rows
// (block b of B holding the rows i with (i / BlockSize) mod B == b).
func sacRows[T Float](a argv) error {
	op := int32(a.int(0))
	x, q, rw, dn, la := fbuf[T](a, 1), fbuf[T](a, 2), fbuf[T](a, 3), fbuf[T](a, 4), fbuf[T](a, 5)
	n, nA, alpha, gamma, te := a.int(6), a.int(7), a.real(8), a.real(9), a.real(10)
	ls, gs, flags := a.real(11), a.real(12), int32(a.int(13))
	grad, out := fbuf[T](a, 14), fbuf[T](a, 15)
	ea := 1.0
	if flags&kernelspec.SacFlagLogAlpha != 0 {
		ea = math.Exp(float64(la[0]))
	}
	hasQ := flags&kernelspec.SacFlagQ != 0
	sacBlocks(a.grid.Blocks, n, 3*nA, flags&kernelspec.SacFlagReduce != 0, out, func(i int, sc []float64) float64 {
		if op == kernelspec.SacTempLogPi {
			return ls * (-ea * (float64(x[i]) + te))
		}
		row := i * nA
		z, q64, pk := sc[:nA], sc[nA:2*nA], sc[2*nA:]
		m := math.Inf(-1)
		for k := range nA {
			z[k] = float64(x[row+k])
			m = math.Max(m, z[k])
			q64[k] = 0
			if hasQ {
				q64[k] = float64(q[row+k])
			}
		}
		s := 0.0
		for k := range nA {
			s += math.Exp(z[k] - m)
		}
		lse := m + math.Log(s)
		if math.IsInf(m, -1) {
			lse = m
		}
		l := 0.0
		for k := range nA {
			lp := z[k] - lse
			p := math.Exp(lp)
			z[k], pk[k] = lp, p // log π and π from here on
			switch op {
			case kernelspec.SacActor:
				l += p * (alpha*lp - q64[k])
			case kernelspec.SacTarget:
				l += p * (q64[k] - alpha*lp)
			default:
				l += p * (lp + te)
			}
		}
		switch op {
		case kernelspec.SacTarget:
			r, d := 0.0, 0.0
			if flags&kernelspec.SacFlagTarget != 0 {
				r, d = float64(rw[i]), float64(dn[i])
			}
			l = r + gamma*(1-d)*l
		case kernelspec.SacTemp:
			l = -ea * l
		case kernelspec.SacActor:
			if flags&kernelspec.SacFlagGrad != 0 {
				for k := range nA {
					grad[row+k] = T(gs * pk[k] * ((alpha*z[k] - q64[k]) - l))
				}
			}
		}
		return ls * l
	})
	return nil
}

// sacSquash returns, for the pre-squash action x, y = tanh x and
// u = 1 − y², the latter as 4w/(1 + w)² with w = exp(−2|x|), without the
// cancellation of 1 − y² near |y| = 1.
func sacSquash(x float64) (y, u float64) {
	w := math.Exp(-2 * math.Abs(x))
	r := 1 / (1 + w)
	y = (1 - w) * r
	if x < 0 {
		y = -y
	}
	return y, 4 * w * r * r
}

// sacContinuousActor mirrors sac_continuous_actor(mean, log_std, noise,
// q_value, dq_da, n, A, alpha, scale, bias, grad_scale, flags, grad_mean,
// grad_log_std, log_pi, action, out), in float64: for row i < n and
// j < A at e = i·A + j, σ = exp(log_std[e]), ε = noise[e], x = mean[e] +
// σ·ε, (y, u) = sacSquash(x), c = scale·u + 1e-6:
//
//	log_pi[i] = Σ_j (−ε²/2 − log_std[e] − log(2π)/2 − log c)   with SacFlagLogPi
//	l         = alpha·log_pi − q_value[i]
//	g_x       = alpha·2·scale·y·u/c − dq_da[e]·scale·u          (dl/dx)
//	grad_mean[e] = grad_scale·g_x, grad_log_std[e] = grad_scale·(g_x·σ·ε − alpha)  with SacFlagGrad
//	action[e] = scale·y + bias                                   with SacFlagAction
//
// and out as sacRows'. The Gaussian log-density takes (x − mean)/σ as ε,
// which it is up to rounding.
func sacContinuousActor[T Float](a argv) error {
	mean, lstd, noise, qv, dq := fbuf[T](a, 0), fbuf[T](a, 1), fbuf[T](a, 2), fbuf[T](a, 3), fbuf[T](a, 4)
	n, nA, alpha, scale, bias, gs, flags := a.int(5), a.int(6), a.real(7), a.real(8), a.real(9), a.real(10), int32(a.int(11))
	gm, gls, lpo, act, out := fbuf[T](a, 12), fbuf[T](a, 13), fbuf[T](a, 14), fbuf[T](a, 15), fbuf[T](a, 16)
	halfLog2Pi := 0.5 * math.Log(2*math.Pi)
	sacBlocks(a.grid.Blocks, n, 0, flags&kernelspec.SacFlagReduce != 0, out, func(i int, _ []float64) float64 {
		lp := 0.0
		for j := range nA {
			e := i*nA + j
			ls, ep := float64(lstd[e]), float64(noise[e])
			sg := math.Exp(ls)
			x := float64(mean[e]) + sg*ep
			y, u := sacSquash(x)
			c := scale*u + 1e-6
			lp += -0.5*ep*ep - ls - halfLog2Pi - math.Log(c)
			if flags&kernelspec.SacFlagGrad != 0 {
				gx := alpha*(2*scale*y*u/c) - float64(dq[e])*scale*u
				gm[e] = T(gs * gx)
				gls[e] = T(gs * (gx*sg*ep - alpha))
			}
			if flags&kernelspec.SacFlagAction != 0 {
				act[e] = T(scale*y + bias)
			}
		}
		if flags&kernelspec.SacFlagLogPi != 0 {
			lpo[i] = T(lp)
		}
		return alpha*lp - float64(qv[i])
	})
	return nil
}
