package host

import (
	"math"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() {
	register("gan_partials", ganPartials[float32], ganPartials[float64])
	register("gan_reduce", ganReduce[float32], ganReduce[float64])
	register("gan_terms", ganTerms[float32], ganTerms[float64])
	register("gan_add", ganAdd[float32], ganAdd[float64])
	register("gan_penalty", ganPenalty[float32], ganPenalty[float64])
}

// ganTerm is the term t of one discriminator output x for op, with
// d = dt/dx, in float64 (p the op's target, s its sign, m the other
// tensor's mean):
//
//	GanOpZero:  t = 0, d = 0
//	GanOpSCE:   t = softplus(x) − p·x = max(x, 0) − p·x + log1p(exp(−|x|)), d = σ(x) − p
//	GanOpLin:   t = x, d = 1
//	GanOpHinge: t = max(1 + s·x, 0), d = s where 1 + s·x > 0, else 0 (as relu's gradient at 0)
//	GanOpSq:    t = (x − p)²/2, d = x − p
//	GanOpRA:    t = softplus(s·(x − m)), d = s·σ(s·(x − m))
//
// σ(z) is 1/(1 + e) for z >= 0 and e/(1 + e) otherwise, e = exp(−|z|), so
// neither the term nor its derivative overflows for saturated outputs.
func ganTerm(op int32, x, p, s, m float64) (t, d float64) {
	switch op {
	case kernelspec.GanOpSCE:
		l, sp := ganLogistic(x)
		return (max(x, 0) - p*x) + l, sp - p
	case kernelspec.GanOpLin:
		return x, 1
	case kernelspec.GanOpHinge:
		z := 1 + s*x
		if z > 0 {
			return z, s
		}
		if z <= 0 {
			return 0, 0
		}
		return z, 0 // NaN
	case kernelspec.GanOpSq:
		e := x - p
		return 0.5 * e * e, e
	case kernelspec.GanOpRA:
		z := s * (x - m)
		l, sp := ganLogistic(z)
		return max(z, 0) + l, s * sp
	}
	return 0, 0
}

// ganTerm32 is ganTerm of a float32 output for the logistic ops (GanOpSCE,
// GanOpRA): softplus and σ from logistic32 in float32 arithmetic (about 1
// ulp each, as the kernel's float32 forms), the rest in float64.
func ganTerm32(op int32, x float32, p, s, m float64) (t, d float64) {
	if op == kernelspec.GanOpRA {
		z := float32(s * (float64(x) - m))
		l, sp, _ := logistic32(z)
		return max(float64(z), 0) + float64(l), s * float64(sp)
	}
	l, sp, _ := logistic32(x)
	return (max(float64(x), 0) - p*float64(x)) + float64(l), float64(sp) - p
}

// ganLogistic returns log1p(exp(−|x|)) and σ(x) from one exponential.
func ganLogistic(x float64) (l, sig float64) {
	e := math.Exp(-math.Abs(x))
	r := 1 / (1 + e)
	if x >= 0 || math.IsNaN(x) {
		return math.Log1p(e), r
	}
	return math.Log1p(e), e * r
}

// ganBlocks calls fn(b, lo, hi) for the runs [lo, hi) of the elements
// i < n of block b of a grid of blocks blocks (i / BlockSize mod blocks ==
// b), in index order, then each(b); one block per call of each.
func ganBlocks(n, blocks int, each func(b int), fn func(b, lo, hi int)) {
	const bs = kernelspec.BlockSize
	parallelFor(blocks, 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			for start := b * bs; start < n; start += blocks * bs {
				fn(b, start, min(start+bs, n))
			}
			each(b)
		}
	})
}

// ganPartials mirrors gan_partials(x, w, n, has_w, part, off): for each
// block b of a grid of B blocks (elements i with (i / BlockSize) mod B ==
// b),
//
//	part[off + b]     = Σ x[i] over block b's elements
//	part[off + B + b] = the number of them with w[i] != 0 (0 unless has_w)
//
// added in float64 in index order.
func ganPartials[T Float](a argv) error {
	x, w, n, hasW, part, off := fbuf[T](a, 0), fbuf[T](a, 1), a.int(2), a.int(3) != 0, fbuf[T](a, 4), a.int(5)
	blocks := a.grid.Blocks
	sx, cw := make([]float64, blocks), make([]float64, blocks)
	ganBlocks(n, blocks, func(b int) {
		part[off+b], part[off+blocks+b] = T(sx[b]), T(cw[b])
	}, func(b, lo, hi int) {
		for i := lo; i < hi; i++ {
			sx[b] += float64(x[i])
			if hasW && w[i] != 0 {
				cw[b]++
			}
		}
	})
	return nil
}

// ganReduce mirrors gan_reduce(part, nb, nseg, total, scale, out):
// s_k = Σ_{b<nb} part[k·nb + b] for k < nseg, then out[k] = scale·s_k, or
// with total out[0] = scale·(s_0 + s_1 + ...), in float64, in order.
func ganReduce[T Float](a argv) error {
	part, nb, nseg, total, scale, out := fbuf[T](a, 0), a.int(1), a.int(2), a.int(3) != 0, a.real(4), fbuf[T](a, 5)
	tot := 0.0
	for k := range nseg {
		s := 0.0
		for _, v := range part[k*nb : (k+1)*nb] {
			s += float64(v)
		}
		tot += s
		if !total {
			out[k] = T(scale * s)
		}
	}
	if total {
		out[0] = T(scale * tot)
	}
	return nil
}

// ganTerms mirrors gan_terms(op, x, w, n, has_w, p, s, coef, gs, stats,
// mean_idx, mean_scale, den_idx, flags, grad, out, out_off, dsum,
// dsum_off): with m = stats[mean_idx]·mean_scale (0 for mean_idx < 0),
// den = stats[den_idx] (1 for den_idx < 0), w_i = w[i] if has_w else 1 and
// (t, d) = ganTerm(op, x[i], p, s, m), for i < n:
//
//	grad[i]            = g_i = gs·coef·w_i·d / den           if flags&GanGrad
//	out[out_off + i]   = coef·w_i·t                           unless flags&GanReduce
//	out[out_off + b]   = (Σ coef·w_i·t over block b)·gs / den if flags&GanReduce
//	dsum[dsum_off + b] = Σ g_i over block b                   if flags&GanDSum
//
// block b of a grid of B blocks holding the elements i with (i /
// BlockSize) mod B == b, its sums added in float64 in index order. grad
// may be x.
func ganTerms[T Float](a argv) error {
	op, x, w, n, hasW := int32(a.int(0)), fbuf[T](a, 1), fbuf[T](a, 2), a.int(3), a.int(4) != 0
	p, s, coef, gs, stats := a.real(5), a.real(6), a.real(7), a.real(8), fbuf[T](a, 9)
	meanIdx, meanScale, denIdx, flags := a.int(10), a.real(11), a.int(12), int32(a.int(13))
	grad, out, outOff, dsum, dsumOff := fbuf[T](a, 14), fbuf[T](a, 15), a.int(16), fbuf[T](a, 17), a.int(18)
	m, den := 0.0, 1.0
	if meanIdx >= 0 {
		m = float64(stats[meanIdx]) * meanScale
	}
	if denIdx >= 0 {
		den = float64(stats[denIdx])
	}
	blocks := a.grid.Blocks
	acc, dacc := make([]float64, blocks), make([]float64, blocks)
	reduce, wantGrad := flags&kernelspec.GanReduce != 0, flags&kernelspec.GanGrad != 0
	term := func(op int32, x T, p, s, m float64) (float64, float64) { return ganTerm(op, float64(x), p, s, m) }
	if _, f32 := any(x).([]float32); f32 && (op == kernelspec.GanOpSCE || op == kernelspec.GanOpRA) {
		term = func(op int32, x T, p, s, m float64) (float64, float64) { return ganTerm32(op, float32(x), p, s, m) }
	}
	ganBlocks(n, blocks, func(b int) {
		if reduce {
			out[outOff+b] = T(acc[b] * gs / den)
		}
		if flags&kernelspec.GanDSum != 0 {
			dsum[dsumOff+b] = T(dacc[b])
		}
	}, func(b, lo, hi int) {
		a, da := acc[b], dacc[b]
		for i := lo; i < hi; i++ {
			wi := 1.0
			if hasW {
				wi = float64(w[i])
			}
			t, d := term(op, x[i], p, s, m)
			lt, g := coef*wi*t, gs*coef*wi*d/den
			if wantGrad {
				grad[i] = T(g)
			}
			da += g
			if reduce {
				a += lt
			} else {
				out[outOff+i] = T(lt)
			}
		}
		acc[b], dacc[b] = a, da
	})
	return nil
}

// ganAdd mirrors gan_add(grad, n, stats, idx, scale): grad[i] +=
// scale·stats[idx] for i < n (the constant formed once, in float64).
func ganAdd[T Float](a argv) error {
	grad, n, stats, idx, scale := fbuf[T](a, 0), a.int(1), fbuf[T](a, 2), a.int(3), a.real(4)
	c := scale * float64(stats[idx])
	parallelFor(n, 1<<14, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			grad[i] = T(float64(grad[i]) + c)
		}
	})
	return nil
}

// ganPenalty mirrors gan_penalty(op, g, rows, d, target, eps, coef,
// one_sided, gs, flags, grad, out): for each row r of g [rows, d], with
// q = Σ_k g[r·d + k]² (in float64),
//
//	GanPenaltyGP: nrm = sqrt(q + eps), e = nrm − target (max(e, 0) if one_sided),
//	              l = coef·e², f = coef·2e / nrm
//	GanPenaltyR1: l = coef·q, f = 2·coef
//	grad[r·d + k] = gs·f·g[r·d + k]                     if flags&GanGrad
//	out[r]        = l                                   unless flags&GanReduce
//	out[b]        = Σ l over block b's rows, in order   if flags&GanReduce
//
// where block b of B blocks holds the rows r with r mod B == b. grad may
// be g.
func ganPenalty[T Float](a argv) error {
	op, g, rows, d := int32(a.int(0)), fbuf[T](a, 1), a.int(2), a.int(3)
	target, eps, coef, oneSided, gs, flags := a.real(4), a.real(5), a.real(6), a.int(7) != 0, a.real(8), int32(a.int(9))
	grad, out := fbuf[T](a, 10), fbuf[T](a, 11)
	blocks := a.grid.Blocks
	reduce := flags&kernelspec.GanReduce != 0
	parallelFor(blocks, 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			acc := 0.0
			for r := b; r < rows; r += blocks {
				row := g[r*d : (r+1)*d]
				q := 0.0
				for _, v := range row {
					q += float64(v) * float64(v)
				}
				var l, f float64
				if op == kernelspec.GanPenaltyGP {
					nrm := math.Sqrt(q + eps)
					e := nrm - target
					if oneSided && e < 0 {
						e = 0
					}
					l, f = coef*e*e, coef*2*e/nrm
				} else {
					l, f = coef*q, 2*coef
				}
				if flags&kernelspec.GanGrad != 0 {
					gr := grad[r*d : (r+1)*d]
					for k, v := range row {
						gr[k] = T(gs * f * float64(v))
					}
				}
				if reduce {
					acc += l
				} else {
					out[r] = T(l)
				}
			}
			if reduce {
				out[b] = T(acc)
			}
		}
	})
	return nil
}
