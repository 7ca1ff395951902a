package lossgorgonia_test

import (
	"fmt"
	"math"
	"math/rand"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/integrations/gorgonia/lossgorgonia"
	"github.com/lossengine/lossengine/losses"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A linear softmax classifier in gorgonia, trained through lossengine's
// cross_entropy with label smoothing 0.05: three Gaussian blobs, the
// features [x, y, 1] (the 1 carries the bias), logits = X·W, and the
// gradient w.r.t. W from gorgonia.Grad, which backpropagates lossengine's
// gradient w.r.t. the logits through the product.
func Example_train() {
	dev, err := device.Open("host")
	if err != nil {
		panic(err)
	}
	const classes, perClass = 3, 100
	r := rand.New(rand.NewSource(1))
	var xs []float64
	var ys []int
	for k := 0; k < classes; k++ {
		a := 2 * math.Pi * float64(k) / classes
		for i := 0; i < perClass; i++ {
			xs = append(xs, 3*math.Cos(a)+r.NormFloat64(), 3*math.Sin(a)+r.NormFloat64(), 1)
			ys = append(ys, k)
		}
	}
	n := len(ys)

	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float64, G.WithShape(n, 3), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(n, 3), tensor.WithBacking(xs))))
	y := G.NewVector(g, tensor.Int, G.WithShape(n), G.WithName("y"),
		G.WithValue(tensor.New(tensor.WithShape(n), tensor.WithBacking(ys))))
	w := G.NewMatrix(g, tensor.Float64, G.WithShape(3, classes), G.WithName("w"), G.WithInit(G.Zeroes()))
	logits := G.Must(G.Mul(x, w))
	loss, err := lossgorgonia.CrossEntropy(dev, logits, y, losses.CrossEntropyOptions{LabelSmoothing: 0.05})
	if err != nil {
		panic(err)
	}
	if _, err := G.Grad(loss, w); err != nil {
		panic(err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(w))
	defer vm.Close()
	solver := G.NewVanillaSolver(G.WithLearnRate(0.5))
	for step := 0; step < 200; step++ {
		if err := vm.RunAll(); err != nil {
			panic(err)
		}
		if err := solver.Step(G.NodesToValueGrads(G.Nodes{w})); err != nil {
			panic(err)
		}
		vm.Reset()
	}
	if err := vm.RunAll(); err != nil {
		panic(err)
	}
	final := loss.Value().Data().(float64)
	right := 0
	z := logits.Value().Data().([]float64)
	for i, t := range ys {
		best := 0
		for k := 1; k < classes; k++ {
			if z[i*classes+k] > z[i*classes+best] {
				best = k
			}
		}
		if best == t {
			right++
		}
	}
	fmt.Printf("loss below 0.3: %v\n", final < 0.3)
	fmt.Printf("accuracy at least 0.95: %v\n", float64(right)/float64(n) >= 0.95)
	// Output:
	// loss below 0.3: true
	// accuracy at least 0.95: true
}
