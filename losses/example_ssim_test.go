package losses_test

import (
	"fmt"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// 1 − SSIM of two constant 11 x 11 images (one window): the variances are
// 0, so SSIM is (2ab + C1) / (a² + b² + C1) with C1 = (0.01·255)².
func ExampleSSIMLoss() {
	dev, _ := device.Open("host")
	x, y := make([]float64, 121), make([]float64, 121)
	for i := range x {
		x[i], y[i] = 100, 120
	}
	loss := make([]float64, 1)
	err := losses.SSIMLoss(dev, losses.SSIMArgs{
		Input:  losses.HostTensor(x, 1, 1, 11, 11),
		Target: losses.HostTensor(y, 1, 1, 11, 11),
		Loss:   losses.HostTensor(loss),
	}, losses.SSIMLossOptions{})
	if err != nil {
		panic(err)
	}
	c1 := 2.55 * 2.55
	fmt.Printf("loss %.6f (formula %.6f)\n", loss[0], 1-(2*100*120+c1)/(100*100+120*120+c1))
	// Output:
	// loss 0.016389 (formula 0.016389)
}

// Total variation of a 2 x 3 ramp with the three norms: the differences
// are 1 along the rows (4 of them) and 3 down the columns (3): l1 13,
// l2_squared 4 + 27 = 31, l2 its square root.
func ExampleTotalVariation() {
	dev, _ := device.Open("host")
	x := []float64{0, 1, 2, 3, 4, 5}
	for _, norm := range []losses.TVNorm{losses.TVL1, losses.TVL2Squared, losses.TVL2} {
		loss, grad := make([]float64, 1), make([]float64, 6)
		err := losses.TotalVariation(dev, losses.TVArgs{
			Input:     losses.HostTensor(x, 1, 1, 2, 3),
			Loss:      losses.HostTensor(loss),
			GradInput: losses.HostTensor(grad, 1, 1, 2, 3),
		}, losses.TotalVariationOptions{NormType: norm})
		if err != nil {
			panic(err)
		}
		fmt.Printf("%-10s %.4f grad %.4f\n", norm, loss[0], grad)
	}
	// Output:
	// l1         13.0000 grad [-2.0000 -1.0000 0.0000 0.0000 1.0000 2.0000]
	// l2_squared 31.0000 grad [-8.0000 -6.0000 -4.0000 4.0000 6.0000 8.0000]
	// l2         5.5678 grad [-0.7184 -0.5388 -0.3592 0.3592 0.5388 0.7184]
}
