package kerneltest

import (
	"fmt"
	"math"
	"testing"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() { addFamily("matmul", testMatmul, matmulSizeCases) }

// mmShape is one matmul case: [m, k]·[k, n].
type mmShape struct{ m, n, k int }

// mmShapes: one element, odd sizes from 1 to 67 on either side of the
// 64×64 output tile and the 16-deep k tile, exact tiles, k = 0, m = 0 and
// n = 0 (no output), k = 1, and a product of several tiles each way.
var mmShapes = []mmShape{{1, 1, 1}, {3, 5, 7}, {17, 1, 33}, {1, 67, 15}, {65, 63, 17}, {64, 64, 16},
	{67, 45, 1}, {31, 45, 0}, {0, 5, 3}, {5, 0, 3}, {2, 3, 67}, {300, 257, 129}}

// mmCase is one matmul launch's settings.
type mmCase struct {
	sh           mmShape
	ta, tb       int32
	alpha, beta  float64
	bias         bool
	nanC, nonfin bool // NaN in c (with beta = 0: must not show); NaN and ∞ in a
}

func (c mmCase) String() string {
	s := fmt.Sprintf("%dx%dx%d/trans=%d%d/alpha=%g/beta=%g/bias=%v", c.sh.m, c.sh.n, c.sh.k, c.ta, c.tb, c.alpha, c.beta,
		c.bias)
	if c.nanC {
		s += "/nan-c"
	}
	if c.nonfin {
		s += "/nan-inf-a"
	}
	return s
}

// mmCases: every shape with every transpose combination, alternating
// the settings: beta 0 with NaN in c (BLAS's convention: c not read),
// beta 1 (accumulate into c) and beta −0.5, bias on and off, and NaN and
// ∞ in a (NaN where they enter a sum, matched exactly).
func mmCases() []mmCase {
	var cs []mmCase
	i := 0
	for _, sh := range mmShapes {
		for _, tr := range [][2]int32{{0, 0}, {0, 1}, {1, 0}, {1, 1}} {
			c := mmCase{sh: sh, ta: tr[0], tb: tr[1], alpha: 0.75}
			switch i % 4 {
			case 0:
				c.beta, c.nanC, c.bias = 0, true, true
			case 1:
				c.beta, c.bias = 1, false
			case 2:
				c.beta, c.bias, c.alpha = -0.5, true, 1
			case 3:
				c.beta, c.bias = 0, false
			}
			cs = append(cs, c)
			if i%3 == 0 && sh.m*sh.k > 0 {
				n := c
				n.nonfin = true
				cs = append(cs, n)
			}
			i++
		}
	}
	return cs
}

// mmInputs returns a case's a, b, c and bias.
func mmInputs(c mmCase, seed int) (a, b, cc, bias []float32) {
	rng := newRand(71, seed)
	m, n, k := c.sh.m, c.sh.n, c.sh.k
	a, b, cc, bias = randn(rng, m*k, 1), randn(rng, k*n, 1), randn(rng, m*n, 1), randn(rng, max(n, 1), 1)
	if c.nanC {
		for e := range cc {
			if e%5 == 0 {
				cc[e] = nan
			}
		}
	}
	if c.nonfin {
		a[0] = nan
		a[len(a)-1] = float32(math.Inf(1))
		for q := range b {
			if q%3 == 0 {
				b[q] = 0
			}
		}
	}
	return a, b, cc, bias
}

// mmNaive is matmul's definition in float64, a triple loop, with the sum
// of the magnitudes of each output's terms (its error scale).
func mmNaive(c mmCase, a, b, cin, bias []float32) (want []float64, absSum []float64) {
	m, n, k := c.sh.m, c.sh.n, c.sh.k
	want, absSum = make([]float64, m*n), make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, sa float64
			for q := 0; q < k; q++ {
				av, bv := a[i*k+q], b[q*n+j]
				if c.ta != 0 {
					av = a[q*m+i]
				}
				if c.tb != 0 {
					bv = b[j*k+q]
				}
				p := float64(av) * float64(bv)
				s += p
				sa += math.Abs(p)
			}
			v, va := c.alpha*s, math.Abs(c.alpha)*sa
			if c.beta != 0 {
				v += c.beta * float64(cin[i*n+j])
				va += math.Abs(c.beta * float64(cin[i*n+j]))
			}
			if c.bias {
				v += float64(bias[j])
				va += math.Abs(float64(bias[j]))
			}
			want[i*n+j], absSum[i*n+j] = v, va
		}
	}
	return want, absSum
}

// mmBlocks is the matmul grid: ceil(m/64)·ceil(n/64) blocks, at least one
// (a launch with m or n = 0 then checks that the block writes nothing).
func mmBlocks(m, n int) int { return max(1, ((m+63)/64)*((n+63)/64)) }

func testMatmul(t *testing.T, s *suite) {
	for i, c := range mmCases() {
		t.Run(c.String(), func(t *testing.T) {
			r := s.rig(t)
			a, b, cin, bias := mmInputs(c, i)
			hasBias := int32(0)
			if c.bias {
				hasBias = 1
			}
			m, n, k := c.sh.m, c.sh.n, c.sh.k
			// Every third case takes its operands at row offsets (2, 1
			// and 3 stored rows) behind rows of 7s, which nothing may read
			// into the result or overwrite.
			var a0, b0, c0 int
			if i%3 == 1 {
				a0, b0, c0 = 2, 1, 3
			}
			sa, sb := k, n
			if c.ta != 0 {
				sa = m
			}
			if c.tb != 0 {
				sb = k
			}
			pad := func(v []float32, rows, stored int) []float32 {
				p := make([]float32, rows*stored, rows*stored+len(v))
				for e := range p {
					p[e] = 7
				}
				return append(p, v...)
			}
			r.launch("matmul", mmBlocks(m, n), pad(a, a0, sa), pad(b, b0, sb), pad(cin, c0, n), int32(m), int32(n), int32(k),
				c.ta, c.tb, c.alpha, c.beta, hasBias, bias, int32(a0), int32(b0), int32(c0))
			// The kernel's float32 sum has about 16 + k/16 roundings of
			// the sum of the terms' magnitudes, BLAS's up to k.
			got, mir := r.floats(r.arg("c"))
			for e := 0; e < c0*n; e++ {
				if got[e] != 7 || mir[e] != 7 {
					t.Fatalf("c[%d], before row c_row0, was written: %v on the device, %v on the mirror", e, got[e], mir[e])
				}
			}
			got, mir = got[c0*n:], mir[c0*n:]
			want, absSum := mmNaive(c, a, b, cin, bias)
			for e, w := range want {
				g, h := float64(got[e]), float64(mir[e])
				if math.IsNaN(w) || math.IsInf(w, 0) || math.IsNaN(absSum[e]) || math.IsInf(absSum[e], 0) {
					if !sameFloat(g, w) || !sameFloat(h, w) {
						t.Fatalf("c[%d] = %v on the device, %v on the mirror, want %v", e, g, h, w)
					}
					continue
				}
				bound := 6e-8*float64(k+20)*absSum[e] + 1e-30
				if math.Abs(g-w) > bound || math.Abs(h-w) > bound {
					t.Fatalf("c[%d] = %v on the device, %v on the mirror, want %v (bound %g)", e, g, h, w, bound)
				}
			}
			r.compare(exact, on("c", tol{rel: 1e-5, abs: 2e-6 * math.Sqrt(float64(k+1))}))
		})
	}
	t.Run("determinism", func(t *testing.T) { testMatmulDeterminism(t, s.d) })
}

// testMatmulDeterminism runs the 300×257×129 product twice on the device
// (each transpose combination, accumulating into c with a bias) and wants
// bitwise-identical results.
func testMatmulDeterminism(t *testing.T, d device.Device) {
	const m, n, k = 300, 257, 129
	rng := newRand(72, 0)
	a, b := upload(t, d, randn(rng, m*k, 1)), upload(t, d, randn(rng, k*n, 1))
	cin, bias := randn(rng, m*n, 1), upload(t, d, randn(rng, n, 1))
	g := device.Grid{Blocks: mmBlocks(m, n), Threads: kernelspec.BlockSize}
	for _, tr := range [][2]int32{{0, 0}, {0, 1}, {1, 0}, {1, 1}} {
		run := func() []float32 {
			c := upload(t, d, cin)
			must(t, d.Launch("matmul", g, a, b, c, int32(m), int32(n), int32(k), tr[0], tr[1], 0.5, 1.0, int32(1), bias,
				int32(0), int32(0), int32(0)))
			return readAll(t, d, c)
		}
		if x, y := run(), run(); !sameBits(x, y) {
			t.Errorf("trans=%d%d: two identical runs gave different bits", tr[0], tr[1])
		}
	}
}

// matmulSizeCases: a [3, 4]·[4, 70] product (two blocks of output
// columns), with and without bias, in two transpose combinations.
func matmulSizeCases() []sizeCase {
	const m, n, k = 3, 70, 4
	var cs []sizeCase
	for _, tr := range [][2]int32{{0, 1}, {1, 0}} {
		for _, hb := range []int32{0, 1} {
			bias := spare()
			if hb != 0 {
				bias = need(n)
			}
			cs = append(cs, sizeCase{kernel: "matmul", what: fmt.Sprintf("trans=%d%d/bias=%d", tr[0], tr[1], hb), blocks: 2,
				guarded: true,
				args: []any{need(m * k), need(k * n), need(m * n), int32(m), int32(n), int32(k), tr[0], tr[1], 0.5, 1.0,
					hb, bias, int32(0), int32(0), int32(0)}})
		}
	}
	// At row offsets: a [3, 4] from row 2 (8 more), b from stored row 1
	// (4 or 70 more), c from row 2 (140 more).
	for _, tr := range [][2]int32{{0, 1}, {1, 0}} {
		sa, sb := int(k), int(n)
		if tr[0] != 0 {
			sa = m
		}
		if tr[1] != 0 {
			sb = k
		}
		cs = append(cs, sizeCase{kernel: "matmul", what: fmt.Sprintf("trans=%d%d/offsets", tr[0], tr[1]), blocks: 2,
			guarded: true,
			args: []any{need(2*sa + m*k), need(sb + k*n), need(2*n + m*n), int32(m), int32(n), int32(k), tr[0], tr[1], 0.5, 1.0,
				int32(0), spare(), int32(2), int32(1), int32(2)}})
	}
	return cs
}
