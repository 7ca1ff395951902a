// Command labelsmoothing trains a linear softmax classifier on three
// Gaussian blobs with cross_entropy and label smoothing ε = 0.1.
//
// The model is logits = W·x + b (W [3, 2], b [3]), trained by full-batch
// gradient descent in plain Go; lossengine returns the loss and
// ∂loss/∂logits, and the chain rule gives ∂loss/∂W = Gᵀ·X and ∂loss/∂b =
// Σ rows of G. With smoothing the target of a sample of class k is
// (1 − ε)·onehot(k) + ε/3, so the loss cannot fall below that
// distribution's entropy (0.2911). The program exits non-zero unless the train accuracy
// is at least 0.95 and the loss below 0.45.
package main

import (
	"fmt"
	"math"
	"math/rand"
	"os"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

const (
	classes, dims, perClass = 3, 2, 100
	smoothing               = 0.1
	wantAccuracy, wantLoss  = 0.95, 0.45
)

func main() {
	if err := run(""); err != nil {
		fmt.Fprintln(os.Stderr, "labelsmoothing:", err)
		os.Exit(1)
	}
}

// blobs returns perClass points around each of three centres on a circle
// of radius 3 (standard deviation 1), and their classes.
func blobs() (x []float32, target []int32) {
	r := rand.New(rand.NewSource(1))
	for k := 0; k < classes; k++ {
		angle := 2 * math.Pi * float64(k) / classes
		cx, cy := 3*math.Cos(angle), 3*math.Sin(angle)
		for i := 0; i < perClass; i++ {
			x = append(x, float32(cx+r.NormFloat64()), float32(cy+r.NormFloat64()))
			target = append(target, int32(k))
		}
	}
	return x, target
}

// run trains on the named device ("": LOSSENGINE_DEVICE, else the best one).
func run(name string) error {
	dev, err := device.Open(name)
	if err != nil {
		return err
	}
	defer dev.Close()
	x, target := blobs()
	n := len(target)
	w, b := make([]float64, classes*dims), make([]float64, classes)
	logits, grad, loss := make([]float32, n*classes), make([]float32, n*classes), make([]float32, 1)
	const steps, lr = 300, 0.5
	for step := 0; step <= steps; step++ {
		for i := 0; i < n; i++ { // logits = X·Wᵀ + b
			for k := 0; k < classes; k++ {
				z := b[k]
				for d := 0; d < dims; d++ {
					z += w[k*dims+d] * float64(x[i*dims+d])
				}
				logits[i*classes+k] = float32(z)
			}
		}
		err := losses.CrossEntropy(dev, losses.CrossEntropyArgs{
			Input:     losses.HostTensor(logits, n, classes),
			Target:    losses.HostTensor(target, n),
			Loss:      losses.HostTensor(loss),
			GradInput: losses.HostTensor(grad, n, classes), // ∂(mean loss)/∂logits
		}, losses.CrossEntropyOptions{LabelSmoothing: smoothing})
		if err != nil {
			return err
		}
		if step%50 == 0 {
			fmt.Printf("step %3d  loss %.4f  accuracy %.3f\n", step, loss[0], accuracy(logits, target))
		}
		if step == steps {
			break
		}
		for i := 0; i < n; i++ { // W −= lr·Gᵀ·X, b −= lr·Σ G
			for k := 0; k < classes; k++ {
				g := float64(grad[i*classes+k])
				b[k] -= lr * g
				for d := 0; d < dims; d++ {
					w[k*dims+d] -= lr * g * float64(x[i*dims+d])
				}
			}
		}
	}
	acc := accuracy(logits, target)
	fmt.Printf("final loss %.4f (floor %.4f), accuracy %.3f\n", loss[0], smoothedEntropy(), acc)
	if acc < wantAccuracy || float64(loss[0]) >= wantLoss {
		return fmt.Errorf("accuracy %.3f, loss %.4f: want accuracy >= %g and loss < %g", acc, loss[0], wantAccuracy, wantLoss)
	}
	if float64(loss[0]) < smoothedEntropy() {
		return fmt.Errorf("loss %.4f is below the entropy of the smoothed targets %.4f", loss[0], smoothedEntropy())
	}
	return nil
}

// accuracy is the fraction of rows whose largest logit is the target.
func accuracy(logits []float32, target []int32) float64 {
	right := 0
	for i, t := range target {
		row, best := logits[i*classes:(i+1)*classes], 0
		for k := range row {
			if row[k] > row[best] {
				best = k
			}
		}
		if int32(best) == t {
			right++
		}
	}
	return float64(right) / float64(len(target))
}

// smoothedEntropy is the entropy of the smoothed target distribution, the
// least value the smoothed cross-entropy can take.
func smoothedEntropy() float64 {
	hi, lo := 1-smoothing+smoothing/classes, smoothing/classes
	return -hi*math.Log(hi) - (classes-1)*lo*math.Log(lo)
}
