package kerneltest

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() { addFamily("returns", testReturns, returnsSizeCases) }

// Tolerances of the returns family: the scan's outputs (a carry in
// le_real from float32 step terms), the TD losses, partials and gradients.
var (
	retScanTol = tol{rel: 1e-5, abs: 1e-5, floor: 1e-5}
	retLossTol = tol{rel: 1e-5, abs: 1e-6, floor: 1e-6}
	retPartTol = tol{rel: 1e-5, abs: 1e-6, floor: 1e-5}
)

// retData is a rollout [T, B]: rewards, values, bootstrap, terminated
// (about one step in eight), truncated (as often, where not terminated),
// truncation values and the discounts 0.97(1 − terminated).
func retData(rng *rand.Rand, T, B int) (r, v, boot, term, disc, trunc, tv []float32) {
	n := T * B
	r, v, term, disc, trunc, tv = zeros(n), zeros(n), zeros(n), zeros(n), zeros(n), zeros(n)
	boot = zeros(B)
	for i := range n {
		r[i], v[i], tv[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()*3), float32(rng.NormFloat64())
		switch rng.IntN(8) {
		case 0:
			term[i] = 1
		case 1:
			trunc[i] = 1
		}
		disc[i] = 0.97 * (1 - term[i])
	}
	for b := range B {
		boot[b] = float32(rng.NormFloat64())
	}
	return
}

func testReturns(t *testing.T, s *suite) {
	i := 0
	for _, sz := range [][2]int{{1, 1}, {7, 3}, {64, 300}, {300, 5}, {2048, 64}} {
		T, B := sz[0], sz[1]
		for _, op := range []int32{kernelspec.RetGAE, kernelspec.RetLambda, kernelspec.RetNStep} {
			for _, flags := range []int32{0, kernelspec.RetFlagDiscounts | kernelspec.RetFlagTruncated | kernelspec.RetFlagOut2} {
				if op == kernelspec.RetNStep && T > 300 {
					continue // T·n steps per column; the 300-step case covers it
				}
				seed := i
				i++
				t.Run(fmt.Sprintf("T=%d/B=%d/op=%d/flags=%d", T, B, op, flags), func(t *testing.T) {
					r := s.rig(t)
					rw, v, boot, term, disc, trunc, tv := retData(newRand(71, seed), T, B)
					ends := term
					if flags&kernelspec.RetFlagDiscounts != 0 {
						ends = disc
					}
					f := flags
					if op == kernelspec.RetGAE {
						f |= kernelspec.RetFlagBootstrap
					}
					n := int32(min(5, T))
					r.launch("returns_scan", (B+255)/256, op, rw, v, boot, ends, trunc, tv, int32(T), int32(B), 0.99, 0.9, n, f,
						zeros(T*B), zeros(T*B))
					r.compare(exact, on("out", retScanTol), on("out2", retScanTol))
				})
			}
		}
	}
	for _, n := range []int{1, 7, 300, 70001} {
		for _, op := range []int32{kernelspec.TDError, kernelspec.TDQ, kernelspec.TDDoubleQ} {
			for _, huber := range []bool{false, true} {
				for _, blocks := range grids(n) {
					seed := i
					i++
					t.Run(fmt.Sprintf("td/n=%d/op=%d/huber=%v/blocks=%d", n, op, huber, blocks), func(t *testing.T) {
						r := s.rig(t)
						rng := newRand(72, seed)
						A := 1
						if op != kernelspec.TDError {
							A = 5
						}
						xm, xt, sel := zeros(n*A), zeros(n*A), zeros(n*A)
						for k := range xm {
							xm[k], xt[k], sel[k] = float32(rng.NormFloat64()*2), float32(rng.NormFloat64()*2), float32(rng.IntN(3))
						}
						rt, dt, acts := zeros(n), zeros(n), make([]int32, n)
						for k := range rt {
							rt[k], dt[k], acts[k] = float32(rng.NormFloat64()), float32(rng.Float64()), int32(rng.IntN(A))
						}
						if n > 3 {
							xt[1] = nan // a NaN bootstrap
							acts[2] = int32(A)
						}
						flags := kernelspec.TDFlagGrad | kernelspec.TDFlagOutTD
						if op != kernelspec.TDError {
							flags |= kernelspec.TDFlagActions | kernelspec.TDFlagSelector
						}
						if huber {
							flags |= kernelspec.TDFlagHuber | kernelspec.TDFlagReduce
						}
						outN := n
						if flags&kernelspec.TDFlagReduce != 0 {
							outN = blocks
						}
						r.launch("td_loss", blocks, op, xm, acts, rt, dt, xt, sel, int32(n), int32(A), 0.8, 1/float64(n), flags,
							zeros(n*A), zeros(n), zeros(outN))
						outTol := retLossTol
						if flags&kernelspec.TDFlagReduce != 0 {
							outTol = retPartTol
						}
						r.compare(exact, on("out", outTol), on("grad", retLossTol), on("td", retLossTol))
					})
				}
			}
		}
	}
}

// returnsSizeCases: a rollout of 3 steps over 300 columns (two blocks),
// 300 TD samples.
func returnsSizeCases() []sizeCase {
	const T, B, m = 3, 300, 300
	all := kernelspec.RetFlagTruncated | kernelspec.RetFlagBootstrap | kernelspec.RetFlagOut2
	q := kernelspec.TDFlagGrad | kernelspec.TDFlagOutTD | kernelspec.TDFlagReduce | kernelspec.TDFlagActions | kernelspec.TDFlagSelector
	return []sizeCase{
		{kernel: "returns_scan", what: "gae, every flag", blocks: 2, guarded: true,
			args: []any{kernelspec.RetGAE, need(T * B), need(T * B), need(B), need(T * B), need(T * B), need(T * B), int32(T), int32(B),
				0.99, 0.95, int32(1), all, need(T * B), need(T * B)}},
		{kernel: "returns_scan", what: "n-step", blocks: 2, guarded: true,
			args: []any{kernelspec.RetNStep, need(T * B), need(T * B), spare(), need(T * B), spare(), spare(), int32(T), int32(B),
				0.99, 0.95, int32(2), kernelspec.RetFlagDiscounts, need(T * B), spare()},
			bad: []badScalar{bad("n", 0)}},
		{kernel: "td_loss", what: "double q, every flag", blocks: 2,
			args: []any{kernelspec.TDDoubleQ, need(m * 4), ineed(m, 1), need(m), need(m), need(m * 4), need(m * 4), int32(m), int32(4),
				1.0, 1.0, q, need(m * 4), need(m), need(2)}},
		{kernel: "td_loss", what: "td per sample", blocks: 2, guarded: true,
			args: []any{kernelspec.TDError, need(m), ispare(), need(m), need(m), need(m), spare(), int32(m), int32(1),
				1.0, 1.0, int32(0), spare(), spare(), need(m)},
			bad: []badScalar{bad("A", 2)}},
	}
}
