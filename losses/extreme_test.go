package losses_test

import (
	"encoding/json"
	"errors"
	"github.com/lossengine/lossengine/device"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

// TestExtremeOptions: options at the edge of the float range give a
// finite answer or an *ArgError, never NaN: temperatures whose inverse
// (or square) overflows the call's dtype, and subnormal class weights.
func TestExtremeOptions(t *testing.T) {
	dev := host.Default()
	x := []float64{0.5, -1, 2, 0.25, 3, -2}
	tgt := []float64{0.1, 0.2, 0.7, 0.3, 0.3, 0.4}
	cls := []int32{2, 0}
	f64 := func(v []float64) losses.Tensor { return losses.HostTensor(append([]float64{}, v...), 2, 3) }
	f32 := func(v []float64) losses.Tensor {
		w := make([]float32, len(v))
		for i := range v {
			w[i] = float32(v[i])
		}
		return losses.HostTensor(w, 2, 3)
	}
	tau := func(v float64) *float64 { return &v }
	type row struct {
		name, loss string
		ins        map[string]losses.Tensor
		opt        any
		wantErr    bool
	}
	var rows []row
	for _, sm := range []string{"softmax", "log_softmax", "logsumexp"} {
		rows = append(rows,
			row{sm + "/τ=1e-39/f32", sm, map[string]losses.Tensor{"input": f32(x)}, losses.SoftmaxOptions{Temperature: tau(1e-39)}, true},
			row{sm + "/τ=1e-320/f64", sm, map[string]losses.Tensor{"input": f64(x)}, losses.SoftmaxOptions{Temperature: tau(1e-320)}, true},
			row{sm + "/τ=1e39/f32", sm, map[string]losses.Tensor{"input": f32(x)}, losses.SoftmaxOptions{Temperature: tau(1e39)}, true},
			row{sm + "/τ=1e-30/f32", sm, map[string]losses.Tensor{"input": f32(x)}, losses.SoftmaxOptions{Temperature: tau(1e-30)}, false},
			row{sm + "/τ=1e300/f64", sm, map[string]losses.Tensor{"input": f64(x)}, losses.SoftmaxOptions{Temperature: tau(1e300)}, false},
		)
	}
	rows = append(rows,
		row{"distill_kl/τ=1e30/f32", "distill_kl", map[string]losses.Tensor{"input": f32(x), "target": f32(tgt)},
			losses.DistillKLOptions{Temperature: 1e30}, true},
		row{"distill_kl/τ=1e-39/f32", "distill_kl", map[string]losses.Tensor{"input": f32(x), "target": f32(tgt)},
			losses.DistillKLOptions{Temperature: 1e-39}, true},
		row{"distill_kl/τ=1e30/f64", "distill_kl", map[string]losses.Tensor{"input": f64(x), "target": f64(tgt)},
			losses.DistillKLOptions{Temperature: 1e30}, false},
		row{"distill_kl/τ=1e4/f32", "distill_kl", map[string]losses.Tensor{"input": f32(x), "target": f32(tgt)},
			losses.DistillKLOptions{Temperature: 1e4}, false},
	)
	for _, w := range [][]float64{{1e-310, 1e-310, 1e-310}, {1e-310, 1, 1e-310}, {1e-45, 1e-45, 1e-45}} {
		for _, l := range []string{"cross_entropy", "nll_loss"} {
			for _, red := range []losses.Reduction{losses.Mean, losses.Sum} {
				var opt any
				switch l {
				case "cross_entropy":
					opt = losses.CrossEntropyOptions{Weight: w, Reduction: red}
				case "nll_loss":
					opt = losses.NLLLossOptions{Weight: w, Reduction: red}
				}
				rows = append(rows, row{l + "/subnormal weight/f64/" + red.String(), l,
					map[string]losses.Tensor{"input": f64(x), "target": losses.HostTensor(append([]int32{}, cls...))}, opt, false})
				if w[0] > 1e-300 {
					rows = append(rows, row{l + "/subnormal weight/f32/" + red.String(), l,
						map[string]losses.Tensor{"input": f32(x), "target": losses.HostTensor(append([]int32{}, cls...))}, opt, false})
				}
			}
		}
	}
	var err error
	for _, r := range rows {
		d, ok := losses.Lookup(r.loss)
		if !ok {
			t.Fatalf("%s not declared", r.loss)
		}
		if so, ok := r.opt.(losses.SoftmaxOptions); ok { // the options type of each of the family
			raw, _ := json.Marshal(so)
			if r.opt, err = d.DecodeOptions(raw); err != nil {
				t.Fatalf("%s: %v", r.name, err)
			}
		}
		outs, err := d.Call(dev, r.ins, r.opt)
		if r.wantErr {
			var ae *losses.ArgError
			if !errors.As(err, &ae) {
				t.Errorf("%s: got %v, want an *ArgError", r.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", r.name, err)
			continue
		}
		for k, o := range outs {
			for i, v := range losses.Floats(o) {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Errorf("%s: %s[%d] = %v", r.name, k, i, v)
					break
				}
			}
		}
	}
}

// TestWorkspaceBudget: a CTC call whose inputs are small but whose
// alignment workspace (N·T·(2L+1) floats) exceeds the memory budget fails
// with device.ErrOutOfMemory, naming the bytes, before writing anything.
func TestWorkspaceBudget(t *testing.T) {
	const T, C, L = 1000, 3, 500
	lp := make([]float32, T*C)
	for i := range lp {
		lp[i] = float32(-math.Log(C))
	}
	tg := make([]int32, L)
	for i := range tg {
		tg[i] = int32(1 + i%2)
	}
	loss := []float32{42}
	grad := make([]float32, T*C)
	prev := host.SetMemoryBudget(1 << 20) // alpha alone is 4 MB
	defer host.SetMemoryBudget(prev)
	err := losses.CTCLoss(host.Default(), losses.CTCLossArgs{
		LogProbs: losses.HostTensor(lp, T, 1, C), Targets: losses.HostTensor(tg, 1, L),
		InputLengths: losses.HostTensor([]int32{T}), TargetLengths: losses.HostTensor([]int32{L}),
		Loss: losses.HostTensor(loss), GradLogProbs: losses.HostTensor(grad, T, 1, C),
	}, losses.CTCLossOptions{})
	if !errors.Is(err, device.ErrOutOfMemory) || !strings.Contains(err.Error(), "workspace") {
		t.Fatalf("got %v, want device.ErrOutOfMemory for the workspace", err)
	}
	if loss[0] != 42 || slices.ContainsFunc(grad, func(v float32) bool { return v != 0 }) {
		t.Errorf("the refused call wrote its outputs")
	}
	host.SetMemoryBudget(prev)
	if err := losses.CTCLoss(host.Default(), losses.CTCLossArgs{
		LogProbs: losses.HostTensor(lp, T, 1, C), Targets: losses.HostTensor(tg, 1, L),
		InputLengths: losses.HostTensor([]int32{T}), TargetLengths: losses.HostTensor([]int32{L}),
		Loss: losses.HostTensor(loss), GradLogProbs: losses.HostTensor(grad, T, 1, C),
	}, losses.CTCLossOptions{}); err != nil || math.IsNaN(float64(loss[0])) {
		t.Errorf("within the budget: %v, loss %v", err, loss[0])
	}
}

// TestCTCNoFrames: with T = 0 every input length is 0: an empty target
// has probability 1 (loss 0), any other none (loss +Inf, or 0 with
// zero_infinity), as in PyTorch; and a class count of 2³¹ − 1 beside the
// empty input costs nothing.
func TestCTCNoFrames(t *testing.T) {
	inf := math.Inf(1)
	for _, c := range []struct {
		red  losses.Reduction
		zero bool
		want []float64
	}{
		{losses.None, false, []float64{0, inf, 0}},
		{losses.None, true, []float64{0, 0, 0}},
		{losses.Sum, false, []float64{inf}},
		{losses.Mean, true, []float64{0}},
	} {
		for _, C := range []int{5, 1<<31 - 1} {
			loss := make([]float64, len(c.want))
			ll := make([]float64, 3)
			err := losses.CTCLoss(host.Default(), losses.CTCLossArgs{
				LogProbs: losses.HostTensor([]float64{}, 0, 3, C), Targets: losses.HostTensor([]int32{1, 2}),
				InputLengths: losses.HostTensor([]int32{0, 0, 0}), TargetLengths: losses.HostTensor([]int32{0, 2, 0}),
				Loss: losses.HostTensor(loss, len(loss)), LogLikelihood: losses.HostTensor(ll),
			}, losses.CTCLossOptions{Reduction: c.red, ZeroInfinity: c.zero})
			if err != nil {
				t.Fatalf("C=%d %v: %v", C, c.red, err)
			}
			if !slices.Equal(loss, c.want) || !slices.Equal(ll, []float64{0, math.Inf(-1), 0}) {
				t.Errorf("C=%d %v zero_infinity=%v: loss %v, log-likelihood %v; want %v, [0 -Inf 0]", C, c.red, c.zero, loss, ll, c.want)
			}
		}
	}
}
