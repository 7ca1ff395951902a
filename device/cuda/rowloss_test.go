//go:build cuda

package cuda_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/kernels"
)

// mirrorLSE is logsumexp_rows of x·inv on the host mirror: the lse input
// the rowloss kernels under test share with their mirrors.
func mirrorLSE(t *testing.T, x []float32, n, c int, inv float64) []float32 {
	t.Helper()
	xb, _ := host.Wrap(x)
	out := make([]float32, n)
	ob, _ := host.Wrap(out)
	if err := host.Default().Launch("logsumexp_rows", rowGrid(n), xb, int32(n), int32(c), inv, ob); err != nil {
		t.Fatal(err)
	}
	return out
}

func softRowsF(r *rand.Rand, n, c int) []float32 {
	y := make([]float32, n*c)
	for i := 0; i < n; i++ {
		var s float64
		row := make([]float64, c)
		for k := range row {
			row[k] = r.ExpFloat64()
			s += row[k]
		}
		for k := range row {
			y[i*c+k] = float32(row[k] / s)
		}
	}
	return y
}

// TestRowLoss compares the six rowloss kernels with their host mirrors:
// plain, with options (weights, smoothing, ignored rows, gamma 0.5, p 2,
// τ 2), with -Inf entries and an out-of-range target, in place, and
// without a gradient.
func TestRowLoss(t *testing.T) {
	d := openGPU(t)
	r := rand.New(rand.NewPCG(41, 42))
	cases := 0
	for _, sh := range [][2]int{{1, 1}, {7, 1000}, {3, 131072}, {300, 10}, {257, 3}} {
		n, c := sh[0], sh[1]
		for _, v := range []struct {
			name                      string
			options, special, inPlace bool
			noGrad                    bool
		}{{name: "plain"}, {name: "options", options: true}, {name: "special", special: true},
			{name: "in place", options: true, inPlace: true}, {name: "no grad", noGrad: true}} {
			label := fmt.Sprintf("%dx%d %s", n, c, v.name)
			hasGrad, hasW := int32(1), int32(0)
			if v.noGrad {
				hasGrad = 0
			}
			if v.options {
				hasW = 1
			}
			gscale := 1 / float64(n)
			x := randF(r, n*c, 2)
			if v.special {
				for i := 0; i < max(1, n*c/50); i++ {
					x[r.IntN(n*c)] = float32(math.Inf(-1))
				}
			}
			tg := make([]int32, n)
			for i := range tg {
				tg[i] = int32(r.IntN(c))
				if v.options && i%3 == 1 {
					tg[i] = -100
				}
			}
			if v.special && n >= 3 {
				tg[2] = int32(c)
			}
			w := make([]float32, c)
			for k := range w {
				w[k] = 0.25 + r.Float32()
			}
			grad := func() any {
				if v.inPlace {
					return same(0)
				}
				return make([]float32, n*c)
			}
			denom := func(hasW int32) []float32 {
				ho, _ := launchBoth(t, d, "cross_entropy_weight_sum", oneBlock, tg, w, int32(n), int32(c), hasW, int32(-100),
					kernels.ReductionMean, make([]float32, 2))
				return ho[7].([]float32)
			}
			tl := tol{rel: 1e-4, abs: 1e-5, floor: 1e-6 * gscale}

			eps := 0.0
			if v.options {
				eps = 0.2
			}
			gt := any(make([]float32, n*c))
			if v.inPlace {
				gt = same(1)
			}
			ho, gpu := launchBoth(t, d, "cross_entropy_prob_rows", rowGrid(n), x, softRowsF(r, n, c), mirrorLSE(t, x, n, c, 1), w,
				int32(n), int32(c), hasW, eps, gscale, hasGrad, grad(), hasGrad, gt, make([]float32, n))
			compareAll(t, "cross_entropy_prob_rows "+label, ho, gpu, tl)

			ho, gpu = launchBoth(t, d, "nll_rows", rowGrid(n), x, tg, w, int32(n), int32(c), hasW, int32(-100), denom(hasW),
				hasGrad, grad(), make([]float32, n))
			compareAll(t, "nll_rows "+label, ho, gpu, tol{rel: 1e-6})

			gamma := 2.0
			if v.options {
				gamma = 0.5
			}
			ho, gpu = launchBoth(t, d, "focal_rows", rowGrid(n), x, tg, mirrorLSE(t, x, n, c, 1), w, int32(n), int32(c), hasW,
				int32(-100), gamma, denom(0), hasGrad, grad(), make([]float32, n))
			compareAll(t, "focal_rows "+label, ho, gpu, tl)

			p, margin := int32(1), 1.0
			if v.options {
				p, margin = 2, 0.5
			}
			tgm := make([]int32, n)
			for i := range tgm {
				tgm[i] = int32(r.IntN(c))
			}
			if v.special && n >= 3 {
				tgm[2] = -1
			}
			ho, gpu = launchBoth(t, d, "multi_margin_rows", rowGrid(n), x, tgm, w, int32(n), int32(c), hasW, p, margin, gscale,
				hasGrad, grad(), make([]float32, n))
			compareAll(t, "multi_margin_rows "+label, ho, gpu, tl)

			hx, ys := append([]float32(nil), x...), softRowsF(r, n, c)
			if v.options || v.special { // integer scores, one-hot targets: ties
				for i := range hx {
					if !math.IsInf(float64(hx[i]), 0) {
						hx[i] = float32(math.Round(float64(hx[i])))
					}
				}
				clear(ys)
				for i, t := range tg {
					if t >= 0 && int(t) < c {
						ys[i*c+int(t)] = 1
					}
				}
			}
			ho, gpu = launchBoth(t, d, "categorical_hinge_rows", rowGrid(n), hx, ys, int32(n), int32(c), gscale, hasGrad, grad(),
				make([]float32, n))
			compareAll(t, "categorical_hinge_rows "+label, ho, gpu, tl)

			inv := 1.0
			if v.options {
				inv = 0.5
			}
			teacher := randF(r, n*c, 3)
			tau := 1 / inv
			ho, gpu = launchBoth(t, d, "distill_kl_rows", rowGrid(n), x, teacher, mirrorLSE(t, x, n, c, inv),
				mirrorLSE(t, teacher, n, c, inv), int32(n), int32(c), inv, tau*tau, tau*gscale, hasGrad, grad(), make([]float32, n))
			compareAll(t, "distill_kl_rows "+label, ho, gpu, tl)
			cases += 6
		}
	}
	t.Logf("rowloss: %d kernel cases compared with the host mirrors", cases)
}

// TestScaleRowsAndMaskTargets compares scale_rows (every flag combination)
// and mask_targets with their host mirrors.
func TestScaleRowsAndMaskTargets(t *testing.T) {
	d := openGPU(t)
	r := rand.New(rand.NewPCG(41, 42))
	const rows, cols = 33, 257
	m := make([]int32, rows)
	tg := make([]int32, rows)
	for i := range m {
		m[i], tg[i] = int32(i%3), int32(i%cols)
	}
	for flags := int32(0); flags < 32; flags++ {
		g := randF(r, rows*cols, 1)
		if flags&kernels.RowsMask != 0 {
			g[0] = float32(math.NaN()) // row 0 is masked out
		}
		sw := randF(r, rows, 1)
		ho, gpu := launchBoth(t, d, "scale_rows", device.Grid{Blocks: rows, Threads: kernels.BlockSize}, randF(r, rows, 1), g,
			randF(r, rows*cols, 1), int32(rows), int32(cols), sw, m, flags, 5.0, []float32{3})
		compareAll(t, fmt.Sprintf("scale_rows flags %d", flags), ho, gpu, defTol)
	}
	ho, gpu := launchBoth(t, d, "mask_targets", device.Grid{Blocks: 2, Threads: kernels.BlockSize}, tg, m, int32(rows),
		int32(-100), make([]int32, rows))
	compareAll(t, "mask_targets", ho, gpu, defTol)
}
