package losstest

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/lossengine/lossengine/losses"
)

// rowData are the inputs of a row-loss case: x [n, c], y [n, c] (logits or
// probabilities, by loss) and class targets tg [n].
type rowData struct {
	x, y []float64
	tg   []int32
	// sw [n] and mask [n] (int32), when set, are the sample_weight and
	// mask inputs.
	sw   []float64
	mask []int32
}

// rowRun says how a row-loss case runs: the declared loss, whether its
// target is the class indices [n] (else the float y [n, c]), and its
// options.
type rowRun struct {
	loss  string
	class bool
	opt   any
}

// rowEq builds a row-loss case: random logits x (scale), y as soft
// probabilities (yKind "probs"), one-hot rows ("onehot") or logits
// ("logits", scale 2), random targets, then tweak. label names the case
// (cross_entropy with probability targets is "cross_entropy_probs").
func rowEq(label, name string, n, c int, scale float64, yKind string, tol float64, tweak func(d *rowData), run rowRun) Case {
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
	ins := inputs{"input": fl(d.x, n, c), "target": fl(d.y, n, c)}
	if run.class {
		ins["target"] = ints(d.tg, n)
	}
	if d.sw != nil {
		ins["sample_weight"] = fl(d.sw, n)
	}
	if d.mask != nil {
		ins["mask"] = ints(d.mask, n)
	}
	return declCase(fmt.Sprintf("%s/%s/%dx%d", label, name, n, c), run.loss, tol, ins, run.opt)
}

func ceProbsRun(opt losses.CrossEntropyOptions) rowRun { return rowRun{"cross_entropy", false, opt} }

func nllRun(opt losses.NLLLossOptions) rowRun { return rowRun{"nll_loss", true, opt} }

func focalRun(opt losses.FocalLossOptions) rowRun { return rowRun{"focal_loss", true, opt} }

func marginRun(opt losses.MultiMarginLossOptions) rowRun {
	return rowRun{"multi_margin_loss", true, opt}
}

func hingeRun(opt losses.CategoricalHingeOptions) rowRun {
	return rowRun{"categorical_hinge", false, opt}
}

func distillRun(opt losses.DistillKLOptions) rowRun { return rowRun{"distill_kl", false, opt} }

func polyRun(opt losses.PolyLossCrossEntropyOptions) rowRun {
	return rowRun{"poly_loss_cross_entropy", false, opt}
}

// ignoreRows sets the targets of rows 0, 3, 6, ... to ig.
func ignoreRows(ig int32) func(d *rowData) {
	return func(d *rowData) {
		for i := 0; i < len(d.tg); i += 3 {
			d.tg[i] = ig
		}
	}
}

// weighted gives the rows sample weights in [0.25, 2.25) and masks out
// rows 1, 4, 7, ...
func weighted(d *rowData) {
	n := len(d.tg)
	d.sw, d.mask = make([]float64, n), make([]int32, n)
	for i := range d.sw {
		d.sw[i] = 0.25 + float64(i%5)*0.5
		if i%3 != 1 {
			d.mask[i] = 1
		}
	}
}

// confidentTargets shifts every logit by 1000 (rounded to float32, so
// that the float64 reference sees the float32 inputs) and puts each row's
// target logit 10 above the rest.
func confidentTargets(d *rowData) {
	c := len(d.x) / len(d.tg)
	for i, t := range d.tg {
		row := d.x[i*c : (i+1)*c]
		for k := range row {
			row[k] = float64(float32(row[k] + 1000))
		}
		row[t] = 1010
	}
}

// confidentTeacher makes the teacher logits y of distill_kl confident
// too, a little less than the student: half their spread, shifted by
// 1000 (rounded to float32), and each row's target logit (the student's
// confident class) 9 above the rest. (A teacher as sure as the student
// would leave a gradient p - q of a few 1e-3 at that class, the
// difference of two probabilities near 0.9, which float32 cannot give to
// 2e-5 of itself.)
func confidentTeacher(d *rowData) {
	c := len(d.y) / len(d.tg)
	for i, t := range d.tg {
		row := d.y[i*c : (i+1)*c]
		for k := range row {
			row[k] = float64(float32(row[k]/2 + 1000))
		}
		row[t] = 1009
	}
}

// maskAll masks out every row.
func maskAll(d *rowData) {
	d.mask = make([]int32, len(d.tg))
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
			rowEq("cross_entropy_probs", "plain-"+rs, 3, 7, 2, "probs", 0, nil, ceProbsRun(losses.CrossEntropyOptions{Reduction: red})),
			rowEq("cross_entropy_probs", "weight+smooth-"+rs, 13, 7, 2, "probs", 0, nil,
				ceProbsRun(losses.CrossEntropyOptions{Reduction: red, Weight: w(7), LabelSmoothing: 0.2})),
			rowEq("nll_loss", "weight+ignore-"+rs, 13, 7, 2, "", 0, ignoreRows(4),
				nllRun(losses.NLLLossOptions{Reduction: red, Weight: w(7), IgnoreIndex: losses.Index(4)})),
			rowEq("focal_loss", "alpha+ignore-"+rs, 13, 7, 2, "", 0, ignoreRows(-100),
				focalRun(losses.FocalLossOptions{Reduction: red, Alpha: w(7)})),
			rowEq("multi_margin_loss", "p2+weight-"+rs, 13, 7, 2, "", 0, nil,
				marginRun(losses.MultiMarginLossOptions{Reduction: red, P: 2, Margin: losses.Value(1.5), Weight: w(7)})),
			rowEq("categorical_hinge", "onehot-"+rs, 13, 7, 2, "onehot", 0, nil, hingeRun(losses.CategoricalHingeOptions{Reduction: red})),
			rowEq("distill_kl", "tau2-"+rs, 13, 7, 2, "", 0, nil, distillRun(losses.DistillKLOptions{Reduction: red, Temperature: 2})),
			rowEq("poly_loss_cross_entropy", "eps1-"+rs, 13, 7, 2, "probs", 0, nil,
				polyRun(losses.PolyLossCrossEntropyOptions{Reduction: red, Epsilon: losses.Value(1.0)})),
			rowEq("poly_loss_cross_entropy", "sample-weight+mask-"+rs, 13, 7, 2, "onehot", 0, weighted,
				polyRun(losses.PolyLossCrossEntropyOptions{Reduction: red})),
			// Sample weights and masks (tensors of the Args).
			rowEq("cross_entropy_probs", "sample-weight+mask-"+rs, 13, 7, 2, "probs", 0, weighted,
				ceProbsRun(losses.CrossEntropyOptions{Reduction: red, LabelSmoothing: 0.1})),
			rowEq("nll_loss", "sample-weight+mask-"+rs, 13, 7, 2, "", 0, func(d *rowData) { weighted(d); ignoreRows(4)(d) },
				nllRun(losses.NLLLossOptions{Reduction: red, Weight: w(7), IgnoreIndex: losses.Index(4)})),
			rowEq("focal_loss", "sample-weight+mask-"+rs, 13, 7, 2, "", 0, func(d *rowData) { weighted(d); ignoreRows(-100)(d) },
				focalRun(losses.FocalLossOptions{Reduction: red})),
			rowEq("multi_margin_loss", "sample-weight+mask-"+rs, 13, 7, 2, "", 0, weighted,
				marginRun(losses.MultiMarginLossOptions{Reduction: red})),
			rowEq("categorical_hinge", "sample-weight+mask-"+rs, 13, 7, 2, "onehot", 0, weighted,
				hingeRun(losses.CategoricalHingeOptions{Reduction: red})),
			rowEq("distill_kl", "sample-weight+mask-"+rs, 13, 7, 2, "", 0, weighted,
				distillRun(losses.DistillKLOptions{Reduction: red, Temperature: 2})),
		)
	}
	for _, sh := range [][2]int{{1, 1}, {0, 5}, {17, 1000}, {5, 257}, {4, 32003}} {
		n, c := sh[0], sh[1]
		cs = append(cs,
			rowEq("cross_entropy_probs", "smooth", n, c, 2, "probs", 0, nil, ceProbsRun(losses.CrossEntropyOptions{LabelSmoothing: 0.1})),
			rowEq("nll_loss", "plain", n, c, 2, "", 0, nil, nllRun(losses.NLLLossOptions{})),
			rowEq("focal_loss", "gamma0.5", n, c, 2, "", 0, nil, focalRun(losses.FocalLossOptions{Gamma: losses.Value(0.5)})),
			rowEq("multi_margin_loss", "plain", n, c, 1, "", 0, nil, marginRun(losses.MultiMarginLossOptions{Reduction: losses.Sum})),
			rowEq("categorical_hinge", "soft", n, c, 2, "probs", 0, nil, hingeRun(losses.CategoricalHingeOptions{Reduction: losses.None})),
			rowEq("distill_kl", "tau1", n, c, 2, "", 0, nil, distillRun(losses.DistillKLOptions{})),
			rowEq("poly_loss_cross_entropy", "eps2", n, c, 2, "probs", 0, nil, polyRun(losses.PolyLossCrossEntropyOptions{})),
		)
	}
	negInf := math.Inf(-1)
	cs = append(cs,
		rowEq("cross_entropy_probs", "wide-weight", 3, 131072, 2, "probs", 0, nil,
			ceProbsRun(losses.CrossEntropyOptions{Weight: w(131072), Reduction: losses.None})),
		rowEq("distill_kl", "wide-tau4", 3, 131072, 2, "", 0, nil, distillRun(losses.DistillKLOptions{Temperature: 4})),
		rowEq("poly_loss_cross_entropy", "wide", 3, 131072, 2, "probs", 0, nil,
			polyRun(losses.PolyLossCrossEntropyOptions{Reduction: losses.None})),
		// Confident rows: one-hot labels on logits of ±1e4, where 1 − p_t
		// must come from expm1, not from a difference of near-equal numbers.
		rowEq("poly_loss_cross_entropy", "extreme-onehot", 6, 33, 1e4, "onehot", 0, nil,
			polyRun(losses.PolyLossCrossEntropyOptions{Reduction: losses.None})),
		// Logits of ±1e4 with one-hot (exactly 0 and 1) probabilities.
		rowEq("cross_entropy_probs", "extreme-onehot", 6, 33, 1e4, "onehot", 0, nil, ceProbsRun(losses.CrossEntropyOptions{Reduction: losses.None})),
		rowEq("nll_loss", "extreme", 6, 33, 1e4, "", 0, nil, nllRun(losses.NLLLossOptions{})),
		rowEq("focal_loss", "extreme", 6, 33, 1e4, "", 0, nil, focalRun(losses.FocalLossOptions{Reduction: losses.None})),
		rowEq("focal_loss", "extreme-gamma0.5", 6, 33, 1e4, "", 0, nil, focalRun(losses.FocalLossOptions{Gamma: losses.Value(0.5)})),
		// Confident rows on logits near 1000 (the target 10 above the
		// rest): log p_t is about -0.045 beside a log-sum-exp near 1010,
		// whose float32 spacing is 6e-5, so log p_t must come from
		// (x_t - m) - log(s), not from x_t - L.
		rowEq("focal_loss", "confident-offset", 8, 1000, 1, "", 0, confidentTargets,
			focalRun(losses.FocalLossOptions{Reduction: losses.None})),
		// The same rows for the other softmax losses, with one-hot labels
		// on the confident class (a loss near 0.07; log p_t from
		// (x_t - m) - log(s)) and, for distill_kl, a confident teacher.
		rowEq("cross_entropy_probs", "confident-offset", 8, 1000, 1, "onehot", 0, confidentTargets,
			ceProbsRun(losses.CrossEntropyOptions{Reduction: losses.None})),
		rowEq("poly_loss_cross_entropy", "confident-offset", 8, 1000, 1, "onehot", 0, confidentTargets,
			polyRun(losses.PolyLossCrossEntropyOptions{Reduction: losses.None})),
		rowEq("distill_kl", "confident-offset", 8, 1000, 1, "logits", 0,
			func(d *rowData) { confidentTargets(d); confidentTeacher(d) },
			distillRun(losses.DistillKLOptions{Reduction: losses.None})),
		rowEq("multi_margin_loss", "extreme", 6, 33, 1e4, "", 0, nil, marginRun(losses.MultiMarginLossOptions{})),
		rowEq("categorical_hinge", "extreme", 6, 33, 1e4, "onehot", 0, nil, hingeRun(losses.CategoricalHingeOptions{Reduction: losses.None})),
		rowEq("distill_kl", "extreme", 6, 33, 1e4, "logits", 0, func(d *rowData) {
			for i := range d.y {
				d.y[i] *= 5e3
			}
		}, distillRun(losses.DistillKLOptions{Reduction: losses.None})),
		// Every row masked out: the mean of nothing.
		rowEq("cross_entropy_probs", "all-masked-mean", 4, 6, 2, "probs", 0, maskAll, ceProbsRun(losses.CrossEntropyOptions{})),
		rowEq("nll_loss", "all-masked-mean", 4, 6, 2, "", 0, maskAll, nllRun(losses.NLLLossOptions{})),
		rowEq("distill_kl", "all-masked-none", 4, 6, 2, "", 0, maskAll, distillRun(losses.DistillKLOptions{Reduction: losses.None})),
		// Wide rows with sample weights and a mask.
		rowEq("focal_loss", "sample-weight+mask-wide", 5, 32003, 2, "", 0, weighted, focalRun(losses.FocalLossOptions{})),
		// Ignored rows.
		rowEq("nll_loss", "all-ignored-mean", 4, 6, 2, "", 0, ignoreAll, nllRun(losses.NLLLossOptions{})),
		rowEq("nll_loss", "all-ignored-none", 4, 6, 2, "", 0, ignoreAll, nllRun(losses.NLLLossOptions{Reduction: losses.None})),
		rowEq("focal_loss", "all-ignored-mean", 4, 6, 2, "", 0, ignoreAll, focalRun(losses.FocalLossOptions{})),
		rowEq("focal_loss", "all-ignored-none", 4, 6, 2, "", 0, ignoreAll, focalRun(losses.FocalLossOptions{Reduction: losses.None})),
		rowEq("focal_loss", "gamma0-ignore-a-class", 9, 300, 2, "", 0, ignoreRows(5),
			focalRun(losses.FocalLossOptions{Gamma: losses.Value(0.0), IgnoreIndex: losses.Index(5)})),
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
		}, ceProbsRun(losses.CrossEntropyOptions{Reduction: losses.None})),
		rowEq("focal_loss", "neg-inf", 8, 40, 2, "", 0, func(d *rowData) {
			for i := 0; i < 8; i++ {
				for k := 0; k < 40; k += 3 {
					if int32(k) != d.tg[i] {
						d.x[i*40+k] = negInf
					}
				}
			}
		}, focalRun(losses.FocalLossOptions{Reduction: losses.None})),
		// Integer-valued scores: many ties in the maximum, shared evenly.
		rowEq("categorical_hinge", "ties", 31, 300, 2, "onehot", 0, func(d *rowData) {
			for i := range d.x {
				d.x[i] = math.Round(d.x[i])
			}
		}, hingeRun(losses.CategoricalHingeOptions{})),
		rowEq("multi_margin_loss", "ties-p1", 31, 300, 2, "", 0, func(d *rowData) {
			for i := range d.x {
				d.x[i] = math.Round(d.x[i]) + 0.5
			}
		}, marginRun(losses.MultiMarginLossOptions{Margin: losses.Value(0.0)})),
	)
	return cs
}
