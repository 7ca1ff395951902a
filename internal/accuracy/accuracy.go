// Package accuracy holds the float32 accuracy cases of the logistic
// elementwise losses — binary_cross_entropy_with_logits,
// sigmoid_focal_loss, soft_margin_loss and log_cosh — and the bound their
// float32 results are held to against the float64 host path, element by
// element, for the loss and the gradients. It is shared by package host's
// tests (the scalar Go, the Go loops and the vector loops) and by the
// kernel suite (internal/kerneltest: pointwise_loss on every device).
//
// The cases sweep the logits from −30 to 30, where these losses saturate:
// with the target on the side of the logit the loss and the gradient are
// about exp(−|x|), and a float32 form that adds terms of size |x| to reach
// them loses every digit (at x = −12 a loss of 6·10⁻⁶ from −12 + 12.000006).
package accuracy

import (
	"fmt"
	"math"
	"testing"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// Case is one launch of pointwise_loss: op and its parameters over the
// elements (X[i], Y[i], A[i]).
type Case struct {
	Name       string
	Op         int32
	P0, P1, P2 float32
	X, Y       []float32
	// A is the auxiliary input (pos_weight); nil where the op has none,
	// which pointwise_loss reads as 1.
	A []float32
	// Target reports whether the target has a gradient (the ±1 labels of
	// soft_margin_loss have none).
	Target bool
}

// Eval evaluates a case's op in float64 on the elements (x[i], y[i],
// a[i]) (a nil for no auxiliary input) and returns the loss and its
// derivatives w.r.t. x and y. The callers pass the float64 host path.
type Eval func(x, y, a []float64) (l, dx, dy []float64)

// Rel is the relative bound and Floor the absolute one (below the
// smallest normal float32, where float32 itself has fewer digits) of
// Bound.
const (
	Rel   = 2e-6
	Floor = 1e-36
)

// Quantities are the checked results of a case, in the order of the
// arrays of Ref and of Check's got.
var Quantities = [3]string{"loss", "grad_input", "grad_target"}

// Ref is the float64 reference of a case and the bound of each element.
type Ref struct {
	Want [3][]float64 // loss, d/dx, d/dy
	Lim  [3][]float64 // the largest error allowed
}

// Bound evaluates c in float64 and bounds each element's error by
//
//	Rel·(|f| + min(|x|, 1)·|∂f/∂x| + |y·∂f/∂y| + |a·∂f/∂a|) + Floor
//
// for each result f (the loss and its two derivatives): Rel relative to
// f, plus what changes of that size in the inputs change f by — the
// unavoidable error where f is a difference of terms of its own size or
// larger (a gradient crossing zero, the float32 difference x − y of
// log_cosh). The logit counts with an absolute change of Rel (an ulp-size
// relative error of exp(x) is one), below |x| = 1 a relative one; the
// target counts only where it is fractional (0 and ±1 are exact, and a
// target of 1 must not excuse a lost 1 − p_t). The partial derivatives are
// central differences of eval at steps of 10⁻⁶ of those sizes. An error of
// the size of |x|·ulp, as (1 − y)·x + softplus(−x) makes at a target of 0,
// exceeds the bound wherever the result is much smaller than 1.
func Bound(c Case, eval Eval) Ref {
	n := len(c.X)
	x, y, a := widen(c.X), widen(c.Y), widen(c.A)
	var r Ref
	l, dx, dy := eval(x, y, a)
	r.Want = [3][]float64{l, dx, dy}
	for k := range r.Lim {
		r.Lim[k] = make([]float64, n)
		for i, v := range r.Want[k] {
			r.Lim[k][i] = math.Abs(v)
		}
	}
	const h = 1e-6
	in := [3][]float64{x, y, a}
	for j, v := range in {
		if v == nil {
			continue
		}
		var f [2][3][]float64
		for s, step := range []float64{-h, h} {
			args := in
			args[j] = make([]float64, n)
			for i, vi := range v {
				switch {
				case j == 0:
					args[j][i] = vi + step*min(math.Abs(vi), 1)
				case j == 1 && (vi == 0 || math.Abs(vi) == 1):
					args[j][i] = vi
				default:
					args[j][i] = vi * (1 + step)
				}
			}
			l, dx, dy := eval(args[0], args[1], args[2])
			f[s] = [3][]float64{l, dx, dy}
		}
		for k := range r.Lim {
			for i := range n {
				if d := math.Abs(f[1][k][i]-f[0][k][i]) / (2 * h); !math.IsNaN(d) {
					r.Lim[k][i] += d
				}
			}
		}
	}
	for k := range r.Lim {
		for i := range r.Lim[k] {
			r.Lim[k][i] = Rel*r.Lim[k][i] + Floor
		}
	}
	return r
}

func widen(v []float32) []float64 {
	if v == nil {
		return nil
	}
	w := make([]float64, len(v))
	for i, f := range v {
		w[i] = float64(f)
	}
	return w
}

// Stats are the worst errors of one quantity of one run.
type Stats struct {
	// Worst is the largest error as a fraction of its bound; WorstAt its
	// element.
	Worst   float64
	WorstAt int
	// MaxRel is the largest relative error |got − want| / |want| over the
	// elements with |want| >= 1e-30.
	MaxRel float64
}

// Check compares got (loss, d/dx, d/dy; a nil slice is not checked) with
// r element by element, reports up to five elements per quantity beyond
// their bound as errors of t, and returns the worst errors.
func Check(t testing.TB, what string, c Case, got [3][]float32, r Ref) [3]Stats {
	t.Helper()
	var st [3]Stats
	for k, g := range got {
		if g == nil || (k == 2 && !c.Target) {
			continue
		}
		bad := 0
		for i, v := range g {
			want, lim := r.Want[k][i], r.Lim[k][i]
			err := math.Abs(float64(v) - want)
			if want != want {
				err = 0
				if v == v {
					err = math.Inf(1)
				}
			}
			if f := err / lim; !(f <= st[k].Worst) {
				st[k].Worst, st[k].WorstAt = f, i
			}
			if math.Abs(want) >= 1e-30 {
				st[k].MaxRel = math.Max(st[k].MaxRel, err/math.Abs(want))
			}
			if !(err <= lim) {
				if bad < 5 {
					t.Errorf("%s %s: x=%v y=%v a=%v: %s = %v, float64 %v (error %.3g, %.3g relative; bound %.3g)",
						what, c.Name, c.X[i], c.Y[i], c.aux(i), Quantities[k], v, want, err, err/math.Abs(want), lim)
				}
				bad++
			}
		}
		if bad > 5 {
			t.Errorf("%s %s: %s: %d of %d elements beyond the bound", what, c.Name, Quantities[k], bad, len(g))
		}
	}
	return st
}

func (c Case) aux(i int) float32 {
	if c.A == nil {
		return 1
	}
	return c.A[i]
}

// Logits returns −30, −29.75, ..., 30: the logits of the cases.
func Logits() []float32 {
	var xs []float32
	for i := -120; i <= 120; i++ {
		xs = append(xs, float32(i)/4)
	}
	return xs
}

// Cases returns the accuracy cases: every logit of Logits with the targets
// 0, 1 and 0.3 (binary_cross_entropy_with_logits without and with
// pos_weight 2.5 and 0.4, sigmoid_focal_loss with (α, γ) of (0.25, 2) —
// torchvision's default —, (none, 2), (0.25, 1.5) and (0.75, 0)),
// soft_margin_loss with the labels ±1, and log_cosh of every logit and of
// differences x − y near 0 (down to 10⁻⁶), with targets 0 and 0.3.
func Cases() []Case {
	xs := Logits()
	targets := []float32{0, 1, 0.3}
	grid := func(ys []float32) (x, y []float32) {
		for _, t := range ys {
			for _, v := range xs {
				x, y = append(x, v), append(y, t)
			}
		}
		return x, y
	}
	var cs []Case
	for _, pw := range []float32{1, 2.5, 0.4} {
		c := Case{Name: "binary_cross_entropy_with_logits", Op: kernelspec.OpBCEWithLogits, Target: true}
		c.X, c.Y = grid(targets)
		if pw != 1 {
			c.Name += fmt.Sprintf("/pos_weight=%g", pw)
			c.A = make([]float32, len(c.X))
			for i := range c.A {
				c.A[i] = pw
			}
		}
		cs = append(cs, c)
	}
	for _, ag := range [][2]float32{{0.25, 2}, {-1, 2}, {0.25, 1.5}, {0.75, 0}} {
		c := Case{Name: fmt.Sprintf("sigmoid_focal_loss/alpha=%g/gamma=%g", ag[0], ag[1]), Op: kernelspec.OpSigmoidFocal,
			P0: ag[0], P1: ag[1], Target: true}
		c.X, c.Y = grid(targets)
		cs = append(cs, c)
	}
	sm := Case{Name: "soft_margin_loss", Op: kernelspec.OpSoftMargin}
	sm.X, sm.Y = grid([]float32{-1, 1})
	cs = append(cs, sm)
	lc := Case{Name: "log_cosh", Op: kernelspec.OpLogCosh, Target: true}
	var small []float32
	for _, d := range []float32{1e-6, 1e-5, 1e-4, 3e-4, 1e-3, 0.01, 0.05, 0.1, 0.2, 0.35, 0.5, 0.6, 0.69, 0.7, 0.74, 0.75,
		0.76, 0.8, 0.9, 1, 1.2, 1.5, 2} {
		small = append(small, d, -d)
	}
	for _, t := range []float32{0, 0.3} {
		for _, v := range append(append([]float32(nil), xs...), small...) {
			lc.X, lc.Y = append(lc.X, v), append(lc.Y, t)
		}
		for _, d := range small { // x − y near d
			lc.X, lc.Y = append(lc.X, t+d), append(lc.Y, t)
		}
	}
	cs = append(cs, lc)
	return cs
}

// Run launches pointwise_loss for c on d in float32 — per-element losses
// and the gradients w.r.t. input and target, gradient scale 1 — and
// returns the loss and the two gradients. With weighted it passes a weight
// of 1 (broadcast), which changes no value but takes the host's weighted
// loops instead of its vector loops.
func Run(d device.Device, c Case, weighted bool) ([3][]float32, error) {
	return launch(d, c, c.X, c.Y, c.A, weighted)
}

// Float64 returns the Eval of c's op by pointwise_loss on d in float64 (d
// must have float64 buffers: the host device).
func Float64(d device.Device, c Case) Eval {
	return func(x, y, a []float64) (l, dx, dy []float64) {
		r, err := launch(d, c, x, y, a, false)
		if err != nil {
			panic(fmt.Sprintf("accuracy: %s in float64: %v", c.Name, err))
		}
		return r[0], r[1], r[2]
	}
}

func launch[T float32 | float64](d device.Device, c Case, x, y, a []T, weighted bool) (res [3][]T, err error) {
	n := len(x)
	var bufs []device.Buffer
	defer func() {
		for _, b := range bufs {
			b.Release()
		}
	}()
	dt := device.Float32
	if _, ok := any(x).([]float64); ok {
		dt = device.Float64
	}
	up := func(t device.DType, v any, n int) device.Buffer {
		if err != nil {
			return nil
		}
		var b device.Buffer
		if b, err = d.Alloc(t, n); err != nil {
			return nil
		}
		bufs = append(bufs, b)
		if v != nil {
			err = d.Write(b, v)
		}
		return b
	}
	one := []T{1}
	flags := kernelspec.FlagGradInput | kernelspec.FlagGradTarget
	aux, auxLen := up(dt, one, 1), 1
	if a != nil {
		aux, auxLen = up(dt, a, n), n
		flags |= kernelspec.FlagAux
	}
	if weighted {
		flags |= kernelspec.FlagWeight
	}
	in, tg, w, mask, denom := up(dt, x, n), up(dt, y, n), up(dt, one, 1), up(device.Int32, []int32{1}, 1), up(dt, one, 1)
	gi, gt, ga, out := up(dt, nil, n), up(dt, nil, n), up(dt, nil, 1), up(dt, nil, n)
	if err != nil {
		return res, err
	}
	blocks := max(1, min((n+kernelspec.BlockSize-1)/kernelspec.BlockSize, kernelspec.MaxReduceBlocks))
	err = d.Launch("pointwise_loss", device.Grid{Blocks: blocks, Threads: kernelspec.BlockSize},
		c.Op, in, tg, aux, w, mask, int32(n), float64(c.P0), float64(c.P1), float64(c.P2),
		int32(auxLen), int32(1), int32(1), int32(1), int32(1), int32(1), 1.0, denom, flags, gi, gt, ga, out)
	if err != nil {
		return res, err
	}
	for k, b := range []device.Buffer{out, gi, gt} {
		res[k] = make([]T, n)
		if err = d.Read(res[k], b); err != nil {
			return res, err
		}
	}
	return res, nil
}
