package losstest

import (
	"fmt"
	"math/rand/v2"

	"github.com/lossengine/lossengine/losses"
)

// seqCase is seq_cross_entropy over decoder logits [n, t, v] (scale) with
// random target tokens, one in padEvery of them the padding (0: none).
func seqCase(name string, n, t, v int, scale float64, padEvery int, tweak func(tg []int32), opt losses.SeqCrossEntropyOptions) Case {
	r := rand.New(rand.NewPCG(uint64(n*t)*7919+uint64(v), 77))
	x := logits(r, n*t*v, scale)
	pad := int32(losses.DefaultIgnoreIndex)
	if opt.PadIndex != nil {
		pad = int32(*opt.PadIndex)
	}
	tg := make([]int32, n*t)
	for i := range tg {
		tg[i] = int32(r.IntN(v))
		if padEvery > 0 && r.IntN(padEvery) == 0 {
			tg[i] = pad
		}
	}
	if tweak != nil {
		tweak(tg)
	}
	return declCase(fmt.Sprintf("seq_cross_entropy/%s/%dx%dx%d", name, n, t, v), "seq_cross_entropy", 2e-5,
		inputs{"input": fl(x, n, t, v), "target": ints(tg, n, t)}, opt)
}

// seqCECases are the rows of seq_cross_entropy: both normalisations,
// padding (the default and a pad index inside the vocabulary), label
// smoothing, V past block multiples, 1×1×1, an empty batch, an
// all-padding batch and logits of ±1e4.
func seqCECases() []Case {
	tok, seq := losses.SeqNormToken, losses.SeqNormSequence
	allPad := func(tg []int32) {
		for i := range tg {
			tg[i] = -100
		}
	}
	var cs []Case
	for _, norm := range []losses.SeqNormalization{tok, seq} {
		ns := norm.String()
		cs = append(cs,
			seqCase("plain-"+ns, 3, 5, 7, 2, 0, nil, losses.SeqCrossEntropyOptions{Normalization: norm}),
			seqCase("pad+smooth-"+ns, 4, 9, 33, 2, 4, nil, losses.SeqCrossEntropyOptions{Normalization: norm, LabelSmoothing: 0.1}),
			seqCase("pad-index-0-"+ns, 5, 7, 257, 2, 3, nil, losses.SeqCrossEntropyOptions{Normalization: norm, PadIndex: losses.Index(0)}),
			seqCase("1x1x1-"+ns, 1, 1, 1, 1, 0, nil, losses.SeqCrossEntropyOptions{Normalization: norm}),
			seqCase("empty-"+ns, 0, 4, 5, 1, 0, nil, losses.SeqCrossEntropyOptions{Normalization: norm}),
			seqCase("all-padding-"+ns, 2, 3, 6, 2, 0, allPad, losses.SeqCrossEntropyOptions{Normalization: norm}),
		)
	}
	cs = append(cs,
		// One sequence all padding: left out of the sequence mean.
		seqCase("one-sequence-padded-sequence", 3, 6, 11, 2, 0, func(tg []int32) {
			for i := 6; i < 12; i++ {
				tg[i] = -100
			}
		}, losses.SeqCrossEntropyOptions{Normalization: seq}),
		seqCase("wide-token", 2, 3, 32003, 3, 5, nil, losses.SeqCrossEntropyOptions{LabelSmoothing: 0.05}),
		seqCase("extreme-token", 3, 4, 33, 1e4, 0, nil, losses.SeqCrossEntropyOptions{}),
		seqCase("softcap+z+accuracy-token", 4, 9, 33, 4, 4, nil, losses.SeqCrossEntropyOptions{Softcap: 3, ZLoss: 1e-3,
			ReturnAccuracy: true, LabelSmoothing: 0.1}),
		seqCase("softcap+z+accuracy-sequence", 4, 9, 33, 4, 4, nil, losses.SeqCrossEntropyOptions{Softcap: 3, ZLoss: 1e-3,
			ReturnAccuracy: true, Normalization: seq}),
	)
	return cs
}
