package main

import (
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// The box IoU losses in the sweep (not in the default sweep: run them with
// -loss). A shape is Nx4; each call computes the mean loss over the N
// pairs and its gradient w.r.t. boxes1 (the predictions).
func init() {
	for _, name := range []string{"box_iou_loss", "generalized_box_iou_loss", "distance_box_iou_loss", "complete_box_iou_loss"} {
		benchLosses = append(benchLosses, benchLoss{name: name, dims: 2, shapes: []string{"1048576x4"},
			byteModel: "Nx4, reduction mean: reads 4*N + 4*N coordinates, writes 4*N gradients (boxes1): 4*12*N bytes",
			prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
				return prepareBoxLoss(d, s, r, name)
			}})
	}
}

// boxBenchPairs returns n pairs of overlapping boxes with positive sizes.
func boxBenchPairs(rng *rand.Rand, n int) (b1, b2 []float32) {
	b1, b2 = make([]float32, 4*n), make([]float32, 4*n)
	for i := range n {
		x, y := rng.Float64()*100, rng.Float64()*100
		w, h := 1+rng.Float64()*20, 1+rng.Float64()*20
		u, v := x+rng.NormFloat64()*3, y+rng.NormFloat64()*3
		copy(b1[4*i:], []float32{float32(x), float32(y), float32(x + w), float32(y + h)})
		copy(b2[4*i:], []float32{float32(u), float32(v), float32(u + w*(0.8+0.4*rng.Float64())), float32(v + h*(0.8+0.4*rng.Float64()))})
	}
	return b1, b2
}

func prepareBoxLoss(dev device.Device, shape []int, rng *rand.Rand, name string) (*benchCase, error) {
	n := shape[0]
	if shape[1] != 4 {
		return nil, errorf(name, "shape %s: want Nx4", shapeString(shape))
	}
	b1, b2 := boxBenchPairs(rng, n)
	ins := map[string]hostIn{"boxes1": {b1, []int{n, 4}}, "boxes2": {b2, []int{n, 4}}}
	o := losses.BoxLossOptions{Reduction: losses.ReductionOpt(losses.Mean)}
	var opt any
	switch name {
	case "box_iou_loss":
		opt = losses.BoxIoULossOptions{BoxLossOptions: o}
	case "generalized_box_iou_loss":
		opt = losses.GeneralizedBoxIoULossOptions{BoxLossOptions: o}
	case "distance_box_iou_loss":
		opt = losses.DistanceBoxIoULossOptions{BoxLossOptions: o}
	default:
		opt = losses.CompleteBoxIoULossOptions{BoxLossOptions: o}
	}
	return prepareDecl(dev, mustDecl(name), ins, opt, []string{"loss", "grad_boxes1"}, nil, 4*12*int64(n))
}
