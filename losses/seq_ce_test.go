package losses_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

// seqCERef computes the sequence cross-entropy from its definition: per
// token, log-softmax and the smoothed target distribution; then the
// normalisation.
func seqCERef(x []float64, tg []int32, n, t, v, pad int, eps float64, norm losses.SeqNormalization) (float64, []float64) {
	grad := make([]float64, len(x))
	tokLoss := make([]float64, n*t)
	counts := make([]int, n)
	for r := 0; r < n*t; r++ {
		if int(tg[r]) == pad {
			continue
		}
		counts[r/t]++
		row := x[r*v : (r+1)*v]
		m := math.Inf(-1)
		for _, z := range row {
			m = math.Max(m, z)
		}
		var s float64
		for _, z := range row {
			s += math.Exp(z - m)
		}
		lse := m + math.Log(s)
		for k, z := range row {
			q := eps / float64(v)
			if k == int(tg[r]) {
				q += 1 - eps
			}
			tokLoss[r] -= q * (z - lse)
			grad[r*v+k] = math.Exp(z-lse) - q
		}
	}
	w := make([]float64, n*t) // d loss / d tokLoss
	var loss float64
	switch norm {
	case losses.SeqNormToken:
		total := 0
		for _, c := range counts {
			total += c
		}
		for r := range w {
			w[r] = 1 / float64(total)
			loss += tokLoss[r] / float64(total)
		}
	case losses.SeqNormSequence:
		seqs := 0
		for _, c := range counts {
			if c > 0 {
				seqs++
			}
		}
		for r := range w {
			if c := counts[r/t]; c > 0 {
				w[r] = 1 / (float64(c) * float64(seqs))
				loss += tokLoss[r] * w[r]
			}
		}
		if seqs == 0 {
			loss = math.NaN()
		}
	}
	for r := range w {
		for k := 0; k < v; k++ {
			if int(tg[r]) == pad {
				grad[r*v+k] = 0
			} else {
				grad[r*v+k] *= w[r]
			}
		}
	}
	return loss, grad
}

func TestSeqCrossEntropy(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 1))
	for it := 0; it < 40; it++ {
		n, tt, v := 1+r.IntN(5), 1+r.IntN(9), 2+r.IntN(30)
		pad := []int{0, -100, 1}[it%3]
		x := randLogits(r, n*tt*v, 2)
		tg := make([]int32, n*tt)
		for i := range tg {
			tg[i] = int32(r.IntN(v))
			if r.IntN(4) == 0 {
				tg[i] = int32(pad)
			}
		}
		if it%10 == 9 { // one sequence all padding
			for j := 0; j < tt; j++ {
				tg[j] = int32(pad)
			}
		}
		for _, norm := range []losses.SeqNormalization{losses.SeqNormToken, losses.SeqNormSequence} {
			opt := losses.SeqCrossEntropyOptions{PadIndex: losses.Index(pad), LabelSmoothing: []float64{0, 0.1, 0.5}[it%3], Normalization: norm}
			name := fmt.Sprintf("%d: %dx%dx%d %+v", it, n, tt, v, opt)
			res, err := seqSlices(hostDev, x, tg, n, tt, v, opt)
			require.NoError(t, err, name)
			wantLoss, wantGrad := seqCERef(x, tg, n, tt, v, pad, opt.LabelSmoothing, norm)
			require.Len(t, res.Loss, 1)
			if math.IsNaN(wantLoss) {
				require.True(t, math.IsNaN(res.Loss[0]), name)
			} else {
				require.InDelta(t, wantLoss, res.Loss[0], 1e-12*(1+math.Abs(wantLoss)), name)
			}
			requireClose(t, name+": grad", res.Grad, wantGrad, 1e-12)
			// float32
			x32 := make([]float32, len(x))
			for i, z := range x {
				x32[i] = float32(z)
			}
			r32, err := seqSlices(hostDev, x32, tg, n, tt, v, opt)
			require.NoError(t, err)
			if !math.IsNaN(wantLoss) {
				require.InDelta(t, wantLoss, float64(r32.Loss[0]), 1e-5*(1+math.Abs(wantLoss)), name)
			}
			requireClose(t, name+": float32 grad", to64(r32.Grad), wantGrad, 1e-5)
			// A device buffer gives the same, with the gradient written in
			// place over the logits (host tensors: either normalisation).
			xb, _ := host.Wrap(append([]float32{}, x32...))
			tb, _ := host.Wrap(tg)
			lb, _ := host.Wrap(make([]float32, 1))
			xt := losses.NewTensor(xb, n, tt, v)
			require.NoError(t, losses.SeqCrossEntropy(hostDev, losses.SeqCrossEntropyArgs{Input: xt, Target: losses.NewTensor(tb, n, tt),
				Loss: losses.NewTensor(lb), GradInput: xt}, opt))
			require.Equal(t, r32.Grad, xb.Float32s())
			require.Equal(t, math.Float32bits(r32.Loss[0]), math.Float32bits(lb.Float32s()[0]))
		}
	}
	// All padding: NaN, zero gradient (as cross_entropy's all-ignored mean).
	for _, norm := range []losses.SeqNormalization{losses.SeqNormToken, losses.SeqNormSequence} {
		res, err := seqSlices(hostDev, []float64{1, 2, 3, 4}, []int32{0, 0}, 1, 2, 2,
			losses.SeqCrossEntropyOptions{PadIndex: losses.Index(0), Normalization: norm})
		require.NoError(t, err)
		require.True(t, math.IsNaN(res.Loss[0]))
		require.Equal(t, []float64{0, 0, 0, 0}, res.Grad)
	}
}

// devBuf is a buffer of the host device that is not a host tensor (not a
// *host.Buffer), as a buffer of an accelerator is.
type devBuf struct{ device.Buffer }

func TestSeqCrossEntropyErrors(t *testing.T) {
	x := make([]float64, 2*3*4)
	tg := []int32{0, 1, 2, 3, 0, 1}
	for _, tc := range []struct {
		arg string
		f   func() error
	}{
		{"input", func() error {
			_, err := seqSlices(hostDev, x[1:], tg, 2, 3, 4, losses.SeqCrossEntropyOptions{})
			return err
		}},
		{"target", func() error {
			_, err := seqSlices(hostDev, x, tg[1:], 2, 3, 4, losses.SeqCrossEntropyOptions{})
			return err
		}},
		{"target", func() error {
			_, err := seqSlices(hostDev, x, []int32{0, 1, 2, 4, 0, 1}, 2, 3, 4, losses.SeqCrossEntropyOptions{})
			return err
		}},
		{"label_smoothing", func() error {
			_, err := seqSlices(hostDev, x, tg, 2, 3, 4, losses.SeqCrossEntropyOptions{LabelSmoothing: 2})
			return err
		}},
		{"normalization", func() error {
			_, err := seqSlices(hostDev, x, tg, 2, 3, 4, losses.SeqCrossEntropyOptions{Normalization: 9})
			return err
		}},
		{"input", func() error {
			_, err := seqSlices(hostDev, x, tg, 2, 3, -4, losses.SeqCrossEntropyOptions{})
			return err
		}},
		{"input", func() error {
			// Per-sequence normalisation scales gradient rows on the host:
			// it needs host tensors.
			xb, _ := host.Wrap(x)
			tb, _ := host.Wrap(tg)
			lb, _ := host.Wrap(make([]float64, 1))
			return losses.SeqCrossEntropy(hostDev, losses.SeqCrossEntropyArgs{Input: losses.NewTensor(devBuf{xb}, 2, 3, 4),
				Target: losses.NewTensor(tb, 2, 3), Loss: losses.NewTensor(lb)},
				losses.SeqCrossEntropyOptions{Normalization: losses.SeqNormSequence})
		}},
		{"loss", func() error {
			xb, _ := hostDev.Alloc(device.Float64, 24)
			tb, _ := host.Wrap(tg)
			return losses.SeqCrossEntropy(hostDev, losses.SeqCrossEntropyArgs{Input: losses.NewTensor(xb, 2, 3, 4), Target: losses.NewTensor(tb, 2, 3)},
				losses.SeqCrossEntropyOptions{})
		}},
		{"loss", func() error {
			return losses.SeqCrossEntropy(hostDev, losses.SeqCrossEntropyArgs{Input: losses.HostTensor(x, 2, 3, 4), Target: losses.HostTensor(tg, 2, 3),
				Loss: losses.HostTensor(make([]float64, 2))}, losses.SeqCrossEntropyOptions{})
		}},
		{"input", func() error {
			return losses.SeqCrossEntropy(hostDev, losses.SeqCrossEntropyArgs{Input: losses.HostTensor(x, 6, 4), Target: losses.HostTensor(tg, 2, 3),
				Loss: losses.HostTensor(make([]float64, 1))}, losses.SeqCrossEntropyOptions{})
		}},
		{"target", func() error {
			return losses.SeqCrossEntropy(hostDev, losses.SeqCrossEntropyArgs{Input: losses.HostTensor(x, 2, 3, 4), Target: losses.HostTensor(tg),
				Loss: losses.HostTensor(make([]float64, 1))}, losses.SeqCrossEntropyOptions{})
		}},
		{"grad_input", func() error {
			return losses.SeqCrossEntropy(hostDev, losses.SeqCrossEntropyArgs{Input: losses.HostTensor(x, 2, 3, 4), Target: losses.HostTensor(tg, 2, 3),
				Loss: losses.HostTensor(make([]float64, 1)), GradInput: losses.HostTensor(make([]float64, 24))}, losses.SeqCrossEntropyOptions{})
		}},
		{"device", func() error {
			_, err := seqSlices[float64](nil, x, tg, 2, 3, 4, losses.SeqCrossEntropyOptions{})
			return err
		}},
	} {
		err := tc.f()
		var ae *losses.ArgError
		require.True(t, errors.As(err, &ae), "%s: %v", tc.arg, err)
		require.Equal(t, tc.arg, ae.Arg, "%v", err)
		require.Equal(t, "seq_cross_entropy", ae.Loss)
	}
}

// TestSeqCEPerSequenceNoSteps: with T = 0 the input is empty whatever N
// is; per-sequence normalisation has no sequence with a token (loss NaN)
// and must not count tokens per sequence (an earlier build allocated 16·N
// bytes and looped over N: 11 GB and tens of seconds for N = 715827882).
func TestSeqCEPerSequenceNoSteps(t *testing.T) {
	d, _ := losses.Lookup("seq_cross_entropy")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	out, err := d.Call(hostDev, map[string]losses.Tensor{
		"input":  losses.HostTensor([]float32{}, 715827882, 0, 3),
		"target": losses.HostTensor([]int32{}, 715827882, 0),
	}, losses.SeqCrossEntropyOptions{Normalization: losses.SeqNormSequence})
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	require.True(t, math.IsNaN(losses.Floats(out["loss"])[0]))
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20))
}
