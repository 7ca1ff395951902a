package losses_test

import (
	"fmt"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// Batch-hard triplet loss of four points on a line, two per class: each
// anchor's farthest positive against its nearest negative.
func ExampleBatchTripletLoss() {
	dev, _ := device.Open("host")
	x := []float64{0, 1, 3, 7}
	labels := []int32{0, 0, 1, 1}
	loss, grad := make([]float64, 1), make([]float64, 4)
	margin := 1.5
	err := losses.BatchTripletLoss(dev, losses.MiningArgs{
		Embeddings:     losses.HostTensor(x, 4, 1),
		Labels:         losses.HostTensor(labels, 4),
		Loss:           losses.HostTensor(loss),
		GradEmbeddings: losses.HostTensor(grad, 4, 1),
	}, losses.BatchTripletLossOptions{Margin: &margin})
	if err != nil {
		panic(err)
	}
	// Anchor 1: 1.5 + 1 − 2; anchor 2: 1.5 + 4 − 2; anchors 0 and 3: 0.
	fmt.Printf("loss %.4f\n", loss[0])
	fmt.Printf("grad %.4f %.4f %.4f %.4f\n", grad[0], grad[1], grad[2], grad[3])
	// Output:
	// loss 1.0000
	// grad -0.2500 0.7500 -0.7500 0.2500
}
