package kerneltest

import (
	"fmt"
	"math"
	"testing"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() { addFamily("multitask", testMultitask, multitaskSizeCases) }

// Tolerances of the multitask family: per-set losses and block partials
// (sums of K terms, exp and pow in float32), gradients.
var (
	mtLossTol = tol{rel: 2e-5, abs: 1e-5, floor: 1e-5}
	mtGradTol = tol{rel: 1e-5, abs: 1e-6, floor: 1e-6}
)

// mtInputs returns the four [m, k] inputs and the k task factors of one
// case: losses in [0, 3) (some 0), a in [-3, 3) (with ±30 in the first
// set: exp(∓30)), b in [0.1, 3), l0 in [0.2, 2).
func mtInputs(seed, m, k int) (l, a, b, l0, coef []float32) {
	rng := newRand(81, seed)
	l, a = uniform(rng, m*k, 0, 3), uniform(rng, m*k, -3, 3)
	b, l0 = uniform(rng, m*k, 0.1, 3), uniform(rng, m*k, 0.2, 2)
	if m*k > 2 {
		l[1] = 0
		a[0], a[2] = 30, -30
	}
	coef = make([]float32, max(k, 1))
	for j := range coef {
		coef[j] = 0.5
		if j%3 == 1 {
			coef[j] = 1
		}
	}
	return l, a, b, l0, coef
}

func testMultitask(t *testing.T, s *suite) {
	i := 0
	for _, sh := range [][2]int{{1, 1}, {1, 8}, {7, 3}, {300, 5}, {1001, 2}, {70001, 1}} {
		m, k := sh[0], sh[1]
		for _, op := range []int32{kernelspec.MTWeightedSum, kernelspec.MTUncertainty, kernelspec.MTGradNorm} {
			for _, flags := range []int32{kernelspec.MTGradLosses | kernelspec.MTGradA | kernelspec.MTGradB,
				kernelspec.MTReduce | kernelspec.MTGradA | kernelspec.MTGradB, kernelspec.MTReduce} {
				for _, blocks := range grids(m) {
					seed := i
					i++
					t.Run(fmt.Sprintf("m=%d/k=%d/op=%d/flags=%d/blocks=%d", m, k, op, flags, blocks), func(t *testing.T) {
						r := s.rig(t)
						l, a, b, l0, coef := mtInputs(seed, m, k)
						tl := mtLossTol
						if op == kernelspec.MTUncertainty {
							tl.abs = 1e-5 * math.Exp(30) // the ±30 log-variances
						}
						outN := m
						if flags&kernelspec.MTReduce != 0 {
							outN = blocks
						}
						r.launch("multitask_loss", blocks, op, int32(m), int32(k), r.buf(l), r.buf(a), r.buf(b), r.buf(l0),
							r.buf(coef), 1.5, 1/float64(m), flags, zeros(m*k), zeros(m*k), zeros(m*k), zeros(outN))
						gt := mtGradTol
						if op == kernelspec.MTUncertainty {
							gt.abs = 1e-5 * math.Exp(30) / float64(m)
						}
						r.compare(exact, on("out", tl), on("grad_losses", gt), on("grad_a", gt), on("grad_b", gt))
					})
				}
			}
		}
	}
	t.Run("in-place", func(t *testing.T) {
		r := s.rig(t)
		l, a, _, _, coef := mtInputs(5, 40, 4)
		lb, ab := r.buf(l), r.buf(a)
		r.launch("multitask_loss", 1, kernelspec.MTUncertainty, int32(40), int32(4), lb, ab, lb, lb, r.buf(coef), 0.0, 1.0,
			kernelspec.MTGradLosses|kernelspec.MTGradA|kernelspec.MTReduce, lb, ab, zeros(1), zeros(1))
		gt := mtGradTol
		gt.abs = 1e-5 * math.Exp(30)
		r.compare(exact, on("out", tol{rel: 2e-5, abs: 1e-5 * math.Exp(30), floor: 1e-5}), on("grad_losses", gt), on("grad_a", gt))
	})
	t.Run("empty", func(t *testing.T) {
		r := s.rig(t)
		r.launch("multitask_loss", 1, kernelspec.MTGradNorm, int32(0), int32(3), zeros(0), zeros(0), zeros(0), zeros(0),
			zeros(1), 1.5, 1.0, kernelspec.MTGradA|kernelspec.MTReduce, zeros(0), zeros(0), zeros(0), zeros(1))
		r.compare(exact)
	})
}

// multitaskSizeCases: 300 sets of 3 tasks over two blocks.
func multitaskSizeCases() []sizeCase {
	const m, k = 300, 3
	all := kernelspec.MTGradLosses | kernelspec.MTGradA | kernelspec.MTGradB | kernelspec.MTReduce
	return []sizeCase{
		{kernel: "multitask_loss", what: "gradnorm, every flag", blocks: 2,
			args: []any{kernelspec.MTGradNorm, int32(m), int32(k), need(m * k), need(m * k), need(m * k), need(m * k), spare(),
				1.5, 1.0, all, need(m * k), need(m * k), need(m * k), need(2)},
			bad: []badScalar{bad("op", 3), bad("op", -1)}},
		{kernel: "multitask_loss", what: "uncertainty, per set", blocks: 2, guarded: true,
			args: []any{kernelspec.MTUncertainty, int32(m), int32(k), need(m * k), need(m * k), spare(), spare(), need(k),
				0.0, 1.0, kernelspec.MTGradLosses, need(m * k), spare(), spare(), need(m)}},
	}
}
