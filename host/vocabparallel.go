package host

import (
	"math"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() {
	register("vp_ce_max", vpCEMax[float32], vpCEMax[float64])
	register("vp_ce_partials", vpCEPartials[float32], vpCEPartials[float64])
	register("vp_ce_denom", vpCEDenom[float32], vpCEDenom[float64])
	register("vp_ce_rows", vpCERows[float32], vpCERows[float64])
	register("vp_ce_reduce", vpCEReduce[float32], vpCEReduce[float64])
}

// The vocabparallel family: the per-shard steps of the vocabulary-parallel
// cross-entropy. A shard holds the logits x [r, vs] of the classes
// [v0, v0+vs) of a V-class softmax for the rows row0 .. row0+r-1 of the
// batch, whose targets are target[row0+i]. Each logit enters as its
// capped value x' = s·tanh(x/s) for softcap s > 0, else x. The mirrors
// compute in float64 from the stored values and round once when they store.

// vpCap is the capped logit x' (s·tanh(x/s), or x for s = 0) and its
// derivative dx'/dx = 1 − tanh²(x/s) (1 for s = 0).
func vpCap(x, s float64) (float64, float64) {
	if s > 0 {
		th := math.Tanh(x / s)
		return s * th, 1 - th*th
	}
	return x, 1
}

// vpMax is max(a, b), NaN if either is.
func vpMax(a, b float64) float64 {
	if a != a || b != b {
		return math.NaN()
	}
	return max(a, b)
}

// vpCEMax mirrors vp_ce_max(x, target, r, vs, row0, ignore_index,
// softcap, rowmax):
//
//	rowmax[i] = max_{k<vs} x'[i,k]   for i < r
//
// and −∞ for a row whose target target[row0+i] is ignore_index (its logits
// are not read). A NaN logit gives NaN.
func vpCEMax[T Float](a argv) error {
	x, tg, r, vs, row0, ign, cap, rowmax := fbuf[T](a, 0), a.ints(1), a.int(2), a.int(3), a.int(4), a.int(5), a.real(6), fbuf[T](a, 7)
	parallelFor(r, rowsGrain(vs), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			m := math.Inf(-1)
			row := x[i*vs : (i+1)*vs]
			switch {
			case int(tg[row0+i]) == ign:
			case cap == 0:
				m = float64(rowMax(row)) // vectorized where the CPU allows; it passes over NaN
				for _, v := range row {
					if v != v {
						m = math.NaN()
						break
					}
				}
			default:
				for _, v := range row {
					c, _ := vpCap(float64(v), cap)
					m = vpMax(m, c)
				}
			}
			rowmax[i] = T(m)
		}
	})
	return nil
}

// vpCEPartials mirrors vp_ce_partials(x, target, weight, r, vs, row0, v0,
// has_weight, ignore_index, smooth, softcap, rowmax, partials): for each
// row i < r with t = target[row0+i] not ignore_index, M = rowmax[i] (the
// all-reduced maximum), w(k) = weight[k] if has_weight else 1, tl = t − v0
// and P = partials[VPParts·i : VPParts·(i+1)]:
//
//	P[VPSumExp] = Σ_{k<vs} exp(x'[i,k] − M)
//	P[VPXT]     = x'[i,tl] if 0 <= tl < vs, else 0
//	P[VPWX]     = Σ_k w(k)·x'[i,k] if smooth, else 0
//	P[VPWS]     = Σ_k w(k) if smooth (vs without weights), else 0
//	P[VPWT]     = w(tl) if 0 <= tl < vs, else 0
//
// An ignored row gets zeros. Summed over the shards (a SUM all-reduce),
// the partials of a row are those of the full vocabulary.
func vpCEPartials[T Float](a argv) error {
	x, tg, w := fbuf[T](a, 0), a.ints(1), fbuf[T](a, 2)
	r, vs, row0, v0, hasW, ign, smooth, cap := a.int(3), a.int(4), a.int(5), a.int(6), a.int(7) != 0, a.int(8), a.int(9) != 0, a.real(10)
	rowmax, parts := fbuf[T](a, 11), fbuf[T](a, 12)
	wk := func(k int) float64 {
		if hasW {
			return float64(w[k])
		}
		return 1
	}
	parallelFor(r, rowsGrain(vs), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			P := parts[kernelspec.VPParts*i : kernelspec.VPParts*(i+1)]
			clear(P)
			t := int(tg[row0+i])
			if t == ign {
				continue
			}
			M := float64(rowmax[i])
			row := x[i*vs : (i+1)*vs]
			var s, wx, ws float64
			if cap == 0 && !math.IsInf(M, 0) && M == M {
				s = expShiftSum[T](nil, row, T(M)) // vectorized where the CPU allows
			} else {
				for _, v := range row {
					c, _ := vpCap(float64(v), cap)
					s += math.Exp(c - M)
				}
			}
			if smooth {
				for k, v := range row {
					c, _ := vpCap(float64(v), cap)
					wx += wk(k) * c
					ws += wk(k)
				}
			}
			P[kernelspec.VPSumExp] = T(s)
			P[kernelspec.VPWX] = T(wx)
			P[kernelspec.VPWS] = T(ws)
			if tl := t - v0; tl >= 0 && tl < vs {
				c, _ := vpCap(float64(x[i*vs+tl]), cap)
				P[kernelspec.VPXT] = T(c)
				P[kernelspec.VPWT] = T(wk(tl))
			}
		}
	})
	return nil
}

// vpCEDenom mirrors vp_ce_denom(target, partials, r, row0, ignore_index,
// reduction, denom): over the rows i < r whose target target[row0+i] is
// not ignore_index, with the all-reduced partials,
//
//	denom[0] = Σ_i partials[VPParts·i + VPWT]   (the total weight Σ w(t))
//	denom[1] = the number of those rows
//	denom[2] = denom[0] if reduction is mean, else 1
//	denom[3] = denom[1] if reduction is mean, else 1
func vpCEDenom[T Float](a argv) error {
	tg, parts, r, row0, ign, red, denom := a.ints(0), fbuf[T](a, 1), a.int(2), a.int(3), a.int(4), int32(a.int(5)), fbuf[T](a, 6)
	var tw, cnt float64
	for i := range r {
		if int(tg[row0+i]) == ign {
			continue
		}
		tw += float64(parts[kernelspec.VPParts*i+kernelspec.VPWT])
		cnt++
	}
	denom[0], denom[1], denom[2], denom[3] = T(tw), T(cnt), 1, 1
	if red == kernelspec.ReductionMean {
		denom[2], denom[3] = T(tw), T(cnt)
	}
	return nil
}

// vpCERows mirrors vp_ce_rows(x, target, weight, r, vs, row0, v0, v,
// has_weight, ignore_index, label_smoothing, softcap, z_loss, rowmax,
// partials, denom, has_grad, grad, combine, loss_rows, z_rows): for row
// i < r with t = target[row0+i] not ignore_index, the all-reduced
// P = partials[VPParts·i:], M = rowmax[i], S = P[VPSumExp],
// L = M + log S, ε = label_smoothing, z = z_loss, p_k = exp(x'_k − M)/S:
//
//	ce           = (1−ε)·P[VPWT]·(log S − (P[VPXT] − M)) + ε/v·(P[VPWS]·L − P[VPWX])
//	zl           = z·L²
//	loss_rows[i] = ce + zl if combine, else ce;  z_rows[i] = zl
//	grad[i,k]    = ( p_k·((1−ε)·P[VPWT] + ε·P[VPWS]/v)/denom[2] + 2·z·L·p_k/denom[3]
//	                 − ε·w(k)/v/denom[2] − (1−ε)·P[VPWT]/denom[2]·[k = t−v0] ) · dx'/dx
//
// (the gradient only if has_grad). Ignored rows: zero losses and a zero
// gradient row. A row with M = −∞ or a NaN log-sum-exp gets a NaN gradient
// row. grad may be x.
func vpCERows[T Float](a argv) error {
	x, tg, w := fbuf[T](a, 0), a.ints(1), fbuf[T](a, 2)
	r, vs, row0, v0, v, hasW, ign := a.int(3), a.int(4), a.int(5), a.int(6), a.int(7), a.int(8) != 0, a.int(9)
	eps, cap, zc := a.real(10), a.real(11), a.real(12)
	rowmax, parts, denom, hasGrad, grad := fbuf[T](a, 13), fbuf[T](a, 14), fbuf[T](a, 15), a.int(16) != 0, fbuf[T](a, 17)
	combine, lossRows, zRows := a.int(18) != 0, fbuf[T](a, 19), fbuf[T](a, 20)
	var dce, dz float64
	if hasGrad && r > 0 {
		dce, dz = float64(denom[2]), float64(denom[3])
	}
	parallelFor(r, rowsGrain(vs), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			t := int(tg[row0+i])
			var gr []T
			if hasGrad {
				gr = grad[i*vs : (i+1)*vs]
			}
			if t == ign {
				lossRows[i], zRows[i] = 0, 0
				clear(gr)
				continue
			}
			P := parts[kernelspec.VPParts*i:]
			M, S := float64(rowmax[i]), float64(P[kernelspec.VPSumExp])
			xt, wx, ws, wt := float64(P[kernelspec.VPXT]), float64(P[kernelspec.VPWX]), float64(P[kernelspec.VPWS]), float64(P[kernelspec.VPWT])
			lnS := math.Log(S)
			L := M + lnS
			ce := (1 - eps) * wt * (lnS - (xt - M))
			if eps != 0 {
				ce += eps / float64(v) * (ws*L - wx)
			}
			zl := 0.0
			if zc != 0 {
				zl = zc * L * L
			}
			if combine {
				lossRows[i] = T(ce + zl)
			} else {
				lossRows[i] = T(ce)
			}
			zRows[i] = T(zl)
			if gr == nil {
				continue
			}
			if math.IsInf(M, -1) || L != L {
				for k := range gr {
					gr[k] = T(math.NaN())
				}
				continue
			}
			coef := ((1-eps)*wt + eps*ws/float64(v)) / dce / S
			if zc != 0 {
				coef += 2 * zc * L / dz / S
			}
			epc := eps / float64(v)
			tl := t - v0
			if cap == 0 {
				// gr = exp(x − M) first (vectorized; gr may be the row itself)
				expShiftSum(gr, x[i*vs:(i+1)*vs], T(M))
			}
			for k := range gr {
				var g, f float64
				if cap == 0 {
					g, f = float64(gr[k])*coef, 1
				} else {
					var c float64
					c, f = vpCap(float64(x[i*vs+k]), cap)
					g = math.Exp(c-M) * coef
				}
				if eps != 0 {
					wkk := 1.0
					if hasW {
						wkk = float64(w[k])
					}
					g -= epc * wkk / dce
				}
				if k == tl {
					g -= (1 - eps) * wt / dce
				}
				gr[k] = T(g * f)
			}
		}
	})
	return nil
}

// vpCEReduce mirrors vp_ce_reduce(loss_rows, z_rows, r, has_z, denom,
// loss, z_out): with a = Σ_{i<r} loss_rows[i] and b = Σ_{i<r} z_rows[i],
//
//	z_out[0] = b/denom[3] if has_z, else 0
//	loss[0]  = a/denom[2] + z_out[0]
//
// where a zero divisor gives NaN for its part.
func vpCEReduce[T Float](a argv) error {
	lr, zr, r, hasZ, denom, loss, zout := fbuf[T](a, 0), fbuf[T](a, 1), a.int(2), a.int(3) != 0, fbuf[T](a, 4), fbuf[T](a, 5), fbuf[T](a, 6)
	var sa, sb float64
	for i := range r {
		sa += float64(lr[i])
		sb += float64(zr[i])
	}
	div := func(x, d float64) float64 {
		if d == 0 {
			return math.NaN()
		}
		return x / d
	}
	zo := 0.0
	if hasZ {
		zo = div(sb, float64(denom[3]))
	}
	zout[0] = T(zo)
	loss[0] = T(div(sa, float64(denom[2])) + zo)
	return nil
}
