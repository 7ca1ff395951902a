package kerneltest

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() { addFamily("gan", testGan, ganSizeCases) }

// Tolerances of the gan family, float32 kernels against the float64
// mirror on the same float32 inputs: per-element terms and gradients, and
// block partials (sums of up to a few hundred terms).
var (
	ganTermTol    = tol{rel: 1e-5, abs: 1e-6, floor: 1e-6}
	ganPartialTol = tol{rel: 1e-5, abs: 1e-5, floor: 1e-5}
	// sums of outputs that include ±1e4: float32 rounding of the large terms.
	ganSumTol  = tol{rel: 1e-5, abs: 1e-5, floor: 1e-2}
	ganGradTol = tol{rel: 1e-5, abs: 1e-6, floor: 1e-9}
)

// ganLogits returns n discriminator outputs: normal ones and, first, the
// edge cases: 0, the hinge's kinks ±1, saturated ±1e4, ±30.
func ganLogits(rng *rand.Rand, n int) []float32 {
	x := randn(rng, n, 3)
	for i, v := range []float32{0, 1, -1, 1e4, -1e4, 30, -30} {
		if i < n {
			x[i] = v
		}
	}
	return x
}

// ganWeights returns n weights in [0, 2), every third one 0.
func ganWeights(rng *rand.Rand, n int) []float32 {
	w := uniform(rng, n, 0, 2)
	for i := 0; i < n; i += 3 {
		w[i] = 0
	}
	return w
}

func testGan(t *testing.T, s *suite) {
	seed := 0
	next := func() *rand.Rand { seed++; return newRand(83, seed) }
	for _, n := range []int{1, 7, 1001, 70001} {
		for _, blocks := range grids(n) {
			for _, hasW := range []int32{0, 1} {
				t.Run(fmt.Sprintf("partials/n=%d/blocks=%d/w=%d", n, blocks, hasW), func(t *testing.T) {
					r, rng := s.rig(t), next()
					x, w := ganLogits(rng, n), ganWeights(rng, n)
					r.launch("gan_partials", blocks, x, w, int32(n), hasW, zeros(3+2*blocks), int32(3))
					r.compare(exact, on("part", ganSumTol))
				})
			}
		}
	}
	for _, nb := range []int{1, 3, 1024} {
		for _, nseg := range []int{1, 4} {
			for _, total := range []int32{0, 1} {
				t.Run(fmt.Sprintf("reduce/nb=%d/nseg=%d/total=%d", nb, nseg, total), func(t *testing.T) {
					r := s.rig(t)
					r.launch("gan_reduce", 1, randn(next(), nb*nseg, 2), int32(nb), int32(nseg), total, 0.25, zeros(nseg))
					r.compare(exact, on("out", ganPartialTol))
				})
			}
		}
	}
	variants := []struct {
		what  string
		flags int32
	}{
		{"grad+reduce+dsum", kernelspec.GanGrad | kernelspec.GanReduce | kernelspec.GanDSum},
		{"per-element+grad", kernelspec.GanGrad},
		{"reduce", kernelspec.GanReduce},
	}
	ops := []int32{kernelspec.GanOpZero, kernelspec.GanOpSCE, kernelspec.GanOpLin, kernelspec.GanOpHinge,
		kernelspec.GanOpSq, kernelspec.GanOpRA, 9}
	for _, n := range []int{1, 7, 1001, 70001} {
		for _, op := range ops {
			for vi, v := range variants {
				for _, blocks := range grids(n) {
					weighted := (vi+int(op))%2 == 0
					t.Run(fmt.Sprintf("terms/n=%d/op=%d/%s/w=%v/blocks=%d", n, op, v.what, weighted, blocks), func(t *testing.T) {
						r, rng := s.rig(t), next()
						x, w := ganLogits(rng, n), ganWeights(rng, n)
						stats := []float32{3.5, 4, -2, 0}
						mi, di, gs := int32(-1), int32(-1), 1/float64(n)
						if op == kernelspec.GanOpRA {
							mi = 2
						}
						if weighted {
							di, gs = 1, 1
						}
						outN := n + 5
						if v.flags&kernelspec.GanReduce != 0 {
							outN = blocks + 5
						}
						r.launch("gan_terms", blocks, op, x, w, int32(n), b2i(weighted), 0.85, -1.0, 1.5, gs, stats, mi, 0.5,
							di, v.flags, zeros(n), zeros(outN), int32(5), zeros(blocks+2), int32(2))
						outTol := ganTermTol
						if v.flags&kernelspec.GanReduce != 0 {
							outTol = ganPartialTol
						}
						r.compare(exact, on("out", outTol), on("grad", ganGradTol), on("dsum", ganPartialTol))
					})
				}
			}
		}
	}
	t.Run("terms/in-place/empty-den", func(t *testing.T) {
		r := s.rig(t)
		x := r.buf(ganLogits(next(), 300))
		// den 0 (no nonzero weight): NaN gradients and partial, on every device.
		r.launch("gan_terms", 2, kernelspec.GanOpSCE, x, zeros(300), int32(300), int32(1), 0.0, 0.0, 1.0, 1.0,
			[]float32{0}, int32(-1), 1.0, int32(0), kernelspec.GanGrad|kernelspec.GanReduce, x, zeros(2), int32(0),
			zeros(2), int32(0))
		r.compare(exact, on("out", ganPartialTol), on("grad", ganGradTol))
	})
	for _, n := range []int{1, 1001} {
		t.Run(fmt.Sprintf("add/n=%d", n), func(t *testing.T) {
			r := s.rig(t)
			r.launch("gan_add", partialBlocks(n), randn(next(), n, 1), int32(n), []float32{0.5, -3}, int32(1), 0.125)
			r.compare(exact, on("grad", ganGradTol))
		})
	}
	for _, rows := range []int{1, 5, 37} {
		for _, d := range []int{1, 7, 300, 1000} {
			for _, op := range []int32{kernelspec.GanPenaltyGP, kernelspec.GanPenaltyR1} {
				for _, oneSided := range []int32{0, 1} {
					for _, flags := range []int32{kernelspec.GanGrad | kernelspec.GanReduce, kernelspec.GanGrad, kernelspec.GanReduce} {
						blocks := min(rows, 3)
						t.Run(fmt.Sprintf("penalty/rows=%d/d=%d/op=%d/one_sided=%d/flags=%d", rows, d, op, oneSided, flags), func(t *testing.T) {
							r, rng := s.rig(t), next()
							g := randn(rng, rows*d, 0.3)
							for k := 0; k < d; k++ {
								g[k] = 0 // a zero row: the norm is sqrt(eps)
							}
							outN := rows
							if flags&kernelspec.GanReduce != 0 {
								outN = blocks
							}
							r.launch("gan_penalty", blocks, op, g, int32(rows), int32(d), 1.0, 1e-10, 10.0, oneSided,
								1/float64(rows), flags, zeros(rows*d), zeros(outN))
							r.compare(exact, on("out", ganPartialTol), on("grad", ganGradTol))
						})
					}
				}
			}
		}
	}
}

// ganSizeCases: 300 elements over two blocks; penalties 3 rows of 300.
func ganSizeCases() []sizeCase {
	const m = 300
	all := kernelspec.GanGrad | kernelspec.GanReduce | kernelspec.GanDSum
	return []sizeCase{
		{kernel: "gan_partials", what: "weights", blocks: 2,
			args: []any{need(m), need(m), int32(m), int32(1), need(3 + 4), int32(3)}},
		{kernel: "gan_partials", what: "no weights", blocks: 2,
			args: []any{need(m), spare(), int32(m), int32(0), need(4), int32(0)}},
		{kernel: "gan_reduce", what: "segments", blocks: 1,
			args: []any{need(4 * 3), int32(3), int32(4), int32(0), 1.0, need(4)}},
		{kernel: "gan_reduce", what: "total", blocks: 1,
			args: []any{need(2 * 3), int32(3), int32(2), int32(1), 1.0, need(1)}},
		{kernel: "gan_terms", what: "every flag", blocks: 2,
			args: []any{kernelspec.GanOpRA, need(m), need(m), int32(m), int32(1), 0.5, 1.0, 1.0, 1.0, need(4), int32(3), 1.0,
				int32(1), all, need(m), need(1 + 2), int32(1), need(2 + 2), int32(2)}},
		{kernel: "gan_terms", what: "per element", blocks: 2,
			args: []any{kernelspec.GanOpSCE, need(m), spare(), int32(m), int32(0), 0.5, 1.0, 1.0, 1.0, spare(), int32(-1), 1.0,
				int32(-1), int32(0), spare(), need(4 + m), int32(4), spare(), int32(0)}},
		{kernel: "gan_add", blocks: 2, guarded: true,
			args: []any{need(m), int32(m), need(3), int32(2), 1.0}},
		{kernel: "gan_penalty", what: "reduce+grad", blocks: 2,
			args: []any{kernelspec.GanPenaltyGP, need(3 * m), int32(3), int32(m), 1.0, 1e-10, 10.0, int32(0), 1.0,
				kernelspec.GanGrad | kernelspec.GanReduce, need(3 * m), need(2)}},
		{kernel: "gan_penalty", what: "per row", blocks: 2, guarded: true,
			args: []any{kernelspec.GanPenaltyR1, need(3 * m), int32(3), int32(m), 1.0, 0.0, 5.0, int32(0), 1.0,
				int32(0), spare(), need(3)}},
	}
}
