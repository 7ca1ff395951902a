package main

import (
	"errors"
	"fmt"
	"slices"
)

// scaleAxis is the dimension -scale grows for the losses whose batch is
// not the first one: ctc_loss's TxNxCxL grows N, clip_grad_norm's KxN its
// N elements (K is the number of buffers). Every other loss grows its
// first dimension (rows, samples, pairs, elements).
var scaleAxis = map[string]int{"ctc_loss": 1, "clip_grad_norm": 1}

// scaleMin is the smallest case of -scale, in elements.
const scaleMin = 1 << 10

// scaleCases are the cases of -scale name: the base shape (the one
// -shape, else the loss's first default shape) with its batch dimension
// set to successive powers of two, from the first whose case holds at
// least scaleMin elements (or 1) to the last within maxElems.
func scaleCases(name string, lossFlag, shapes []string, maxElems int) ([]sweepCase, error) {
	b := findBenchLoss(name)
	if b == nil {
		return nil, fmt.Errorf("-scale %q: not a loss of the sweep (lossbench -h lists them)", name)
	}
	if len(lossFlag) > 0 && !slices.Equal(lossFlag, []string{name}) {
		return nil, errors.New("-scale times one loss, the one it names: drop -loss")
	}
	if len(shapes) > 1 {
		return nil, errors.New("-scale takes one base -shape")
	}
	base := b.shapes[0]
	if len(shapes) == 1 {
		base = shapes[0]
	}
	shape, err := parseShape(base)
	if err != nil {
		return nil, err
	}
	if b.rows && len(shape) != 2 || b.dims != 0 && len(shape) != b.dims || b.dims == 0 && len(shape) > 2 {
		return nil, fmt.Errorf("-scale %s: shape %s does not fit the loss (see lossbench -h)", name, base)
	}
	axis := scaleAxis[name]
	if axis >= len(shape) {
		axis = 0
	}
	per := elems(shape) / shape[axis]
	d := 1
	for per*d < scaleMin {
		d *= 2
	}
	var out []sweepCase
	for ; per*d <= maxElems; d *= 2 {
		s := slices.Clone(shape)
		s[axis] = d
		out = append(out, sweepCase{b, s})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-scale %s: shape %s with dimension %d set to %d has %d elements, over -scale-max %d",
			name, base, axis, d, per*d, maxElems)
	}
	return out, nil
}
