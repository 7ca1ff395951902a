// Command ctc trains a tiny CTC model to emit two target sequences.
//
// Each of the two inputs is a sequence of T = 8 frames of D = 16 random
// features; the model is one linear layer, logits[t, n] = W·x[t, n] + b
// over C = 4 classes (class 0 is the blank). ctc_loss takes the raw
// logits (Logits: the log-softmax is folded in) and returns ∂loss/∂logits;
// plain Go does the chain rule and Adam. The program exits non-zero
// unless the greedy decoding of both inputs (best class per frame,
// repeats merged, blanks dropped) is its target.
package main

import (
	"fmt"
	"math"
	"math/rand"
	"os"
	"reflect"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

const T, N, C, D, S = 8, 2, 4, 16, 3 // frames, sequences, classes, features, target length

var targets = []int32{1, 2, 3, 3, 3, 1} // [N, S]: "1 2 3" and "3 3 1" (the repeat needs a blank between)

func main() {
	if err := run(""); err != nil {
		fmt.Fprintln(os.Stderr, "ctc:", err)
		os.Exit(1)
	}
}

// run trains on the named device ("": LOSSENGINE_DEVICE, else the best one).
func run(name string) error {
	dev, err := device.Open(name)
	if err != nil {
		return err
	}
	defer dev.Close()
	r := rand.New(rand.NewSource(1))
	x := make([]float64, T*N*D) // [T, N, D]
	for i := range x {
		x[i] = r.NormFloat64()
	}
	params := make([]float64, C*D+C) // W [C, D], then b [C]
	adam := newAdam(len(params), 0.05)
	logits, grad, loss := make([]float32, T*N*C), make([]float32, T*N*C), make([]float32, 1)
	inLens, tgtLens := []int32{T, T}, []int32{S, S}
	for step := 0; step <= 100; step++ {
		for tn := 0; tn < T*N; tn++ { // logits[t, n] = W·x[t, n] + b
			for c := 0; c < C; c++ {
				z := params[C*D+c]
				for d := 0; d < D; d++ {
					z += params[c*D+d] * x[tn*D+d]
				}
				logits[tn*C+c] = float32(z)
			}
		}
		err := losses.CTCLoss(dev, losses.CTCLossArgs{
			LogProbs:      losses.HostTensor(logits, T, N, C),
			Targets:       losses.HostTensor(targets, N, S),
			InputLengths:  losses.HostTensor(inLens),
			TargetLengths: losses.HostTensor(tgtLens),
			Loss:          losses.HostTensor(loss),
			GradLogProbs:  losses.HostTensor(grad, T, N, C), // ∂loss/∂logits
		}, losses.CTCLossOptions{Logits: true})
		if err != nil {
			return err
		}
		if step%25 == 0 {
			fmt.Printf("step %3d  loss %.4f  decoded %v %v\n", step, loss[0], greedy(logits, 0), greedy(logits, 1))
		}
		g := make([]float64, len(params)) // ∂loss/∂W = Σ grad[t, n]·x[t, n]ᵀ, ∂loss/∂b = Σ grad[t, n]
		for tn := 0; tn < T*N; tn++ {
			for c := 0; c < C; c++ {
				gc := float64(grad[tn*C+c])
				g[C*D+c] += gc
				for d := 0; d < D; d++ {
					g[c*D+d] += gc * x[tn*D+d]
				}
			}
		}
		adam.step(params, g)
	}
	for n := 0; n < N; n++ {
		got, want := greedy(logits, n), targets[n*S:(n+1)*S]
		fmt.Printf("sequence %d: decoded %v, target %v\n", n, got, want)
		if !reflect.DeepEqual(got, want) {
			return fmt.Errorf("sequence %d decodes to %v, want %v (loss %.4f)", n, got, want, loss[0])
		}
	}
	return nil
}

// greedy decodes sequence n: the best class of each frame, repeats merged,
// blanks (class 0) dropped.
func greedy(logits []float32, n int) []int32 {
	out, prev := []int32{}, int32(0)
	for t := 0; t < T; t++ {
		row, best := logits[(t*N+n)*C:(t*N+n+1)*C], int32(0)
		for c := range row {
			if row[c] > row[best] {
				best = int32(c)
			}
		}
		if best != 0 && best != prev {
			out = append(out, best)
		}
		prev = best
	}
	return out
}

// adam is the Adam optimiser (β₁ = 0.9, β₂ = 0.999, ε = 1e−8).
type adam struct {
	lr   float64
	t    int
	m, v []float64
}

func newAdam(n int, lr float64) *adam {
	return &adam{lr: lr, m: make([]float64, n), v: make([]float64, n)}
}

// step moves p against the gradient g.
func (a *adam) step(p, g []float64) {
	a.t++
	c1, c2 := 1-math.Pow(0.9, float64(a.t)), 1-math.Pow(0.999, float64(a.t))
	for i := range p {
		a.m[i] = 0.9*a.m[i] + 0.1*g[i]
		a.v[i] = 0.999*a.v[i] + 0.001*g[i]*g[i]
		p[i] -= a.lr * (a.m[i] / c1) / (math.Sqrt(a.v[i]/c2) + 1e-8)
	}
}
