package main

import (
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// Gradient clipping in the sweep (not in the default sweep: run it with
// -loss). A shape KxN is K gradient buffers of random lengths totalling N
// elements, as one flat input split by sizes; each call writes output =
// input clipped to global 2-norm 1 (input is left alone, so that every
// call clips the same gradients): the norm reads input, the copy to output
// reads and writes it, the scaling reads and writes output.
func init() {
	benchLosses = append(benchLosses,
		benchLoss{name: "clip_grad_norm", dims: 2, shapes: []string{"200x33554432"},
			byteModel: "KxN (K buffers, N elements), max_norm 1: reads N (norm), copies N to output, reads and writes N (scaling): 4*5*N bytes",
			prepare:   prepareClipGradNorm},
		benchLoss{name: "clip_grad_value", dims: 1, shapes: []string{"33554432"},
			byteModel: "N, clip_value 1: copies N to output, reads and writes N (clamp): 4*4*N bytes",
			prepare:   prepareClipGradValue})
}

// clipBenchSizes splits n into k random lengths (about n/k each, between
// half and 1.5 times that).
func clipBenchSizes(rng *rand.Rand, k, n int) []int32 {
	sz := make([]int32, k)
	left := n
	for i := range sz[:k-1] {
		v := min(left, n/k/2+rng.IntN(max(1, n/k)))
		sz[i] = int32(v)
		left -= v
	}
	sz[k-1] = int32(left)
	return sz
}

func prepareClipGradNorm(dev device.Device, shape []int, rng *rand.Rand) (*benchCase, error) {
	k, n := shape[0], shape[1]
	if k < 1 {
		return nil, errorf("clip_grad_norm", "shape %s: want K >= 1 buffers", shapeString(shape))
	}
	x := normals(rng, n)
	sz := clipBenchSizes(rng, k, n)
	o := losses.ClipGradNormFlatOptions{ClipGradNormOptions: losses.ClipGradNormOptions{MaxNorm: 1}}
	return prepareDecl(dev, mustDecl("clip_grad_norm"), map[string]hostIn{"input": {x, []int{n}}, "sizes": {sz, []int{k}}},
		o, []string{"loss", "output"}, nil, 4*5*int64(n))
}

func prepareClipGradValue(dev device.Device, shape []int, rng *rand.Rand) (*benchCase, error) {
	n := shape[0]
	x := normals(rng, n)
	o := losses.ClipGradValueFlatOptions{ClipGradValueOptions: losses.ClipGradValueOptions{ClipValue: 1}}
	return prepareDecl(dev, mustDecl("clip_grad_value"), map[string]hostIn{"input": {x, []int{n}}},
		o, []string{"output"}, nil, 4*4*int64(n))
}
