package losses_test

import (
	"fmt"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// The Lovász-softmax on probabilities (from_logits false) of one image of
// two pixels and two classes: each class's errors |[y = c] − p_c| sorted
// in descending order, weighted by the Jaccard loss's increments.
func ExampleLovaszSoftmaxLoss() {
	dev, _ := device.Open("host")
	// [N=1, C=2, 2 pixels]: p(class 0) = 0.2, 0.7; p(class 1) = 0.8, 0.3.
	probs := []float64{0.2, 0.7, 0.8, 0.3}
	labels := []int32{1, 0}
	loss, grad := make([]float64, 1), make([]float64, 4)
	fromLogits := false
	err := losses.LovaszSoftmaxLoss(dev, losses.LovaszSoftmaxArgs{
		Input:     losses.HostTensor(probs, 1, 2, 2),
		Target:    losses.HostTensor(labels, 1, 2),
		Loss:      losses.HostTensor(loss),
		GradInput: losses.HostTensor(grad, 1, 2, 2),
	}, losses.LovaszSoftmaxLossOptions{FromLogits: &fromLogits})
	if err != nil {
		panic(err)
	}
	// class 0: errors 0.2 (bg), 0.3 (fg): 0.3·1 + 0.2·0 = 0.3
	// class 1: errors 0.2 (fg), 0.3 (bg): 0.3·0.5 + 0.2·0.5 = 0.25
	fmt.Printf("loss %.3f\n", loss[0])
	fmt.Printf("grad %.3f %.3f %.3f %.3f\n", grad[0], grad[1], grad[2], grad[3])
	// Output:
	// loss 0.275
	// grad 0.000 -0.500 -0.250 0.250
}

// The binary Lovász hinge of two logits against labels 1 and 0.
func ExampleLovaszHingeLoss() {
	dev, _ := device.Open("host")
	loss, grad := make([]float32, 1), make([]float32, 2)
	err := losses.LovaszHingeLoss(dev, losses.LovaszHingeArgs{
		Input:     losses.HostTensor([]float32{2, 0.5}, 1, 2),
		Target:    losses.HostTensor([]int32{1, 0}, 1, 2),
		Loss:      losses.HostTensor(loss),
		GradInput: losses.HostTensor(grad, 1, 2),
	}, losses.LovaszHingeLossOptions{})
	if err != nil {
		panic(err)
	}
	// errors 1 − 2 = −1 and 1 + 0.5 = 1.5: relu(1.5)·0.5 + relu(−1)·0.5
	fmt.Printf("loss %.2f grad %.2f %.2f\n", loss[0], grad[0], grad[1])
	// Output:
	// loss 0.75 grad 0.00 0.50
}
