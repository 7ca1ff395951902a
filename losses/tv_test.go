package losses_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/losses"
)

// tvRef is piq's total_variation (kornia's summed over the channels for
// l1), reduced.
func tvRef(x []float64, n, c, h, w int, norm losses.TVNorm, red losses.Reduction) []float64 {
	per := make([]float64, n)
	for i := range n {
		var s float64
		for ch := range c {
			o := (i*c + ch) * h * w
			for r := range h {
				for col := range w {
					v := x[o+r*w+col]
					if col+1 < w {
						d := x[o+r*w+col+1] - v
						if norm == losses.TVL1 {
							s += math.Abs(d)
						} else {
							s += d * d
						}
					}
					if r+1 < h {
						d := x[o+(r+1)*w+col] - v
						if norm == losses.TVL1 {
							s += math.Abs(d)
						} else {
							s += d * d
						}
					}
				}
			}
		}
		if norm == losses.TVL2 {
			s = math.Sqrt(s)
		}
		per[i] = s
	}
	return reduceRef(per, red, float64(n))
}

func tvCall(t *testing.T, x []float64, n, c, h, w int, opt losses.TotalVariationOptions) (loss, grad []float64) {
	t.Helper()
	nl := 1
	if opt.Reduction == losses.None {
		nl = n
	}
	loss, grad = make([]float64, nl), make([]float64, len(x))
	a := losses.TVArgs{Input: losses.HostTensor(x, n, c, h, w), Loss: losses.HostTensor(loss),
		GradInput: losses.HostTensor(grad, n, c, h, w)}
	require.NoError(t, losses.TotalVariation(hostDev, a, opt))
	return loss, grad
}

// Ramps: x = col + 2 row in every channel has differences 1 (right) and 2
// (down): l1 = C (H (W-1) + 2 (H-1) W), l2_squared = C (H (W-1) + 4 (H-1) W).
func TestTotalVariationRamps(t *testing.T) {
	n, c, h, w := 2, 3, 4, 5
	x := make([]float64, n*c*h*w)
	for i := range x {
		col, r := i%w, (i/w)%h
		x[i] = float64(col + 2*r)
	}
	l1 := float64(c * (h*(w-1) + 2*(h-1)*w))
	l2s := float64(c * (h*(w-1) + 4*(h-1)*w))
	for _, tc := range []struct {
		norm losses.TVNorm
		want float64
	}{{losses.TVL1, l1}, {losses.TVL2Squared, l2s}, {losses.TVL2, math.Sqrt(l2s)}} {
		loss, _ := tvCall(t, x, n, c, h, w, losses.TotalVariationOptions{NormType: tc.norm, Reduction: losses.None})
		require.InDeltaSlice(t, []float64{tc.want, tc.want}, loss, 1e-12, "%v", tc.norm)
		loss, _ = tvCall(t, x, n, c, h, w, losses.TotalVariationOptions{NormType: tc.norm, Reduction: losses.Sum})
		require.InDelta(t, 2*tc.want, loss[0], 1e-12)
		loss, _ = tvCall(t, x, n, c, h, w, losses.TotalVariationOptions{NormType: tc.norm})
		require.InDelta(t, tc.want, loss[0], 1e-12)
	}
	// A constant image: 0, with a zero gradient for every norm (l2's
	// gradient at 0 is defined as 0).
	for i := range x {
		x[i] = 3
	}
	for _, norm := range []losses.TVNorm{losses.TVL1, losses.TVL2, losses.TVL2Squared} {
		loss, g := tvCall(t, x, n, c, h, w, losses.TotalVariationOptions{NormType: norm})
		require.Equal(t, 0.0, loss[0])
		for _, v := range g {
			require.Equal(t, 0.0, v)
		}
	}
}

func TestTotalVariationMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 1))
	for _, sh := range [][4]int{{2, 3, 7, 9}, {1, 1, 1, 8}, {3, 2, 6, 1}, {1, 1, 1, 1}, {2, 3, 70, 90}} {
		n, c, h, w := sh[0], sh[1], sh[2], sh[3]
		x := uniformImg(r, n*c*h*w, -1, 1)
		for _, norm := range []losses.TVNorm{losses.TVL1, losses.TVL2, losses.TVL2Squared} {
			for _, red := range []losses.Reduction{losses.Mean, losses.Sum, losses.None} {
				opt := losses.TotalVariationOptions{NormType: norm, Reduction: red}
				loss, g := tvCall(t, x, n, c, h, w, opt)
				rowClose(t, tvRef(x, n, c, h, w, norm, red), loss, 1e-12, "loss")
				if n*c*h*w > 2000 {
					continue
				}
				fdCheck(t, x, g, func(x []float64) float64 { return sumLoss(tvRef(x, n, c, h, w, norm, red)) })
			}
		}
	}
}

func TestTotalVariationEmpty(t *testing.T) {
	loss := []float64{5}
	require.NoError(t, losses.TotalVariation(hostDev, losses.TVArgs{Input: losses.HostTensor([]float64{}, 0, 3, 4, 4),
		Loss: losses.HostTensor(loss)}, losses.TotalVariationOptions{}))
	require.True(t, math.IsNaN(loss[0]))
	require.NoError(t, losses.TotalVariation(hostDev, losses.TVArgs{Input: losses.HostTensor([]float64{}, 2, 3, 0, 4),
		Loss: losses.HostTensor(loss)}, losses.TotalVariationOptions{Reduction: losses.Sum}))
	require.Equal(t, 0.0, loss[0])
}

func TestTotalVariationErrors(t *testing.T) {
	x := make([]float64, 24)
	for _, tc := range []struct {
		name, arg string
		a         losses.TVArgs
		opt       losses.TotalVariationOptions
	}{
		{"not 4-D", "input", losses.TVArgs{Input: losses.HostTensor(x, 4, 6), Loss: losses.HostTensor(make([]float64, 1))}, losses.TotalVariationOptions{}},
		{"grad aliases input", "grad_input", losses.TVArgs{Input: losses.HostTensor(x, 1, 2, 3, 4), Loss: losses.HostTensor(make([]float64, 1)),
			GradInput: losses.HostTensor(x, 1, 2, 3, 4)}, losses.TotalVariationOptions{}},
		{"loss shape", "loss", losses.TVArgs{Input: losses.HostTensor(x, 2, 1, 3, 4), Loss: losses.HostTensor(make([]float64, 1))},
			losses.TotalVariationOptions{Reduction: losses.None}},
		{"norm", "norm_type", losses.TVArgs{Input: losses.HostTensor(x, 1, 2, 3, 4), Loss: losses.HostTensor(make([]float64, 1))},
			losses.TotalVariationOptions{NormType: 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := losses.TotalVariation(hostDev, tc.a, tc.opt)
			var ae *losses.ArgError
			require.True(t, errors.As(err, &ae), "%v", err)
			require.Equal(t, tc.arg, ae.Arg)
		})
	}
}
