package losses_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

func f64p(v float64) *float64 { return &v }

// TestPointwiseHandComputed checks each loss at points worked out by hand
// from the published definitions (PyTorch's docs, torchvision, Keras).
func TestPointwiseHandComputed(t *testing.T) {
	ln := math.Log
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	cases := []struct {
		p        losses.Pointwise
		opt      losses.PointwiseOptions
		x, y     float64
		a        float64 // var (gaussian_nll_loss) or pos_weight (bce with logits)
		loss, dx float64
	}{
		{losses.MSE, losses.PointwiseOptions{}, 3, 1, 0, 4, 4},
		{losses.L1, losses.PointwiseOptions{}, 3, 1, 0, 2, 1},
		{losses.L1, losses.PointwiseOptions{}, 1, 1, 0, 0, 0},
		{losses.Huber, losses.PointwiseOptions{}, 3, 0, 0, 2.5, 1},                     // δ(|d| − δ/2)
		{losses.Huber, losses.PointwiseOptions{Delta: f64p(2)}, 0.5, 0, 0, 0.125, 0.5}, // d²/2
		{losses.Huber, losses.PointwiseOptions{Delta: f64p(2)}, -2, 0, 0, 2, -2},       // the boundary
		{losses.SmoothL1, losses.PointwiseOptions{}, 0.5, 0, 0, 0.125, 0.5},            // d²/(2β)
		{losses.SmoothL1, losses.PointwiseOptions{Beta: f64p(0.5)}, 0.25, 0, 0, 0.0625, 0.5},
		{losses.SmoothL1, losses.PointwiseOptions{Beta: f64p(0.5)}, 3, 0, 0, 2.75, 1}, // |d| − β/2
		{losses.SmoothL1, losses.PointwiseOptions{Beta: f64p(0)}, -3, 0, 0, 3, -1},    // L1
		{losses.LogCosh, losses.PointwiseOptions{}, 1, 0, 0, ln(math.Cosh(1)), math.Tanh(1)},
		{losses.LogCosh, losses.PointwiseOptions{}, 1e4, 0, 0, 1e4 - math.Ln2, 1}, // no overflow
		{losses.LogCosh, losses.PointwiseOptions{}, -1e4, 0, 0, 1e4 - math.Ln2, -1},
		{losses.MeanAbsolutePercentageError, losses.PointwiseOptions{}, 3, 2, 0, 50, 50},
		{losses.MeanAbsolutePercentageError, losses.PointwiseOptions{}, 1e-7, 0, 0, 100, 1e9},
		{losses.MeanSquaredLogarithmicError, losses.PointwiseOptions{}, math.E - 1, 0, 0, // y is clamped to ε = 1e-7
			(1 - math.Log1p(1e-7)) * (1 - math.Log1p(1e-7)), 2 * (1 - math.Log1p(1e-7)) / math.E},
		{losses.MeanSquaredLogarithmicError, losses.PointwiseOptions{Eps: f64p(0)}, math.E - 1, 0, 0, 1, 2 / math.E},
		{losses.BinaryCrossEntropy, losses.PointwiseOptions{}, 0.25, 1, 0, -ln(0.25), (0.25 - 1) / (0.25 * 0.75)},
		{losses.BinaryCrossEntropy, losses.PointwiseOptions{}, 0, 1, 0, 100, -1e12}, // log 0 clamped at −100
		{losses.BinaryCrossEntropy, losses.PointwiseOptions{}, 1, 1, 0, 0, 0},
		{losses.BinaryCrossEntropy, losses.PointwiseOptions{}, 1, 0, 0, 100, 1e12},
		{losses.BinaryCrossEntropyWithLogits, losses.PointwiseOptions{}, 0, 1, 1, math.Ln2, -0.5},
		{losses.BinaryCrossEntropyWithLogits, losses.PointwiseOptions{}, 0, 1, 3, 3 * math.Ln2, -1.5}, // pos_weight 3
		{losses.BinaryCrossEntropyWithLogits, losses.PointwiseOptions{}, 1e4, 0, 1, 1e4, 1},
		{losses.BinaryCrossEntropyWithLogits, losses.PointwiseOptions{}, -1e4, 1, 1, 1e4, -1},
		{losses.BinaryCrossEntropyWithLogits, losses.PointwiseOptions{}, 1e4, 1, 1, 0, 0},
		// p = 1/2: ce = log 2, (1 − p_t)^2 = 1/4, α_t = 0.25.
		{losses.SigmoidFocal, losses.PointwiseOptions{}, 0, 1, 0, 0.25 * 0.25 * math.Ln2,
			0.25 * (-0.5*0.25 + math.Ln2*2*0.5*(-1)*0.25)},
		{losses.SigmoidFocal, losses.PointwiseOptions{Alpha: f64p(-1), Gamma: f64p(0)}, 2, 0, 0, ln(1 + math.Exp(2)), sig(2)},
		{losses.HingeEmbedding, losses.PointwiseOptions{}, 0.25, 1, 0, 0.25, 1},
		{losses.HingeEmbedding, losses.PointwiseOptions{}, 0.25, -1, 0, 0.75, -1},
		{losses.HingeEmbedding, losses.PointwiseOptions{Margin: f64p(2)}, 3, -1, 0, 0, 0},
		{losses.SoftMargin, losses.PointwiseOptions{}, 0, 1, 0, math.Ln2, -0.5},
		{losses.SoftMargin, losses.PointwiseOptions{}, 2, -1, 0, ln(1 + math.Exp(2)), sig(2)},
		{losses.Hinge, losses.PointwiseOptions{}, 0.25, 1, 0, 0.75, -1},
		{losses.Hinge, losses.PointwiseOptions{}, 0.25, -1, 0, 1.25, 1},
		{losses.Hinge, losses.PointwiseOptions{}, 2, 1, 0, 0, 0},
		{losses.SquaredHinge, losses.PointwiseOptions{}, -1, 1, 0, 4, -4},
		{losses.KLDiv, losses.PointwiseOptions{}, ln(0.25), 0.5, 0, 0.5 * (ln(0.5) - ln(0.25)), -0.5},
		{losses.KLDiv, losses.PointwiseOptions{}, -3, 0, 0, 0, 0}, // 0·log 0 = 0
		{losses.KLDiv, losses.PointwiseOptions{LogTarget: true}, ln(0.25), ln(0.5), 0, 0.5 * (ln(0.5) - ln(0.25)), -0.5},
		{losses.PoissonNLL, losses.PointwiseOptions{}, 1, 2, 0, math.E - 2, math.E - 2},
		{losses.PoissonNLL, losses.PointwiseOptions{NoLogInput: true, Eps: f64p(0)}, 2, 3, 0, 2 - 3*ln(2), 1 - 1.5},
		{losses.PoissonNLL, losses.PointwiseOptions{Full: true}, 0, 3, 0, 1 + 3*ln(3) - 3 + 0.5*ln(2*math.Pi*3), 1 - 3},
		{losses.PoissonNLL, losses.PointwiseOptions{Full: true}, 0, 1, 0, 1, 0}, // no Stirling term at y <= 1
		{losses.GaussianNLL, losses.PointwiseOptions{}, 3, 1, 2, 0.5 * (ln(2) + 2), 1},
		{losses.GaussianNLL, losses.PointwiseOptions{Full: true}, 3, 1, 2, 0.5*(ln(2)+2) + 0.5*ln(2*math.Pi), 1},
		{losses.GaussianNLL, losses.PointwiseOptions{Eps: f64p(0.5)}, 1, 0, 0, 0.5 * (ln(0.5) + 2), 2}, // zero var clamped
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/x=%g/y=%g", c.p, c.x, c.y), func(t *testing.T) {
			d := losses.PointwiseData[float64]{Input: []float64{c.x}, Target: []float64{c.y}}
			switch c.p {
			case losses.GaussianNLL:
				d.Var = []float64{c.a}
			case losses.BinaryCrossEntropyWithLogits:
				d.PosWeight = []float64{c.a}
			}
			opt := c.opt
			opt.Reduction = losses.Sum
			r, err := losses.PointwiseLossSlices(hostDev, c.p, d, opt)
			require.NoError(t, err)
			require.InDelta(t, c.loss, r.Loss[0], 1e-12*(1+math.Abs(c.loss)))
			require.InDelta(t, c.dx, r.Grad[0], 1e-9*(1+math.Abs(c.dx)))
		})
	}
}

// domain returns random input, target and aux values in loss p's domain.
func domain(rng *rand.Rand, p losses.Pointwise, n int) (x, y, a []float64) {
	x, y, a = make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range x {
		x[i], y[i], a[i] = rng.NormFloat64()*1.5, rng.NormFloat64(), 0.2+rng.Float64()*2
		switch p {
		case losses.BinaryCrossEntropy:
			x[i], y[i] = 0.05+0.9*rng.Float64(), rng.Float64()
		case losses.BinaryCrossEntropyWithLogits, losses.SigmoidFocal:
			y[i] = rng.Float64()
		case losses.HingeEmbedding, losses.SoftMargin, losses.Hinge, losses.SquaredHinge:
			y[i] = float64(2*rng.IntN(2) - 1)
		case losses.KLDiv:
			y[i] = 0.05 + rng.Float64()
		case losses.PoissonNLL, losses.MeanSquaredLogarithmicError:
			x[i], y[i] = 0.1+3*rng.Float64(), 0.1+4*rng.Float64()
		case losses.MeanAbsolutePercentageError:
			y[i] = math.Copysign(0.5+rng.Float64(), y[i])
		}
	}
	return x, y, a
}

// pointwiseOpts are the option sets each loss is checked under.
func pointwiseOpts(p losses.Pointwise) []losses.PointwiseOptions {
	switch p {
	case losses.Huber:
		return []losses.PointwiseOptions{{}, {Delta: f64p(0.3)}}
	case losses.SmoothL1:
		return []losses.PointwiseOptions{{}, {Beta: f64p(0.3)}}
	case losses.SigmoidFocal:
		return []losses.PointwiseOptions{{}, {Alpha: f64p(-1), Gamma: f64p(0.5)}, {Gamma: f64p(1)}}
	case losses.HingeEmbedding:
		return []losses.PointwiseOptions{{}, {Margin: f64p(0.5)}}
	case losses.KLDiv:
		return []losses.PointwiseOptions{{}, {LogTarget: true}}
	case losses.PoissonNLL:
		return []losses.PointwiseOptions{{}, {NoLogInput: true}, {Full: true}}
	case losses.GaussianNLL:
		return []losses.PointwiseOptions{{}, {Full: true}}
	}
	return []losses.PointwiseOptions{{}}
}

// TestPointwiseFiniteDifferences checks every gradient of every loss
// (input, target, var) against central differences of the reduced loss,
// with per-row weights, a mask and, where the loss has one, a per-row var
// or a per-column pos_weight, for each reduction.
func TestPointwiseFiniteDifferences(t *testing.T) {
	const rows, cols = 5, 3
	for _, p := range losses.PointwiseLosses() {
		for oi, opt := range pointwiseOpts(p) {
			for _, red := range []losses.Reduction{losses.Mean, losses.Sum} {
				t.Run(fmt.Sprintf("%s/opt%d/%s", p, oi, red), func(t *testing.T) {
					rng := rand.New(rand.NewPCG(uint64(p), uint64(oi)))
					x, y, a := domain(rng, p, rows*cols)
					w := make([]float64, rows)
					for i := range w {
						w[i] = 0.5 + rng.Float64()
					}
					mask := make([]bool, rows*cols)
					for i := range mask {
						mask[i] = i%4 != 1
					}
					d := losses.PointwiseData[float64]{Input: x, Target: y, Weight: w, WeightBcast: losses.PerRow(rows, cols), Mask: mask}
					switch p {
					case losses.GaussianNLL:
						d.Var, d.VarBcast = a[:rows], losses.PerRow(rows, cols)
					case losses.BinaryCrossEntropyWithLogits:
						d.PosWeight = a[:cols]
					}
					opt.Reduction = red
					r, err := losses.PointwiseLossSlices(hostDev, p, d, opt)
					require.NoError(t, err)
					f := func([]float64) float64 {
						rr, err := losses.PointwiseLossSlices(hostDev, p, d, opt)
						require.NoError(t, err)
						return rr.Loss[0]
					}
					fdCheck(t, x, r.Grad, f)
					if r.GradTarget != nil {
						fdCheck(t, y, r.GradTarget, f)
					}
					if d.Var != nil {
						fdCheck(t, d.Var, r.GradVar, f)
					}
					for i, m := range mask {
						if !m {
							require.Zero(t, r.Grad[i], "masked element %d", i)
						}
					}
				})
			}
		}
	}
}

// TestPointwiseReductions checks None, Mean, Sum and BatchMean against each
// other, and that weights scale and masks drop elements.
func TestPointwiseReductions(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x, y, _ := domain(rng, losses.Huber, 12)
	run := func(d losses.PointwiseData[float64], opt losses.PointwiseOptions) *losses.Result[float64] {
		r, err := losses.PointwiseLossSlices(hostDev, losses.Huber, d, opt)
		require.NoError(t, err)
		return r
	}
	plain := losses.PointwiseData[float64]{Input: x, Target: y}
	none := run(plain, losses.PointwiseOptions{Reduction: losses.None}).Loss
	require.Len(t, none, 12)
	sum := sumLoss(none)
	require.InDelta(t, sum, run(plain, losses.PointwiseOptions{Reduction: losses.Sum}).Loss[0], 1e-12)
	require.InDelta(t, sum/12, run(plain, losses.PointwiseOptions{}).Loss[0], 1e-12)

	w := []float64{2, 0, 1, 3}
	mask := make([]bool, 12)
	var wsum, kept float64
	for i := range mask {
		mask[i] = i%3 != 0
		if mask[i] {
			wsum += w[i/3] * none[i]
			kept++
		}
	}
	wd := plain
	wd.Weight, wd.WeightBcast, wd.Mask = w, losses.PerRow(4, 3), mask
	require.InDelta(t, wsum/kept, run(wd, losses.PointwiseOptions{}).Loss[0], 1e-12, "mean divides by the elements kept")
	wn := run(wd, losses.PointwiseOptions{Reduction: losses.None}).Loss
	for i := range wn {
		want := 0.0
		if mask[i] {
			want = w[i/3] * none[i]
		}
		require.InDelta(t, want, wn[i], 1e-12)
	}

	kx, ky, _ := domain(rng, losses.KLDiv, 12)
	kd := losses.PointwiseData[float64]{Input: kx, Target: ky, Rows: 4}
	ks, err := losses.PointwiseLossSlices(hostDev, losses.KLDiv, kd, losses.PointwiseOptions{Reduction: losses.Sum})
	require.NoError(t, err)
	kb, err := losses.PointwiseLossSlices(hostDev, losses.KLDiv, kd, losses.PointwiseOptions{Reduction: losses.BatchMean})
	require.NoError(t, err)
	require.InDelta(t, ks.Loss[0]/4, kb.Loss[0], 1e-12)
	require.InDelta(t, ks.Grad[5]/4, kb.Grad[5], 1e-15)
}

// TestPointwiseEdgeCases: empty input, all masked, NaN under a mask,
// logits of ±1e4, float32.
func TestPointwiseEdgeCases(t *testing.T) {
	for _, p := range losses.PointwiseLosses() {
		d := losses.PointwiseData[float64]{Input: []float64{}, Target: []float64{}}
		if p == losses.GaussianNLL {
			d.Var = []float64{}
		}
		r, err := losses.PointwiseLossSlices(hostDev, p, d, losses.PointwiseOptions{})
		require.NoError(t, err, p)
		require.True(t, math.IsNaN(r.Loss[0]), "%s: the mean of nothing is NaN", p)
		r, err = losses.PointwiseLossSlices(hostDev, p, d, losses.PointwiseOptions{Reduction: losses.Sum})
		require.NoError(t, err, p)
		require.Zero(t, r.Loss[0], p)

		rng := rand.New(rand.NewPCG(9, uint64(p)))
		x, y, a := domain(rng, p, 6)
		x[2] = math.NaN()
		d = losses.PointwiseData[float64]{Input: x, Target: y, Mask: []bool{true, true, false, true, true, true}}
		if p == losses.GaussianNLL {
			d.Var = a
		}
		r, err = losses.PointwiseLossSlices(hostDev, p, d, losses.PointwiseOptions{})
		require.NoError(t, err, p)
		require.False(t, math.IsNaN(r.Loss[0]), "%s: a masked NaN contributes nothing", p)
		require.Zero(t, r.Grad[2], p)
		d.Mask = make([]bool, 6)
		r, err = losses.PointwiseLossSlices(hostDev, p, d, losses.PointwiseOptions{})
		require.NoError(t, err, p)
		require.True(t, math.IsNaN(r.Loss[0]), "%s: all masked: the mean of nothing", p)
		for i := range r.Grad {
			require.Zero(t, r.Grad[i], p)
		}

		d.Mask = nil
		r, err = losses.PointwiseLossSlices(hostDev, p, d, losses.PointwiseOptions{})
		require.NoError(t, err, p)
		require.True(t, math.IsNaN(r.Loss[0]), "%s: NaN propagates", p)
	}
	for _, p := range []losses.Pointwise{losses.BinaryCrossEntropyWithLogits, losses.SigmoidFocal, losses.SoftMargin, losses.LogCosh} {
		x := []float32{1e4, -1e4, 1e4, -1e4}
		y := []float32{1, 1, -1, -1}
		if p == losses.BinaryCrossEntropyWithLogits || p == losses.SigmoidFocal {
			y = []float32{1, 1, 0, 0}
		}
		r, err := losses.PointwiseLossSlices(hostDev, p, losses.PointwiseData[float32]{Input: x, Target: y},
			losses.PointwiseOptions{Reduction: losses.None})
		require.NoError(t, err)
		for i := range x {
			require.False(t, math.IsNaN(float64(r.Loss[i])) || math.IsInf(float64(r.Loss[i]), 0), "%s loss %d = %v", p, i, r.Loss[i])
			require.False(t, math.IsNaN(float64(r.Grad[i])), "%s grad %d", p, i)
		}
	}
}

// TestPointwiseErrors: each bad input gets an error naming the argument,
// and leaves the output buffers untouched.
func TestPointwiseErrors(t *testing.T) {
	x, y := []float64{0.5, 0.2, 0.9, 0.1}, []float64{1, -1, 1, -1}
	cases := []struct {
		p   losses.Pointwise
		d   losses.PointwiseData[float64]
		opt losses.PointwiseOptions
		arg string
	}{
		{losses.BinaryCrossEntropy, losses.PointwiseData[float64]{Input: []float64{0.5, 1.5, 0, 1}, Target: x}, losses.PointwiseOptions{}, "input"},
		{losses.BinaryCrossEntropy, losses.PointwiseData[float64]{Input: []float64{-0.1, 0.5, 0, 1}, Target: x}, losses.PointwiseOptions{}, "input"},
		{losses.Huber, losses.PointwiseData[float64]{Input: x, Target: y}, losses.PointwiseOptions{Delta: f64p(0)}, "delta"},
		{losses.Huber, losses.PointwiseData[float64]{Input: x, Target: y}, losses.PointwiseOptions{Delta: f64p(-1)}, "delta"},
		{losses.SmoothL1, losses.PointwiseData[float64]{Input: x, Target: y}, losses.PointwiseOptions{Beta: f64p(-1)}, "beta"},
		{losses.GaussianNLL, losses.PointwiseData[float64]{Input: x, Target: y, Var: []float64{1, -1, 1, 1}}, losses.PointwiseOptions{}, "var"},
		{losses.GaussianNLL, losses.PointwiseData[float64]{Input: x, Target: y}, losses.PointwiseOptions{}, "var"},
		{losses.GaussianNLL, losses.PointwiseData[float64]{Input: x, Target: y, Var: []float64{1, 1, 1}, VarBcast: losses.PerRow(3, 1)}, losses.PointwiseOptions{}, "var"},
		{losses.GaussianNLL, losses.PointwiseData[float64]{Input: x, Target: y, Var: []float64{1, 1}}, losses.PointwiseOptions{}, "var"},
		{losses.L1, losses.PointwiseData[float64]{Input: x, Target: y, Weight: []float64{1, 2, 3}, WeightBcast: losses.PerColumn(3)}, losses.PointwiseOptions{}, "weight"},
		{losses.L1, losses.PointwiseData[float64]{Input: x, Target: y, Mask: []bool{true}}, losses.PointwiseOptions{}, "mask"},
		{losses.BinaryCrossEntropyWithLogits, losses.PointwiseData[float64]{Input: x, Target: x, PosWeight: []float64{1, 2, 3}}, losses.PointwiseOptions{}, "pos_weight"},
		{losses.L1, losses.PointwiseData[float64]{Input: x, Target: y, PosWeight: []float64{1}}, losses.PointwiseOptions{}, "pos_weight"},
		{losses.Hinge, losses.PointwiseData[float64]{Input: x, Target: []float64{1, 0, 1, -1}}, losses.PointwiseOptions{}, "target"},
		{losses.SquaredHinge, losses.PointwiseData[float64]{Input: x, Target: []float64{1, 2, 1, -1}}, losses.PointwiseOptions{}, "target"},
		{losses.HingeEmbedding, losses.PointwiseData[float64]{Input: x, Target: []float64{1, 1, 1, 0.5}}, losses.PointwiseOptions{}, "target"},
		{losses.SoftMargin, losses.PointwiseData[float64]{Input: x, Target: []float64{1, 1, 1, math.NaN()}}, losses.PointwiseOptions{}, "target"},
		{losses.L1, losses.PointwiseData[float64]{Input: x, Target: y[:3]}, losses.PointwiseOptions{}, "target"},
		{losses.L1, losses.PointwiseData[float64]{Input: x, Target: y}, losses.PointwiseOptions{Reduction: losses.BatchMean}, "reduction"},
		{losses.KLDiv, losses.PointwiseData[float64]{Input: x, Target: x, Rows: 3}, losses.PointwiseOptions{Reduction: losses.BatchMean}, "rows"},
		{losses.SigmoidFocal, losses.PointwiseData[float64]{Input: x, Target: x}, losses.PointwiseOptions{Gamma: f64p(-1)}, "gamma"},
		{losses.PoissonNLL, losses.PointwiseData[float64]{Input: x, Target: x}, losses.PointwiseOptions{Eps: f64p(math.NaN())}, "eps"},
		{losses.L1, losses.PointwiseData[float64]{Input: []float64{1, math.NaN(), 1, 1}, Target: y}, losses.PointwiseOptions{NaN: losses.NaNError}, "input"},
	}
	for _, c := range cases {
		_, err := losses.PointwiseLossSlices(hostDev, c.p, c.d, c.opt)
		require.Error(t, err, "%s %s", c.p, c.arg)
		require.True(t, errors.Is(err, losses.ErrInvalidArgument), "%v", err)
		var ae *losses.ArgError
		require.True(t, errors.As(err, &ae), "%v", err)
		require.Equal(t, c.arg, ae.Arg, "%v", err)
	}

	// A rejected call leaves the caller's buffers untouched.
	in, tg := []float64{0.5, 1.5}, []float64{1, 0}
	loss, grad := []float64{7}, []float64{8, 9}
	b := losses.PointwiseBuffers{Input: wrap(t, in), Target: wrap(t, tg), N: 2, Loss: wrap(t, loss), GradInput: wrap(t, grad)}
	err := losses.PointwiseLoss(hostDev, losses.BinaryCrossEntropy, b, losses.PointwiseOptions{})
	require.Error(t, err)
	require.Equal(t, []float64{7}, loss)
	require.Equal(t, []float64{8, 9}, grad)
	// SkipInputCheck skips the range check (the caller vouches for it).
	require.NoError(t, losses.PointwiseLoss(hostDev, losses.BinaryCrossEntropy, b, losses.PointwiseOptions{SkipInputCheck: true}))
	require.NotEqual(t, []float64{7}, loss)
}

func wrap(t *testing.T, v []float64) *host.Buffer {
	t.Helper()
	b, err := host.Wrap(v)
	require.NoError(t, err)
	return b
}
