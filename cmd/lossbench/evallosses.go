package main

import (
	"math"
	"strings"

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
	"ctc_loss": {
		inputs:  []string{"log_probs", "targets", "input_lengths", "target_lengths"},
		options: []string{"blank", "reduction", "zero_infinity", "logits", "batch_first", "grad_mode"},
		run: func(c *evalCase) (*evalResponse, error) {
			return byDType(c, evalCTC[float32], evalCTC[float64])
		},
	},
	"seq_cross_entropy": {
		inputs:  []string{"input", "target"},
		options: []string{"ignore_index", "label_smoothing", "normalization"},
		run: func(c *evalCase) (*evalResponse, error) {
			return byDType(c, evalSeqCE[float32], evalSeqCE[float64])
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

// ints converts a tensor of integral values to int32.
func (c *evalCase) ints(name string, t *tensor) ([]int32, error) {
	out := make([]int32, len(t.data))
	for i, v := range t.data {
		if v != math.Trunc(v) || v < math.MinInt32 || v > math.MaxInt32 {
			return nil, c.errorf("%s[%d] = %v is not an int32", name, i, v)
		}
		out[i] = int32(v)
	}
	return out, nil
}

// evalCTC: log_probs [T, N, C] ([N, T, C] with batch_first), targets
// [N, S] padded or 1-D concatenated, input_lengths and target_lengths [N].
func evalCTC[T losses.Float](c *evalCase) (*evalResponse, error) {
	x, tg := c.inputs["log_probs"], c.inputs["targets"]
	il, tl := c.inputs["input_lengths"], c.inputs["target_lengths"]
	var opt losses.CTCOptions
	var err error
	if opt.Reduction, err = c.optReduction(); err != nil {
		return nil, err
	}
	blank, err := c.optInt("blank")
	if err != nil {
		return nil, err
	}
	if blank != nil {
		opt.Blank = *blank
	}
	if opt.ZeroInfinity, err = c.optBool("zero_infinity"); err != nil {
		return nil, err
	}
	if opt.Logits, err = c.optBool("logits"); err != nil {
		return nil, err
	}
	if opt.BatchFirst, err = c.optBool("batch_first"); err != nil {
		return nil, err
	}
	mode, err := c.optString("grad_mode")
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(mode) {
	case "", "exact":
		opt.GradMode = losses.CTCGradExact
	case "pytorch":
		opt.GradMode = losses.CTCGradPyTorch
	default:
		return nil, c.errorf("option \"grad_mode\": %q is not one of exact, pytorch", mode)
	}
	if len(x.shape) != 3 {
		layout := "[T, N, C]"
		if opt.BatchFirst {
			layout = "[N, T, C]"
		}
		return nil, c.errorf("log_probs has shape %v: want %s", x.shape, layout)
	}
	tt, n, k := x.shape[0], x.shape[1], x.shape[2]
	if opt.BatchFirst {
		tt, n = n, tt
	}
	in := losses.CTCSlices[T]{Input: toT[T](x.data), T: tt, N: n, C: k}
	switch len(tg.shape) {
	case 1:
	case 2:
		if tg.shape[0] != n {
			return nil, c.errorf("targets has shape %v: padded targets want [N, S] with N = %d", tg.shape, n)
		}
		in.TargetsPadded = tg.shape[1]
	default:
		return nil, c.errorf("targets has shape %v: want [N, S] (padded) or 1-D (concatenated)", tg.shape)
	}
	for _, p := range []struct {
		name string
		t    *tensor
		dst  *[]int32
	}{{"targets", tg, &in.Targets}, {"input_lengths", il, &in.InputLengths}, {"target_lengths", tl, &in.TargetLengths}} {
		if p.name != "targets" && (len(p.t.shape) != 1 || p.t.shape[0] != n) {
			return nil, c.errorf("%s has shape %v: want [N] = [%d]", p.name, p.t.shape, n)
		}
		if *p.dst, err = c.ints(p.name, p.t); err != nil {
			return nil, err
		}
	}
	res, err := losses.CTCLossSlices(c.dev, in, opt)
	if err != nil {
		return nil, err
	}
	return &evalResponse{
		Loss:  c.lossValue(fromT(res.Loss), opt.Reduction),
		Grads: map[string]tensorOut{"log_probs": c.tensorOut(x.shape, fromT(res.Grad))},
	}, nil
}

// evalSeqCE: input [N, T, V] decoder logits, target [N, T] token ids.
func evalSeqCE[T losses.Float](c *evalCase) (*evalResponse, error) {
	x, tg := c.inputs["input"], c.inputs["target"]
	if len(x.shape) != 3 {
		return nil, c.errorf("input has shape %v: want [N, T, V]", x.shape)
	}
	n, tt, v := x.shape[0], x.shape[1], x.shape[2]
	if len(tg.shape) != 2 || tg.shape[0] != n || tg.shape[1] != tt {
		return nil, c.errorf("target has shape %v: want [N, T] = [%d, %d]", tg.shape, n, tt)
	}
	targets, err := c.ints("target", tg)
	if err != nil {
		return nil, err
	}
	var opt losses.SeqCrossEntropyOptions
	if opt.PadIndex, err = c.optInt("ignore_index"); err != nil {
		return nil, err
	}
	if opt.LabelSmoothing, err = c.optFloat("label_smoothing", 0); err != nil {
		return nil, err
	}
	norm, err := c.optString("normalization")
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(norm) {
	case "", "token":
		opt.Normalization = losses.SeqNormToken
	case "sequence":
		opt.Normalization = losses.SeqNormSequence
	default:
		return nil, c.errorf("option \"normalization\": %q is not one of token, sequence", norm)
	}
	res, err := losses.SeqCrossEntropySlices(c.dev, toT[T](x.data), targets, n, tt, v, opt)
	if err != nil {
		return nil, err
	}
	return &evalResponse{
		Loss:  c.lossValue(fromT(res.Loss), losses.Mean),
		Grads: map[string]tensorOut{"input": c.tensorOut(x.shape, fromT(res.Grad))},
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
