package losses_test

import (
	"fmt"
	"math"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// NT-Xent over two views of three samples: the views of each sample are
// each other's positive, the four other views its negatives.
func ExampleNTXent() {
	dev, _ := device.Open("host")
	z1 := []float64{1, 0, 0, 1, -1, 0}
	z2 := []float64{2, 0, 0, 3, -1, 0.1}
	loss, g1, g2 := make([]float64, 1), make([]float64, 6), make([]float64, 6)
	err := losses.NTXent(dev, losses.NTXentArgs{
		Embeddings: losses.HostTensor(z1, 3, 2), Z2: losses.HostTensor(z2, 3, 2),
		Loss: losses.HostTensor(loss), GradEmbeddings: losses.HostTensor(g1, 3, 2), GradZ2: losses.HostTensor(g2, 3, 2),
	}, losses.NTXentOptions{})
	if err != nil {
		panic(err)
	}
	// PyTorch: F.cross_entropy over the masked similarity matrix gives 0.3376.
	fmt.Printf("loss %.4f\n", loss[0])
	// Every embedding the same: every similarity 1/τ, log(2N − 1).
	same := []float64{1, 2, 1, 2, 1, 2}
	err = losses.NTXent(dev, losses.NTXentArgs{Embeddings: losses.HostTensor(same, 3, 2), Z2: losses.HostTensor(same, 3, 2),
		Loss: losses.HostTensor(loss)}, losses.NTXentOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("identical %.4f = log 5 %.4f\n", loss[0], math.Log(5))
	// Output:
	// loss 0.3376
	// identical 1.6094 = log 5 1.6094
}
