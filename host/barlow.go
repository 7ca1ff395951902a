package host

import (
	"math"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() {
	register("bt_norm", btNorm[float32], btNorm[float64])
	register("bt_cc", btCC[float32], btCC[float64])
	register("bt_norm_back", btNormBack[float32], btNormBack[float64])
}

// The barlow family (kernels/src/barlow.h): Barlow Twins' loss. The
// mirrors compute in float64 and add each column's terms in row order.

// btNorm mirrors bt_norm(z, n, d, unbiased, eps, zn, rstd): for each
// column j < d of z [n, d], about its first value z0 = z[0, j],
//
//	m = Σ_i (z[i, j] − z0) / n,  S = Σ_i ((z[i, j] − z0) − m)²,  r = 1/sqrt(S/(n − unbiased) + eps)
//	zn[i, j] = ((z[i, j] − z0) − m)·r,  rstd[j] = r
//
// zn may be z.
func btNorm[T Float](a argv) error {
	z, n, d, unb, eps, zn, rstd := fbuf[T](a, 0), a.int(1), a.int(2), a.int(3), a.real(4), fbuf[T](a, 5), fbuf[T](a, 6)
	// Columns in chunks, walked row by row (contiguous reads); each
	// column's sums still in row order.
	parallelFor((d+btCols-1)/btCols, 1, func(lo, hi int) {
		var s, q, z0 [btCols]float64
		for ch := lo; ch < hi; ch++ {
			j0, j1 := ch*btCols, min(ch*btCols+btCols, d)
			w := j1 - j0
			clear(s[:w])
			clear(q[:w])
			clear(z0[:w])
			if n > 0 {
				for j, v := range z[j0:j1] {
					z0[j] = float64(v)
				}
			}
			for i := range n {
				for j, v := range z[i*d+j0 : i*d+j1] {
					s[j] += float64(v) - z0[j]
				}
			}
			for j := range w {
				s[j] /= float64(n) // m
			}
			for i := range n {
				for j, v := range z[i*d+j0 : i*d+j1] {
					u := (float64(v) - z0[j]) - s[j]
					q[j] += u * u
				}
			}
			for j := range w {
				q[j] = 1 / math.Sqrt(q[j]/float64(n-unb)+eps) // r
				rstd[j0+j] = T(q[j])
			}
			for i := range n {
				zr := zn[i*d+j0 : i*d+j1]
				for j, v := range z[i*d+j0 : i*d+j1] {
					zr[j] = T(((float64(v) - z0[j]) - s[j]) * q[j])
				}
			}
		}
	})
	return nil
}

// btCols is the columns a bt_norm or bt_norm_back mirror job walks at once.
const btCols = 64

// btCC mirrors bt_cc(c, d, lambd, scale, has_grad, partials): over the
// [d, d] cross-correlation matrix c, the terms l = (1 − c_ii)² on the
// diagonal and λ·c_ij² off it, and with has_grad dL/dc·scale in place
// (−2(1 − c_ii) and 2λ·c_ij); partials[b] is the sum of the terms of the
// elements e with (e / BlockSize) mod B == b, B the grid's blocks.
func btCC[T Float](a argv) error {
	c, d, lambd, scale, hasGrad, partials := fbuf[T](a, 0), a.int(1), a.real(2), a.real(3), a.int(4) != 0, fbuf[T](a, 5)
	const bs = kernelspec.BlockSize
	blocks := a.grid.Blocks
	parallelFor(blocks, 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			acc := 0.0
			for start := b * bs; start < d*d; start += blocks * bs {
				for e := start; e < min(start+bs, d*d); e++ {
					v := float64(c[e])
					if e/d == e%d {
						u := 1 - v
						acc += u * u
						if hasGrad {
							c[e] = T(-2 * u * scale)
						}
						continue
					}
					acc += lambd * v * v
					if hasGrad {
						c[e] = T(2 * lambd * v * scale)
					}
				}
			}
			partials[b] = T(acc)
		}
	})
	return nil
}

// btNormBack mirrors bt_norm_back(zn, rstd, n, d, unbiased, g): for each
// column j, in place over g [n, d],
//
//	m1 = Σ_i g[i, j]/n,  m2 = Σ_i g[i, j]·zn[i, j]/(n − unbiased)
//	g[i, j] = rstd[j]·(g[i, j] − m1 − zn[i, j]·m2)
func btNormBack[T Float](a argv) error {
	zn, rstd, n, d, unb, g := fbuf[T](a, 0), fbuf[T](a, 1), a.int(2), a.int(3), a.int(4), fbuf[T](a, 5)
	parallelFor((d+btCols-1)/btCols, 1, func(lo, hi int) {
		var s1, s2 [btCols]float64
		for ch := lo; ch < hi; ch++ {
			j0, j1 := ch*btCols, min(ch*btCols+btCols, d)
			w := j1 - j0
			clear(s1[:w])
			clear(s2[:w])
			for i := range n {
				zr := zn[i*d+j0 : i*d+j1]
				for j, v := range g[i*d+j0 : i*d+j1] {
					s1[j] += float64(v)
					s2[j] += float64(v) * float64(zr[j])
				}
			}
			for j := range w {
				s1[j] /= float64(n)
				s2[j] /= float64(n - unb)
			}
			for i := range n {
				zr, gr := zn[i*d+j0:i*d+j1], g[i*d+j0:i*d+j1]
				for j, v := range gr {
					gr[j] = T(float64(rstd[j0+j]) * (float64(v) - s1[j] - float64(zr[j])*s2[j]))
				}
			}
		}
	})
	return nil
}
