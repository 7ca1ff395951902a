package main

import (
	"math"

	"github.com/lossengine/lossengine/losses"
)

// lossEntry is one loss (or op) that "lossbench eval" computes.
type lossEntry struct {
	inputs   []string // required inputs
	optional []string // optional inputs
	options  []string // accepted option keys
	run      func(*evalCase) (*evalResponse, error)
}

// registry maps a loss name to its entry. A new loss is one entry here plus
// its run function.
var registry = map[string]lossEntry{
	"cross_entropy": {
		inputs:  []string{"input", "target"},
		options: []string{"reduction", "ignore_index", "label_smoothing", "weight", "nan_policy"},
		run: func(c *evalCase) (*evalResponse, error) {
			return byDType(c, evalCrossEntropy[float32], evalCrossEntropy[float64])
		},
	},
	"mse_loss": {
		inputs:  []string{"input", "target"},
		options: []string{"reduction", "nan_policy"},
		run: func(c *evalCase) (*evalResponse, error) {
			return byDType(c, evalMSE[float32], evalMSE[float64])
		},
	},
	"softmax":     rowOpEntry(losses.OpSoftmax),
	"log_softmax": rowOpEntry(losses.OpLogSoftmax),
	"logsumexp":   rowOpEntry(losses.OpLogSumExp),
}

func evalCrossEntropy[T losses.Float](c *evalCase) (*evalResponse, error) {
	x, t := c.inputs["input"], c.inputs["target"]
	if len(x.shape) != 2 {
		return nil, c.errorf("input has shape %v: want [N, C] (class-index targets on 2-D input only)", x.shape)
	}
	n, k := x.shape[0], x.shape[1]
	if len(t.shape) != 1 || t.shape[0] != n {
		return nil, c.errorf("target has shape %v: want [N] = [%d] (class indices)", t.shape, n)
	}
	tg := make([]int32, n)
	for i, v := range t.data {
		if v != math.Trunc(v) || v < math.MinInt32 || v > math.MaxInt32 {
			return nil, c.errorf("target[%d] = %v is not an int32 class index", i, v)
		}
		tg[i] = int32(v)
	}
	var opt losses.CrossEntropyOptions
	var err error
	if opt.Reduction, err = c.optReduction(); err != nil {
		return nil, err
	}
	if opt.IgnoreIndex, err = c.optInt("ignore_index"); err != nil {
		return nil, err
	}
	if opt.LabelSmoothing, err = c.optFloat("label_smoothing", 0); err != nil {
		return nil, err
	}
	if opt.Weight, err = c.optFloats("weight"); err != nil {
		return nil, err
	}
	if opt.NaN, err = c.optNaN(); err != nil {
		return nil, err
	}
	res, err := losses.CrossEntropySlices(c.dev, toT[T](x.data), tg, n, k, opt)
	if err != nil {
		return nil, err
	}
	return &evalResponse{
		Loss:  c.lossValue(fromT(res.Loss), opt.Reduction),
		Grads: map[string]tensorOut{"input": c.tensorOut(x.shape, fromT(res.Grad))},
	}, nil
}

func evalMSE[T losses.Float](c *evalCase) (*evalResponse, error) {
	x, t := c.inputs["input"], c.inputs["target"]
	if !sameShape(x.shape, t.shape) {
		return nil, c.errorf("target has shape %v but input has shape %v: they must be equal (no broadcasting)", t.shape, x.shape)
	}
	var opt losses.MSEOptions
	var err error
	if opt.Reduction, err = c.optReduction(); err != nil {
		return nil, err
	}
	if opt.NaN, err = c.optNaN(); err != nil {
		return nil, err
	}
	res, err := losses.MSELossSlices(c.dev, toT[T](x.data), toT[T](t.data), opt)
	if err != nil {
		return nil, err
	}
	return &evalResponse{
		Loss: c.lossValue(fromT(res.Loss), opt.Reduction),
		Grads: map[string]tensorOut{
			"input":  c.tensorOut(x.shape, fromT(res.Grad)),
			"target": c.tensorOut(t.shape, fromT(res.GradTarget)),
		},
	}, nil
}

// rowOpEntry is the entry of a softmax-family op over the last dimension:
// "output" is the op's result and grads.input the gradient of
// Σ grad_output·output (grad_output defaults to ones).
func rowOpEntry(op losses.RowOp) lossEntry {
	opts := []string{"dim", "temperature"}
	if op == losses.OpLogSumExp {
		opts = append(opts, "keepdim")
	}
	return lossEntry{
		inputs:   []string{"input"},
		optional: []string{"grad_output"},
		options:  opts,
		run: func(c *evalCase) (*evalResponse, error) {
			return byDType(c,
				func(c *evalCase) (*evalResponse, error) { return evalRowOp[float32](c, op) },
				func(c *evalCase) (*evalResponse, error) { return evalRowOp[float64](c, op) })
		},
	}
}

func evalRowOp[T losses.Float](c *evalCase, op losses.RowOp) (*evalResponse, error) {
	x := c.inputs["input"]
	nd := len(x.shape)
	if nd == 0 {
		return nil, c.errorf("input is a scalar: want at least one dimension")
	}
	dim, err := c.optInt("dim")
	if err != nil {
		return nil, err
	}
	if dim != nil && *dim != -1 && *dim != nd-1 {
		return nil, c.errorf("option \"dim\" = %d: only the last dimension (-1 or %d) is supported", *dim, nd-1)
	}
	tau, err := c.optFloat("temperature", 1)
	if err != nil {
		return nil, err
	}
	if tau == 0 {
		return nil, c.errorf("option \"temperature\" must be positive, got 0")
	}
	keepdim, err := c.optBool("keepdim")
	if err != nil {
		return nil, err
	}
	cols := x.shape[nd-1]
	rows := 1
	for _, d := range x.shape[:nd-1] {
		rows *= d
	}
	outShape := append([]int{}, x.shape...)
	if op == losses.OpLogSumExp {
		if keepdim {
			outShape[nd-1] = 1
		} else {
			outShape = outShape[:nd-1]
		}
	}
	var dy []T
	if g := c.inputs["grad_output"]; g != nil {
		if !sameShape(g.shape, outShape) {
			return nil, c.errorf("grad_output has shape %v: want the output's shape %v", g.shape, outShape)
		}
		dy = toT[T](g.data)
	}
	res, err := losses.RowOpSlices(c.dev, op, toT[T](x.data), rows, cols, losses.Temperature(tau), dy)
	if err != nil {
		return nil, err
	}
	out := c.tensorOut(outShape, fromT(res.Loss))
	return &evalResponse{
		Output: &out,
		Grads:  map[string]tensorOut{"input": c.tensorOut(x.shape, fromT(res.Grad))},
	}, nil
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
