package host

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// mmRef is the matmul formula in float64, a triple loop, with each
// output's sum of term magnitudes (its error scale).
func mmRef[T Float](ta, tb bool, m, n, k int, alpha float64, a, b []T, beta float64, c, bias []T) (want, mag []float64) {
	want, mag = make([]float64, m*n), make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, sa float64
			for q := 0; q < k; q++ {
				av, bv := a[i*k+q], b[q*n+j]
				if ta {
					av = a[q*m+i]
				}
				if tb {
					bv = b[j*k+q]
				}
				p := float64(av) * float64(bv)
				s, sa = s+p, sa+math.Abs(p)
			}
			v, va := alpha*s, math.Abs(alpha)*sa
			if beta != 0 {
				v += beta * float64(c[i*n+j])
				va += math.Abs(beta * float64(c[i*n+j]))
			}
			if bias != nil {
				v += float64(bias[j])
				va += math.Abs(float64(bias[j]))
			}
			want[i*n+j], mag[i*n+j] = v, va
		}
	}
	return want, mag
}

func mmRandom[T Float](r *rand.Rand, n int) []T {
	v := make([]T, n)
	for i := range v {
		v[i] = T(r.NormFloat64())
	}
	return v
}

// testMatmulAgainstRef runs Matmul in T on every transpose combination and
// shapes around the kernel's tiles and gonum's 64-wide blocks, with and
// without bias, beta 0 (c full of NaN: must not be read), 1 and −0.5, and
// k = 0, against the float64 triple loop, within eps·(k + 4) of each
// output's sum of term magnitudes.
func testMatmulAgainstRef[T Float](t *testing.T, eps float64) {
	r := rand.New(rand.NewPCG(81, 1))
	shapes := [][3]int{{1, 1, 1}, {3, 5, 7}, {67, 1, 33}, {1, 67, 64}, {65, 63, 17}, {130, 129, 200}, {4, 5, 0}}
	for _, sh := range shapes {
		m, n, k := sh[0], sh[1], sh[2]
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			for _, beta := range []float64{0, 1, -0.5} {
				for _, withBias := range []bool{false, true} {
					name := fmt.Sprintf("%dx%dx%d/trans=%v/beta=%g/bias=%v", m, n, k, tr, beta, withBias)
					a, b, c := mmRandom[T](r, m*k), mmRandom[T](r, k*n), mmRandom[T](r, m*n)
					var bias []T
					if withBias {
						bias = mmRandom[T](r, n)
					}
					if beta == 0 {
						for i := range c {
							c[i] = T(math.NaN())
						}
					}
					want, mag := mmRef(tr[0], tr[1], m, n, k, 0.75, a, b, beta, c, bias)
					if err := Matmul(tr[0], tr[1], m, n, k, 0.75, a, b, T(beta), c, bias); err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					for e, w := range want {
						if d := math.Abs(float64(c[e]) - w); !(d <= eps*float64(k+4)*mag[e]) {
							t.Fatalf("%s: c[%d] = %v, want %v (|diff| %g)", name, e, c[e], w, d)
						}
					}
				}
			}
		}
	}
}

func TestMatmulFloat32(t *testing.T) { testMatmulAgainstRef[float32](t, 6e-8) }
func TestMatmulFloat64(t *testing.T) { testMatmulAgainstRef[float64](t, 1.2e-16) }

// TestMatmulNonFinite: a NaN or an infinity in an operand reaches exactly
// the outputs whose sums it enters, even against a zero (0·∞ = NaN), as
// in the kernel, where BLAS would skip the zero's products.
func TestMatmulNonFinite(t *testing.T) {
	// a = [[∞, 1], [2, 3]], b = [[0, 1], [1, 1]]: c = [[NaN, ∞], [3, 5]].
	a := []float32{float32(math.Inf(1)), 1, 2, 3}
	b := []float32{0, 1, 1, 1}
	c := make([]float32, 4)
	if err := Matmul(false, false, 2, 2, 2, 1, a, b, 0, c, nil); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(float64(c[0])) || !math.IsInf(float64(c[1]), 1) || c[2] != 3 || c[3] != 5 {
		t.Errorf("c = %v, want [NaN +Inf 3 5]", c)
	}
}

// TestMatmulErrors: a negative size or a short slice is refused before
// anything is written.
func TestMatmulErrors(t *testing.T) {
	a, b, c := make([]float64, 6), make([]float64, 6), []float64{7, 7, 7, 7}
	for _, tc := range []struct {
		name    string
		m, n, k int
		bias    []float64
	}{
		{"negative m", -1, 2, 3, nil}, {"negative k", 2, 2, -3, nil}, {"short a", 3, 2, 3, nil},
		{"short c", 2, 3, 2, nil}, {"short bias", 2, 2, 3, []float64{1}},
	} {
		if err := Matmul(false, false, tc.m, tc.n, tc.k, 1, a, b, 0, c, tc.bias); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
		for _, v := range c {
			if v != 7 {
				t.Fatalf("%s: c written: %v", tc.name, c)
			}
		}
	}
}

// FuzzMatmul: any sizes, transposes, alpha, beta and slice lengths either
// are refused with an error (nothing written) or give the float64 triple
// loop's result within float32 rounding; nothing panics.
func FuzzMatmul(f *testing.F) {
	f.Add(uint8(3), uint8(5), uint8(7), uint8(0), float32(0.5), float32(1), true, int8(0))
	f.Add(uint8(65), uint8(1), uint8(0), uint8(3), float32(-1), float32(0), false, int8(-1))
	f.Add(uint8(0), uint8(4), uint8(2), uint8(1), float32(2), float32(-0.5), true, int8(1))
	f.Fuzz(func(t *testing.T, m8, n8, k8, tr uint8, alpha, beta float32, withBias bool, short int8) {
		m, n, k := int(m8%80), int(n8%80), int(k8%80)
		if math.IsNaN(float64(alpha)) || math.IsInf(float64(alpha), 0) || math.Abs(float64(alpha)) > 1e6 ||
			math.IsNaN(float64(beta)) || math.IsInf(float64(beta), 0) || math.Abs(float64(beta)) > 1e6 {
			return
		}
		r := rand.New(rand.NewPCG(uint64(m*6400+n*80+k), uint64(tr)))
		// short < 0 takes one element off a, short > 0 off c.
		la, lc := m*k, m*n
		if short < 0 && la > 0 {
			la--
		}
		if short > 0 && lc > 0 {
			lc--
		}
		a, b, c := mmRandom[float32](r, la), mmRandom[float32](r, k*n), mmRandom[float32](r, lc)
		var bias []float32
		if withBias {
			bias = mmRandom[float32](r, n)
		}
		ta, tb := tr&1 != 0, tr&2 != 0
		before := append([]float32(nil), c...)
		err := Matmul(ta, tb, m, n, k, alpha, a, b, beta, c, bias)
		if la < m*k || lc < m*n {
			if err == nil {
				t.Fatalf("short slices accepted")
			}
			for i := range c {
				if math.Float32bits(c[i]) != math.Float32bits(before[i]) {
					t.Fatalf("c written on an error")
				}
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		want, mag := mmRef(ta, tb, m, n, k, float64(alpha), a, b, float64(beta), before, bias)
		for e, w := range want {
			if d := math.Abs(float64(c[e]) - w); !(d <= 6e-8*float64(k+4)*mag[e]+1e-37) {
				t.Fatalf("c[%d] = %v, want %v", e, c[e], w)
			}
		}
	})
}

// TestMatmulFinite: mmFinite finds a NaN or an infinity anywhere in a
// long slice (every chunk boundary and the tail), and passes huge and
// tiny finite values.
func TestMatmulFinite(t *testing.T) {
	n := 3<<16 + 5
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i%7) * 1e37
	}
	v[1] = math.SmallestNonzeroFloat32
	if !mmFinite(v) || !mmFinite(v[:10]) {
		t.Fatal("finite values reported non-finite")
	}
	for _, at := range []int{0, 3, 1<<16 - 1, 1 << 16, 2<<16 + 1, n - 1} {
		for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
			old := v[at]
			v[at] = bad
			if mmFinite(v) {
				t.Errorf("%v at %d not found", bad, at)
			}
			v[at] = old
		}
	}
}

// A logits tile hidden·Wᵀ + bias on Go slices: hidden [2, 3], W [4, 3]
// (trans_b), bias [4].
func ExampleMatmul() {
	hidden := []float32{1, 2, 3, 4, 5, 6}
	w := []float32{1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1}
	bias := []float32{0, 0, 0, 0.5}
	logits := make([]float32, 2*4)
	if err := Matmul(false, true, 2, 4, 3, 1, hidden, w, 0, logits, bias); err != nil {
		fmt.Println(err)
	}
	fmt.Println(logits)
	// Output: [1 2 3 6.5 4 5 6 15.5]
}
