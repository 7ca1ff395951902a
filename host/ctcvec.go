package host

import "math"

// The float32 CTC mirror's time steps through the AVX2/FMA loops of
// ctc_amd64.s (used when ctcVec). They compute what alphaStep and
// betaStep compute, in the same blocks of ctcBlock states with the same
// reference per block, four states at a time:
//
//   - ctcExpAVX: e[i] = exp(w[i] − ref) over the block's window, by a
//     range reduction to |r| <= ln2/2 and a polynomial of degree 9 for e^r
//     (Chebyshev-fitted: 4e-14 relative);
//   - the combinations: r = (ref − m) + log(Σ e), −Inf where the sum is 0,
//     with log from y = 2^k·m', m' in [√½, √2), s = (m'−1)/(m'+1) and
//     log m' = 2s + 2s·s²·P(s²), P of degree 5 (3e-16 absolute), k·ln2 in
//     two parts; the new value lp + r is stored in float64 and float32,
//     and the backward step also forms w + r (the log-occupation) from
//     the stored float32 forward value.
//
// Both evaluate their polynomials by Estrin's scheme: the loops are bound
// by the latency of a vector's chain of operations more than by their
// number.
//
// A block whose window holds finite values more than ctcSpread apart goes
// through ctcAlphaLSEAVX/ctcBetaLSEAVX instead: each cell's LSE with its
// own maximum as reference (three exps and a log per cell, exp arguments
// clamped at −708 as in expFast). A block whose window holds NaN or +Inf,
// or only −Inf, falls back to lse2f/lse3f per cell as in alphaStep.
// The combinations read the log-probabilities as x[cls[s]] − sh (a
// gather from the frame's float32 row), and the steps need e with room
// for ctcEW values. The vector loops sum in a fixed order, so the results
// depend on nothing but the inputs; they differ from the pure-Go loops'
// in the last bits.

// ctcEW is the length of the vector steps' exp scratch: a window of
// ctcBlock + 2 values, rounded up to whole vectors, and the reads of the
// combinations past the window.
const ctcEW = ctcBlock + 8

// gatherLP sets lp[s] = xr[cls[s]] − sh.
func gatherLP(lp []float64, cls []int32, xr []float32, sh float64) {
	lp = lp[:len(cls)]
	for s, c := range cls {
		lp[s] = float64(xr[c]) - sh
	}
}

// windowRef returns windowExp's reference for the window w, ok false
// where windowExp reports false without a look at the other values.
func windowRef(w []float64) (float64, bool) {
	m := w[len(w)/2]
	if m == negInf {
		m = maxNum(w)
		if m == negInf {
			return m, false
		}
	}
	if m != m || m > maxFinite {
		return m, false
	}
	return m, true
}

const maxFinite = 1.7976931348623157e308

// alphaStepVec is alphaStep with the log-probabilities read as
// xr[cls[s]] − sh: the same values up to rounding, and the same largest
// new value, or maxnum of the new values (alphaStep's caller takes maxnum
// when it gets NaN).
func alphaStepVec(cur, pp, skip []float64, xr []float32, cls []int32, sh float64, out []float32, hi int, m float64, e []float64) float64 {
	_ = e[ctcEW-1]
	mx := negInf
	for b0 := 0; b0 <= hi; b0 += ctcBlock {
		b1 := min(b0+ctcBlock, hi+1)
		win := pp[b0 : b1+2]
		_, _, _, _ = skip[b1-1], cls[b1-1], cur[b1+1], out[b1-1]
		if ref, ok := windowRef(win); ok {
			ok, fin := ctcExpAVX(&e[0], &win[0], len(win), ref)
			switch {
			case ok:
				mx = max(mx, ctcAlphaCombAVX(&e[0], &skip[b0], &xr[0], &cls[b0], &cur[b0+2], &out[b0], b1-b0, sh, ref-m))
				continue
			case fin: // values too far apart for one reference
				mx = max(mx, ctcAlphaLSEAVX(&win[0], &skip[b0], &xr[0], &cls[b0], &cur[b0+2], &out[b0], b1-b0, sh, m))
				continue
			}
		}
		for s := b0; s < b1; s++ {
			var r float64
			if skip[s] != 0 {
				r = lse3f(pp[s+2], pp[s+1], pp[s])
			} else {
				r = lse2f(pp[s+2], pp[s+1])
			}
			v := float64(xr[cls[s]]) - sh + (r - m)
			cur[s+2], out[s] = v, float32(v)
			if v > mx {
				mx = v
			}
		}
	}
	return mx
}

// betaStepVec is betaStep with the log-probabilities read as
// xr[cls[s]] − sh.
func betaStepVec(cur, pn, skip []float64, xr []float32, cls []int32, sh float64, out []float32, gam []float64, lo, hiA int, m float64, e []float64) (mx, gmx float64) {
	_ = e[ctcEW-1]
	mx, gmx = negInf, negInf
	S := len(cur) - 2
	for b0 := lo; b0 < S; b0 += ctcBlock {
		b1 := min(b0+ctcBlock, S)
		win := pn[b0 : b1+2]
		nga := max(0, min(b1, hiA+1)-b0) // the states that can carry alignments
		_, _, _, _, _ = skip[b1-1], cls[b1-1], cur[b1-1], out[b1-1], gam[b1-1]
		if ref, ok := windowRef(win); ok {
			ok, fin := ctcExpAVX(&e[0], &win[0], len(win), ref)
			var bm, bg float64
			switch {
			case ok:
				bm, bg = ctcBetaCombAVX(&e[0], &skip[b0], &xr[0], &cls[b0], &cur[b0], &out[b0], &gam[b0], b1-b0, nga, sh, ref-m)
			case fin: // values too far apart for one reference
				bm, bg = ctcBetaLSEAVX(&win[0], &skip[b0], &xr[0], &cls[b0], &cur[b0], &out[b0], &gam[b0], b1-b0, nga, sh, m)
			}
			if ok || fin {
				mx, gmx = max(mx, bm), max(gmx, bg) // NaN sticks in gmx: occupations handles it
				continue
			}
		}
		for i := range b1 - b0 {
			s := b0 + i
			var r float64
			if skip[s] != 0 {
				r = lse3f(pn[s], pn[s+1], pn[s+2]) - m
			} else {
				r = lse2f(pn[s], pn[s+1]) - m
			}
			if i < nga {
				g := float64(out[s]) + r
				gam[s] = g
				gmx = max(gmx, g)
			}
			v := float64(xr[cls[s]]) - sh + r
			cur[s], out[s] = v, float32(v)
			if v > mx {
				mx = v
			}
		}
	}
	return mx, gmx
}

// rowLSE32Vec is rowLSE32 through the vector loops, with the row's
// maximum (that is not NaN) as the reference: every term is at most 1,
// and a NaN anywhere makes the sum NaN. A row without a finite maximum
// goes to rowLSE.
func rowLSE32Vec(row []float32) float32 {
	ref := rowMax32AVX(&row[0], len(row))
	if !(ref > -math.MaxFloat32 && ref < math.MaxFloat32) { // −Inf or +Inf
		return rowLSE(row)
	}
	s, over := lseSum32AVX(&row[0], len(row), ref, ref+88)
	if over { // not for a maximum: kept for safety
		return rowLSE(row)
	}
	return float32(float64(ref) + math.Log(s))
}
