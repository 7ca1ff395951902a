package host

import (
	"math"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() {
	register("returns_scan", returnsScan[float32], returnsScan[float64])
	register("td_loss", tdLoss[float32], tdLoss[float64])
}

// retDiscount is the discount of step i: disc[i] with RetFlagDiscounts
// (rlax's discount_t), else gamma·(1 − terminated) with disc = terminated.
func retDiscount[T Float](disc []T, i int, gamma float64, flags int32) float64 {
	if flags&kernelspec.RetFlagDiscounts != 0 {
		return float64(disc[i])
	}
	return gamma * (1 - float64(disc[i]))
}

// returnsScan mirrors returns_scan(op, rewards, values, bootstrap, disc,
// truncated, truncation_values, T, B, gamma, lambda, n, flags, out, out2),
// in float64, over the time-major [T, B] rollouts (element (t, b) at
// t·B + b), for each column b, with d_t = retDiscount(disc, t·B + b):
//
//	RetGAE: nv_t = values[t+1] (t < T−1), bootstrap[b] (t = T−1);
//	        c_t = d_t·lambda, except where truncated[t] ≠ 0 (with
//	        RetFlagTruncated): nv_t = truncation_values[t], c_t = 0;
//	        A_t = (r_t + d_t·nv_t − v_t) + c_t·A_{t+1}, A_T = 0;
//	        out = A, and out2 = A + values with RetFlagOut2.
//	RetLambda: G_t = r_t + d_t·((1 − lambda)·v_t + lambda·G_{t+1}),
//	        G_T = v_{T−1} (values is rlax's v_t: the value of the state
//	        after step t); out = G.
//	RetNStep: out[t] = g after g = v[min(t+n−1, T−1)] and, for k =
//	        min(n, T−t)−1 down to 0, g = r_{t+k} + d_{t+k}·((1 − lambda)·
//	        v_{t+k} + lambda·g): rlax's n_step_bootstrapped_returns, whose
//	        padding past T (reward 0, discount 1, lambda 1) leaves g as it
//	        is.
//
// The kernel computes the step terms and the carry in le_real (double
// where the device has it) from float32 inputs.
func returnsScan[T Float](a argv) error {
	op := int32(a.int(0))
	rw, vs, bs, disc, tr, tv := fbuf[T](a, 1), fbuf[T](a, 2), fbuf[T](a, 3), fbuf[T](a, 4), fbuf[T](a, 5), fbuf[T](a, 6)
	nT, nB, gamma, lambda, n, flags := a.int(7), a.int(8), a.real(9), a.real(10), a.int(11), int32(a.int(12))
	out, out2 := fbuf[T](a, 13), fbuf[T](a, 14)
	// lambda and 1 − lambda as the kernel rounds them
	lam, oml := float64(T(lambda)), float64(T(1-float64(T(lambda))))
	gam := float64(T(gamma))
	if nT == 0 || nB == 0 {
		return nil
	}
	parallelFor(nB, 16, func(lo, hi int) {
		w := hi - lo
		if op == kernelspec.RetNStep {
			for t := range nT {
				m := min(n, nT-t)
				last := t + m - 1
				for b := lo; b < hi; b++ {
					g := float64(vs[last*nB+b])
					for k := m - 1; k >= 0; k-- {
						i := (t+k)*nB + b
						d := retDiscount(disc, i, gam, flags)
						g = float64(rw[i]) + d*(oml*float64(vs[i])+lam*g)
					}
					out[t*nB+b] = T(g)
				}
			}
			return
		}
		carry := make([]float64, w)
		nv := make([]float64, w)
		for j := range w {
			if op == kernelspec.RetGAE {
				nv[j] = float64(bs[lo+j])
			} else {
				carry[j] = float64(vs[(nT-1)*nB+lo+j])
			}
		}
		for t := nT - 1; t >= 0; t-- {
			for j := range w {
				i := t*nB + lo + j
				r, v := float64(rw[i]), float64(vs[i])
				d := retDiscount(disc, i, gam, flags)
				if op == kernelspec.RetGAE {
					// d·lambda as the kernel rounds it
					c, bv := float64(T(d*lam)), nv[j]
					if flags&kernelspec.RetFlagTruncated != 0 && tr[i] != 0 {
						bv, c = float64(tv[i]), 0
					}
					carry[j] = (r + d*bv - v) + c*carry[j]
					out[i] = T(carry[j])
					if flags&kernelspec.RetFlagOut2 != 0 {
						out2[i] = T(carry[j] + v)
					}
					nv[j] = v
				} else {
					carry[j] = r + d*(oml*v+lam*carry[j])
					out[i] = T(carry[j])
				}
			}
		}
	})
	return nil
}

// tdSample is the TD error of sample i for op, in float64: δ = r_t[i] +
// d_t[i]·boot − q with
//
//	TDError:   q = x_tm1[i], boot = x_t[i]
//	TDQ:       q = x_tm1[i·A + a] (NaN for a outside [0, A)), boot = max_k x_t[i·A + k] (NaN propagates)
//	TDDoubleQ: q as TDQ, boot = x_t[i·A + k*], k* the first argmax of sel[i·A : i·A + A]
//	           (a NaN counts as the maximum, as jnp.argmax)
//
// and the action a it read (−1 for TDError).
func tdSample[T Float](op int32, xm []T, acts []int32, r, d, xt, sel []T, i, nA int) (float64, int) {
	var q, boot float64
	a := -1
	if op == kernelspec.TDError {
		q, boot = float64(xm[i]), float64(xt[i])
	} else {
		row := i * nA
		a = int(acts[i])
		q = math.NaN()
		if a >= 0 && a < nA {
			q = float64(xm[row+a])
		}
		boot = math.NaN()
		if op == kernelspec.TDQ {
			if nA > 0 {
				boot = float64(xt[row])
			}
			for k := 1; k < nA; k++ {
				if x := float64(xt[row+k]); !math.IsNaN(boot) && !(x <= boot) {
					boot = x
				}
			}
		} else if nA > 0 {
			best, bm := 0, float64(sel[row])
			for k := 1; k < nA; k++ {
				if s := float64(sel[row+k]); !math.IsNaN(bm) && (s > bm || math.IsNaN(s)) {
					best, bm = k, s
				}
			}
			boot = float64(xt[row+best])
		}
	}
	return (float64(r[i]) + float64(d[i])*boot) - q, a
}

// tdLoss mirrors td_loss(op, x_tm1, actions, r_t, d_t, x_t, sel, n, A,
// delta, grad_scale, flags, grad, td, out): for i < n, (δ, a) =
// tdSample(...), the loss l = ½δ², or with TDFlagHuber rlax's huber_loss
// ½·min(|δ|, delta)² + delta·(|δ| − min(|δ|, delta)), g = dl/dδ (δ, or δ
// clamped to [−delta, delta]), and
//
//	grad[i] = −grad_scale·g                      TDError, with TDFlagGrad
//	grad[i·A + k] = k == a ? −grad_scale·g : 0   Q ops, with TDFlagGrad
//	td[i] = δ                                    with TDFlagOutTD
//	out[i] = l                                   unless TDFlagReduce
//	out[b] = Σ l over block b's samples          with TDFlagReduce
//
// where block b of a grid of B blocks holds the samples i with
// (i / BlockSize) mod B == b (added here in float64, in index order).
func tdLoss[T Float](a argv) error {
	op := int32(a.int(0))
	xm, acts, r, d, xt, sel := fbuf[T](a, 1), a.ints(2), fbuf[T](a, 3), fbuf[T](a, 4), fbuf[T](a, 5), fbuf[T](a, 6)
	n, nA, dh, gs, flags := a.int(7), a.int(8), a.real(9), a.real(10), int32(a.int(11))
	grad, td, out := fbuf[T](a, 12), fbuf[T](a, 13), fbuf[T](a, 14)
	const bs = kernelspec.BlockSize
	blocks := a.grid.Blocks
	reduce := flags&kernelspec.TDFlagReduce != 0
	parallelFor(blocks, 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			acc := 0.0
			for start := b * bs; start < n; start += blocks * bs {
				for i := start; i < min(start+bs, n); i++ {
					delta, act := tdSample(op, xm, acts, r, d, xt, sel, i, nA)
					l, g := 0.5*delta*delta, delta
					if flags&kernelspec.TDFlagHuber != 0 {
						z := math.Abs(delta)
						qd := math.Min(z, dh)
						l = 0.5*qd*qd + dh*(z-qd)
						g = max(-dh, min(delta, dh))
						if math.IsNaN(delta) {
							g = delta
						}
					}
					if flags&kernelspec.TDFlagGrad != 0 {
						if op == kernelspec.TDError {
							grad[i] = T(-gs * g)
						} else {
							for k := range nA {
								grad[i*nA+k] = 0
								if k == act {
									grad[i*nA+k] = T(-gs * g)
								}
							}
						}
					}
					if flags&kernelspec.TDFlagOutTD != 0 {
						td[i] = T(delta)
					}
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
	return nil
}
