package losstest

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// rowData are the inputs of a row-loss case: x [n, c], y [n, c] (logits or
// probabilities, by loss) and class targets tg [n].
type rowData struct {
	x, y []float64
	tg   []int32
}

// rowRun computes a row-loss case on dev from its inputs.
type rowRun func(dev device.Device, f64 bool, d rowData) (Outputs, error)

func outs[T losses.Float](res *losses.Result[T], err error) (Outputs, error) {
	if err != nil {
		return Outputs{}, err
	}
	return outputs(res), nil
}

// rowEq builds a row-loss case: random logits x (scale), y as soft
// probabilities (yKind "probs"), one-hot rows ("onehot") or logits
// ("logits", scale 2), random targets, then tweak.
func rowEq(loss, name string, n, c int, scale float64, yKind string, tol float64, tweak func(d *rowData), run rowRun) Case {
	r := rand.New(rand.NewPCG(uint64(n)*7919+uint64(c)*31+uint64(len(name)), 123))
	d := rowData{x: logits(r, n*c, scale), tg: make([]int32, n)}
	for i := range d.tg {
		d.tg[i] = int32(r.IntN(c))
	}
	switch yKind {
	case "probs":
		d.y = make([]float64, n*c)
		for i := 0; i < n; i++ {
			var s float64
			for k := 0; k < c; k++ {
				d.y[i*c+k] = r.ExpFloat64()
				s += d.y[i*c+k]
			}
			for k := 0; k < c; k++ {
				d.y[i*c+k] /= s
			}
		}
		d.y = roundTo32(d.y)
	case "onehot":
		d.y = make([]float64, n*c)
		for i := 0; i < n; i++ {
			d.y[i*c+int(d.tg[i])] = 1
		}
	default:
		d.y = logits(r, n*c, 2)
	}
	if tweak != nil {
		tweak(&d)
	}
	if tol == 0 {
		tol = 2e-5
	}
	return Case{Name: fmt.Sprintf("%s/%s/%dx%d", loss, name, n, c), Tol: tol,
		Run: func(dev device.Device, f64 bool) (Outputs, error) { return run(dev, f64, d) }}
}

func ceProbsRun(n, c int, opt losses.CrossEntropyProbsOptions) rowRun {
	return func(dev device.Device, f64 bool, d rowData) (Outputs, error) {
		if f64 {
			return outs(losses.CrossEntropyProbsSlices(dev, d.x, d.y, n, c, opt))
		}
		return outs(losses.CrossEntropyProbsSlices(dev, to32(d.x), to32(d.y), n, c, opt))
	}
}

func nllRun(n, c int, opt losses.NLLLossOptions) rowRun {
	return func(dev device.Device, f64 bool, d rowData) (Outputs, error) {
		if f64 {
			return outs(losses.NLLLossSlices(dev, d.x, d.tg, n, c, opt))
		}
		return outs(losses.NLLLossSlices(dev, to32(d.x), d.tg, n, c, opt))
	}
}

func focalRun(n, c int, opt losses.FocalLossOptions) rowRun {
	return func(dev device.Device, f64 bool, d rowData) (Outputs, error) {
		if f64 {
			return outs(losses.FocalLossSlices(dev, d.x, d.tg, n, c, opt))
		}
		return outs(losses.FocalLossSlices(dev, to32(d.x), d.tg, n, c, opt))
	}
}

func marginRun(n, c int, opt losses.MultiMarginOptions) rowRun {
	return func(dev device.Device, f64 bool, d rowData) (Outputs, error) {
		if f64 {
			return outs(losses.MultiMarginLossSlices(dev, d.x, d.tg, n, c, opt))
		}
		return outs(losses.MultiMarginLossSlices(dev, to32(d.x), d.tg, n, c, opt))
	}
}

func hingeRun(n, c int, opt losses.CategoricalHingeOptions) rowRun {
	return func(dev device.Device, f64 bool, d rowData) (Outputs, error) {
		if f64 {
			return outs(losses.CategoricalHingeSlices(dev, d.x, d.y, n, c, opt))
		}
		return outs(losses.CategoricalHingeSlices(dev, to32(d.x), to32(d.y), n, c, opt))
	}
}

func distillRun(n, c int, opt losses.DistillKLOptions) rowRun {
	return func(dev device.Device, f64 bool, d rowData) (Outputs, error) {
		if f64 {
			return outs(losses.DistillKLSlices(dev, d.x, d.y, n, c, opt))
		}
		return outs(losses.DistillKLSlices(dev, to32(d.x), to32(d.y), n, c, opt))
	}
}

// ignoreRows sets the targets of rows 0, 3, 6, ... to ig.
func ignoreRows(ig int32) func(d *rowData) {
	return func(d *rowData) {
		for i := 0; i < len(d.tg); i += 3 {
			d.tg[i] = ig
		}
	}
}

func ignoreAll(d *rowData) {
	for i := range d.tg {
		d.tg[i] = -100
	}
}

// RowLossCases are the equivalence rows of the row-wise losses
// (losses/rowloss.go): every reduction, the options, 1×1, empty batches,
// C past block multiples and up to 131072, logits of ±1e4, probabilities
// of exactly 0 and 1, ignored and all-ignored rows, -Inf logits and ties
// in categorical_hinge's maximum.
func RowLossCases() []Case {
	w := func(c int) []float64 {
		v := make([]float64, c)
		for i := range v {
			v[i] = 0.25 + float64(i%5)*0.5
		}
		return v
	}
	var cs []Case
	for _, red := range []losses.Reduction{losses.Mean, losses.Sum, losses.None} {
		rs := red.String()
		cs = append(cs,
			rowEq("cross_entropy_probs", "plain-"+rs, 3, 7, 2, "probs", 0, nil, ceProbsRun(3, 7, losses.CrossEntropyProbsOptions{Reduction: red})),
			rowEq("cross_entropy_probs", "weight+smooth-"+rs, 13, 7, 2, "probs", 0, nil,
				ceProbsRun(13, 7, losses.CrossEntropyProbsOptions{Reduction: red, Weight: w(7), LabelSmoothing: 0.2})),
			rowEq("nll_loss", "weight+ignore-"+rs, 13, 7, 2, "", 0, ignoreRows(4),
				nllRun(13, 7, losses.NLLLossOptions{Reduction: red, Weight: w(7), IgnoreIndex: losses.Index(4)})),
			rowEq("focal_loss", "alpha+ignore-"+rs, 13, 7, 2, "", 0, ignoreRows(-100),
				focalRun(13, 7, losses.FocalLossOptions{Reduction: red, Alpha: w(7)})),
			rowEq("multi_margin_loss", "p2+weight-"+rs, 13, 7, 2, "", 0, nil,
				marginRun(13, 7, losses.MultiMarginOptions{Reduction: red, P: 2, Margin: new(1.5), Weight: w(7)})),
			rowEq("categorical_hinge", "onehot-"+rs, 13, 7, 2, "onehot", 0, nil, hingeRun(13, 7, losses.CategoricalHingeOptions{Reduction: red})),
			rowEq("distill_kl", "tau2-"+rs, 13, 7, 2, "", 0, nil, distillRun(13, 7, losses.DistillKLOptions{Reduction: red, Temperature: 2})),
		)
	}
	for _, sh := range [][2]int{{1, 1}, {0, 5}, {17, 1000}, {5, 257}, {4, 32003}} {
		n, c := sh[0], sh[1]
		cs = append(cs,
			rowEq("cross_entropy_probs", "smooth", n, c, 2, "probs", 0, nil, ceProbsRun(n, c, losses.CrossEntropyProbsOptions{LabelSmoothing: 0.1})),
			rowEq("nll_loss", "plain", n, c, 2, "", 0, nil, nllRun(n, c, losses.NLLLossOptions{})),
			rowEq("focal_loss", "gamma0.5", n, c, 2, "", 0, nil, focalRun(n, c, losses.FocalLossOptions{Gamma: new(0.5)})),
			rowEq("multi_margin_loss", "plain", n, c, 1, "", 0, nil, marginRun(n, c, losses.MultiMarginOptions{Reduction: losses.Sum})),
			rowEq("categorical_hinge", "soft", n, c, 2, "probs", 0, nil, hingeRun(n, c, losses.CategoricalHingeOptions{Reduction: losses.None})),
			rowEq("distill_kl", "tau1", n, c, 2, "", 0, nil, distillRun(n, c, losses.DistillKLOptions{})),
		)
	}
	negInf := math.Inf(-1)
	cs = append(cs,
		rowEq("cross_entropy_probs", "wide-weight", 3, 131072, 2, "probs", 0, nil,
			ceProbsRun(3, 131072, losses.CrossEntropyProbsOptions{Weight: w(131072), Reduction: losses.None})),
		rowEq("distill_kl", "wide-tau4", 3, 131072, 2, "", 0, nil, distillRun(3, 131072, losses.DistillKLOptions{Temperature: 4})),
		// Logits of ±1e4 with one-hot (exactly 0 and 1) probabilities.
		rowEq("cross_entropy_probs", "extreme-onehot", 6, 33, 1e4, "onehot", 0, nil, ceProbsRun(6, 33, losses.CrossEntropyProbsOptions{Reduction: losses.None})),
		rowEq("nll_loss", "extreme", 6, 33, 1e4, "", 0, nil, nllRun(6, 33, losses.NLLLossOptions{})),
		rowEq("focal_loss", "extreme", 6, 33, 1e4, "", 0, nil, focalRun(6, 33, losses.FocalLossOptions{Reduction: losses.None})),
		rowEq("focal_loss", "extreme-gamma0.5", 6, 33, 1e4, "", 0, nil, focalRun(6, 33, losses.FocalLossOptions{Gamma: new(0.5)})),
		rowEq("multi_margin_loss", "extreme", 6, 33, 1e4, "", 0, nil, marginRun(6, 33, losses.MultiMarginOptions{})),
		rowEq("categorical_hinge", "extreme", 6, 33, 1e4, "onehot", 0, nil, hingeRun(6, 33, losses.CategoricalHingeOptions{Reduction: losses.None})),
		rowEq("distill_kl", "extreme", 6, 33, 1e4, "logits", 0, func(d *rowData) {
			for i := range d.y {
				d.y[i] *= 5e3
			}
		}, distillRun(6, 33, losses.DistillKLOptions{Reduction: losses.None})),
		// Ignored rows.
		rowEq("nll_loss", "all-ignored-mean", 4, 6, 2, "", 0, ignoreAll, nllRun(4, 6, losses.NLLLossOptions{})),
		rowEq("nll_loss", "all-ignored-none", 4, 6, 2, "", 0, ignoreAll, nllRun(4, 6, losses.NLLLossOptions{Reduction: losses.None})),
		rowEq("focal_loss", "all-ignored-mean", 4, 6, 2, "", 0, ignoreAll, focalRun(4, 6, losses.FocalLossOptions{})),
		rowEq("focal_loss", "all-ignored-none", 4, 6, 2, "", 0, ignoreAll, focalRun(4, 6, losses.FocalLossOptions{Reduction: losses.None})),
		rowEq("focal_loss", "gamma0-ignore-a-class", 9, 300, 2, "", 0, ignoreRows(5),
			focalRun(9, 300, losses.FocalLossOptions{Gamma: new(0.0), IgnoreIndex: losses.Index(5)})),
		// -Inf logits: where the target probability is 0 the loss is NaN (0·∞).
		rowEq("cross_entropy_probs", "neg-inf", 8, 40, 2, "probs", 0, func(d *rowData) {
			for i := 0; i < 8; i++ {
				for k := 1; k < 40; k += 7 {
					d.x[i*40+k] = negInf
					if i%2 == 0 {
						d.y[i*40+k] = 0
					}
				}
			}
		}, ceProbsRun(8, 40, losses.CrossEntropyProbsOptions{Reduction: losses.None})),
		rowEq("focal_loss", "neg-inf", 8, 40, 2, "", 0, func(d *rowData) {
			for i := 0; i < 8; i++ {
				for k := 0; k < 40; k += 3 {
					if int32(k) != d.tg[i] {
						d.x[i*40+k] = negInf
					}
				}
			}
		}, focalRun(8, 40, losses.FocalLossOptions{Reduction: losses.None})),
		// Integer-valued scores: many ties in the maximum, shared evenly.
		rowEq("categorical_hinge", "ties", 31, 300, 2, "onehot", 0, func(d *rowData) {
			for i := range d.x {
				d.x[i] = math.Round(d.x[i])
			}
		}, hingeRun(31, 300, losses.CategoricalHingeOptions{})),
		rowEq("multi_margin_loss", "ties-p1", 31, 300, 2, "", 0, func(d *rowData) {
			for i := range d.x {
				d.x[i] = math.Round(d.x[i]) + 0.5
			}
		}, marginRun(31, 300, losses.MultiMarginOptions{Margin: new(0.0)})),
	)
	return cs
}
