package host

import (
	"math"

	"github.com/lossengine/lossengine/kernels"
)

// The float32 mirror's CTC recursions: what alphaLog and betaLog compute
// (float64 rows, float32 stores), with the time steps written for speed.
//
// Each row is kept twice in float64: as its log-values w (what is
// stored) and as scaled probabilities p(t, s) = exp(w(t, s) − m(t)) in
// [0, 1]. A forward step is then
//
//	sum(t, s) = (p'(t−1, s) + p'(t−1, s−1) + skip(s)·p'(t−1, s−2))·exp(−m(t−1))
//	w(t, s)   = lp(t, l'_s) + log sum(t, s)          (LSE(w(t−1, ·)) − m(t−1), as written)
//	p'(t, s)  = exp(lp(t, l'_s))·sum(t, s)           (= exp(w(t, s)); p = p'·exp(−m(t)))
//
// (the backward step alike): one log per cell, and exp(lp) once per class
// and frame (per state and frame when C > S). Where sum is too small to
// be trusted (below linTrust: terms lost to underflow could matter) the
// cell is computed in the log domain from its predecessors' w instead,
// and where exp(lp)·sum would lose precision p' comes from exp(w): every
// stored value is the formula's, to float64 rounding, far tails included.
// A frame with a NaN log-probability, or one above 700, is computed in the
// log domain throughout (the !ok cases of alphaFast and betaFast). The occupations take one exp per state,
// and none for a state more than 88 nats below the frame's largest (its
// term would be below the smallest normal float32). Exp and log are
// written out (fastlog.go has them with their error analysis): these
// loops are the mirror's hot spot.

const (
	// linTrust: a sum of scaled probabilities at least this large loses
	// at most 3·2^−1074 to terms that underflowed, 2^−72 of it.
	linTrust = 0x1p-1000
	// lpMax: exp(lp) of a larger log-probability could overflow a sum.
	lpMax  = 700.0
	occCut = -88.0 // exp(−88) < 2^−126
	// The tails go in runs of ctcBlock cells (see alphaTails); a run
	// whose predecessors spread over more than ctcSpread nats (which would
	// underflow) goes to lse2f/lse3f cell by cell.
	ctcBlock  = 64
	ctcSpread = 690.0 // exp(±690) is a normal float64
)

// expCell is exp(d) for the fallbacks: 0 below −708 (and for −Inf), NaN
// for NaN and +Inf (so that a NaN or +Inf cell spreads as NaN through the
// sums, which then fall back to the log domain).
func expCell(d float64) float64 {
	switch {
	case d > -708 && d <= 709:
		return expSmall(d)
	case d > 709 || d != d:
		return math.NaN()
	}
	return 0
}

// fastRows is the per-sequence scratch of the fast path.
type fastRows struct {
	p0, p1, l0, l1 []float64 // p' and w of two rows, padded by two cells
	lp, y          []float64 // lp and exp(lp) of a frame: per class (C <= S) or per state
	skipA, skipB   []float64 // 1 where the skip transition is allowed
	gam, occ       []float64 // backward: g(t, s); per-class occupations (C <= S)
	e              []float64 // the tails' exps (ctcBlock + 2)
	cls, tab       []int32   // l'_s; index into lp and y: cls (per class) or s (per state)
	perClass       bool
}

func (j *ctcJob[T]) fastRows(S int, rows **[]float64, ci **[]int32) fastRows {
	P := S + 2
	var f fastRows
	f.perClass = j.cc <= S
	nc := S
	if f.perClass {
		nc = j.cc
	}
	*rows = getRows(4*P + 3*S + 3*nc + ctcBlock + 2)
	*ci = getI32(2 * S)
	r := **rows
	take := func(n int) []float64 {
		v := r[:n:n]
		r = r[n:]
		return v
	}
	f.p0, f.p1, f.l0, f.l1 = take(P), take(P), take(P), take(P)
	f.skipA, f.skipB, f.gam = take(S), take(S), take(S)
	f.lp, f.y, f.occ, f.e = take(nc), take(nc), take(nc), take(ctcBlock+2)
	ci2 := **ci
	f.cls, f.tab = ci2[:S:S], ci2[S:2*S:2*S]
	if !f.perClass {
		for s := range f.tab {
			f.tab[s] = int32(s)
		}
	}
	return f
}

// emit fills lp and y = exp(lp) for frame row xr (lp = x − sh): every
// class when C <= S (tab = cls), else the states [lo, hi] at their own
// index (tab = identity). It reports false if some lp is NaN or above
// lpMax.
func (f *fastRows) emit(xr []float32, sh float64, lo, hi int) bool {
	ok := true
	if f.perClass {
		lp, y := f.lp[:len(xr)], f.y[:len(xr)]
		for c, v := range xr {
			l := float64(v) - sh
			if !(l <= lpMax) {
				ok = false
			}
			lp[c] = l
			y[c] = expNonPos(l)
		}
		return ok
	}
	cls, lp, y := f.cls[lo:hi+1], f.lp[lo:hi+1], f.y[lo:hi+1]
	for i, c := range cls {
		l := float64(xr[c]) - sh
		if !(l <= lpMax) {
			ok = false
		}
		lp[i] = l
		y[i] = expNonPos(l)
	}
	return ok
}

// expNonPos is exp(d) for d <= 709: 0 below −708 (and for −Inf; NaN gives
// an unspecified value: callers check for NaN), expSmall otherwise.
func expNonPos(d float64) float64 {
	if d > -708 {
		return expSmall(d)
	}
	return 0
}

// rescale returns exp(−m), the factor that turns a row's p' into p for
// the next step, or, where that factor would overflow (the row holds
// nothing within 600 nats of 0, so p' has underflowed), recomputes
// p = exp(w − m) from the logs and returns 1.
func rescale(p, w []float64, m float64) float64 {
	if m >= -600 {
		return math.Exp(-m)
	}
	w = w[:len(p)]
	for i, v := range w {
		p[i] = expCell(v - m)
	}
	return 1
}

// alphaFast is alphaLog for the float32 mirror (the same values; see the
// top of the file for how it gets them).
func (j *ctcJob[T]) alphaFast(n, tn int, lab []int32) float64 {
	x32, alpha := any(j.x).([]float32), any(j.alpha).([]float32)
	S := 2*len(lab) + 1
	var rows *[]float64
	var ci *[]int32
	f := j.fastRows(S, &rows, &ci)
	defer f64Rows.put(rows)
	defer i32Rows.put(ci)
	ctcStates(f.cls, f.skipA, f.skipB, lab, j.blank)
	if f.perClass {
		copy(f.tab, f.cls)
	}
	// Rows padded on the left: state s at index s+2.
	pp, pc, lwp, lwc := f.p0, f.p1, f.l0, f.l1
	pp[0], pp[1], pc[0], pc[1] = 0, 0, 0, 0
	lwp[0], lwp[1], lwc[0], lwc[1] = negInf, negInf, negInf, negInf
	base := n * j.tt * j.sMax
	var off, m float64 // Σ_{τ<t} m(τ), m(t−1)
	inv := 1.0         // exp(−m(t−1)), or 1 after a rescale from the logs
	for t := range tn {
		o, sh := j.rowOff(t, n)
		hi := min(S-1, 2*t+1) // w(t, s) = −Inf beyond: not reachable yet
		ok := f.emit(x32[o:o+j.cc], sh, 0, hi)
		ob := base + t*j.sMax
		out := alpha[ob : ob+S : ob+S]
		if t > 0 {
			pp, pc, lwp, lwc = pc, pp, lwc, lwp
			off += m
		}
		cur, lw, tab := pc[2:hi+3], lwc[2:hi+3], f.tab[:hi+1]
		lp, y := f.lp, f.y
		mx := negInf
		switch {
		case t == 0:
			for s := range cur {
				w := lp[tab[s]]
				lw[s], out[s] = w, float32(w)
				cur[s] = expCell(w)
				if w > mx {
					mx = w
				}
			}
		case !ok: // NaN or huge log-probabilities: the log domain
			sk := f.skipA[:hi+1]
			for s := range cur {
				var r float64
				if sk[s] != 0 {
					r = lse3f(lwp[s+2], lwp[s+1], lwp[s])
				} else {
					r = lse2f(lwp[s+2], lwp[s+1])
				}
				w := lp[tab[s]] + (r - m)
				lw[s], out[s] = w, float32(w)
				cur[s] = expCell(w)
				if w > mx {
					mx = w
				}
			}
		default:
			mx = alphaStep(cur, lw, out[:hi+1], pp[:hi+3], lwp[:hi+3], f.skipA[:hi+1], tab, lp, y, inv, m, f.e)
		}
		for s := hi + 1; s < S; s++ {
			pc[s+2], lwc[s+2], out[s] = 0, negInf, float32(negInf)
		}
		m = offset(mx)
		inv = rescale(cur, lw, m)
	}
	v := lwc[S+1]
	if S >= 2 {
		v = lse2(v, lwc[S])
	}
	return off + v
}

// betaFast is betaLog for the float32 mirror (the same values; see the
// top of the file for how it gets them).
func (j *ctcJob[T]) betaFast(n, tn int, lab []int32, scale float64, gradOn bool) float64 {
	x32, alpha := any(j.x).([]float32), any(j.alpha).([]float32)
	S := 2*len(lab) + 1
	var rows *[]float64
	var ci *[]int32
	f := j.fastRows(S, &rows, &ci)
	defer f64Rows.put(rows)
	defer i32Rows.put(ci)
	ctcStates(f.cls, f.skipA, f.skipB, lab, j.blank)
	if f.perClass {
		copy(f.tab, f.cls)
	}
	// Rows padded on the right: state s at index s.
	pn, pc, lwn, lwc := f.p0, f.p1, f.l0, f.l1
	pn[S], pn[S+1], pc[S], pc[S+1] = 0, 0, 0, 0
	lwn[S], lwn[S+1], lwc[S], lwc[S+1] = negInf, negInf, negInf, negInf
	base := n * j.tt * j.sMax
	soft := j.gradMode == kernels.CTCGradSoftmax
	var off, m float64 // Σ_{τ>t} mb(τ), mb(t+1)
	inv := 1.0         // exp(−mb(t+1)), or 1 after a rescale from the logs
	for t := tn - 1; t >= 0; t-- {
		o, sh := j.rowOff(t, n)
		xr := x32[o : o+j.cc]
		hiA := min(S-1, 2*t+1)   // w(t, s) = −Inf for s > hiA
		lo := max(0, S-2*(tn-t)) // v(t, s) = −Inf for s < lo
		ok := f.emit(xr, sh, lo, S-1)
		ob := base + t*j.sMax
		out := alpha[ob : ob+S : ob+S] // w(t, ·) on entry, v(t, ·) on exit
		if t < tn-1 {
			pn, pc, lwn, lwc = pc, pn, lwc, lwn
			off += m
		}
		cur, lw, w, tab := pc[lo:S], lwc[lo:S], out[lo:S], f.tab[lo:S]
		lp, y := f.lp, f.y
		ng := max(0, hiA+1-lo) // g(t, s) for lo <= s <= hiA
		gam := f.gam[:ng]
		mx, gmx := negInf, negInf
		switch {
		case t == tn-1:
			for i := range cur {
				v := lp[tab[i]] // r = 0
				if i < ng {
					g := float64(w[i])
					gam[i] = g
					if g > gmx {
						gmx = g
					} else if g != g {
						gmx = g // NaN sticks: occupations handles it
					}
				}
				lw[i], w[i] = v, float32(v)
				cur[i] = expCell(v)
				if v > mx {
					mx = v
				}
			}
		case !ok: // NaN or huge log-probabilities: the log domain
			sk := f.skipB[lo:S]
			for i := range cur {
				s := lo + i
				var r float64
				if sk[i] != 0 {
					r = lse3f(lwn[s], lwn[s+1], lwn[s+2]) - m
				} else {
					r = lse2f(lwn[s], lwn[s+1]) - m
				}
				if i < ng {
					g := float64(w[i]) + r
					gam[i] = g
					if g > gmx {
						gmx = g
					} else if g != g {
						gmx = g
					}
				}
				v := lp[tab[i]] + r
				lw[i], w[i] = v, float32(v)
				cur[i] = expCell(v)
				if v > mx {
					mx = v
				}
			}
		default:
			mx, gmx = betaStep(cur, lw, w, pn[lo:S+2], lwn[lo:S+2], f.skipB[lo:S], tab, lp, y, gam, inv, m, f.e)
		}
		for s := range lo {
			pc[s], lwc[s], out[s] = 0, negInf, float32(negInf)
		}
		m = offset(mx)
		inv = rescale(cur, lw, m)
		if gradOn {
			g := j.gradRow(t, n)
			if ok && f.perClass && gmx > negInf && gmx < math.Inf(1) {
				j.gradClasses(&f, g, gam, lo, gmx, scale, soft)
			} else {
				j.gradBase(g, any(xr).([]T), sh, scale)
				j.occupationsFast(g, gam, lo, lab, scale, gmx)
			}
		}
	}
	v := lwc[0]
	if S >= 2 {
		v = lse2(v, lwc[1])
	}
	return off + v
}

// alphaStep is a forward time step (the default case of alphaFast): for
// each state s < len(cur), with pp and lwp the previous row's p' and w
// padded on the left (index s+2 for state s),
//
//	sum = (pp[s+2] + pp[s+1] + skip[s]·pp[s])·inv
//	w = lp[tab[s]] + log sum            (or, for sum < linTrust, from lwp in the log domain)
//	lw[s] = w, out[s] = float32(w), cur[s] = y[tab[s]]·sum (or exp(w))
//
// and it returns the largest w. Separate from alphaFast so that its loop
// keeps more of its variables in registers.
func alphaStep(cur, lw []float64, out []float32, pp, lwp, skip []float64, tab []int32, lp, y []float64, inv, m float64, e []float64) float64 {
	mx := negInf
	n := len(cur)
	p0, p1, p2 := pp[2:n+2], pp[1:n+1], pp[:n]
	lw, out, skip, tab = lw[:n], out[:n], skip[:n], tab[:n]
	tails := false
	for s := range cur {
		sum := (p0[s] + p1[s] + skip[s]*p2[s]) * inv
		if !(sum >= linTrust) {
			tails = true // left to alphaTails
			cur[s] = -1  // marks the cell (p' is never negative)
			continue
		}
		c := tab[s]
		w := lp[c] + logSum(sum)
		lw[s], out[s] = w, float32(w)
		a := y[c] * sum
		if !(a >= linTrust) {
			a = expCell(w)
		}
		cur[s] = a
		if w > mx {
			mx = w
		}
	}
	if tails {
		mx = max(mx, alphaTails(cur, lw, out, lwp, skip, tab, lp, m, e))
	}
	return mx
}

// alphaTails does the cells alphaStep left, marked −1 in cur (sum <
// linTrust: far below the row's maximum, where terms may have underflowed),
// in the log domain, from
// the previous row's logs: the cells go in runs of at most ctcBlock, each
// run's predecessors exponentiated once relative to a reference among
// them (windowExp), with lse2f/lse3f per cell where that cannot be exact.
// It returns the largest w among them (NaN skipped).
//
//go:noinline
func alphaTails(cur, lw []float64, out []float32, lwp, skip []float64, tab []int32, lp []float64, m float64, e []float64) float64 {
	mx := negInf
	n := len(cur)
	for s0 := 0; s0 < n; {
		if cur[s0] != -1 {
			s0++
			continue
		}
		s1 := s0 + 1
		for s1 < n && s1-s0 < ctcBlock && cur[s1] == -1 {
			s1++
		}
		win := lwp[s0 : s1+2] // the predecessors of s0 .. s1−1
		ew := e[:len(win)]
		ref, ok := windowExp(ew, win)
		for s := s0; s < s1; s++ {
			var r float64
			switch i := s - s0; {
			case ok:
				r = negInf
				if sum := ew[i+2] + ew[i+1] + skip[s]*ew[i]; sum != 0 {
					r = ref + logSum(sum)
				}
			case skip[s] != 0:
				r = lse3f(lwp[s+2], lwp[s+1], lwp[s])
			default:
				r = lse2f(lwp[s+2], lwp[s+1])
			}
			w := lp[tab[s]] + (r - m)
			lw[s], out[s], cur[s] = w, float32(w), expCell(w)
			if w > mx {
				mx = w
			}
		}
		s0 = s1
	}
	return mx
}

// betaStep is a backward time step (the default case of betaFast): for
// each state i < len(cur) (state lo+i of the row), with pn and lwn the
// next row's p' and w from state lo on (padded on the right),
//
//	sum = (pn[i] + pn[i+1] + skip[i]·pn[i+2])·inv
//	r = log sum                          (or, for sum < linTrust, from lwn in the log domain)
//	gam[i] = w[i] + r                    (for i < len(gam), before w[i] is overwritten)
//	v = lp[tab[i]] + r,  lw[i] = v, w[i] = float32(v), cur[i] = y[tab[i]]·sum (or exp(v))
//
// and it returns the largest v and the largest gam (NaN if one is NaN).
func betaStep(cur, lw []float64, w []float32, pn, lwn, skip []float64, tab []int32, lp, y, gam []float64, inv, m float64, e []float64) (mx, gmx float64) {
	mx, gmx = negInf, negInf
	n := len(cur)
	n0, n1, n2 := pn[:n], pn[1:n+1], pn[2:n+2]
	lw, w, skip, tab = lw[:n], w[:n], skip[:n], tab[:n]
	tails := false
	for i := range cur {
		sum := (n0[i] + n1[i] + skip[i]*n2[i]) * inv
		if !(sum >= linTrust) {
			tails = true // left to betaTails
			cur[i] = -1  // marks the cell (p' is never negative)
			continue
		}
		r := logSum(sum)
		if i < len(gam) { // w(t, s) is read before v overwrites it
			g := float64(w[i]) + r
			gam[i] = g
			if g > gmx {
				gmx = g
			} else if g != g {
				gmx = g // NaN sticks: occupations handles it
			}
		}
		c := tab[i]
		v := lp[c] + r
		lw[i], w[i] = v, float32(v)
		a := y[c] * sum
		if !(a >= linTrust) {
			a = expCell(v)
		}
		cur[i] = a
		if v > mx {
			mx = v
		}
	}
	if tails {
		tm, tg := betaTails(cur, lw, w, lwn, skip, tab, lp, gam, m, e)
		mx = max(mx, tm)
		if tg > gmx || tg != tg {
			gmx = tg
		}
	}
	return mx, gmx
}

// betaTails does the cells betaStep left, as alphaTails does alphaStep's,
// and returns the largest v and gam among them (gam NaN if one is NaN).
//
//go:noinline
func betaTails(cur, lw []float64, w []float32, lwn, skip []float64, tab []int32, lp, gam []float64, m float64, e []float64) (mx, gmx float64) {
	mx, gmx = negInf, negInf
	n := len(cur)
	for i0 := 0; i0 < n; {
		if cur[i0] != -1 {
			i0++
			continue
		}
		i1 := i0 + 1
		for i1 < n && i1-i0 < ctcBlock && cur[i1] == -1 {
			i1++
		}
		win := lwn[i0 : i1+2] // the successors of i0 .. i1−1
		ew := e[:len(win)]
		ref, ok := windowExp(ew, win)
		for i := i0; i < i1; i++ {
			var r float64
			switch k := i - i0; {
			case ok:
				r = negInf
				if sum := ew[k] + ew[k+1] + skip[i]*ew[k+2]; sum != 0 {
					r = ref + logSum(sum)
				}
				r -= m
			case skip[i] != 0:
				r = lse3f(lwn[i], lwn[i+1], lwn[i+2]) - m
			default:
				r = lse2f(lwn[i], lwn[i+1]) - m
			}
			if i < len(gam) {
				g := float64(w[i]) + r
				gam[i] = g
				if g > gmx {
					gmx = g
				} else if g != g {
					gmx = g
				}
			}
			v := lp[tab[i]] + r
			lw[i], w[i], cur[i] = v, float32(v), expCell(v)
			if v > mx {
				mx = v
			}
		}
		i0 = i1
	}
	return mx, gmx
}

// gradClasses writes gradient row g of frame t when C <= S (emit has
// made lp and y = exp(lp) of every class, none NaN): the occupations of
// the states lo, lo+1, ... go to per-class sums, and the row is written in
// one pass, scale·(y − occ) or scale·(−occ).
func (j *ctcJob[T]) gradClasses(f *fastRows, g []T, gam []float64, lo int, ref, scale float64, soft bool) {
	occ := f.occ[:len(g)]
	clear(occ)
	cls := f.cls[lo : lo+len(gam)]
	var z float64
	for i, v := range gam {
		e := 0.0
		if d := v - ref; d > occCut {
			e = expSmall(d)
		}
		z += e
		occ[cls[i]] += e
	}
	k := scale / z // z >= 1: the state at ref gives exp(0)
	if soft {
		y := f.y[:len(g)]
		for c, o := range occ {
			g[c] = T(scale*y[c] - k*o)
		}
		return
	}
	for c, o := range occ {
		g[c] = T(-k * o)
	}
}

// occupationsFast is occupations for the float32 mirror, given ref, the
// largest of la or NaN if la holds NaN (the NaN, +Inf and all −Inf cases
// go to occupations).
func (j *ctcJob[T]) occupationsFast(g []T, la []float64, lo int, lab []int32, scale, ref float64) {
	if !(ref > negInf && ref < math.Inf(1)) {
		j.occupations(g, la, lo, lab, scale)
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
// their maximum: any |w[i] − m| <= ctcSpread is exact enough.
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
