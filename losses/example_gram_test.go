package losses_test

import (
	"fmt"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// The style loss of one layer: features F_x = [[1, 2], [3, 4]] (one image,
// C = 2 channels of H·W = 2 positions) against the target F_y = I. The
// Gram matrices are F Fᵀ / (C·H·W): [[5, 11], [11, 25]]/4 and I/4.
func ExampleGramStyleLoss() {
	dev, _ := device.Open("host")
	x, y := []float64{1, 2, 3, 4}, []float64{1, 0, 0, 1}
	loss, grad := make([]float64, 1), make([]float64, 4)
	err := losses.GramStyleLoss(dev, losses.FeatureArgs{
		Input:     losses.HostTensor(x, 1, 2, 1, 2),
		Target:    losses.HostTensor(y, 1, 2, 1, 2),
		Loss:      losses.HostTensor(loss),
		GradInput: losses.HostTensor(grad, 1, 2, 1, 2),
	}, losses.GramStyleLossOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("loss %.5f\n", loss[0])
	fmt.Printf("grad %.4f %.4f %.4f %.4f\n", grad[0], grad[1], grad[2], grad[3])
	// Output:
	// loss 13.03125
	// grad 2.3125 3.2500 5.1875 7.3750
}

// A perceptual loss over two layers of different shapes, with layer
// weights: 0.5·mean((x₁ − y₁)²) + 2·mean((x₂ − y₂)²).
func ExampleFeatureLossLayers() {
	dev, _ := device.Open("host")
	x1, y1 := []float32{1, 2, 3, 4}, []float32{1, 2, 3, 2} // MSE 1
	x2, y2 := []float32{0, 1}, []float32{1, 1}             // MSE 0.5
	g1, g2 := make([]float32, 4), make([]float32, 2)
	loss := make([]float32, 1)
	err := losses.FeatureLossLayers(dev, losses.LayersArgs{
		Layers: []losses.LayerPair{
			{Input: losses.HostTensor(x1, 1, 1, 2, 2), Target: losses.HostTensor(y1, 1, 1, 2, 2), GradInput: losses.HostTensor(g1, 1, 1, 2, 2)},
			{Input: losses.HostTensor(x2, 1, 2, 1, 1), Target: losses.HostTensor(y2, 1, 2, 1, 1), GradInput: losses.HostTensor(g2, 1, 2, 1, 1)},
		},
		Loss: losses.HostTensor(loss),
	}, losses.FeatureLossLayersOptions{LayerWeights: []float64{0.5, 2}})
	if err != nil {
		panic(err)
	}
	fmt.Println("loss", loss[0])
	fmt.Println("grads", g1, g2)
	// Output:
	// loss 1.5
	// grads [0 0 0 0.5] [-2 0]
}
