package kerneltest

import (
	"fmt"
	"math"
	"testing"
)

func init() { addFamily("gram", testGram, gramSizeCases) }

// gemmShape is one gram_gemm case: batch matrices [m, k]·[k, n].
type gemmShape struct{ batch, m, n, k int }

// gemmShapes: one element, sizes that are not multiples of the 16×16
// tile, C = 1, H·W = 1 (k = 1), k = 0, an empty batch, exact tiles and a
// large k.
var gemmShapes = []gemmShape{{1, 1, 1, 1}, {2, 3, 5, 7}, {1, 17, 17, 1}, {3, 1, 1, 40}, {2, 33, 20, 47},
	{0, 3, 3, 3}, {2, 16, 16, 16}, {1, 31, 45, 0}, {1, 5, 5, 70000}, {1, 70, 3, 257}}

func testGram(t *testing.T, s *suite) {
	t.Run("gram_gemm", func(t *testing.T) { testGramGemm(t, s) })
	t.Run("gram_diff", func(t *testing.T) { testGramDiff(t, s) })
	t.Run("feature_diff", func(t *testing.T) { testFeatureDiff(t, s) })
	t.Run("gram_layer_sum", func(t *testing.T) { testGramLayerSum(t, s) })
}

// naiveGemm is gram_gemm's definition in float64, a triple loop.
func naiveGemm(a, b []float32, sh gemmShape, ta, tb bool, alpha float64) (c []float32, absSum []float64) {
	m, n, k := sh.m, sh.n, sh.k
	c, absSum = make([]float32, sh.batch*m*n), make([]float64, sh.batch*m*n)
	for p := 0; p < sh.batch; p++ {
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var s, sa float64
				for q := 0; q < k; q++ {
					av, bv := a[p*m*k+i*k+q], b[p*k*n+q*n+j]
					if ta {
						av = a[p*m*k+q*m+i]
					}
					if tb {
						bv = b[p*k*n+j*k+q]
					}
					s += float64(av) * float64(bv)
					sa += math.Abs(float64(av) * float64(bv))
				}
				c[(p*m+i)*n+j] = float32(alpha * s)
				absSum[(p*m+i)*n+j] = math.Abs(alpha) * sa
			}
		}
	}
	return c, absSum
}

// testGramGemm compares gram_gemm on the device with its mirror and both
// with the float64 triple loop, for every transpose combination; the
// "special" variant puts a NaN, an infinity and zeros in the operands
// (NaN where 0·∞ or NaN enters a sum, matched exactly); "same" passes one
// buffer as a and b, a Gram matrix as the losses launch it.
func testGramGemm(t *testing.T, s *suite) {
	i := 0
	for _, sh := range gemmShapes {
		for _, tr := range [][2]int32{{0, 1}, {0, 0}, {1, 0}, {1, 1}} {
			for _, v := range []string{"plain", "special", "same"} {
				special, same := v == "special", v == "same"
				if special && sh.batch*sh.m*sh.k == 0 || same && (sh.m != sh.n || tr != [2]int32{0, 1}) {
					continue
				}
				rng := newRand(61, i)
				i++
				name := fmt.Sprintf("%dx%dx%dx%d/trans=%d%d", sh.batch, sh.m, sh.n, sh.k, tr[0], tr[1])
				if v != "plain" {
					name += "/" + v
				}
				t.Run(name, func(t *testing.T) {
					r := s.rig(t)
					a, b := randn(rng, sh.batch*sh.m*sh.k, 1), randn(rng, sh.batch*sh.k*sh.n, 1)
					if special {
						a[0] = nan
						a[len(a)-1] = float32(math.Inf(1))
						for q := range b {
							if q%3 == 0 {
								b[q] = 0
							}
						}
					}
					var ab, bb any = a, b
					if same { // a Gram matrix a·aᵀ: one buffer as a and b
						b = a
						p := r.buf(a)
						ab, bb = p, p
					}
					alpha := 0.37
					tm, tn := (sh.m+15)/16, (sh.n+15)/16
					r.launch("gram_gemm", max(1, sh.batch*tm*tn), ab, bb, filled(sh.batch*sh.m*sh.n, 42),
						int32(sh.batch), int32(sh.m), int32(sh.n), int32(sh.k), tr[0], tr[1], alpha)
					// The error of a float32 sum of k products: about
					// (16 + k/16) roundings of the sum of their magnitudes
					// for the kernel's two levels, k for BLAS's order.
					got, mir := r.floats(r.arg("c"))
					want, absSum := naiveGemm(a, b, sh, tr[0] != 0, tr[1] != 0, alpha)
					for e := range want {
						w, g, h := float64(want[e]), float64(got[e]), float64(mir[e])
						bound := 6e-8*float64(sh.k+16)*absSum[e] + 1e-6*math.Abs(w)
						if math.IsNaN(w) || math.IsInf(w, 0) || absSum[e] != absSum[e] {
							if !sameFloat(g, w) || !sameFloat(h, w) {
								t.Fatalf("c[%d] = %v on the device, %v on the mirror, want %v", e, g, h, w)
							}
							continue
						}
						if math.Abs(g-w) > bound || math.Abs(h-w) > bound {
							t.Fatalf("c[%d] = %v on the device, %v on the mirror, want %v (bound %g)", e, g, h, w, bound)
						}
					}
					r.compare(exact, on("c", tol{rel: 1e-5, abs: 2e-6 * math.Sqrt(float64(sh.k+1))}))
				})
			}
		}
	}
}

// sameFloat: both NaN, or equal.
func sameFloat(a, b float64) bool { return a == b || (a != a && b != b) }

func testGramDiff(t *testing.T, s *suite) {
	i := 0
	for _, n := range []int{0, 1, 255, 257, 100003} {
		for _, blocks := range grids(n) {
			for _, inPlace := range []bool{false, true} {
				rng := newRand(62, i)
				i++
				t.Run(fmt.Sprintf("n=%d/blocks=%d/in-place=%v", n, blocks, inPlace), func(t *testing.T) {
					r := s.rig(t)
					gx, gy := r.buf(randn(rng, n, 1)), r.buf(randn(rng, n, 1))
					var d any = filled(n, 42)
					if inPlace {
						d = gx
					}
					r.launch("gram_diff", blocks, gx, gy, int32(n), d, filled(blocks, 42))
					r.compare(exact, on("partials", tol{rel: 1e-5}))
				})
			}
		}
	}
}

// testFeatureDiff: MSE and L1, with and without gradients, in place, with
// ties (d = 0, whose L1 gradient is 0) and a NaN.
func testFeatureDiff(t *testing.T, s *suite) {
	i := 0
	for _, n := range []int{0, 1, 255, 257, 100003} {
		for _, blocks := range grids(n) {
			for _, l1 := range []int32{0, 1} {
				for _, mode := range []string{"grads", "no-grads", "in-place"} {
					rng := newRand(63, i)
					i++
					t.Run(fmt.Sprintf("n=%d/blocks=%d/l1=%d/%s", n, blocks, l1, mode), func(t *testing.T) {
						r := s.rig(t)
						xs, ys := randn(rng, n, 1), randn(rng, n, 1)
						for k := 0; k < n; k += 7 {
							ys[k] = xs[k]
						}
						if n > 3 {
							xs[3] = nan
						}
						x, y := r.buf(xs), r.buf(ys)
						has := int32(1)
						var gx, gy any = filled(n, 42), filled(n, 42)
						switch mode {
						case "no-grads":
							has, gx, gy = 0, filled(1, 42), filled(1, 42)
						case "in-place":
							gx, gy = x, y
						}
						r.launch("feature_diff", blocks, x, y, int32(n), l1, 0.25, has, gx, has, gy, filled(blocks, 42))
						r.compare(exact, on("partials", tol{rel: 1e-5}))
					})
				}
			}
		}
	}
}

func testGramLayerSum(t *testing.T, s *suite) {
	i := 0
	for _, n := range []int{0, 1, 257, 1024} {
		for _, slot := range []int32{0, 3} {
			rng := newRand(64, i)
			i++
			t.Run(fmt.Sprintf("n=%d/slot=%d", n, slot), func(t *testing.T) {
				r := s.rig(t)
				r.launch("gram_layer_sum", 1, uniform(rng, n, 0, 2), int32(n), 0.5, slot, filled(4, 42))
				r.compare(exact, on("slots", tol{rel: 2e-6}))
				r.launch("gram_layer_sum", 1, uniform(rng, n, 0, 2), int32(0), math.NaN(), slot, filled(4, 42))
				r.compare(exact) // the mean of nothing: NaN
			})
		}
	}
}

// gramSizeCases: batch 2 of [3, 4]·[4, 5] products (one tile each), 300
// elements over two blocks for the grid-stride kernels.
func gramSizeCases() []sizeCase {
	const b, m, n, k = 2, 3, 5, 4
	var cs []sizeCase
	for _, tr := range [][2]int32{{0, 1}, {1, 0}} {
		cs = append(cs, sizeCase{kernel: "gram_gemm", what: fmt.Sprintf("trans=%d%d", tr[0], tr[1]), blocks: b, guarded: true,
			args: []any{need(b * m * k), need(b * k * n), need(b * m * n), int32(b), int32(m), int32(n), int32(k), tr[0], tr[1], 0.5},
			bad:  []badScalar{bad("k", math.MaxInt32), bad("m", math.MaxInt32)}})
	}
	const e = 300
	cs = append(cs,
		sizeCase{kernel: "gram_diff", blocks: 2, args: []any{need(e), need(e), int32(e), need(e), need(2)}},
		sizeCase{kernel: "feature_diff", what: "grads", blocks: 2,
			args: []any{need(e), need(e), int32(e), int32(0), 0.5, int32(1), need(e), int32(1), need(e), need(2)}},
		sizeCase{kernel: "feature_diff", what: "no grads", blocks: 2,
			args: []any{need(e), need(e), int32(e), int32(1), 0.5, int32(0), spare(), int32(0), spare(), need(2)}},
		sizeCase{kernel: "gram_layer_sum", blocks: 1, guarded: true,
			args: []any{need(10), int32(10), 0.5, int32(2), need(3)}},
	)
	return cs
}
