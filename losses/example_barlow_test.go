package losses_test

import (
	"fmt"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// Barlow Twins' loss of two views of four samples with two features: the
// views' standardised columns are equal and uncorrelated, so the
// cross-correlation matrix is the identity up to BatchNorm's eps and the
// loss is nearly 0; swapping the second view's columns makes it the
// exchange matrix, loss 2 + 2λ.
func ExampleBarlowTwinsLoss() {
	dev, _ := device.Open("host")
	z1 := []float64{1, 1, -1, 1, 1, -1, -1, -1}
	z2 := []float64{1, 1, 1, -1, -1, 1, -1, -1}
	loss, g1 := make([]float64, 1), make([]float64, 8)
	err := losses.BarlowTwinsLoss(dev, losses.BarlowTwinsArgs{
		Z1: losses.HostTensor(z1, 4, 2), Z2: losses.HostTensor(z1, 4, 2),
		Loss: losses.HostTensor(loss), GradZ1: losses.HostTensor(g1, 4, 2),
	}, losses.BarlowTwinsLossOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("same views: %.1e\n", loss[0])
	err = losses.BarlowTwinsLoss(dev, losses.BarlowTwinsArgs{
		Z1: losses.HostTensor(z1, 4, 2), Z2: losses.HostTensor(z2, 4, 2), Loss: losses.HostTensor(loss),
	}, losses.BarlowTwinsLossOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("swapped columns: %.4f\n", loss[0])
	// Output:
	// same views: 2.0e-10
	// swapped columns: 2.0100
}
