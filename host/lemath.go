package host

import (
	"math"
	"unsafe"
)

// Go twins of kernels/lemath.h. They compute in float64.

// Log1pExp returns log(1 + exp(x)) without overflow (le_log1p_exp).
func Log1pExp(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

// LogAddExp returns log(exp(a) + exp(b)), exact when either is -Inf
// (le_log_add_exp).
func LogAddExp(a, b float64) float64 {
	if math.IsInf(a, -1) {
		return b
	}
	if math.IsInf(b, -1) {
		return a
	}
	m := math.Max(a, b)
	return m + math.Log1p(math.Exp(-math.Abs(a-b)))
}

// lse is the online log-sum-exp state m + log(s) (le_lse_push,
// le_lse_merge, le_lse_value).
type lse struct{ m, s float64 }

func newLSE() lse { return lse{m: math.Inf(-1)} }

func (l *lse) push(x float64) {
	if math.IsNaN(x) || math.IsInf(x, 1) || math.IsNaN(l.m) {
		l.m, l.s = math.NaN(), math.NaN()
		return
	}
	if math.IsInf(x, -1) {
		return
	}
	if x > l.m {
		l.s = l.s*math.Exp(l.m-x) + 1
		l.m = x
	} else {
		l.s += math.Exp(x - l.m)
	}
}

func (l lse) value() float64 {
	if math.IsInf(l.m, -1) {
		return math.Inf(-1)
	}
	return l.m + math.Log(l.s)
}

// expf is exp for float32: Cody-Waite range reduction by ln 2 and a
// degree-6 minimax polynomial (the classic Cephes coefficients), accurate
// to about 1 ulp. Results below the smallest normal float32 flush to 0.
func expf(x float32) float32 {
	const (
		log2e = 1.44269504088896341
		c1    = 0.693359375
		c2    = -2.12194440e-4
		magic = 12582912 // 1.5 * 2^23: adding it rounds to an integer
	)
	if !(x > -87.33654) { // also NaN
		if x != x {
			return x
		}
		return 0
	}
	if x > 88.72283 {
		return float32(math.Inf(1))
	}
	k := float32(float32(x*log2e)+magic) - magic
	r := float32(x - k*c1)
	r = float32(r - k*c2)
	p := float32(1.9875691500e-4)
	p = float32(p*r) + 1.3981999507e-3
	p = float32(p*r) + 8.3334519073e-3
	p = float32(p*r) + 4.1665795894e-2
	p = float32(p*r) + 1.6666665459e-1
	p = float32(p*r) + 5.0000001201e-1
	y := float32(float32(p*r)*r) + r + 1
	n := int32(k)
	if n < -126 { // y in [0.7, 1.42): scale in two steps
		return y * math.Float32frombits(uint32(n+127+64)<<23) * math.Float32frombits(uint32(127-64)<<23)
	}
	if n > 127 { // y < 1: 2^128 itself is not a float32
		return (y * 2) * math.Float32frombits(uint32(n-1+127)<<23)
	}
	return y * math.Float32frombits(uint32(n+127)<<23)
}

// expShiftSum writes dst[i] = exp(src[i] - m) (if dst is not nil) and
// returns the sum of those values. Float32 rows are added in four float64
// lanes (i mod 4) that are then added in order, so the result is fixed.
func expShiftSum[T Float](dst, src []T, m T) float64 {
	switch sv := any(src).(type) {
	case []float32:
		var dv []float32
		if dst != nil {
			dv = any(dst).([]float32)[:len(sv)]
		}
		return expShiftSum32(dv, sv, float32(m))
	case []float64:
		var s float64
		mm := float64(m)
		if dst == nil {
			for _, x := range sv {
				s += math.Exp(x - mm)
			}
			return s
		}
		dv := any(dst).([]float64)
		dv = dv[:len(sv)]
		for i, x := range sv {
			e := math.Exp(x - mm)
			dv[i] = e
			s += e
		}
		return s
	}
	return 0
}

// expShiftSum32 is expShiftSum for float32 (m must be the maximum of src,
// so every src[i]-m <= 0). It runs four branch-free copies of expf side by
// side (expNeg4) so that the polynomial chains overlap, and adds the values
// in four float64 lanes that are then added in a fixed order. Arguments
// below -87.33 give about 1.2e-38 instead of a subnormal or 0, which
// changes no sum that includes exp(0) = 1.
func expShiftSum32(dst, src []float32, m float32) float64 {
	var s0, s1, s2, s3 float64
	s0, i := expShiftSumVec(dst, src, m) // AVX2: the first len &^ 7
	for ; i+4 <= len(src); i += 4 {
		e0, e1, e2, e3 := expNeg(src[i]-m), expNeg(src[i+1]-m), expNeg(src[i+2]-m), expNeg(src[i+3]-m)
		if dst != nil {
			d := dst[i : i+4 : i+4]
			d[0], d[1], d[2], d[3] = e0, e1, e2, e3
		}
		s0 += float64(e0)
		s1 += float64(e1)
		s2 += float64(e2)
		s3 += float64(e3)
	}
	for ; i < len(src); i++ {
		e := expf(src[i] - m)
		if dst != nil {
			dst[i] = e
		}
		s0 += float64(e)
	}
	return (s0 + s1) + (s2 + s3)
}

// exp2Table[j] = 2^(j/64), rounded to float32.
var exp2Table = func() (t [64]float32) {
	for j := range t {
		t[j] = float32(math.Exp2(float64(j) / 64))
	}
	return t
}()

// expNeg is exp for float32 arguments x <= 0 (or NaN), without branches:
// x = (64q + j) ln2/64 + r with |r| <= ln2/128, so
// exp(x) = 2^q · 2^(j/64) · (1 + r + r²/2), whose truncation error
// (|r|³/6 < 2.7e-8) is below float32 resolution; about 2 ulp in all.
// Arguments below -87.33 give about 1.2e-38 instead of a subnormal or 0.
func expNeg(x float32) float32 {
	const (
		k64   = 92.332482616893656    // 64/ln 2
		c1    = 0.01082611083984375   // 1419/2^17: ln2/64 to 11 bits, so k*c1 is exact
		c2    = 4.313856405395097e-06 // ln2/64 - c1
		magic = 12582912
	)
	if x < -87.33654 { // false for NaN, which then propagates
		x = -87.33654
	}
	k := float32(float32(x*k64)+magic) - magic
	r := float32(x-k*c1) - k*c2
	p := float32(float32(float32(r*0.5)+1)*r) + 1
	n := int32(k)
	return p * exp2Table[n&63] * math.Float32frombits(uint32((n>>6)+127)<<23)
}

// rowMax returns the maximum of x, scanning four lanes at a time, or NaN
// when x holds NaN and no finite or +Inf maximum (−Inf if empty). A NaN
// beside a larger value is not reported here: every caller then adds
// exp(x − max) over the row, which is NaN, so the row's result is NaN all
// the same, and the scan stays free of the per-element NaN tests.
func rowMax[T Float](x []T) T {
	inf := T(math.Inf(-1))
	m0, m1, m2, m3 := inf, inf, inf, inf
	i := 0
	if x32, ok := any(x).([]float32); ok { // AVX2: the first len &^ 7
		var v float32
		if v, i = maxVec(x32); i > 0 {
			m0 = T(v)
		}
	}
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		if v[0] > m0 {
			m0 = v[0]
		}
		if v[1] > m1 {
			m1 = v[1]
		}
		if v[2] > m2 {
			m2 = v[2]
		}
		if v[3] > m3 {
			m3 = v[3]
		}
	}
	for ; i < len(x); i++ {
		if x[i] > m0 {
			m0 = x[i]
		}
	}
	m := max(m0, m1, m2, m3)
	if m == inf {
		for _, v := range x {
			if v != v {
				return v
			}
		}
	}
	return m
}

// exp64 is exp in T's precision.
func expT[T Float](x T) T {
	if unsafe.Sizeof(x) == 4 { // float32: a constant per instantiation
		return T(expf(float32(x)))
	}
	return T(math.Exp(float64(x)))
}
