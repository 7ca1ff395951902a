package losstest

import (
	"fmt"
	"math/rand/v2"

	"github.com/lossengine/lossengine/losses"
)

func init() { familyCases = append(familyCases, boxCases) }

// boxData returns n random pairs of boxes (float32-exact), the first ones
// the edge cases of the given kinds: "identical" (every min and max tied),
// "degenerate" (a zero-height line, and with points a point on a point),
// "inverted" (x2 < x1), "disjoint".
func boxData(n int, seed uint64, points bool) (b1, b2 []float64) {
	r := rand.New(rand.NewPCG(seed, 77))
	for range n {
		x, y := r.Float64()*8, r.Float64()*8
		u, v := x+r.NormFloat64()*0.8, y+r.NormFloat64()*0.8
		b1 = append(b1, x, y, x+0.1+r.Float64()*3, y+0.1+r.Float64()*3)
		b2 = append(b2, u, v, u+0.1+r.Float64()*3, v+0.1+r.Float64()*3)
	}
	edge := [][2][4]float64{
		{{0, 0, 2, 3}, {0, 0, 2, 3}},
		{{0, 0, 2, 0}, {0, 0, 2, 2}},
		{{2, 0, 0, 1}, {0, 0, 2, 1}},
		{{0, 0, 1, 1}, {5, 5, 6, 7}},
		{{1, 1, 1, 1}, {1, 1, 1, 1}},
	}
	if !points {
		edge = edge[:4]
	}
	for i, e := range edge {
		if i < n {
			copy(b1[4*i:], e[0][:])
			copy(b2[4*i:], e[1][:])
		}
	}
	return roundTo32(b1), roundTo32(b2)
}

func boxCases() []Case {
	var cs []Case
	names := []string{"box_iou_loss", "generalized_box_iou_loss", "distance_box_iou_loss", "complete_box_iou_loss"}
	opts := []struct {
		what string
		o    losses.BoxLossOptions
	}{
		{"default-none", losses.BoxLossOptions{}},
		{"mean", losses.BoxLossOptions{Reduction: losses.ReductionOpt(losses.Mean)}},
		{"sum-eps", losses.BoxLossOptions{Reduction: losses.ReductionOpt(losses.Sum), Eps: ptr(1e-3)}},
	}
	for li, name := range names {
		points := name != "complete_box_iou_loss" // atan(0/0): NaN, as in torchvision
		for _, n := range []int{7, 1000, 1, 0} {
			for oi, o := range opts {
				b1, b2 := boxData(n, uint64(li*100+n*3+oi), points)
				var opt any
				switch name {
				case "box_iou_loss":
					opt = losses.BoxIoULossOptions{BoxLossOptions: o.o}
				case "generalized_box_iou_loss":
					opt = losses.GeneralizedBoxIoULossOptions{BoxLossOptions: o.o}
				case "distance_box_iou_loss":
					opt = losses.DistanceBoxIoULossOptions{BoxLossOptions: o.o}
				default:
					opt = losses.CompleteBoxIoULossOptions{BoxLossOptions: o.o}
				}
				cs = append(cs, declCase(fmt.Sprintf("%s/%s/N=%d", name, o.what, n), name, 1e-5,
					inputs{"boxes1": fl(b1, n, 4), "boxes2": fl(b2, n, 4)}, opt))
			}
		}
	}
	return cs
}
