package main

import (
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// The sac family in the sweep (not in the default sweep: run them with
// -loss). A shape is BxA; each call computes the mean loss and its
// gradient w.r.t. the policy's parameters (logits, or mean and log_std).
func init() {
	benchLosses = append(benchLosses,
		benchLoss{name: "sac_discrete_actor_loss", dims: 2, shapes: []string{"65536x18"},
			byteModel: "BxA, mean: reads logits and q_values (2*B*A), writes the gradient (B*A): 4*3*B*A bytes",
			prepare:   prepareSACDiscrete},
		benchLoss{name: "sac_continuous_actor_loss", dims: 2, shapes: []string{"65536x6"},
			byteModel: "BxA, mean: reads mean, log_std, noise, dq_da (4*B*A) and q_value (B), writes log_pi (B) and both gradients (2*B*A): 4*(6*B*A+2*B) bytes",
			prepare:   prepareSACContinuous},
	)
}

func benchNormals(rng *rand.Rand, n int, s float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64() * s)
	}
	return v
}

func prepareSACDiscrete(dev device.Device, shape []int, rng *rand.Rand) (*benchCase, error) {
	n, nA := shape[0], shape[1]
	ins := map[string]hostIn{"logits": {benchNormals(rng, n*nA, 2), shape}, "q_values": {benchNormals(rng, n*nA, 3), shape}}
	return prepareDecl(dev, mustDecl("sac_discrete_actor_loss"), ins, nil, []string{"loss", "grad_logits"}, nil, 4*3*int64(n*nA))
}

func prepareSACContinuous(dev device.Device, shape []int, rng *rand.Rand) (*benchCase, error) {
	n, nA := shape[0], shape[1]
	ls := benchNormals(rng, n*nA, 0.3)
	for i := range ls {
		ls[i] -= 0.5
	}
	ins := map[string]hostIn{"mean": {benchNormals(rng, n*nA, 1), shape}, "log_std": {ls, shape},
		"noise": {benchNormals(rng, n*nA, 1), shape}, "q_value": {benchNormals(rng, n, 1), []int{n}},
		"dq_da": {benchNormals(rng, n*nA, 1), shape}}
	return prepareDecl(dev, mustDecl("sac_continuous_actor_loss"), ins, losses.SACContinuousActorLossOptions{},
		[]string{"loss", "log_pi", "grad_mean", "grad_log_std"}, nil, 4*int64(6*n*nA+2*n))
}
