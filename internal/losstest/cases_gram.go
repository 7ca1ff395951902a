package losstest

import (
	"fmt"
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

func init() { familyCases = append(familyCases, gramCases) }

// gramCase is a row of feature_loss or gram_style_loss over one layer:
// normal features x of shape xs and y of shape ys.
func gramCase(loss, label string, xs, ys []int, tol float64, opt any) Case {
	r := rand.New(rand.NewPCG(uint64(len(label))*131+uint64(prodInts(xs)), 77))
	ins := inputs{"input": fl(logits(r, prodInts(xs), 1), xs...), "target": fl(logits(r, prodInts(ys), 1), ys...)}
	return declCase(fmt.Sprintf("%s/%s/%v", loss, label, xs), loss, tol, ins, opt)
}

func prodInts(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// gramLayersCase runs the several-layer functions (GramStyleLossLayers,
// FeatureLossLayers) over layers of the given input and target shapes;
// Grad and GradTarget are the layers' gradients one after the other.
func gramLayersCase(loss string, xs, ys [][]int, weights []float64, crit string) Case {
	r := rand.New(rand.NewPCG(uint64(len(xs))*17, 78))
	var xv, yv [][]float64
	for l := range xs {
		xv = append(xv, logits(r, prodInts(xs[l]), 1))
		yv = append(yv, logits(r, prodInts(ys[l]), 1))
	}
	run := func(dev device.Device, f64 bool) (Outputs, error) {
		mk := func(v []float64, shape []int) (losses.Tensor, func() []float64) {
			if f64 {
				c := append([]float64(nil), v...)
				return losses.HostTensor(c, shape...), func() []float64 { return c }
			}
			c := to32(v)
			return losses.HostTensor(c, shape...), func() []float64 { return to64(c) }
		}
		var a losses.LayersArgs
		var reads []func() []float64
		var greads [2][]func() []float64
		for l := range xs {
			x, _ := mk(xv[l], xs[l])
			y, _ := mk(yv[l], ys[l])
			gx, rx := mk(make([]float64, len(xv[l])), xs[l])
			gy, ry := mk(make([]float64, len(yv[l])), ys[l])
			greads[0], greads[1] = append(greads[0], rx), append(greads[1], ry)
			a.Layers = append(a.Layers, losses.LayerPair{Input: x, Target: y, GradInput: gx, GradTarget: gy})
		}
		lt, rl := mk([]float64{0}, []int{1})
		a.Loss = lt
		reads = append(reads, rl)
		var err error
		if loss == "gram_style_loss" {
			err = losses.GramStyleLossLayers(dev, a, losses.GramStyleLossLayersOptions{LayerWeights: weights})
		} else {
			err = losses.FeatureLossLayers(dev, a, losses.FeatureLossLayersOptions{Criterion: losses.FeatureCriterion(crit), LayerWeights: weights})
		}
		if err != nil {
			return Outputs{}, err
		}
		o := Outputs{Loss: reads[0]()}
		for l := range xs {
			o.Grad = append(o.Grad, greads[0][l]()...)
			o.GradTarget = append(o.GradTarget, greads[1][l]()...)
		}
		return o, nil
	}
	return Case{Name: fmt.Sprintf("%s/layers/%d%s", loss, len(xs), crit), Loss: loss, Tol: 1e-4, Run: run}
}

// gramCases are the rows of the gram family: odd sizes (not multiples of
// the 16×16 tiles), C = 1, H·W = 1, a target of another spatial size,
// empty batches and an empty spatial part (NaN, as in PyTorch), layer
// weights, and the several-layer forms.
func gramCases() []Case {
	const g, f = "gram_style_loss", "feature_loss"
	w := func(v float64) *float64 { return &v }
	return []Case{
		gramCase(g, "plain", []int{2, 3, 4, 5}, []int{2, 3, 4, 5}, 1e-4, nil),
		gramCase(g, "target-size", []int{2, 3, 4, 5}, []int{2, 3, 3, 3}, 1e-4, losses.GramStyleLossOptions{LayerWeight: w(2.5)}),
		gramCase(g, "c1", []int{2, 1, 4, 4}, []int{2, 1, 4, 4}, 1e-4, nil),
		gramCase(g, "hw1", []int{3, 17}, []int{3, 17, 1}, 1e-4, nil),
		gramCase(g, "odd", []int{2, 33, 7, 9}, []int{2, 33, 7, 9}, 1e-4, nil),
		gramCase(g, "tiles", []int{2, 70, 19, 19}, []int{2, 70, 11, 13}, 1e-4, losses.GramStyleLossOptions{LayerWeight: w(1e3)}),
		gramCase(g, "large-k", []int{1, 5, 100, 101}, []int{1, 5, 99, 98}, 1e-4, nil),
		gramCase(g, "empty-batch", []int{0, 3, 4, 4}, []int{0, 3, 4, 4}, 1e-4, nil),
		gramCase(g, "empty-spatial", []int{2, 3, 0}, []int{2, 3, 4}, 1e-4, nil),
		gramCase(f, "mse", []int{2, 3, 5, 7}, []int{2, 3, 5, 7}, 2e-5, nil),
		gramCase(f, "l1", []int{2, 3, 5, 7}, []int{2, 3, 5, 7}, 2e-5, losses.FeatureLossOptions{Criterion: "l1", LayerWeight: w(0.3)}),
		gramCase(f, "one", []int{1}, []int{1}, 2e-5, nil),
		gramCase(f, "wide", []int{4, 64, 33, 33}, []int{4, 64, 33, 33}, 2e-5, losses.FeatureLossOptions{LayerWeight: w(4)}),
		gramCase(f, "empty", []int{0, 3, 5}, []int{0, 3, 5}, 2e-5, nil),
		gramLayersCase(g, [][]int{{2, 3, 5, 7}, {2, 17, 3, 3}, {2, 1, 1, 1}}, [][]int{{2, 3, 5, 7}, {2, 17, 4, 2}, {2, 1, 1, 1}},
			[]float64{1, 0.5, 3}, ""),
		gramLayersCase(f, [][]int{{2, 3, 5, 7}, {2, 17, 3, 3}, {5}}, [][]int{{2, 3, 5, 7}, {2, 17, 3, 3}, {5}}, nil, "l1"),
	}
}
