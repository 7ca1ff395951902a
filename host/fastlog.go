package host

import "math"

// Fast float64 exp and log for the float32 CTC mirror, which computes in
// float64 and rounds to float32 only when it stores: they are accurate to
// about 1e-13 relative, far below float32 resolution. The float64 mirror
// uses math.Exp and math.Log1p.

// exp2Tab64[j] = 2^(j/64).
var exp2Tab64 = func() (t [64]float64) {
	for j := range t {
		t[j] = math.Exp2(float64(j) / 64)
	}
	return t
}()

// expFast returns exp(x) to about 1e-13 relative for x in [-708, 709].
// Arguments below -708 (-Inf included) give about 3e-308 instead of 0 or a
// subnormal, which changes no sum that includes a term of order 1;
// arguments above 709 give about 8e307; NaN propagates. Reduction:
// x = (64q + j)·ln2/64 + r, |r| <= ln2/128, exp(x) = 2^q·2^(j/64)·e^r with
// a degree-5 Taylor polynomial for e^r (truncation below 2e-16).
func expFast(x float64) float64 {
	const (
		k64   = 92.33248261689366     // 64/ln 2
		c1    = 0.010830424696223417  // ln2/64, high part (trailing bits zero)
		c2    = 2.572804622327669e-14 // ln2/64 - c1
		magic = 6755399441055744.0    // 1.5·2^52: adding it rounds to an integer
		lo    = -708.0
		hi    = 709.0
	)
	if x < lo { // false for NaN, which then propagates through r
		x = lo
	}
	if x > hi {
		x = hi
	}
	k := (x*k64 + magic) - magic
	r := (x - k*c1) - k*c2
	p := 1 + r*(1+r*(0.5+r*(1.0/6+r*(1.0/24+r*(1.0/120)))))
	n := int64(k)
	return p * exp2Tab64[n&63] * math.Float64frombits(uint64((n>>6)+1023)<<52)
}

// logTab[j] = log(1 + j/128) and invTab[j] = 1/(1 + j/128).
var logTab, invTab = func() (l, v [128]float64) {
	for j := range l {
		m := 1 + float64(j)/128
		l[j] = math.Log(m)
		v[j] = 1 / m
	}
	return
}()

// logFast returns log(y) to about 1e-14 absolute for positive normal y:
// y = 2^e·m with m in [1, 2), m = (1 + j/128)(1 + f) with 0 <= f < 1/128,
// and log(1+f) by its series to f^5 (truncation below 5e-14). Every other
// y (0, subnormals, negatives, +Inf, NaN) goes to math.Log: log(0) = −Inf,
// log(+Inf) = +Inf, NaN for NaN and negatives. One unsigned comparison
// tells them apart.
func logFast(y float64) float64 {
	const ln2 = 0.6931471805599453
	b := math.Float64bits(y)
	// b − (smallest normal) wraps around for 0, subnormals and negatives
	// (sign bit set), and is at least +Inf − (smallest normal) for +Inf
	// and NaN.
	if b-0x0010000000000000 >= 0x7ff0000000000000-0x0010000000000000 {
		return math.Log(y)
	}
	e := float64(int64(b>>52) - 1023)
	j := (b >> 45) & 127
	m := math.Float64frombits(b&(1<<52-1) | 1023<<52)
	f := m*invTab[j] - 1
	p := f * (1 - f*(0.5-f*(1.0/3-f*(0.25-f*0.2))))
	return e*ln2 + logTab[j] + p
}
