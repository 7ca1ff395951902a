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

func boolp(v bool) *bool { return &v }

// TestPointwiseHandComputed checks each loss at points worked out by hand
// from the published definitions (PyTorch's docs, torchvision, Keras).
func TestPointwiseHandComputed(t *testing.T) {
	ln := math.Log
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	cases := []struct {
		p        pwKind
		opt      pwOpts
		x, y     float64
		a        float64 // var (gaussian_nll_loss) or pos_weight (bce with logits)
		loss, dx float64
	}{
		{pwMSE, pwOpts{}, 3, 1, 0, 4, 4},
		{pwL1, pwOpts{}, 3, 1, 0, 2, 1},
		{pwL1, pwOpts{}, 1, 1, 0, 0, 0},
		{pwHuber, pwOpts{}, 3, 0, 0, 2.5, 1},                     // δ(|d| − δ/2)
		{pwHuber, pwOpts{Delta: f64p(2)}, 0.5, 0, 0, 0.125, 0.5}, // d²/2
		{pwHuber, pwOpts{Delta: f64p(2)}, -2, 0, 0, 2, -2},       // the boundary
		{pwSmoothL1, pwOpts{}, 0.5, 0, 0, 0.125, 0.5},            // d²/(2β)
		{pwSmoothL1, pwOpts{Beta: f64p(0.5)}, 0.25, 0, 0, 0.0625, 0.5},
		{pwSmoothL1, pwOpts{Beta: f64p(0.5)}, 3, 0, 0, 2.75, 1}, // |d| − β/2
		{pwSmoothL1, pwOpts{Beta: f64p(0)}, -3, 0, 0, 3, -1},    // L1
		{pwLogCosh, pwOpts{}, 1, 0, 0, ln(math.Cosh(1)), math.Tanh(1)},
		{pwLogCosh, pwOpts{}, 1e4, 0, 0, 1e4 - math.Ln2, 1}, // no overflow
		{pwLogCosh, pwOpts{}, -1e4, 0, 0, 1e4 - math.Ln2, -1},
		{pwMeanAbsolutePercentageError, pwOpts{}, 3, 2, 0, 50, 50},
		{pwMeanAbsolutePercentageError, pwOpts{}, 1e-7, 0, 0, 100, 1e9},
		{pwMeanSquaredLogarithmicError, pwOpts{}, math.E - 1, 0, 0, // y is clamped to ε = 1e-7
			(1 - math.Log1p(1e-7)) * (1 - math.Log1p(1e-7)), 2 * (1 - math.Log1p(1e-7)) / math.E},
		{pwMeanSquaredLogarithmicError, pwOpts{Eps: f64p(0)}, math.E - 1, 0, 0, 1, 2 / math.E},
		{pwBinaryCrossEntropy, pwOpts{}, 0.25, 1, 0, -ln(0.25), (0.25 - 1) / (0.25 * 0.75)},
		{pwBinaryCrossEntropy, pwOpts{}, 0, 1, 0, 100, -1e12}, // log 0 clamped at −100
		{pwBinaryCrossEntropy, pwOpts{}, 1, 1, 0, 0, 0},
		{pwBinaryCrossEntropy, pwOpts{}, 1, 0, 0, 100, 1e12},
		{pwBinaryCrossEntropyWithLogits, pwOpts{}, 0, 1, 1, math.Ln2, -0.5},
		{pwBinaryCrossEntropyWithLogits, pwOpts{}, 0, 1, 3, 3 * math.Ln2, -1.5}, // pos_weight 3
		{pwBinaryCrossEntropyWithLogits, pwOpts{}, 1e4, 0, 1, 1e4, 1},
		{pwBinaryCrossEntropyWithLogits, pwOpts{}, -1e4, 1, 1, 1e4, -1},
		{pwBinaryCrossEntropyWithLogits, pwOpts{}, 1e4, 1, 1, 0, 0},
		// p = 1/2: ce = log 2, (1 − p_t)^2 = 1/4, α_t = 0.25.
		{pwSigmoidFocal, pwOpts{}, 0, 1, 0, 0.25 * 0.25 * math.Ln2,
			0.25 * (-0.5*0.25 + math.Ln2*2*0.5*(-1)*0.25)},
		{pwSigmoidFocal, pwOpts{Alpha: f64p(-1), Gamma: f64p(0)}, 2, 0, 0, ln(1 + math.Exp(2)), sig(2)},
		{pwHingeEmbedding, pwOpts{}, 0.25, 1, 0, 0.25, 1},
		{pwHingeEmbedding, pwOpts{}, 0.25, -1, 0, 0.75, -1},
		{pwHingeEmbedding, pwOpts{Margin: f64p(2)}, 3, -1, 0, 0, 0},
		{pwSoftMargin, pwOpts{}, 0, 1, 0, math.Ln2, -0.5},
		{pwSoftMargin, pwOpts{}, 2, -1, 0, ln(1 + math.Exp(2)), sig(2)},
		{pwHinge, pwOpts{}, 0.25, 1, 0, 0.75, -1},
		{pwHinge, pwOpts{}, 0.25, -1, 0, 1.25, 1},
		{pwHinge, pwOpts{}, 2, 1, 0, 0, 0},
		{pwSquaredHinge, pwOpts{}, -1, 1, 0, 4, -4},
		{pwKLDiv, pwOpts{}, ln(0.25), 0.5, 0, 0.5 * (ln(0.5) - ln(0.25)), -0.5},
		{pwKLDiv, pwOpts{}, -3, 0, 0, 0, 0}, // 0·log 0 = 0
		{pwKLDiv, pwOpts{LogTarget: true}, ln(0.25), ln(0.5), 0, 0.5 * (ln(0.5) - ln(0.25)), -0.5},
		{pwPoissonNLL, pwOpts{}, 1, 2, 0, math.E - 2, math.E - 2},
		{pwPoissonNLL, pwOpts{LogInput: boolp(true)}, 1, 2, 0, math.E - 2, math.E - 2}, // PyTorch's default, explicit
		{pwPoissonNLL, pwOpts{LogInput: boolp(false), Eps: f64p(0)}, 2, 3, 0, 2 - 3*ln(2), 1 - 1.5},
		{pwPoissonNLL, pwOpts{Full: true}, 0, 3, 0, 1 + 3*ln(3) - 3 + 0.5*ln(2*math.Pi*3), 1 - 3},
		{pwPoissonNLL, pwOpts{Full: true}, 0, 1, 0, 1, 0}, // no Stirling term at y <= 1
		{pwGaussianNLL, pwOpts{}, 3, 1, 2, 0.5 * (ln(2) + 2), 1},
		{pwGaussianNLL, pwOpts{Full: true}, 3, 1, 2, 0.5*(ln(2)+2) + 0.5*ln(2*math.Pi), 1},
		{pwGaussianNLL, pwOpts{Eps: f64p(0.5)}, 1, 0, 0, 0.5 * (ln(0.5) + 2), 2}, // zero var clamped
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/x=%g/y=%g", c.p, c.x, c.y), func(t *testing.T) {
			d := pwData[float64]{Input: []float64{c.x}, Target: []float64{c.y}}
			switch c.p {
			case pwGaussianNLL:
				d.Var = []float64{c.a}
			case pwBinaryCrossEntropyWithLogits:
				d.PosWeight = []float64{c.a}
			}
			opt := c.opt
			opt.Reduction = losses.Sum
			r, err := pwRun(hostDev, c.p, d, opt)
			require.NoError(t, err)
			require.InDelta(t, c.loss, r.Loss[0], 1e-12*(1+math.Abs(c.loss)))
			require.InDelta(t, c.dx, r.Grad[0], 1e-9*(1+math.Abs(c.dx)))
		})
	}
}

// domain returns random input, target and aux values in loss p's domain.
func domain(rng *rand.Rand, p pwKind, n int) (x, y, a []float64) {
	x, y, a = make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range x {
		x[i], y[i], a[i] = rng.NormFloat64()*1.5, rng.NormFloat64(), 0.2+rng.Float64()*2
		switch p {
		case pwBinaryCrossEntropy:
			x[i], y[i] = 0.05+0.9*rng.Float64(), rng.Float64()
		case pwBinaryCrossEntropyWithLogits, pwSigmoidFocal:
			y[i] = rng.Float64()
		case pwHingeEmbedding, pwSoftMargin, pwHinge, pwSquaredHinge:
			y[i] = float64(2*rng.IntN(2) - 1)
		case pwKLDiv:
			y[i] = 0.05 + rng.Float64()
		case pwPoissonNLL, pwMeanSquaredLogarithmicError:
			x[i], y[i] = 0.1+3*rng.Float64(), 0.1+4*rng.Float64()
		case pwMeanAbsolutePercentageError:
			y[i] = math.Copysign(0.5+rng.Float64(), y[i])
		}
	}
	return x, y, a
}

// pointwiseOpts are the option sets each loss is checked under.
func pointwiseOpts(p pwKind) []pwOpts {
	switch p {
	case pwHuber:
		return []pwOpts{{}, {Delta: f64p(0.3)}}
	case pwSmoothL1:
		return []pwOpts{{}, {Beta: f64p(0.3)}}
	case pwSigmoidFocal:
		return []pwOpts{{}, {Alpha: f64p(-1), Gamma: f64p(0.5)}, {Gamma: f64p(1)}}
	case pwHingeEmbedding:
		return []pwOpts{{}, {Margin: f64p(0.5)}}
	case pwKLDiv:
		return []pwOpts{{}, {LogTarget: true}}
	case pwPoissonNLL:
		return []pwOpts{{}, {LogInput: boolp(false)}, {Full: true}}
	case pwGaussianNLL:
		return []pwOpts{{}, {Full: true}}
	}
	return []pwOpts{{}}
}

// TestPointwiseFiniteDifferences checks every gradient of every loss
// (input, target, var) against central differences of the reduced loss,
// with per-row weights, a mask and, where the loss has one, a per-row var
// or a per-column pos_weight, for each reduction.
func TestPointwiseFiniteDifferences(t *testing.T) {
	const rows, cols = 5, 3
	for _, p := range pwAll() {
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
					d := pwData[float64]{Input: x, Target: y, Shape: []int{rows, cols}, Weight: w, WeightShape: []int{rows, 1}, Mask: mask}
					switch p {
					case pwGaussianNLL:
						d.Var, d.VarShape = a[:rows], []int{rows, 1}
					case pwBinaryCrossEntropyWithLogits:
						d.PosWeight = a[:cols]
					}
					opt.Reduction = red
					r, err := pwRun(hostDev, p, d, opt)
					require.NoError(t, err)
					f := func([]float64) float64 {
						rr, err := pwRun(hostDev, p, d, opt)
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
	x, y, _ := domain(rng, pwHuber, 12)
	run := func(d pwData[float64], opt pwOpts) *result[float64] {
		r, err := pwRun(hostDev, pwHuber, d, opt)
		require.NoError(t, err)
		return r
	}
	plain := pwData[float64]{Input: x, Target: y}
	none := run(plain, pwOpts{Reduction: losses.None}).Loss
	require.Len(t, none, 12)
	sum := sumLoss(none)
	require.InDelta(t, sum, run(plain, pwOpts{Reduction: losses.Sum}).Loss[0], 1e-12)
	require.InDelta(t, sum/12, run(plain, pwOpts{}).Loss[0], 1e-12)

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
	wd.Shape, wd.Weight, wd.WeightShape, wd.Mask = []int{4, 3}, w, []int{4, 1}, mask
	require.InDelta(t, wsum/kept, run(wd, pwOpts{}).Loss[0], 1e-12, "mean divides by the elements kept")
	wn := run(wd, pwOpts{Reduction: losses.None}).Loss
	for i := range wn {
		want := 0.0
		if mask[i] {
			want = w[i/3] * none[i]
		}
		require.InDelta(t, want, wn[i], 1e-12)
	}

	kx, ky, _ := domain(rng, pwKLDiv, 12)
	kd := pwData[float64]{Input: kx, Target: ky, Shape: []int{4, 3}}
	ks, err := pwRun(hostDev, pwKLDiv, kd, pwOpts{Reduction: losses.Sum})
	require.NoError(t, err)
	kb, err := pwRun(hostDev, pwKLDiv, kd, pwOpts{Reduction: losses.BatchMean})
	require.NoError(t, err)
	require.InDelta(t, ks.Loss[0]/4, kb.Loss[0], 1e-12)
	require.InDelta(t, ks.Grad[5]/4, kb.Grad[5], 1e-15)
}

// TestPointwiseEdgeCases: empty input, all masked, NaN under a mask,
// logits of ±1e4, float32.
func TestPointwiseEdgeCases(t *testing.T) {
	for _, p := range pwAll() {
		d := pwData[float64]{Input: []float64{}, Target: []float64{}}
		if p == pwGaussianNLL {
			d.Var = []float64{}
		}
		r, err := pwRun(hostDev, p, d, pwOpts{})
		require.NoError(t, err, p)
		require.True(t, math.IsNaN(r.Loss[0]), "%s: the mean of nothing is NaN", p)
		r, err = pwRun(hostDev, p, d, pwOpts{Reduction: losses.Sum})
		require.NoError(t, err, p)
		require.Zero(t, r.Loss[0], p)

		rng := rand.New(rand.NewPCG(9, uint64(p)))
		x, y, a := domain(rng, p, 6)
		x[2] = math.NaN()
		d = pwData[float64]{Input: x, Target: y, Mask: []bool{true, true, false, true, true, true}}
		if p == pwGaussianNLL {
			d.Var = a
		}
		r, err = pwRun(hostDev, p, d, pwOpts{})
		require.NoError(t, err, p)
		require.False(t, math.IsNaN(r.Loss[0]), "%s: a masked NaN contributes nothing", p)
		require.Zero(t, r.Grad[2], p)
		d.Mask = make([]bool, 6)
		r, err = pwRun(hostDev, p, d, pwOpts{})
		require.NoError(t, err, p)
		require.True(t, math.IsNaN(r.Loss[0]), "%s: all masked: the mean of nothing", p)
		for i := range r.Grad {
			require.Zero(t, r.Grad[i], p)
		}

		d.Mask = nil
		r, err = pwRun(hostDev, p, d, pwOpts{})
		require.NoError(t, err, p)
		require.True(t, math.IsNaN(r.Loss[0]), "%s: NaN propagates", p)
	}
	for _, p := range []pwKind{pwBinaryCrossEntropyWithLogits, pwSigmoidFocal, pwSoftMargin, pwLogCosh} {
		x := []float32{1e4, -1e4, 1e4, -1e4}
		y := []float32{1, 1, -1, -1}
		if p == pwBinaryCrossEntropyWithLogits || p == pwSigmoidFocal {
			y = []float32{1, 1, 0, 0}
		}
		r, err := pwRun(hostDev, p, pwData[float32]{Input: x, Target: y},
			pwOpts{Reduction: losses.None})
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
		p   pwKind
		d   pwData[float64]
		opt pwOpts
		arg string
	}{
		{pwBinaryCrossEntropy, pwData[float64]{Input: []float64{0.5, 1.5, 0, 1}, Target: x}, pwOpts{}, "input"},
		{pwBinaryCrossEntropy, pwData[float64]{Input: []float64{-0.1, 0.5, 0, 1}, Target: x}, pwOpts{}, "input"},
		{pwHuber, pwData[float64]{Input: x, Target: y}, pwOpts{Delta: f64p(0)}, "delta"},
		{pwHuber, pwData[float64]{Input: x, Target: y}, pwOpts{Delta: f64p(-1)}, "delta"},
		{pwSmoothL1, pwData[float64]{Input: x, Target: y}, pwOpts{Beta: f64p(-1)}, "beta"},
		{pwGaussianNLL, pwData[float64]{Input: x, Target: y, Var: []float64{1, -1, 1, 1}}, pwOpts{}, "var"},
		{pwGaussianNLL, pwData[float64]{Input: x, Target: y}, pwOpts{}, "var"},
		{pwGaussianNLL, pwData[float64]{Input: x, Target: y, Var: []float64{1, 1, 1}, VarShape: []int{3, 1}}, pwOpts{}, "var"},
		{pwGaussianNLL, pwData[float64]{Input: x, Target: y, Var: []float64{1, 1}}, pwOpts{}, "var"},
		{pwL1, pwData[float64]{Input: x, Target: y, Weight: []float64{1, 2, 3}}, pwOpts{}, "weight"},
		{pwL1, pwData[float64]{Input: x, Target: y, Mask: []bool{true, false}}, pwOpts{}, "mask"},
		{pwL1, pwData[float64]{Input: x, Target: y, Shape: []int{2, 2}, Weight: []float64{1, 2, 3, 4}, WeightShape: []int{4, 1}}, pwOpts{}, "weight"},
		{pwL1, pwData[float64]{Input: x, Target: y, Shape: []int{2, 2}, Mask: []bool{true, false, true}, MaskShape: []int{1, 1, 3}}, pwOpts{}, "mask"},
		{pwBinaryCrossEntropyWithLogits, pwData[float64]{Input: x, Target: x, PosWeight: []float64{1, 2, 3}}, pwOpts{}, "pos_weight"},
		{pwHinge, pwData[float64]{Input: x, Target: []float64{1, 0, 1, -1}}, pwOpts{}, "target"},
		{pwSquaredHinge, pwData[float64]{Input: x, Target: []float64{1, 2, 1, -1}}, pwOpts{}, "target"},
		{pwHingeEmbedding, pwData[float64]{Input: x, Target: []float64{1, 1, 1, 0.5}}, pwOpts{}, "target"},
		{pwSoftMargin, pwData[float64]{Input: x, Target: []float64{1, 1, 1, math.NaN()}}, pwOpts{}, "target"},
		{pwL1, pwData[float64]{Input: x, Target: y[:3]}, pwOpts{}, "target"},
		{pwL1, pwData[float64]{Input: x, Target: y}, pwOpts{Reduction: losses.BatchMean}, "reduction"},
		{pwKLDiv, pwData[float64]{Input: x, Target: x, Shape: []int{3, 2}}, pwOpts{Reduction: losses.BatchMean}, "input"},
		{pwL1, pwData[float64]{Input: x, Target: y, Shape: []int{2, -2}}, pwOpts{}, "input"},
		{pwL1, pwData[float64]{Input: x, Target: y, Shape: []int{2, 2}, Weight: []float64{1, 2}, WeightShape: []int{2, 1}}, pwOpts{Reduction: losses.Reduction(9)}, "reduction"},
		{pwL1, pwData[float64]{Input: x, Target: y}, pwOpts{NaN: losses.NaNPolicy(5)}, "nan_policy"},
		{pwSmoothL1, pwData[float64]{Input: x, Target: y}, pwOpts{Beta: f64p(math.Inf(1))}, "beta"},
		{pwSigmoidFocal, pwData[float64]{Input: x, Target: x}, pwOpts{Alpha: f64p(1.5)}, "alpha"},
		{pwHingeEmbedding, pwData[float64]{Input: x, Target: y}, pwOpts{Margin: f64p(math.NaN())}, "margin"},
		{pwMeanAbsolutePercentageError, pwData[float64]{Input: x, Target: y}, pwOpts{Eps: f64p(-1)}, "eps"},
		{pwSigmoidFocal, pwData[float64]{Input: x, Target: x}, pwOpts{Gamma: f64p(-1)}, "gamma"},
		{pwPoissonNLL, pwData[float64]{Input: x, Target: x}, pwOpts{Eps: f64p(math.NaN())}, "eps"},
		{pwL1, pwData[float64]{Input: []float64{1, math.NaN(), 1, 1}, Target: y}, pwOpts{NaN: losses.NaNError}, "input"},
	}
	for _, c := range cases {
		_, err := pwRun(hostDev, c.p, c.d, c.opt)
		require.Error(t, err, "%s %s", c.p, c.arg)
		require.True(t, errors.Is(err, losses.ErrInvalidArgument), "%v", err)
		var ae *losses.ArgError
		require.True(t, errors.As(err, &ae), "%v", err)
		require.Equal(t, c.arg, ae.Arg, "%v", err)
	}

	// Only binary_cross_entropy_with_logits has a pos_weight and only
	// gaussian_nll_loss a var: the other losses' Args have no such
	// tensor, and a call by name rejects it as an unknown input.
	for _, c := range []struct{ loss, arg string }{{"l1_loss", "pos_weight"}, {"mse_loss", "var"}, {"hinge", "grad_target"}} {
		d, ok := losses.Lookup(c.loss)
		require.True(t, ok, c.loss)
		_, err := d.Call(hostDev, map[string]losses.Tensor{"input": losses.HostTensor(x), "target": losses.HostTensor(y),
			c.arg: losses.HostTensor([]float64{1})}, nil)
		requireArg(t, err, c.loss, c.arg)
	}

	// A rejected call leaves the caller's buffers untouched.
	in, tg := []float64{0.5, 1.5}, []float64{1, 0}
	loss, grad := []float64{7}, []float64{8, 9}
	a := losses.ElementwiseArgs{Input: wrapT(t, in), Target: wrapT(t, tg), Loss: wrapT(t, loss), GradInput: wrapT(t, grad)}
	err := losses.BinaryCrossEntropy(hostDev, a, losses.BinaryCrossEntropyOptions{})
	requireArg(t, err, "binary_cross_entropy", "input")
	require.Equal(t, []float64{7}, loss)
	require.Equal(t, []float64{8, 9}, grad)
	// So does a shape error found after the other tensors were checked.
	bad := a
	bad.GradTarget = losses.HostTensor(make([]float64, 3))
	requireArg(t, losses.BinaryCrossEntropy(hostDev, bad, losses.BinaryCrossEntropyOptions{}), "binary_cross_entropy", "grad_target")
	require.Equal(t, []float64{7}, loss)
	require.Equal(t, []float64{8, 9}, grad)
	// SkipInputCheck skips the range check (the caller vouches for it).
	require.NoError(t, losses.BinaryCrossEntropy(hostDev, a, losses.BinaryCrossEntropyOptions{
		ElementwiseOptions: losses.ElementwiseOptions{SkipInputCheck: true}}))
	require.NotEqual(t, []float64{7}, loss)
}

// wrapT wraps v as a 1-D tensor through a host buffer (the buffer form).
func wrapT(t *testing.T, v []float64) losses.Tensor {
	t.Helper()
	b, err := host.Wrap(v)
	require.NoError(t, err)
	return losses.NewTensor(b)
}
