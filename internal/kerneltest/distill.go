package kerneltest

import (
	"fmt"
	"testing"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() { addFamily("distill", testDistill, distillSizeCases) }

// Tolerances of the distill family, float32 kernels against the float64
// mirror on the same float32 inputs: per-row divergences and token
// log-probabilities, their gradients, and the sequence sums.
var (
	dstRowTol  = tol{rel: 5e-5, abs: 1e-6, floor: 1e-6}
	dstGradTol = tol{rel: 2e-4, abs: 1e-7, floor: 1e-6}
	dstDPOTol  = tol{rel: 1e-5, abs: 1e-6, floor: 1e-6}
)

var dstShapes = []shape{{1, 1}, {3, 2}, {7, 1000}, {5, 257}, {2, 70001}, {300, 10}}

func testDistill(t *testing.T, s *suite) {
	i := 0
	for _, sh := range dstShapes {
		for _, beta := range []float64{0, 0.5, 0.2, 1} {
			for _, v := range []struct {
				name         string
				flags        int32
				tau, scale   float64
				inPlace, sat bool
			}{
				{"plain+grads", kernelspec.DstJSDGradInput | kernelspec.DstJSDGradTarget, 1, 2, false, false},
				{"labels+denom+tau", kernelspec.DstJSDGradInput | kernelspec.DstJSDLabels | kernelspec.DstJSDDenom, 2, 2, false, false},
				{"in-place+saturated", kernelspec.DstJSDGradInput | kernelspec.DstJSDGradTarget | kernelspec.DstJSDLabels, 1, 1, true, true},
				{"no-grad", kernelspec.DstJSDLabels, 0.5, 3, false, false},
			} {
				seed := i
				i++
				t.Run(fmt.Sprintf("jsd_rows/%v/beta=%v/%s", sh, beta, v.name), func(t *testing.T) {
					r, rng := s.rig(t), newRand(91, seed)
					n := sh.rows * sh.cols
					xs, ys := randn(rng, n, v.scale), randn(rng, n, v.scale)
					if v.sat { // saturated logits: one-hot rows far apart
						for k := range xs {
							xs[k], ys[k] = -1e4, -1e4
						}
						for row := range sh.rows {
							xs[row*sh.cols+row%sh.cols] = 1e4
							ys[row*sh.cols+(row+1)%sh.cols] = 1e4
						}
					}
					labels := make([]int32, sh.rows)
					for k := range labels {
						labels[k] = int32(k % 5)
						if k%3 == 1 {
							labels[k] = -100
						}
					}
					x, y := r.buf(xs), r.buf(ys)
					var gi, gt any = zeros(n), zeros(n)
					if v.inPlace {
						gi, gt = x, y
					}
					r.launch("jsd_rows", sh.rows, x, y, labels, int32(sh.rows), int32(sh.cols), 1/v.tau, beta, int32(-100),
						1/v.tau, []float32{float32(sh.rows)}, v.flags, gi, gt, zeros(sh.rows))
					r.compare(exact, on("loss_rows", dstRowTol), on("grad_input", dstGradTol), on("grad_target", dstGradTol))
				})
			}
		}
	}
	t.Run("jsd_count_valid", func(t *testing.T) {
		for _, n := range []int{0, 1, 300, 1001} {
			r := s.rig(t)
			labels := make([]int32, n)
			for k := range labels {
				labels[k] = int32(k%7) - 2
			}
			r.launch("jsd_count_valid", 1, labels, int32(n), int32(-1), zeros(1))
			r.compare(exact)
		}
	})
	for si, sq := range []struct{ b, t, v int }{{1, 1, 1}, {2, 3, 5}, {3, 7, 1000}, {2, 300, 33}, {1, 2, 70001}} {
		for _, v := range []struct {
			name                     string
			mask, avg, gout, inPlace bool
		}{{"sum", false, false, false, false}, {"mask+avg+gout", true, true, true, false}, {"in-place+mask", true, false, true, true}} {
			t.Run(fmt.Sprintf("seq_log_probs/%dx%dx%d/%s", sq.b, sq.t, sq.v, v.name), func(t *testing.T) {
				r, rng := s.rig(t), newRand(92, si)
				rows := sq.b * sq.t
				xs := randn(rng, rows*sq.v, 3)
				tg, mask := make([]int32, rows), make([]int32, rows)
				for k := range tg {
					tg[k] = int32(rng.IntN(sq.v))
					if k%4 == 3 {
						tg[k] = -100
					}
					mask[k] = b2i(k%5 != 2)
				}
				if rows > 1 { // a confident row
					xs[sq.v+int(tg[1])] = 40
				}
				gout := randn(rng, sq.b, 1)
				r.launch("seq_log_probs_scale", sq.b, tg, mask, int32(sq.b), int32(sq.t), b2i(v.mask), int32(-100), b2i(v.avg),
					b2i(v.gout), gout, zeros(sq.b), zeros(sq.b))
				r.compare(exact, on("scale", tol{rel: 1e-6}))
				scale, count := r.mirror("scale"), r.mirror("count")
				x := r.buf(xs)
				var g any = zeros(rows * sq.v)
				if v.inPlace {
					g = x
				}
				r.launch("seq_log_probs_rows", rows, x, tg, mask, int32(sq.b), int32(sq.t), int32(sq.v), b2i(v.mask), int32(-100),
					scale, int32(1), g, zeros(rows))
				r.compare(exact, on("tok", dstRowTol), on("grad", dstGradTol))
				tok := r.mirror("tok")
				r.launch("seq_log_probs_sum", sq.b, tok, int32(sq.b), int32(sq.t), b2i(v.avg), count, zeros(sq.b))
				r.compare(exact, on("out", dstRowTol))
			})
		}
	}
	for _, n := range []int{1, 7, 1001, 70001} {
		for _, op := range []int32{kernelspec.DstDPOSigmoid, kernelspec.DstDPOHinge, kernelspec.DstDPOIPO} {
			for _, flags := range []int32{
				kernelspec.DstDPOGradChosen | kernelspec.DstDPOGradRejected | kernelspec.DstDPORewards,
				kernelspec.DstDPOGradChosen | kernelspec.DstDPOReduce,
				kernelspec.DstDPOReduce | kernelspec.DstDPORewards,
			} {
				for _, blocks := range grids(n) {
					t.Run(fmt.Sprintf("dpo_loss_elems/n=%d/op=%d/flags=%d/blocks=%d", n, op, flags, blocks), func(t *testing.T) {
						r, rng := s.rig(t), newRand(93, n+int(op)*7+int(flags)*31+blocks)
						pc, pr, rc, rr := randn(rng, n, 20), randn(rng, n, 20), randn(rng, n, 20), randn(rng, n, 20)
						pc[0], pr[0] = 1e5, -1e5 // a saturated margin
						outN := n
						if flags&kernelspec.DstDPOReduce != 0 {
							outN = blocks
						}
						r.launch("dpo_loss_elems", blocks, op, pc, pr, rc, rr, int32(n), 0.1, 0.1, 1/float64(n), flags,
							zeros(n), zeros(n), zeros(n), zeros(n), zeros(outN))
						r.compare(exact, on("out", dstDPOTol), on("grad_chosen", dstDPOTol), on("grad_rejected", dstDPOTol),
							on("chosen_rewards", dstDPOTol), on("rejected_rewards", dstDPOTol))
					})
				}
			}
		}
	}
}

// distillSizeCases: 3 rows of 300 columns, 2 sequences of 3 tokens of 5
// classes, 300 pairs over two blocks.
func distillSizeCases() []sizeCase {
	const n, c, b, tl, v, m = 3, 300, 2, 3, 5, 300
	allJSD := kernelspec.DstJSDLabels | kernelspec.DstJSDDenom | kernelspec.DstJSDGradInput | kernelspec.DstJSDGradTarget
	allDPO := kernelspec.DstDPOGradChosen | kernelspec.DstDPOGradRejected | kernelspec.DstDPORewards | kernelspec.DstDPOReduce
	return []sizeCase{
		{kernel: "jsd_count_valid", what: "labels", blocks: 1,
			args: []any{ineed(n, 1, -100), int32(n), int32(-100), need(1)}},
		{kernel: "jsd_rows", what: "every flag", blocks: n, guarded: true,
			args: []any{need(n * c), need(n * c), ineed(n, 0, -100), int32(n), int32(c), 1.0, 0.5, int32(-100), 1.0,
				needFill(1, 2), allJSD, need(n * c), need(n * c), need(n)}},
		{kernel: "jsd_rows", what: "no flag", blocks: n, guarded: true,
			args: []any{need(n * c), need(n * c), ispare(), int32(n), int32(c), 1.0, 0.5, int32(-100), 1.0,
				spare(), int32(0), spare(), spare(), need(n)}},
		{kernel: "seq_log_probs_scale", what: "mask and grad_output", blocks: b, guarded: true,
			args: []any{ineed(b*tl, 1), ineed(b*tl, 1, 0), int32(b), int32(tl), int32(1), int32(-100), int32(1), int32(1),
				need(b), need(b), need(b)}},
		{kernel: "seq_log_probs_rows", what: "mask and grad", blocks: b * tl, guarded: true,
			args: []any{need(b * tl * v), ineed(b*tl, 1, 4), ineed(b*tl, 1), int32(b), int32(tl), int32(v), int32(1), int32(-100),
				need(b), int32(1), need(b * tl * v), need(b * tl)}},
		{kernel: "seq_log_probs_rows", what: "no mask, no grad", blocks: b * tl, guarded: true,
			args: []any{need(b * tl * v), ineed(b*tl, 2), ispare(), int32(b), int32(tl), int32(v), int32(0), int32(-100),
				need(b), int32(0), spare(), need(b * tl)}},
		{kernel: "seq_log_probs_sum", what: "average", blocks: b, guarded: true,
			args: []any{need(b * tl), int32(b), int32(tl), int32(1), needFill(b, 2), need(b)}},
		{kernel: "dpo_loss_elems", what: "every flag", blocks: 2,
			args: []any{kernelspec.DstDPOSigmoid, need(m), need(m), need(m), need(m), int32(m), 0.1, 0.0, 1.0, allDPO,
				need(m), need(m), need(m), need(m), need(2)}},
		{kernel: "dpo_loss_elems", what: "per pair", blocks: 2, guarded: true,
			args: []any{kernelspec.DstDPOIPO, need(m), need(m), need(m), need(m), int32(m), 0.1, 0.0, 1.0, int32(0),
				spare(), spare(), spare(), spare(), need(m)}},
	}
}
