//go:build amd64 && !purego

package host

import "github.com/lossengine/lossengine/kernels"

// The vector loops, one per op (or option set); see vecLoop.
//
//go:noescape
func pwL1AVX2(a *pwArgs)

//go:noescape
func pwHuberAVX2(a *pwArgs)

//go:noescape
func pwSmoothL1AVX2(a *pwArgs)

//go:noescape
func pwHingeAVX2(a *pwArgs)

//go:noescape
func pwSquaredHingeAVX2(a *pwArgs)

//go:noescape
func pwHingeEmbeddingAVX2(a *pwArgs)

//go:noescape
func pwMAPEAVX2(a *pwArgs)

//go:noescape
func pwLogCoshAVX2(a *pwArgs)

//go:noescape
func pwSoftMarginAVX2(a *pwArgs)

//go:noescape
func pwBCEWithLogitsAVX2(a *pwArgs)

//go:noescape
func pwSigmoidFocalAVX2(a *pwArgs)

//go:noescape
func pwMSLEAVX2(a *pwArgs)

//go:noescape
func pwBCEAVX2(a *pwArgs)

//go:noescape
func pwKLDivAVX2(a *pwArgs)

//go:noescape
func pwKLDivLogAVX2(a *pwArgs)

//go:noescape
func pwPoissonAVX2(a *pwArgs)

//go:noescape
func pwPoissonLogAVX2(a *pwArgs)

//go:noescape
func pwGaussianAVX2(a *pwArgs)

//go:noescape
func exp32AVX2(a *pwArgs)

//go:noescape
func log32AVX2(a *pwArgs)

// useVector switches the vector loops on; tests turn it off to compare
// them with the scalar code.
var useVector = hasAVX2FMA

// vecLoop sets the parameters in args of op's vector loop, given
// pointwise_loss's p0, p1, p2 and the gradient scale gs, and runs the
// loop over args' buffers. It reports false, running nothing, where op has
// no loop (mse_loss, whose scalar loop already runs at memory speed, and
// sigmoid_focal_loss with γ other than 2) or the CPU has no AVX2 and FMA3.
func vecLoop(op int32, p0, p1, p2, gs float32, args *pwArgs) bool {
	if !useVector {
		return false
	}
	args.k = &pwConst
	args.gs, args.p0, args.p1, args.p2, args.f = gs, p0, p1, p2, 0
	switch op {
	case kernels.OpL1:
		pwL1AVX2(args)
	case kernels.OpHuber:
		pwHuberAVX2(args)
	case kernels.OpSmoothL1:
		if p0 == 0 {
			pwL1AVX2(args)
			break
		}
		args.p1 = gs / p0
		pwSmoothL1AVX2(args)
	case kernels.OpHinge:
		pwHingeAVX2(args)
	case kernels.OpSquaredHinge:
		pwSquaredHingeAVX2(args)
	case kernels.OpHingeEmbedding:
		pwHingeEmbeddingAVX2(args)
	case kernels.OpMAPE:
		pwMAPEAVX2(args)
	case kernels.OpLogCosh:
		pwLogCoshAVX2(args)
	case kernels.OpSoftMargin:
		pwSoftMarginAVX2(args)
	case kernels.OpBCEWithLogits:
		pwBCEWithLogitsAVX2(args)
	case kernels.OpSigmoidFocal:
		if p1 != 2 {
			return false
		}
		if p0 >= 0 {
			args.f = 1
			args.p2 = 2*p0 - 1
		}
		pwSigmoidFocalAVX2(args)
	case kernels.OpMSLE:
		pwMSLEAVX2(args)
	case kernels.OpBCE:
		pwBCEAVX2(args)
	case kernels.OpKLDiv:
		if p0 != 0 {
			pwKLDivLogAVX2(args)
			break
		}
		pwKLDivAVX2(args)
	case kernels.OpPoissonNLL:
		if p1 != 0 {
			args.f = 1
		}
		if p0 != 0 {
			pwPoissonLogAVX2(args)
			break
		}
		pwPoissonAVX2(args)
	case kernels.OpGaussianNLL:
		args.p2 = 0
		if p0 != 0 {
			args.p2 = float32(0.5 * log2Pi)
		}
		pwGaussianAVX2(args)
	default:
		return false
	}
	return true
}

//go:noescape
func expShiftSumAVX2(dst, src *float32, n int, m float32, k *[pwNConst][8]uint32) (s float64)

//go:noescape
func maxAVX2(src *float32, n int) (m float32)

// expShiftSumVec is expShiftSum32's vector loop over the first
// len(src) &^ 7 elements: it returns their sum and how many it did (0
// without AVX2 and FMA3). dst may be nil.
func expShiftSumVec(dst, src []float32, m float32) (float64, int) {
	n := len(src) &^ 7
	if !useVector || n == 0 {
		return 0, 0
	}
	var d *float32
	if dst != nil {
		d = &dst[:n][0]
	}
	return expShiftSumAVX2(d, &src[0], n, m, &pwConst), n
}

// maxVec is rowMax's vector scan of the first len(x) &^ 7 elements: the
// largest of them (NaN skipped; −Inf if none) and how many it scanned (0
// without AVX2 and FMA3).
func maxVec(x []float32) (float32, int) {
	n := len(x) &^ 7
	if !useVector || n == 0 {
		return 0, 0
	}
	return maxAVX2(&x[0], n), n
}
