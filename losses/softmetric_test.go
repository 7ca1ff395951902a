package losses_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/losses"
)

// smRun runs soft_f1_loss or soft_mcc_loss on the host in float64 and
// returns the loss and the gradient w.r.t. the input.
func smRun(t *testing.T, name string, x, y []float64, sh []int, opt any) (float64, []float64) {
	t.Helper()
	loss, g := []float64{0}, make([]float64, len(x))
	a := losses.SoftMetricArgs{Input: losses.HostTensor(x, sh...), Target: losses.HostTensor(y, sh...),
		Loss: losses.HostTensor(loss), GradInput: losses.HostTensor(g, sh...)}
	var err error
	switch o := opt.(type) {
	case losses.SoftF1LossOptions:
		err = losses.SoftF1Loss(hostDev, a, o)
	case losses.SoftMCCLossOptions:
		err = losses.SoftMCCLoss(hostDev, a, o)
	}
	require.NoError(t, err, name)
	return loss[0], g
}

// softF1Ref is the macro (or micro) soft-F1 loss written from its
// definition.
func softF1Ref(p, y []float64, n, c int, micro bool, eps float64) float64 {
	tp, fp, fn := make([]float64, c), make([]float64, c), make([]float64, c)
	for i := range n {
		for j := range c {
			e := i*c + j
			tp[j] += p[e] * y[e]
			fp[j] += p[e] * (1 - y[e])
			fn[j] += (1 - p[e]) * y[e]
		}
	}
	if micro {
		a, b, d := 0.0, 0.0, 0.0
		for j := range c {
			a, b, d = a+tp[j], b+fp[j], d+fn[j]
		}
		return 1 - 2*a/(2*a+b+d+eps)
	}
	s := 0.0
	for j := range c {
		s += 2 * tp[j] / (2*tp[j] + fp[j] + fn[j] + eps)
	}
	return 1 - s/float64(c)
}

// softMCCRef is SMP's MCCLoss formula.
func softMCCRef(p, y []float64, eps float64) float64 {
	tp, tn, fp, fn := eps, eps, eps, eps
	for i := range p {
		tp += p[i] * y[i]
		tn += (1 - p[i]) * (1 - y[i])
		fp += p[i] * (1 - y[i])
		fn += (1 - p[i]) * y[i]
	}
	return 1 - (tp*tn-fp*fn)/math.Sqrt((tp+fp)*(tp+fn)*(tn+fp)*(tn+fn))
}

func sigmoids(x []float64) []float64 {
	p := make([]float64, len(x))
	for i, v := range x {
		p[i] = 1 / (1 + math.Exp(-v))
	}
	return p
}

func TestSoftMetricClosedForm(t *testing.T) {
	// Perfect predictions: F1 = 1 (up to eps), MCC = 1 (up to eps).
	y := []float64{1, 0, 0, 1, 1, 0}
	l, g := smRun(t, "soft_f1_loss", y, y, []int{3, 2}, losses.SoftF1LossOptions{})
	require.InDelta(t, 0, l, 1e-15)
	// d/dp = (F − 2y)/(C·D): class 0 (tp 2, D 4), class 1 (tp 1, D 2).
	require.InDelta(t, (1-2.0)/(2*4), g[0], 1e-15)
	require.InDelta(t, (1-0.0)/(2*2), g[1], 1e-15)
	l, _ = smRun(t, "soft_mcc_loss", y, y, []int{6}, losses.SoftMCCLossOptions{})
	require.InDelta(t, 0, l, 1e-5)
	// Fully wrong: MCC = −1, loss 2.
	inv := []float64{0, 1, 1, 0, 0, 1}
	l, _ = smRun(t, "soft_mcc_loss", inv, y, []int{6}, losses.SoftMCCLossOptions{})
	require.InDelta(t, 2, l, 1e-5)
	// Hand-worked 2×2 (binary, 4 elements): p = (0.8, 0.3, 0.4, 0.7),
	// y = (1, 0, 1, 0): tp = 1.2, fp = 1.0, fn = 0.8, tn = 1.0.
	p := []float64{0.8, 0.3, 0.4, 0.7}
	yy := []float64{1, 0, 1, 0}
	zero := 0.0
	l, _ = smRun(t, "soft_f1_loss", p, yy, []int{2, 2}, losses.SoftF1LossOptions{Average: "binary", Eps: &zero})
	require.InDelta(t, 1-2.4/(2.4+1.0+0.8), l, 1e-15)
	l, _ = smRun(t, "soft_mcc_loss", p, yy, []int{2, 2}, losses.SoftMCCLossOptions{Eps: &zero})
	require.InDelta(t, 1-(1.2*1.0-1.0*0.8)/math.Sqrt(2.2*2.0*2.0*1.8), l, 1e-15)
	// Macro over the two columns: class 0 p (0.8, 0.4), y (1, 1): tp 1.2,
	// fn 0.8 → 2.4/3.2; class 1 p (0.3, 0.7), y (0, 0): tp 0, fp 1 → 0.
	l, _ = smRun(t, "soft_f1_loss", p, yy, []int{2, 2}, losses.SoftF1LossOptions{Eps: &zero})
	require.InDelta(t, 1-(2.4/3.2+0)/2, l, 1e-15)
	// All-negative targets, p = 0: tp = fp = fn = 0, F1 = 0/eps = 0.
	l, g = smRun(t, "soft_f1_loss", []float64{0, 0}, []float64{0, 0}, []int{2}, losses.SoftF1LossOptions{})
	require.Equal(t, 1.0, l)
	require.False(t, math.IsNaN(g[0]))
	// N = 0: loss 1 for both.
	l, _ = smRun(t, "soft_f1_loss", []float64{}, []float64{}, []int{0, 3}, losses.SoftF1LossOptions{})
	require.Equal(t, 1.0, l)
	l, _ = smRun(t, "soft_mcc_loss", []float64{}, []float64{}, []int{0}, losses.SoftMCCLossOptions{})
	require.Equal(t, 1.0, l)
	// C = 0, macro: the mean over no class, NaN.
	l, _ = smRun(t, "soft_f1_loss", []float64{}, []float64{}, []int{3, 0}, losses.SoftF1LossOptions{})
	require.True(t, math.IsNaN(l))
}

func TestSoftMetricAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	n, c := 700, 3 // three blocks of rows
	x, y := make([]float64, n*c), make([]float64, n*c)
	for i := range x {
		x[i] = r.NormFloat64() * 2
		y[i] = float64(r.IntN(2))
		if i%7 == 0 {
			y[i] = r.Float64() // soft targets
		}
	}
	p := sigmoids(x)
	for _, micro := range []bool{false, true} {
		avg := "macro"
		if micro {
			avg = "micro"
		}
		l, _ := smRun(t, "soft_f1_loss", p, y, []int{n, c}, losses.SoftF1LossOptions{Average: avg})
		require.InDelta(t, softF1Ref(p, y, n, c, micro, 1e-16), l, 1e-13, avg)
		l, _ = smRun(t, "soft_f1_loss", x, y, []int{n, c}, losses.SoftF1LossOptions{Average: avg, Activation: "sigmoid"})
		require.InDelta(t, softF1Ref(p, y, n, c, micro, 1e-16), l, 1e-13, avg)
	}
	l, _ := smRun(t, "soft_mcc_loss", p, y, []int{n, c}, losses.SoftMCCLossOptions{})
	require.InDelta(t, softMCCRef(p, y, 1e-5), l, 1e-13)
	l, _ = smRun(t, "soft_mcc_loss", x, y, []int{n, 1, c}, losses.SoftMCCLossOptions{Activation: "sigmoid"})
	require.InDelta(t, softMCCRef(p, y, 1e-5), l, 1e-13)
}

func TestSoftMetricFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 1))
	n, c := 6, 3
	x, y := make([]float64, n*c), make([]float64, n*c)
	for i := range x {
		x[i] = r.NormFloat64()
		y[i] = float64(r.IntN(2))
	}
	y[4] = 0.3
	p := sigmoids(x)
	for _, tc := range []struct {
		name string
		in   []float64
		sh   []int
		opt  any
		ref  func(v []float64) float64
	}{
		{"f1 macro", p, []int{n, c}, losses.SoftF1LossOptions{}, func(v []float64) float64 { return softF1Ref(v, y, n, c, false, 1e-16) }},
		{"f1 micro sigmoid", x, []int{n, c}, losses.SoftF1LossOptions{Average: "micro", Activation: "sigmoid"},
			func(v []float64) float64 { return softF1Ref(sigmoids(v), y, n, c, true, 1e-16) }},
		{"f1 macro sigmoid", x, []int{n, c}, losses.SoftF1LossOptions{Activation: "sigmoid"},
			func(v []float64) float64 { return softF1Ref(sigmoids(v), y, n, c, false, 1e-16) }},
		{"mcc", p, []int{n * c}, losses.SoftMCCLossOptions{}, func(v []float64) float64 { return softMCCRef(v, y, 1e-5) }},
		{"mcc sigmoid", x, []int{n, c}, losses.SoftMCCLossOptions{Activation: "sigmoid"},
			func(v []float64) float64 { return softMCCRef(sigmoids(v), y, 1e-5) }},
	} {
		name := "soft_f1_loss"
		if _, ok := tc.opt.(losses.SoftMCCLossOptions); ok {
			name = "soft_mcc_loss"
		}
		in := append([]float64(nil), tc.in...)
		_, g := smRun(t, name, in, y, tc.sh, tc.opt)
		fdCheck(t, in, g, tc.ref)
		// and through the loss itself
		fdCheck(t, in, g, func(v []float64) float64 { l, _ := smRun(t, name, v, y, tc.sh, tc.opt); return l })
	}
}

func TestSoftMetricExtremes(t *testing.T) {
	// Logits ±1e4 through the sigmoid: p exactly 0 or 1, finite loss, zero
	// gradient (as PyTorch's sigmoid backward), float32 and float64.
	x := []float32{1e4, -1e4, 1e4, -1e4}
	y := []float32{1, 0, 0, 1}
	for _, name := range []string{"soft_f1_loss", "soft_mcc_loss"} {
		loss, g := []float32{0}, make([]float32, 4)
		a := losses.SoftMetricArgs{Input: losses.HostTensor(x, 4), Target: losses.HostTensor(y, 4), Loss: losses.HostTensor(loss),
			GradInput: losses.HostTensor(g, 4)}
		var err error
		if name == "soft_f1_loss" {
			err = losses.SoftF1Loss(hostDev, a, losses.SoftF1LossOptions{Activation: "sigmoid"})
			require.InDelta(t, 0.5, float64(loss[0]), 1e-6) // tp 1, fp 1, fn 1: 2/4
		} else {
			err = losses.SoftMCCLoss(hostDev, a, losses.SoftMCCLossOptions{Activation: "sigmoid"})
			require.InDelta(t, 1, float64(loss[0]), 1e-5) // tp tn = fp fn
		}
		require.NoError(t, err)
		require.Equal(t, []float32{0, 0, 0, 0}, g, name)
	}
	// float32 against float64 at N = 2000, C = 5.
	r := rand.New(rand.NewPCG(1, 9))
	n, c := 2000, 5
	xs, ys := make([]float64, n*c), make([]float64, n*c)
	for i := range xs {
		xs[i], ys[i] = float64(float32(r.NormFloat64()*3)), float64(r.IntN(2))
	}
	for _, name := range []string{"soft_f1_loss", "soft_mcc_loss"} {
		var o any = losses.SoftF1LossOptions{Activation: "sigmoid"}
		if name == "soft_mcc_loss" {
			o = losses.SoftMCCLossOptions{Activation: "sigmoid"}
		}
		want, wg := smRun(t, name, xs, ys, []int{n, c}, o)
		loss, g := []float32{0}, make([]float32, n*c)
		a := losses.SoftMetricArgs{Input: losses.HostTensor(to32s(xs), n, c), Target: losses.HostTensor(to32s(ys), n, c),
			Loss: losses.HostTensor(loss), GradInput: losses.HostTensor(g, n, c)}
		if name == "soft_f1_loss" {
			require.NoError(t, losses.SoftF1Loss(hostDev, a, o.(losses.SoftF1LossOptions)))
		} else {
			require.NoError(t, losses.SoftMCCLoss(hostDev, a, o.(losses.SoftMCCLossOptions)))
		}
		require.InDelta(t, want, float64(loss[0]), 1e-6, name)
		for i := range g {
			require.InDelta(t, wg[i], float64(g[i]), 1e-6*math.Abs(wg[i])+1e-10, name)
		}
	}
}

func TestSoftMetricErrors(t *testing.T) {
	h := losses.HostTensor[float64]
	v := make([]float64, 6)
	neg, nan := -1.0, math.NaN()
	check := func(arg string, err error) {
		t.Helper()
		var ae *losses.ArgError
		require.True(t, errors.As(err, &ae), "%s: %v", arg, err)
		require.Equal(t, arg, ae.Arg, "%v", err)
	}
	a := losses.SoftMetricArgs{Input: h(v, 2, 3), Target: h(v, 2, 3)}
	check("average", losses.SoftF1Loss(hostDev, a, losses.SoftF1LossOptions{Average: "weighted"}))
	check("activation", losses.SoftF1Loss(hostDev, a, losses.SoftF1LossOptions{Activation: "softmax"}))
	check("activation", losses.SoftMCCLoss(hostDev, a, losses.SoftMCCLossOptions{Activation: "relu"}))
	check("eps", losses.SoftF1Loss(hostDev, a, losses.SoftF1LossOptions{Eps: &neg}))
	check("eps", losses.SoftMCCLoss(hostDev, a, losses.SoftMCCLossOptions{Eps: &nan}))
	check("target", losses.SoftF1Loss(hostDev, losses.SoftMetricArgs{Input: h(v, 2, 3), Target: h(v, 3, 2)}, losses.SoftF1LossOptions{}))
	check("target", losses.SoftMCCLoss(hostDev, losses.SoftMetricArgs{Input: h(v, 2, 3)}, losses.SoftMCCLossOptions{}))
	check("input", losses.SoftF1Loss(hostDev, losses.SoftMetricArgs{Input: h(v, 1, 2, 3), Target: h(v, 1, 2, 3)}, losses.SoftF1LossOptions{}))
	check("loss", losses.SoftF1Loss(hostDev, losses.SoftMetricArgs{Input: h(v, 2, 3), Target: h(v, 2, 3), Loss: h(v, 2)},
		losses.SoftF1LossOptions{}))
	check("grad_input", losses.SoftMCCLoss(hostDev, losses.SoftMetricArgs{Input: h(v, 2, 3), Target: h(v, 2, 3),
		GradInput: h(v[:3], 3)}, losses.SoftMCCLossOptions{}))
	// binary takes any shape
	require.NoError(t, losses.SoftF1Loss(hostDev, losses.SoftMetricArgs{Input: h(v, 1, 2, 3), Target: h(v, 1, 2, 3),
		Loss: h([]float64{0})}, losses.SoftF1LossOptions{Average: "binary"}))
}

// The gradient may overwrite the input: the same values as into a buffer
// of its own.
func TestSoftMetricInPlace(t *testing.T) {
	x := []float64{0.3, -1, 2, 0.5, -0.2, 4}
	y := []float64{1, 0, 1, 1, 0, 0}
	_, want := smRun(t, "soft_mcc_loss", append([]float64(nil), x...), y, []int{3, 2}, losses.SoftMCCLossOptions{Activation: "sigmoid"})
	loss := []float64{0}
	in := losses.HostTensor(x, 3, 2)
	require.NoError(t, losses.SoftMCCLoss(hostDev, losses.SoftMetricArgs{Input: in, Target: losses.HostTensor(y, 3, 2),
		Loss: losses.HostTensor(loss), GradInput: in}, losses.SoftMCCLossOptions{Activation: "sigmoid"}))
	require.Equal(t, want, x)
}
