package main

import (
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// The pairwise losses in the sweep (not in the default sweep: run them
// with -loss). A shape is NxD; each call computes the mean loss over the N
// rows and the gradient w.r.t. every [N, D] input (margin_ranking_loss:
// a shape N, the gradients w.r.t. input1 and input2).
func init() {
	type pw struct {
		name   string
		inputs []string
		target string // "" none, "pm" ±1, "01" 0/1
		opt    any
	}
	trip := []string{"anchor", "positive", "negative"}
	for _, p := range []pw{
		{"triplet_margin_loss", trip, "", losses.TripletMarginLossOptions{}},
		{"triplet_margin_with_distance_loss", trip, "", losses.TripletMarginWithDistanceLossOptions{}},
		{"cosine_embedding_loss", []string{"input1", "input2"}, "pm", losses.CosineEmbeddingLossOptions{}},
		{"cosine_similarity_loss", []string{"input", "target"}, "", losses.CosineSimilarityLossOptions{}},
		{"contrastive_loss", []string{"input1", "input2"}, "01", losses.ContrastiveLossOptions{}},
	} {
		k := int64(2 * len(p.inputs))
		benchLosses = append(benchLosses, benchLoss{name: p.name, dims: 2, shapes: []string{"65536x128"},
			byteModel: "NxD, reduction mean: reads each [N, D] input and writes its gradient: 4*2*inputs*N*D bytes",
			prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
				n, dd := s[0], s[1]
				ins := map[string]hostIn{}
				outs := []string{"loss"}
				for _, name := range p.inputs {
					ins[name] = hostIn{pairBenchData(r, n*dd), []int{n, dd}}
					outs = append(outs, "grad_"+name)
				}
				if p.target != "" {
					y := make([]float32, n)
					for i := range y {
						y[i] = float32(r.IntN(2))
						if p.target == "pm" {
							y[i] = 2*y[i] - 1
						}
					}
					ins["target"] = hostIn{y, []int{n}}
				}
				return prepareDecl(d, mustDecl(p.name), ins, p.opt, outs, nil, 4*k*int64(n*dd))
			}})
	}
	benchLosses = append(benchLosses, benchLoss{name: "margin_ranking_loss", dims: 1, shapes: []string{"1048576"},
		byteModel: "N, reduction mean: reads input1, input2, target, writes two gradients: 4*5*N bytes",
		prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
			n := s[0]
			y := make([]float32, n)
			for i := range y {
				y[i] = float32(2*r.IntN(2) - 1)
			}
			ins := map[string]hostIn{"input1": {pairBenchData(r, n), []int{n}}, "input2": {pairBenchData(r, n), []int{n}},
				"target": {y, []int{n}}}
			return prepareDecl(d, mustDecl("margin_ranking_loss"), ins, losses.MarginRankingLossOptions{},
				[]string{"loss", "grad_input1", "grad_input2"}, nil, 4*5*int64(n))
		}})
}

// pairBenchData returns n standard normal values.
func pairBenchData(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}
