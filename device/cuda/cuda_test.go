//go:build cuda

package cuda_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/kernels"
)

var negInf = float32(math.Inf(-1))

// TestSoftmaxFamily compares the four softmax-family kernels with their
// host mirrors on odd shapes, two temperatures, -inf logits (and an all
// -inf row), NaN and +inf logits, both output kinds, and in place.
func TestSoftmaxFamily(t *testing.T) {
	d := openGPU(t)
	r := rand.New(rand.NewPCG(1, 2))
	cases := 0
	for _, sh := range [][2]int{{1, 1}, {7, 1000}, {3, 131072}, {5, 3}, {4, 0}, {0, 5}} {
		rows, cols := sh[0], sh[1]
		for _, tau := range []float64{1, 0.5} {
			label := fmt.Sprintf("%dx%d tau=%v", rows, cols, tau)
			x := randF(r, rows*cols, 3)
			if rows*cols >= 1000 {
				x[1], x[5], x[cols+7] = negInf, negInf, negInf
				for c := 0; c < cols; c++ {
					x[2*cols+c] = negInf // row 2: all -inf
				}
				if rows >= 5 {
					x[3*cols+cols/2] = float32(math.NaN())  // row 3: NaN, so lse NaN
					x[4*cols+cols-1] = float32(math.Inf(1)) // row 4: +inf, so lse NaN
				}
			}
			R, C, inv := int32(rows), int32(cols), 1/tau
			lse := make([]float32, max(rows, 1))
			ho, gpu := launchBoth(t, d, "logsumexp_rows", rowGrid(rows), x, R, C, inv, lse)
			compareAll(t, "logsumexp_rows "+label, ho, gpu, defTol)
			hl := ho[4].([]float32)
			dl := randF(r, len(hl), 1)
			ho, gpu = launchBoth(t, d, "logsumexp_backward_rows", rowGrid(rows), x, hl, dl, R, C, inv, make([]float32, len(x)))
			compareAll(t, "logsumexp_backward_rows "+label, ho, gpu, defTol)
			ho, gpu = launchBoth(t, d, "logsumexp_backward_rows", rowGrid(rows), x, hl, dl, R, C, inv, same(0))
			compareAll(t, "logsumexp_backward_rows in place "+label, ho, gpu, defTol)
			cases += 3
			for _, logOut := range []int32{0, 1} {
				l := fmt.Sprintf("%s log_out=%d", label, logOut)
				ho, gpu = launchBoth(t, d, "softmax_rows", rowGrid(rows), x, R, C, inv, logOut, make([]float32, len(x)))
				compareAll(t, "softmax_rows "+l, ho, gpu, defTol)
				hy := ho[5].([]float32)
				ho, gpu = launchBoth(t, d, "softmax_rows", rowGrid(rows), x, R, C, inv, logOut, same(0))
				compareAll(t, "softmax_rows in place "+l, ho, gpu, defTol)
				dy := randF(r, len(x), 1)
				ho, gpu = launchBoth(t, d, "softmax_backward_rows", rowGrid(rows), hy, dy, R, C, inv, logOut, make([]float32, len(x)))
				compareAll(t, "softmax_backward_rows "+l, ho, gpu, defTol)
				ho, gpu = launchBoth(t, d, "softmax_backward_rows", rowGrid(rows), hy, dy, R, C, inv, logOut, same(1))
				compareAll(t, "softmax_backward_rows in place "+l, ho, gpu, defTol)
				cases += 4
			}
		}
	}
	t.Logf("softmax family: %d kernel cases compared with the host mirrors", cases)
}

// ceInputs makes logits [n, c] and targets with every fourth row ignored
// (when n > 1), and, for n >= 7 and c >= 3, a row whose logits are all
// -inf, a row whose target logit is -inf, another with a -inf logit, one
// with a NaN and one with a +inf logit.
func ceInputs(r *rand.Rand, n, c int, ignore int32) ([]float32, []int32) {
	x := randF(r, n*c, 4)
	tg := make([]int32, n)
	for i := range tg {
		tg[i] = int32(r.IntN(c))
		if n > 1 && i%4 == 1 {
			tg[i] = ignore
		}
	}
	if n >= 7 && c >= 3 {
		for k := 0; k < c; k++ {
			x[6*c+k] = negInf
		}
		x[2*c+int(tg[2])] = negInf
		x[4*c+(int(tg[4])+1)%c] = negInf
		x[3*c+c-1] = float32(math.NaN())
		x[0] = float32(math.Inf(1))
	}
	return x, tg
}

// TestCrossEntropy compares cross_entropy_weight_sum and
// cross_entropy_rows with their host mirrors: odd shapes, ignored rows,
// weights, label smoothing, -inf logits, in-place gradient, no gradient.
func TestCrossEntropy(t *testing.T) {
	d := openGPU(t)
	r := rand.New(rand.NewPCG(3, 4))
	const ignore = -100
	cases := 0
	for _, sh := range [][2]int{{1, 1}, {7, 1000}, {3, 131072}, {300, 10}, {257, 3}} {
		n, c := sh[0], sh[1]
		for _, v := range []struct {
			eps    float64
			weight bool
			red    int32
		}{{0, false, kernels.ReductionMean}, {0.1, true, kernels.ReductionMean}, {0.2, false, kernels.ReductionSum}, {0, true, kernels.ReductionNone}} {
			label := fmt.Sprintf("%dx%d eps=%v weight=%v reduction=%d", n, c, v.eps, v.weight, v.red)
			x, tg := ceInputs(r, n, c, ignore)
			w := make([]float32, c)
			for k := range w {
				w[k] = 0.25 + r.Float32()
			}
			hasW := int32(0)
			if v.weight {
				hasW = 1
			}
			ho, gpu := launchBoth(t, d, "cross_entropy_weight_sum", oneBlock, tg, w, int32(n), int32(c), hasW, int32(ignore), v.red, make([]float32, 2))
			compareAll(t, "cross_entropy_weight_sum "+label, ho, gpu, defTol)
			denom := ho[7].([]float32)
			// A gradient element is a difference of terms up to about
			// denom[1] * max w in size.
			tl := defTol
			if d1 := math.Abs(float64(denom[1])); !math.IsInf(d1, 0) {
				tl.floor = 1e-6 * d1 * 1.25
			}
			args := func(grad any, hasGrad int32) []any {
				return []any{x, tg, w, int32(n), int32(c), hasW, int32(ignore), v.eps, denom, hasGrad, grad,
					make([]float32, n), int32(1), make([]float32, n)}
			}
			ho, gpu = launchBoth(t, d, "cross_entropy_rows", rowGrid(n), args(make([]float32, n*c), 1)...)
			compareAll(t, "cross_entropy_rows "+label, ho, gpu, tl)
			ho, gpu = launchBoth(t, d, "cross_entropy_rows", rowGrid(n), args(same(0), 1)...)
			compareAll(t, "cross_entropy_rows in place "+label, ho, gpu, tl)
			ho, gpu = launchBoth(t, d, "cross_entropy_rows", rowGrid(n), args(make([]float32, 1), 0)...)
			compareAll(t, "cross_entropy_rows no grad "+label, ho, gpu, tl)
			cases += 4
		}
	}
	// All rows ignored, mean: denom = [0, +Inf], zero gradient.
	x, tg := ceInputs(r, 9, 5, ignore)
	for i := range tg {
		tg[i] = ignore
	}
	w := make([]float32, 5)
	ho, gpu := launchBoth(t, d, "cross_entropy_weight_sum", oneBlock, tg, w, int32(9), int32(5), int32(0), int32(ignore), kernels.ReductionMean, make([]float32, 2))
	compareAll(t, "cross_entropy_weight_sum all ignored", ho, gpu, defTol)
	if dn := gpu[7].([]float32); dn[0] != 0 || !math.IsInf(float64(dn[1]), 1) {
		t.Errorf("all ignored: denom = %v, want [0 +Inf]", dn)
	}
	ho, gpu = launchBoth(t, d, "cross_entropy_rows", rowGrid(9), x, tg, w, int32(9), int32(5), int32(0), int32(ignore), 0.0,
		gpu[7].([]float32), int32(1), same(0), make([]float32, 9), int32(1), make([]float32, 9))
	compareAll(t, "cross_entropy_rows all ignored", ho, gpu, defTol)
	t.Logf("cross entropy: %d kernel cases compared with the host mirrors", cases+2)
}

// TestPointwise compares pointwise_loss with its host mirror for every
// flag combination used, on the losses' grid and on a 3-block grid (which
// checks the partition of the partial sums), in place, and for an unknown
// op (NaN).
func TestPointwise(t *testing.T) {
	d := openGPU(t)
	r := rand.New(rand.NewPCG(5, 6))
	cases := 0
	all := kernels.FlagGradInput | kernels.FlagGradTarget | kernels.FlagReduce
	one, ione := []float32{1}, []int32{1}
	// Every op, with weight, mask and var broadcast per row of [n/7, 7].
	for op := kernels.OpMSE; op <= kernels.OpGaussianNLL; op++ {
		const n, cols = 7 * 1001, 7
		rows := n / cols
		x, y, a := randF(r, n, 1.5), randF(r, n, 1), randF(r, rows, 1)
		for i := range x {
			if op == kernels.OpBCE {
				x[i] = x[i] * x[i] / (1 + x[i]*x[i])
			}
			if op >= kernels.OpHingeEmbedding && op <= kernels.OpSquaredHinge {
				y[i] = float32(2*(i%2) - 1)
			}
			if op == kernels.OpPoissonNLL || op == kernels.OpMSLE || op == kernels.OpKLDiv || op == kernels.OpBCE {
				y[i] = y[i] * y[i] / (1 + y[i]*y[i])
			}
		}
		for i := range a {
			a[i] = 0.1 + a[i]*a[i]
		}
		w, m := randF(r, rows, 1), make([]int32, n)
		for i := range m {
			m[i] = int32(i % 3)
		}
		grid := partialGrid(n)
		flags := all | kernels.FlagGradAux | kernels.FlagWeight | kernels.FlagMask | kernels.FlagAux
		ho, gpu := launchBoth(t, d, "pointwise_loss", grid, op, x, y, a, w, m, int32(n), 0.3, 1.5, 1e-3,
			int32(rows), int32(cols), int32(rows), int32(cols), int32(n), int32(1), 0.5, one, flags,
			make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, grid.Blocks))
		compareAll(t, fmt.Sprintf("pointwise_loss op %d", op), ho, gpu, defTol)
		cases++
	}
	for _, bc := range [][2]int{{7, 1}, {1001, 7}, {1, 1}} {
		x := randF(r, 7007, 1)
		ho, gpu := launchBoth(t, d, "broadcast_sum", device.Grid{Blocks: bc[0], Threads: kernels.BlockSize}, x, int32(7007),
			int32(bc[0]), int32(bc[1]), make([]float32, bc[0]))
		compareAll(t, fmt.Sprintf("broadcast_sum %v", bc), ho, gpu, defTol)
		ho, gpu = launchBoth(t, d, "mask_count", partialGrid(7007), []int32{0, 1, 2, 0, 5, 0, 1}, int32(7007),
			int32(7), int32(1), make([]float32, partialGrid(7007).Blocks))
		compareAll(t, "mask_count", ho, gpu, defTol)
		cases += 2
	}
	for _, n := range []int{1, 255, 257, 100003} {
		x, y := randF(r, n, 2), randF(r, n, 2)
		for _, g := range []struct {
			name string
			b    int
		}{{"partial", partialGrid(n).Blocks}, {"3 blocks", 3}} {
			grid := partialGrid(n)
			grid.Blocks = g.b
			for _, flags := range []int32{all, kernels.FlagReduce, kernels.FlagGradInput, 0} {
				label := fmt.Sprintf("n=%d %s flags=%d", n, g.name, flags)
				outN := n
				if flags&kernels.FlagReduce != 0 {
					outN = grid.Blocks
				}
				ho, gpu := launchBoth(t, d, "pointwise_loss", grid, kernels.OpMSE, x, y, one, one, ione, int32(n), 0.0, 0.0, 0.0,
					int32(1), int32(1), int32(1), int32(1), int32(1), int32(1), 0.5, one, flags,
					make([]float32, n), make([]float32, n), make([]float32, 1), make([]float32, outN))
				compareAll(t, "pointwise_loss "+label, ho, gpu, defTol)
				ho, gpu = launchBoth(t, d, "pointwise_loss", grid, kernels.OpMSE, x, y, one, one, ione, int32(n), 0.0, 0.0, 0.0,
					int32(1), int32(1), int32(1), int32(1), int32(1), int32(1), 0.5, one, flags,
					same(1), same(2), make([]float32, 1), make([]float32, outN))
				compareAll(t, "pointwise_loss in place "+label, ho, gpu, defTol)
				cases += 2
			}
		}
		ho, gpu := launchBoth(t, d, "pointwise_loss", partialGrid(n), int32(99), x, y, one, one, ione, int32(n), 0.0, 0.0, 0.0,
			int32(1), int32(1), int32(1), int32(1), int32(1), int32(1), 1.0, one, all,
			make([]float32, n), make([]float32, n), make([]float32, 1), make([]float32, partialGrid(n).Blocks))
		compareAll(t, "pointwise_loss unknown op", ho, gpu, defTol)
		cases++
	}
	t.Logf("pointwise: %d kernel cases compared with the host mirrors", cases)
}

// TestReduce compares reduce_sum and count_nan with their host mirrors.
func TestReduce(t *testing.T) {
	d := openGPU(t)
	r := rand.New(rand.NewPCG(7, 8))
	cases := 0
	for _, n := range []int{0, 1, 255, 257, 100003} {
		x := randF(r, n, 1)
		var sumAbs float64
		for _, v := range x {
			sumAbs += math.Abs(float64(v))
		}
		div := []float32{3}
		for _, hasDiv := range []int32{0, 1} {
			ho, gpu := launchBoth(t, d, "reduce_sum", oneBlock, x, int32(n), 0.5, hasDiv, div, make([]float32, 1))
			got, want := gpu[5].([]float32)[0], ho[5].([]float32)[0]
			if diff := math.Abs(float64(got - want)); diff > 1e-6*sumAbs+1e-7 {
				t.Errorf("reduce_sum n=%d has_divisor=%d: %v, host mirror %v", n, hasDiv, got, want)
			}
			cases++
		}
		for _, k := range []int{0, 255, 256, n - 1, n / 2, n / 3} {
			if k >= 0 && k < n {
				x[k] = float32(math.NaN())
			}
		}
		for _, blocks := range []int{partialGrid(n).Blocks, 3} {
			grid := partialGrid(n)
			grid.Blocks = blocks
			ho, gpu := launchBoth(t, d, "count_nan", grid, x, int32(n), make([]int32, blocks))
			compareAll(t, fmt.Sprintf("count_nan n=%d blocks=%d", n, blocks), ho, gpu, defTol)
			cases++
		}
	}
	t.Logf("reduce: %d kernel cases compared with the host mirrors", cases)
}
