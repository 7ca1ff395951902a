package main

import (
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// The overlap losses in the sweep (not in the default sweep: run them with
// -loss). Each call computes the loss (mean) and d loss / d input over
// logits NxCxHxW with class-index targets NxHxW and a per-pixel softmax.
func init() {
	softmax := losses.OverlapOptions{Activation: "softmax"}
	for _, db := range []struct {
		name string
		opt  func() any
	}{
		{"dice_loss", func() any { return losses.DiceLossOptions{OverlapOptions: withSkip(softmax)} }},
		{"tversky_loss", func() any {
			a, b := 0.3, 0.7
			return losses.TverskyLossOptions{OverlapOptions: withSkip(softmax), Alpha: &a, Beta: &b}
		}},
		{"generalized_dice_loss", func() any { return losses.GeneralizedDiceLossOptions{OverlapOptions: withSkip(softmax)} }},
		{"dice_ce_loss", func() any {
			return losses.DiceCELossOptions{DiceLossOptions: losses.DiceLossOptions{OverlapOptions: withSkip(softmax)}}
		}},
		{"dice_focal_loss", func() any {
			return losses.DiceFocalLossOptions{DiceLossOptions: losses.DiceLossOptions{OverlapOptions: withSkip(softmax)}}
		}},
	} {
		benchLosses = append(benchLosses, benchLoss{name: db.name, dims: 4, shapes: []string{"16x4x256x256"},
			byteModel: "softmax, int32 targets: reads N*C*H*W logits and N*H*W targets, writes N*C*H*W gradients: 4*(2*N*C*H*W + N*H*W) bytes",
			prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
				return prepareOverlap(d, s, r, db.name, db.opt())
			}})
	}
}

// withSkip sets SkipTargetCheck from the -skip-target-check flag.
func withSkip(o losses.OverlapOptions) losses.OverlapOptions {
	o.SkipTargetCheck = skipTargetCheck
	return o
}

// prepareOverlap builds an overlap-loss case on shape NxCxHxW: normal
// logits, uniform class indices, a float32 loss and gradient on dev.
func prepareOverlap(dev device.Device, shape []int, rng *rand.Rand, name string, opt any) (*benchCase, error) {
	n, c, h, w := shape[0], shape[1], shape[2], shape[3]
	x := normals(rng, n*c*h*w)
	tg := make([]int32, n*h*w)
	for i := range tg {
		tg[i] = int32(rng.IntN(c))
	}
	ins := map[string]hostIn{"input": {x, []int{n, c, h, w}}, "target": {tg, []int{n, h, w}}}
	nchw, nhw := int64(n)*int64(c)*int64(h)*int64(w), int64(n)*int64(h)*int64(w)
	return prepareDecl(dev, mustDecl(name), ins, opt, []string{"loss", "grad_input"}, nil, 4*(2*nchw+nhw))
}
