package losstest

import (
	"fmt"
	"math/rand/v2"

	"github.com/lossengine/lossengine/losses"
)

func init() { familyCases = append(familyCases, ganCases) }

// ganOutputs returns n float32-exact discriminator outputs, the first ones
// the edge cases: 0, the hinge's kinks ±1, saturated ±big. The kinds whose
// loss is a difference of means of the outputs themselves (wasserstein, and
// relativistic_average through its means) take big = 30: with 1e4 the
// float32 sums cancel to the spacing of 1e4 on every float32 device, as in
// PyTorch's float32.
func ganOutputs(n int, seed uint64, big float64) []float64 {
	x := logits(rand.New(rand.NewPCG(seed, 41)), n, 2.5)
	for i, v := range []float64{0, 1, -1, big, -big} {
		if i < n {
			x[i] = v
		}
	}
	return x
}

// ganWeightsData returns n weights, every third one zero.
func ganWeightsData(n int, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 43))
	w := make([]float64, n)
	for i := range w {
		if i%3 != 0 {
			w[i] = r.Float64() * 2
		}
	}
	return roundTo32(w)
}

func ganCases() []Case {
	var cs []Case
	kinds := []string{losses.GanMinimax, losses.GanNonSaturating, losses.GanWasserstein, losses.GanHinge,
		losses.GanLeastSquares, losses.GanRelativisticAverage}
	sizes := [][2]int{{7, 5}, {1009, 3001}, {1, 1}, {0, 4}, {70001, 257}}
	reds := []losses.Reduction{losses.Mean, losses.Sum, losses.None}
	i := 0
	for _, kind := range kinds {
		for si, sz := range sizes {
			for _, red := range reds {
				for _, weighted := range []bool{false, true} {
					if si == 4 && (red != losses.Mean || !weighted) {
						continue // the large size: one setting
					}
					i++
					nr, ng := sz[0], sz[1]
					big := 1e4
					if kind == losses.GanWasserstein || kind == losses.GanRelativisticAverage {
						big = 30
					}
					ins := inputs{"real_logits": fl(ganOutputs(nr, uint64(i), big), nr),
						"gen_logits": fl(ganOutputs(ng, uint64(i+500), big), ng)}
					if weighted {
						ins["real_weights"] = fl(ganWeightsData(nr, uint64(i)), nr)
						ins["generated_weights"] = fl(ganWeightsData(ng, uint64(i+500)), ng)
					}
					what := fmt.Sprintf("%s/%v/Nr=%d/Ng=%d/w=%v", kind, red, nr, ng, weighted)
					// wasserstein's loss is a difference of two sums of the
					// outputs: relative to it, float32 cancels to ~1e-4 here.
					tl := 1e-5
					if kind == losses.GanWasserstein {
						tl = 1e-3
					}
					cs = append(cs,
						declCase("gan_discriminator_loss/"+what, "gan_discriminator_loss", tl, ins,
							losses.GanDiscriminatorLossOptions{Kind: kind, Reduction: red, LabelSmoothing: ptr(0.1),
								RealLabel: ptr(0.9), FakeLabel: ptr(-0.5)}),
						declCase("gan_generator_loss/"+what, "gan_generator_loss", tl, ins,
							losses.GanGeneratorLossOptions{Kind: kind, Reduction: red, LabelSmoothing: ptr(0.2)}))
				}
			}
		}
	}
	// All-zero weights: the mean over no nonzero weight is NaN.
	cs = append(cs, declCase("gan_discriminator_loss/zero-weights", "gan_discriminator_loss", 1e-5,
		inputs{"real_logits": fl(ganOutputs(4, 1, 1e4), 2, 2), "gen_logits": fl(ganOutputs(3, 2, 1e4), 3),
			"real_weights": fl(make([]float64, 4), 2, 2)}, nil))
	for _, sz := range [][2]int{{5, 7}, {4096, 3 * 64}, {37, 1}, {1, 3000}, {0, 3}, {3, 0}} {
		n, d := sz[0], sz[1]
		r := rand.New(rand.NewPCG(uint64(n*31+d), 47))
		g := make([]float64, n*d)
		for k := range g {
			g[k] = r.NormFloat64() * 0.05
		}
		if n > 1 {
			for k := range d {
				g[d+k] = 0 // a zero row: norm sqrt(eps)
			}
		}
		g = roundTo32(g)
		for _, red := range reds {
			what := fmt.Sprintf("%v/N=%d/D=%d", red, n, d)
			cs = append(cs,
				declCase("gradient_penalty/"+what, "gradient_penalty", 1e-5, inputs{"gradients": fl(g, n, d)},
					losses.GradientPenaltyOptions{Reduction: red}),
				declCase("gradient_penalty/one-sided/"+what, "gradient_penalty", 1e-5, inputs{"gradients": fl(g, n, d)},
					losses.GradientPenaltyOptions{Reduction: red, OneSided: true, Target: ptr(0.5), Weight: ptr(2.0)}),
				declCase("r1_penalty/"+what, "r1_penalty", 1e-5, inputs{"gradients": fl(g, n, d)},
					losses.R1PenaltyOptions{Reduction: red}))
		}
	}
	return cs
}
