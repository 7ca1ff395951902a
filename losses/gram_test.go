package losses_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/losses"
)

// gramRef is the style loss of one layer in float64 from its definition:
// x [n, c, hx], y [n, c, hy]; returns the loss and the gradients by the
// chain rule through each Gram entry (not the closed form the library
// uses).
func gramRef(x, y []float64, n, c, hx, hy int, w float64) (loss float64, gx, gy []float64) {
	gram := func(f []float64, hw int) []float64 {
		g := make([]float64, n*c*c)
		for b := 0; b < n; b++ {
			for i := 0; i < c; i++ {
				for j := 0; j < c; j++ {
					var s float64
					for k := 0; k < hw; k++ {
						s += f[(b*c+i)*hw+k] * f[(b*c+j)*hw+k]
					}
					g[(b*c+i)*c+j] = s / float64(c*hw)
				}
			}
		}
		return g
	}
	Gx, Gy := gram(x, hx), gram(y, hy)
	cnt := float64(n * c * c)
	gx, gy = make([]float64, len(x)), make([]float64, len(y))
	for b := 0; b < n; b++ {
		for i := 0; i < c; i++ {
			for j := 0; j < c; j++ {
				d := Gx[(b*c+i)*c+j] - Gy[(b*c+i)*c+j]
				loss += w * d * d / cnt
				dl := 2 * w * d / cnt // d loss / d G[b,i,j]
				for k := 0; k < hx; k++ {
					gx[(b*c+i)*hx+k] += dl * x[(b*c+j)*hx+k] / float64(c*hx)
					gx[(b*c+j)*hx+k] += dl * x[(b*c+i)*hx+k] / float64(c*hx)
				}
				for k := 0; k < hy; k++ {
					gy[(b*c+i)*hy+k] -= dl * y[(b*c+j)*hy+k] / float64(c*hy)
					gy[(b*c+j)*hy+k] -= dl * y[(b*c+i)*hy+k] / float64(c*hy)
				}
			}
		}
	}
	return loss, gx, gy
}

func randn64(r *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = r.NormFloat64()
	}
	return v
}

func closeAll(t *testing.T, want, got []float64, tol float64, what string) {
	t.Helper()
	require.Len(t, got, len(want), what)
	for i := range want {
		require.InDelta(t, want[i], got[i], tol*(1+math.Abs(want[i])), "%s[%d]", what, i)
	}
}

func TestGramStyleLossClosedForm(t *testing.T) {
	// F_x = [[1, 2], [3, 4]], F_y = I, C = H·W = 2: G_x = [[5, 11], [11, 25]]/4,
	// G_y = I/4, D = [[1, 2.75], [2.75, 6]]; loss = (1 + 2·2.75² + 36)/4,
	// grad_input = 4/(4·4)·D F_x, grad_target = −1/4·D F_y.
	for _, w := range []float64{1, 2} {
		x, y := []float64{1, 2, 3, 4}, []float64{1, 0, 0, 1}
		loss, gx, gy := make([]float64, 1), make([]float64, 4), make([]float64, 4)
		err := losses.GramStyleLoss(hostDev, losses.FeatureArgs{
			Input: losses.HostTensor(x, 1, 2, 2), Target: losses.HostTensor(y, 1, 2, 2, 1),
			Loss: losses.HostTensor(loss), GradInput: losses.HostTensor(gx, 1, 2, 2), GradTarget: losses.HostTensor(gy, 1, 2, 2, 1),
		}, losses.GramStyleLossOptions{LayerWeight: &w})
		require.NoError(t, err)
		closeAll(t, []float64{w * 13.03125}, loss, 1e-15, "loss")
		closeAll(t, []float64{w * 2.3125, w * 3.25, w * 5.1875, w * 7.375}, gx, 1e-15, "grad_input")
		closeAll(t, []float64{-w * 0.25, -w * 0.6875, -w * 0.6875, -w * 1.5}, gy, 1e-15, "grad_target")
	}
}

func TestFeatureLossClosedForm(t *testing.T) {
	x, y := []float64{1, 2, 3, 4}, []float64{0, 2, 5, 4}
	for _, c := range []struct {
		crit   string
		loss   float64
		grad   []float64
		weight *float64
	}{
		{"", 1.25, []float64{0.5, 0, -1, 0}, nil},
		{"mse", 3.75, []float64{1.5, 0, -3, 0}, ptr(3.0)},
		{"l1", 0.75, []float64{0.25, 0, -0.25, 0}, nil},
		{"l1", -0.375, []float64{-0.125, 0, 0.125, 0}, ptr(-0.5)},
	} {
		loss, gx, gy := make([]float64, 1), make([]float64, 4), make([]float64, 4)
		err := losses.FeatureLoss(hostDev, losses.FeatureArgs{
			Input: losses.HostTensor(x, 2, 2), Target: losses.HostTensor(y, 2, 2),
			Loss: losses.HostTensor(loss), GradInput: losses.HostTensor(gx, 2, 2), GradTarget: losses.HostTensor(gy, 2, 2),
		}, losses.FeatureLossOptions{Criterion: losses.FeatureCriterion(c.crit), LayerWeight: c.weight})
		require.NoError(t, err)
		neg := make([]float64, 4)
		for i, g := range c.grad {
			neg[i] = -g
		}
		closeAll(t, []float64{c.loss}, loss, 1e-15, c.crit+" loss")
		closeAll(t, c.grad, gx, 1e-15, c.crit+" grad_input")
		closeAll(t, neg, gy, 1e-15, c.crit+" grad_target")
	}
}

func ptr[T any](v T) *T { return &v }

// gramLayers is a three-layer case: odd sizes, C = 1, H·W = 1, a target of
// another spatial size.
type gramLayer struct{ n, c, hx, hy int }

var gramLayerShapes = []gramLayer{{2, 3, 5, 7}, {1, 1, 9, 9}, {3, 17, 1, 1}, {2, 33, 20, 13}}

func makeLayers[T float32 | float64](r *rand.Rand, shapes []gramLayer, sameShape bool) (xs, ys [][]float64, args losses.LayersArgs, gxs, gys [][]T, loss []T) {
	loss = make([]T, 1)
	args.Loss = losses.HostTensor(loss)
	for _, s := range shapes {
		hy := s.hy
		if sameShape {
			hy = s.hx
		}
		x, y := randn64(r, s.n*s.c*s.hx), randn64(r, s.n*s.c*hy)
		xs, ys = append(xs, x), append(ys, y)
		gx, gy := make([]T, len(x)), make([]T, len(y))
		gxs, gys = append(gxs, gx), append(gys, gy)
		args.Layers = append(args.Layers, losses.LayerPair{
			Input: losses.HostTensor(conv[T](x), s.n, s.c, s.hx), Target: losses.HostTensor(conv[T](y), s.n, s.c, hy),
			GradInput: losses.HostTensor(gx, s.n, s.c, s.hx), GradTarget: losses.HostTensor(gy, s.n, s.c, hy)})
	}
	return
}

func conv[T float32 | float64](v []float64) []T {
	out := make([]T, len(v))
	for i, x := range v {
		out[i] = T(x)
	}
	return out
}

func gramTo64[T float32 | float64](v []T) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func TestGramStyleLossLayersAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 1))
	weights := []float64{0.5, 2, 1, 3}
	xs, ys, a, gxs, gys, loss := makeLayers[float64](r, gramLayerShapes, false)
	require.NoError(t, losses.GramStyleLossLayers(hostDev, a, losses.GramStyleLossLayersOptions{LayerWeights: weights}))
	var want float64
	for l, s := range gramLayerShapes {
		lw, gx, gy := gramRef(xs[l], ys[l], s.n, s.c, s.hx, s.hy, weights[l])
		want += lw
		closeAll(t, gx, gxs[l], 1e-12, "grad_input")
		closeAll(t, gy, gys[l], 1e-12, "grad_target")
	}
	closeAll(t, []float64{want}, gramTo64(loss), 1e-12, "loss")

	// float32: within float32 accuracy of the float64 reference.
	r = rand.New(rand.NewPCG(7, 1))
	_, _, a32, gxs32, gys32, loss32 := makeLayers[float32](r, gramLayerShapes, false)
	require.NoError(t, losses.GramStyleLossLayers(hostDev, a32, losses.GramStyleLossLayersOptions{LayerWeights: weights}))
	closeAll(t, []float64{want}, gramTo64(loss32), 1e-5, "float32 loss")
	for l := range gramLayerShapes {
		closeAll(t, gramTo64(gxs[l]), gramTo64(gxs32[l]), 1e-4, "float32 grad_input")
		closeAll(t, gramTo64(gys[l]), gramTo64(gys32[l]), 1e-4, "float32 grad_target")
	}
}

func TestFeatureLossLayersAgainstReference(t *testing.T) {
	for _, crit := range []string{"mse", "l1"} {
		r := rand.New(rand.NewPCG(8, 1))
		weights := []float64{0.5, 2, 1, 3}
		xs, ys, a, gxs, gys, loss := makeLayers[float64](r, gramLayerShapes, true)
		require.NoError(t, losses.FeatureLossLayers(hostDev, a, losses.FeatureLossLayersOptions{Criterion: losses.FeatureCriterion(crit), LayerWeights: weights}))
		var want float64
		for l := range xs {
			n := float64(len(xs[l]))
			for i := range xs[l] {
				d := xs[l][i] - ys[l][i]
				g := 2 * d
				if crit == "l1" {
					want += weights[l] * math.Abs(d) / n
					g = math.Copysign(1, d)
				} else {
					want += weights[l] * d * d / n
				}
				require.InDelta(t, weights[l]*g/n, gxs[l][i], 1e-14, crit)
				require.InDelta(t, -weights[l]*g/n, gys[l][i], 1e-14, crit)
			}
		}
		closeAll(t, []float64{want}, gramTo64(loss), 1e-13, crit+" loss")
	}
}

func TestGramStyleLossFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 1))
	for _, s := range []gramLayer{{2, 3, 4, 5}, {1, 1, 3, 2}, {2, 4, 1, 1}} {
		x, y := randn64(r, s.n*s.c*s.hx), randn64(r, s.n*s.c*s.hy)
		w := 1.7
		f := func(x, y []float64) (float64, []float64, []float64) {
			loss, gx, gy := make([]float64, 1), make([]float64, len(x)), make([]float64, len(y))
			require.NoError(t, losses.GramStyleLoss(hostDev, losses.FeatureArgs{
				Input: losses.HostTensor(x, s.n, s.c, s.hx), Target: losses.HostTensor(y, s.n, s.c, s.hy),
				Loss: losses.HostTensor(loss), GradInput: losses.HostTensor(gx, s.n, s.c, s.hx),
				GradTarget: losses.HostTensor(gy, s.n, s.c, s.hy)}, losses.GramStyleLossOptions{LayerWeight: &w}))
			return loss[0], gx, gy
		}
		_, gx, gy := f(x, y)
		fdCheck(t, x, gx, func(v []float64) float64 { l, _, _ := f(v, y); return l })
		fdCheck(t, y, gy, func(v []float64) float64 { l, _, _ := f(x, v); return l })
	}
}

func TestFeatureLossFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 1))
	for _, crit := range []string{"mse", "l1"} {
		x, y := randn64(r, 2*3*5), randn64(r, 2*3*5)
		w := 0.7
		f := func(x, y []float64) (float64, []float64, []float64) {
			loss, gx, gy := make([]float64, 1), make([]float64, len(x)), make([]float64, len(y))
			require.NoError(t, losses.FeatureLoss(hostDev, losses.FeatureArgs{
				Input: losses.HostTensor(x, 2, 3, 5), Target: losses.HostTensor(y, 2, 3, 5), Loss: losses.HostTensor(loss),
				GradInput: losses.HostTensor(gx, 2, 3, 5), GradTarget: losses.HostTensor(gy, 2, 3, 5)},
				losses.FeatureLossOptions{Criterion: losses.FeatureCriterion(crit), LayerWeight: &w}))
			return loss[0], gx, gy
		}
		_, gx, gy := f(x, y)
		fdCheck(t, x, gx, func(v []float64) float64 { l, _, _ := f(v, y); return l })
		fdCheck(t, y, gy, func(v []float64) float64 { l, _, _ := f(x, v); return l })
	}
}

func TestGramStyleLossEmpty(t *testing.T) {
	// H·W = 0 for the input: G_x = 0/0, so the loss and grad_target are
	// NaN; N = 0: the mean of nothing.
	loss, gy := make([]float32, 1), make([]float32, 2*3*4)
	require.NoError(t, losses.GramStyleLoss(hostDev, losses.FeatureArgs{
		Input: losses.HostTensor([]float32{}, 2, 3, 0), Target: losses.HostTensor(make([]float32, 24), 2, 3, 4),
		Loss: losses.HostTensor(loss), GradInput: losses.HostTensor([]float32{}, 2, 3, 0), GradTarget: losses.HostTensor(gy, 2, 3, 4),
	}, losses.GramStyleLossOptions{}))
	require.True(t, math.IsNaN(float64(loss[0])))
	for _, g := range gy {
		require.True(t, math.IsNaN(float64(g)))
	}
	loss[0] = 0
	require.NoError(t, losses.GramStyleLoss(hostDev, losses.FeatureArgs{
		Input: losses.HostTensor([]float32{}, 0, 3, 4), Target: losses.HostTensor([]float32{}, 0, 3, 4), Loss: losses.HostTensor(loss),
	}, losses.GramStyleLossOptions{}))
	require.True(t, math.IsNaN(float64(loss[0])))
	loss[0] = 0
	require.NoError(t, losses.FeatureLoss(hostDev, losses.FeatureArgs{
		Input: losses.HostTensor([]float32{}, 0, 3), Target: losses.HostTensor([]float32{}, 0, 3), Loss: losses.HostTensor(loss),
	}, losses.FeatureLossOptions{}))
	require.True(t, math.IsNaN(float64(loss[0])))
}

func TestGramStyleLossDeterministic(t *testing.T) {
	run := func() ([]float32, [][]float32) {
		r := rand.New(rand.NewPCG(11, 1))
		_, _, a, gxs, _, loss := makeLayers[float32](r, gramLayerShapes, false)
		require.NoError(t, losses.GramStyleLossLayers(hostDev, a, losses.GramStyleLossLayersOptions{}))
		return loss, gxs
	}
	l1, g1 := run()
	l2, g2 := run()
	require.Equal(t, l1, l2)
	require.Equal(t, g1, g2)
}

func TestGramLossesErrors(t *testing.T) {
	x, y := make([]float64, 12), make([]float64, 12)
	in, tg := losses.HostTensor(x, 2, 3, 2), losses.HostTensor(y, 2, 3, 2)
	loss := losses.HostTensor(make([]float64, 1))
	g := losses.HostTensor(make([]float64, 12), 2, 3, 2)
	type call struct {
		name, arg string
		err       error
	}
	gram := func(a losses.FeatureArgs, o losses.GramStyleLossOptions) error {
		return losses.GramStyleLoss(hostDev, a, o)
	}
	feat := func(a losses.FeatureArgs, o losses.FeatureLossOptions) error {
		return losses.FeatureLoss(hostDev, a, o)
	}
	for _, c := range []call{
		{"criterion", "criterion", feat(losses.FeatureArgs{Input: in, Target: tg, Loss: loss}, losses.FeatureLossOptions{Criterion: "l2"})},
		{"nan weight", "layer_weight", gram(losses.FeatureArgs{Input: in, Target: tg, Loss: loss}, losses.GramStyleLossOptions{LayerWeight: ptr(math.NaN())})},
		{"1-d input", "input", gram(losses.FeatureArgs{Input: losses.HostTensor(x), Target: tg, Loss: loss}, losses.GramStyleLossOptions{})},
		{"other C", "target", gram(losses.FeatureArgs{Input: in, Target: losses.HostTensor(y, 2, 2, 3), Loss: loss}, losses.GramStyleLossOptions{})},
		{"other shape", "target", feat(losses.FeatureArgs{Input: in, Target: losses.HostTensor(y, 2, 6), Loss: loss}, losses.FeatureLossOptions{})},
		{"no target", "target", feat(losses.FeatureArgs{Input: in, Loss: loss}, losses.FeatureLossOptions{})},
		{"loss shape", "loss", gram(losses.FeatureArgs{Input: in, Target: tg, Loss: losses.HostTensor(make([]float64, 2))}, losses.GramStyleLossOptions{})},
		{"grad shape", "grad_input", gram(losses.FeatureArgs{Input: in, Target: tg, GradInput: losses.HostTensor(make([]float64, 12), 12)}, losses.GramStyleLossOptions{})},
		{"grad aliases input", "grad_input", gram(losses.FeatureArgs{Input: in, Target: tg, GradInput: in}, losses.GramStyleLossOptions{})},
		{"grad aliases target", "grad_input", gram(losses.FeatureArgs{Input: in, Target: tg, GradInput: tg}, losses.GramStyleLossOptions{})},
		{"grads alias", "grad_target", feat(losses.FeatureArgs{Input: in, Target: tg, GradInput: g, GradTarget: g}, losses.FeatureLossOptions{})},
		{"dtypes", "target", gram(losses.FeatureArgs{Input: in, Target: losses.HostTensor(make([]float32, 12), 2, 3, 2)}, losses.GramStyleLossOptions{})},
		{"dtypes float32 first", "target", losses.GramStyleLoss(hostDev, losses.FeatureArgs{Input: losses.HostTensor(make([]float32, 12), 2, 3, 2), Target: tg},
			losses.GramStyleLossOptions{})},
		{"no layers", "layers", losses.GramStyleLossLayers(hostDev, losses.LayersArgs{}, losses.GramStyleLossLayersOptions{})},
		{"weights", "layer_weights", losses.FeatureLossLayers(hostDev, losses.LayersArgs{Layers: []losses.LayerPair{{Input: in, Target: tg}}},
			losses.FeatureLossLayersOptions{LayerWeights: []float64{1, 2}})},
		{"cross-layer alias", "layers[0].grad_input", losses.FeatureLossLayers(hostDev, losses.LayersArgs{Layers: []losses.LayerPair{
			{Input: in, Target: tg, GradInput: g}, {Input: g, Target: tg}}}, losses.FeatureLossLayersOptions{})},
		{"nil device", "device", losses.GramStyleLoss(nil, losses.FeatureArgs{Input: in, Target: tg}, losses.GramStyleLossOptions{})},
	} {
		var ae *losses.ArgError
		require.True(t, errors.As(c.err, &ae), "%s: %v", c.name, c.err)
		require.Equal(t, c.arg, ae.Arg, "%s: %v", c.name, c.err)
	}
	// feature_loss lets a gradient overwrite its own layer's input.
	xs := []float64{1, 2}
	require.NoError(t, losses.FeatureLoss(hostDev, losses.FeatureArgs{Input: losses.HostTensor(xs), Target: losses.HostTensor([]float64{0, 0}),
		GradInput: losses.HostTensor(xs)}, losses.FeatureLossOptions{}))
	require.Equal(t, []float64{1, 2}, xs)
}
