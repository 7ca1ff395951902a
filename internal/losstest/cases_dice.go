package losstest

import (
	"fmt"
	"math/rand/v2"

	"github.com/lossengine/lossengine/losses"
)

func init() { familyCases = append(familyCases, diceCases) }

// diceCase builds an overlap-loss case on input shape [N, C, *spatial]:
// logits (probabilities in (0, 1) with activation none), class indices
// (the last class absent from sample 0; every 7th pixel ignoreIdx when it
// is not nil) or, with soft, a float target in [0, 1).
func diceCase(loss, name string, shape []int, soft bool, act string, ignoreIdx *int, opt any) Case {
	return diceCaseScaled(loss, name, shape, soft, act, ignoreIdx, 1, opt)
}

// diceCaseScaled is diceCase with the logits (of an activation) scaled by
// scale: saturated pixels, whose exponentials underflow in float32.
func diceCaseScaled(loss, name string, shape []int, soft bool, act string, ignoreIdx *int, scale float64, opt any) Case {
	n, c, s := shape[0], shape[1], 1
	for _, d := range shape[2:] {
		s *= d
	}
	r := rand.New(rand.NewPCG(uint64(n*131+c*17+s), uint64(len(name)+len(loss))))
	x := make([]float64, n*c*s)
	for i := range x {
		if act == "" || act == "none" {
			x[i] = 0.05 + 0.9*r.Float64()
		} else {
			x[i] = r.NormFloat64() * 2 * scale
		}
	}
	ins := inputs{"input": fl(roundTo32(x), shape...)}
	if soft {
		t := make([]float64, n*c*s)
		for i := range t {
			t[i] = r.Float64()
		}
		ins["target"] = fl(roundTo32(t), shape...)
	} else {
		t := make([]int32, n*s)
		for i := range t {
			t[i] = int32(r.IntN(c))
			if i < s && t[i] == int32(c-1) && c > 1 {
				t[i] = 0
			}
			if ignoreIdx != nil && i%7 == 3 {
				t[i] = int32(*ignoreIdx)
			}
		}
		ins["target"] = ints(t, append([]int{n}, shape[2:]...)...)
	}
	return declCase(fmt.Sprintf("%s/%s/%v", loss, name, shape), loss, 5e-5, ins, opt)
}

func diceCases() []Case {
	no := false
	ig, allIg := 255, -1
	sm := losses.OverlapOptions{Activation: "softmax"}
	dice := func(name string, shape []int, soft bool, o losses.DiceLossOptions) Case {
		return diceCase("dice_loss", name, shape, soft, o.Activation, o.IgnoreIndex, o)
	}
	tv := func(name string, shape []int, soft bool, o losses.TverskyLossOptions) Case {
		return diceCase("tversky_loss", name, shape, soft, o.Activation, o.IgnoreIndex, o)
	}
	gdl := func(name string, shape []int, soft bool, o losses.GeneralizedDiceLossOptions) Case {
		return diceCase("generalized_dice_loss", name, shape, soft, o.Activation, o.IgnoreIndex, o)
	}
	dce := func(name string, shape []int, soft bool, o losses.DiceCELossOptions) Case {
		return diceCase("dice_ce_loss", name, shape, soft, o.Activation, o.IgnoreIndex, o)
	}
	dfo := func(name string, shape []int, soft bool, o losses.DiceFocalLossOptions) Case {
		return diceCase("dice_focal_loss", name, shape, soft, o.Activation, o.IgnoreIndex, o)
	}
	cs := []Case{
		dfo("softmax/alpha/weight/ignore", []int{2, 4, 9, 11}, false, losses.DiceFocalLossOptions{DiceLossOptions: losses.DiceLossOptions{
			OverlapOptions: losses.OverlapOptions{Activation: "softmax", IgnoreIndex: &ig}, Weight: []float64{0.5, 2, 1, 1.5}},
			Alpha: ptr(0.25), LambdaFocal: ptr(2.0)}),
		dfo("softmax/no background/gamma", []int{3, 3, 31}, false, losses.DiceFocalLossOptions{DiceLossOptions: losses.DiceLossOptions{
			OverlapOptions: losses.OverlapOptions{Activation: "softmax", IncludeBackground: &no}}, Gamma: ptr(0.5)}),
		dfo("sigmoid/float/alpha/sum", []int{2, 3, 5, 7}, true, losses.DiceFocalLossOptions{DiceLossOptions: losses.DiceLossOptions{
			OverlapOptions: losses.OverlapOptions{Activation: "sigmoid", Reduction: losses.Sum}}, Alpha: ptr(0.75), Gamma: ptr(1.5)}),
		dfo("softmax/gamma 2/runs", []int{2, 3, 300}, false, losses.DiceFocalLossOptions{DiceLossOptions: losses.DiceLossOptions{OverlapOptions: sm}}),
		// logits ×40: confident pixels (p > 1/2 takes expm1) and exponentials
		// that underflow in float32 (those pixels take the per-pixel path)
		diceCaseScaled("dice_focal_loss", "softmax/saturated/alpha", []int{2, 4, 37}, false, "softmax", nil, 40,
			losses.DiceFocalLossOptions{DiceLossOptions: losses.DiceLossOptions{OverlapOptions: sm}, Alpha: ptr(0.3), Gamma: ptr(1.5)}),
		dfo("empty batch", []int{0, 3, 4}, false, losses.DiceFocalLossOptions{DiceLossOptions: losses.DiceLossOptions{OverlapOptions: sm}}),
		dce("softmax", []int{2, 4, 9, 13}, false, losses.DiceCELossOptions{DiceLossOptions: losses.DiceLossOptions{OverlapOptions: sm}}),
		dce("weight/smoothing/ignore/lambdas", []int{3, 3, 37}, false, losses.DiceCELossOptions{DiceLossOptions: losses.DiceLossOptions{
			OverlapOptions: losses.OverlapOptions{Activation: "softmax", IgnoreIndex: &ig}, Weight: []float64{0.5, 2, 1}},
			LambdaDice: ptr(0.5), LambdaCE: ptr(2.0), LabelSmoothing: 0.1}),
		dce("sigmoid/float/sum", []int{2, 3, 5, 5}, true, losses.DiceCELossOptions{DiceLossOptions: losses.DiceLossOptions{
			OverlapOptions: losses.OverlapOptions{Activation: "sigmoid", Reduction: losses.Sum}}, LabelSmoothing: 0.2}),
		dce("softmax/float/weight/smoothing", []int{2, 3, 7, 41}, true, losses.DiceCELossOptions{DiceLossOptions: losses.DiceLossOptions{
			OverlapOptions: losses.OverlapOptions{Activation: "softmax"}, Weight: []float64{0.5, 2, 1}}, LabelSmoothing: 0.1}),
		dce("C=1 binary", []int{2, 1, 17}, true, losses.DiceCELossOptions{DiceLossOptions: losses.DiceLossOptions{
			OverlapOptions: losses.OverlapOptions{Activation: "sigmoid"}}}),
		dce("empty batch", []int{0, 3, 4}, false, losses.DiceCELossOptions{DiceLossOptions: losses.DiceLossOptions{OverlapOptions: sm}}),
		dice("softmax", []int{2, 3, 5, 7}, false, losses.DiceLossOptions{OverlapOptions: sm}),
		dice("softmax/large", []int{4, 4, 64, 65}, false, losses.DiceLossOptions{OverlapOptions: sm}),
		dice("sigmoid/float/sum", []int{3, 2, 33}, true, losses.DiceLossOptions{OverlapOptions: losses.OverlapOptions{Activation: "sigmoid", Reduction: losses.Sum}}),
		dice("none/float/soft_label", []int{2, 3, 17}, true, losses.DiceLossOptions{OverlapOptions: losses.OverlapOptions{SoftLabel: true}}),
		dice("squared/jaccard/batch/none", []int{3, 4, 9, 11}, false, losses.DiceLossOptions{OverlapOptions: losses.OverlapOptions{Activation: "softmax", Batch: true, Reduction: losses.None}, SquaredPred: true, Jaccard: true}),
		dice("no background/weight/ignore", []int{2, 4, 31}, false, losses.DiceLossOptions{OverlapOptions: losses.OverlapOptions{Activation: "softmax", IncludeBackground: &no, IgnoreIndex: &ig}, Weight: []float64{0.5, 1, 2}}),
		dice("C=1", []int{3, 1, 5, 3}, false, losses.DiceLossOptions{OverlapOptions: losses.OverlapOptions{Activation: "sigmoid"}}),
		// more classes than the float32 path's runs cache: the per-pixel path
		dice("softmax/70 classes/ignore", []int{2, 70, 11}, false, losses.DiceLossOptions{OverlapOptions: losses.OverlapOptions{Activation: "softmax", IgnoreIndex: &ig}}),
		// no activation, class indices, runs of 256 pixels and a rest
		dice("none/index/squared", []int{2, 3, 300}, false, losses.DiceLossOptions{OverlapOptions: losses.OverlapOptions{Activation: "none"}, SquaredPred: true}),
		dice("sigmoid/index/soft_label/ignore", []int{2, 3, 270}, false, losses.DiceLossOptions{OverlapOptions: losses.OverlapOptions{Activation: "sigmoid", SoftLabel: true, IgnoreIndex: &ig}}),
		dice("3-D", []int{2, 3, 5, 6, 7}, false, losses.DiceLossOptions{OverlapOptions: sm}),
		dice("all ignored", []int{2, 3, 4}, false, losses.DiceLossOptions{OverlapOptions: losses.OverlapOptions{Activation: "softmax", IgnoreIndex: &allIg, Reduction: losses.None}}),
		dice("smp", []int{2, 5, 37}, false, losses.DiceLossOptions{OverlapOptions: losses.OverlapOptions{Activation: "softmax", Convention: "smp"}}),
		dice("smp/jaccard/ignore/none", []int{2, 3, 41}, false, losses.DiceLossOptions{OverlapOptions: losses.OverlapOptions{Activation: "softmax", Convention: "smp", IgnoreIndex: &ig, Smooth: 1, Reduction: losses.None}, Jaccard: true}),
		tv("focal", []int{2, 3, 5, 7}, false, losses.TverskyLossOptions{OverlapOptions: sm, Alpha: ptr(0.3), Beta: ptr(0.7), Gamma: ptr(1.5)}),
		tv("sigmoid/float/weight/none", []int{2, 3, 19}, true, losses.TverskyLossOptions{OverlapOptions: losses.OverlapOptions{Activation: "sigmoid", Reduction: losses.None}, Weight: []float64{1, 2, 0.5}}),
		tv("smp/gamma", []int{3, 4, 23}, false, losses.TverskyLossOptions{OverlapOptions: losses.OverlapOptions{Activation: "softmax", Convention: "smp"}, Alpha: ptr(0.2), Beta: ptr(0.8), Gamma: ptr(0.75)}),
		gdl("square", []int{2, 3, 5, 7}, false, losses.GeneralizedDiceLossOptions{OverlapOptions: sm}),
		gdl("simple/batch/none", []int{3, 4, 29}, false, losses.GeneralizedDiceLossOptions{OverlapOptions: losses.OverlapOptions{Activation: "softmax", Batch: true, Reduction: losses.None}, WType: "simple"}),
		gdl("uniform/soft/no background", []int{2, 3, 13}, true, losses.GeneralizedDiceLossOptions{OverlapOptions: losses.OverlapOptions{Activation: "sigmoid", SoftLabel: true, IncludeBackground: &no}, WType: "uniform"}),
		// empty batch: NaN (mean of nothing), and the pooled batch's 0
		dice("empty batch", []int{0, 3, 4}, false, losses.DiceLossOptions{OverlapOptions: sm}),
		tv("empty batch/batch", []int{0, 3, 4}, false, losses.TverskyLossOptions{OverlapOptions: losses.OverlapOptions{Activation: "softmax", Batch: true}}),
		gdl("no pixels/none", []int{2, 3, 0}, false, losses.GeneralizedDiceLossOptions{OverlapOptions: losses.OverlapOptions{Reduction: losses.None, SmoothNr: ptr(0.5)}}),
	}
	return cs
}
