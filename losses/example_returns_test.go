package losses_test

import (
	"fmt"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// GAE of one three-step episode that terminates at its last step: with
// λ = 1 the returns are the discounted sums of the rewards, 1 + ½ + ¼,
// 1 + ½ and 1, and the advantages those minus the values.
func ExampleGAE() {
	dev, _ := device.Open("host")
	rewards := []float64{1, 1, 1}
	values := []float64{0.5, 0.5, 0.5}
	terminated := []float64{0, 0, 1}
	adv, ret := make([]float64, 3), make([]float64, 3)
	gamma, lambda := 0.5, 1.0
	err := losses.GAE(dev, losses.GAEArgs{
		Rewards:        losses.HostTensor(rewards, 3, 1),
		Values:         losses.HostTensor(values, 3, 1),
		BootstrapValue: losses.HostTensor([]float64{7}, 1), // not used: the episode terminated
		Terminated:     losses.HostTensor(terminated, 3, 1),
		Advantages:     losses.HostTensor(adv, 3, 1),
		Returns:        losses.HostTensor(ret, 3, 1),
	}, losses.GAEOptions{Gamma: &gamma, Lambda: &lambda})
	if err != nil {
		panic(err)
	}
	fmt.Println("advantages", adv)
	fmt.Println("returns", ret)
	// Output:
	// advantages [1.25 1 0.5]
	// returns [1.75 1.5 1]
}

// The Q-learning loss of two transitions: the TD errors, the mean of ½δ²
// and its gradient w.r.t. q_tm1 (−δ/2 at the action taken, 0 elsewhere).
func ExampleQLearning() {
	dev, _ := device.Open("host")
	qTm1 := []float64{1, 2, 0, 3}
	qT := []float64{4, 1, 2, 2}
	loss, td, grad := make([]float64, 1), make([]float64, 2), make([]float64, 4)
	err := losses.QLearning(dev, losses.QLearningArgs{
		QTm1:      losses.HostTensor(qTm1, 2, 2),
		ATm1:      losses.HostTensor([]int32{1, 0}),
		RT:        losses.HostTensor([]float64{1, 0}),
		DiscountT: losses.HostTensor([]float64{0.5, 0}),
		QT:        losses.HostTensor(qT, 2, 2),
		Loss:      losses.HostTensor(loss, 1),
		TD:        losses.HostTensor(td),
		GradQTm1:  losses.HostTensor(grad, 2, 2),
	}, losses.QLearningOptions{})
	if err != nil {
		panic(err)
	}
	// δ = 1 + 0.5·4 − 2 = 1 and 0 + 0·2 − 0 = 0
	fmt.Println("td", td, "loss", loss[0], "grad", grad)
	// Output:
	// td [1 0] loss 0.25 grad [0 -0.5 -0 0]
}
