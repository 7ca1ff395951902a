package losstest

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// PointwiseDomain returns input, target and aux (var or pos_weight) values in
// loss p's domain, rounded to float32. scale stretches logit inputs.
func PointwiseDomain(r *rand.Rand, p losses.Pointwise, n, naux int, scale float64) (x, y, a []float64) {
	x, y, a = make([]float64, n), make([]float64, n), make([]float64, naux)
	for i := range x {
		x[i], y[i] = r.NormFloat64()*scale, r.NormFloat64()
		switch p {
		case losses.BinaryCrossEntropy:
			x[i], y[i] = r.Float64(), r.Float64()
			if i%17 == 0 {
				x[i] = float64(i % 2) // exactly 0 or 1: the log clamp
			}
		case losses.BinaryCrossEntropyWithLogits, losses.SigmoidFocal:
			y[i] = r.Float64()
		case losses.HingeEmbedding, losses.SoftMargin, losses.Hinge, losses.SquaredHinge:
			y[i] = float64(2*r.IntN(2) - 1)
		case losses.KLDiv:
			y[i] = r.Float64()
		case losses.PoissonNLL, losses.MeanSquaredLogarithmicError:
			x[i], y[i] = r.Float64()*3, r.Float64()*4
		case losses.MeanAbsolutePercentageError:
			y[i] = math.Copysign(0.1+r.Float64(), y[i])
		}
	}
	for i := range a {
		a[i] = 0.1 + 2*r.Float64()
	}
	return roundTo32(x), roundTo32(y), roundTo32(a)
}

// pwCase is one elementwise loss over [rows, cols]: with extras, a per-row
// weight, a mask that keeps two elements in three, and a per-row var or a
// per-column pos_weight; otherwise full-shape var (gaussian_nll_loss).
func pwCase(p losses.Pointwise, rows, cols int, extras bool, scale float64, opt losses.PointwiseOptions) Case {
	n := rows * cols
	r := rand.New(rand.NewPCG(uint64(n)+uint64(p), 11))
	naux := n
	if extras && p == losses.GaussianNLL {
		naux = rows
	}
	if p == losses.BinaryCrossEntropyWithLogits {
		naux = cols
	}
	x, y, a := PointwiseDomain(r, p, n, naux, scale)
	d := losses.PointwiseData[float64]{Input: x, Target: y, Rows: rows}
	if extras {
		d.Weight, d.WeightBcast = roundTo32(logits(r, rows, 1)), losses.PerRow(rows, cols)
		d.Mask = make([]bool, n)
		for i := range d.Mask {
			d.Mask[i] = i%3 != 2
		}
	}
	switch p {
	case losses.GaussianNLL:
		d.Var = a
		if extras {
			d.VarBcast = losses.PerRow(rows, cols)
		}
	case losses.BinaryCrossEntropyWithLogits:
		if extras {
			d.PosWeight = a
		}
	}
	name := fmt.Sprintf("%s/%dx%d/%s", p, rows, cols, opt.Reduction)
	if extras {
		name += "/weight+mask"
	}
	if scale != 1 {
		name += fmt.Sprintf("/scale=%g", scale)
	}
	return Case{Name: name, Tol: 5e-5,
		Run: func(dev device.Device, f64 bool) (Outputs, error) {
			if f64 {
				res, err := losses.PointwiseLossSlices(dev, p, d, opt)
				if err != nil {
					return Outputs{}, err
				}
				return outputs(res), nil
			}
			d32 := losses.PointwiseData[float32]{Input: to32(d.Input), Target: to32(d.Target), WeightBcast: d.WeightBcast,
				Mask: d.Mask, VarBcast: d.VarBcast, Rows: d.Rows}
			if d.Weight != nil {
				d32.Weight = to32(d.Weight)
			}
			if d.Var != nil {
				d32.Var = to32(d.Var)
			}
			if d.PosWeight != nil {
				d32.PosWeight = to32(d.PosWeight)
			}
			res, err := losses.PointwiseLossSlices(dev, p, d32, opt)
			if err != nil {
				return Outputs{}, err
			}
			return outputs(res), nil
		}}
}

// pointwiseCases covers every elementwise loss: reductions, odd sizes,
// weights and masks, an empty input, an all-masked input and logits of
// ±1e4 for the losses that take logits.
func pointwiseCases() []Case {
	var cs []Case
	for _, p := range losses.PointwiseLosses() {
		red := []losses.Reduction{losses.Mean, losses.Sum, losses.None}
		if p == losses.KLDiv {
			red = append(red, losses.BatchMean)
		}
		for _, rd := range red {
			cs = append(cs, pwCase(p, 37, 7, true, 1, losses.PointwiseOptions{Reduction: rd}))
		}
		cs = append(cs,
			pwCase(p, 257, 255, false, 1, losses.PointwiseOptions{}),
			pwCase(p, 0, 3, false, 1, losses.PointwiseOptions{}),
		)
		switch p {
		case losses.BinaryCrossEntropyWithLogits, losses.SigmoidFocal, losses.SoftMargin, losses.LogCosh,
			losses.Hinge, losses.Huber, losses.L1:
			cs = append(cs, pwCase(p, 5, 3, false, 1e4, losses.PointwiseOptions{Reduction: losses.None}))
		case losses.PoissonNLL:
			cs = append(cs, pwCase(p, 9, 5, true, 1, losses.PointwiseOptions{NoLogInput: true, Full: true}))
		case losses.GaussianNLL:
			cs = append(cs, pwCase(p, 9, 5, true, 1, losses.PointwiseOptions{Full: true, Eps: ptr(0.5)}))
		case losses.KLDiv:
			cs = append(cs, pwCase(p, 9, 5, false, 1, losses.PointwiseOptions{LogTarget: true}))
		}
	}
	// All masked: the mean of nothing.
	cs = append(cs, allMasked())
	return cs
}

func ptr(v float64) *float64 { return &v }

// allMasked is huber_loss with every element masked out: NaN loss, zero
// gradients.
func allMasked() Case {
	x := []float64{1, 2, 3, 4}
	mask := make([]bool, 4)
	return Case{Name: "huber_loss/all-masked", Tol: 0,
		Run: func(dev device.Device, f64 bool) (Outputs, error) {
			if f64 {
				res, err := losses.PointwiseLossSlices(dev, losses.Huber, losses.PointwiseData[float64]{Input: x, Target: x[:4], Mask: mask}, losses.PointwiseOptions{})
				if err != nil {
					return Outputs{}, err
				}
				return outputs(res), nil
			}
			res, err := losses.PointwiseLossSlices(dev, losses.Huber, losses.PointwiseData[float32]{Input: to32(x), Target: to32(x), Mask: mask}, losses.PointwiseOptions{})
			if err != nil {
				return Outputs{}, err
			}
			return outputs(res), nil
		}}
}
