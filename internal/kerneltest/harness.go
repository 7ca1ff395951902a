package kerneltest

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// tol is a comparison tolerance. NaN and ±Inf in the host mirror's result
// must be matched exactly; any other element within
//
//	|got - want| <= rel·|want| + abs·scale + floor
//
// where scale is the largest finite |want| of the compared elements. abs
// covers elements much smaller than the buffer's largest; floor covers
// results that are differences of much larger terms. The zero tol is
// exact.
type tol struct{ rel, abs, floor float64 }

var exact = tol{}

// skipTol marks an argument the comparison leaves out (a kernel's own
// scratch space, whose contents are unspecified).
var skipTol = tol{rel: -1}

// argTol is the tolerance of one kernel argument, by its manifest name.
type argTol struct {
	arg string
	tol tol
}

func on(arg string, tl tol) argTol { return argTol{arg, tl} }

// pair is one kernel buffer argument: a buffer on the device under test
// and one on the host mirror, made with the same contents.
type pair struct {
	dev  device.Buffer
	host *host.Buffer
}

// argNames maps each kernel to its argument names.
var argNames = sync.OnceValue(func() map[string][]string {
	m := map[string][]string{}
	for _, k := range kernelspec.Manifest {
		for _, a := range k.Args {
			m[k.Name] = append(m[k.Name], a.Name)
		}
	}
	return m
})

// rig launches kernels on the device under test and on the host mirror
// and compares the results.
type rig struct {
	t    *testing.T
	d    device.Device
	s    *suite
	bufs []device.Buffer

	// The last launch: its kernel and its buffer arguments by name (an
	// aliased pair under the name of its last position).
	name  string
	args  map[string]*pair
	order []string
}

func (s *suite) rig(t *testing.T) *rig {
	r := &rig{t: t, d: s.d, s: s}
	t.Cleanup(func() {
		for _, b := range r.bufs {
			b.Release()
		}
	})
	return r
}

// buf makes a pair holding copies of data ([]float32 or []int32).
func (r *rig) buf(data any) *pair {
	r.t.Helper()
	dt, n, err := device.Elems(data)
	if err != nil {
		r.t.Fatal(err)
	}
	b, err := r.d.Alloc(dt, n)
	if err != nil {
		r.t.Fatalf("alloc %d %s on %s: %v", n, dt, r.d.Info().Name, err)
	}
	r.bufs = append(r.bufs, b)
	if err := r.d.Write(b, data); err != nil {
		r.t.Fatalf("write on %s: %v", r.d.Info().Name, err)
	}
	var hb *host.Buffer
	switch v := data.(type) {
	case []float32:
		hb, err = host.Wrap(slices.Clone(v))
	case []int32:
		hb, err = host.Wrap(slices.Clone(v))
	default:
		err = fmt.Errorf("kerneltest: a pair of %T", data)
	}
	if err != nil {
		r.t.Fatal(err)
	}
	return &pair{dev: b, host: hb}
}

// launch runs kernel name with blocks work-groups of kernelspec.BlockSize on
// the device and on the host mirror. A *pair argument stands for its two
// buffers; a []float32 or []int32 argument becomes a fresh pair; other
// arguments (int32, float64) pass as they are. The pairs can then be
// compared with compare and fetched by name with arg.
func (r *rig) launch(name string, blocks int, args ...any) {
	r.t.Helper()
	names := argNames()[name]
	if len(names) != len(args) {
		r.t.Fatalf("%s: %d arguments, the manifest has %d", name, len(args), len(names))
	}
	da, ha := make([]any, len(args)), make([]any, len(args))
	r.name, r.args, r.order = name, map[string]*pair{}, nil
	seen := map[*pair]string{}
	for i, a := range args {
		switch a.(type) {
		case []float32, []int32:
			a = r.buf(a)
		}
		p, ok := a.(*pair)
		if !ok {
			da[i], ha[i] = a, a
			continue
		}
		da[i], ha[i] = p.dev, p.host
		if old, ok := seen[p]; ok { // aliased: keep the later (output) name
			delete(r.args, old)
			r.order = slices.DeleteFunc(r.order, func(s string) bool { return s == old })
		}
		seen[p] = names[i]
		r.args[names[i]] = p
		r.order = append(r.order, names[i])
	}
	g := device.Grid{Blocks: blocks, Threads: kernelspec.BlockSize}
	if err := r.d.Launch(name, g, da...); err != nil {
		r.t.Fatalf("%s on %s: %v", name, r.d.Info().Name, err)
	}
	if err := host.Default().Launch(name, g, ha...); err != nil {
		r.t.Fatalf("%s on the host mirror: %v", name, err)
	}
	r.s.ran(name)
}

// arg returns the pair of the last launch's argument called name.
func (r *rig) arg(name string) *pair {
	r.t.Helper()
	p, ok := r.args[name]
	if !ok {
		r.t.Fatalf("%s has no buffer argument %q", r.name, name)
	}
	return p
}

// mirror returns the host mirror's values of the last launch's float
// argument called name, as a new pair: the input of a next kernel that
// both sides then see alike.
func (r *rig) mirror(name string) *pair {
	r.t.Helper()
	return r.buf(r.arg(name).host.Float32s())
}

// compare compares every buffer argument of the last launch: float
// buffers within def or the tolerance per gives their name, int32 buffers
// exactly.
func (r *rig) compare(def tol, per ...argTol) {
	r.t.Helper()
	for _, name := range r.order {
		tl := def
		for _, a := range per {
			if a.arg == name {
				tl = a.tol
			}
		}
		if tl == skipTol {
			continue
		}
		p := r.args[name]
		what := r.name + " " + name
		if p.host.DType() == device.Int32 {
			r.checkInts(what, p)
		} else {
			r.check(what, p, -1, tl)
		}
	}
}

// floats reads a float pair back: the device's values and the mirror's.
func (r *rig) floats(p *pair) (got, want []float32) {
	r.t.Helper()
	got = make([]float32, p.dev.Len())
	if err := r.d.Read(got, p.dev); err != nil {
		r.t.Fatalf("read on %s: %v", r.d.Info().Name, err)
	}
	return got, p.host.Float32s()
}

// check compares a float pair over its first n elements (all if n < 0).
func (r *rig) check(what string, p *pair, n int, tl tol) {
	r.t.Helper()
	got, want := r.floats(p)
	if n >= 0 {
		got, want = got[:n], want[:n]
	}
	compareFloats(r.t, what, got, want, tl)
}

// compareFloats compares got with the host mirror's want within tl.
func compareFloats(t testing.TB, what string, got, want []float32, tl tol) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: length %d, host mirror %d", what, len(got), len(want))
	}
	scale := 0.0
	for _, w := range want {
		if v := math.Abs(float64(w)); !math.IsInf(v, 0) && !math.IsNaN(v) {
			scale = math.Max(scale, v)
		}
	}
	bad, worst := 0, 0.0
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		ok := false
		switch {
		case math.IsNaN(w):
			ok = math.IsNaN(g)
		case math.IsInf(w, 0):
			ok = g == w
		default:
			lim := tl.rel*math.Abs(w) + tl.abs*scale + tl.floor
			ok = math.Abs(g-w) <= lim
			if lim > 0 {
				worst = math.Max(worst, math.Abs(g-w)/lim)
			}
		}
		if !ok {
			if bad < 5 {
				t.Errorf("%s[%d] = %v, host mirror %v (|diff| %.3g, scale %.3g)", what, i, got[i], want[i], math.Abs(g-w), scale)
			}
			bad++
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d of %d elements differ", what, bad, len(want))
	}
	if worst >= 0.5 {
		t.Logf("%s: worst error %.2f of the tolerance", what, worst)
	}
}

// checkInts requires an int32 pair to be equal.
func (r *rig) checkInts(what string, p *pair) {
	r.t.Helper()
	got, want := make([]int32, p.dev.Len()), p.host.Int32s()
	if err := r.d.Read(got, p.dev); err != nil {
		r.t.Fatalf("read on %s: %v", r.d.Info().Name, err)
	}
	bad := 0
	for i := range want {
		if got[i] != want[i] {
			if bad < 5 {
				r.t.Errorf("%s[%d] = %d, host mirror %d", what, i, got[i], want[i])
			}
			bad++
		}
	}
	if bad > 5 {
		r.t.Errorf("%s: %d of %d elements differ", what, bad, len(want))
	}
}

// mirrorLaunch runs a kernel on the host mirror alone, on host buffers
// wrapping copies of the slice arguments, and returns the float32 result
// of argument out.
func mirrorLaunch(t testing.TB, name string, blocks int, out int, args ...any) []float32 {
	t.Helper()
	ha := make([]any, len(args))
	for i, a := range args {
		var err error
		switch v := a.(type) {
		case []float32:
			ha[i], err = host.Wrap(slices.Clone(v))
		case []int32:
			ha[i], err = host.Wrap(slices.Clone(v))
		default:
			ha[i] = a
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := host.Default().Launch(name, device.Grid{Blocks: blocks, Threads: kernelspec.BlockSize}, ha...); err != nil {
		t.Fatalf("%s on the host mirror: %v", name, err)
	}
	return ha[out].(*host.Buffer).Float32s()
}

// upload allocates a buffer on d holding a copy of v ([]float32 or
// []int32), released when the test ends.
func upload(t testing.TB, d device.Device, v any) device.Buffer {
	t.Helper()
	dt, n, err := device.Elems(v)
	must(t, err)
	b, err := d.Alloc(dt, n)
	must(t, err)
	t.Cleanup(func() { b.Release() })
	must(t, d.Write(b, v))
	return b
}

// download reads a float buffer of d.
func download(t testing.TB, d device.Device, b device.Buffer) []float32 {
	t.Helper()
	v := make([]float32, b.Len())
	must(t, d.Read(v, b))
	return v
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// sameBits reports whether a and b hold the same bits.
func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}
