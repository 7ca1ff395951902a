package losses_test

import (
	"fmt"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// The generalized IoU loss of two pairs of boxes (x1, y1, x2, y2): the
// zero options are torchvision's defaults, one loss per pair.
func ExampleGeneralizedBoxIoULoss() {
	dev, _ := device.Open("host")
	pred := []float64{0, 0, 2, 2, 0, 0, 1, 1}
	target := []float64{1, 1, 3, 3, 2, 0, 3, 1}
	loss, grad := make([]float64, 2), make([]float64, 8)
	err := losses.GeneralizedBoxIoULoss(dev, losses.BoxArgs{
		Boxes1:     losses.HostTensor(pred, 2, 4),
		Boxes2:     losses.HostTensor(target, 2, 4),
		Loss:       losses.HostTensor(loss, 2),
		GradBoxes1: losses.HostTensor(grad, 2, 4),
	}, losses.GeneralizedBoxIoULossOptions{})
	if err != nil {
		panic(err)
	}
	// Overlapping: 1 − 1/7 + (9 − 7)/9; disjoint: 1 + (3 − 2)/3.
	fmt.Printf("loss %.4f %.4f\n", loss[0], loss[1])
	fmt.Printf("grad of the first box %.4f %.4f %.4f %.4f\n", grad[0], grad[1], grad[2], grad[3])

	// The mean over the pairs.
	mean := make([]float64, 1)
	err = losses.GeneralizedBoxIoULoss(dev, losses.BoxArgs{
		Boxes1: losses.HostTensor(pred, 2, 4), Boxes2: losses.HostTensor(target, 2, 4), Loss: losses.HostTensor(mean),
	}, losses.GeneralizedBoxIoULossOptions{BoxLossOptions: losses.BoxLossOptions{Reduction: losses.ReductionOpt(losses.Mean)}})
	if err != nil {
		panic(err)
	}
	fmt.Printf("mean %.4f\n", mean[0])
	// Output:
	// loss 1.0794 1.3333
	// grad of the first box -0.0779 -0.0779 -0.2336 -0.2336
	// mean 1.2063
}

// The boundary loss of a 1×5 image with two classes: the signed distance
// maps come from the labels, the loss from the logits.
func ExampleBoundaryLoss() {
	dev, _ := device.Open("host")
	labels := []int32{0, 0, 1, 1, 1} // N = 1, spatial 1×5
	dist := make([]float64, 2*5)
	if err := losses.SignedDistanceMap(dist, labels, []int{1, 1, 5}, 2, nil); err != nil {
		panic(err)
	}
	fmt.Println("class 1 distances:", dist[5:])
	logits := []float64{2, 2, 0, 0, 0, 0, 0, 2, 2, 2} // [1, 2, 1, 5]: class 1 wins on pixels 2..4
	loss, grad := make([]float64, 1), make([]float64, 10)
	err := losses.BoundaryLoss(dev, losses.BoundaryLossArgs{
		Input:     losses.HostTensor(logits, 1, 2, 1, 5),
		DistMap:   losses.HostTensor(dist, 1, 2, 1, 5),
		Loss:      losses.HostTensor(loss),
		GradInput: losses.HostTensor(grad, 1, 2, 1, 5),
	}, losses.BoundaryLossOptions{Idc: []int{1}})
	if err != nil {
		panic(err)
	}
	// p₁ = σ(−2) on pixels 0, 1 and σ(2) on 2..4; (Σ p₁·dist₁) / 5.
	fmt.Printf("loss %.4f\n", loss[0])
	// Output:
	// class 1 distances: [2 1 0 -1 -2]
	// loss -0.4570
}
