package losses_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

// References for the Lovász losses written from the definitions, with
// no code shared with the kernels' mirrors.

// jaccardLoss is Berman et al.'s Δ_J(M) = |M| / |F ∪ M|: the Jaccard
// loss of predicting the mispredicted pixels M against the foreground F
// (0 when both are empty).
func jaccardLoss(m, f []bool) float64 {
	var nm, nu int
	for i := range m {
		if m[i] {
			nm++
		}
		if m[i] || f[i] {
			nu++
		}
	}
	if nu == 0 {
		return 0
	}
	return float64(nm) / float64(nu)
}

// lovaszBrute is the Lovász extension of Δ_J at errors e by its
// definition for a submodular set function: the largest, over every
// order π of the pixels, of Σ_i e_π(i) (Δ({π(1..i)}) − Δ({π(1..i−1)})),
// with a brute-force walk over all orders (the greedy order, errors
// descending, attains it). Only for a handful of pixels.
func lovaszBrute(e []float64, f []bool) float64 {
	n := len(e)
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	best := math.Inf(-1)
	var walk func(k int)
	walk = func(k int) {
		if k == n {
			m := make([]bool, n)
			var s, prev float64
			for _, p := range perm {
				m[p] = true
				d := jaccardLoss(m, f)
				s += e[p] * (d - prev)
				prev = d
			}
			best = math.Max(best, s)
			return
		}
		for i := k; i < n; i++ {
			perm[k], perm[i] = perm[i], perm[k]
			walk(k + 1)
			perm[k], perm[i] = perm[i], perm[k]
		}
	}
	walk(0)
	if n == 0 {
		return 0
	}
	return best
}

// lovaszFlat is the published formula (sort descending, stable, then
// the Jaccard gradient by cumulative sums) with its gradient w.r.t. e.
func lovaszFlat(e []float64, f []bool) (loss float64, de []float64) {
	n := len(e)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case e[a] > e[b]:
			return -1
		case e[a] < e[b]:
			return 1
		}
		return 0
	})
	gts := 0.0
	for _, v := range f {
		if v {
			gts++
		}
	}
	de = make([]float64, n)
	var cf, cb, prev float64
	for _, p := range order {
		if f[p] {
			cf++
		} else {
			cb++
		}
		j := 1 - (gts-cf)/(gts+cb)
		loss += e[p] * (j - prev)
		de[p] = j - prev
		prev = j
	}
	return loss, de
}

type lovaszSoftmaxRef struct {
	perImage, all, probs bool
	ignore               *int
}

// loss computes the Lovász-softmax of x [n, c, hw] and its gradient by
// the published formula (brute force over orders when brute).
func (r lovaszSoftmaxRef) loss(x []float64, tg []int32, n, c, hw int, brute bool) (float64, []float64) {
	p := slices.Clone(x)
	if !r.probs {
		for i := 0; i < n; i++ {
			for h := 0; h < hw; h++ {
				col := make([]float64, c)
				for k := range col {
					col[k] = x[(i*c+k)*hw+h]
				}
				ls := logSoftmax(col, 1)
				for k := range col {
					p[(i*c+k)*hw+h] = math.Exp(ls[k])
				}
			}
		}
	}
	dp := make([]float64, len(x))
	groups := [][]int{}
	if r.perImage {
		for i := 0; i < n; i++ {
			groups = append(groups, []int{i})
		}
	} else {
		all := []int{}
		for i := 0; i < n; i++ {
			all = append(all, i)
		}
		groups = append(groups, all)
	}
	var total float64
	for _, g := range groups {
		type pix struct{ i, h int }
		var kept []pix
		for _, i := range g {
			for h := 0; h < hw; h++ {
				if r.ignore == nil || int(tg[i*hw+h]) != *r.ignore {
					kept = append(kept, pix{i, h})
				}
			}
		}
		var sum float64
		var counted []int
		ds := map[int][]float64{}
		for k := 0; k < c; k++ {
			e, f := make([]float64, len(kept)), make([]bool, len(kept))
			present := false
			for j, q := range kept {
				f[j] = int(tg[q.i*hw+q.h]) == k
				present = present || f[j]
				e[j] = math.Abs(b2f(f[j]) - p[(q.i*c+k)*hw+q.h])
			}
			if !present && !r.all {
				continue
			}
			l, de := lovaszFlat(e, f)
			if brute {
				l = lovaszBrute(e, f)
			}
			for j := range de {
				if e[j] == 0 {
					de[j] = 0
				} else if f[j] {
					de[j] = -de[j]
				}
			}
			sum += l
			counted = append(counted, k)
			ds[k] = de
		}
		if len(counted) == 0 {
			continue
		}
		w := 1 / float64(len(counted)*len(groups))
		total += sum / float64(len(counted))
		for _, k := range counted {
			for j, q := range kept {
				dp[(q.i*c+k)*hw+q.h] += w * ds[k][j]
			}
		}
	}
	total /= float64(len(groups))
	if r.probs {
		return total, dp
	}
	dx := make([]float64, len(x))
	for i := 0; i < n; i++ {
		for h := 0; h < hw; h++ {
			var dot float64
			for k := 0; k < c; k++ {
				o := (i*c+k)*hw + h
				dot += p[o] * dp[o]
			}
			for k := 0; k < c; k++ {
				o := (i*c+k)*hw + h
				dx[o] = p[o] * (dp[o] - dot)
			}
		}
	}
	return total, dx
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// lovaszHingeRef is the Lovász hinge of x [n, hw] with labels 0/1 and its
// gradient by the published formula.
func lovaszHingeRef(x []float64, tg []int32, n, hw int, perImage bool, ignore *int) (float64, []float64) {
	groups := 1
	if perImage {
		groups = n
	}
	ln := n * hw / max(groups, 1)
	dx := make([]float64, len(x))
	var total float64
	for g := 0; g < groups; g++ {
		var e []float64
		var f []bool
		var at []int
		for q := 0; q < ln; q++ {
			P := g*ln + q
			if ignore != nil && int(tg[P]) == *ignore {
				continue
			}
			s := 2*float64(tg[P]) - 1
			e = append(e, 1-x[P]*s)
			f = append(f, tg[P] == 1)
			at = append(at, P)
		}
		r := make([]float64, len(e))
		for i, v := range e {
			r[i] = math.Max(v, 0)
		}
		_, de := lovaszFlat(e, f) // the order of e, the values of relu(e)
		var l float64
		for i := range e {
			l += r[i] * de[i]
			if e[i] > 0 {
				dx[at[i]] = -(2*float64(tg[at[i]]) - 1) * de[i] / float64(groups)
			}
		}
		total += l
	}
	if groups > 0 {
		total /= float64(groups)
	}
	return total, dx
}

func runLovaszSoftmax(t *testing.T, x []float64, tg []int32, shape []int, opt losses.LovaszSoftmaxLossOptions) (float64, []float64) {
	t.Helper()
	loss, grad := make([]float64, 1), make([]float64, len(x))
	tshape := append([]int{shape[0]}, shape[2:]...)
	require.NoError(t, losses.LovaszSoftmaxLoss(host.Default(), losses.LovaszSoftmaxArgs{
		Input: losses.HostTensor(x, shape...), Target: losses.HostTensor(tg, tshape...),
		Loss: losses.HostTensor(loss), GradInput: losses.HostTensor(grad, shape...)}, opt))
	return loss[0], grad
}

func runLovaszHinge(t *testing.T, x []float64, tg []int32, shape []int, opt losses.LovaszHingeLossOptions) (float64, []float64) {
	t.Helper()
	loss, grad := make([]float64, 1), make([]float64, len(x))
	require.NoError(t, losses.LovaszHingeLoss(host.Default(), losses.LovaszHingeArgs{
		Input: losses.HostTensor(x, shape...), Target: losses.HostTensor(tg, shape...),
		Loss: losses.HostTensor(loss), GradInput: losses.HostTensor(grad, shape...)}, opt))
	return loss[0], grad
}

func randLabels(r *rand.Rand, n, c int) []int32 {
	t := make([]int32, n)
	for i := range t {
		t[i] = int32(r.IntN(c))
	}
	return t
}

// TestLovaszSoftmaxBruteForce holds the loss on tiny inputs to the
// Lovász extension computed from its definition, and the gradient to the
// published formula's, for every option.
func TestLovaszSoftmaxBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, sh := range [][]int{{1, 3, 5}, {2, 2, 3}, {2, 1, 3}, {3, 4, 2}, {1, 2, 7}} {
		n, c, hw := sh[0], sh[1], sh[2]
		for _, perImage := range []bool{false, true} {
			for _, all := range []bool{false, true} {
				for _, probs := range []bool{false, true} {
					for _, ign := range []*int{nil, losses.Index(1)} {
						x := randLogits(r, n*c*hw, 2)
						if probs {
							x = uniform(r, len(x))
						}
						tg := randLabels(r, n*hw, c)
						if ign != nil {
							tg[0] = 1
						}
						opt := losses.LovaszSoftmaxLossOptions{PerImage: perImage, IgnoreIndex: ign}
						ref := lovaszSoftmaxRef{perImage: perImage, all: all, probs: probs, ignore: ign}
						if all {
							opt.Classes = "all"
						}
						if probs {
							opt.FromLogits = new(bool)
						}
						if ign != nil && c < 2 {
							tg[0] = 0
						}
						got, grad := runLovaszSoftmax(t, x, tg, sh, opt)
						want, _ := ref.loss(x, tg, n, c, hw, true)
						wantF, wantGrad := ref.loss(x, tg, n, c, hw, false)
						require.InDelta(t, want, got, 1e-12, "%v %+v brute", sh, ref)
						require.InDelta(t, wantF, got, 1e-12, "%v %+v formula", sh, ref)
						for i := range grad {
							require.InDelta(t, wantGrad[i], grad[i], 1e-12, "%v %+v grad[%d]", sh, ref, i)
						}
					}
				}
			}
		}
	}
}

func uniform(r *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = r.Float64()
	}
	return v
}

// TestLovaszSoftmaxClosedForm: one image of two pixels, two classes,
// probabilities given: the losses by hand.
func TestLovaszSoftmaxClosedForm(t *testing.T) {
	// p(class 1) = 0.8 and 0.3 at pixels 0 and 1; labels 1 and 0.
	x := []float64{0.2, 0.7, 0.8, 0.3} // [1, 2, 2]: class 0 then class 1
	tg := []int32{1, 0}
	no := new(bool)
	got, grad := runLovaszSoftmax(t, x, tg, []int{1, 2, 2}, losses.LovaszSoftmaxLossOptions{FromLogits: no})
	// class 0: fg = {1}, errors |0-0.2| = 0.2, |1-0.7| = 0.3: order 1, 0.
	//   J after pixel 1 (fg): 1 - 0/1 = 1 ... gts 1: I = 1-1 = 0, U = 1+0: J = 1;
	//   after pixel 0 (bg): I = 0, U = 2: J = 1. loss = 0.3*1 + 0.2*0 = 0.3.
	// class 1: fg = {0}, errors 0.2 (pixel 0), 0.3 (pixel 1): order 1, 0.
	//   after pixel 1 (bg): I = 1, U = 2: J = 0.5; after pixel 0 (fg): J = 1.
	//   loss = 0.3*0.5 + 0.2*0.5 = 0.25.
	require.InDelta(t, (0.3+0.25)/2, got, 1e-15)
	// d/dp: class 0: pixel 1 fg: -1*1/2, pixel 0 bg: +0/2; class 1: pixel 1
	// bg: +0.5/2, pixel 0 fg: -0.5/2.
	want := []float64{0, -0.5, -0.25, 0.25}
	for i := range want {
		require.InDelta(t, want[i], grad[i], 1e-15, "grad[%d]", i)
	}
}

func TestLovaszSoftmaxFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		sh  []int
		opt losses.LovaszSoftmaxLossOptions
	}{
		{[]int{2, 3, 4, 3}, losses.LovaszSoftmaxLossOptions{}},
		{[]int{2, 3, 4, 3}, losses.LovaszSoftmaxLossOptions{PerImage: true, Classes: "all"}},
		{[]int{3, 4, 5}, losses.LovaszSoftmaxLossOptions{IgnoreIndex: losses.Index(2), PerImage: true}},
		{[]int{1, 5, 2600}, losses.LovaszSoftmaxLossOptions{}}, // merges of sorted runs
	} {
		n, c := tc.sh[0], tc.sh[1]
		hw := prodInts(tc.sh[2:])
		x := randLogits(r, n*c*hw, 3)
		tg := randLabels(r, n*hw, c)
		_, grad := runLovaszSoftmax(t, x, tg, tc.sh, tc.opt)
		f := func(v []float64) float64 {
			l, _ := runLovaszSoftmax(t, v, tg, tc.sh, tc.opt)
			return l
		}
		if len(x) > 200 {
			// a sample of the elements
			idx := r.Perm(len(x))[:40]
			for _, i := range idx {
				xi := []float64{x[i]}
				g := []float64{grad[i]}
				fdCheck(t, xi, g, func(v []float64) float64 {
					old := x[i]
					x[i] = v[0]
					l := f(x)
					x[i] = old
					return l
				})
			}
			continue
		}
		fdCheck(t, x, grad, f)
	}
}

func prodInts(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

func TestLovaszHingeAgainstFormula(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, sh := range [][]int{{1, 5}, {3, 4}, {2, 1, 7}, {4, 3000}} {
		n := sh[0]
		hw := prodInts(sh[1:])
		for _, perImage := range []bool{false, true} {
			for _, ign := range []*int{nil, losses.Index(-1)} {
				x := randLogits(r, n*hw, 2)
				tg := randLabels(r, n*hw, 2)
				if ign != nil {
					for i := 0; i < len(tg); i += 3 {
						tg[i] = -1
					}
				}
				opt := losses.LovaszHingeLossOptions{PerImage: perImage, IgnoreIndex: ign}
				got, grad := runLovaszHinge(t, x, tg, sh, opt)
				want, wantGrad := lovaszHingeRef(x, tg, n, hw, perImage, ign)
				require.InDelta(t, want, got, 1e-12*(1+math.Abs(want)), "%v %+v", sh, opt)
				for i := range grad {
					require.InDelta(t, wantGrad[i], grad[i], 1e-12, "%v %+v grad[%d]", sh, opt, i)
				}
				if len(x) <= 40 {
					fdCheck(t, x, grad, func(v []float64) float64 {
						l, _ := runLovaszHinge(t, v, tg, sh, opt)
						return l
					})
				}
			}
		}
	}
}

// TestLovaszHingeClosedForm: two pixels by hand.
func TestLovaszHingeClosedForm(t *testing.T) {
	// x = (2, 0.5), y = (1, 0): errors 1-2 = -1, 1+0.5 = 1.5; order 1, 0.
	// after pixel 1 (bg): gts 1, I = 1, U = 2: J = 0.5; after pixel 0: J = 1.
	// loss = relu(1.5)*0.5 + relu(-1)*0.5 = 0.75; d/dx1 = +0.5, d/dx0 = 0.
	got, grad := runLovaszHinge(t, []float64{2, 0.5}, []int32{1, 0}, []int{1, 2}, losses.LovaszHingeLossOptions{})
	require.InDelta(t, 0.75, got, 1e-15)
	require.Equal(t, []float64{0, 0.5}, grad)
}

// TestLovaszTies: equal errors. The loss does not depend on their order;
// the gradient follows the rule (pixel index ascending among equal
// errors, as a stable sort), and two calls are bitwise identical, in
// float32 and float64.
func TestLovaszTies(t *testing.T) {
	// probabilities with many equal values, labels mixed
	n, c, hw := 2, 3, 3000
	x := make([]float64, n*c*hw)
	r := rand.New(rand.NewPCG(7, 8))
	for i := range x {
		x[i] = float64(r.IntN(4)) * 0.25
	}
	tg := randLabels(r, n*hw, c)
	no := new(bool)
	for _, perImage := range []bool{false, true} {
		opt := losses.LovaszSoftmaxLossOptions{FromLogits: no, PerImage: perImage}
		got, grad := runLovaszSoftmax(t, x, tg, []int{n, c, hw}, opt)
		want, wantGrad := lovaszSoftmaxRef{perImage: perImage, probs: true}.loss(x, tg, n, c, hw, false)
		require.InDelta(t, want, got, 1e-12)
		for i := range grad {
			require.InDelta(t, wantGrad[i], grad[i], 1e-12, "grad[%d]", i)
		}
		_, grad2 := runLovaszSoftmax(t, x, tg, []int{n, c, hw}, opt)
		require.Equal(t, grad, grad2)
		// float32, twice: bitwise the same
		x32 := make([]float32, len(x))
		for i, v := range x {
			x32[i] = float32(v)
		}
		var prev []float32
		for range 2 {
			l, g := make([]float32, 1), make([]float32, len(x))
			require.NoError(t, losses.LovaszSoftmaxLoss(host.Default(), losses.LovaszSoftmaxArgs{
				Input: losses.HostTensor(x32, n, c, hw), Target: losses.HostTensor(tg, n, hw),
				Loss: losses.HostTensor(l), GradInput: losses.HostTensor(g, n, c, hw)}, opt))
			require.InDelta(t, want, float64(l[0]), 1e-6)
			g = append(g, l[0])
			if prev != nil {
				require.Equal(t, prev, g)
			}
			prev = g
		}
	}
	// the hinge with logits on a grid of a few values
	xh := make([]float64, n*hw)
	for i := range xh {
		xh[i] = float64(r.IntN(5)-2) * 0.5
	}
	th := randLabels(r, n*hw, 2)
	got, grad := runLovaszHinge(t, xh, th, []int{n, hw}, losses.LovaszHingeLossOptions{})
	want, wantGrad := lovaszHingeRef(xh, th, n, hw, false, nil)
	require.InDelta(t, want, got, 1e-12)
	for i := range grad {
		require.InDelta(t, wantGrad[i], grad[i], 1e-12, "grad[%d]", i)
	}
}

// TestLovaszTieOrderDoesNotChangeLoss: moving pixels with equal errors
// (and different labels) changes their order in the sort, and no loss
// value (the Lovász extension is symmetric in equal errors).
func TestLovaszTieOrderDoesNotChangeLoss(t *testing.T) {
	// hinge errors 1 - x(2y-1): 0.5 for (0.5, 1) and for (-0.5, 0)
	x := []float64{0.5, -0.5, -0.5, 0.5, 0.25, -2}
	y := []int32{1, 0, 0, 1, 1, 0}
	r := rand.New(rand.NewPCG(9, 10))
	l0, _ := runLovaszHinge(t, x, y, []int{1, 6}, losses.LovaszHingeLossOptions{})
	for range 10 {
		p := r.Perm(6)
		xp, yp := make([]float64, 6), make([]int32, 6)
		for i, j := range p {
			xp[i], yp[i] = x[j], y[j]
		}
		l, _ := runLovaszHinge(t, xp, yp, []int{1, 6}, losses.LovaszHingeLossOptions{})
		require.InDelta(t, l0, l, 1e-15)
	}
}

// TestLovaszEmpty: the empty cases, SMP's 0.
func TestLovaszEmpty(t *testing.T) {
	// every pixel ignored
	x := []float64{1, 2, 3, 4, 5, 6}
	tg := []int32{-1, -1, -1}
	for _, perImage := range []bool{false, true} {
		l, g := runLovaszSoftmax(t, x, tg, []int{1, 2, 3}, losses.LovaszSoftmaxLossOptions{IgnoreIndex: losses.Index(-1), PerImage: perImage})
		require.Equal(t, 0.0, l)
		require.Equal(t, make([]float64, 6), g)
		l, g = runLovaszHinge(t, x[:3], tg, []int{1, 3}, losses.LovaszHingeLossOptions{IgnoreIndex: losses.Index(-1), PerImage: perImage})
		require.Equal(t, 0.0, l)
		require.Equal(t, make([]float64, 3), g)
	}
	// per image: an all-ignored image counts as 0 in the mean
	x2 := []float64{0.9, 0.1, 0.2, 0.8} // [2, 2, 1] probabilities
	no := new(bool)
	l, _ := runLovaszSoftmax(t, x2, []int32{0, -1}, []int{2, 2, 1}, losses.LovaszSoftmaxLossOptions{IgnoreIndex: losses.Index(-1), PerImage: true, FromLogits: no})
	// image 0: class 0 present, error 0.1, loss 0.1: mean over images (0.1 + 0) / 2
	require.InDelta(t, 0.05, l, 1e-15)
	// empty batch and empty spatial size
	for _, sh := range [][]int{{0, 3, 4}, {2, 3, 0}, {2, 0, 2}} {
		n, hw := sh[0], prodInts(sh[2:])
		l, _ := runLovaszSoftmax(t, make([]float64, prodInts(sh)), make([]int32, n*hw), sh, losses.LovaszSoftmaxLossOptions{PerImage: true})
		require.Equal(t, 0.0, l)
	}
	l, _ = runLovaszHinge(t, nil, nil, []int{0, 5}, losses.LovaszHingeLossOptions{})
	require.Equal(t, 0.0, l)
}

// TestLovaszAbsentAndOneClass: with "present" an absent class adds
// nothing; with "all" it adds its largest probability; C = 1 softmax
// gives p = 1 everywhere.
func TestLovaszAbsentAndOneClass(t *testing.T) {
	x := []float64{0.6, 0.9, 0.3, 0.1, 0.1, 0.6} // [1, 3, 2] probabilities; class 2 absent
	tg := []int32{0, 1}
	no := new(bool)
	lp, _ := runLovaszSoftmax(t, x, tg, []int{1, 3, 2}, losses.LovaszSoftmaxLossOptions{FromLogits: no})
	la, _ := runLovaszSoftmax(t, x, tg, []int{1, 3, 2}, losses.LovaszSoftmaxLossOptions{FromLogits: no, Classes: "all"})
	ref := lovaszSoftmaxRef{probs: true}
	want, _ := ref.loss(x, tg, 1, 3, 2, true)
	require.InDelta(t, want, lp, 1e-15)
	// all: (sum of the present classes' losses + max p_2) / 3
	require.InDelta(t, (2*want+0.6)/3, la, 1e-15)
	l, g := runLovaszSoftmax(t, []float64{3, -1, 2}, []int32{0, 0, 0}, []int{1, 1, 3}, losses.LovaszSoftmaxLossOptions{})
	require.Equal(t, 0.0, l)
	require.Equal(t, []float64{0, 0, 0}, g)
}

func TestLovaszErrors(t *testing.T) {
	dev := host.Default()
	x := make([]float32, 12)
	loss := make([]float32, 1)
	for _, tc := range []struct {
		what string
		err  error
		arg  string
	}{
		{"label out of range", losses.LovaszSoftmaxLoss(dev, losses.LovaszSoftmaxArgs{Input: losses.HostTensor(x, 1, 3, 4),
			Target: losses.HostTensor([]int32{0, 1, 3, 0}, 1, 4), Loss: losses.HostTensor(loss)}, losses.LovaszSoftmaxLossOptions{}), "target"},
		{"target shape", losses.LovaszSoftmaxLoss(dev, losses.LovaszSoftmaxArgs{Input: losses.HostTensor(x, 1, 3, 4),
			Target: losses.HostTensor([]int32{0, 1, 2}, 1, 3), Loss: losses.HostTensor(loss)}, losses.LovaszSoftmaxLossOptions{}), "target"},
		{"classes", losses.LovaszSoftmaxLoss(dev, losses.LovaszSoftmaxArgs{Input: losses.HostTensor(x, 1, 3, 4),
			Target: losses.HostTensor([]int32{0, 1, 2, 0}, 1, 4), Loss: losses.HostTensor(loss)}, losses.LovaszSoftmaxLossOptions{Classes: "some"}), "classes"},
		{"rank", losses.LovaszSoftmaxLoss(dev, losses.LovaszSoftmaxArgs{Input: losses.HostTensor(x, 12),
			Target: losses.HostTensor([]int32{0}, 1), Loss: losses.HostTensor(loss)}, losses.LovaszSoftmaxLossOptions{}), "input"},
		{"grad aliases input", losses.LovaszSoftmaxLoss(dev, losses.LovaszSoftmaxArgs{Input: losses.HostTensor(x, 1, 3, 4),
			Target: losses.HostTensor([]int32{0, 1, 2, 0}, 1, 4), Loss: losses.HostTensor(loss), GradInput: losses.HostTensor(x, 1, 3, 4)},
			losses.LovaszSoftmaxLossOptions{}), "grad_input"},
		{"hinge label 2", losses.LovaszHingeLoss(dev, losses.LovaszHingeArgs{Input: losses.HostTensor(x, 3, 4),
			Target: losses.HostTensor(make([]int32, 11), 3, 4), Loss: losses.HostTensor(loss)}, losses.LovaszHingeLossOptions{}), "target"},
		{"hinge target shape", losses.LovaszHingeLoss(dev, losses.LovaszHingeArgs{Input: losses.HostTensor(x, 3, 4),
			Target: losses.HostTensor(make([]int32, 12), 4, 3), Loss: losses.HostTensor(loss)}, losses.LovaszHingeLossOptions{}), "target"},
		{"hinge ignore_index range", losses.LovaszHingeLoss(dev, losses.LovaszHingeArgs{Input: losses.HostTensor(x, 3, 4),
			Target: losses.HostTensor(make([]int32, 12), 3, 4), Loss: losses.HostTensor(loss)},
			losses.LovaszHingeLossOptions{IgnoreIndex: losses.Index(1 << 40)}), "ignore_index"},
		{"no loss", losses.LovaszHingeLoss(dev, losses.LovaszHingeArgs{Input: losses.HostTensor(x, 3, 4),
			Target: losses.HostTensor(make([]int32, 12), 3, 4)}, losses.LovaszHingeLossOptions{}), "loss"},
	} {
		var ae *losses.ArgError
		require.Truef(t, errors.As(tc.err, &ae), "%s: %v", tc.what, tc.err)
		require.Equal(t, tc.arg, ae.Arg, tc.what)
	}
	tg := []int32{0, 1, 2, 0}
	tg[2] = 7
	// the hinge target [N, 1, *] beside input [N, *], and SkipTargetCheck
	l := make([]float32, 1)
	require.NoError(t, losses.LovaszHingeLoss(dev, losses.LovaszHingeArgs{Input: losses.HostTensor(x, 3, 4),
		Target: losses.HostTensor(make([]int32, 12), 3, 1, 4), Loss: losses.HostTensor(l)}, losses.LovaszHingeLossOptions{}))
	require.NoError(t, losses.LovaszSoftmaxLoss(dev, losses.LovaszSoftmaxArgs{Input: losses.HostTensor(x, 1, 3, 4),
		Target: losses.HostTensor(tg, 1, 4), Loss: losses.HostTensor(l)}, losses.LovaszSoftmaxLossOptions{SkipTargetCheck: true}))
}

// TestLovaszSoftmaxConfidentFloat32: confident, correct pixels have label
// errors 1 − p_t near 1e-8, which float32 cannot form as 1 − p_t (it
// rounds to 0 or to multiples of 6e-8); formed from the other classes'
// exponentials they keep their digits, and the float32 loss and gradient
// match the float64 ones.
func TestLovaszSoftmaxConfidentFloat32(t *testing.T) {
	const n, c, hw = 1, 3, 6
	x64 := make([]float64, n*c*hw)
	tg := []int32{0, 1, 2, 0, 1, 2}
	for h := range hw {
		for k := range c {
			x64[k*hw+h] = float64(h) * 0.1
			if int32(k) == tg[h] {
				x64[k*hw+h] += 18 + float64(h)*0.3
			}
		}
	}
	want, wantGrad := runLovaszSoftmax(t, x64, tg, []int{n, c, hw}, losses.LovaszSoftmaxLossOptions{})
	x32 := make([]float32, len(x64))
	for i, v := range x64 {
		x32[i] = float32(v)
	}
	l, g := make([]float32, 1), make([]float32, len(x32))
	require.NoError(t, losses.LovaszSoftmaxLoss(host.Default(), losses.LovaszSoftmaxArgs{
		Input: losses.HostTensor(x32, n, c, hw), Target: losses.HostTensor(tg, n, hw),
		Loss: losses.HostTensor(l), GradInput: losses.HostTensor(g, n, c, hw)}, losses.LovaszSoftmaxLossOptions{}))
	require.Greater(t, want, 0.0)
	require.Less(t, want, 1e-6)
	require.InEpsilon(t, want, float64(l[0]), 1e-5)
	for i := range g {
		require.InDelta(t, wantGrad[i], float64(g[i]), 1e-5*math.Abs(wantGrad[i])+1e-30, "grad[%d]", i)
	}
}
