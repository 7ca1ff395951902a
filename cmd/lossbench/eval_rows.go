package main

import (
	"strings"

	"github.com/lossengine/lossengine/losses"
)

// The row-wise losses of package losses (losses/rowloss.go) in
// "lossbench eval". All take input [N, C]:
//
//	cross_entropy      target [N, C] of probabilities (the same shape as
//	                   input, as PyTorch decides): reduction, weight,
//	                   label_smoothing; ignore_index must stay negative
//	                   (PyTorch rejects it for probability targets).
//	                   grads: input, target.
//	nll_loss           input log-probabilities, target [N]: reduction,
//	                   weight, ignore_index. grads: input.
//	focal_loss         logits, target [N]: reduction, alpha [C], gamma
//	                   (default 2), ignore_index. grads: input.
//	multi_margin_loss  target [N]: reduction, p (1 or 2), margin, weight.
//	                   grads: input.
//	categorical_hinge  Keras' y_pred as input, y_true [N, C] as target:
//	                   reduction (mean: over N, Keras' default). grads: input.
//	distill_kl         student logits as input, teacher logits [N, C] as
//	                   target: temperature, reduction batchmean (default:
//	                   the sum over rows / N), sum or none; "mean" is
//	                   refused, since PyTorch's kl_div "mean" also divides
//	                   by C. The loss is τ²·KL(softmax(t/τ) || softmax(s/τ)).
//	                   grads: input.
func init() {
	ce := registry["cross_entropy"]
	classIndex := ce.run
	ce.run = func(c *evalCase) (*evalResponse, error) {
		x, t := c.inputs["input"], c.inputs["target"]
		if len(t.shape) == 2 && sameShape(x.shape, t.shape) {
			return byDType(c, evalCrossEntropyProbs[float32], evalCrossEntropyProbs[float64])
		}
		return classIndex(c)
	}
	registry["cross_entropy"] = ce

	registry["nll_loss"] = lossEntry{
		inputs:   []string{"input", "target"},
		optional: []string{"sample_weight", "mask"},
		options:  []string{"reduction", "weight", "ignore_index"},
		run:      func(c *evalCase) (*evalResponse, error) { return byDType(c, evalNLL[float32], evalNLL[float64]) },
	}
	registry["focal_loss"] = lossEntry{
		inputs:   []string{"input", "target"},
		optional: []string{"sample_weight", "mask"},
		options:  []string{"reduction", "alpha", "gamma", "ignore_index"},
		run:      func(c *evalCase) (*evalResponse, error) { return byDType(c, evalFocal[float32], evalFocal[float64]) },
	}
	registry["multi_margin_loss"] = lossEntry{
		inputs:   []string{"input", "target"},
		optional: []string{"sample_weight", "mask"},
		options:  []string{"reduction", "p", "margin", "weight"},
		run: func(c *evalCase) (*evalResponse, error) {
			return byDType(c, evalMultiMargin[float32], evalMultiMargin[float64])
		},
	}
	registry["categorical_hinge"] = lossEntry{
		inputs:   []string{"input", "target"},
		optional: []string{"sample_weight", "mask"},
		options:  []string{"reduction"},
		run: func(c *evalCase) (*evalResponse, error) {
			return byDType(c, evalCategoricalHinge[float32], evalCategoricalHinge[float64])
		},
	}
	registry["distill_kl"] = lossEntry{
		inputs:   []string{"input", "target"},
		optional: []string{"sample_weight", "mask"},
		options:  []string{"reduction", "temperature"},
		run: func(c *evalCase) (*evalResponse, error) {
			return byDType(c, evalDistillKL[float32], evalDistillKL[float64])
		},
	}
}

// rowsInput checks that input is [N, C] and returns N and C.
func (c *evalCase) rowsInput() (int, int, error) {
	x := c.inputs["input"]
	if len(x.shape) != 2 {
		return 0, 0, c.errorf("input has shape %v: want [N, C]", x.shape)
	}
	return x.shape[0], x.shape[1], nil
}

// classTargets returns target [N] as class indices.
func (c *evalCase) classTargets(n int) ([]int32, error) {
	t := c.inputs["target"]
	if len(t.shape) != 1 || t.shape[0] != n {
		return nil, c.errorf("target has shape %v: want [N] = [%d] (class indices)", t.shape, n)
	}
	return c.ints("target", t)
}

// floatTargets returns target, which must be shaped like input.
func (c *evalCase) floatTargets() (*tensor, error) {
	x, t := c.inputs["input"], c.inputs["target"]
	if !sameShape(x.shape, t.shape) {
		return nil, c.errorf("target has shape %v: want the input's shape %v", t.shape, x.shape)
	}
	return t, nil
}

// rowResponse is the response of a row loss: the loss and grads.input
// (and grads.target when the result has it).
func rowResponse[T losses.Float](c *evalCase, res *losses.Result[T], red losses.Reduction) *evalResponse {
	x := c.inputs["input"]
	r := &evalResponse{
		Loss:  c.lossValue(fromT(res.Loss), red),
		Grads: map[string]tensorOut{"input": c.tensorOut(x.shape, fromT(res.Grad))},
	}
	if res.GradTarget != nil {
		r.Grads["target"] = c.tensorOut(x.shape, fromT(res.GradTarget))
	}
	return r
}

func evalCrossEntropyProbs[T losses.Float](c *evalCase) (*evalResponse, error) {
	n, k, err := c.rowsInput()
	if err != nil {
		return nil, err
	}
	var opt losses.CrossEntropyProbsOptions
	if opt.Reduction, err = c.optReduction(); err != nil {
		return nil, err
	}
	if opt.Weight, err = c.optFloats("weight"); err != nil {
		return nil, err
	}
	if opt.LabelSmoothing, err = c.optFloat("label_smoothing", 0); err != nil {
		return nil, err
	}
	ig, err := c.optInt("ignore_index")
	if err != nil {
		return nil, err
	}
	if ig != nil && *ig >= 0 {
		return nil, c.errorf("option \"ignore_index\" = %d: not supported with probability targets (as in PyTorch)", *ig)
	}
	pol, err := c.optNaN()
	if err != nil {
		return nil, err
	}
	if pol != losses.NaNPropagate {
		return nil, c.errorf("option \"nan_policy\": only propagate is supported with probability targets")
	}
	res, err := losses.CrossEntropyProbsSlices(c.dev, toT[T](c.inputs["input"].data), toT[T](c.inputs["target"].data), n, k, opt)
	if err != nil {
		return nil, err
	}
	return rowResponse(c, res, opt.Reduction), nil
}

func evalNLL[T losses.Float](c *evalCase) (*evalResponse, error) {
	n, k, err := c.rowsInput()
	if err != nil {
		return nil, err
	}
	tg, err := c.classTargets(n)
	if err != nil {
		return nil, err
	}
	var opt losses.NLLLossOptions
	if opt.Reduction, err = c.optReduction(); err != nil {
		return nil, err
	}
	if opt.SampleWeight, opt.Mask, err = c.rowExtras(n); err != nil {
		return nil, err
	}
	if opt.Weight, err = c.optFloats("weight"); err != nil {
		return nil, err
	}
	if opt.IgnoreIndex, err = c.optInt("ignore_index"); err != nil {
		return nil, err
	}
	res, err := losses.NLLLossSlices(c.dev, toT[T](c.inputs["input"].data), tg, n, k, opt)
	if err != nil {
		return nil, err
	}
	return rowResponse(c, res, opt.Reduction), nil
}

func evalFocal[T losses.Float](c *evalCase) (*evalResponse, error) {
	n, k, err := c.rowsInput()
	if err != nil {
		return nil, err
	}
	tg, err := c.classTargets(n)
	if err != nil {
		return nil, err
	}
	var opt losses.FocalLossOptions
	if opt.Reduction, err = c.optReduction(); err != nil {
		return nil, err
	}
	if opt.SampleWeight, opt.Mask, err = c.rowExtras(n); err != nil {
		return nil, err
	}
	if opt.Alpha, err = c.optFloats("alpha"); err != nil {
		return nil, err
	}
	g, err := c.optFloat("gamma", 2)
	if err != nil {
		return nil, err
	}
	opt.Gamma = &g
	if opt.IgnoreIndex, err = c.optInt("ignore_index"); err != nil {
		return nil, err
	}
	res, err := losses.FocalLossSlices(c.dev, toT[T](c.inputs["input"].data), tg, n, k, opt)
	if err != nil {
		return nil, err
	}
	return rowResponse(c, res, opt.Reduction), nil
}

func evalMultiMargin[T losses.Float](c *evalCase) (*evalResponse, error) {
	n, k, err := c.rowsInput()
	if err != nil {
		return nil, err
	}
	tg, err := c.classTargets(n)
	if err != nil {
		return nil, err
	}
	var opt losses.MultiMarginOptions
	if opt.Reduction, err = c.optReduction(); err != nil {
		return nil, err
	}
	if opt.SampleWeight, opt.Mask, err = c.rowExtras(n); err != nil {
		return nil, err
	}
	p, err := c.optInt("p")
	if err != nil {
		return nil, err
	}
	if p != nil {
		if *p != 1 && *p != 2 {
			return nil, c.errorf("option \"p\" = %d: want 1 or 2", *p)
		}
		opt.P = *p
	}
	m, err := c.optFloat("margin", 1)
	if err != nil {
		return nil, err
	}
	opt.Margin = &m
	if opt.Weight, err = c.optFloats("weight"); err != nil {
		return nil, err
	}
	res, err := losses.MultiMarginLossSlices(c.dev, toT[T](c.inputs["input"].data), tg, n, k, opt)
	if err != nil {
		return nil, err
	}
	return rowResponse(c, res, opt.Reduction), nil
}

func evalCategoricalHinge[T losses.Float](c *evalCase) (*evalResponse, error) {
	n, k, err := c.rowsInput()
	if err != nil {
		return nil, err
	}
	t, err := c.floatTargets()
	if err != nil {
		return nil, err
	}
	var opt losses.CategoricalHingeOptions
	if opt.Reduction, err = c.optReduction(); err != nil {
		return nil, err
	}
	if opt.SampleWeight, opt.Mask, err = c.rowExtras(n); err != nil {
		return nil, err
	}
	res, err := losses.CategoricalHingeSlices(c.dev, toT[T](c.inputs["input"].data), toT[T](t.data), n, k, opt)
	if err != nil {
		return nil, err
	}
	return rowResponse(c, res, opt.Reduction), nil
}

func evalDistillKL[T losses.Float](c *evalCase) (*evalResponse, error) {
	n, k, err := c.rowsInput()
	if err != nil {
		return nil, err
	}
	t, err := c.floatTargets()
	if err != nil {
		return nil, err
	}
	var opt losses.DistillKLOptions
	s, err := c.optString("reduction")
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(s) {
	case "", "batchmean":
		opt.Reduction = losses.Mean
	case "sum":
		opt.Reduction = losses.Sum
	case "none":
		opt.Reduction = losses.None
	case "mean":
		return nil, c.errorf("option \"reduction\": \"mean\" is ambiguous here: use \"batchmean\" (the sum over rows / N; PyTorch's kl_div \"mean\" would also divide by C)")
	default:
		return nil, c.errorf("option \"reduction\": %q is not one of none, batchmean, sum", s)
	}
	if opt.SampleWeight, opt.Mask, err = c.rowExtras(n); err != nil {
		return nil, err
	}
	tau, err := c.optFloat("temperature", 1)
	if err != nil {
		return nil, err
	}
	if tau == 0 {
		return nil, c.errorf("option \"temperature\" must be positive, got 0")
	}
	opt.Temperature = losses.Temperature(tau)
	res, err := losses.DistillKLSlices(c.dev, toT[T](c.inputs["input"].data), toT[T](t.data), n, k, opt)
	if err != nil {
		return nil, err
	}
	return rowResponse(c, res, opt.Reduction), nil
}

// rowExtras reads the optional per-row inputs sample_weight and mask
// (shape [N]; mask values 0 drop the row).
func (c *evalCase) rowExtras(n int) ([]float64, []bool, error) {
	var sw []float64
	var mask []bool
	if t := c.inputs["sample_weight"]; t != nil {
		if len(t.shape) != 1 || t.shape[0] != n {
			return nil, nil, c.errorf("sample_weight has shape %v: want [%d] (one weight per row)", t.shape, n)
		}
		sw = t.data
	}
	if t := c.inputs["mask"]; t != nil {
		if len(t.shape) != 1 || t.shape[0] != n {
			return nil, nil, c.errorf("mask has shape %v: want [%d] (one per row)", t.shape, n)
		}
		mask = make([]bool, n)
		for i, v := range t.data {
			mask[i] = v != 0
		}
	}
	return sw, mask, nil
}
