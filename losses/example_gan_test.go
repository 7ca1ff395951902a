package losses_test

import (
	"fmt"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// The hinge discriminator loss of three real and two generated outputs,
// and the generator's loss on the same generated outputs.
func ExampleGanDiscriminatorLoss() {
	dev, _ := device.Open("host")
	real := []float64{0.5, 2, 1.5}
	gen := []float64{-2, 0}
	loss, gr, gg := make([]float64, 1), make([]float64, 3), make([]float64, 2)
	err := losses.GanDiscriminatorLoss(dev, losses.GanArgs{
		RealLogits: losses.HostTensor(real), GenLogits: losses.HostTensor(gen), Loss: losses.HostTensor(loss),
		GradRealLogits: losses.HostTensor(gr), GradGenLogits: losses.HostTensor(gg),
	}, losses.GanDiscriminatorLossOptions{Kind: losses.GanHinge})
	if err != nil {
		panic(err)
	}
	// mean relu(1 − real) + mean relu(1 + gen) = 0.5/3 + 1/2
	fmt.Printf("D loss %.4f, grad real %v, grad gen %v\n", loss[0], gr, gg)

	gl := make([]float64, 1)
	err = losses.GanGeneratorLoss(dev, losses.GanGeneratorArgs{GenLogits: losses.HostTensor(gen), Loss: losses.HostTensor(gl)},
		losses.GanGeneratorLossOptions{Kind: losses.GanHinge})
	if err != nil {
		panic(err)
	}
	fmt.Printf("G loss %.4f\n", gl[0])
	// Output:
	// D loss 0.6667, grad real [-0.3333333333333333 0 0], grad gen [0 0.5]
	// G loss 1.0000
}

// The WGAN-GP penalty of two samples' discriminator gradients (as the
// caller's autodiff gives them): 10·mean((‖g‖ − 1)²).
func ExampleGradientPenalty() {
	dev, _ := device.Open("host")
	g := []float64{3, 4, 0.6, 0.8} // norms 5 and 1
	loss, grad := make([]float64, 1), make([]float64, 4)
	err := losses.GradientPenalty(dev, losses.GradientPenaltyArgs{Gradients: losses.HostTensor(g, 2, 2),
		Loss: losses.HostTensor(loss), GradGradients: losses.HostTensor(grad, 2, 2)}, losses.GradientPenaltyOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("penalty %.4f, grad of the first row %.4f %.4f\n", loss[0], grad[0], grad[1])
	// Output:
	// penalty 80.0000, grad of the first row 24.0000 32.0000
}
