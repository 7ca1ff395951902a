package losses_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

// Independent float64 references for the row losses, written from the
// definitions (log-softmax by max and sum, no shared code with the
// kernels' mirrors).

func logSoftmax(row []float64, inv float64) []float64 {
	m := math.Inf(-1)
	for _, v := range row {
		m = math.Max(m, v*inv)
	}
	var s float64
	for _, v := range row {
		s += math.Exp(v*inv - m)
	}
	out := make([]float64, len(row))
	for k, v := range row {
		out[k] = v*inv - m - math.Log(s)
	}
	return out
}

// reduceRef reduces per-row losses: Mean divides by den.
func reduceRef(per []float64, red losses.Reduction, den float64) []float64 {
	switch red {
	case losses.None:
		return per
	case losses.Sum:
		return []float64{sumLoss(per)}
	}
	return []float64{sumLoss(per) / den}
}

func classW(w []float64, k int) float64 {
	if w == nil {
		return 1
	}
	return w[k]
}

func ceProbRef(x, y []float64, n, c int, opt losses.CrossEntropyOptions) []float64 {
	per := make([]float64, n)
	eps := opt.LabelSmoothing
	for i := 0; i < n; i++ {
		lp := logSoftmax(x[i*c:(i+1)*c], 1)
		for k := 0; k < c; k++ {
			per[i] -= classW(opt.Weight, k) * ((1-eps)*y[i*c+k] + eps/float64(c)) * lp[k]
		}
	}
	return reduceRef(per, opt.Reduction, float64(n))
}

func nllRef(x []float64, tg []int32, n, c int, opt losses.NLLLossOptions) []float64 {
	ign := losses.DefaultIgnoreIndex
	if opt.IgnoreIndex != nil {
		ign = *opt.IgnoreIndex
	}
	per := make([]float64, n)
	var den float64
	for i := 0; i < n; i++ {
		t := int(tg[i])
		if t == ign {
			continue
		}
		per[i] = -classW(opt.Weight, t) * x[i*c+t]
		den += classW(opt.Weight, t)
	}
	return reduceRef(per, opt.Reduction, den)
}

func focalRef(x []float64, tg []int32, n, c int, opt losses.FocalLossOptions) []float64 {
	ign := losses.DefaultIgnoreIndex
	if opt.IgnoreIndex != nil {
		ign = *opt.IgnoreIndex
	}
	g := 2.0
	if opt.Gamma != nil {
		g = *opt.Gamma
	}
	per := make([]float64, n)
	var kept float64
	for i := 0; i < n; i++ {
		t := int(tg[i])
		if t == ign {
			continue
		}
		lp := logSoftmax(x[i*c:(i+1)*c], 1)[t]
		per[i] = -classW(opt.Alpha, t) * math.Pow(1-math.Exp(lp), g) * lp
		kept++
	}
	return reduceRef(per, opt.Reduction, kept)
}

func marginRef(x []float64, tg []int32, n, c int, opt losses.MultiMarginLossOptions) []float64 {
	p, margin := 1, 1.0
	if opt.P != 0 {
		p = opt.P
	}
	if opt.Margin != nil {
		margin = *opt.Margin
	}
	per := make([]float64, n)
	for i := 0; i < n; i++ {
		t := int(tg[i])
		for j := 0; j < c; j++ {
			if j != t {
				per[i] += math.Pow(math.Max(0, margin-x[i*c+t]+x[i*c+j]), float64(p))
			}
		}
		per[i] *= classW(opt.Weight, t) / float64(c)
	}
	return reduceRef(per, opt.Reduction, float64(n))
}

func hingeRef(x, y []float64, n, c int, opt losses.CategoricalHingeOptions) []float64 {
	per := make([]float64, n)
	for i := 0; i < n; i++ {
		var pos float64
		neg := math.Inf(-1)
		for k := 0; k < c; k++ {
			pos += y[i*c+k] * x[i*c+k]
			neg = math.Max(neg, (1-y[i*c+k])*x[i*c+k])
		}
		per[i] = math.Max(0, neg-pos+1)
	}
	return reduceRef(per, opt.Reduction, float64(n))
}

func distillRef(s, t []float64, n, c int, opt losses.DistillKLOptions) []float64 {
	tau := float64(opt.Temperature)
	if tau == 0 {
		tau = 1
	}
	per := make([]float64, n)
	for i := 0; i < n; i++ {
		ls, lt := logSoftmax(s[i*c:(i+1)*c], 1/tau), logSoftmax(t[i*c:(i+1)*c], 1/tau)
		for k := 0; k < c; k++ {
			if q := math.Exp(lt[k]); q > 0 {
				per[i] += q * (lt[k] - ls[k])
			}
		}
		per[i] *= tau * tau
	}
	return reduceRef(per, opt.Reduction, float64(n))
}

// probs returns n rows of c random probabilities (each row sums to 1).
func probs(r *rand.Rand, n, c int) []float64 {
	y := make([]float64, n*c)
	for i := 0; i < n; i++ {
		var s float64
		for k := 0; k < c; k++ {
			y[i*c+k] = r.ExpFloat64()
			s += y[i*c+k]
		}
		for k := 0; k < c; k++ {
			y[i*c+k] /= s
		}
	}
	return y
}

func randTargets(r *rand.Rand, n, c int) []int32 {
	tg := make([]int32, n)
	for i := range tg {
		tg[i] = int32(r.IntN(c))
	}
	return tg
}

func rowClose(t *testing.T, want, got []float64, tol float64, what string) {
	t.Helper()
	require.Len(t, got, len(want), what)
	for i := range want {
		if math.IsNaN(want[i]) {
			require.True(t, math.IsNaN(got[i]), "%s[%d] = %v, want NaN", what, i, got[i])
			continue
		}
		require.InDelta(t, want[i], got[i], tol*(1+math.Abs(want[i])), "%s[%d]", what, i)
	}
}

var (
	w7  = []float64{0.5, 2, 1, 0.1, 3, 1, 0.7}
	red = []losses.Reduction{losses.Mean, losses.Sum, losses.None}
)

func TestCrossEntropyProbsClosedForm(t *testing.T) {
	// Uniform logits: -log p = log C everywhere, so l_i = log C Σ_k w_k y_k and
	// the gradient is (Σ_j w_j y_j)/C - w_k y_k.
	y := []float64{0.5, 0.25, 0.25, 0, 1, 0}
	res, err := ceProbsSlices(hostDev, make([]float64, 6), y, 2, 3, losses.CrossEntropyOptions{Reduction: losses.None})
	require.NoError(t, err)
	rowClose(t, []float64{math.Log(3), math.Log(3)}, res.Loss, 1e-15, "loss")
	rowClose(t, []float64{1.0/3 - 0.5, 1.0/3 - 0.25, 1.0/3 - 0.25, 1.0 / 3, 1.0/3 - 1, 1.0 / 3}, res.Grad, 1e-15, "grad")
	rowClose(t, []float64{math.Log(3), math.Log(3), math.Log(3), math.Log(3), math.Log(3), math.Log(3)}, res.GradTarget, 1e-15, "grad_target")
	// Weights and the mean over N (not over the weights): w = (1, 2, 4).
	res, err = ceProbsSlices(hostDev, make([]float64, 6), y, 2, 3,
		losses.CrossEntropyOptions{Weight: []float64{1, 2, 4}})
	require.NoError(t, err)
	require.InDelta(t, math.Log(3)*(0.5+0.5+1+2)/2, res.Loss[0], 1e-15)
	// Two classes, logits (0, log 3): p = (1/4, 3/4); y = (1/2, 1/2) smoothed
	// by 0.5 is still (1/2, 1/2).
	res, err = ceProbsSlices(hostDev, []float64{0, math.Log(3)}, []float64{1, 0}, 1, 2,
		losses.CrossEntropyOptions{LabelSmoothing: 1})
	require.NoError(t, err)
	require.InDelta(t, 0.5*math.Log(4)+0.5*math.Log(4.0/3), res.Loss[0], 1e-15)
	rowClose(t, []float64{0.25 - 0.5, 0.75 - 0.5}, res.Grad, 1e-15, "grad")
	rowClose(t, []float64{0, 0}, res.GradTarget, 0, "grad_target (ε = 1)")
}

func TestNLLLossClosedForm(t *testing.T) {
	x := []float64{-1, -2, -3, -0.5, -1.5, -2.5, -7, -8, -9}
	tg := []int32{2, 0, -100}
	res, err := nllSlices(hostDev, x, tg, 3, 3, losses.NLLLossOptions{Weight: []float64{1, 2, 3}})
	require.NoError(t, err)
	require.InDelta(t, (3*3+1*0.5)/4, res.Loss[0], 1e-15)
	rowClose(t, []float64{0, 0, -0.75, -0.25, 0, 0, 0, 0, 0}, res.Grad, 1e-15, "grad")
	res, err = nllSlices(hostDev, x, tg, 3, 3, losses.NLLLossOptions{Reduction: losses.None})
	require.NoError(t, err)
	require.Equal(t, []float64{3, 0.5, 0}, res.Loss)
	rowClose(t, []float64{0, 0, -1, -1, 0, 0, 0, 0, 0}, res.Grad, 0, "grad")
}

func TestFocalLossClosedForm(t *testing.T) {
	// Uniform logits over 4 classes: p_t = 1/4, l = (3/4)^γ log 4, and
	// D = -((3/4)^γ - γ (1/4) log(1/4) (3/4)^(γ-1)).
	for _, g := range []float64{0, 0.5, 2, 3} {
		res, err := focalSlices(hostDev, make([]float64, 4), []int32{1}, 1, 4, losses.FocalLossOptions{Gamma: losses.Value(g)})
		require.NoError(t, err)
		require.InDelta(t, math.Pow(0.75, g)*math.Log(4), res.Loss[0], 1e-15, "gamma %v", g)
		d := -(math.Pow(0.75, g) - g*0.25*math.Log(0.25)*math.Pow(0.75, g-1))
		rowClose(t, []float64{-0.25 * d, 0.75 * d, -0.25 * d, -0.25 * d}, res.Grad, 1e-15, fmt.Sprintf("grad gamma %v", g))
	}
	// γ = 0 with alpha is the weighted cross-entropy, but the mean divides
	// by the number of rows, not by the weights.
	x := []float64{1, 2, 3, 0, 0, 1}
	tg := []int32{2, 0}
	alpha := []float64{2, 1, 0.5}
	res, err := focalSlices(hostDev, x, tg, 2, 3, losses.FocalLossOptions{Gamma: losses.Value(0.0), Alpha: alpha})
	require.NoError(t, err)
	ce, err := ceSlices(hostDev, x, tg, 2, 3, losses.CrossEntropyOptions{Weight: alpha, Reduction: losses.Sum})
	require.NoError(t, err)
	require.InDelta(t, ce.Loss[0]/2, res.Loss[0], 1e-15)
	twice := make([]float64, len(res.Grad))
	for i, v := range res.Grad {
		twice[i] = 2 * v
	}
	rowClose(t, ce.Grad, twice, 1e-15, "grad")
}

func TestMultiMarginClosedForm(t *testing.T) {
	// PyTorch's documented example: x = (0.1, 0.2, 0.4, 0.8), y = 3.
	x := []float64{0.1, 0.2, 0.4, 0.8}
	res, err := marginSlices(hostDev, x, []int32{3}, 1, 4, losses.MultiMarginLossOptions{})
	require.NoError(t, err)
	require.InDelta(t, 0.325, res.Loss[0], 1e-15)
	rowClose(t, []float64{0.25, 0.25, 0.25, -0.75}, res.Grad, 1e-15, "grad")
	// p = 2, margin 0.5, weight 2 on the target class: only j = 2 is within
	// the margin (z = 0.1), l = 2 · 0.01 / 4.
	res, err = marginSlices(hostDev, x, []int32{3}, 1, 4,
		losses.MultiMarginLossOptions{P: 2, Margin: losses.Value(0.5), Weight: []float64{1, 1, 1, 2}})
	require.NoError(t, err)
	require.InDelta(t, 0.005, res.Loss[0], 1e-15)
	rowClose(t, []float64{0, 0, 0.1, -0.1}, res.Grad, 1e-15, "grad")
}

func TestCategoricalHingeClosedForm(t *testing.T) {
	y := []float64{0, 1, 0}
	for _, tc := range []struct {
		name string
		x    []float64
		loss float64
		grad []float64
	}{
		{"violated", []float64{3, 2, 0.5}, 2, []float64{1, -1, 0}},
		{"at the hinge: the gradient passes", []float64{1, 2, 0.5}, 0, []float64{1, -1, 0}},
		{"inside the margin", []float64{0, 5, 0}, 0, []float64{0, 0, 0}},
		{"tie shared evenly", []float64{2, 1, 2}, 2, []float64{0.5, -1, 0.5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := hingeSlices(hostDev, tc.x, y, 1, 3, losses.CategoricalHingeOptions{})
			require.NoError(t, err)
			require.Equal(t, tc.loss, res.Loss[0])
			rowClose(t, tc.grad, res.Grad, 0, "grad")
		})
	}
	// Soft targets: pos = 0.5·1 + 0.5·2 = 1.5, neg = max(0.5, 1, 0) = 1.
	res, err := hingeSlices(hostDev, []float64{1, 2, 0}, []float64{0.5, 0.5, 0}, 1, 3, losses.CategoricalHingeOptions{})
	require.NoError(t, err)
	require.InDelta(t, 0.5, res.Loss[0], 1e-15)
	rowClose(t, []float64{-0.5, -0.5 + 0.5, 0}, res.Grad, 1e-15, "grad")
}

func TestDistillKLClosedForm(t *testing.T) {
	for _, tau := range []float64{1, 2, 4} {
		// Same logits: no loss, no gradient.
		s := []float64{1, -2, 0.5, 3, 3, 3}
		res, err := distillSlices(hostDev, s, s, 2, 3, losses.DistillKLOptions{Temperature: losses.Temperature(tau)})
		require.NoError(t, err)
		require.InDelta(t, 0, res.Loss[0], 1e-15)
		rowClose(t, make([]float64, 6), res.Grad, 1e-15, "grad")
		// Teacher q = (1/4, 3/4), student p = (1/2, 1/2).
		res, err = distillSlices(hostDev, []float64{0, 0}, []float64{0, tau * math.Log(3)}, 1, 2,
			losses.DistillKLOptions{Temperature: losses.Temperature(tau), Reduction: losses.Sum})
		require.NoError(t, err)
		require.InDelta(t, tau*tau*(0.25*math.Log(0.5)+0.75*math.Log(1.5)), res.Loss[0], 1e-14)
		rowClose(t, []float64{tau * 0.25, -tau * 0.25}, res.Grad, 1e-14, "grad")
	}
}

// rowCase is one (loss, options) case for the reference and
// finite-difference tests.
type rowCase struct {
	name string
	// run returns the loss, the gradient w.r.t. x and, if any, w.r.t. y.
	run func(x, y []float64) (*result[float64], error)
	ref func(x, y []float64) []float64
	// probs: y is probabilities (else logits); hasGT: check grad_target.
	probs, hasGT bool
}

func rowCases(n, c int, tg []int32, ign []int32) []rowCase {
	var cs []rowCase
	for _, r := range red {
		for _, o := range []losses.CrossEntropyOptions{{Reduction: r}, {Reduction: r, Weight: w7, LabelSmoothing: 0.2}} {
			cs = append(cs, rowCase{name: fmt.Sprintf("cross_entropy_probs/%v/w=%v/ls=%v", r, o.Weight != nil, o.LabelSmoothing),
				run: func(x, y []float64) (*result[float64], error) {
					return ceProbsSlices(hostDev, x, y, n, c, o)
				},
				ref: func(x, y []float64) []float64 { return ceProbRef(x, y, n, c, o) }, probs: true, hasGT: true})
		}
		for _, o := range []losses.NLLLossOptions{{Reduction: r}, {Reduction: r, Weight: w7, IgnoreIndex: losses.Index(3)}} {
			tgo := tg
			if o.IgnoreIndex != nil {
				tgo = ign
			}
			cs = append(cs, rowCase{name: fmt.Sprintf("nll_loss/%v/w=%v", r, o.Weight != nil),
				run: func(x, y []float64) (*result[float64], error) {
					return nllSlices(hostDev, x, tgo, n, c, o)
				},
				ref: func(x, y []float64) []float64 { return nllRef(x, tgo, n, c, o) }})
		}
		for _, g := range []float64{0, 0.5, 2, 3.5} {
			for _, o := range []losses.FocalLossOptions{{Reduction: r, Gamma: losses.Value(g)}, {Reduction: r, Gamma: losses.Value(g), Alpha: w7, IgnoreIndex: losses.Index(3)}} {
				tgo := tg
				if o.IgnoreIndex != nil {
					tgo = ign
				}
				cs = append(cs, rowCase{name: fmt.Sprintf("focal_loss/%v/gamma=%v/alpha=%v", r, g, o.Alpha != nil),
					run: func(x, y []float64) (*result[float64], error) {
						return focalSlices(hostDev, x, tgo, n, c, o)
					},
					ref: func(x, y []float64) []float64 { return focalRef(x, tgo, n, c, o) }})
			}
		}
		for _, o := range []losses.MultiMarginLossOptions{{Reduction: r}, {Reduction: r, P: 2, Margin: losses.Value(2.5), Weight: w7}} {
			cs = append(cs, rowCase{name: fmt.Sprintf("multi_margin_loss/%v/p=%d", r, o.P),
				run: func(x, y []float64) (*result[float64], error) {
					return marginSlices(hostDev, x, tg, n, c, o)
				},
				ref: func(x, y []float64) []float64 { return marginRef(x, tg, n, c, o) }})
		}
		o := losses.CategoricalHingeOptions{Reduction: r}
		cs = append(cs, rowCase{name: fmt.Sprintf("categorical_hinge/%v", r),
			run: func(x, y []float64) (*result[float64], error) {
				return hingeSlices(hostDev, x, y, n, c, o)
			},
			ref: func(x, y []float64) []float64 { return hingeRef(x, y, n, c, o) }, probs: true})
		for _, tau := range []float64{0, 3} {
			o := losses.DistillKLOptions{Reduction: r, Temperature: losses.Temperature(tau)}
			cs = append(cs, rowCase{name: fmt.Sprintf("distill_kl/%v/tau=%v", r, tau),
				run: func(x, y []float64) (*result[float64], error) {
					return distillSlices(hostDev, x, y, n, c, o)
				},
				ref: func(x, y []float64) []float64 { return distillRef(x, y, n, c, o) }})
		}
	}
	return cs
}

// TestRowLossesFiniteDifferences checks every loss against its reference
// and every gradient against central differences of the reference.
func TestRowLossesFiniteDifferences(t *testing.T) {
	const n, c = 5, 7
	r := rand.New(rand.NewPCG(21, 22))
	tg := []int32{1, 6, 0, 3, 2}
	ign := []int32{1, 3, 0, 3, 6}
	for _, tc := range rowCases(n, c, tg, ign) {
		t.Run(tc.name, func(t *testing.T) {
			x := randLogits(r, n*c, 1.5)
			y := randLogits(r, n*c, 2)
			if tc.probs {
				y = probs(r, n, c)
			}
			res, err := tc.run(x, y)
			require.NoError(t, err)
			rowClose(t, tc.ref(x, y), res.Loss, 1e-12, "loss")
			fdCheck(t, x, res.Grad, func(x []float64) float64 { return sumLoss(tc.ref(x, y)) })
			if tc.hasGT {
				fdCheck(t, y, res.GradTarget, func(y []float64) float64 { return sumLoss(tc.ref(x, y)) })
			} else {
				require.Nil(t, res.GradTarget)
			}
		})
	}
}

// TestRowLossesFloat32 runs each loss in float32 on the host, with C past
// a block multiple, against float64.
func TestRowLossesFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for _, c := range []int{1, 257, 1000} {
		n := 6
		x, y, p := randLogits(r, n*c, 3), randLogits(r, n*c, 3), probs(r, n, c)
		tg := randTargets(r, n, c)
		for _, v := range [][]float64{x, y, p} {
			for i := range v {
				v[i] = float64(float32(v[i]))
			}
		}
		type pair struct {
			f64 *result[float64]
			f32 *result[float32]
		}
		run := func(name string, f64 func() (*result[float64], error), f32 func() (*result[float32], error)) {
			t.Run(fmt.Sprintf("%s/C=%d", name, c), func(t *testing.T) {
				a, err := f64()
				require.NoError(t, err)
				b, err := f32()
				require.NoError(t, err)
				for _, o := range [][2]any{{a.Loss, b.Loss}, {a.Grad, b.Grad}, {a.GradTarget, b.GradTarget}} {
					want, got := o[0].([]float64), o[1].([]float32)
					var scale float64
					for _, v := range want {
						scale = math.Max(scale, math.Abs(v))
					}
					for i := range want {
						require.InDelta(t, want[i], float64(got[i]), 2e-6*(math.Abs(want[i])+scale+1e-30), "%d", i)
					}
				}
			})
		}
		x32, y32, p32 := to32s(x), to32s(y), to32s(p)
		run("cross_entropy_probs", func() (*result[float64], error) {
			return ceProbsSlices(hostDev, x, p, n, c, losses.CrossEntropyOptions{LabelSmoothing: 0.1})
		}, func() (*result[float32], error) {
			return ceProbsSlices(hostDev, x32, p32, n, c, losses.CrossEntropyOptions{LabelSmoothing: 0.1})
		})
		run("nll_loss", func() (*result[float64], error) {
			return nllSlices(hostDev, x, tg, n, c, losses.NLLLossOptions{})
		}, func() (*result[float32], error) {
			return nllSlices(hostDev, x32, tg, n, c, losses.NLLLossOptions{})
		})
		run("focal_loss", func() (*result[float64], error) {
			return focalSlices(hostDev, x, tg, n, c, losses.FocalLossOptions{})
		}, func() (*result[float32], error) {
			return focalSlices(hostDev, x32, tg, n, c, losses.FocalLossOptions{})
		})
		run("multi_margin_loss", func() (*result[float64], error) {
			return marginSlices(hostDev, x, tg, n, c, losses.MultiMarginLossOptions{P: 2})
		}, func() (*result[float32], error) {
			return marginSlices(hostDev, x32, tg, n, c, losses.MultiMarginLossOptions{P: 2})
		})
		run("categorical_hinge", func() (*result[float64], error) {
			return hingeSlices(hostDev, x, p, n, c, losses.CategoricalHingeOptions{Reduction: losses.None})
		}, func() (*result[float32], error) {
			return hingeSlices(hostDev, x32, p32, n, c, losses.CategoricalHingeOptions{Reduction: losses.None})
		})
		run("distill_kl", func() (*result[float64], error) {
			return distillSlices(hostDev, x, y, n, c, losses.DistillKLOptions{Temperature: 2})
		}, func() (*result[float32], error) {
			return distillSlices(hostDev, x32, y32, n, c, losses.DistillKLOptions{Temperature: 2})
		})
	}
}

func to32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// allRowLosses runs each of the six losses with class-index targets tg or
// float targets y on x, and the reduction red.
func allRowLosses(x, y []float64, tg []int32, n, c int, red losses.Reduction) map[string]*result[float64] {
	out := map[string]*result[float64]{}
	add := func(name string, r *result[float64], err error) {
		if err != nil {
			panic(fmt.Sprintf("%s: %v", name, err))
		}
		out[name] = r
	}
	r, err := ceProbsSlices(hostDev, x, y, n, c, losses.CrossEntropyOptions{Reduction: red})
	add("cross_entropy_probs", r, err)
	r, err = nllSlices(hostDev, x, tg, n, c, losses.NLLLossOptions{Reduction: red})
	add("nll_loss", r, err)
	r, err = focalSlices(hostDev, x, tg, n, c, losses.FocalLossOptions{Reduction: red})
	add("focal_loss", r, err)
	r, err = marginSlices(hostDev, x, tg, n, c, losses.MultiMarginLossOptions{Reduction: red})
	add("multi_margin_loss", r, err)
	r, err = hingeSlices(hostDev, x, y, n, c, losses.CategoricalHingeOptions{Reduction: red})
	add("categorical_hinge", r, err)
	r, err = distillSlices(hostDev, x, y, n, c, losses.DistillKLOptions{Reduction: red})
	add("distill_kl", r, err)
	return out
}

func TestRowLossesEmptyBatch(t *testing.T) {
	for _, r := range red {
		for name, res := range allRowLosses(nil, nil, nil, 0, 3, r) {
			switch r {
			case losses.Mean:
				require.True(t, math.IsNaN(res.Loss[0]), "%s: the mean of nothing is NaN, got %v", name, res.Loss[0])
			case losses.Sum:
				require.Equal(t, []float64{0}, res.Loss, name)
			default:
				require.Empty(t, res.Loss, name)
			}
			require.Empty(t, res.Grad, name)
		}
	}
}

func TestRowLossesAllIgnored(t *testing.T) {
	x := []float64{1, 2, 3, 4, 5, 6}
	tg := []int32{-100, -100}
	for _, tc := range []struct {
		name string
		run  func(r losses.Reduction) (*result[float64], error)
	}{
		{"nll_loss", func(r losses.Reduction) (*result[float64], error) {
			return nllSlices(hostDev, x, tg, 2, 3, losses.NLLLossOptions{Reduction: r, Weight: []float64{1, 2, 3}})
		}},
		{"focal_loss", func(r losses.Reduction) (*result[float64], error) {
			return focalSlices(hostDev, x, tg, 2, 3, losses.FocalLossOptions{Reduction: r})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := tc.run(losses.Mean)
			require.NoError(t, err)
			require.True(t, math.IsNaN(res.Loss[0]), "mean of no rows: %v", res.Loss[0])
			require.Equal(t, make([]float64, 6), res.Grad)
			res, err = tc.run(losses.Sum)
			require.NoError(t, err)
			require.Equal(t, []float64{0}, res.Loss)
			res, err = tc.run(losses.None)
			require.NoError(t, err)
			require.Equal(t, []float64{0, 0}, res.Loss)
			require.Equal(t, make([]float64, 6), res.Grad)
		})
	}
	// nll_loss: rows kept but all of weight 0: 0/0 loss and gradient, as in PyTorch.
	res, err := nllSlices(hostDev, x, []int32{0, -100}, 2, 3, losses.NLLLossOptions{Weight: []float64{0, 1, 1}})
	require.NoError(t, err)
	require.True(t, math.IsNaN(res.Loss[0]))
	require.True(t, math.IsNaN(res.Grad[0]))
}

func TestRowLossesExtremeLogits(t *testing.T) {
	// Logits ±1e4: every loss stays finite where its definition is, with
	// the gradient of a saturated softmax.
	x := []float64{1e4, -1e4, 0, -1e4, 1e4, 0}
	tg := []int32{1, 1}
	onehot := []float64{0, 1, 0, 0, 1, 0}
	res, err := ceProbsSlices(hostDev, x, onehot, 2, 3, losses.CrossEntropyOptions{Reduction: losses.None})
	require.NoError(t, err)
	rowClose(t, []float64{2e4, 0}, res.Loss, 1e-12, "cross_entropy_probs loss")
	rowClose(t, []float64{1, -1, 0, 0, 0, 0}, res.Grad, 1e-12, "cross_entropy_probs grad")
	rowClose(t, []float64{0, 2e4, 1e4, 2e4, 0, 1e4}, res.GradTarget, 1e-12, "cross_entropy_probs grad_target")

	for _, g := range []float64{0, 0.5, 2} {
		res, err = focalSlices(hostDev, x, tg, 2, 3, losses.FocalLossOptions{Reduction: losses.None, Gamma: losses.Value(g)})
		require.NoError(t, err)
		rowClose(t, []float64{2e4, 0}, res.Loss, 1e-12, "focal loss")
		// Row 1 has p_t = 1: D = -1 for γ = 0, and 0 (the limit) otherwise.
		want := []float64{1, -1, 0, 0, 0, 0}
		for _, v := range res.Grad {
			require.False(t, math.IsNaN(v), "gamma %v: NaN gradient %v", g, res.Grad)
		}
		rowClose(t, want, res.Grad, 1e-12, fmt.Sprintf("focal grad gamma %v", g))
	}

	res, err = marginSlices(hostDev, x, tg, 2, 3, losses.MultiMarginLossOptions{Reduction: losses.None})
	require.NoError(t, err)
	rowClose(t, []float64{(2e4 + 1 + 1e4 + 1) / 3, 0}, res.Loss, 1e-12, "multi_margin loss")

	res, err = hingeSlices(hostDev, x, onehot, 2, 3, losses.CategoricalHingeOptions{Reduction: losses.None})
	require.NoError(t, err)
	rowClose(t, []float64{2e4 + 1, 0}, res.Loss, 1e-12, "categorical_hinge loss")

	// A saturated teacher and student that disagree: KL = 2e4 (τ = 1).
	res, err = distillSlices(hostDev, []float64{1e4, -1e4}, []float64{-1e4, 1e4}, 1, 2, losses.DistillKLOptions{})
	require.NoError(t, err)
	rowClose(t, []float64{2e4}, res.Loss, 1e-12, "distill_kl loss")
	rowClose(t, []float64{1, -1}, res.Grad, 1e-12, "distill_kl grad")
	// Exactly zero teacher probabilities add nothing (0 log 0 = 0).
	res, err = distillSlices(hostDev, []float64{0, 0, 0}, []float64{0, 0, math.Inf(-1)}, 1, 3, losses.DistillKLOptions{})
	require.NoError(t, err)
	rowClose(t, []float64{math.Log(1.5)}, res.Loss, 1e-15, "distill_kl loss with q = 0")
}

func TestRowLossesNaN(t *testing.T) {
	nan := math.NaN()
	x := []float64{1, nan, 0.5, 1, 2, 3}
	y := []float64{0.2, 0.3, 0.5, 0.2, 0.3, 0.5}
	res := allRowLosses(x, y, []int32{0, 2}, 2, 3, losses.None)
	for _, name := range []string{"cross_entropy_probs", "nll_loss", "focal_loss", "categorical_hinge", "distill_kl"} {
		r := res[name]
		if name == "nll_loss" { // reads only x[0, 0]
			require.False(t, math.IsNaN(r.Loss[0]), name)
		} else {
			require.True(t, math.IsNaN(r.Loss[0]), "%s: %v", name, r.Loss)
		}
		require.False(t, math.IsNaN(r.Loss[1]), "%s: row 1 is clean: %v", name, r.Loss)
	}
	// multi_margin_loss skips a NaN margin term, as PyTorch does.
	require.InDelta(t, 0.5/3, res["multi_margin_loss"].Loss[0], 1e-15)
}

// rowTensors are the tensors every row loss takes; each case of the
// buffer-form tests passes the ones its Args have.
type rowTensors struct {
	Input, Target, Loss, GradInput, GradTarget losses.Tensor
}

func TestRowLossesInPlace(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	n, c := 7, 300
	x := to32s(randLogits(r, n*c, 2))
	p := to32s(probs(r, n, c))
	tt := to32s(randLogits(r, n*c, 2))
	tg := randTargets(r, n, c)
	tg[3] = -100
	for _, tc := range []struct {
		name   string
		target any
		call   func(a rowTensors) error
	}{
		{"cross_entropy_probs", p, func(a rowTensors) error {
			return losses.CrossEntropy(hostDev, losses.CrossEntropyArgs{Input: a.Input, Target: a.Target, Loss: a.Loss,
				GradInput: a.GradInput, GradTarget: a.GradTarget}, losses.CrossEntropyOptions{LabelSmoothing: 0.1})
		}},
		{"nll_loss", tg, func(a rowTensors) error {
			return losses.NLLLoss(hostDev, losses.ClassTargetArgs{Input: a.Input, Target: a.Target, Loss: a.Loss, GradInput: a.GradInput},
				losses.NLLLossOptions{})
		}},
		{"focal_loss", tg, func(a rowTensors) error {
			return losses.FocalLoss(hostDev, losses.ClassTargetArgs{Input: a.Input, Target: a.Target, Loss: a.Loss, GradInput: a.GradInput},
				losses.FocalLossOptions{})
		}},
		{"multi_margin_loss", randTargets(r, n, c), func(a rowTensors) error {
			return losses.MultiMarginLoss(hostDev, losses.ClassTargetArgs{Input: a.Input, Target: a.Target, Loss: a.Loss, GradInput: a.GradInput},
				losses.MultiMarginLossOptions{Margin: losses.Value(3.0)})
		}},
		{"categorical_hinge", p, func(a rowTensors) error {
			return losses.CategoricalHinge(hostDev, losses.RowArgs{Input: a.Input, Target: a.Target, Loss: a.Loss, GradInput: a.GradInput},
				losses.CategoricalHingeOptions{})
		}},
		{"distill_kl", tt, func(a rowTensors) error {
			return losses.DistillKL(hostDev, losses.RowArgs{Input: a.Input, Target: a.Target, Loss: a.Loss, GradInput: a.GradInput},
				losses.DistillKLOptions{Temperature: 2})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			xs := slices.Clone(x)
			in := losses.HostTensor(xs, n, c)
			var tgt any = tc.target
			var tb losses.Tensor
			switch v := tgt.(type) {
			case []float32:
				tgt = slices.Clone(v)
				tb = losses.HostTensor(tgt.([]float32), n, c)
			case []int32:
				tb = losses.HostTensor(v, n)
			}
			l1, _ := hostDev.Alloc(device.Float32, 1)
			g, _ := hostDev.Alloc(device.Float32, n*c)
			a := rowTensors{Input: in, Target: tb, Loss: losses.NewTensor(l1), GradInput: losses.NewTensor(g, n, c)}
			var gt device.Buffer
			if tc.name == "cross_entropy_probs" {
				gt, _ = hostDev.Alloc(device.Float32, n*c)
				a.GradTarget = losses.NewTensor(gt, n, c)
			}
			require.NoError(t, tc.call(a))
			l2, _ := hostDev.Alloc(device.Float32, 1)
			a.Loss, a.GradInput = losses.NewTensor(l2), in
			if gt != nil {
				a.GradTarget = tb
			}
			require.NoError(t, tc.call(a))
			require.Equal(t, l1.(*host.Buffer).Float32s(), l2.(*host.Buffer).Float32s())
			require.Equal(t, g.(*host.Buffer).Float32s(), xs, "gradient written over the input")
			if gt != nil {
				require.Equal(t, gt.(*host.Buffer).Float32s(), tgt.([]float32), "gradient written over the target")
			}
		})
	}
}

func TestRowLossesErrors(t *testing.T) {
	x := []float64{1, 2, 3, 4, 5, 6}
	y := []float64{0, 1, 0, 1, 0, 0}
	tg := []int32{0, 2}
	in32b, _ := host.Wrap([]float32{1, 2, 3, 4, 5, 6})
	tg32b, _ := host.Wrap([]int32{0, 2})
	y32b, _ := host.Wrap([]float32{0, 1, 0, 1, 0, 0})
	loss32b, _ := hostDev.Alloc(device.Float32, 1)
	in32, tg32, y32, loss32 := losses.NewTensor(in32b, 2, 3), losses.NewTensor(tg32b), losses.NewTensor(y32b, 2, 3), losses.NewTensor(loss32b)
	cases := []struct {
		name, loss, arg string
		call            func() error
	}{
		{"nil device", "nll_loss", "device", func() error {
			_, err := nllSlices[float64](nil, x, tg, 2, 3, losses.NLLLossOptions{})
			return err
		}},
		{"input shape", "cross_entropy", "input", func() error {
			_, err := ceProbsSlices(hostDev, x[:5], y, 2, 3, losses.CrossEntropyOptions{})
			return err
		}},
		{"input rank", "nll_loss", "input", func() error {
			return losses.NLLLoss(hostDev, losses.ClassTargetArgs{Input: losses.HostTensor(x), Target: tg32, Loss: loss32}, losses.NLLLossOptions{})
		}},
		{"float target shape", "distill_kl", "target", func() error {
			return losses.DistillKL(hostDev, losses.RowArgs{Input: in32, Target: losses.NewTensor(y32b, 3, 2), Loss: loss32}, losses.DistillKLOptions{})
		}},
		{"class target shape", "focal_loss", "target", func() error {
			return losses.FocalLoss(hostDev, losses.ClassTargetArgs{Input: in32, Target: losses.NewTensor(tg32b, 2, 1), Loss: loss32}, losses.FocalLossOptions{})
		}},
		{"grad_input shape", "multi_margin_loss", "grad_input", func() error {
			return losses.MultiMarginLoss(hostDev, losses.ClassTargetArgs{Input: in32, Target: tg32, Loss: loss32,
				GradInput: losses.HostTensor(make([]float32, 6))}, losses.MultiMarginLossOptions{})
		}},
		{"sample_weight shape", "categorical_hinge", "sample_weight", func() error {
			return losses.CategoricalHinge(hostDev, losses.RowArgs{Input: in32, Target: y32, Loss: loss32,
				SampleWeight: losses.HostTensor([]float32{1, 2, 3})}, losses.CategoricalHingeOptions{})
		}},
		{"sample_weight dtype", "nll_loss", "sample_weight", func() error {
			return losses.NLLLoss(hostDev, losses.ClassTargetArgs{Input: in32, Target: tg32, Loss: loss32,
				SampleWeight: losses.HostTensor([]float64{1, 2})}, losses.NLLLossOptions{})
		}},
		{"mask dtype", "distill_kl", "mask", func() error {
			return losses.DistillKL(hostDev, losses.RowArgs{Input: in32, Target: y32, Loss: loss32,
				Mask: losses.HostTensor([]float32{1, 0})}, losses.DistillKLOptions{})
		}},
		{"target shape", "cross_entropy", "target", func() error {
			_, err := ceProbsSlices(hostDev, x, y[:5], 2, 3, losses.CrossEntropyOptions{})
			return err
		}},
		{"C = 0", "categorical_hinge", "input", func() error {
			_, err := hingeSlices(hostDev, []float64{}, []float64{}, 0, 0, losses.CategoricalHingeOptions{})
			return err
		}},
		{"weight length", "cross_entropy", "weight", func() error {
			_, err := ceProbsSlices(hostDev, x, y, 2, 3, losses.CrossEntropyOptions{Weight: []float64{1}})
			return err
		}},
		{"label smoothing", "cross_entropy", "label_smoothing", func() error {
			_, err := ceProbsSlices(hostDev, x, y, 2, 3, losses.CrossEntropyOptions{LabelSmoothing: -0.1})
			return err
		}},
		{"reduction", "distill_kl", "reduction", func() error {
			_, err := distillSlices(hostDev, x, y, 2, 3, losses.DistillKLOptions{Reduction: 7})
			return err
		}},
		{"nll target out of range", "nll_loss", "target", func() error {
			_, err := nllSlices(hostDev, x, []int32{0, 3}, 2, 3, losses.NLLLossOptions{})
			return err
		}},
		{"nll target length", "nll_loss", "target", func() error {
			_, err := nllSlices(hostDev, x, []int32{0}, 2, 3, losses.NLLLossOptions{})
			return err
		}},
		{"nll weight not finite", "nll_loss", "weight", func() error {
			_, err := nllSlices(hostDev, x, tg, 2, 3, losses.NLLLossOptions{Weight: []float64{1, math.Inf(1), 1}})
			return err
		}},
		{"nll ignore_index range", "nll_loss", "ignore_index", func() error {
			_, err := nllSlices(hostDev, x, tg, 2, 3, losses.NLLLossOptions{IgnoreIndex: losses.Index(1 << 40)})
			return err
		}},
		{"focal target", "focal_loss", "target", func() error {
			_, err := focalSlices(hostDev, x, []int32{-1, 0}, 2, 3, losses.FocalLossOptions{})
			return err
		}},
		{"focal gamma", "focal_loss", "gamma", func() error {
			_, err := focalSlices(hostDev, x, tg, 2, 3, losses.FocalLossOptions{Gamma: losses.Value(-1.0)})
			return err
		}},
		{"focal gamma NaN", "focal_loss", "gamma", func() error {
			_, err := focalSlices(hostDev, x, tg, 2, 3, losses.FocalLossOptions{Gamma: losses.Value(math.NaN())})
			return err
		}},
		{"focal alpha", "focal_loss", "alpha", func() error {
			_, err := focalSlices(hostDev, x, tg, 2, 3, losses.FocalLossOptions{Alpha: []float64{1, 2}})
			return err
		}},
		{"margin p", "multi_margin_loss", "p", func() error {
			_, err := marginSlices(hostDev, x, tg, 2, 3, losses.MultiMarginLossOptions{P: 3})
			return err
		}},
		{"margin value", "multi_margin_loss", "margin", func() error {
			_, err := marginSlices(hostDev, x, tg, 2, 3, losses.MultiMarginLossOptions{Margin: losses.Value(math.Inf(1))})
			return err
		}},
		{"margin: ignore_index is no escape", "multi_margin_loss", "target", func() error {
			_, err := marginSlices(hostDev, x, []int32{0, -100}, 2, 3, losses.MultiMarginLossOptions{})
			return err
		}},
		{"temperature", "distill_kl", "temperature", func() error {
			_, err := distillSlices(hostDev, x, y, 2, 3, losses.DistillKLOptions{Temperature: -2})
			return err
		}},
		{"target dtype", "nll_loss", "target", func() error {
			return losses.NLLLoss(hostDev, losses.ClassTargetArgs{Input: in32, Target: losses.NewTensor(y32b, 2), Loss: loss32}, losses.NLLLossOptions{})
		}},
		{"float target dtype", "categorical_hinge", "target", func() error {
			return losses.CategoricalHinge(hostDev, losses.RowArgs{Input: in32, Target: losses.HostTensor([]int32{0, 1, 0, 1, 0, 0}, 2, 3), Loss: loss32},
				losses.CategoricalHingeOptions{})
		}},
		{"loss buffer for none", "distill_kl", "loss", func() error {
			return losses.DistillKL(hostDev, losses.RowArgs{Input: in32, Target: y32, Loss: loss32},
				losses.DistillKLOptions{Reduction: losses.None})
		}},
		{"grad_target unsupported", "categorical_hinge", "grad_target", func() error {
			// RowArgs have no GradTarget; by name it is no input either.
			d, _ := losses.Lookup("categorical_hinge")
			_, err := d.Call(hostDev, map[string]losses.Tensor{"input": in32, "target": y32, "grad_target": y32}, nil)
			return err
		}},
		{"buffer form target check", "focal_loss", "target", func() error {
			bad, _ := host.Wrap([]int32{0, 5})
			return losses.FocalLoss(hostDev, losses.ClassTargetArgs{Input: in32, Target: losses.NewTensor(bad), Loss: loss32}, losses.FocalLossOptions{})
		}},
		{"float64 mixed with float32", "nll_loss", "loss", func() error {
			l64, _ := hostDev.Alloc(device.Float64, 1)
			return losses.NLLLoss(hostDev, losses.ClassTargetArgs{Input: in32, Target: tg32, Loss: losses.NewTensor(l64)}, losses.NLLLossOptions{})
		}},
		{"nil input", "multi_margin_loss", "input", func() error {
			return losses.MultiMarginLoss(hostDev, losses.ClassTargetArgs{Target: tg32, Loss: loss32}, losses.MultiMarginLossOptions{})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			require.Error(t, err)
			require.ErrorIs(t, err, losses.ErrInvalidArgument)
			var ae *losses.ArgError
			require.ErrorAs(t, err, &ae)
			require.Equal(t, tc.arg, ae.Arg, "%v", err)
			require.Equal(t, tc.loss, ae.Loss, "%v", err)
		})
	}
}

// A failed call writes nothing: not the loss, not the gradient.
func TestRowLossesFailedCallLeavesBuffers(t *testing.T) {
	x := []float32{1, 2, 3, 4}
	in := losses.HostTensor(x, 2, 2)
	lossS := []float32{42}
	l := losses.HostTensor(lossS)
	for _, call := range []func() error{
		func() error {
			return losses.NLLLoss(hostDev, losses.ClassTargetArgs{Input: in, Target: losses.HostTensor([]int32{0, 9}), Loss: l, GradInput: in},
				losses.NLLLossOptions{})
		},
		func() error {
			return losses.FocalLoss(hostDev, losses.ClassTargetArgs{Input: in, Target: losses.HostTensor([]int32{0, 1}), Loss: l, GradInput: in},
				losses.FocalLossOptions{Alpha: []float64{1, 2, 3}})
		},
		func() error {
			return losses.DistillKL(hostDev, losses.RowArgs{Input: in, Target: losses.HostTensor([]float32{0, 1, 1, 0}, 2, 2), Loss: l, GradInput: in},
				losses.DistillKLOptions{Temperature: losses.Temperature(math.Inf(1))})
		},
		func() error {
			return losses.CategoricalHinge(hostDev, losses.RowArgs{Input: in, Target: losses.HostTensor([]float32{0, 1, 1, 0}, 2, 2), Loss: l,
				GradInput: in, Mask: losses.HostTensor([]int32{1, 0, 1})}, losses.CategoricalHingeOptions{})
		},
		func() error {
			return losses.CrossEntropy(hostDev, losses.CrossEntropyArgs{Input: in, Target: losses.HostTensor([]float32{0, 1, 1, 0}, 2, 2), Loss: l,
				GradInput: in, SampleWeight: losses.HostTensor([]float32{1, 1}), Mask: losses.HostTensor([]float32{1, 1})},
				losses.CrossEntropyOptions{})
		},
	} {
		require.Error(t, call())
		require.Equal(t, []float32{1, 2, 3, 4}, x)
		require.Equal(t, []float32{42}, lossS)
	}
}

// With SkipTargetCheck a bad target gives its row NaN, and nothing is
// read out of bounds.
func TestRowLossesSkipTargetCheck(t *testing.T) {
	x := []float32{0, 0, 1, 2}
	in := losses.HostTensor(x, 2, 2)
	tg := losses.HostTensor([]int32{7, 1})
	for _, call := range []func(l, g losses.Tensor) error{
		func(l, g losses.Tensor) error {
			return losses.NLLLoss(hostDev, losses.ClassTargetArgs{Input: in, Target: tg, Loss: l, GradInput: g},
				losses.NLLLossOptions{Reduction: losses.None, SkipTargetCheck: true})
		},
		func(l, g losses.Tensor) error {
			return losses.FocalLoss(hostDev, losses.ClassTargetArgs{Input: in, Target: tg, Loss: l, GradInput: g},
				losses.FocalLossOptions{Reduction: losses.None, SkipTargetCheck: true})
		},
		func(l, g losses.Tensor) error {
			return losses.MultiMarginLoss(hostDev, losses.ClassTargetArgs{Input: in, Target: tg, Loss: l, GradInput: g},
				losses.MultiMarginLossOptions{Reduction: losses.None, SkipTargetCheck: true})
		},
	} {
		ls := make([]float32, 2)
		gs := make([]float32, 4)
		require.NoError(t, call(losses.HostTensor(ls), losses.HostTensor(gs, 2, 2)))
		require.True(t, math.IsNaN(float64(ls[0])))
		require.False(t, math.IsNaN(float64(ls[1])))
		require.True(t, math.IsNaN(float64(gs[0])) && math.IsNaN(float64(gs[1])))
		require.False(t, math.IsNaN(float64(gs[2])) || math.IsNaN(float64(gs[3])))
	}
}

// TestRowLossesSampleWeightAndMask checks per-sample weights and a mask on
// every row loss against the per-row losses of the references: loss
// Σ keep_i·s_i·l_i / kept under Mean (kept: the rows the mask keeps, and
// for nll_loss and focal_loss are not ignored), and every gradient
// against central differences of that.
func TestRowLossesSampleWeightAndMask(t *testing.T) {
	const n, c = 6, 5
	r := rand.New(rand.NewPCG(31, 32))
	tg := []int32{1, 3, 0, 4, 2, 3}
	sw := []float64{0.5, 2, 1, 0, 1.5, 3}
	mask := []bool{true, false, true, true, true, false}
	ign := 4 // row 3 is ignored by the losses with ignore_index
	type lc struct {
		name   string
		run    func(x, y []float64, red losses.Reduction, sw []float64, m []bool) (*result[float64], error)
		ref    func(x, y []float64) []float64 // per-row losses
		keep   func(i int) bool               // counted by Mean
		probs  bool
		gradTg bool
	}
	kept := func(i int) bool { return mask[i] }
	keptIgn := func(i int) bool { return mask[i] && tg[i] != int32(ign) }
	none := losses.None
	cases := []lc{
		{"cross_entropy_probs", func(x, y []float64, red losses.Reduction, s []float64, m []bool) (*result[float64], error) {
			return ceProbsSlices(hostDev, x, y, n, c, losses.CrossEntropyOptions{Reduction: red, LabelSmoothing: 0.1}, perRow{s, m})
		}, func(x, y []float64) []float64 {
			return ceProbRef(x, y, n, c, losses.CrossEntropyOptions{Reduction: none, LabelSmoothing: 0.1})
		}, kept, true, true},
		{"nll_loss", func(x, y []float64, red losses.Reduction, s []float64, m []bool) (*result[float64], error) {
			return nllSlices(hostDev, x, tg, n, c, losses.NLLLossOptions{Reduction: red, IgnoreIndex: losses.Index(ign)}, perRow{s, m})
		}, func(x, y []float64) []float64 {
			return nllRef(x, tg, n, c, losses.NLLLossOptions{Reduction: none, IgnoreIndex: losses.Index(ign)})
		}, keptIgn, false, false},
		{"focal_loss", func(x, y []float64, red losses.Reduction, s []float64, m []bool) (*result[float64], error) {
			return focalSlices(hostDev, x, tg, n, c, losses.FocalLossOptions{Reduction: red, IgnoreIndex: losses.Index(ign)}, perRow{s, m})
		}, func(x, y []float64) []float64 {
			return focalRef(x, tg, n, c, losses.FocalLossOptions{Reduction: none, IgnoreIndex: losses.Index(ign)})
		}, keptIgn, false, false},
		{"multi_margin_loss", func(x, y []float64, red losses.Reduction, s []float64, m []bool) (*result[float64], error) {
			return marginSlices(hostDev, x, tg, n, c, losses.MultiMarginLossOptions{Reduction: red, P: 2}, perRow{s, m})
		}, func(x, y []float64) []float64 {
			return marginRef(x, tg, n, c, losses.MultiMarginLossOptions{Reduction: none, P: 2})
		}, kept, false, false},
		{"categorical_hinge", func(x, y []float64, red losses.Reduction, s []float64, m []bool) (*result[float64], error) {
			return hingeSlices(hostDev, x, y, n, c, losses.CategoricalHingeOptions{Reduction: red}, perRow{s, m})
		}, func(x, y []float64) []float64 {
			return hingeRef(x, y, n, c, losses.CategoricalHingeOptions{Reduction: none})
		}, kept, true, false},
		{"distill_kl", func(x, y []float64, red losses.Reduction, s []float64, m []bool) (*result[float64], error) {
			return distillSlices(hostDev, x, y, n, c, losses.DistillKLOptions{Reduction: red, Temperature: losses.Temperature(2)}, perRow{s, m})
		}, func(x, y []float64) []float64 {
			return distillRef(x, y, n, c, losses.DistillKLOptions{Reduction: none, Temperature: losses.Temperature(2)})
		}, kept, false, false},
	}
	for _, tc := range cases {
		for _, red := range []losses.Reduction{losses.Mean, losses.Sum, losses.None} {
			t.Run(fmt.Sprintf("%s/%v", tc.name, red), func(t *testing.T) {
				x := randLogits(r, n*c, 1.5)
				y := randLogits(r, n*c, 2)
				if tc.probs {
					y = probs(r, n, c)
				}
				x[1*c+2] = math.NaN() // a masked-out row may hold NaN
				want := func(x, y []float64) []float64 {
					per := tc.ref(x, y)
					out := make([]float64, n)
					var sum, den float64
					for i := range per {
						if mask[i] {
							out[i] = sw[i] * per[i]
							sum += out[i]
						}
						if tc.keep(i) {
							den++
						}
					}
					switch red {
					case losses.None:
						return out
					case losses.Sum:
						return []float64{sum}
					}
					return []float64{sum / den}
				}
				res, err := tc.run(x, y, red, sw, mask)
				require.NoError(t, err)
				rowClose(t, want(x, y), res.Loss, 1e-12, "loss")
				for j := range c {
					require.Zero(t, res.Grad[1*c+j], "masked row")
				}
				x[1*c+2] = 0
				res, err = tc.run(x, y, red, sw, mask)
				require.NoError(t, err)
				fdCheck(t, x, res.Grad, func(x []float64) float64 { return sumLoss(want(x, y)) })
				if tc.gradTg {
					fdCheck(t, y, res.GradTarget, func(y []float64) float64 { return sumLoss(want(x, y)) })
				}
			})
		}
	}
	// A mask is an int32 tensor [N], per-sample weights a tensor [N] of
	// input's float type.
	x := randLogits(r, n*c, 1)
	a := losses.ClassTargetArgs{Input: losses.HostTensor(x, n, c), Target: losses.HostTensor(tg), Loss: losses.HostTensor(make([]float64, 1)),
		Mask: losses.HostTensor(make([]float64, n))}
	err := losses.NLLLoss(hostDev, a, losses.NLLLossOptions{})
	require.ErrorIs(t, err, losses.ErrInvalidArgument)
	requireArg(t, err, "nll_loss", "mask")
	a.Mask, a.SampleWeight = losses.HostTensor(mask32(mask)), losses.HostTensor(floatsOf[float32](sw))
	err = losses.NLLLoss(hostDev, a, losses.NLLLossOptions{})
	requireArg(t, err, "nll_loss", "sample_weight")
	a.SampleWeight = losses.HostTensor(sw)
	require.NoError(t, losses.NLLLoss(hostDev, a, losses.NLLLossOptions{}))
	_, err = nllSlices(hostDev, x, tg, n, c, losses.NLLLossOptions{}, perRow{Mask: mask[:2]})
	require.ErrorContains(t, err, "mask")
	requireArg(t, err, "nll_loss", "mask")
	_, err = nllSlices(hostDev, x, tg, n, c, losses.NLLLossOptions{}, perRow{SampleWeight: sw[:5]})
	require.ErrorContains(t, err, "sample_weight")
	requireArg(t, err, "nll_loss", "sample_weight")
}
