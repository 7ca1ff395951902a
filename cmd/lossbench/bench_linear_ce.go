package main

import (
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// linear_cross_entropy in the sweep (run it with -loss): a shape is
// NxHxV (rows, hidden size, classes); each call computes the mean loss
// and the gradients w.r.t. hidden, weight and bias, never storing the
// N×V logits. The float64 host reference costs three N·H·V products, so
// the default shape is small; BenchmarkLinearCrossEntropy in package
// losses times the GPT-2 shape (4096x1024x50257) against the unfused path.
func init() {
	benchLosses = append(benchLosses, benchLoss{name: "linear_cross_entropy", dims: 3, shapes: []string{"512x256x8192"},
		byteModel: "NxHxV: reads hidden N*H, weight V*H, bias V, targets N; writes their gradients (and 6*N*H*V flops)",
		prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
			n, h, v := s[0], s[1], s[2]
			tg := make([]int32, n)
			for i := range tg {
				tg[i] = int32(r.IntN(v))
			}
			ins := map[string]hostIn{"hidden": {normals(r, n*h), []int{n, h}}, "weight": {scaled(normals(r, v*h), 0.05), []int{v, h}},
				"bias": {scaled(normals(r, v), 0.1), []int{v}}, "target": {tg, []int{n}}}
			return prepareDecl(d, mustDecl("linear_cross_entropy"), ins, losses.LinearCrossEntropyOptions{}, nil, nil,
				4*int64(2*n*h+2*v*h+2*v+n))
		}})
}

func scaled(x []float32, s float32) []float32 {
	for i := range x {
		x[i] *= s
	}
	return x
}
