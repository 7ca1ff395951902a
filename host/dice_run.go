package host

import (
	"math"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

// The float32 path of the dice mirrors: dicePartials and diceGrad for
// float32 compute a run of at most BlockSize pixels of one sample at a
// time, class by class, so that every loop reads one contiguous row of a
// class and the exponentials of a run are taken at once (by the vector exp
// where there is one, within 2 ulp of expf, of x − m rounded to float32,
// as the kernels do). The values are those of the per-pixel mirror, added
// in the same order: each class's sums in pixel order, each pixel's terms
// in class order. The float64 instantiations keep the per-pixel mirror,
// the reference of the equivalence table.

// diceRunClasses bounds the classes a run caches; more take the per-pixel
// mirror.
const diceRunClasses = 64

// diceRunOK says whether the run path computes dice_partials and
// dice_grad for flags and c classes: the cross-entropy term only with a
// softmax over c > 1 classes; the focal term only with a softmax over all
// c > 1 classes (the background kept), class-index targets and the plain
// sums.
func diceRunOK(flags int32, c int) bool {
	if c < 1 || c > diceRunClasses {
		return false
	}
	switch {
	case flags&kernelspec.DiceCE != 0:
		return flags&kernelspec.DiceSoftmax != 0 && c > 1
	case flags&kernelspec.DiceFocal != 0:
		const need = kernelspec.DiceSoftmax | kernelspec.DiceFocalSoftmax | kernelspec.DiceTargetIndex
		return flags&need == need && flags&(kernelspec.DiceNoBG|kernelspec.DiceSquared|kernelspec.DiceSoftLabel) == 0 && c > 1
	}
	return true
}

// diceScratch holds one run's per-pixel values.
type diceScratch struct {
	m    [kernelspec.BlockSize]float32
	zi   [kernelspec.BlockSize]float64 // 1/z of the softmax
	lz   [kernelspec.BlockSize]float64 // log z (the cross-entropy term)
	p    [kernelspec.BlockSize]float64 // p_k of one class
	dot  [kernelspec.BlockSize]float64 // Σ_k p_k g_k (softmax gradient)
	l, u [kernelspec.BlockSize]float64 // the cross-entropy term's sums
	skip [kernelspec.BlockSize]bool    // ignored pixels
	// redo marks the pixels the focal term leaves to the per-pixel
	// mirror: an exponential that is 0 or a sum that is not finite (an
	// infinite or very negative logit, or NaN), where the terms of the
	// other classes are not the zeros the run path assumes.
	redo [kernelspec.BlockSize]bool
	// e caches, class by class, exp(x − m) (softmax) or exp(−|x|)
	// (sigmoid) of the run.
	e [diceRunClasses * kernelspec.BlockSize]float32
}

var dicePool jobPool[diceScratch]

// diceRunArgs are the arguments the run path shares.
type diceRunArgs struct {
	x, tf      []float32
	cw         []float64
	tidx       []int32
	c, s       int
	flags      int32
	ign        int
	eps        float64 // label smoothing of the cross-entropy term, or the focal γ
	alpha      float64 // the focal α (with DiceFocalAlpha)
	wsum       float64 // Σ_k w_k
	anyIgnored bool
	anyRedo    bool
}

func (r *diceRunArgs) has(f int32) bool { return r.flags&f != 0 }

// load takes the run of w pixels from px0 of sample i: the ignored
// pixels, and the exponentials of the activation.
func (sc *diceScratch) load(r *diceRunArgs, i, px0, w int) {
	base := i*r.c*r.s + px0
	r.anyIgnored = false
	if r.has(kernelspec.DiceIgnore) && r.has(kernelspec.DiceTargetIndex) {
		lbl := r.tidx[i*r.s+px0 : i*r.s+px0+w]
		for j, v := range lbl {
			sc.skip[j] = int(v) == r.ign
			r.anyIgnored = r.anyIgnored || sc.skip[j]
		}
	}
	switch {
	case r.has(kernelspec.DiceSoftmax):
		m := sc.m[:w]
		copy(m, r.x[base:base+w])
		for k := 1; k < r.c; k++ {
			xr := r.x[base+k*r.s : base+k*r.s+w]
			for j, v := range xr {
				m[j] = max(m[j], v)
			}
		}
		z := sc.zi[:w]
		clear(z)
		for k := range r.c {
			xr, er := r.x[base+k*r.s:base+k*r.s+w], sc.e[k*kernelspec.BlockSize:k*kernelspec.BlockSize+w]
			for j, v := range xr {
				er[j] = v - m[j]
			}
			for j := expVec32(er); j < w; j++ {
				er[j] = expf(er[j])
			}
			for j, e := range er {
				z[j] += float64(e)
			}
		}
		if r.has(kernelspec.DiceFocal) {
			r.anyRedo = false
			for j, v := range z {
				sc.redo[j] = !(v <= math.MaxFloat64)
			}
			for k := range r.c {
				for j, e := range sc.e[k*kernelspec.BlockSize : k*kernelspec.BlockSize+w] {
					if e == 0 {
						sc.redo[j] = true
					}
				}
			}
			for _, v := range sc.redo[:w] {
				r.anyRedo = r.anyRedo || v
			}
		}
		if r.has(kernelspec.DiceCE | kernelspec.DiceFocal) {
			for j, v := range z {
				sc.lz[j] = math.Log(v)
			}
		}
		for j, v := range z {
			z[j] = 1 / v
		}
	case r.has(kernelspec.DiceSigmoid):
		for k := range r.c {
			xr, er := r.x[base+k*r.s:base+k*r.s+w], sc.e[k*kernelspec.BlockSize:k*kernelspec.BlockSize+w]
			for j, v := range xr {
				er[j] = -abs32(v)
			}
			for j := expVec32(er); j < w; j++ {
				er[j] = expf(er[j])
			}
		}
	}
}

// probs sets sc.p to p_k over the run (px0 of sample i, w pixels).
func (sc *diceScratch) probs(r *diceRunArgs, i, px0, w, k int) []float64 {
	pr := sc.p[:w]
	switch {
	case r.has(kernelspec.DiceSoftmax):
		er := sc.e[k*kernelspec.BlockSize : k*kernelspec.BlockSize+w]
		for j, e := range er {
			pr[j] = float64(e) * sc.zi[j]
		}
	case r.has(kernelspec.DiceSigmoid):
		// σ(x) from e = exp(−|x|): 1/(1 + e) for x ≥ 0, e/(1 + e) below.
		o := (i*r.c+k)*r.s + px0
		xr, er := r.x[o:o+w], sc.e[k*kernelspec.BlockSize:k*kernelspec.BlockSize+w]
		for j, e := range er {
			d := 1 / (1 + float64(e))
			if xr[j] < 0 {
				d *= float64(e)
			}
			pr[j] = d
		}
	default:
		o := (i*r.c+k)*r.s + px0
		for j, v := range r.x[o : o+w] {
			pr[j] = float64(v)
		}
	}
	return pr
}

// target is t_k of pixel px of sample i.
func (r *diceRunArgs) target(i, k, px int) float64 {
	if r.has(kernelspec.DiceTargetFloat) {
		return float64(r.tf[(i*r.c+k)*r.s+px])
	}
	if int(r.tidx[i*r.s+px]) == k {
		return 1
	}
	return 0
}

// partials adds the run's sums of a0, a1, a2 into acc (3 per class) and
// returns the sums of its cross-entropy terms and divisor shares.
func (sc *diceScratch) partials(r *diceRunArgs, i, px0, w int, acc []float64) (ce, ced float64) {
	sc.load(r, i, px0, w)
	plain := !r.has(kernelspec.DiceSquared | kernelspec.DiceSoftLabel)
	index := r.has(kernelspec.DiceTargetIndex)
	var lbl []int32 // index targets only
	if index {
		lbl = r.tidx[i*r.s+px0 : i*r.s+px0+w]
	}
	for k := range r.c {
		a0, a1, a2 := acc[3*k], acc[3*k+1], acc[3*k+2]
		switch {
		case plain && index && !r.anyIgnored && r.has(kernelspec.DiceSoftmax):
			// p_k = e·(1/z) inline, t_k without a branch (labels are random)
			one := math.Float64bits(1)
			er := sc.e[k*kernelspec.BlockSize : k*kernelspec.BlockSize+w]
			zi, lbl := sc.zi[:len(er)], lbl[:len(er)]
			for j, e := range er {
				p := float64(e) * zi[j]
				t := math.Float64frombits(selBits(int(lbl[j]) == k, one, 0))
				a0 += p * t
				a1 += p
				a2 += t
			}
		case plain && index && !r.anyIgnored:
			one := math.Float64bits(1)
			for j, p := range sc.probs(r, i, px0, w, k) {
				t := math.Float64frombits(selBits(int(lbl[j]) == k, one, 0))
				a0 += p * t
				a1 += p
				a2 += t
			}
		default:
			pr := sc.probs(r, i, px0, w, k)
			for j, p := range pr {
				if r.anyIgnored && sc.skip[j] {
					continue
				}
				s0, s1, s2 := diceSums(r.flags, p, r.target(i, k, px0+j))
				a0 += s0
				a1 += s1
				a2 += s2
			}
		}
		acc[3*k], acc[3*k+1], acc[3*k+2] = a0, a1, a2
	}
	switch {
	case r.has(kernelspec.DiceCE):
		return sc.cePartials(r, i, px0, w)
	case r.has(kernelspec.DiceFocal):
		return sc.focalPartials(r, i, px0, w)
	}
	return 0, 0
}

// focalTerm is the focal term of a pixel whose class-index target t is a
// class (softmax over all classes, background kept; dicePixel.focal):
// with lp = log p_t, q = 1 − p_t (−expm1(lp) where p_t > 1/2, so that a
// confident pixel keeps q's digits) and a = w_t times the α factor,
//
//	f = −a q^γ lp,  D = d f / d lp = −a (q^γ − γ q^(γ−1) p_t lp)
//
// (the other classes' terms are 0; the gradient w.r.t. x_k is
// D([k = t] − p_k)).
func (r *diceRunArgs) focalTerm(t int, lp, p float64) (f, dd float64) {
	q := 1 - p
	if p > 0.5 {
		q = max(-math.Expm1(lp), 0)
	}
	a := r.cw[t]
	if r.has(kernelspec.DiceFocalAlpha) {
		if t == 0 {
			a *= 1 - r.alpha
		} else {
			a *= r.alpha
		}
	}
	g := r.eps
	dq := 0.0
	if g != 0 && q != 0 {
		dq = g * powg(q, g-1) * p * lp
	}
	qg := powg(q, g)
	return -a * qg * lp, -a * (qg - dq)
}

// focalPartials sums the run's focal terms and divisor shares (c per
// pixel) in pixel order; a pixel in redo takes dicePixel.focal.
func (sc *diceScratch) focalPartials(r *diceRunArgs, i, px0, w int) (l, ld float64) {
	lbl := r.tidx[i*r.s+px0 : i*r.s+px0+w]
	base := i*r.c*r.s + px0
	var d *dicePixel[float32]
	for j, t := range lbl {
		if r.anyIgnored && sc.skip[j] {
			continue
		}
		if r.anyRedo && sc.redo[j] {
			if d == nil {
				d = &dicePixel[float32]{x: r.x, flags: r.flags, c: r.c, s: r.s}
			}
			d.load(r.tidx, i, px0+j, r.ign)
			f, wd := d.focal(r.cw, r.eps, r.alpha, nil)
			l += f
			ld += wd
			continue
		}
		ld += float64(r.c)
		if t < 0 || int(t) >= r.c {
			continue
		}
		lp := (float64(r.x[base+int(t)*r.s+j]) - float64(sc.m[j])) - sc.lz[j]
		f, _ := r.focalTerm(int(t), lp, float64(sc.e[int(t)*kernelspec.BlockSize+j])*sc.zi[j])
		l += f
	}
	return l, ld
}

// cePartials is dicePixel.ce over the run (softmax, c > 1) summed in
// pixel order: l holds −Σ_k w_k y'_k lp_k (float target) or −w_t lp_t,
// u holds −Σ_k w_k lp_k (index target), lp_k = (x_k − m) − log z.
func (sc *diceScratch) cePartials(r *diceRunArgs, i, px0, w int) (ce, ced float64) {
	l, u := sc.l[:w], sc.u[:w]
	clear(l)
	clear(u)
	base := i*r.c*r.s + px0
	fc := float64(r.c)
	for k := range r.c {
		wk := r.cw[k]
		xr := r.x[base+k*r.s : base+k*r.s+w]
		if r.has(kernelspec.DiceTargetFloat) {
			tr := r.tf[base+k*r.s : base+k*r.s+w]
			for j, v := range xr {
				lp := (float64(v) - float64(sc.m[j])) - sc.lz[j]
				l[j] -= wk * ((1-r.eps)*float64(tr[j]) + r.eps/fc) * lp
			}
			continue
		}
		lbl := r.tidx[i*r.s+px0 : i*r.s+px0+w]
		for j, v := range xr {
			lp := (float64(v) - float64(sc.m[j])) - sc.lz[j]
			u[j] -= wk * lp
			if int(lbl[j]) == k {
				l[j] -= wk * lp
			}
		}
	}
	for j := range l {
		if r.anyIgnored && sc.skip[j] {
			continue
		}
		if r.has(kernelspec.DiceTargetFloat) {
			ce += l[j]
			ced++
			continue
		}
		t := int(r.tidx[i*r.s+px0+j])
		if t < 0 || t >= r.c {
			continue // not a class: no term
		}
		ce += (1-r.eps)*l[j] + r.eps/fc*u[j]
		ced += r.cw[t]
	}
	return ce, ced
}

// grad writes the run's gradient (see diceGrad): cf holds the sample's
// (gI, gP) pairs, ceScale the factor of the cross-entropy term.
func (sc *diceScratch) grad(r *diceRunArgs, i, px0, w int, cf []float32, ceScale float64, grad []float32) {
	sc.load(r, i, px0, w)
	const softIndex = kernelspec.DiceSoftmax | kernelspec.DiceTargetIndex
	if r.flags&softIndex == softIndex && !r.has(kernelspec.DiceSquared|kernelspec.DiceSoftLabel) {
		sc.gradSoftmaxIndex(r, i, px0, w, cf, ceScale, grad)
		return
	}
	base := i*r.c*r.s + px0
	soft := r.has(kernelspec.DiceSoftmax)
	gk := func(k, j int, p float64) float64 {
		gI, gP := float64(cf[2*k]), float64(cf[2*k+1])
		switch {
		case r.has(kernelspec.DiceSquared):
			return gI*r.target(i, k, px0+j) + 2*gP*p
		case r.has(kernelspec.DiceSoftLabel):
			return 0.5*gI*(sgn(p)-sgn(p-r.target(i, k, px0+j))) + gP*sgn(p)
		}
		return gI*r.target(i, k, px0+j) + gP
	}
	if soft {
		// dot = Σ_k p_k g_k, and for the cross-entropy term with a float
		// target u = S = Σ_k w_k y'_k.
		dot, u := sc.dot[:w], sc.u[:w]
		clear(dot)
		clear(u)
		for k := range r.c {
			pr := sc.probs(r, i, px0, w, k)
			for j, p := range pr {
				dot[j] += p * gk(k, j, p)
			}
			if r.has(kernelspec.DiceCE) && r.has(kernelspec.DiceTargetFloat) {
				tr := r.tf[base+k*r.s : base+k*r.s+w]
				for j, t := range tr {
					u[j] += r.cw[k] * ((1-r.eps)*float64(t) + r.eps/float64(r.c))
				}
			}
		}
	}
	fc := float64(r.c)
	for k := range r.c {
		pr := sc.probs(r, i, px0, w, k)
		gr := grad[base+k*r.s : base+k*r.s+w]
		er := sc.e[k*kernelspec.BlockSize : k*kernelspec.BlockSize+w]
		for j, p := range pr {
			if r.anyIgnored && sc.skip[j] {
				gr[j] = 0
				continue
			}
			g := gk(k, j, p)
			switch {
			case soft:
				g = p * (g - sc.dot[j])
			case r.has(kernelspec.DiceSigmoid):
				// p(1 − p) = e/(1 + e)², e = exp(−|x|)
				d := 1 / (1 + float64(er[j]))
				g *= float64(er[j]) * d * d
			}
			if r.has(kernelspec.DiceCE) {
				var h float64
				if r.has(kernelspec.DiceTargetFloat) {
					h = sc.u[j]*p - r.cw[k]*((1-r.eps)*r.target(i, k, px0+j)+r.eps/fc)
				} else if t := int(r.tidx[i*r.s+px0+j]); t >= 0 && t < r.c {
					ind := 0.0
					if t == k {
						ind = 1
					}
					h = (1-r.eps)*r.cw[t]*(p-ind) + r.eps/fc*(r.wsum*p-r.cw[k])
				}
				g += ceScale * h
			}
			gr[j] = float32(g)
		}
	}
}

// gradSoftmaxIndex is grad for a softmax, class-index targets and the
// plain sums (g_k = gI_k·t_k + gP_k): one pass for dot = Σ_k p_k g_k in
// class order, one for the gradient, with the cross-entropy term
// h_k = A(p_k − [k = t]) + B(W p_k − w_k), A = (1 − ε) w_t and B = ε/c
// (both 0 for an index that is not a class).
func (sc *diceScratch) gradSoftmaxIndex(r *diceRunArgs, i, px0, w int, cf []float32, ceScale float64, grad []float32) {
	base := i*r.c*r.s + px0
	lbl := r.tidx[i*r.s+px0 : i*r.s+px0+w]
	dot, zi := sc.dot[:w], sc.zi[:w]
	clear(dot)
	for k := range r.c {
		gI, gP := float64(cf[2*k]), float64(cf[2*k+1])
		er := sc.e[k*kernelspec.BlockSize : k*kernelspec.BlockSize+w]
		er, zi, lbl := er[:len(dot)], zi[:len(dot)], lbl[:len(dot)]
		bP, bPI := math.Float64bits(gP), math.Float64bits(gP+gI)
		for j, e := range er {
			g := math.Float64frombits(selBits(int(lbl[j]) == k, bPI, bP))
			dot[j] += float64(e) * zi[j] * g
		}
	}
	ce := r.has(kernelspec.DiceCE | kernelspec.DiceFocal)
	ca, cb := sc.l[:w], sc.u[:w]
	if r.has(kernelspec.DiceFocal) {
		// the focal term's D([k = t] − p_k) as A(p_k − [k = t]), A = −D
		for j, t := range lbl {
			ca[j], cb[j] = 0, 0
			if t >= 0 && int(t) < r.c {
				lp := (float64(r.x[base+int(t)*r.s+j]) - float64(sc.m[j])) - sc.lz[j]
				_, dd := r.focalTerm(int(t), lp, float64(sc.e[int(t)*kernelspec.BlockSize+j])*sc.zi[j])
				ca[j] = -ceScale * dd
			}
		}
	} else if ce {
		fc := float64(r.c)
		for j, t := range lbl {
			ca[j], cb[j] = 0, 0
			if t >= 0 && int(t) < r.c {
				ca[j], cb[j] = ceScale*(1-r.eps)*r.cw[t], ceScale*r.eps/fc
			}
		}
	}
	for k := range r.c {
		gI, gP := float64(cf[2*k]), float64(cf[2*k+1])
		er := sc.e[k*kernelspec.BlockSize : k*kernelspec.BlockSize+w]
		gr := grad[base+k*r.s : base+k*r.s+w]
		er, zi, lbl, gr := er[:len(dot)], zi[:len(dot)], lbl[:len(dot)], gr[:len(dot)]
		if !ce {
			bP, bPI := math.Float64bits(gP), math.Float64bits(gP+gI)
			for j, e := range er {
				g := math.Float64frombits(selBits(int(lbl[j]) == k, bPI, bP))
				p := float64(e) * zi[j]
				gr[j] = float32(p * (g - dot[j]))
			}
		} else {
			wk := r.cw[k]
			ca, cb := ca[:len(dot)], cb[:len(dot)]
			bP, bPI, one := math.Float64bits(gP), math.Float64bits(gP+gI), math.Float64bits(1)
			for j, e := range er {
				hit := int(lbl[j]) == k
				g, ind := math.Float64frombits(selBits(hit, bPI, bP)), math.Float64frombits(selBits(hit, one, 0))
				p := float64(e) * zi[j]
				gr[j] = float32(p*(g-dot[j]) + (ca[j]*(p-ind) + cb[j]*(r.wsum*p-wk)))
			}
		}
		if r.anyIgnored {
			for j, sk := range sc.skip[:w] {
				if sk {
					gr[j] = 0
				}
			}
		}
	}
	if r.anyRedo {
		d := dicePixel[float32]{x: r.x, flags: r.flags, c: r.c, s: r.s}
		g, fg := make([]float64, r.c), make([]float64, r.c)
		for j, redo := range sc.redo[:w] {
			if redo {
				d.grad(r.tidx, i, px0+j, r.ign, cf, r.cw, ceScale, r.eps, r.alpha, g, fg, grad)
			}
		}
	}
}

// dicePartials32 is dicePartials over float32 by runs.
func dicePartials32(r *diceRunArgs, n, nb int, part, xpart []float32) {
	parallelFor(n*nb, 1, func(lo, hi int) {
		sc := dicePool.get()
		defer dicePool.put(sc)
		var accBuf [3 * diceRunClasses]float64
		acc := accBuf[:3*r.c]
		rr := *r
		for blk := lo; blk < hi; blk++ {
			i, b := blk/nb, blk%nb
			clear(acc)
			var ce, ced float64
			for px := b * r.s / nb; px < (b+1)*r.s/nb; px += kernelspec.BlockSize {
				w := min(kernelspec.BlockSize, (b+1)*r.s/nb-px)
				l, d := sc.partials(&rr, i, px, w, acc)
				ce += l
				ced += d
			}
			for k := range r.c {
				for j := range 3 {
					part[((i*r.c+k)*3+j)*nb+b] = float32(acc[3*k+j])
				}
			}
			if r.has(kernelspec.DiceCE | kernelspec.DiceFocal) {
				xpart[blk*2], xpart[blk*2+1] = float32(ce), float32(ced)
			}
		}
	})
}

// diceGrad32 is diceGrad over float32 by runs.
func diceGrad32(r *diceRunArgs, n int, coef []float32, ceScale float64, grad []float32) {
	runs := (r.s + kernelspec.BlockSize - 1) / kernelspec.BlockSize
	parallelFor(n*runs, 16, func(lo, hi int) {
		sc := dicePool.get()
		defer dicePool.put(sc)
		rr := *r
		for q := lo; q < hi; q++ {
			i, px := q/runs, (q%runs)*kernelspec.BlockSize
			cf := coef
			if !r.has(kernelspec.DiceBatch) {
				cf = coef[i*r.c*2:]
			}
			sc.grad(&rr, i, px, min(kernelspec.BlockSize, r.s-px), cf, ceScale, grad)
		}
	})
}

// diceRun returns the run path's arguments where it applies: float32, and
// diceRunOK.
func diceRun[T Float](xs []T, tidx []int32, tf []T, cw []float64, c, s int, flags int32, ign int, eps, alpha float64) (*diceRunArgs, bool) {
	x32, ok := any(xs).([]float32)
	if !ok || !diceRunOK(flags, c) {
		return nil, false
	}
	tf32, _ := any(tf).([]float32)
	r := &diceRunArgs{x: x32, tf: tf32, cw: cw, tidx: tidx, c: c, s: s, flags: flags, ign: ign, eps: eps, alpha: alpha}
	for _, v := range cw {
		r.wsum += v
	}
	return r, true
}

// selBits is a if c, else b, without a branch (a conditional move).
func selBits(c bool, a, b uint64) uint64 {
	if c {
		return a
	}
	return b
}
