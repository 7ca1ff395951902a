// Command huber fits a line to data with outliers using huber_loss (δ = 1),
// the regression of Keras' Huber example, and shows that mse_loss on the
// same data is pulled off the line by the outliers.
//
// The model is ŷ = a·x + b, trained by full-batch gradient descent in plain
// Go; lossengine returns the loss and ∂loss/∂ŷ, and the chain rule gives
// ∂loss/∂a = Σ gᵢ·xᵢ and ∂loss/∂b = Σ gᵢ. The program exits non-zero when
// the Huber fit is not within 0.05 of the true line or the MSE fit is not
// pulled off it.
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
	trueA, trueB = 2.0, 1.0
	tolerance    = 0.05 // Huber: |a − 2| and |b − 1| below this
	pulled       = 0.2  // MSE: |a − 2| or |b − 1| above this
)

func main() {
	if err := run(""); err != nil {
		fmt.Fprintln(os.Stderr, "huber:", err)
		os.Exit(1)
	}
}

// data returns n points of y = 2x + 1 + noise, x in [−5, 5], of which the
// last outliers have x in [3, 5] and y 30 below the line.
func data(n, outliers int) (x, y []float32) {
	r := rand.New(rand.NewSource(1))
	x, y = make([]float32, n), make([]float32, n)
	for i := range x {
		xi := -5 + 10*r.Float64()
		yi := trueA*xi + trueB + 0.3*r.NormFloat64()
		if i >= n-outliers {
			xi = 3 + 2*r.Float64()
			yi = trueA*xi + trueB - 30
		}
		x[i], y[i] = float32(xi), float32(yi)
	}
	return x, y
}

// lossFunc is the signature shared by losses.HuberLoss and losses.MSELoss
// once their options are bound.
type lossFunc func(dev device.Device, a losses.ElementwiseArgs) error

// fit trains ŷ = a·x + b with the given loss and returns a, b and the
// final loss.
func fit(dev device.Device, loss lossFunc, x, y []float32, steps int, lr float64) (a, b, final float64, err error) {
	n := len(x)
	pred, grad, l := make([]float32, n), make([]float32, n), make([]float32, 1)
	for step := 0; step <= steps; step++ {
		for i := range pred {
			pred[i] = float32(a*float64(x[i]) + b)
		}
		err = loss(dev, losses.ElementwiseArgs{
			Input:     losses.HostTensor(pred, n),
			Target:    losses.HostTensor(y, n),
			Loss:      losses.HostTensor(l),
			GradInput: losses.HostTensor(grad, n), // ∂(mean loss)/∂ŷ
		})
		if err != nil {
			return 0, 0, 0, err
		}
		if step == steps {
			break
		}
		var ga, gb float64
		for i, g := range grad {
			ga += float64(g) * float64(x[i])
			gb += float64(g)
		}
		a -= lr * ga
		b -= lr * gb
		if step%100 == 0 {
			fmt.Printf("  step %3d  loss %.4f  a %.4f  b %.4f\n", step, l[0], a, b)
		}
	}
	return a, b, float64(l[0]), nil
}

// leastSquares is the closed-form minimiser of the mean squared error.
func leastSquares(x, y []float32) (a, b float64) {
	var sx, sy, sxx, sxy float64
	for i := range x {
		xi, yi := float64(x[i]), float64(y[i])
		sx, sy, sxx, sxy = sx+xi, sy+yi, sxx+xi*xi, sxy+xi*yi
	}
	n := float64(len(x))
	a = (n*sxy - sx*sy) / (n*sxx - sx*sx)
	return a, (sy - a*sx) / n
}

// run trains on the named device ("": LOSSENGINE_DEVICE, else the best one).
func run(name string) error {
	dev, err := device.Open(name)
	if err != nil {
		return err
	}
	defer dev.Close()
	x, y := data(1000, 30)

	fmt.Println("huber_loss, delta 1:")
	huber := func(dev device.Device, a losses.ElementwiseArgs) error {
		return losses.HuberLoss(dev, a, losses.HuberLossOptions{Delta: losses.Value(1)})
	}
	ha, hb, hl, err := fit(dev, huber, x, y, 400, 0.1)
	if err != nil {
		return err
	}
	fmt.Printf("huber: a %.4f  b %.4f  loss %.4f  (true line: a %g, b %g)\n", ha, hb, hl, trueA, trueB)

	fmt.Println("mse_loss:")
	mse := func(dev device.Device, a losses.ElementwiseArgs) error {
		return losses.MSELoss(dev, a, losses.MSELossOptions{})
	}
	ma, mb, ml, err := fit(dev, mse, x, y, 400, 0.05)
	if err != nil {
		return err
	}
	oa, ob := leastSquares(x, y)
	fmt.Printf("mse:   a %.4f  b %.4f  loss %.4f  (least squares: a %.4f, b %.4f)\n", ma, mb, ml, oa, ob)

	if math.Abs(ha-trueA) > tolerance || math.Abs(hb-trueB) > tolerance {
		return fmt.Errorf("huber fit a %.4f, b %.4f is not within %g of a %g, b %g", ha, hb, tolerance, trueA, trueB)
	}
	if math.Abs(ma-oa) > 1e-3 || math.Abs(mb-ob) > 1e-3 {
		return fmt.Errorf("mse fit a %.4f, b %.4f is not the least-squares line a %.4f, b %.4f", ma, mb, oa, ob)
	}
	if math.Abs(ma-trueA) < pulled && math.Abs(mb-trueB) < pulled {
		return fmt.Errorf("mse fit a %.4f, b %.4f is not pulled off the line by the outliers", ma, mb)
	}
	fmt.Println("ok: huber stays on the line, mse is pulled off it")
	return nil
}
