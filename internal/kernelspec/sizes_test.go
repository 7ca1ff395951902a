package kernelspec

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// fakeBuf is a buffer argument of n elements.
type fakeBuf int

func (b fakeBuf) Len() int { return int(b) }

type fakeIntBuf int

func (b fakeIntBuf) Len() int { return int(b) }

func isFake(v any) (bool, bool) {
	switch v.(type) {
	case fakeBuf:
		return true, false
	case fakeIntBuf:
		return true, true
	}
	return false, false
}

// launchArgs builds an argument list for k: buffers of the lengths in bufs
// (by name, else long), int32 scalars from ints (by name, else def), reals 0.
func launchArgs(k *Kernel, def int32, ints map[string]int32, bufs map[string]int) []any {
	args := make([]any, len(k.Args))
	for i, a := range k.Args {
		switch a.Kind {
		case FloatBuf, IntBuf:
			n, ok := bufs[a.Name]
			if !ok {
				n = 1 << 40
			}
			if a.Kind == IntBuf {
				args[i] = fakeIntBuf(n)
			} else {
				args[i] = fakeBuf(n)
			}
		case Int:
			v, ok := ints[a.Name]
			if !ok {
				v = def
			}
			args[i] = v
		case Real:
			args[i] = 0.0
		}
	}
	return args
}

func check(t *testing.T, name string, blocks int, args []any) error {
	t.Helper()
	k, err := CheckArgs(name, args, isFake)
	if err != nil {
		t.Fatalf("%s: CheckArgs: %v", name, err)
	}
	return CheckSizes(k, blocks, args)
}

// TestRulesDeclared requires every buffer argument to have a size rule or
// a reason why a launch cannot check it, every kernel to name its size
// arguments, and every operand of a product rule to be one of them (or the
// grid), so that no product of negative values passes for a size.
func TestRulesDeclared(t *testing.T) {
	for _, k := range Manifest {
		if len(k.Sizes) == 0 {
			t.Errorf("%s names no size arguments", k.Name)
		}
		for _, a := range k.Args {
			if a.Need != nil && a.Need.fn == nil && !a.Need.isBcast {
				for _, o := range a.Need.names {
					if o != "blocks" && !slices.Contains(k.Sizes, o) {
						t.Errorf("%s argument %s: operand %s of %s is not a size argument", k.Name, a.Name, o, a.Need)
					}
				}
			}
			isBuf := a.Kind == FloatBuf || a.Kind == IntBuf
			switch {
			case isBuf && a.Need == nil && a.Unchecked == "":
				t.Errorf("%s argument %s: a buffer with no size rule", k.Name, a.Name)
			case !isBuf && (a.Need != nil || a.Unchecked != ""):
				t.Errorf("%s argument %s: a scalar with a size rule", k.Name, a.Name)
			}
		}
	}
}

// TestCheckSizes checks the rules' arithmetic on a few kernels: products,
// gates, flag bits, broadcasts, the grid, the CTC layouts, negative sizes,
// preconditions and overflow.
func TestCheckSizes(t *testing.T) {
	for _, c := range []struct {
		what   string
		kernel string
		blocks int
		ints   map[string]int32
		bufs   map[string]int
		want   string // "" for success, else a substring of the error
	}{
		{"exact", "cross_entropy_rows", 3, map[string]int32{"n": 3, "c": 7, "has_weight": 1, "has_grad": 1, "has_lse": 1},
			map[string]int{"x": 21, "target": 3, "weight": 7, "denom": 2, "grad": 21, "loss_rows": 3, "lse": 3}, ""},
		{"short grad", "cross_entropy_rows", 3, map[string]int32{"n": 3, "c": 7, "has_grad": 1},
			map[string]int{"grad": 20}, "cross_entropy_rows: grad needs 21 elements (n*c if has_grad), the buffer has 20"},
		{"gated off", "cross_entropy_rows", 3, map[string]int32{"n": 3, "c": 7, "has_weight": 0, "has_grad": 0, "has_lse": 0},
			map[string]int{"x": 21, "target": 3, "weight": 0, "denom": 0, "grad": 0, "loss_rows": 3, "lse": 0}, ""},
		{"a grid larger than the rows", "softmax_rows", 1000, map[string]int32{"rows": 2, "cols": 3},
			map[string]int{"x": 6, "y": 6}, ""},
		{"negative rows", "softmax_rows", 1, map[string]int32{"rows": -2, "cols": -3}, nil, "rows = -2 is negative"},
		{"negative grid", "softmax_rows", -1, map[string]int32{"rows": 2, "cols": 3}, nil, "a grid of -1 blocks"},
		{"flag bits", "pointwise_loss", 2, map[string]int32{"n": 10, "flags": FlagGradTarget | FlagReduce},
			map[string]int{"input": 10, "target": 10, "aux": 0, "weight": 0, "mask": 0, "denom": 0, "grad_input": 0,
				"grad_target": 10, "grad_aux": 0, "out": 2}, ""},
		{"partials per block", "pointwise_loss", 3, map[string]int32{"n": 10, "flags": FlagReduce},
			map[string]int{"out": 2}, "out needs 3 elements (flags&FlagReduce ? blocks : n)"},
		{"out per element", "pointwise_loss", 1, map[string]int32{"n": 10, "flags": 0},
			map[string]int{"out": 9}, "out needs 10 elements"},
		{"broadcast per row", "pointwise_loss", 1, map[string]int32{"n": 12, "flags": FlagWeight, "w_len": 3, "w_stride": 4},
			map[string]int{"weight": 3}, ""},
		{"broadcast per row short", "pointwise_loss", 1, map[string]int32{"n": 12, "flags": FlagWeight, "w_len": 3, "w_stride": 4},
			map[string]int{"weight": 2}, "weight needs 3 elements (min(w_len, ceil(n/w_stride)) if flags&FlagWeight)"},
		{"broadcast longer than the input", "pointwise_loss", 1, map[string]int32{"n": 5, "flags": FlagMask, "m_len": 9, "m_stride": 2},
			map[string]int{"mask": 3}, ""},
		{"broadcast stride 0", "pointwise_loss", 1, map[string]int32{"n": 5, "flags": FlagAux, "aux_len": 1, "aux_stride": 0},
			nil, "aux needs aux_len >= 1 and aux_stride >= 1 where n > 0 (aux is read where flags&FlagAux) (n = 5, aux_len = 1, aux_stride = 0)"},
		{"broadcast unused", "pointwise_loss", 1, map[string]int32{"n": 5, "flags": 0, "aux_len": -1, "aux_stride": 0},
			map[string]int{"aux": 0}, ""},
		{"broadcast_sum stride 0", "broadcast_sum", 2, map[string]int32{"n": 0, "len": 2, "stride": 0}, nil, "stride >= 1 where len > 0"},
		{"counts per block", "count_nan", 5, map[string]int32{"n": 3}, map[string]int{"x": 3, "counts": 4}, "counts needs 5 elements (blocks)"},
		{"ctc exact", "ctc_beta_grad", 2, map[string]int32{"T": 4, "N": 2, "C": 5, "stride_t": 10, "stride_n": 5, "s_max": 3,
			"has_lse": 1, "has_grad": 1, "blank": 0},
			map[string]int{"x": 40, "lse": 8, "target_offsets": 2, "target_lengths": 2, "input_lengths": 2, "alpha": 24,
				"loglik": 2, "grad": 40, "class_ws": 10, "state_ws": 18, "loss_rows": 2, "loglik_beta": 2, "targets": 0, "target_next": 0}, ""},
		{"ctc batch-major x", "ctc_alpha", 2, map[string]int32{"T": 4, "N": 2, "C": 5, "stride_t": 5, "stride_n": 20, "s_max": 3, "has_lse": 1},
			map[string]int{"x": 39}, "x needs 40 elements ((T-1)*stride_t + (N-1)*stride_n + C)"},
		{"ctc batch-major lse", "ctc_alpha", 2, map[string]int32{"T": 4, "N": 2, "C": 5, "stride_t": 5, "stride_n": 20, "s_max": 3, "has_lse": 1},
			map[string]int{"x": 40, "lse": 7}, "lse needs 8 elements (((T-1)*stride_t + (N-1)*stride_n)/C + 1 if has_lse)"},
		{"ctc state workspace", "ctc_alpha", 2, map[string]int32{"T": 4, "N": 2, "C": 5, "stride_t": 10, "stride_n": 5, "s_max": 3},
			map[string]int{"state_ws": 17}, "state_ws needs 18 elements (3*N*s_max)"},
		{"ctc blank", "ctc_alpha", 2, map[string]int32{"T": 4, "N": 2, "C": 5, "blank": 5, "s_max": 3}, nil, "0 <= blank < C where N > 0 and T > 0"},
		{"ctc no frames", "ctc_alpha", 2, map[string]int32{"T": 0, "N": 2, "C": 5, "blank": 5, "s_max": 0},
			map[string]int{"x": 0, "lse": 0, "alpha": 0, "state_ws": 0}, ""},
		{"ctc s_max", "ctc_beta_grad", 2, map[string]int32{"T": 4, "N": 2, "C": 5, "blank": 0, "s_max": 0}, nil, "s_max >= 1"},
		{"an int loop index", "scale_rows", 1, map[string]int32{"n": 1, "c": MaxIntLoop + 1}, nil,
			"scale_rows needs c <= MaxIntLoop = 2147483392 (the column loop has an int index) (c = 2147483393)"},
		{"an int loop index at its limit", "scale_rows", 1, map[string]int32{"n": 1, "c": MaxIntLoop, "flags": RowsGrad}, nil, ""},
		{"overflow saturates", "ctc_alpha", 1, map[string]int32{"T": math.MaxInt32, "N": math.MaxInt32, "C": 5, "s_max": MaxIntLoop,
			"stride_t": math.MaxInt32, "stride_n": math.MaxInt32, "blank": 0, "has_lse": 0}, map[string]int{"x": math.MaxInt},
			"alpha needs 9223372036854775807 elements (N*T*s_max)"},
	} {
		t.Run(c.what, func(t *testing.T) {
			k, _ := Lookup(c.kernel)
			err := check(t, c.kernel, c.blocks, launchArgs(k, 1, c.ints, c.bufs))
			switch {
			case c.want == "" && err != nil:
				t.Errorf("%s: %v", c.kernel, err)
			case c.want != "" && err == nil:
				t.Errorf("%s: no error, want one with %q", c.kernel, c.want)
			case c.want != "" && !strings.Contains(err.Error(), c.want):
				t.Errorf("%s: %v, want %q in it", c.kernel, err, c.want)
			}
		})
	}
}

// TestCheckSizesAllocs requires CheckSizes not to allocate on a launch that
// passes, for every kernel, with every gate open (bmod 1: the contrastive
// normalisation's rows = bmod·views with 2 rows of 2 views).
func TestCheckSizesAllocs(t *testing.T) {
	for _, k := range Manifest {
		args := launchArgs(&k, 2, map[string]int32{"blank": 0, "flags": -1, "bmod": 1}, nil)
		kp, _ := Lookup(k.Name)
		if err := check(t, k.Name, 2, args); err != nil {
			t.Fatalf("%s: %v", k.Name, err)
		}
		if a := testing.AllocsPerRun(100, func() { _ = CheckSizes(kp, 2, args) }); a != 0 {
			t.Errorf("%s: CheckSizes allocates %v times per launch", k.Name, a)
		}
	}
}

// BenchmarkCheckSizes times CheckSizes on a launch that passes, every gate
// open, for a small kernel, the one with the most buffer arguments and
// preconditions (pointwise_loss) and the one with the most arguments.
func BenchmarkCheckSizes(b *testing.B) {
	for _, name := range []string{"reduce_sum", "cross_entropy_rows", "pointwise_loss", "ctc_beta_grad"} {
		k, _ := Lookup(name)
		args := launchArgs(k, 2, map[string]int32{"blank": 0, "flags": -1}, nil)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := CheckSizes(k, 2, args); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
