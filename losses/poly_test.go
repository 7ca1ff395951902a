package losses_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// polySlices runs PolyLossCrossEntropy on logits x and labels y [n, c].
func polySlices[T flt](dev device.Device, x, y []T, n, c int, opt losses.PolyLossCrossEntropyOptions, pr ...perRow) (*result[T], error) {
	r := &result[T]{Grad: make([]T, max(n*c, 0)), GradTarget: make([]T, max(n*c, 0))}
	var lt losses.Tensor
	r.Loss, lt = lossOut[T](opt.Reduction, n)
	a := losses.SoftTargetArgs{Input: losses.HostTensor(x, n, c), Target: losses.HostTensor(y, n, c), Loss: lt,
		GradInput: losses.HostTensor(r.Grad, n, c), GradTarget: losses.HostTensor(r.GradTarget, n, c)}
	a.SampleWeight, a.Mask = perRowTensors[T](pr)
	return done(r, losses.PolyLossCrossEntropy(dev, a, opt))
}

// polyRef is the published formula, row by row: −Σ y log p + ε Σ y (1 − p).
func polyRef(x, y []float64, n, c int, opt losses.PolyLossCrossEntropyOptions) []float64 {
	eps := 2.0
	if opt.Epsilon != nil {
		eps = *opt.Epsilon
	}
	per := make([]float64, n)
	for i := 0; i < n; i++ {
		lp := logSoftmax(x[i*c:(i+1)*c], 1)
		for k := 0; k < c; k++ {
			yv := y[i*c+k]
			per[i] += -yv*lp[k] + eps*yv*(1-math.Exp(lp[k]))
		}
	}
	return reduceRef(per, opt.Reduction, float64(n))
}

func TestPolyLossCrossEntropyClosedForm(t *testing.T) {
	// Logits (0, log 3): p = (1/4, 3/4); label 1: Y = 1, S = 3/4.
	for _, eps := range []float64{2, 1, 0, -1} {
		x, y := []float64{0, math.Log(3)}, []float64{0, 1}
		res, err := polySlices(hostDev, x, y, 1, 2, losses.PolyLossCrossEntropyOptions{Epsilon: &eps})
		require.NoError(t, err)
		require.InDelta(t, math.Log(4.0/3)+eps/4, res.Loss[0], 1e-15)
		rowClose(t, []float64{0.25 * (1 + 0.75*eps), -0.25 - 3*eps/16}, res.Grad, 1e-15, "grad")
		rowClose(t, []float64{math.Log(4) + 0.75*eps, math.Log(4.0/3) + eps/4}, res.GradTarget, 1e-15, "grad_target")
	}
	// The default ε is Optax's 2; ε = 0 is the cross-entropy.
	x, y := []float64{1, -2, 0.5, 3, 3, 3}, []float64{0.2, 0.3, 0.5, 1, 0, 0}
	res, err := polySlices(hostDev, x, y, 2, 3, losses.PolyLossCrossEntropyOptions{})
	require.NoError(t, err)
	rowClose(t, polyRef(x, y, 2, 3, losses.PolyLossCrossEntropyOptions{Epsilon: losses.Value(2.0)}), res.Loss, 1e-14, "loss")
	zero := 0.0
	res, err = polySlices(hostDev, x, y, 2, 3, losses.PolyLossCrossEntropyOptions{Epsilon: &zero, Reduction: losses.None})
	require.NoError(t, err)
	ce, err := ceProbsSlices(hostDev, x, y, 2, 3, losses.CrossEntropyOptions{Reduction: losses.None})
	require.NoError(t, err)
	rowClose(t, ce.Loss, res.Loss, 1e-15, "loss at ε = 0")
	rowClose(t, ce.Grad, res.Grad, 1e-15, "grad at ε = 0")
}

func TestPolyLossCrossEntropyFiniteDifferences(t *testing.T) {
	const n, c = 4, 6
	r := rand.New(rand.NewPCG(31, 32))
	for _, kind := range []string{"probs", "free"} {
		for _, red := range []losses.Reduction{losses.Mean, losses.Sum, losses.None} {
			for _, eps := range []float64{2, -1, 0.3} {
				o := losses.PolyLossCrossEntropyOptions{Reduction: red, Epsilon: &eps}
				t.Run(fmt.Sprintf("%s/%v/eps=%v", kind, red, eps), func(t *testing.T) {
					x := randLogits(r, n*c, 2)
					y := probs(r, n, c)
					if kind == "free" {
						for i := range y {
							y[i] *= 3 * r.Float64()
						}
					}
					res, err := polySlices(hostDev, x, y, n, c, o)
					require.NoError(t, err)
					rowClose(t, polyRef(x, y, n, c, o), res.Loss, 1e-13, "loss")
					fdCheck(t, x, res.Grad, func(x []float64) float64 { return sumLoss(polyRef(x, y, n, c, o)) })
					fdCheck(t, y, res.GradTarget, func(y []float64) float64 { return sumLoss(polyRef(x, y, n, c, o)) })
				})
			}
		}
	}
}

// TestPolyLossCrossEntropyFloat32 holds the float32 path to the float64
// reference, confident rows included: 1 − p_t comes from expm1, so a
// label on a class of probability 1 − 1e-6 keeps its polynomial term.
func TestPolyLossCrossEntropyFloat32(t *testing.T) {
	const n, c = 9, 37
	r := rand.New(rand.NewPCG(33, 34))
	x := randLogits(r, n*c, 3)
	y := probs(r, n, c)
	for i := 0; i < 3; i++ { // confident one-hot rows
		for k := 0; k < c; k++ {
			y[i*c+k] = 0
		}
		y[i*c] = 1
		x[i*c] = 20
	}
	o := losses.PolyLossCrossEntropyOptions{Reduction: losses.None}
	want, err := polySlices(hostDev, x, y, n, c, o)
	require.NoError(t, err)
	got, err := polySlices(hostDev, to32s(x), to32s(y), n, c, o)
	require.NoError(t, err)
	for i := range want.Loss {
		require.InDelta(t, want.Loss[i], float64(got.Loss[i]), 2e-6*(1+math.Abs(want.Loss[i])), "loss %d", i)
	}
	for i := range want.Grad {
		require.InDelta(t, want.Grad[i], float64(got.Grad[i]), 2e-6, "grad %d", i)
		require.InDelta(t, want.GradTarget[i], float64(got.GradTarget[i]), 1e-5*(1+math.Abs(want.GradTarget[i])), "grad_target %d", i)
	}
}

func TestPolyLossCrossEntropyErrors(t *testing.T) {
	x, y := make([]float64, 6), make([]float64, 6)
	nan := math.NaN()
	_, err := polySlices(hostDev, x, y, 2, 3, losses.PolyLossCrossEntropyOptions{Epsilon: &nan})
	requireArg(t, err, "poly_loss_cross_entropy", "epsilon")
	_, err = polySlices(hostDev, x, y[:3], 2, 3, losses.PolyLossCrossEntropyOptions{})
	require.Error(t, err)
	// Sample weights and a mask: a masked row contributes nothing.
	res, err := polySlices(hostDev, []float64{0, 1, 2, 3, 4, 5}, []float64{1, 0, 0, 0, 0, 1}, 2, 3,
		losses.PolyLossCrossEntropyOptions{Reduction: losses.None}, perRow{SampleWeight: []float64{2, 1}, Mask: []bool{true, false}})
	require.NoError(t, err)
	require.Equal(t, 0.0, res.Loss[1])
	require.Equal(t, []float64{0, 0, 0}, res.Grad[3:])
}
