package host

import (
	"math"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() {
	register("reduce_sum", reduceSum[float32], reduceSum[float64])
	register("count_nan", countNaN[float32], countNaN[float64])
	register("count_invalid", countInvalid[float32], countInvalid[float64])
}

// reduceSum mirrors reduce_sum(x, n, scale, has_divisor, divisor, out):
//
//	out[0] = scale * Σ_{i<n} x[i] / (has_divisor ? divisor[0] : 1)
//
// except that a zero divisor gives NaN whatever the sum (a weighted mean
// over no weight is undefined, as in PyTorch, where it is 0/0).
//
// The kernel runs one block: thread t adds x[t], x[t+BlockSize], ... in
// order, then the block adds the 256 partials in a fixed tree. The mirror
// adds in float64, in index order.
func reduceSum[T Float](a argv) error {
	x, n, scale, hasDiv, div, out := fbuf[T](a, 0), a.int(1), a.real(2), a.int(3) != 0, fbuf[T](a, 4), fbuf[T](a, 5)
	var s float64
	for _, v := range x[:n] {
		s += float64(v)
	}
	s *= scale
	if hasDiv {
		if div[0] == 0 {
			s = math.NaN()
		} else {
			s /= float64(div[0])
		}
	}
	out[0] = T(s)
	return nil
}

// countNaN mirrors count_nan(x, n, counts): counts[b] is the number of NaN
// elements of x[:n] in part b, where part b holds the i with
// (i / BlockSize) mod B == b for a grid of B blocks.
func countNaN[T Float](a argv) error {
	countParts(fbuf[T](a, 0), a.int(1), a.ints(2), a.grid.Blocks, func(v T) bool { return v != v })
	return nil
}

// countInvalid mirrors count_invalid(x, n, mode, lo, hi, counts): counts[b]
// is the number of elements of x[:n] in part b (as in countNaN) that are
// invalid for mode: InvalidOutside, x < lo or x > hi (NaN is valid here);
// InvalidNotSign, x is neither -1 nor 1 (NaN is invalid).
func countInvalid[T Float](a argv) error {
	mode, lo, hi := int32(a.int(2)), T(a.real(3)), T(a.real(4))
	bad := func(v T) bool { return v != -1 && v != 1 }
	if mode == kernelspec.InvalidOutside {
		bad = func(v T) bool { return v < lo || v > hi }
	}
	countParts(fbuf[T](a, 0), a.int(1), a.ints(5), a.grid.Blocks, bad)
	return nil
}

// countParts sets counts[b] to the number of x[i], i < n, in part b of a
// grid of blocks blocks (i / BlockSize mod blocks == b) for which bad is
// true.
func countParts[T Float](x []T, n int, counts []int32, blocks int, bad func(T) bool) {
	const bs = kernelspec.BlockSize
	for b := 0; b < blocks; b++ {
		var c int32
		for start := b * bs; start < n; start += blocks * bs {
			for _, v := range x[start:min(start+bs, n)] {
				if bad(v) {
					c++
				}
			}
		}
		counts[b] = c
	}
}
