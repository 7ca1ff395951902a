package losstest

import (
	"fmt"
	"math/rand/v2"

	"github.com/lossengine/lossengine/losses"
)

func init() { familyCases = append(familyCases, boundaryCases) }

func boundaryCases() []Case {
	var cs []Case
	shapes := [][]int{{2, 3, 5, 7}, {3, 1, 9}, {1, 2, 3, 4, 5}, {4, 4, 64, 64}, {2, 3}, {0, 3, 4, 4}}
	opts := []struct {
		what string
		o    losses.BoundaryLossOptions
	}{
		{"default", losses.BoundaryLossOptions{}},
		{"idc0-sum", losses.BoundaryLossOptions{Idc: []int{0}, Reduction: losses.Sum}},
		{"sigmoid-none", losses.BoundaryLossOptions{Activation: "sigmoid", Reduction: losses.None}},
		{"probs", losses.BoundaryLossOptions{Activation: "none"}},
	}
	for si, sh := range shapes {
		total := 1
		for _, d := range sh {
			total *= d
		}
		for oi, o := range opts {
			r := rand.New(rand.NewPCG(uint64(si*10+oi), 55))
			x, dist := logits(r, total, 3), logits(r, total, 20)
			cs = append(cs, declCase(fmt.Sprintf("boundary_loss/%s/%v", o.what, sh), "boundary_loss", 2e-5,
				inputs{"input": fl(x, sh...), "dist_map": fl(dist, sh...)}, o.o))
		}
	}
	return cs
}
