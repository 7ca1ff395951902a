package gonumloss

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/mat"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

var hostDev device.Device = host.Default()

func randDense(r *rand.Rand, rows, cols int, scale float64) *mat.Dense {
	d := make([]float64, rows*cols)
	for i := range d {
		d[i] = scale * r.NormFloat64()
	}
	return mat.NewDense(rows, cols, d)
}

// rawOf returns a matrix's elements in row-major order (a test-side copy,
// independent of the package's own packing).
func rawOf(m mat.Matrix) []float64 {
	r, c := m.Dims()
	out := make([]float64, 0, r*c)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			out = append(out, m.At(i, j))
		}
	}
	return out
}

// TestCrossEntropy compares the adapter with the slice API on the same
// data (bitwise: the same code runs), and with the closed form of the
// gradient, (softmax(x) − onehot(t)) / N for the mean.
func TestCrossEntropy(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const n, c = 6, 5
	x := randDense(r, n, c, 2)
	tg := []int32{0, 4, 2, 2, 1, 3}
	tgv := mat.NewVecDense(n, []float64{0, 4, 2, 2, 1, 3})
	for k, opt := range []losses.CrossEntropyOptions{{}, {LabelSmoothing: 0.1}, {Reduction: losses.Sum}, {Reduction: losses.None}} {
		res, err := Call(hostDev, "cross_entropy", map[string]mat.Matrix{"input": x, "target": tgv}, opt)
		require.NoError(t, err)

		nl := 1
		if opt.Reduction == losses.None {
			nl = n
		}
		loss, grad := make([]float64, nl), make([]float64, n*c)
		require.NoError(t, losses.CrossEntropy(hostDev, losses.CrossEntropyArgs{
			Input: losses.HostTensor(rawOf(x), n, c), Target: losses.HostTensor(tg),
			Loss: losses.HostTensor(loss), GradInput: losses.HostTensor(grad, n, c)}, opt))

		g := res.Grad("input")
		require.NotNil(t, g)
		gr, gc := g.Dims()
		require.Equal(t, []int{n, c}, []int{gr, gc})
		require.Equal(t, grad, rawOf(g))
		require.Equal(t, []int{n, c}, res.Shapes["grad_input"])
		if opt.Reduction == losses.None {
			require.True(t, math.IsNaN(res.Loss))
			require.Equal(t, loss, rawOf(res.Outputs["loss"]))
			require.IsType(t, &mat.VecDense{}, res.Outputs["loss"])
		} else {
			require.Equal(t, loss[0], res.Loss)
		}
		if k == 0 { // the defaults: mean, no smoothing
			var want float64
			for i := 0; i < n; i++ {
				row := mat.Row(nil, i, x)
				m := math.Inf(-1)
				for _, v := range row {
					m = math.Max(m, v)
				}
				var s float64
				for _, v := range row {
					s += math.Exp(v - m)
				}
				want += (m + math.Log(s) - row[tg[i]]) / n
				for j, v := range row {
					p := math.Exp(v-m) / s
					if j == int(tg[i]) {
						p--
					}
					require.InDelta(t, p/n, g.At(i, j), 1e-15, "grad[%d,%d]", i, j)
				}
			}
			require.InDelta(t, want, res.Loss, 1e-14)
		}
	}
	// Probability targets: a [N, C] target is read as floats.
	probs := mat.NewDense(n, c, nil)
	for i := 0; i < n; i++ {
		probs.Set(i, int(tg[i]), 1)
	}
	res, err := Call(hostDev, "cross_entropy", map[string]mat.Matrix{"input": x, "target": probs}, nil)
	require.NoError(t, err)
	idx, err := Call(hostDev, "cross_entropy", map[string]mat.Matrix{"input": x, "target": tgv}, nil)
	require.NoError(t, err)
	require.InDelta(t, idx.Loss, res.Loss, 1e-14)
	require.NotNil(t, res.Grad("target"), "probability targets have a gradient")
}

// TestElementwise: mse_loss and huber_loss with both gradients, against
// the slice API.
func TestElementwise(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x, y := randDense(r, 4, 3, 1), randDense(r, 4, 3, 1)
	res, err := Call(hostDev, "mse_loss", map[string]mat.Matrix{"input": x, "target": y}, losses.MSELossOptions{})
	require.NoError(t, err)
	loss, gi, gt := make([]float64, 1), make([]float64, 12), make([]float64, 12)
	require.NoError(t, losses.MSELoss(hostDev, losses.ElementwiseArgs{
		Input: losses.HostTensor(rawOf(x), 4, 3), Target: losses.HostTensor(rawOf(y), 4, 3),
		Loss: losses.HostTensor(loss), GradInput: losses.HostTensor(gi, 4, 3), GradTarget: losses.HostTensor(gt, 4, 3)},
		losses.MSELossOptions{}))
	require.Equal(t, loss[0], res.Loss)
	require.Equal(t, gi, rawOf(res.Grad("input")))
	require.Equal(t, gt, rawOf(res.Grad("target")))
	// The closed form: 2(x − y)/12.
	for i, v := range rawOf(x) {
		require.InDelta(t, 2*(v-rawOf(y)[i])/12, rawOf(res.Grad("input"))[i], 1e-16)
	}

	opt := losses.HuberLossOptions{Delta: losses.Value(0.5)}
	opt.Reduction = losses.None
	res, err = Call(hostDev, "huber_loss", map[string]mat.Matrix{"input": x, "target": y}, opt)
	require.NoError(t, err)
	lossN := make([]float64, 12)
	gi = make([]float64, 12)
	require.NoError(t, losses.HuberLoss(hostDev, losses.ElementwiseArgs{
		Input: losses.HostTensor(rawOf(x), 4, 3), Target: losses.HostTensor(rawOf(y), 4, 3),
		Loss: losses.HostTensor(lossN, 4, 3), GradInput: losses.HostTensor(gi, 4, 3)}, opt))
	require.IsType(t, &mat.Dense{}, res.Outputs["loss"])
	require.Equal(t, lossN, rawOf(res.Outputs["loss"]))
	require.Equal(t, gi, rawOf(res.Grad("input")))
}

// TestFiniteDifferences checks the gradient the adapter returns with
// gonum's fd.Gradient (central differences) of the loss it returns.
func TestFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	x, y := randDense(r, 3, 4, 1), randDense(r, 3, 4, 1)
	opt := losses.HuberLossOptions{Delta: losses.Value(0.7)}
	res, err := Call(hostDev, "huber_loss", map[string]mat.Matrix{"input": x, "target": y}, opt)
	require.NoError(t, err)
	f := func(v []float64) float64 {
		rr, err := Call(hostDev, "huber_loss", map[string]mat.Matrix{"input": mat.NewDense(3, 4, v), "target": y}, opt)
		require.NoError(t, err)
		return rr.Loss
	}
	want := fd.Gradient(nil, f, rawOf(x), &fd.Settings{Formula: fd.Central, Step: 1e-6})
	got := rawOf(res.Grad("input"))
	for i := range want {
		require.InDelta(t, want[i], got[i], 1e-8*(1+math.Abs(want[i])), "grad[%d]", i)
	}
}

// TestStridedViews: a Slice of a wider matrix (Stride > Cols), a column
// view (Inc > 1), a transpose and a symmetric matrix give the results of
// their contiguous copies; a contiguous Dense is used in place.
func TestStridedViews(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	big := randDense(r, 6, 8, 1)
	x := big.Slice(1, 5, 2, 7).(*mat.Dense) // 4×5, stride 8
	require.Greater(t, x.RawMatrix().Stride, x.RawMatrix().Cols)
	y := randDense(r, 4, 5, 1)
	view, err := Call(hostDev, "huber_loss", map[string]mat.Matrix{"input": x, "target": y}, nil)
	require.NoError(t, err)
	dense, err := Call(hostDev, "huber_loss", map[string]mat.Matrix{"input": mat.DenseCopyOf(x), "target": y}, nil)
	require.NoError(t, err)
	require.Equal(t, dense.Loss, view.Loss)
	require.Equal(t, rawOf(dense.Grad("input")), rawOf(view.Grad("input")))
	require.Equal(t, rawOf(dense.Grad("target")), rawOf(view.Grad("target")))

	// A column of big (Inc 8) against its copy.
	col := big.ColView(3)
	vec := mat.VecDenseCopyOf(col)
	tgt := mat.NewVecDense(6, []float64{0, 1, 2, 3, 4, 5})
	a, err := Call(hostDev, "mse_loss", map[string]mat.Matrix{"input": col, "target": tgt}, nil)
	require.NoError(t, err)
	b, err := Call(hostDev, "mse_loss", map[string]mat.Matrix{"input": vec, "target": tgt}, nil)
	require.NoError(t, err)
	require.Equal(t, b.Loss, a.Loss)
	require.NotNil(t, a.GradVec("input"), "a vector's gradient is a vector")
	require.Equal(t, b.GradVec("input").RawVector().Data, a.GradVec("input").RawVector().Data)

	// A transpose and a symmetric matrix are read through At.
	tr, err := Call(hostDev, "mse_loss", map[string]mat.Matrix{"input": y.T(), "target": mat.DenseCopyOf(y.T())}, nil)
	require.NoError(t, err)
	require.Equal(t, 0.0, tr.Loss)
	sym := mat.NewSymDense(2, []float64{1, 2, 2, 3})
	sy, err := Call(hostDev, "mse_loss", map[string]mat.Matrix{"input": sym, "target": mat.NewDense(2, 2, []float64{1, 2, 2, 4})}, nil)
	require.NoError(t, err)
	require.InDelta(t, 0.25, sy.Loss, 1e-15)

	// In place: the tensor of a contiguous Dense is its own memory; a
	// strided one is packed.
	p, _ := losses.Lookup("mse_loss")
	in, _ := p.Param("input")
	tc, _, err := tensor("mse_loss", in, y, true)
	require.NoError(t, err)
	require.Same(t, &y.RawMatrix().Data[0], &tc.Buf.(*host.Buffer).Slice().([]float64)[0])
	ts, _, err := tensor("mse_loss", in, x, true)
	require.NoError(t, err)
	require.NotSame(t, &x.RawMatrix().Data[0], &ts.Buf.(*host.Buffer).Slice().([]float64)[0])
	require.Equal(t, rawOf(x), ts.Buf.(*host.Buffer).Slice().([]float64))
}

// TestCTC: log_probs [T, N, C] as a reshaped T×(N·C) matrix, padded
// targets [N, S] as a matrix of integral values, lengths as vectors;
// against the slice API.
func TestCTC(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	const T, N, C, S = 7, 3, 5, 3
	lp := randDense(r, T, N*C, 1)
	raw := lp.RawMatrix().Data
	for i := 0; i < T*N; i++ { // log_softmax over C
		row := raw[i*C : (i+1)*C]
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, v)
		}
		var s float64
		for _, v := range row {
			s += math.Exp(v - m)
		}
		for j := range row {
			row[j] -= m + math.Log(s)
		}
	}
	targets := []int32{1, 2, 2, 3, 4, 0, 1, 0, 0}
	tf := make([]float64, len(targets))
	for i, v := range targets {
		tf[i] = float64(v)
	}
	il, tl := []int32{7, 6, 5}, []int32{3, 2, 1}
	opt := losses.CTCLossOptions{Reduction: losses.Sum}
	res, err := Call(hostDev, "ctc_loss", map[string]mat.Matrix{
		"log_probs":      Reshape(lp, T, N, C),
		"targets":        mat.NewDense(N, S, tf),
		"input_lengths":  mat.NewVecDense(N, []float64{7, 6, 5}),
		"target_lengths": mat.NewVecDense(N, []float64{3, 2, 1}),
	}, opt)
	require.NoError(t, err)

	loss, grad := make([]float64, 1), make([]float64, T*N*C)
	require.NoError(t, losses.CTCLoss(hostDev, losses.CTCLossArgs{
		LogProbs: losses.HostTensor(rawOf(lp), T, N, C), Targets: losses.HostTensor(targets, N, S),
		InputLengths: losses.HostTensor(il), TargetLengths: losses.HostTensor(tl),
		Loss: losses.HostTensor(loss), GradLogProbs: losses.HostTensor(grad, T, N, C)}, opt))
	require.Equal(t, loss[0], res.Loss)
	require.True(t, loss[0] > 0 && !math.IsInf(loss[0], 0))
	g := res.Grad("log_probs")
	require.NotNil(t, g, "the gradient of a reshaped matrix has the matrix's dimensions")
	gr, gc := g.Dims()
	require.Equal(t, []int{T, N * C}, []int{gr, gc})
	require.Equal(t, []int{T, N, C}, res.Shapes["grad_log_probs"])
	require.Equal(t, grad, rawOf(g))
}

// TestThreeInputs: triplet_margin_loss (anchor, positive, negative, each
// [N, D]) against the slice form of its declaration.
func TestThreeInputs(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	a, p, n := randDense(r, 5, 4, 1), randDense(r, 5, 4, 1), randDense(r, 5, 4, 1)
	opt := losses.TripletMarginLossOptions{}
	opt.Reduction = losses.None
	res, err := Call(hostDev, "triplet_margin_loss", map[string]mat.Matrix{"anchor": a, "positive": p, "negative": n}, opt)
	require.NoError(t, err)
	d, _ := losses.Lookup("triplet_margin_loss")
	want, err := d.Call(hostDev, map[string]losses.Tensor{
		"anchor": losses.HostTensor(rawOf(a), 5, 4), "positive": losses.HostTensor(rawOf(p), 5, 4),
		"negative": losses.HostTensor(rawOf(n), 5, 4)}, opt)
	require.NoError(t, err)
	require.Equal(t, losses.Floats(want["loss"]), rawOf(res.Outputs["loss"]))
	for _, in := range []string{"anchor", "positive", "negative"} {
		require.Equal(t, losses.Floats(want["grad_"+in]), rawOf(res.Grad(in)), in)
	}
}

// TestErrors: every bad input is an *losses.ArgError naming it.
func TestErrors(t *testing.T) {
	x := mat.NewDense(2, 3, []float64{1, 2, 3, 4, 5, 6})
	for _, tc := range []struct {
		name, loss, arg, msg string
		in                   map[string]mat.Matrix
	}{
		{"unknown loss", "no_such_loss", "name", `no loss is named "no_such_loss"`, map[string]mat.Matrix{"input": x}},
		{"unknown input", "mse_loss", "logits", "unknown input logits", map[string]mat.Matrix{"input": x, "target": x, "logits": x}},
		{"non-integral target", "cross_entropy", "target", "element 1 = 1.5 is not an integer",
			map[string]mat.Matrix{"input": x, "target": mat.NewVecDense(2, []float64{0, 1.5})}},
		{"target beyond int32", "cross_entropy", "target", "not an integer in the int32 range",
			map[string]mat.Matrix{"input": x, "target": mat.NewVecDense(2, []float64{0, 1e10})}},
		{"NaN target", "cross_entropy", "target", "= NaN is not an integer",
			map[string]mat.Matrix{"input": x, "target": mat.NewVecDense(2, []float64{math.NaN(), 0})}},
		{"target out of range", "cross_entropy", "target", "target[1] = 3 is out of range",
			map[string]mat.Matrix{"input": x, "target": mat.NewVecDense(2, []float64{0, 3})}},
		{"target shape", "cross_entropy", "target", "has shape [3]",
			map[string]mat.Matrix{"input": x, "target": mat.NewVecDense(3, []float64{0, 1, 2})}},
		{"reshape count", "mse_loss", "input", "shape [4 2] holds 8 elements, the matrix has 6",
			map[string]mat.Matrix{"input": Reshape(x, 4, 2), "target": x}},
		{"indices on a float tensor", "mse_loss", "input", "Indices does not apply",
			map[string]mat.Matrix{"input": Indices(x), "target": x}},
		{"shapes differ", "mse_loss", "target", "",
			map[string]mat.Matrix{"input": x, "target": x.T()}},
		{"missing input", "mse_loss", "target", "missing input", map[string]mat.Matrix{"input": x}},
		{"typed nil is absent", "mse_loss", "target", "missing input", map[string]mat.Matrix{"input": x, "target": (*mat.Dense)(nil)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Call(hostDev, tc.loss, tc.in, nil)
			require.Error(t, err)
			var ae *losses.ArgError
			require.True(t, errors.As(err, &ae), "%T: %v", err, err)
			require.ErrorIs(t, err, losses.ErrInvalidArgument)
			require.Equal(t, tc.arg, ae.Arg, "%v", err)
			require.Contains(t, ae.Msg, tc.msg)
		})
	}
	_, err := Call(nil, "mse_loss", map[string]mat.Matrix{"input": x, "target": x}, nil)
	require.ErrorIs(t, err, losses.ErrInvalidArgument)
}

// TestShapes: Indices and Reshape compose; empty matrices are empty
// tensors; a scalar Reshape.
func TestShapes(t *testing.T) {
	m := mat.NewDense(2, 3, []float64{0, 1, 2, 1, 0, 2})
	s := Indices(Reshape(m, 3, 2))
	require.Equal(t, []int{3, 2}, s.shape)
	require.True(t, s.indices)
	s = Reshape(Indices(m), 6)
	require.Equal(t, []int{6}, s.shape)
	require.True(t, s.indices)
	require.Equal(t, []int{}, Reshape(mat.NewDense(1, 1, []float64{2})).shape)

	// An empty batch: input [0, 4] and target [0].
	res, err := Call(hostDev, "cross_entropy", map[string]mat.Matrix{
		"input": Reshape(&mat.Dense{}, 0, 4), "target": Reshape(&mat.VecDense{}, 0)},
		losses.CrossEntropyOptions{Reduction: losses.Sum})
	require.NoError(t, err)
	require.Equal(t, 0.0, res.Loss)
	require.True(t, res.Grad("input").IsEmpty())
}
