package losses_test

import (
	"fmt"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// CleanRL's PPO loss of two steps of a two-action policy with uniform
// logits: log π(a) = −log 2 = the old log-probabilities (ratio 1), entropy
// log 2, advantages ±1 (not normalised), values 1 and 0 against returns 0.
func ExampleActorCriticLoss() {
	dev, _ := device.Open("host")
	logits := []float64{0, 0, 0, 0}
	gradLogits, gradValues := make([]float64, 4), make([]float64, 2)
	loss, pol, val, ent := make([]float64, 1), make([]float64, 1), make([]float64, 1), make([]float64, 1)
	err := losses.ActorCriticLoss(dev, losses.ActorCriticLossArgs{
		Logits:       losses.HostTensor(logits, 2, 2),
		Actions:      losses.HostTensor([]int32{0, 1}),
		OldLogProbs:  losses.HostTensor([]float64{-0.6931471805599453, -0.6931471805599453}),
		Advantages:   losses.HostTensor([]float64{1, -1}),
		Values:       losses.HostTensor([]float64{1, 0}),
		Returns:      losses.HostTensor([]float64{0, 0}),
		Loss:         losses.HostTensor(loss),
		PolicyLoss:   losses.HostTensor(pol),
		ValueLossOut: losses.HostTensor(val),
		Entropy:      losses.HostTensor(ent),
		GradLogits:   losses.HostTensor(gradLogits, 2, 2),
		GradValues:   losses.HostTensor(gradValues),
	}, losses.ActorCriticLossOptions{PolicyLoss: "ppo"})
	if err != nil {
		panic(err)
	}
	// policy mean(−A·1) = 0; value mean(½(v − R)²) = 0.25; entropy log 2;
	// loss = 0 + 0.5·0.25 − 0.01·log 2
	fmt.Printf("loss %.6f policy %.4f value %.4f entropy %.6f\n", loss[0], pol[0], val[0], ent[0])
	// −A/N·(onehot − ½) per row: row 0 (a = 0, A = 1) and row 1 (a = 1, A = −1)
	// alike; 0.5·(v − R)/N
	fmt.Printf("grad logits %.2f, grad values %.2f\n", gradLogits, gradValues)
	// Output:
	// loss 0.118069 policy 0.0000 value 0.2500 entropy 0.693147
	// grad logits [-0.25 0.25 -0.25 0.25], grad values [0.25 0.00]
}
