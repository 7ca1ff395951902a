package main

import (
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// The Lovász losses in the sweep (not in the default sweep: run them with
// -loss). Shapes are NxCxHxW (lovasz_hinge_loss: Nx1xHxW); each call
// computes the loss and d loss / d input, with the defaults (per batch,
// the classes present, no ignore_index).
func init() {
	benchLosses = append(benchLosses,
		benchLoss{name: "lovasz_softmax_loss", dims: 4, shapes: []string{"8x21x128x128"},
			byteModel: "NxCxHxW: reads N*C*H*W logits and N*H*W int32 targets, writes N*C*H*W gradients: " +
				"4*(2*N*C*H*W + N*H*W) bytes (the sort's workspace traffic not counted)",
			prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) { return prepareLovasz(d, s, r, false) }},
		benchLoss{name: "lovasz_hinge_loss", dims: 4, shapes: []string{"8x1x256x256"},
			byteModel: "Nx1xHxW: reads N*H*W logits and N*H*W int32 labels, writes N*H*W gradients: " +
				"4*3*N*H*W bytes (the sort's workspace traffic not counted)",
			prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) { return prepareLovasz(d, s, r, true) }},
	)
}

// prepareLovasz builds a Lovász case on shape NxCxHxW: normal logits,
// uniform labels (classes in [0, C), or 0/1 for the hinge, whose C must
// be 1), a float32 loss and gradient on dev.
func prepareLovasz(dev device.Device, shape []int, rng *rand.Rand, hinge bool) (*benchCase, error) {
	n, c, h, w := shape[0], shape[1], shape[2], shape[3]
	x := normals(rng, n*c*h*w)
	labels, tshape := c, []int{n, h, w}
	if hinge {
		labels, tshape = 2, shape
	}
	tg := make([]int32, n*h*w)
	for i := range tg {
		tg[i] = int32(rng.IntN(labels))
	}
	ins := map[string]hostIn{"input": {x, shape}, "target": {tg, tshape}}
	np, total := int64(n*h*w), int64(n*c*h*w)
	if hinge {
		return prepareDecl(dev, mustDecl("lovasz_hinge_loss"), ins,
			losses.LovaszHingeLossOptions{SkipTargetCheck: skipTargetCheck}, []string{"loss", "grad_input"}, nil, 4*3*np)
	}
	return prepareDecl(dev, mustDecl("lovasz_softmax_loss"), ins,
		losses.LovaszSoftmaxLossOptions{SkipTargetCheck: skipTargetCheck}, []string{"loss", "grad_input"}, nil,
		4*(2*total+np))
}
