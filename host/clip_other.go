//go:build !amd64 || purego

package host

// clipSumSqVec does nothing: the vector loop is built for amd64 alone.
func clipSumSqVec(x []float32) (sum, maxSq float64, done int) { return 0, 0, 0 }

// clipSumSqBlocks does nothing: the vector loop is built for amd64 alone.
func clipSumSqBlocks(x []float32, out []float64) bool { return false }
