package losstest

import (
	"fmt"
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

func init() { familyCases = append(familyCases, pairCases) }

// pairCase is a case of a pairwise loss run through its declaration. Its
// Outputs hold the loss, the gradient w.r.t. the first input as Grad, and
// the gradients w.r.t. every other input (grad_target among them), in
// declaration order and concatenated, as GradTarget: the triplet losses
// have three and margin_ranking_loss and contrastive_loss a target's.
func pairCase(name, loss string, tol float64, ins inputs, opt any) Case {
	return Case{Name: name, Loss: loss, Tol: tol, ins: ins, opt: opt,
		Run: func(dev device.Device, f64 bool) (Outputs, error) {
			d, _ := losses.Lookup(loss)
			ts := make(map[string]losses.Tensor, len(ins))
			for k, v := range ins {
				if f64 {
					ts[k] = losses.HostTensor(v.f, v.shape...)
				} else {
					ts[k] = losses.HostTensor(to32(v.f), v.shape...)
				}
			}
			res, err := d.Call(dev, ts, opt)
			if err != nil {
				return Outputs{}, err
			}
			var o Outputs
			o.Loss = losses.Floats(res["loss"])
			first := true
			for _, p := range d.Params {
				if p.Role != losses.Grad {
					continue
				}
				g, ok := res[p.Name]
				if !ok {
					continue
				}
				if first {
					o.Grad, first = losses.Floats(g), false
				} else {
					o.GradTarget = append(o.GradTarget, losses.Floats(g)...)
				}
			}
			return o, nil
		}}
}

// pairData returns k inputs [n, d] (float32-exact): random rows, and with
// n >= 4 the first rows edge cases: an identical pair (rows 0 of the
// first two inputs), a zero row (row 1 of the first), a row scaled by 1e4
// (row 2 of all), and a near-identical pair (row 3).
func pairData(k, n, d int, seed uint64) [][]float64 {
	r := rand.New(rand.NewPCG(seed, 71))
	xs := make([][]float64, k)
	for i := range xs {
		xs[i] = make([]float64, n*d)
		for j := range xs[i] {
			xs[i][j] = r.NormFloat64()
		}
	}
	if n >= 4 {
		copy(xs[1][:d], xs[0][:d])
		for j := range d {
			xs[0][d+j] = 0
			for i := range xs {
				xs[i][2*d+j] *= 1e4
			}
			xs[1][3*d+j] = xs[0][3*d+j] + 1e-3*r.NormFloat64()
		}
	}
	for i := range xs {
		xs[i] = roundTo32(xs[i])
	}
	return xs
}

func pairLabels(n int, vals []float64, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 72))
	y := make([]float64, n)
	for i := range y {
		y[i] = vals[r.IntN(len(vals))]
	}
	return y
}

func pairCases() []Case {
	var cs []Case
	shapes := [][2]int{{0, 5}, {1, 1}, {7, 3}, {13, 64}, {31, 257}, {4, 1}}
	reds := []losses.Reduction{losses.Mean, losses.Sum, losses.None}
	for si, sh := range shapes {
		n, d := sh[0], sh[1]
		for ri, red := range reds {
			seed := uint64(si*10 + ri)
			tag := fmt.Sprintf("%s/N=%d,D=%d", red, n, d)
			x := pairData(3, n, d, seed)
			// With D = 1 a cosine is ±1 and a p-norm (p ≠ 1, 2) is |u| up to
			// one rounding, so that these losses' gradients (and 1 − cos) are
			// exactly 0 while float32 gives the rounding error, which no
			// tolerance relative to the output's largest value can accept:
			// losses/pairwise_test.go checks them at D = 1 with an absolute
			// tolerance instead.
			noisy := d == 1
			pm := pairLabels(n, []float64{1, -1}, seed)
			if !noisy {
				cs = append(cs, pairCase("cosine_embedding_loss/"+tag, "cosine_embedding_loss", 1e-5,
					inputs{"input1": fl(x[0], n, d), "input2": fl(x[1], n, d), "target": fl(pm, n)},
					losses.CosineEmbeddingLossOptions{Reduction: red, Margin: 0.1 * float64(ri)}))
				cs = append(cs, pairCase("cosine_similarity_loss/"+tag, "cosine_similarity_loss", 1e-5,
					inputs{"input": fl(x[0], n, d), "target": fl(x[1], n, d)},
					losses.CosineSimilarityLossOptions{Reduction: red}))
			}
			// margin_ranking_loss is elementwise over any one shape: [N] and [N, D].
			cs = append(cs, pairCase("margin_ranking_loss/"+tag, "margin_ranking_loss", 1e-5,
				inputs{"input1": fl(x[0][:n], n), "input2": fl(x[1][:n], n), "target": fl(pm, n)},
				losses.MarginRankingLossOptions{Reduction: red, Margin: 0.5 * float64(ri)}))
			cs = append(cs, pairCase("margin_ranking_loss/2d/"+tag, "margin_ranking_loss", 1e-5,
				inputs{"input1": fl(x[0], n, d), "input2": fl(x[1], n, d),
					"target": fl(pairLabels(n*d, []float64{1, -1, 0.5}, seed+3), n, d)},
				losses.MarginRankingLossOptions{Reduction: red, Margin: 0.2}))
			trip := inputs{"anchor": fl(x[0], n, d), "positive": fl(x[1], n, d), "negative": fl(x[2], n, d)}
			for _, o := range []struct {
				what string
				o    losses.TripletMarginLossOptions
			}{{"default", losses.TripletMarginLossOptions{Reduction: red}},
				{"p1-swap", losses.TripletMarginLossOptions{Reduction: red, P: ptr(1.0), Swap: true}},
				{"p3-margin", losses.TripletMarginLossOptions{Reduction: red, P: ptr(3.0), Margin: ptr(20.0), Eps: ptr(0.0)}}} {
				if noisy && o.o.P != nil && *o.o.P == 3 {
					continue
				}
				cs = append(cs, pairCase("triplet_margin_loss/"+o.what+"/"+tag, "triplet_margin_loss", 1e-4, trip, o.o))
			}
			for _, dist := range []string{"l2", "squared_l2", "cosine"} {
				if noisy && dist == "cosine" {
					continue
				}
				cs = append(cs, pairCase("triplet_margin_with_distance_loss/"+dist+"/"+tag,
					"triplet_margin_with_distance_loss", 1e-4, trip,
					losses.TripletMarginWithDistanceLossOptions{Reduction: red, Distance: dist, Swap: ri != 1,
						Margin: ptr(0.5 + float64(ri))}))
			}
			y01 := pairLabels(n, []float64{0, 1}, seed+5)
			pair := inputs{"input1": fl(x[0], n, d), "input2": fl(x[1], n, d), "target": fl(y01, n)}
			cs = append(cs, pairCase("contrastive_loss/hadsell/"+tag, "contrastive_loss", 1e-4, pair,
				losses.ContrastiveLossOptions{Reduction: red, Margin: ptr(2.0 + float64(d))}))
			cs = append(cs, pairCase("contrastive_loss/pml/"+tag, "contrastive_loss", 1e-4, pair,
				losses.ContrastiveLossOptions{Reduction: red, Form: "pml", PosMargin: ptr(0.1), NegMargin: ptr(1.2)}))
		}
	}
	return cs
}
