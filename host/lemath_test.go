package host

import (
	"math"
	"math/rand/v2"
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

// TestRowMaxNaN pins what the callers of rowMax see with NaN in a row:
// the row's log-sum-exp is NaN whether or not the NaN is beside a larger
// value, in both precisions.
func TestRowMaxNaN(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(-1)
	for _, row := range [][]float64{{1, nan, 2}, {nan, 5, 1, 2, 3, 4, 0}, {inf, nan}, {nan}, {inf, inf, inf, inf, nan}, {3, 1, 2, 0, nan}} {
		if v := rowLSE(row); v == v {
			t.Errorf("rowLSE(%v) = %v, want NaN", row, v)
		}
		r32 := make([]float32, len(row))
		for i, v := range row {
			r32[i] = float32(v)
		}
		if v := rowLSE(r32); v == v {
			t.Errorf("rowLSE(float32 %v) = %v, want NaN", row, v)
		}
	}
	if m := rowMax([]float32{1, 7, 3, 2, 5, 9, 0}); m != 9 {
		t.Errorf("rowMax = %v", m)
	}
	if m := rowMax([]float64{}); !math.IsInf(m, -1) {
		t.Errorf("rowMax(empty) = %v", m)
	}
}

func TestRowLSE32(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	inf := float32(math.Inf(-1))
	for it := 0; it < 2000; it++ {
		n := 1 + r.IntN(300)
		row := make([]float32, n)
		scale := []float64{1, 10, 100, 1e4}[it%4]
		for i := range row {
			row[i] = float32(r.NormFloat64() * scale)
		}
		if it%7 == 0 {
			row[r.IntN(n)] = inf
		}
		if it%11 == 0 { // an outlier far above the sampled reference
			row[r.IntN(n)] = 500
		}
		got, want := float64(rowLSE32(row)), float64(rowLSE(row))
		if !(math.Abs(got-want) <= 2e-7*math.Max(1, math.Abs(want))) {
			t.Fatalf("row %d (n=%d, scale %g): rowLSE32 %v, rowLSE %v", it, n, scale, got, want)
		}
	}
	for _, row := range [][]float32{{}, {inf}, {inf, inf}, {float32(math.NaN()), 1}, {1, float32(math.Inf(1))}, {inf, float32(math.NaN())}} {
		got, want := rowLSE32(row), rowLSE(row)
		if !(got == want || got != got && want != want) {
			t.Errorf("rowLSE32(%v) = %v, rowLSE %v", row, got, want)
		}
	}
}
