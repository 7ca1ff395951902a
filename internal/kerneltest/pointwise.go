package kerneltest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/internal/accuracy"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// Tolerances of the pointwise family: the MSE grid cases, every op with
// broadcast weight, mask and aux, and broadcast_sum.
var (
	mseOutTol      = tol{rel: 1e-6}
	msePartialsTol = tol{rel: 2e-5}
	opOutTol       = tol{rel: 1e-4, floor: 1e-5}
	opGradTol      = tol{rel: 1e-4, floor: 1e-6}
	bcastSumTol    = tol{rel: 1e-5, floor: 1e-6}
)

// pwInputs returns input, target and aux values in each op's domain.
func pwInputs(rng *rand.Rand, op int32, n int) (x, y, a []float32) {
	x, y, a = randn(rng, n, 1.5), randn(rng, n, 1), uniform(rng, n, 0.1, 2)
	switch op {
	case kernelspec.OpBCE:
		x, y = uniform(rng, n, 0, 1), uniform(rng, n, 0, 1)
		x[0] = 0 // log clamped at -100
	case kernelspec.OpSigmoidFocal, kernelspec.OpBCEWithLogits:
		y = uniform(rng, n, 0, 1)
	case kernelspec.OpHingeEmbedding, kernelspec.OpSoftMargin, kernelspec.OpHinge, kernelspec.OpSquaredHinge:
		for i := range y {
			y[i] = float32(2*rng.IntN(2) - 1)
		}
	case kernelspec.OpKLDiv:
		y = uniform(rng, n, 0, 1)
		y[0] = 0
	case kernelspec.OpPoissonNLL, kernelspec.OpMSLE:
		x, y = uniform(rng, n, 0, 3), uniform(rng, n, 0, 4)
	}
	return x, y, a
}

func testPointwise(t *testing.T, s *suite) {
	t.Run("mse", func(t *testing.T) { testPointwiseGrids(t, s) })
	t.Run("ops", func(t *testing.T) { testPointwiseOps(t, s) })
	t.Run("broadcast", func(t *testing.T) { testBroadcast(t, s) })
	t.Run("unknown_op", func(t *testing.T) { testUnknownOp(t, s) })
	t.Run("accuracy", func(t *testing.T) { testPointwiseAccuracy(t, s) })
}

// testPointwiseAccuracy runs the float32 accuracy cases of the logistic
// losses (package accuracy: logits from −30 to 30, where they saturate) on
// the device, without and with a weight (which the host device runs
// through other loops), and holds each element's loss and gradients to
// the float64 host path within accuracy.Bound — not to the float32
// mirror, which is held there too (package host's TestPointwiseAccuracy).
func testPointwiseAccuracy(t *testing.T, s *suite) {
	for _, c := range accuracy.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			ref := accuracy.Bound(c, accuracy.Float64(host.Default(), c))
			for _, weighted := range []bool{false, true} {
				got, err := accuracy.Run(s.d, c, weighted)
				must(t, err)
				s.ran("pointwise_loss")
				st := accuracy.Check(t, s.d.Info().Name, c, got, ref)
				var b strings.Builder
				for k, q := range st {
					if k < 2 || c.Target {
						fmt.Fprintf(&b, " %s %.2g (%.2f of bound)", accuracy.Quantities[k], q.MaxRel, q.Worst)
					}
				}
				t.Logf("weighted %v: largest relative errors:%s", weighted, b.String())
			}
		})
	}
}

// testPointwiseGrids runs MSE over sizes around the block size on the
// manifest grid and on grids that make the grid-stride loop wrap, for
// each combination of outputs, out of place and in place (grad_input is
// input, grad_target is target). out is large enough for either use, so
// that a write past the partial sums shows.
func testPointwiseGrids(t *testing.T, s *suite) {
	i := 0
	for _, n := range []int{1, 255, 256, 257, 100003} {
		for _, blocks := range grids(n) {
			for _, flags := range []int32{
				kernelspec.FlagGradInput | kernelspec.FlagGradTarget | kernelspec.FlagReduce,
				kernelspec.FlagGradInput | kernelspec.FlagReduce,
				kernelspec.FlagGradInput | kernelspec.FlagGradTarget,
				kernelspec.FlagReduce,
				kernelspec.FlagGradInput,
				0,
			} {
				rng := newRand(5, i)
				i++
				t.Run(fmt.Sprintf("n=%d/blocks=%d/flags=%d", n, blocks, flags), func(t *testing.T) {
					r := s.rig(t)
					xs, ys := randn(rng, n, 2), randn(rng, n, 2)
					one, mask := r.buf([]float32{1}), r.buf([]int32{1})
					outTol := mseOutTol
					if flags&kernelspec.FlagReduce != 0 {
						outTol = msePartialsTol
					}
					for _, inPlace := range []bool{false, true} {
						in, tg := r.buf(xs), r.buf(ys)
						gi, gt := any(zeros(n)), any(zeros(n))
						if inPlace {
							gi, gt = in, tg
						}
						r.launch("pointwise_loss", blocks, kernelspec.OpMSE, in, tg, one, one, mask, int32(n), 0.0, 0.0, 0.0,
							int32(1), int32(1), int32(1), int32(1), int32(1), int32(1), 1/float64(n), one, flags,
							gi, gt, zeros(1), zeros(max(n, blocks)))
						r.compare(exact, on("out", outTol), on("grad_input", mseOutTol), on("grad_target", mseOutTol))
					}
				})
			}
		}
	}
}

// testPointwiseOps runs every op with weight, mask and aux broadcast per
// row of [n/cols, cols] and a divisor from mask_count, with and without
// the divisor, per element and reduced.
func testPointwiseOps(t *testing.T, s *suite) {
	const cols = 7
	i := 0
	for op := kernelspec.OpMSE; op <= kernelspec.OpGaussianNLL; op++ {
		for _, n := range []int{0, 7 * 37, 7 * 1001} {
			rng := newRand(6, i)
			i++
			t.Run(fmt.Sprintf("op=%d/n=%d", op, n), func(t *testing.T) {
				r := s.rig(t)
				rows := n / cols
				nb := max(n, 1) // buffers are never empty
				x, y, _ := pwInputs(rng, op, nb)
				_, _, a := pwInputs(rng, op, max(rows, 1))
				w := uniform(rng, max(rows, 1), 0, 2)
				m := make([]int32, nb)
				for i := range m {
					m[i] = int32(rng.IntN(3)) // two in three kept
				}
				in, tg, aux, wt, mk := r.buf(x), r.buf(y), r.buf(a), r.buf(w), r.buf(m)
				g := partialBlocks(n)
				r.launch("mask_count", g, mk, int32(n), int32(nb), int32(1), zeros(g))
				r.compare(exact)
				denom := r.mirror("out")
				r.launch("reduce_sum", 1, denom, int32(g), 1.0, int32(0), denom, denom)
				r.compare(exact)
				gi, gt, ga := r.buf(zeros(nb)), r.buf(zeros(nb)), r.buf(zeros(nb))
				out := r.buf(zeros(max(n, g)))
				all := kernelspec.FlagGradInput | kernelspec.FlagGradTarget | kernelspec.FlagGradAux | kernelspec.FlagWeight |
					kernelspec.FlagMask | kernelspec.FlagAux
				for _, flags := range []int32{all | kernelspec.FlagDenom, all | kernelspec.FlagDenom | kernelspec.FlagReduce,
					all | kernelspec.FlagReduce} {
					r.launch("pointwise_loss", g, op, in, tg, aux, wt, mk, int32(n), 0.3, 1.5, 1e-3,
						int32(max(rows, 1)), int32(cols), int32(max(rows, 1)), int32(cols), int32(nb), int32(1), 0.5, denom,
						flags, gi, gt, ga, out)
					r.compare(exact, on("out", opOutTol), on("grad_input", opGradTol), on("grad_target", opGradTol),
						on("grad_aux", opGradTol))
				}
				if rows > 0 {
					r.launch("broadcast_sum", rows, ga, int32(n), int32(rows), int32(cols), zeros(rows)) // per row
					r.compare(opGradTol, on("out", bcastSumTol))
					r.launch("broadcast_sum", cols, ga, int32(n), int32(cols), int32(1), zeros(cols)) // per column
					r.compare(opGradTol, on("out", bcastSumTol))
				}
			})
		}
	}
}

// testBroadcast runs broadcast_sum for a few (len, stride) over 7007
// elements, and mask_count with a mask of 7 broadcast over them.
func testBroadcast(t *testing.T, s *suite) {
	const n = 7007
	for i, bc := range [][2]int{{7, 1}, {1001, 7}, {1, 1}} {
		t.Run(fmt.Sprintf("len=%d/stride=%d", bc[0], bc[1]), func(t *testing.T) {
			r := s.rig(t)
			r.launch("broadcast_sum", bc[0], randn(newRand(7, i), n, 1), int32(n), int32(bc[0]), int32(bc[1]), zeros(bc[0]))
			r.compare(exact, on("out", bcastSumTol))
		})
	}
	t.Run("mask_count/m_len=7", func(t *testing.T) {
		r := s.rig(t)
		r.launch("mask_count", partialBlocks(n), []int32{0, 1, 2, 0, 5, 0, 1}, int32(n), int32(7), int32(1),
			zeros(partialBlocks(n)))
		r.compare(exact)
	})
}

// testUnknownOp wants NaN everywhere pointwise_loss writes for an op it
// does not know: with every output on the manifest grid, and with every
// output buffer one and the same.
func testUnknownOp(t *testing.T, s *suite) {
	all := kernelspec.FlagGradInput | kernelspec.FlagGradTarget | kernelspec.FlagReduce
	for i, n := range []int{1, 255, 257, 100003} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			r := s.rig(t)
			rng := newRand(8, i)
			one := r.buf([]float32{1})
			r.launch("pointwise_loss", partialBlocks(n), int32(99), randn(rng, n, 2), randn(rng, n, 2), one, one,
				[]int32{1}, int32(n), 0.0, 0.0, 0.0, int32(1), int32(1), int32(1), int32(1), int32(1), int32(1), 1.0, one,
				all, zeros(n), zeros(n), zeros(1), zeros(partialBlocks(n)))
			r.compare(exact)
		})
	}
	t.Run("aliased", func(t *testing.T) {
		r := s.rig(t)
		in, out := r.buf([]float32{1, 2}), r.buf(zeros(2))
		r.launch("pointwise_loss", 1, int32(99), in, []float32{0, 0}, in, in, []int32{1}, int32(2), 0.0, 0.0, 0.0,
			int32(1), int32(1), int32(1), int32(1), int32(1), int32(1), 1.0, in, int32(0), out, out, out, out)
		r.compare(exact)
	})
}
