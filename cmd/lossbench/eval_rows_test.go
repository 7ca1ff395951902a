package main

import (
	"math"
	"strings"
	"testing"

	"github.com/lossengine/lossengine/losses"
)

func rowReq(loss string, opts map[string]any, x []float64, xShape []int, t []float64, tShape []int) map[string]any {
	if opts == nil {
		opts = map[string]any{}
	}
	return map[string]any{"loss": loss, "options": opts, "device": "host",
		"inputs": map[string]any{"input": tensorJSON(xShape, x), "target": tensorJSON(tShape, t)}}
}

func TestEvalCrossEntropyProbs(t *testing.T) {
	// Uniform logits: loss log 3 per row; grads 1/3 - y (input) and log 3
	// (target), divided by N = 2 under mean.
	y := []float64{0.5, 0.25, 0.25, 0, 1, 0}
	r := mustEval(t, rowReq("cross_entropy", nil, make([]float64, 6), []int{2, 3}, y, []int{2, 3}))
	checkClose(t, "loss", []float64{r.lossScalar(t)}, []float64{math.Log(3)}, 1e-15)
	gi := r.grad(t, "input", 2, 3)
	gt := r.grad(t, "target", 2, 3)
	for k := range y {
		checkClose(t, "grad input", gi[k:k+1], []float64{(1.0/3 - y[k]) / 2}, 1e-15)
		checkClose(t, "grad target", gt[k:k+1], []float64{math.Log(3) / 2}, 1e-15)
	}
	// Class-index targets still take the class-index path (no target grad).
	r = mustEval(t, rowReq("cross_entropy", nil, make([]float64, 6), []int{2, 3}, []float64{0, 2}, []int{2}))
	if _, ok := r.Grads["target"]; ok {
		t.Errorf("class-index cross_entropy has a target gradient")
	}
	checkClose(t, "loss", []float64{r.lossScalar(t)}, []float64{math.Log(3)}, 1e-15)
}

func TestEvalNLLLoss(t *testing.T) {
	x := []float64{-1, -2, -3, -0.5, -1.5, -2.5, -7, -8, -9}
	r := mustEval(t, rowReq("nll_loss", map[string]any{"weight": []float64{1, 2, 3}}, x, []int{3, 3}, []float64{2, 0, -100}, []int{3}))
	checkClose(t, "loss", []float64{r.lossScalar(t)}, []float64{9.5 / 4}, 1e-15)
	checkClose(t, "grad", r.grad(t, "input", 3, 3), []float64{0, 0, -0.75, -0.25, 0, 0, 0, 0, 0}, 1e-15)
	r = mustEval(t, rowReq("nll_loss", map[string]any{"ignore_index": 2, "reduction": "none"}, x, []int{3, 3}, []float64{2, 0, 1}, []int{3}))
	checkClose(t, "loss", r.lossArray(t), []float64{0, 0.5, 8}, 1e-15)
	r = mustEval(t, rowReq("nll_loss", nil, x[:3], []int{1, 3}, []float64{-100}, []int{1}))
	if !math.IsNaN(r.lossScalar(t)) {
		t.Errorf("all ignored: loss %v, want NaN", r.lossScalar(t))
	}
}

func TestEvalFocalLoss(t *testing.T) {
	// Uniform logits over 4 classes: p_t = 1/4, loss (3/4)^γ log 4.
	for _, g := range []float64{0, 0.5, 2} {
		r := mustEval(t, rowReq("focal_loss", map[string]any{"gamma": g}, make([]float64, 4), []int{1, 4}, []float64{1}, []int{1}))
		checkClose(t, "loss", []float64{r.lossScalar(t)}, []float64{math.Pow(0.75, g) * math.Log(4)}, 1e-15)
	}
	// Default gamma 2, alpha on the target class.
	r := mustEval(t, rowReq("focal_loss", map[string]any{"alpha": []float64{1, 3, 1, 1}, "reduction": "sum"},
		make([]float64, 4), []int{1, 4}, []float64{1}, []int{1}))
	checkClose(t, "loss", []float64{r.lossScalar(t)}, []float64{3 * 0.5625 * math.Log(4)}, 1e-15)
	if g := r.grad(t, "input", 1, 4); g[1] >= 0 || g[0] <= 0 {
		t.Errorf("grad %v: want the target's entry negative, the others positive", g)
	}
}

func TestEvalMultiMarginLoss(t *testing.T) {
	x := []float64{0.1, 0.2, 0.4, 0.8}
	r := mustEval(t, rowReq("multi_margin_loss", nil, x, []int{1, 4}, []float64{3}, []int{1}))
	checkClose(t, "loss", []float64{r.lossScalar(t)}, []float64{0.325}, 1e-15)
	checkClose(t, "grad", r.grad(t, "input", 1, 4), []float64{0.25, 0.25, 0.25, -0.75}, 1e-15)
	r = mustEval(t, rowReq("multi_margin_loss", map[string]any{"p": 2, "margin": 0.5, "weight": []float64{1, 1, 1, 2}},
		x, []int{1, 4}, []float64{3}, []int{1}))
	checkClose(t, "loss", []float64{r.lossScalar(t)}, []float64{0.005}, 1e-15)
}

func TestEvalCategoricalHinge(t *testing.T) {
	r := mustEval(t, rowReq("categorical_hinge", map[string]any{"reduction": "none"},
		[]float64{2, 1, 2, 1, 2, 0.5}, []int{2, 3}, []float64{0, 1, 0, 0, 1, 0}, []int{2, 3}))
	checkClose(t, "loss", r.lossArray(t), []float64{2, 0}, 0)
	// Row 0: a tie, shared evenly; row 1: exactly at the hinge, the gradient passes.
	checkClose(t, "grad", r.grad(t, "input", 2, 3), []float64{0.5, -1, 0.5, 1, -1, 0}, 0)
}

func TestEvalDistillKL(t *testing.T) {
	// Teacher q = (1/4, 3/4) at τ = 2, student p = (1/2, 1/2).
	tau := 2.0
	want := tau * tau * (0.25*math.Log(0.5) + 0.75*math.Log(1.5))
	r := mustEval(t, rowReq("distill_kl", map[string]any{"temperature": tau, "reduction": "sum"},
		[]float64{0, 0}, []int{1, 2}, []float64{0, tau * math.Log(3)}, []int{1, 2}))
	checkClose(t, "loss", []float64{r.lossScalar(t)}, []float64{want}, 1e-14)
	checkClose(t, "grad", r.grad(t, "input", 1, 2), []float64{tau * 0.25, -tau * 0.25}, 1e-14)
	// batchmean (the default) divides by the rows.
	r = mustEval(t, rowReq("distill_kl", map[string]any{"temperature": tau},
		[]float64{0, 0, 1, 1}, []int{2, 2}, []float64{0, tau * math.Log(3), 5, 5}, []int{2, 2}))
	checkClose(t, "loss", []float64{r.lossScalar(t)}, []float64{want / 2}, 1e-14)
	if _, ok := r.Grads["target"]; ok {
		t.Errorf("distill_kl has a teacher gradient")
	}
}

func TestEvalRowLossesFloat32(t *testing.T) {
	req := rowReq("focal_loss", nil, []float64{1, 2, 3, 0}, []int{2, 2}, []float64{0, 1}, []int{2})
	req["dtype"] = "float32"
	r := mustEval(t, req)
	want := mustEval(t, rowReq("focal_loss", nil, []float64{1, 2, 3, 0}, []int{2, 2}, []float64{0, 1}, []int{2}))
	checkClose(t, "loss", []float64{r.lossScalar(t)}, []float64{want.lossScalar(t)}, 1e-6)
}

func TestEvalRowLossesErrors(t *testing.T) {
	x := []float64{1, 2, 3, 4}
	for _, tc := range []struct {
		name string
		req  map[string]any
		want string
	}{
		{"ignore_index with probabilities", rowReq("cross_entropy", map[string]any{"ignore_index": 1}, x, []int{2, 2}, x, []int{2, 2}), "ignore_index"},
		{"nan_policy with probabilities", rowReq("cross_entropy", map[string]any{"nan_policy": "error"}, x, []int{2, 2}, x, []int{2, 2}), "nan_policy"},
		{"distill mean is ambiguous", rowReq("distill_kl", map[string]any{"reduction": "mean"}, x, []int{2, 2}, x, []int{2, 2}), "batchmean"},
		{"distill temperature 0", rowReq("distill_kl", map[string]any{"temperature": 0}, x, []int{2, 2}, x, []int{2, 2}), "temperature"},
		{"distill negative temperature", rowReq("distill_kl", map[string]any{"temperature": -1}, x, []int{2, 2}, x, []int{2, 2}), "temperature"},
		{"p = 3", rowReq("multi_margin_loss", map[string]any{"p": 3}, x, []int{2, 2}, []float64{0, 1}, []int{2}), "p: must be 1 or 2"},
		{"target out of range", rowReq("multi_margin_loss", nil, x, []int{2, 2}, []float64{0, 2}, []int{2}), "target"},
		{"focal gamma", rowReq("focal_loss", map[string]any{"gamma": -1}, x, []int{2, 2}, []float64{0, 1}, []int{2}), "gamma"},
		{"focal alpha length", rowReq("focal_loss", map[string]any{"alpha": []float64{1}}, x, []int{2, 2}, []float64{0, 1}, []int{2}), "alpha"},
		{"unknown option", rowReq("nll_loss", map[string]any{"alpha": []float64{1, 1}}, x, []int{2, 2}, []float64{0, 1}, []int{2}), "unknown option"},
		{"1-D input", rowReq("nll_loss", nil, x, []int{4}, []float64{0}, []int{1}), "[N, C]"},
		{"class target shape", rowReq("nll_loss", nil, x, []int{2, 2}, []float64{0, 1, 1}, []int{3}), "target"},
		{"hinge target shape", rowReq("categorical_hinge", nil, x, []int{2, 2}, []float64{0, 1}, []int{2}), "target"},
		{"non-integral target", rowReq("nll_loss", nil, x, []int{2, 2}, []float64{0, 0.5}, []int{2}), "target"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runEval(t, tc.req)
			if code != 2 || out != "" || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q: want exit 2 and %q", code, out, errs, tc.want)
			}
		})
	}
}

func TestEvalRowLossesRegistered(t *testing.T) {
	for _, name := range []string{"cross_entropy", "nll_loss", "focal_loss", "multi_margin_loss", "categorical_hinge", "distill_kl", "poly_loss_cross_entropy"} {
		if _, ok := losses.Lookup(name); !ok {
			t.Errorf("%s is not declared", name)
		}
	}
}

// TestEvalRowExtras: sample_weight and mask on nll_loss, by hand: rows 0
// and 2 kept, losses 2·1 and 1·5, mean over the 2 rows kept.
func TestEvalRowExtras(t *testing.T) {
	r := mustEval(t, map[string]any{"loss": "nll_loss", "dtype": "float64",
		"inputs": map[string]any{
			"input":         map[string]any{"shape": []int{3, 2}, "data": []float64{-1, -2, -3, -4, -5, -6}},
			"target":        map[string]any{"shape": []int{3}, "data": []int{0, 1, 0}},
			"sample_weight": map[string]any{"shape": []int{3}, "data": []float64{2, 1, 1}},
			"mask":          map[string]any{"shape": []int{3}, "data": []int{1, 0, 1}},
		}})
	if string(r.Loss) != "3.5" {
		t.Errorf("loss %s, want 3.5", r.Loss)
	}
	want := []float64{-1, 0, 0, 0, -0.5, 0}
	got := r.Grads["input"].Data
	for i := range want {
		if float64(got[i]) != want[i] {
			t.Fatalf("grad %v, want %v", got, want)
		}
	}
	if code, _, errs := runEval(t, map[string]any{"loss": "focal_loss", "inputs": map[string]any{
		"input": map[string]any{"shape": []int{1, 2}, "data": []float64{0, 0}}, "target": map[string]any{"shape": []int{1}, "data": []int{0}},
		"mask": map[string]any{"shape": []int{2}, "data": []int{1, 1}}}}); code != 2 || !strings.Contains(errs, "mask") {
		t.Errorf("mask of the wrong shape: exit %d, %s", code, errs)
	}
}
