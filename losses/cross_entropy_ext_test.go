package losses_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/losses"
)

// ceExtRef is an independent float64 reference for cross_entropy's
// epilogues, from their definitions: the cross-entropy of the soft-capped
// logits s·tanh(x/s) (ceRef), plus PaLM's z-loss z·L² per counted row
// (L the log-sum-exp of the capped row), divided by the number of counted
// rows for Mean; and the accuracy (first argmax of the capped row equals
// the target) per row, counted, or as a share. It returns loss, z_loss
// and accuracy, each shaped as the reduction says.
func ceExtRef(x []float64, tg []int32, n, c int, opt losses.CrossEntropyOptions) (loss, zl, acc []float64) {
	ign := losses.DefaultIgnoreIndex
	if opt.IgnoreIndex != nil {
		ign = *opt.IgnoreIndex
	}
	xc := append([]float64(nil), x...)
	if s := opt.Softcap; s > 0 {
		for i, v := range xc {
			xc[i] = s * math.Tanh(v/s)
		}
	}
	ce := ceRef(xc, tg, n, c, opt)
	zr, ar := make([]float64, n), make([]float64, n)
	var zsum, asum, count float64
	for i := 0; i < n; i++ {
		t := int(tg[i])
		if t == ign {
			continue
		}
		row := xc[i*c : (i+1)*c]
		var s float64
		for _, v := range row {
			s += math.Exp(v)
		}
		L := math.Log(s)
		zr[i] = opt.ZLoss * L * L
		best := 0
		for k, v := range row {
			if v > row[best] {
				best = k
			}
		}
		if best == t {
			ar[i] = 1
		}
		zsum += zr[i]
		asum += ar[i]
		count++
	}
	switch opt.Reduction {
	case losses.None:
		for i := range ce {
			ce[i] += zr[i]
		}
		return ce, zr, ar
	case losses.Sum:
		return []float64{ce[0] + zsum}, []float64{zsum}, []float64{asum}
	}
	return []float64{ce[0] + zsum/count}, []float64{zsum / count}, []float64{asum / count}
}

// ceExt calls CrossEntropy with every output of the epilogues.
func ceExt(x []float64, tg []int32, n, c int, opt losses.CrossEntropyOptions) (loss, zl, acc, grad []float64, err error) {
	m := 1
	var sh []int
	if opt.Reduction == losses.None {
		m, sh = n, []int{n}
	}
	loss, zl, acc, grad = make([]float64, m), make([]float64, m), make([]float64, m), make([]float64, n*c)
	err = losses.CrossEntropy(hostDev, losses.CrossEntropyArgs{
		Input: losses.HostTensor(x, n, c), Target: losses.HostTensor(tg, n),
		Loss: losses.HostTensor(loss, sh...), GradInput: losses.HostTensor(grad, n, c),
		ZLoss: losses.HostTensor(zl, sh...), Accuracy: losses.HostTensor(acc, sh...),
	}, opt)
	return
}

func ceExtCases() []struct {
	name string
	opt  losses.CrossEntropyOptions
} {
	w := []float64{0.5, 2, 1, 0.1, 3, 1, 0.7}
	return []struct {
		name string
		opt  losses.CrossEntropyOptions
	}{
		{"z", losses.CrossEntropyOptions{ZLoss: 1e-2, ReturnAccuracy: true}},
		{"softcap", losses.CrossEntropyOptions{Softcap: 2.5}},
		{"softcap+z+sum", losses.CrossEntropyOptions{Reduction: losses.Sum, Softcap: 4, ZLoss: 0.05}},
		{"softcap+z+none", losses.CrossEntropyOptions{Reduction: losses.None, Softcap: 4, ZLoss: 0.05}},
		{"z+weight", losses.CrossEntropyOptions{ZLoss: 0.03, Weight: w}},
		{"all+ignore", losses.CrossEntropyOptions{ZLoss: 0.02, Softcap: 3, LabelSmoothing: 0.2, Weight: w,
			IgnoreIndex: losses.Index(2)}},
		{"all+none", losses.CrossEntropyOptions{Reduction: losses.None, ZLoss: 0.02, Softcap: 3, LabelSmoothing: 0.2,
			Weight: w}},
	}
}

func TestCrossEntropyExtAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	n, c := 6, 7
	for _, tc := range ceExtCases() {
		t.Run(tc.name, func(t *testing.T) {
			x := randLogits(r, n*c, 3)
			tg := []int32{0, 2, 6, 2, 3, -100}
			if tc.opt.IgnoreIndex != nil {
				tg[5] = int32(*tc.opt.IgnoreIndex)
			}
			loss, zl, acc, _, err := ceExt(x, tg, n, c, tc.opt)
			require.NoError(t, err)
			wl, wz, wa := ceExtRef(x, tg, n, c, tc.opt)
			for i := range wl {
				require.InDelta(t, wl[i], loss[i], 1e-12*(1+math.Abs(wl[i])), "loss[%d]", i)
				require.InDelta(t, wz[i], zl[i], 1e-12*(1+math.Abs(wz[i])), "z_loss[%d]", i)
				require.Equal(t, wa[i], acc[i], "accuracy[%d]", i)
			}
		})
	}
}

func TestCrossEntropyExtFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	n, c := 5, 7
	for _, tc := range ceExtCases() {
		t.Run(tc.name, func(t *testing.T) {
			x := randLogits(r, n*c, 3)
			tg := []int32{1, 2, 6, 2, 0}
			_, _, _, grad, err := ceExt(x, tg, n, c, tc.opt)
			require.NoError(t, err)
			fdCheck(t, x, grad, func(x []float64) float64 {
				l, _, _ := ceExtRef(x, tg, n, c, tc.opt)
				return sumLoss(l)
			})
		})
	}
}

func TestCrossEntropyExtClosedForm(t *testing.T) {
	// Uniform logits: L = log C for every row, so the z part is z·log²C
	// and its gradient 2·z·log C·(1/C) per element, over N for the mean.
	n, c, z := 3, 5, 0.1
	x := make([]float64, n*c)
	tg := []int32{0, 4, 2}
	loss, zl, acc, grad, err := ceExt(x, tg, n, c, losses.CrossEntropyOptions{ZLoss: z})
	require.NoError(t, err)
	l5 := math.Log(5)
	require.InDelta(t, z*l5*l5, zl[0], 1e-15)
	require.InDelta(t, l5+z*l5*l5, loss[0], 1e-15)
	// All logits tie: the first index (0) is the prediction, so only row
	// 0 (target 0) is correct.
	require.InDelta(t, 1.0/3, acc[0], 1e-15)
	for i := 0; i < n; i++ {
		for k := 0; k < c; k++ {
			want := 0.2 + 2*z*l5*0.2
			if k == int(tg[i]) {
				want -= 1
			}
			require.InDelta(t, want/3, grad[i*c+k], 1e-15)
		}
	}
	// Soft-capping at s: logits (0, a) become (0, s·tanh(a/s)); with
	// target 0 the loss is log(1 + e^{s tanh(a/s)}), and d/da is
	// σ(s tanh(a/s)) (1 − tanh²(a/s)).
	s, a := 2.0, 3.0
	ca := s * math.Tanh(a/s)
	loss, _, acc, grad, err = ceExt([]float64{0, a}, []int32{0}, 1, 2, losses.CrossEntropyOptions{Softcap: s, Reduction: losses.Sum})
	require.NoError(t, err)
	require.InDelta(t, math.Log1p(math.Exp(ca)), loss[0], 1e-14)
	sig := 1 / (1 + math.Exp(-ca))
	th := math.Tanh(a / s)
	require.InDelta(t, sig*(1-th*th), grad[1], 1e-14)
	require.InDelta(t, -sig, grad[0], 1e-14) // d/dx0 at x0 = 0: tanh'(0) = 1
	require.Equal(t, 0.0, acc[0])
}

// A saturated soft-capped row: far beyond the cap the gradient is
// σ(·)(1 − tanh²), tiny but not 0 in float64, and float32 keeps it finite.
func TestCrossEntropySoftcapSaturatedFloat32(t *testing.T) {
	x := []float32{1e4, -1e4, 0}
	tg := []int32{1}
	loss := make([]float32, 1)
	grad := make([]float32, 3)
	require.NoError(t, losses.CrossEntropy(hostDev, losses.CrossEntropyArgs{
		Input: losses.HostTensor(x, 1, 3), Target: losses.HostTensor(tg, 1),
		Loss: losses.HostTensor(loss), GradInput: losses.HostTensor(grad, 1, 3),
	}, losses.CrossEntropyOptions{Softcap: 30}))
	// Capped logits (30, −30, 0): loss = log(e^30 + e^−30 + 1) + 30 ≈ 60.
	want := math.Log(math.Exp(30)+math.Exp(-30)+1) + 30
	require.InDelta(t, want, float64(loss[0]), 1e-5*want)
	for k, g := range grad {
		require.False(t, math.IsNaN(float64(g)) || math.IsInf(float64(g), 0), "grad[%d] = %v", k, g)
	}
	require.InDelta(t, 0, float64(grad[0]), 1e-30) // sech²(333) underflows
	require.InDelta(t, math.Exp(-30), float64(grad[2]), 1e-20)
}

func TestCrossEntropyExtErrors(t *testing.T) {
	n, c := 2, 3
	x := []float64{1, 2, 3, 4, 5, 6}
	tg := []int32{0, 2}
	bad := []struct {
		name, arg string
		opt       losses.CrossEntropyOptions
		noAcc     bool
	}{
		{"negative softcap", "softcap", losses.CrossEntropyOptions{Softcap: -1}, false},
		{"NaN softcap", "softcap", losses.CrossEntropyOptions{Softcap: math.NaN()}, false},
		{"inf softcap", "softcap", losses.CrossEntropyOptions{Softcap: math.Inf(1)}, false},
		{"negative z", "z_loss", losses.CrossEntropyOptions{ZLoss: -1e-4}, false},
		{"accuracy without output", "accuracy", losses.CrossEntropyOptions{ReturnAccuracy: true}, true},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			loss, grad := []float64{7}, []float64{7, 7, 7, 7, 7, 7}
			a := losses.CrossEntropyArgs{Input: losses.HostTensor(x, n, c), Target: losses.HostTensor(tg, n),
				Loss: losses.HostTensor(loss), GradInput: losses.HostTensor(grad, n, c)}
			if !b.noAcc {
				a.Accuracy = losses.HostTensor([]float64{7})
			}
			err := losses.CrossEntropy(hostDev, a, b.opt)
			var ae *losses.ArgError
			require.True(t, errors.As(err, &ae), "%v", err)
			require.Equal(t, b.arg, ae.Arg)
			require.Equal(t, []float64{7}, loss)
			require.Equal(t, []float64{7, 7, 7, 7, 7, 7}, grad)
		})
	}
	// Probability targets have no epilogues.
	err := losses.CrossEntropy(hostDev, losses.CrossEntropyArgs{Input: losses.HostTensor(x, n, c),
		Target: losses.HostTensor(x, n, c), Loss: losses.HostTensor([]float64{0})}, losses.CrossEntropyOptions{ZLoss: 1e-4})
	var ae *losses.ArgError
	require.True(t, errors.As(err, &ae))
	require.Equal(t, "z_loss", ae.Arg)
	// A z_loss output shaped unlike loss.
	err = losses.CrossEntropy(hostDev, losses.CrossEntropyArgs{Input: losses.HostTensor(x, n, c),
		Target: losses.HostTensor(tg, n), Loss: losses.HostTensor([]float64{0}), ZLoss: losses.HostTensor([]float64{0, 0})},
		losses.CrossEntropyOptions{ZLoss: 1e-4})
	require.True(t, errors.As(err, &ae))
	require.Equal(t, "z_loss", ae.Arg)
}

// seq_cross_entropy passes the epilogues to cross_entropy: per token they
// are its results on the [N·T, V] view; per sequence the z part is
// averaged like the token losses and the accuracy stays per token.
func TestSeqCrossEntropyExt(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	n, tt, v := 3, 4, 6
	x := randLogits(r, n*tt*v, 2)
	tg := []int32{0, 5, 2, -100, 1, 1, -100, -100, 3, 4, 0, 2}
	opt := losses.SeqCrossEntropyOptions{Softcap: 3, ZLoss: 0.01, ReturnAccuracy: true, LabelSmoothing: 0.1}
	run := func(o losses.SeqCrossEntropyOptions) (loss, zl, acc float64, grad []float64) {
		l, z, a := []float64{0}, []float64{0}, []float64{0}
		grad = make([]float64, n*tt*v)
		require.NoError(t, losses.SeqCrossEntropy(hostDev, losses.SeqCrossEntropyArgs{
			Input: losses.HostTensor(x, n, tt, v), Target: losses.HostTensor(tg, n, tt),
			Loss: losses.HostTensor(l), GradInput: losses.HostTensor(grad, n, tt, v),
			ZLoss: losses.HostTensor(z), Accuracy: losses.HostTensor(a)}, o))
		return l[0], z[0], a[0], grad
	}
	ceo := losses.CrossEntropyOptions{Softcap: 3, ZLoss: 0.01, LabelSmoothing: 0.1}
	wl, wz, wa := ceExtRef(x, tg, n*tt, v, ceo)
	loss, zl, acc, grad := run(opt)
	require.InDelta(t, wl[0], loss, 1e-12)
	require.InDelta(t, wz[0], zl, 1e-12)
	require.InDelta(t, wa[0], acc, 1e-12)
	fdCheck(t, x, grad, func(x []float64) float64 { l, _, _ := ceExtRef(x, tg, n*tt, v, ceo); return l[0] })

	// Per sequence: from the per-token values of the reference.
	opt.Normalization = losses.SeqNormSequence
	ceo.Reduction = losses.None
	pl, pz, pa := ceExtRef(x, tg, n*tt, v, ceo)
	var sl, sz, correct, tokens float64
	for i := 0; i < n; i++ {
		var l, z, k float64
		for j := 0; j < tt; j++ {
			if tg[i*tt+j] != -100 {
				l, z, k = l+pl[i*tt+j], z+pz[i*tt+j], k+1
				correct += pa[i*tt+j]
			}
		}
		sl, sz, tokens = sl+l/k, sz+z/k, tokens+k
	}
	loss, zl, acc, _ = run(opt)
	require.InDelta(t, sl/3, loss, 1e-12)
	require.InDelta(t, sz/3, zl, 1e-12)
	require.InDelta(t, correct/tokens, acc, 1e-12)
}
