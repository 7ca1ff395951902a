package host

import "math"

// The float32 CTC mirror's time steps. A step of the recursion is
//
//	LSE( prev[s], prev[s−1], prev[s−2] if skip[s] )     (forward)
//	LSE( next[s], next[s+1], next[s+2] if skip[s] )     (backward)
//
// over the states of a band: two or three exps and a log per cell. Here
// the states go in blocks of ctcBlock: each block takes a reference M
// among the row values it reads, one exp per value (relative to M) and one
// log per cell. A block whose values spread over more than ctcSpread nats
// (which would underflow), or that holds NaN, falls back to lse2/lse3 per
// cell. Exp and log are written out (fastlog.go has them with their error
// analysis): these loops are the mirror's hot spot.

const (
	ctcBlock  = 64
	ctcSpread = 690.0 // exp(±690) is a normal float64
)

// alphaStep is a forward time step of the float32 mirror: for s in
// [0, hi],
//
//	v = xf[cls[s]] + LSE( pp[s+2], pp[s+1], pp[s] if skip[s] )
//	cur[s+2] = v, out[s] = float32(v)
//
// where xf[cls[s]] is lp(t, l'_s) (see ctcRowLP), pp is the previous row
// padded on the left (pp[s+2] = a(t−1, s), pp[0] = pp[1] = −Inf) and cur
// the new one, laid out alike. e is scratch of at least len(pp).
func alphaStep(cur, pp, xf []float64, cls []int32, skip []float64, out []float32, hi int, e []float64) {
	for b0 := 0; b0 <= hi; b0 += ctcBlock {
		b1 := min(b0+ctcBlock, hi+1)
		win := pp[b0 : b1+2]
		ew := e[:len(win)]
		sk, lps, cs, os := skip[b0:b1], cls[b0:b1], cur[b0+2:b1+2], out[b0:b1]
		m, ok := windowExp(ew, win)
		if !ok {
			for i := range cs {
				s := b0 + i
				var r float64
				if sk[i] != 0 {
					r = lse3(pp[s+2], pp[s+1], pp[s], true)
				} else {
					r = lse2(pp[s+2], pp[s+1], true)
				}
				v := xf[lps[i]] + r
				cs[i], os[i] = v, float32(v)
			}
			continue
		}
		nb := len(cs)
		e0, e1, e2 := ew[:nb], ew[1:nb+1], ew[2:nb+2] // prev[s−2], prev[s−1], prev[s]
		sk, lps, os = sk[:nb], lps[:nb], os[:nb]
		for i := range cs {
			v := negInf
			if sum := e2[i] + e1[i] + sk[i]*e0[i]; sum != 0 {
				v = xf[lps[i]] + (m + logSum(sum))
			}
			cs[i], os[i] = v, float32(v)
		}
	}
}

// betaStep is a backward time step of the float32 mirror: for s in
// [lo, len(cur)−2) (the states),
//
//	rest = LSE( pn[s], pn[s+1], pn[s+2] if skip[s] ),  b = xf[cls[s]] + rest
//	gam[s] = a(t, s) + rest   (a(t, s) read from out[s], for s <= hiA)
//	cur[s] = b, out[s] = float32(b)
//
// where pn is the next row padded on the right (pn[s] = b(t+1, s),
// pn[S] = pn[S+1] = −Inf) and cur the new one, laid out alike.
func betaStep(cur, pn, xf []float64, cls []int32, skip []float64, out []float32, gam []float64, lo, hiA int, e []float64) {
	S := len(cur) - 2
	for b0 := lo; b0 < S; b0 += ctcBlock {
		b1 := min(b0+ctcBlock, S)
		win := pn[b0 : b1+2]
		ew := e[:len(win)]
		sk, lps, cs, os := skip[b0:b1], cls[b0:b1], cur[b0:b1], out[b0:b1]
		m, ok := windowExp(ew, win)
		nb := len(cs)
		e0, e1, e2 := ew[:nb], ew[1:nb+1], ew[2:nb+2] // next[s], next[s+1], next[s+2]
		sk, lps, os = sk[:nb], lps[:nb], os[:nb]
		ga := gam[b0:max(b0, min(b1, hiA+1))] // the states that can carry alignments
		for i := range cs {
			var r float64
			if ok {
				r = negInf
				if sum := e0[i] + e1[i] + sk[i]*e2[i]; sum != 0 {
					r = m + logSum(sum)
				}
			} else if s := b0 + i; sk[i] != 0 {
				r = lse3(pn[s], pn[s+1], pn[s+2], true)
			} else {
				r = lse2(pn[s], pn[s+1], true)
			}
			if i < len(ga) {
				ga[i] = float64(os[i]) + r
			}
			v := xf[lps[i]] + r
			cs[i], os[i] = v, float32(v)
		}
	}
}

// windowExp picks a reference m among the window's values and sets
// e[i] = exp(w[i] − m). It reports false (leaving the block to lse2/lse3
// per cell) when the window is all −Inf, holds NaN or +Inf, or has a
// finite value more than ctcSpread from m. The reference is one of the
// values, not their maximum: any |w[i] − m| <= ctcSpread is exact enough,
// and a serial maximum would cost as much as the exps.
func windowExp(e, w []float64) (float64, bool) {
	m := w[len(w)/2]
	if m == negInf {
		for _, v := range w {
			m = max(m, v)
		}
		if m == negInf {
			return m, false
		}
	}
	if m != m || math.IsInf(m, 1) {
		return m, false
	}
	return m, expWindow(e, w, m)
}

// logSum returns log(sum) for sum in (e^−690, 3·e^690) (callers map
// sum = 0, all three predecessors −Inf, to −Inf): logFast with the series
// to f^4 (truncation below 6e-12 for f < 1/128). Small enough to inline.
func logSum(sum float64) float64 {
	const ln2 = 0.6931471805599453
	bits := math.Float64bits(sum)
	j := (bits >> 45) & 127
	mm := math.Float64frombits(bits&(1<<52-1) | 1023<<52)
	f := mm*invTab[j] - 1
	p := f * (1 - f*(0.5-f*(1.0/3-f*0.25)))
	return float64(int64(bits>>52)-1023)*ln2 + logTab[j] + p
}

// expWindow sets e[i] = exp(w[i] − m) and reports false if some finite
// w[i] lies more than ctcSpread from m. −Inf gives 0.
func expWindow(e, w []float64, m float64) bool {
	e = e[:len(w)]
	ok := true
	for i, v := range w {
		d := v - m
		if math.Abs(d) > ctcSpread {
			e[i] = 0
			if d > negInf {
				ok = false
			}
			continue
		}
		e[i] = expSmall(d)
	}
	return ok
}

// expSmall is exp(d) for |d| <= 709 (no range checks): the reduction of
// expFast with a degree-3 Taylor polynomial (truncation below 4e-11
// relative, far below the float32 resolution of what the mirror stores,
// and below 4e-7 in log space after 10 000 time steps).
func expSmall(d float64) float64 {
	const (
		k64   = 92.33248261689366
		c1    = 0.010830424696223417
		c2    = 2.572804622327669e-14
		magic = 6755399441055744.0
	)
	k := (d*k64 + magic) - magic
	r := (d - k*c1) - k*c2
	p := 1 + r*(1+r*(0.5+r*(1.0/6)))
	n := int64(k)
	return p * exp2Tab64[n&63] * math.Float64frombits(uint64((n>>6)+1023)<<52)
}
