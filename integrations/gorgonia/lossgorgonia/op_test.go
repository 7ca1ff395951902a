package lossgorgonia_test

import (
	"math"
	"reflect"
	"testing"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/integrations/gorgonia/lossgorgonia"
	"github.com/lossengine/lossengine/losses"
	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func hostDevice(t *testing.T) device.Device {
	dev, err := device.Open("host")
	require.NoError(t, err)
	return dev
}

// run differentiates loss w.r.t. wrt, runs the graph once and returns the
// loss and the gradient.
func run(t *testing.T, g *G.ExprGraph, loss, wrt *G.Node) (float64, []float64) {
	t.Helper()
	_, err := G.Grad(loss, wrt)
	require.NoError(t, err)
	vm := G.NewTapeMachine(g, G.BindDualValues(wrt))
	defer vm.Close()
	require.NoError(t, vm.RunAll())
	grad, err := wrt.Grad()
	require.NoError(t, err)
	var l float64
	switch v := loss.Value().Data().(type) {
	case float64:
		l = v
	case float32:
		l = float64(v)
	}
	var gs []float64
	switch d := grad.Data().(type) {
	case []float64:
		gs = append(gs, d...)
	case []float32:
		for _, x := range d {
			gs = append(gs, float64(x))
		}
	}
	return l, gs
}

// Uniform logits over 3 classes: the loss is log 3, the gradient
// (1/3 − onehot(target)) / N; an upstream factor 3 scales it.
func TestCrossEntropyClosedForm(t *testing.T) {
	for _, scale := range []float64{1, 3} {
		g := G.NewGraph()
		z := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 3), G.WithName("z"), G.WithInit(G.Zeroes()))
		y := G.NewVector(g, tensor.Int, G.WithShape(2), G.WithName("y"),
			G.WithValue(tensor.New(tensor.WithShape(2), tensor.WithBacking([]int{0, 2}))))
		ce, err := lossgorgonia.CrossEntropy(hostDevice(t), z, y, losses.CrossEntropyOptions{})
		require.NoError(t, err)
		loss := ce
		if scale != 1 {
			loss = G.Must(G.Mul(ce, G.NewConstant(scale)))
		}
		l, grad := run(t, g, loss, z)
		require.InDelta(t, scale*math.Log(3), l, 1e-12)
		third := 1.0 / 3
		want := []float64{(third - 1) / 2, third / 2, third / 2, third / 2, third / 2, (third - 1) / 2}
		for i := range want {
			require.InDelta(t, scale*want[i], grad[i], 1e-12, "scale %g, element %d", scale, i)
		}
	}
}

// mse_loss in float32 by name: mean((x − y)²) and 2(x − y)/n.
func TestElementwiseMSE(t *testing.T) {
	g := G.NewGraph()
	x := G.NewVector(g, tensor.Float32, G.WithShape(3), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(3), tensor.WithBacking([]float32{1, 2, 3}))))
	y := G.NewVector(g, tensor.Float32, G.WithShape(3), G.WithName("y"),
		G.WithValue(tensor.New(tensor.WithShape(3), tensor.WithBacking([]float32{1, 0, 3}))))
	loss, err := lossgorgonia.Elementwise(hostDevice(t), "mse_loss", x, y, nil)
	require.NoError(t, err)
	l, grad := run(t, g, loss, x)
	require.InDelta(t, 4.0/3, l, 1e-6)
	require.InDeltaSlice(t, []float64{0, 4.0 / 3, 0}, grad, 1e-6)
}

// CTC of the target "1 2" over 4 frames of uniform probabilities over 3
// classes, checked by enumerating the 81 frame labellings: the loss is
// −log(#collapsing to the target / 81), and the gradient w.r.t. the
// log-probabilities at frame t is −(share of those labellings with class
// c at t).
func TestCTCBruteForce(t *testing.T) {
	const T, C = 4, 3
	target := []int{1, 2}
	count, occ := 0, make([]float64, T*C)
	for code := 0; code < 81; code++ {
		path, c := make([]int, T), code
		for i := range path {
			path[i], c = c%C, c/C
		}
		var out []int
		prev := 0
		for _, p := range path {
			if p != 0 && p != prev {
				out = append(out, p)
			}
			prev = p
		}
		if reflect.DeepEqual(out, target) {
			count++
			for i, p := range path {
				occ[i*C+p]++
			}
		}
	}
	lp := make([]float64, T*C)
	for i := range lp {
		lp[i] = -math.Log(C)
	}
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float64, 3, G.WithShape(T, 1, C), G.WithName("log_probs"),
		G.WithValue(tensor.New(tensor.WithShape(T, 1, C), tensor.WithBacking(lp))))
	ints := func(name string, v []int, shape ...int) *G.Node {
		return G.NewTensor(g, tensor.Int, len(shape), G.WithShape(shape...), G.WithName(name),
			G.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))))
	}
	loss, err := lossgorgonia.CTCLoss(hostDevice(t), x, ints("targets", target, 1, 2), ints("in", []int{T}, 1),
		ints("tl", []int{2}, 1), losses.CTCLossOptions{Reduction: losses.Sum})
	require.NoError(t, err)
	l, grad := run(t, g, loss, x)
	require.InDelta(t, -math.Log(float64(count)/81), l, 1e-9)
	for i := range occ {
		require.InDelta(t, -occ[i]/float64(count), grad[i], 1e-9, "element %d", i)
	}
}

func TestErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewVector(g, tensor.Float64, G.WithShape(2), G.WithName("x"), G.WithInit(G.Zeroes()))
	_, err := lossgorgonia.Loss(hostDevice(t), "no_such_loss", map[string]*G.Node{"input": x}, nil)
	require.ErrorContains(t, err, `unknown loss "no_such_loss"`)
	_, err = lossgorgonia.Loss(hostDevice(t), "mse_loss", map[string]*G.Node{"target": x}, nil)
	require.ErrorContains(t, err, `missing input "input"`)
	_, err = lossgorgonia.Loss(nil, "mse_loss", map[string]*G.Node{"input": x, "target": x}, nil)
	require.ErrorContains(t, err, "nil device")

	// A loss with reduction none is not a scalar: the forward says so.
	y := G.NewVector(g, tensor.Float64, G.WithShape(2), G.WithName("y"), G.WithInit(G.Zeroes()))
	loss, err := lossgorgonia.Elementwise(hostDevice(t), "mse_loss", x, y, losses.MSELossOptions{ElementwiseOptions: losses.ElementwiseOptions{Reduction: losses.None}})
	require.NoError(t, err)
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	require.ErrorContains(t, vm.RunAll(), "a reduction to one value is needed")
	_ = loss
}

// The LispMachine differentiates through DoDiff: its gradient of a scaled
// cross-entropy must be the closed form the TapeMachine path gives.
func TestCrossEntropyLispMachine(t *testing.T) {
	const scale = 3.0
	g := G.NewGraph()
	z := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 3), G.WithName("z"), G.WithInit(G.Zeroes()))
	y := G.NewVector(g, tensor.Int, G.WithShape(2), G.WithName("y"),
		G.WithValue(tensor.New(tensor.WithShape(2), tensor.WithBacking([]int{0, 2}))))
	ce, err := lossgorgonia.CrossEntropy(hostDevice(t), z, y, losses.CrossEntropyOptions{})
	require.NoError(t, err)
	loss := G.Must(G.Mul(ce, G.NewConstant(scale)))
	vm := G.NewLispMachine(g)
	defer vm.Close()
	require.NoError(t, vm.RunAll())
	require.InDelta(t, scale*math.Log(3), loss.Value().Data().(float64), 1e-12)
	grad, err := z.Grad()
	require.NoError(t, err)
	third := 1.0 / 3
	want := []float64{(third - 1) / 2, third / 2, third / 2, third / 2, third / 2, (third - 1) / 2}
	got := grad.Data().([]float64)
	require.Len(t, got, len(want))
	for i := range want {
		require.InDelta(t, scale*want[i], got[i], 1e-12, "element %d", i)
	}
}
