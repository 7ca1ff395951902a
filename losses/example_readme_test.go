package losses_test

import (
	"fmt"
	"math"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// The buffer form of README's "Using it": tensors already on the device
// (here the host) take the same call, with no copy; the gradient
// overwrites the logits, and SkipTargetCheck leaves the targets unread, so
// the call does not wait for the device. The mean loss of the two rows is
// (log(1 + 2e⁻²) + log 3) / 2.
func ExampleCrossEntropy_deviceBuffers() {
	dev, err := device.Open("host")
	if err != nil {
		panic(err)
	}
	const n, c = 2, 3
	logits, err := device.Upload(dev, []float32{2, 0, 0, 0, 0, 0})
	if err != nil {
		panic(err)
	}
	targets, err := device.Upload(dev, []int32{0, 2})
	if err != nil {
		panic(err)
	}
	lossBuf, err := dev.Alloc(device.Float32, 1)
	if err != nil {
		panic(err)
	}
	err = losses.CrossEntropy(dev, losses.CrossEntropyArgs{
		Input:     losses.NewTensor(logits, n, c),
		Target:    losses.NewTensor(targets, n),
		Loss:      losses.NewTensor(lossBuf),
		GradInput: losses.NewTensor(logits, n, c), // the gradient overwrites the logits
	}, losses.CrossEntropyOptions{SkipTargetCheck: true})
	if err != nil {
		panic(err)
	}
	loss, err := device.Download[float32](dev, lossBuf, 1)
	if err != nil {
		panic(err)
	}
	grad, err := device.Download[float32](dev, logits, n*c)
	if err != nil {
		panic(err)
	}
	fmt.Printf("loss %.4f = %.4f\n", loss[0], (math.Log(1+2*math.Exp(-2))+math.Log(3))/2)
	fmt.Printf("grad row 1: %.4f\n", grad[3:])
	// Output:
	// loss 0.6691 = 0.6691
	// grad row 1: [0.1667 0.1667 -0.3333]
}

// README's CTC call: uniform log-probabilities, the target "1 2" over four
// frames, reduction mean (the loss divided by the target length, 2) and
// PyTorch's gradient convention.
func ExampleCTCLoss_mean() {
	dev, err := device.Open("host")
	if err != nil {
		panic(err)
	}
	const T, N, C, S = 4, 1, 3, 2
	logProbs := make([]float32, T*N*C)
	for i := range logProbs {
		logProbs[i] = float32(-math.Log(C))
	}
	loss, grad := make([]float32, 1), make([]float32, T*N*C)
	err = losses.CTCLoss(dev, losses.CTCLossArgs{
		LogProbs:     losses.HostTensor(logProbs, T, N, C),
		Targets:      losses.HostTensor([]int32{1, 2}, N, S),
		InputLengths: losses.HostTensor([]int32{T}), TargetLengths: losses.HostTensor([]int32{S}),
		Loss:         losses.HostTensor(loss),
		GradLogProbs: losses.HostTensor(grad, T, N, C),
	}, losses.CTCLossOptions{Reduction: losses.Mean, GradMode: losses.CTCGradPyTorch})
	if err != nil {
		panic(err)
	}
	fmt.Printf("loss %.4f = log(81/15)/2 %.4f\n", loss[0], math.Log(81.0/15)/2)
	// Output:
	// loss 0.8432 = log(81/15)/2 0.8432
}
