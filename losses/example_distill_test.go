package losses_test

import (
	"fmt"
	"math"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// A DPO step without materialising probabilities: sequence_log_probs
// turns the policy's logits of a chosen and a rejected answer into their
// log-probabilities, dpo_loss scores them against the reference model's,
// and sequence_log_probs again, given dpo_loss's gradients as grad_output,
// gives the gradient w.r.t. the logits.
func ExampleSequenceLogProbs_dpo() {
	dev, _ := device.Open("host")
	l3 := math.Log(3)
	// [B = 2 answers (chosen, rejected), T = 2 tokens, V = 2]: every row
	// has probabilities (1/4, 3/4); the chosen answer's tokens are class 1
	// (3/4 each), the rejected answer's class 0 (1/4 each).
	logits := []float64{0, l3, 0, l3, 0, l3, 0, l3}
	target := []int32{1, 1, 0, 0}
	logps := make([]float64, 2)
	a := losses.SequenceLogProbsArgs{Input: losses.HostTensor(logits, 2, 2, 2), Target: losses.HostTensor(target, 2, 2),
		Output: losses.HostTensor(logps, 2)}
	if err := losses.SequenceLogProbs(dev, a, losses.SequenceLogProbsOptions{}); err != nil {
		panic(err)
	}
	// The reference model is uniform: log(1/2) per token.
	ref := 2 * math.Log(0.5)
	loss, cr, rr, gc, gr := make([]float64, 1), make([]float64, 1), make([]float64, 1), make([]float64, 1), make([]float64, 1)
	err := losses.DPOLoss(dev, losses.DPOArgs{
		PolicyChosenLogps: losses.HostTensor(logps[:1]), PolicyRejectedLogps: losses.HostTensor(logps[1:]),
		ReferenceChosenLogps: losses.HostTensor([]float64{ref}), ReferenceRejectedLogps: losses.HostTensor([]float64{ref}),
		Loss: losses.HostTensor(loss), ChosenRewards: losses.HostTensor(cr), RejectedRewards: losses.HostTensor(rr),
		GradPolicyChosenLogps: losses.HostTensor(gc), GradPolicyRejectedLogps: losses.HostTensor(gr),
	}, losses.DPOLossOptions{}) // beta 0.1, sigmoid
	if err != nil {
		panic(err)
	}
	// The margin is 2 log 3: the loss is softplus(-0.2 log 3).
	fmt.Printf("loss %.5f, rewards %.5f %.5f\n", loss[0], cr[0], rr[0])
	fmt.Printf("d loss / d logps %.5f %.5f\n", gc[0], gr[0])

	// Back through the log-probabilities: grad_output is dpo_loss's gradient.
	grad := make([]float64, 8)
	a.Output = losses.Tensor{}
	a.GradOutput = losses.HostTensor([]float64{gc[0], gr[0]}, 2)
	a.GradInput = losses.HostTensor(grad, 2, 2, 2)
	if err := losses.SequenceLogProbs(dev, a, losses.SequenceLogProbsOptions{}); err != nil {
		panic(err)
	}
	fmt.Printf("d loss / d logits, chosen token 0: %.5f %.5f; rejected token 0: %.5f %.5f\n", grad[0], grad[1], grad[4], grad[5])
	// Output:
	// loss 0.58931, rewards 0.08109 -0.13863
	// d loss / d logps -0.04453 0.04453
	// d loss / d logits, chosen token 0: 0.01113 -0.01113; rejected token 0: 0.03340 -0.03340
}

// The Jensen–Shannon divergence (beta 0.5, Liger's default) of a student
// with probabilities (1/4, 3/4) and a teacher with (3/4, 1/4): both are
// KL((1/4, 3/4) ‖ (1/2, 1/2)) from their mixture.
func ExampleJSDLoss() {
	dev, _ := device.Open("host")
	l3 := math.Log(3)
	loss, grad := make([]float64, 1), make([]float64, 2)
	err := losses.JSDLoss(dev, losses.JSDArgs{
		Input:     losses.HostTensor([]float64{0, l3}, 1, 2),
		Target:    losses.HostTensor([]float64{l3, 0}, 1, 2),
		Loss:      losses.HostTensor(loss),
		GradInput: losses.HostTensor(grad, 1, 2),
	}, losses.JSDLossOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("jsd %.5f (0.25 log 0.5 + 0.75 log 1.5 = %.5f)\n", loss[0], 0.25*math.Log(0.5)+0.75*math.Log(1.5))
	// d/dx_k = ½ Q_k (log(Q_k/M_k) − KL(Q‖M)), M = (½, ½).
	fmt.Printf("grad %.5f %.5f\n", grad[0], grad[1])
	// Output:
	// jsd 0.13081 (0.25 log 0.5 + 0.75 log 1.5 = 0.13081)
	// grad -0.10299 0.10299
}
