package kerneltest

import (
	"fmt"
	"math"
	"testing"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

var reduceSizes = []int{0, 1, 255, 256, 257, 100003}

func testReduce(t *testing.T, s *suite) {
	t.Run("reduce_sum", func(t *testing.T) { testReduceSum(t, s) })
	t.Run("count_nan", func(t *testing.T) { testCountNaN(t, s) })
	t.Run("count_invalid", func(t *testing.T) { testCountInvalid(t, s) })
}

// testReduceSum sums positive data (where the sum bounds the error, so
// that a relative tolerance holds) and signed data (where the error is
// bounded by the sum of the magnitudes), with and without a divisor, and
// over a zero divisor. out starts at 42, so that a missing write shows.
func testReduceSum(t *testing.T, s *suite) {
	i := 0
	for _, n := range reduceSizes {
		for _, data := range []string{"positive", "signed"} {
			for _, hasDiv := range []int32{0, 1} {
				rng := newRand(9, i)
				i++
				t.Run(fmt.Sprintf("n=%d/%s/div=%d", n, data, hasDiv), func(t *testing.T) {
					r := s.rig(t)
					var xs []float32
					tl := tol{rel: 2e-6}
					if data == "positive" {
						xs = uniform(rng, n, 0, 2)
					} else {
						xs = randn(rng, n, 1)
						sumAbs := 0.0
						for _, v := range xs {
							sumAbs += math.Abs(float64(v))
						}
						tl = tol{floor: 1e-6*sumAbs + 1e-7}
					}
					x := r.buf(xs)
					r.launch("reduce_sum", 1, x, int32(n), 0.5, hasDiv, []float32{3}, []float32{42})
					r.compare(exact, on("out", tl))
					if hasDiv == 1 {
						r.launch("reduce_sum", 1, x, int32(n), 0.5, hasDiv, []float32{0}, []float32{42})
						r.compare(exact) // ±Inf or NaN
					}
				})
			}
		}
	}
}

// testCountNaN counts NaNs placed at random (one in twenty), at the block
// edges 255 and 256, and at 0, n/3, n/2 and n-1, on the manifest grid and
// on others.
func testCountNaN(t *testing.T, s *suite) {
	i := 0
	for _, n := range reduceSizes {
		for _, blocks := range grids(n) {
			rng := newRand(10, i)
			i++
			t.Run(fmt.Sprintf("n=%d/blocks=%d", n, blocks), func(t *testing.T) {
				r := s.rig(t)
				xs := randn(rng, n, 1)
				for i := range xs {
					if rng.Float64() < 0.05 {
						xs[i] = nan
					}
				}
				for _, k := range []int{0, 255, 256, n - 1, n / 2, n / 3} {
					if k >= 0 && k < n {
						xs[k] = nan
					}
				}
				r.launch("count_nan", blocks, xs, int32(n), make([]int32, blocks))
				r.compare(exact)
			})
		}
	}
}

func testCountInvalid(t *testing.T, s *suite) {
	for _, mode := range []int32{kernelspec.InvalidOutside, kernelspec.InvalidNotSign} {
		t.Run(fmt.Sprintf("mode=%d", mode), func(t *testing.T) {
			r := s.rig(t)
			r.launch("count_invalid", 1, []float32{0, 1, 0.5, -1, 1.5, nan, float32(math.Copysign(0, -1))}, int32(7),
				mode, 0.0, 1.0, make([]int32, 1))
			r.compare(exact)
		})
	}
}
