// Command devicebuffer trains a linear softmax classifier whose data,
// weights and gradients stay on the device (the buffer form a training
// backend uses): each step is linear_cross_entropy (loss and ∂loss/∂W;
// SkipTargetCheck, so the targets are not read back) and the update
// W ← W − lr·G as the engine's matmul kernel. Only the loss is read back,
// every 100 steps, for the log. Training with Go slices (HostTensor:
// copied to an accelerator and back at every call) must give the same
// weights, and the accuracy must reach 0.95, or the program exits
// non-zero. It runs on LOSSENGINE_DEVICE, else the best device compiled in.
package main

import (
	"fmt"
	"math"
	"math/rand"
	"os"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

const N, H, V, steps, lr = 300, 3, 3, 300, 0.5 // samples, features, classes

func main() {
	if err := run(""); err != nil {
		fmt.Fprintln(os.Stderr, "devicebuffer:", err)
		os.Exit(1)
	}
}

// blobs returns N points [x, y, 1] (the 1 carries the bias) around three
// centres, and their classes.
func blobs() (x []float32, target []int32) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < N; i++ {
		k := i % V
		a := 2 * math.Pi * float64(k) / V
		x = append(x, float32(3*math.Cos(a)+r.NormFloat64()), float32(3*math.Sin(a)+r.NormFloat64()), 1)
		target = append(target, int32(k))
	}
	return x, target
}

// onDevice trains with every tensor on dev and returns the weights.
func onDevice(dev device.Device, x []float32, target []int32) ([]float32, error) {
	eye := make([]float32, H*H)
	for i := 0; i < H; i++ {
		eye[i*H+i] = 1
	}
	var all []device.Buffer // each uploaded once, before the loop
	var err error
	up := func(b device.Buffer, e error) device.Buffer {
		if e != nil && err == nil {
			err = e
		}
		if b != nil {
			all = append(all, b)
		}
		return b
	}
	defer func() {
		for _, b := range all {
			b.Release()
		}
	}()
	xb, tb, w := up(device.Upload(dev, x)), up(device.Upload(dev, target)), up(device.Upload(dev, make([]float32, V*H)))
	grad, loss, id := up(dev.Alloc(device.Float32, V*H)), up(dev.Alloc(device.Float32, 1)), up(device.Upload(dev, eye))
	if err != nil {
		return nil, err
	}
	for step := 0; step < steps; step++ {
		err = losses.LinearCrossEntropy(dev, losses.LinearCrossEntropyArgs{
			Hidden:     losses.NewTensor(xb, N, H),
			Weight:     losses.NewTensor(w, V, H),
			Target:     losses.NewTensor(tb, N),
			Loss:       losses.NewTensor(loss),
			GradWeight: losses.NewTensor(grad, V, H),
		}, losses.LinearCrossEntropyOptions{SkipTargetCheck: true})
		if err != nil {
			return nil, err
		}
		// matmul(a, b, c, m, n, k, trans_a, trans_b, alpha, beta, has_bias, bias, a_row0, b_row0, c_row0):
		// c = alpha·a·b + beta·c, here W = −lr·G·I + W.
		err = dev.Launch("matmul", device.Grid{Blocks: 1, Threads: 256}, grad, id, w,
			int32(V), int32(H), int32(H), int32(0), int32(0), -lr, 1.0, int32(0), id, int32(0), int32(0), int32(0))
		if err != nil {
			return nil, err
		}
		if step%100 == 0 {
			l, err := device.Download[float32](dev, loss, 1)
			if err != nil {
				return nil, err
			}
			fmt.Printf("  step %3d  loss %.4f\n", step, l[0])
		}
	}
	return device.Download[float32](dev, w, V*H)
}

// withSlices trains the same model with Go slices and the update in Go; it
// returns the weights and the train accuracy at the last step.
func withSlices(dev device.Device, x []float32, target []int32) ([]float32, float32, error) {
	w, grad, loss, acc := make([]float32, V*H), make([]float32, V*H), make([]float32, 1), make([]float32, 1)
	for step := 0; step < steps; step++ {
		err := losses.LinearCrossEntropy(dev, losses.LinearCrossEntropyArgs{
			Hidden:     losses.HostTensor(x, N, H),
			Weight:     losses.HostTensor(w, V, H),
			Target:     losses.HostTensor(target, N),
			Loss:       losses.HostTensor(loss),
			Accuracy:   losses.HostTensor(acc),
			GradWeight: losses.HostTensor(grad, V, H),
		}, losses.LinearCrossEntropyOptions{ReturnAccuracy: true})
		if err != nil {
			return nil, 0, err
		}
		for i := range w {
			w[i] -= lr * grad[i]
		}
	}
	return w, acc[0], nil
}

// run trains on the named device ("": LOSSENGINE_DEVICE, else the best one).
func run(name string) error {
	dev, err := device.Open(name)
	if err != nil {
		return err
	}
	defer dev.Close()
	fmt.Println("device:", dev.Info().Name)
	x, target := blobs()
	w, err := onDevice(dev, x, target)
	if err != nil {
		return err
	}
	ws, acc, err := withSlices(dev, x, target)
	if err != nil {
		return err
	}
	fmt.Printf("weights (device buffers) %.4f\nweights (Go slices)      %.4f\naccuracy %.3f\n", w, ws, acc)
	for i := range w {
		if math.Abs(float64(w[i]-ws[i])) > 1e-4*(1+math.Abs(float64(ws[i]))) {
			return fmt.Errorf("weight %d: %g on device buffers, %g with Go slices", i, w[i], ws[i])
		}
	}
	if acc < 0.95 {
		return fmt.Errorf("accuracy %.3f, want at least 0.95", acc)
	}
	return nil
}
