package main

import (
	"strconv"

	"github.com/lossengine/lossengine/losses"
)

// The elementwise losses: one entry each, all through evalPointwise.
func init() {
	for _, p := range losses.PointwiseLosses() {
		opts := []string{"reduction", "nan_policy", "skip_input_check"}
		optional := []string{"weight", "mask"}
		switch p {
		case losses.Huber:
			opts = append(opts, "delta")
		case losses.SmoothL1:
			opts = append(opts, "beta")
		case losses.MeanAbsolutePercentageError, losses.MeanSquaredLogarithmicError:
			opts = append(opts, "eps")
		case losses.SigmoidFocal:
			opts = append(opts, "alpha", "gamma")
		case losses.HingeEmbedding:
			opts = append(opts, "margin")
		case losses.KLDiv:
			opts = append(opts, "log_target")
		case losses.PoissonNLL:
			opts = append(opts, "log_input", "full", "eps")
		case losses.GaussianNLL:
			opts = append(opts, "full", "eps")
		case losses.BinaryCrossEntropyWithLogits:
			optional = append(optional, "pos_weight")
		}
		inputs := []string{"input", "target"}
		if p == losses.GaussianNLL {
			inputs = append(inputs, "var")
		}
		registry[p.Name()] = lossEntry{inputs: inputs, optional: optional, options: opts,
			run: func(c *evalCase) (*evalResponse, error) {
				return byDType(c,
					func(c *evalCase) (*evalResponse, error) { return evalPointwise[float32](c, p) },
					func(c *evalCase) (*evalResponse, error) { return evalPointwise[float64](c, p) })
			}}
	}
}

// bcastOf maps a tensor that broadcasts against shape (NumPy rules) onto a
// losses.Bcast: its dimensions other than 1, after left-padding with 1s,
// must be one contiguous run equal to shape's.
func (c *evalCase) bcastOf(name string, t, shape []int) (losses.Bcast, error) {
	if len(t) > len(shape) {
		return losses.Bcast{}, c.errorf("%s has shape %v, which does not broadcast to input's %v", name, t, shape)
	}
	pad := make([]int, len(shape)-len(t), len(shape))
	for i := range pad {
		pad[i] = 1
	}
	pad = append(pad, t...)
	lo, hi := -1, -1
	for i, d := range pad {
		if d == 1 && shape[i] != 1 {
			continue
		}
		if d != shape[i] {
			return losses.Bcast{}, c.errorf("%s has shape %v, which does not broadcast to input's %v", name, t, shape)
		}
		if d == 1 {
			continue
		}
		if lo < 0 {
			lo = i
		} else if hi != i {
			return losses.Bcast{}, c.errorf("%s has shape %v: only one contiguous run of broadcast dimensions is supported against %v", name, t, shape)
		}
		hi = i + 1
	}
	if lo < 0 {
		return losses.Scalar(), nil
	}
	b := losses.Bcast{Len: 1, Stride: 1}
	for _, d := range shape[lo:hi] {
		b.Len *= d
	}
	for _, d := range shape[hi:] {
		b.Stride *= d
	}
	return b, nil
}

func evalPointwise[T losses.Float](c *evalCase, p losses.Pointwise) (*evalResponse, error) {
	x, t := c.inputs["input"], c.inputs["target"]
	if !sameShape(x.shape, t.shape) {
		return nil, c.errorf("target has shape %v but input has shape %v: they must be equal (no broadcasting)", t.shape, x.shape)
	}
	var opt losses.PointwiseOptions
	var err error
	if opt.Reduction, err = c.optReduction(); err != nil {
		return nil, err
	}
	if opt.NaN, err = c.optNaN(); err != nil {
		return nil, err
	}
	if opt.SkipInputCheck, err = c.optBool("skip_input_check"); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		dst  **float64
	}{{"delta", &opt.Delta}, {"beta", &opt.Beta}, {"margin", &opt.Margin}, {"alpha", &opt.Alpha}, {"gamma", &opt.Gamma}, {"eps", &opt.Eps}} {
		if _, ok := c.opt(f.name); !ok {
			continue
		}
		v, err := c.optFloat(f.name, 0)
		if err != nil {
			return nil, err
		}
		*f.dst = &v
	}
	if opt.LogTarget, err = c.optBool("log_target"); err != nil {
		return nil, err
	}
	if opt.Full, err = c.optBool("full"); err != nil {
		return nil, err
	}
	if _, ok := c.opt("log_input"); ok {
		li, err := c.optBool("log_input")
		if err != nil {
			return nil, err
		}
		opt.NoLogInput = !li
	}
	d := losses.PointwiseData[T]{Input: toT[T](x.data), Target: toT[T](t.data)}
	if len(x.shape) > 0 {
		d.Rows = x.shape[0]
	}
	if w := c.inputs["weight"]; w != nil {
		if d.WeightBcast, err = c.bcastOf("weight", w.shape, x.shape); err != nil {
			return nil, err
		}
		d.Weight = toT[T](w.data)
	}
	if m := c.inputs["mask"]; m != nil {
		if d.MaskBcast, err = c.bcastOf("mask", m.shape, x.shape); err != nil {
			return nil, err
		}
		d.Mask = make([]bool, len(m.data))
		for i, v := range m.data {
			d.Mask[i] = v != 0
		}
	}
	if pw := c.inputs["pos_weight"]; pw != nil {
		if len(x.shape) == 0 || len(pw.shape) != 1 || pw.shape[0] != x.shape[len(x.shape)-1] {
			return nil, c.errorf("pos_weight has shape %v: want [%s] (one value per class, the last dimension of input)", pw.shape, lastDim(x.shape))
		}
		d.PosWeight = toT[T](pw.data)
	}
	v := c.inputs["var"]
	if v != nil {
		vs := v.shape
		// PyTorch accepts var with input's shape minus the last dimension.
		if len(x.shape) > 0 && sameShape(vs, x.shape[:len(x.shape)-1]) && !sameShape(vs, x.shape) {
			vs = append(append([]int{}, vs...), 1)
		}
		if d.VarBcast, err = c.bcastOf("var", vs, x.shape); err != nil {
			return nil, err
		}
		d.Var = toT[T](v.data)
	}
	res, err := losses.PointwiseLossSlices(c.dev, p, d, opt)
	if err != nil {
		return nil, err
	}
	red := opt.Reduction
	out := &evalResponse{
		Loss:  c.lossValue(fromT(res.Loss), red),
		Grads: map[string]tensorOut{"input": c.tensorOut(x.shape, fromT(res.Grad))},
	}
	if res.GradTarget != nil {
		out.Grads["target"] = c.tensorOut(t.shape, fromT(res.GradTarget))
	}
	if v != nil {
		out.Grads["var"] = c.tensorOut(v.shape, fromT(res.GradVar))
	}
	return out, nil
}

func lastDim(s []int) string {
	if len(s) == 0 {
		return "C"
	}
	return strconv.Itoa(s[len(s)-1])
}
