package host

import (
	"math"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() {
	register("clip_norm_partial", clipNormPartial[float32], clipNormPartial[float64])
	register("clip_norm_total", clipNormTotal[float32], clipNormTotal[float64])
	register("clip_scale", clipScale[float32], clipScale[float64])
	register("clip_value", clipValue[float32], clipValue[float64])
}

// clipMinScale is the smallest scale of a partial state: the smallest
// normal number of T (the kernel's CLIP_MIN_SCALE for float32).
func clipMinScale[T Float]() float64 {
	var z T
	if _, ok := any(z).(float32); ok {
		return 0x1p-126
	}
	return 0x1p-1022
}

// clipPow2Floor is the largest power of two <= a, for a normal a > 0: a
// with its mantissa bits cleared, as the kernel's CLIP_EXP_BITS.
func clipPow2Floor(a float64) float64 {
	return math.Float64frombits(math.Float64bits(a) &^ (1<<52 - 1))
}

// clipPow is x^p for x >= 0, exact for p = 1 and p = 2.
func clipPow(x, p float64) float64 {
	switch p {
	case 2:
		return x * x
	case 1:
		return x
	}
	return math.Pow(x, p)
}

// clipParallelMin is the smallest buffer (in elements) whose norm, scale
// or clamp pass the host splits across cores.
const clipParallelMin = 1 << 20

// clipNormPartial mirrors clip_norm_partial(g, off, n, p, pinf, slot, ws):
// for the buffer g[off:off+n] and each block b of the grid (B blocks; block
// b handles the elements i < n with (i / BlockSize) mod B == b), the
// block's state
//
//	ws[3(slot+b)]   = s: with pinf, the largest finite |g[i]| (0 if none);
//	                  else the largest power of two <= that, at least the
//	                  smallest normal number of T (2⁻¹²⁶ for float32)
//	ws[3(slot+b)+1] = q = Σ (|g[i]| / s)^p over the finite g[i] (0 with pinf)
//	ws[3(slot+b)+2] = e = Σ |g[i]| over the non-finite g[i] (0, +Inf or NaN)
//
// so that the block's Σ|g|^p is s^p·q. The mirror adds |g|^p unscaled in
// float64 and divides by s^p, and adds the scaled terms instead where that
// sum would overflow or underflow (the kernel scales every term, in
// float32). It reads memory in order: one pass over each worker's blocks.
func clipNormPartial[T Float](a argv) error {
	off, n := a.int(1), a.int(2)
	g, p, pinf, slot, ws := fbuf[T](a, 0)[off:off+n], a.real(3), a.int(4) != 0, a.int(5), fbuf[T](a, 6)
	const bs = kernelspec.BlockSize
	blocks := a.grid.Blocks
	minScale := clipMinScale[T]()
	// A buffer below clipParallelMin elements is read by one goroutine:
	// handing a few hundred kilobytes to another core costs more than it
	// saves (the per-buffer launches of a model's many small gradients).
	grain := 16
	if n < clipParallelMin {
		grain = blocks
	}
	parallelFor(blocks, grain, func(lo, hi int) {
		// the per-block sums and maxima of this worker's blocks, each
		// added over its chunks in index order
		var acc, mx [kernelspec.MaxReduceBlocks]float64
		var runs [2 * kernelspec.MaxReduceBlocks]float64
		span := (hi - lo) * bs
		for start := lo * bs; start < n; start += blocks * bs {
			end := min(start+span, n)
			b := lo
			// float32 sums of squares: the full runs of this pass in one
			// vector call (the same sums as clipSumSq's, run by run)
			if g32, ok := any(g).([]float32); ok && p == 2 && !pinf {
				if full := (end - start) / bs; clipSumSqBlocks(g32[start:start+full*bs], runs[:]) {
					for k := range full {
						acc[b-lo+k] += runs[2*k]
						mx[b-lo+k] = max(mx[b-lo+k], math.Sqrt(runs[2*k+1]))
					}
					b += full
				}
			}
			for ; start+(b-lo)*bs < end; b++ {
				c0 := start + (b-lo)*bs
				x := g[c0:min(c0+bs, end)]
				var s, m float64
				switch {
				case pinf:
					m = clipMaxAbs(x)
				case p == 2:
					s, m = clipSumSq(x)
				case p == 1:
					s, m = clipSumAbs(x)
				default:
					s, m = clipSumPow(x, p)
				}
				acc[b-lo] += s
				mx[b-lo] = max(mx[b-lo], m)
			}
		}
		for b := lo; b < hi; b++ {
			s, m := acc[b-lo], mx[b-lo]
			o := 3 * (slot + b)
			if pinf {
				if !(m <= math.MaxFloat64) { // a non-finite element
					m, _, e := clipBlockExact[T](g, n, b, blocks, p, true, minScale)
					ws[o], ws[o+1], ws[o+2] = T(m), 0, T(e)
					continue
				}
				ws[o], ws[o+1], ws[o+2] = T(m), 0, 0
				continue
			}
			sc := max(minScale, clipPow2Floor(m))
			pm := clipPow(m, p)
			if s <= 1e300 && (m == 0 || pm >= 1e-280) && m <= math.MaxFloat64 {
				ws[o], ws[o+1], ws[o+2] = T(sc), T(s/clipPow(sc, p)), 0
				continue
			}
			// overflow, underflow, or a non-finite element: scale each term
			sc, q, e := clipBlockExact[T](g, n, b, blocks, p, false, minScale)
			ws[o], ws[o+1], ws[o+2] = T(sc), T(q), T(e)
		}
	})
	return nil
}

// clipBlockExact is block b's state (s, q, e) computed term by term: two
// passes, the first for the largest finite |g| and the second for the
// scaled terms.
func clipBlockExact[T Float](g []T, n, b, blocks int, p float64, pinf bool, minScale float64) (s, q, e float64) {
	const bs = kernelspec.BlockSize
	m := 0.0
	for start := b * bs; start < n; start += blocks * bs {
		for _, v := range g[start:min(start+bs, n)] {
			x := math.Abs(float64(v))
			if x <= math.MaxFloat64 {
				m = max(m, x)
			} else {
				e += x
			}
		}
	}
	if pinf {
		return m, 0, e
	}
	s = max(minScale, clipPow2Floor(m))
	for start := b * bs; start < n; start += blocks * bs {
		for _, v := range g[start:min(start+bs, n)] {
			x := math.Abs(float64(v))
			if x <= math.MaxFloat64 {
				q += clipPow(x/s, p)
			}
		}
	}
	return s, q, e
}

// clipSumSq is Σ x² and max |x| over x, in float64, with four
// accumulators (a NaN or Inf makes the sum non-finite; the maximum then
// does not matter). The maximum is taken over the squares, each against a
// running maximum (a branch rarely taken), and is the square root of the
// largest square: exact for float32 values, whose squares float64 holds
// exactly; for float64 values at most an ulp off, and never across a power
// of two.
func clipSumSq[T Float](x []T) (float64, float64) {
	var s0, s1, s2, s3, m0, m1, m2, m3 float64
	i := 0
	if x32, ok := any(x).([]float32); ok {
		s0, m0, i = clipSumSqVec(x32) // the same sums in 8 lanes, where AVX2 is
	}
	for ; i+4 <= len(x); i += 4 {
		y := x[i : i+4 : i+4]
		a0, a1, a2, a3 := float64(y[0]), float64(y[1]), float64(y[2]), float64(y[3])
		a0, a1, a2, a3 = a0*a0, a1*a1, a2*a2, a3*a3
		s0 += a0
		s1 += a1
		s2 += a2
		s3 += a3
		if a0 > m0 {
			m0 = a0
		}
		if a1 > m1 {
			m1 = a1
		}
		if a2 > m2 {
			m2 = a2
		}
		if a3 > m3 {
			m3 = a3
		}
	}
	for ; i < len(x); i++ {
		a := float64(x[i])
		a *= a
		s0 += a
		if a > m0 {
			m0 = a
		}
	}
	if m1 > m0 {
		m0 = m1
	}
	if m3 > m2 {
		m2 = m3
	}
	if m2 > m0 {
		m0 = m2
	}
	return (s0 + s1) + (s2 + s3), math.Sqrt(m0)
}

// clipSumAbs is Σ |x| and max |x| over x, in float64.
func clipSumAbs[T Float](x []T) (float64, float64) {
	var s0, s1, s2, s3, m0, m1, m2, m3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		y := x[i : i+4 : i+4]
		a0, a1, a2, a3 := math.Abs(float64(y[0])), math.Abs(float64(y[1])), math.Abs(float64(y[2])), math.Abs(float64(y[3]))
		s0 += a0
		s1 += a1
		s2 += a2
		s3 += a3
		if a0 > m0 {
			m0 = a0
		}
		if a1 > m1 {
			m1 = a1
		}
		if a2 > m2 {
			m2 = a2
		}
		if a3 > m3 {
			m3 = a3
		}
	}
	for ; i < len(x); i++ {
		a := math.Abs(float64(x[i]))
		s0 += a
		if a > m0 {
			m0 = a
		}
	}
	return (s0 + s1) + (s2 + s3), max(max(m0, m1), max(m2, m3))
}

// clipSumPow is Σ |x|^p and max |x| over x, in float64.
func clipSumPow[T Float](x []T, p float64) (float64, float64) {
	var s, m float64
	for _, v := range x {
		a := math.Abs(float64(v))
		s += math.Pow(a, p)
		if a > m {
			m = a
		}
	}
	return s, m
}

// clipMaxAbs is max |x| over x (NaN if any x is NaN, as Go's max).
func clipMaxAbs[T Float](x []T) float64 {
	var m float64
	for _, v := range x {
		m = max(m, math.Abs(float64(v)))
	}
	return m
}

// clipNormTotal mirrors clip_norm_total(ws, slots, p, pinf, max_norm,
// mode, st): the states ws[3k..3k+3) of the slots k < slots merged (the
// sum of each s_k^p·q_k, the largest s_k with pinf, the sum of the e_k),
// in float64, in slot order, and
//
//	st[0] = total = e if e != 0 (+Inf, or NaN), else (Σ s_k^p·q_k)^(1/p)
//	        (max s_k with pinf)
//	st[1] = coef  = min(max_norm / (total + 1e-6), 1) (NaN for a NaN total),
//	        or with mode&ClipOptax max_norm / max(total, max_norm) (NaN
//	        for a NaN total), computed in T from the total rounded to T, as
//	        PyTorch computes it in the gradients' dtype
//	st[2] = skip  = 2 if mode&ClipErrorNonfinite and the total is not
//	        finite, else 1 if coef == 1, else 0.
func clipNormTotal[T Float](a argv) error {
	ws, slots, p, pinf, maxNorm, mode, st := fbuf[T](a, 0), a.int(1), a.real(2), a.int(3) != 0, a.real(4), int32(a.int(5)), fbuf[T](a, 6)
	var smax, e float64
	for k := range slots {
		smax = max(smax, float64(ws[3*k]))
		e += float64(ws[3*k+2])
	}
	var total float64
	switch {
	case e != 0:
		total = e
	case pinf:
		total = smax
	default:
		var q float64
		if smax > 0 {
			for k := range slots {
				q += float64(ws[3*k+1]) * clipPow(float64(ws[3*k])/smax, p)
			}
		}
		switch p {
		case 2:
			total = smax * math.Sqrt(q)
		case 1:
			total = smax * q
		default:
			total = smax * math.Pow(q, 1/p)
		}
	}
	tt, mn := T(total), T(maxNorm)
	var c T
	if mode&kernelspec.ClipOptax != 0 {
		d := tt
		if tt < mn {
			d = mn
		}
		c = mn / d
	} else {
		c = mn / (tt + T(1e-6))
		if c > 1 {
			c = 1
		}
	}
	finite := float64(tt) <= math.MaxFloat64
	skip := T(0)
	switch {
	case mode&kernelspec.ClipErrorNonfinite != 0 && !finite:
		skip = 2
	case c == 1:
		skip = 1
	}
	st[0], st[1], st[2] = tt, c, skip
	return nil
}

// clipScale mirrors clip_scale(x, off, n, st, inplace, y): y[off+i] =
// x[off+i]·st[1] in T for i < n, unless st[2] == 2, or st[2] == 1 and
// inplace (then nothing is written).
func clipScale[T Float](a argv) error {
	off, n, st, inplace := a.int(1), a.int(2), fbuf[T](a, 3), a.int(4) != 0
	x, y := fbuf[T](a, 0)[off:off+n], fbuf[T](a, 5)[off:off+n]
	if st[2] == 2 || (st[2] == 1 && inplace) {
		return nil
	}
	c := st[1]
	parallelFor(n, clipParallelMin/2, func(lo, hi int) {
		xs, ys := x[lo:hi], y[lo:hi]
		ys = ys[:len(xs)]
		i := 0
		for ; i+8 <= len(xs); i += 8 {
			u, w := xs[i:i+8:i+8], ys[i:i+8:i+8]
			w[0] = u[0] * c
			w[1] = u[1] * c
			w[2] = u[2] * c
			w[3] = u[3] * c
			w[4] = u[4] * c
			w[5] = u[5] * c
			w[6] = u[6] * c
			w[7] = u[7] * c
		}
		for ; i < len(xs); i++ {
			ys[i] = xs[i] * c
		}
	})
	return nil
}

// clipValue mirrors clip_value(g, n, v): g[i] = min(max(g[i], −v), v) in
// T for i < n, a NaN left NaN (torch.clamp).
func clipValue[T Float](a argv) error {
	g, n, v := fbuf[T](a, 0), a.int(1), T(a.real(2))
	parallelFor(n, clipParallelMin/2, func(lo, hi int) {
		// Go's min and max keep a NaN, as torch.clamp does, without a
		// branch per element
		x := g[lo:hi]
		for i := range x {
			x[i] = min(max(x[i], -v), v)
		}
	})
	return nil
}
