package main

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/losstest"
	"github.com/lossengine/lossengine/losses"
)

// The elementwise losses join the sweep: every declared loss that
// launches the pointwise_loss kernel (losstest.Elementwise), mse_loss by
// default, the others with -loss NAME, -loss pointwise or -loss all.
func init() {
	for _, d := range losstest.Elementwise() {
		words, model := pointwiseBytes(d)
		benchLosses = append(benchLosses, benchLoss{name: d.Name, inDefault: d.Name == "mse_loss", pointwise: true,
			shapes: []string{"1048576", "16777216"}, byteModel: fmt.Sprintf("%s: 4*%d*N bytes", model, words),
			prepare: func(dv device.Device, s []int, r *rand.Rand) (*benchCase, error) {
				return preparePointwise(dv, d, s, r)
			}})
	}
}

// pointwiseBytes is the byte model of an elementwise loss: it reads its
// required float inputs (input, target, var: input's shape) and writes
// the gradient of each, so many float32 words per element.
func pointwiseBytes(d *losses.Decl) (words int, model string) {
	var reads, writes []string
	for _, p := range d.Params {
		if p.Role == losses.In && !p.Optional && p.DType == "float" {
			reads = append(reads, p.Name)
		}
	}
	for _, p := range d.Params {
		for _, r := range reads {
			if p.Role == losses.Grad && p.GradOf == r {
				writes = append(writes, p.Name)
			}
		}
	}
	return len(reads) + len(writes), "reads " + and(reads) + ", writes " + and(writes)
}

// and joins names as "a", "a and b", "a, b and c".
func and(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// preparePointwise times the elementwise loss d with reduction mean and
// every gradient, on inputs in the loss's domain (var of input's shape).
// The device-side range checks cost a read and a synchronisation: the
// call skips them (skip_input_check), as a training loop that validated
// its data once would.
func preparePointwise(dev device.Device, d *losses.Decl, shape []int, rng *rand.Rand) (*benchCase, error) {
	n := 1
	for _, x := range shape {
		n *= x
	}
	var aux []string // required float inputs besides input and target
	for _, p := range d.Params {
		if p.Role == losses.In && !p.Optional && p.DType == "float" && p.Name != "input" && p.Name != "target" {
			aux = append(aux, p.Name)
		}
	}
	naux := 0
	if len(aux) > 0 {
		naux = n
	}
	x, y, a := losstest.PointwiseDomain(rng, d.Name, n, naux, 1)
	ins := map[string]hostIn{"input": {narrow(x), shape}, "target": {narrow(y), shape}}
	for _, name := range aux {
		ins[name] = hostIn{narrow(a), shape}
	}
	opt, err := d.DecodeOptions([]byte(`{"skip_input_check": true}`))
	if err != nil {
		return nil, err
	}
	words, _ := pointwiseBytes(d)
	return prepareDecl(dev, d, ins, opt, nil, nil, 4*int64(words)*int64(n))
}

func narrow(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}
