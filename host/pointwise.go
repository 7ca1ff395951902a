package host

import (
	"math"
	"unsafe"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() {
	register("pointwise_loss", pointwiseLoss[float32], pointwiseLoss[float64])
	register("mask_count", maskCount[float32], maskCount[float64])
	register("broadcast_sum", broadcastSum[float32], broadcastSum[float64])
}

// Elementwise math in T's precision. Float32 goes through float64 and
// the table-based expFast and logFast (about 1e-13 relative, far below
// float32 resolution); float64 through package math.
func logT[T Float](x T) T {
	if unsafe.Sizeof(x) == 4 { // float32: a constant per instantiation
		return T(log64(float64(x)))
	}
	return T(math.Log(float64(x)))
}

// log64 is logFast where it is valid (positive normal finite y), else
// math.Log (0, negative, +Inf, NaN, subnormal).
func log64(y float64) float64 {
	if y >= 0x1p-1022 && y <= math.MaxFloat64 {
		return logFast(y)
	}
	return math.Log(y)
}

func log1pT[T Float](x T) T {
	if unsafe.Sizeof(x) == 4 { // float32: a constant per instantiation
		u := float64(x)
		if u > 1e-7 && u < 1e300 {
			// 1 + u rounds by at most 1.2e-16, under 1.2e-9 of log1p(u)
			// here: far below float32 resolution.
			return T(logFast(1 + u))
		}
		if u > -1e-7 && u <= 1e-7 {
			return T(u - u*u/2) // NaN propagates
		}
		return T(math.Log1p(u))
	}
	return T(math.Log1p(float64(x)))
}

func tanhT[T Float](x T) T {
	if unsafe.Sizeof(x) == 4 { // float32: a constant per instantiation
		d := float64(x)
		a := math.Abs(d)
		if a < 1e-9 || d != d {
			return x
		}
		e := expFast(-2 * a)
		return T(math.Copysign((1-e)/(1+e), d))
	}
	return T(math.Tanh(float64(x)))
}

func absT[T Float](x T) T { return T(math.Abs(float64(x))) }

// powT is x^y for x >= 0 (the focal term (1 − p_t)^γ).
func powT[T Float](x, y T) T {
	if unsafe.Sizeof(x) == 4 && x > 0 && x <= math.MaxFloat32 {
		return T(expFast(float64(y) * logFast(float64(x))))
	}
	return T(math.Pow(float64(x), float64(y)))
}

// signFast is sign(x) (−1, 0, 1, NaN for NaN) from its bits, without
// branches on the value.
func signFast[T Float](x T) T {
	if unsafe.Sizeof(x) == 4 {
		return T(sign32(float32(x)))
	}
	return T(sign64(float64(x)))
}

func sign32(x float32) float32 {
	u := math.Float32bits(x)
	a := u & 0x7fffffff
	if a > 0x7f800000 {
		return x // NaN
	}
	return math.Float32frombits(u&0x80000000 | uint32(b2u(a != 0))*0x3f800000)
}

func sign64(x float64) float64 {
	u := math.Float64bits(x)
	a := u & (1<<63 - 1)
	if a > 0x7ff0000000000000 {
		return x // NaN
	}
	return math.Float64frombits(u&(1<<63) | b2u(a != 0)*0x3ff0000000000000)
}

// b2u is 1 for true, 0 for false (compiled to a SETcc, no branch).
func b2u(b bool) uint64 {
	var v uint64
	if b {
		v = 1
	}
	return v
}

// maxT is fmax: the larger of a and b, the other one where one is NaN.
func maxT[T Float](a, b T) T {
	if a != a {
		return b
	}
	if b != b {
		return a
	}
	return max(a, b)
}

// clampMin is max(x, lo), but NaN for NaN (le_clamp_min).
func clampMin[T Float](x, lo T) T {
	if x < lo {
		return lo
	}
	return x
}

// signT is -1, 0 or 1, and NaN for NaN (le_sign).
func signT[T Float](x T) T {
	if x > 0 {
		return 1
	}
	if x < 0 {
		return -1
	}
	return x
}

const (
	log2   = 0.69314718055994531
	log2Pi = 1.8378770664093453
)

// pointwiseOp returns the loss of element (x, y) with auxiliary input a
// and its partial derivatives w.r.t. x (input), y (target) and a. It is
// the twin of le_pointwise in kernels/lemath.h; d = x - y.
//
//	OpMSE            d²
//	OpL1             |d|; d/dx = sign(d)
//	OpHuber          p0 = δ: ½d² if |d| < δ, else δ(|d| − ½δ); d/dx = clamp(d, −δ, δ)
//	OpSmoothL1       p0 = β: ½d²/β if |d| < β, else |d| − ½β (β = 0: |d|)
//	OpLogCosh        log cosh d: −½·log1p(−tanh² d) for |d| < 0.75, else
//	                 (|d| − log 2) + log1p(exp(−2|d|)); d/dx = tanh d
//	OpMAPE           p0 = ε: 100|d| / max(|y|, ε) (Keras)
//	OpMSLE           p0 = ε: (log(max(x, ε) + 1) − log(max(y, ε) + 1))² (Keras)
//	OpBCE            −(y·max(log x, −100) + (1−y)·max(log(1−x), −100));
//	                 d/dx = (x − y) / max(x(1−x), 1e−12) (PyTorch's)
//	OpBCEWithLogits  a = pos_weight, w = 1 + (a−1)y, L = log1p(exp(−|x|)):
//	                 (1−y)·max(x, 0) − a·y·min(x, 0) + w·L (= (1−y)x + w·softplus(−x));
//	                 d/dx = (1−y)·σ(x) − a·y·σ(−x); d/dy = −max(x, 0) − a·min(x, 0) + (a−1)·L
//	OpSigmoidFocal   p0 = α (< 0: none), p1 = γ: α_t·ce·q^γ with ce = BCE with logits
//	                 (a = 1), q = 1 − p_t = (1−y)·σ(x) + y·σ(−x), α_t = αy + (1−α)(1−y);
//	                 d/dx = α_t((1−y)σ(x) − yσ(−x))q^γ + α_t·ce·γq^(γ−1)(1−2y)σ(x)σ(−x),
//	                 d/dy = α_t(−x·q^γ + ce·γq^(γ−1)(σ(−x) − σ(x))) + (2α−1)·ce·q^γ
//	OpHingeEmbedding p0 = margin: x if y = 1, else max(0, margin − x)
//	OpSoftMargin     log(1 + exp(−yx)) = max(−yx, 0) + log1p(exp(−|yx|)); d/dx = −y·σ(−yx)
//	OpHinge          max(0, 1 − yx)
//	OpSquaredHinge   max(0, 1 − yx)²
//	OpKLDiv          p0 = log_target: exp(y)(y − x) if log_target, else
//	                 y(log y − x) (0·log 0 = 0)
//	OpPoissonNLL     p0 = log_input, p1 = full, p2 = eps: exp(x) − yx if log_input,
//	                 else x − y·log(x + eps); full adds y·log y − y + ½log(2πy) where y > 1
//	OpGaussianNLL    a = var, p0 = full, p1 = eps, v = max(a, eps):
//	                 ½(log v + d²/v) (+ ½log 2π if full); d/da = ½(1/v − d²/v²)
//	                 (the clamp passes the gradient through, as PyTorch's does)
//
// The labels of the hinge losses and of soft margin have no gradient (dy = 0).
// Where a loss saturates (a logit far on the side of its target) the loss
// and the gradient are about exp(−|x|): each is formed as a sum of terms
// of one sign, σ(x) and σ(−x) both from e = exp(−|x|) (e/(1 + e) and
// 1/(1 + e)), so that none is the difference of terms of size |x| or 1.
func pointwiseOp[T Float](op int32, x, y, a, p0, p1, p2 T) (l, dx, dy, da T) {
	d := x - y
	switch op {
	case kernelspec.OpMSE:
		return d * d, 2 * d, -2 * d, 0
	case kernelspec.OpL1:
		s := signT(d)
		return absT(d), s, -s, 0
	case kernelspec.OpHuber:
		z := absT(d)
		if z < p0 {
			l = T(0.5) * d * d
		} else {
			l = p0 * (z - T(0.5)*p0)
		}
		g := d
		if d <= -p0 {
			g = -p0
		} else if d >= p0 {
			g = p0
		}
		return l, g, -g, 0
	case kernelspec.OpSmoothL1:
		z := absT(d)
		if p0 == 0 {
			s := signT(d)
			return z, s, -s, 0
		}
		if z < p0 {
			l = T(0.5) * d * d / p0
		} else {
			l = z - T(0.5)*p0
		}
		g := d / p0
		if d <= -p0 {
			g = -1
		} else if d >= p0 {
			g = 1
		}
		return l, g, -g, 0
	case kernelspec.OpLogCosh:
		l, dx = opLogCosh(d)
		return l, dx, -dx, 0
	case kernelspec.OpMAPE:
		l, dx, dy = opMAPE(x, y, p0)
		return l, dx, dy, 0
	case kernelspec.OpMSLE:
		l, dx, dy = opMSLE(x, y, p0)
		return l, dx, dy, 0
	case kernelspec.OpBCE:
		l, dx, dy = opBCE(x, y)
		return l, dx, dy, 0
	case kernelspec.OpBCEWithLogits:
		l, dx, dy = opBCEWithLogits(x, y, a)
		return l, dx, dy, 0
	case kernelspec.OpSigmoidFocal:
		l, dx, dy = opSigmoidFocal(x, y, p0, p1)
		return l, dx, dy, 0
	case kernelspec.OpHingeEmbedding:
		h := p0 - x
		if y == 1 {
			return x, 1, 0, 0
		}
		if h > 0 {
			return h, -1, 0, 0
		}
		return clampMin(h, 0), 0, 0, 0
	case kernelspec.OpSoftMargin:
		sp, sg := softplusSigmoid(-y * x)
		return sp, -y * sg, 0, 0
	case kernelspec.OpHinge:
		h := 1 - y*x
		if h > 0 {
			return h, -y, 0, 0
		}
		return clampMin(h, 0), 0, 0, 0
	case kernelspec.OpSquaredHinge:
		h := clampMin(1-y*x, 0)
		return h * h, -2 * y * h, 0, 0
	case kernelspec.OpKLDiv:
		l, dx, dy = opKLDiv(x, y, p0)
		return l, dx, dy, 0
	case kernelspec.OpPoissonNLL:
		l, dx, dy = opPoissonNLL(x, y, p0, p1, p2)
		return l, dx, dy, 0
	case kernelspec.OpGaussianNLL:
		return opGaussianNLL(x, y, a, p0, p1)
	}
	nan := T(math.NaN())
	return nan, nan, nan, nan
}

func opMAPE[T Float](x, y, eps T) (l, dx, dy T) {
	d := x - y
	z, ay, s := absT(d), absT(y), signT(d)
	m := clampMin(ay, eps)
	dy = -100 * s / m
	if ay > eps {
		dy -= 100 * z * signT(y) / (m * m)
	}
	return 100 * z / m, 100 * s / m, dy
}

func opMSLE[T Float](x, y, eps T) (l, dx, dy T) {
	u, v := logT(clampMin(x, eps)+1), logT(clampMin(y, eps)+1)
	e := u - v
	if x > eps {
		dx = 2 * e / (x + 1)
	}
	if y > eps {
		dy = -2 * e / (y + 1)
	}
	return e * e, dx, dy
}

func opBCE[T Float](x, y T) (l, dx, dy T) {
	lx, l1x := clampMin(logT(x), -100), clampMin(logT(1-x), -100)
	return -(y*lx + (1-y)*l1x), (x - y) / maxT((1-x)*x, 1e-12), l1x - lx
}

func opKLDiv[T Float](x, y, logTarget T) (l, dx, dy T) {
	if logTarget != 0 {
		ey := expT(y)
		return ey * (y - x), -ey, ey * (y - x + 1)
	}
	ly := logT(y)
	var xl T
	if y != 0 {
		xl = y * ly
	}
	return xl - y*x, -y, ly + 1 - x
}

func opPoissonNLL[T Float](x, y, logInput, full, eps T) (l, dx, dy T) {
	if logInput != 0 {
		ex := expT(x)
		l, dx, dy = ex-y*x, ex-y, -x
	} else {
		lx := logT(x + eps)
		l, dx, dy = x-y*lx, 1-y/(x+eps), -lx
	}
	if full != 0 && y > 1 {
		ly := logT(y)
		l += y*ly - y + T(0.5)*(T(log2Pi)+ly)
		dy += ly + T(0.5)/y
	}
	return l, dx, dy
}

func opGaussianNLL[T Float](x, y, a, full, eps T) (l, dx, dy, da T) {
	d := x - y
	v := clampMin(a, eps)
	q := d / v
	l = T(0.5) * (logT(v) + d*q)
	if full != 0 {
		l += T(0.5) * T(log2Pi)
	}
	return l, q, -q, T(0.5) * (1 - d*q) / v
}

// softplusSigmoid returns softplus(z) = log(1 + exp(z)) and sigmoid(z)
// from one exponential, e = exp(−|z|), without branches on the sign of z:
// sigmoid(z) = (z >= 0 ? 1 : e) / (1 + e).
func softplusSigmoid[T Float](z T) (sp, sg T) {
	e := expT(-absT(z))
	s := signFast(z)
	sp = max(z, 0) + log1pT(e)
	sg = (T(0.5)*(1+s) + T(0.5)*(1-s)*e) / (1 + e)
	return sp, sg
}

// logistic returns, from one exponential e = exp(−|x|), L = log1p(e) =
// softplus(−|x|), p = σ(x) and pn = σ(−x) = 1 − p: 1/(1 + e) for the one
// on x's side, e/(1 + e) for the other, both to a few ulps however small
// (never as 1 − σ). NaN propagates.
func logistic[T Float](x T) (L, p, pn T) {
	if unsafe.Sizeof(x) == 4 { // float32: a constant per instantiation
		l, a, b := logistic32(float32(x))
		return T(l), T(a), T(b)
	}
	e := T(math.Exp(-math.Abs(float64(x))))
	r := 1 / (1 + e)
	h := T(0.5) * (1 + signFast(x)) // 1 for x > 0, 0 for x < 0, ½ at 0 (where e = 1)
	return T(math.Log1p(float64(e))), h*r + (1-h)*(e*r), (1-h)*r + h*(e*r)
}

// logistic32 is logistic for float32: expf and log1pUnit32 (about 1 ulp
// each, relative, down to the smallest normal float32).
func logistic32(x float32) (L, p, pn float32) {
	e := expf(-abs32(x))
	r := 1 / (1 + e)
	h := 0.5 * (1 + sign32(x))
	return log1pUnit32(e), h*r + (1-h)*(e*r), (1-h)*r + h*(e*r)
}

// logCoshKnee is where opLogCosh changes form: below it
// −½·log1p(−tanh² d), whose terms have one sign (|d| − log 2 + log1p(e)
// would cancel to d²/2 near 0); at and above it (|d| − log 2) + log1p(e),
// both terms positive (the knee is above log 2).
const logCoshKnee = 0.75

// opLogCosh is log cosh d and tanh d, z = |d|, e = exp(−2z): for
// z < logCoshKnee −½·log1p(−tanh² z), else (z − log 2) + log1p(e).
func opLogCosh[T Float](d T) (l, g T) {
	if unsafe.Sizeof(d) == 4 { // float32: a constant per instantiation
		l, g := logCosh32(float32(d))
		return T(l), T(g)
	}
	v := float64(d)
	z := math.Abs(v)
	if z < logCoshKnee { // false for NaN
		w := math.Tanh(z)
		return T(-0.5 * math.Log1p(-w*w)), T(math.Copysign(w, v))
	}
	return T((z - math.Ln2) + math.Log1p(math.Exp(-2*z))), T(math.Tanh(v))
}

// opBCEWithLogits: w = 1 + (a−1)y, L = log1p(exp(−|x|)): loss
// (1−y)·max(x, 0) − a·y·min(x, 0) + w·L, d/dx = (1−y)·σ(x) − a·y·σ(−x),
// d/dy = −max(x, 0) − a·min(x, 0) + (a−1)·L. For y in [0, 1] and a >= 0
// the loss is a sum of non-negative terms and the gradient the difference
// of two (which vanishes only where the gradient does).
func opBCEWithLogits[T Float](x, y, a T) (l, dx, dy T) {
	L, p, pn := logistic(x)
	xm, xn := max(x, 0), min(x, 0)
	ay := a * y
	lw := 1 + (a-1)*y
	return (1-y)*xm - ay*xn + lw*L, (1-y)*p - ay*pn, -xm - a*xn + (a-1)*L
}

// opSigmoidFocal is torchvision's sigmoid focal loss: with p = σ(x),
// pn = σ(−x), ce = BCE with logits (opBCEWithLogits with a = 1),
// q = 1 − p_t = (1−y)·p + y·pn, loss α_t·ce·q^γ with
// α_t = αy + (1−α)(1−y) (no α_t for α < 0). p − y is (1−y)·p − y·pn,
// p(1 − p) is p·pn and 1 − 2p is pn − p.
func opSigmoidFocal[T Float](x, y, alpha, gamma T) (l, dx, dy T) {
	L, p, pn := logistic(x)
	ce := (1-y)*max(x, 0) - y*min(x, 0) + L
	q := (1-y)*p + y*pn
	var qg, dqg T // q^γ and its derivative γ·q^(γ−1)
	switch {
	case gamma == 2:
		qg, dqg = q*q, 2*q
	case gamma == 0:
		qg, dqg = 1, 0
	case gamma == 1:
		qg, dqg = q, 1
	case q > 0:
		qg = powT(q, gamma)
		dqg = gamma * qg / q
	default:
		qg = powT(q, gamma)
	}
	l0 := ce * qg
	gx := ((1-y)*p-y*pn)*qg + ce*dqg*(1-2*y)*(p*pn)
	gy := -x*qg + ce*dqg*(pn-p)
	if alpha >= 0 {
		at := alpha*y + (1-alpha)*(1-y)
		return at * l0, at * gx, at*gy + (2*alpha-1)*l0
	}
	return l0, gx, gy
}

// pwJob is one pointwise_loss call: the arguments, and the parallel state.
type pwJob[T Float] struct {
	p                 par
	op, flags         int32
	x, y, aux, w      []T
	mask              []int32
	n                 int
	p0, p1, p2, g     T
	auxLen, auxStride int
	wLen, wStride     int
	mLen, mStride     int
	gx, gy, ga, out   []T
	sums              []float64
	chunksPerItem     int
	chunks            int
}

const pwChunksPerItem = 16

var (
	pwJobs32 jobPool[pwJob[float32]]
	pwJobs64 jobPool[pwJob[float64]]
)

func pwJobs[T Float]() *jobPool[pwJob[T]] {
	var z T
	if _, ok := any(z).(float32); ok {
		return any(&pwJobs32).(*jobPool[pwJob[T]])
	}
	return any(&pwJobs64).(*jobPool[pwJob[T]])
}

// bcastIndex is (i / stride) mod len (le_bcast).
func bcastIndex(i, n, stride int) int { return (i / stride) % n }

// pwScratch holds one chunk's per-element results.
type pwScratch[T Float] struct {
	l, gx, gy, ga, a [kernelspec.BlockSize]T
}

// item runs chunks [k·chunksPerItem, (k+1)·chunksPerItem).
func (j *pwJob[T]) item(k int) {
	var sc pwScratch[T]
	for c := k * j.chunksPerItem; c < min((k+1)*j.chunksPerItem, j.chunks); c++ {
		s := j.chunk(c, &sc)
		if j.sums != nil {
			j.sums[c] = s
		}
	}
}

// chunk computes chunk c (elements [c·BlockSize, (c+1)·BlockSize)) and
// returns the sum of its (weighted, masked) losses, added in four lanes
// (i mod 4) and then (l0 + l1) + (l2 + l3).
func (j *pwJob[T]) chunk(c int, sc *pwScratch[T]) float64 {
	const bs = kernelspec.BlockSize
	lo, hi := c*bs, min(c*bs+bs, j.n)
	m := hi - lo
	x, y := j.x[lo:hi], j.y[lo:hi:hi]
	flags := j.flags
	var out []T
	if j.sums == nil {
		out = j.out[lo:hi:hi]
	}
	gx, gy, ga := j.sub(j.gx, lo, hi), j.sub(j.gy, lo, hi), j.sub(j.ga, lo, hi)
	plain := flags&(kernelspec.FlagWeight|kernelspec.FlagMask|kernelspec.FlagGradAux) == 0
	a := j.auxChunk(lo, hi, sc)
	if x32, ok := any(x).([]float32); ok && flags&(kernelspec.FlagWeight|kernelspec.FlagMask) == 0 &&
		(flags&kernelspec.FlagGradAux == 0 || j.op == kernelspec.OpGaussianNLL) {
		if s, ok := vecChunk32(j.op, float32(j.p0), float32(j.p1), float32(j.p2), float32(j.g),
			x32, as32(y), as32(a), as32(gx), as32(gy), as32(ga), as32(out), any(sc).(*pwScratch[float32])); ok {
			return s
		}
	}
	if j.op == kernelspec.OpMSE && plain {
		return mseChunk(x, y, gx, gy, out, j.g)
	}
	if plain && cheapOp(j.op) {
		if x32, ok := any(x).([]float32); ok {
			return cheapChunk32(j.op, x32, as32(y), as32(gx), as32(gy), as32(out), float32(j.g), float32(j.p0),
				any(sc).(*pwScratch[float32]))
		}
	}
	if a == nil {
		a = sc.a[:m]
		if j.op == kernelspec.OpBCEWithLogits || j.op == kernelspec.OpGaussianNLL {
			for i := range a {
				a[i] = 1
			}
		}
	}
	lb, gxb, gyb, gab := sc.l[:m], sc.gx[:m], sc.gy[:m], sc.ga[:m]
	opChunk(j.op, x, y, a, j.p0, j.p1, j.p2, lb, gxb, gyb, gab)
	g := j.g
	if plain {
		if gx != nil {
			for i, v := range gxb {
				gx[i] = g * v
			}
		}
		if gy != nil {
			for i, v := range gyb {
				gy[i] = g * v
			}
		}
		if out != nil {
			copy(out, lb)
		}
		return laneSum(lb)
	}
	var s [4]float64
	for i := range m {
		l, dx, dy, da := lb[i], gxb[i], gyb[i], gab[i]
		if flags&kernelspec.FlagMask != 0 && j.mask[bcastIndex(lo+i, j.mLen, j.mStride)] == 0 {
			l, dx, dy, da = 0, 0, 0, 0
		} else {
			w := g
			if flags&kernelspec.FlagWeight != 0 {
				wi := j.w[bcastIndex(lo+i, j.wLen, j.wStride)]
				l *= wi
				w *= wi
			}
			dx *= w
			dy *= w
			da *= w
		}
		if gx != nil {
			gx[i] = dx
		}
		if gy != nil {
			gy[i] = dy
		}
		if ga != nil {
			ga[i] = da
		}
		if out != nil {
			out[i] = l
		}
		s[i&3] += float64(l)
	}
	return (s[0] + s[1]) + (s[2] + s[3])
}

// auxChunk returns the auxiliary input of elements [lo, hi): a slice of
// aux where it is laid out as the input, else gathered into sc.a; nil
// without FlagAux.
func (j *pwJob[T]) auxChunk(lo, hi int, sc *pwScratch[T]) []T {
	switch {
	case j.flags&kernelspec.FlagAux == 0:
		return nil
	case j.auxStride == 1 && j.auxLen >= j.n:
		return j.aux[lo:hi:hi]
	}
	a := sc.a[:hi-lo]
	for i := range a {
		a[i] = j.aux[bcastIndex(lo+i, j.auxLen, j.auxStride)]
	}
	return a
}

// as32 is v as []float32 (nil where T is float64 or v is nil).
func as32[T Float](v []T) []float32 {
	r, _ := any(v).([]float32)
	return r
}

// cheapOp reports whether op has a fused loop (cheapChunk).
func cheapOp(op int32) bool {
	switch op {
	case kernelspec.OpL1, kernelspec.OpHuber, kernelspec.OpSmoothL1, kernelspec.OpHinge, kernelspec.OpSquaredHinge, kernelspec.OpHingeEmbedding:
		return true
	}
	return false
}

// cheapChunk32 is chunk for the ops of a few arithmetic instructions, without
// weight or mask: one branch-free pass that writes the scaled gradients
// (into scratch where they are not asked for) and adds the losses in four
// lanes. gx, gy, out may be nil. It is written for float32 alone, so that
// every helper inlines; float64 takes the generic path.
func cheapChunk32(op int32, x, y, gx, gy, out []float32, gs, p0 float32, sc *pwScratch[float32]) float64 {
	m := len(x)
	y = y[:m]
	if gx == nil {
		gx = sc.gx[:m]
	}
	if gy == nil {
		gy = sc.gy[:m]
	}
	gx, gy = gx[:m], gy[:m]
	l := sc.l[:m]
	switch op {
	case kernelspec.OpL1:
		ng := -gs
		for i := range x {
			d := x[i] - y[i]
			s := sign32(d)
			l[i], gx[i], gy[i] = abs32(d), gs*s, ng*s
		}
	case kernelspec.OpHuber: // c = min(|d|, δ): ½c² + δ(|d| − c)
		for i := range x {
			d := x[i] - y[i]
			z := abs32(d)
			c := min(z, p0)
			g := gs * min(max(d, -p0), p0)
			l[i], gx[i], gy[i] = c*(0.5*c)+p0*(z-c), g, -g
		}
	case kernelspec.OpSmoothL1:
		if p0 == 0 {
			ng := -gs
			for i := range x {
				d := x[i] - y[i]
				s := sign32(d)
				l[i], gx[i], gy[i] = abs32(d), gs*s, ng*s
			}
			break
		}
		gb := gs / p0
		for i := range x { // huber_loss / β
			d := x[i] - y[i]
			z := abs32(d)
			c := min(z, p0)
			g := gb * min(max(d, -p0), p0)
			l[i], gx[i], gy[i] = c*(0.5*c)/p0+(z-c), g, -g
		}
	case kernelspec.OpHinge:
		for i := range x {
			h := 1 - y[i]*x[i]
			l[i], gx[i], gy[i] = max(h, 0), -gs*y[i]*step32(h), 0
		}
	case kernelspec.OpSquaredHinge:
		for i := range x {
			h := max(1-y[i]*x[i], 0)
			l[i], gx[i], gy[i] = h*h, -2*gs*y[i]*h, 0
		}
	case kernelspec.OpHingeEmbedding: // labels ±1: u = 1 for y = 1, 0 for y = −1
		for i := range x {
			u := 0.5 * (1 + y[i])
			h := p0 - x[i]
			l[i], gx[i], gy[i] = u*x[i]+(1-u)*max(h, 0), gs*(u-(1-u)*step32(h)), 0
		}
	}
	if out != nil {
		copy(out, l)
	}
	return laneSum(l)
}

// laneSum adds l in four lanes of T (element i to lane i mod 4), as the
// kernel's threads add in float32 (or float64), and returns
// (l0 + l1) + (l2 + l3) in float64.
func laneSum[T Float](l []T) float64 {
	var s0, s1, s2, s3 T
	i := 0
	for ; i+4 <= len(l); i += 4 {
		s0 += l[i]
		s1 += l[i+1]
		s2 += l[i+2]
		s3 += l[i+3]
	}
	for ; i < len(l); i++ {
		switch i & 3 {
		case 0:
			s0 += l[i]
		case 1:
			s1 += l[i]
		case 2:
			s2 += l[i]
		}
	}
	return (float64(s0) + float64(s1)) + (float64(s2) + float64(s3))
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// step32 is 1 for x > 0, 0 for x <= 0, NaN for NaN.
func step32(x float32) float32 {
	s := sign32(x)
	return s * (s + 1) / 2
}

func (j *pwJob[T]) sub(v []T, lo, hi int) []T {
	if v == nil {
		return nil
	}
	return v[lo:hi:hi]
}

// opChunk applies pointwiseOp to every element. The exp/log ops have loops
// of their own that call their element functions directly (float32 ones
// in opChunk32); the cheap ops without weight or mask take cheapChunk32,
// and here, with weight, mask or float64, pointwiseOp.
func opChunk[T Float](op int32, x, y, a []T, p0, p1, p2 T, l, gx, gy, ga []T) {
	y, a, l, gx, gy, ga = y[:len(x)], a[:len(x)], l[:len(x)], gx[:len(x)], gy[:len(x)], ga[:len(x)]
	if x32, ok := any(x).([]float32); ok {
		if opChunk32(op, x32, as32(y), as32(a), as32(l), as32(gx), as32(gy)) {
			return
		}
	}
	switch op {
	case kernelspec.OpLogCosh:
		for i := range x {
			v, g := opLogCosh(x[i] - y[i])
			l[i], gx[i], gy[i] = v, g, -g
		}
	case kernelspec.OpBCEWithLogits:
		for i := range x {
			l[i], gx[i], gy[i] = opBCEWithLogits(x[i], y[i], a[i])
		}
	case kernelspec.OpSigmoidFocal:
		for i := range x {
			l[i], gx[i], gy[i] = opSigmoidFocal(x[i], y[i], p0, p1)
		}
	case kernelspec.OpSoftMargin:
		for i := range x {
			sp, sg := softplusSigmoid(-y[i] * x[i])
			l[i], gx[i], gy[i] = sp, -y[i]*sg, 0
		}
	case kernelspec.OpMAPE:
		for i := range x {
			l[i], gx[i], gy[i] = opMAPE(x[i], y[i], p0)
		}
	case kernelspec.OpMSLE:
		for i := range x {
			l[i], gx[i], gy[i] = opMSLE(x[i], y[i], p0)
		}
	case kernelspec.OpBCE:
		for i := range x {
			l[i], gx[i], gy[i] = opBCE(x[i], y[i])
		}
	case kernelspec.OpKLDiv:
		for i := range x {
			l[i], gx[i], gy[i] = opKLDiv(x[i], y[i], p0)
		}
	case kernelspec.OpPoissonNLL:
		for i := range x {
			l[i], gx[i], gy[i] = opPoissonNLL(x[i], y[i], p0, p1, p2)
		}
	case kernelspec.OpGaussianNLL:
		for i := range x {
			l[i], gx[i], gy[i], ga[i] = opGaussianNLL(x[i], y[i], a[i], p0, p1)
		}
	default:
		for i := range x {
			l[i], gx[i], gy[i], ga[i] = pointwiseOp(op, x[i], y[i], a[i], p0, p1, p2)
		}
	}
}

// opChunk32 is opChunk for float32 and the exp/log-bound ops where the
// generic helpers cost as much as the math: loops of non-generic code that
// call expf and logFast directly. It reports whether it handled op.
func opChunk32(op int32, x, y, a, l, gx, gy []float32) bool {
	switch op {
	case kernelspec.OpLogCosh:
		for i := range x {
			v, g := logCosh32(x[i] - y[i])
			l[i], gx[i], gy[i] = v, g, -g
		}
	case kernelspec.OpSoftMargin:
		for i := range x {
			sp, sg := softplusSigmoid32(-y[i] * x[i])
			l[i], gx[i], gy[i] = sp, -y[i]*sg, 0
		}
	case kernelspec.OpBCEWithLogits:
		for i := range x {
			xi, yi, ai := x[i], y[i], a[i]
			L, p, pn := logistic32(xi)
			xm, xn := max(xi, 0), min(xi, 0)
			ay, lw := ai*yi, 1+(ai-1)*yi
			l[i], gx[i], gy[i] = (1-yi)*xm-ay*xn+lw*L, (1-yi)*p-ay*pn, -xm-ai*xn+(ai-1)*L
		}
	default:
		return false
	}
	return true
}

// logCosh32 is opLogCosh for float32, in float32 arithmetic. Below the
// knee tanh z is tanhSmall32 and −½·log1p(−w²) = atanh(w²/(2 − w²)) by
// atanh2Unit32; above it (z − log 2) + log1pUnit32(e) and tanh z =
// (1 − e)/(1 + e), e = expf(−2z) <= e^−1.5. A few ulps throughout.
func logCosh32(d float32) (l, g float32) {
	z := abs32(d)
	if z < logCoshKnee { // false for NaN
		w := tanhSmall32(z)
		w2 := w * w
		return 0.5 * atanh2Unit32(w2/(2-w2)), math.Float32frombits(math.Float32bits(w) | math.Float32bits(d)&(1<<31))
	}
	e := expf(-2 * z)
	return (z - log2) + log1pUnit32(e), sign32(d) * (1 - e) / (1 + e)
}

// tanhSmall32 is tanh z for z in [0, logCoshKnee]: z + z³·P(z²), P of
// degree 5 fitted to (tanh z − z)/z³ for the least largest relative error
// of the result (about 1.2 ulp with float32 evaluation).
func tanhSmall32(z float32) float32 {
	t := z * z
	p := float32(tanhP5)
	p = p*t + tanhP4
	p = p*t + tanhP3
	p = p*t + tanhP2
	p = p*t + tanhP1
	p = p*t + tanhP0
	return z + z*t*p
}

// The coefficients of tanhSmall32 (and of the vector loops' tanh).
const (
	tanhP0 = -0.33333316445350647
	tanhP1 = 0.1333269476890564
	tanhP2 = -0.053892720490694046
	tanhP3 = 0.02145202085375786
	tanhP4 = -0.007657235488295555
	tanhP5 = 0.0017369241686537862
)

// log1pUnit32 is log(1 + u) for u in [0, 1], in float32 arithmetic:
// atanh2Unit32(u/(2 + u)).
func log1pUnit32(u float32) float32 { return atanh2Unit32(u / (2 + u)) }

// atanh2Unit32 is 2·atanh(s) = log((1 + s)/(1 − s)) for s in [0, 1/3], in
// float32 arithmetic, by its odd series to s¹⁵ (truncation below 3e-9
// relative), so about 1 ulp.
func atanh2Unit32(s float32) float32 {
	s2 := s * s
	p := float32(1.0 / 15)
	p = p*s2 + 1.0/13
	p = p*s2 + 1.0/11
	p = p*s2 + 1.0/9
	p = p*s2 + 1.0/7
	p = p*s2 + 1.0/5
	p = p*s2 + 1.0/3
	return 2 * (s + s*s2*p)
}

// softplusSigmoid32 is softplusSigmoid for float32, from logistic32:
// softplus(z) = max(z, 0) + log1p(e) and σ(z).
func softplusSigmoid32(z float32) (sp, sg float32) {
	L, p, _ := logistic32(z)
	return max(z, 0) + L, p
}

// mseChunk is the chunk of mse_loss without weight or mask: the training
// case of a reduced loss with the gradient w.r.t. input runs four lanes
// without branches. gx, gy and out may be nil.
func mseChunk[T Float](x, y, gx, gy, out []T, gs T) float64 {
	var s [4]float64
	if out == nil && len(gx) == len(x) {
		g2, ng2 := 2*gs, -2*gs
		i := 0
		var s0, s1, s2, s3 T
		if gy != nil {
			gy = gy[:len(x)]
			for ; i+4 <= len(x); i += 4 {
				xv, yv, gv, hv := x[i:i+4:i+4], y[i:i+4:i+4], gx[i:i+4:i+4], gy[i:i+4:i+4]
				d0, d1, d2, d3 := xv[0]-yv[0], xv[1]-yv[1], xv[2]-yv[2], xv[3]-yv[3]
				gv[0], gv[1], gv[2], gv[3] = g2*d0, g2*d1, g2*d2, g2*d3
				hv[0], hv[1], hv[2], hv[3] = ng2*d0, ng2*d1, ng2*d2, ng2*d3
				s0 += d0 * d0
				s1 += d1 * d1
				s2 += d2 * d2
				s3 += d3 * d3
			}
		} else {
			for ; i+4 <= len(x); i += 4 {
				xv, yv, gv := x[i:i+4:i+4], y[i:i+4:i+4], gx[i:i+4:i+4]
				d0, d1, d2, d3 := xv[0]-yv[0], xv[1]-yv[1], xv[2]-yv[2], xv[3]-yv[3]
				gv[0], gv[1], gv[2], gv[3] = g2*d0, g2*d1, g2*d2, g2*d3
				s0 += d0 * d0
				s1 += d1 * d1
				s2 += d2 * d2
				s3 += d3 * d3
			}
		}
		s = [4]float64{float64(s0), float64(s1), float64(s2), float64(s3)}
		for ; i < len(x); i++ {
			d := x[i] - y[i]
			gx[i] = g2 * d
			if gy != nil {
				gy[i] = ng2 * d
			}
			s[i&3] += float64(d * d)
		}
		return (s[0] + s[1]) + (s[2] + s[3])
	}
	for i := range x {
		d := x[i] - y[i]
		if gx != nil {
			gx[i] = gs * (2 * d)
		}
		if gy != nil {
			gy[i] = gs * (-2 * d)
		}
		if out != nil {
			out[i] = d * d
		}
		s[i&3] += float64(d * d)
	}
	return (s[0] + s[1]) + (s[2] + s[3])
}

var pwSums jobPool[[]float64]

// pointwiseLoss mirrors pointwise_loss(op, input, target, aux, weight,
// mask, n, p0, p1, p2, aux_len, aux_stride, w_len, w_stride, m_len,
// m_stride, grad_scale, denom, flags, grad_input, grad_target, grad_aux,
// out). For each i < n, with
//
//	(l, dx, dy, da) = pointwiseOp(op, input[i], target[i], a, p0, p1, p2)
//	a    = aux[(i / aux_stride) mod aux_len]       (1 without FlagAux)
//	w    = weight[(i / w_stride) mod w_len]        (1 without FlagWeight)
//	keep = mask[(i / m_stride) mod m_len] != 0     (true without FlagMask)
//	g    = grad_scale / denom[0]                   (grad_scale without FlagDenom)
//
// it writes
//
//	grad_input[i]  = keep ? (g·w)·dx : 0           if flags & FlagGradInput
//	grad_target[i] = keep ? (g·w)·dy : 0           if flags & FlagGradTarget
//	grad_aux[i]    = keep ? (g·w)·da : 0           if flags & FlagGradAux
//	out[i]         = keep ? w·l : 0                unless flags & FlagReduce
//	out[b]         = Σ_{i in part b} (keep ? w·l : 0)   if flags & FlagReduce
//
// where, for a grid of B blocks, part b holds the i with
// (i / BlockSize) mod B == b (the grid-stride loop of the kernel). The
// kernel adds each part in a fixed order and tree. The mirror adds each
// BlockSize chunk in float64, then each part's chunks in chunk order, so
// its result does not depend on the core count.
func pointwiseLoss[T Float](a argv) error {
	jp := pwJobs[T]()
	j := jp.get()
	defer jp.put(j)
	j.op, j.x, j.y, j.aux, j.w, j.mask, j.n = int32(a.int(0)), fbuf[T](a, 1), fbuf[T](a, 2), fbuf[T](a, 3), fbuf[T](a, 4), a.ints(5), a.int(6)
	j.p0, j.p1, j.p2 = T(a.real(7)), T(a.real(8)), T(a.real(9))
	j.auxLen, j.auxStride, j.wLen, j.wStride, j.mLen, j.mStride = a.int(10), a.int(11), a.int(12), a.int(13), a.int(14), a.int(15)
	j.g = T(a.real(16))
	j.flags = int32(a.int(18))
	if j.flags&kernelspec.FlagDenom != 0 {
		j.g = j.g / fbuf[T](a, 17)[0]
	}
	j.gx, j.gy, j.ga, j.out = fbuf[T](a, 19), fbuf[T](a, 20), fbuf[T](a, 21), fbuf[T](a, 22)
	if j.flags&kernelspec.FlagGradInput == 0 {
		j.gx = nil
	}
	if j.flags&kernelspec.FlagGradTarget == 0 {
		j.gy = nil
	}
	if j.flags&kernelspec.FlagGradAux == 0 {
		j.ga = nil
	}
	const bs = kernelspec.BlockSize
	j.chunks = (j.n + bs - 1) / bs
	j.chunksPerItem = pwChunksPerItem
	reduce := j.flags&kernelspec.FlagReduce != 0
	j.sums = nil
	var sp *[]float64
	if reduce {
		sp = pwSums.get()
		if cap(*sp) < j.chunks {
			*sp = make([]float64, j.chunks)
		}
		j.sums = (*sp)[:j.chunks]
	}
	runPar(&j.p, j, (j.chunks+j.chunksPerItem-1)/j.chunksPerItem)
	if reduce {
		blocks := a.grid.Blocks
		for b := 0; b < blocks; b++ {
			var s float64
			for c := b; c < j.chunks; c += blocks {
				s += j.sums[c]
			}
			j.out[b] = T(s)
		}
		pwSums.put(sp)
	}
	j.x, j.y, j.aux, j.w, j.mask, j.gx, j.gy, j.ga, j.out, j.sums = nil, nil, nil, nil, nil, nil, nil, nil, nil, nil
	return nil
}

// maskCount mirrors mask_count(mask, n, m_len, m_stride, out): out[b] is
// the number of i < n in part b (as in pointwise_loss) whose
// mask[(i / m_stride) mod m_len] is not 0.
func maskCount[T Float](a argv) error {
	mask, n, mLen, mStride, out := a.ints(0), a.int(1), a.int(2), a.int(3), fbuf[T](a, 4)
	blocks := a.grid.Blocks
	const bs = kernelspec.BlockSize
	for b := 0; b < blocks; b++ {
		c := 0
		for start := b * bs; start < n; start += blocks * bs {
			for i := start; i < min(start+bs, n); i++ {
				if mask[bcastIndex(i, mLen, mStride)] != 0 {
					c++
				}
			}
		}
		out[b] = T(c)
	}
	return nil
}

// broadcastSum mirrors broadcast_sum(x, n, len, stride, out): for j < len,
// out[j] = Σ x[i] over the i < n with (i / stride) mod len == j, the
// gradient of a buffer broadcast with (len, stride). The kernel adds each
// j's members in a fixed order and tree; the mirror adds them in index
// order in float64.
func broadcastSum[T Float](a argv) error {
	x, n, ln, stride, out := fbuf[T](a, 0), a.int(1), a.int(2), a.int(3), fbuf[T](a, 4)
	sums := make([]float64, ln)
	for i := range n {
		sums[bcastIndex(i, ln, stride)] += float64(x[i])
	}
	for j := range ln {
		out[j] = T(sums[j])
	}
	return nil
}
