package main

import (
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// The returns family in the sweep (not in the default sweep: run them
// with -loss). gae, lambda_returns and n_step_returns take a TxB rollout
// (terminated about one step in 50); q_learning takes NxA Q-values.
func init() {
	benchLosses = append(benchLosses,
		benchLoss{name: "gae", dims: 2, shapes: []string{"2048x64", "128x4096"},
			byteModel: "TxB: reads rewards, values, terminated (3*T*B) and B bootstrap values, writes advantages and returns (2*T*B): 4*(5*T*B+B) bytes",
			prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
				return prepareReturns(d, s, r, "gae")
			}},
		benchLoss{name: "lambda_returns", dims: 2, shapes: []string{"2048x64"},
			byteModel: "TxB: reads rewards, values, terminated, writes returns: 4*4*T*B bytes",
			prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
				return prepareReturns(d, s, r, "lambda_returns")
			}},
		benchLoss{name: "n_step_returns", dims: 2, shapes: []string{"2048x64"},
			byteModel: "TxB, n = 5: reads rewards, values, terminated, writes returns: 4*4*T*B bytes (each read 5 times)",
			prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
				return prepareReturns(d, s, r, "n_step_returns")
			}},
		benchLoss{name: "q_learning", dims: 2, shapes: []string{"65536x18"},
			byteModel: "NxA, mean: reads q_tm1, q_t (2*N*A), actions, rewards, discounts (3*N), writes the gradient (N*A): 4*(3*N*A+3*N) bytes",
			prepare:   prepareQLearning},
	)
}

// retBenchRollout is a TxB rollout: normal rewards and values, terminated
// with probability 1/50, normal bootstrap values.
func retBenchRollout(rng *rand.Rand, T, B int) (r, v, term, boot []float32) {
	n := T * B
	r, v, term, boot = make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, B)
	for i := range n {
		r[i], v[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()*3)
		if rng.IntN(50) == 0 {
			term[i] = 1
		}
	}
	for b := range boot {
		boot[b] = float32(rng.NormFloat64())
	}
	return r, v, term, boot
}

func prepareReturns(dev device.Device, shape []int, rng *rand.Rand, name string) (*benchCase, error) {
	T, B := shape[0], shape[1]
	r, v, term, boot := retBenchRollout(rng, T, B)
	tb := []int{T, B}
	ins := map[string]hostIn{"rewards": {r, tb}, "values": {v, tb}, "terminated": {term, tb}}
	switch name {
	case "gae":
		ins["bootstrap_value"] = hostIn{boot, []int{B}}
		return prepareDecl(dev, mustDecl(name), ins, nil, []string{"output", "returns"}, nil, 4*int64(5*T*B+B))
	case "n_step_returns":
		return prepareDecl(dev, mustDecl(name), ins, losses.NStepReturnsOptions{N: ptrTo(5)}, []string{"output"}, nil,
			16*int64(T*B))
	}
	return prepareDecl(dev, mustDecl(name), ins, nil, []string{"output"}, nil, 16*int64(T*B))
}

func ptrTo[T any](v T) *T { return &v }

func prepareQLearning(dev device.Device, shape []int, rng *rand.Rand) (*benchCase, error) {
	n, nA := shape[0], shape[1]
	qm, qt := make([]float32, n*nA), make([]float32, n*nA)
	for i := range qm {
		qm[i], qt[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	r, d, a := make([]float32, n), make([]float32, n), make([]int32, n)
	for i := range r {
		r[i], d[i], a[i] = float32(rng.NormFloat64()), 0.99, int32(rng.IntN(max(nA, 1)))
	}
	ins := map[string]hostIn{"q_tm1": {qm, shape}, "q_t": {qt, shape}, "a_tm1": {a, []int{n}}, "r_t": {r, []int{n}},
		"discount_t": {d, []int{n}}}
	return prepareDecl(dev, mustDecl("q_learning"), ins, nil, []string{"loss", "grad_q_tm1"}, nil, 4*int64(3*n*nA+3*n))
}
