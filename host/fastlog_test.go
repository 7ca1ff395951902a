package host

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestExpFastLogFast(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var worstE, worstL, worstP float64
	for i := 0; i < 1_000_000; i++ {
		x := -700 * r.Float64()
		if i%2 == 0 {
			x = 10*r.Float64() - 9 // around 0, both signs
		}
		if d := math.Abs(expFast(x)/math.Exp(x) - 1); d > worstE {
			worstE = d
		}
		y := 1 + 2*r.Float64()
		if i%3 == 0 {
			y = math.Exp(20 * (r.Float64() - 0.5))
		}
		if d := math.Abs(logFast(y) - math.Log(y)); d > worstL {
			worstL = d
		}
		if d := math.Abs(logSum(y) - math.Log(y)); d > worstP {
			worstP = d
		}
	}
	if worstE > 1e-13 || worstL > 1e-13 || worstP > 1e-11 {
		t.Fatalf("expFast relative error %g, logFast absolute error %g, logSum %g", worstE, worstL, worstP)
	}
	if expFast(0) != 1 || logFast(1) != 0 {
		t.Fatalf("expFast(0) = %v, logFast(1) = %v: want exact", expFast(0), logFast(1))
	}
	if v := expFast(math.Inf(-1)); !(v >= 0 && v < 1e-300) {
		t.Fatalf("expFast(-Inf) = %v", v)
	}
	if v := expFast(math.NaN()); v == v {
		t.Fatalf("expFast(NaN) = %v", v)
	}
	t.Logf("expFast max rel err %.3g, logFast max abs err %.3g", worstE, worstL)
}

// TestLogFastSpecial: logFast agrees with math.Log outside the positive
// normal range: NaN propagates, log(0) = −Inf, log(+Inf) = +Inf,
// negatives give NaN, and subnormals their logarithm.
func TestLogFastSpecial(t *testing.T) {
	for _, y := range []float64{math.NaN(), -math.NaN(), 0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), -1, -1e-300,
		math.SmallestNonzeroFloat64, 1e-310, 0x1p-1022, 0x1p-1022 * (1 - 0x1p-52), math.MaxFloat64, 1, 2.5} {
		got, want := logFast(y), math.Log(y)
		switch {
		case math.IsNaN(want):
			if !math.IsNaN(got) {
				t.Errorf("logFast(%v) = %v, want NaN", y, got)
			}
		case math.IsInf(want, 0):
			if got != want {
				t.Errorf("logFast(%v) = %v, want %v", y, got, want)
			}
		default:
			if math.Abs(got-want) > 1e-13*math.Max(1, math.Abs(want)) {
				t.Errorf("logFast(%v) = %v, want %v", y, got, want)
			}
		}
	}
}
