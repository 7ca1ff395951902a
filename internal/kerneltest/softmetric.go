package kerneltest

import (
	"fmt"
	"testing"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() { addFamily("softmetric", testSoftmetric, softmetricSizeCases) }

// Tolerances of the softmetric family: block sums of up to rpb rows,
// the finish's sums over the blocks, and the gradient.
var (
	smPartTol   = tol{rel: 1e-5, abs: 1e-5, floor: 1e-4}
	smFinishTol = tol{rel: 1e-5, abs: 1e-6, floor: 1e-6}
	smGradTol   = tol{rel: 1e-5, abs: 1e-7, floor: 1e-7}
)

// smData returns an [n, c] input and target: with sigmoid, logits in
// N(0, 3²) with ±1e4 among them; else probabilities with 0 and 1 among
// them; targets 0/1, every seventh soft.
func smData(seed, n, c int, sigmoid bool) (x, y []float32) {
	rng := newRand(83, seed)
	if sigmoid {
		x = randn(rng, n*c, 3)
	} else {
		x = uniform(rng, n*c, 0, 1)
	}
	y = make([]float32, n*c)
	for i := range y {
		y[i] = float32(rng.IntN(2))
		if i%7 == 3 {
			y[i] = float32(rng.Float64())
		}
	}
	for i, v := range []float32{1e4, -1e4, 0, 1} {
		if i < len(x) && (sigmoid == (i < 2)) {
			x[i] = v
		}
	}
	return x, y
}

func smNB(n int) (nb, rpb int) {
	if n == 0 {
		return 0, 0
	}
	nb = partialBlocks(n)
	return nb, (n + nb - 1) / nb
}

func testSoftmetric(t *testing.T, s *suite) {
	i := 0
	for _, sh := range [][2]int{{1, 1}, {7, 3}, {300, 1}, {1001, 20}, {70001, 2}, {5, 300}} {
		n, c := sh[0], sh[1]
		for _, flags := range []int32{0, kernelspec.SMSigmoid} {
			seed := i
			i++
			nb, rpb := smNB(n)
			t.Run(fmt.Sprintf("partials/%dx%d/flags=%d", n, c, flags), func(t *testing.T) {
				r := s.rig(t)
				x, y := smData(seed, n, c, flags != 0)
				r.launch("sm_partials", nb, r.buf(x), r.buf(y), int32(n), int32(c), int32(nb), int32(rpb), flags, zeros(nb*c*4))
				r.compare(exact, on("part", smPartTol))
			})
			for _, op := range []int32{kernelspec.SMF1, kernelspec.SMMCC} {
				for _, micro := range []int32{0, kernelspec.SMMicro} {
					t.Run(fmt.Sprintf("finish/%dx%d/op=%d/flags=%d", n, c, op, flags|micro), func(t *testing.T) {
						r := s.rig(t)
						part := uniform(newRand(84, seed), nb*c*4, 0, float64(rpb))
						r.launch("sm_finish", 1, r.buf(part), int32(nb), int32(c), op, flags|micro, 1e-5, 0.5, zeros(3*c), zeros(1))
						r.compare(exact, on("coef", smFinishTol), on("loss", smFinishTol))
					})
				}
			}
			t.Run(fmt.Sprintf("grad/%dx%d/flags=%d", n, c, flags), func(t *testing.T) {
				r := s.rig(t)
				x, y := smData(seed, n, c, flags != 0)
				coef := randn(newRand(85, seed), 3*c, 0.01)
				for _, blocks := range grids(n * c) {
					xb := r.buf(x)
					r.launch("sm_grad", blocks, xb, r.buf(y), int32(n), int32(c), flags, r.buf(coef), xb)
					r.compare(exact, on("grad", smGradTol))
				}
			})
		}
	}
	t.Run("empty", func(t *testing.T) {
		r := s.rig(t)
		r.launch("sm_finish", 1, zeros(0), int32(0), int32(3), kernelspec.SMF1, int32(0), 1e-16, 1.0, zeros(9), zeros(1))
		r.compare(exact, on("coef", smFinishTol))
	})
}

// softmetricSizeCases: 300 rows of 3 classes over two blocks.
func softmetricSizeCases() []sizeCase {
	const n, c, nb, rpb = 300, 3, 2, 150
	return []sizeCase{
		{kernel: "sm_partials", what: "two blocks", blocks: nb, guarded: true,
			args: []any{need(n * c), need(n * c), int32(n), int32(c), int32(nb), int32(rpb), kernelspec.SMSigmoid, need(nb * c * 4)},
			bad:  []badScalar{bad("rpb", 149), bad("nb", 1)}},
		{kernel: "sm_finish", what: "macro", blocks: 1,
			args: []any{need(nb * c * 4), int32(nb), int32(c), kernelspec.SMMCC, int32(0), 1e-5, 1.0, need(3 * c), need(1)}},
		{kernel: "sm_grad", what: "sigmoid", blocks: 2, guarded: true,
			args: []any{need(n * c), need(n * c), int32(n), int32(c), kernelspec.SMSigmoid, need(3 * c), need(n * c)}},
	}
}
