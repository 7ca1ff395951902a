package losstest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

// Outputs are the float64 views of a case's results, gathered from the
// tensors the declaration's Call returns.
type Outputs struct {
	// Loss is "loss"; Output is "output" (softmax, log_softmax and
	// logsumexp, which have no loss).
	Loss, Output []float64
	// Grad is the gradient w.r.t. the loss's first input (grad_input,
	// grad_log_probs); GradTarget is grad_target.
	Grad, GradTarget []float64
	// LSE is cross_entropy's per-row log-sum-exp.
	LSE []float64
	// GradVar is gaussian_nll_loss's gradient w.r.t. var.
	GradVar []float64
	// LogLik is ctc_loss's per-sequence log-likelihoods, forward then
	// backward (log_likelihood then log_likelihood_beta, 2N values).
	LogLik []float64
	// ZLoss and Accuracy are cross_entropy's (and seq_cross_entropy's)
	// z-loss part and accuracy.
	ZLoss, Accuracy []float64
	// GradMore are the gradients w.r.t. the inputs after the second
	// (linear_cross_entropy's grad_bias), concatenated in name order.
	GradMore []float64
}

// fields lists the outputs by name, in a fixed order.
func (o Outputs) fields() []namedOut {
	return []namedOut{{"loss", o.Loss}, {"output", o.Output}, {"grad", o.Grad}, {"grad_target", o.GradTarget},
		{"lse", o.LSE}, {"loglik", o.LogLik}, {"grad_var", o.GradVar}, {"z_loss", o.ZLoss}, {"accuracy", o.Accuracy},
		{"grad_more", o.GradMore}}
}

type namedOut struct {
	name string
	v    []float64
}

// Case is one row of the equivalence table.
type Case struct {
	Name string
	// Loss is the declared loss (losses.Lookup) the case runs.
	Loss string
	// Run computes the case on dev in float32 (f64 false) or float64.
	Run func(dev device.Device, f64 bool) (Outputs, error)
	// Tol is the relative tolerance of float32 against the float64 host
	// reference: |got - want| <= Tol * (|want| + scale), where scale is the
	// largest |want| of the same output.
	Tol float64
	// ins and opt are the inputs and options of a case that runs through
	// its declaration (TestBadBuffers reuses them).
	ins inputs
	opt any
}

// in is one named input of a case: float values (already rounded to
// float32, so that both precisions see the same numbers) or int32 values,
// with the tensor's shape.
type in struct {
	f     []float64
	i     []int32
	isInt bool
	shape []int
}

func fl(v []float64, shape ...int) in { return in{f: v, shape: shape} }

func ints(v []int32, shape ...int) in { return in{i: v, isInt: true, shape: shape} }

// inputs are the named inputs of a case (PyTorch's argument names).
type inputs map[string]in

// declCase is a case that runs loss through its declaration: Decl.Call
// with the inputs as host tensors (float64 or float32) and opt (a value
// of the loss's options type, or nil for the defaults).
func declCase(name, loss string, tol float64, ins inputs, opt any) Case {
	return Case{Name: name, Loss: loss, Tol: tol, ins: ins, opt: opt,
		Run: func(dev device.Device, f64 bool) (Outputs, error) { return Call(dev, loss, ins, opt, f64) }}
}

// Call runs the declared loss on dev with the given inputs and options
// and gathers its results into Outputs.
func Call(dev device.Device, loss string, ins inputs, opt any, f64 bool) (Outputs, error) {
	d, ok := losses.Lookup(loss)
	if !ok {
		return Outputs{}, fmt.Errorf("loss %q is not declared", loss)
	}
	ts := make(map[string]losses.Tensor, len(ins))
	for name, v := range ins {
		switch {
		case v.isInt:
			ts[name] = losses.HostTensor(v.i, v.shape...)
		case f64:
			ts[name] = losses.HostTensor(v.f, v.shape...)
		default:
			ts[name] = losses.HostTensor(to32(v.f), v.shape...)
		}
	}
	res, err := d.Call(dev, ts, opt)
	if err != nil {
		return Outputs{}, err
	}
	return OutputsOf(d, res)
}

// OutputsOf maps the results of d.Call onto Outputs by their names: loss,
// output, lse, grad_target (or the gradient w.r.t. the second input),
// grad_var, the gradient w.r.t. the first input (Grad) and log_likelihood + log_likelihood_beta (LogLik). A result of
// another name is an error: Outputs and Compare must learn it first.
func OutputsOf(d *losses.Decl, res map[string]losses.Tensor) (Outputs, error) {
	first, second := "", ""
	for _, p := range d.Params {
		if p.Role == losses.In {
			if first == "" {
				first = p.Name
			} else if second == "" {
				second = p.Name
			}
		}
	}
	var o Outputs
	names := make([]string, 0, len(res))
	for name := range res {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v := losses.Floats(res[name])
		p, _ := d.Param(name)
		switch {
		case name == "loss":
			o.Loss = v
		case name == "output":
			o.Output = v
		case name == "lse":
			o.LSE = v
		case name == "grad_target":
			o.GradTarget = v
		case name == "grad_var":
			o.GradVar = v
		case name == "z_loss":
			o.ZLoss = v
		case name == "accuracy":
			o.Accuracy = v
		case p.Role == losses.Grad && p.GradOf == first:
			o.Grad = v
		case p.Role == losses.Grad && p.GradOf == second:
			o.GradTarget = v // e.g. grad_boxes2: the second input's gradient
		case p.Role == losses.Grad:
			o.GradMore = append(o.GradMore, v...)
		case name == "log_likelihood" || name == "log_likelihood_beta":
			// Below, forward then backward.
		default:
			return Outputs{}, fmt.Errorf("%s: result %q has no place in losstest.Outputs", d.Name, name)
		}
	}
	if ll, ok := res["log_likelihood"]; ok {
		o.LogLik = append(losses.Floats(ll), losses.Floats(res["log_likelihood_beta"])...)
	}
	return o, nil
}

func to64[T losses.Float](v []T) []float64 {
	if v == nil {
		return nil
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func to32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// roundTo32 rounds inputs to float32 so the float64 reference sees the very
// same numbers as the float32 device.
func roundTo32(v []float64) []float64 { return to64(to32(v)) }

func logits(r *rand.Rand, n int, scale float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = r.NormFloat64() * scale
	}
	return roundTo32(x)
}

func ptr[T any](v T) *T { return &v }

func ceCase(name string, n, c int, scale float64, tweak func(x []float64, tg []int32), opt losses.CrossEntropyOptions) Case {
	r := rand.New(rand.NewPCG(uint64(n)*7919+uint64(c), 99))
	x := logits(r, n*c, scale)
	tg := make([]int32, n)
	for i := range tg {
		tg[i] = int32(r.IntN(c))
	}
	if tweak != nil {
		tweak(x, tg)
	}
	return declCase(fmt.Sprintf("cross_entropy/%s/%dx%d", name, n, c), "cross_entropy", 2e-5,
		inputs{"input": fl(x, n, c), "target": ints(tg, n)}, opt)
}

func mseCase(name string, n int, scale float64, red losses.Reduction) Case {
	r := rand.New(rand.NewPCG(uint64(n), 7))
	x, y := logits(r, n, scale), logits(r, n, scale)
	return declCase(fmt.Sprintf("mse_loss/%s/%d", name, n), "mse_loss", 1e-5,
		inputs{"input": fl(x, n), "target": fl(y, n)},
		losses.MSELossOptions{ElementwiseOptions: losses.ElementwiseOptions{Reduction: red}})
}

// rowCase is softmax, log_softmax or logsumexp (op) over [rows, cols] at
// temperature tau, forward and backward with a random grad_output.
func rowCase(op string, rows, cols int, tau, scale float64) Case {
	return rowCaseX(op, "", rows, cols, tau, scale, nil)
}

// confidentRows shifts every logit by 1000 and puts one per row 10 above
// the rest: log-probabilities near 0 beside a log-sum-exp near 1010, whose
// float32 spacing is 6e-5.
func confidentRows(x []float64, rows, cols int) {
	for i := 0; i < rows; i++ {
		row := x[i*cols : (i+1)*cols]
		for k := range row {
			row[k] += 1000
		}
		row[(i*7)%cols] = 1010
	}
}

func rowCaseX(op, tag string, rows, cols int, tau, scale float64, tweak func(x []float64, rows, cols int)) Case {
	r := rand.New(rand.NewPCG(uint64(rows*cols), 5))
	x := logits(r, rows*cols, scale)
	if tweak != nil {
		tweak(x, rows, cols)
	}
	outShape := []int{rows, cols}
	var opt any = losses.SoftmaxOptions{Temperature: ptr(tau)}
	switch op {
	case "logsumexp":
		outShape = []int{rows}
		opt = losses.LogSumExpOptions{SoftmaxOptions: losses.SoftmaxOptions{Temperature: ptr(tau)}}
	case "log_softmax":
		opt = losses.LogSoftmaxOptions{Temperature: ptr(tau)}
	}
	nOut := 1
	for _, d := range outShape {
		nOut *= d
	}
	dy := logits(r, nOut, 1)
	return declCase(fmt.Sprintf("%s/%stau=%g/%dx%d", op, tag, tau, rows, cols), op, 2e-5,
		inputs{"input": fl(x, rows, cols), "grad_output": fl(dy, outShape...)}, opt)
}

// ctcSpec describes one ctc_loss case of the table.
type ctcSpec struct {
	name          string
	T, N, C, maxL int
	opt           losses.CTCLossOptions
	concat        bool // concatenated targets (else padded [N, maxL])
	tol           float64
	// lengths, if set, adjusts the input and target lengths and labels.
	lengths func(il, tl []int32, lab [][]int32)
}

func ctcEqCase(sp ctcSpec) Case {
	r := rand.New(rand.NewPCG(uint64(sp.T*1000003+sp.N*1009+sp.C), uint64(sp.maxL)+11))
	x := make([]float64, sp.T*sp.N*sp.C)
	for i := range x {
		x[i] = r.NormFloat64() * 2
	}
	if !sp.opt.Logits { // log-probabilities: log_softmax of the rows
		for row := 0; row+sp.C <= len(x); row += sp.C {
			m := math.Inf(-1)
			for _, v := range x[row : row+sp.C] {
				m = math.Max(m, v)
			}
			var s float64
			for _, v := range x[row : row+sp.C] {
				s += math.Exp(v - m)
			}
			for i := row; i < row+sp.C; i++ {
				x[i] -= m + math.Log(s)
			}
		}
	}
	x = roundTo32(x)
	il, tl := make([]int32, sp.N), make([]int32, sp.N)
	lab := make([][]int32, sp.N)
	for n := range sp.N {
		il[n] = int32(sp.T - r.IntN(max(1, sp.T/4)))
		tl[n] = int32(sp.maxL - r.IntN(max(1, sp.maxL/3+1)))
		lab[n] = make([]int32, sp.maxL)
		for j := range lab[n] {
			l := r.IntN(sp.C - 1)
			if l >= sp.opt.Blank {
				l++
			}
			lab[n][j] = int32(l)
		}
	}
	if sp.lengths != nil {
		sp.lengths(il, tl, lab)
	}
	targets := []int32{}
	for n := range sp.N {
		if sp.concat {
			targets = append(targets, lab[n][:tl[n]]...)
		} else {
			targets = append(targets, lab[n]...)
		}
	}
	tshape := []int{sp.N, sp.maxL} // padded
	if sp.concat {
		tshape = []int{len(targets)}
	}
	xshape := []int{sp.T, sp.N, sp.C}
	if sp.opt.BatchFirst { // store x as [N, T, C]
		bf := make([]float64, len(x))
		for t := range sp.T {
			for n := range sp.N {
				copy(bf[(n*sp.T+t)*sp.C:(n*sp.T+t+1)*sp.C], x[(t*sp.N+n)*sp.C:(t*sp.N+n+1)*sp.C])
			}
		}
		x = bf
		xshape = []int{sp.N, sp.T, sp.C}
	}
	tol := sp.tol
	if tol == 0 {
		tol = 1e-4
	}
	return declCase(fmt.Sprintf("ctc_loss/%s/T=%d,N=%d,C=%d,L<=%d", sp.name, sp.T, sp.N, sp.C, sp.maxL), "ctc_loss", tol,
		inputs{"log_probs": fl(x, xshape...), "targets": ints(targets, tshape...),
			"input_lengths": ints(il, sp.N), "target_lengths": ints(tl, sp.N)}, sp.opt)
}

// ctcCases are the ctc_loss rows of the table, all held to 1e-4 of the
// float64 host path (loss, gradient, both log-likelihoods), the long ones
// included: T = 10 000 frames, and 1000 labels over 3000 frames. Measured
// (host float32 path and OpenCL on PoCL): gradients within 1e-5 at
// T = 10 000, 5e-6 at L = 1000, 3e-7 on the short cases; losses within
// 3e-8. Every device also gets the forward and backward log-likelihoods
// to agree within 1e-5 (AgreeLogLik).
func ctcCases() []Case {
	mean, sum, none := losses.Mean, losses.Sum, losses.None
	return []Case{
		ctcEqCase(ctcSpec{name: "small", T: 7, N: 3, C: 5, maxL: 3, opt: losses.CTCLossOptions{Reduction: mean}}),
		ctcEqCase(ctcSpec{name: "odd-shapes-logits", T: 37, N: 5, C: 31, maxL: 9, opt: losses.CTCLossOptions{Logits: true, Reduction: sum}}),
		ctcEqCase(ctcSpec{name: "pytorch-grad-blank-last-concat", T: 23, N: 4, C: 13, maxL: 7, concat: true,
			opt: losses.CTCLossOptions{Blank: 12, GradMode: losses.CTCGradPyTorch, Reduction: none}}),
		ctcEqCase(ctcSpec{name: "wide-C", T: 20, N: 3, C: 1001, maxL: 6, opt: losses.CTCLossOptions{Logits: true, Blank: 500, Reduction: none}}),
		ctcEqCase(ctcSpec{name: "empty-targets-and-inputs", T: 9, N: 5, C: 6, maxL: 4, opt: losses.CTCLossOptions{Reduction: none},
			lengths: func(il, tl []int32, lab [][]int32) {
				tl[0], tl[2] = 0, 0
				il[3], tl[3] = 0, 0 // empty input, empty target: probability 1
				il[4], tl[4] = 0, 2 // empty input, non-empty target: impossible
			}}),
		ctcEqCase(ctcSpec{name: "impossible", T: 6, N: 4, C: 5, maxL: 5, opt: losses.CTCLossOptions{Reduction: none},
			lengths: func(il, tl []int32, lab [][]int32) {
				il[0], tl[0] = 6, 5
				lab[0][1] = lab[0][0] // 5 labels + 1 repeat > 6 frames
				il[1], tl[1] = 3, 4
			}}),
		ctcEqCase(ctcSpec{name: "impossible-zero-infinity", T: 6, N: 4, C: 5, maxL: 5, opt: losses.CTCLossOptions{Reduction: mean, ZeroInfinity: true, Logits: true},
			lengths: func(il, tl []int32, lab [][]int32) { il[1], tl[1] = 3, 4 }}),
		ctcEqCase(ctcSpec{name: "repeats", T: 40, N: 3, C: 4, maxL: 12, opt: losses.CTCLossOptions{Reduction: mean},
			lengths: func(il, tl []int32, lab [][]int32) {
				for n := range lab {
					for j := 1; j < len(lab[n]); j += 2 {
						lab[n][j] = lab[n][j-1]
					}
				}
			}}),
		ctcEqCase(ctcSpec{name: "batch-first-logits", T: 29, N: 6, C: 17, maxL: 8, opt: losses.CTCLossOptions{Logits: true, BatchFirst: true, Reduction: mean}}),
		ctcEqCase(ctcSpec{name: "states-beyond-block", T: 300, N: 2, C: 41, maxL: 130, opt: losses.CTCLossOptions{Logits: true, Reduction: sum}}),
		ctcEqCase(ctcSpec{name: "long", T: 1000, N: 3, C: 29, maxL: 200, opt: losses.CTCLossOptions{Logits: true, Reduction: mean}}),
		ctcEqCase(ctcSpec{name: "very-long", T: 10000, N: 2, C: 12, maxL: 60, opt: losses.CTCLossOptions{Logits: true, Reduction: none}}),
		ctcEqCase(ctcSpec{name: "long-targets", T: 3000, N: 2, C: 40, maxL: 1000, opt: losses.CTCLossOptions{Reduction: sum, GradMode: losses.CTCGradPyTorch},
			lengths: func(il, tl []int32, lab [][]int32) { il[0], tl[0] = 3000, 1000 }}),
		ctcEqCase(ctcSpec{name: "empty-batch", T: 5, N: 0, C: 3, maxL: 2, opt: losses.CTCLossOptions{Reduction: mean}}),
		// no frame: the empty target has probability 1, the others none
		ctcEqCase(ctcSpec{name: "no-frames", T: 0, N: 3, C: 5, maxL: 2, opt: losses.CTCLossOptions{Reduction: none},
			lengths: func(il, tl []int32, lab [][]int32) { tl[0] = 0 }}),
		ctcEqCase(ctcSpec{name: "no-frames-zero-infinity", T: 0, N: 3, C: 5, maxL: 2, opt: losses.CTCLossOptions{Reduction: mean, ZeroInfinity: true, Logits: true},
			lengths: func(il, tl []int32, lab [][]int32) { tl[0] = 0 }}),
	}
}

// Cases returns the equivalence table.
func Cases() []Case {
	w7 := []float64{0.5, 2, 1, 0.1, 3, 1, 0.7}
	weights := func(c int) []float64 {
		w := make([]float64, c)
		for i := range w {
			w[i] = 0.25 + float64(i%5)*0.5
		}
		return w
	}
	negInf := math.Inf(-1)
	var cs []Case
	for _, red := range []losses.Reduction{losses.Mean, losses.Sum, losses.None} {
		cs = append(cs,
			ceCase("plain-"+red.String(), 3, 7, 2, nil, losses.CrossEntropyOptions{Reduction: red}),
			ceCase("smooth+weight-"+red.String(), 13, 7, 2, nil, losses.CrossEntropyOptions{Reduction: red, LabelSmoothing: 0.2, Weight: w7}),
		)
	}
	cs = append(cs,
		ceCase("1x1", 1, 1, 1, nil, losses.CrossEntropyOptions{}),
		ceCase("empty-mean", 0, 5, 1, nil, losses.CrossEntropyOptions{}),
		ceCase("empty-sum", 0, 5, 1, nil, losses.CrossEntropyOptions{Reduction: losses.Sum}),
		ceCase("prime", 251, 257, 3, nil, losses.CrossEntropyOptions{}),
		ceCase("not-block-multiple", 17, 1000, 2, nil, losses.CrossEntropyOptions{LabelSmoothing: 0.1}),
		ceCase("block-plus-one", 5, 257, 2, nil, losses.CrossEntropyOptions{}),
		ceCase("wide", 3, 131072, 2, nil, losses.CrossEntropyOptions{LabelSmoothing: 0.05, Weight: weights(131072)}),
		ceCase("wide-none", 4, 32003, 5, nil, losses.CrossEntropyOptions{Reduction: losses.None}),
		ceCase("extreme", 6, 33, 1e4, nil, losses.CrossEntropyOptions{}),
		// The epilogues: soft-capping, z-loss, accuracy, with weights,
		// smoothing, every reduction, saturated and wide rows.
		ceCase("z+accuracy", 13, 7, 2, nil, losses.CrossEntropyOptions{ZLoss: 1e-2, ReturnAccuracy: true}),
		ceCase("softcap+z+smooth+weight", 13, 7, 4, nil, losses.CrossEntropyOptions{Softcap: 3, ZLoss: 1e-3,
			LabelSmoothing: 0.1, Weight: w7, ReturnAccuracy: true}),
		ceCase("softcap+z-none", 9, 257, 5, nil, losses.CrossEntropyOptions{Reduction: losses.None, Softcap: 6,
			ZLoss: 1e-4, ReturnAccuracy: true}),
		ceCase("softcap+z-sum", 17, 1000, 3, nil, losses.CrossEntropyOptions{Reduction: losses.Sum, Softcap: 30,
			ZLoss: 1e-4, ReturnAccuracy: true}),
		ceCase("softcap-extreme", 6, 33, 1e4, nil, losses.CrossEntropyOptions{Softcap: 30, ZLoss: 1e-4, ReturnAccuracy: true}),
		ceCase("softcap+z-wide", 3, 50257, 4, nil, losses.CrossEntropyOptions{Softcap: 30, ZLoss: 1e-4, LabelSmoothing: 0.1,
			ReturnAccuracy: true}),
		ceCase("z-some-ignored", 9, 11, 2, func(x []float64, tg []int32) {
			tg[0], tg[4] = -100, -100
		}, losses.CrossEntropyOptions{ZLoss: 1e-2, Weight: weights(11), ReturnAccuracy: true}),
		ceCase("z-all-ignored", 4, 6, 2, func(x []float64, tg []int32) {
			for i := range tg {
				tg[i] = -100
			}
		}, losses.CrossEntropyOptions{ZLoss: 1e-2, ReturnAccuracy: true}),
		ceCase("z-empty", 0, 5, 1, nil, losses.CrossEntropyOptions{ZLoss: 1e-2, ReturnAccuracy: true}),
		// Confident rows on logits near 1000: the target 10 above the
		// rest, so each row's loss is about 0.07 while its log-sum-exp is
		// about 1010, where float32 spacing is 6e-5. The loss must come
		// from log(s) − (x_t − m), not from L − x_t.
		ceCase("confident-offset", 8, 1000, 1, func(x []float64, tg []int32) {
			for i, t := range tg {
				row := x[i*1000 : (i+1)*1000]
				for k := range row {
					row[k] += 1000
				}
				row[t] = 1010
			}
		}, losses.CrossEntropyOptions{Reduction: losses.None}),
		ceCase("neg-inf", 8, 40, 2, func(x []float64, tg []int32) {
			for i := 0; i < 8; i++ {
				for k := 0; k < 40; k += 3 {
					if int32(k) != tg[i] {
						x[i*40+k] = negInf
					}
				}
			}
		}, losses.CrossEntropyOptions{LabelSmoothing: 0}),
		ceCase("some-ignored", 9, 11, 2, func(x []float64, tg []int32) {
			tg[0], tg[4], tg[8] = 3, 3, 3
		}, losses.CrossEntropyOptions{IgnoreIndex: losses.Index(3), Weight: weights(11), LabelSmoothing: 0.1}),
		// nan_policy error on clean logits: checked (count_nan), then as propagate.
		ceCase("nan-policy-error", 7, 19, 2, nil, losses.CrossEntropyOptions{NaN: losses.NaNError, LabelSmoothing: 0.1}),
		ceCase("all-ignored-mean", 4, 6, 2, func(x []float64, tg []int32) {
			for i := range tg {
				tg[i] = -100
			}
		}, losses.CrossEntropyOptions{}),
		ceCase("all-ignored-none", 4, 6, 2, func(x []float64, tg []int32) {
			for i := range tg {
				tg[i] = -100
			}
		}, losses.CrossEntropyOptions{Reduction: losses.None}),
	)
	for _, red := range []losses.Reduction{losses.Mean, losses.Sum, losses.None} {
		for _, n := range []int{0, 1, 255, 257, 1<<18 + 3} {
			cs = append(cs, mseCase(red.String(), n, 1, red))
		}
	}
	cs = append(cs, mseCase("extreme", 1000, 1e4, losses.Mean))
	cs = append(cs, ctcCases()...)
	cs = append(cs, pointwiseCases()...)
	for _, op := range []string{"softmax", "log_softmax", "logsumexp"} {
		cs = append(cs,
			rowCase(op, 1, 1, 1, 1),
			rowCase(op, 7, 1000, 1, 3),
			rowCase(op, 3, 131072, 2, 2),
			rowCase(op, 31, 257, 0.5, 2),
			rowCase(op, 0, 7, 1, 1),
			rowCaseX(op, "confident-offset/", 8, 1000, 1, 1, confidentRows),
		)
	}
	cs = append(cs, RowLossCases()...)
	cs = append(cs, seqCECases()...)
	for _, f := range familyCases {
		cs = append(cs, f()...)
	}
	return cs
}

// familyCases are the rows of the later families, each added by an init
// function in the family's file (cases_<family>.go).
var familyCases []func() []Case

// Reference computes a case on the host in float64.
func Reference(c Case) (Outputs, error) { return c.Run(host.Default(), true) }

// Compare checks got against want within tol and returns a description of
// the first mismatch, or "".
func Compare(got, want Outputs, tol float64) string {
	gs, ws := got.fields(), want.fields()
	for k := range ws {
		p := struct {
			name string
			g, w []float64
		}{ws[k].name, gs[k].v, ws[k].v}
		if len(p.g) != len(p.w) {
			return fmt.Sprintf("%s: %d elements, want %d", p.name, len(p.g), len(p.w))
		}
		var scale float64
		for _, v := range p.w {
			if !math.IsInf(v, 0) && !math.IsNaN(v) {
				scale = math.Max(scale, math.Abs(v))
			}
		}
		for i := range p.w {
			g, w := p.g[i], p.w[i]
			if math.IsNaN(w) || math.IsInf(w, 0) {
				if !(math.IsNaN(w) && math.IsNaN(g)) && g != w {
					return fmt.Sprintf("%s[%d] = %v, want %v", p.name, i, g, w)
				}
				continue
			}
			if !(math.Abs(g-w) <= tol*(math.Abs(w)+scale)) {
				return fmt.Sprintf("%s[%d] = %v, want %v (|diff| %.3g > tol %.3g)", p.name, i, g, w, math.Abs(g-w), tol*(math.Abs(w)+scale))
			}
		}
	}
	return ""
}

// AgreeLogLik checks that the two halves of a ctc_loss LogLik output, the
// log-likelihoods of the forward and of the backward recursion, agree
// within tol·max(1, |value|) (both −Inf, or both NaN, for sequences with
// no alignment or NaN input), and returns a description of the first
// disagreement, or "". Outputs of other losses (no LogLik) pass.
func AgreeLogLik(ll []float64, tol float64) string {
	n := len(ll) / 2
	for i := 0; i < n; i++ {
		a, b := ll[i], ll[n+i]
		switch {
		case math.IsNaN(a) || math.IsNaN(b):
			if !(math.IsNaN(a) && math.IsNaN(b)) {
				return fmt.Sprintf("loglik[%d] = %v (alpha) but %v (beta)", i, a, b)
			}
		case math.IsInf(a, 0) || math.IsInf(b, 0):
			if a != b {
				return fmt.Sprintf("loglik[%d] = %v (alpha) but %v (beta)", i, a, b)
			}
		case !(math.Abs(a-b) <= tol*math.Max(1, math.Abs(a))):
			return fmt.Sprintf("loglik[%d] = %v (alpha) but %v (beta): |diff| %.3g > %.3g", i, a, b, math.Abs(a-b), tol*math.Max(1, math.Abs(a)))
		}
	}
	return ""
}

// Identical reports whether two outputs are bitwise identical (NaN == NaN
// when their bits agree).
func Identical(a, b Outputs) bool {
	fa, fb := a.fields(), b.fields()
	for k := range fa {
		x, y := fa[k].v, fb[k].v
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
				return false
			}
		}
	}
	return true
}
