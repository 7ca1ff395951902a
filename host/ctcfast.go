package host

import "math"

// The float32 mirror's CTC recursions. They compute what alphaLog and
// betaLog compute (float64 rows, float32 stores), with the time steps
// written for speed: a step of the recursion is
//
//	LSE( prev[s], prev[s−1], prev[s−2] if skip[s] ) − m      (forward)
//	LSE( next[s], next[s+1], next[s+2] if skip[s] ) − m      (backward)
//
// over the states of a band, two or three exps and a log per cell if
// written directly. Here the states go in blocks of ctcBlock: each block
// takes a reference among the row values it reads, one exp per value
// (relative to the reference) and one log per cell. A block whose values
// spread over more than ctcSpread nats (which would underflow), or that
// holds NaN or +Inf, falls back to lse2f/lse3f per cell. The occupations
// take one exp per state, and none for a state more than 88 nats below
// the frame's largest (its term would be below the smallest normal
// float32). Exp and log are written out (fastlog.go has them with their
// error analysis): these loops are the mirror's hot spot.

const (
	ctcBlock  = 64
	ctcSpread = 690.0 // exp(±690) is a normal float64
	occCut    = -88.0 // exp(−88) < 2^−126
)

// alphaStep is a forward time step of the float32 mirror: for s in
// [0, hi],
//
//	v = xf[tab[s]] + ( LSE( pp[s+2], pp[s+1], pp[s] if skip[s] ) − m )
//	cur[s+2] = v, out[s] = float32(v)
//
// where xf[tab[s]] is lp(t, l'_s) (see ctcRowLP), pp is the previous row
// padded on the left (pp[s+2] = w(t−1, s), pp[0] = pp[1] = −Inf), m the
// previous row's offset m(t−1), and cur the new row, laid out alike. It
// returns the largest of the new values, NaN if one is NaN (a
// branch-free max: a data-dependent branch per cell costs more than the
// rest of the bookkeeping). e is scratch of at least len(pp).
func alphaStep(cur, pp, xf []float64, tab []int32, skip []float64, out []float32, hi int, m float64, e []float64) float64 {
	mx := negInf
	for b0 := 0; b0 <= hi; b0 += ctcBlock {
		b1 := min(b0+ctcBlock, hi+1)
		win := pp[b0 : b1+2]
		ew := e[:len(win)]
		sk, lps, cs, os := skip[b0:b1], tab[b0:b1], cur[b0+2:b1+2], out[b0:b1]
		ref, ok := windowExp(ew, win)
		if !ok {
			for i := range cs {
				s := b0 + i
				var r float64
				if sk[i] != 0 {
					r = lse3f(pp[s+2], pp[s+1], pp[s])
				} else {
					r = lse2f(pp[s+2], pp[s+1])
				}
				v := xf[lps[i]] + (r - m)
				cs[i], os[i] = v, float32(v)
				if v > mx {
					mx = v
				}
			}
			continue
		}
		nb := len(cs)
		e0, e1, e2 := ew[:nb], ew[1:nb+1], ew[2:nb+2] // prev[s−2], prev[s−1], prev[s]
		sk, lps, os = sk[:nb], lps[:nb], os[:nb]
		rm := ref - m
		for i := range cs {
			r := negInf // lp + (−Inf) is −Inf, or NaN for a NaN lp
			if sum := e2[i] + e1[i] + sk[i]*e0[i]; sum != 0 {
				r = rm + logSum(sum)
			}
			v := xf[lps[i]] + r
			cs[i], os[i] = v, float32(v)
			mx = max(mx, v) // branch-free (NaN sticks: the caller redoes it)
		}
	}
	return mx
}

// betaStep is a backward time step of the float32 mirror: for s in
// [lo, len(cur)−2) (the states),
//
//	r = LSE( pn[s], pn[s+1], pn[s+2] if skip[s] ) − m,  v = xf[tab[s]] + r
//	gam[s] = w(t, s) + r   (w(t, s) read from out[s], for s <= hiA)
//	cur[s] = v, out[s] = float32(v)
//
// where pn is the next row padded on the right (pn[s] = v(t+1, s),
// pn[S] = pn[S+1] = −Inf), m its offset mb(t+1), and cur the new row,
// laid out alike. It returns the largest of the new values and the
// largest of the gam values written (each NaN if one is NaN).
func betaStep(cur, pn, xf []float64, tab []int32, skip []float64, out []float32, gam []float64, lo, hiA int, m float64, e []float64) (mx, gmx float64) {
	mx, gmx = negInf, negInf
	S := len(cur) - 2
	for b0 := lo; b0 < S; b0 += ctcBlock {
		b1 := min(b0+ctcBlock, S)
		win := pn[b0 : b1+2]
		ew := e[:len(win)]
		sk, lps, cs, os := skip[b0:b1], tab[b0:b1], cur[b0:b1], out[b0:b1]
		ref, ok := windowExp(ew, win)
		nb := len(cs)
		e0, e1, e2 := ew[:nb], ew[1:nb+1], ew[2:nb+2] // next[s], next[s+1], next[s+2]
		sk, lps, os = sk[:nb], lps[:nb], os[:nb]
		ga := gam[b0:max(b0, min(b1, hiA+1))] // the states that can carry alignments
		rm := ref - m
		for i := range cs {
			var r float64
			if ok {
				r = negInf
				if sum := e0[i] + e1[i] + sk[i]*e2[i]; sum != 0 {
					r = rm + logSum(sum)
				}
			} else if s := b0 + i; sk[i] != 0 {
				r = lse3f(pn[s], pn[s+1], pn[s+2]) - m
			} else {
				r = lse2f(pn[s], pn[s+1]) - m
			}
			if i < len(ga) {
				g := float64(os[i]) + r
				ga[i] = g
				gmx = max(gmx, g) // NaN sticks: occupations handles it
			}
			v := xf[lps[i]] + r
			cs[i], os[i] = v, float32(v)
			mx = max(mx, v) // branch-free (NaN sticks: the caller redoes it)
		}
	}
	return mx, gmx
}

// lse2f is lse2 with expFast and logFast (NaN and −Inf as in lse2).
func lse2f(a, b float64) float64 {
	m, d := a, b
	if b > a {
		m, d = b, a
	}
	if m == negInf {
		return a + b
	}
	return m + logFast(1+expFast(d-m))
}

// lse3f is lse3 with expFast and logFast.
func lse3f(a, b, c float64) float64 {
	m := a
	if b > m {
		m = b
	}
	if c > m {
		m = c
	}
	if m == negInf {
		return a + b + c
	}
	return m + logFast(expFast(a-m)+expFast(b-m)+expFast(c-m))
}

// windowExp picks a reference m among the window's values and sets
// e[i] = exp(w[i] − m). It reports false (leaving the cells to lse2f/lse3f)
// when the window is all −Inf, holds NaN or +Inf, or has a finite value
// more than ctcSpread from m. The reference is one of the values, not
// their maximum: any |w[i] − m| <= ctcSpread is exact enough, and a serial
// maximum would cost as much as the exps.
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
	e = e[:len(w)]
	ok := true
	for i, v := range w {
		d := v - m
		if !(math.Abs(d) <= ctcSpread) { // NaN too
			e[i] = 0
			if d != negInf {
				ok = false
			}
			continue
		}
		e[i] = expSmall(d)
	}
	return m, ok
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

// i32Rows recycles the per-sequence state→class tables of the fast mirror.
var i32Rows jobPool[[]int32]

func getI32(n int) *[]int32 {
	p := i32Rows.get()
	if cap(*p) < n {
		*p = make([]int32, n)
	}
	*p = (*p)[:n]
	return p
}

// ctcStates fills cls[s] = l'_s and the skip flags of the forward
// (skipA[s]: s−2 → s allowed) and backward (skipB[s]: s+2 → s allowed)
// recursions.
func ctcStates(cls []int32, skipA, skipB []float64, lab []int32, blank int) {
	S := len(cls)
	for s := range S {
		cls[s], skipA[s], skipB[s] = int32(blank), 0, 0
		if s&1 == 1 {
			k := s >> 1
			cls[s] = lab[k]
			if k > 0 && lab[k] != lab[k-1] {
				skipA[s] = 1
			}
			if s+2 < S && lab[k+1] != lab[k] {
				skipB[s] = 1
			}
		}
	}
}

// ctcRowLP prepares the log-probabilities of the states s < n of row xr
// (lp = x − sh) for the steps, which read them as xf[tab[s]]: for a narrow
// row (C <= n) the whole row converted, with tab = cls; for a wide one the
// n values gathered, with tab = id (the identity). xf has room for
// max(C, n) values when C <= n, else n.
func ctcRowLP(xf []float64, cls, id []int32, xr []float32, sh float64, n int) []int32 {
	if len(xr) <= n {
		xf = xf[:len(xr)]
		for c, v := range xr {
			xf[c] = float64(v) - sh
		}
		return cls
	}
	cls = cls[:n]
	xf = xf[:n]
	for s, c := range cls {
		xf[s] = float64(xr[c]) - sh
	}
	return id
}

// alphaFast is alphaLog for the float32 mirror, a time step at a time
// through alphaStep.
func (j *ctcJob[T]) alphaFast(n, tn int, lab []int32) float64 {
	x32, alpha := any(j.x).([]float32), any(j.alpha).([]float32)
	S := 2*len(lab) + 1
	P := S + 2
	C := j.cc
	rows := getRows(5*P + max(C, P) + ctcEW)
	defer f64Rows.put(rows)
	ci := getI32(2 * S)
	defer i32Rows.put(ci)
	cls, id := (*ci)[:S:S], (*ci)[S:]
	r := *rows
	prev, cur := r[:P:P], r[P:2*P:2*P] // padded on the left: state s at s+2
	e, skip, skipB := r[2*P:3*P:3*P], r[3*P:4*P:4*P], r[4*P:5*P:5*P]
	lp, ev := r[5*P:len(r)-ctcEW], r[len(r)-ctcEW:]
	vec := ctcVec
	ctcStates(cls, skip, skipB, lab, j.blank)
	for s := range id {
		id[s] = int32(s)
	}
	prev[0], prev[1], cur[0], cur[1] = negInf, negInf, negInf, negInf
	base := n * j.tt * j.sMax
	o, sh := j.rowOff(0, n)
	out := alpha[base : base+S : base+S]
	for s := range S {
		cur[s+2] = negInf
	}
	tab := ctcRowLP(lp, cls, id, x32[o:o+C], sh, S)
	cur[2] = lp[tab[0]]
	if S > 1 {
		cur[3] = lp[tab[1]]
	}
	for s := range out {
		out[s] = float32(cur[s+2])
	}
	var off float64                   // Σ_{τ<t} m(τ)
	m := offset(maxNum(cur[2 : S+2])) // m(t−1)
	for t := 1; t < tn; t++ {
		prev, cur = cur, prev
		off += m
		ob := base + t*j.sMax
		out = alpha[ob : ob+S : ob+S]
		o, sh = j.rowOff(t, n)
		hi := min(S-1, 2*t+1) // w(t, s) = −Inf beyond: not reachable yet
		var mx float64
		if vec {
			mx = alphaStepVec(cur, prev, skip, x32[o:o+C], cls, sh, out, hi, m, ev)
		} else {
			tab := ctcRowLP(lp, cls, id, x32[o:o+C], sh, hi+1)
			mx = alphaStep(cur, prev, lp, tab, skip, out, hi, m, e)
		}
		if mx != mx {
			mx = maxNum(cur[2 : hi+3])
		}
		m = offset(mx)
		for s := hi + 1; s < S; s++ {
			cur[s+2] = negInf
			out[s] = float32(negInf)
		}
	}
	v := cur[S+1]
	if S >= 2 {
		v = lse2(v, cur[S])
	}
	return off + v
}

// betaFast is betaLog for the float32 mirror, a time step at a time
// through betaStep, which also collects the log-occupations g(t, s).
func (j *ctcJob[T]) betaFast(n, tn int, lab []int32, scale float64, gradOn bool) float64 {
	x32, alpha := any(j.x).([]float32), any(j.alpha).([]float32)
	S := 2*len(lab) + 1
	P := S + 2
	C := j.cc
	rows := getRows(6*P + max(C, P) + ctcEW)
	defer f64Rows.put(rows)
	ci := getI32(2 * S)
	defer i32Rows.put(ci)
	cls, id := (*ci)[:S:S], (*ci)[S:]
	r := *rows
	next, cur := r[:P:P], r[P:2*P:2*P] // padded on the right: state s at s
	e, skipA, skip, gam := r[2*P:3*P:3*P], r[3*P:4*P:4*P], r[4*P:5*P:5*P], r[5*P:6*P:6*P]
	lp, ev := r[6*P:len(r)-ctcEW], r[len(r)-ctcEW:]
	vec := ctcVec
	ctcStates(cls, skipA, skip, lab, j.blank)
	for s := range id {
		id[s] = int32(s)
	}
	next[S], next[S+1], cur[S], cur[S+1] = negInf, negInf, negInf, negInf
	base := n * j.tt * j.sMax
	var off, m float64 // Σ_{τ>t} mb(τ), mb(t+1)
	for t := tn - 1; t >= 0; t-- {
		next, cur = cur, next
		ob := base + t*j.sMax
		out := alpha[ob : ob+S : ob+S] // w(t, ·) on entry, v(t, ·) on exit
		o, sh := j.rowOff(t, n)
		xr := x32[o : o+C]
		hiA := min(S-1, 2*t+1)   // w(t, s) = −Inf for s > hiA
		lo := max(0, S-2*(tn-t)) // v(t, s) = −Inf for s < lo
		var g []T
		if gradOn { // first: it streams the x row, which the gather then finds in cache
			g = j.gradRow(t, n)
			j.gradBase(g, any(xr).([]T), sh, scale)
		}
		var mx, gmx float64
		if t == tn-1 {
			tab := cls
			if vec {
				gatherLP(lp, cls, xr, sh) // lp[s] = lp(t, l'_s): tab is not used
			} else {
				tab = ctcRowLP(lp, cls, id, xr, sh, S)
			}
			mx, gmx = negInf, negInf
			for s := lo; s < S; s++ {
				if s <= hiA {
					gv := float64(out[s]) // r = 0
					gam[s] = gv
					if gv > gmx {
						gmx = gv
					} else if gv != gv {
						gmx = gv
					}
				}
				v := lp[s]
				if !vec {
					v = lp[tab[s]]
				}
				cur[s] = v
				out[s] = float32(v)
				if v > mx {
					mx = v
				}
			}
		} else {
			off += m
			if vec {
				mx, gmx = betaStepVec(cur, next, skip, xr, cls, sh, out, gam, lo, hiA, m, ev)
			} else {
				tab := ctcRowLP(lp, cls, id, xr, sh, S)
				mx, gmx = betaStep(cur, next, lp, tab, skip, out, gam, lo, hiA, m, e)
			}
		}
		if mx != mx {
			mx = maxNum(cur[lo:S])
		}
		m = offset(mx)
		for s := 0; s < lo; s++ {
			cur[s] = negInf
			out[s] = float32(negInf)
		}
		if gradOn {
			j.occupationsFast(g, gam[lo:max(lo, hiA+1)], lo, lab, scale, gmx)
		}
	}
	v := cur[0] // v(0, 0)
	if S >= 2 {
		v = lse2(v, cur[1])
	}
	return off + v
}

// occupationsFast is occupations for the float32 mirror, given ref, the
// largest of la or NaN if la holds NaN (the NaN, +Inf and all −Inf cases
// go to occupations).
func (j *ctcJob[T]) occupationsFast(g []T, la []float64, lo int, lab []int32, scale, ref float64) {
	if !(ref > negInf && ref < math.Inf(1)) {
		j.occupations(g, la, lo, lab, scale)
		return
	}
	if ctcVec {
		sum, occB := ctcOccExpAVX(&la[0], len(la), ref, lo)
		scale /= sum // sum >= 1: the state at ref gives exp(0)
		for i := 1 - lo&1; i < len(la); i += 2 {
			c := lab[(lo+i)>>1]
			g[c] = T(float64(g[c]) - scale*la[i])
		}
		g[j.blank] = T(float64(g[j.blank]) - scale*occB)
		return
	}
	var sum float64
	for i, v := range la {
		e := 0.0
		if d := v - ref; d > occCut {
			e = expSmall(d)
		}
		la[i] = e
		sum += e
	}
	scale /= sum // sum >= 1: the state at ref gives exp(0)
	var occB float64
	for i, e := range la {
		s := lo + i
		if s&1 == 0 {
			occB += e
		} else {
			c := lab[s>>1]
			g[c] = T(float64(g[c]) - scale*e)
		}
	}
	g[j.blank] = T(float64(g[j.blank]) - scale*occB)
}
