package host

import (
	"math"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() {
	register("policy_rows", policyRows[float32], policyRows[float64])
	register("policy_adv_stats", policyAdvStats[float32], policyAdvStats[float64])
	register("policy_reduce", policyReduce[float32], policyReduce[float64])
}

// Constants of the policy family (the LE_POL_* constants of
// kernels/src/policy.h).
const (
	polHalfLog2PiE = 1.4189385332046727 // ½·log(2πe), the entropy of a unit normal
	polLog2Pi      = 1.8378770664093453 // log(2π)
	polNormEps     = 1e-8               // CleanRL's guard of the advantage normalisation
	polSquashEps   = 1e-6               // SB3's guard in log(1 − a² + ε)
	// polAtanhEps is the clamp of squashed actions before atanh, float32's
	// machine epsilon (SB3 uses the epsilon of the actions' dtype; here it
	// is the same for both float types, so that they agree).
	polAtanhEps = 1.1920928955078125e-7
)

// polHL is the value loss l(d) = d²/2, or with huber Huber's loss with
// delta (d²/2 for |d| ≤ delta, delta·(|d| − delta/2) outside), and its
// derivative.
func polHL(huber bool, d, delta float64) (l, g float64) {
	if !huber {
		return 0.5 * d * d, d
	}
	z := math.Abs(d)
	g = min(max(d, -delta), delta)
	if z <= delta {
		return 0.5 * d * d, g
	}
	return delta * (z - 0.5*delta), g
}

// polValue is the value loss of one element with value v, return r and
// old value old, and its derivative w.r.t. v: l(v − r), or with
// PolClipVF max(l(v − r), l(vc − r)), vc = old + clamp(v − old, −c, c),
// a tie splitting the gradient evenly (torch.max) and the clamp passing it
// where −c ≤ v − old ≤ c (torch.clamp).
func polValue(flags int32, v, r, old, delta, c float64) (l, g float64) {
	huber := flags&kernelspec.PolHuber != 0
	l1, g1 := polHL(huber, v-r, delta)
	if flags&kernelspec.PolClipVF == 0 {
		return l1, g1
	}
	dv := v - old
	dc := min(max(dv, -c), c)
	inside := 0.0
	if dv >= -c && dv <= c {
		inside = 1
	}
	l2, g2 := polHL(huber, (old+dc)-r, delta)
	w := selMax(l1, l2)
	g = w*g1 + (1-w)*g2*inside
	if l1 > l2 || math.IsNaN(l1) {
		return l1, g
	}
	return l2, g
}

// polPPO is CleanRL's clipped surrogate of one element with new and old
// log-probabilities lp and old, advantage adv: ratio r = exp(lp − old),
// loss max(−adv·r, −adv·clamp(r, 1 − eps, 1 + eps)); g its derivative
// w.r.t. lp (a tie splits evenly, the clamp passes the gradient inside
// [1 − eps, 1 + eps]); cf = 1 where |r − 1| > eps, else 0; kl = (r − 1) −
// log r, formed as expm1(lp − old) − (lp − old).
func polPPO(lp, old, adv, eps float64) (l, g, cf, kl float64) {
	lr := lp - old
	rm1, r := math.Expm1(lr), math.Exp(lr)
	rc := min(max(r, 1-eps), 1+eps)
	if math.IsNaN(r) {
		rc = r
	}
	p1, p2 := -adv*r, -adv*rc
	inside := 0.0
	if r >= 1-eps && r <= 1+eps {
		inside = 1
	}
	w := selMax(p1, p2)
	g = -adv * r * (w + (1-w)*inside)
	if math.Abs(rm1) > eps {
		cf = 1
	}
	kl = rm1 - lr
	if p1 > p2 || math.IsNaN(p1) {
		return p1, g, cf, kl
	}
	return p2, g, cf, kl
}

// polAtanh is atanh(clamp(a, −1 + polAtanhEps, 1 − polAtanhEps)).
func polAtanh(a float64) float64 {
	const lim = 1 - polAtanhEps
	c := min(max(a, -lim), lim)
	if math.IsNaN(a) {
		c = a
	}
	return 0.5 * (math.Log1p(c) - math.Log1p(-c))
}

// policyRows mirrors policy_rows(op, flags, x, log_std, act_i, act_f,
// log_probs, old_log_probs, adv, weights, stats, values, returns,
// old_values, n, a, clip_eps, clip_vf, delta, vcoef, ecoef, grad_scale,
// grad_x, grad_log_std, grad_log_probs, grad_values, rows, out), in
// float64 from the stored values (the kernel computes in float32). For each
// row i < n the policy gives lp = log π(a_i) and H its entropy:
//
//	categorical (x = logits [n, a], act_i [n]): m = max_j x_j, at its
//	  first index jm; s = 1 + s1, s1 = Σ_{j≠jm} exp(x_j − m), log s =
//	  log1p(s1) (its digits kept for a confident row); lp = (x_act − m) −
//	  log s (NaN for an action
//	  outside [0, a)), H = log s − Σ_j p_j·(x_j − m), p_j = exp(x_j − m)/s
//	  (a term with p_j = 0 adds 0); PolEnt reads no actions (act = 0);
//	Gaussian (PolGauss: x = mean, log_std, act_f [n, a]): u_k = act_k, or
//	  with PolSquash atanh(clamp(act_k, ±(1 − polAtanhEps))),
//	  z_k = (u_k − x_k)·exp(−log_std_k),
//	  lp = Σ_k (−z_k²/2 − log_std_k) − a·log(2π)/2
//	       [− Σ_k log((1 − act_k)(1 + act_k) + 1e-6) with PolSquash],
//	  H = Σ_k log_std_k + a·½log(2πe), or −lp with PolSquash;
//	PolLogP: lp = log_probs[i] (no entropy).
//
// A = adv[i], or (adv[i] − stats[0])/(stats[1] + 1e-8) with PolNormAdv;
// w = weights[i] with PolWeights (PolPG and PolEnt), else 1. The row's
// terms and its total:
//
//	PolPG:    pol = −A·w·lp                          total = pol
//	PolEnt:   ent = H                                total = −w·H
//	PolPPO:   pol, cf, kl = polPPO(lp, old_log_probs[i], A, clip_eps)   total = pol
//	PolValue: val = polValue(values[i], returns[i], old_values[i])      total = val
//	PolACPG:  pol as PolPG (w = 1), val, ent = H     total = pol + vcoef·val − ecoef·H
//	PolACPPO: pol, cf, kl as PolPPO, val, ent = H    total likewise
//
// The gradients of total (times grad_scale) w.r.t. x, log_std, log_probs
// and values are written where flags ask (PolGradX, PolGradLogStd,
// PolGradLogP, PolGradValues): for a categorical row
// cl·([j = act] − p_j) − ch·p_j·(lp_j + H), lp_j = (x_j − m) − log s
// ([j = act] − p_j formed as s1/s where the action is the maximum jm), and
// for a Gaussian one cl·z_k·exp(−log_std_k) (mean) and
// cl·(z_k² − 1) + ch (log_std), cl = ∂total/∂lp and ch = ∂total/∂H (with
// PolSquash H = −lp: cl − ch and 0 in their place). rows[i] = total with
// PolRows. out[k·B + b] is the sum over block b's rows of term k (total,
// pol, val, ent, cf, kl; 0 where the op has no such term), where block b
// of B holds the rows i with (i / BlockSize) mod B == b (added here in
// float64, in index order). A gradient buffer may be its input's buffer.
func policyRows[T Float](av argv) error {
	op, flags := int32(av.int(0)), int32(av.int(1))
	x, lstd, acti, actf := fbuf[T](av, 2), fbuf[T](av, 3), av.ints(4), fbuf[T](av, 5)
	logp, oldlp, adv, wts, stats := fbuf[T](av, 6), fbuf[T](av, 7), fbuf[T](av, 8), fbuf[T](av, 9), fbuf[T](av, 10)
	values, returns, oldv := fbuf[T](av, 11), fbuf[T](av, 12), fbuf[T](av, 13)
	n, a := av.int(14), av.int(15)
	eps, cvf, delta, vcoef, ecoef, gs := av.real(16), av.real(17), av.real(18), av.real(19), av.real(20), av.real(21)
	gx, gls, glp, gval, rows, out := fbuf[T](av, 22), fbuf[T](av, 23), fbuf[T](av, 24), fbuf[T](av, 25), fbuf[T](av, 26), fbuf[T](av, 27)
	const bs = kernelspec.BlockSize
	blocks := av.grid.Blocks
	hasPol := op != kernelspec.PolValue
	hasEnt := op == kernelspec.PolEnt || op == kernelspec.PolACPG || op == kernelspec.PolACPPO
	hasVal := op == kernelspec.PolValue || op == kernelspec.PolACPG || op == kernelspec.PolACPPO
	isPPO := op == kernelspec.PolPPO || op == kernelspec.PolACPPO
	gauss, squash := flags&kernelspec.PolGauss != 0, flags&kernelspec.PolSquash != 0
	direct := flags&kernelspec.PolLogP != 0
	var stMean, stStd float64
	if flags&kernelspec.PolNormAdv != 0 && n > 0 {
		stMean, stStd = float64(stats[0]), float64(stats[1])
	}
	parallelFor(blocks, 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			var acc [kernelspec.PolParts]float64
			var eb [64]float64 // the row's exp(x_j − m), for rows of up to 64 actions
			for start := b * bs; start < n; start += blocks * bs {
				for i := start; i < min(start+bs, n); i++ {
					base := i * a
					var lp, H, m, ls, rs, s1, s float64
					act, jm := 0, -1
					switch {
					case hasPol && direct:
						lp = float64(logp[i])
					case hasPol && !gauss:
						if op != kernelspec.PolEnt {
							act = int(acti[i])
						}
						m = math.Inf(-1)
						for j := range a {
							v := float64(x[base+j])
							if v > m || math.IsNaN(v) {
								m, jm = v, j
							}
							if math.IsNaN(m) {
								break
							}
						}
						t := 0.0
						for j := range a {
							d := float64(x[base+j]) - m
							e := math.Exp(d)
							if j < len(eb) {
								eb[j] = e // kept for the gradient pass
							}
							if j == jm {
								s1 += e - 1 // 0 at the maximum (NaN for +Inf − +Inf)
							} else {
								s1 += e
							}
							if e > 0 {
								t += e * d
							}
						}
						s = s1
						ls = math.Log(s1)
						if jm >= 0 {
							s, ls = 1+s1, math.Log1p(s1)
						}
						rs = 1 / s
						lp = math.NaN()
						if act >= 0 && act < a {
							lp = (float64(x[base+act]) - m) - ls
						}
						H = ls - t/s
					case hasPol:
						corr, sls := 0.0, 0.0
						for k := range a {
							ak, l := float64(actf[base+k]), float64(lstd[base+k])
							u := ak
							if squash {
								u = polAtanh(ak)
								corr += math.Log((1-ak)*(1+ak) + polSquashEps)
							}
							z := (u - float64(x[base+k])) * math.Exp(-l)
							lp += -0.5*z*z - l
							sls += l
						}
						lp -= 0.5 * polLog2Pi * float64(a)
						lp -= corr
						H = sls + polHalfLog2PiE*float64(a)
						if squash {
							H = -lp
						}
					}
					A, w := 0.0, 1.0
					if op != kernelspec.PolValue && op != kernelspec.PolEnt {
						A = float64(adv[i])
						if flags&kernelspec.PolNormAdv != 0 {
							A = (A - stMean) / (stStd + polNormEps)
						}
					}
					if flags&kernelspec.PolWeights != 0 && (op == kernelspec.PolPG || op == kernelspec.PolEnt) {
						w = float64(wts[i])
					}
					var pol, val, cf, kl, cl, ch, gv, total float64
					switch {
					case isPPO:
						pol, cl, cf, kl = polPPO(lp, float64(oldlp[i]), A, eps)
					case op == kernelspec.PolPG || op == kernelspec.PolACPG:
						pol, cl = -A*w*lp, -A*w
					}
					if hasVal {
						ov := 0.0
						if flags&kernelspec.PolClipVF != 0 {
							ov = float64(oldv[i])
						}
						val, gv = polValue(flags, float64(values[i]), float64(returns[i]), ov, delta, cvf)
					}
					switch {
					case op == kernelspec.PolEnt:
						total, ch = -w*H, -w
					case op == kernelspec.PolValue:
						total = val
					case hasVal:
						total = pol + vcoef*val - ecoef*H
						ch = -ecoef
						gv *= vcoef
					default:
						total = pol
					}
					ent := 0.0
					if hasEnt {
						ent = H
					}
					switch {
					case hasPol && direct:
						if flags&kernelspec.PolGradLogP != 0 {
							glp[i] = T(gs * cl)
						}
					case hasPol && !gauss:
						if flags&kernelspec.PolGradX != 0 {
							for j := range a {
								lpj := (float64(x[base+j]) - m) - ls
								var p float64
								if j < len(eb) {
									p = eb[j] * rs // exp(x_j − m)/s, within an ulp of exp(lpj)
								} else {
									p = math.Exp(lpj)
								}
								dh := 0.0
								if p > 0 {
									dh = -p * (lpj + H)
								}
								sel := -p
								switch {
								case j == act && j == jm:
									sel = s1 / s // 1 − p_j, which cancels
								case j == act:
									sel = 1 - p
								}
								gx[base+j] = T(gs*cl*sel + gs*ch*dh)
							}
						}
					case hasPol:
						cle, chl := cl, ch
						if squash {
							cle, chl = cl-ch, 0
						}
						for k := range a {
							ak, l := float64(actf[base+k]), float64(lstd[base+k])
							u := ak
							if squash {
								u = polAtanh(ak)
							}
							is := math.Exp(-l)
							z := (u - float64(x[base+k])) * is
							if flags&kernelspec.PolGradX != 0 {
								gx[base+k] = T(gs * (cle * z * is))
							}
							if flags&kernelspec.PolGradLogStd != 0 {
								gls[base+k] = T(gs * (cle*(z*z-1) + chl))
							}
						}
					}
					if hasVal && flags&kernelspec.PolGradValues != 0 {
						gval[i] = T(gs * gv)
					}
					if flags&kernelspec.PolRows != 0 {
						rows[i] = T(total)
					}
					acc[0] += total
					acc[1] += pol
					acc[2] += val
					acc[3] += ent
					acc[4] += cf
					acc[5] += kl
				}
			}
			for k := range acc {
				out[k*blocks+b] = T(acc[k])
			}
		}
	})
	return nil
}

// policyAdvStats mirrors policy_adv_stats(adv, n, stats), one block:
// stats[0] = mean of adv[0..n), stats[1] = sqrt(Σ (adv_i − mean)² / (n − 1)),
// the unbiased standard deviation as torch.std (NaN for n = 1; the mean
// NaN for n = 0), in float64, two passes.
func policyAdvStats[T Float](av argv) error {
	adv, n, stats := fbuf[T](av, 0), av.int(1), fbuf[T](av, 2)
	s := 0.0
	for _, v := range adv[:n] {
		s += float64(v)
	}
	mean := s / float64(n)
	q := 0.0
	for _, v := range adv[:n] {
		d := float64(v) - mean
		q += d * d
	}
	stats[0] = T(mean)
	stats[1] = T(math.Sqrt(q / float64(n-1)))
	return nil
}

// policyReduce mirrors policy_reduce(part, nb, k, scale, out), one block:
// out[0] = scale·Σ_{b<nb} part[k·nb + b], added in float64 in index order.
func policyReduce[T Float](av argv) error {
	part, nb, k, scale, out := fbuf[T](av, 0), av.int(1), av.int(2), av.real(3), fbuf[T](av, 4)
	s := 0.0
	for _, v := range part[k*nb : k*nb+nb] {
		s += float64(v)
	}
	out[0] = T(s * scale)
	return nil
}
