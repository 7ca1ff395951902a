package losses_test

import (
	"fmt"
	"sync"

	"github.com/lossengine/lossengine/collective"
	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// Two in-process ranks each hold half of a 4-class vocabulary; every rank
// gets the loss of the full softmax and the gradient of its own columns.
// With logits 0 everywhere, p = 1/4 for every class: the loss is log 4 and
// the gradient p − onehot(t), over the 2 rows of the mean.
func ExampleVocabParallelCrossEntropy() {
	dev, _ := device.Open("host")
	target := []int32{0, 3} // row 0's class is on rank 0, row 1's on rank 1
	comms := collective.NewLocal(2)
	grads := [][]float64{make([]float64, 4), make([]float64, 4)}
	var loss [2][]float64
	var wg sync.WaitGroup
	for rank := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			loss[rank] = make([]float64, 1)
			err := losses.VocabParallelCrossEntropy(dev, comms[rank], losses.VocabParallelCrossEntropyArgs{
				Input:     losses.HostTensor(make([]float64, 4), 2, 2), // this rank's logits [N=2, Vs=2]
				Target:    losses.HostTensor(target),
				Loss:      losses.HostTensor(loss[rank]),
				GradInput: losses.HostTensor(grads[rank], 2, 2),
			}, losses.VocabParallelCrossEntropyOptions{VocabSize: 4, VocabStart: 2 * rank})
			if err != nil {
				panic(err)
			}
		}()
	}
	wg.Wait()
	fmt.Printf("loss %.4f on rank 0, %.4f on rank 1\n", loss[0][0], loss[1][0])
	fmt.Println("rank 0 columns 0-1:", grads[0])
	fmt.Println("rank 1 columns 2-3:", grads[1])
	// Output:
	// loss 1.3863 on rank 0, 1.3863 on rank 1
	// rank 0 columns 0-1: [-0.375 0.125 0.125 0.125]
	// rank 1 columns 2-3: [0.125 0.125 0.125 -0.375]
}
