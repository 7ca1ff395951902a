package losses_test

import (
	"fmt"
	"math"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// Uncertainty weighting of two task losses, a regression and a
// classification, with learned log-variances s = log σ².
func ExampleUncertaintyWeighting() {
	dev, _ := device.Open("host")
	taskLosses := []float64{2, 0.5}
	logVars := []float64{0, math.Log(2)}
	loss, gradS := make([]float64, 1), make([]float64, 2)
	err := losses.UncertaintyWeighting(dev, losses.UncertaintyWeightingArgs{
		Losses:      losses.HostTensor(taskLosses, 2),
		LogVars:     losses.HostTensor(logVars, 2),
		Loss:        losses.HostTensor(loss),
		GradLogVars: losses.HostTensor(gradS, 2),
	}, losses.UncertaintyWeightingOptions{TaskTypes: []string{"regression", "classification"}})
	if err != nil {
		panic(err)
	}
	// ½·e⁰·2 + 0 + e^(−log 2)·0.5 + ½·log 2
	fmt.Printf("loss %.4f\n", loss[0])
	fmt.Printf("d/ds %.4f %.4f\n", gradS[0], gradS[1])
	// Output:
	// loss 1.5966
	// d/ds -0.5000 0.2500
}

// The GradNorm loss of three tasks: the weights' gradient pushes each
// weighted gradient norm w·g towards mean(w·g)·r^α.
func ExampleGradNormLoss() {
	dev, _ := device.Open("host")
	loss, gradW := make([]float64, 1), make([]float64, 3)
	err := losses.GradNormLoss(dev, losses.GradNormLossArgs{
		Weights:       losses.HostTensor([]float64{1, 1, 1}, 3),
		GradNorms:     losses.HostTensor([]float64{1, 2, 3}, 3),
		InitialLosses: losses.HostTensor([]float64{1, 1, 1}, 3),
		Losses:        losses.HostTensor([]float64{0.5, 0.5, 0.5}, 3), // equal progress: r = 1
		Loss:          losses.HostTensor(loss),
		GradWeights:   losses.HostTensor(gradW, 3),
	}, losses.GradNormLossOptions{})
	if err != nil {
		panic(err)
	}
	// targets all mean(G) = 2: |1 − 2| + |2 − 2| + |3 − 2|
	fmt.Printf("loss %.1f, d/dw %v\n", loss[0], gradW)
	// Output:
	// loss 2.0, d/dw [-1 0 3]
}
