package host

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// TestCTCMirrorFloat32 runs ctc_alpha and ctc_beta_grad through the
// float32 mirror (ctcfast.go) and the float64 one (the specification, on
// the same float32 inputs) and compares every output, the alpha
// workspace included, cell by cell: NaN where the float64 mirror has NaN,
// the same infinities, other values within 2e-6 relative (the float32
// rounding of what is stored) plus 1e-6 (the gradient: plus the rounding
// of the stored alpha values it reads). Inputs: log-probabilities with
// −Inf and NaN entries, long rows whose far tails fall outside the fast
// path's range, large values (above 700) and wide rows (C > S); with
// has_lse, both mirrors get the row log-sum-exps of the float32
// logsumexp_rows.
func TestCTCMirrorFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for it := 0; it < 60; it++ {
		T, N := 5+r.IntN(60), 1+r.IntN(4)
		C := 2 + r.IntN(8)
		if it%5 == 4 {
			C = 40 + r.IntN(30) // wider than the sequences' states
		}
		L := r.IntN(min(T, 12))
		scale := []float64{1, 3, 30, 300}[it%4]
		x := make([]float32, T*N*C)
		for i := range x {
			x[i] = float32(r.NormFloat64() * scale)
			switch r.IntN(60) {
			case 0:
				x[i] = float32(math.Inf(-1))
			case 1:
				if it%3 == 0 {
					x[i] = float32(math.NaN())
				}
			case 2:
				if it%7 == 0 {
					x[i] = 750
				}
			}
		}
		blank := r.IntN(C)
		var targets, offsets, tl, il []int32
		for n := 0; n < N; n++ {
			offsets = append(offsets, int32(len(targets)))
			ln := r.IntN(L + 1)
			for j := 0; j < ln; j++ {
				v := int32(r.IntN(C - 1))
				if v >= int32(blank) {
					v++
				}
				if j > 0 && r.IntN(3) == 0 {
					v = targets[len(targets)-1]
				}
				targets = append(targets, v)
			}
			tl = append(tl, int32(ln))
			il = append(il, int32(T-r.IntN(3)))
		}
		sMax := 2*L + 1
		hasLSE := it%2 == 1
		mode := []int32{kernelspec.CTCGradExact, kernelspec.CTCGradSoftmax}[it/2%2]
		name := fmt.Sprintf("%d: T=%d N=%d C=%d L<=%d scale=%g lse=%v mode=%d", it, T, N, C, L, scale, hasLSE, mode)
		// lse from the float32 logsumexp_rows, given to both mirrors (its
		// float32 rounding, 2^-24·|lse|, is not what is compared here).
		lse32 := make([]float32, T*N)
		if hasLSE {
			xb, _ := Wrap(append([]float32(nil), x...))
			lb, _ := Wrap(lse32)
			if err := Default().Launch("logsumexp_rows", device.Grid{Blocks: T * N, Threads: kernelspec.BlockSize}, xb, int32(T*N), int32(C), 1.0, lb); err != nil {
				t.Fatal(err)
			}
		}
		run := func(f64 bool) [][]float64 {
			fb := func(v []float32) *Buffer {
				if f64 {
					w := make([]float64, len(v))
					for i, e := range v {
						w[i] = float64(e)
					}
					b, _ := Wrap(w)
					return b
				}
				b, _ := Wrap(append([]float32(nil), v...))
				return b
			}
			ib := func(v []int32) *Buffer { b, _ := Wrap(append([]int32(nil), v...)); return b }
			xb, lse := fb(x), fb(lse32)
			alpha := fb(make([]float32, N*T*sMax))
			loglik, llb, loss := fb(make([]float32, N)), fb(make([]float32, N)), fb(make([]float32, N))
			grad, cw, sw := fb(make([]float32, T*N*C)), fb(make([]float32, N*C)), fb(make([]float32, 3*N*sMax))
			next := ib(make([]int32, max(len(targets), 1)))
			d := Default()
			g := device.Grid{Blocks: N, Threads: kernelspec.BlockSize}
			must := func(err error) {
				if err != nil {
					t.Fatal(err)
				}
			}
			must(d.Launch("ctc_alpha", g, xb, lse, int32(T), int32(N), int32(C), int32(N*C), int32(C), b2i32(hasLSE),
				ib(targets), ib(offsets), ib(tl), ib(il), int32(blank), int32(sMax), alpha, loglik, sw))
			aw := floats(alpha) // alpha as ctc_alpha left it
			must(d.Launch("ctc_beta_grad", g, xb, lse, int32(T), int32(N), int32(C), int32(N*C), int32(C), b2i32(hasLSE),
				ib(targets), ib(offsets), ib(tl), ib(il), next, int32(blank), int32(sMax), alpha, loglik,
				kernelspec.ReductionSum, int32(0), mode, int32(1), grad, cw, sw, loss, llb))
			return [][]float64{aw, floats(alpha), floats(loglik), floats(llb), floats(loss), floats(grad)}
		}
		want, got := run(true), run(false)
		// The gradient reads the stored float32 alpha values, whose
		// rounding, 2^-24·|w|, grows with the log-probabilities (|w| is
		// about |lp| where the mass is): its tolerance grows with them.
		maxLp := 0.0
		for _, v := range x {
			if a := math.Abs(float64(v)); a < 1e30 {
				maxLp = max(maxLp, a)
			}
		}
		for k, what := range []string{"alpha", "beta", "loglik", "loglik_beta", "loss_rows", "grad"} {
			abs := 1e-6
			if what == "grad" {
				abs += 0x1p-22 * 2 * maxLp
			}
			for i, w := range want[k] {
				w = float64(float32(w)) // what float32 can hold (overflow included)
				g := got[k][i]
				ok := false
				switch {
				case math.IsNaN(w):
					ok = math.IsNaN(g)
				case math.IsInf(w, 0):
					ok = g == w
				default:
					ok = math.Abs(g-w) <= 2e-6*math.Abs(w)+abs
				}
				if !ok {
					t.Fatalf("%s: %s[%d] = %v, float64 mirror %v", name, what, i, g, w)
				}
			}
		}
	}
}

func b2i32(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// floats returns a float buffer's contents as float64.
func floats(b *Buffer) []float64 {
	if b.f64 != nil {
		return append([]float64(nil), b.f64...)
	}
	out := make([]float64, len(b.f32))
	for i, v := range b.f32 {
		out[i] = float64(v)
	}
	return out
}
