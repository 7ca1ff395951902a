package main

import (
	"fmt"
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/internal/losstest"
	"github.com/lossengine/lossengine/losses"
)

// The elementwise losses join the sweep: mse_loss by default, the others
// with -loss NAME, -loss pointwise or -loss all.
func init() {
	for _, p := range losses.PointwiseLosses() {
		model := "reads input and target, writes grad_input and grad_target: 4*4*N bytes"
		switch {
		case p == losses.GaussianNLL:
			model = "reads input, target and var (input's shape), writes the three gradients: 4*6*N bytes"
		case pointwiseLabels(p):
			model = "reads input and ±1 target, writes grad_input: 4*3*N bytes"
		}
		benchLosses = append(benchLosses, benchLoss{name: p.Name(), inDefault: p == losses.MSE, pointwise: true,
			shapes: []string{"1048576", "16777216"}, byteModel: model,
			prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) { return preparePointwise(d, p, s, r) }})
	}
}

func pointwiseLabels(p losses.Pointwise) bool {
	switch p {
	case losses.HingeEmbedding, losses.SoftMargin, losses.Hinge, losses.SquaredHinge:
		return true
	}
	return false
}

// preparePointwise times loss p with reduction mean and every gradient,
// on inputs in the loss's domain (var of input's shape).
func preparePointwise(dev device.Device, p losses.Pointwise, shape []int, rng *rand.Rand) (c *benchCase, err error) {
	n := 1
	for _, d := range shape {
		n *= d
	}
	naux := 0
	if p == losses.GaussianNLL {
		naux = n
	}
	x, y, a := losstest.PointwiseDomain(rng, p, n, naux, 1)
	d := losses.PointwiseData[float64]{Input: x, Target: y}
	if naux > 0 {
		d.Var = a
	}
	ref, err := losses.PointwiseLossSlices(host.Default(), p, d, losses.PointwiseOptions{})
	if err != nil {
		return nil, fmt.Errorf("host reference: %w", err)
	}
	words := int64(4)
	if pointwiseLabels(p) {
		words = 3
	}
	if naux > 0 {
		words = 6
	}
	c = &benchCase{bytes: 4 * words * int64(n), names: []string{"loss", "grad_input"},
		refs: [][]float64{ref.Loss, ref.Grad}}
	defer func() {
		if err != nil {
			c.release()
		}
	}()
	b := losses.PointwiseBuffers{N: n}
	if b.Input, err = c.upload(dev, narrow(x)); err != nil {
		return nil, err
	}
	if b.Target, err = c.upload(dev, narrow(y)); err != nil {
		return nil, err
	}
	if b.Loss, err = c.alloc(dev, device.Float32, 1); err != nil {
		return nil, err
	}
	if b.GradInput, err = c.alloc(dev, device.Float32, n); err != nil {
		return nil, err
	}
	outs := []device.Buffer{b.Loss, b.GradInput}
	if ref.GradTarget != nil {
		if b.GradTarget, err = c.alloc(dev, device.Float32, n); err != nil {
			return nil, err
		}
		outs = append(outs, b.GradTarget)
		c.names, c.refs = append(c.names, "grad_target"), append(c.refs, ref.GradTarget)
	}
	if naux > 0 {
		if b.Var, err = c.upload(dev, narrow(a)); err != nil {
			return nil, err
		}
		if b.GradVar, err = c.alloc(dev, device.Float32, n); err != nil {
			return nil, err
		}
		outs = append(outs, b.GradVar)
		c.names, c.refs = append(c.names, "grad_var"), append(c.refs, ref.GradVar)
	}
	// The range checks cost a read and a synchronisation: time the
	// kernel as a training loop that validated its data once would.
	opt := losses.PointwiseOptions{SkipInputCheck: true}
	c.call = func() error { return losses.PointwiseLoss(dev, p, b, opt) }
	c.outputs = reader(dev, outs...)
	return c, nil
}

func narrow(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}
