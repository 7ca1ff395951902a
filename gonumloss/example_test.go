package gonumloss_test

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/gonumloss"
	"github.com/lossengine/lossengine/losses"
)

// Cross-entropy of two samples over three classes, from gonum matrices:
// the class indices are a vector of integral values, the gradient comes
// back as a *mat.Dense of the logits' shape.
func ExampleCall() {
	dev, err := device.Open("host")
	if err != nil {
		panic(err)
	}
	logits := mat.NewDense(2, 3, []float64{
		2, 0, 0, // sample 0
		0, 0, 0, // sample 1: uniform, loss log 3
	})
	target := mat.NewVecDense(2, []float64{0, 2})
	res, err := gonumloss.Call(dev, "cross_entropy",
		map[string]mat.Matrix{"input": logits, "target": target}, losses.CrossEntropyOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("loss: %.4f\n", res.Loss) // (0.2395 + log 3) / 2
	// The gradient of the mean: (softmax(row) − onehot(target)) / 2;
	// softmax(2, 0, 0) = (0.7870, 0.1065, 0.1065).
	fmt.Printf("grad:\n%.4f\n", mat.Formatted(res.Grad("input")))
	// Output:
	// loss: 0.6691
	// grad:
	// ⎡-0.1065   0.0533   0.0533⎤
	// ⎣ 0.1667   0.1667  -0.3333⎦
}

// ctc_loss takes log_probs [T, N, C]: a T×(N·C) matrix reshaped. The
// gradient comes back with the matrix's dimensions.
func ExampleReshape() {
	dev, _ := device.Open("host")
	const T, N, C = 2, 1, 2
	// Two frames of one sequence, two classes (blank 0, label 1), each
	// frame uniform: log 0.5 everywhere.
	lp := mat.NewDense(T, N*C, []float64{-0.6931471805599453, -0.6931471805599453, -0.6931471805599453, -0.6931471805599453})
	res, err := gonumloss.Call(dev, "ctc_loss", map[string]mat.Matrix{
		"log_probs":      gonumloss.Reshape(lp, T, N, C),
		"targets":        mat.NewDense(N, 1, []float64{1}),
		"input_lengths":  mat.NewVecDense(N, []float64{T}),
		"target_lengths": mat.NewVecDense(N, []float64{1}),
	}, losses.CTCLossOptions{Reduction: losses.Sum})
	if err != nil {
		panic(err)
	}
	// Paths "1 1", "0 1", "1 0": p = 3/4.
	fmt.Printf("loss: %.4f (−log 3/4 = 0.2877)\n", res.Loss)
	r, c := res.Grad("log_probs").Dims()
	fmt.Println("grad:", r, "×", c)
	// Output:
	// loss: 0.2877 (−log 3/4 = 0.2877)
	// grad: 2 × 2
}
