package losstest

import (
	"fmt"
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

func init() { familyCases = append(familyCases, distillCases) }

// dstLogits returns n·v float32-exact logits of scale s; with sat, every
// third row is saturated (one class at +1e4, the others at −1e4, the
// class shifted by shift so that the student's and the teacher's differ).
func dstLogits(r *rand.Rand, n, v int, s float64, sat bool, shift int) []float64 {
	x := logits(r, n*v, s)
	if sat {
		for i := 0; i < n; i += 3 {
			for k := range v {
				x[i*v+k] = -1e4
			}
			x[i*v+(i+shift)%v] = 1e4
		}
	}
	return roundTo32(x)
}

// dpoCase is a dpo_loss case: Loss, Output the chosen then the rejected
// rewards, Grad and GradTarget the gradients w.r.t. the chosen and the
// rejected policy log-probabilities.
func dpoCase(name string, tol float64, ins inputs, opt losses.DPOLossOptions) Case {
	return Case{Name: name, Loss: "dpo_loss", Tol: tol, ins: ins, opt: opt,
		Run: func(dev device.Device, f64 bool) (Outputs, error) {
			d, _ := losses.Lookup("dpo_loss")
			ts := map[string]losses.Tensor{}
			for k, v := range ins {
				if f64 {
					ts[k] = losses.HostTensor(v.f, v.shape...)
				} else {
					ts[k] = losses.HostTensor(to32(v.f), v.shape...)
				}
			}
			res, err := d.Call(dev, ts, opt)
			if err != nil {
				return Outputs{}, err
			}
			o := Outputs{Loss: losses.Floats(res["loss"]), Grad: losses.Floats(res["grad_policy_chosen_logps"]),
				GradTarget: losses.Floats(res["grad_policy_rejected_logps"])}
			o.Output = append(losses.Floats(res["chosen_rewards"]), losses.Floats(res["rejected_rewards"])...)
			return o, nil
		}}
}

func distillCases() []Case {
	var cs []Case
	// jsd_loss: odd V, V = 1, no rows, all rows ignored, saturated rows.
	for si, sh := range []struct{ n, v int }{{5, 7}, {3, 1}, {0, 4}, {4, 1001}, {2, 32000}} {
		for oi, o := range []struct {
			what   string
			labels bool
			allIgn bool
			sat    bool
			opt    losses.JSDLossOptions
		}{
			{"default", false, false, false, losses.JSDLossOptions{}},
			{"forward-kl+labels", true, false, false, losses.JSDLossOptions{Beta: ptr(0.0)}},
			{"reverse-kl+tau+sum", false, false, false, losses.JSDLossOptions{Beta: ptr(1.0), Temperature: ptr(2.0), Reduction: losses.Sum}},
			{"beta0.3+labels+none", true, false, false, losses.JSDLossOptions{Beta: ptr(0.3), Reduction: losses.None}},
			{"all-ignored", true, true, false, losses.JSDLossOptions{}},
			{"saturated", true, false, true, losses.JSDLossOptions{Beta: ptr(0.5)}},
			{"saturated-forward-kl", false, false, true, losses.JSDLossOptions{Beta: ptr(0.0), Reduction: losses.Sum}},
		} {
			r := rand.New(rand.NewPCG(uint64(si*31+oi), 3))
			x := dstLogits(r, sh.n, sh.v, 2, o.sat, 0)
			y := dstLogits(r, sh.n, sh.v, 2, o.sat, 1)
			ins := inputs{"input": fl(x, sh.n, sh.v), "target": fl(y, sh.n, sh.v)}
			if o.labels {
				lab := make([]int32, sh.n)
				for i := range lab {
					lab[i] = int32(i % 3)
					if i%4 == 3 || o.allIgn {
						lab[i] = -100
					}
				}
				ins["labels"] = ints(lab, sh.n)
			}
			tol := 2e-5
			if o.sat {
				tol = 1e-4
			}
			cs = append(cs, declCase(fmt.Sprintf("jsd_loss/%s/%dx%d", o.what, sh.n, sh.v), "jsd_loss", tol, ins, o.opt))
		}
	}
	// sequence_log_probs: [B, T, V] with masks, ignored tokens, confident rows.
	for si, sh := range []struct{ b, t, v int }{{2, 3, 5}, {1, 1, 1}, {3, 4, 1001}, {0, 3, 4}, {2, 0, 4}} {
		for oi, o := range []struct {
			what       string
			mask, gout bool
			opt        losses.SequenceLogProbsOptions
		}{
			{"sum", false, false, losses.SequenceLogProbsOptions{}},
			{"average+mask+grad_output", true, true, losses.SequenceLogProbsOptions{AverageLogProb: true}},
			{"mask+ignore_index", true, false, losses.SequenceLogProbsOptions{IgnoreIndex: ptr(0)}},
		} {
			r := rand.New(rand.NewPCG(uint64(si*17+oi), 5))
			rows := sh.b * sh.t
			x := logits(r, rows*sh.v, 3)
			tg, mask := make([]int32, rows), make([]int32, rows)
			for i := range tg {
				tg[i] = int32(r.IntN(sh.v))
				if i%4 == 3 {
					tg[i] = -100
				}
				if o.opt.IgnoreIndex != nil && tg[i] == -100 {
					tg[i] = 0
				}
				mask[i] = int32(min(i%5, 1))
				if i%3 == 1 { // a confident row
					x[i*sh.v+int(max(tg[i], 0))] += 12
				}
			}
			ins := inputs{"input": fl(roundTo32(x), sh.b, sh.t, sh.v), "target": ints(tg, sh.b, sh.t)}
			if o.mask {
				ins["mask"] = ints(mask, sh.b, sh.t)
			}
			if o.gout {
				ins["grad_output"] = fl(roundTo32(logits(r, sh.b, 1)), sh.b)
			}
			cs = append(cs, declCase(fmt.Sprintf("sequence_log_probs/%s/%dx%dx%d", o.what, sh.b, sh.t, sh.v),
				"sequence_log_probs", 2e-5, ins, o.opt))
		}
	}
	// dpo_loss: every loss type, label smoothing, reductions, no pairs,
	// saturated margins.
	for _, n := range []int{9, 1, 0, 3000} {
		for oi, o := range []struct {
			what string
			opt  losses.DPOLossOptions
		}{
			{"sigmoid", losses.DPOLossOptions{}},
			{"sigmoid+smoothing+sum", losses.DPOLossOptions{Beta: ptr(0.5), LabelSmoothing: 0.2, Reduction: losses.Sum}},
			{"hinge+none", losses.DPOLossOptions{LossType: "hinge", Reduction: losses.None}},
			{"ipo", losses.DPOLossOptions{LossType: "ipo", Beta: ptr(0.3)}},
		} {
			r := rand.New(rand.NewPCG(uint64(n*7+oi), 9))
			v := func() []float64 { return roundTo32(logits(r, n, 30)) }
			pc, pr, rc, rr := v(), v(), v(), v()
			if n > 2 {
				pc[1], pr[1] = 1e5, -1e5 // saturated margins
				pc[2], pr[2] = -1e5, 1e5
			}
			cs = append(cs, dpoCase(fmt.Sprintf("dpo_loss/%s/N=%d", o.what, n), 1e-5,
				inputs{"policy_chosen_logps": fl(pc, n), "policy_rejected_logps": fl(pr, n),
					"reference_chosen_logps": fl(rc, n), "reference_rejected_logps": fl(rr, n)}, o.opt))
		}
	}
	// A batch of shape [3, 4] (any shape is flattened).
	r := rand.New(rand.NewPCG(99, 9))
	v := func() []float64 { return roundTo32(logits(r, 12, 10)) }
	cs = append(cs, dpoCase("dpo_loss/ipo+none/3x4", 1e-5,
		inputs{"policy_chosen_logps": fl(v(), 3, 4), "policy_rejected_logps": fl(v(), 3, 4),
			"reference_chosen_logps": fl(v(), 3, 4), "reference_rejected_logps": fl(v(), 3, 4)},
		losses.DPOLossOptions{LossType: "ipo", Reduction: losses.None}))
	return cs
}
