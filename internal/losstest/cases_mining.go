package losstest

import (
	"fmt"
	"math/rand/v2"

	"github.com/lossengine/lossengine/losses"
)

func init() { familyCases = append(familyCases, miningCases) }

// miningData returns b rows of d float32-exact values and b labels: with
// kind "dup" row 1 repeats row 0 and row 2 is zero; "one" gives every row
// one label, "distinct" every row its own; otherwise labels in [0, 3).
func miningData(b, d int, seed uint64, kind string) ([]float64, []int32) {
	r := rand.New(rand.NewPCG(seed, 31))
	x := make([]float64, b*d)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	lab := make([]int32, b)
	for i := range lab {
		switch kind {
		case "one":
			lab[i] = 5
		case "distinct":
			lab[i] = int32(i)
		default:
			lab[i] = int32(r.IntN(3))
		}
	}
	if kind == "dup" && b >= 3 {
		copy(x[d:2*d], x[:d])
		for k := range d {
			x[2*d+k] = 0
		}
	}
	return roundTo32(x), lab
}

func miningCases() []Case {
	var cs []Case
	shapes := []struct {
		b, d int
		kind string
	}{{1, 3, ""}, {2, 5, ""}, {5, 1, "one"}, {13, 7, "dup"}, {37, 33, ""}, {11, 4, "distinct"}, {64, 16, "dup"}}
	i := uint64(0)
	for _, sh := range shapes {
		for _, m := range []string{"hard", "semi_hard", "all"} {
			for _, dist := range []string{"l2", "squared_l2", "cosine"} {
				i++
				x, lab := miningData(sh.b, sh.d, i, sh.kind)
				o := losses.BatchTripletLossOptions{Mining: m, Distance: dist, Soft: i%4 == 0}
				if i%3 == 0 {
					o.Margin = ptr(0.3)
				}
				cs = append(cs, declCase(fmt.Sprintf("batch_triplet_loss/%s/%s/soft=%v/B=%d/D=%d/%s", m, dist, o.Soft, sh.b, sh.d, sh.kind),
					"batch_triplet_loss", 1e-4, inputs{"embeddings": fl(x, sh.b, sh.d), "labels": ints(lab, sh.b)}, o))
			}
		}
	}
	return cs
}

func init() { familyCases = append(familyCases, barlowCases) }

func barlowCases() []Case {
	var cs []Case
	for k, sh := range []struct{ n, d int }{{3, 1}, {3, 5}, {13, 7}, {64, 33}, {5, 2}} {
		for _, o := range []losses.BarlowTwinsLossOptions{{}, {Normalization: "unbiased_std", Lambd: ptr(0.05)}} {
			r := rand.New(rand.NewPCG(uint64(k), 41))
			z1, z2 := make([]float64, sh.n*sh.d), make([]float64, sh.n*sh.d)
			for i := range z1 {
				z1[i] = r.NormFloat64()
				z2[i] = 0.7*z1[i] + 0.5*r.NormFloat64()
			}
			cs = append(cs, declCase(fmt.Sprintf("barlow_twins_loss/%s/N=%d/D=%d", o.Normalization, sh.n, sh.d),
				"barlow_twins_loss", 1e-4, inputs{"z1": fl(roundTo32(z1), sh.n, sh.d), "z2": fl(roundTo32(z2), sh.n, sh.d)}, o))
		}
	}
	return cs
}

func init() { familyCases = append(familyCases, circleCases) }

func circleCases() []Case {
	var cs []Case
	for k, sh := range []struct {
		b, d int
		kind string
	}{{1, 3, ""}, {2, 5, ""}, {13, 7, "dup"}, {37, 33, ""}, {11, 4, "distinct"}, {6, 3, "one"}, {64, 16, "dup"}} {
		for _, o := range []losses.CircleLossOptions{{}, {Gamma: ptr(4.0), Margin: ptr(0.25), RemoveDiagonal: ptr(false)}} {
			x, lab := miningData(sh.b, sh.d, uint64(100+k), sh.kind)
			cs = append(cs, declCase(fmt.Sprintf("circle_loss/B=%d/D=%d/%s/gamma=%v", sh.b, sh.d, sh.kind, o.Gamma != nil),
				"circle_loss", 1e-4, inputs{"embeddings": fl(x, sh.b, sh.d), "labels": ints(lab, sh.b)}, o))
		}
	}
	return cs
}
