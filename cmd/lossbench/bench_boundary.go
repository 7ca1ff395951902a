package main

import (
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// boundary_loss in the sweep (not in the default sweep: run it with -loss).
// A shape is NxCxHxW; each call computes the mean loss (softmax, every
// class) and its gradient w.r.t. the logits.
func init() {
	benchLosses = append(benchLosses, benchLoss{name: "boundary_loss", dims: 4, shapes: []string{"16x4x256x256"},
		byteModel: "NxCxHxW, softmax, mean: reads N*C*H*W logits and distances, writes N*C*H*W gradients: 4*3*N*C*H*W bytes",
		prepare:   prepareBoundaryLoss})
}

func prepareBoundaryLoss(dev device.Device, shape []int, rng *rand.Rand) (*benchCase, error) {
	total := 1
	for _, d := range shape {
		total *= d
	}
	x, dist := normals(rng, total), normals(rng, total)
	for i := range dist {
		dist[i] *= 20 // signed distances of a few tens of pixels
	}
	ins := map[string]hostIn{"input": {x, shape}, "dist_map": {dist, shape}}
	return prepareDecl(dev, mustDecl("boundary_loss"), ins, losses.BoundaryLossOptions{}, []string{"loss", "grad_input"},
		nil, 4*3*int64(total))
}
