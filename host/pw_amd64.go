//go:build amd64 && !purego

package host

import "github.com/lossengine/lossengine/internal/kernelspec"

// The vector loops, one per op (or option set); see vecLoop.
//
//go:noescape
func pwMSEAVX2(a *pwArgs)

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

// The 16-lane loops (pw512_amd64.s).

//go:noescape
func exp32AVX512(a *pwArgs)

//go:noescape
func log32AVX512(a *pwArgs)

//go:noescape
func pwLogCoshAVX512(a *pwArgs)

//go:noescape
func pwSoftMarginAVX512(a *pwArgs)

//go:noescape
func pwBCEWithLogitsAVX512(a *pwArgs)

//go:noescape
func pwSigmoidFocalAVX512(a *pwArgs)

//go:noescape
func pwMSLEAVX512(a *pwArgs)

//go:noescape
func pwBCEAVX512(a *pwArgs)

//go:noescape
func pwKLDivAVX512(a *pwArgs)

//go:noescape
func pwKLDivLogAVX512(a *pwArgs)

//go:noescape
func pwPoissonAVX512(a *pwArgs)

//go:noescape
func pwPoissonLogAVX512(a *pwArgs)

//go:noescape
func pwGaussianAVX512(a *pwArgs)

// useVector switches the vector loops on; tests turn it off to compare
// them with the scalar code.
var useVector = hasAVX2FMA

// The vector loops' identities, one per op or option set.
const (
	loopNone = iota
	loopMSE
	loopL1
	loopHuber
	loopSmoothL1
	loopHinge
	loopSquaredHinge
	loopHingeEmbedding
	loopMAPE
	loopLogCosh
	loopSoftMargin
	loopBCEWithLogits
	loopSigmoidFocal
	loopMSLE
	loopBCE
	loopKLDiv
	loopKLDivLog
	loopPoisson
	loopPoissonLog
	loopGaussian
)

// use512 switches the 16-lane loops of the exp/log ops on; tests turn it
// off to run the 8-lane ones on the same CPU.
var use512 = hasAVX512

// vecLoop sets the parameters in args of op's vector loop, given
// pointwise_loss's p0, p1, p2 and the gradient scale gs, and runs the
// loop over the first args.n elements rounded down to its width (8, or
// 16 for the AVX-512 loops of the exp/log ops). It returns how many
// elements it did, or −1 where op has no loop (sigmoid_focal_loss with γ
// other than 2) or the CPU has no AVX2 and FMA3.
func vecLoop(op int32, p0, p1, p2, gs float32, args *pwArgs) int {
	if !useVector {
		return -1
	}
	args.k = &pwConst
	args.gs, args.p0, args.p1, args.p2, args.f = gs, p0, p1, p2, 0
	id := loopNone
	switch op {
	case kernelspec.OpMSE:
		id = loopMSE
	case kernelspec.OpL1:
		id = loopL1
	case kernelspec.OpHuber:
		id = loopHuber
	case kernelspec.OpSmoothL1:
		id = loopL1
		if p0 != 0 {
			args.p1 = gs / p0
			id = loopSmoothL1
		}
	case kernelspec.OpHinge:
		id = loopHinge
	case kernelspec.OpSquaredHinge:
		id = loopSquaredHinge
	case kernelspec.OpHingeEmbedding:
		id = loopHingeEmbedding
	case kernelspec.OpMAPE:
		id = loopMAPE
	case kernelspec.OpLogCosh:
		id = loopLogCosh
	case kernelspec.OpSoftMargin:
		id = loopSoftMargin
	case kernelspec.OpBCEWithLogits:
		id = loopBCEWithLogits
	case kernelspec.OpSigmoidFocal:
		if p1 == 2 {
			id = loopSigmoidFocal
			if p0 >= 0 {
				args.f = 1
				args.p2 = 2*p0 - 1
			}
		}
	case kernelspec.OpMSLE:
		id = loopMSLE
	case kernelspec.OpBCE:
		id = loopBCE
	case kernelspec.OpKLDiv:
		id = loopKLDiv
		if p0 != 0 {
			id = loopKLDivLog
		}
	case kernelspec.OpPoissonNLL:
		if p1 != 0 {
			args.f = 1
		}
		id = loopPoisson
		if p0 != 0 {
			id = loopPoissonLog
		}
	case kernelspec.OpGaussianNLL:
		id = loopGaussian
		args.p2 = 0
		if p0 != 0 {
			args.p2 = float32(0.5 * log2Pi)
		}
	}
	if id == loopNone {
		return -1
	}
	if use512 && id >= loopLogCosh {
		args.n &^= 15
		runLoop512(id, args)
		return args.n
	}
	args.n &^= 7
	runLoop(id, args)
	return args.n
}

// runLoop calls the 8-lane loop id.
func runLoop(id int, args *pwArgs) {
	switch id {
	case loopMSE:
		pwMSEAVX2(args)
	case loopL1:
		pwL1AVX2(args)
	case loopHuber:
		pwHuberAVX2(args)
	case loopSmoothL1:
		pwSmoothL1AVX2(args)
	case loopHinge:
		pwHingeAVX2(args)
	case loopSquaredHinge:
		pwSquaredHingeAVX2(args)
	case loopHingeEmbedding:
		pwHingeEmbeddingAVX2(args)
	case loopMAPE:
		pwMAPEAVX2(args)
	case loopLogCosh:
		pwLogCoshAVX2(args)
	case loopSoftMargin:
		pwSoftMarginAVX2(args)
	case loopBCEWithLogits:
		pwBCEWithLogitsAVX2(args)
	case loopSigmoidFocal:
		pwSigmoidFocalAVX2(args)
	case loopMSLE:
		pwMSLEAVX2(args)
	case loopBCE:
		pwBCEAVX2(args)
	case loopKLDiv:
		pwKLDivAVX2(args)
	case loopKLDivLog:
		pwKLDivLogAVX2(args)
	case loopPoisson:
		pwPoissonAVX2(args)
	case loopPoissonLog:
		pwPoissonLogAVX2(args)
	case loopGaussian:
		pwGaussianAVX2(args)
	}
}

// runLoop512 calls the 16-lane loop id (the exp/log ops).
func runLoop512(id int, args *pwArgs) {
	switch id {
	case loopLogCosh:
		pwLogCoshAVX512(args)
	case loopSoftMargin:
		pwSoftMarginAVX512(args)
	case loopBCEWithLogits:
		pwBCEWithLogitsAVX512(args)
	case loopSigmoidFocal:
		pwSigmoidFocalAVX512(args)
	case loopMSLE:
		pwMSLEAVX512(args)
	case loopBCE:
		pwBCEAVX512(args)
	case loopKLDiv:
		pwKLDivAVX512(args)
	case loopKLDivLog:
		pwKLDivLogAVX512(args)
	case loopPoisson:
		pwPoissonAVX512(args)
	case loopPoissonLog:
		pwPoissonLogAVX512(args)
	case loopGaussian:
		pwGaussianAVX512(args)
	}
}

//go:noescape
func expShiftSumAVX2(dst, src *float32, n int, m float32, k *[pwNConst][8]uint32) (s float64)

//go:noescape
func expShiftSumAVX512(dst, src *float32, n int, m float32, k *[pwNConst][8]uint32) (s float64)

//go:noescape
func maxAVX2(src *float32, n int) (m float32)

// expShiftSumVec is expShiftSum32's vector loop over the first elements,
// len(src) rounded down to 8 (16 with AVX-512F): it returns their sum and
// how many it did (0 without AVX2 and FMA3). dst may be nil.
func expShiftSumVec(dst, src []float32, m float32) (float64, int) {
	n := len(src) &^ 7
	if use512 {
		n = len(src) &^ 15
	}
	if !useVector || n == 0 {
		return 0, 0
	}
	var d *float32
	if dst != nil {
		d = &dst[:n][0]
	}
	if use512 {
		return expShiftSumAVX512(d, &src[0], n, m, &pwConst), n
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

// ceRowArgs is the argument block of ceProbRowAVX512; its layout is fixed
// by the offsets there.
type ceRowArgs struct {
	x, y, grad, gt             *float32
	k                          *[pwNConst][8]uint32
	n                          int
	m, r, kf, uf, gf, gk, logS float32
	sum                        float64
}

//go:noescape
func ceProbRowAVX512(a *ceRowArgs)

// ceProbRowVecLen is how many of a row of n elements ceProbRowVec does:
// n &^ 15 with AVX-512F, else 0.
func ceProbRowVecLen(n int) int {
	if !use512 {
		return 0
	}
	return n &^ 15
}

// ceProbRowVec runs ceProbRow32's loop, exp included, over the first
// ceProbRowVecLen(len(x)) elements with AVX-512F, for the row's maximum
// m, r = S / s and logS = log(s): it returns the sum of their wy·nl and
// how many it did. gt may be nil.
func ceProbRowVec(x, y, grad, gt []float32, m, r, logS, kf, uf, gf, gk float32) (float64, int) {
	n := ceProbRowVecLen(len(x))
	if n == 0 {
		return 0, 0
	}
	a := ceRowArgs{x: &x[0], y: &y[:n][0], grad: &grad[:n][0], k: &pwConst, n: n,
		m: m, r: r, kf: kf, uf: uf, gf: gf, gk: gk, logS: logS}
	if gt != nil {
		a.gt = &gt[:n][0]
	}
	ceProbRowAVX512(&a)
	return a.sum, n
}

//go:noescape
func softmaxBwdLogAVX2(dx, y, dy *float32, n int, s, invTau float32, k *[pwNConst][8]uint32)

//go:noescape
func softmaxBwdLogAVX512(dx, y, dy *float32, n int, s, invTau float32, k *[pwNConst][8]uint32)

// softmaxBwdLogVec runs the log_softmax backward row loop,
// dx = invTau·(dy − exp(y)·s), over the first elements, len(y) rounded
// down to 8 (16 with AVX-512F), and returns how many it did (0 without
// AVX2 and FMA3).
func softmaxBwdLogVec(dx, y, dy []float32, s, invTau float32) int {
	n := len(y) &^ 7
	if use512 {
		n = len(y) &^ 15
	}
	if !useVector || n == 0 {
		return 0
	}
	if use512 {
		softmaxBwdLogAVX512(&dx[:n][0], &y[0], &dy[:n][0], n, s, invTau, &pwConst)
	} else {
		softmaxBwdLogAVX2(&dx[:n][0], &y[0], &dy[:n][0], n, s, invTau, &pwConst)
	}
	return n
}

// expVec32 sets x[i] = exp(x[i]) (within 2 ulp of expf) over the first
// len(x) &^ 7 elements (&^ 15 with AVX-512F) and returns how many it did
// (0 without AVX2 and FMA3).
func expVec32(x []float32) int {
	n := len(x) &^ 7
	if use512 {
		n = len(x) &^ 15
	}
	if !useVector || n == 0 {
		return 0
	}
	a := pwArgs{x: &x[0], l: &x[0], k: &pwConst, n: n}
	if use512 {
		exp32AVX512(&a)
	} else {
		exp32AVX2(&a)
	}
	return n
}
