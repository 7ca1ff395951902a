package main

import (
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// The softmetric losses in the sweep (run them with -loss). A shape is NxC;
// the input is logits (activation sigmoid), the target 0/1; each call
// computes the loss (soft_f1_loss: macro) and its gradient w.r.t. the
// input.
func init() {
	for _, name := range []string{"soft_f1_loss", "soft_mcc_loss"} {
		benchLosses = append(benchLosses, benchLoss{name: name, dims: 2, shapes: []string{"65536x20"},
			byteModel: "NxC: reads the input and the target twice (sums, gradient), writes the gradient: 4*5*N*C bytes",
			prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
				return prepareSoftmetric(d, s, r, name)
			}})
	}
}

func prepareSoftmetric(dev device.Device, shape []int, rng *rand.Rand, name string) (*benchCase, error) {
	n, c := shape[0], shape[1]
	x, y := make([]float32, n*c), make([]float32, n*c)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 2)
		if rng.IntN(4) == 0 {
			y[i] = 1
		}
	}
	ins := map[string]hostIn{"input": {x, []int{n, c}}, "target": {y, []int{n, c}}}
	var opt any = losses.SoftF1LossOptions{Activation: "sigmoid"}
	if name == "soft_mcc_loss" {
		opt = losses.SoftMCCLossOptions{Activation: "sigmoid"}
	}
	return prepareDecl(dev, mustDecl(name), ins, opt, []string{"loss", "grad_input"}, nil, 4*5*int64(n)*int64(c))
}
