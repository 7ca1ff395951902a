package main

import (
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// The distill family in the sweep (not in the default sweep: run them with
// -loss). jsd_loss: NxV student and teacher logits, beta 0.5 (Liger's
// default), mean, gradient w.r.t. the student; sequence_log_probs: RxV
// logits (4 sequences), the per-sequence sums and the gradient w.r.t. the
// logits;
// dpo_loss: N pairs, sigmoid, mean, both gradients and the rewards.
func init() {
	benchLosses = append(benchLosses,
		benchLoss{name: "jsd_loss", dims: 2, shapes: []string{"4096x32000"},
			byteModel: "NxV, beta 0.5, mean: reads 2*N*V logits, writes N*V gradients (student): 4*3*N*V bytes",
			prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
				n, v := s[0], s[1]
				x, y := dstBenchLogits(r, n*v), dstBenchLogits(r, n*v)
				ins := map[string]hostIn{"input": {x, []int{n, v}}, "target": {y, []int{n, v}}}
				return prepareDecl(d, mustDecl("jsd_loss"), ins, losses.JSDLossOptions{}, []string{"loss", "grad_input"}, nil,
					4*3*int64(n)*int64(v))
			}},
		benchLoss{name: "sequence_log_probs", dims: 2, shapes: []string{"1024x32000"},
			byteModel: "RxV token rows, as 4 sequences of R/4 tokens (1 sequence if 4 does not divide R): reads R*V logits, writes R*V gradients: 4*2*R*V bytes",
			prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
				b, t, v := 4, s[0]/4, s[1]
				if s[0]%4 != 0 {
					b, t = 1, s[0]
				}
				tg := make([]int32, b*t)
				for i := range tg {
					tg[i] = int32(r.IntN(v))
				}
				ins := map[string]hostIn{"input": {dstBenchLogits(r, b*t*v), []int{b, t, v}}, "target": {tg, []int{b, t}}}
				return prepareDecl(d, mustDecl("sequence_log_probs"), ins, losses.SequenceLogProbsOptions{},
					[]string{"output", "grad_input"}, nil, 4*2*int64(b)*int64(t)*int64(v))
			}},
		benchLoss{name: "dpo_loss", dims: 1, shapes: []string{"1048576"},
			byteModel: "N pairs, sigmoid, mean: reads 4*N log-probabilities, writes 2*N gradients and 2*N rewards: 4*8*N bytes",
			prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
				n := s[0]
				ins := map[string]hostIn{}
				for _, k := range []string{"policy_chosen_logps", "policy_rejected_logps", "reference_chosen_logps", "reference_rejected_logps"} {
					v := dstBenchLogits(r, n)
					for i := range v {
						v[i] = v[i]*10 - 50
					}
					ins[k] = hostIn{v, []int{n}}
				}
				return prepareDecl(d, mustDecl("dpo_loss"), ins, losses.DPOLossOptions{}, nil, nil, 4*8*int64(n))
			}},
	)
}

// dstBenchLogits returns n normal logits of scale 2 (float32).
func dstBenchLogits(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64() * 2)
	}
	return v
}
