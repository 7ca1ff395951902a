package kerneltest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() { addFamily("policy", testPolicy, policySizeCases) }

// Tolerances of the policy family, float32 kernels against the float64
// mirror on the same float32 inputs: per-row losses, block partials and
// gradients.
var (
	polRowTol  = tol{rel: 1e-5, abs: 1e-6, floor: 1e-6}
	polPartTol = tol{rel: 1e-5, abs: 1e-5, floor: 1e-6}
	polGradTol = tol{rel: 1e-4, abs: 1e-5, floor: 1e-7}
)

// polVariant is one op and flag set of policy_rows.
type polVariant struct {
	name  string
	op    int32
	flags int32
}

var polVariants = []polVariant{
	{"pg-cat-weights", kernelspec.PolPG, kernelspec.PolWeights | kernelspec.PolGradX | kernelspec.PolRows},
	{"pg-gauss", kernelspec.PolPG, kernelspec.PolGauss | kernelspec.PolGradX | kernelspec.PolGradLogStd},
	{"pg-squash", kernelspec.PolPG, kernelspec.PolGauss | kernelspec.PolSquash | kernelspec.PolGradX | kernelspec.PolGradLogStd | kernelspec.PolRows},
	{"ent-cat", kernelspec.PolEnt, kernelspec.PolGradX | kernelspec.PolRows},
	{"ent-gauss-weights", kernelspec.PolEnt, kernelspec.PolGauss | kernelspec.PolWeights | kernelspec.PolGradX | kernelspec.PolGradLogStd},
	{"ppo-cat-norm", kernelspec.PolPPO, kernelspec.PolNormAdv | kernelspec.PolGradX | kernelspec.PolRows},
	{"ppo-direct", kernelspec.PolPPO, kernelspec.PolLogP | kernelspec.PolGradLogP | kernelspec.PolRows},
	{"value-huber-clip", kernelspec.PolValue, kernelspec.PolHuber | kernelspec.PolClipVF | kernelspec.PolGradValues | kernelspec.PolRows},
	{"value-mse", kernelspec.PolValue, kernelspec.PolGradValues},
	{"ac-pg", kernelspec.PolACPG, kernelspec.PolGradX | kernelspec.PolGradValues},
	{"ac-ppo-clip", kernelspec.PolACPPO, kernelspec.PolNormAdv | kernelspec.PolClipVF | kernelspec.PolGradX | kernelspec.PolGradValues | kernelspec.PolRows},
	{"ac-ppo-squash", kernelspec.PolACPPO, kernelspec.PolGauss | kernelspec.PolSquash | kernelspec.PolGradX | kernelspec.PolGradLogStd | kernelspec.PolGradValues},
}

// polData is the inputs of policy_rows for n rows of a actions: logits
// with some saturated rows (±1e4), means and log-stds, actions (squashed
// ones in (−1, 1), some at ±1), old log-probabilities near the new ones,
// advantages with zeros and weights with zeros.
type polData struct {
	x, lstd, actf, logp, old, adv, wts, vals, rets, oldv []float32
	acti                                                 []int32
}

func newPolData(rng *rand.Rand, n, a int, squash bool) polData {
	d := polData{x: randn(rng, n*a, 2), lstd: randn(rng, n*a, 0.4), actf: randn(rng, n*a, 1),
		logp: randn(rng, n, 1), adv: randn(rng, n, 1), wts: randn(rng, n, 1), vals: randn(rng, n, 2),
		rets: randn(rng, n, 2), oldv: randn(rng, n, 2), acti: make([]int32, n), old: make([]float32, n)}
	for i := range n {
		d.acti[i] = int32(rng.IntN(a))
		d.old[i] = d.logp[i] + float32(rng.NormFloat64()*0.3)
		if i%5 == 0 {
			d.adv[i], d.wts[i] = 0, 0
		}
		if i%7 == 3 {
			// saturated: ±1e4, the action at a maximum (an action at
			// −1e4 has log π near −2e4, whose float32 spacing, 2e-3,
			// any float32 ratio exp(log π − old) inherits)
			for j := range a {
				d.x[i*a+j] = float32(1e4 * float64(1-2*(j%2)))
			}
			d.acti[i] = int32(2 * rng.IntN((a+1)/2))
		}
	}
	if squash {
		for k := range d.actf {
			d.actf[k] = float32(math.Tanh(float64(d.actf[k])))
		}
		if len(d.actf) > 2 {
			d.actf[0], d.actf[1] = 1, -1
		}
	}
	return d
}

func testPolicy(t *testing.T, s *suite) {
	i := 0
	for _, n := range []int{1, 7, 300, 1001} {
		for _, a := range []int{1, 5, 18} {
			for _, v := range polVariants {
				for _, blocks := range grids(n) {
					seed := i
					i++
					t.Run(fmt.Sprintf("n=%d/a=%d/%s/blocks=%d", n, a, v.name, blocks), func(t *testing.T) {
						r := s.rig(t)
						d := newPolData(newRand(71, seed), n, a, v.flags&kernelspec.PolSquash != 0)
						// the old log-probabilities of the categorical rows: near log π(a)
						if v.flags&(kernelspec.PolGauss|kernelspec.PolLogP) == 0 {
							for i := range n {
								d.old[i] = polCatLogProb(d.x[i*a:i*a+a], int(d.acti[i])) + d.old[i] - d.logp[i]
							}
						}
						stats := r.buf([]float32{0.3, 1.7})
						r.launch("policy_rows", blocks, v.op, v.flags, d.x, d.lstd, d.acti, d.actf, d.logp, d.old, d.adv,
							d.wts, stats, d.vals, d.rets, d.oldv, int32(n), int32(a), 0.2, 0.3, 0.8, 0.5, 0.01, 1/float64(n),
							zeros(n*a), zeros(n*a), zeros(n), zeros(n), zeros(n), zeros(kernelspec.PolParts*blocks))
						r.compare(exact, on("rows", polRowTol), on("out", polPartTol), on("grad_x", polGradTol),
							on("grad_log_std", polGradTol), on("grad_log_probs", polGradTol), on("grad_values", polGradTol))
					})
				}
			}
		}
	}
	for _, n := range []int{0, 1, 2, 255, 257, 5000} {
		t.Run(fmt.Sprintf("adv_stats/n=%d", n), func(t *testing.T) {
			r := s.rig(t)
			adv := randn(newRand(72, n), n, 3)
			r.launch("policy_adv_stats", 1, adv, int32(n), zeros(2))
			r.compare(exact, on("stats", tol{rel: 1e-5, abs: 1e-6, floor: 1e-6}))
		})
	}
	for _, nb := range []int{1, 3, 1024} {
		for k := range int32(kernelspec.PolParts) {
			t.Run(fmt.Sprintf("reduce/nb=%d/k=%d", nb, k), func(t *testing.T) {
				r := s.rig(t)
				part := randn(newRand(73, nb), kernelspec.PolParts*nb, 1)
				r.launch("policy_reduce", 1, part, int32(nb), k, 1/float64(nb), zeros(1))
				r.compare(exact, on("out", polPartTol))
			})
		}
	}
}

// polCatLogProb is log_softmax(x)[k] in float64, rounded to float32.
func polCatLogProb(x []float32, k int) float32 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, float64(v))
	}
	s := 0.0
	for _, v := range x {
		s += math.Exp(float64(v) - m)
	}
	return float32(float64(x[k]) - m - math.Log(s))
}

// policySizeCases: 300 rows of 5 over two blocks.
func policySizeCases() []sizeCase {
	const m, a = 300, 5
	ac := kernelspec.PolNormAdv | kernelspec.PolClipVF | kernelspec.PolGradX | kernelspec.PolGradValues | kernelspec.PolRows
	pg := kernelspec.PolGauss | kernelspec.PolWeights | kernelspec.PolGradX | kernelspec.PolGradLogStd
	direct := kernelspec.PolLogP | kernelspec.PolGradLogP
	sc := []any{0.2, 0.3, 1.0, 0.5, 0.01, 1.0}
	args := func(op, flags int32, bufs ...any) []any {
		out := []any{op, flags}
		out = append(out, bufs[:12]...)
		out = append(out, int32(m), int32(a))
		out = append(out, sc...)
		return append(out, bufs[12:]...)
	}
	return []sizeCase{
		{kernel: "policy_rows", what: "actor-critic ppo, categorical", blocks: 2,
			args: args(kernelspec.PolACPPO, ac, need(m*a), spare(), ineed(m, 1), spare(), spare(), need(m), need(m), spare(),
				need(2), need(m), need(m), need(m), need(m*a), spare(), spare(), need(m), need(m), need(6*2))},
		{kernel: "policy_rows", what: "policy gradient, Gaussian, weights", blocks: 2,
			args: args(kernelspec.PolPG, pg, need(m*a), need(m*a), ispare(), need(m*a), spare(), spare(), need(m), need(m),
				spare(), spare(), spare(), spare(), need(m*a), need(m*a), spare(), spare(), spare(), need(6*2))},
		{kernel: "policy_rows", what: "ppo from log_probs", blocks: 2,
			args: args(kernelspec.PolPPO, direct, spare(), spare(), ispare(), spare(), need(m), need(m), need(m), spare(),
				spare(), spare(), spare(), spare(), spare(), spare(), need(m), spare(), spare(), need(6*2))},
		{kernel: "policy_adv_stats", what: "two passes", blocks: 1, args: []any{need(m), int32(m), need(2)}},
		{kernel: "policy_reduce", what: "term 4", blocks: 1, args: []any{need(5 * 3), int32(3), int32(4), 1.0, need(1)}},
	}
}
