package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/lossengine/lossengine/losses"
)

// evalOut is a decoded eval response.
type evalOut struct {
	Loss   json.RawMessage `json:"loss"`
	Output *struct {
		Shape []int `json:"shape"`
		Data  []num `json:"data"`
	} `json:"output"`
	Grads map[string]struct {
		Shape []int `json:"shape"`
		Data  []num `json:"data"`
	} `json:"grads"`
}

// runEval runs "lossbench eval" on a request (a string, or a value to
// marshal) and returns the exit status, stdout and stderr.
func runEval(t *testing.T, req any, args ...string) (int, string, string) {
	t.Helper()
	var in string
	if s, ok := req.(string); ok {
		in = s
	} else {
		b, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		in = string(b)
	}
	var out, errb bytes.Buffer
	code := run(append([]string{"eval"}, args...), strings.NewReader(in), &out, &errb)
	return code, out.String(), errb.String()
}

func mustEval(t *testing.T, req any) *evalOut {
	t.Helper()
	code, out, errs := runEval(t, req)
	if code != 0 {
		t.Fatalf("eval exit %d, stderr: %s", code, errs)
	}
	var r evalOut
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("bad output %q: %v", out, err)
	}
	return &r
}

func (r *evalOut) lossScalar(t *testing.T) float64 {
	t.Helper()
	var v num
	if err := json.Unmarshal(r.Loss, &v); err != nil {
		t.Fatalf("loss %s: %v", r.Loss, err)
	}
	return float64(v)
}

func (r *evalOut) lossArray(t *testing.T) []float64 {
	t.Helper()
	var v []num
	if err := json.Unmarshal(r.Loss, &v); err != nil {
		t.Fatalf("loss %s: %v", r.Loss, err)
	}
	return nums(v)
}

func (r *evalOut) grad(t *testing.T, name string, shape ...int) []float64 {
	t.Helper()
	g, ok := r.Grads[name]
	if !ok {
		t.Fatalf("no grad %q in %v", name, r.Grads)
	}
	if !sameShape(g.Shape, shape) {
		t.Fatalf("grad %s shape %v, want %v", name, g.Shape, shape)
	}
	return nums(g.Data)
}

func nums(v []num) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func tensorJSON(shape []int, data []float64) map[string]any {
	d := make([]any, len(data))
	for i, v := range data {
		switch {
		case math.IsNaN(v):
			d[i] = "nan"
		case math.IsInf(v, 1):
			d[i] = "inf"
		case math.IsInf(v, -1):
			d[i] = "-inf"
		default:
			d[i] = v
		}
	}
	if shape == nil {
		shape = []int{}
	}
	return map[string]any{"shape": shape, "data": d}
}

func near(a, b, tol float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	if math.IsInf(a, 0) || math.IsInf(b, 0) {
		return a == b
	}
	return math.Abs(a-b) <= tol*(1+math.Abs(b))
}

func checkClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if !near(got[i], want[i], tol) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

func TestEvalCrossEntropyUniform(t *testing.T) {
	const n, c = 3, 7
	x := make([]float64, n*c)
	for i := range x {
		x[i] = 0.5
	}
	tg := []float64{0, 3, 6}
	for _, red := range []string{"mean", "sum", "none"} {
		r := mustEval(t, map[string]any{"loss": "cross_entropy", "options": map[string]any{"reduction": red},
			"inputs": map[string]any{"input": tensorJSON([]int{n, c}, x), "target": tensorJSON([]int{n}, tg)},
			"device": "host", "dtype": "float64"})
		scale := 1.0
		switch red {
		case "mean":
			scale = 1.0 / n
			checkClose(t, "mean loss", []float64{r.lossScalar(t)}, []float64{math.Log(c)}, 1e-14)
		case "sum":
			checkClose(t, "sum loss", []float64{r.lossScalar(t)}, []float64{n * math.Log(c)}, 1e-14)
		case "none":
			checkClose(t, "none loss", r.lossArray(t), []float64{math.Log(c), math.Log(c), math.Log(c)}, 1e-14)
		}
		want := make([]float64, n*c)
		for i := 0; i < n; i++ {
			for j := 0; j < c; j++ {
				want[i*c+j] = 1.0 / c * scale
				if j == int(tg[i]) {
					want[i*c+j] -= scale
				}
			}
		}
		checkClose(t, red+" grad", r.grad(t, "input", n, c), want, 1e-14)
	}
}

// ceReference is PyTorch's cross_entropy with class indices, weight,
// ignore_index and label_smoothing, written out directly.
func ceReference(x []float64, tg []int, n, c int, w []float64, ignore int, eps float64, red string) (loss []float64, grad []float64) {
	if w == nil {
		w = make([]float64, c)
		for i := range w {
			w[i] = 1
		}
	}
	var wsum float64
	for _, v := range w {
		wsum += v
	}
	rows := make([]float64, n)
	grad = make([]float64, n*c)
	var denom float64
	for i := 0; i < n; i++ {
		if tg[i] == ignore {
			continue
		}
		row := x[i*c : (i+1)*c]
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, v)
		}
		var s float64
		for _, v := range row {
			s += math.Exp(v - m)
		}
		lse := m + math.Log(s)
		t := tg[i]
		denom += w[t]
		var smooth float64
		for j, v := range row {
			smooth -= w[j] * (v - lse)
		}
		rows[i] = (1-eps)*(-w[t]*(row[t]-lse)) + eps/float64(c)*smooth
		for j, v := range row {
			p := math.Exp(v - lse)
			g := eps / float64(c) * (wsum*p - w[j])
			g += (1 - eps) * w[t] * p
			if j == t {
				g -= (1 - eps) * w[t]
			}
			grad[i*c+j] = g
		}
	}
	switch red {
	case "none":
		return rows, grad
	case "sum":
		var s float64
		for _, v := range rows {
			s += v
		}
		return []float64{s}, grad
	}
	var s float64
	for _, v := range rows {
		s += v
	}
	for i := range grad {
		grad[i] /= denom
	}
	return []float64{s / denom}, grad
}

func TestEvalCrossEntropyOptions(t *testing.T) {
	const n, c = 5, 4
	x := []float64{
		0.1, -1.2, 2.3, 0.4,
		3.0, 3.0, -3.0, 0.5,
		-0.7, 0.2, 0.9, -2.1,
		10, -10, 0, 1,
		0, 0, 0, 0,
	}
	tg := []int{2, 1, 1, 0, 3}
	tgf := []float64{2, 1, 1, 0, 3}
	w := []float64{0.5, 2, 1, 1.5}
	for _, red := range []string{"mean", "sum", "none"} {
		for _, eps := range []float64{0, 0.1} {
			for _, ignore := range []int{-100, 1} {
				wantLoss, wantGrad := ceReference(x, tg, n, c, w, ignore, eps, red)
				r := mustEval(t, map[string]any{"loss": "cross_entropy",
					"options": map[string]any{"reduction": red, "label_smoothing": eps, "ignore_index": ignore, "weight": w},
					"inputs":  map[string]any{"input": tensorJSON([]int{n, c}, x), "target": tensorJSON([]int{n}, tgf)}})
				var got []float64
				if red == "none" {
					got = r.lossArray(t)
				} else {
					got = []float64{r.lossScalar(t)}
				}
				checkClose(t, red+" loss", got, wantLoss, 1e-13)
				checkClose(t, red+" grad", r.grad(t, "input", n, c), wantGrad, 1e-13)
			}
		}
	}
}

func TestEvalCrossEntropyAllIgnored(t *testing.T) {
	r := mustEval(t, map[string]any{"loss": "cross_entropy", "options": map[string]any{"ignore_index": 0},
		"inputs": map[string]any{"input": tensorJSON([]int{2, 3}, []float64{1, 2, 3, 4, 5, 6}), "target": tensorJSON([]int{2}, []float64{0, 0})}})
	if v := r.lossScalar(t); !math.IsNaN(v) {
		t.Fatalf("all-ignored mean loss = %v, want nan", v)
	}
	if !strings.Contains(string(r.Loss), `"nan"`) {
		t.Fatalf("loss written as %s, want \"nan\"", r.Loss)
	}
	checkClose(t, "grad", r.grad(t, "input", 2, 3), make([]float64, 6), 0)
}

func TestEvalMSE(t *testing.T) {
	x := []float64{1, 2, 3, -1, 0.5, 4}
	y := []float64{0, 0, 0, 1, 0.5, 2}
	shape := []int{2, 3}
	var sq []float64
	var sum float64
	for i := range x {
		d := x[i] - y[i]
		sq = append(sq, d*d)
		sum += d * d
	}
	for _, red := range []string{"mean", "sum", "none"} {
		r := mustEval(t, map[string]any{"loss": "mse_loss", "options": map[string]any{"reduction": red},
			"inputs": map[string]any{"input": tensorJSON(shape, x), "target": tensorJSON(shape, y)}})
		scale := 1.0
		switch red {
		case "mean":
			scale = 1.0 / 6
			checkClose(t, "loss", []float64{r.lossScalar(t)}, []float64{sum / 6}, 1e-15)
		case "sum":
			checkClose(t, "loss", []float64{r.lossScalar(t)}, []float64{sum}, 1e-15)
		case "none":
			checkClose(t, "loss", r.lossArray(t), sq, 1e-15)
		}
		gi, gt := make([]float64, 6), make([]float64, 6)
		for i := range x {
			gi[i] = 2 * (x[i] - y[i]) * scale
			gt[i] = -gi[i]
		}
		checkClose(t, red+" grad input", r.grad(t, "input", shape...), gi, 1e-15)
		checkClose(t, red+" grad target", r.grad(t, "target", shape...), gt, 1e-15)
	}
	// A scalar (shape []) works too.
	r := mustEval(t, map[string]any{"loss": "mse_loss",
		"inputs": map[string]any{"input": tensorJSON(nil, []float64{3}), "target": tensorJSON(nil, []float64{1})}})
	checkClose(t, "scalar loss", []float64{r.lossScalar(t)}, []float64{4}, 0)
	checkClose(t, "scalar grad", r.grad(t, "input"), []float64{4}, 0)
}

// rowRef computes softmax, log_softmax or logsumexp of each row of x/tau
// and the gradient of Σ dy·out, directly.
func rowRef(op string, x []float64, rows, cols int, tau float64, dy []float64) (out, grad []float64) {
	grad = make([]float64, rows*cols)
	for r := 0; r < rows; r++ {
		row := x[r*cols : (r+1)*cols]
		var s float64
		for _, v := range row {
			s += math.Exp(v / tau)
		}
		lse := math.Log(s)
		p := make([]float64, cols)
		for j, v := range row {
			p[j] = math.Exp(v/tau) / s
		}
		switch op {
		case "logsumexp":
			out = append(out, lse)
			for j := range row {
				grad[r*cols+j] = dy[r] * p[j] / tau
			}
		case "softmax":
			var dot float64
			for j := range row {
				out = append(out, p[j])
				dot += dy[r*cols+j] * p[j]
			}
			for j := range row {
				grad[r*cols+j] = p[j] * (dy[r*cols+j] - dot) / tau
			}
		case "log_softmax":
			var sdy float64
			for j, v := range row {
				out = append(out, v/tau-lse)
				sdy += dy[r*cols+j]
			}
			for j := range row {
				grad[r*cols+j] = (dy[r*cols+j] - p[j]*sdy) / tau
			}
		}
	}
	return out, grad
}

func TestEvalRowOps(t *testing.T) {
	x := []float64{1, 2, 3, 0, 0, 0, -4, 0.5, 9, 2, 2, -1}
	shape := []int{2, 2, 3}
	rows, cols := 4, 3
	for _, op := range []string{"softmax", "log_softmax", "logsumexp"} {
		outShape := shape
		nOut := 12
		if op == "logsumexp" {
			outShape, nOut = []int{2, 2}, 4
		}
		dy := make([]float64, nOut)
		for i := range dy {
			dy[i] = 0.25*float64(i) - 1
		}
		ones := make([]float64, nOut)
		for i := range ones {
			ones[i] = 1
		}
		for _, tau := range []float64{1, 2.5} {
			for _, withDy := range []bool{false, true} {
				req := map[string]any{"loss": op, "options": map[string]any{"dim": -1, "temperature": tau},
					"inputs": map[string]any{"input": tensorJSON(shape, x)}}
				d := ones
				if withDy {
					d = dy
					req["inputs"].(map[string]any)["grad_output"] = tensorJSON(outShape, dy)
				}
				wantOut, wantGrad := rowRef(op, x, rows, cols, tau, d)
				r := mustEval(t, req)
				if r.Output == nil || !sameShape(r.Output.Shape, outShape) {
					t.Fatalf("%s: output %+v, want shape %v", op, r.Output, outShape)
				}
				if r.Loss != nil {
					t.Fatalf("%s: unexpected loss field %s", op, r.Loss)
				}
				checkClose(t, op+" output", nums(r.Output.Data), wantOut, 1e-14)
				checkClose(t, op+" grad", r.grad(t, "input", shape...), wantGrad, 1e-13)
			}
		}
	}
	// dim given as ndim-1, and keepdim for logsumexp.
	r := mustEval(t, map[string]any{"loss": "logsumexp", "options": map[string]any{"dim": 2, "keepdim": true},
		"inputs": map[string]any{"input": tensorJSON(shape, x)}})
	if !sameShape(r.Output.Shape, []int{2, 2, 1}) {
		t.Fatalf("keepdim output shape %v", r.Output.Shape)
	}
}

func TestEvalNonFinite(t *testing.T) {
	// log_softmax of [0, -inf] is [0, -inf]; its gradient with ones is [0, 1].
	r := mustEval(t, `{"loss": "log_softmax", "inputs": {"input": {"shape": [2], "data": [0, "-INF"]}}}`)
	out := nums(r.Output.Data)
	if out[0] != 0 || !math.IsInf(out[1], -1) {
		t.Fatalf("log_softmax([0, -inf]) = %v", out)
	}
	checkClose(t, "grad", r.grad(t, "input", 2), []float64{-1, 1}, 1e-15)
	// mse with inf and nan inputs.
	code, raw, errs := runEval(t, `{"loss": "mse_loss", "options": {"reduction": "none"},
		"inputs": {"input": {"data": ["Inf", "nan", 1]}, "target": {"data": [0, 0, "-infinity"]}}}`)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(raw, `"loss":["inf","nan","inf"]`) {
		t.Fatalf("output %s: want loss [\"inf\",\"nan\",\"inf\"]", raw)
	}
	var resp evalOut
	if err := json.Unmarshal([]byte(raw), &resp); err != nil {
		t.Fatal(err)
	}
	gi := nums(resp.Grads["input"].Data)
	if !math.IsInf(gi[0], 1) || !math.IsNaN(gi[1]) || !math.IsInf(gi[2], 1) {
		t.Fatalf("grad input %v, want [inf nan inf]", gi)
	}
}

func TestEvalFloat32(t *testing.T) {
	x := []float64{0.1, 0.2, 0.3, 0.4, -0.5, 0.6}
	r64 := mustEval(t, map[string]any{"loss": "cross_entropy", "dtype": "float64",
		"inputs": map[string]any{"input": tensorJSON([]int{2, 3}, x), "target": tensorJSON([]int{2}, []float64{1, 2})}})
	r32 := mustEval(t, map[string]any{"loss": "cross_entropy", "dtype": "float32", "device": "host",
		"inputs": map[string]any{"input": tensorJSON([]int{2, 3}, x), "target": tensorJSON([]int{2}, []float64{1, 2})}})
	checkClose(t, "loss", []float64{r32.lossScalar(t)}, []float64{r64.lossScalar(t)}, 1e-6)
	checkClose(t, "grad", r32.grad(t, "input", 2, 3), r64.grad(t, "input", 2, 3), 1e-6)
	// float32 outputs are printed in their shortest float32 form.
	if strings.Contains(string(r32.Loss), "0000000") {
		t.Fatalf("float32 loss printed as %s", r32.Loss)
	}
}

func TestEvalErrors(t *testing.T) {
	ce := func(extra string) string {
		return `{"loss": "cross_entropy", "inputs": {"input": {"shape": [2, 3], "data": [1,2,3,4,5,6]},
			"target": {"shape": [2], "data": [0, 1]}}` + extra + `}`
	}
	cases := map[string]struct {
		in   string
		want string // in stderr
	}{
		"empty":            {``, "bad JSON"},
		"bad JSON":         {`{"loss": "mse_loss",`, "bad JSON"},
		"two values":       {ce("") + ce(""), "more than one"},
		"unknown loss":     {`{"loss": "nope", "inputs": {}}`, `unknown loss "nope"`},
		"unknown field":    {ce(`, "extra": 1`), "unknown field"},
		"unknown option":   {ce(`, "options": {"reductionn": "sum"}`), `unknown option "reductionn"`},
		"unknown input":    {`{"loss": "mse_loss", "inputs": {"input": {"data": [1]}, "target": {"data": [1]}, "w": {"data": [1]}}}`, `unknown input "w"`},
		"missing input":    {`{"loss": "mse_loss", "inputs": {"input": {"data": [1]}}}`, `missing input "target"`},
		"bad reduction":    {ce(`, "options": {"reduction": "avg"}`), "reduction"},
		"shape mismatch":   {`{"loss": "mse_loss", "inputs": {"input": {"shape": [2, 2], "data": [1, 2, 3]}, "target": {"data": [1]}}}`, "has 4 elements but data has 3"},
		"negative shape":   {`{"loss": "mse_loss", "inputs": {"input": {"shape": [-1], "data": []}, "target": {"data": []}}}`, "negative"},
		"mse shapes":       {`{"loss": "mse_loss", "inputs": {"input": {"shape": [2], "data": [1, 2]}, "target": {"shape": [1, 2], "data": [1, 2]}}}`, "must be equal"},
		"ce 1-D input":     {`{"loss": "cross_entropy", "inputs": {"input": {"data": [1, 2]}, "target": {"shape": [], "data": [1]}}}`, "want [N, C]"},
		"ce target shape":  {`{"loss": "cross_entropy", "inputs": {"input": {"shape": [1, 2], "data": [1, 2]}, "target": {"shape": [2], "data": [1, 0]}}}`, "target: has shape"},
		"ce fractional":    {`{"loss": "cross_entropy", "inputs": {"input": {"shape": [1, 2], "data": [1, 2]}, "target": {"data": [0.5]}}}`, "class index"},
		"ce out of range":  {`{"loss": "cross_entropy", "inputs": {"input": {"shape": [1, 2], "data": [1, 2]}, "target": {"data": [2]}}}`, "out of range"},
		"ce weight len":    {ce(`, "options": {"weight": [1, 2]}`), "weight"},
		"ce smoothing":     {ce(`, "options": {"label_smoothing": 1.5}`), "label_smoothing"},
		"ce ignore float":  {ce(`, "options": {"ignore_index": 1.5}`), "not an integer"},
		"bad number":       {`{"loss": "mse_loss", "inputs": {"input": {"data": ["one"]}, "target": {"data": [1]}}}`, "not a number"},
		"huge number":      {`{"loss": "mse_loss", "inputs": {"input": {"data": [1e999]}, "target": {"data": [1]}}}`, "out of the float64 range"},
		"null number":      {`{"loss": "mse_loss", "inputs": {"input": {"data": [null]}, "target": {"data": [1]}}}`, "null"},
		"bad dtype":        {ce(`, "dtype": "float16"`), "unknown dtype"},
		"bad device":       {ce(`, "device": "tpu"`), "unknown device"},
		"nan policy":       {`{"loss": "mse_loss", "options": {"nan_policy": "error"}, "inputs": {"input": {"data": ["nan"]}, "target": {"data": [1]}}}`, "NaN"},
		"bad nan policy":   {ce(`, "options": {"nan_policy": "ignore"}`), "nan_policy"},
		"softmax dim":      {`{"loss": "softmax", "options": {"dim": 0}, "inputs": {"input": {"shape": [2, 2], "data": [1, 2, 3, 4]}}}`, "only the last dimension"},
		"softmax scalar":   {`{"loss": "softmax", "inputs": {"input": {"shape": [], "data": [1]}}}`, "at least one dimension"},
		"softmax tau 0":    {`{"loss": "softmax", "options": {"temperature": 0}, "inputs": {"input": {"data": [1]}}}`, "temperature"},
		"softmax tau -1":   {`{"loss": "softmax", "options": {"temperature": -1}, "inputs": {"input": {"data": [1]}}}`, "temperature"},
		"softmax keepdim":  {`{"loss": "softmax", "options": {"keepdim": true}, "inputs": {"input": {"data": [1]}}}`, `unknown option "keepdim"`},
		"grad_output":      {`{"loss": "logsumexp", "inputs": {"input": {"shape": [2, 2], "data": [1, 2, 3, 4]}, "grad_output": {"shape": [2, 2], "data": [1, 2, 3, 4]}}}`, "grad_output: has shape"},
		"mse target input": {`{"loss": "mse_loss", "inputs": {"input": {"data": [1]}, "target": {"data": [1]}, "grad_output": {"data": [1]}}}`, `unknown input "grad_output"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			code, out, errs := runEval(t, tc.in)
			if code != 2 {
				t.Fatalf("exit %d, want 2 (stdout %q, stderr %q)", code, out, errs)
			}
			if out != "" {
				t.Fatalf("stdout %q, want nothing", out)
			}
			if !strings.Contains(errs, tc.want) {
				t.Fatalf("stderr %q does not contain %q", errs, tc.want)
			}
		})
	}
	// Flags.
	var out, errb bytes.Buffer
	if code := run([]string{"eval", "extra"}, strings.NewReader("{}"), &out, &errb); code != 2 {
		t.Fatalf("eval with an argument: exit %d, want 2", code)
	}
}

func TestEvalDeviceFlag(t *testing.T) {
	req := `{"loss": "mse_loss", "inputs": {"input": {"data": [1]}, "target": {"data": [3]}}}`
	code, _, errs := runEval(t, req, "-device", "nosuch")
	if code != 2 || !strings.Contains(errs, "unknown device") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	code, out, errs := runEval(t, req, "-device", "host", "-pretty")
	if code != 0 || !strings.Contains(out, "\n  \"loss\": 4") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// TestEvalEveryDeclaredLoss: every loss package losses declares is
// available to eval, and "lossbench losses -json" lists it with its
// inputs and gradients.
func TestEvalEveryDeclaredLoss(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"losses", "-json"}, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("losses -json: exit %d: %s", code, errb.String())
	}
	var infos []lossInfo
	if err := json.Unmarshal(out.Bytes(), &infos); err != nil {
		t.Fatal(err)
	}
	names := losses.Names()
	if len(infos) != len(names) {
		t.Fatalf("losses -json lists %d losses, %d are declared", len(infos), len(names))
	}
	for i, li := range infos {
		if li.Name != names[i] || len(li.Inputs) == 0 {
			t.Errorf("entry %d: %+v, want %s with its inputs", i, li, names[i])
		}
		// An unknown option is refused by name: the loss is known to eval.
		code, _, errs := runEval(t, map[string]any{"loss": li.Name, "options": map[string]any{"no_such_option": 1}, "inputs": map[string]any{}})
		if code != 2 || !strings.Contains(errs, `unknown option "no_such_option"`) {
			t.Errorf("%s: exit %d, stderr %q", li.Name, code, errs)
		}
	}
}

func TestEvalCTC(t *testing.T) {
	// Uniform probabilities over 3 classes, 4 frames, target "1 2": 15 of
	// the 81 paths align, so the loss is log(81/15).
	lp := make([]float64, 12)
	for i := range lp {
		lp[i] = -math.Log(3)
	}
	inputs := func(bf bool) map[string]any {
		return map[string]any{"log_probs": tensorJSON([]int{4, 1, 3}, lp), "targets": tensorJSON([]int{1, 2}, []float64{1, 2}),
			"input_lengths": tensorJSON([]int{1}, []float64{4}), "target_lengths": tensorJSON([]int{1}, []float64{2})}
	}
	for _, opts := range []map[string]any{{}, {"reduction": "sum"}, {"grad_mode": "pytorch", "zero_infinity": true, "blank": 0},
		{"logits": true}, {"batch_first": true}} {
		in := inputs(false)
		if opts["batch_first"] == true {
			in["log_probs"] = tensorJSON([]int{1, 4, 3}, lp)
		}
		r := mustEval(t, map[string]any{"loss": "ctc_loss", "options": opts, "inputs": in})
		want := math.Log(81.0 / 15)
		if opts["reduction"] == nil {
			want /= 2 // mean: divided by the target length
		}
		checkClose(t, "loss", []float64{r.lossScalar(t)}, []float64{want}, 1e-12)
		g := r.Grads["log_probs"]
		if len(g.Data) != 12 {
			t.Fatalf("%v: grad has %d values", opts, len(g.Data))
		}
	}
	// Concatenated targets and reduction none.
	r := mustEval(t, map[string]any{"loss": "ctc_loss", "options": map[string]any{"reduction": "none"},
		"inputs": map[string]any{"log_probs": tensorJSON([]int{4, 1, 3}, lp), "targets": tensorJSON([]int{2}, []float64{1, 2}),
			"input_lengths": tensorJSON([]int{1}, []float64{4}), "target_lengths": tensorJSON([]int{1}, []float64{2})}})
	if !strings.HasPrefix(string(r.Loss), "[") {
		t.Fatalf("loss %s: want an array", r.Loss)
	}
	for name, tc := range map[string]struct{ in, want string }{
		"ctc shape":     {`{"loss": "ctc_loss", "inputs": {"log_probs": {"shape": [2, 3], "data": [1,2,3,4,5,6]}, "targets": {"data": [1]}, "input_lengths": {"data": [2]}, "target_lengths": {"data": [1]}}}`, "want [T, N, C]"},
		"ctc blank":     {`{"loss": "ctc_loss", "options": {"blank": 1}, "inputs": {"log_probs": {"shape": [2, 1, 2], "data": [1,2,3,4]}, "targets": {"data": [1]}, "input_lengths": {"data": [2]}, "target_lengths": {"data": [1]}}}`, "blank"},
		"ctc lengths":   {`{"loss": "ctc_loss", "inputs": {"log_probs": {"shape": [2, 1, 2], "data": [1,2,3,4]}, "targets": {"data": [1]}, "input_lengths": {"data": [3]}, "target_lengths": {"data": [1]}}}`, "input_lengths"},
		"ctc fraction":  {`{"loss": "ctc_loss", "inputs": {"log_probs": {"shape": [2, 1, 2], "data": [1,2,3,4]}, "targets": {"data": [1]}, "input_lengths": {"data": [1.5]}, "target_lengths": {"data": [1]}}}`, "not an int32"},
		"ctc grad mode": {`{"loss": "ctc_loss", "options": {"grad_mode": "torch"}, "inputs": {"log_probs": {"shape": [2, 1, 2], "data": [1,2,3,4]}, "targets": {"data": [1]}, "input_lengths": {"data": [2]}, "target_lengths": {"data": [1]}}}`, "grad_mode"},
		"seq shape":     {`{"loss": "seq_cross_entropy", "inputs": {"input": {"shape": [2, 3], "data": [1,2,3,4,5,6]}, "target": {"data": [1, 0]}}}`, "want [N, T, V]"},
		"seq norm":      {`{"loss": "seq_cross_entropy", "options": {"normalization": "batch"}, "inputs": {"input": {"shape": [1, 1, 2], "data": [1,2]}, "target": {"shape": [1, 1], "data": [1]}}}`, "normalization"},
	} {
		code, out, errs := runEval(t, tc.in)
		if code != 2 || out != "" || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q (want %q)", name, code, out, errs, tc.want)
		}
	}
}

func TestEvalSeqCrossEntropy(t *testing.T) {
	// Uniform logits: each non-pad token costs log V.
	r := mustEval(t, map[string]any{"loss": "seq_cross_entropy", "options": map[string]any{"ignore_index": 0, "normalization": "sequence"},
		"inputs": map[string]any{"input": tensorJSON([]int{2, 2, 4}, make([]float64, 16)), "target": tensorJSON([]int{2, 2}, []float64{1, 0, 2, 3})}})
	checkClose(t, "loss", []float64{r.lossScalar(t)}, []float64{math.Log(4)}, 1e-12)
}

// TestEvalScalarNone: with reduction none the loss is an array, even for
// a 0-dimensional input (PyTorch returns a tensor of the input's shape).
func TestEvalScalarNone(t *testing.T) {
	code, out, errs := runEval(t, `{"loss": "huber_loss", "options": {"reduction": "none"}, "dtype": "float64",
		"inputs": {"input": {"shape": [], "data": [2]}, "target": {"shape": [], "data": [0]}}}`)
	if code != 0 || !strings.Contains(out, `"loss":[1.5]`) {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// TestEvalStrictJSON: field names are matched exactly, null is not an
// empty tensor, shape or dimension, and messages quote at most 80 bytes of
// the input.
func TestEvalStrictJSON(t *testing.T) {
	x := `{"data": [1, 2]}`
	for name, tc := range map[string]struct{ in, want string }{
		"capitalised field": {`{"Loss": "mse_loss", "inputs": {"input": ` + x + `, "target": ` + x + `}}`, `unknown field "Loss"`},
		"capitalised shape": {`{"loss": "mse_loss", "inputs": {"input": {"Shape": [2], "data": [1, 2]}, "target": ` + x + `}}`, `unknown field "Shape"`},
		"null tensor":       {`{"loss": "mse_loss", "inputs": {"input": null, "target": ` + x + `}}`, "null"},
		"null inputs":       {`{"loss": "mse_loss", "inputs": null}`, "null"},
		"null shape":        {`{"loss": "mse_loss", "inputs": {"input": {"shape": null, "data": []}, "target": ` + x + `}}`, "null"},
		"null dimension":    {`{"loss": "mse_loss", "inputs": {"input": {"shape": [null], "data": []}, "target": ` + x + `}}`, "dimension 0 is null"},
		"null data":         {`{"loss": "mse_loss", "inputs": {"input": {"shape": [0], "data": null}, "target": ` + x + `}}`, "null"},
	} {
		code, out, errs := runEval(t, tc.in)
		if code != 2 || out != "" || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q (want exit 2 and %q)", name, code, out, errs, tc.want)
		}
	}
	long := strings.Repeat("x", 1<<20)
	for _, in := range []string{
		`{"loss": "` + long + `", "inputs": {}}`,
		`{"loss": "mse_loss", "options": {"` + long + `": 1}, "inputs": {}}`,
		`{"loss": "mse_loss", "inputs": {"` + long + `": ` + x + `}}`,
		`{"loss": "mse_loss", "dtype": "` + long + `", "inputs": {"input": ` + x + `, "target": ` + x + `}}`,
	} {
		code, _, errs := runEval(t, in)
		if code != 2 || len(errs) > 2000 {
			t.Errorf("exit %d, %d bytes of stderr: %.200s", code, len(errs), errs)
		}
	}
}

// TestEvalExitStatus: a case beyond -max-bytes exits 3 (resources), a
// bad case 2.
func TestEvalExitStatus(t *testing.T) {
	in := `{"loss": "mse_loss", "inputs": {"input": {"data": [1, 2, 3]}, "target": {"data": [1, 2, 3]}}}`
	if code, _, errs := runEval(t, in, "-max-bytes", "40"); code != 3 || !strings.Contains(errs, "max-bytes") {
		t.Errorf("over -max-bytes: exit %d, %s", code, errs)
	}
	if code, _, errs := runEval(t, in, "-max-bytes", fmt.Sprint(len(in))); code != 0 {
		t.Errorf("at -max-bytes: exit %d, %s", code, errs)
	}
	if code, _, _ := runEval(t, `{"loss": "mse_loss", "inputs": {"input": {"data": [1]}}}`); code != 2 {
		t.Errorf("missing input: exit %d, want 2", code)
	}
}

// TestEvalZeroWeightMean: mean over kept rows whose class weights sum to 0
// is 0/0 for the loss and the gradient, as in PyTorch; with every row
// ignored nothing is kept and the gradient is 0.
func TestEvalZeroWeightMean(t *testing.T) {
	x := `"input": {"shape": [2, 2], "data": [1, 2, 3, 4]}, "target": {"shape": [2], "data": [0, 0]}`
	code, out, errs := runEval(t, `{"loss": "cross_entropy", "options": {"weight": [0, 1]}, "inputs": {`+x+`}}`)
	if code != 0 || !strings.Contains(out, `"loss":"nan"`) || !strings.Contains(out, `"data":["nan","nan","nan","nan"]`) {
		t.Errorf("weights summing to 0: exit %d, %s %s", code, out, errs)
	}
	code, out, errs = runEval(t, `{"loss": "cross_entropy", "options": {"ignore_index": 0}, "inputs": {`+x+`}}`)
	if code != 0 || !strings.Contains(out, `"loss":"nan"`) || !strings.Contains(out, `"data":[0,0,0,0]`) {
		t.Errorf("all ignored: exit %d, %s %s", code, out, errs)
	}
}
