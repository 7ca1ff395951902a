package losses_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	. "github.com/lossengine/lossengine/losses"
)

// overlapSpec is one call of an overlap loss in the tests.
type overlapSpec struct {
	loss string // dice_loss, tversky_loss, generalized_dice_loss
	dice DiceLossOptions
	tv   TverskyLossOptions
	gdl  GeneralizedDiceLossOptions
	dce  DiceCELossOptions
	dfo  DiceFocalLossOptions
}

func (sp overlapSpec) base() OverlapOptions {
	switch sp.loss {
	case "tversky_loss":
		return sp.tv.OverlapOptions
	case "generalized_dice_loss":
		return sp.gdl.OverlapOptions
	case "dice_ce_loss":
		return sp.dce.OverlapOptions
	case "dice_focal_loss":
		return sp.dfo.OverlapOptions
	}
	return sp.dice.OverlapOptions
}

func (sp overlapSpec) run(x []float64, tgI []int32, tgF []float64, shape []int, withGrad bool) (loss, grad []float64, err error) {
	in := HostTensor(x, shape...)
	var tg Tensor
	if tgI != nil {
		tg = HostTensor(tgI, append([]int{shape[0]}, shape[2:]...)...)
	} else {
		tg = HostTensor(tgF, shape...)
	}
	ls := sp.lossShape(shape[0], shape[1])
	nl := 1
	for _, d := range ls {
		nl *= d
	}
	loss = make([]float64, nl)
	a := DiceArgs{Input: in, Target: tg, Loss: HostTensor(loss, ls...)}
	if withGrad {
		grad = make([]float64, len(x))
		a.GradInput = HostTensor(grad, shape...)
	}
	switch sp.loss {
	case "tversky_loss":
		err = TverskyLoss(hostDev, a, sp.tv)
	case "generalized_dice_loss":
		err = GeneralizedDiceLoss(hostDev, a, sp.gdl)
	case "dice_ce_loss":
		err = DiceCELoss(hostDev, a, sp.dce)
	case "dice_focal_loss":
		err = DiceFocalLoss(hostDev, a, sp.dfo)
	default:
		err = DiceLoss(hostDev, a, sp.dice)
	}
	return loss, grad, err
}

// lossShape is the documented loss shape for input [n, c, ...].
func (sp overlapSpec) lossShape(n, c int) []int {
	o := sp.base()
	if o.Reduction != None {
		return []int{}
	}
	kept := c
	if o.IncludeBackground != nil && !*o.IncludeBackground && c > 1 {
		kept--
	}
	batch := o.Batch || o.Convention == ConventionSMP
	switch {
	case sp.loss == "generalized_dice_loss" && batch:
		return []int{1}
	case sp.loss == "generalized_dice_loss":
		return []int{n}
	case batch:
		return []int{kept}
	}
	return []int{n, kept}
}

func or(p *float64, def float64) float64 {
	if p == nil {
		return def
	}
	return *p
}

// overlapRef is the published formula computed directly in float64: the
// activation and the one-hot target materialised, the sums per row, the
// loss per row (MONAI's or SMP's), then the reduction. It returns the
// losses (reduction none) or the reduced loss.
func overlapRef(sp overlapSpec, x []float64, tgI []int32, tgF []float64, n, c, s int) []float64 {
	if sp.loss == "dice_ce_loss" {
		return diceCERef(sp.dce, x, tgI, tgF, n, c, s)
	}
	if sp.loss == "dice_focal_loss" {
		return diceFocalRef(sp.dfo, x, tgI, tgF, n, c, s)
	}
	o := sp.base()
	p := make([]float64, n*c*s)
	t := make([]float64, n*c*s)
	keep := make([]bool, n*s)
	for i := 0; i < n; i++ {
		for px := 0; px < s; px++ {
			keep[i*s+px] = !(tgI != nil && o.IgnoreIndex != nil && int(tgI[i*s+px]) == *o.IgnoreIndex)
			var mx, z float64 = math.Inf(-1), 0
			for k := 0; k < c; k++ {
				mx = math.Max(mx, x[(i*c+k)*s+px])
			}
			for k := 0; k < c; k++ {
				z += math.Exp(x[(i*c+k)*s+px] - mx)
			}
			for k := 0; k < c; k++ {
				j := (i*c+k)*s + px
				switch {
				case o.Activation == "softmax" && c > 1:
					p[j] = math.Exp(x[j]-mx) / z
				case o.Activation == "sigmoid":
					p[j] = 1 / (1 + math.Exp(-x[j]))
				default:
					p[j] = x[j]
				}
				if tgI != nil {
					if int(tgI[i*s+px]) == k {
						t[j] = 1
					}
				} else {
					t[j] = tgF[j]
				}
				if !keep[i*s+px] {
					p[j], t[j] = 0, 0
				}
			}
		}
	}
	smp := o.Convention == ConventionSMP
	batch := o.Batch || smp
	c0 := 0
	if o.IncludeBackground != nil && !*o.IncludeBackground && c > 1 {
		c0 = 1
	}
	groups := n
	if batch {
		groups = 1
	}
	squared := sp.loss == "dice_loss" && sp.dice.SquaredPred
	// sums per (group, class)
	I := make([]float64, groups*c)
	P := make([]float64, groups*c)
	T := make([]float64, groups*c)
	for i := 0; i < n; i++ {
		g := i
		if batch {
			g = 0
		}
		for k := 0; k < c; k++ {
			var pt, sp1, st1, d1 float64
			for px := 0; px < s; px++ {
				j := (i*c+k)*s + px
				switch {
				case squared:
					pt += p[j] * t[j]
					sp1 += p[j] * p[j]
					st1 += t[j] * t[j]
				case o.SoftLabel:
					sp1 += math.Abs(p[j])
					st1 += math.Abs(t[j])
					d1 += math.Abs(p[j] - t[j])
				default:
					pt += p[j] * t[j]
					sp1 += p[j]
					st1 += t[j]
				}
			}
			r := g*c + k
			P[r] += sp1
			T[r] += st1
			I[r] += pt - d1/2 // soft form: I = (Σ|p| + Σ|t| − Σ|p−t|)/2 (pt is 0 there)
			if o.SoftLabel && !squared {
				I[r] += (sp1 + st1) / 2
			}
		}
	}
	snr, sdr := or(o.SmoothNr, 1e-5), or(o.SmoothDr, 1e-5)
	eps := or(o.Eps, 1e-7)
	if smp {
		snr, sdr = o.Smooth, o.Smooth
	}
	var out []float64
	if sp.loss == "generalized_dice_loss" {
		for g := 0; g < groups; g++ {
			w := make([]float64, c)
			wmax := 0.0
			for k := c0; k < c; k++ {
				switch sp.gdl.WType {
				case "simple":
					w[k] = 1 / T[g*c+k]
				case "uniform":
					w[k] = 1
				default:
					w[k] = 1 / (T[g*c+k] * T[g*c+k])
				}
				if !math.IsInf(w[k], 1) {
					wmax = math.Max(wmax, w[k])
				}
			}
			var num, den float64
			for k := c0; k < c; k++ {
				if math.IsInf(w[k], 1) {
					w[k] = wmax
				}
				num += w[k] * I[g*c+k]
				den += w[k] * (P[g*c+k] + T[g*c+k])
			}
			out = append(out, 1-(2*num+snr)/(den+sdr))
		}
	} else {
		for g := 0; g < groups; g++ {
			for k := c0; k < c; k++ {
				r := g*c + k
				var l float64
				switch {
				case sp.loss == "tversky_loss":
					a, b := or(sp.tv.Alpha, 0.5), or(sp.tv.Beta, 0.5)
					den := I[r] + a*(P[r]-I[r]) + b*(T[r]-I[r])
					if smp {
						l = 1 - (I[r]+snr)/math.Max(den+snr, eps)
					} else {
						l = math.Pow(1-(I[r]+snr)/(den+sdr), or(sp.tv.Gamma, 1))
					}
				case smp && sp.dice.Jaccard:
					l = 1 - (I[r]+snr)/math.Max(P[r]+T[r]-I[r]+snr, eps)
				case smp:
					l = 1 - (2*I[r]+snr)/math.Max(P[r]+T[r]+snr, eps)
				case sp.dice.Jaccard:
					l = 1 - (2*I[r]+snr)/(2*(P[r]+T[r]-I[r])+sdr)
				default:
					l = 1 - (2*I[r]+snr)/(P[r]+T[r]+sdr)
				}
				if smp && !(T[r] > 0) {
					l = 0
				}
				var wt []float64
				if sp.loss == "dice_loss" {
					wt = sp.dice.Weight
				} else if sp.loss == "tversky_loss" {
					wt = sp.tv.Weight
				}
				if wt != nil && c-c0 > 1 {
					l *= wt[k-c0]
				}
				out = append(out, l)
			}
		}
	}
	switch o.Reduction {
	case None:
		return out
	case Sum:
		return []float64{sumOf(out)}
	}
	m := sumOf(out) / float64(len(out))
	if smp && sp.loss == "tversky_loss" {
		m = math.Pow(m, or(sp.tv.Gamma, 1))
	}
	return []float64{m}
}

// diceCERef is MONAI's DiceCELoss written out: λ_dice·dice + λ_ce·CE, the
// cross-entropy as torch's cross_entropy per pixel (weights, label
// smoothing, ignore_index; the weighted mean for class indices, the mean
// over pixels for probabilities) or, with C = 1, the binary cross-entropy
// with logits.
func diceCERef(o DiceCELossOptions, x []float64, tgI []int32, tgF []float64, n, c, s int) []float64 {
	d := overlapRef(overlapSpec{loss: "dice_loss", dice: o.DiceLossOptions}, x, tgI, tgF, n, c, s)[0]
	eps := o.LabelSmoothing
	w := func(k int) float64 {
		if o.Weight == nil || c == 1 {
			return 1
		}
		return o.Weight[k]
	}
	var num, den float64
	for i := 0; i < n; i++ {
		for px := 0; px < s; px++ {
			if c == 1 {
				v, y := x[i*s+px], tgF[i*s+px]
				num += math.Max(v, 0) - v*y + math.Log1p(math.Exp(-math.Abs(v)))
				den++
				continue
			}
			var z float64
			for k := 0; k < c; k++ {
				z += math.Exp(x[(i*c+k)*s+px])
			}
			lp := func(k int) float64 { return x[(i*c+k)*s+px] - math.Log(z) }
			if tgI != nil {
				t := int(tgI[i*s+px])
				if o.IgnoreIndex != nil && t == *o.IgnoreIndex {
					continue
				}
				var sm float64
				for k := 0; k < c; k++ {
					sm -= w(k) * lp(k)
				}
				num += (1-eps)*(-w(t)*lp(t)) + eps/float64(c)*sm
				den += w(t)
				continue
			}
			for k := 0; k < c; k++ {
				num -= w(k) * ((1-eps)*tgF[(i*c+k)*s+px] + eps/float64(c)) * lp(k)
			}
			den++
		}
	}
	ce := num
	if o.Reduction == Mean {
		ce = num / den
	}
	return []float64{or(o.LambdaDice, 1)*d + or(o.LambdaCE, 1)*ce}
}

// diceFocalRef is MONAI's DiceFocalLoss written out: λ_dice·dice +
// λ_focal·focal, the focal term MONAI's FocalLoss over the classes kept
// (softmax form with activation softmax, else sigmoid form), the mean over
// the elements of the pixels kept, the sum over (sample, class) of the
// spatial means.
func diceFocalRef(o DiceFocalLossOptions, x []float64, tgI []int32, tgF []float64, n, c, s int) []float64 {
	d := overlapRef(overlapSpec{loss: "dice_loss", dice: o.DiceLossOptions}, x, tgI, tgF, n, c, s)[0]
	g := or(o.Gamma, 2)
	k0 := 0
	if o.IncludeBackground != nil && !*o.IncludeBackground && c > 1 {
		k0 = 1
	}
	soft := o.Activation == "softmax"
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	var sum, cnt float64
	for i := 0; i < n; i++ {
		for px := 0; px < s; px++ {
			if tgI != nil && o.IgnoreIndex != nil && int(tgI[i*s+px]) == *o.IgnoreIndex {
				continue
			}
			var z float64
			for k := k0; k < c; k++ {
				z += math.Exp(x[(i*c+k)*s+px])
			}
			for k := k0; k < c; k++ {
				v := x[(i*c+k)*s+px]
				var t float64
				if tgI != nil {
					if int(tgI[i*s+px]) == k {
						t = 1
					}
				} else {
					t = tgF[(i*c+k)*s+px]
				}
				a := 1.0
				if o.Weight != nil && c-k0 > 1 {
					a = o.Weight[k-k0]
				}
				if o.Alpha != nil && !(soft && k0 == 1) {
					switch {
					case soft && k == k0:
						a *= 1 - *o.Alpha
					case soft:
						a *= *o.Alpha
					default:
						a *= t**o.Alpha + (1-t)*(1-*o.Alpha)
					}
				}
				if soft {
					p := math.Exp(v) / z
					sum += -a * t * math.Pow(1-p, g) * math.Log(p)
				} else {
					ce := v - v*t - math.Log(sig(v))
					sum += a * ce * math.Exp(g*math.Log(sig(-v*(2*t-1))))
				}
				cnt++
			}
		}
	}
	f := sum / cnt
	if o.Reduction == Sum {
		f = sum / float64(s)
	}
	return []float64{or(o.LambdaDice, 1)*d + or(o.LambdaFocal, 1)*f}
}

func sumOf(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s
}

// TestDiceClosedForms: hand-computed values on one sample of two pixels,
// two classes, probabilities p = [[0.8, 0.3], [0.2, 0.7]] (class-major)
// and targets [0, 1], smoothing 0.
func TestDiceClosedForms(t *testing.T) {
	x := []float64{0.8, 0.3, 0.2, 0.7}
	tg := []int32{0, 1}
	shape := []int{1, 2, 2}
	zero := OverlapOptions{SmoothNr: Value(0), SmoothDr: Value(0), Reduction: None}
	// class 0: I = 0.8, P = 1.1, T = 1; class 1: I = 0.7, P = 0.9, T = 1.
	for _, tc := range []struct {
		name string
		sp   overlapSpec
		want []float64
	}{
		{"dice", overlapSpec{loss: "dice_loss", dice: DiceLossOptions{OverlapOptions: zero}}, []float64{0.5 / 2.1, 0.5 / 1.9}},
		{"jaccard", overlapSpec{loss: "dice_loss", dice: DiceLossOptions{OverlapOptions: zero, Jaccard: true}},
			[]float64{0.5 / 1.3, 0.5 / 1.2}},
		// squared: P = 0.64 + 0.09 = 0.73, 0.04 + 0.49 = 0.53
		{"squared", overlapSpec{loss: "dice_loss", dice: DiceLossOptions{OverlapOptions: zero, SquaredPred: true}},
			[]float64{1 - 1.6/1.73, 1 - 1.4/1.53}},
		{"weight", overlapSpec{loss: "dice_loss", dice: DiceLossOptions{OverlapOptions: zero, Weight: []float64{2, 0.5}}},
			[]float64{1.0 / 2.1, 0.25 / 1.9}},
		// α = 0.3, β = 0.7: FP 0.3, FN 0.2 and FP 0.2, FN 0.3
		{"tversky", overlapSpec{loss: "tversky_loss", tv: TverskyLossOptions{OverlapOptions: zero, Alpha: Value(0.3), Beta: Value(0.7)}},
			[]float64{1 - 0.8/1.03, 1 - 0.7/0.97}},
		{"focal tversky", overlapSpec{loss: "tversky_loss", tv: TverskyLossOptions{OverlapOptions: zero, Gamma: Value(2)}},
			[]float64{(0.25 / 1.05) * (0.25 / 1.05), (0.25 / 0.95) * (0.25 / 0.95)}},
		// w = 1/T² = 1 for both: 1 − 2(0.8 + 0.7)/(2.1 + 1.9)
		{"generalized", overlapSpec{loss: "generalized_dice_loss", gdl: GeneralizedDiceLossOptions{OverlapOptions: zero}},
			[]float64{0.25}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := tc.sp.run(x, tg, nil, shape, true)
			require.NoError(t, err)
			require.InDeltaSlice(t, tc.want, got, 1e-12)
		})
	}
	// smp: targets [0, 0], class 1 absent (dropped); class 0 I = 1.1,
	// P = 1.1, T = 2: mean (1 − 2.2/3.1 + 0)/2.
	got, _, err := overlapSpec{loss: "dice_loss", dice: DiceLossOptions{OverlapOptions: OverlapOptions{Convention: "smp"}}}.
		run(x, []int32{0, 0}, nil, shape, true)
	require.NoError(t, err)
	require.InDelta(t, 0.9/6.2, got[0], 1e-12)
	// smp Tversky γ = 2 on the mean: ((1 − 1.1/(1.1 + 0.5·0.9)) / 2)²
	got, _, err = overlapSpec{loss: "tversky_loss", tv: TverskyLossOptions{OverlapOptions: OverlapOptions{Convention: "smp"}, Gamma: Value(2)}}.
		run(x, []int32{0, 0}, nil, shape, true)
	require.NoError(t, err)
	v := (1 - 1.1/1.55) / 2
	require.InDelta(t, v*v, got[0], 1e-12)
	// Soft labels: t = [0.6, 0.4 | 0.4, 0.6] against p: Σ|p−t| = 0.2 + 0.1
	// for class 0, so I = (1.1 + 1 − 0.3)/2 = 0.9.
	tf := []float64{0.6, 0.4, 0.4, 0.6}
	got, _, err = overlapSpec{loss: "dice_loss", dice: DiceLossOptions{OverlapOptions: OverlapOptions{
		SmoothNr: Value(0), SmoothDr: Value(0), Reduction: None, SoftLabel: true}}}.run(x, nil, tf, shape, true)
	require.NoError(t, err)
	require.InDelta(t, 1-1.8/2.1, got[0], 1e-12)
}

// overlapFDCases are the option groups of the finite-difference and
// reference checks.
func overlapFDCases() []struct {
	name string
	sp   overlapSpec
	soft bool // float soft target
} {
	sm := OverlapOptions{Activation: "softmax"}
	no := false
	ig := 2
	type tc = struct {
		name string
		sp   overlapSpec
		soft bool
	}
	return []tc{
		{"dice/softmax", overlapSpec{loss: "dice_loss", dice: DiceLossOptions{OverlapOptions: sm}}, false},
		{"dice/sigmoid/sum", overlapSpec{loss: "dice_loss", dice: DiceLossOptions{OverlapOptions: OverlapOptions{Activation: "sigmoid", Reduction: Sum}}}, false},
		{"dice/none-act/soft-target", overlapSpec{loss: "dice_loss", dice: DiceLossOptions{}}, true},
		{"dice/soft_label", overlapSpec{loss: "dice_loss", dice: DiceLossOptions{OverlapOptions: OverlapOptions{Activation: "softmax", SoftLabel: true}}}, true},
		{"dice/squared/jaccard/batch", overlapSpec{loss: "dice_loss", dice: DiceLossOptions{OverlapOptions: OverlapOptions{Activation: "softmax", Batch: true},
			SquaredPred: true, Jaccard: true}}, false},
		{"dice/no-background/weight/ignore", overlapSpec{loss: "dice_loss", dice: DiceLossOptions{OverlapOptions: OverlapOptions{Activation: "softmax",
			IncludeBackground: &no, IgnoreIndex: &ig, SmoothNr: Value(0.5), SmoothDr: Value(1)}, Weight: []float64{0.5, 2}}}, false},
		{"dice/none", overlapSpec{loss: "dice_loss", dice: DiceLossOptions{OverlapOptions: OverlapOptions{Activation: "softmax", Reduction: None}}}, false},
		{"tversky/focal", overlapSpec{loss: "tversky_loss", tv: TverskyLossOptions{OverlapOptions: sm, Alpha: Value(0.3), Beta: Value(0.7), Gamma: Value(1.5)}}, false},
		{"tversky/sigmoid/batch", overlapSpec{loss: "tversky_loss", tv: TverskyLossOptions{OverlapOptions: OverlapOptions{Activation: "sigmoid", Batch: true}, Weight: []float64{1, 2, 3}}}, false},
		{"gdl/square", overlapSpec{loss: "generalized_dice_loss", gdl: GeneralizedDiceLossOptions{OverlapOptions: sm}}, false},
		{"gdl/simple/batch", overlapSpec{loss: "generalized_dice_loss", gdl: GeneralizedDiceLossOptions{OverlapOptions: OverlapOptions{Activation: "softmax", Batch: true}, WType: "simple"}}, false},
		{"gdl/uniform/soft", overlapSpec{loss: "generalized_dice_loss", gdl: GeneralizedDiceLossOptions{OverlapOptions: OverlapOptions{Activation: "sigmoid", SoftLabel: true}, WType: "uniform"}}, true},
		{"smp/dice", overlapSpec{loss: "dice_loss", dice: DiceLossOptions{OverlapOptions: OverlapOptions{Activation: "softmax", Convention: "smp"}}}, false},
		{"smp/jaccard/smooth/ignore", overlapSpec{loss: "dice_loss", dice: DiceLossOptions{OverlapOptions: OverlapOptions{Activation: "softmax", Convention: "smp", Smooth: 0.5, IgnoreIndex: &ig}, Jaccard: true}}, false},
		{"dice_ce/index", overlapSpec{loss: "dice_ce_loss", dce: DiceCELossOptions{DiceLossOptions: DiceLossOptions{OverlapOptions: sm}}}, false},
		{"dice_ce/weight/smoothing/ignore/lambdas", overlapSpec{loss: "dice_ce_loss", dce: DiceCELossOptions{DiceLossOptions: DiceLossOptions{
			OverlapOptions: OverlapOptions{Activation: "softmax", IgnoreIndex: &ig, Batch: true}, Weight: []float64{0.5, 2, 1}, Jaccard: true},
			LambdaDice: Value(0.7), LambdaCE: Value(1.3), LabelSmoothing: 0.1}}, false},
		{"dice_ce/sigmoid/soft target/sum", overlapSpec{loss: "dice_ce_loss", dce: DiceCELossOptions{DiceLossOptions: DiceLossOptions{
			OverlapOptions: OverlapOptions{Activation: "sigmoid", Reduction: Sum}, Weight: []float64{1, 0.5, 2}}, LabelSmoothing: 0.2}}, true},
		{"dice_focal/softmax/alpha/weight/ignore", overlapSpec{loss: "dice_focal_loss", dfo: DiceFocalLossOptions{DiceLossOptions: DiceLossOptions{
			OverlapOptions: OverlapOptions{Activation: "softmax", IgnoreIndex: &ig}, Weight: []float64{0.5, 2, 1}},
			Alpha: Value(0.25), LambdaFocal: Value(3)}}, false},
		{"dice_focal/softmax/no background/gamma 0.5", overlapSpec{loss: "dice_focal_loss", dfo: DiceFocalLossOptions{DiceLossOptions: DiceLossOptions{
			OverlapOptions: OverlapOptions{Activation: "softmax", IncludeBackground: &no}}, Gamma: Value(0.5), Alpha: Value(0.3)}}, false},
		{"dice_focal/sigmoid/soft target/alpha/sum", overlapSpec{loss: "dice_focal_loss", dfo: DiceFocalLossOptions{DiceLossOptions: DiceLossOptions{
			OverlapOptions: OverlapOptions{Activation: "sigmoid", Reduction: Sum}}, Alpha: Value(0.75), Gamma: Value(1.5), LambdaDice: Value(0.5)}}, true},
		{"dice_focal/none/index", overlapSpec{loss: "dice_focal_loss", dfo: DiceFocalLossOptions{}}, false},
		{"smp/tversky/gamma", overlapSpec{loss: "tversky_loss", tv: TverskyLossOptions{OverlapOptions: OverlapOptions{Activation: "softmax", Convention: "smp"}, Alpha: Value(0.2), Beta: Value(0.8), Gamma: Value(0.75)}}, false},
	}
}

// overlapData draws inputs [n, c, s]: logits (probabilities in (0, 1)
// for activation none), class indices with class c-1 absent from sample
// 0, and some ignored pixels (index 2 where c > 3 is not a class).
func overlapData(r *rand.Rand, n, c, s int, act string, soft bool) (x []float64, tgI []int32, tgF []float64) {
	x = make([]float64, n*c*s)
	for i := range x {
		x[i] = r.NormFloat64()
		if act == "" || act == "none" {
			x[i] = 0.05 + 0.9*r.Float64()
		}
	}
	if soft {
		tgF = make([]float64, n*c*s)
		for i := range tgF {
			tgF[i] = r.Float64()
		}
		return x, nil, tgF
	}
	tgI = make([]int32, n*s)
	for i := range tgI {
		tgI[i] = int32(r.IntN(c))
		if i < s && tgI[i] == int32(c-1) {
			tgI[i] = 0 // class c-1 absent from sample 0
		}
	}
	return x, tgI, nil
}

// TestDiceFiniteDifferences: for each option group, the loss matches the
// direct formula (overlapRef) and the gradient its central differences
// (for reduction none: of the sum of the losses).
func TestDiceFiniteDifferences(t *testing.T) {
	for ci, tc := range overlapFDCases() {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(ci), 77))
			n, c, sh := 2, 3, []int{3, 2}
			s := sh[0] * sh[1]
			shape := []int{n, c, sh[0], sh[1]}
			x, tgI, tgF := overlapData(r, n, c, s, tc.sp.base().Activation, tc.soft)
			loss, grad, err := tc.sp.run(x, tgI, tgF, shape, true)
			require.NoError(t, err)
			want := overlapRef(tc.sp, x, tgI, tgF, n, c, s)
			require.InDeltaSlice(t, want, loss, 1e-12)
			fdCheck(t, x, grad, func(x []float64) float64 { return sumOf(overlapRef(tc.sp, x, tgI, tgF, n, c, s)) })
		})
	}
}

// TestDiceEdgeShapes: C = 1, odd and 3-D spatial sizes, an empty batch,
// every pixel ignored, against the direct formula.
func TestDiceEdgeShapes(t *testing.T) {
	ig := -1
	for _, tc := range []struct {
		name  string
		shape []int
		sp    overlapSpec
		allIg bool
	}{
		{"C=1/sigmoid", []int{3, 1, 5}, overlapSpec{loss: "dice_loss", dice: DiceLossOptions{OverlapOptions: OverlapOptions{Activation: "sigmoid"}}}, false},
		{"C=1/softmax skipped", []int{2, 1, 3}, overlapSpec{loss: "tversky_loss", tv: TverskyLossOptions{OverlapOptions: OverlapOptions{Activation: "softmax"}}}, false},
		{"3-D odd", []int{2, 4, 3, 5, 7}, overlapSpec{loss: "dice_loss", dice: DiceLossOptions{OverlapOptions: OverlapOptions{Activation: "softmax"}}}, false},
		{"large odd", []int{2, 3, 2049}, overlapSpec{loss: "generalized_dice_loss", gdl: GeneralizedDiceLossOptions{OverlapOptions: OverlapOptions{Activation: "softmax"}}}, false},
		{"all ignored", []int{2, 3, 4}, overlapSpec{loss: "dice_loss", dice: DiceLossOptions{OverlapOptions: OverlapOptions{Activation: "softmax", IgnoreIndex: &ig, Reduction: None}}}, true},
		{"empty batch/mean", []int{0, 3, 4}, overlapSpec{loss: "dice_loss", dice: DiceLossOptions{OverlapOptions: OverlapOptions{Activation: "softmax"}}}, false},
		{"empty batch/batch", []int{0, 3, 4}, overlapSpec{loss: "tversky_loss", tv: TverskyLossOptions{OverlapOptions: OverlapOptions{Activation: "softmax", Batch: true}, Gamma: Value(2)}}, false},
		{"no pixels/gdl none", []int{2, 3, 0}, overlapSpec{loss: "generalized_dice_loss", gdl: GeneralizedDiceLossOptions{OverlapOptions: OverlapOptions{Reduction: None, SmoothNr: Value(0.5)}}}, false},
		{"empty/smp", []int{0, 3, 4}, overlapSpec{loss: "dice_loss", dice: DiceLossOptions{OverlapOptions: OverlapOptions{Convention: "smp", Reduction: Sum}}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(9, 9))
			n, c, s := tc.shape[0], tc.shape[1], 1
			for _, d := range tc.shape[2:] {
				s *= d
			}
			x, tgI, _ := overlapData(r, n, c, s, tc.sp.base().Activation, false)
			if tc.allIg {
				for i := range tgI {
					tgI[i] = -1
				}
			}
			loss, grad, err := tc.sp.run(x, tgI, nil, tc.shape, true)
			require.NoError(t, err)
			want := overlapRef(tc.sp, x, tgI, nil, n, c, s)
			require.Equal(t, len(want), len(loss))
			for i := range want {
				if math.IsNaN(want[i]) {
					require.True(t, math.IsNaN(loss[i]), "loss[%d] = %v, want NaN", i, loss[i])
				} else {
					require.InDelta(t, want[i], loss[i], 1e-10)
				}
			}
			if len(x) > 0 && len(x) < 200 {
				fdCheck(t, x, grad, func(x []float64) float64 { return sumOf(overlapRef(tc.sp, x, tgI, nil, n, c, s)) })
			}
			if tc.allIg {
				for i, g := range grad {
					require.Zero(t, g, "grad[%d]", i)
				}
			}
		})
	}
}

// TestDiceFloat32 runs the float32 path against the float64 one.
func TestDiceFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n, c, s := 3, 4, 1000
	x, tgI, _ := overlapData(r, n, c, s, "softmax", false)
	x32 := make([]float32, len(x))
	for i, v := range x {
		x32[i] = float32(v)
		x[i] = float64(x32[i])
	}
	opt := TverskyLossOptions{OverlapOptions: OverlapOptions{Activation: "softmax"}, Alpha: Value(0.3), Beta: Value(0.7)}
	l32, g32 := make([]float32, 1), make([]float32, len(x))
	require.NoError(t, TverskyLoss(hostDev, DiceArgs{Input: HostTensor(x32, n, c, s), Target: HostTensor(tgI, n, s),
		Loss: HostTensor(l32), GradInput: HostTensor(g32, n, c, s)}, opt))
	sp := overlapSpec{loss: "tversky_loss", tv: opt}
	l64, g64, err := sp.run(x, tgI, nil, []int{n, c, s}, true)
	require.NoError(t, err)
	require.InDelta(t, l64[0], float64(l32[0]), 1e-6)
	for i := range g64 {
		require.InDelta(t, g64[i], float64(g32[i]), 1e-7+1e-4*math.Abs(g64[i]), "grad[%d]", i)
	}
}

// TestDiceFocalFloat32Extremes: the float32 focal term of confident and
// saturated pixels matches float64, and a pixel with a logit of −∞ makes
// the loss NaN in both precisions, as MONAI's FocalLoss (0·log 0 of a
// class that is not the target).
func TestDiceFocalFloat32Extremes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n, c, s := 2, 3, 600
	x, tgI, _ := overlapData(r, n, c, s, "softmax", false)
	x32 := make([]float32, len(x))
	for i, v := range x {
		x32[i] = float32(v * 30) // p > 1/2 for most targets, exponentials below float32's range
		x[i] = float64(x32[i])
	}
	opt := DiceFocalLossOptions{DiceLossOptions: DiceLossOptions{OverlapOptions: OverlapOptions{Activation: "softmax"}}}
	run32 := func() (float32, []float32) {
		l32, g32 := make([]float32, 1), make([]float32, len(x32))
		require.NoError(t, DiceFocalLoss(hostDev, DiceArgs{Input: HostTensor(x32, n, c, s), Target: HostTensor(tgI, n, s),
			Loss: HostTensor(l32), GradInput: HostTensor(g32, n, c, s)}, opt))
		return l32[0], g32
	}
	sp := overlapSpec{loss: "dice_focal_loss", dfo: opt}
	l64, g64, err := sp.run(x, tgI, nil, []int{n, c, s}, true)
	require.NoError(t, err)
	l32, g32 := run32()
	require.InDelta(t, l64[0], float64(l32), 1e-6*math.Abs(l64[0])+1e-7)
	for i := range g64 {
		require.InDelta(t, g64[i], float64(g32[i]), 1e-9+1e-4*math.Abs(g64[i]), "grad[%d]", i)
	}
	// a −∞ logit of a class that is not the pixel's target
	px := 7
	k := (int(tgI[px]) + 1) % c
	x32[k*s+px], x[k*s+px] = float32(math.Inf(-1)), math.Inf(-1)
	l64, _, err = sp.run(x, tgI, nil, []int{n, c, s}, true)
	require.NoError(t, err)
	require.True(t, math.IsNaN(l64[0]), "float64 loss %v", l64[0])
	l32, _ = run32()
	require.True(t, math.IsNaN(float64(l32)), "float32 loss %v", l32)
}

// TestDiceErrors: bad arguments are *ArgErrors naming the argument, and
// nothing is written.
func TestDiceErrors(t *testing.T) {
	x := make([]float64, 2*3*4)
	tg := []int32{0, 1, 2, 0, 1, 2, 0, 1}
	ig := 5
	for _, tc := range []struct {
		name, arg string
		call      func(loss []float64) error
	}{
		{"shape", "target", func(l []float64) error {
			return DiceLoss(hostDev, DiceArgs{Input: HostTensor(x, 2, 3, 4), Target: HostTensor(tg[:6], 2, 3), Loss: HostTensor(l)}, DiceLossOptions{})
		}},
		{"float target shape", "target", func(l []float64) error {
			return DiceLoss(hostDev, DiceArgs{Input: HostTensor(x, 2, 3, 4), Target: HostTensor(x[:12], 2, 3, 2), Loss: HostTensor(l)}, DiceLossOptions{})
		}},
		{"no spatial", "input", func(l []float64) error {
			return DiceLoss(hostDev, DiceArgs{Input: HostTensor(x[:6], 2, 3), Target: HostTensor(tg[:2], 2), Loss: HostTensor(l)}, DiceLossOptions{})
		}},
		{"range", "target", func(l []float64) error {
			bad := append([]int32(nil), tg...)
			bad[3] = 3
			return DiceLoss(hostDev, DiceArgs{Input: HostTensor(x, 2, 3, 4), Target: HostTensor(bad, 2, 4), Loss: HostTensor(l)}, DiceLossOptions{})
		}},
		{"range with ignore", "target", func(l []float64) error {
			bad := append([]int32(nil), tg...)
			bad[3] = -1
			return DiceLoss(hostDev, DiceArgs{Input: HostTensor(x, 2, 3, 4), Target: HostTensor(bad, 2, 4), Loss: HostTensor(l)},
				DiceLossOptions{OverlapOptions: OverlapOptions{IgnoreIndex: &ig}})
		}},
		{"negative smooth", "smooth_nr", func(l []float64) error {
			return DiceLoss(hostDev, DiceArgs{Input: HostTensor(x, 2, 3, 4), Target: HostTensor(tg, 2, 4), Loss: HostTensor(l)},
				DiceLossOptions{OverlapOptions: OverlapOptions{SmoothNr: Value(-1)}})
		}},
		{"activation", "activation", func(l []float64) error {
			return DiceLoss(hostDev, DiceArgs{Input: HostTensor(x, 2, 3, 4), Target: HostTensor(tg, 2, 4), Loss: HostTensor(l)},
				DiceLossOptions{OverlapOptions: OverlapOptions{Activation: "relu"}})
		}},
		{"weight length", "weight", func(l []float64) error {
			return DiceLoss(hostDev, DiceArgs{Input: HostTensor(x, 2, 3, 4), Target: HostTensor(tg, 2, 4), Loss: HostTensor(l)},
				DiceLossOptions{Weight: []float64{1, 2}})
		}},
		{"negative weight", "weight", func(l []float64) error {
			return TverskyLoss(hostDev, DiceArgs{Input: HostTensor(x, 2, 3, 4), Target: HostTensor(tg, 2, 4), Loss: HostTensor(l)},
				TverskyLossOptions{Weight: []float64{1, -2, 1}})
		}},
		{"ignore with float target", "ignore_index", func(l []float64) error {
			return DiceLoss(hostDev, DiceArgs{Input: HostTensor(x, 2, 3, 4), Target: HostTensor(x, 2, 3, 4), Loss: HostTensor(l)},
				DiceLossOptions{OverlapOptions: OverlapOptions{IgnoreIndex: &ig}})
		}},
		{"alpha", "alpha", func(l []float64) error {
			return TverskyLoss(hostDev, DiceArgs{Input: HostTensor(x, 2, 3, 4), Target: HostTensor(tg, 2, 4), Loss: HostTensor(l)},
				TverskyLossOptions{Alpha: Value(math.NaN())})
		}},
		{"gamma", "gamma", func(l []float64) error {
			return TverskyLoss(hostDev, DiceArgs{Input: HostTensor(x, 2, 3, 4), Target: HostTensor(tg, 2, 4), Loss: HostTensor(l)},
				TverskyLossOptions{Gamma: Value(0)})
		}},
		{"w_type", "w_type", func(l []float64) error {
			return GeneralizedDiceLoss(hostDev, DiceArgs{Input: HostTensor(x, 2, 3, 4), Target: HostTensor(tg, 2, 4), Loss: HostTensor(l)},
				GeneralizedDiceLossOptions{WType: "cubic"})
		}},
		{"gdl smp", "convention", func(l []float64) error {
			return GeneralizedDiceLoss(hostDev, DiceArgs{Input: HostTensor(x, 2, 3, 4), Target: HostTensor(tg, 2, 4), Loss: HostTensor(l)},
				GeneralizedDiceLossOptions{OverlapOptions: OverlapOptions{Convention: "smp"}})
		}},
		{"smp squared", "squared_pred", func(l []float64) error {
			return DiceLoss(hostDev, DiceArgs{Input: HostTensor(x, 2, 3, 4), Target: HostTensor(tg, 2, 4), Loss: HostTensor(l)},
				DiceLossOptions{OverlapOptions: OverlapOptions{Convention: "smp"}, SquaredPred: true})
		}},
		{"smp gamma sum", "gamma", func(l []float64) error {
			return TverskyLoss(hostDev, DiceArgs{Input: HostTensor(x, 2, 3, 4), Target: HostTensor(tg, 2, 4), Loss: HostTensor(l)},
				TverskyLossOptions{OverlapOptions: OverlapOptions{Convention: "smp", Reduction: Sum}, Gamma: Value(2)})
		}},
		{"loss shape", "loss", func(l []float64) error {
			return DiceLoss(hostDev, DiceArgs{Input: HostTensor(x, 2, 3, 4), Target: HostTensor(tg, 2, 4), Loss: HostTensor(l)},
				DiceLossOptions{OverlapOptions: OverlapOptions{Reduction: None}})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := []float64{42}
			err := tc.call(l)
			var ae *ArgError
			require.True(t, errors.As(err, &ae), "got %v", err)
			require.Equal(t, tc.arg, ae.Arg, "%v", err)
			require.Equal(t, 42.0, l[0])
		})
	}
}

// TestDiceCEBinary: dice_ce_loss with C = 1 is the Dice term plus the
// binary cross-entropy with logits (float target), value and gradient;
// with class indices it is an error, and an empty batch gives NaN (the
// cross-entropy's mean over no pixel).
func TestDiceCEBinary(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	n, c, s := 2, 1, 7
	x, _, tgF := overlapData(r, n, c, s, "sigmoid", true)
	sp := overlapSpec{loss: "dice_ce_loss", dce: DiceCELossOptions{DiceLossOptions: DiceLossOptions{
		OverlapOptions: OverlapOptions{Activation: "sigmoid"}}, LambdaCE: Value(2)}}
	loss, grad, err := sp.run(x, nil, tgF, []int{n, c, s}, true)
	require.NoError(t, err)
	require.InDelta(t, diceCERef(sp.dce, x, nil, tgF, n, c, s)[0], loss[0], 1e-12)
	fdCheck(t, x, grad, func(x []float64) float64 { return diceCERef(sp.dce, x, nil, tgF, n, c, s)[0] })

	_, _, err = sp.run(x, make([]int32, n*s), nil, []int{n, c, s}, true)
	var ae *ArgError
	require.True(t, errors.As(err, &ae) && ae.Arg == "target", "got %v", err)

	loss, _, err = sp.run(nil, nil, nil, []int{0, 1, s}, true)
	require.NoError(t, err)
	require.True(t, math.IsNaN(loss[0]), "empty batch: %v", loss[0])
}
