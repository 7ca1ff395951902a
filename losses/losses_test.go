package losses_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/diff/fd"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

var hostDev = host.Default()

func randLogits(r *rand.Rand, n int, scale float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = r.NormFloat64() * scale
	}
	return x
}

// ceRef is an independent float64 reference for cross_entropy written
// from the definition: log-softmax, then the weighted, smoothed NLL.
func ceRef(x []float64, tg []int32, n, c int, opt losses.CrossEntropyOptions) (loss []float64) {
	ign := losses.DefaultIgnoreIndex
	if opt.IgnoreIndex != nil {
		ign = *opt.IgnoreIndex
	}
	w := func(k int) float64 {
		if opt.Weight == nil {
			return 1
		}
		return opt.Weight[k]
	}
	eps := opt.LabelSmoothing
	per := make([]float64, n)
	var num, den float64
	for i := 0; i < n; i++ {
		t := int(tg[i])
		if t == ign {
			continue
		}
		row := x[i*c : (i+1)*c]
		var s float64
		for _, v := range row {
			s += math.Exp(v)
		}
		logp := func(k int) float64 { return row[k] - math.Log(s) }
		l := -(1 - eps) * w(t) * logp(t)
		for k := 0; k < c; k++ {
			l -= eps / float64(c) * w(k) * logp(k)
		}
		per[i] = l
		num += l
		den += w(t)
	}
	switch opt.Reduction {
	case losses.None:
		return per
	case losses.Sum:
		return []float64{num}
	}
	return []float64{num / den}
}

func TestCrossEntropyClosedForm(t *testing.T) {
	// Uniform logits: every class has p = 1/C, so the loss is log C and the
	// gradient is 1/C - onehot, divided by N for the mean.
	n, c := 3, 5
	x := make([]float64, n*c)
	tg := []int32{0, 4, 2}
	res, err := ceSlices(hostDev, x, tg, n, c, losses.CrossEntropyOptions{})
	require.NoError(t, err)
	require.InDelta(t, math.Log(5), res.Loss[0], 1e-15)
	for i := 0; i < n; i++ {
		for k := 0; k < c; k++ {
			want := 0.2
			if k == int(tg[i]) {
				want -= 1
			}
			require.InDelta(t, want/3, res.Grad[i*c+k], 1e-15)
		}
		require.InDelta(t, math.Log(5), res.LSE[i], 1e-15)
	}
	// Two classes, logits (0, log 3): p = (1/4, 3/4); target 0 gives log 4.
	res, err = ceSlices(hostDev, []float64{0, math.Log(3)}, []int32{0}, 1, 2, losses.CrossEntropyOptions{Reduction: losses.Sum})
	require.NoError(t, err)
	require.InDelta(t, math.Log(4), res.Loss[0], 1e-15)
	require.InDelta(t, -0.75, res.Grad[0], 1e-15)
	require.InDelta(t, 0.75, res.Grad[1], 1e-15)
}

func ceCases() []struct {
	name string
	opt  losses.CrossEntropyOptions
} {
	return []struct {
		name string
		opt  losses.CrossEntropyOptions
	}{
		{"mean", losses.CrossEntropyOptions{}},
		{"sum", losses.CrossEntropyOptions{Reduction: losses.Sum}},
		{"none", losses.CrossEntropyOptions{Reduction: losses.None}},
		{"weight", losses.CrossEntropyOptions{Weight: []float64{0.5, 2, 1, 0.1, 3, 1, 0.7}}},
		{"smooth", losses.CrossEntropyOptions{LabelSmoothing: 0.1}},
		{"smooth+weight", losses.CrossEntropyOptions{LabelSmoothing: 0.25, Weight: []float64{0.5, 2, 1, 0.1, 3, 1, 0.7}}},
		{"smooth+weight+ignore", losses.CrossEntropyOptions{LabelSmoothing: 0.3, Weight: []float64{0.5, 2, 1, 0.1, 3, 1, 0.7}, IgnoreIndex: losses.Index(2)}},
		{"smooth+weight+none", losses.CrossEntropyOptions{Reduction: losses.None, LabelSmoothing: 0.3, Weight: []float64{0.5, 2, 1, 0.1, 3, 1, 0.7}}},
	}
}

func TestCrossEntropyAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n, c := 6, 7
	for _, tc := range ceCases() {
		t.Run(tc.name, func(t *testing.T) {
			x := randLogits(r, n*c, 2)
			tg := []int32{0, 2, 6, 2, 3, -100}
			if tc.opt.IgnoreIndex != nil {
				tg[5] = int32(*tc.opt.IgnoreIndex)
			}
			res, err := ceSlices(hostDev, x, tg, n, c, tc.opt)
			require.NoError(t, err)
			want := ceRef(x, tg, n, c, tc.opt)
			require.Len(t, res.Loss, len(want))
			for i := range want {
				require.InDelta(t, want[i], res.Loss[i], 1e-12*(1+math.Abs(want[i])))
			}
		})
	}
}

// sumLoss is Σ loss (the quantity whose gradient the API returns).
func sumLoss(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s
}

// fdCheck compares grad with central differences of f at x.
func fdCheck(t *testing.T, x, grad []float64, f func([]float64) float64) {
	t.Helper()
	settings := &fd.Settings{Formula: fd.Central, Step: 1e-6}
	for i := range x {
		old := x[i]
		d := fd.Derivative(func(v float64) float64 {
			x[i] = v
			return f(x)
		}, old, settings)
		x[i] = old
		require.InDelta(t, d, grad[i], 1e-6*(1+math.Abs(d)), "element %d", i)
	}
}

func TestCrossEntropyFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n, c := 5, 7
	for _, tc := range ceCases() {
		t.Run(tc.name, func(t *testing.T) {
			x := randLogits(r, n*c, 1.5)
			tg := []int32{1, 2, 6, 2, 0}
			res, err := ceSlices(hostDev, x, tg, n, c, tc.opt)
			require.NoError(t, err)
			fdCheck(t, x, res.Grad, func(x []float64) float64 {
				return sumLoss(ceRef(x, tg, n, c, tc.opt))
			})
		})
	}
}

func TestCrossEntropyInPlaceAndFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	n, c := 9, 1031
	x64 := randLogits(r, n*c, 3)
	x := make([]float32, n*c)
	for i, v := range x64 {
		x[i] = float32(v)
		x64[i] = float64(x[i])
	}
	tg := make([]int32, n)
	for i := range tg {
		tg[i] = int32(r.IntN(c))
	}
	ref, err := ceSlices(hostDev, x64, tg, n, c, losses.CrossEntropyOptions{LabelSmoothing: 0.1})
	require.NoError(t, err)
	in := losses.HostTensor(x, n, c)
	loss, _ := hostDev.Alloc(device.Float32, 1)
	// Gradient written over the logits.
	require.NoError(t, losses.CrossEntropy(hostDev, losses.CrossEntropyArgs{Input: in, Target: losses.HostTensor(tg, n),
		Loss: losses.NewTensor(loss), GradInput: in}, losses.CrossEntropyOptions{LabelSmoothing: 0.1}))
	l := loss.(*host.Buffer).Slice().([]float32)
	require.InDelta(t, ref.Loss[0], float64(l[0]), 1e-6*math.Abs(ref.Loss[0]))
	for i := range x {
		require.InDelta(t, ref.Grad[i], float64(x[i]), 1e-7, "grad[%d]", i)
	}
}

func TestCrossEntropyEdgeCases(t *testing.T) {
	inf := math.Inf(1)
	t.Run("all ignored mean is NaN with zero gradient", func(t *testing.T) {
		res, err := ceSlices(hostDev, []float64{1, 2, 3, 4}, []int32{-100, -100}, 2, 2, losses.CrossEntropyOptions{})
		require.NoError(t, err)
		require.True(t, math.IsNaN(res.Loss[0]))
		require.Equal(t, []float64{0, 0, 0, 0}, res.Grad)
	})
	t.Run("all ignored sum is zero", func(t *testing.T) {
		res, err := ceSlices(hostDev, []float64{1, 2}, []int32{-100}, 1, 2, losses.CrossEntropyOptions{Reduction: losses.Sum})
		require.NoError(t, err)
		require.Equal(t, 0.0, res.Loss[0])
	})
	t.Run("empty batch", func(t *testing.T) {
		res, err := ceSlices(hostDev, []float64{}, []int32{}, 0, 3, losses.CrossEntropyOptions{})
		require.NoError(t, err)
		require.True(t, math.IsNaN(res.Loss[0]))
		res, err = ceSlices(hostDev, []float64{}, []int32{}, 0, 3, losses.CrossEntropyOptions{Reduction: losses.Sum})
		require.NoError(t, err)
		require.Equal(t, 0.0, res.Loss[0])
	})
	t.Run("extreme logits", func(t *testing.T) {
		res, err := ceSlices(hostDev, []float64{1e4, -1e4, 0}, []int32{1}, 1, 3, losses.CrossEntropyOptions{})
		require.NoError(t, err)
		require.InDelta(t, 2e4, res.Loss[0], 1e-9)
		require.InDelta(t, 1, res.Grad[0], 1e-12)
		require.InDelta(t, -1, res.Grad[1], 1e-12)
	})
	t.Run("-inf logit of another class", func(t *testing.T) {
		res, err := ceSlices(hostDev, []float64{math.Log(3), math.Inf(-1), 0}, []int32{2}, 1, 3, losses.CrossEntropyOptions{})
		require.NoError(t, err)
		require.InDelta(t, math.Log(4), res.Loss[0], 1e-15)
		require.Equal(t, 0.0, res.Grad[1])
	})
	t.Run("-inf logit of the target", func(t *testing.T) {
		res, err := ceSlices(hostDev, []float64{0, math.Inf(-1)}, []int32{1}, 1, 2, losses.CrossEntropyOptions{})
		require.NoError(t, err)
		require.Equal(t, inf, res.Loss[0])
	})
	t.Run("1x1", func(t *testing.T) {
		res, err := ceSlices(hostDev, []float64{7}, []int32{0}, 1, 1, losses.CrossEntropyOptions{})
		require.NoError(t, err)
		require.Equal(t, 0.0, res.Loss[0])
		require.Equal(t, 0.0, res.Grad[0])
	})
}

func TestCrossEntropyErrors(t *testing.T) {
	x := []float64{1, 2, 3, 4, 5, 6}
	cases := []struct {
		name, arg string
		call      func() error
	}{
		{"target out of range", "target", func() error {
			_, err := ceSlices(hostDev, x, []int32{0, 3}, 2, 3, losses.CrossEntropyOptions{})
			return err
		}},
		{"negative target", "target", func() error {
			_, err := ceSlices(hostDev, x, []int32{-1, 0}, 2, 3, losses.CrossEntropyOptions{})
			return err
		}},
		{"shape", "input", func() error {
			_, err := ceSlices(hostDev, x, []int32{0, 0}, 2, 4, losses.CrossEntropyOptions{})
			return err
		}},
		{"target length", "target", func() error {
			_, err := ceSlices(hostDev, x, []int32{0}, 2, 3, losses.CrossEntropyOptions{})
			return err
		}},
		{"C = 0", "input", func() error {
			_, err := ceSlices(hostDev, []float64{}, []int32{}, 0, 0, losses.CrossEntropyOptions{})
			return err
		}},
		{"weight length", "weight", func() error {
			_, err := ceSlices(hostDev, x, []int32{0, 0}, 2, 3, losses.CrossEntropyOptions{Weight: []float64{1}})
			return err
		}},
		{"smoothing", "label_smoothing", func() error {
			_, err := ceSlices(hostDev, x, []int32{0, 0}, 2, 3, losses.CrossEntropyOptions{LabelSmoothing: 1.5})
			return err
		}},
		{"NaN policy", "input", func() error {
			_, err := ceSlices(hostDev, []float64{1, math.NaN()}, []int32{0}, 1, 2, losses.CrossEntropyOptions{NaN: losses.NaNError})
			return err
		}},
		{"NaN policy on buffers", "input", func() error {
			in, _ := host.Wrap([]float32{1, float32(math.NaN())})
			tg, _ := host.Wrap([]int32{0})
			l, _ := hostDev.Alloc(device.Float32, 1)
			return losses.CrossEntropy(hostDev, losses.CrossEntropyArgs{Input: losses.NewTensor(in, 1, 2), Target: losses.NewTensor(tg),
				Loss: losses.NewTensor(l)}, losses.CrossEntropyOptions{NaN: losses.NaNError})
		}},
		{"buffer too small", "loss", func() error {
			in, _ := host.Wrap([]float32{1, 2})
			tg, _ := host.Wrap([]int32{0})
			l, _ := hostDev.Alloc(device.Float32, 0)
			return losses.CrossEntropy(hostDev, losses.CrossEntropyArgs{Input: losses.NewTensor(in, 1, 2), Target: losses.NewTensor(tg),
				Loss: losses.NewTensor(l, 1)}, losses.CrossEntropyOptions{})
		}},
		{"loss shape", "loss", func() error {
			return losses.CrossEntropy(hostDev, losses.CrossEntropyArgs{Input: losses.HostTensor([]float32{1, 2, 3, 4}, 2, 2),
				Target: losses.HostTensor([]int32{0, 1}), Loss: losses.HostTensor(make([]float32, 2))}, losses.CrossEntropyOptions{})
		}},
		{"mixed dtypes", "loss", func() error {
			in, _ := host.Wrap([]float32{1, 2})
			tg, _ := host.Wrap([]int32{0})
			l, _ := hostDev.Alloc(device.Float64, 1)
			return losses.CrossEntropy(hostDev, losses.CrossEntropyArgs{Input: losses.NewTensor(in, 1, 2), Target: losses.NewTensor(tg),
				Loss: losses.NewTensor(l)}, losses.CrossEntropyOptions{})
		}},
		{"grad_input shape", "grad_input", func() error {
			return losses.CrossEntropy(hostDev, losses.CrossEntropyArgs{Input: losses.HostTensor([]float32{1, 2, 3, 4}, 2, 2),
				Target: losses.HostTensor([]int32{0, 1}), Loss: losses.HostTensor(make([]float32, 1)),
				GradInput: losses.HostTensor(make([]float32, 4))}, losses.CrossEntropyOptions{})
		}},
		{"1-D input", "input", func() error {
			return losses.CrossEntropy(hostDev, losses.CrossEntropyArgs{Input: losses.HostTensor([]float32{1, 2}),
				Target: losses.HostTensor([]int32{0}), Loss: losses.HostTensor(make([]float32, 1))}, losses.CrossEntropyOptions{})
		}},
		{"sample_weight with class targets", "sample_weight", func() error {
			return losses.CrossEntropy(hostDev, losses.CrossEntropyArgs{Input: losses.HostTensor([]float32{1, 2}, 1, 2),
				Target: losses.HostTensor([]int32{0}), SampleWeight: losses.HostTensor([]float32{1}),
				Loss: losses.HostTensor(make([]float32, 1))}, losses.CrossEntropyOptions{})
		}},
		{"lse with probability targets", "lse", func() error {
			return losses.CrossEntropy(hostDev, losses.CrossEntropyArgs{Input: losses.HostTensor([]float32{1, 2}, 1, 2),
				Target: losses.HostTensor([]float32{0.5, 0.5}, 1, 2), Loss: losses.HostTensor(make([]float32, 1)),
				LSE: losses.HostTensor(make([]float32, 1))}, losses.CrossEntropyOptions{})
		}},
		{"nil device", "device", func() error {
			_, err := ceSlices[float64](nil, x, []int32{0, 0}, 2, 3, losses.CrossEntropyOptions{})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			require.Error(t, err)
			require.True(t, errors.Is(err, losses.ErrInvalidArgument), "%v", err)
			var ae *losses.ArgError
			require.ErrorAs(t, err, &ae)
			require.Equal(t, tc.arg, ae.Arg, "%v", err)
		})
	}
}

func TestCrossEntropyFailedCallLeavesBuffers(t *testing.T) {
	x := []float32{1, 2, 3, 4}
	in := losses.HostTensor(x, 2, 2)
	lossS := []float32{42}
	err := losses.CrossEntropy(hostDev, losses.CrossEntropyArgs{Input: in, Target: losses.HostTensor([]int32{0, 9}),
		Loss: losses.HostTensor(lossS), GradInput: in}, losses.CrossEntropyOptions{})
	require.Error(t, err)
	require.Equal(t, []float32{1, 2, 3, 4}, x)
	require.Equal(t, []float32{42}, lossS)
}

func TestMSE(t *testing.T) {
	x := []float64{1, 2, 3, 4}
	y := []float64{0, 2, 5, 4.5}
	// (1 + 0 + 4 + 0.25) = 5.25
	for _, tc := range []struct {
		red  losses.Reduction
		want []float64
		gs   float64
	}{{losses.Mean, []float64{5.25 / 4}, 0.25}, {losses.Sum, []float64{5.25}, 1}, {losses.None, []float64{1, 0, 4, 0.25}, 1}} {
		res, err := mseSlices(hostDev, x, y, losses.MSELossOptions{ElementwiseOptions: losses.ElementwiseOptions{Reduction: tc.red}})
		require.NoError(t, err)
		require.Equal(t, tc.want, res.Loss)
		for i := range x {
			require.Equal(t, tc.gs*2*(x[i]-y[i]), res.Grad[i])
			require.Equal(t, -tc.gs*2*(x[i]-y[i]), res.GradTarget[i])
		}
	}
	res, err := mseSlices(hostDev, []float64{}, []float64{}, losses.MSELossOptions{})
	require.NoError(t, err)
	require.True(t, math.IsNaN(res.Loss[0]), "mean of nothing is NaN")
	_, err = mseSlices(hostDev, x, y[:3], losses.MSELossOptions{})
	require.ErrorIs(t, err, losses.ErrInvalidArgument)
	requireArg(t, err, "mse_loss", "target")
	_, err = mseSlices(hostDev, []float64{math.NaN()}, []float64{1}, losses.MSELossOptions{ElementwiseOptions: losses.ElementwiseOptions{NaN: losses.NaNError}})
	require.ErrorIs(t, err, losses.ErrInvalidArgument)
	requireArg(t, err, "mse_loss", "input")
}

func TestMSEManyBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	n := 1<<18 + 3 // more than MaxReduceBlocks*BlockSize
	x, y := randLogits(r, n, 1), randLogits(r, n, 1)
	res, err := mseSlices(hostDev, x, y, losses.MSELossOptions{ElementwiseOptions: losses.ElementwiseOptions{Reduction: losses.Sum}})
	require.NoError(t, err)
	var want float64
	for i := range x {
		want += (x[i] - y[i]) * (x[i] - y[i])
	}
	require.InDelta(t, want, res.Loss[0], 1e-9*want)
	fdCheck(t, x[:50], res.Grad[:50], func(xs []float64) float64 {
		var s float64
		for i := range xs {
			s += (xs[i] - y[i]) * (xs[i] - y[i])
		}
		return s
	})
}

func TestRowOps(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	rows, cols := 4, 9
	for _, tau := range []float64{1, 0.5, 3} {
		x := randLogits(r, rows*cols, 2)
		dy := randLogits(r, rows*cols, 1)
		dl := randLogits(r, rows, 1)
		// Reference forward from the definition.
		ref := func(x []float64, op rowOp) []float64 {
			var out []float64
			for i := 0; i < rows; i++ {
				var s float64
				for _, v := range x[i*cols : (i+1)*cols] {
					s += math.Exp(v / tau)
				}
				if op == opLogSumExp {
					out = append(out, math.Log(s))
					continue
				}
				for _, v := range x[i*cols : (i+1)*cols] {
					if op == opSoftmax {
						out = append(out, math.Exp(v/tau)/s)
					} else {
						out = append(out, v/tau-math.Log(s))
					}
				}
			}
			return out
		}
		for _, op := range []rowOp{opSoftmax, opLogSoftmax, opLogSumExp} {
			up := dy
			if op == opLogSumExp {
				up = dl
			}
			res, err := rowOpSlices(hostDev, op, x, rows, cols, tau, up)
			require.NoError(t, err)
			want := ref(x, op)
			for i := range want {
				require.InDelta(t, want[i], res.Loss[i], 1e-13)
			}
			fdCheck(t, x, res.Grad, func(x []float64) float64 {
				var s float64
				for i, v := range ref(x, op) {
					s += v * up[i]
				}
				return s
			})
		}
	}
	_, err := rowOpSlices(hostDev, opSoftmax, []float64{1}, 1, 1, -1, nil)
	require.ErrorIs(t, err, losses.ErrInvalidArgument)
	requireArg(t, err, "softmax", "temperature")
}

func TestDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	n, c := 37, 4099
	x := make([]float32, n*c)
	for i := range x {
		x[i] = float32(r.NormFloat64() * 4)
	}
	tg := make([]int32, n)
	for i := range tg {
		tg[i] = int32(r.IntN(c))
	}
	a, err := ceSlices(hostDev, x, tg, n, c, losses.CrossEntropyOptions{LabelSmoothing: 0.2})
	require.NoError(t, err)
	b, err := ceSlices(hostDev, x, tg, n, c, losses.CrossEntropyOptions{LabelSmoothing: 0.2})
	require.NoError(t, err)
	require.Equal(t, math.Float32bits(a.Loss[0]), math.Float32bits(b.Loss[0]))
	require.Equal(t, a.Grad, b.Grad)
}

func TestCrossEntropySkipTargetCheck(t *testing.T) {
	// A bad target is not an error with SkipTargetCheck: its row is NaN,
	// the other rows are exact, and nothing panics.
	x := []float32{0, 0, 1, 2}
	in := losses.HostTensor(x, 2, 2)
	tg := losses.HostTensor([]int32{7, 1})
	lossS := make([]float32, 2)
	g, _ := hostDev.Alloc(device.Float32, 4)
	require.NoError(t, losses.CrossEntropy(hostDev, losses.CrossEntropyArgs{Input: in, Target: tg, Loss: losses.HostTensor(lossS),
		GradInput: losses.NewTensor(g, 2, 2)}, losses.CrossEntropyOptions{Reduction: losses.None, SkipTargetCheck: true}))
	require.True(t, math.IsNaN(float64(lossS[0])))
	require.InDelta(t, math.Log1p(math.Exp(-1)), float64(lossS[1]), 1e-7)
	grad := g.(*host.Buffer).Slice().([]float32)
	require.True(t, math.IsNaN(float64(grad[0])) && math.IsNaN(float64(grad[1])))
	require.False(t, math.IsNaN(float64(grad[2])))
	// The mean over a batch with a bad target is NaN.
	l1, _ := hostDev.Alloc(device.Float32, 1)
	require.NoError(t, losses.CrossEntropy(hostDev, losses.CrossEntropyArgs{Input: in, Target: tg, Loss: losses.NewTensor(l1)},
		losses.CrossEntropyOptions{SkipTargetCheck: true}))
	require.True(t, math.IsNaN(float64(l1.(*host.Buffer).Slice().([]float32)[0])))
}
