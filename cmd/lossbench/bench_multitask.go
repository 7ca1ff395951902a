package main

import (
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// The multitask weightings in the sweep (run them with -loss). A shape is
// MxK: M independent sets of K tasks; each call computes the mean over the
// sets and the gradients w.r.t. the differentiable inputs. At K = 8 and
// M = 1 a call is launch-bound.
func init() {
	for _, name := range []string{"weighted_sum", "uncertainty_weighting", "gradnorm_loss"} {
		benchLosses = append(benchLosses, benchLoss{name: name, dims: 2, shapes: []string{"1x8", "65536x8"},
			byteModel: "MxK, reduction mean: reads 2 (gradnorm_loss: 4) MxK inputs, writes 2 MxK gradients",
			prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
				return prepareMultitask(d, s, r, name)
			}})
	}
}

func mtBenchVals(rng *rand.Rand, n int, lo, hi float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(lo + rng.Float64()*(hi-lo))
	}
	return v
}

func prepareMultitask(dev device.Device, shape []int, rng *rand.Rand, name string) (*benchCase, error) {
	m, k := shape[0], shape[1]
	n := m * k
	sh := []int{m, k}
	var ins map[string]hostIn
	var opt any
	var outs []string
	reads := int64(2)
	switch name {
	case "weighted_sum":
		ins = map[string]hostIn{"losses": {mtBenchVals(rng, n, 0, 3), sh}, "weights": {mtBenchVals(rng, n, 0, 2), sh}}
		opt, outs = losses.WeightedSumOptions{}, []string{"loss", "grad_losses", "grad_weights"}
	case "uncertainty_weighting":
		ins = map[string]hostIn{"losses": {mtBenchVals(rng, n, 0, 3), sh}, "log_vars": {mtBenchVals(rng, n, -2, 2), sh}}
		opt, outs = losses.UncertaintyWeightingOptions{}, []string{"loss", "grad_losses", "grad_log_vars"}
	default:
		ins = map[string]hostIn{"weights": {mtBenchVals(rng, n, 0.2, 2), sh}, "grad_norms": {mtBenchVals(rng, n, 0.1, 3), sh},
			"initial_losses": {mtBenchVals(rng, n, 0.5, 2), sh}, "losses": {mtBenchVals(rng, n, 0, 2), sh}}
		opt, outs = losses.GradNormLossOptions{}, []string{"loss", "grad_weights", "grad_grad_norms"}
		reads = 4
	}
	return prepareDecl(dev, mustDecl(name), ins, opt, outs, nil, 4*(reads+2)*int64(n))
}
