package losstest

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

// Outputs are the float64 views of a case's results.
type Outputs struct {
	Loss, Grad, GradTarget, LSE []float64
}

// Case is one row of the equivalence table.
type Case struct {
	Name string
	// Run computes the case on dev in float32 (f64 false) or float64.
	Run func(dev device.Device, f64 bool) (Outputs, error)
	// Tol is the relative tolerance of float32 against the float64 host
	// reference: |got - want| <= Tol * (|want| + scale), where scale is the
	// largest |want| of the same output.
	Tol float64
}

func to64[T losses.Float](v []T) []float64 {
	if v == nil {
		return nil
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func to32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func outputs[T losses.Float](r *losses.Result[T]) Outputs {
	return Outputs{Loss: to64(r.Loss), Grad: to64(r.Grad), GradTarget: to64(r.GradTarget), LSE: to64(r.LSE)}
}

// roundTo32 rounds inputs to float32 so the float64 reference sees the very
// same numbers as the float32 device.
func roundTo32(v []float64) []float64 { return to64(to32(v)) }

func logits(r *rand.Rand, n int, scale float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = r.NormFloat64() * scale
	}
	return roundTo32(x)
}

func ceCase(name string, n, c int, scale float64, tweak func(x []float64, tg []int32), opt losses.CrossEntropyOptions) Case {
	r := rand.New(rand.NewPCG(uint64(n)*7919+uint64(c), 99))
	x := logits(r, n*c, scale)
	tg := make([]int32, n)
	for i := range tg {
		tg[i] = int32(r.IntN(c))
	}
	if tweak != nil {
		tweak(x, tg)
	}
	return Case{Name: fmt.Sprintf("cross_entropy/%s/%dx%d", name, n, c), Tol: 2e-5,
		Run: func(dev device.Device, f64 bool) (Outputs, error) {
			if f64 {
				res, err := losses.CrossEntropySlices(dev, x, tg, n, c, opt)
				if err != nil {
					return Outputs{}, err
				}
				return outputs(res), nil
			}
			res, err := losses.CrossEntropySlices(dev, to32(x), tg, n, c, opt)
			if err != nil {
				return Outputs{}, err
			}
			return outputs(res), nil
		}}
}

func mseCase(name string, n int, scale float64, opt losses.MSEOptions) Case {
	r := rand.New(rand.NewPCG(uint64(n), 7))
	x, y := logits(r, n, scale), logits(r, n, scale)
	return Case{Name: fmt.Sprintf("mse_loss/%s/%d", name, n), Tol: 1e-5,
		Run: func(dev device.Device, f64 bool) (Outputs, error) {
			if f64 {
				res, err := losses.MSELossSlices(dev, x, y, opt)
				if err != nil {
					return Outputs{}, err
				}
				return outputs(res), nil
			}
			res, err := losses.MSELossSlices(dev, to32(x), to32(y), opt)
			if err != nil {
				return Outputs{}, err
			}
			return outputs(res), nil
		}}
}

func rowCase(op losses.RowOp, rows, cols int, tau, scale float64) Case {
	r := rand.New(rand.NewPCG(uint64(rows*cols), 5))
	x := logits(r, rows*cols, scale)
	nOut := rows * cols
	if op == losses.OpLogSumExp {
		nOut = rows
	}
	dy := logits(r, nOut, 1)
	return Case{Name: fmt.Sprintf("%s/tau=%g/%dx%d", op, tau, rows, cols), Tol: 2e-5,
		Run: func(dev device.Device, f64 bool) (Outputs, error) {
			if f64 {
				res, err := losses.RowOpSlices(dev, op, x, rows, cols, losses.Temperature(tau), dy)
				if err != nil {
					return Outputs{}, err
				}
				return outputs(res), nil
			}
			res, err := losses.RowOpSlices(dev, op, to32(x), rows, cols, losses.Temperature(tau), to32(dy))
			if err != nil {
				return Outputs{}, err
			}
			return outputs(res), nil
		}}
}

// Cases returns the equivalence table.
func Cases() []Case {
	w7 := []float64{0.5, 2, 1, 0.1, 3, 1, 0.7}
	weights := func(c int) []float64 {
		w := make([]float64, c)
		for i := range w {
			w[i] = 0.25 + float64(i%5)*0.5
		}
		return w
	}
	negInf := math.Inf(-1)
	var cs []Case
	for _, red := range []losses.Reduction{losses.Mean, losses.Sum, losses.None} {
		cs = append(cs,
			ceCase("plain-"+red.String(), 3, 7, 2, nil, losses.CrossEntropyOptions{Reduction: red}),
			ceCase("smooth+weight-"+red.String(), 13, 7, 2, nil, losses.CrossEntropyOptions{Reduction: red, LabelSmoothing: 0.2, Weight: w7}),
		)
	}
	cs = append(cs,
		ceCase("1x1", 1, 1, 1, nil, losses.CrossEntropyOptions{}),
		ceCase("empty-mean", 0, 5, 1, nil, losses.CrossEntropyOptions{}),
		ceCase("empty-sum", 0, 5, 1, nil, losses.CrossEntropyOptions{Reduction: losses.Sum}),
		ceCase("prime", 251, 257, 3, nil, losses.CrossEntropyOptions{}),
		ceCase("not-block-multiple", 17, 1000, 2, nil, losses.CrossEntropyOptions{LabelSmoothing: 0.1}),
		ceCase("block-plus-one", 5, 257, 2, nil, losses.CrossEntropyOptions{}),
		ceCase("wide", 3, 131072, 2, nil, losses.CrossEntropyOptions{LabelSmoothing: 0.05, Weight: weights(131072)}),
		ceCase("wide-none", 4, 32003, 5, nil, losses.CrossEntropyOptions{Reduction: losses.None}),
		ceCase("extreme", 6, 33, 1e4, nil, losses.CrossEntropyOptions{}),
		ceCase("neg-inf", 8, 40, 2, func(x []float64, tg []int32) {
			for i := 0; i < 8; i++ {
				for k := 0; k < 40; k += 3 {
					if int32(k) != tg[i] {
						x[i*40+k] = negInf
					}
				}
			}
		}, losses.CrossEntropyOptions{LabelSmoothing: 0}),
		ceCase("some-ignored", 9, 11, 2, func(x []float64, tg []int32) {
			tg[0], tg[4], tg[8] = 3, 3, 3
		}, losses.CrossEntropyOptions{IgnoreIndex: losses.Index(3), Weight: weights(11), LabelSmoothing: 0.1}),
		ceCase("all-ignored-mean", 4, 6, 2, func(x []float64, tg []int32) {
			for i := range tg {
				tg[i] = -100
			}
		}, losses.CrossEntropyOptions{}),
		ceCase("all-ignored-none", 4, 6, 2, func(x []float64, tg []int32) {
			for i := range tg {
				tg[i] = -100
			}
		}, losses.CrossEntropyOptions{Reduction: losses.None}),
	)
	for _, red := range []losses.Reduction{losses.Mean, losses.Sum, losses.None} {
		for _, n := range []int{0, 1, 255, 257, 1<<18 + 3} {
			cs = append(cs, mseCase(red.String(), n, 1, losses.MSEOptions{Reduction: red}))
		}
	}
	cs = append(cs, mseCase("extreme", 1000, 1e4, losses.MSEOptions{}))
	for _, op := range []losses.RowOp{losses.OpSoftmax, losses.OpLogSoftmax, losses.OpLogSumExp} {
		cs = append(cs,
			rowCase(op, 1, 1, 1, 1),
			rowCase(op, 7, 1000, 1, 3),
			rowCase(op, 3, 131072, 2, 2),
			rowCase(op, 31, 257, 0.5, 2),
			rowCase(op, 0, 7, 1, 1),
		)
	}
	return cs
}

// Reference computes a case on the host in float64.
func Reference(c Case) (Outputs, error) { return c.Run(host.Default(), true) }

// Compare checks got against want within tol and returns a description of
// the first mismatch, or "".
func Compare(got, want Outputs, tol float64) string {
	for _, p := range []struct {
		name string
		g, w []float64
	}{{"loss", got.Loss, want.Loss}, {"grad", got.Grad, want.Grad}, {"grad_target", got.GradTarget, want.GradTarget}, {"lse", got.LSE, want.LSE}} {
		if len(p.g) != len(p.w) {
			return fmt.Sprintf("%s: %d elements, want %d", p.name, len(p.g), len(p.w))
		}
		var scale float64
		for _, v := range p.w {
			if !math.IsInf(v, 0) && !math.IsNaN(v) {
				scale = math.Max(scale, math.Abs(v))
			}
		}
		for i := range p.w {
			g, w := p.g[i], p.w[i]
			if math.IsNaN(w) || math.IsInf(w, 0) {
				if !(math.IsNaN(w) && math.IsNaN(g)) && g != w {
					return fmt.Sprintf("%s[%d] = %v, want %v", p.name, i, g, w)
				}
				continue
			}
			if !(math.Abs(g-w) <= tol*(math.Abs(w)+scale)) {
				return fmt.Sprintf("%s[%d] = %v, want %v (|diff| %.3g > tol %.3g)", p.name, i, g, w, math.Abs(g-w), tol*(math.Abs(w)+scale))
			}
		}
	}
	return ""
}

// Identical reports whether two outputs are bitwise identical (NaN == NaN
// when their bits agree).
func Identical(a, b Outputs) bool {
	for _, p := range [][2][]float64{{a.Loss, b.Loss}, {a.Grad, b.Grad}, {a.GradTarget, b.GradTarget}, {a.LSE, b.LSE}} {
		if len(p[0]) != len(p[1]) {
			return false
		}
		for i := range p[0] {
			if math.Float64bits(p[0][i]) != math.Float64bits(p[1][i]) {
				return false
			}
		}
	}
	return true
}
