package losses_test

import (
	"fmt"
	"math"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

// Cross-entropy with probability targets (a float target [N, C]), and its
// gradients w.r.t. the logits and the target probabilities.
func ExampleCrossEntropy_probabilities() {
	dev, _ := device.Open("host")
	logits := []float64{0, 0, 0} // uniform: -log p = log 3 for every class
	probs := []float64{0.5, 0.5, 0}
	loss, grad, gradTarget := make([]float64, 1), make([]float64, 3), make([]float64, 3)
	err := losses.CrossEntropy(dev, losses.CrossEntropyArgs{
		Input:      losses.HostTensor(logits, 1, 3),
		Target:     losses.HostTensor(probs, 1, 3),
		Loss:       losses.HostTensor(loss),
		GradInput:  losses.HostTensor(grad, 1, 3),
		GradTarget: losses.HostTensor(gradTarget, 1, 3),
	}, losses.CrossEntropyOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("loss %.4f (log 3 = %.4f)\n", loss[0], math.Log(3))
	fmt.Printf("grad %.4f %.4f %.4f\n", grad[0], grad[1], grad[2])
	fmt.Printf("grad target %.4f %.4f %.4f\n", gradTarget[0], gradTarget[1], gradTarget[2])
	// Output:
	// loss 1.0986 (log 3 = 1.0986)
	// grad -0.1667 -0.1667 0.3333
	// grad target 1.0986 1.0986 1.0986
}

// nll_loss on log-probabilities with class weights: the mean divides by the
// weights of the targets, and the ignored row counts for nothing.
func ExampleNLLLoss() {
	dev, _ := device.Open("host")
	logProbs := []float64{
		-1, -2, -3,
		-0.5, -1.5, -2.5,
		-7, -8, -9, // ignored
	}
	loss, grad := make([]float64, 1), make([]float64, 9)
	err := losses.NLLLoss(dev, losses.ClassTargetArgs{
		Input:     losses.HostTensor(logProbs, 3, 3),
		Target:    losses.HostTensor([]int32{2, 0, -100}),
		Loss:      losses.HostTensor(loss),
		GradInput: losses.HostTensor(grad, 3, 3),
	}, losses.NLLLossOptions{Weight: []float64{1, 2, 3}})
	if err != nil {
		panic(err)
	}
	fmt.Println("loss", loss[0], "= (3·3 + 1·0.5) / (3 + 1)")
	fmt.Println("grad", grad[:6])
	// Output:
	// loss 2.375 = (3·3 + 1·0.5) / (3 + 1)
	// grad [0 0 -0.75 -0.25 0 0]
}

// The softmax focal loss down-weights a well-classified sample: with
// gamma 2, p_t = 0.9 costs 1% of its cross-entropy.
func ExampleFocalLoss() {
	dev, _ := device.Open("host")
	// Logits (log 9, 0): p = (0.9, 0.1).
	x := losses.HostTensor([]float64{math.Log(9), 0}, 1, 2)
	target := losses.HostTensor([]int32{0})
	fl, ce := make([]float64, 1), make([]float64, 1)
	_ = losses.FocalLoss(dev, losses.ClassTargetArgs{Input: x, Target: target, Loss: losses.HostTensor(fl)}, losses.FocalLossOptions{})
	_ = losses.FocalLoss(dev, losses.ClassTargetArgs{Input: x, Target: target, Loss: losses.HostTensor(ce)},
		losses.FocalLossOptions{Gamma: losses.Value(0.0)})
	fmt.Printf("focal %.6f, cross-entropy %.6f, ratio %.2f\n", fl[0], ce[0], fl[0]/ce[0])
	// Output:
	// focal 0.001054, cross-entropy 0.105361, ratio 0.01
}

// multi_margin_loss, PyTorch's documented example.
func ExampleMultiMarginLoss() {
	dev, _ := device.Open("host")
	loss, grad := make([]float64, 1), make([]float64, 4)
	_ = losses.MultiMarginLoss(dev, losses.ClassTargetArgs{
		Input:     losses.HostTensor([]float64{0.1, 0.2, 0.4, 0.8}, 1, 4),
		Target:    losses.HostTensor([]int32{3}),
		Loss:      losses.HostTensor(loss),
		GradInput: losses.HostTensor(grad, 1, 4),
	}, losses.MultiMarginLossOptions{})
	fmt.Printf("loss %.4f, grad %v\n", loss[0], grad)
	// Output:
	// loss 0.3250, grad [0.25 0.25 0.25 -0.75]
}

// Keras' categorical_hinge: the runner-up score must trail the target's by
// the margin 1.
func ExampleCategoricalHinge() {
	dev, _ := device.Open("host")
	loss, grad := make([]float64, 1), make([]float64, 3)
	_ = losses.CategoricalHinge(dev, losses.RowArgs{
		Input:     losses.HostTensor([]float64{3, 2, 0.5}, 1, 3),
		Target:    losses.HostTensor([]float64{0, 1, 0}, 1, 3), // one-hot
		Loss:      losses.HostTensor(loss),
		GradInput: losses.HostTensor(grad, 1, 3),
	}, losses.CategoricalHingeOptions{})
	fmt.Println("loss", loss[0], "grad", grad)
	// Output:
	// loss 2 grad [1 -1 0]
}

// Knowledge distillation at temperature 2, float32, on device buffers (the
// buffer form a training backend uses: NewTensor takes a buffer of the
// device as it is), the gradient written over the student's logits in
// place.
func ExampleDistillKL() {
	dev := host.Default()
	student := []float32{0, 0}
	teacher := []float32{0, float32(2 * math.Log(3))} // softmax(t/2) = (1/4, 3/4)
	s, _ := host.Wrap(student)
	t, _ := host.Wrap(teacher)
	loss := make([]float32, 1)
	l, _ := host.Wrap(loss)
	in := losses.NewTensor(s, 1, 2)
	err := losses.DistillKL(dev, losses.RowArgs{Input: in, Target: losses.NewTensor(t, 1, 2), Loss: losses.NewTensor(l), GradInput: in},
		losses.DistillKLOptions{Temperature: 2})
	if err != nil {
		panic(err)
	}
	fmt.Printf("loss %.4f = 4·KL((1/4, 3/4) || (1/2, 1/2))\n", loss[0])
	fmt.Printf("grad %.4f %.4f = 2·(p - q)\n", student[0], student[1])
	// Output:
	// loss 0.5232 = 4·KL((1/4, 3/4) || (1/2, 1/2))
	// grad 0.5000 -0.5000 = 2·(p - q)
}
