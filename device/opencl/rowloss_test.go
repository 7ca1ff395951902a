//go:build opencl

package opencl_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/kernels"
)

// hostLSE is logsumexp_rows of x·inv on the host mirror, in float32: the
// lse input that the rowloss kernels under test share with their mirrors.
func hostLSE(t *testing.T, x []float32, s shape, inv float64) []float32 {
	t.Helper()
	xb, _ := host.Wrap(x)
	out := make([]float32, s.rows)
	ob, _ := host.Wrap(out)
	if err := host.Default().Launch("logsumexp_rows", device.Grid{Blocks: s.rows, Threads: kernels.BlockSize},
		xb, int32(s.rows), int32(s.cols), inv, ob); err != nil {
		t.Fatal(err)
	}
	return out
}

// rowVariant is one configuration of a rowloss kernel case.
type rowVariant struct {
	name    string
	options bool // weights, smoothing, ignore_index, gamma, p, margin, τ
	special bool // -Inf entries, a -Inf row, a NaN in row 0 (ties for the hinge)
	inPlace bool // grad is x
	noGrad  bool // has_grad 0
}

var rowVariants = []rowVariant{
	{name: "plain"}, {name: "options", options: true}, {name: "special", special: true},
	{name: "in-place", inPlace: true, options: true}, {name: "no-grad", noGrad: true},
}

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

// TestRowLossKernels compares each rowloss kernel with its host mirror on
// the same inputs (lse from the host mirror of logsumexp_rows, denom from
// cross_entropy_weight_sum's mirror).
func TestRowLossKernels(t *testing.T) {
	forEachDevice(t, func(t *testing.T, d device.Device) {
		rng := rand.New(rand.NewPCG(31, 32))
		for _, s := range rowShapes {
			for _, v := range rowVariants {
				t.Run(fmt.Sprintf("%dx%d/%s", s.rows, s.cols, v.name), func(t *testing.T) {
					testRowLossKernels(t, d, rng, s, v)
				})
			}
		}
	})
}

func testRowLossKernels(t *testing.T, d device.Device, rng *rand.Rand, s shape, v rowVariant) {
	n := s.rows * s.cols
	b2i := func(b bool) int32 {
		if b {
			return 1
		}
		return 0
	}
	hasGrad := b2i(!v.noGrad)
	gscale := 1 / float64(s.rows)
	xs := randn(rng, n, 2)
	if v.special {
		special(rng, xs, s, s.cols > 1)
	}
	tg := make([]int32, s.rows)
	for i := range tg {
		tg[i] = int32(rng.IntN(s.cols))
		if v.options && i%3 == 1 {
			tg[i] = -100
		}
	}
	if v.special && s.rows >= 3 {
		tg[2] = int32(s.cols) // out of range: a NaN row
	}
	weight := uniform(rng, s.cols, 0.1, 2)
	hasW := b2i(v.options)
	grads := func(r *rig, x *pair) *pair {
		if v.inPlace {
			return x
		}
		return r.buf(make([]float32, n))
	}
	checkGrad := func(r *rig, g *pair) {
		r.check("grad", g, -1, 1e-4, 1e-4, 1e-6*gscale)
	}

	t.Run("cross_entropy_prob_rows", func(t *testing.T) {
		r := newRig(t, d)
		ys := softRows(rng, s)
		eps := 0.0
		if v.options {
			eps = 0.2
		}
		x, y := r.buf(xs), r.buf(ys)
		lse := r.buf(hostLSE(t, xs, s, 1))
		g, gt := grads(r, x), r.buf(make([]float32, n))
		if v.inPlace {
			gt = y
		}
		loss := r.buf(make([]float32, s.rows))
		r.launch("cross_entropy_prob_rows", s.rows, x, y, lse, r.buf(weight), int32(s.rows), int32(s.cols), hasW, eps, gscale,
			hasGrad, g, hasGrad, gt, loss)
		r.check("loss_rows", loss, -1, 5e-5, 1e-4, 1e-6)
		checkGrad(r, g)
		r.check("grad_target", gt, -1, 1e-4, 1e-4, 1e-6)
		ran("cross_entropy_prob_rows")
	})

	// denom as cross_entropy_weight_sum leaves it (mean), from the mirror.
	denomOf := func(r *rig, hasW int32, ign int32) *pair {
		tb, _ := host.Wrap(tg)
		wb, _ := host.Wrap(weight)
		den := make([]float32, 2)
		db, _ := host.Wrap(den)
		if err := host.Default().Launch("cross_entropy_weight_sum", device.Grid{Blocks: 1, Threads: kernels.BlockSize},
			tb, wb, int32(s.rows), int32(s.cols), hasW, ign, kernels.ReductionMean, db); err != nil {
			t.Fatal(err)
		}
		return r.buf(den)
	}

	t.Run("nll_rows", func(t *testing.T) {
		r := newRig(t, d)
		x := r.buf(xs)
		g := grads(r, x)
		loss := r.buf(make([]float32, s.rows))
		r.launch("nll_rows", s.rows, x, r.buf(tg), r.buf(weight), int32(s.rows), int32(s.cols), hasW, int32(-100),
			denomOf(r, hasW, -100), hasGrad, g, loss)
		r.check("loss_rows", loss, -1, 1e-6, 0, 0)
		r.check("grad", g, -1, 1e-6, 0, 0)
		ran("nll_rows")
	})

	t.Run("focal_rows", func(t *testing.T) {
		r := newRig(t, d)
		gamma := 2.0
		if v.options {
			gamma = 0.5
		}
		x := r.buf(xs)
		g := grads(r, x)
		loss := r.buf(make([]float32, s.rows))
		r.launch("focal_rows", s.rows, x, r.buf(tg), r.buf(hostLSE(t, xs, s, 1)), r.buf(weight), int32(s.rows), int32(s.cols),
			hasW, int32(-100), gamma, denomOf(r, 0, -100), hasGrad, g, loss)
		r.check("loss_rows", loss, -1, 5e-5, 1e-4, 1e-6)
		checkGrad(r, g)
		ran("focal_rows")
	})

	t.Run("multi_margin_rows", func(t *testing.T) {
		r := newRig(t, d)
		p, margin := int32(1), 1.0
		if v.options {
			p, margin = 2, 0.5
		}
		tgm := make([]int32, s.rows) // no ignore_index here
		for i := range tgm {
			tgm[i] = int32(rng.IntN(s.cols))
		}
		if v.special && s.rows >= 3 {
			tgm[2] = -1
		}
		x := r.buf(xs)
		g := grads(r, x)
		loss := r.buf(make([]float32, s.rows))
		r.launch("multi_margin_rows", s.rows, x, r.buf(tgm), r.buf(weight), int32(s.rows), int32(s.cols), hasW, p, margin,
			gscale, hasGrad, g, loss)
		r.check("loss_rows", loss, -1, 5e-5, 1e-4, 1e-6)
		checkGrad(r, g)
		ran("multi_margin_rows")
	})

	t.Run("categorical_hinge_rows", func(t *testing.T) {
		r := newRig(t, d)
		hx := append([]float32(nil), xs...)
		ys := softRows(rng, s)
		if v.special || v.options { // integer scores and one-hot targets: ties
			for i := range hx {
				if !math.IsInf(float64(hx[i]), 0) && hx[i] == hx[i] {
					hx[i] = float32(math.Round(float64(hx[i])))
				}
			}
			for i := range ys {
				ys[i] = 0
			}
			for i, t := range tg {
				if t >= 0 && int(t) < s.cols {
					ys[i*s.cols+int(t)] = 1
				}
			}
		}
		x := r.buf(hx)
		g := grads(r, x)
		loss := r.buf(make([]float32, s.rows))
		r.launch("categorical_hinge_rows", s.rows, x, r.buf(ys), int32(s.rows), int32(s.cols), gscale, hasGrad, g, loss)
		r.check("loss_rows", loss, -1, 5e-5, 1e-4, 1e-6)
		checkGrad(r, g)
		ran("categorical_hinge_rows")
	})

	t.Run("distill_kl_rows", func(t *testing.T) {
		r := newRig(t, d)
		inv := 1.0
		if v.options {
			inv = 0.5
		}
		ts := randn(rng, n, 3)
		x := r.buf(xs)
		g := grads(r, x)
		loss := r.buf(make([]float32, s.rows))
		tau := 1 / inv
		r.launch("distill_kl_rows", s.rows, x, r.buf(ts), r.buf(hostLSE(t, xs, s, inv)), r.buf(hostLSE(t, ts, s, inv)),
			int32(s.rows), int32(s.cols), inv, tau*tau, tau*gscale, hasGrad, g, loss)
		r.check("loss_rows", loss, -1, 5e-5, 1e-4, 1e-6)
		checkGrad(r, g)
		ran("distill_kl_rows")
	})
}

// TestScaleRowsAndMaskTargets compares scale_rows (every flag combination,
// a NaN row masked out, a divisor) and mask_targets with their mirrors.
func TestScaleRowsAndMaskTargets(t *testing.T) {
	forEachDevice(t, func(t *testing.T, d device.Device) {
		rng := rand.New(rand.NewPCG(41, 42))
		for _, s := range []shape{{1, 1}, {7, 300}, {33, 257}} {
			for flags := int32(0); flags < 32; flags++ {
				t.Run(fmt.Sprintf("%dx%d/flags=%d", s.rows, s.cols, flags), func(t *testing.T) {
					r := newRig(t, d)
					g := randn(rng, s.rows*s.cols, 1)
					g[0] = float32(math.NaN()) // row 0 is masked out below
					gt := randn(rng, s.rows*s.cols, 1)
					m := make([]int32, s.rows)
					for i := range m {
						m[i] = int32(i % 3)
					}
					rows, gb, gtb := r.buf(randn(rng, s.rows, 1)), r.buf(g), r.buf(gt)
					sw, mb, den := r.buf(uniform(rng, s.rows, 0, 2)), r.buf(m), r.buf([]float32{3})
					if flags&kernels.RowsMask == 0 {
						g[0] = 1
						gb = r.buf(g)
					}
					r.launch("scale_rows", s.rows, rows, gb, gtb, int32(s.rows), int32(s.cols), sw, mb, flags, 5.0, den)
					r.check("loss_rows", rows, -1, 1e-6, 0, 0)
					r.check("grad", gb, -1, 1e-6, 0, 0)
					r.check("grad_target", gtb, -1, 1e-6, 0, 0)
					ran("scale_rows")
				})
			}
			r := newRig(t, d)
			tg := make([]int32, s.rows)
			m := make([]int32, s.rows)
			for i := range tg {
				tg[i], m[i] = int32(rng.IntN(s.cols)), int32(rng.IntN(2))
			}
			out := r.buf(make([]int32, s.rows))
			r.launch("mask_targets", 2, r.buf(tg), r.buf(m), int32(s.rows), int32(-100), out)
			r.checkInts("targets", out)
			ran("mask_targets")
		}
	})
}
