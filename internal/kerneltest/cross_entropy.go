package kerneltest

import (
	"fmt"
	"math"
	"testing"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

// Tolerances of the cross_entropy family. A gradient element is a
// difference of terms up to about max weight / denom[1] in size, hence a
// floor proportional to 1/denom[1] (gradTol).
var (
	denomTol  = tol{rel: 1e-5}
	ceLossTol = tol{rel: 5e-5, abs: 5e-9, floor: 1e-6}
)

func gradTol(gscale float64) tol { return tol{rel: 1e-4, abs: 1e-8, floor: 1e-6 * gscale} }

// ceCase is one configuration of cross_entropy_weight_sum and
// cross_entropy_rows.
type ceCase struct {
	shape
	weighted    bool
	eps         float64
	reduction   int32
	ignoreFrac  float64 // share of rows, at random, whose target is ignore_index
	special     string  // "", "-inf", "nan" (see special) or "mixed" (see input)
	grad        string  // "grad", "in-place" (grad is x) or "none" (has_grad 0, a 1-element grad)
	hasLSE      bool
	ignoreIndex int32
}

func (c ceCase) String() string {
	return fmt.Sprintf("%v/w=%v/eps=%g/red=%d/ign=%g/%s/%s/lse=%v/ignore_index=%d", c.shape, c.weighted, c.eps,
		c.reduction, c.ignoreFrac, c.special, c.grad, c.hasLSE, c.ignoreIndex)
}

func ceCases() []ceCase {
	mean, sum, none := kernelspec.ReductionMean, kernelspec.ReductionSum, kernelspec.ReductionNone
	var out []ceCase
	for _, s := range []shape{{1, 1}, {7, 1000}, {3, 131072}, {64, 10}, {300, 257}, {300, 10}, {257, 3}} {
		// Random ignored rows, weights and smoothing.
		for _, w := range []bool{false, true} {
			for _, eps := range []float64{0, 0.1} {
				out = append(out, ceCase{shape: s, weighted: w, eps: eps, reduction: mean, ignoreFrac: 0.2,
					grad: "grad", hasLSE: true, ignoreIndex: -100})
			}
		}
		out = append(out,
			ceCase{shape: s, weighted: true, eps: 0.2, reduction: sum, special: "-inf", grad: "grad", hasLSE: true,
				ignoreIndex: -100},
			ceCase{shape: s, weighted: true, eps: 0.1, reduction: mean, ignoreFrac: 0.3, grad: "in-place", hasLSE: true},
			ceCase{shape: s, reduction: none, special: "nan", grad: "grad", hasLSE: true, ignoreIndex: -1},
			ceCase{shape: s, weighted: true, eps: 0.05, reduction: mean, ignoreFrac: 0.5, grad: "none",
				ignoreIndex: -100},
			ceCase{shape: s, reduction: mean, ignoreFrac: 1, grad: "grad", hasLSE: true, ignoreIndex: -100},
		)
		// Every fourth row ignored, -inf, NaN and +inf logits, each with a
		// gradient, in place and without.
		for _, v := range []struct {
			eps      float64
			weighted bool
			red      int32
		}{{0, false, mean}, {0.1, true, mean}, {0.2, false, sum}, {0, true, none}} {
			for _, g := range []string{"grad", "in-place", "none"} {
				out = append(out, ceCase{shape: s, weighted: v.weighted, eps: v.eps, reduction: v.red, special: "mixed",
					grad: g, hasLSE: true, ignoreIndex: -100})
			}
		}
	}
	// All rows ignored, mean, in place: denom = [0, 0], zero gradient.
	return append(out, ceCase{shape: shape{9, 5}, reduction: mean, ignoreFrac: 1, grad: "in-place", hasLSE: true,
		ignoreIndex: -100})
}

// input makes the logits and targets. "mixed" has logits of scale 4,
// every fourth row ignored (rows 1, 5, ...) and, for n >= 7 and c >= 3, a
// row whose logits are all -inf, a row whose target logit is -inf,
// another with a -inf logit, one with a NaN and one with a +inf logit.
func (c ceCase) input(i int) (x []float32, tg []int32, w []float32) {
	rng := newRand(3, i)
	n, k := c.rows, c.cols
	w = uniform(rng, k, 0.1, 2)
	tg = make([]int32, n)
	if c.special == "mixed" {
		x = randn(rng, n*k, 4)
		for i := range tg {
			tg[i] = int32(rng.IntN(k))
			if n > 1 && i%4 == 1 {
				tg[i] = c.ignoreIndex
			}
		}
		if n >= 7 && k >= 3 {
			for j := 0; j < k; j++ {
				x[6*k+j] = negInf
			}
			x[2*k+int(tg[2])] = negInf
			x[4*k+(int(tg[4])+1)%k] = negInf
			x[3*k+k-1] = nan
			x[0] = posInf
		}
		return x, tg, w
	}
	x = randn(rng, n*k, 2)
	if c.special != "" {
		special(rng, x, c.shape, c.special == "nan")
	}
	for i := range tg {
		tg[i] = int32(rng.IntN(k))
		if rng.Float64() < c.ignoreFrac {
			tg[i] = c.ignoreIndex
		}
	}
	if c.special == "-inf" && n >= 2 && tg[0] >= 0 {
		x[int(tg[0])] = 1 // row 0's target logit stays finite
	}
	return x, tg, w
}

// testCrossEntropy compares cross_entropy_weight_sum and then
// cross_entropy_rows (on the mirror's denom) with their mirrors.
func testCrossEntropy(t *testing.T, s *suite) {
	for i, c := range ceCases() {
		t.Run(c.String(), func(t *testing.T) {
			r := s.rig(t)
			xs, tgs, ws := c.input(i)
			R, C, hasW := int32(c.rows), int32(c.cols), b2i(c.weighted)
			x, tg, w := r.buf(xs), r.buf(tgs), r.buf(ws)
			r.launch("cross_entropy_weight_sum", 1, tg, w, R, C, hasW, c.ignoreIndex, c.reduction, zeros(2))
			r.compare(exact, on("denom", denomTol))
			if c.ignoreFrac == 1 && c.reduction == kernelspec.ReductionMean {
				if dn, _ := r.floats(r.arg("denom")); dn[0] != 0 || dn[1] != 0 {
					t.Errorf("all ignored: denom = %v, want [0 0]", dn)
				}
			}
			denom := r.mirror("denom")
			gscale := 1 / float64(denom.host.Float32s()[1])
			if math.IsInf(gscale, 0) || math.IsNaN(gscale) {
				gscale = 1
			}
			var grad any = zeros(c.rows * c.cols)
			switch c.grad {
			case "in-place":
				grad = x
			case "none":
				grad = zeros(1)
			}
			r.launch("cross_entropy_rows", c.rows, x, tg, w, R, C, hasW, c.ignoreIndex, c.eps, denom,
				b2i(c.grad != "none"), grad, zeros(c.rows), b2i(c.hasLSE), zeros(c.rows))
			r.compare(exact, on("loss_rows", ceLossTol), on("grad", gradTol(gscale)), on("lse", lseTol))

			// The epilogues: soft-capping, z-loss (per-row and in the
			// loss), accuracy, on fresh inputs (the launch above may have
			// written the gradient over x).
			softcap, z := []float64{0, 30, 1.5}[i%3], []float64{1e-2, 0, 1e-4}[i%3]
			x, tg = r.buf(xs), r.buf(tgs)
			grad = zeros(c.rows * c.cols)
			switch c.grad {
			case "in-place":
				grad = x
			case "none":
				grad = zeros(1)
			}
			r.launch("cross_entropy_weight_sum", 1, tg, w, R, C, int32(0), c.ignoreIndex, c.reduction, zeros(2))
			zdenom := r.mirror("denom")
			r.launch("cross_entropy_rows_ext", c.rows, x, tg, w, R, C, hasW, c.ignoreIndex, c.eps, denom,
				b2i(c.grad != "none"), grad, zeros(c.rows), b2i(c.hasLSE), zeros(c.rows), softcap, z, zdenom,
				int32(1), zeros(c.rows), int32(1), zeros(c.rows), int32(0))
			r.compare(exact, on("loss_rows", ceLossTol), on("grad", gradTol(gscale)), on("lse", lseTol),
				on("z_rows", ceLossTol))

			// A chunk: rows 1 .. n-1 of the batch in their own buffer,
			// the targets and per-row outputs indexed from row0 = 1.
			if c.rows >= 2 {
				m := c.rows - 1
				x = r.buf(xs[c.cols:])
				r.launch("cross_entropy_rows_ext", m, x, tg, w, int32(m), C, hasW, c.ignoreIndex, c.eps, denom,
					int32(1), x, zeros(c.rows), b2i(c.hasLSE), zeros(c.rows), softcap, z, zdenom,
					int32(1), zeros(c.rows), int32(1), zeros(c.rows), int32(1))
				r.compare(exact, on("loss_rows", ceLossTol), on("grad", gradTol(gscale)), on("lse", lseTol),
					on("z_rows", ceLossTol))
			}
		})
	}
}
