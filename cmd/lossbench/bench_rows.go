package main

import (
	"fmt"
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

// The row-wise losses in the sweep (not in the default sweep: run them
// with -loss). Each call computes the loss (mean) and d loss / d input.
func init() {
	shapes := []string{"512x32000", "4096x128"}
	benchLosses = append(benchLosses,
		benchLoss{name: "cross_entropy_probs", rows: true, shapes: shapes,
			byteModel: "reads N*C logits and N*C probabilities, writes N*C gradients: 4*3*N*C bytes",
			prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
				return prepareRowLoss(d, s, r, rowBench{target: "probs", bytes: func(n, c int64) int64 { return 4 * 3 * n * c },
					ref: func(x, y []float64, tg []int32, n, c int) (*losses.Result[float64], error) {
						return losses.CrossEntropyProbsSlices(host.Default(), x, y, n, c, losses.CrossEntropyProbsOptions{})
					},
					call: func(d device.Device, b losses.RowLossBuffers) error {
						return losses.CrossEntropyProbs(d, b, losses.CrossEntropyProbsOptions{})
					}})
			}},
		benchLoss{name: "nll_loss", rows: true, shapes: shapes,
			byteModel: "reads N int32 targets and N log-probabilities, writes N*C gradients: 4*(N*C + 2*N) bytes",
			prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
				return prepareRowLoss(d, s, r, rowBench{target: "class", bytes: func(n, c int64) int64 { return 4 * (n*c + 2*n) },
					ref: func(x, y []float64, tg []int32, n, c int) (*losses.Result[float64], error) {
						return losses.NLLLossSlices(host.Default(), x, tg, n, c, losses.NLLLossOptions{})
					},
					call: func(d device.Device, b losses.RowLossBuffers) error {
						return losses.NLLLoss(d, b, losses.NLLLossOptions{SkipTargetCheck: skipTargetCheck})
					}})
			}},
		benchLoss{name: "focal_loss", rows: true, shapes: shapes,
			byteModel: "gamma 2: reads N*C logits and N int32 targets, writes N*C gradients: 4*(2*N*C + N) bytes",
			prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
				return prepareRowLoss(d, s, r, rowBench{target: "class", bytes: func(n, c int64) int64 { return 4 * (2*n*c + n) },
					ref: func(x, y []float64, tg []int32, n, c int) (*losses.Result[float64], error) {
						return losses.FocalLossSlices(host.Default(), x, tg, n, c, losses.FocalLossOptions{})
					},
					call: func(d device.Device, b losses.RowLossBuffers) error {
						return losses.FocalLoss(d, b, losses.FocalLossOptions{SkipTargetCheck: skipTargetCheck})
					}})
			}},
		benchLoss{name: "multi_margin_loss", rows: true, shapes: shapes,
			byteModel: "p 1, margin 1: reads N*C scores and N int32 targets, writes N*C gradients: 4*(2*N*C + N) bytes",
			prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
				return prepareRowLoss(d, s, r, rowBench{target: "class", bytes: func(n, c int64) int64 { return 4 * (2*n*c + n) },
					ref: func(x, y []float64, tg []int32, n, c int) (*losses.Result[float64], error) {
						return losses.MultiMarginLossSlices(host.Default(), x, tg, n, c, losses.MultiMarginOptions{})
					},
					call: func(d device.Device, b losses.RowLossBuffers) error {
						return losses.MultiMarginLoss(d, b, losses.MultiMarginOptions{SkipTargetCheck: skipTargetCheck})
					}})
			}},
		benchLoss{name: "categorical_hinge", rows: true, shapes: shapes,
			byteModel: "one-hot targets: reads N*C scores and N*C targets, writes N*C gradients: 4*3*N*C bytes",
			prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
				return prepareRowLoss(d, s, r, rowBench{target: "onehot", bytes: func(n, c int64) int64 { return 4 * 3 * n * c },
					ref: func(x, y []float64, tg []int32, n, c int) (*losses.Result[float64], error) {
						return losses.CategoricalHingeSlices(host.Default(), x, y, n, c, losses.CategoricalHingeOptions{})
					},
					call: func(d device.Device, b losses.RowLossBuffers) error {
						return losses.CategoricalHinge(d, b, losses.CategoricalHingeOptions{})
					}})
			}},
		benchLoss{name: "distill_kl", rows: true, shapes: shapes,
			byteModel: "temperature 2: reads N*C student and N*C teacher logits, writes N*C gradients: 4*3*N*C bytes",
			prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
				return prepareRowLoss(d, s, r, rowBench{target: "logits", bytes: func(n, c int64) int64 { return 4 * 3 * n * c },
					ref: func(x, y []float64, tg []int32, n, c int) (*losses.Result[float64], error) {
						return losses.DistillKLSlices(host.Default(), x, y, n, c, losses.DistillKLOptions{Temperature: 2})
					},
					call: func(d device.Device, b losses.RowLossBuffers) error {
						return losses.DistillKL(d, b, losses.DistillKLOptions{Temperature: 2})
					}})
			}},
	)
}

// rowBench describes a row loss to prepareRowLoss.
type rowBench struct {
	// target: "class" (int32 [N]), "probs" (soft rows), "onehot" or
	// "logits" (normals).
	target string
	bytes  func(n, c int64) int64
	// ref computes the float64 host reference.
	ref  func(x, y []float64, tg []int32, n, c int) (*losses.Result[float64], error)
	call func(dev device.Device, b losses.RowLossBuffers) error
}

// prepareRowLoss builds a row-loss case on shape NxC: normal logits, the
// targets rb.target asks for, a float32 loss and gradient on dev.
func prepareRowLoss(dev device.Device, shape []int, rng *rand.Rand, rb rowBench) (c *benchCase, err error) {
	n, k := shape[0], shape[1]
	x := normals(rng, n*k)
	var y []float32
	var tg []int32
	switch rb.target {
	case "class":
		tg = make([]int32, n)
		for i := range tg {
			tg[i] = int32(rng.IntN(k))
		}
	case "logits":
		y = normals(rng, n*k)
	case "probs", "onehot":
		y = make([]float32, n*k)
		for i := 0; i < n; i++ {
			if rb.target == "onehot" {
				y[i*k+rng.IntN(k)] = 1
				continue
			}
			var s float64
			row := make([]float64, k)
			for j := range row {
				row[j] = rng.ExpFloat64()
				s += row[j]
			}
			for j := range row {
				y[i*k+j] = float32(row[j] / s)
			}
		}
	}
	ref, err := rb.ref(widen(x), widen(y), tg, n, k)
	if err != nil {
		return nil, fmt.Errorf("host reference: %w", err)
	}
	c = &benchCase{bytes: rb.bytes(int64(n), int64(k)), names: []string{"loss", "grad"},
		refs: [][]float64{ref.Loss, ref.Grad}}
	defer func() {
		if err != nil {
			c.release()
		}
	}()
	b := losses.RowLossBuffers{N: n, C: k}
	if b.Input, err = c.upload(dev, x); err != nil {
		return nil, err
	}
	if tg != nil {
		b.Target, err = c.upload(dev, tg)
	} else {
		b.Target, err = c.upload(dev, y)
	}
	if err != nil {
		return nil, err
	}
	if b.Loss, err = c.alloc(dev, device.Float32, 1); err != nil {
		return nil, err
	}
	if b.Grad, err = c.alloc(dev, device.Float32, n*k); err != nil {
		return nil, err
	}
	c.call = func() error { return rb.call(dev, b) }
	c.outputs = reader(dev, b.Loss, b.Grad)
	return c, nil
}
