package losses_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/collective"
	"github.com/lossengine/lossengine/losses"
)

// vplRun runs VocabParallelLinearCrossEntropy on s simulated ranks
// (collective.NewLocal, one goroutine each, the host device), rank q
// holding weight rows vpShards(v, s)[q], and gathers the results: the
// loss and z-loss of rank 0 (checked equal on every rank), grad_hidden of
// rank 0 (checked equal on every rank) and the ranks' weight and bias
// gradient rows in order.
func vplRun[T float32 | float64](t *testing.T, s int, hid, w, bias []T, tg []int32, n, h, v int,
	opt losses.VocabParallelLinearCrossEntropyOptions, classW []float64) (loss, zl, gh, gw, gb []T) {
	t.Helper()
	comms := collective.NewLocal(s)
	shards := vpShards(v, s)
	m := 1
	if opt.Reduction == losses.None {
		m = n
	}
	type out struct{ loss, zl, gh, gw, gb []T }
	outs := make([]out, s)
	errs := make([]error, s)
	var wg sync.WaitGroup
	for q := range s {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lo, hi := shards[q][0], shards[q][1]
			vs := hi - lo
			o := out{loss: make([]T, m), zl: make([]T, m), gh: make([]T, n*h), gw: make([]T, vs*h), gb: make([]T, vs)}
			op := opt
			op.VocabSize, op.VocabStart = v, lo
			if classW != nil {
				op.Weight = classW[lo:hi]
			}
			sh := []int{}
			if m == n {
				sh = []int{n}
			}
			errs[q] = losses.VocabParallelLinearCrossEntropy(hostDev, comms[q], losses.VocabParallelLinearCrossEntropyArgs{
				Hidden: losses.HostTensor(hid, n, h), Weight: losses.HostTensor(w[lo*h:hi*h], vs, h),
				Bias: losses.HostTensor(bias[lo:hi], vs), Target: losses.HostTensor(tg, n),
				Loss: losses.HostTensor(o.loss, sh...), ZLoss: losses.HostTensor(o.zl, sh...),
				GradHidden: losses.HostTensor(o.gh, n, h), GradWeight: losses.HostTensor(o.gw, vs, h),
				GradBias: losses.HostTensor(o.gb, vs)}, op)
			outs[q] = o
		}()
	}
	wg.Wait()
	for q := range s {
		require.NoError(t, errs[q], "rank %d", q)
		require.Equal(t, outs[0].loss, outs[q].loss, "rank %d's loss", q)
		require.Equal(t, outs[0].gh, outs[q].gh, "rank %d's grad_hidden", q)
		gw = append(gw, outs[q].gw...)
		gb = append(gb, outs[q].gb...)
	}
	return outs[0].loss, outs[0].zl, outs[0].gh, gw, gb
}

// TestVocabParallelLinearCrossEntropy: 1–4 simulated ranks against
// LinearCrossEntropy with the whole weight (float64 to 1e-11, float32 to
// 1e-5), every reduction, with label smoothing, z-loss, softcap, class
// weights and ignored rows, V not divisible by the rank count, tiles of
// 3 rows.
func TestVocabParallelLinearCrossEntropy(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	n, h, v := 7, 5, 11
	hid, w, bias := randLogits(r, n*h, 1), randLogits(r, v*h, 1), randLogits(r, v, 0.5)
	tg := []int32{0, 10, -100, 4, 7, 3, 10}
	classW := randLogits(r, v, 0.3)
	for i := range classW {
		classW[i] = 1 + classW[i]
	}
	for _, tc := range []struct {
		name string
		o    losses.VocabParallelCrossEntropyOptions
		cw   bool
	}{
		{"mean", losses.VocabParallelCrossEntropyOptions{}, false},
		{"all-mean", losses.VocabParallelCrossEntropyOptions{LabelSmoothing: 0.1, ZLoss: 0.01, Softcap: 3}, true},
		{"all-sum", losses.VocabParallelCrossEntropyOptions{Reduction: losses.Sum, LabelSmoothing: 0.2, ZLoss: 0.02, Softcap: 2}, true},
		{"all-none", losses.VocabParallelCrossEntropyOptions{Reduction: losses.None, LabelSmoothing: 0.1, ZLoss: 0.01}, true},
	} {
		var cw []float64
		if tc.cw {
			cw = classW
		}
		lopt := losses.LinearCrossEntropyOptions{Reduction: tc.o.Reduction, Weight: cw, LabelSmoothing: tc.o.LabelSmoothing,
			ZLoss: tc.o.ZLoss, Softcap: tc.o.Softcap}
		want := lceRun(t, hid, w, bias, tg, n, h, v, lopt)
		for s := 1; s <= 4; s++ {
			opt := losses.VocabParallelLinearCrossEntropyOptions{VocabParallelCrossEntropyOptions: tc.o, ChunkRows: 3}
			loss, zl, gh, gw, gb := vplRun(t, s, hid, w, bias, tg, n, h, v, opt, cw)
			for _, c := range []struct {
				name      string
				got, want []float64
			}{{"loss", loss, want.loss}, {"z_loss", zl, want.zl}, {"grad_hidden", gh, want.gh}, {"grad_weight", gw, want.gw},
				{"grad_bias", gb, want.gb}} {
				require.Len(t, c.got, len(c.want), "%s, %d ranks: %s", tc.name, s, c.name)
				for i := range c.want {
					require.InDelta(t, c.want[i], c.got[i], 1e-11*(1+math.Abs(c.want[i])), "%s, %d ranks: %s[%d]", tc.name, s, c.name, i)
				}
			}
			// float32, tiles of the default height.
			opt.ChunkRows = 0
			l32, _, gh32, gw32, _ := vplRun(t, s, to32s(hid), to32s(w), to32s(bias), tg, n, h, v, opt, cw)
			for i := range want.loss {
				require.InDelta(t, want.loss[i], float64(l32[i]), 1e-5*(1+math.Abs(want.loss[i])), "%s, %d ranks, float32 loss", tc.name, s)
			}
			for i := range want.gh {
				require.InDelta(t, want.gh[i], float64(gh32[i]), 1e-5, "%s, %d ranks, float32 grad_hidden[%d]", tc.name, s, i)
			}
			for i := range want.gw {
				require.InDelta(t, want.gw[i], float64(gw32[i]), 1e-5, "%s, %d ranks, float32 grad_weight[%d]", tc.name, s, i)
			}
		}
	}
}

func TestVocabParallelLinearCrossEntropyErrors(t *testing.T) {
	n, h := 2, 3
	hid := []float64{1, 2, 3, 4, 5, 6}
	w := make([]float64, 4*h)
	bad := []struct {
		name, arg string
		tg        []int32
		opt       losses.VocabParallelLinearCrossEntropyOptions
	}{
		{"target outside V", "target", []int32{0, 9}, losses.VocabParallelLinearCrossEntropyOptions{
			VocabParallelCrossEntropyOptions: losses.VocabParallelCrossEntropyOptions{VocabSize: 8}}},
		{"shard outside V", "vocab_start", []int32{0, 1}, losses.VocabParallelLinearCrossEntropyOptions{
			VocabParallelCrossEntropyOptions: losses.VocabParallelCrossEntropyOptions{VocabSize: 5, VocabStart: 3}}},
		{"negative softcap", "softcap", []int32{0, 1}, losses.VocabParallelLinearCrossEntropyOptions{
			VocabParallelCrossEntropyOptions: losses.VocabParallelCrossEntropyOptions{Softcap: -1}}},
		{"negative chunk", "chunk_rows", []int32{0, 1}, losses.VocabParallelLinearCrossEntropyOptions{ChunkRows: -2}},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			loss, gh := []float64{7}, []float64{7, 7, 7, 7, 7, 7}
			err := losses.VocabParallelLinearCrossEntropy(hostDev, nil, losses.VocabParallelLinearCrossEntropyArgs{
				Hidden: losses.HostTensor(hid, n, h), Weight: losses.HostTensor(w, 4, h), Target: losses.HostTensor(b.tg, n),
				Loss: losses.HostTensor(loss), GradHidden: losses.HostTensor(gh, n, h)}, b.opt)
			var ae *losses.ArgError
			require.True(t, errors.As(err, &ae), "%v", err)
			require.Equal(t, b.arg, ae.Arg)
			require.Equal(t, []float64{7}, loss)
			require.Equal(t, []float64{7, 7, 7, 7, 7, 7}, gh)
		})
	}
	// Ranks that disagree on the tile height: an *ArgError on every rank.
	comms := collective.NewLocal(2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for q := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[q] = losses.VocabParallelLinearCrossEntropy(hostDev, comms[q], losses.VocabParallelLinearCrossEntropyArgs{
				Hidden: losses.HostTensor(hid, n, h), Weight: losses.HostTensor(w[:2*h], 2, h),
				Target: losses.HostTensor([]int32{0, 3}, n), Loss: losses.HostTensor([]float64{0})},
				losses.VocabParallelLinearCrossEntropyOptions{ChunkRows: 1 + q,
					VocabParallelCrossEntropyOptions: losses.VocabParallelCrossEntropyOptions{VocabSize: 4, VocabStart: 2 * q}})
		}()
	}
	wg.Wait()
	for q, err := range errs {
		var ae *losses.ArgError
		require.True(t, errors.As(err, &ae), "rank %d: %v", q, err)
		require.Equal(t, "comm", ae.Arg)
	}
}
