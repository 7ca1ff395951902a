package losstest

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/lossengine/lossengine/losses"
)

// PointwiseDomain returns input, target and aux (var or pos_weight) values
// in the domain of the elementwise loss of the given name, rounded to
// float32. scale stretches logit inputs. A loss it does not know gets
// normal inputs and targets.
func PointwiseDomain(r *rand.Rand, loss string, n, naux int, scale float64) (x, y, a []float64) {
	x, y, a = make([]float64, n), make([]float64, n), make([]float64, naux)
	for i := range x {
		x[i], y[i] = r.NormFloat64()*scale, r.NormFloat64()
		switch loss {
		case "binary_cross_entropy":
			x[i], y[i] = r.Float64(), r.Float64()
			if i%17 == 0 {
				x[i] = float64(i % 2) // exactly 0 or 1: the log clamp
			}
		case "binary_cross_entropy_with_logits", "sigmoid_focal_loss":
			y[i] = r.Float64()
		case "hinge_embedding_loss", "soft_margin_loss", "hinge", "squared_hinge":
			y[i] = float64(2*r.IntN(2) - 1)
		case "kl_div":
			y[i] = r.Float64()
		case "poisson_nll_loss", "mean_squared_logarithmic_error":
			x[i], y[i] = r.Float64()*3, r.Float64()*4
		case "mean_absolute_percentage_error":
			y[i] = math.Copysign(0.1+r.Float64(), y[i])
		}
	}
	for i := range a {
		a[i] = 0.1 + 2*r.Float64()
	}
	return roundTo32(x), roundTo32(y), roundTo32(a)
}

// Elementwise returns the declarations of the elementwise losses: those
// that launch the pointwise_loss kernel.
func Elementwise() []*losses.Decl {
	var out []*losses.Decl
	for _, d := range losses.Declarations() {
		if slices.Contains(d.Kernels, "pointwise_loss") {
			out = append(out, d)
		}
	}
	return out
}

// options decodes a JSON object of options for d; the table's options
// are literals, so an error is a bug of the table.
func options(d *losses.Decl, opt map[string]any) any {
	raw, err := json.Marshal(opt)
	if err != nil {
		panic(err)
	}
	o, err := d.DecodeOptions(raw)
	if err != nil {
		panic(fmt.Sprintf("losstest: %s options %s: %v", d.Name, raw, err))
	}
	return o
}

func hasInput(d *losses.Decl, name string) bool {
	p, ok := d.Param(name)
	return ok && p.Role == losses.In
}

// pwCase is one elementwise loss over input [rows, cols]: with extras, a
// per-row weight [rows, 1], an int32 mask that keeps two elements in
// three, a per-row var [rows, 1] (gaussian_nll_loss) and a per-column
// pos_weight [cols] (binary_cross_entropy_with_logits); otherwise a
// full-shape var. opt holds the options by their JSON names, reduction
// included.
func pwCase(d *losses.Decl, rows, cols int, extras bool, scale float64, opt map[string]any) Case {
	n := rows * cols
	h := fnv.New64a()
	h.Write([]byte(d.Name))
	r := rand.New(rand.NewPCG(uint64(n)+h.Sum64(), 11))
	hasVar, hasPos := hasInput(d, "var"), hasInput(d, "pos_weight")
	naux := 0
	switch {
	case hasVar && extras:
		naux = rows
	case hasVar:
		naux = n
	case hasPos && extras:
		naux = cols
	}
	x, y, a := PointwiseDomain(r, d.Name, n, naux, scale)
	ins := inputs{"input": fl(x, rows, cols), "target": fl(y, rows, cols)}
	if extras {
		ins["weight"] = fl(roundTo32(logits(r, rows, 1)), rows, 1)
		mask := make([]int32, n)
		for i := range mask {
			if i%3 != 2 {
				mask[i] = 1
			}
		}
		ins["mask"] = ints(mask, rows, cols)
	}
	switch {
	case hasVar && extras:
		ins["var"] = fl(a, rows, 1)
	case hasVar:
		ins["var"] = fl(a, rows, cols)
	case hasPos && extras:
		ins["pos_weight"] = fl(a, cols)
	}
	red, _ := opt["reduction"].(string)
	if red == "" {
		red = "mean"
	}
	name := fmt.Sprintf("%s/%dx%d/%s", d.Name, rows, cols, red)
	if extras {
		name += "/weight+mask"
	}
	if scale != 1 {
		name += fmt.Sprintf("/scale=%g", scale)
	}
	if np, ok := opt["nan_policy"].(string); ok {
		name += "/nan_policy=" + np
	}
	return declCase(name, d.Name, 5e-5, ins, options(d, opt))
}

// pointwiseCases covers every elementwise loss that is declared: the
// reductions, odd sizes, weights and masks, an empty input, an all-masked
// input, nan_policy error, logits of ±1e4 for the losses that take logits, and the options
// of poisson_nll_loss, gaussian_nll_loss and kl_div.
func pointwiseCases() []Case {
	var cs []Case
	for _, d := range Elementwise() {
		red := []string{"mean", "sum", "none"}
		if d.Name == "kl_div" {
			red = append(red, "batchmean")
		}
		for _, rd := range red {
			cs = append(cs, pwCase(d, 37, 7, true, 1, map[string]any{"reduction": rd}))
		}
		cs = append(cs,
			pwCase(d, 257, 255, false, 1, nil),
			pwCase(d, 0, 3, false, 1, nil),
			// nan_policy error on clean inputs: checked (count_nan), then as propagate.
			pwCase(d, 11, 13, true, 1, map[string]any{"nan_policy": "error"}),
		)
		switch d.Name {
		case "binary_cross_entropy_with_logits", "sigmoid_focal_loss", "soft_margin_loss", "log_cosh",
			"hinge", "huber_loss", "l1_loss":
			cs = append(cs, pwCase(d, 5, 3, false, 1e4, map[string]any{"reduction": "none"}))
		case "poisson_nll_loss":
			cs = append(cs, pwCase(d, 9, 5, true, 1, map[string]any{"log_input": false, "full": true}))
		case "gaussian_nll_loss":
			cs = append(cs, pwCase(d, 9, 5, true, 1, map[string]any{"full": true, "eps": 0.5}))
		case "kl_div":
			cs = append(cs, pwCase(d, 9, 5, false, 1, map[string]any{"log_target": true}))
		}
	}
	// All masked: the mean of nothing.
	cs = append(cs, allMasked())
	return cs
}

// allMasked is huber_loss with every element masked out: NaN loss, zero
// gradients.
func allMasked() Case {
	x := []float64{1, 2, 3, 4}
	return declCase("huber_loss/all-masked", "huber_loss", 0,
		inputs{"input": fl(x, 4), "target": fl(x, 4), "mask": ints(make([]int32, 4), 4)}, losses.HuberLossOptions{})
}
