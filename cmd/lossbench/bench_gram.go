package main

import (
	"fmt"
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

// gramBenchLayers is the number of layers of the gram family's cases:
// each call runs the loss over that many layers of the shape NxCxHxW.
const gramBenchLayers = 4

// The perceptual and style losses (not in the default sweep: run them
// with -loss). Each call takes 4 layers of features of the shape
// NxCxHxW (input and target) and computes the summed loss and
// d loss / d input of every layer.
func init() {
	for _, name := range []string{"gram_style_loss", "feature_loss"} {
		model := "4 layers, each reading N*C*H*W input and target features and writing N*C*H*W gradients: 4*3*4*N*C*H*W bytes"
		if name == "gram_style_loss" {
			model += " (and 2*N*C*H*W*C multiply-adds per Gram matrix and gradient)"
		}
		benchLosses = append(benchLosses, benchLoss{name: name, dims: 4, shapes: []string{"4x256x64x64"}, byteModel: model,
			prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) { return prepareGram(d, name, s, r) }})
	}
}

// prepareGram builds a case of 4 layers of normal features [N, C, H, W]
// (input and target), float32 on dev, with the float64 host reference.
func prepareGram(dev device.Device, name string, shape []int, rng *rand.Rand) (c *benchCase, err error) {
	n := shape[0] * shape[1] * shape[2] * shape[3]
	dims := []int{shape[0], shape[1], shape[2] * shape[3]}
	run := func(dv device.Device, a losses.LayersArgs) error {
		if name == "gram_style_loss" {
			return losses.GramStyleLossLayers(dv, a, losses.GramStyleLossLayersOptions{})
		}
		return losses.FeatureLossLayers(dv, a, losses.FeatureLossLayersOptions{})
	}
	c = &benchCase{bytes: int64(gramBenchLayers) * 4 * 3 * int64(n)}
	defer func() {
		if err != nil {
			c.release()
		}
	}()
	var ref, a losses.LayersArgs
	refLoss := make([]float64, 1)
	ref.Loss = losses.HostTensor(refLoss)
	var refGrads [][]float64
	var outs []device.Buffer
	lb, err := c.alloc(dev, device.Float32, 1)
	if err != nil {
		return nil, err
	}
	a.Loss = losses.NewTensor(lb)
	outs = append(outs, lb)
	for l := 0; l < gramBenchLayers; l++ {
		x, y := normals(rng, n), normals(rng, n)
		g := make([]float64, n)
		refGrads = append(refGrads, g)
		ref.Layers = append(ref.Layers, losses.LayerPair{Input: losses.HostTensor(widen(x), dims...),
			Target: losses.HostTensor(widen(y), dims...), GradInput: losses.HostTensor(g, dims...)})
		xb, err := c.upload(dev, x)
		if err != nil {
			return nil, err
		}
		yb, err := c.upload(dev, y)
		if err != nil {
			return nil, err
		}
		gb, err := c.alloc(dev, device.Float32, n)
		if err != nil {
			return nil, err
		}
		a.Layers = append(a.Layers, losses.LayerPair{Input: losses.NewTensor(xb, dims...), Target: losses.NewTensor(yb, dims...),
			GradInput: losses.NewTensor(gb, dims...)})
		outs = append(outs, gb)
	}
	if err := run(host.Default(), ref); err != nil {
		return nil, fmt.Errorf("host reference: %w", err)
	}
	c.names, c.refs = append(c.names, "loss"), append(c.refs, refLoss)
	for l, g := range refGrads {
		c.names, c.refs = append(c.names, fmt.Sprintf("grad_input[%d]", l)), append(c.refs, g)
	}
	c.call = func() error { return run(dev, a) }
	c.outputs = reader(dev, outs...)
	return c, nil
}
