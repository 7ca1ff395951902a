package losses_test

import (
	"fmt"
	"math"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// Cross-entropy of two samples over three classes on the host, with the
// gradient w.r.t. the logits.
func ExampleCrossEntropySlices() {
	dev, err := device.Open("host")
	if err != nil {
		panic(err)
	}
	logits := []float64{
		2, 0, 0, // sample 0
		0, 0, 0, // sample 1: uniform, loss log 3
	}
	target := []int32{0, 2}
	res, err := losses.CrossEntropySlices(dev, logits, target, 2, 3, losses.CrossEntropyOptions{Reduction: losses.None})
	if err != nil {
		panic(err)
	}
	fmt.Printf("loss: %.4f %.4f\n", res.Loss[0], res.Loss[1])
	fmt.Printf("grad row 1: %.4f %.4f %.4f\n", res.Grad[3], res.Grad[4], res.Grad[5])
	// Output:
	// loss: 0.2395 1.0986
	// grad row 1: 0.3333 0.3333 -0.6667
}

// Targets out of range are rejected before anything runs, with an error
// naming the argument.
func ExampleCrossEntropySlices_error() {
	dev, _ := device.Open("host")
	_, err := losses.CrossEntropySlices(dev, []float32{1, 2}, []int32{5}, 1, 2, losses.CrossEntropyOptions{})
	fmt.Println(err)
	// Output:
	// losses: cross_entropy: target: target[0] = 5 is out of range [0, 2) and is not ignore_index (-100)
}

// mse_loss with its gradients w.r.t. input and target.
func ExampleMSELossSlices() {
	dev, _ := device.Open("host")
	res, err := losses.MSELossSlices(dev, []float64{1, 2, 3}, []float64{1, 0, 3}, losses.MSEOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Loss[0], res.Grad, res.GradTarget)
	// Output:
	// 1.3333333333333333 [0 1.3333333333333333 0] [-0 -1.3333333333333333 -0]
}

// Softmax with temperature 2 and the gradient of Σ dy·softmax(x/2).
func ExampleRowOpSlices() {
	dev, _ := device.Open("host")
	res, err := losses.RowOpSlices(dev, losses.OpSoftmax, []float64{0, 0}, 1, 2, 2, []float64{1, 0})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Loss, res.Grad)
	// Output:
	// [0.5 0.5] [0.125 -0.125]
}

// CTC loss of the target "1 2" over four frames with uniform
// probabilities over three classes (class 0 is the blank): 15 of the 81
// frame labellings collapse to the target, so the loss is log(81/15).
func ExampleCTCLossSlices() {
	dev, err := device.Open("host")
	if err != nil {
		panic(err)
	}
	logProbs := make([]float64, 4*1*3) // [T=4, N=1, C=3]
	for i := range logProbs {
		logProbs[i] = -math.Log(3)
	}
	res, err := losses.CTCLossSlices(dev, losses.CTCSlices[float64]{
		Input: logProbs, T: 4, N: 1, C: 3,
		Targets: []int32{1, 2}, TargetsPadded: 2,
		InputLengths: []int32{4}, TargetLengths: []int32{2},
	}, losses.CTCOptions{Reduction: losses.None})
	if err != nil {
		panic(err)
	}
	fmt.Printf("loss %.4f = log(81/15) %.4f\n", res.Loss[0], math.Log(81.0/15))
	fmt.Printf("log-likelihood forward %.4f, backward %.4f\n", res.LogLikelihood[0], res.LogLikelihoodBeta[0])
	fmt.Printf("grad at t=0 (exact): %.4f %.4f %.4f\n", res.Grad[0], res.Grad[1], res.Grad[2])
	// Output:
	// loss 1.6864 = log(81/15) 1.6864
	// log-likelihood forward -1.6864, backward -1.6864
	// grad at t=0 (exact): -0.3333 -0.6667 0.0000
}

// An elementwise loss with per-sample weights and a mask: huber_loss over a
// [2, 2] batch, the second sample weighted 2, one element masked out.
func ExamplePointwiseLossSlices() {
	dev, err := device.Open("host")
	if err != nil {
		panic(err)
	}
	res, err := losses.PointwiseLossSlices(dev, losses.Huber, losses.PointwiseData[float64]{
		Input:       []float64{3, 0.5, -1, 0.25},
		Target:      []float64{0, 0, 0, 0},
		Weight:      []float64{1, 2},
		WeightBcast: losses.PerRow(2, 2),
		Mask:        []bool{true, true, true, false},
	}, losses.PointwiseOptions{Delta: losses.Value(1)})
	if err != nil {
		fmt.Println(err)
		return
	}
	// (2.5 + 0.125 + 2·0.5) / 3 elements kept
	fmt.Printf("loss %.4f\ngrad %.4f\n", res.Loss[0], res.Grad)
	// Output:
	// loss 1.2083
	// grad [0.3333 0.1667 -0.6667 0.0000]
}
