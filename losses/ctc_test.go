package losses_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/diff/fd"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

// ctcCase is a CTC problem in time-major layout with padded targets.
type ctcCase struct {
	T, N, C, S int
	x          []float64 // [T, N, C]
	targets    []int32   // [N, S]
	il, tl     []int32
	blank      int
}

func (c ctcCase) labels(n int) []int32 { return c.targets[n*c.S : n*c.S+int(c.tl[n])] }

func (c ctcCase) slices(x []float64) ctcSlices[float64] {
	if x == nil {
		x = c.x
	}
	return ctcSlices[float64]{Input: x, T: c.T, N: c.N, C: c.C, Targets: c.targets, TargetsPadded: c.S,
		InputLengths: c.il, TargetLengths: c.tl}
}

// concat returns the targets concatenated.
func (c ctcCase) concat() []int32 {
	var out []int32
	for n := 0; n < c.N; n++ {
		out = append(out, c.labels(n)...)
	}
	return out
}

// batchFirst returns x as [N, T, C].
func (c ctcCase) batchFirst(x []float64) []float64 {
	out := make([]float64, len(x))
	for t := 0; t < c.T; t++ {
		for n := 0; n < c.N; n++ {
			copy(out[(n*c.T+t)*c.C:(n*c.T+t+1)*c.C], x[(t*c.N+n)*c.C:(t*c.N+n+1)*c.C])
		}
	}
	return out
}

// randCTC builds a random case. normalised: rows of x are log-softmax
// outputs; otherwise x is arbitrary (unnormalised log-probabilities, or
// logits).
func randCTC(r *rand.Rand, T, N, C, maxL int, normalised bool) ctcCase {
	c := ctcCase{T: T, N: N, C: C, S: max(maxL, 1), blank: r.IntN(C)}
	c.x = make([]float64, T*N*C)
	for i := range c.x {
		c.x[i] = r.NormFloat64() * 1.5
	}
	if normalised {
		logSoftmaxRows(c.x, C)
	}
	c.targets = make([]int32, N*c.S)
	c.il, c.tl = make([]int32, N), make([]int32, N)
	for n := 0; n < N; n++ {
		c.il[n] = int32(T - r.IntN(min(T, 3)))
		c.tl[n] = int32(r.IntN(maxL + 1))
		for j := 0; j < c.S; j++ {
			// labels != blank; repeats are frequent with small C
			l := r.IntN(C - 1)
			if l >= c.blank {
				l++
			}
			c.targets[n*c.S+j] = int32(l)
			if j > 0 && r.IntN(4) == 0 {
				c.targets[n*c.S+j] = c.targets[n*c.S+j-1]
			}
		}
	}
	return c
}

func logSoftmaxRows(x []float64, c int) {
	for r := 0; r+c <= len(x); r += c {
		row := x[r : r+c]
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, v)
		}
		var s float64
		for _, v := range row {
			s += math.Exp(v - m)
		}
		l := m + math.Log(s)
		for i := range row {
			row[i] -= l
		}
	}
}

// bruteSeq enumerates every path in C^Tn over the log-probabilities
// lp(t, c) of one sequence, keeps those that collapse to lab, and returns
// P = Σ Π_t exp(lp(t, π_t)) and occ[t][c] = Σ over the kept paths with
// π_t = c of their probability (so d(−log P)/d lp(t, c) = −occ/P).
func bruteSeq(lp func(t, c int) float64, tn, nc, blank int, lab []int32) (float64, [][]float64) {
	occ := make([][]float64, tn)
	for t := range occ {
		occ[t] = make([]float64, nc)
	}
	if tn == 0 {
		if len(lab) == 0 {
			return 1, occ
		}
		return 0, occ
	}
	path := make([]int, tn)
	var total float64
	for {
		// collapse
		ok := true
		k := 0
		prev := -1
		for _, c := range path {
			if c != prev && c != blank {
				if k >= len(lab) || int(lab[k]) != c {
					ok = false
					break
				}
				k++
			}
			prev = c
		}
		if ok && k == len(lab) {
			p := 1.0
			for t, c := range path {
				p *= math.Exp(lp(t, c))
			}
			total += p
			for t, c := range path {
				occ[t][c] += p
			}
		}
		// next path
		i := 0
		for i < tn {
			path[i]++
			if path[i] < nc {
				break
			}
			path[i] = 0
			i++
		}
		if i == tn {
			break
		}
	}
	return total, occ
}

// ctcBrute is the brute-force reference for a whole case: per-sequence
// losses, the reduced loss and the gradient w.r.t. x of the given kind.
func ctcBrute(c ctcCase, opt losses.CTCLossOptions) (per []float64, loss []float64, grad []float64) {
	per = make([]float64, c.N)
	grad = make([]float64, len(c.x))
	lpOf := func(t, n, k int) float64 { return c.x[(t*c.N+n)*c.C+k] }
	lse := make([]float64, c.T*c.N)
	if opt.Logits {
		for r := range lse {
			row := c.x[r*c.C : (r+1)*c.C]
			m := math.Inf(-1)
			for _, v := range row {
				m = math.Max(m, v)
			}
			var s float64
			for _, v := range row {
				s += math.Exp(v - m)
			}
			lse[r] = m + math.Log(s)
		}
		lpOf = func(t, n, k int) float64 { return c.x[(t*c.N+n)*c.C+k] - lse[t*c.N+n] }
	}
	var sum float64
	for n := 0; n < c.N; n++ {
		lab := c.labels(n)
		tn := int(c.il[n])
		P, occ := bruteSeq(func(t, k int) float64 { return lpOf(t, n, k) }, tn, c.C, c.blank, lab)
		l := -math.Log(P)
		imp := P == 0
		w := 1.0
		if opt.Reduction == losses.Mean {
			w = 1 / (float64(c.N) * float64(max(len(lab), 1)))
		}
		switch {
		case imp && opt.ZeroInfinity:
			per[n] = 0
		case opt.Reduction == losses.Mean:
			per[n] = l / float64(max(len(lab), 1))
		default:
			per[n] = l
		}
		sum += per[n]
		if imp {
			continue
		}
		for t := 0; t < tn; t++ {
			row := grad[(t*c.N+n)*c.C : (t*c.N+n+1)*c.C]
			// d(−log P)/d lp(t, k) = −occ/P
			glp := make([]float64, c.C)
			for k := range glp {
				glp[k] = -occ[t][k] / P
			}
			switch {
			case opt.Logits:
				// chain rule through lp = x − logsumexp(x)
				var s float64
				for _, g := range glp {
					s += g
				}
				for k := range row {
					row[k] = w * (glp[k] - math.Exp(lpOf(t, n, k))*s)
				}
			case opt.GradMode == losses.CTCGradPyTorch:
				for k := range row {
					row[k] = w * (math.Exp(lpOf(t, n, k)) + glp[k])
				}
			default:
				for k := range row {
					row[k] = w * glp[k]
				}
			}
		}
	}
	switch opt.Reduction {
	case losses.None:
		loss = append([]float64{}, per...)
	case losses.Sum:
		loss = []float64{sum}
	default:
		loss = []float64{sum / float64(c.N)}
	}
	return per, loss, grad
}

// checkLL asserts that the forward and backward log-likelihoods agree
// (within 1e-9 relative in float64).
func checkLL[T flt](t *testing.T, res *result[T], tol float64) {
	t.Helper()
	require.Equal(t, len(res.LogLikelihood), len(res.LogLikelihoodBeta))
	for i := range res.LogLikelihood {
		a, b := float64(res.LogLikelihood[i]), float64(res.LogLikelihoodBeta[i])
		if math.IsInf(a, -1) || math.IsInf(b, -1) {
			require.Equal(t, a, b, "loglik[%d] vs loglik_beta", i)
			continue
		}
		require.False(t, math.IsNaN(a) || math.IsNaN(b), "loglik[%d] = %v, loglik_beta = %v", i, a, b)
		require.LessOrEqual(t, math.Abs(a-b), tol*math.Max(1, math.Abs(a)), "loglik[%d] = %v, loglik_beta = %v", i, a, b)
	}
}

func requireClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	require.Equal(t, len(want), len(got), what)
	scale := 0.0
	for _, w := range want {
		if !math.IsInf(w, 0) {
			scale = math.Max(scale, math.Abs(w))
		}
	}
	for i := range want {
		g, w := got[i], want[i]
		if math.IsInf(w, 0) || math.IsNaN(w) {
			require.True(t, g == w || (math.IsNaN(g) && math.IsNaN(w)), "%s[%d] = %v, want %v", what, i, g, w)
			continue
		}
		require.LessOrEqual(t, math.Abs(g-w), tol*(math.Abs(w)+scale+1e-300), "%s[%d] = %v, want %v", what, i, g, w)
	}
}

// requireNear is requireClose with an absolute floor atol, for outputs
// that may all be 0.
func requireNear(t *testing.T, what string, got, want []float64, tol, atol float64) {
	t.Helper()
	require.Equal(t, len(want), len(got), what)
	scale := 0.0
	for _, w := range want {
		if !math.IsInf(w, 0) {
			scale = math.Max(scale, math.Abs(w))
		}
	}
	for i := range want {
		g, w := got[i], want[i]
		if math.IsInf(w, 0) || math.IsNaN(w) {
			require.True(t, g == w || (math.IsNaN(g) && math.IsNaN(w)), "%s[%d] = %v, want %v", what, i, g, w)
			continue
		}
		require.LessOrEqual(t, math.Abs(g-w), tol*(math.Abs(w)+scale)+atol, "%s[%d] = %v, want %v", what, i, g, w)
	}
}

func TestCTCBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 1))
	count := 0
	for it := 0; it < 300; it++ {
		T := 1 + r.IntN(6)
		C := 2 + r.IntN(3)
		N := 1 + r.IntN(3)
		maxL := r.IntN(4)
		for _, kind := range []string{"exact", "pytorch", "logits"} {
			opt := losses.CTCLossOptions{Reduction: []losses.Reduction{losses.Mean, losses.Sum, losses.None}[it%3],
				ZeroInfinity: it%5 == 0}
			normalised := false
			switch kind {
			case "pytorch":
				opt.GradMode = losses.CTCGradPyTorch
				normalised = true
			case "logits":
				opt.Logits = true
			}
			c := randCTC(r, T, N, C, maxL, normalised)
			opt.Blank = c.blank
			name := fmt.Sprintf("%d/%s/T=%d,N=%d,C=%d,blank=%d,il=%v,tl=%v,targets=%v,%+v", it, kind, T, N, C, c.blank, c.il, c.tl, c.targets, opt)
			res, err := ctcLoss(hostDev, c.slices(nil), opt)
			require.NoError(t, err, name)
			checkLL(t, res, 1e-9)
			_, wantLoss, wantGrad := ctcBrute(c, opt)
			requireClose(t, name+": loss", res.Loss, wantLoss, 1e-10)
			requireClose(t, name+": grad", res.Grad, wantGrad, 1e-10)
			for i, g := range res.Grad {
				require.False(t, math.IsNaN(g), "%s: grad[%d] is NaN", name, i)
			}
			count++
		}
	}
	t.Logf("%d brute-force cases", count)
}

// TestCTCBruteForceSpecial pins the cases the random sweep may miss:
// repeated labels, blank != 0, empty targets, short inputs.
func TestCTCBruteForceSpecial(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for _, tc := range []struct {
		T, C, blank int
		il          int32
		lab         []int32
	}{
		{6, 4, 0, 6, []int32{1, 1, 1}},
		{6, 4, 3, 5, []int32{2, 2, 0}},
		{5, 3, 1, 5, []int32{0, 0}},
		{4, 3, 2, 4, []int32{}},
		{6, 4, 2, 3, []int32{1}},
		{5, 4, 0, 5, []int32{1, 2, 1}},
		{3, 2, 1, 3, []int32{0, 0}},
		{1, 3, 0, 1, []int32{2}},
		{2, 3, 0, 0, []int32{}},
	} {
		S := max(len(tc.lab), 1)
		c := ctcCase{T: tc.T, N: 1, C: tc.C, S: S, blank: tc.blank, il: []int32{tc.il}, tl: []int32{int32(len(tc.lab))},
			targets: make([]int32, S)}
		copy(c.targets, tc.lab)
		c.x = make([]float64, tc.T*tc.C)
		for i := range c.x {
			c.x[i] = r.NormFloat64()
		}
		for _, kind := range []string{"exact", "pytorch", "logits"} {
			opt := losses.CTCLossOptions{Blank: tc.blank, Reduction: losses.Sum}
			x := append([]float64{}, c.x...)
			switch kind {
			case "pytorch":
				opt.GradMode = losses.CTCGradPyTorch
				logSoftmaxRows(x, tc.C)
			case "logits":
				opt.Logits = true
			}
			cc := c
			cc.x = x
			res, err := ctcLoss(hostDev, cc.slices(nil), opt)
			require.NoError(t, err)
			checkLL(t, res, 1e-9)
			_, wantLoss, wantGrad := ctcBrute(cc, opt)
			name := fmt.Sprintf("%+v/%s", tc, kind)
			requireClose(t, name+": loss", res.Loss, wantLoss, 1e-10)
			requireClose(t, name+": grad", res.Grad, wantGrad, 1e-10)
		}
	}
}

func ctcLossOf(t *testing.T, c ctcCase, x []float64, opt losses.CTCLossOptions) float64 {
	res, err := ctcLoss(hostDev, c.slices(x), opt)
	require.NoError(t, err)
	return res.Loss[0]
}

func TestCTCFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 2))
	for _, kind := range []string{"exact", "logits"} {
		for it := 0; it < 4; it++ {
			c := randCTC(r, 12, 3, 5, 4, false)
			opt := losses.CTCLossOptions{Blank: c.blank, Logits: kind == "logits",
				Reduction: []losses.Reduction{losses.Mean, losses.Sum}[it%2]}
			res, err := ctcLoss(hostDev, c.slices(nil), opt)
			require.NoError(t, err)
			checkLL(t, res, 1e-9)
			// Central differences (f(x+h) − f(x−h)) / 2h with h = 1e-5.
			settings := &fd.Settings{Formula: fd.Central, Step: 1e-5}
			x := append([]float64{}, c.x...)
			for i := range x {
				old := x[i]
				d := fd.Derivative(func(v float64) float64 {
					x[i] = v
					return ctcLossOf(t, c, x, opt)
				}, old, settings)
				x[i] = old
				require.InDelta(t, d, res.Grad[i], 1e-7*(1+math.Abs(d)), "%s case %d: grad[%d]", kind, it, i)
			}
		}
	}
}

// TestCTCPyTorchConvention: for normalised log-probabilities the PyTorch
// convention is the exact gradient pushed through log_softmax, and on
// unnormalised input it differs from the exact one by exp(lp) per frame.
func TestCTCPyTorchConvention(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	c := randCTC(r, 9, 4, 6, 3, false)
	opt := losses.CTCLossOptions{Blank: c.blank, Reduction: losses.Sum}
	ex, err := ctcLoss(hostDev, c.slices(nil), opt)
	require.NoError(t, err)
	opt.GradMode = losses.CTCGradPyTorch
	pt, err := ctcLoss(hostDev, c.slices(nil), opt)
	require.NoError(t, err)
	require.Equal(t, ex.Loss, pt.Loss)
	for t0 := 0; t0 < c.T; t0++ {
		for n := 0; n < c.N; n++ {
			for k := 0; k < c.C; k++ {
				i := (t0*c.N+n)*c.C + k
				want := ex.Grad[i]
				if t0 < int(c.il[n]) && !math.IsInf(ex.Loss[0], 1) {
					want += math.Exp(c.x[i])
				}
				require.InDelta(t, want, pt.Grad[i], 1e-12)
			}
		}
	}
}

func TestCTCImpossible(t *testing.T) {
	// Sequence 0 needs 3 frames for "1 1" but has 2; sequence 1 needs 3
	// for "1 2 3" but has 2; sequence 2 is possible.
	T, N, C := 4, 3, 4
	r := rand.New(rand.NewPCG(1, 4))
	c := ctcCase{T: T, N: N, C: C, S: 3, blank: 0, il: []int32{2, 2, 4}, tl: []int32{2, 3, 2},
		targets: []int32{1, 1, 0, 1, 2, 3, 2, 3, 0}}
	c.x = make([]float64, T*N*C)
	for i := range c.x {
		c.x[i] = r.NormFloat64()
	}
	logSoftmaxRows(c.x, C)
	for _, zi := range []bool{false, true} {
		for _, red := range []losses.Reduction{losses.None, losses.Sum, losses.Mean} {
			for _, mode := range []losses.CTCGradMode{losses.CTCGradExact, losses.CTCGradPyTorch} {
				for _, logits := range []bool{false, true} {
					opt := losses.CTCLossOptions{ZeroInfinity: zi, Reduction: red, GradMode: mode, Logits: logits}
					name := fmt.Sprintf("%+v", opt)
					res, err := ctcLoss(hostDev, c.slices(nil), opt)
					require.NoError(t, err, name)
					checkLL(t, res, 1e-9)
					require.True(t, math.IsInf(res.LogLikelihood[0], -1) && math.IsInf(res.LogLikelihood[1], -1), name)
					for _, v := range res.Loss {
						require.False(t, math.IsNaN(v), name)
					}
					switch {
					case red == losses.None && zi:
						require.Equal(t, 0.0, res.Loss[0], name)
						require.Equal(t, 0.0, res.Loss[1], name)
					case red == losses.None:
						require.True(t, math.IsInf(res.Loss[0], 1) && math.IsInf(res.Loss[1], 1), name)
					case zi:
						require.False(t, math.IsInf(res.Loss[0], 0), name)
					default:
						require.True(t, math.IsInf(res.Loss[0], 1), name)
					}
					_, wantLoss, wantGrad := ctcBrute(c, opt)
					requireClose(t, name+": loss", res.Loss, wantLoss, 1e-10)
					requireClose(t, name+": grad", res.Grad, wantGrad, 1e-10)
					for tt := 0; tt < T; tt++ {
						for n := 0; n < 2; n++ {
							for k := 0; k < C; k++ {
								require.Equal(t, 0.0, res.Grad[(tt*N+n)*C+k], "%s: impossible sequence %d has a gradient", name, n)
							}
						}
					}
					for i, g := range res.Grad {
						require.False(t, math.IsNaN(g), "%s: grad[%d] NaN", name, i)
					}
				}
			}
		}
	}
	// float32 too.
	x32 := make([]float32, len(c.x))
	for i, v := range c.x {
		x32[i] = float32(v)
	}
	res, err := ctcLoss(hostDev, ctcSlices[float32]{Input: x32, T: T, N: N, C: C, Targets: c.targets,
		TargetsPadded: 3, InputLengths: c.il, TargetLengths: c.tl}, losses.CTCLossOptions{Reduction: losses.None})
	require.NoError(t, err)
	require.True(t, math.IsInf(float64(res.Loss[0]), 1) && math.IsInf(float64(res.Loss[1]), 1))
	for i, g := range res.Grad {
		require.False(t, g != g, "grad[%d] NaN", i)
	}
}

// TestCTCNegInfLogProb: log-probabilities of −Inf (classes a frame rules
// out) remove the alignments through them. The loss and the gradient of
// every kind must match the brute-force enumeration, and the gradient must
// be finite everywhere: the occupation of a (t, c) that no alignment with
// nonzero probability uses is 0, not exp(−Inf − (−Inf)). Sequences whose
// every alignment is ruled out are impossible (+Inf loss, zero gradient).
// float64 and float32 host paths.
func TestCTCNegInfLogProb(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 6))
	cases, infs := 0, 0
	for it := 0; it < 200; it++ {
		T := 2 + r.IntN(5)
		C := 2 + r.IntN(3)
		N := 1 + r.IntN(3)
		for _, kind := range []string{"exact", "pytorch", "logits"} {
			opt := losses.CTCLossOptions{Reduction: []losses.Reduction{losses.Mean, losses.Sum, losses.None}[it%3],
				ZeroInfinity: it%4 == 0, Logits: kind == "logits"}
			if kind == "pytorch" {
				opt.GradMode = losses.CTCGradPyTorch
			}
			c := randCTC(r, T, N, C, 3, kind == "pytorch")
			opt.Blank = c.blank
			// Rule out about one class in four, the blank and the labels
			// included (then renormalise the rows for the pytorch kind).
			for i := range c.x {
				if r.IntN(4) == 0 {
					c.x[i] = math.Inf(-1)
					infs++
				}
			}
			for row := 0; row < T*N; row++ {
				x := c.x[row*C : (row+1)*C]
				all := true
				for _, v := range x {
					all = all && math.IsInf(v, -1)
				}
				if all { // keep every row normalisable
					x[r.IntN(C)] = 0
				}
			}
			if kind == "pytorch" {
				logSoftmaxRows(c.x, C)
			}
			name := fmt.Sprintf("%d/%s/T=%d,N=%d,C=%d,blank=%d,il=%v,tl=%v,targets=%v,x=%v,%+v", it, kind, T, N, C, c.blank, c.il, c.tl, c.targets, c.x, opt)
			res, err := ctcLoss(hostDev, c.slices(nil), opt)
			require.NoError(t, err, name)
			checkLL(t, res, 1e-9)
			_, wantLoss, wantGrad := ctcBrute(c, opt)
			requireNear(t, name+": loss", res.Loss, wantLoss, 1e-10, 1e-14)
			requireNear(t, name+": grad", res.Grad, wantGrad, 1e-10, 1e-14)
			for i, g := range res.Grad {
				require.False(t, math.IsNaN(g) || math.IsInf(g, 0), "%s: grad[%d] = %v", name, i, g)
			}
			got, err := ctcLoss(hostDev, ctcF32(c), opt)
			require.NoError(t, err, name)
			checkLL(t, got, 1e-5)
			requireNear(t, name+": float32 loss", to64(got.Loss), wantLoss, 1e-5, 1e-6)
			requireNear(t, name+": float32 grad", to64(got.Grad), wantGrad, 1e-5, 1e-6)
			for i, g := range got.Grad {
				require.False(t, g != g || math.IsInf(float64(g), 0), "%s: float32 grad[%d] = %v", name, i, g)
			}
			cases++
		}
	}
	t.Logf("%d cases, %d log-probabilities of -Inf", cases, infs)
}

// TestCTCNaNFloat32: NaN log-probabilities propagate through the float32
// host path exactly as through the float64 one (the reference): a NaN on
// a path of a sequence makes its loss, both log-likelihoods and every
// gradient entry of its frames NaN; a NaN where no alignment can pass
// (beyond the states reachable by that frame) makes only its own
// gradient entry NaN. Every other value agrees within 1e-5.
func TestCTCNaNFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 5))
	for it := 0; it < 40; it++ {
		for _, kind := range []string{"exact", "pytorch", "logits"} {
			c := randCTC(r, 12, 3, 6, 4, kind == "pytorch")
			opt := losses.CTCLossOptions{Blank: c.blank, Reduction: losses.None, Logits: kind == "logits"}
			if kind == "pytorch" {
				opt.GradMode = losses.CTCGradPyTorch
			}
			for i := range c.x {
				c.x[i] = float64(float32(c.x[i]))
			}
			// Sequence 0: a NaN in the blank of frame 5 (on a path when the
			// sequence is possible). Sequence 1: a NaN at frame 0 in the
			// class of its second label, whose state no path reaches at
			// t = 0 (a NaN logit spreads over the whole row through the
			// log-sum-exp, so the logits kind gets it on a path too).
			c.x[(5*c.N+0)*c.C+c.blank] = math.NaN()
			if c.tl[1] >= 2 {
				c.x[(0*c.N+1)*c.C+int(c.labels(1)[1])] = math.NaN()
			}
			name := fmt.Sprintf("%d/%s/il=%v,tl=%v,targets=%v", it, kind, c.il, c.tl, c.targets)
			want, err := ctcLoss(hostDev, c.slices(nil), opt)
			require.NoError(t, err, name)
			got, err := ctcLoss(hostDev, ctcF32(c), opt)
			require.NoError(t, err, name)
			nans := 0
			for _, p := range []struct {
				what      string
				got, want []float64
			}{{"loss", to64(got.Loss), want.Loss}, {"grad", to64(got.Grad), want.Grad},
				{"loglik", to64(got.LogLikelihood), want.LogLikelihood}, {"loglik_beta", to64(got.LogLikelihoodBeta), want.LogLikelihoodBeta}} {
				for i, w := range p.want {
					g := p.got[i]
					if math.IsNaN(w) {
						nans++
						require.True(t, math.IsNaN(g), "%s: %s[%d] = %v, float64 path NaN", name, p.what, i, g)
						continue
					}
					require.False(t, math.IsNaN(g), "%s: %s[%d] = NaN, float64 path %v", name, p.what, i, w)
					if math.IsInf(w, 0) {
						require.Equal(t, w, g, "%s: %s[%d]", name, p.what, i)
						continue
					}
					require.InDelta(t, w, g, 1e-5*(1+math.Abs(w)), "%s: %s[%d]", name, p.what, i)
				}
			}
			require.Positive(t, nans, name)
		}
	}
}

func TestCTCReductions(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 7))
	c := randCTC(r, 10, 5, 6, 4, true)
	c.tl[1] = 0
	run := func(red losses.Reduction) *result[float64] {
		res, err := ctcLoss(hostDev, c.slices(nil), losses.CTCLossOptions{Blank: c.blank, Reduction: red})
		require.NoError(t, err)
		checkLL(t, res, 1e-9)
		return res
	}
	none, sum, mean := run(losses.None), run(losses.Sum), run(losses.Mean)
	var s, m float64
	for n, l := range none.Loss {
		require.InDelta(t, -none.LogLikelihood[n], l, 1e-12)
		s += l
		m += l / float64(max(c.tl[n], 1))
	}
	m /= float64(c.N)
	require.InDelta(t, s, sum.Loss[0], 1e-12)
	require.InDelta(t, m, mean.Loss[0], 1e-12)
	for t0 := 0; t0 < c.T; t0++ {
		for n := 0; n < c.N; n++ {
			w := 1 / (float64(c.N) * float64(max(c.tl[n], 1)))
			for k := 0; k < c.C; k++ {
				i := (t0*c.N+n)*c.C + k
				require.Equal(t, none.Grad[i], sum.Grad[i])
				require.InDelta(t, w*none.Grad[i], mean.Grad[i], 1e-15)
			}
		}
	}
	// An empty batch: mean is NaN (0/0, as in PyTorch), sum 0.
	for _, red := range []losses.Reduction{losses.Mean, losses.Sum, losses.None} {
		res, err := ctcLoss(hostDev, ctcSlices[float64]{T: 3, C: 2}, losses.CTCLossOptions{Reduction: red})
		require.NoError(t, err)
		switch red {
		case losses.Mean:
			require.True(t, math.IsNaN(res.Loss[0]))
		case losses.Sum:
			require.Equal(t, []float64{0}, res.Loss)
		default:
			require.Empty(t, res.Loss)
		}
	}
}

func TestCTCLayouts(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	c := randCTC(r, 11, 4, 7, 5, false)
	for _, logits := range []bool{false, true} {
		opt := losses.CTCLossOptions{Blank: c.blank, Logits: logits, Reduction: losses.None}
		tm, err := ctcLoss(hostDev, c.slices(nil), opt)
		require.NoError(t, err)
		checkLL(t, tm, 1e-9)
		// batch-first on the transposed data: the same numbers, bitwise.
		bopt := opt
		bopt.BatchFirst = true
		bf, err := ctcLoss(hostDev, c.slices(c.batchFirst(c.x)), bopt)
		require.NoError(t, err)
		require.Equal(t, tm.Loss, bf.Loss)
		require.Equal(t, tm.LogLikelihood, bf.LogLikelihood)
		require.Equal(t, c.batchFirst(tm.Grad), bf.Grad)
		// concatenated targets: the same, bitwise.
		in := c.slices(nil)
		in.Targets, in.TargetsPadded = c.concat(), 0
		cc, err := ctcLoss(hostDev, in, opt)
		require.NoError(t, err)
		require.Equal(t, tm, cc)
	}
}

func ctcF32(c ctcCase) ctcSlices[float32] {
	x := make([]float32, len(c.x))
	for i, v := range c.x {
		x[i] = float32(v)
	}
	return ctcSlices[float32]{Input: x, T: c.T, N: c.N, C: c.C, Targets: c.targets, TargetsPadded: c.S,
		InputLengths: c.il, TargetLengths: c.tl}
}

func TestCTCDeterminism(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 1))
	c := randCTC(r, 60, 9, 13, 12, false)
	for _, opt := range []losses.CTCLossOptions{{Blank: c.blank, Logits: true}, {Blank: c.blank, Reduction: losses.None}} {
		a, err := ctcLoss(hostDev, ctcF32(c), opt)
		require.NoError(t, err)
		checkLL(t, a, 1e-5)
		prev := runtime.GOMAXPROCS(1)
		b, err := ctcLoss(hostDev, ctcF32(c), opt)
		runtime.GOMAXPROCS(prev)
		require.NoError(t, err)
		c2, err := ctcLoss(hostDev, ctcF32(c), opt)
		require.NoError(t, err)
		for _, o := range []*result[float32]{b, c2} {
			require.Equal(t, len(a.Grad), len(o.Grad))
			for i := range a.Grad {
				require.Equal(t, math.Float32bits(a.Grad[i]), math.Float32bits(o.Grad[i]), "grad[%d]", i)
			}
			for i := range a.Loss {
				require.Equal(t, math.Float32bits(a.Loss[i]), math.Float32bits(o.Loss[i]), "loss[%d]", i)
			}
		}
	}
}

// TestCTCFloat32 compares the float32 path with the float64 one on a
// moderate case with variable lengths.
func TestCTCFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 2))
	c := randCTC(r, 80, 6, 29, 20, false)
	for _, opt := range []losses.CTCLossOptions{{Blank: c.blank, Logits: true}, {Blank: c.blank, Reduction: losses.None, GradMode: losses.CTCGradPyTorch}} {
		// round the input so both paths see the same numbers
		cc := c
		cc.x = make([]float64, len(c.x))
		for i, v := range c.x {
			cc.x[i] = float64(float32(v))
		}
		want, err := ctcLoss(hostDev, cc.slices(nil), opt)
		require.NoError(t, err)
		got, err := ctcLoss(hostDev, ctcF32(cc), opt)
		require.NoError(t, err)
		checkLL(t, got, 1e-5)
		requireClose(t, "loss", to64(got.Loss), want.Loss, 1e-6)
		requireClose(t, "grad", to64(got.Grad), want.Grad, 1e-5)
	}
}

func to64[T flt](v []T) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// longCase is a case with N sequences of T frames and L labels each, a
// random alignment made likely so the loss is moderate.
func longCase(r *rand.Rand, T, N, C, L int) ctcCase {
	c := ctcCase{T: T, N: N, C: C, S: L, blank: 0}
	c.x = make([]float64, T*N*C)
	for i := range c.x {
		c.x[i] = r.NormFloat64()
	}
	c.targets = make([]int32, N*L)
	c.il, c.tl = make([]int32, N), make([]int32, N)
	for n := 0; n < N; n++ {
		c.il[n], c.tl[n] = int32(T-n), int32(L-n)
		for j := 0; j < L; j++ {
			c.targets[n*L+j] = int32(1 + r.IntN(C-1))
		}
		// make the frames of label j, around t = j·T/L, favour it
		for j := 0; j < int(c.tl[n]); j++ {
			t := j * int(c.il[n]) / int(c.tl[n])
			c.x[(t*N+n)*C+int(c.targets[n*L+j])] += 4
		}
	}
	return c
}

func TestCTCLong(t *testing.T) {
	if testing.Short() {
		t.Skip("long sequences")
	}
	r := rand.New(rand.NewPCG(7, 7))
	// L = 1000 labels over T = 3000 frames.
	c := longCase(r, 3000, 3, 50, 1000)
	res, err := ctcLoss(hostDev, c.slices(nil), losses.CTCLossOptions{Logits: true, Reduction: losses.None})
	require.NoError(t, err)
	checkLL(t, res, 1e-9)
	for n, l := range res.Loss {
		require.False(t, math.IsInf(l, 0) || math.IsNaN(l), "loss[%d] = %v", n, l)
		t.Logf("L=%d T=%d: loss %.6f, |loglik - loglik_beta| = %.3g", c.tl[n], c.il[n], l, math.Abs(res.LogLikelihood[n]-res.LogLikelihoodBeta[n]))
	}
	for i, g := range res.Grad {
		require.False(t, math.IsNaN(g), "grad[%d]", i)
	}
	// The gradient of each frame w.r.t. the logits sums to 0.
	for tt := 0; tt < c.T; tt += 7 {
		for n := 0; n < c.N; n++ {
			var s float64
			for k := 0; k < c.C; k++ {
				s += res.Grad[(tt*c.N+n)*c.C+k]
			}
			require.InDelta(t, 0, s, 1e-9)
		}
	}
	// float32 at the same size (on the same float32-rounded input): the
	// loss to 1e-6 relative, the gradient to 1e-4 of its largest entry.
	c32 := c
	c32.x = make([]float64, len(c.x))
	for i, v := range c.x {
		c32.x[i] = float64(float32(v))
	}
	want, err := ctcLoss(hostDev, c32.slices(nil), losses.CTCLossOptions{Logits: true, Reduction: losses.None})
	require.NoError(t, err)
	got, err := ctcLoss(hostDev, ctcF32(c), losses.CTCLossOptions{Logits: true, Reduction: losses.None})
	require.NoError(t, err)
	checkLL(t, got, 1e-6)
	requireClose(t, "float32 loss, L=1000", to64(got.Loss), want.Loss, 1e-6)
	requireClose(t, "float32 grad, L=1000", to64(got.Grad), want.Grad, 1e-4)
}

// TestCTCVeryLong: T = 10000 frames. The float64 path is the reference;
// the float32 path keeps the loss to 1e-6 relative and the gradient to
// 1e-4 of its largest entry (alpha and beta are stored in float32
// relative to per-frame offsets, so their rounding does not grow with T).
func TestCTCVeryLong(t *testing.T) {
	if testing.Short() {
		t.Skip("long sequences")
	}
	r := rand.New(rand.NewPCG(7, 8))
	c := longCase(r, 10000, 2, 30, 400)
	for i, v := range c.x {
		c.x[i] = float64(float32(v))
	}
	opt := losses.CTCLossOptions{Logits: true, Reduction: losses.None}
	want, err := ctcLoss(hostDev, c.slices(nil), opt)
	require.NoError(t, err)
	checkLL(t, want, 1e-9)
	got, err := ctcLoss(hostDev, ctcF32(c), opt)
	require.NoError(t, err)
	checkLL(t, got, 1e-6)
	requireClose(t, "loss", to64(got.Loss), want.Loss, 1e-6)
	var worst, scale float64
	for i, w := range want.Grad {
		worst = math.Max(worst, math.Abs(float64(got.Grad[i])-w))
		scale = math.Max(scale, math.Abs(w))
	}
	t.Logf("T=10000: loss %v (float64) vs %v (float32); grad max|diff| %.3g of max|grad| %.3g", want.Loss, got.Loss, worst, scale)
	require.Less(t, worst, 1e-4*scale)
}

func TestCTCErrors(t *testing.T) {
	good := func() (ctcSlices[float64], losses.CTCLossOptions) {
		return ctcSlices[float64]{Input: make([]float64, 4*2*3), T: 4, N: 2, C: 3,
			Targets: []int32{1, 2, 2, 0}, TargetsPadded: 2, InputLengths: []int32{4, 3}, TargetLengths: []int32{2, 1}}, losses.CTCLossOptions{}
	}
	in, opt := good()
	_, err := ctcLoss(hostDev, in, opt)
	require.NoError(t, err)
	for _, tc := range []struct {
		arg    string
		mutate func(*ctcSlices[float64], *losses.CTCLossOptions)
	}{
		{"log_probs", func(in *ctcSlices[float64], _ *losses.CTCLossOptions) { in.Input = in.Input[1:] }},
		{"log_probs", func(in *ctcSlices[float64], _ *losses.CTCLossOptions) { in.C = 0; in.Input = nil }},
		{"log_probs", func(in *ctcSlices[float64], _ *losses.CTCLossOptions) { in.T = -1 }},
		{"log_probs", func(in *ctcSlices[float64], _ *losses.CTCLossOptions) { in.N = -2 }},
		{"input_lengths", func(in *ctcSlices[float64], _ *losses.CTCLossOptions) { in.InputLengths = []int32{4} }},
		{"input_lengths", func(in *ctcSlices[float64], _ *losses.CTCLossOptions) { in.InputLengths = []int32{5, 3} }},
		{"input_lengths", func(in *ctcSlices[float64], _ *losses.CTCLossOptions) { in.InputLengths = []int32{4, -1} }},
		{"target_lengths", func(in *ctcSlices[float64], _ *losses.CTCLossOptions) { in.TargetLengths = []int32{2, 3} }},
		{"target_lengths", func(in *ctcSlices[float64], _ *losses.CTCLossOptions) { in.TargetLengths = []int32{-1, 1} }},
		{"target_lengths", func(in *ctcSlices[float64], _ *losses.CTCLossOptions) { in.TargetLengths = nil }},
		{"targets", func(in *ctcSlices[float64], _ *losses.CTCLossOptions) { in.Targets = in.Targets[:3] }},
		{"targets", func(in *ctcSlices[float64], _ *losses.CTCLossOptions) { in.Targets[1] = 0 }},  // blank
		{"targets", func(in *ctcSlices[float64], _ *losses.CTCLossOptions) { in.Targets[2] = 3 }},  // >= C
		{"targets", func(in *ctcSlices[float64], _ *losses.CTCLossOptions) { in.Targets[0] = -1 }}, // < 0
		{"targets", func(in *ctcSlices[float64], _ *losses.CTCLossOptions) {
			in.Targets, in.TargetsPadded = []int32{1, 2}, 0 // concatenated, but the lengths sum to 3
		}},
		{"targets", func(in *ctcSlices[float64], _ *losses.CTCLossOptions) { in.TargetsPadded = 3 }}, // [N, S] beyond the slice
		{"targets", func(in *ctcSlices[float64], o *losses.CTCLossOptions) { o.Blank = 2 }},          // label == blank
		{"blank", func(in *ctcSlices[float64], o *losses.CTCLossOptions) { o.Blank = 3 }},
		{"blank", func(in *ctcSlices[float64], o *losses.CTCLossOptions) { o.Blank = -1 }},
		{"reduction", func(in *ctcSlices[float64], o *losses.CTCLossOptions) { o.Reduction = 7 }},
		{"grad_mode", func(in *ctcSlices[float64], o *losses.CTCLossOptions) { o.GradMode = 5 }},
		{"targets", func(in *ctcSlices[float64], o *losses.CTCLossOptions) { in.TargetsPadded = -1 }},
	} {
		in, opt := good()
		in.Targets = append([]int32{}, in.Targets...)
		tc.mutate(&in, &opt)
		_, err := ctcLoss(hostDev, in, opt)
		var ae *losses.ArgError
		require.True(t, errors.As(err, &ae), "%s: %v", tc.arg, err)
		require.True(t, errors.Is(err, losses.ErrInvalidArgument))
		require.Equal(t, tc.arg, ae.Arg, "%v", err)
		require.Equal(t, "ctc_loss", ae.Loss)
	}
	_, err = ctcLoss[float64](nil, in, opt)
	require.Error(t, err)
}

// ctcBufs wraps a case as host buffers (float32) for the buffer form.
func ctcBufs(t testing.TB, in ctcSlices[float32], red losses.Reduction) losses.CTCLossArgs {
	w := func(v any) device.Buffer {
		b, err := host.Wrap(v)
		require.NoError(t, err)
		return b
	}
	nLoss := 1
	if red == losses.None {
		nLoss = in.N
	}
	return losses.CTCLossArgs{
		LogProbs:          losses.NewTensor(w(in.Input), in.T, in.N, in.C),
		Targets:           losses.NewTensor(w(in.Targets), in.N, in.TargetsPadded),
		InputLengths:      losses.NewTensor(w(in.InputLengths)),
		TargetLengths:     losses.NewTensor(w(in.TargetLengths)),
		Loss:              losses.NewTensor(w(make([]float32, nLoss))),
		GradLogProbs:      losses.NewTensor(w(make([]float32, len(in.Input))), in.T, in.N, in.C),
		LogLikelihood:     losses.NewTensor(w(make([]float32, in.N))),
		LogLikelihoodBeta: losses.NewTensor(w(make([]float32, in.N))),
	}
}

func f32sOf(t losses.Tensor) []float32 { return t.Buf.(*host.Buffer).Float32s() }

func TestCTCBufferForm(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 1))
	c := randCTC(r, 30, 5, 9, 6, false)
	in := ctcF32(c)
	for _, logits := range []bool{false, true} {
		opt := losses.CTCLossOptions{Blank: c.blank, Logits: logits}
		want, err := ctcLoss(hostDev, in, opt)
		require.NoError(t, err)
		b := ctcBufs(t, in, opt.Reduction)
		// Without a workspace (pool), then with one, reused.
		require.NoError(t, losses.CTCLoss(hostDev, b, opt))
		require.Equal(t, want.Grad, f32sOf(b.GradLogProbs))
		ws, err := losses.NewCTCWorkspace(hostDev, device.Float32, c.T, c.N, c.C, c.S, logits)
		require.NoError(t, err)
		b.Workspace = ws
		for range 3 {
			require.NoError(t, losses.CTCLoss(hostDev, b, opt))
			require.Equal(t, want.Loss, f32sOf(b.Loss))
			require.Equal(t, want.Grad, f32sOf(b.GradLogProbs))
			require.Equal(t, want.LogLikelihood, f32sOf(b.LogLikelihood))
			require.Equal(t, want.LogLikelihoodBeta, f32sOf(b.LogLikelihoodBeta))
		}
		allocs := testing.AllocsPerRun(20, func() {
			if err := losses.CTCLoss(hostDev, b, opt); err != nil {
				t.Fatal(err)
			}
		})
		require.Equal(t, 0.0, allocs, "allocations per call with a workspace (logits %v)", logits)
		// Without the optional outputs and the gradient.
		b2 := b
		b2.LogLikelihood, b2.LogLikelihoodBeta, b2.GradLogProbs = losses.Tensor{}, losses.Tensor{}, losses.Tensor{}
		require.NoError(t, losses.CTCLoss(hostDev, b2, opt))
		require.Equal(t, want.Loss, f32sOf(b2.Loss))
		ws.Release()
	}
}

func TestCTCBufferErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 2))
	c := randCTC(r, 6, 2, 4, 2, false)
	in := ctcF32(c)
	opt := losses.CTCLossOptions{Blank: c.blank}
	for _, tc := range []struct {
		arg    string
		mutate func(*losses.CTCLossArgs)
	}{
		{"log_probs", func(b *losses.CTCLossArgs) { b.LogProbs = losses.Tensor{} }},
		{"log_probs", func(b *losses.CTCLossArgs) {
			// one frame more than the buffers hold
			b.LogProbs = losses.NewTensor(b.LogProbs.Buf, c.T+1, c.N, c.C)
			b.GradLogProbs = losses.NewTensor(b.GradLogProbs.Buf, c.T+1, c.N, c.C)
		}},
		{"log_probs", func(b *losses.CTCLossArgs) { b.LogProbs = losses.NewTensor(b.LogProbs.Buf, c.T*c.N, c.C) }},
		{"targets", func(b *losses.CTCLossArgs) { b.Targets = losses.NewTensor(must(host.Wrap([]int32{1})), c.N, c.S) }},
		{"targets", func(b *losses.CTCLossArgs) { b.Targets = losses.NewTensor(b.Targets.Buf, c.N+1, c.S) }},
		{"targets", func(b *losses.CTCLossArgs) { b.Targets = losses.NewTensor(b.Targets.Buf, 1, c.N, c.S) }},
		{"input_lengths", func(b *losses.CTCLossArgs) { b.InputLengths = losses.NewTensor(must(host.Wrap([]float32{1, 2}))) }},
		{"input_lengths", func(b *losses.CTCLossArgs) { b.InputLengths = losses.NewTensor(b.InputLengths.Buf, 1) }},
		{"target_lengths", func(b *losses.CTCLossArgs) { b.TargetLengths = losses.Tensor{} }},
		{"loss", func(b *losses.CTCLossArgs) { b.Loss = losses.NewTensor(must(host.Wrap([]float64{0}))) }},
		{"loss", func(b *losses.CTCLossArgs) { b.Loss = losses.NewTensor(must(host.Wrap([]float32{0, 0}))) }},
		{"grad_log_probs", func(b *losses.CTCLossArgs) { b.GradLogProbs = b.LogProbs }},
		{"grad_log_probs", func(b *losses.CTCLossArgs) { b.GradLogProbs = losses.NewTensor(must(host.Wrap([]float32{1}))) }},
		{"grad_log_probs", func(b *losses.CTCLossArgs) {
			b.GradLogProbs = losses.NewTensor(must(host.Wrap([]float32{1})), c.T, c.N, c.C)
		}},
		{"log_likelihood", func(b *losses.CTCLossArgs) { b.LogLikelihood = losses.NewTensor(must(host.Wrap([]float32{}))) }},
		{"log_likelihood", func(b *losses.CTCLossArgs) {
			b.LogLikelihood = losses.NewTensor(must(host.Wrap(make([]float32, c.N+1))))
		}},
		{"workspace.alpha", func(b *losses.CTCLossArgs) {
			b.Workspace, _ = losses.NewCTCWorkspace(hostDev, device.Float32, 1, 2, 4, 2, false)
		}},
		{"workspace.lse", func(b *losses.CTCLossArgs) {
			b.Workspace, _ = losses.NewCTCWorkspace(hostDev, device.Float32, 6, 2, 4, 2, false)
			b.Workspace.LSE = nil
		}},
	} {
		b := ctcBufs(t, in, opt.Reduction)
		tc.mutate(&b)
		o := opt
		if tc.arg == "workspace.lse" {
			o.Logits = true
		}
		err := losses.CTCLoss(hostDev, b, o)
		var ae *losses.ArgError
		require.True(t, errors.As(err, &ae), "%s: %v", tc.arg, err)
		require.Equal(t, tc.arg, ae.Arg, "%v", err)
		require.Equal(t, "ctc_loss", ae.Loss, "%v", err)
		if b.Loss.Present() {
			if l, ok := b.Loss.Buf.(*host.Buffer).Slice().([]float32); ok {
				require.Equal(t, float32(0), l[0], "%s: a failed call wrote the loss", tc.arg)
			}
		}
	}
	// Labels are validated after the read-back.
	in.Targets = append([]int32{}, in.Targets...)
	in.Targets[0] = int32(c.blank)
	in.TargetLengths = []int32{1, 1}
	b := ctcBufs(t, in, opt.Reduction)
	err := losses.CTCLoss(hostDev, b, opt)
	var ae *losses.ArgError
	require.True(t, errors.As(err, &ae))
	require.Equal(t, "targets", ae.Arg)
}

func must[B any](b B, err error) B {
	if err != nil {
		panic(err)
	}
	return b
}

func TestCTCWorkspaceSize(t *testing.T) {
	T, N, C, L := 7, 3, 5, 4
	for _, logits := range []bool{false, true} {
		ws, err := losses.NewCTCWorkspace(hostDev, device.Float32, T, N, C, L, logits)
		require.NoError(t, err)
		total := 0
		for _, b := range []device.Buffer{ws.Alpha, ws.ClassWS, ws.StateWS, ws.LSE, ws.LossRows, ws.LogLik, ws.LogLikBeta, ws.Offsets, ws.Next} {
			if b != nil {
				total += 4 * b.Len()
			}
		}
		require.Equal(t, total, losses.CTCWorkspaceSize(T, N, C, L, logits))
		ws.Release()
	}
	s := 2*200 + 1
	require.Equal(t, 4*(32*1000*s+32*29+3*32*s+3*32+1000*32)+4*(32+32*200), losses.CTCWorkspaceSize(1000, 32, 29, 200, true))
}

// TestCTCHugeClassCount: with T = 0 the input is empty whatever C is, so
// the work and memory of a call must not grow with C (an earlier build
// kept a host table of 4·C bytes, 8 GiB and tens of seconds for
// C = 2³¹−1, and a class workspace of N·C). Repeated labels far apart give
// the same loss as the same labels renumbered.
func TestCTCHugeClassCount(t *testing.T) {
	d, _ := losses.Lookup("ctc_loss")
	call := func(T, C int, labels []int32) (map[string]losses.Tensor, error) {
		return d.Call(hostDev, map[string]losses.Tensor{
			"log_probs":      losses.HostTensor(make([]float64, T*C), T, 1, C),
			"targets":        losses.HostTensor(labels, 1, len(labels)),
			"input_lengths":  losses.HostTensor([]int32{int32(T)}),
			"target_lengths": losses.HostTensor([]int32{int32(len(labels))}),
		}, losses.CTCLossOptions{Reduction: losses.None})
	}
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	out, err := call(0, 1<<31-1, nil)
	require.NoError(t, err)
	require.Equal(t, []float64{0}, losses.Floats(out["loss"])) // the empty alignment
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20))
	out, err = call(0, 1<<31-1, []int32{1<<31 - 2, 5})
	require.NoError(t, err)
	require.Equal(t, []float64{math.Inf(1)}, losses.Floats(out["loss"])) // no frame for a label

	far, err := call(6, 1000, []int32{999, 3, 999, 999, 3})
	require.NoError(t, err)
	near, err := call(6, 1000, []int32{2, 1, 2, 2, 1})
	require.NoError(t, err)
	require.Equal(t, losses.Floats(near["loss"]), losses.Floats(far["loss"]))
}
