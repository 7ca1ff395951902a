package kerneltest

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

var (
	negInf = float32(math.Inf(-1))
	posInf = float32(math.Inf(1))
	nan    = float32(math.NaN())
)

// newRand is the random source of case i of a family: each case draws its
// own inputs, so that a case run alone (-run) sees the same ones.
func newRand(family uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(family, uint64(i)))
}

func randn(rng *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64() * scale)
	}
	return v
}

func uniform(rng *rand.Rand, n int, lo, hi float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(lo + (hi-lo)*rng.Float64())
	}
	return v
}

func filled(n int, v float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func zeros(n int) []float32 { return make([]float32, n) }

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// shape is a [rows, cols] matrix.
type shape struct{ rows, cols int }

func (s shape) String() string { return fmt.Sprintf("%dx%d", s.rows, s.cols) }

// special sets some entries of x [rows, cols] to -inf, and, with two rows
// or more, the whole of row 1; with nan, one entry of row 0 to NaN.
func special(rng *rand.Rand, x []float32, s shape, withNaN bool) {
	for i := 0; i < max(1, len(x)/50); i++ {
		x[rng.IntN(len(x))] = negInf
	}
	if s.rows >= 2 {
		for c := 0; c < s.cols; c++ {
			x[s.cols+c] = negInf
		}
	}
	if withNaN {
		x[rng.IntN(s.cols)] = nan // row 0
	}
}

// softRows returns [rows, cols] rows of probabilities.
func softRows(rng *rand.Rand, s shape) []float32 {
	y := make([]float32, s.rows*s.cols)
	for i := 0; i < s.rows; i++ {
		var sum float64
		row := make([]float64, s.cols)
		for k := range row {
			row[k] = rng.ExpFloat64()
			sum += row[k]
		}
		for k := range row {
			y[i*s.cols+k] = float32(row[k] / sum)
		}
	}
	return y
}

// partialBlocks is the manifest grid of a grid-stride kernel over n
// elements: min(ceil(n/BlockSize), MaxReduceBlocks), at least 1.
func partialBlocks(n int) int {
	return max(1, min((n+kernelspec.BlockSize-1)/kernelspec.BlockSize, kernelspec.MaxReduceBlocks))
}

// grids returns the manifest grid for n, 3 blocks (so that the
// grid-stride loop wraps, or blocks go idle), and for large n
// MaxReduceBlocks.
func grids(n int) []int {
	b := partialBlocks(n)
	out := []int{b}
	if b != 3 {
		out = append(out, 3)
	}
	if n > kernelspec.MaxReduceBlocks*kernelspec.BlockSize/4 && b != kernelspec.MaxReduceBlocks {
		out = append(out, kernelspec.MaxReduceBlocks)
	}
	return out
}
