package losses_test

import (
	"fmt"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// The Dice loss of one sample with two classes over two pixels, with
// probabilities as input (activation none) and class-index targets:
// class 0 has I = 0.8, P = 1.1, T = 1, so 1 − 1.6/2.1; class 1 has
// I = 0.7, P = 0.9, T = 1, so 1 − 1.4/1.9. The input is [N, C, W]: the
// class dimension has the stride W.
func ExampleDiceLoss() {
	dev, _ := device.Open("host")
	probs := []float64{0.8, 0.3, 0.2, 0.7} // class 0: pixels 0, 1; class 1: pixels 0, 1
	target := []int32{0, 1}
	loss, grad := make([]float64, 2), make([]float64, 4)
	zero := 0.0
	err := losses.DiceLoss(dev, losses.DiceArgs{
		Input:     losses.HostTensor(probs, 1, 2, 2),
		Target:    losses.HostTensor(target, 1, 2),
		Loss:      losses.HostTensor(loss, 1, 2), // reduction none: [N, C]
		GradInput: losses.HostTensor(grad, 1, 2, 2),
	}, losses.DiceLossOptions{OverlapOptions: losses.OverlapOptions{
		SmoothNr: &zero, SmoothDr: &zero, Reduction: losses.None}})
	if err != nil {
		panic(err)
	}
	fmt.Printf("loss %.4f %.4f (%.4f %.4f)\n", loss[0], loss[1], 1-1.6/2.1, 1-1.4/1.9)
	fmt.Printf("grad %.4f %.4f %.4f %.4f\n", grad[0], grad[1], grad[2], grad[3])
	// Output:
	// loss 0.2381 0.2632 (0.2381 0.2632)
	// grad -0.5896 0.3628 0.3878 -0.6648
}

// The Tversky loss with logits and a per-pixel softmax, false negatives
// weighed more than false positives (β > α), pooled over the batch. The
// background's p is σ(4), σ(−2), ½, σ(2) at the four pixels: class 0 has
// I = 1.4820, false positives 1.0000 and false negatives 0.5180, so
// 1 − I/(I + 0.3·1 + 0.7·0.518) = 0.3090; class 1 has I = 1, false
// positives 0.5180, false negatives 1, so 0.4610; their mean is 0.3850.
func ExampleTverskyLoss() {
	dev, _ := device.Open("host")
	logits := []float32{2, -1, 0, 1, -2, 1, 0, -1} // [1, 2, 4]
	target := []int32{0, 1, 0, 1}
	loss := make([]float32, 1)
	alpha, beta := 0.3, 0.7
	err := losses.TverskyLoss(dev, losses.DiceArgs{
		Input:  losses.HostTensor(logits, 1, 2, 4),
		Target: losses.HostTensor(target, 1, 4),
		Loss:   losses.HostTensor(loss),
	}, losses.TverskyLossOptions{OverlapOptions: losses.OverlapOptions{Activation: "softmax", Batch: true},
		Alpha: &alpha, Beta: &beta})
	if err != nil {
		panic(err)
	}
	fmt.Printf("loss %.4f\n", loss[0])
	// Output:
	// loss 0.3850
}
