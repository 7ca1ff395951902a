package losses_test

import (
	"math"
	"reflect"
	"regexp"
	"slices"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/internal/kernelspec"
	"github.com/lossengine/lossengine/losses"
)

// TestRegistry checks every declaration: a function, kernels that exist,
// a required input and a loss or output, gradients of declared inputs,
// options decoded by PyTorch's names and unknown ones rejected.
func TestRegistry(t *testing.T) {
	decls := losses.Declarations()
	require.NotEmpty(t, decls)
	var names []string
	for _, d := range decls {
		names = append(names, d.Name)
	}
	require.True(t, slices.IsSorted(names), "Declarations are sorted by name: %v", names)
	require.Equal(t, names, losses.Names())
	for _, name := range []string{"cross_entropy", "nll_loss", "ctc_loss", "mse_loss", "gaussian_nll_loss", "softmax",
		"logsumexp", "seq_cross_entropy", "distill_kl"} {
		require.Contains(t, names, name)
	}
	_, ok := losses.Lookup("no_such_loss")
	require.False(t, ok)

	for _, d := range decls {
		t.Run(d.Name, func(t *testing.T) {
			got, ok := losses.Lookup(d.Name)
			require.True(t, ok)
			require.Same(t, d, got)

			require.NotEmpty(t, d.Func, "Func")
			require.True(t, unicode.IsUpper([]rune(d.Func)[0]), "Func %q is exported", d.Func)

			require.NotEmpty(t, d.Kernels, "kernels")
			for _, k := range d.Kernels {
				_, ok := kernelspec.Lookup(k)
				require.True(t, ok, "kernel %q is not in kernelspec.Manifest", k)
			}

			seen := map[string]bool{}
			for _, p := range d.Params {
				require.False(t, seen[p.Name], "param %q declared twice", p.Name)
				seen[p.Name] = true
				require.NotEmpty(t, p.Field, p.Name)
				require.Contains(t, []losses.Role{losses.In, losses.Out, losses.Grad}, p.Role, p.Name)
				require.Contains(t, []string{"float", "int32", "any"}, p.DType, p.Name)
			}
			req, _ := d.Inputs()
			require.NotEmpty(t, req, "a required input")
			out, ok := d.Param("loss")
			if !ok {
				out, ok = d.Param("output")
			}
			require.True(t, ok, "an output loss or output")
			require.Equal(t, losses.Out, out.Role)
			require.False(t, out.Optional, "%s is always written", out.Name)
			for _, p := range d.Params {
				if p.Role != losses.Grad {
					continue
				}
				require.Equal(t, "grad_"+p.GradOf, p.Name)
				in, ok := d.Param(p.GradOf)
				require.True(t, ok, "%s: no input %q", p.Name, p.GradOf)
				require.Equal(t, losses.In, in.Role, "%s is the gradient of an input", p.Name)
				require.NotEqual(t, "int32", in.DType, "%s: %s is an int32 input", p.Name, in.Name)
				require.True(t, p.Optional, "%s is written only when given", p.Name)
			}

			// Options: the zero value, unknown names, reduction by name.
			opt, err := d.DecodeOptions(nil)
			require.NoError(t, err)
			require.Equal(t, reflect.Pointer, reflect.ValueOf(opt).Kind())
			require.True(t, reflect.ValueOf(opt).Elem().IsZero(), "no options are the defaults")
			_, err = d.DecodeOptions([]byte(`{"no_such_option": 1}`))
			requireArg(t, err, d.Name, "no_such_option")
			_, err = d.DecodeOptions([]byte(`[1]`))
			requireArg(t, err, d.Name, "options")
			optNames := d.OptionNames()
			require.Len(t, optNames, len(d.Options))
			if slices.Contains(optNames, "reduction") {
				opt, err := d.DecodeOptions([]byte(`{"reduction":"sum"}`))
				require.NoError(t, err)
				red := reflect.ValueOf(opt).Elem().FieldByName("Reduction")
				if red.Kind() == reflect.Pointer { // a *Reduction: nil is the peer's default (torchvision's none)
					red = red.Elem()
				}
				require.Equal(t, losses.Sum, red.Interface())
				_, err = d.DecodeOptions([]byte(`{"reduction":"avg"}`))
				requireArg(t, err, d.Name, "reduction")
				_, err = d.DecodeOptions([]byte(`{"reduction":null}`))
				require.NoError(t, err, "null is the default")
			}
		})
	}
}

// TestDeclCall: Call by name on the host device allocates the outputs in
// the inputs' float type and gives mse_loss's closed form.
func TestDeclCall(t *testing.T) {
	d, ok := losses.Lookup("mse_loss")
	require.True(t, ok)
	require.Equal(t, "MSELoss", d.Func)
	x := []float64{1, 2, 3, 4}
	y := []float64{0, 2, 5, 4.5}
	// Σ (x − y)² = 1 + 0 + 4 + 0.25
	for _, tc := range []struct {
		opt   any
		loss  []float64
		shape []int
		scale float64
	}{
		{nil, []float64{5.25 / 4}, []int{}, 0.25},
		{losses.MSELossOptions{}, []float64{5.25 / 4}, []int{}, 0.25},
		{&losses.MSELossOptions{ElementwiseOptions: losses.ElementwiseOptions{Reduction: losses.Sum}}, []float64{5.25}, []int{}, 1},
		{losses.MSELossOptions{ElementwiseOptions: losses.ElementwiseOptions{Reduction: losses.None}}, []float64{1, 0, 4, 0.25}, []int{2, 2}, 1},
	} {
		out, err := d.Call(hostDev, map[string]losses.Tensor{
			"input":  losses.HostTensor(x, 2, 2),
			"target": losses.HostTensor(y, 2, 2),
		}, tc.opt)
		require.NoError(t, err)
		require.ElementsMatch(t, []string{"loss", "grad_input", "grad_target"}, keys(out))
		require.Equal(t, tc.shape, out["loss"].Shape)
		require.Equal(t, device.Float64, out["loss"].DType())
		require.Equal(t, tc.loss, losses.Floats(out["loss"]))
		require.Equal(t, []int{2, 2}, out["grad_input"].Shape)
		gx, gy := losses.Floats(out["grad_input"]), losses.Floats(out["grad_target"])
		for i := range x {
			require.Equal(t, tc.scale*2*(x[i]-y[i]), gx[i])
			require.Equal(t, -tc.scale*2*(x[i]-y[i]), gy[i])
		}
	}

	// float32 inputs give float32 outputs; options decoded from JSON.
	opt, err := d.DecodeOptions([]byte(`{"reduction": "sum"}`))
	require.NoError(t, err)
	out, err := d.Call(hostDev, map[string]losses.Tensor{
		"input":  losses.HostTensor([]float32{1, 2, 3, 4}),
		"target": losses.HostTensor([]float32{0, 2, 5, 4.5}),
		"mask":   losses.HostTensor([]int32{1, 1, 0, 1}),
	}, opt)
	require.NoError(t, err)
	require.Equal(t, device.Float32, out["loss"].DType())
	require.Equal(t, []float64{1.25}, losses.Floats(out["loss"]), "the masked element adds nothing")

	// Errors name the argument.
	in := map[string]losses.Tensor{"input": losses.HostTensor(x), "target": losses.HostTensor(y)}
	_, err = d.Call(hostDev, map[string]losses.Tensor{"input": losses.HostTensor(x)}, nil)
	requireArg(t, err, "mse_loss", "target")
	_, err = d.Call(hostDev, map[string]losses.Tensor{"input": losses.HostTensor(x), "target": losses.HostTensor(y),
		"loss": losses.HostTensor(make([]float64, 1))}, nil)
	requireArg(t, err, "mse_loss", "loss")
	_, err = d.Call(hostDev, in, losses.L1LossOptions{})
	requireArg(t, err, "mse_loss", "options")
	_, err = d.Call(nil, in, nil)
	requireArg(t, err, "mse_loss", "device")
	_, err = d.Call(hostDev, map[string]losses.Tensor{"input": losses.HostTensor(x), "target": losses.HostTensor(y[:3])}, nil)
	requireArg(t, err, "mse_loss", "target")

	// Outputs that depend on the inputs: cross_entropy's lse with class
	// targets, its grad_target with probability targets; ctc_loss's
	// per-sequence outputs.
	ce, _ := losses.Lookup("cross_entropy")
	out, err = ce.Call(hostDev, map[string]losses.Tensor{"input": losses.HostTensor(make([]float64, 6), 2, 3),
		"target": losses.HostTensor([]int32{0, 2})}, nil)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"loss", "grad_input", "lse"}, keys(out))
	require.InDelta(t, math.Log(3), losses.Floats(out["loss"])[0], 1e-15)
	require.Equal(t, []float64{math.Log(3), math.Log(3)}, losses.Floats(out["lse"]))
	out, err = ce.Call(hostDev, map[string]losses.Tensor{"input": losses.HostTensor(make([]float64, 6), 2, 3),
		"target": losses.HostTensor([]float64{1, 0, 0, 0, 0.5, 0.5}, 2, 3)}, nil)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"loss", "grad_input", "grad_target"}, keys(out))
	require.InDelta(t, math.Log(3), losses.Floats(out["loss"])[0], 1e-15)

	ctc, _ := losses.Lookup("ctc_loss")
	out, err = ctc.Call(hostDev, map[string]losses.Tensor{
		"log_probs":      losses.HostTensor(make([]float64, 4*1*3), 4, 1, 3),
		"targets":        losses.HostTensor([]int32{1, 2}, 1, 2),
		"input_lengths":  losses.HostTensor([]int32{4}),
		"target_lengths": losses.HostTensor([]int32{2}),
	}, losses.CTCLossOptions{Reduction: losses.None})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"loss", "grad_log_probs", "log_likelihood", "log_likelihood_beta"}, keys(out))
	// log-probabilities of 0 everywhere: each of the 15 alignments has
	// probability 1.
	require.InDelta(t, -math.Log(15), losses.Floats(out["loss"])[0], 1e-12)
}

// TestNamingRule: every loss's options type is its function's name plus
// Options, and its Args type ends in Args; every tensor's name is the
// snake case a PyTorch argument has, and every gradient is grad_ plus an
// input's name.
func TestNamingRule(t *testing.T) {
	snake := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	for _, d := range losses.Declarations() {
		if got := reflect.TypeOf(d.NewOptions()).Elem().Name(); got != d.Func+"Options" {
			t.Errorf("%s: options type %s, want %sOptions", d.Name, got, d.Func)
		}
		for _, p := range d.Params {
			if !snake.MatchString(p.Name) {
				t.Errorf("%s: tensor %q is not snake case", d.Name, p.Name)
			}
			if p.Role == losses.Grad && p.Name != "grad_"+p.GradOf {
				t.Errorf("%s: gradient %q of %q", d.Name, p.Name, p.GradOf)
			}
		}
		for _, o := range d.Options {
			if !snake.MatchString(o.Name) {
				t.Errorf("%s: option %q is not snake case", d.Name, o.Name)
			}
		}
	}
}

// TestEmptyAndHuge: an empty tensor with a huge dimension returns at once
// (no work per empty row), and outputs beyond the host memory budget are
// an error wrapping device.ErrOutOfMemory before anything is allocated.
func TestEmptyAndHuge(t *testing.T) {
	empty := losses.HostTensor([]float32{}, 1<<31-1, 0)
	for _, name := range []string{"softmax", "log_softmax"} {
		d, _ := losses.Lookup(name)
		out, err := d.Call(hostDev, map[string]losses.Tensor{"input": empty}, nil)
		require.NoError(t, err, name)
		require.Equal(t, []int{1<<31 - 1, 0}, out["output"].Shape)
	}
	old := host.SetMemoryBudget(1 << 20)
	defer host.SetMemoryBudget(old)
	d, _ := losses.Lookup("logsumexp")
	_, err := d.Call(hostDev, map[string]losses.Tensor{"input": empty}, nil)
	require.ErrorIs(t, err, device.ErrOutOfMemory)
	require.Contains(t, err.Error(), "8589934588 bytes")
	_, err = hostDev.Alloc(device.Float64, 1<<20)
	require.ErrorIs(t, err, device.ErrOutOfMemory)
}

// TestShapeOverflow: shapes whose element count is negative or overflows
// int64 ([2, 2⁶²+1] wraps to a negative count) are an *ArgError, from
// Decl.Call (which sizes its outputs from them) and from a bound call.
func TestShapeOverflow(t *testing.T) {
	buf := make([]float32, 8)
	for _, shape := range [][]int{{2, 1<<62 + 1}, {1, 2, 1<<62 + 1}, {0, 1 << 40}, {-1, 0}, {-1, -1}, {-2, 3}} {
		for _, name := range []string{"mse_loss", "cross_entropy", "nll_loss", "softmax"} {
			d, _ := losses.Lookup(name)
			in := losses.HostTensor(buf, shape...)
			ins := map[string]losses.Tensor{"input": in}
			if name != "softmax" {
				ins["target"] = in
			}
			_, err := d.Call(hostDev, ins, nil)
			var ae *losses.ArgError
			require.ErrorAs(t, err, &ae, "%s %v", name, shape)
			call, err := d.Bind(ins, nil, nil)
			require.NoError(t, err)
			require.ErrorAs(t, call(hostDev), &ae, "%s %v", name, shape)
		}
	}
}

// keys returns m's keys in no particular order.
func keys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
