package losses_test

import (
	"fmt"
	"math"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// Clipping the gradients of two parameters to a global 2-norm of 1, in
// place, as torch.nn.utils.clip_grad_norm_ does: the total norm is 13, and
// every gradient is scaled by 1 / (13 + 1e-6).
func ExampleClipGradNorm() {
	dev, _ := device.Open("host")
	weight := []float32{3, 4, 0, 12}
	bias := []float32{0}
	total, err := losses.ClipGradNorm(dev, []losses.Tensor{losses.HostTensor(weight, 2, 2), losses.HostTensor(bias)},
		losses.ClipGradNormOptions{MaxNorm: 1})
	if err != nil {
		panic(err)
	}
	fmt.Printf("total norm %g\n", total)
	fmt.Printf("clipped %.4f %.4f\n", weight, bias)

	// The largest |g| instead (norm_type inf); below max_norm nothing changes.
	total, _ = losses.ClipGradNorm(dev, []losses.Tensor{losses.HostTensor(weight, 2, 2)},
		losses.ClipGradNormOptions{MaxNorm: 10, NormType: losses.ClipNormType(math.Inf(1))})
	fmt.Printf("max |g| %.4f, unchanged %.4f\n", total, weight)
	// Output:
	// total norm 13
	// clipped [0.2308 0.3077 0.0000 0.9231] [0.0000]
	// max |g| 0.9231, unchanged [0.2308 0.3077 0.0000 0.9231]
}

// Clamping every gradient to [−0.5, 0.5], as clip_grad_value_ does.
func ExampleClipGradValue() {
	dev, _ := device.Open("host")
	g := []float64{-2, 0.25, 0.75}
	if err := losses.ClipGradValue(dev, []losses.Tensor{losses.HostTensor(g)}, losses.ClipGradValueOptions{ClipValue: 0.5}); err != nil {
		panic(err)
	}
	fmt.Println(g)
	// Output:
	// [-0.5 0.25 0.5]
}
