package losses_test

import (
	"fmt"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// Discrete SAC's actor loss for one state with two actions: equal logits
// give π = (½, ½), so the loss is ½(α·log ½ − 1) + ½(α·log ½ − 3), and the
// gradient π_k·((α·log π_k − Q_k) − loss) pushes the logit of the better
// action (Q = 3) up.
func ExampleSACDiscreteActorLoss() {
	dev, _ := device.Open("host")
	loss, grad := make([]float64, 1), make([]float64, 2)
	alpha := 0.5
	err := losses.SACDiscreteActorLoss(dev, losses.SACDiscreteActorLossArgs{
		Logits:     losses.HostTensor([]float64{0, 0}, 1, 2),
		QValues:    losses.HostTensor([]float64{1, 3}, 1, 2),
		Loss:       losses.HostTensor(loss),
		GradLogits: losses.HostTensor(grad, 1, 2),
	}, losses.SACDiscreteActorLossOptions{Alpha: &alpha})
	if err != nil {
		panic(err)
	}
	fmt.Printf("loss %.4f grad %.2f %.2f\n", loss[0], grad[0], grad[1])
	// Output:
	// loss -2.3466 grad 0.50 -0.50
}

// Continuous SAC's actor loss for one state with one action dimension, at
// mean 0, log_std 0 and noise 0: x = 0, so log π = log N(0; 0, 1) −
// log(1 + 1e-6), and with the critic's gradient dq_da = 2 at the action
// the loss falls fastest by raising the mean.
func ExampleSACContinuousActorLoss() {
	dev, _ := device.Open("host")
	loss, logPi := make([]float64, 1), make([]float64, 1)
	gMean, gLogStd := make([]float64, 1), make([]float64, 1)
	err := losses.SACContinuousActorLoss(dev, losses.SACContinuousActorLossArgs{
		Mean:       losses.HostTensor([]float64{0}, 1, 1),
		LogStd:     losses.HostTensor([]float64{0}, 1, 1),
		Noise:      losses.HostTensor([]float64{0}, 1, 1),
		QValue:     losses.HostTensor([]float64{1.5}),
		DqDa:       losses.HostTensor([]float64{2}, 1, 1),
		Loss:       losses.HostTensor(loss),
		LogPi:      losses.HostTensor(logPi),
		GradMean:   losses.HostTensor(gMean, 1, 1),
		GradLogStd: losses.HostTensor(gLogStd, 1, 1),
	}, losses.SACContinuousActorLossOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("log_pi %.4f loss %.4f grad_mean %.4f grad_log_std %.4f\n", logPi[0], loss[0], gMean[0], gLogStd[0])
	// Output:
	// log_pi -0.9189 loss -1.6838 grad_mean -2.0000 grad_log_std -0.2000
}
