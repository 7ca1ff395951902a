package losstest

import (
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

func init() { familyCases = append(familyCases, returnsCases) }

// retCase is a row of the returns family, run through the declaration.
// Its results map onto Outputs by retOutputs: loss to Loss, the one
// gradient to Grad, and every other output (advantages, returns, td),
// in name order, one after the other into Output.
func retCase(name, loss string, tol float64, ins inputs, opt any) Case {
	return Case{Name: name, Loss: loss, Tol: tol, ins: ins, opt: opt,
		Run: func(dev device.Device, f64 bool) (Outputs, error) {
			d, _ := losses.Lookup(loss)
			ts := make(map[string]losses.Tensor, len(ins))
			for n, v := range ins {
				switch {
				case v.isInt:
					ts[n] = losses.HostTensor(v.i, v.shape...)
				case f64:
					ts[n] = losses.HostTensor(v.f, v.shape...)
				default:
					ts[n] = losses.HostTensor(to32(v.f), v.shape...)
				}
			}
			res, err := d.Call(dev, ts, opt)
			if err != nil {
				return Outputs{}, err
			}
			return retOutputs(d, res), nil
		}}
}

func retOutputs(d *losses.Decl, res map[string]losses.Tensor) Outputs {
	var o Outputs
	names := make([]string, 0, len(res))
	for n := range res {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v := losses.Floats(res[n])
		p, _ := d.Param(n)
		switch {
		case n == "loss":
			o.Loss = v
		case p.Role == losses.Grad:
			o.Grad = v
		default:
			o.Output = append(o.Output, v...)
		}
	}
	return o
}

// retRollout draws a [T, B] rollout: rewards, values (scale 3), bootstrap
// values, terminated and truncated (about one step in six each, the first
// column ending at every step), truncation values, discounts.
func retRollout(seed uint64, T, B int) (r, v, boot, term, trunc, tv, disc []float64) {
	rg := rand.New(rand.NewPCG(seed, 41))
	n := T * B
	r, v, tv = logits(rg, n, 1), logits(rg, n, 3), logits(rg, n, 1)
	boot = logits(rg, B, 3)
	term, trunc, disc = make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		switch {
		case i%B == 0 && B > 1:
			term[i] = 1
		case rg.IntN(6) == 0:
			term[i] = 1
		case rg.IntN(6) == 0:
			trunc[i] = 1
		}
		disc[i] = roundTo32([]float64{0.97 * (1 - term[i])})[0]
	}
	return
}

func returnsCases() []Case {
	var cs []Case
	for _, sz := range [][2]int{{16, 5}, {1, 1}, {2048, 64}, {0, 4}, {5, 0}} {
		T, B := sz[0], sz[1]
		r, v, boot, term, trunc, tv, disc := retRollout(uint64(T*1000+B), T, B)
		tb := func(x []float64) in { return fl(x, T, B) }
		gae := inputs{"rewards": tb(r), "values": tb(v), "bootstrap_value": fl(boot, B), "terminated": tb(term)}
		cs = append(cs, retCase(fmt.Sprintf("gae/terminated/%dx%d", T, B), "gae", 1e-5, gae, nil))
		gaeT := inputs{"rewards": tb(r), "values": tb(v), "bootstrap_value": fl(boot, B), "discounts": tb(disc),
			"truncated": tb(trunc), "truncation_values": tb(tv)}
		cs = append(cs, retCase(fmt.Sprintf("gae/truncated/%dx%d", T, B), "gae", 1e-5, gaeT,
			losses.GAEOptions{Lambda: ptr(1.0)}))
		cs = append(cs, retCase(fmt.Sprintf("gae/gamma0-lambda0/%dx%d", T, B), "gae", 1e-5, gae,
			losses.GAEOptions{Gamma: ptr(0.0), Lambda: ptr(0.0)}))
		seq := inputs{"rewards": tb(r), "values": tb(v), "discounts": tb(disc)}
		cs = append(cs, retCase(fmt.Sprintf("lambda_returns/%dx%d", T, B), "lambda_returns", 1e-5, seq,
			losses.LambdaReturnsOptions{Lambda: ptr(0.9)}))
		cs = append(cs, retCase(fmt.Sprintf("lambda_returns/terminated-lambda1/%dx%d", T, B), "lambda_returns", 1e-5,
			inputs{"rewards": tb(r), "values": tb(v), "terminated": tb(term)}, nil))
		if T <= 16 {
			for _, n := range []int{1, 3, 40} {
				cs = append(cs, retCase(fmt.Sprintf("n_step_returns/n=%d/%dx%d", n, T, B), "n_step_returns", 1e-5, seq,
					losses.NStepReturnsOptions{N: ptr(n), Lambda: ptr(0.8)}))
			}
		} else {
			cs = append(cs, retCase(fmt.Sprintf("n_step_returns/n=20/%dx%d", T, B), "n_step_returns", 1e-5, seq,
				losses.NStepReturnsOptions{N: ptr(20)}))
		}
	}
	const A = 6
	for _, n := range []int{9, 1000, 1, 0} {
		rg := rand.New(rand.NewPCG(uint64(n), 43))
		rt, dt := logits(rg, n, 1), make([]float64, n)
		for i := range dt {
			dt[i] = roundTo32([]float64{rg.Float64()})[0]
		}
		vm, vt := logits(rg, n, 2), logits(rg, n, 2)
		qm, qt, qs := logits(rg, n*A, 2), logits(rg, n*A, 2), logits(rg, n*A, 1)
		acts := make([]int32, n)
		for i := range acts {
			acts[i] = int32(rg.IntN(A))
		}
		if n >= 9 {
			for k := range A { // saturated values; ties in the selector
				qm[k], qt[k], qs[A+k] = 1e4*float64(k%2*2-1), -1e4, 0.5
			}
		}
		for _, o := range []struct {
			what string
			o    losses.TDLossOptions
		}{{"mse-mean", losses.TDLossOptions{}}, {"huber-sum", losses.TDLossOptions{Kind: "huber", Delta: ptr(0.5), Reduction: losses.Sum}},
			{"mse-none", losses.TDLossOptions{Reduction: losses.None}}} {
			cs = append(cs,
				retCase(fmt.Sprintf("td_learning/%s/%d", o.what, n), "td_learning", 1e-5,
					inputs{"v_tm1": fl(vm, n), "r_t": fl(rt, n), "discount_t": fl(dt, n), "v_t": fl(vt, n)},
					losses.TDLearningOptions{TDLossOptions: o.o}),
				retCase(fmt.Sprintf("q_learning/%s/%d", o.what, n), "q_learning", 1e-5,
					inputs{"q_tm1": fl(qm, n, A), "a_tm1": ints(acts, n), "r_t": fl(rt, n), "discount_t": fl(dt, n), "q_t": fl(qt, n, A)},
					losses.QLearningOptions{TDLossOptions: o.o}),
				retCase(fmt.Sprintf("double_q_learning/%s/%d", o.what, n), "double_q_learning", 1e-5,
					inputs{"q_tm1": fl(qm, n, A), "a_tm1": ints(acts, n), "r_t": fl(rt, n), "discount_t": fl(dt, n),
						"q_t_value": fl(qt, n, A), "q_t_selector": fl(qs, n, A)},
					losses.DoubleQLearningOptions{TDLossOptions: o.o}))
		}
	}
	// td_learning over a [T, B] batch
	rg := rand.New(rand.NewPCG(5, 44))
	vm, rt, vt := logits(rg, 12, 2), logits(rg, 12, 1), logits(rg, 12, 2)
	dt := roundTo32([]float64{0.9, 0, 0.5, 1, 0.9, 0.9, 0, 0.3, 0.99, 0.99, 1, 0.2})
	cs = append(cs, retCase("td_learning/4x3", "td_learning", 1e-5,
		inputs{"v_tm1": fl(vm, 4, 3), "r_t": fl(rt, 4, 3), "discount_t": fl(dt, 4, 3), "v_t": fl(vt, 4, 3)},
		losses.TDLearningOptions{TDLossOptions: losses.TDLossOptions{Kind: "huber"}}))
	return cs
}
