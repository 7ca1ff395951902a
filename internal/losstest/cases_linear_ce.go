package losstest

import (
	"fmt"
	"math/rand/v2"

	"github.com/lossengine/lossengine/losses"
)

func init() { familyCases = append(familyCases, linearCECases) }

// lceCase is linear_cross_entropy over hidden [n, h] (scale) and an output
// embedding [v, h] (scale 1/√h), with a bias when bias, random targets,
// every fifth one ignored when ignore.
func lceCase(name string, n, h, v int, scale float64, bias, ignore bool, opt losses.LinearCrossEntropyOptions) Case {
	r := rand.New(rand.NewPCG(uint64(n*h+v), 61))
	ins := inputs{"hidden": fl(logits(r, n*h, scale), n, h), "weight": fl(logits(r, v*h, 1/float64(max(h, 1))), v, h)}
	if bias {
		ins["bias"] = fl(logits(r, v, 0.5), v)
	}
	tg := make([]int32, n)
	for i := range tg {
		tg[i] = int32(r.IntN(v))
		if ignore && i%5 == 1 {
			tg[i] = -100
		}
	}
	ins["target"] = ints(tg, n)
	return declCase(fmt.Sprintf("linear_cross_entropy/%s/%dx%dx%d", name, n, h, v), "linear_cross_entropy", 5e-5, ins, opt)
}

// linearCECases: V past tile multiples and not a multiple of the chunk,
// N = 1, an empty batch, all rows ignored, z-loss, softcap, smoothing and
// class weights, every reduction, tiles of 1 row and the automatic tile,
// saturated logits.
func linearCECases() []Case {
	w := func(v int) []float64 { // class weights in [0.25, 2.25), one 0
		r := rand.New(rand.NewPCG(uint64(v), 62))
		out := make([]float64, v)
		for i := range out {
			out[i] = roundTo32([]float64{0.25 + 2*r.Float64()})[0]
		}
		out[v/2] = 0
		return out
	}
	var cs []Case
	for _, red := range []losses.Reduction{losses.Mean, losses.Sum, losses.None} {
		rs := red.String()
		cs = append(cs,
			lceCase("plain-"+rs, 13, 16, 67, 1, true, false, losses.LinearCrossEntropyOptions{Reduction: red, ChunkRows: 5}),
			lceCase("all-"+rs, 17, 33, 129, 1, true, true, losses.LinearCrossEntropyOptions{Reduction: red, ChunkRows: 4,
				ZLoss: 1e-3, Softcap: 5, LabelSmoothing: 0.1, Weight: w(129), ReturnAccuracy: true}),
		)
	}
	all := func(n int) losses.LinearCrossEntropyOptions { return losses.LinearCrossEntropyOptions{ChunkRows: n} }
	cs = append(cs,
		lceCase("one-row", 1, 7, 5, 1, false, false, losses.LinearCrossEntropyOptions{}),
		lceCase("chunk-1", 5, 8, 9, 1, true, false, losses.LinearCrossEntropyOptions{ChunkRows: 1, ZLoss: 1e-2}),
		lceCase("auto-chunk", 70, 24, 1000, 1, true, true, losses.LinearCrossEntropyOptions{Softcap: 30, ZLoss: 1e-4}),
		lceCase("wide-vocab", 6, 8, 5003, 2, true, false, all(4)),
		lceCase("empty", 0, 8, 9, 1, true, false, losses.LinearCrossEntropyOptions{}),
		lceCase("h-zero", 3, 0, 9, 1, true, false, losses.LinearCrossEntropyOptions{}),
		lceCase("saturated", 7, 4, 11, 3e3, true, false, losses.LinearCrossEntropyOptions{ChunkRows: 3, Softcap: 30}),
	)
	// All rows ignored: NaN mean, zero gradients.
	c := lceCase("all-ignored", 4, 6, 9, 1, true, false, all(3))
	tg := c.ins["target"]
	for i := range tg.i {
		tg.i[i] = -100
	}
	return append(cs, c)
}
