package kerneltest

import (
	"fmt"
	"math"
	"testing"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() { addFamily("sac", testSAC, sacSizeCases) }

// Tolerances of the sac family: per-row values and gradients, float32
// kernels against the float64 mirror on the same float32 inputs.
var (
	sacTol     = tol{rel: 2e-5, abs: 2e-6, floor: 1e-6}
	sacPartTol = tol{rel: 2e-5, abs: 2e-6, floor: 1e-5}
)

func testSAC(t *testing.T, s *suite) {
	i := 0
	for _, n := range []int{1, 7, 300, 70001} {
		for _, A := range []int{1, 6} {
			for _, op := range []int32{kernelspec.SacActor, kernelspec.SacTarget, kernelspec.SacTemp, kernelspec.SacTempLogPi} {
				if op == kernelspec.SacTempLogPi && A != 1 {
					continue
				}
				for _, reduce := range []bool{false, true} {
					blocks := partialBlocks(n)
					seed := i
					i++
					t.Run(fmt.Sprintf("rows/n=%d/A=%d/op=%d/reduce=%v", n, A, op, reduce), func(t *testing.T) {
						r := s.rig(t)
						rng := newRand(81, seed)
						x, q := zeros(n*A), zeros(n*A)
						for k := range x {
							x[k], q[k] = float32(rng.NormFloat64()*2), float32(rng.NormFloat64()*3)
						}
						if n*A > 12 { // saturated logits, a NaN
							x[0], x[1], x[7] = 1e4, -1e4, nan
						}
						rw, dn := zeros(n), zeros(n)
						for k := range rw {
							rw[k] = float32(rng.NormFloat64())
							if rng.IntN(4) == 0 {
								dn[k] = 1
							}
						}
						flags := kernelspec.SacFlagGrad | kernelspec.SacFlagQ | kernelspec.SacFlagTarget | kernelspec.SacFlagLogAlpha
						outN := n
						if reduce {
							flags |= kernelspec.SacFlagReduce
							outN = blocks
						}
						r.launch("sac_rows", blocks, op, x, q, rw, dn, []float32{0.3}, int32(n), int32(A), 0.2, 0.99, -1.1,
							1/float64(A), 1/float64(n), flags, zeros(n*A), zeros(outN))
						ot := sacTol
						if reduce {
							ot = sacPartTol
						}
						r.compare(exact, on("out", ot), on("grad", sacTol))
					})
				}
			}
		}
	}
	for _, n := range []int{1, 7, 300, 70001} {
		for _, A := range []int{1, 6} {
			for _, reduce := range []bool{false, true} {
				blocks := partialBlocks(n)
				seed := i
				i++
				t.Run(fmt.Sprintf("continuous/n=%d/A=%d/reduce=%v", n, A, reduce), func(t *testing.T) {
					r := s.rig(t)
					rng := newRand(82, seed)
					mean, ls, eps, dq := zeros(n*A), zeros(n*A), zeros(n*A), zeros(n*A)
					for k := range mean {
						mean[k], ls[k] = float32(rng.NormFloat64()*3), float32(rng.NormFloat64()*0.5-0.5)
						eps[k], dq[k] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
					}
					if n*A > 12 { // deep in tanh's tails
						mean[0], mean[1], mean[2] = 15, -15, float32(math.Copysign(40, -1))
					}
					q := zeros(n)
					for k := range q {
						q[k] = float32(rng.NormFloat64())
					}
					flags := kernelspec.SacFlagGrad | kernelspec.SacFlagLogPi | kernelspec.SacFlagAction
					outN := n
					if reduce {
						flags |= kernelspec.SacFlagReduce
						outN = blocks
					}
					r.launch("sac_continuous_actor", blocks, mean, ls, eps, q, dq, int32(n), int32(A), 0.2, 2.0, 0.5,
						1/float64(n), flags, zeros(n*A), zeros(n*A), zeros(n), zeros(n*A), zeros(outN))
					ot := sacTol
					if reduce {
						ot = sacPartTol
					}
					r.compare(exact, on("out", ot), on("grad_mean", sacTol), on("grad_log_std", sacTol),
						on("log_pi", sacTol), on("action", sacTol))
				})
			}
		}
	}
}

// sacSizeCases: 300 rows of 4 over two blocks.
func sacSizeCases() []sizeCase {
	const m, A = 300, 4
	all := kernelspec.SacFlagGrad | kernelspec.SacFlagReduce | kernelspec.SacFlagQ | kernelspec.SacFlagTarget | kernelspec.SacFlagLogAlpha
	cont := kernelspec.SacFlagGrad | kernelspec.SacFlagReduce | kernelspec.SacFlagLogPi | kernelspec.SacFlagAction
	return []sizeCase{
		{kernel: "sac_rows", what: "actor, every flag", blocks: 2,
			args: []any{kernelspec.SacActor, need(m * A), need(m * A), need(m), need(m), need(1), int32(m), int32(A),
				0.2, 0.99, 1.0, 1.0, 1.0, all, need(m * A), need(2)}},
		{kernel: "sac_rows", what: "temperature from log_pi, per row", blocks: 2, guarded: true,
			args: []any{kernelspec.SacTempLogPi, need(m), spare(), spare(), spare(), need(1), int32(m), int32(1),
				0.2, 0.99, 1.0, 1.0, 1.0, kernelspec.SacFlagLogAlpha, spare(), need(m)},
			bad: []badScalar{bad("A", 2)}},
		{kernel: "sac_continuous_actor", what: "every flag", blocks: 2,
			args: []any{need(m * A), need(m * A), need(m * A), need(m), need(m * A), int32(m), int32(A), 0.2, 1.0, 0.0, 1.0, cont,
				need(m * A), need(m * A), need(m), need(m * A), need(2)}},
		{kernel: "sac_continuous_actor", what: "loss per row", blocks: 2, guarded: true,
			args: []any{need(m * A), need(m * A), need(m * A), need(m), spare(), int32(m), int32(A), 0.2, 1.0, 0.0, 1.0, int32(0),
				spare(), spare(), spare(), spare(), need(m)}},
	}
}
