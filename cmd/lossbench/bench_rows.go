package main

import (
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// The row-wise losses in the sweep (not in the default sweep: run them
// with -loss). Each call computes the loss (mean) and d loss / d input.
// cross_entropy_probs is cross_entropy with probability targets [N, C].
func init() {
	shapes := []string{"512x32000", "4096x128"}
	for _, rb := range []rowBench{
		{name: "cross_entropy_probs", loss: "cross_entropy", target: "probs",
			byteModel: "reads N*C logits and N*C probabilities, writes N*C gradients: 4*3*N*C bytes",
			bytes:     func(n, c int64) int64 { return 4 * 3 * n * c }},
		{name: "nll_loss", target: "class",
			byteModel: "reads N int32 targets and N log-probabilities, writes N*C gradients: 4*(N*C + 2*N) bytes",
			bytes:     func(n, c int64) int64 { return 4 * (n*c + 2*n) },
			opt:       func() any { return losses.NLLLossOptions{SkipTargetCheck: skipTargetCheck} }},
		{name: "focal_loss", target: "class",
			byteModel: "gamma 2: reads N*C logits and N int32 targets, writes N*C gradients: 4*(2*N*C + N) bytes",
			bytes:     func(n, c int64) int64 { return 4 * (2*n*c + n) },
			opt:       func() any { return losses.FocalLossOptions{SkipTargetCheck: skipTargetCheck} }},
		{name: "multi_margin_loss", target: "class",
			byteModel: "p 1, margin 1: reads N*C scores and N int32 targets, writes N*C gradients: 4*(2*N*C + N) bytes",
			bytes:     func(n, c int64) int64 { return 4 * (2*n*c + n) },
			opt:       func() any { return losses.MultiMarginLossOptions{SkipTargetCheck: skipTargetCheck} }},
		{name: "categorical_hinge", target: "onehot",
			byteModel: "one-hot targets: reads N*C scores and N*C targets, writes N*C gradients: 4*3*N*C bytes",
			bytes:     func(n, c int64) int64 { return 4 * 3 * n * c }},
		{name: "distill_kl", target: "logits",
			byteModel: "temperature 2: reads N*C student and N*C teacher logits, writes N*C gradients: 4*3*N*C bytes",
			bytes:     func(n, c int64) int64 { return 4 * 3 * n * c },
			opt:       func() any { return losses.DistillKLOptions{Temperature: 2} }},
		{name: "poly_loss_cross_entropy", target: "probs",
			byteModel: "epsilon 2: reads N*C logits and N*C label probabilities, writes N*C gradients: 4*3*N*C bytes",
			bytes:     func(n, c int64) int64 { return 4 * 3 * n * c }},
	} {
		benchLosses = append(benchLosses, benchLoss{name: rb.name, rows: true, shapes: shapes, byteModel: rb.byteModel,
			prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) { return prepareRowLoss(d, s, r, rb) }})
	}
}

// rowBench describes a row loss to prepareRowLoss.
type rowBench struct {
	name string
	// loss is the declared loss (default: name).
	loss string
	// target: "class" (int32 [N]), "probs" (soft rows), "onehot" or
	// "logits" (normals).
	target    string
	byteModel string
	bytes     func(n, c int64) int64
	// opt returns the options (nil: the defaults), read at prepare time
	// (after the flags).
	opt func() any
}

// prepareRowLoss builds a row-loss case on shape NxC: normal logits, the
// targets rb.target asks for, a float32 loss and gradient on dev.
func prepareRowLoss(dev device.Device, shape []int, rng *rand.Rand, rb rowBench) (*benchCase, error) {
	n, k := shape[0], shape[1]
	x := normals(rng, n*k)
	ins := map[string]hostIn{"input": {x, []int{n, k}}}
	switch rb.target {
	case "class":
		tg := make([]int32, n)
		for i := range tg {
			tg[i] = int32(rng.IntN(k))
		}
		ins["target"] = hostIn{tg, []int{n}}
	case "logits":
		ins["target"] = hostIn{normals(rng, n*k), []int{n, k}}
	case "probs", "onehot":
		y := make([]float32, n*k)
		for i := 0; i < n; i++ {
			if rb.target == "onehot" {
				y[i*k+rng.IntN(k)] = 1
				continue
			}
			var s float64
			row := make([]float64, k)
			for j := range row {
				row[j] = rng.ExpFloat64()
				s += row[j]
			}
			for j := range row {
				y[i*k+j] = float32(row[j] / s)
			}
		}
		ins["target"] = hostIn{y, []int{n, k}}
	}
	loss := rb.loss
	if loss == "" {
		loss = rb.name
	}
	var opt any
	if rb.opt != nil {
		opt = rb.opt()
	}
	return prepareDecl(dev, mustDecl(loss), ins, opt, []string{"loss", "grad_input"}, nil, rb.bytes(int64(n), int64(k)))
}
