package kerneltest

import (
	"fmt"
	"math"
	"testing"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

// Tolerances of the rowloss family: gradients gradTol with the factor
// 1/n; nll_rows and scale_rows, which only gather and scale, gatherTol.
var (
	rowLossTol    = tol{rel: 5e-5, abs: 5e-9, floor: 1e-6}
	gradTargetTol = tol{rel: 1e-4, abs: 1e-8, floor: 1e-6}
	gatherTol     = tol{rel: 1e-6}
)

// rowVariant is one configuration of the rowloss kernels.
type rowVariant struct {
	name    string
	options bool // weights, smoothing, ignore_index, gamma 0.5, p 2, margin 0.5, τ 2
	special bool // -inf entries, an all -inf row 1, a NaN in row 0, an out-of-range target (ties for the hinge)
	inPlace bool // grad is x (and grad_target is y)
	noGrad  bool // has_grad 0
}

var (
	rowShapes   = []shape{{1, 1}, {2, 3}, {7, 1000}, {5, 257}, {3, 131072}, {300, 10}, {257, 3}}
	rowVariants = []rowVariant{
		{name: "plain"}, {name: "options", options: true}, {name: "special", special: true},
		{name: "in-place", inPlace: true, options: true}, {name: "no-grad", noGrad: true},
	}
)

// testRowLoss compares each rowloss kernel with its mirror on the same
// inputs (denom from the mirror of cross_entropy_weight_sum).
func testRowLoss(t *testing.T, s *suite) {
	i := 0
	for _, sh := range rowShapes {
		for _, v := range rowVariants {
			seed := i
			i++
			t.Run(fmt.Sprintf("%v/%s", sh, v.name), func(t *testing.T) { testRowLossCase(t, s, sh, v, seed) })
		}
	}
}

func testRowLossCase(t *testing.T, s *suite, sh shape, v rowVariant, seed int) {
	rng := newRand(31, seed)
	n := sh.rows * sh.cols
	R, C := int32(sh.rows), int32(sh.cols)
	hasGrad := b2i(!v.noGrad)
	gscale := 1 / float64(sh.rows)
	xs := randn(rng, n, 2)
	if v.special {
		special(rng, xs, sh, sh.cols > 1)
	}
	tg := make([]int32, sh.rows)
	for i := range tg {
		tg[i] = int32(rng.IntN(sh.cols))
		if v.options && i%3 == 1 {
			tg[i] = -100
		}
	}
	if v.special && sh.rows >= 3 {
		tg[2] = int32(sh.cols) // out of range: a NaN row
	}
	weight := uniform(rng, sh.cols, 0.1, 2)
	hasW := b2i(v.options)
	grads := func(x *pair) any {
		if v.inPlace {
			return x
		}
		return zeros(n)
	}
	// denom as cross_entropy_weight_sum leaves it (mean), from the mirror.
	denomOf := func(hasW int32) []float32 {
		return mirrorLaunch(t, "cross_entropy_weight_sum", 1, 7, tg, weight, R, C, hasW, int32(-100),
			kernelspec.ReductionMean, zeros(2))
	}
	rowTols := []argTol{on("loss_rows", rowLossTol), on("grad", gradTol(gscale))}

	t.Run("cross_entropy_prob_rows", func(t *testing.T) {
		r, rng := s.rig(t), newRand(32, seed)
		ys := softRows(rng, sh)
		eps := 0.0
		if v.options {
			eps = 0.2
		}
		x, y := r.buf(xs), r.buf(ys)
		var gt any = zeros(n)
		if v.inPlace {
			gt = y
		}
		r.launch("cross_entropy_prob_rows", sh.rows, x, y, weight, R, C, hasW, eps, gscale,
			hasGrad, grads(x), hasGrad, gt, zeros(sh.rows))
		r.compare(exact, append(rowTols, on("grad_target", gradTargetTol))...)
	})

	t.Run("nll_rows", func(t *testing.T) {
		r := s.rig(t)
		x := r.buf(xs)
		r.launch("nll_rows", sh.rows, x, tg, weight, R, C, hasW, int32(-100), denomOf(hasW), hasGrad, grads(x),
			zeros(sh.rows))
		r.compare(exact, on("loss_rows", gatherTol), on("grad", gatherTol))
	})

	t.Run("focal_rows", func(t *testing.T) {
		r := s.rig(t)
		gamma := 2.0
		if v.options {
			gamma = 0.5
		}
		x := r.buf(xs)
		r.launch("focal_rows", sh.rows, x, tg, weight, R, C, hasW, int32(-100), gamma,
			denomOf(0), hasGrad, grads(x), zeros(sh.rows))
		r.compare(exact, rowTols...)
	})

	t.Run("multi_margin_rows", func(t *testing.T) {
		r, rng := s.rig(t), newRand(35, seed)
		p, margin := int32(1), 1.0
		if v.options {
			p, margin = 2, 0.5
		}
		tgm := make([]int32, sh.rows) // no ignore_index here
		for i := range tgm {
			tgm[i] = int32(rng.IntN(sh.cols))
		}
		if v.special && sh.rows >= 3 {
			tgm[2] = -1
		}
		x := r.buf(xs)
		r.launch("multi_margin_rows", sh.rows, x, tgm, weight, R, C, hasW, p, margin, gscale, hasGrad, grads(x),
			zeros(sh.rows))
		r.compare(exact, rowTols...)
	})

	t.Run("categorical_hinge_rows", func(t *testing.T) {
		r, rng := s.rig(t), newRand(36, seed)
		hx := append([]float32(nil), xs...)
		ys := softRows(rng, sh)
		if v.special || v.options { // integer scores and one-hot targets: ties
			for i := range hx {
				if !math.IsInf(float64(hx[i]), 0) && hx[i] == hx[i] {
					hx[i] = float32(math.Round(float64(hx[i])))
				}
			}
			clear(ys)
			for i, t := range tg {
				if t >= 0 && int(t) < sh.cols {
					ys[i*sh.cols+int(t)] = 1
				}
			}
		}
		x := r.buf(hx)
		r.launch("categorical_hinge_rows", sh.rows, x, ys, R, C, gscale, hasGrad, grads(x), zeros(sh.rows))
		r.compare(exact, rowTols...)
	})

	t.Run("distill_kl_rows", func(t *testing.T) {
		r, rng := s.rig(t), newRand(37, seed)
		inv := 1.0
		if v.options {
			inv = 0.5
		}
		ts := randn(rng, n, 3)
		x := r.buf(xs)
		tau := 1 / inv
		r.launch("distill_kl_rows", sh.rows, x, ts, R, C, inv,
			tau*tau, tau*gscale, hasGrad, grads(x), zeros(sh.rows))
		r.compare(exact, rowTols...)
	})

	t.Run("poly_cross_entropy_rows", func(t *testing.T) {
		r, rng := s.rig(t), newRand(38, seed)
		ys := softRows(rng, sh)
		eps := 2.0
		if v.options {
			eps = -0.5
		}
		x, y := r.buf(xs), r.buf(ys)
		var gt any = zeros(n)
		if v.inPlace {
			gt = y
		}
		r.launch("poly_cross_entropy_rows", sh.rows, x, y, R, C, eps, gscale,
			hasGrad, grads(x), hasGrad, gt, zeros(sh.rows))
		r.compare(exact, append(rowTols, on("grad_target", gradTargetTol))...)
	})
}

// testScaleRows compares scale_rows (every flag combination, a NaN row
// masked out, a divisor) and mask_targets with their mirrors.
func testScaleRows(t *testing.T, s *suite) {
	i := 0
	for _, sh := range []shape{{1, 1}, {7, 300}, {33, 257}} {
		for flags := int32(0); flags < 32; flags++ {
			rng := newRand(41, i)
			i++
			t.Run(fmt.Sprintf("%v/flags=%d", sh, flags), func(t *testing.T) {
				r := s.rig(t)
				g := randn(rng, sh.rows*sh.cols, 1)
				if flags&kernelspec.RowsMask != 0 {
					g[0] = nan // row 0 is masked out
				}
				m := make([]int32, sh.rows)
				for i := range m {
					m[i] = int32(i % 3)
				}
				r.launch("scale_rows", sh.rows, randn(rng, sh.rows, 1), g, randn(rng, sh.rows*sh.cols, 1),
					int32(sh.rows), int32(sh.cols), uniform(rng, sh.rows, 0, 2), m, flags, 5.0, []float32{3})
				r.compare(exact, on("loss_rows", gatherTol), on("grad", gatherTol), on("grad_target", gatherTol))
			})
		}
		rng := newRand(42, i)
		t.Run(fmt.Sprintf("%v/mask_targets", sh), func(t *testing.T) {
			r := s.rig(t)
			tg, m := make([]int32, sh.rows), make([]int32, sh.rows)
			for i := range tg {
				tg[i], m[i] = int32(rng.IntN(sh.cols)), int32(rng.IntN(3))
			}
			r.launch("mask_targets", 2, tg, m, int32(sh.rows), int32(-100), make([]int32, sh.rows))
			r.compare(exact)
		})
	}
}
