//go:build amd64 && !purego

package host

// ctcVec selects the AVX2/FMA loops of ctc_amd64.s for the float32 CTC
// mirror (ctcvec.go) and for the float32 row log-sum-exps and softmax rows
// it reads; the tests switch it off to compare with the pure-Go loops.
var ctcVec = hasAVX2FMA

// ctcExpAVX sets e[i] = exp(w[i] − ref) for i < n (0 where w[i] − ref is
// −Inf) and reports whether every w[i] − ref is within ctcSpread or −Inf
// (ok), and whether every w[i] is below +Inf, NaN excluded (fin). e has
// room for n rounded up to 4.
//
//go:noescape
func ctcExpAVX(e, w *float64, n int, ref float64) (ok, fin bool)

// ctcAlphaCombAVX is the forward combination of a block of n states (see
// alphaStepVec), lp(t, l'_s) = x[cls[i]] − sh; it returns the largest new
// value that is not NaN.
//
//go:noescape
func ctcAlphaCombAVX(e, sk *float64, x *float32, cls *int32, cs *float64, os *float32, n int, sh, rm float64) (mx float64)

// ctcBetaCombAVX is the backward combination of a block of n states (see
// betaStepVec), gam written for all n; it returns the largest new value
// that is not NaN and the largest gam value of the first nga (NaN if one
// of them is NaN).
//
//go:noescape
func ctcBetaCombAVX(e, sk *float64, x *float32, cls *int32, cs *float64, os *float32, gam *float64, n, nga int, sh, rm float64) (mx, gmx float64)

// ctcAlphaLSEAVX is the forward step of a block of n states cell by cell,
// LSE(w[i+2], w[i+1], w[i] if sk[i] != 0) − m from the window w (values
// finite or −Inf), as lse2f/lse3f with each cell's maximum as its
// reference; otherwise as ctcAlphaCombAVX.
//
//go:noescape
func ctcAlphaLSEAVX(w, sk *float64, x *float32, cls *int32, cs *float64, os *float32, n int, sh, m float64) (mx float64)

// ctcBetaLSEAVX is ctcAlphaLSEAVX for the backward step,
// LSE(w[i], w[i+1], w[i+2] if sk[i] != 0) − m, with the outputs of
// ctcBetaCombAVX.
//
//go:noescape
func ctcBetaLSEAVX(w, sk *float64, x *float32, cls *int32, cs *float64, os *float32, gam *float64, n, nga int, sh, m float64) (mx, gmx float64)

// ctcOccExpAVX replaces la[i] by exp(la[i] − ref), 0 where la[i] − ref <=
// occCut, for i < n, and returns their sum and the sum of those with
// par + i even (the blank states when la[0] is state par).
//
//go:noescape
func ctcOccExpAVX(la *float64, n int, ref float64, par int) (sum, blank float64)

// lseSum32AVX returns Σ_{i<n} exp(max(x[i] − ref, −87.33654)) in float64
// and whether some x[i] > hi (the sum is then meaningless).
//
//go:noescape
func lseSum32AVX(x *float32, n int, ref, hi float32) (sum float64, over bool)

// softmaxLSE32AVX sets dst[i] = scale·exp(x[i] − sh) for i < n, 0 where
// x[i] − sh is below −87.33654 or NaN.
//
//go:noescape
func softmaxLSE32AVX(dst, x *float32, n int, sh, scale float32)

// rowMax32AVX returns the largest of x[:n] that is not NaN (−Inf if none).
//
//go:noescape
func rowMax32AVX(x *float32, n int) (mx float32)
