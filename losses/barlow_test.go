package losses_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/losses"
)

// runBarlow computes barlow_twins_loss on the host in float64.
func runBarlow(t *testing.T, z1, z2 []float64, n, d int, o losses.BarlowTwinsLossOptions) (l float64, g1, g2 []float64) {
	t.Helper()
	loss := make([]float64, 1)
	g1, g2 = make([]float64, n*d), make([]float64, n*d)
	require.NoError(t, losses.BarlowTwinsLoss(hostDev, losses.BarlowTwinsArgs{
		Z1: losses.HostTensor(z1, n, d), Z2: losses.HostTensor(z2, n, d), Loss: losses.HostTensor(loss),
		GradZ1: losses.HostTensor(g1, n, d), GradZ2: losses.HostTensor(g2, n, d)}, o))
	return loss[0], g1, g2
}

// barlowRef is the loss written from the paper, directly: standardise each
// column, the cross-correlation matrix by its definition, the two sums.
func barlowRef(z1, z2 []float64, n, d int, unbiased bool, lambd, eps float64) float64 {
	norm := func(z []float64) []float64 {
		out := make([]float64, len(z))
		for j := range d {
			mu, v := 0.0, 0.0
			for i := range n {
				mu += z[i*d+j]
			}
			mu /= float64(n)
			for i := range n {
				v += (z[i*d+j] - mu) * (z[i*d+j] - mu)
			}
			if unbiased {
				v /= float64(n - 1)
			} else {
				v /= float64(n)
			}
			for i := range n {
				out[i*d+j] = (z[i*d+j] - mu) / math.Sqrt(v+eps)
			}
		}
		return out
	}
	a, b := norm(z1), norm(z2)
	loss := 0.0
	for p := range d {
		for q := range d {
			c := 0.0
			for i := range n {
				c += a[i*d+p] * b[i*d+q]
			}
			c /= float64(n)
			if p == q {
				loss += (1 - c) * (1 - c)
			} else {
				loss += lambd * c * c
			}
		}
	}
	return loss
}

func randMat(r *rand.Rand, n int, scale, shift float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = r.NormFloat64()*scale + shift
	}
	return x
}

// D = 1: c is the correlation of the two columns scaled by the
// standardisation, so loss = (1 − c)² in closed form: with unbiased_std
// c = ρ (N − 1)/N, ρ Pearson's correlation.
func TestBarlowTwinsClosedForm(t *testing.T) {
	z1 := []float64{1, 2, 4, 7}
	z2 := []float64{2, 1, 5, 6}
	n := 4
	mean := func(x []float64) float64 { return (x[0] + x[1] + x[2] + x[3]) / 4 }
	m1, m2 := mean(z1), mean(z2)
	var sxy, sxx, syy float64
	for i := range n {
		sxy += (z1[i] - m1) * (z2[i] - m2)
		sxx += (z1[i] - m1) * (z1[i] - m1)
		syy += (z2[i] - m2) * (z2[i] - m2)
	}
	rho := sxy / math.Sqrt(sxx*syy)
	l, _, _ := runBarlow(t, z1, z2, n, 1, losses.BarlowTwinsLossOptions{Normalization: "unbiased_std"})
	c := rho * float64(n-1) / float64(n)
	require.InDelta(t, (1-c)*(1-c), l, 1e-12)
	// batch_norm with eps = 0: c = ρ exactly.
	zero := 0.0
	l, _, _ = runBarlow(t, z1, z2, n, 1, losses.BarlowTwinsLossOptions{Eps: &zero})
	require.InDelta(t, (1-rho)*(1-rho), l, 1e-12)
	// Identical, uncorrelated standardised columns: c = I, loss 0 (eps 0);
	// swapping the views' columns makes c the exchange matrix, loss
	// 2 + 2λ.
	a := []float64{1, 1, -1, 1, 1, -1, -1, -1}
	l, _, _ = runBarlow(t, a, a, 4, 2, losses.BarlowTwinsLossOptions{Eps: &zero})
	require.InDelta(t, 0, l, 1e-12)
	b := []float64{1, 1, 1, -1, -1, 1, -1, -1}
	lam := 0.25
	l, _, _ = runBarlow(t, a, b, 4, 2, losses.BarlowTwinsLossOptions{Eps: &zero, Lambd: &lam})
	require.InDelta(t, 2+2*lam, l, 1e-12)
}

func TestBarlowTwinsReference(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct {
		n, d     int
		unbiased bool
		lambd    float64
	}{{2, 1, false, 5e-3}, {3, 5, true, 0.1}, {17, 9, false, 5e-3}, {33, 40, true, 5e-3}, {8, 3, false, 0}} {
		z1, z2 := randMat(r, c.n*c.d, 2, 3), randMat(r, c.n*c.d, 0.5, -1)
		o := losses.BarlowTwinsLossOptions{Lambd: &c.lambd}
		eps := 1e-5
		if c.unbiased {
			o.Normalization, eps = "unbiased_std", 0
		}
		l, _, _ := runBarlow(t, z1, z2, c.n, c.d, o)
		want := barlowRef(z1, z2, c.n, c.d, c.unbiased, c.lambd, eps)
		require.InDelta(t, want, l, 1e-10*(1+math.Abs(want)), "%+v", c)
	}
}

func TestBarlowTwinsFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	n, d := 5, 4
	for _, norm := range []string{"batch_norm", "unbiased_std"} {
		z1, z2 := randMat(r, n*d, 1.5, 0.5), randMat(r, n*d, 1, -0.5)
		lam := 0.3
		o := losses.BarlowTwinsLossOptions{Normalization: norm, Lambd: &lam}
		_, g1, g2 := runBarlow(t, z1, z2, n, d, o)
		f := func(a, b []float64) float64 { l, _, _ := runBarlow(t, a, b, n, d, o); return l }
		fdCheck(t, z1, g1, func(x []float64) float64 { return f(x, z2) })
		fdCheck(t, z2, g2, func(x []float64) float64 { return f(z1, x) })
	}
}

// Shifting or scaling a column leaves the standardised columns, and so
// the loss, unchanged (up to eps): the gradient is orthogonal to both.
func TestBarlowTwinsInvariance(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	n, d := 11, 6
	z1, z2 := randMat(r, n*d, 1, 0), randMat(r, n*d, 1, 0)
	o := losses.BarlowTwinsLossOptions{Normalization: "unbiased_std"}
	l0, g1, _ := runBarlow(t, z1, z2, n, d, o)
	z1s := append([]float64(nil), z1...)
	for i := range n {
		z1s[i*d+2] = z1s[i*d+2]*7 + 100
	}
	l1, _, _ := runBarlow(t, z1s, z2, n, d, o)
	require.InDelta(t, l0, l1, 1e-10)
	for j := range d {
		var s, sz float64
		for i := range n {
			s += g1[i*d+j]
			sz += g1[i*d+j] * z1[i*d+j]
		}
		require.InDelta(t, 0, s, 1e-12, "column %d", j)
		require.InDelta(t, 0, sz, 1e-12, "column %d", j)
	}
}

func TestBarlowTwinsFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	n, d := 64, 48
	z1, z2 := randMat(r, n*d, 3, 1000), randMat(r, n*d, 1, -2) // z1 far from 0: the mean before the squares
	f1, f2 := make([]float32, n*d), make([]float32, n*d)
	for i := range z1 {
		f1[i], f2[i] = float32(z1[i]), float32(z2[i])
		z1[i], z2[i] = float64(f1[i]), float64(f2[i])
	}
	l64, g64, h64 := runBarlow(t, z1, z2, n, d, losses.BarlowTwinsLossOptions{})
	loss, g1, g2 := make([]float32, 1), make([]float32, n*d), make([]float32, n*d)
	require.NoError(t, losses.BarlowTwinsLoss(hostDev, losses.BarlowTwinsArgs{
		Z1: losses.HostTensor(f1, n, d), Z2: losses.HostTensor(f2, n, d), Loss: losses.HostTensor(loss),
		GradZ1: losses.HostTensor(g1, n, d), GradZ2: losses.HostTensor(g2, n, d)}, losses.BarlowTwinsLossOptions{}))
	require.InDelta(t, l64, float64(loss[0]), 1e-5*l64)
	for i := range g64 {
		require.InDelta(t, g64[i], float64(g1[i]), 1e-6+1e-3*math.Abs(g64[i]), "grad_z1[%d]", i)
		require.InDelta(t, h64[i], float64(g2[i]), 1e-6+1e-3*math.Abs(h64[i]), "grad_z2[%d]", i)
	}
}

// Edge shapes: D = 0 is the sum of nothing; a constant column is 0 after
// batch_norm (with finite gradients) and NaN (0/0) after unbiased_std, as
// in MONAI.
func TestBarlowTwinsEdges(t *testing.T) {
	l, _, _ := runBarlow(t, []float64{}, []float64{}, 3, 0, losses.BarlowTwinsLossOptions{})
	require.Equal(t, 0.0, l)
	z1 := []float64{1, 5, 1, 6, 1, 2}
	z2 := []float64{1, 2, 3, 4, 5, 9}
	l, g1, _ := runBarlow(t, z1, z2, 3, 2, losses.BarlowTwinsLossOptions{})
	require.False(t, math.IsNaN(l))
	for _, v := range g1 {
		require.False(t, math.IsNaN(v) || math.IsInf(v, 0)) // BatchNorm's: rstd·(g − mean g) on the constant column
	}
	l, _, _ = runBarlow(t, z1, z2, 3, 2, losses.BarlowTwinsLossOptions{Normalization: "unbiased_std"})
	require.True(t, math.IsNaN(l))
}

func TestBarlowTwinsErrors(t *testing.T) {
	z := make([]float64, 12)
	lb := []float64{42}
	ok := func() losses.BarlowTwinsArgs {
		return losses.BarlowTwinsArgs{Z1: losses.HostTensor(z, 4, 3), Z2: losses.HostTensor(make([]float64, 12), 4, 3),
			Loss: losses.HostTensor(lb)}
	}
	nan, neg := math.NaN(), -1.0
	for _, c := range []struct {
		arg string
		a   func() losses.BarlowTwinsArgs
		o   losses.BarlowTwinsLossOptions
	}{
		{"z2", func() losses.BarlowTwinsArgs { a := ok(); a.Z2 = losses.HostTensor(z[:9], 3, 3); return a }, losses.BarlowTwinsLossOptions{}},
		{"z2", func() losses.BarlowTwinsArgs { a := ok(); a.Z2 = losses.Tensor{}; return a }, losses.BarlowTwinsLossOptions{}},
		{"z1", func() losses.BarlowTwinsArgs { a := ok(); a.Z1 = losses.HostTensor(z, 12); return a }, losses.BarlowTwinsLossOptions{}},
		{"z1", func() losses.BarlowTwinsArgs {
			a := ok()
			a.Z1, a.Z2 = losses.HostTensor(z[:3], 1, 3), losses.HostTensor(z[3:6], 1, 3)
			return a
		}, losses.BarlowTwinsLossOptions{Normalization: "unbiased_std"}},
		{"lambd", ok, losses.BarlowTwinsLossOptions{Lambd: &nan}},
		{"lambd", ok, losses.BarlowTwinsLossOptions{Lambd: &neg}},
		{"eps", ok, losses.BarlowTwinsLossOptions{Eps: &neg}},
		{"eps", ok, losses.BarlowTwinsLossOptions{Normalization: "unbiased_std", Eps: &neg}},
		{"normalization", ok, losses.BarlowTwinsLossOptions{Normalization: "layer_norm"}},
		{"loss", func() losses.BarlowTwinsArgs { a := ok(); a.Loss = losses.HostTensor(make([]float64, 2), 2); return a }, losses.BarlowTwinsLossOptions{}},
		{"grad_z1", func() losses.BarlowTwinsArgs { a := ok(); a.GradZ1 = losses.HostTensor(z, 3, 4); return a }, losses.BarlowTwinsLossOptions{}},
		{"grad_z2", func() losses.BarlowTwinsArgs { a := ok(); a.GradZ2 = a.Z2; return a }, losses.BarlowTwinsLossOptions{}},
		{"z2", func() losses.BarlowTwinsArgs {
			a := ok()
			a.Z2 = losses.HostTensor(make([]float32, 12), 4, 3)
			return a
		}, losses.BarlowTwinsLossOptions{}},
	} {
		a := c.a()
		err := losses.BarlowTwinsLoss(hostDev, a, c.o)
		var ae *losses.ArgError
		require.True(t, errors.As(err, &ae), "%s: %v", c.arg, err)
		require.Equal(t, c.arg, ae.Arg, "%v", err)
		require.Equal(t, "barlow_twins_loss", ae.Loss)
		require.Equal(t, 42.0, lb[0], "%s: the loss was written", c.arg)
	}
}
