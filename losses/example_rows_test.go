package losses_test

import (
	"fmt"
	"math"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

// Cross-entropy with probability targets, and its gradients w.r.t. the
// logits and the target probabilities.
func ExampleCrossEntropyProbsSlices() {
	dev, _ := device.Open("host")
	logits := []float64{0, 0, 0} // uniform: -log p = log 3 for every class
	probs := []float64{0.5, 0.5, 0}
	res, err := losses.CrossEntropyProbsSlices(dev, logits, probs, 1, 3, losses.CrossEntropyProbsOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("loss %.4f (log 3 = %.4f)\n", res.Loss[0], math.Log(3))
	fmt.Printf("grad %.4f %.4f %.4f\n", res.Grad[0], res.Grad[1], res.Grad[2])
	fmt.Printf("grad target %.4f %.4f %.4f\n", res.GradTarget[0], res.GradTarget[1], res.GradTarget[2])
	// Output:
	// loss 1.0986 (log 3 = 1.0986)
	// grad -0.1667 -0.1667 0.3333
	// grad target 1.0986 1.0986 1.0986
}

// nll_loss on log-probabilities with class weights: the mean divides by the
// weights of the targets, and the ignored row counts for nothing.
func ExampleNLLLossSlices() {
	dev, _ := device.Open("host")
	logProbs := []float64{
		-1, -2, -3,
		-0.5, -1.5, -2.5,
		-7, -8, -9, // ignored
	}
	res, err := losses.NLLLossSlices(dev, logProbs, []int32{2, 0, -100}, 3, 3,
		losses.NLLLossOptions{Weight: []float64{1, 2, 3}})
	if err != nil {
		panic(err)
	}
	fmt.Println("loss", res.Loss[0], "= (3·3 + 1·0.5) / (3 + 1)")
	fmt.Println("grad", res.Grad[:6])
	// Output:
	// loss 2.375 = (3·3 + 1·0.5) / (3 + 1)
	// grad [0 0 -0.75 -0.25 0 0]
}

// The softmax focal loss down-weights a well-classified sample: with
// gamma 2, p_t = 0.9 costs 1% of its cross-entropy.
func ExampleFocalLossSlices() {
	dev, _ := device.Open("host")
	// Logits (log 9, 0): p = (0.9, 0.1).
	x := []float64{math.Log(9), 0}
	fl, _ := losses.FocalLossSlices(dev, x, []int32{0}, 1, 2, losses.FocalLossOptions{})
	ce, _ := losses.FocalLossSlices(dev, x, []int32{0}, 1, 2, losses.FocalLossOptions{Gamma: new(0.0)})
	fmt.Printf("focal %.6f, cross-entropy %.6f, ratio %.2f\n", fl.Loss[0], ce.Loss[0], fl.Loss[0]/ce.Loss[0])
	// Output:
	// focal 0.001054, cross-entropy 0.105361, ratio 0.01
}

// multi_margin_loss, PyTorch's documented example.
func ExampleMultiMarginLossSlices() {
	dev, _ := device.Open("host")
	res, _ := losses.MultiMarginLossSlices(dev, []float64{0.1, 0.2, 0.4, 0.8}, []int32{3}, 1, 4, losses.MultiMarginOptions{})
	fmt.Printf("loss %.4f, grad %v\n", res.Loss[0], res.Grad)
	// Output:
	// loss 0.3250, grad [0.25 0.25 0.25 -0.75]
}

// Keras' categorical_hinge: the runner-up score must trail the target's by
// the margin 1.
func ExampleCategoricalHingeSlices() {
	dev, _ := device.Open("host")
	scores := []float64{3, 2, 0.5}
	onehot := []float64{0, 1, 0}
	res, _ := losses.CategoricalHingeSlices(dev, scores, onehot, 1, 3, losses.CategoricalHingeOptions{})
	fmt.Println("loss", res.Loss[0], "grad", res.Grad)
	// Output:
	// loss 2 grad [1 -1 0]
}

// Knowledge distillation at temperature 2, the gradient written over the
// student's logits in place (buffer form, float32).
func ExampleDistillKL() {
	dev := host.Default()
	student := []float32{0, 0}
	teacher := []float32{0, float32(2 * math.Log(3))} // softmax(t/2) = (1/4, 3/4)
	s, _ := host.Wrap(student)
	t, _ := host.Wrap(teacher)
	loss := make([]float32, 1)
	l, _ := host.Wrap(loss)
	err := losses.DistillKL(dev, losses.RowLossBuffers{Input: s, Target: t, N: 1, C: 2, Loss: l, Grad: s},
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
