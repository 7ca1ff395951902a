package host

import (
	"math"
	"testing"
)

func TestExpf(t *testing.T) {
	worst := 0.0
	for x := float32(-87); x < 88.7; x += 0.0137 {
		got := float64(expf(x))
		want := math.Exp(float64(x))
		rel := math.Abs(got-want) / want
		worst = math.Max(worst, rel)
	}
	if worst > 2.5e-7 {
		t.Fatalf("expf worst relative error %g, want <= 2.5e-7 (about 2 ulp)", worst)
	}
	if expf(float32(math.Inf(-1))) != 0 || !math.IsInf(float64(expf(100)), 1) {
		t.Fatal("expf limits wrong")
	}
	if v := expf(float32(math.NaN())); v == v {
		t.Fatal("expf(NaN) is not NaN")
	}
	if expf(0) != 1 {
		t.Fatalf("expf(0) = %v", expf(0))
	}
}

func TestLogAddExp(t *testing.T) {
	if got := LogAddExp(math.Log(2), math.Log(3)); math.Abs(got-math.Log(5)) > 1e-15 {
		t.Fatal(got)
	}
	if LogAddExp(math.Inf(-1), 1.5) != 1.5 || LogAddExp(2, math.Inf(-1)) != 2 {
		t.Fatal("-inf not exact")
	}
	if got := Log1pExp(1e4); got != 1e4 {
		t.Fatal(got)
	}
	if got := Log1pExp(0); math.Abs(got-math.Log(2)) > 1e-15 {
		t.Fatal(got)
	}
}

func TestExpNeg(t *testing.T) {
	worst := 0.0
	for x := float32(-87); x <= 0; x += 0.00137 {
		got := float64(expNeg(x))
		want := math.Exp(float64(x))
		worst = math.Max(worst, math.Abs(got-want)/want)
	}
	if worst > 2.5e-7 {
		t.Fatalf("expNeg worst relative error %g, want <= 2.5e-7", worst)
	}
	if v := expNeg(float32(math.NaN())); v == v {
		t.Fatal("expNeg(NaN) is not NaN")
	}
	if v := expNeg(float32(math.Inf(-1))); v > 1.2e-38 {
		t.Fatalf("expNeg(-Inf) = %v", v)
	}
	if expNeg(0) != 1 {
		t.Fatalf("expNeg(0) = %v", expNeg(0))
	}
}
