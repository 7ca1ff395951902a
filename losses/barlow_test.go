package losses_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/losses"
)

// runBarlow runs barlow_twins_loss on the host in float64 and returns the
// loss and both gradients.
func runBarlow(t *testing.T, z1, z2 []float64, n, d int, o losses.BarlowTwinsLossOptions) (float64, []float64, []float64) {
	t.Helper()
	loss, g1, g2 := make([]float64, 1), make([]float64, n*d), make([]float64, n*d)
	require.NoError(t, losses.BarlowTwinsLoss(hostDev, losses.BarlowTwinsArgs{Z1: losses.HostTensor(z1, n, d),
		Z2: losses.HostTensor(z2, n, d), Loss: losses.HostTensor(loss), GradZ1: losses.HostTensor(g1, n, d),
		GradZ2: losses.HostTensor(g2, n, d)}, o))
	return loss[0], g1, g2
}

// barlowRef is the loss from its definition, element by element.
func barlowRef(z1, z2 []float64, n, d int, o losses.BarlowTwinsLossOptions) float64 {
	lambd := 5e-3
	if o.Lambd != nil {
		lambd = *o.Lambd
	}
	norm := func(z []float64) []float64 {
		out := make([]float64, len(z))
		for j := range d {
			mu := 0.0
			for i := range n {
				mu += z[i*d+j] / float64(n)
			}
			v := 0.0
			for i := range n {
				v += (z[i*d+j] - mu) * (z[i*d+j] - mu)
			}
			var sd float64
			if o.Normalization == "unbiased_std" {
				sd = math.Sqrt(v / float64(n-1))
			} else {
				sd = math.Sqrt(v/float64(n) + 1e-5)
			}
			for i := range n {
				out[i*d+j] = (z[i*d+j] - mu) / sd
			}
		}
		return out
	}
	a, b := norm(z1), norm(z2)
	loss := 0.0
	for i := range d {
		for j := range d {
			c := 0.0
			for k := range n {
				c += a[k*d+i] * b[k*d+j] / float64(n)
			}
			if i == j {
				loss += (1 - c) * (1 - c)
			} else {
				loss += lambd * c * c
			}
		}
	}
	return loss
}

// Two rows, one column: batch norm maps a column (u, v), u ≠ v, to
// ±1/sqrt(1 + 4e-5/(u − v)²); identical views give c = 1/(1 + 4e-5/(u −
// v)²). With unbiased_std the column is ±1/sqrt(2).
func TestBarlowTwinsLossClosedForm(t *testing.T) {
	z1, z2 := []float64{1, 3}, []float64{1, 3}
	loss, _, _ := runBarlow(t, z1, z2, 2, 1, losses.BarlowTwinsLossOptions{})
	c := 1 / (1 + 4e-5/4)
	require.InDelta(t, (1-c)*(1-c), loss, 1e-15)
	loss, _, _ = runBarlow(t, z1, []float64{3, 1}, 2, 1, losses.BarlowTwinsLossOptions{Normalization: "unbiased_std"})
	// zn1 = (−1, 1)/√2, zn2 = (1, −1)/√2: c = (−1/2 − 1/2)/2 = −1/2, loss (1 + 1/2)².
	require.InDelta(t, 2.25, loss, 1e-12)
}

func TestBarlowTwinsLossBruteForceAndFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, sh := range []struct{ n, d int }{{2, 3}, {5, 4}, {7, 1}, {9, 6}} {
		for _, o := range []losses.BarlowTwinsLossOptions{{}, {Normalization: "unbiased_std", Lambd: ptr(0.3)}} {
			z1, z2 := make([]float64, sh.n*sh.d), make([]float64, sh.n*sh.d)
			for i := range z1 {
				z1[i], z2[i] = r.NormFloat64(), r.NormFloat64()+0.5*z1[i]
			}
			loss, g1, g2 := runBarlow(t, z1, z2, sh.n, sh.d, o)
			require.InDelta(t, barlowRef(z1, z2, sh.n, sh.d, o), loss, 1e-11*(1+loss))
			fdCheck(t, z1, g1, func(x []float64) float64 { l, _, _ := runBarlow(t, x, z2, sh.n, sh.d, o); return l })
			fdCheck(t, z2, g2, func(x []float64) float64 { l, _, _ := runBarlow(t, z1, x, sh.n, sh.d, o); return l })
		}
	}
}

func TestBarlowTwinsLossErrors(t *testing.T) {
	z := make([]float64, 12)
	nan := math.NaN()
	for _, c := range []struct {
		arg string
		a   losses.BarlowTwinsArgs
		o   losses.BarlowTwinsLossOptions
	}{
		{"z2", losses.BarlowTwinsArgs{Z1: losses.HostTensor(z, 3, 4), Z2: losses.HostTensor(z, 4, 3)}, losses.BarlowTwinsLossOptions{}},
		{"z2", losses.BarlowTwinsArgs{Z1: losses.HostTensor(z, 3, 4), Z2: losses.HostTensor(z[:8], 2, 4)}, losses.BarlowTwinsLossOptions{}},
		{"z1", losses.BarlowTwinsArgs{Z1: losses.HostTensor(z[:4], 1, 4), Z2: losses.HostTensor(z[:4], 1, 4)},
			losses.BarlowTwinsLossOptions{Normalization: "unbiased_std"}},
		{"z1", losses.BarlowTwinsArgs{Z1: losses.HostTensor(z, 12), Z2: losses.HostTensor(z, 12)}, losses.BarlowTwinsLossOptions{}},
		{"lambd", losses.BarlowTwinsArgs{Z1: losses.HostTensor(z, 3, 4), Z2: losses.HostTensor(z, 3, 4)}, losses.BarlowTwinsLossOptions{Lambd: &nan}},
		{"normalization", losses.BarlowTwinsArgs{Z1: losses.HostTensor(z, 3, 4), Z2: losses.HostTensor(z, 3, 4)},
			losses.BarlowTwinsLossOptions{Normalization: "layer_norm"}},
		{"grad_z2", losses.BarlowTwinsArgs{Z1: losses.HostTensor(z, 3, 4), Z2: losses.HostTensor(z, 3, 4),
			GradZ2: losses.HostTensor(make([]float64, 4), 1, 4)}, losses.BarlowTwinsLossOptions{}},
	} {
		err := losses.BarlowTwinsLoss(hostDev, c.a, c.o)
		var ae *losses.ArgError
		require.True(t, errors.As(err, &ae), "%s: %v", c.arg, err)
		require.Equal(t, c.arg, ae.Arg, "%v", err)
	}
	// One row with batch_norm: every column normalises to 0, c = 0: loss D.
	loss := []float64{0}
	require.NoError(t, losses.BarlowTwinsLoss(hostDev, losses.BarlowTwinsArgs{Z1: losses.HostTensor(z[:4], 1, 4),
		Z2: losses.HostTensor(z[:4], 1, 4), Loss: losses.HostTensor(loss)}, losses.BarlowTwinsLossOptions{}))
	require.Equal(t, 4.0, loss[0])
}
