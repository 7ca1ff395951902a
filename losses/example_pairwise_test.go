package losses_test

import (
	"fmt"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// The triplet margin loss of two triplets of 2-vectors, with PyTorch's
// defaults (margin 1, p 2, eps 1e-6 added to x − y, the mean).
func ExampleTripletMarginLoss() {
	dev, _ := device.Open("host")
	anchor := []float64{0, 0, 1, 1}
	positive := []float64{3, 4, 1, 2}
	negative := []float64{0, 1, 4, 5}
	loss, grad := make([]float64, 1), make([]float64, 4)
	err := losses.TripletMarginLoss(dev, losses.TripletArgs{
		Anchor:     losses.HostTensor(anchor, 2, 2),
		Positive:   losses.HostTensor(positive, 2, 2),
		Negative:   losses.HostTensor(negative, 2, 2),
		Loss:       losses.HostTensor(loss),
		GradAnchor: losses.HostTensor(grad, 2, 2),
	}, losses.TripletMarginLossOptions{})
	if err != nil {
		panic(err)
	}
	// Triplet 1: 5 − 1 + 1; triplet 2: 1 − 5 + 1 < 0 gives 0.
	fmt.Printf("loss %.4f\n", loss[0])
	fmt.Printf("grad of the anchors %.4f %.4f %.4f %.4f\n", grad[0], grad[1], grad[2], grad[3])
	// Output:
	// loss 2.5000
	// grad of the anchors -0.3000 0.1000 0.0000 0.0000
}

// The cosine embedding loss of a similar pair (target 1) and a dissimilar
// one (target −1) with margin 0.5, one loss per pair.
func ExampleCosineEmbeddingLoss() {
	dev, _ := device.Open("host")
	x1 := []float64{3, 4, 3, 4}
	x2 := []float64{4, 3, 4, 3}
	loss := make([]float64, 2)
	err := losses.CosineEmbeddingLoss(dev, losses.CosineEmbeddingArgs{
		Input1: losses.HostTensor(x1, 2, 2), Input2: losses.HostTensor(x2, 2, 2),
		Target: losses.HostTensor([]float64{1, -1}, 2), Loss: losses.HostTensor(loss, 2),
	}, losses.CosineEmbeddingLossOptions{Reduction: losses.None, Margin: 0.5})
	if err != nil {
		panic(err)
	}
	// cos = 24/25: 1 − 0.96 and 0.96 − 0.5.
	fmt.Printf("loss %.4f %.4f\n", loss[0], loss[1])
	// Output:
	// loss 0.0400 0.4600
}
