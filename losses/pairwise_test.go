package losses_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/losses"
)

// pairIn is one named float64 input of a pairwise test call.
type pairIn struct {
	v     []float64
	shape []int
}

// pairCall runs a pairwise loss through its declaration on the host in
// float64 and returns every result by name.
func pairCall(t *testing.T, loss string, ins map[string]pairIn, opt any) map[string][]float64 {
	t.Helper()
	d, ok := losses.Lookup(loss)
	require.True(t, ok, loss)
	ts := map[string]losses.Tensor{}
	for k, v := range ins {
		ts[k] = losses.HostTensor(v.v, v.shape...)
	}
	res, err := d.Call(hostDev, ts, opt)
	require.NoError(t, err, loss)
	out := map[string][]float64{}
	for k, v := range res {
		out[k] = losses.Floats(v)
	}
	return out
}

func rows(v []float64, n, d int) pairIn { return pairIn{v, []int{n, d}} }
func vec(v ...float64) pairIn           { return pairIn{v, []int{len(v)}} }

func TestPairwiseClosedForm(t *testing.T) {
	none := losses.None
	// cosine_embedding_loss: cos((3, 4), (4, 3)) = 24/25.
	r := pairCall(t, "cosine_embedding_loss", map[string]pairIn{
		"input1": rows([]float64{1, 0, 3, 4, 3, 4, 3, 4}, 4, 2), "input2": rows([]float64{0, 1, 4, 3, 4, 3, 4, 3}, 4, 2),
		"target": vec(1, -1, 0, 1)}, losses.CosineEmbeddingLossOptions{Reduction: none, Margin: 0.5})
	require.InDeltaSlice(t, []float64{1, 0.96 - 0.5, 0, 1 - 0.96}, r["loss"], 1e-12)
	// d(1 − cos)/dx1 = −(x2/(‖x1‖‖x2‖) − cos·x1/‖x1‖²)
	require.InDeltaSlice(t, []float64{-0.0448, 0.0336}, r["grad_input1"][6:], 1e-12)
	require.InDeltaSlice(t, []float64{0.0448, -0.0336}, r["grad_input1"][2:4], 1e-12)
	require.Equal(t, []float64{0, 0}, r["grad_input1"][4:6]) // target 0: no loss, no gradient

	r = pairCall(t, "margin_ranking_loss", map[string]pairIn{"input1": vec(1, 2, 3), "input2": vec(2, 2, 1),
		"target": vec(1, -1, 1)}, losses.MarginRankingLossOptions{Margin: 0.5})
	require.InDelta(t, 2.0/3, r["loss"][0], 1e-15)
	require.InDeltaSlice(t, []float64{-1.0 / 3, 1.0 / 3, 0}, r["grad_input1"], 1e-15)
	require.InDeltaSlice(t, []float64{1.0 / 3, -1.0 / 3, 0}, r["grad_input2"], 1e-15)
	require.InDeltaSlice(t, []float64{1.0 / 3, 0, 0}, r["grad_target"], 1e-15)

	zero := 0.0
	trip := func(n []float64) map[string]pairIn {
		return map[string]pairIn{"anchor": rows([]float64{0, 0}, 1, 2), "positive": rows([]float64{3, 4}, 1, 2),
			"negative": rows(n, 1, 2)}
	}
	for _, c := range []struct {
		neg  []float64
		o    losses.TripletMarginLossOptions
		want float64
	}{
		{[]float64{0, 1}, losses.TripletMarginLossOptions{Eps: &zero}, 5 - 1 + 1},
		{[]float64{6, 8}, losses.TripletMarginLossOptions{Eps: &zero}, 0},
		{[]float64{6, 8}, losses.TripletMarginLossOptions{Eps: &zero, Swap: true}, 5 - 5 + 1}, // d(p, n) = 5 < 10
		{[]float64{1, 1}, losses.TripletMarginLossOptions{Eps: &zero, P: ptr(1.0)}, 7 - 2 + 1},
		{[]float64{1, 1}, losses.TripletMarginLossOptions{Eps: &zero, P: ptr(3.0), Margin: ptr(0.0)},
			math.Cbrt(27+64) - math.Cbrt(2)},
		// the default eps 1e-6 is added to x − y: ‖(−3, −4) + 1e-6‖.
		{[]float64{0, 1}, losses.TripletMarginLossOptions{},
			math.Hypot(-3+1e-6, -4+1e-6) - math.Hypot(1e-6, -1+1e-6) + 1},
	} {
		r = pairCall(t, "triplet_margin_loss", trip(c.neg), c.o)
		require.InDelta(t, c.want, r["loss"][0], 1e-12, "%v %+v", c.neg, c.o)
	}
	// d(a, p) = 5 with gradient (a − p)/5 for the anchor.
	r = pairCall(t, "triplet_margin_loss", trip([]float64{0, 1}), losses.TripletMarginLossOptions{Eps: &zero})
	require.InDeltaSlice(t, []float64{-3.0 / 5, -4.0/5 + 1}, r["grad_anchor"], 1e-12)
	require.InDeltaSlice(t, []float64{0, -1}, r["grad_negative"], 1e-12)

	r = pairCall(t, "triplet_margin_with_distance_loss", trip([]float64{0, 1}),
		losses.TripletMarginWithDistanceLossOptions{Distance: "squared_l2"})
	require.InDelta(t, 25.0-1+1, r["loss"][0], 1e-12)
	require.InDeltaSlice(t, []float64{-6, -8 + 2}, r["grad_anchor"], 1e-12)
	r = pairCall(t, "triplet_margin_with_distance_loss", map[string]pairIn{"anchor": rows([]float64{1, 0}, 1, 2),
		"positive": rows([]float64{0, 2}, 1, 2), "negative": rows([]float64{3, 0}, 1, 2)},
		losses.TripletMarginWithDistanceLossOptions{Distance: "cosine"})
	require.InDelta(t, 1.0-0+1, r["loss"][0], 1e-12)
	// d(1 − cos(a, p))/da = −(p/(‖a‖‖p‖) − cos·a/‖a‖²) = (0, −1); cos(a, n) is 1 at its maximum: 0.
	require.InDeltaSlice(t, []float64{0, -1}, r["grad_anchor"], 1e-12)

	// Keras' documented example: y_true [[0, 1], [1, 1]], y_pred [[1, 0], [1, 1]] gives −0.5.
	r = pairCall(t, "cosine_similarity_loss", map[string]pairIn{"input": rows([]float64{1, 0, 1, 1}, 2, 2),
		"target": rows([]float64{0, 1, 1, 1}, 2, 2)}, nil)
	require.InDelta(t, -0.5, r["loss"][0], 1e-12)
	r = pairCall(t, "cosine_similarity_loss", map[string]pairIn{"input": rows([]float64{0, 0, 3, 4}, 2, 2),
		"target": rows([]float64{1, 2, 4, 3}, 2, 2)}, losses.CosineSimilarityLossOptions{Reduction: none})
	require.InDeltaSlice(t, []float64{0, -0.96}, r["loss"], 1e-12)
	// a zero input: l2_normalize's gradient is x2/(√1e-12·‖x2‖), Σx² = 0 < 1e-12 passing none to Σx².
	require.InDeltaSlice(t, []float64{-1e6 / math.Sqrt(5), -2e6 / math.Sqrt(5)}, r["grad_input"][:2], 1e-3)

	r = pairCall(t, "contrastive_loss", map[string]pairIn{"input1": rows([]float64{0, 0, 0, 0, 0, 0, 1, 1}, 4, 2),
		"input2": rows([]float64{3, 4, 3, 4, 3, 4, 1, 1}, 4, 2), "target": vec(1, 0, 0, 0)},
		losses.ContrastiveLossOptions{Reduction: none, Margin: ptr(6.0)})
	require.InDeltaSlice(t, []float64{12.5, 0.5, 0.5, 18}, r["loss"], 1e-12)
	require.InDeltaSlice(t, []float64{-3, -4, 0.6, 0.8}, r["grad_input1"][:4], 1e-12)
	require.Equal(t, []float64{0, 0}, r["grad_input1"][6:]) // d = 0: the hinge term's gradient is 0
	require.InDeltaSlice(t, []float64{12.5 - 0.5, 12.5 - 0.5, 12.5 - 0.5, -18}, r["grad_target"], 1e-12)

	pml := map[string]pairIn{"input1": rows([]float64{1, 0, 1, 0, 1, 0}, 3, 2),
		"input2": rows([]float64{0, 1, 0, 1, 2, 0}, 3, 2), "target": vec(1, 0, 0)}
	r = pairCall(t, "contrastive_loss", pml, losses.ContrastiveLossOptions{Form: "pml", Reduction: none})
	require.InDeltaSlice(t, []float64{math.Sqrt2, 0, 1}, r["loss"], 1e-12)
	r = pairCall(t, "contrastive_loss", pml, losses.ContrastiveLossOptions{Form: "pml"})
	require.InDelta(t, (math.Sqrt2+1)/2, r["loss"][0], 1e-12) // the mean over the 2 nonzero losses
}

// pairConfig is one loss and option set of the gradient checks.
type pairConfig struct {
	loss   string
	opt    any
	inputs []string // [N, D] inputs
	target []float64
}

func pairConfigs() []pairConfig {
	pm, y01 := []float64{1, -1, 1, -1, -1}, []float64{1, 0, 0, 1, 0}
	trip := []string{"anchor", "positive", "negative"}
	pair := []string{"input1", "input2"}
	cs := []pairConfig{
		{"cosine_embedding_loss", losses.CosineEmbeddingLossOptions{Margin: -0.3}, pair, pm},
		{"cosine_embedding_loss", losses.CosineEmbeddingLossOptions{Reduction: losses.Sum, Margin: 0.1}, pair, pm},
		{"cosine_similarity_loss", losses.CosineSimilarityLossOptions{}, []string{"input", "target"}, nil},
		{"contrastive_loss", losses.ContrastiveLossOptions{Margin: ptr(2.5)}, pair, y01},
		{"contrastive_loss", losses.ContrastiveLossOptions{Reduction: losses.Sum, Form: "pml", PosMargin: ptr(0.3), NegMargin: ptr(1.3)}, pair, y01},
		{"contrastive_loss", losses.ContrastiveLossOptions{Form: "pml", PosMargin: ptr(0.3), NegMargin: ptr(1.3)}, pair, y01},
	}
	for _, o := range []losses.TripletMarginLossOptions{
		{}, {Swap: true, Margin: ptr(2.0)}, {P: ptr(1.0), Margin: ptr(3.0)}, {P: ptr(3.0), Swap: true, Margin: ptr(2.0)},
		{P: ptr(1.5), Eps: ptr(0.01), Reduction: losses.Sum, Margin: ptr(2.0)}} {
		cs = append(cs, pairConfig{"triplet_margin_loss", o, trip, nil})
	}
	for _, dist := range []string{"l2", "squared_l2", "cosine"} {
		for _, swap := range []bool{false, true} {
			cs = append(cs, pairConfig{"triplet_margin_with_distance_loss",
				losses.TripletMarginWithDistanceLossOptions{Distance: dist, Swap: swap, Margin: ptr(3.0)}, trip, nil})
		}
	}
	return cs
}

// TestPairwiseFiniteDifferences checks every gradient of every loss and
// option against central differences of the loss in float64.
func TestPairwiseFiniteDifferences(t *testing.T) {
	const n, d = 5, 4
	r := rand.New(rand.NewPCG(11, 12))
	for ci, c := range pairConfigs() {
		t.Run(fmt.Sprintf("%d/%s/%+v", ci, c.loss, c.opt), func(t *testing.T) { pairFD(t, r, ci, c, n, d) })
	}
	pairFDRanking(t)
}

func pairFD(t *testing.T, r *rand.Rand, ci int, c pairConfig, n, d int) {
	{
		ins := map[string]pairIn{}
		for _, name := range c.inputs {
			v := make([]float64, n*d)
			for i := range v {
				v[i] = r.NormFloat64()
			}
			ins[name] = rows(v, n, d)
		}
		if c.target != nil {
			ins["target"] = vec(c.target...)
		}
		res := pairCall(t, c.loss, ins, c.opt)
		names := append([]string{}, c.inputs...)
		// cosine_embedding_loss has no target gradient; pml's mean is not
		// continuous in the target: a zero row's loss y·relu(δ − pos_margin)
		// turns nonzero for any y > 0 and changes the count (the sum form
		// checks the target's gradient).
		pmlMean := c.loss == "contrastive_loss" && c.opt.(losses.ContrastiveLossOptions).Form == "pml" &&
			c.opt.(losses.ContrastiveLossOptions).Reduction == losses.Mean
		if c.target != nil && c.loss != "cosine_embedding_loss" && !pmlMean {
			names = append(names, "target")
		}
		for _, name := range names {
			g, ok := res["grad_"+name]
			require.True(t, ok, "%d %s: no grad_%s", ci, c.loss, name)
			x := ins[name].v
			fdCheck(t, x, g, func(x []float64) float64 {
				m := map[string]pairIn{}
				for k, v := range ins {
					m[k] = v
				}
				m[name] = pairIn{x, ins[name].shape}
				return pairCall(t, c.loss, m, c.opt)["loss"][0]
			})
		}
	}
}

// pairFDRanking checks margin_ranking_loss's gradients over [N].
func pairFDRanking(t *testing.T) {
	x1, x2 := []float64{0.3, -1, 2, 0.5}, []float64{1, 0.2, -0.4, 0.1}
	y := []float64{1, -1, 0.5, -2}
	ins := map[string]pairIn{"input1": vec(x1...), "input2": vec(x2...), "target": vec(y...)}
	o := losses.MarginRankingLossOptions{Margin: 0.7}
	res := pairCall(t, "margin_ranking_loss", ins, o)
	for _, name := range []string{"input1", "input2", "target"} {
		fdCheck(t, ins[name].v, res["grad_"+name], func(x []float64) float64 {
			m := map[string]pairIn{"input1": ins["input1"], "input2": ins["input2"], "target": ins["target"]}
			m[name] = vec(x...)
			return pairCall(t, "margin_ranking_loss", m, o)["loss"][0]
		})
	}
}

// TestPairwiseReductions: Sum is the sum of None's rows and Mean their
// mean, with gradients scaled alike; the mean of no rows is NaN (PyTorch)
// and their sum 0; pml's mean of no nonzero loss is 0.
func TestPairwiseReductions(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	const n, d = 6, 3
	for _, c := range pairConfigs() {
		ins := map[string]pairIn{}
		for _, name := range c.inputs {
			v := make([]float64, n*d)
			for i := range v {
				v[i] = r.NormFloat64()
			}
			ins[name] = rows(v, n, d)
		}
		if c.target != nil {
			ins["target"] = vec(append(c.target, 1)...)
		}
		if c.loss == "contrastive_loss" && c.opt.(losses.ContrastiveLossOptions).Form == "pml" {
			continue // TestPairwiseClosedForm checks AvgNonZero
		}
		per := pairCall(t, c.loss, ins, setRed(c.opt, losses.None))
		sum := pairCall(t, c.loss, ins, setRed(c.opt, losses.Sum))
		mean := pairCall(t, c.loss, ins, setRed(c.opt, losses.Mean))
		require.InDelta(t, sumLoss(per["loss"]), sum["loss"][0], 1e-12, c.loss)
		require.InDelta(t, sumLoss(per["loss"])/n, mean["loss"][0], 1e-12, c.loss)
		g := "grad_" + c.inputs[0]
		for i := range per[g] {
			require.InDelta(t, per[g][i], sum[g][i], 1e-15)
			require.InDelta(t, per[g][i]/n, mean[g][i], 1e-15)
		}
		// no rows
		empty := map[string]pairIn{}
		for k, v := range ins {
			sh := append([]int{0}, v.shape[1:]...)
			empty[k] = pairIn{[]float64{}, sh}
		}
		require.True(t, math.IsNaN(pairCall(t, c.loss, empty, setRed(c.opt, losses.Mean))["loss"][0]), c.loss)
		require.Equal(t, 0.0, pairCall(t, c.loss, empty, setRed(c.opt, losses.Sum))["loss"][0], c.loss)
	}
	empty := map[string]pairIn{"input1": rows(nil, 0, 3), "input2": rows(nil, 0, 3), "target": vec()}
	require.Equal(t, 0.0, pairCall(t, "contrastive_loss", empty, losses.ContrastiveLossOptions{Form: "pml"})["loss"][0])
	// pml: every loss 0 gives 0 and a zero gradient.
	same := map[string]pairIn{"input1": rows([]float64{1, 2, 3}, 1, 3), "input2": rows([]float64{2, 4, 6}, 1, 3), "target": vec(1)}
	res := pairCall(t, "contrastive_loss", same, losses.ContrastiveLossOptions{Form: "pml"})
	require.Equal(t, 0.0, res["loss"][0])
	require.Equal(t, []float64{0, 0, 0}, res["grad_input1"])
	// Empty rows (D = 0) without a target: every row's loss is the margin.
	tr := map[string]pairIn{"anchor": rows(nil, 5, 0), "positive": rows(nil, 5, 0), "negative": rows(nil, 5, 0)}
	require.InDelta(t, 1.0, pairCall(t, "triplet_margin_loss", tr, nil)["loss"][0], 1e-6)
	require.InDelta(t, 10.0, pairCall(t, "triplet_margin_loss", tr, losses.TripletMarginLossOptions{Reduction: losses.Sum, Margin: ptr(2.0)})["loss"][0], 1e-5)
}

func setRed(o any, red losses.Reduction) any {
	switch v := o.(type) {
	case losses.CosineEmbeddingLossOptions:
		v.Reduction = red
		return v
	case losses.CosineSimilarityLossOptions:
		v.Reduction = red
		return v
	case losses.ContrastiveLossOptions:
		v.Reduction = red
		return v
	case losses.TripletMarginLossOptions:
		v.Reduction = red
		return v
	case losses.TripletMarginWithDistanceLossOptions:
		v.Reduction = red
		return v
	}
	panic("setRed")
}

// TestPairwiseFloat32 runs every configuration in float32, D = 1 (where
// cosines are ±1 and the gradients of the cosine losses vanish) and
// D = 37, against float64 with an absolute tolerance; and the same call
// twice must agree bitwise.
func TestPairwiseFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	const n = 5
	for _, d := range []int{1, 37} {
		for _, c := range pairConfigs() {
			ins := map[string]pairIn{}
			for _, name := range c.inputs {
				v := make([]float64, n*d)
				for i := range v {
					v[i] = float64(float32(r.NormFloat64()))
				}
				ins[name] = rows(v, n, d)
			}
			if c.target != nil {
				ins["target"] = vec(c.target...)
			}
			want := pairCall(t, c.loss, ins, c.opt)
			dl, _ := losses.Lookup(c.loss)
			ts := map[string]losses.Tensor{}
			for k, v := range ins {
				ts[k] = losses.HostTensor(to32s(v.v), v.shape...)
			}
			got, err := dl.Call(hostDev, ts, c.opt)
			require.NoError(t, err)
			again, err := dl.Call(hostDev, ts, c.opt)
			require.NoError(t, err)
			for k, w := range want {
				g := losses.Floats(got[k])
				require.Equal(t, g, losses.Floats(again[k]), "%s %s: not reproducible", c.loss, k)
				for i := range w {
					require.InDelta(t, w[i], g[i], 2e-5*(1+math.Abs(w[i])), "%s D=%d %s[%d]", c.loss, d, k, i)
				}
			}
		}
	}
}

func TestPairwiseErrors(t *testing.T) {
	x := rows(make([]float64, 6), 2, 3)
	x4 := rows(make([]float64, 8), 2, 4)
	nan := math.NaN()
	bad := losses.Reduction(9)
	for _, c := range []struct {
		loss, arg string
		ins       map[string]pairIn
		opt       any
	}{
		{"cosine_embedding_loss", "input2", map[string]pairIn{"input1": x, "input2": x4, "target": vec(1, 1)}, nil},
		{"cosine_embedding_loss", "target", map[string]pairIn{"input1": x, "input2": x, "target": vec(1, 1, 1)}, nil},
		{"cosine_embedding_loss", "margin", map[string]pairIn{"input1": x, "input2": x, "target": vec(1, 1)},
			losses.CosineEmbeddingLossOptions{Margin: nan}},
		{"cosine_embedding_loss", "input1", map[string]pairIn{"input1": vec(1, 2), "input2": vec(1, 2), "target": vec(1, 1)}, nil},
		{"cosine_embedding_loss", "reduction", map[string]pairIn{"input1": x, "input2": x, "target": vec(1, 1)},
			losses.CosineEmbeddingLossOptions{Reduction: bad}},
		{"margin_ranking_loss", "target", map[string]pairIn{"input1": vec(1, 2), "input2": vec(1, 2), "target": vec(1)}, nil},
		{"margin_ranking_loss", "input2", map[string]pairIn{"input1": vec(1, 2), "input2": vec(1, 2, 3), "target": vec(1, 1)}, nil},
		{"margin_ranking_loss", "margin", map[string]pairIn{"input1": vec(1, 2), "input2": vec(1, 2), "target": vec(1, 1)},
			losses.MarginRankingLossOptions{Margin: math.Inf(1)}},
		{"triplet_margin_loss", "negative", map[string]pairIn{"anchor": x, "positive": x, "negative": x4}, nil},
		{"triplet_margin_loss", "p", map[string]pairIn{"anchor": x, "positive": x, "negative": x},
			losses.TripletMarginLossOptions{P: ptr(0.5)}},
		{"triplet_margin_loss", "p", map[string]pairIn{"anchor": x, "positive": x, "negative": x},
			losses.TripletMarginLossOptions{P: &nan}},
		{"triplet_margin_loss", "eps", map[string]pairIn{"anchor": x, "positive": x, "negative": x},
			losses.TripletMarginLossOptions{Eps: ptr(-1e-6)}},
		{"triplet_margin_loss", "margin", map[string]pairIn{"anchor": x, "positive": x, "negative": x},
			losses.TripletMarginLossOptions{Margin: &nan}},
		{"triplet_margin_with_distance_loss", "distance", map[string]pairIn{"anchor": x, "positive": x, "negative": x},
			losses.TripletMarginWithDistanceLossOptions{Distance: "manhattan"}},
		{"triplet_margin_with_distance_loss", "margin", map[string]pairIn{"anchor": x, "positive": x, "negative": x},
			losses.TripletMarginWithDistanceLossOptions{Margin: ptr(0.0)}},
		{"cosine_similarity_loss", "target", map[string]pairIn{"input": x, "target": x4}, nil},
		{"contrastive_loss", "form", map[string]pairIn{"input1": x, "input2": x, "target": vec(1, 0)},
			losses.ContrastiveLossOptions{Form: "siamese"}},
		{"contrastive_loss", "neg_margin", map[string]pairIn{"input1": x, "input2": x, "target": vec(1, 0)},
			losses.ContrastiveLossOptions{Form: "pml", NegMargin: &nan}},
		{"contrastive_loss", "margin", map[string]pairIn{"input1": x, "input2": x, "target": vec(1, 0)},
			losses.ContrastiveLossOptions{Margin: &nan}},
		{"contrastive_loss", "target", map[string]pairIn{"input1": x, "input2": x, "target": rows([]float64{1, 0}, 1, 2)}, nil},
	} {
		d, _ := losses.Lookup(c.loss)
		ts := map[string]losses.Tensor{}
		for k, v := range c.ins {
			ts[k] = losses.HostTensor(v.v, v.shape...)
		}
		_, err := d.Call(hostDev, ts, c.opt)
		var ae *losses.ArgError
		require.True(t, errors.As(err, &ae), "%s %s: %v", c.loss, c.arg, err)
		require.Equal(t, c.arg, ae.Arg, "%s: %v", c.loss, err)
		require.Equal(t, c.loss, ae.Loss)
	}
	// A wrong-length gradient buffer is refused before anything is written.
	loss := []float64{7}
	err := losses.TripletMarginLoss(hostDev, losses.TripletArgs{Anchor: losses.HostTensor(make([]float64, 6), 2, 3),
		Positive: losses.HostTensor(make([]float64, 6), 2, 3), Negative: losses.HostTensor(make([]float64, 6), 2, 3),
		Loss: losses.HostTensor(loss), GradNegative: losses.HostTensor(make([]float64, 3), 1, 3)}, losses.TripletMarginLossOptions{})
	var ae *losses.ArgError
	require.True(t, errors.As(err, &ae))
	require.Equal(t, "grad_negative", ae.Arg)
	require.Equal(t, 7.0, loss[0])
}

func TestPairwiseOptionsJSON(t *testing.T) {
	d, _ := losses.Lookup("triplet_margin_with_distance_loss")
	o, err := d.DecodeOptions([]byte(`{"reduction": "sum", "distance": "cosine", "swap": true, "margin": 0.5}`))
	require.NoError(t, err)
	opt := o.(*losses.TripletMarginWithDistanceLossOptions)
	require.Equal(t, losses.Sum, opt.Reduction)
	require.Equal(t, "cosine", opt.Distance)
	require.True(t, opt.Swap)
	require.Equal(t, 0.5, *opt.Margin)
	d, _ = losses.Lookup("contrastive_loss")
	o, err = d.DecodeOptions([]byte(`{"form": "pml", "pos_margin": 0.1, "neg_margin": 0.9}`))
	require.NoError(t, err)
	c := o.(*losses.ContrastiveLossOptions)
	require.Equal(t, "pml", c.Form)
	require.Equal(t, 0.9, *c.NegMargin)
}
