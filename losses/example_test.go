package losses_test

import (
	"fmt"
	"math"
	"sort"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

// Cross-entropy of two samples over three classes on the host, with the
// gradient w.r.t. the logits. Go slices are wrapped as tensors of the
// given shapes (on the host device, without a copy); the results land in
// the output slices.
func ExampleCrossEntropy() {
	dev, err := device.Open("host")
	if err != nil {
		panic(err)
	}
	logits := []float64{
		2, 0, 0, // sample 0
		0, 0, 0, // sample 1: uniform, loss log 3
	}
	target := []int32{0, 2}
	loss := make([]float64, 2) // one loss per sample: reduction None
	grad := make([]float64, 2*3)
	err = losses.CrossEntropy(dev, losses.CrossEntropyArgs{
		Input:     losses.HostTensor(logits, 2, 3),
		Target:    losses.HostTensor(target),
		Loss:      losses.HostTensor(loss),
		GradInput: losses.HostTensor(grad, 2, 3),
	}, losses.CrossEntropyOptions{Reduction: losses.None})
	if err != nil {
		panic(err)
	}
	fmt.Printf("loss: %.4f %.4f\n", loss[0], loss[1])
	fmt.Printf("grad row 1: %.4f %.4f %.4f\n", grad[3], grad[4], grad[5])
	// Output:
	// loss: 0.2395 1.0986
	// grad row 1: 0.3333 0.3333 -0.6667
}

// Bad arguments are rejected before anything runs, with an error naming
// the argument: a target out of range, a tensor of the wrong shape.
func ExampleCrossEntropy_error() {
	dev, _ := device.Open("host")
	logits := losses.HostTensor([]float32{1, 2}, 1, 2)
	loss := losses.HostTensor(make([]float32, 1))
	err := losses.CrossEntropy(dev, losses.CrossEntropyArgs{Input: logits, Target: losses.HostTensor([]int32{5}), Loss: loss},
		losses.CrossEntropyOptions{})
	fmt.Println(err)
	err = losses.CrossEntropy(dev, losses.CrossEntropyArgs{Input: logits, Target: losses.HostTensor([]int32{0, 1}), Loss: loss},
		losses.CrossEntropyOptions{})
	fmt.Println(err)
	// Output:
	// losses: cross_entropy: target: target[0] = 5 is out of range [0, 2) and is not ignore_index (-100)
	// losses: cross_entropy: target: has shape [2]: want [N] = [1] (class indices)
}

// mse_loss with its gradients w.r.t. input and target.
func ExampleMSELoss() {
	dev, _ := device.Open("host")
	loss, grad, gradTarget := make([]float64, 1), make([]float64, 3), make([]float64, 3)
	err := losses.MSELoss(dev, losses.ElementwiseArgs{
		Input:      losses.HostTensor([]float64{1, 2, 3}),
		Target:     losses.HostTensor([]float64{1, 0, 3}),
		Loss:       losses.HostTensor(loss),
		GradInput:  losses.HostTensor(grad),
		GradTarget: losses.HostTensor(gradTarget),
	}, losses.MSELossOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Println(loss[0], grad, gradTarget)
	// Output:
	// 1.3333333333333333 [0 1.3333333333333333 0] [-0 -1.3333333333333333 -0]
}

// An elementwise loss with per-sample weights and a mask: huber_loss over a
// [2, 2] batch, the second sample weighted 2, one element masked out. The
// weight [2, 1] and the mask [2, 2] broadcast against the input by their
// shapes, as in NumPy.
func ExampleHuberLoss() {
	dev, err := device.Open("host")
	if err != nil {
		panic(err)
	}
	loss, grad := make([]float64, 1), make([]float64, 4)
	err = losses.HuberLoss(dev, losses.ElementwiseArgs{
		Input:     losses.HostTensor([]float64{3, 0.5, -1, 0.25}, 2, 2),
		Target:    losses.HostTensor([]float64{0, 0, 0, 0}, 2, 2),
		Weight:    losses.HostTensor([]float64{1, 2}, 2, 1),
		Mask:      losses.HostTensor([]int32{1, 1, 1, 0}, 2, 2),
		Loss:      losses.HostTensor(loss),
		GradInput: losses.HostTensor(grad, 2, 2),
	}, losses.HuberLossOptions{Delta: losses.Value(1)})
	if err != nil {
		fmt.Println(err)
		return
	}
	// (2.5 + 0.125 + 2·0.5) / 3 elements kept
	fmt.Printf("loss %.4f\ngrad %.4f\n", loss[0], grad)
	// Output:
	// loss 1.2083
	// grad [0.3333 0.1667 -0.6667 0.0000]
}

// Softmax with temperature 2 and, since GradInput is given, its backward:
// the gradient of Σ grad_output·softmax(x/2).
func ExampleSoftmax() {
	dev, _ := device.Open("host")
	out, grad := make([]float64, 2), make([]float64, 2)
	err := losses.Softmax(dev, losses.SoftmaxArgs{
		Input:      losses.HostTensor([]float64{0, 0}, 1, 2),
		GradOutput: losses.HostTensor([]float64{1, 0}, 1, 2),
		Output:     losses.HostTensor(out, 1, 2),
		GradInput:  losses.HostTensor(grad, 1, 2),
	}, losses.SoftmaxOptions{Temperature: losses.Value(2)})
	if err != nil {
		panic(err)
	}
	fmt.Println(out, grad)
	// Output:
	// [0.5 0.5] [0.125 -0.125]
}

// CTC loss of the target "1 2" over four frames with uniform
// probabilities over three classes (class 0 is the blank): 15 of the 81
// frame labellings collapse to the target, so the loss is log(81/15).
// Targets of shape [N, S] are padded; a 1-D Targets would be the
// concatenated form.
func ExampleCTCLoss() {
	dev, err := device.Open("host")
	if err != nil {
		panic(err)
	}
	logProbs := make([]float64, 4*1*3) // [T=4, N=1, C=3]
	for i := range logProbs {
		logProbs[i] = -math.Log(3)
	}
	loss, grad := make([]float64, 1), make([]float64, len(logProbs))
	ll, llBeta := make([]float64, 1), make([]float64, 1)
	err = losses.CTCLoss(dev, losses.CTCLossArgs{
		LogProbs:          losses.HostTensor(logProbs, 4, 1, 3),
		Targets:           losses.HostTensor([]int32{1, 2}, 1, 2),
		InputLengths:      losses.HostTensor([]int32{4}),
		TargetLengths:     losses.HostTensor([]int32{2}),
		Loss:              losses.HostTensor(loss),
		GradLogProbs:      losses.HostTensor(grad, 4, 1, 3),
		LogLikelihood:     losses.HostTensor(ll),
		LogLikelihoodBeta: losses.HostTensor(llBeta),
	}, losses.CTCLossOptions{Reduction: losses.None})
	if err != nil {
		panic(err)
	}
	fmt.Printf("loss %.4f = log(81/15) %.4f\n", loss[0], math.Log(81.0/15))
	fmt.Printf("log-likelihood forward %.4f, backward %.4f\n", ll[0], llBeta[0])
	fmt.Printf("grad at t=0 (exact): %.4f %.4f %.4f\n", grad[0], grad[1], grad[2])
	// Output:
	// loss 1.6864 = log(81/15) 1.6864
	// log-likelihood forward -1.6864, backward -1.6864
	// grad at t=0 (exact): -0.3333 -0.6667 0.0000
}

// Teacher-forced sequence cross-entropy over logits [N=1, T=3, V=4], the
// last step padding: with uniform logits every token costs log 4, and the
// mean over the two tokens gives each gradient row (1/4 − onehot) / 2.
func ExampleSeqCrossEntropy() {
	dev, _ := device.Open("host")
	logits := make([]float64, 1*3*4)
	loss, grad := make([]float64, 1), make([]float64, len(logits))
	err := losses.SeqCrossEntropy(dev, losses.SeqCrossEntropyArgs{
		Input:     losses.HostTensor(logits, 1, 3, 4),
		Target:    losses.HostTensor([]int32{0, 2, -1}, 1, 3),
		Loss:      losses.HostTensor(loss),
		GradInput: losses.HostTensor(grad, 1, 3, 4),
	}, losses.SeqCrossEntropyOptions{PadIndex: losses.Index(-1)})
	if err != nil {
		panic(err)
	}
	fmt.Printf("loss %.4f (log 4 = %.4f)\n", loss[0], math.Log(4))
	fmt.Println("grad step 0", grad[0:4])
	fmt.Println("grad step 2", grad[8:12])
	// Output:
	// loss 1.3863 (log 4 = 1.3863)
	// grad step 0 [-0.375 0.125 0.125 0.125]
	// grad step 2 [0 0 0 0]
}

// A loss called by name, as `lossbench eval` and the cross-checks do:
// the declaration allocates every output for the given inputs and returns
// them by PyTorch's names.
func ExampleDecl_Call() {
	d, ok := losses.Lookup("mse_loss")
	if !ok {
		panic("mse_loss is not declared")
	}
	opt, err := d.DecodeOptions([]byte(`{"reduction": "sum"}`))
	if err != nil {
		panic(err)
	}
	out, err := d.Call(host.Default(), map[string]losses.Tensor{
		"input":  losses.HostTensor([]float64{1, 2, 3}),
		"target": losses.HostTensor([]float64{1, 0, 3}),
	}, opt)
	if err != nil {
		panic(err)
	}
	for _, name := range sortedKeys(out) {
		fmt.Println(name, out[name].Shape, losses.Floats(out[name]))
	}
	// Output:
	// grad_input [3] [0 4 0]
	// grad_target [3] [-0 -4 -0]
	// loss [] [4]
}

// Options by PyTorch's keyword names; a name the loss does not have is an
// error that lists those it has.
func ExampleDecl_DecodeOptions() {
	d, _ := losses.Lookup("huber_loss")
	opt, err := d.DecodeOptions([]byte(`{"reduction": "none", "delta": 0.5}`))
	if err != nil {
		panic(err)
	}
	o := opt.(*losses.HuberLossOptions)
	fmt.Println(o.Reduction, *o.Delta)
	_, err = d.DecodeOptions([]byte(`{"beta": 0.5}`))
	fmt.Println(err)
	// Output:
	// none 0.5
	// losses: huber_loss: beta: unknown option "beta" (options of huber_loss: delta, nan_policy, reduction, skip_input_check)
}

// sortedKeys returns m's keys in increasing order.
func sortedKeys[V any](m map[string]V) []string {
	ks := keys(m)
	sort.Strings(ks)
	return ks
}
