package losstest

import (
	"fmt"
	"math/rand/v2"

	"github.com/lossengine/lossengine/losses"
)

func init() { familyCases = append(familyCases, lovaszCases) }

// lovaszCase builds a Lovász case: input of the given shape (logits, or
// probabilities on a grid of quarter steps with probs: exact ties, and
// errors that float32 and float64 key alike), labels in [0, labels)
// (ignore_index 255 at every ignoreEvery-th one when ignoreEvery > 1, everywhere when it is 1).
// Logit cases stay small: a float32 device rounds 1 − p apart from the
// float64 reference, and two errors within that rounding of each other,
// of different labels, would swap their Jacobian-gradient steps.
func lovaszCase(loss, name string, shape []int, labels, ignoreEvery int, probs bool, opt any) Case {
	r := rand.New(rand.NewPCG(uint64(len(name))*131+uint64(shape[0]), 17))
	n := 1
	for _, d := range shape {
		n *= d
	}
	var x []float64
	if probs {
		x = make([]float64, n)
		for i := range x {
			x[i] = float64(r.IntN(5)) * 0.25
		}
	} else {
		x = logits(r, n, 2)
	}
	tshape := shape
	if loss == "lovasz_softmax_loss" {
		tshape = append([]int{shape[0]}, shape[2:]...)
	}
	nt := 1
	for _, d := range tshape {
		nt *= d
	}
	tg := make([]int32, nt)
	for i := range tg {
		tg[i] = int32(r.IntN(labels))
		if ignoreEvery == 1 || ignoreEvery > 0 && i%ignoreEvery == 1 {
			tg[i] = 255
		}
	}
	return declCase(fmt.Sprintf("%s/%s/%v", loss, name, shape), loss, 2e-5,
		inputs{"input": fl(x, shape...), "target": ints(tg, tshape...)}, opt)
}

func lovaszCases() []Case {
	sm := func(name string, shape []int, labels, ignoreEvery int, probs bool, opt losses.LovaszSoftmaxLossOptions) Case {
		if probs {
			opt.FromLogits = new(bool)
		}
		return lovaszCase("lovasz_softmax_loss", name, shape, labels, ignoreEvery, probs, opt)
	}
	hi := func(name string, shape []int, ignoreEvery int, probs bool, opt losses.LovaszHingeLossOptions) Case {
		return lovaszCase("lovasz_hinge_loss", name, shape, 2, ignoreEvery, probs, opt)
	}
	ign := losses.Index(255)
	// Confident, correct pixels: label errors 1 − p_t near 1e-8, which a
	// float32 1 − p_t would round to 0 or to multiples of 6e-8.
	confident := func() Case {
		n, c, hw := 2, 3, 20
		r := rand.New(rand.NewPCG(5, 6))
		x, tg := make([]float64, n*c*hw), make([]int32, n*hw)
		for i := range tg {
			tg[i] = int32(r.IntN(c))
		}
		for i := 0; i < n; i++ {
			for k := 0; k < c; k++ {
				for h := 0; h < hw; h++ {
					v := r.Float64()
					if tg[i*hw+h] == int32(k) {
						v += 17 + r.Float64()
					}
					x[(i*c+k)*hw+h] = v
				}
			}
		}
		return declCase("lovasz_softmax_loss/confident/[2 3 20]", "lovasz_softmax_loss", 2e-5,
			inputs{"input": fl(roundTo32(x), n, c, hw), "target": ints(tg, n, hw)}, losses.LovaszSoftmaxLossOptions{})
	}
	return []Case{
		confident(),
		sm("plain", []int{2, 3, 4, 5}, 3, 0, false, losses.LovaszSoftmaxLossOptions{}),
		sm("per-image-all", []int{3, 4, 7, 9}, 4, 0, false, losses.LovaszSoftmaxLossOptions{PerImage: true, Classes: "all"}),
		sm("ignore-odd", []int{2, 5, 33}, 5, 4, false, losses.LovaszSoftmaxLossOptions{IgnoreIndex: ign}),
		sm("ignore-per-image", []int{3, 3, 5, 5}, 3, 3, false, losses.LovaszSoftmaxLossOptions{IgnoreIndex: ign, PerImage: true}),
		sm("one-class", []int{2, 1, 3, 3}, 1, 0, false, losses.LovaszSoftmaxLossOptions{}),
		sm("absent-classes", []int{2, 6, 4, 4}, 3, 0, false, losses.LovaszSoftmaxLossOptions{}),
		sm("absent-classes-all", []int{2, 6, 4, 4}, 3, 0, false, losses.LovaszSoftmaxLossOptions{Classes: "all", PerImage: true}),
		sm("all-ignored", []int{2, 3, 4}, 3, 1, false, losses.LovaszSoftmaxLossOptions{IgnoreIndex: ign, PerImage: true}),
		sm("empty-batch", []int{0, 3, 4, 4}, 3, 0, false, losses.LovaszSoftmaxLossOptions{}),
		sm("probs-ties", []int{2, 3, 50}, 3, 0, true, losses.LovaszSoftmaxLossOptions{}),
		sm("probs-ties-merges", []int{2, 4, 60, 50}, 4, 5, true, losses.LovaszSoftmaxLossOptions{IgnoreIndex: ign}),
		sm("probs-ties-merges-per-image", []int{3, 2, 2500}, 2, 0, true, losses.LovaszSoftmaxLossOptions{PerImage: true}),
		hi("plain", []int{2, 1, 5, 7}, 0, false, losses.LovaszHingeLossOptions{}),
		hi("per-image-ignore", []int{3, 6, 6}, 4, false, losses.LovaszHingeLossOptions{PerImage: true, IgnoreIndex: ign}),
		hi("one-pixel", []int{1, 1}, 0, false, losses.LovaszHingeLossOptions{}),
		hi("merges", []int{3, 2500}, 0, false, losses.LovaszHingeLossOptions{}),
		hi("ties-merges-per-image", []int{2, 1, 50, 90}, 7, true, losses.LovaszHingeLossOptions{PerImage: true, IgnoreIndex: ign}),
		hi("all-ignored", []int{2, 5}, 1, false, losses.LovaszHingeLossOptions{IgnoreIndex: ign}),
		hi("empty-batch", []int{0, 9}, 0, false, losses.LovaszHingeLossOptions{}),
	}
}
