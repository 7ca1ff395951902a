package losstest

import (
	"fmt"
	"math/rand/v2"

	"github.com/lossengine/lossengine/losses"
)

func init() { familyCases = append(familyCases, barlowCases) }

// barlowData returns z1, z2 [n, d] (float32-exact): correlated views, one
// column of z1 far from 0, and with dup the second view equal to the first.
func barlowData(n, d int, seed uint64, dup bool) (z1, z2 []float64) {
	r := rand.New(rand.NewPCG(seed, 91))
	z1, z2 = make([]float64, n*d), make([]float64, n*d)
	for i := range z1 {
		z1[i] = r.NormFloat64()
		z2[i] = 0.6*z1[i] + 0.8*r.NormFloat64()
		if i%d == 0 {
			z1[i] += 1000
		}
	}
	if dup {
		copy(z2, z1)
	}
	return roundTo32(z1), roundTo32(z2)
}

func barlowCases() []Case {
	var cs []Case
	lam := 0.05
	for _, c := range []struct {
		n, d int
		dup  bool
		o    losses.BarlowTwinsLossOptions
	}{
		{3, 1, false, losses.BarlowTwinsLossOptions{Normalization: "unbiased_std"}},
		{7, 5, false, losses.BarlowTwinsLossOptions{}},
		{64, 33, false, losses.BarlowTwinsLossOptions{Normalization: "unbiased_std"}},
		{13, 40, true, losses.BarlowTwinsLossOptions{Lambd: &lam}},
		{300, 17, false, losses.BarlowTwinsLossOptions{Normalization: "unbiased_std", Lambd: &lam}},
		{3, 0, false, losses.BarlowTwinsLossOptions{}},
	} {
		z1, z2 := barlowData(c.n, c.d, uint64(c.n*7+c.d), c.dup)
		norm := c.o.Normalization
		if norm == "" {
			norm = "batch_norm"
		}
		cs = append(cs, declCase(fmt.Sprintf("barlow_twins_loss/%s/dup=%v/%dx%d", norm, c.dup, c.n, c.d), "barlow_twins_loss", 1e-4,
			inputs{"z1": fl(z1, c.n, c.d), "z2": fl(z2, c.n, c.d)}, c.o))
	}
	return cs
}
