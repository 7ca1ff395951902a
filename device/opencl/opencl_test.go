//go:build opencl

package opencl_test

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"github.com/jgillich/go-opencl/cl"
	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/device/opencl"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/kernels"
)

// noDevice is the reason to skip: no OpenCL platform or device here.
type noDevice struct{ error }

// devices opens every OpenCL device once per test binary.
var devices = sync.OnceValues(func() ([]device.Device, error) {
	for _, st := range device.List() {
		if st.Name != "opencl" {
			continue
		}
		if len(st.Devices) == 0 {
			return nil, noDevice{fmt.Errorf("no OpenCL device present: %v", st.Err)}
		}
		var out []device.Device
		for _, in := range st.Devices {
			d, err := device.Open(in.Name)
			if err != nil {
				return nil, fmt.Errorf("open %s: %w", in.Name, err)
			}
			out = append(out, d)
		}
		return out, nil
	}
	return nil, errors.New("the opencl backend is not registered")
})

// forEachDevice runs fn on every OpenCL device, or skips with the reason.
func forEachDevice(t *testing.T, fn func(t *testing.T, d device.Device)) {
	t.Helper()
	devs, err := devices()
	var nd noDevice
	if errors.As(err, &nd) {
		t.Skipf("skipping: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		t.Run(d.Info().Name, func(t *testing.T) { fn(t, d) })
	}
}

// pair is one kernel buffer argument, allocated on the device under test
// and on the host with the same contents.
type pair struct {
	dev, host device.Buffer
}

// rig allocates pairs and launches a kernel on both devices.
type rig struct {
	t    *testing.T
	d    device.Device
	bufs []device.Buffer
}

func newRig(t *testing.T, d device.Device) *rig {
	r := &rig{t: t, d: d}
	t.Cleanup(func() {
		for _, b := range r.bufs {
			b.Release()
		}
	})
	return r
}

// buf makes a pair holding a copy of data ([]float32 or []int32).
func (r *rig) buf(data any) *pair {
	r.t.Helper()
	t, n, err := device.Elems(data)
	if err != nil {
		r.t.Fatal(err)
	}
	p := &pair{}
	for _, side := range []struct {
		d   device.Device
		dst *device.Buffer
	}{{r.d, &p.dev}, {host.Default(), &p.host}} {
		b, err := side.d.Alloc(t, n)
		if err != nil {
			r.t.Fatalf("alloc on %s: %v", side.d.Info().Name, err)
		}
		if err := side.d.Write(b, data); err != nil {
			r.t.Fatalf("write on %s: %v", side.d.Info().Name, err)
		}
		r.bufs = append(r.bufs, b)
		*side.dst = b
	}
	return p
}

// launch runs the kernel on both devices; pairs in args stand for their
// buffers.
func (r *rig) launch(name string, blocks int, args ...any) {
	r.t.Helper()
	da, ha := make([]any, len(args)), make([]any, len(args))
	for i, a := range args {
		if p, ok := a.(*pair); ok {
			da[i], ha[i] = p.dev, p.host
		} else {
			da[i], ha[i] = a, a
		}
	}
	g := device.Grid{Blocks: blocks, Threads: kernels.BlockSize}
	if err := r.d.Launch(name, g, da...); err != nil {
		r.t.Fatalf("%s on %s: %v", name, r.d.Info().Name, err)
	}
	if err := host.Default().Launch(name, g, ha...); err != nil {
		r.t.Fatalf("%s on host: %v", name, err)
	}
}

// floats reads a float pair back: the device's values and the host's.
func (r *rig) floats(p *pair) (got, want []float32) {
	r.t.Helper()
	got, want = make([]float32, p.dev.Len()), make([]float32, p.host.Len())
	if err := r.d.Read(got, p.dev); err != nil {
		r.t.Fatal(err)
	}
	if err := host.Default().Read(want, p.host); err != nil {
		r.t.Fatal(err)
	}
	return got, want
}

// check compares a float pair over its first n elements (all if n < 0):
// NaNs and infinities must match exactly, other values within
// |got-want| <= tol*(|want| + scale) + atol, scale being the largest
// finite |want| times floor.
func (r *rig) check(what string, p *pair, n int, tol, floor, atol float64) {
	r.t.Helper()
	got, want := r.floats(p)
	if n >= 0 {
		got, want = got[:n], want[:n]
	}
	scale := 0.0
	for _, w := range want {
		if v := math.Abs(float64(w)); !math.IsInf(v, 0) && !math.IsNaN(v) {
			scale = math.Max(scale, v)
		}
	}
	scale *= floor
	bad, worst := 0, 0.0
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		ok := false
		switch {
		case math.IsNaN(w) || math.IsInf(w, 0):
			ok = math.IsNaN(w) && math.IsNaN(g) || g == w
		default:
			lim := tol*(math.Abs(w)+scale) + atol
			ok = math.Abs(g-w) <= lim
			if lim > 0 {
				worst = math.Max(worst, math.Abs(g-w)/lim)
			}
		}
		if !ok {
			if bad < 5 {
				r.t.Errorf("%s[%d] = %v, host mirror %v", what, i, got[i], want[i])
			}
			bad++
		}
	}
	if bad > 5 {
		r.t.Errorf("%s: %d of %d elements differ", what, bad, len(want))
	}
	r.t.Logf("%s: worst error %.2f of the tolerance", what, worst)
}

// checkInts requires an int pair to be equal.
func (r *rig) checkInts(what string, p *pair) {
	r.t.Helper()
	got, want := make([]int32, p.dev.Len()), make([]int32, p.host.Len())
	if err := r.d.Read(got, p.dev); err != nil {
		r.t.Fatal(err)
	}
	if err := host.Default().Read(want, p.host); err != nil {
		r.t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			r.t.Errorf("%s[%d] = %d, host mirror %d", what, i, got[i], want[i])
		}
	}
}

func randn(rng *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64() * scale)
	}
	return v
}

func uniform(rng *rand.Rand, n int, lo, hi float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(lo + (hi-lo)*rng.Float64())
	}
	return v
}

// shape is a [rows, cols] test matrix.
type shape struct{ rows, cols int }

var rowShapes = []shape{{1, 1}, {2, 3}, {7, 1000}, {5, 257}, {3, 131072}}

// special sets some entries of x [rows, cols] to -inf (and one NaN), and,
// with two rows or more, the whole of row 1 to -inf.
func special(rng *rand.Rand, x []float32, s shape, nan bool) {
	ninf := float32(math.Inf(-1))
	for i := 0; i < max(1, len(x)/50); i++ {
		x[rng.IntN(len(x))] = ninf
	}
	if s.rows >= 2 {
		for c := 0; c < s.cols; c++ {
			x[s.cols+c] = ninf
		}
	}
	if nan {
		x[rng.IntN(s.cols)] = float32(math.NaN()) // row 0
	}
}

var kernelCases = map[string]int{}
var kernelCasesMu sync.Mutex

func ran(name string) {
	kernelCasesMu.Lock()
	kernelCases[name]++
	kernelCasesMu.Unlock()
}

func TestSoftmaxFamily(t *testing.T) {
	forEachDevice(t, func(t *testing.T, d device.Device) {
		rng := rand.New(rand.NewPCG(1, 2))
		for _, s := range rowShapes {
			for _, variant := range []string{"plain", "-inf", "nan"} {
				for _, invTau := range []float64{1, 0.5} {
					name := fmt.Sprintf("%dx%d/%s/inv_tau=%g", s.rows, s.cols, variant, invTau)
					t.Run(name, func(t *testing.T) {
						r := newRig(t, d)
						n := s.rows * s.cols
						xs := randn(rng, n, 3)
						if variant != "plain" {
							special(rng, xs, s, variant == "nan")
						}
						x := r.buf(xs)
						rows, cols := int32(s.rows), int32(s.cols)

						lse := r.buf(make([]float32, s.rows))
						r.launch("logsumexp_rows", s.rows, x, rows, cols, invTau, lse)
						r.check("lse", lse, -1, 2e-5, 1e-3, 0)
						ran("logsumexp_rows")

						// Backward from the host's lse, so both sides see the same input.
						_, hl := r.floats(lse)
						lseIn := r.buf(hl)
						dlse := r.buf(randn(rng, s.rows, 1))
						dx := r.buf(make([]float32, n))
						r.launch("logsumexp_backward_rows", s.rows, x, lseIn, dlse, rows, cols, invTau, dx)
						r.check("logsumexp dx", dx, -1, 2e-5, 1e-4, 0)
						ran("logsumexp_backward_rows")

						for _, logOut := range []int32{0, 1} {
							y := r.buf(make([]float32, n))
							r.launch("softmax_rows", s.rows, x, rows, cols, invTau, logOut, y)
							r.check(fmt.Sprintf("softmax y (log_out=%d)", logOut), y, -1, 5e-5, 1e-4, 0)
							ran("softmax_rows")

							_, hy := r.floats(y)
							yIn := r.buf(hy)
							dyv := randn(rng, n, 1)
							dy := r.buf(dyv)
							dx := r.buf(make([]float32, n))
							r.launch("softmax_backward_rows", s.rows, yIn, dy, rows, cols, invTau, logOut, dx)
							r.check(fmt.Sprintf("softmax dx (log_out=%d)", logOut), dx, -1, 5e-5, 1e-3, 0)
							// In place: dx = dy.
							r.launch("softmax_backward_rows", s.rows, yIn, dy, rows, cols, invTau, logOut, dy)
							r.check(fmt.Sprintf("softmax dx in place (log_out=%d)", logOut), dy, -1, 5e-5, 1e-3, 0)
							ran("softmax_backward_rows")
						}
						// In-place forward: y = x.
						r.launch("softmax_rows", s.rows, x, rows, cols, invTau, int32(1), x)
						r.check("log-softmax in place", x, -1, 5e-5, 1e-4, 0)
						ran("softmax_rows")
					})
				}
			}
		}
	})
}

// ceCase is one cross-entropy configuration.
type ceCase struct {
	shape
	weighted    bool
	eps         float64
	reduction   int32
	ignoreFrac  float64 // share of rows whose target is ignore_index
	special     string  // "", "-inf" or "nan"
	inPlace     bool
	hasGrad     bool
	hasLSE      bool
	ignoreIndex int32
}

func ceCases() []ceCase {
	var out []ceCase
	for _, s := range []shape{{1, 1}, {7, 1000}, {3, 131072}, {64, 10}, {300, 257}} {
		for _, w := range []bool{false, true} {
			for _, eps := range []float64{0, 0.1} {
				out = append(out, ceCase{shape: s, weighted: w, eps: eps, reduction: kernels.ReductionMean,
					ignoreFrac: 0.2, hasGrad: true, hasLSE: true, ignoreIndex: -100})
			}
		}
		out = append(out,
			ceCase{shape: s, weighted: true, eps: 0.2, reduction: kernels.ReductionSum, special: "-inf",
				hasGrad: true, hasLSE: true, ignoreIndex: -100},
			ceCase{shape: s, weighted: true, eps: 0.1, reduction: kernels.ReductionMean, ignoreFrac: 0.3,
				inPlace: true, hasGrad: true, hasLSE: true, ignoreIndex: 0},
			ceCase{shape: s, eps: 0, reduction: kernels.ReductionNone, special: "nan", hasGrad: true,
				hasLSE: true, ignoreIndex: -1},
			ceCase{shape: s, weighted: true, eps: 0.05, reduction: kernels.ReductionMean, ignoreFrac: 0.5,
				ignoreIndex: -100}, // no grad, no lse
			ceCase{shape: s, reduction: kernels.ReductionMean, ignoreFrac: 1, hasGrad: true, hasLSE: true,
				ignoreIndex: -100}, // all ignored
		)
	}
	return out
}

func TestCrossEntropy(t *testing.T) {
	forEachDevice(t, func(t *testing.T, d device.Device) {
		rng := rand.New(rand.NewPCG(3, 4))
		for _, c := range ceCases() {
			name := fmt.Sprintf("%dx%d/w=%v/eps=%g/red=%d/ign=%g/%s/inplace=%v/grad=%v/lse=%v",
				c.rows, c.cols, c.weighted, c.eps, c.reduction, c.ignoreFrac, c.special, c.inPlace, c.hasGrad, c.hasLSE)
			t.Run(name, func(t *testing.T) {
				r := newRig(t, d)
				n := c.rows * c.cols
				xs := randn(rng, n, 2)
				if c.special != "" {
					special(rng, xs, c.shape, c.special == "nan")
				}
				tg := make([]int32, c.rows)
				for i := range tg {
					tg[i] = int32(rng.IntN(c.cols))
					if rng.Float64() < c.ignoreFrac {
						tg[i] = c.ignoreIndex
					}
				}
				if c.special == "-inf" && c.rows >= 2 {
					// keep row 0's target finite-valued for a finite loss
					xs[int(tg[0])] = 1
				}
				x, target := r.buf(xs), r.buf(tg)
				weight := r.buf(uniform(rng, c.cols, 0.1, 2))
				hasW := int32(0)
				if c.weighted {
					hasW = 1
				}
				denom := r.buf([]float32{0, 0})
				r.launch("cross_entropy_weight_sum", 1, target, weight, int32(c.rows), int32(c.cols), hasW, c.ignoreIndex, c.reduction, denom)
				r.check("denom", denom, -1, 1e-5, 0, 0)
				ran("cross_entropy_weight_sum")

				_, hd := r.floats(denom)
				denomIn := r.buf(hd)
				gscale := float64(hd[1])
				if math.IsInf(gscale, 0) || math.IsNaN(gscale) {
					gscale = 1
				}
				grad := r.buf(make([]float32, n))
				if c.inPlace {
					grad = x
				}
				loss := r.buf(make([]float32, c.rows))
				lse := r.buf(make([]float32, c.rows))
				b2i := func(b bool) int32 {
					if b {
						return 1
					}
					return 0
				}
				r.launch("cross_entropy_rows", c.rows, x, target, weight, int32(c.rows), int32(c.cols), hasW,
					c.ignoreIndex, c.eps, denomIn, b2i(c.hasGrad), grad, loss, b2i(c.hasLSE), lse)
				r.check("loss_rows", loss, -1, 5e-5, 1e-4, 1e-6)
				if c.hasGrad {
					r.check("grad", grad, -1, 1e-4, 1e-4, 1e-6*gscale)
				}
				if c.hasLSE {
					r.check("lse", lse, -1, 2e-5, 1e-3, 0)
				}
				ran("cross_entropy_rows")
			})
		}
	})
}

var sizes = []int{1, 255, 256, 257, 100003}

// grids returns the manifest grid for n and a smaller one that makes the
// grid-stride loop wrap.
func grids(n int) []int {
	b := min((n+kernels.BlockSize-1)/kernels.BlockSize, kernels.MaxReduceBlocks)
	out := []int{b}
	if b > 3 {
		out = append(out, 3)
	}
	if n > kernels.MaxReduceBlocks*kernels.BlockSize/4 {
		out = append(out, kernels.MaxReduceBlocks)
	}
	return out
}

// pwInputs returns input, target and aux values in each op's domain.
func pwInputs(rng *rand.Rand, op int32, n int) (x, y, a []float32) {
	x, y, a = randn(rng, n, 1.5), randn(rng, n, 1), uniform(rng, n, 0.1, 2)
	switch op {
	case kernels.OpBCE:
		x, y = uniform(rng, n, 0, 1), uniform(rng, n, 0, 1)
		x[0] = 0 // log clamped at -100
	case kernels.OpSigmoidFocal, kernels.OpBCEWithLogits:
		y = uniform(rng, n, 0, 1)
	case kernels.OpHingeEmbedding, kernels.OpSoftMargin, kernels.OpHinge, kernels.OpSquaredHinge:
		for i := range y {
			y[i] = float32(2*rng.IntN(2) - 1)
		}
	case kernels.OpKLDiv:
		y = uniform(rng, n, 0, 1)
		y[0] = 0
	case kernels.OpPoissonNLL, kernels.OpMSLE:
		x, y = uniform(rng, n, 0, 3), uniform(rng, n, 0, 4)
	}
	return x, y, a
}

func TestPointwiseLoss(t *testing.T) {
	forEachDevice(t, func(t *testing.T, d device.Device) {
		rng := rand.New(rand.NewPCG(5, 6))
		none := int32(0)
		for _, n := range sizes {
			for _, blocks := range grids(n) {
				for _, flags := range []int32{
					kernels.FlagGradInput | kernels.FlagGradTarget | kernels.FlagReduce,
					kernels.FlagGradInput | kernels.FlagReduce,
					kernels.FlagGradInput | kernels.FlagGradTarget,
					0,
				} {
					t.Run(fmt.Sprintf("n=%d/blocks=%d/flags=%d", n, blocks, flags), func(t *testing.T) {
						r := newRig(t, d)
						in, tg := r.buf(randn(rng, n, 1)), r.buf(randn(rng, n, 1))
						gi, gt := r.buf(make([]float32, n)), r.buf(make([]float32, n))
						out := r.buf(make([]float32, max(n, blocks)))
						dummy, mask := r.buf([]float32{1}), r.buf([]int32{1})
						r.launch("pointwise_loss", blocks, kernels.OpMSE, in, tg, dummy, dummy, mask, int32(n), 0.0, 0.0, 0.0,
							int32(1), int32(1), int32(1), int32(1), int32(1), int32(1), 1/float64(n), dummy, flags, gi, gt, dummy, out)
						if flags&kernels.FlagReduce != 0 {
							r.check("partials", out, blocks, 2e-5, 0, 0)
						} else {
							r.check("out", out, n, 1e-6, 0, 0)
						}
						if flags&kernels.FlagGradInput != 0 {
							r.check("grad_input", gi, -1, 1e-6, 0, 0)
						}
						if flags&kernels.FlagGradTarget != 0 {
							r.check("grad_target", gt, -1, 1e-6, 0, 0)
						}
						ran("pointwise_loss")
					})
				}
			}
		}
		// Every op, with weight, mask and aux broadcast per row of
		// [n/cols, cols] and a divisor from mask_count.
		const cols = 7
		for op := kernels.OpMSE; op <= kernels.OpGaussianNLL; op++ {
			for _, n := range []int{0, 7 * 37, 7 * 1001} {
				t.Run(fmt.Sprintf("op=%d/n=%d", op, n), func(t *testing.T) {
					r := newRig(t, d)
					rows := n / cols
					nb := max(n, 1) // buffers are never empty
					x, y, _ := pwInputs(rng, op, nb)
					_, _, a := pwInputs(rng, op, max(rows, 1))
					w := uniform(rng, max(rows, 1), 0, 2)
					m := make([]int32, nb)
					for i := range m {
						m[i] = int32(rng.IntN(3)) // two in three kept
					}
					in, tg, aux, wt, mk := r.buf(x), r.buf(y), r.buf(a), r.buf(w), r.buf(m)
					g := max(1, min((n+255)/256, kernels.MaxReduceBlocks))
					denom := r.buf(make([]float32, g))
					r.launch("mask_count", g, mk, int32(n), int32(nb), int32(1), denom)
					r.check("mask_count", denom, g, 0, 0, 0)
					r.launch("reduce_sum", 1, denom, int32(g), 1.0, none, denom, denom)
					gi, gt, ga := r.buf(make([]float32, nb)), r.buf(make([]float32, nb)), r.buf(make([]float32, nb))
					out := r.buf(make([]float32, max(n, g)))
					all := kernels.FlagGradInput | kernels.FlagGradTarget | kernels.FlagGradAux | kernels.FlagWeight |
						kernels.FlagMask | kernels.FlagAux | kernels.FlagDenom
					for _, flags := range []int32{all, all | kernels.FlagReduce} {
						r.launch("pointwise_loss", g, op, in, tg, aux, wt, mk, int32(n), 0.3, 1.5, 1e-3,
							int32(max(rows, 1)), int32(cols), int32(max(rows, 1)), int32(cols), int32(nb), int32(1), 0.5, denom,
							flags, gi, gt, ga, out)
						if flags&kernels.FlagReduce != 0 {
							r.check("partials", out, g, 1e-4, 0, 1e-5)
						} else {
							r.check("out", out, n, 1e-4, 0, 1e-5)
						}
						r.check("grad_input", gi, -1, 1e-4, 0, 1e-6)
						r.check("grad_target", gt, -1, 1e-4, 0, 1e-6)
						r.check("grad_aux", ga, -1, 1e-4, 0, 1e-6)
					}
					if rows > 0 {
						vg := r.buf(make([]float32, rows))
						r.launch("broadcast_sum", rows, ga, int32(n), int32(rows), int32(cols), vg)
						r.check("broadcast_sum per row", vg, -1, 1e-5, 0, 1e-6)
						cg := r.buf(make([]float32, cols))
						r.launch("broadcast_sum", cols, ga, int32(n), int32(cols), int32(1), cg)
						r.check("broadcast_sum per column", cg, -1, 1e-5, 0, 1e-6)
						ran("broadcast_sum")
					}
					ran("pointwise_loss")
					ran("mask_count")
				})
			}
		}
		t.Run("unknown op gives NaN", func(t *testing.T) {
			r := newRig(t, d)
			in, tg := r.buf([]float32{1, 2}), r.buf([]float32{0, 0})
			out := r.buf(make([]float32, 2))
			mask := r.buf([]int32{1})
			r.launch("pointwise_loss", 1, int32(99), in, tg, in, in, mask, int32(2), 0.0, 0.0, 0.0,
				int32(1), int32(1), int32(1), int32(1), int32(1), int32(1), 1.0, in, int32(0), out, out, out, out)
			r.check("out", out, -1, 0, 0, 0)
			ran("pointwise_loss")
		})
		t.Run("count_invalid", func(t *testing.T) {
			r := newRig(t, d)
			x := r.buf([]float32{0, 1, 0.5, -1, 1.5, float32(math.NaN()), -0.0})
			for _, mode := range []int32{kernels.InvalidOutside, kernels.InvalidNotSign} {
				counts := r.buf(make([]int32, 1))
				r.launch("count_invalid", 1, x, int32(7), mode, 0.0, 1.0, counts)
				r.checkInts("counts", counts)
			}
			ran("count_invalid")
		})
	})
}

func TestReduceSum(t *testing.T) {
	forEachDevice(t, func(t *testing.T, d device.Device) {
		rng := rand.New(rand.NewPCG(7, 8))
		for _, n := range append(sizes, 0) {
			for _, hasDiv := range []int32{0, 1} {
				t.Run(fmt.Sprintf("n=%d/div=%d", n, hasDiv), func(t *testing.T) {
					r := newRig(t, d)
					xs := uniform(rng, n, 0, 2) // positive: the sum bounds the error
					x := r.buf(xs)
					div := r.buf([]float32{3})
					out := r.buf([]float32{42})
					r.launch("reduce_sum", 1, x, int32(n), 0.5, hasDiv, div, out)
					r.check("sum", out, -1, 2e-6, 0, 0)
					ran("reduce_sum")
					if hasDiv == 1 {
						zero := r.buf([]float32{0})
						r.launch("reduce_sum", 1, x, int32(n), 0.5, hasDiv, zero, out)
						r.check("sum over a zero divisor", out, -1, 0, 0, 0)
						ran("reduce_sum")
					}
				})
			}
		}
	})
}

func TestCountNaN(t *testing.T) {
	forEachDevice(t, func(t *testing.T, d device.Device) {
		rng := rand.New(rand.NewPCG(9, 10))
		for _, n := range sizes {
			for _, blocks := range grids(n) {
				t.Run(fmt.Sprintf("n=%d/blocks=%d", n, blocks), func(t *testing.T) {
					r := newRig(t, d)
					xs := randn(rng, n, 1)
					for i := range xs {
						if rng.Float64() < 0.05 {
							xs[i] = float32(math.NaN())
						}
					}
					xs[n-1] = float32(math.NaN())
					x := r.buf(xs)
					counts := r.buf(make([]int32, blocks))
					r.launch("count_nan", blocks, x, int32(n), counts)
					r.checkInts("counts", counts)
					ran("count_nan")
				})
			}
		}
	})
}

// TestDeterminism runs the reducing kernels twice and wants the same bits.
func TestDeterminism(t *testing.T) {
	forEachDevice(t, func(t *testing.T, d device.Device) {
		rng := rand.New(rand.NewPCG(11, 12))
		const rows, cols = 5, 70001
		alloc := func(data any) device.Buffer {
			tt, n, _ := device.Elems(data)
			b, err := d.Alloc(tt, n)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Release() })
			if err := d.Write(b, data); err != nil {
				t.Fatal(err)
			}
			return b
		}
		x := alloc(randn(rng, rows*cols, 2))
		tg := alloc([]int32{1, 5, 70000, 3, 0})
		w := alloc(uniform(rng, cols, 0.1, 2))
		denom := alloc([]float32{0, 0})
		g := device.Grid{Blocks: rows, Threads: kernels.BlockSize}
		run := func() []float32 {
			grad, loss, lse, sum := alloc(make([]float32, rows*cols)), alloc(make([]float32, rows)),
				alloc(make([]float32, rows)), alloc(make([]float32, 1))
			must(t, d.Launch("cross_entropy_weight_sum", device.Grid{Blocks: 1, Threads: kernels.BlockSize},
				tg, w, int32(rows), int32(cols), int32(1), int32(-100), kernels.ReductionMean, denom))
			must(t, d.Launch("cross_entropy_rows", g, x, tg, w, int32(rows), int32(cols), int32(1), int32(-100),
				0.1, denom, int32(1), grad, loss, int32(1), lse))
			must(t, d.Launch("reduce_sum", device.Grid{Blocks: 1, Threads: kernels.BlockSize},
				grad, int32(rows*cols), 1.0, int32(0), denom, sum))
			out := make([]float32, rows*cols+2*rows+1)
			must(t, d.Read(out[:rows*cols], grad))
			must(t, d.Read(out[rows*cols:rows*cols+rows], loss))
			must(t, d.Read(out[rows*cols+rows:rows*cols+2*rows], lse))
			must(t, d.Read(out[rows*cols+2*rows:], sum))
			return out
		}
		a, b := run(), run()
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				t.Fatalf("element %d: %v then %v", i, a[i], b[i])
			}
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestWrap(t *testing.T) {
	forEachDevice(t, func(t *testing.T, d device.Device) {
		od := d.(*opencl.Device)
		mem, err := od.Context().CreateEmptyBuffer(cl.MemReadWrite, 4*10)
		if err != nil {
			t.Fatal(err)
		}
		defer mem.Release()
		b, err := opencl.Wrap(od, mem, device.Float32, 10)
		if err != nil {
			t.Fatal(err)
		}
		if b.Len() != 10 || b.DType() != device.Float32 || b.Device() != d || b.Mem() != mem {
			t.Fatalf("wrapped buffer: len %d dtype %v", b.Len(), b.DType())
		}
		src := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
		must(t, d.Write(b, src))
		out := []float32{0}
		must(t, d.Launch("reduce_sum", device.Grid{Blocks: 1, Threads: kernels.BlockSize}, b, int32(10), 1.0, int32(0), b, b))
		must(t, d.Read(out, b))
		if out[0] != 55 {
			t.Fatalf("sum of wrapped buffer = %v", out[0])
		}
		must(t, b.Release())
		must(t, b.Release())
		if err := d.Write(b, src); !errors.Is(err, device.ErrReleased) {
			t.Fatalf("write to released buffer: %v", err)
		}
		// The memory object outlives the wrapper's Release.
		b2, err := opencl.Wrap(od, mem, device.Float32, 10)
		must(t, err)
		got := make([]float32, 10)
		must(t, d.Read(got, b2))
		if got[0] != 55 || got[9] != 10 {
			t.Fatalf("after release of the wrapper: %v", got)
		}
		if _, err := opencl.Wrap(od, mem, device.Float64, 5); !errors.Is(err, device.ErrUnsupported) {
			t.Fatalf("wrap float64: %v", err)
		}
		if _, err := opencl.Wrap(nil, mem, device.Float32, 5); err == nil {
			t.Fatal("wrap on nil device succeeded")
		}
	})
}

func TestErrors(t *testing.T) {
	forEachDevice(t, func(t *testing.T, d device.Device) {
		g := device.Grid{Blocks: 1, Threads: kernels.BlockSize}
		x, err := d.Alloc(device.Float32, 4)
		must(t, err)
		defer x.Release()
		ib, err := d.Alloc(device.Int32, 4)
		must(t, err)
		defer ib.Release()
		hb, err := host.Default().Alloc(device.Float32, 4)
		must(t, err)

		bad := map[string][]any{
			"too few":          {x, int32(4), 1.0, int32(0), x},
			"too many":         {x, int32(4), 1.0, int32(0), x, x, x},
			"int not int32":    {x, 4, 1.0, int32(0), x, x},
			"float32 for real": {x, int32(4), float32(1), int32(0), x, x},
			"int buffer":       {ib, int32(4), 1.0, int32(0), x, x},
			"not a buffer":     {[]float32{1}, int32(4), 1.0, int32(0), x, x},
			"nil buffer":       {(*opencl.Buffer)(nil), int32(4), 1.0, int32(0), x, x},
		}
		for what, args := range bad {
			if err := d.Launch("reduce_sum", g, args...); !errors.Is(err, device.ErrBadArguments) {
				t.Errorf("%s: got %v, want ErrBadArguments", what, err)
			}
		}
		if err := d.Launch("no_such_kernel", g); !errors.Is(err, device.ErrBadArguments) {
			t.Errorf("unknown kernel: %v", err)
		}
		if err := d.Launch("reduce_sum", g, hb, int32(4), 1.0, int32(0), x, x); !errors.Is(err, device.ErrWrongDevice) {
			t.Errorf("host buffer: %v", err)
		}
		if err := d.Launch("reduce_sum", device.Grid{Blocks: 1, Threads: 128}, x, int32(4), 1.0, int32(0), x, x); !errors.Is(err, device.ErrBadArguments) {
			t.Errorf("128 threads: %v", err)
		}
		must(t, d.Launch("reduce_sum", device.Grid{}, x, int32(4), 1.0, int32(0), x, x))

		if _, err := d.Alloc(device.Float64, 4); !errors.Is(err, device.ErrUnsupported) {
			t.Errorf("float64 alloc: %v", err)
		}
		if _, err := d.Alloc(device.Float32, 1<<50); !errors.Is(err, device.ErrOutOfMemory) {
			t.Errorf("huge alloc: %v", err)
		}
		if _, err := d.Alloc(device.Float32, -1); err == nil {
			t.Error("negative alloc succeeded")
		}
		if err := d.Write(x, []float64{1}); err == nil {
			t.Error("float64 write to float32 buffer succeeded")
		}
		if err := d.Write(x, make([]float32, 5)); err == nil {
			t.Error("oversized write succeeded")
		}
		if err := d.Write(hb, []float32{1}); !errors.Is(err, device.ErrWrongDevice) {
			t.Errorf("write to host buffer: %v", err)
		}

		// Zero-length buffers and transfers.
		z, err := d.Alloc(device.Float32, 0)
		must(t, err)
		if z.Len() != 0 {
			t.Errorf("Len of empty buffer = %d", z.Len())
		}
		must(t, d.Write(z, []float32{}))
		must(t, d.Read([]float32{}, z))
		must(t, d.Copy(z, x, 0))
		out, err := d.Alloc(device.Float32, 1)
		must(t, err)
		defer out.Release()
		must(t, d.Launch("reduce_sum", g, z, int32(0), 1.0, int32(0), z, out))
		v := []float32{7}
		must(t, d.Read(v, out))
		if v[0] != 0 {
			t.Errorf("sum of nothing = %v", v[0])
		}
		must(t, z.Release())
		if err := d.Launch("reduce_sum", g, z, int32(0), 1.0, int32(0), z, out); !errors.Is(err, device.ErrReleased) {
			t.Errorf("launch on a released buffer: %v", err)
		}

		// Copy.
		must(t, d.Write(x, []float32{1, 2, 3, 4}))
		y, err := d.Alloc(device.Float32, 4)
		must(t, err)
		defer y.Release()
		must(t, d.Copy(y, x, 3))
		got := []float32{0, 0, 0}
		must(t, d.Read(got, y))
		if got[0] != 1 || got[2] != 3 {
			t.Errorf("copy: %v", got)
		}
		if err := d.Copy(y, ib, 2); err == nil {
			t.Error("copy int32 to float32 succeeded")
		}
		if err := d.Copy(y, x, 5); err == nil {
			t.Error("copy past the end succeeded")
		}
		must(t, d.Sync())
	})
}

func TestInfo(t *testing.T) {
	forEachDevice(t, func(t *testing.T, d device.Device) {
		in := d.Info()
		if in.Backend != "opencl" || in.Description == "" || in.Float64 || in.ComputeUnit <= 0 {
			t.Errorf("info: %+v", in)
		}
		t.Logf("%s: %s, %s, %d compute units, %d MiB", in.Name, in.Description, in.Kind, in.ComputeUnit, in.Memory>>20)
	})
}

// TestConcurrent launches from several goroutines at once.
func TestConcurrent(t *testing.T) {
	forEachDevice(t, func(t *testing.T, d device.Device) {
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for gi := 0; gi < 8; gi++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n := 1000 + gi
				xs := make([]float32, n)
				for i := range xs {
					xs[i] = 1
				}
				x, err := d.Alloc(device.Float32, n)
				if err != nil {
					errs <- err
					return
				}
				defer x.Release()
				out, err := d.Alloc(device.Float32, 1)
				if err != nil {
					errs <- err
					return
				}
				defer out.Release()
				for rep := 0; rep < 20; rep++ {
					if err := d.Write(x, xs); err != nil {
						errs <- err
						return
					}
					if err := d.Launch("reduce_sum", device.Grid{Blocks: 1, Threads: kernels.BlockSize},
						x, int32(n), 1.0, int32(0), x, out); err != nil {
						errs <- err
						return
					}
					v := []float32{0}
					if err := d.Read(v, out); err != nil {
						errs <- err
						return
					}
					if v[0] != float32(n) {
						errs <- fmt.Errorf("goroutine %d: sum %v, want %d", gi, v[0], n)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

// TestMain reports how many kernel cases ran.
func TestMain(m *testing.M) {
	code := m.Run()
	if devs, err := devices(); err == nil {
		for _, d := range devs {
			fmt.Printf("opencl device %s: %s\n", d.Info().Name, d.Info().Description)
			d.Close()
		}
	}
	total := 0
	for _, name := range kernels.Names() {
		fmt.Printf("  %-26s %d case(s)\n", name, kernelCases[name])
		total += kernelCases[name]
	}
	fmt.Printf("kernel cases compared with the host mirrors: %d\n", total)
	if code == 0 && flag.Lookup("test.run").Value.String() == "" {
		for _, name := range kernels.Names() {
			if kernelCases[name] == 0 && total > 0 {
				fmt.Printf("FAIL: kernel %s never ran\n", name)
				code = 1
			}
		}
	}
	os.Exit(code)
}
