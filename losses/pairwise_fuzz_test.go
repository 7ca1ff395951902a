package losses_test

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/lossengine/lossengine/losses"
)

// The pairwise family in the shared fuzz harness (fuzz_test.go).
func init() {
	fuzzFamilies["pairwise"] = []string{"cosine_embedding_loss", "margin_ranking_loss", "triplet_margin_loss",
		"triplet_margin_with_distance_loss", "cosine_similarity_loss", "contrastive_loss"}
}

func FuzzPairwise(f *testing.F) {
	for i := range fuzzFamilies["pairwise"] {
		f.Add(fuzzCase{loss: byte(i), dims: []byte{3, 4}}.encode("pairwise"))
		f.Add(fuzzCase{loss: byte(i), opts: []byte{0, 1, 1, 2}, dims: []byte{2, 1}}.encode("pairwise"))
	}
	fuzzFamily(f, "pairwise")
}

// FuzzPairwiseLosses: any values, shape, loss and options: no panic, an
// *ArgError or success, the same bits twice, and finite results for
// finite inputs of moderate size (|x| <= 1e8) and finite options.
func FuzzPairwiseLosses(f *testing.F) {
	f.Add(byte(0), byte(0), byte(3), byte(0), make([]byte, 96))
	f.Add(byte(2), byte(1), byte(1), byte(3), []byte{0, 0, 192, 127, 0, 0, 128, 127, 0, 0, 128, 255, 1, 0, 0, 0})
	f.Add(byte(5), byte(2), byte(2), byte(5), make([]byte, 40))
	f.Fuzz(func(t *testing.T, which, red, db, sel byte, data []byte) {
		v := fuzzFloats(data)
		d := int(db % 6)
		n := 0
		if d > 0 {
			n = len(v) / (3*d + 1)
		}
		r := []losses.Reduction{losses.Mean, losses.Sum, losses.None, 7}[red%4]
		x1, x2, x3, y := v[:n*d], v[n*d:2*n*d], v[2*n*d:3*n*d], v[3*n*d:3*n*d+n]
		mats := func(names ...string) map[string]losses.Tensor {
			m := map[string]losses.Tensor{}
			for i, nm := range names {
				m[nm] = losses.HostTensor(slices.Clone([][]float32{x1, x2, x3}[i]), n, d)
			}
			return m
		}
		var loss string
		var ins map[string]losses.Tensor
		var opt any
		switch which % 6 {
		case 0:
			loss, ins = "cosine_embedding_loss", mats("input1", "input2")
			ins["target"] = losses.HostTensor(slices.Clone(y), n)
			opt = losses.CosineEmbeddingLossOptions{Reduction: r, Margin: float64(sel%5)*0.5 - 1}
		case 1:
			loss = "margin_ranking_loss"
			ins = map[string]losses.Tensor{"input1": losses.HostTensor(slices.Clone(x1), n*d),
				"input2": losses.HostTensor(slices.Clone(x2), n*d), "target": losses.HostTensor(slices.Clone(x3), n*d)}
			opt = losses.MarginRankingLossOptions{Reduction: r, Margin: float64(sel % 3)}
		case 2:
			loss, ins = "triplet_margin_loss", mats("anchor", "positive", "negative")
			p := []float64{1, 2, 3, 1.5, 0.5, math.NaN()}[sel%6]
			opt = losses.TripletMarginLossOptions{Reduction: r, P: &p, Swap: sel&8 != 0}
		case 3:
			loss, ins = "triplet_margin_with_distance_loss", mats("anchor", "positive", "negative")
			opt = losses.TripletMarginWithDistanceLossOptions{Reduction: r, Swap: sel&8 != 0,
				Distance: []string{"l2", "squared_l2", "cosine", "", "l1"}[sel%5]}
		case 4:
			loss, ins = "cosine_similarity_loss", mats("input", "target")
			opt = losses.CosineSimilarityLossOptions{Reduction: r}
		default:
			loss, ins = "contrastive_loss", mats("input1", "input2")
			ins["target"] = losses.HostTensor(slices.Clone(y), n)
			opt = losses.ContrastiveLossOptions{Reduction: r, Form: []string{"", "pml", "hadsell", "x"}[sel%4]}
		}
		dl, _ := losses.Lookup(loss)
		out1, err := dl.Call(hostDev, ins, opt)
		if err != nil {
			var ae *losses.ArgError
			if !errors.As(err, &ae) {
				t.Fatalf("%s: %v (want an *ArgError)", loss, err)
			}
			return
		}
		out2, err := dl.Call(hostDev, ins, opt)
		if err != nil {
			t.Fatal(err)
		}
		for k, a := range out1 {
			g1, g2 := losses.Floats(a), losses.Floats(out2[k])
			for i := range g1 {
				if math.Float64bits(g1[i]) != math.Float64bits(g2[i]) {
					t.Fatalf("%s: two calls differ in %s", loss, k)
				}
				finite := !math.IsNaN(g1[i]) && !math.IsInf(g1[i], 0)
				if !finite && boundedFinite(v[:3*n*d+n], 1e8) && !(r == losses.Mean && n == 0) {
					t.Fatalf("%s %+v: non-finite %s for finite inputs", loss, opt, k)
				}
			}
		}
	})
}
