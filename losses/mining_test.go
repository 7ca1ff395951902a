package losses_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/losses"
)

// runTriplet runs batch_triplet_loss on the host in float64 and returns
// the loss and the gradient.
func runTriplet(t *testing.T, x []float64, lab []int32, d int, o losses.BatchTripletLossOptions) (float64, []float64) {
	t.Helper()
	b := len(lab)
	loss, grad := make([]float64, 1), make([]float64, len(x))
	err := losses.BatchTripletLoss(hostDev, losses.MiningArgs{
		Embeddings: losses.HostTensor(x, b, d), Labels: losses.HostTensor(lab, b),
		Loss: losses.HostTensor(loss), GradEmbeddings: losses.HostTensor(grad, b, d),
	}, o)
	require.NoError(t, err)
	return loss[0], grad
}

// tripletRef is batch_triplet_loss written from its definition, triplet by
// triplet, in float64: the reference of the brute-force tests.
func tripletRef(x []float64, lab []int32, d int, o losses.BatchTripletLossOptions) float64 {
	b := len(lab)
	margin := 1.0
	if o.Margin != nil {
		margin = *o.Margin
	}
	row := func(i int) []float64 {
		v := append([]float64(nil), x[i*d:(i+1)*d]...)
		if o.Distance == "cosine" {
			n := 0.0
			for _, e := range v {
				n += e * e
			}
			n = max(math.Sqrt(n), 1e-12)
			for k := range v {
				v[k] /= n
			}
		}
		return v
	}
	dist := func(i, j int) float64 {
		u, v := row(i), row(j)
		s := 0.0
		for k := range u {
			if o.Distance == "cosine" {
				s += u[k] * v[k]
			} else {
				s += (u[k] - v[k]) * (u[k] - v[k])
			}
		}
		switch o.Distance {
		case "cosine":
			return 1 - s
		case "squared_l2":
			return s
		}
		return math.Sqrt(s)
	}
	term := func(dap, dan float64) float64 {
		if o.Soft {
			return math.Log1p(math.Exp(dap - dan))
		}
		return max(0, margin+dap-dan)
	}
	sum, cnt := 0.0, 0.0
	for a := range b {
		var pos, neg []int
		for j := range b {
			if j != a && lab[j] == lab[a] {
				pos = append(pos, j)
			} else if lab[j] != lab[a] {
				neg = append(neg, j)
			}
		}
		switch o.Mining {
		case "", "hard":
			if len(pos) == 0 || len(neg) == 0 {
				continue
			}
			far, near := math.Inf(-1), math.Inf(1)
			for _, p := range pos {
				far = max(far, dist(a, p))
			}
			for _, n := range neg {
				near = min(near, dist(a, n))
			}
			sum += term(far, near)
			cnt++
		case "semi_hard":
			for _, p := range pos {
				dap := dist(a, p)
				outside, inside := math.Inf(1), math.Inf(-1)
				for _, n := range neg {
					dan := dist(a, n)
					if dan > dap {
						outside = min(outside, dan)
					}
					inside = max(inside, dan)
				}
				dn := outside
				if math.IsInf(dn, 1) {
					dn = inside
				}
				if math.IsInf(dn, -1) {
					dn = 0
				}
				sum += term(dap, dn)
				cnt++
			}
		case "all":
			for _, p := range pos {
				for _, n := range neg {
					l := term(dist(a, p), dist(a, n))
					sum += l
					if o.Soft || l > 0 {
						cnt++
					}
				}
			}
		}
	}
	if cnt == 0 {
		if o.Mining == "semi_hard" {
			return math.NaN()
		}
		return 0
	}
	return sum / cnt
}

// tripletOptions are the option sets the tests go through.
func tripletOptions() []losses.BatchTripletLossOptions {
	var os []losses.BatchTripletLossOptions
	for _, m := range []string{"hard", "semi_hard", "all"} {
		for _, dist := range []string{"l2", "squared_l2", "cosine"} {
			for _, soft := range []bool{false, true} {
				margin := 0.7
				os = append(os, losses.BatchTripletLossOptions{Mining: m, Distance: dist, Soft: soft, Margin: &margin})
			}
		}
	}
	return os
}

// Four points on a line, labels 0 0 1 1, margin 1.5: the distances are
// |x_i − x_j|, each term worked by hand.
func TestBatchTripletLossClosedForm(t *testing.T) {
	x := []float64{0, 1, 3, 7}
	lab := []int32{0, 0, 1, 1}
	m := 1.5
	sp := func(v float64) float64 { return math.Log1p(math.Exp(v)) }
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	for _, c := range []struct {
		name string
		o    losses.BatchTripletLossOptions
		loss float64
		grad []float64 // nil: not worked by hand
	}{
		// Anchors 1 (1.5 + 1 − 2) and 2 (1.5 + 4 − 2) are active, 0 and 3 not.
		{"hard", losses.BatchTripletLossOptions{Margin: &m}, (0.5 + 3.5) / 4, []float64{-0.25, 0.75, -0.75, 0.25}},
		// (1, 0) with n = 2 (nearest beyond 1): 0.5; (2, 3): no negative
		// beyond 4, the farthest is 0 at 3: 2.5; (0, 1) and (3, 2): 0.
		{"semi_hard", losses.BatchTripletLossOptions{Mining: "semi_hard", Margin: &m}, (0.5 + 2.5) / 4,
			[]float64{0.25 * (-1 + 1), 0.25 * (1 + 1), 0.25 * (-1 - 1 - 1), 0.25 * 1}},
		// Active: (1, 0, 2) 0.5, (2, 3, 0) 2.5, (2, 3, 1) 3.5.
		{"all", losses.BatchTripletLossOptions{Mining: "all", Margin: &m}, 6.5 / 3, []float64{
			(-1 + 1) / 3.0, (2 + 1) / 3.0, (-1 - 1 - 1 - 1 - 1) / 3.0, 2 / 3.0}},
		{"hard-squared", losses.BatchTripletLossOptions{Margin: &m, Distance: "squared_l2"}, 13.5 / 4,
			// anchor 2: 1.5 + (x3−x2)² − (x2−x1)²
			[]float64{0, 2 * 2 / 4.0, (-2*4 - 2*2) / 4.0, 2 * 4 / 4.0}},
		{"hard-soft", losses.BatchTripletLossOptions{Soft: true}, (sp(-2) + sp(-1) + sp(2) + sp(-2)) / 4, []float64{
			-sig(-1) / 4, (sig(-2) + 2*sig(-1) + sig(2) + sig(-2)) / 4,
			(-2*sig(-2) - sig(-1) - 2*sig(2)) / 4, sig(2) / 4}},
	} {
		t.Run(c.name, func(t *testing.T) {
			loss, grad := runTriplet(t, append([]float64(nil), x...), lab, 1, c.o)
			require.InDelta(t, c.loss, loss, 1e-12)
			require.InDelta(t, c.loss, tripletRef(x, lab, 1, c.o), 1e-12)
			if c.grad != nil {
				require.InDeltaSlice(t, c.grad, grad, 1e-12)
			}
		})
	}
}

// mineRand returns b rows of d normal values and labels in [0, classes).
func mineRand(r *rand.Rand, b, d, classes int) ([]float64, []int32) {
	x := make([]float64, b*d)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	lab := make([]int32, b)
	for i := range lab {
		lab[i] = int32(r.IntN(classes))
	}
	return x, lab
}

func TestBatchTripletLossBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, sh := range []struct{ b, d, classes int }{{2, 3, 1}, {7, 5, 3}, {13, 1, 2}, {23, 9, 23}, {40, 4, 5}} {
		x, lab := mineRand(r, sh.b, sh.d, sh.classes)
		for _, o := range tripletOptions() {
			got, _ := runTriplet(t, x, lab, sh.d, o)
			want := tripletRef(x, lab, sh.d, o)
			if math.IsNaN(want) {
				require.True(t, math.IsNaN(got), "%+v b=%d: %v", o, sh.b, got)
				continue
			}
			require.InDelta(t, want, got, 1e-12*(1+math.Abs(want)), "%+v b=%d", o, sh.b)
		}
	}
}

func TestBatchTripletLossFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	b, d := 9, 4
	x, lab := mineRand(r, b, d, 3)
	for _, o := range tripletOptions() {
		_, grad := runTriplet(t, x, lab, d, o)
		fdCheck(t, x, grad, func(x []float64) float64 {
			l, _ := runTriplet(t, x, lab, d, o)
			return l
		})
	}
}

// Duplicate and zero rows, one class only, every label distinct: finite
// results, the skips and empty means of the documentation.
func TestBatchTripletLossEdges(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	x, lab := mineRand(r, 6, 3, 2)
	copy(x[3:6], x[0:3]) // row 1 = row 0 (a zero distance)
	for k := 6; k < 9; k++ {
		x[k] = 0 // row 2 zero
	}
	lab[0], lab[1] = 0, 0
	for _, o := range tripletOptions() {
		loss, grad := runTriplet(t, x, lab, 3, o)
		require.False(t, math.IsNaN(loss) || math.IsInf(loss, 0), "%+v", o)
		for _, g := range grad {
			require.False(t, math.IsNaN(g) || math.IsInf(g, 0), "%+v", o)
		}
		require.InDelta(t, tripletRef(x, lab, 3, o), loss, 1e-12, "%+v", o)
	}
	one := []int32{4, 4, 4, 4, 4, 4}
	distinct := []int32{0, 1, 2, 3, 4, 5}
	for _, labs := range [][]int32{one, distinct} {
		for _, m := range []string{"hard", "all", "semi_hard"} {
			loss, grad := runTriplet(t, x, labs, 3, losses.BatchTripletLossOptions{Mining: m})
			want := tripletRef(x, labs, 3, losses.BatchTripletLossOptions{Mining: m})
			if m == "semi_hard" && labs[1] == 4 {
				// one class: every pair positive, no negative: d_an = 0
				require.InDelta(t, want, loss, 1e-12)
				require.Greater(t, loss, 1.0)
				continue
			}
			if math.IsNaN(want) {
				require.True(t, math.IsNaN(loss), m) // semi_hard without a positive pair: 0/0
			} else {
				require.Equal(t, 0.0, loss, m)
				require.Equal(t, make([]float64, len(x)), grad, m)
			}
		}
	}
	// An empty batch.
	for _, m := range []string{"hard", "all", "semi_hard"} {
		loss := []float64{7}
		err := losses.BatchTripletLoss(hostDev, losses.MiningArgs{Embeddings: losses.HostTensor([]float64{}, 0, 4),
			Labels: losses.HostTensor([]int32{}, 0), Loss: losses.HostTensor(loss)}, losses.BatchTripletLossOptions{Mining: m})
		require.NoError(t, err)
		if m == "semi_hard" {
			require.True(t, math.IsNaN(loss[0]))
		} else {
			require.Equal(t, 0.0, loss[0])
		}
	}
}

// Ties pick the lowest index: with two equally far positives, only the
// first gets the gradient.
func TestBatchTripletLossTies(t *testing.T) {
	x := []float64{0, 2, -2, 0.5}
	lab := []int32{0, 0, 0, 1}
	_, grad := runTriplet(t, x, lab, 1, losses.BatchTripletLossOptions{})
	// Anchor 0: positives 1 and 2 both at 2, negative 3 at 0.5: 1 + 2 − 0.5.
	// Anchor 1: positive 2 (4), negative 3 (1.5); anchor 2: positive 1 (4),
	// negative 3 (2.5); anchor 3: no positive.
	// Anchor 0 takes positive 1 (index 2 would push row 0 the other way).
	want := []float64{0, 2 / 3.0, -1 / 3.0, -1 / 3.0}
	require.InDeltaSlice(t, want, grad, 1e-12)
}

func TestBatchTripletLossFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	b, d := 33, 17
	x, lab := mineRand(r, b, d, 4)
	x32 := make([]float32, len(x))
	for i, v := range x {
		x32[i] = float32(v)
		x[i] = float64(x32[i])
	}
	for _, o := range tripletOptions() {
		want, wg := runTriplet(t, x, lab, d, o)
		loss, grad := make([]float32, 1), make([]float32, len(x))
		require.NoError(t, losses.BatchTripletLoss(hostDev, losses.MiningArgs{Embeddings: losses.HostTensor(x32, b, d),
			Labels: losses.HostTensor(lab, b), Loss: losses.HostTensor(loss), GradEmbeddings: losses.HostTensor(grad, b, d)}, o))
		require.InDelta(t, want, float64(loss[0]), 1e-5*(1+math.Abs(want)), "%+v", o)
		for i := range grad {
			require.InDelta(t, wg[i], float64(grad[i]), 1e-5, "%+v %d", o, i)
		}
	}
}

func TestBatchTripletLossErrors(t *testing.T) {
	x := make([]float64, 12)
	lab := []int32{0, 1, 0}
	nan := math.NaN()
	for _, c := range []struct {
		arg string
		a   losses.MiningArgs
		o   losses.BatchTripletLossOptions
	}{
		{"labels", losses.MiningArgs{Embeddings: losses.HostTensor(x, 3, 4), Labels: losses.HostTensor(lab[:2], 2)}, losses.BatchTripletLossOptions{}},
		{"labels", losses.MiningArgs{Embeddings: losses.HostTensor(x, 3, 4)}, losses.BatchTripletLossOptions{}},
		{"embeddings", losses.MiningArgs{Embeddings: losses.HostTensor(x, 12), Labels: losses.HostTensor(lab, 3)}, losses.BatchTripletLossOptions{}},
		{"margin", losses.MiningArgs{Embeddings: losses.HostTensor(x, 3, 4), Labels: losses.HostTensor(lab, 3)}, losses.BatchTripletLossOptions{Margin: &nan}},
		{"mining", losses.MiningArgs{Embeddings: losses.HostTensor(x, 3, 4), Labels: losses.HostTensor(lab, 3)}, losses.BatchTripletLossOptions{Mining: "hardest"}},
		{"distance", losses.MiningArgs{Embeddings: losses.HostTensor(x, 3, 4), Labels: losses.HostTensor(lab, 3)}, losses.BatchTripletLossOptions{Distance: "l1"}},
		{"grad_embeddings", losses.MiningArgs{Embeddings: losses.HostTensor(x, 3, 4), Labels: losses.HostTensor(lab, 3),
			GradEmbeddings: losses.HostTensor(x, 3, 4)}, losses.BatchTripletLossOptions{}},
		{"loss", losses.MiningArgs{Embeddings: losses.HostTensor(x, 3, 4), Labels: losses.HostTensor(lab, 3),
			Loss: losses.HostTensor(make([]float64, 3), 3)}, losses.BatchTripletLossOptions{}},
		{"labels", losses.MiningArgs{Embeddings: losses.HostTensor(x, 3, 4), Labels: losses.HostTensor([]float64{0, 1, 0}, 3),
			Loss: losses.HostTensor(make([]float64, 1))}, losses.BatchTripletLossOptions{}},
	} {
		err := losses.BatchTripletLoss(hostDev, c.a, c.o)
		var ae *losses.ArgError
		require.True(t, errors.As(err, &ae), "%s: %v", c.arg, err)
		require.Equal(t, c.arg, ae.Arg, "%v", err)
		require.Equal(t, "batch_triplet_loss", ae.Loss)
	}
}

func TestBatchTripletLossOptionsJSON(t *testing.T) {
	d, ok := losses.Lookup("batch_triplet_loss")
	require.True(t, ok)
	o, err := d.DecodeOptions([]byte(`{"mining": "semi_hard", "margin": 0.2, "soft": true, "distance": "cosine"}`))
	require.NoError(t, err)
	opt := o.(*losses.BatchTripletLossOptions)
	require.Equal(t, "semi_hard", opt.Mining)
	require.Equal(t, 0.2, *opt.Margin)
	require.True(t, opt.Soft)
	require.Equal(t, "cosine", opt.Distance)
}
