package losses_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/losses"
)

// The brute-force references below build the whole similarity matrix in
// float64 from the papers' formulas; they exist only in these tests.

// bfNormalize returns the rows of x [n, d] divided by max(‖row‖, eps).
func bfNormalize(x []float64, n, d int, eps float64) []float64 {
	y := make([]float64, n*d)
	for i := range n {
		s := 0.0
		for q := range d {
			s += x[i*d+q] * x[i*d+q]
		}
		nr := math.Max(math.Sqrt(s), eps)
		for q := range d {
			y[i*d+q] = x[i*d+q] / nr
		}
	}
	return y
}

func bfDot(a, b []float64, i, j, d int) float64 {
	s := 0.0
	for q := range d {
		s += a[i*d+q] * b[j*d+q]
	}
	return s
}

// bfLogSumExp is log Σ exp(v) over v, with the maximum taken out.
func bfLogSumExp(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = math.Max(m, x)
	}
	if math.IsInf(m, -1) {
		return m
	}
	s := 0.0
	for _, x := range v {
		s += math.Exp(x - m)
	}
	return m + math.Log(s)
}

// bfNTXentLabel is optax.ntxent: mean over positive pairs (i, j), j ≠ i of
// equal labels, of −log(e^{s_ij} / (e^{s_ij} + Σ_{k: other label} e^{s_ik})).
func bfNTXentLabel(x []float64, labels []int32, d int, tau, eps float64) float64 {
	b := len(labels)
	y := bfNormalize(x, b, d, eps)
	sum, pairs := 0.0, 0
	for i := range b {
		var neg []float64
		for k := range b {
			if labels[k] != labels[i] {
				neg = append(neg, bfDot(y, y, i, k, d)/tau)
			}
		}
		for j := range b {
			if j == i || labels[j] != labels[i] {
				continue
			}
			sij := bfDot(y, y, i, j, d) / tau
			sum += bfLogSumExp(append([]float64{sij}, neg...)) - sij
			pairs++
		}
	}
	return sum / float64(pairs)
}

// bfNTXentTwoView is SimCLR's NT-Xent over the 2N views [z1; z2].
func bfNTXentTwoView(z1, z2 []float64, n, d int, tau float64) float64 {
	y := bfNormalize(append(append([]float64{}, z1...), z2...), 2*n, d, 1e-12)
	sum := 0.0
	for i := range 2 * n {
		var row []float64
		for j := range 2 * n {
			if j != i {
				row = append(row, bfDot(y, y, i, j, d)/tau)
			}
		}
		sum += bfLogSumExp(row) - bfDot(y, y, i, (i+n)%(2*n), d)/tau
	}
	return sum / float64(2*n)
}

// bfInfoNCE is info-nce-pytorch's InfoNCE (negatives unpaired, or none).
func bfInfoNCE(q, p, nk []float64, b, m, d int, tau float64) float64 {
	qn, pn, nn := bfNormalize(q, b, d, 1e-12), bfNormalize(p, b, d, 1e-12), bfNormalize(nk, m, d, 1e-12)
	sum := 0.0
	for i := range b {
		var row []float64
		if nk == nil {
			for j := range b {
				row = append(row, bfDot(qn, pn, i, j, d)/tau)
			}
		} else {
			row = append(row, bfDot(qn, pn, i, i, d)/tau)
			for j := range m {
				row = append(row, bfDot(qn, nn, i, j, d)/tau)
			}
		}
		sum += bfLogSumExp(row) - bfDot(qn, pn, i, i, d)/tau
	}
	return sum / float64(b)
}

// bfSupCon is the SupContrast reference's SupConLoss over features
// [b, v, d] (normalised first), view-major contrast set.
func bfSupCon(f []float64, labels []int32, b, v, d int, tau, tb float64, one bool) float64 {
	k := b * v
	x := make([]float64, k*d)
	lab := make([]int32, k)
	for r := range k {
		copy(x[r*d:(r+1)*d], f[((r%b)*v+r/b)*d:])
		lab[r] = int32(r % b)
		if labels != nil {
			lab[r] = labels[r%b]
		}
	}
	y := bfNormalize(x, k, d, 1e-12)
	na := k
	if one {
		na = b
	}
	sum := 0.0
	for i := range na {
		var row []float64
		for j := range k {
			if j != i {
				row = append(row, bfDot(y, y, i, j, d)/tau)
			}
		}
		lse := bfLogSumExp(row)
		lp, np := 0.0, 0
		for j := range k {
			if j != i && lab[j] == lab[i] {
				lp += bfDot(y, y, i, j, d)/tau - lse
				np++
			}
		}
		sum += -(tau / tb) * lp / math.Max(float64(np), 1)
	}
	return sum / float64(na)
}

func conRand(r *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	return x
}

func conLabels(r *rand.Rand, b, classes int) []int32 {
	l := make([]int32, b)
	for i := range l {
		l[i] = int32(r.IntN(classes)) - 1 // negative labels too
	}
	return l
}

// runNTXentLabel returns the loss and gradient of the label form on the host in float64.
func runNTXentLabel(t testing.TB, x []float64, labels []int32, d int, o losses.NTXentOptions) (float64, []float64) {
	b := len(labels)
	loss, g := make([]float64, 1), make([]float64, b*d)
	err := losses.NTXent(hostDev, losses.NTXentArgs{Embeddings: losses.HostTensor(x, b, d), Labels: losses.HostTensor(labels),
		Loss: losses.HostTensor(loss), GradEmbeddings: losses.HostTensor(g, b, d)}, o)
	require.NoError(t, err)
	return loss[0], g
}

func runNTXentTwoView(t testing.TB, z1, z2 []float64, n, d int, o losses.NTXentOptions) (float64, []float64, []float64) {
	loss, g1, g2 := make([]float64, 1), make([]float64, n*d), make([]float64, n*d)
	err := losses.NTXent(hostDev, losses.NTXentArgs{Embeddings: losses.HostTensor(z1, n, d), Z2: losses.HostTensor(z2, n, d),
		Loss: losses.HostTensor(loss), GradEmbeddings: losses.HostTensor(g1, n, d), GradZ2: losses.HostTensor(g2, n, d)}, o)
	require.NoError(t, err)
	return loss[0], g1, g2
}

func runInfoNCE(t testing.TB, q, p, nk []float64, b, m, d int, o losses.InfoNCEOptions) (float64, []float64, []float64, []float64) {
	loss, gq, gp := make([]float64, 1), make([]float64, b*d), make([]float64, b*d)
	a := losses.InfoNCEArgs{Query: losses.HostTensor(q, b, d), PositiveKey: losses.HostTensor(p, b, d),
		Loss: losses.HostTensor(loss), GradQuery: losses.HostTensor(gq, b, d), GradPositiveKey: losses.HostTensor(gp, b, d)}
	var gn []float64
	if nk != nil {
		gn = make([]float64, m*d)
		a.NegativeKeys, a.GradNegativeKeys = losses.HostTensor(nk, m, d), losses.HostTensor(gn, m, d)
	}
	require.NoError(t, losses.InfoNCE(hostDev, a, o))
	return loss[0], gq, gp, gn
}

func runSupCon(t testing.TB, f []float64, labels []int32, b, v, d int, o losses.SupConOptions) (float64, []float64) {
	loss, g := make([]float64, 1), make([]float64, b*v*d)
	a := losses.SupConArgs{Features: losses.HostTensor(f, b, v, d), Loss: losses.HostTensor(loss),
		GradFeatures: losses.HostTensor(g, b, v, d)}
	if labels != nil {
		a.Labels = losses.HostTensor(labels)
	}
	require.NoError(t, losses.SupCon(hostDev, a, o))
	return loss[0], g
}

func conNear(t *testing.T, want, got float64, what string) {
	t.Helper()
	require.InDelta(t, want, got, 1e-12*(1+math.Abs(want)), what)
}

func TestContrastiveClosedForms(t *testing.T) {
	e := math.E
	one := 1.0
	// Label form, B = 3, labels [0, 0, 1], e0 = e2 = (1, 0), e1 = (0, 1),
	// τ = 1: pair (0, 1) has s = 0 against the negative s02 = 1, pair
	// (1, 0) s = 0 against s12 = 0.
	l, _ := runNTXentLabel(t, []float64{1, 0, 0, 1, 1, 0}, []int32{0, 0, 1}, 2, losses.NTXentOptions{Temperature: &one})
	conNear(t, (math.Log(1+e)+math.Log(2))/2, l, "label form B=3")
	// B = 2, one class: no negatives, each pair's term is −log(1) = 0.
	l, _ = runNTXentLabel(t, []float64{1, 2, -3, 0.5}, []int32{7, 7}, 2, losses.NTXentOptions{})
	conNear(t, 0, l, "label form B=2 one class")
	// Every label distinct: no positive pair, 0/0.
	l, _ = runNTXentLabel(t, []float64{1, 2, -3, 0.5}, []int32{1, 2}, 2, losses.NTXentOptions{})
	require.True(t, math.IsNaN(l), "no positive pair: NaN, got %v", l)
	// Zero embedding: cosine 0 with everything, finite.
	l, g := runNTXentLabel(t, []float64{0, 0, 1, 0, 0, 1}, []int32{0, 0, 1}, 2, losses.NTXentOptions{Temperature: &one})
	conNear(t, math.Log(2), l, "zero embedding") // every similarity is 0: both pairs log 2
	for _, v := range g {
		require.False(t, math.IsNaN(v) || math.IsInf(v, 0))
	}
	// Two views, identical embeddings: every similarity is 1/τ, log(2N − 1).
	for _, n := range []int{1, 2, 5} {
		z := make([]float64, n*3)
		for i := range n {
			copy(z[3*i:], []float64{1, -2, 0.5})
		}
		l, _, _ = runNTXentTwoView(t, z, z, n, 3, losses.NTXentOptions{})
		conNear(t, math.Log(float64(2*n-1)), l, "two-view identical")
	}
	// InfoNCE, B = 1, q = p = (1, 0), one negative (0, 1), τ = 1: −log(e/(e + 1)).
	l, _, _, _ = runInfoNCE(t, []float64{1, 0}, []float64{2, 0}, []float64{0, 3}, 1, 1, 2, losses.InfoNCEOptions{Temperature: &one})
	conNear(t, math.Log(1+1/e), l, "info_nce one negative")
	// Without negatives, B = 2, q = p = the unit axes: each row [1, 0]: log(1 + 1/e).
	l, _, _, _ = runInfoNCE(t, []float64{1, 0, 0, 1}, []float64{1, 0, 0, 1}, nil, 2, 0, 2, losses.InfoNCEOptions{Temperature: &one})
	conNear(t, math.Log(1+1/e), l, "info_nce in-batch")
	// SupCon, B = 3, V = 1, labels [0, 0, 1], the vectors of the label
	// case, τ = τ_b = 1: anchors 0 and 1 as there, anchor 2 has no positive (0).
	l, _ = runSupCon(t, []float64{1, 0, 0, 1, 1, 0}, []int32{0, 0, 1}, 3, 1, 2,
		losses.SupConOptions{Temperature: &one, BaseTemperature: &one})
	conNear(t, (math.Log(1+e)+math.Log(2))/3, l, "supcon B=3")
	// SupCon, B = 1, V = 2, no labels: the other view is the only column, log_prob 0.
	l, _ = runSupCon(t, []float64{1, 2, 3, -1}, nil, 1, 2, 2, losses.SupConOptions{})
	conNear(t, 0, l, "supcon one sample two views")
}

func TestContrastiveBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, b := range []int{1, 2, 3, 17, 131} {
		for _, d := range []int{5, 33} {
			x := conRand(r, b*d)
			lab := conLabels(r, b, 3)
			tau := 0.3
			for _, tile := range []int{0, 7, 1 << 20} {
				o := losses.NTXentOptions{Temperature: &tau, Tile: tile}
				if b > 1 {
					l, _ := runNTXentLabel(t, x, lab, d, o)
					want := bfNTXentLabel(x, lab, d, tau, 2.220446049250313e-16)
					if !math.IsNaN(want) {
						require.InDelta(t, want, l, 1e-10*(1+math.Abs(want)), "label b=%d d=%d tile=%d", b, d, tile)
					}
				}
				z2 := conRand(r, b*d)
				l, _, _ := runNTXentTwoView(t, x, z2, b, d, o)
				want := bfNTXentTwoView(x, z2, b, d, tau)
				require.InDelta(t, want, l, 1e-10*(1+math.Abs(want)), "two-view b=%d d=%d", b, d)
				m := 2*b + 1
				nk := conRand(r, m*d)
				l, _, _, _ = runInfoNCE(t, x, z2, nk, b, m, d, losses.InfoNCEOptions{Temperature: &tau, Tile: tile})
				want = bfInfoNCE(x, z2, nk, b, m, d, tau)
				require.InDelta(t, want, l, 1e-10*(1+math.Abs(want)), "info_nce b=%d d=%d", b, d)
				l, _, _, _ = runInfoNCE(t, x, z2, nil, b, 0, d, losses.InfoNCEOptions{Temperature: &tau, Tile: tile})
				want = bfInfoNCE(x, z2, nil, b, 0, d, tau)
				require.InDelta(t, want, l, 1e-10*(1+math.Abs(want)), "info_nce in-batch b=%d d=%d", b, d)
				for _, v := range []int{1, 2, 3} {
					f := conRand(r, b*v*d)
					for _, mode := range []string{"all", "one"} {
						for _, labs := range [][]int32{nil, lab} {
							l, _ := runSupCon(t, f, labs, b, v, d, losses.SupConOptions{Temperature: &tau, ContrastMode: mode, Tile: tile})
							want := bfSupCon(f, labs, b, v, d, tau, 0.07, mode == "one")
							require.InDelta(t, want, l, 1e-10*(1+math.Abs(want)), "supcon b=%d v=%d d=%d %s %v", b, v, d, mode, labs != nil)
						}
					}
				}
			}
		}
	}
}

func TestContrastiveFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	tau := 0.4
	b, d := 6, 4
	x := conRand(r, b*d)
	x[5*d], x[5*d+1], x[5*d+2], x[5*d+3] = 0.3, 0.3, 0.3, 0.3 // a duplicate direction
	lab := []int32{0, 1, 0, 2, 1, 0}
	t.Run("nt_xent/label", func(t *testing.T) {
		_, g := runNTXentLabel(t, x, lab, d, losses.NTXentOptions{Temperature: &tau})
		fdCheck(t, x, g, func(x []float64) float64 { return bfNTXentLabel(x, lab, d, tau, 2.220446049250313e-16) })
	})
	z2 := conRand(r, b*d)
	t.Run("nt_xent/two-view", func(t *testing.T) {
		_, g1, g2 := runNTXentTwoView(t, x, z2, b, d, losses.NTXentOptions{Temperature: &tau})
		fdCheck(t, x, g1, func(x []float64) float64 { return bfNTXentTwoView(x, z2, b, d, tau) })
		fdCheck(t, z2, g2, func(z []float64) float64 { return bfNTXentTwoView(x, z, b, d, tau) })
	})
	m := 5
	nk := conRand(r, m*d)
	for _, withNeg := range []bool{true, false} {
		t.Run("info_nce", func(t *testing.T) {
			n, mm := nk, m
			if !withNeg {
				n, mm = nil, 0
			}
			_, gq, gp, gn := runInfoNCE(t, x, z2, n, b, mm, d, losses.InfoNCEOptions{Temperature: &tau})
			fdCheck(t, x, gq, func(q []float64) float64 { return bfInfoNCE(q, z2, n, b, mm, d, tau) })
			fdCheck(t, z2, gp, func(p []float64) float64 { return bfInfoNCE(x, p, n, b, mm, d, tau) })
			if withNeg {
				fdCheck(t, nk, gn, func(n []float64) float64 { return bfInfoNCE(x, z2, n, b, mm, d, tau) })
			}
		})
	}
	v := 2
	f := conRand(r, b*v*d)
	for _, mode := range []string{"all", "one"} {
		for _, labs := range [][]int32{nil, lab} {
			t.Run("supcon/"+mode, func(t *testing.T) {
				o := losses.SupConOptions{Temperature: &tau, ContrastMode: mode}
				_, g := runSupCon(t, f, labs, b, v, d, o)
				fdCheck(t, f, g, func(f []float64) float64 { return bfSupCon(f, labs, b, v, d, tau, 0.07, mode == "one") })
			})
		}
	}
}

// TestContrastiveTiledMatchesUntiled: column blocks of 64 against the
// whole row block (the non-tiled path), float64, up to B = 4096.
func TestContrastiveTiledMatchesUntiled(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	sizes := []int{100, 1000, 4096}
	if testing.Short() {
		sizes = sizes[:2]
	}
	for _, n := range sizes {
		d := 16
		z1, z2 := conRand(r, n*d), conRand(r, n*d)
		l0, g10, g20 := runNTXentTwoView(t, z1, z2, n, d, losses.NTXentOptions{Tile: 1 << 30})
		l1, g11, g21 := runNTXentTwoView(t, z1, z2, n, d, losses.NTXentOptions{Tile: 64})
		require.InDelta(t, l0, l1, 1e-6*math.Abs(l0), "n=%d", n)
		for i := range g10 {
			require.InDelta(t, g10[i], g11[i], 1e-6*math.Abs(g10[i])+1e-14, "n=%d grad_z1[%d]", n, i)
			require.InDelta(t, g20[i], g21[i], 1e-6*math.Abs(g20[i])+1e-14, "n=%d grad_z2[%d]", n, i)
		}
	}
}

// TestContrastiveWorkspace: the workspace formula of the docs, and the
// tiled path's independence of B² (N = 32768, D = 64, float32: under 64 MB).
func TestContrastiveWorkspace(t *testing.T) {
	dev := hostDev
	n, d := 32768, 64
	got := losses.ContrastiveWorkspace(dev, 2*n, 2*n, d, 4, false, true, 0)
	k := int64(2 * n)
	want := (k*int64(d+1) + k*int64(d) + 5*k + 1) * 4
	require.GreaterOrEqual(t, got, want)
	require.Less(t, got-want, int64(2*64*512*4*1024), "the host blocks are per worker, 2·64·512 elements")
	require.Less(t, got, int64(64<<20), "tiled two-view N=32768 D=64 float32")
	// The non-tiled path holds 64 full rows of S per worker.
	un := losses.ContrastiveWorkspace(dev, 2*n, 2*n, d, 4, false, true, 1<<30)
	require.Greater(t, un, got)
}

func TestContrastiveBadInput(t *testing.T) {
	x := []float64{1, 2, 3, 4, 5, 6}
	lab := []int32{0, 1, 0}
	nan, zero, neg := math.NaN(), 0.0, -1.0
	cases := map[string]func() error{
		"labels length": func() error {
			return losses.NTXent(hostDev, losses.NTXentArgs{Embeddings: losses.HostTensor(x, 3, 2),
				Labels: losses.HostTensor([]int32{0, 1}), Loss: losses.HostTensor(make([]float64, 1))}, losses.NTXentOptions{})
		},
		"no labels": func() error {
			return losses.NTXent(hostDev, losses.NTXentArgs{Embeddings: losses.HostTensor(x, 3, 2),
				Loss: losses.HostTensor(make([]float64, 1))}, losses.NTXentOptions{})
		},
		"both forms": func() error {
			return losses.NTXent(hostDev, losses.NTXentArgs{Embeddings: losses.HostTensor(x, 3, 2), Labels: losses.HostTensor(lab),
				Z2: losses.HostTensor(x, 3, 2), Loss: losses.HostTensor(make([]float64, 1))}, losses.NTXentOptions{})
		},
		"z2 rows": func() error {
			return losses.NTXent(hostDev, losses.NTXentArgs{Embeddings: losses.HostTensor(x, 3, 2), Z2: losses.HostTensor(x[:4], 2, 2),
				Loss: losses.HostTensor(make([]float64, 1))}, losses.NTXentOptions{})
		},
		"z2 columns": func() error {
			return losses.NTXent(hostDev, losses.NTXentArgs{Embeddings: losses.HostTensor(x, 3, 2), Z2: losses.HostTensor(x, 2, 3),
				Loss: losses.HostTensor(make([]float64, 1))}, losses.NTXentOptions{})
		},
		"temperature 0": func() error {
			return losses.NTXent(hostDev, losses.NTXentArgs{Embeddings: losses.HostTensor(x, 3, 2), Z2: losses.HostTensor(x, 3, 2),
				Loss: losses.HostTensor(make([]float64, 1))}, losses.NTXentOptions{Temperature: &zero})
		},
		"temperature NaN": func() error {
			return losses.InfoNCE(hostDev, losses.InfoNCEArgs{Query: losses.HostTensor(x, 3, 2), PositiveKey: losses.HostTensor(x, 3, 2),
				Loss: losses.HostTensor(make([]float64, 1))}, losses.InfoNCEOptions{Temperature: &nan})
		},
		"negative keys D": func() error {
			return losses.InfoNCE(hostDev, losses.InfoNCEArgs{Query: losses.HostTensor(x, 3, 2), PositiveKey: losses.HostTensor(x, 3, 2),
				NegativeKeys: losses.HostTensor(x, 2, 3), Loss: losses.HostTensor(make([]float64, 1))}, losses.InfoNCEOptions{})
		},
		"positive key B": func() error {
			return losses.InfoNCE(hostDev, losses.InfoNCEArgs{Query: losses.HostTensor(x, 3, 2), PositiveKey: losses.HostTensor(x[:4], 2, 2),
				Loss: losses.HostTensor(make([]float64, 1))}, losses.InfoNCEOptions{})
		},
		"V = 0": func() error {
			return losses.SupCon(hostDev, losses.SupConArgs{Features: losses.HostTensor([]float64{}, 3, 0, 2),
				Loss: losses.HostTensor(make([]float64, 1))}, losses.SupConOptions{})
		},
		"supcon labels": func() error {
			return losses.SupCon(hostDev, losses.SupConArgs{Features: losses.HostTensor(x, 3, 1, 2), Labels: losses.HostTensor([]int32{1}),
				Loss: losses.HostTensor(make([]float64, 1))}, losses.SupConOptions{})
		},
		"base temperature": func() error {
			return losses.SupCon(hostDev, losses.SupConArgs{Features: losses.HostTensor(x, 3, 1, 2),
				Loss: losses.HostTensor(make([]float64, 1))}, losses.SupConOptions{BaseTemperature: &neg})
		},
		"contrast mode": func() error {
			return losses.SupCon(hostDev, losses.SupConArgs{Features: losses.HostTensor(x, 3, 1, 2),
				Loss: losses.HostTensor(make([]float64, 1))}, losses.SupConOptions{ContrastMode: "some"})
		},
		"grad shape": func() error {
			return losses.SupCon(hostDev, losses.SupConArgs{Features: losses.HostTensor(x, 3, 1, 2),
				GradFeatures: losses.HostTensor(make([]float64, 6), 3, 2)}, losses.SupConOptions{})
		},
	}
	for what, f := range cases {
		err := f()
		var ae *losses.ArgError
		require.True(t, errors.As(err, &ae), "%s: want an *ArgError, got %v", what, err)
	}
}

func TestContrastiveEmptyBatch(t *testing.T) {
	loss := []float64{0}
	require.NoError(t, losses.NTXent(hostDev, losses.NTXentArgs{Embeddings: losses.HostTensor([]float64{}, 0, 4),
		Z2: losses.HostTensor([]float64{}, 0, 4), Loss: losses.HostTensor(loss)}, losses.NTXentOptions{}))
	require.True(t, math.IsNaN(loss[0]))
	loss[0] = 0
	require.NoError(t, losses.SupCon(hostDev, losses.SupConArgs{Features: losses.HostTensor([]float64{}, 0, 2, 4),
		Loss: losses.HostTensor(loss)}, losses.SupConOptions{}))
	require.True(t, math.IsNaN(loss[0]))
}

// TestContrastiveColdTemperature: τ = 0.01 at D = 2048 (logits up to 100)
// stays finite in float32 and matches float64.
func TestContrastiveColdTemperature(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	n, d := 9, 2048
	z1 := conRand(r, n*d)
	z2 := make([]float64, n*d)
	for i := range z2 {
		z2[i] = z1[i] + 0.3*r.NormFloat64()
	}
	tau := 0.01
	l64, g64, _ := runNTXentTwoView(t, z1, z2, n, d, losses.NTXentOptions{Temperature: &tau})
	f1, f2 := make([]float32, n*d), make([]float32, n*d)
	for i := range f1 {
		f1[i], f2[i] = float32(z1[i]), float32(z2[i])
	}
	loss, g1, g2 := make([]float32, 1), make([]float32, n*d), make([]float32, n*d)
	require.NoError(t, losses.NTXent(hostDev, losses.NTXentArgs{Embeddings: losses.HostTensor(f1, n, d), Z2: losses.HostTensor(f2, n, d),
		Loss: losses.HostTensor(loss), GradEmbeddings: losses.HostTensor(g1, n, d), GradZ2: losses.HostTensor(g2, n, d)},
		losses.NTXentOptions{Temperature: &tau}))
	require.False(t, math.IsNaN(l64) || math.IsInf(l64, 0))
	require.InDelta(t, l64, float64(loss[0]), 1e-4*(1+math.Abs(l64)))
	for i := range g64 {
		require.InDelta(t, g64[i], float64(g1[i]), 1e-3*(1e-3+math.Abs(g64[i])), "grad %d", i)
	}
}

func TestContrastiveDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n, d := 40, 24
	z1, z2 := conRand(r, n*d), conRand(r, n*d)
	l0, a0, b0 := runNTXentTwoView(t, z1, z2, n, d, losses.NTXentOptions{})
	l1, a1, b1 := runNTXentTwoView(t, z1, z2, n, d, losses.NTXentOptions{})
	require.Equal(t, math.Float64bits(l0), math.Float64bits(l1))
	require.Equal(t, a0, a1)
	require.Equal(t, b0, b1)
}
