package losses_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/losses"
)

// lceLogits is hidden · weightᵀ + bias by the definition, in float64.
func lceLogits(hid, w, bias []float64, n, h, v int) []float64 {
	x := make([]float64, n*v)
	for i := 0; i < n; i++ {
		for j := 0; j < v; j++ {
			var s float64
			for k := 0; k < h; k++ {
				s += hid[i*h+k] * w[j*h+k]
			}
			if bias != nil {
				s += bias[j]
			}
			x[i*v+j] = s
		}
	}
	return x
}

type lceOut struct {
	loss, zl, acc, gh, gw, gb []float64
}

func lceRun(t *testing.T, hid, w, bias []float64, tg []int32, n, h, v int, opt losses.LinearCrossEntropyOptions) lceOut {
	t.Helper()
	o, err := lceCall(hid, w, bias, tg, n, h, v, opt)
	require.NoError(t, err)
	return o
}

func lceCall(hid, w, bias []float64, tg []int32, n, h, v int, opt losses.LinearCrossEntropyOptions) (lceOut, error) {
	m, sh := 1, []int(nil)
	if opt.Reduction == losses.None {
		m, sh = n, []int{n}
	}
	o := lceOut{loss: make([]float64, m), zl: make([]float64, m), acc: make([]float64, m),
		gh: make([]float64, n*h), gw: make([]float64, v*h), gb: make([]float64, v)}
	a := losses.LinearCrossEntropyArgs{Hidden: losses.HostTensor(hid, n, h), Weight: losses.HostTensor(w, v, h),
		Target: losses.HostTensor(tg, n), Loss: losses.HostTensor(o.loss, sh...), ZLoss: losses.HostTensor(o.zl, sh...),
		Accuracy: losses.HostTensor(o.acc, sh...), GradHidden: losses.HostTensor(o.gh, n, h),
		GradWeight: losses.HostTensor(o.gw, v, h)}
	if bias != nil {
		a.Bias, a.GradBias = losses.HostTensor(bias, v), losses.HostTensor(o.gb, v)
	}
	return o, losses.LinearCrossEntropy(hostDev, a, opt)
}

func lceCases() []struct {
	name       string
	n, h, v    int
	bias       bool
	opt        losses.LinearCrossEntropyOptions
	ignoreRows []int
} {
	w5 := []float64{0.5, 2, 1, 0.1, 3}
	return []struct {
		name       string
		n, h, v    int
		bias       bool
		opt        losses.LinearCrossEntropyOptions
		ignoreRows []int
	}{
		{"plain", 7, 4, 5, true, losses.LinearCrossEntropyOptions{ChunkRows: 3}, nil},
		{"one-row", 1, 3, 5, false, losses.LinearCrossEntropyOptions{}, nil},
		{"chunk-1+sum", 5, 3, 5, true, losses.LinearCrossEntropyOptions{ChunkRows: 1, Reduction: losses.Sum}, nil},
		{"all-options", 9, 4, 5, true, losses.LinearCrossEntropyOptions{ChunkRows: 4, Softcap: 2, ZLoss: 0.01,
			LabelSmoothing: 0.1, Weight: w5, ReturnAccuracy: true}, []int{2, 7}},
		{"none", 6, 2, 5, true, losses.LinearCrossEntropyOptions{ChunkRows: 4, Reduction: losses.None, ZLoss: 0.02,
			Softcap: 3}, []int{0}},
		{"all-ignored", 4, 3, 5, true, losses.LinearCrossEntropyOptions{ChunkRows: 3}, []int{0, 1, 2, 3}},
		{"h-zero", 3, 0, 5, true, losses.LinearCrossEntropyOptions{}, nil},
	}
}

func lceInputs(r *rand.Rand, n, h, v int, bias bool, ignore []int) (hid, w, b []float64, tg []int32) {
	hid, w = randLogits(r, n*h, 1), randLogits(r, v*h, 1)
	if bias {
		b = randLogits(r, v, 0.5)
	}
	tg = make([]int32, n)
	for i := range tg {
		tg[i] = int32(r.IntN(v))
	}
	for _, i := range ignore {
		tg[i] = -100
	}
	return
}

// TestLinearCrossEntropyAgainstReference: the loss, z-loss and accuracy
// of cross_entropy on the logits formed by the definition (ceExtRef), and
// every gradient against central differences of that reference.
func TestLinearCrossEntropyAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for _, tc := range lceCases() {
		t.Run(tc.name, func(t *testing.T) {
			hid, w, b, tg := lceInputs(r, tc.n, tc.h, tc.v, tc.bias, tc.ignoreRows)
			got := lceRun(t, hid, w, b, tg, tc.n, tc.h, tc.v, tc.opt)
			ceo := lceCE(tc.opt)
			ref := func() ([]float64, []float64, []float64) {
				return ceExtRef(lceLogits(hid, w, b, tc.n, tc.h, tc.v), tg, tc.n, tc.v, ceo)
			}
			wl, wz, wa := ref()
			for i := range wl {
				if math.IsNaN(wl[i]) {
					require.True(t, math.IsNaN(got.loss[i]), "loss[%d] = %v, want NaN", i, got.loss[i])
					continue
				}
				require.InDelta(t, wl[i], got.loss[i], 1e-12*(1+math.Abs(wl[i])), "loss[%d]", i)
				require.InDelta(t, wz[i], got.zl[i], 1e-12*(1+math.Abs(wz[i])), "z_loss[%d]", i)
				require.Equal(t, wa[i], got.acc[i], "accuracy[%d]", i)
			}
			f := func() float64 {
				l, _, _ := ref()
				s := sumLoss(l)
				if math.IsNaN(s) { // all ignored: the gradient is 0
					return 0
				}
				return s
			}
			fdCheck(t, hid, got.gh, func([]float64) float64 { return f() })
			fdCheck(t, w, got.gw, func([]float64) float64 { return f() })
			if b != nil {
				fdCheck(t, b, got.gb, func([]float64) float64 { return f() })
			}
		})
	}
}

func lceCE(o losses.LinearCrossEntropyOptions) losses.CrossEntropyOptions {
	return losses.CrossEntropyOptions{Reduction: o.Reduction, Weight: o.Weight, IgnoreIndex: o.IgnoreIndex,
		LabelSmoothing: o.LabelSmoothing, Softcap: o.Softcap, ZLoss: o.ZLoss}
}

// TestLinearCrossEntropyChunksAgree: every tile height gives the unfused
// result (one tile of all rows) to float32 rounding, and reruns are
// bitwise identical.
func TestLinearCrossEntropyChunksAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	n, h, v := 37, 16, 101
	hid, w, b, tg := lceInputs(r, n, h, v, true, []int{3, 30})
	h32, w32, b32 := to32s(hid), to32s(w), to32s(b)
	run := func(chunk int) [][]float32 {
		loss, gh, gw, gb := make([]float32, 1), make([]float32, n*h), make([]float32, v*h), make([]float32, v)
		require.NoError(t, losses.LinearCrossEntropy(hostDev, losses.LinearCrossEntropyArgs{
			Hidden: losses.HostTensor(h32, n, h), Weight: losses.HostTensor(w32, v, h), Bias: losses.HostTensor(b32, v),
			Target: losses.HostTensor(tg, n), Loss: losses.HostTensor(loss), GradHidden: losses.HostTensor(gh, n, h),
			GradWeight: losses.HostTensor(gw, v, h), GradBias: losses.HostTensor(gb, v)},
			losses.LinearCrossEntropyOptions{ChunkRows: chunk, ZLoss: 1e-3, Softcap: 20, LabelSmoothing: 0.1}))
		return [][]float32{loss, gh, gw, gb}
	}
	whole := run(n)
	for _, chunk := range []int{1, 5, 16, 36, 0} {
		got := run(chunk)
		for j := range got {
			for i := range got[j] {
				require.InDelta(t, whole[j][i], got[j][i], 1e-5*(1+math.Abs(float64(whole[j][i]))), "chunk %d, output %d[%d]", chunk, j, i)
			}
		}
		again := run(chunk)
		require.Equal(t, got, again, "chunk %d: two runs differ", chunk)
	}
}

func TestLinearCrossEntropyWorkspace(t *testing.T) {
	// The tile at the GPT-2 shape: 128 rows × 50257 classes of float32,
	// well within 5 % of the 823 MB of logits.
	opt := losses.LinearCrossEntropyOptions{}
	ws := losses.LinearCrossEntropyWorkspace(4096, 1024, 50257, 0, opt, false, false, true)
	require.Equal(t, int64(4*(128*50257+4+4096+128)), ws)
	require.Less(t, ws, int64(41<<20))
}

func TestLinearCrossEntropyErrors(t *testing.T) {
	n, h, v := 2, 3, 4
	hid := []float64{1, 2, 3, 4, 5, 6}
	w := make([]float64, v*h)
	tg := []int32{0, 3}
	bad := []struct {
		name, arg string
		mod       func(a *losses.LinearCrossEntropyArgs, o *losses.LinearCrossEntropyOptions)
	}{
		{"H mismatch", "weight", func(a *losses.LinearCrossEntropyArgs, o *losses.LinearCrossEntropyOptions) {
			a.Weight = losses.HostTensor(make([]float64, 8), 4, 2)
		}},
		{"bias shape", "bias", func(a *losses.LinearCrossEntropyArgs, o *losses.LinearCrossEntropyOptions) {
			a.Bias = losses.HostTensor(make([]float64, 3), 3)
		}},
		{"target out of range", "target", func(a *losses.LinearCrossEntropyArgs, o *losses.LinearCrossEntropyOptions) {
			a.Target = losses.HostTensor([]int32{0, 4}, 2)
		}},
		{"negative softcap", "softcap", func(a *losses.LinearCrossEntropyArgs, o *losses.LinearCrossEntropyOptions) {
			o.Softcap = -1
		}},
		{"class weight length", "weight", func(a *losses.LinearCrossEntropyArgs, o *losses.LinearCrossEntropyOptions) {
			o.Weight = []float64{1, 2}
		}},
		{"negative chunk", "chunk_rows", func(a *losses.LinearCrossEntropyArgs, o *losses.LinearCrossEntropyOptions) {
			o.ChunkRows = -1
		}},
		{"grad_weight shape", "grad_weight", func(a *losses.LinearCrossEntropyArgs, o *losses.LinearCrossEntropyOptions) {
			a.GradWeight = losses.HostTensor(make([]float64, v*h), h, v)
		}},
		{"target rows", "target", func(a *losses.LinearCrossEntropyArgs, o *losses.LinearCrossEntropyOptions) {
			a.Target = losses.HostTensor([]int32{0}, 1)
		}},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			loss, gh := []float64{7}, []float64{7, 7, 7, 7, 7, 7}
			a := losses.LinearCrossEntropyArgs{Hidden: losses.HostTensor(hid, n, h), Weight: losses.HostTensor(w, v, h),
				Target: losses.HostTensor(tg, n), Loss: losses.HostTensor(loss), GradHidden: losses.HostTensor(gh, n, h)}
			var o losses.LinearCrossEntropyOptions
			b.mod(&a, &o)
			err := losses.LinearCrossEntropy(hostDev, a, o)
			var ae *losses.ArgError
			require.True(t, errors.As(err, &ae), "%v", err)
			require.Equal(t, b.arg, ae.Arg)
			require.Equal(t, "linear_cross_entropy", ae.Loss)
			require.Equal(t, []float64{7}, loss)
			require.Equal(t, []float64{7, 7, 7, 7, 7, 7}, gh)
		})
	}
}
