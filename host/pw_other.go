//go:build !amd64 || purego

package host

// vecLoop reports −1 (no loop): the vector loops are built for amd64 alone.
func vecLoop(op int32, p0, p1, p2, gs float32, args *pwArgs) int { return -1 }

// expShiftSumVec does nothing: the vector loops are built for amd64 alone.
func expShiftSumVec(dst, src []float32, m float32) (float64, int) { return 0, 0 }

// maxVec does nothing: the vector loops are built for amd64 alone.
func maxVec(x []float32) (float32, int) { return 0, 0 }

// useVector is false: the vector loops are built for amd64 alone.
const useVector = false

// ceProbRowVecLen is 0: the vector loops are built for amd64 alone.
func ceProbRowVecLen(n int) int { return 0 }

// ceProbRowVec does nothing: the vector loops are built for amd64 alone.
func ceProbRowVec(x, y, grad, gt []float32, m, r, logS, kf, uf, gf, gk float32) (float64, int) {
	return 0, 0
}

// softmaxBwdLogVec does nothing: the vector loops are built for amd64 alone.
func softmaxBwdLogVec(dx, y, dy []float32, s, invTau float32) int { return 0 }

// expVec32 does nothing: the vector loops are built for amd64 alone.
func expVec32(x []float32) int { return 0 }
