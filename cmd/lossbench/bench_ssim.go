package main

import (
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
)

// The image losses in the sweep (run them with -loss): ssim_loss and
// ms_ssim_loss with pytorch-msssim's defaults (data_range 255, window 11,
// σ 1.5, five MS-SSIM levels) on 8-bit images, and total_variation (l1,
// mean). Each call computes the loss and d loss / d input.
func init() {
	shapes := []string{"8x3x512x512"}
	benchLosses = append(benchLosses,
		benchLoss{name: "ssim_loss", dims: 4, shapes: shapes,
			byteModel: "NxCxHxW: reads input and target twice (forward, gradient), writes the gradient: 4*5*N*C*H*W bytes",
			prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
				return prepareImages(d, s, r, "ssim_loss", 5)
			}},
		benchLoss{name: "ms_ssim_loss", dims: 4, shapes: shapes,
			byteModel: "NxCxHxW: as ssim_loss at level 0 (the coarser levels add a third): 4*5*N*C*H*W bytes",
			prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
				return prepareImages(d, s, r, "ms_ssim_loss", 5)
			}},
		benchLoss{name: "total_variation", dims: 4, shapes: shapes,
			byteModel: "NxCxHxW: reads the input twice, writes the gradient: 4*3*N*C*H*W bytes",
			prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
				return prepareImages(d, s, r, "total_variation", 3)
			}},
	)
}

// prepareImages builds a case of an image loss on NxCxHxW: an 8-bit image
// as input and, for the SSIM losses, a noisy copy as target; float32 loss
// and gradient w.r.t. the input; the byte model is words 4-byte words per
// pixel.
func prepareImages(dev device.Device, shape []int, rng *rand.Rand, loss string, words int64) (*benchCase, error) {
	n := shape[0] * shape[1] * shape[2] * shape[3]
	x, y := make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = float32(rng.IntN(256))
		y[i] = float32(min(255, max(0, int(x[i])+rng.IntN(41)-20)))
	}
	ins := map[string]hostIn{"input": {x, shape}}
	if loss != "total_variation" {
		ins["target"] = hostIn{y, shape}
	}
	return prepareDecl(dev, mustDecl(loss), ins, nil, []string{"loss", "grad_input"}, nil, words*4*int64(n))
}
