package kerneltest

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// The sizes family holds every kernel's Launch to the manifest's size rules
// (kernelspec.CheckSizes) on the device under test. Each case is a launch
// whose buffers have exactly the lengths the kernel needs, stated here from
// the kernel bodies, independently of the rules. The case must launch, and
// with a larger grid where the kernel guards its block index, without
// writing past those lengths (a guard tail after each buffer, and the whole
// of each buffer the launch does not use, must keep their bits). Then, one
// at a time, each buffer it uses is one element shorter, each size argument
// negative and each bad scalar of the case set: every such launch must be
// refused with an error wrapping device.ErrBadArguments, without a panic
// and without a change to any buffer; each unused buffer, made empty, must
// still launch. Every manifest kernel needs a case, and every buffer with
// a size rule must be shortened by some case.

// bufSpec is a buffer argument of a size case.
type bufSpec struct {
	n     int
	isInt bool
	fill  float32 // float contents
	ints  []int32 // int contents (repeated to n)
	// used: the launch needs all n elements. Else the kernel does not
	// touch the buffer under the case's flags (or reads it at indices in
	// device memory that no launch checks): any length may stand in.
	used bool
	// unchecked: a buffer the kernel indexes by values in device memory;
	// its contents matter, its length is not checked at launch.
	unchecked bool
}

func need(n int) bufSpec                { return bufSpec{n: n, fill: 0.25, used: true} }
func needFill(n int, v float32) bufSpec { return bufSpec{n: n, fill: v, used: true} }
func ineed(n int, v ...int32) bufSpec   { return bufSpec{n: n, isInt: true, ints: v, used: true} }
func spare() bufSpec                    { return bufSpec{n: 2, fill: 0.5} }
func ispare() bufSpec                   { return bufSpec{n: 2, isInt: true, ints: []int32{1}} }
func devInts(v ...int32) bufSpec        { return bufSpec{n: len(v), isInt: true, ints: v, unchecked: true} }

// sizeCase is one launch of the sizes family.
type sizeCase struct {
	kernel, what string
	blocks       int
	args         []any // bufSpec for buffers, int32 and float64 scalars
	// guarded: the kernel guards its block index and writes no
	// per-block output, so a grid with more blocks touches nothing more.
	guarded bool
	// bad are scalar settings (name, value) each of which must be refused.
	bad []badScalar
}

type badScalar struct {
	name string
	v    int32
}

func bad(name string, v int32) badScalar { return badScalar{name, v} }

// laterSizeCases are the size cases of the later families, each added by
// its family's file (addFamily).
var laterSizeCases []func() []sizeCase

// sizeCases is the table: small shapes (n = 3 rows, c = 5 classes; 300
// elements over two blocks for the grid-stride kernels).
func sizeCases() []sizeCase {
	const n, c = 3, 5
	nc := n * c
	var cs []sizeCase
	add := func(c sizeCase) { cs = append(cs, c) }

	// softmax family.
	add(sizeCase{kernel: "logsumexp_rows", blocks: n, guarded: true,
		args: []any{need(nc), int32(n), int32(c), 0.5, need(n)}})
	add(sizeCase{kernel: "logsumexp_backward_rows", blocks: n, guarded: true,
		args: []any{need(nc), need(n), need(n), int32(n), int32(c), 0.5, need(nc)}})
	for _, logOut := range []int32{0, 1} {
		add(sizeCase{kernel: "softmax_rows", what: fmt.Sprint("log_out=", logOut), blocks: n, guarded: true,
			args: []any{need(nc), int32(n), int32(c), 0.5, logOut, need(nc)}})
		add(sizeCase{kernel: "softmax_backward_rows", what: fmt.Sprint("log_out=", logOut), blocks: n, guarded: true,
			args: []any{need(nc), need(nc), int32(n), int32(c), 0.5, logOut, need(nc)}})
	}

	// cross_entropy family.
	add(sizeCase{kernel: "cross_entropy_weight_sum", what: "weight", blocks: 1, guarded: true,
		args: []any{ineed(n, 1), need(c), int32(n), int32(c), int32(1), int32(-100), kernelspec.ReductionMean, need(2)}})
	add(sizeCase{kernel: "cross_entropy_weight_sum", what: "no weight", blocks: 1, guarded: true,
		args: []any{ineed(n, 1), spare(), int32(n), int32(c), int32(0), int32(-100), kernelspec.ReductionSum, need(2)}})
	add(sizeCase{kernel: "cross_entropy_rows", what: "all", blocks: n, guarded: true,
		args: []any{need(nc), ineed(n, 1, 4, 0), need(c), int32(n), int32(c), int32(1), int32(-100), 0.1, need(2),
			int32(1), need(nc), need(n), int32(1), need(n)}})
	add(sizeCase{kernel: "cross_entropy_rows_ext", what: "all", blocks: n, guarded: true,
		args: []any{need(nc), ineed(n, 1, 4, 0), need(c), int32(n), int32(c), int32(1), int32(-100), 0.1, need(2),
			int32(1), need(nc), need(n), int32(1), need(n), 30.0, 1e-4, need(2), int32(1), need(n), int32(1), need(n), int32(0)}})
	add(sizeCase{kernel: "cross_entropy_rows_ext", what: "none", blocks: n, guarded: true,
		args: []any{need(nc), ineed(n, 1, 4, 0), spare(), int32(n), int32(c), int32(0), int32(-100), 0.0, need(2),
			int32(0), spare(), need(n), int32(0), spare(), 0.0, 0.0, need(2), int32(0), spare(), int32(0), spare(), int32(0)}})
	add(sizeCase{kernel: "cross_entropy_rows", what: "none", blocks: n, guarded: true,
		args: []any{need(nc), ineed(n, 1, 4, 0), spare(), int32(n), int32(c), int32(0), int32(-100), 0.0, spare(),
			int32(0), spare(), need(n), int32(0), spare()}})

	// rowloss family.
	for _, on := range []int32{1, 0} {
		opt := func(k int) bufSpec {
			if on == 1 {
				return need(k)
			}
			return spare()
		}
		what := map[int32]string{1: "all", 0: "none"}[on]
		add(sizeCase{kernel: "cross_entropy_prob_rows", what: what, blocks: n, guarded: true,
			args: []any{need(nc), need(nc), opt(c), int32(n), int32(c), on, 0.1, 0.5, on, opt(nc), on, opt(nc), need(n)}})
		add(sizeCase{kernel: "nll_rows", what: what, blocks: n, guarded: true,
			args: []any{need(nc), ineed(n, 2, -100, 4), opt(c), int32(n), int32(c), on, int32(-100), opt(2), on, opt(nc), need(n)}})
		// focal_rows reads denom[1] in every block, gradient or not.
		add(sizeCase{kernel: "focal_rows", what: what, blocks: n, guarded: true,
			args: []any{need(nc), ineed(n, 2, -100, 4), opt(c), int32(n), int32(c), on, int32(-100), 2.0, need(2), on,
				opt(nc), need(n)}})
		add(sizeCase{kernel: "multi_margin_rows", what: what, blocks: n, guarded: true,
			args: []any{need(nc), ineed(n, 2, 0, 4), opt(c), int32(n), int32(c), on, int32(1), 1.0, 0.5, on, opt(nc), need(n)}})
		add(sizeCase{kernel: "categorical_hinge_rows", what: what, blocks: n, guarded: true,
			args: []any{need(nc), need(nc), int32(n), int32(c), 0.5, on, opt(nc), need(n)}})
		add(sizeCase{kernel: "distill_kl_rows", what: what, blocks: n, guarded: true,
			args: []any{need(nc), need(nc), int32(n), int32(c), 0.5, 4.0, 2.0, on, opt(nc), need(n)}})
		add(sizeCase{kernel: "poly_cross_entropy_rows", what: what, blocks: n, guarded: true,
			args: []any{need(nc), need(nc), int32(n), int32(c), 2.0, 0.5, on, opt(nc), on, opt(nc), need(n)}})
		flags := int32(0)
		if on == 1 {
			flags = kernelspec.RowsWeight | kernelspec.RowsMask | kernelspec.RowsGrad | kernelspec.RowsGradTarget | kernelspec.RowsDenom
		}
		mask := ispare()
		if on == 1 {
			mask = ineed(n, 1, 0)
		}
		add(sizeCase{kernel: "scale_rows", what: what, blocks: n, guarded: true, bad: []badScalar{bad("c", math.MaxInt32)},
			args: []any{need(n), opt(nc), opt(nc), int32(n), int32(c), opt(n), mask, flags, 3.0, opt(1)}})
	}
	add(sizeCase{kernel: "mask_targets", blocks: 1, guarded: true,
		args: []any{ineed(10, 1, 2), ineed(10, 1, 0, 1), int32(10), int32(-100), ineed(10)}})

	// pointwise family: 300 elements, two blocks of partials.
	const m = 300
	all := kernelspec.FlagGradInput | kernelspec.FlagGradTarget | kernelspec.FlagWeight | kernelspec.FlagMask |
		kernelspec.FlagAux | kernelspec.FlagGradAux | kernelspec.FlagDenom | kernelspec.FlagReduce
	// aux per row of [3, 100], weight per column, mask per element.
	add(sizeCase{kernel: "pointwise_loss", what: "every flag", blocks: 2,
		args: []any{kernelspec.OpGaussianNLL, need(m), need(m), need(3), need(100), ineed(m, 1, 0, 1), int32(m), 0.0, 1e-6, 0.0,
			int32(3), int32(100), int32(100), int32(1), int32(m), int32(1), 1.0, needFill(1, 2), all,
			need(m), need(m), need(m), need(2)},
		bad: []badScalar{bad("aux_stride", 0), bad("aux_len", 0), bad("w_len", -1), bad("w_stride", 0), bad("m_stride", -2)}})
	add(sizeCase{kernel: "pointwise_loss", what: "no flags", blocks: 2, guarded: true,
		args: []any{kernelspec.OpMSE, need(m), need(m), spare(), spare(), ispare(), int32(m), 0.0, 0.0, 0.0,
			int32(-1), int32(0), int32(0), int32(0), int32(-5), int32(0), 1.0, spare(), int32(0),
			spare(), spare(), spare(), need(m)}})
	// A mask broadcast with len*stride > n: element i < 5 reads (i/2) mod 9, up to 2.
	add(sizeCase{kernel: "pointwise_loss", what: "mask broadcast past the input", blocks: 1,
		args: []any{kernelspec.OpL1, need(5), need(5), spare(), spare(), ineed(3, 1, 0, 1), int32(5), 0.0, 0.0, 0.0,
			int32(1), int32(1), int32(1), int32(1), int32(9), int32(2), 1.0, spare(), kernelspec.FlagMask | kernelspec.FlagReduce,
			spare(), spare(), spare(), need(1)}})
	add(sizeCase{kernel: "mask_count", blocks: 2,
		args: []any{ineed(3, 1, 0), int32(m), int32(3), int32(100), need(2)},
		bad:  []badScalar{bad("m_len", 0), bad("m_stride", 0)}})
	add(sizeCase{kernel: "broadcast_sum", blocks: 3, guarded: true,
		args: []any{need(12), int32(12), int32(3), int32(4), need(3)},
		bad:  []badScalar{bad("stride", 0), bad("len", 0)}})

	// reduce family.
	add(sizeCase{kernel: "reduce_sum", what: "divisor", blocks: 1, guarded: true,
		args: []any{need(10), int32(10), 0.5, int32(1), needFill(1, 4), need(1)}})
	add(sizeCase{kernel: "reduce_sum", what: "no divisor", blocks: 1, guarded: true,
		args: []any{need(10), int32(10), 0.5, int32(0), spare(), need(1)}})
	add(sizeCase{kernel: "count_nan", blocks: 2, args: []any{need(m), int32(m), ineed(2)}})
	add(sizeCase{kernel: "count_invalid", blocks: 2,
		args: []any{need(m), int32(m), kernelspec.InvalidOutside, 0.0, 1.0, ineed(2)}})

	// ctc family: T = 3 frames, N = 2 sequences of one label (1), C = 4
	// classes, s_max = 3; time-major, batch-major, and rows padded to 10.
	const T, N, C, sMax = 3, 2, 4, 3
	ctc := func(what string, st, sn int32, xn, lsen int, hasLSE, hasGrad int32) {
		opt := func(k int) bufSpec {
			if hasGrad == 1 {
				return need(k)
			}
			return spare()
		}
		lse := spare()
		if hasLSE == 1 {
			lse = need(lsen)
		}
		head := []any{need(xn), lse, int32(T), int32(N), int32(C), st, sn, hasLSE, devInts(1), ineed(N, 0), ineed(N, 1), ineed(N, T)}
		bads := []badScalar{bad("blank", C), bad("blank", -1), bad("s_max", 0), bad("C", kernelspec.MaxIntLoop+1),
			bad("s_max", math.MaxInt32)}
		add(sizeCase{kernel: "ctc_alpha", what: what, blocks: N, guarded: true, bad: bads,
			args: append(slices.Clone(head), int32(0), int32(sMax), need(N*T*sMax), need(N), need(3*N*sMax))})
		add(sizeCase{kernel: "ctc_beta_grad", what: what, blocks: N, guarded: true, bad: bads,
			args: append(slices.Clone(head), devInts(-1), int32(0), int32(sMax), need(N*T*sMax), needFill(N, -0.25),
				kernelspec.ReductionMean, int32(0), kernelspec.CTCGradSoftmax, hasGrad, opt(xn), opt(N*C), need(3*N*sMax),
				need(N), need(N))})
	}
	ctc("time-major", N*C, C, T*N*C, T*N, 1, 1)
	ctc("batch-major", C, T*C, T*N*C, T*N, 1, 1)
	// (T-1)*10 + (N-1)*4 + C = 28 elements; lse at (t*10 + n*4)/4, up to 6.
	ctc("padded rows, no lse, no gradient", 10, C, 28, 7, 0, 0)
	ctc("padded rows", 10, C, 28, 7, 1, 1)
	for _, f := range laterSizeCases {
		cs = append(cs, f()...)
	}
	return cs
}

func testSizes(t *testing.T, s *suite) {
	cases := sizeCases()
	shortened := map[string]map[string]bool{}
	for _, c := range cases {
		name := c.kernel
		if c.what != "" {
			name += "/" + c.what
		}
		t.Run(name, func(t *testing.T) { runSizeCase(t, s.d, c) })
		k, _ := kernelspec.Lookup(c.kernel)
		if shortened[c.kernel] == nil {
			shortened[c.kernel] = map[string]bool{}
		}
		for i, a := range c.args {
			if b, ok := a.(bufSpec); ok && b.used {
				shortened[c.kernel][k.Args[i].Name] = true
			}
		}
	}
	for _, k := range kernelspec.Manifest {
		if shortened[k.Name] == nil {
			t.Errorf("kernel %s has no size case", k.Name)
			continue
		}
		for _, a := range k.Args {
			if a.Need != nil && !shortened[k.Name][a.Name] {
				t.Errorf("kernel %s: no size case shortens %s (%s)", k.Name, a.Name, a.Need)
			}
		}
	}
}

// sizeRun is one launch of a size case: its buffers, made from the specs.
type sizeRun struct {
	t    *testing.T
	d    device.Device
	c    sizeCase
	k    *kernelspec.Kernel
	args []any
}

// guardFill marks the elements after a buffer's needed ones.
const guardFill, guardInt = float32(-12345.5), int32(-7777)

// alloc makes the buffer of spec b with n elements (n >= b.n: the rest is
// a guard tail), filled.
func (r *sizeRun) alloc(b bufSpec, n int) device.Buffer {
	r.t.Helper()
	var data any
	if b.isInt {
		v := make([]int32, n)
		for i := range v {
			v[i] = guardInt
			if i < b.n {
				v[i] = 0
				if len(b.ints) > 0 {
					v[i] = b.ints[i%len(b.ints)]
				}
			}
		}
		data = v
	} else {
		v := make([]float32, n)
		for i := range v {
			v[i] = guardFill
			if i < b.n {
				v[i] = b.fill
			}
		}
		data = v
	}
	return upload(r.t, r.d, data)
}

// bits reads every buffer argument back as bits.
func (r *sizeRun) bits() [][]uint32 {
	r.t.Helper()
	out := make([][]uint32, len(r.args))
	for i, a := range r.args {
		b, ok := a.(device.Buffer)
		if !ok {
			continue
		}
		u := make([]uint32, b.Len())
		if b.DType() == device.Int32 {
			v := make([]int32, b.Len())
			must(r.t, r.d.Read(v, b))
			for j, x := range v {
				u[j] = uint32(x)
			}
		} else {
			for j, x := range download(r.t, r.d, b) {
				u[j] = math.Float32bits(x)
			}
		}
		out[i] = u
	}
	return out
}

// launch launches the case's kernel with r.args, a panic turned into an
// error.
func (r *sizeRun) launch(blocks int) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	err = r.d.Launch(r.c.kernel, device.Grid{Blocks: blocks, Threads: kernelspec.BlockSize}, r.args...)
	if err == nil {
		err = r.d.Sync()
	}
	return err
}

// refused requires the launch with r.args to fail with ErrBadArguments,
// with want in the message, and to leave every buffer as it was.
func (r *sizeRun) refused(what, want string) {
	r.t.Helper()
	before := r.bits()
	err := r.launch(r.c.blocks)
	switch {
	case err == nil:
		r.t.Errorf("%s: launched, want a refusal", what)
	case !errors.Is(err, device.ErrBadArguments):
		r.t.Errorf("%s: %v, want an error wrapping device.ErrBadArguments", what, err)
	case !strings.Contains(err.Error(), want):
		r.t.Errorf("%s: %v, want %q in it", what, err, want)
	}
	if err := r.d.Sync(); err != nil {
		r.t.Errorf("%s: sync: %v", what, err)
	}
	after := r.bits()
	for i := range before {
		if !slices.Equal(before[i], after[i]) {
			r.t.Errorf("%s: argument %s changed", what, r.k.Args[i].Name)
		}
	}
}

func runSizeCase(t *testing.T, d device.Device, c sizeCase) {
	k, ok := kernelspec.Lookup(c.kernel)
	if !ok || len(k.Args) != len(c.args) {
		t.Fatalf("%s: not in the manifest, or not with %d arguments", c.kernel, len(c.args))
	}
	r := &sizeRun{t: t, d: d, c: c, k: k}
	exact := func() {
		r.args = make([]any, len(c.args))
		for i, a := range c.args {
			if b, ok := a.(bufSpec); ok {
				a = r.alloc(b, b.n)
			}
			r.args[i] = a
		}
	}

	// The exact lengths launch.
	exact()
	if err := r.launch(c.blocks); err != nil {
		t.Fatalf("the launch with the lengths the kernel needs: %v", err)
	}

	// With guard tails (and, where the kernel guards its block index, a
	// larger grid), nothing past the needed elements, and nothing of an
	// unused buffer, changes.
	const guard = 64
	r.args = make([]any, len(c.args))
	for i, a := range c.args {
		if b, ok := a.(bufSpec); ok {
			a = r.alloc(b, b.n+guard)
		}
		r.args[i] = a
	}
	before := r.bits()
	blocks := c.blocks
	if c.guarded {
		blocks += 3
	}
	if err := r.launch(blocks); err != nil {
		t.Fatalf("the launch with guard tails on %d blocks: %v", blocks, err)
	}
	after := r.bits()
	for i, a := range c.args {
		b, ok := a.(bufSpec)
		if !ok {
			continue
		}
		from := b.n
		if !b.used && !b.unchecked {
			from = 0
		}
		if !slices.Equal(before[i][from:], after[i][from:]) {
			t.Errorf("the launch on %d blocks wrote %s at or past element %d", blocks, k.Args[i].Name, from)
		}
	}

	// One element short, one buffer at a time; unused buffers empty.
	for i, a := range c.args {
		b, ok := a.(bufSpec)
		if !ok || b.unchecked {
			continue
		}
		exact()
		name := k.Args[i].Name
		if b.used {
			if b.n == 0 {
				t.Fatalf("%s: a used buffer of no elements", name)
			}
			r.args[i] = r.alloc(b, b.n-1)
			r.refused(fmt.Sprintf("%s of %d elements", name, b.n-1), fmt.Sprintf(" %s needs %d element", name, b.n))
			continue
		}
		r.args[i] = r.alloc(b, 0)
		if err := r.launch(c.blocks); err != nil {
			t.Errorf("%s empty (not used by this launch): %v", name, err)
		}
	}

	// Negative size arguments and the case's bad scalars.
	set := func(name string, v int32) {
		for i, a := range k.Args {
			if a.Name == name {
				r.args[i] = v
				return
			}
		}
		t.Fatalf("%s has no argument %s", c.kernel, name)
	}
	for _, name := range k.Sizes {
		exact()
		set(name, -1)
		r.refused(name+" = -1", name+" = -1")
	}
	for _, b := range c.bad {
		exact()
		set(b.name, b.v)
		r.refused(fmt.Sprintf("%s = %d", b.name, b.v), fmt.Sprintf("%s = %d", b.name, b.v))
	}
}
