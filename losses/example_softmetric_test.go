package losses_test

import (
	"fmt"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// The soft F1 loss of four predictions of one class: tp = 1.2, fp = 1.0,
// fn = 0.8, so F1 = 2.4 / 4.2.
func ExampleSoftF1Loss() {
	dev, _ := device.Open("host")
	p := []float64{0.8, 0.3, 0.4, 0.7}
	y := []float64{1, 0, 1, 0}
	loss, grad := make([]float64, 1), make([]float64, 4)
	err := losses.SoftF1Loss(dev, losses.SoftMetricArgs{
		Input: losses.HostTensor(p, 4, 1), Target: losses.HostTensor(y, 4, 1),
		Loss: losses.HostTensor(loss), GradInput: losses.HostTensor(grad, 4, 1),
	}, losses.SoftF1LossOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("loss %.4f\n", loss[0])
	fmt.Printf("grad %.4f %.4f\n", grad[0], grad[1]) // (F1 − 2y)/D, D = 4.2
	// Output:
	// loss 0.4286
	// grad -0.3401 0.1361
}

// segmentation_models_pytorch's MCC loss on the same predictions.
func ExampleSoftMCCLoss() {
	dev, _ := device.Open("host")
	p := []float64{0.8, 0.3, 0.4, 0.7}
	y := []float64{1, 0, 1, 0}
	loss := make([]float64, 1)
	err := losses.SoftMCCLoss(dev, losses.SoftMetricArgs{
		Input: losses.HostTensor(p, 1, 1, 2, 2), Target: losses.HostTensor(y, 1, 1, 2, 2), Loss: losses.HostTensor(loss),
	}, losses.SoftMCCLossOptions{})
	if err != nil {
		panic(err)
	}
	// (1.2·1.0 − 1.0·0.8) / √(2.2·2.0·2.0·1.8), each sum + 1e-5
	fmt.Printf("loss %.4f\n", loss[0])
	// Output:
	// loss 0.8995
}
