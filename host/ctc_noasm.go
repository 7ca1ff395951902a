//go:build !amd64 || purego

package host

// ctcVec is false where ctc_amd64.s is not built: the pure-Go loops run.
var ctcVec = false

const noVec = "host: vector loops not built"

func ctcExpAVX(e, w *float64, n int, ref float64) (bool, bool) { panic(noVec) }

func ctcAlphaLSEAVX(w, sk *float64, x *float32, cls *int32, cs *float64, os *float32, n int, sh, m float64) float64 {
	panic(noVec)
}

func ctcBetaLSEAVX(w, sk *float64, x *float32, cls *int32, cs *float64, os *float32, gam *float64, n, nga int, sh, m float64) (float64, float64) {
	panic(noVec)
}

func ctcAlphaCombAVX(e, sk *float64, x *float32, cls *int32, cs *float64, os *float32, n int, sh, rm float64) float64 {
	panic(noVec)
}

func ctcBetaCombAVX(e, sk *float64, x *float32, cls *int32, cs *float64, os *float32, gam *float64, n, nga int, sh, rm float64) (float64, float64) {
	panic(noVec)
}

func ctcOccExpAVX(la *float64, n int, ref float64, par int) (float64, float64) { panic(noVec) }

func lseSum32AVX(x *float32, n int, ref, hi float32) (float64, bool) { panic(noVec) }

func softmaxLSE32AVX(dst, x *float32, n int, sh, scale float32) { panic(noVec) }

func rowMax32AVX(x *float32, n int) float32 { panic(noVec) }
