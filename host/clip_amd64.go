//go:build amd64 && !purego

package host

// clipSumSqAVX2 is in clip_amd64.s.
//
//go:noescape
func clipSumSqAVX2(x *float32, n int, out *[2]float64)

// clipSumSqVec is Σ x² and max x² over the first len(x) &^ 7 elements of
// x, in float64, and that count (0 without AVX2).
func clipSumSqVec(x []float32) (sum, maxSq float64, done int) {
	n := len(x) &^ 7
	if !hasAVX2FMA || n == 0 {
		return 0, 0, 0
	}
	var out [2]float64
	clipSumSqAVX2(&x[0], n, &out)
	return out[0], out[1], n
}

// clipSumSqBlocksAVX2 is in clip_amd64.s.
//
//go:noescape
func clipSumSqBlocksAVX2(x *float32, nblocks int, out *float64)

// clipSumSqBlocks sets out[2k] and out[2k+1] to Σ x² and max x² over the
// k-th run of BlockSize (256) elements of x, for k < len(x)/256, as
// clipSumSqVec gives them for that run alone; it does nothing and returns
// false without AVX2.
func clipSumSqBlocks(x []float32, out []float64) bool {
	k := len(x) / 256
	if !hasAVX2FMA || k == 0 || len(out) < 2*k {
		return false
	}
	clipSumSqBlocksAVX2(&x[0], k, &out[0])
	return true
}
