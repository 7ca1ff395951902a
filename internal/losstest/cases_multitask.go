package losstest

import (
	"fmt"
	"math/rand/v2"

	"github.com/lossengine/lossengine/losses"
)

func init() { familyCases = append(familyCases, multitaskCases, softmetricCases) }

// mtData returns n float32-exact values in [lo, hi).
func mtData(r *rand.Rand, n int, lo, hi float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = lo + r.Float64()*(hi-lo)
	}
	return roundTo32(v)
}

// multitaskCases: [K] and [M, K] sets (K = 1, primes, M = 0), every
// reduction, the log-variances ±30, task types, α = 0 and 2.5.
func multitaskCases() []Case {
	var cs []Case
	shapes := [][]int{{1}, {8}, {7, 3}, {1000, 5}, {0, 4}, {3, 1}}
	reds := []struct {
		what string
		r    losses.Reduction
	}{{"mean", losses.Mean}, {"sum", losses.Sum}, {"none", losses.None}}
	for si, sh := range shapes {
		n := 1
		for _, d := range sh {
			n *= d
		}
		k := sh[len(sh)-1]
		for ri, red := range reds {
			r := rand.New(rand.NewPCG(uint64(si*10+ri), 91))
			name := fmt.Sprintf("%v/%s", sh, red.what)
			cs = append(cs, declCase("weighted_sum/"+name, "weighted_sum", 1e-5,
				inputs{"losses": fl(mtData(r, n, 0, 4), sh...), "weights": fl(mtData(r, n, -1, 2), sh...)},
				losses.WeightedSumOptions{Reduction: red.r}))
			s := mtData(r, n, -4, 4)
			if n >= 3 {
				s[0], s[2] = 30, -30 // exp(∓30): within float32
			}
			var types []string
			if ri == 1 {
				types = make([]string, k)
				for j := range types {
					types[j] = []string{"regression", "classification"}[j%2]
				}
			}
			cs = append(cs, declCase("uncertainty_weighting/"+name, "uncertainty_weighting", 1e-5,
				inputs{"losses": fl(mtData(r, n, 0, 3), sh...), "log_vars": fl(s, sh...)},
				losses.UncertaintyWeightingOptions{Reduction: red.r, TaskTypes: types}))
			alpha := []float64{1.5, 0, 2.5}[ri]
			cs = append(cs, declCase("gradnorm_loss/"+name, "gradnorm_loss", 1e-5,
				inputs{"weights": fl(mtData(r, n, 0.2, 2), sh...), "grad_norms": fl(mtData(r, n, 0.1, 5), sh...),
					"initial_losses": fl(mtData(r, n, 0.5, 3), sh...), "losses": fl(mtData(r, n, 0, 3), sh...)},
				losses.GradNormLossOptions{Reduction: red.r, Alpha: &alpha}))
		}
	}
	return cs
}

// smCaseData returns an input and a target of n elements: probabilities
// with 0 and 1 among them (or logits with ±1e4), targets 0/1 with some
// soft, and with allNeg every target 0 (tp = 0).
func smCaseData(r *rand.Rand, n int, sigmoid, allNeg bool) (x, y []float64) {
	x, y = make([]float64, n), make([]float64, n)
	for i := range x {
		if sigmoid {
			x[i] = r.NormFloat64() * 3
		} else {
			x[i] = r.Float64()
		}
		y[i] = float64(r.IntN(2))
		if i%5 == 2 {
			y[i] = r.Float64()
		}
		if allNeg {
			y[i] = 0
		}
	}
	ext := []float64{0, 1}
	if sigmoid {
		ext = []float64{1e4, -1e4}
	}
	for i, v := range ext {
		if i < n {
			x[i] = v
		}
	}
	return roundTo32(x), roundTo32(y)
}

// softmetricCases: N = 0, C = 1, primes, N = 65536 × C = 20 (the bench
// shape), probabilities and logits, all-negative targets, every average.
func softmetricCases() []Case {
	var cs []Case
	shapes := [][2]int{{1, 1}, {7, 3}, {0, 5}, {1000, 1}, {257, 13}, {65536, 20}}
	for si, s := range shapes {
		n, c := s[0], s[1]
		for vi, v := range []struct {
			act    string
			allNeg bool
		}{{"none", false}, {"sigmoid", false}, {"none", true}} {
			r := rand.New(rand.NewPCG(uint64(si*10+vi), 93))
			x, y := smCaseData(r, n*c, v.act == "sigmoid", v.allNeg)
			what := fmt.Sprintf("%dx%d/%s", n, c, v.act)
			if v.allNeg {
				what += "/all-negative"
			}
			for _, avg := range []string{"macro", "micro", "binary"} {
				cs = append(cs, declCase("soft_f1_loss/"+what+"/"+avg, "soft_f1_loss", 1e-5,
					inputs{"input": fl(x, n, c), "target": fl(y, n, c)},
					losses.SoftF1LossOptions{Average: avg, Activation: v.act}))
			}
			cs = append(cs, declCase("soft_mcc_loss/"+what, "soft_mcc_loss", 1e-5,
				inputs{"input": fl(x, n, 1, c), "target": fl(y, n, 1, c)}, losses.SoftMCCLossOptions{Activation: v.act}))
		}
	}
	return cs
}
