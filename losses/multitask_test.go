package losses_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/losses"
)

// mtRun runs one multitask loss on the host in float64 over inputs of
// shape sh and returns the loss and the gradients (by argument name).
func mtRun(t *testing.T, name string, sh []int, in map[string][]float64, opt any) (float64, []float64, map[string][]float64) {
	t.Helper()
	d, ok := losses.Lookup(name)
	require.True(t, ok)
	ts := map[string]losses.Tensor{}
	for k, v := range in {
		ts[k] = losses.HostTensor(v, sh...)
	}
	outs, err := d.Call(hostDev, ts, opt)
	require.NoError(t, err)
	grads := map[string][]float64{}
	for k, v := range outs {
		grads[k] = losses.Floats(v)
	}
	l := grads["loss"]
	delete(grads, "loss")
	return l[0], l, grads
}

func TestWeightedSumClosedForm(t *testing.T) {
	l := []float64{1, 2, 3}
	w := []float64{0.5, -1, 2}
	loss := []float64{0}
	gl, gw := make([]float64, 3), make([]float64, 3)
	require.NoError(t, losses.WeightedSum(hostDev, losses.WeightedSumArgs{Losses: losses.HostTensor(l, 3),
		Weights: losses.HostTensor(w, 3), Loss: losses.HostTensor(loss), GradLosses: losses.HostTensor(gl, 3),
		GradWeights: losses.HostTensor(gw, 3)}, losses.WeightedSumOptions{}))
	require.Equal(t, 0.5-2+6, loss[0])
	require.Equal(t, w, gl)
	require.Equal(t, l, gw)
	// Two sets [2, 3], reduction none and mean.
	l2 := []float64{1, 2, 3, 4, 5, 6}
	w2 := []float64{1, 1, 1, 0, 1, 0}
	per := make([]float64, 2)
	require.NoError(t, losses.WeightedSum(hostDev, losses.WeightedSumArgs{Losses: losses.HostTensor(l2, 2, 3),
		Weights: losses.HostTensor(w2, 2, 3), Loss: losses.HostTensor(per, 2)}, losses.WeightedSumOptions{Reduction: losses.None}))
	require.Equal(t, []float64{6, 5}, per)
	mean := []float64{0}
	g := make([]float64, 6)
	require.NoError(t, losses.WeightedSum(hostDev, losses.WeightedSumArgs{Losses: losses.HostTensor(l2, 2, 3),
		Weights: losses.HostTensor(w2, 2, 3), Loss: losses.HostTensor(mean), GradWeights: losses.HostTensor(g, 2, 3)},
		losses.WeightedSumOptions{}))
	require.Equal(t, 5.5, mean[0])
	require.Equal(t, []float64{0.5, 1, 1.5, 2, 2.5, 3}, g)
}

func TestUncertaintyWeightingClosedForm(t *testing.T) {
	// s = 0: 1/2·L + 0 for regression, L for classification.
	l := []float64{2, 3}
	s := []float64{0, math.Log(4)}
	loss := []float64{0}
	gl, gs := make([]float64, 2), make([]float64, 2)
	a := losses.UncertaintyWeightingArgs{Losses: losses.HostTensor(l, 2), LogVars: losses.HostTensor(s, 2),
		Loss: losses.HostTensor(loss), GradLosses: losses.HostTensor(gl, 2), GradLogVars: losses.HostTensor(gs, 2)}
	require.NoError(t, losses.UncertaintyWeighting(hostDev, a, losses.UncertaintyWeightingOptions{}))
	require.InDelta(t, 0.5*2+0.5*3/4+0.5*math.Log(4), loss[0], 1e-15)
	require.InDelta(t, 0.5, gl[0], 1e-15)
	require.InDelta(t, 0.5/4, gl[1], 1e-15)
	require.InDelta(t, 0.5-0.5*2, gs[0], 1e-15)
	require.InDelta(t, 0.5-0.5*3/4, gs[1], 1e-15)
	require.NoError(t, losses.UncertaintyWeighting(hostDev, a, losses.UncertaintyWeightingOptions{
		TaskTypes: []string{"classification", "regression"}}))
	require.InDelta(t, 2+0.5*3/4+0.5*math.Log(4), loss[0], 1e-15)
	require.InDelta(t, 1, gl[0], 1e-15)
	require.InDelta(t, 0.5-2, gs[0], 1e-15)
	// Minimum over s at s = log(c·2·L)... for regression d/ds = 0 at exp(s) = L.
	s = []float64{math.Log(2), math.Log(3)}
	a.LogVars = losses.HostTensor(s, 2)
	require.NoError(t, losses.UncertaintyWeighting(hostDev, a, losses.UncertaintyWeightingOptions{}))
	require.InDelta(t, 0, gs[0], 1e-15)
	require.InDelta(t, 0, gs[1], 1e-15)
	// Large |s|: finite in float32 for s = ±30.
	l32, s32 := []float32{1, 1}, []float32{30, -30}
	loss32, g32 := []float32{0}, make([]float32, 2)
	require.NoError(t, losses.UncertaintyWeighting(hostDev, losses.UncertaintyWeightingArgs{
		Losses: losses.HostTensor(l32, 2), LogVars: losses.HostTensor(s32, 2), Loss: losses.HostTensor(loss32),
		GradLogVars: losses.HostTensor(g32, 2)}, losses.UncertaintyWeightingOptions{}))
	want := 0.5*math.Exp(-30) + 15 + 0.5*math.Exp(30) - 15
	require.InDelta(t, want, float64(loss32[0]), want*1e-6)
	require.InDelta(t, 0.5-0.5*math.Exp(30), float64(g32[1]), math.Exp(30)*1e-6)
}

// gradNormRef is the GradNorm loss of one set, and its (sub)gradients with
// the target held constant, written out from the paper.
func gradNormRef(w, g, l0, l []float64, alpha float64) (float64, []float64, []float64) {
	k := float64(len(w))
	mlt, mg := 0.0, 0.0
	for i := range w {
		mlt += l[i] / l0[i] / k
		mg += w[i] * g[i] / k
	}
	loss := 0.0
	gw, gg := make([]float64, len(w)), make([]float64, len(w))
	for i := range w {
		target := mg * math.Pow(l[i]/l0[i]/mlt, alpha)
		d := w[i]*g[i] - target
		loss += math.Abs(d)
		sg := 0.0
		if d > 0 {
			sg = 1
		} else if d < 0 {
			sg = -1
		}
		gw[i], gg[i] = sg*g[i], sg*w[i]
	}
	return loss, gw, gg
}

func TestGradNormLossClosedForm(t *testing.T) {
	// Equal loss ratios: r = 1, target = mean(G). w = (1, 1), g = (1, 3):
	// mean G = 2, |1 − 2| + |3 − 2| = 2.
	w, g, l0, l := []float64{1, 1}, []float64{1, 3}, []float64{2, 4}, []float64{1, 2}
	loss, _, grads := mtRun(t, "gradnorm_loss", []int{2},
		map[string][]float64{"weights": w, "grad_norms": g, "initial_losses": l0, "losses": l}, losses.GradNormLossOptions{})
	require.InDelta(t, 2, loss, 1e-15)
	require.Equal(t, []float64{-1, 3}, grads["grad_weights"])
	require.Equal(t, []float64{-1, 1}, grads["grad_grad_norms"])
	// Ratios 1 and 3 (mean 2): r = (0.5, 1.5), α = 2: targets 2·0.25 and 2·2.25.
	l = []float64{2, 12}
	alpha := 2.0
	loss, _, grads = mtRun(t, "gradnorm_loss", []int{2},
		map[string][]float64{"weights": w, "grad_norms": g, "initial_losses": l0, "losses": l}, losses.GradNormLossOptions{Alpha: &alpha})
	require.InDelta(t, math.Abs(1-0.5)+math.Abs(3-4.5), loss, 1e-14)
	require.Equal(t, []float64{1, -3}, grads["grad_weights"])
	// At the kink G = target: subgradient 0.
	loss, _, grads = mtRun(t, "gradnorm_loss", []int{2}, map[string][]float64{"weights": {1, 1}, "grad_norms": {2, 2},
		"initial_losses": {1, 1}, "losses": {1, 1}}, losses.GradNormLossOptions{})
	require.Equal(t, 0.0, loss)
	require.Equal(t, []float64{0, 0}, grads["grad_weights"])
	// Random sets [3, 5] against the reference, reduction sum.
	r := rand.New(rand.NewPCG(9, 9))
	in := map[string][]float64{}
	for _, k := range []string{"weights", "grad_norms", "initial_losses", "losses"} {
		v := make([]float64, 15)
		for i := range v {
			v[i] = 0.1 + r.Float64()*3
		}
		in[k] = v
	}
	sum, _, grads := mtRun(t, "gradnorm_loss", []int{3, 5}, in, losses.GradNormLossOptions{Reduction: losses.Sum})
	want := 0.0
	for i := range 3 {
		sl := func(k string) []float64 { return in[k][5*i : 5*i+5] }
		lv, gw, gg := gradNormRef(sl("weights"), sl("grad_norms"), sl("initial_losses"), sl("losses"), 1.5)
		want += lv
		for j := range 5 {
			require.InDelta(t, gw[j], grads["grad_weights"][5*i+j], 1e-15)
			require.InDelta(t, gg[j], grads["grad_grad_norms"][5*i+j], 1e-15)
		}
	}
	require.InDelta(t, want, sum, 1e-12)
}

// mtFD checks every gradient of a multitask loss by central differences
// on random [3, 4] inputs (reduction mean over the 3 sets).
func TestMultitaskFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 7))
	sh := []int{3, 4}
	rnd := func(lo, hi float64) []float64 {
		v := make([]float64, 12)
		for i := range v {
			v[i] = lo + r.Float64()*(hi-lo)
		}
		return v
	}
	cases := []struct {
		name  string
		in    map[string][]float64
		opt   any
		fixed map[string]bool // inputs without a gradient
	}{
		{"weighted_sum", map[string][]float64{"losses": rnd(0, 3), "weights": rnd(-1, 2)}, losses.WeightedSumOptions{}, nil},
		{"uncertainty_weighting", map[string][]float64{"losses": rnd(0, 3), "log_vars": rnd(-3, 3)},
			losses.UncertaintyWeightingOptions{TaskTypes: []string{"regression", "classification", "classification", ""}}, nil},
		{"gradnorm_loss", map[string][]float64{"weights": rnd(0.2, 2), "grad_norms": rnd(0.2, 2),
			"initial_losses": rnd(0.5, 2), "losses": rnd(0.1, 2)}, losses.GradNormLossOptions{},
			map[string]bool{"losses": true, "initial_losses": true}},
	}
	for _, c := range cases {
		_, _, grads := mtRun(t, c.name, sh, c.in, c.opt)
		for arg, x := range c.in {
			if c.fixed[arg] {
				require.NotContains(t, grads, "grad_"+arg)
				continue
			}
			g := grads["grad_"+arg]
			require.Len(t, g, 12, "%s %s", c.name, arg)
			if c.name == "gradnorm_loss" {
				// the target is a constant: differentiate Σ|w·g − target₀|
				// with the targets at the point held fixed.
				in := c.in
				tg := make([]float64, 12)
				for i := range 3 {
					k := 4.0
					mlt, mg := 0.0, 0.0
					for j := range 4 {
						mlt += in["losses"][4*i+j] / in["initial_losses"][4*i+j] / k
						mg += in["weights"][4*i+j] * in["grad_norms"][4*i+j] / k
					}
					for j := range 4 {
						tg[4*i+j] = mg * math.Pow(in["losses"][4*i+j]/in["initial_losses"][4*i+j]/mlt, 1.5)
					}
				}
				other := "grad_norms"
				if arg == "grad_norms" {
					other = "weights"
				}
				fdCheck(t, x, g, func(v []float64) float64 {
					s := 0.0
					for i := range v {
						s += math.Abs(v[i]*in[other][i]-tg[i]) / 3
					}
					return s
				})
				continue
			}
			fdCheck(t, x, g, func(v []float64) float64 {
				in := map[string][]float64{}
				for k, w := range c.in {
					in[k] = w
				}
				in[arg] = v
				l, _, _ := mtRun(t, c.name, sh, in, c.opt)
				return l
			})
		}
	}
}

func TestMultitaskReductionsAndEmpty(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 3))
	in := map[string][]float64{"losses": make([]float64, 20), "log_vars": make([]float64, 20)}
	for i := range 20 {
		in["losses"][i], in["log_vars"][i] = r.Float64()*2, r.NormFloat64()
	}
	_, per, _ := mtRun(t, "uncertainty_weighting", []int{5, 4}, in, losses.UncertaintyWeightingOptions{Reduction: losses.None})
	require.Len(t, per, 5)
	sum, _, _ := mtRun(t, "uncertainty_weighting", []int{5, 4}, in, losses.UncertaintyWeightingOptions{Reduction: losses.Sum})
	mean, _, _ := mtRun(t, "uncertainty_weighting", []int{5, 4}, in, losses.UncertaintyWeightingOptions{})
	require.InDelta(t, sumLoss(per), sum, 1e-13)
	require.InDelta(t, sumLoss(per)/5, mean, 1e-13)
	// M = 0 sets: mean NaN, sum 0; K = 0: loss 0.
	empty := map[string][]float64{"losses": {}, "weights": {}}
	l, _, _ := mtRun(t, "weighted_sum", []int{0, 3}, empty, losses.WeightedSumOptions{})
	require.True(t, math.IsNaN(l))
	l, _, _ = mtRun(t, "weighted_sum", []int{0, 3}, empty, losses.WeightedSumOptions{Reduction: losses.Sum})
	require.Equal(t, 0.0, l)
	l, _, _ = mtRun(t, "weighted_sum", []int{2, 0}, empty, losses.WeightedSumOptions{})
	require.Equal(t, 0.0, l)
	// K = 1.
	l, _, _ = mtRun(t, "gradnorm_loss", []int{1}, map[string][]float64{"weights": {2}, "grad_norms": {3},
		"initial_losses": {1}, "losses": {0.5}}, losses.GradNormLossOptions{})
	require.Equal(t, 0.0, l)
}

func TestMultitaskFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 1))
	n := 300 * 8
	l, s := make([]float64, n), make([]float64, n)
	for i := range n {
		l[i], s[i] = r.Float64()*3, r.NormFloat64()*2
	}
	l, s = mtTo64(to32s(l)), mtTo64(to32s(s))
	want, _, wg := mtRun(t, "uncertainty_weighting", []int{300, 8}, map[string][]float64{"losses": l, "log_vars": s},
		losses.UncertaintyWeightingOptions{})
	loss, gl, gs := []float32{0}, make([]float32, n), make([]float32, n)
	require.NoError(t, losses.UncertaintyWeighting(hostDev, losses.UncertaintyWeightingArgs{
		Losses: losses.HostTensor(to32s(l), 300, 8), LogVars: losses.HostTensor(to32s(s), 300, 8), Loss: losses.HostTensor(loss),
		GradLosses: losses.HostTensor(gl, 300, 8), GradLogVars: losses.HostTensor(gs, 300, 8)}, losses.UncertaintyWeightingOptions{}))
	require.InDelta(t, want, float64(loss[0]), 1e-5*math.Abs(want))
	for i := range n {
		require.InDelta(t, wg["grad_losses"][i], float64(gl[i]), 1e-6*(1+math.Abs(wg["grad_losses"][i])))
		require.InDelta(t, wg["grad_log_vars"][i], float64(gs[i]), 1e-6*(1+math.Abs(wg["grad_log_vars"][i])))
	}
}

func TestMultitaskErrors(t *testing.T) {
	v3, v2 := make([]float64, 3), make([]float64, 2)
	one := []float64{1, 1, 1}
	neg := -0.5
	nan := math.NaN()
	bad := losses.Reduction(9)
	check := func(arg string, err error) {
		t.Helper()
		var ae *losses.ArgError
		require.True(t, errors.As(err, &ae), "%s: %v", arg, err)
		require.Equal(t, arg, ae.Arg, "%v", err)
	}
	h := losses.HostTensor[float64]
	check("weights", losses.WeightedSum(hostDev, losses.WeightedSumArgs{Losses: h(v3, 3), Weights: h(v2, 2)}, losses.WeightedSumOptions{}))
	check("weights", losses.WeightedSum(hostDev, losses.WeightedSumArgs{Losses: h(v3, 3)}, losses.WeightedSumOptions{}))
	scalar := h(v3)
	scalar.Shape = []int{}
	check("losses", losses.WeightedSum(hostDev, losses.WeightedSumArgs{Losses: scalar, Weights: scalar}, losses.WeightedSumOptions{}))
	check("reduction", losses.WeightedSum(hostDev, losses.WeightedSumArgs{Losses: h(v3, 3), Weights: h(v3, 3)},
		losses.WeightedSumOptions{Reduction: bad}))
	check("grad_weights", losses.WeightedSum(hostDev, losses.WeightedSumArgs{Losses: h(v3, 3), Weights: h(v3, 3),
		GradWeights: h(v2, 2)}, losses.WeightedSumOptions{}))
	check("loss", losses.WeightedSum(hostDev, losses.WeightedSumArgs{Losses: h(v3, 3), Weights: h(v3, 3),
		Loss: h(v2, 2)}, losses.WeightedSumOptions{}))
	ua := losses.UncertaintyWeightingArgs{Losses: h(v3, 3), LogVars: h(v3, 3)}
	check("task_types", losses.UncertaintyWeighting(hostDev, ua, losses.UncertaintyWeightingOptions{TaskTypes: []string{"regression"}}))
	check("task_types", losses.UncertaintyWeighting(hostDev, ua, losses.UncertaintyWeightingOptions{
		TaskTypes: []string{"regression", "ranking", "classification"}}))
	check("log_vars", losses.UncertaintyWeighting(hostDev, losses.UncertaintyWeightingArgs{Losses: h(v3, 3),
		LogVars: h(make([]float64, 6), 2, 3)}, losses.UncertaintyWeightingOptions{}))
	gn := func(l0 []float64, o losses.GradNormLossOptions) error {
		return losses.GradNormLoss(hostDev, losses.GradNormLossArgs{Weights: h(one, 3), GradNorms: h(one, 3),
			InitialLosses: h(l0, 3), Losses: h(one, 3), Loss: h([]float64{0})}, o)
	}
	check("alpha", gn(one, losses.GradNormLossOptions{Alpha: &neg}))
	check("alpha", gn(one, losses.GradNormLossOptions{Alpha: &nan}))
	check("initial_losses", gn([]float64{1, 0, 1}, losses.GradNormLossOptions{}))
	check("initial_losses", gn([]float64{1, 2, -1}, losses.GradNormLossOptions{}))
	require.NoError(t, gn([]float64{1, 0, 1}, losses.GradNormLossOptions{SkipInputCheck: true}))
	check("grad_norms", losses.GradNormLoss(hostDev, losses.GradNormLossArgs{Weights: h(one, 3), InitialLosses: h(one, 3),
		Losses: h(one, 3)}, losses.GradNormLossOptions{}))
	// nothing written on error
	out := []float64{7}
	err := losses.GradNormLoss(hostDev, losses.GradNormLossArgs{Weights: h(one, 3), GradNorms: h(one, 3),
		InitialLosses: h([]float64{1, 1, 0}, 3), Losses: h(one, 3), Loss: h(out)}, losses.GradNormLossOptions{})
	require.Error(t, err)
	require.Equal(t, 7.0, out[0])
}

// mtTo64 widens float32 values.
func mtTo64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// Gradients may overwrite their inputs.
func TestMultitaskInPlace(t *testing.T) {
	l, s := []float64{1, 2, 3}, []float64{0.5, -1, 2}
	_, _, want := mtRun(t, "uncertainty_weighting", []int{3}, map[string][]float64{"losses": l, "log_vars": s},
		losses.UncertaintyWeightingOptions{})
	lt, st := losses.HostTensor(l, 3), losses.HostTensor(s, 3)
	require.NoError(t, losses.UncertaintyWeighting(hostDev, losses.UncertaintyWeightingArgs{Losses: lt, LogVars: st,
		Loss: losses.HostTensor([]float64{0}), GradLosses: lt, GradLogVars: st}, losses.UncertaintyWeightingOptions{}))
	require.Equal(t, want["grad_losses"], l)
	require.Equal(t, want["grad_log_vars"], s)
}
