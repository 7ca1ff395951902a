package losses_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/losses"
)

var ganKinds = []string{losses.GanMinimax, losses.GanNonSaturating, losses.GanWasserstein, losses.GanHinge,
	losses.GanLeastSquares, losses.GanRelativisticAverage}

// ganCall runs the discriminator (or with gen set, the generator) loss on
// the host in float64; nil weights are absent. It returns the loss and
// both gradients.
type ganCall struct {
	gen        bool
	kind       string
	red        losses.Reduction
	ls, rl, fl *float64
	wr, wg     []float64
}

func (c ganCall) nOut(nr, ng int) int {
	if c.red != losses.None {
		return 1
	}
	if c.gen && c.kind != losses.GanRelativisticAverage {
		return ng
	}
	return nr + ng
}

func (c ganCall) run(t *testing.T, xr, xg []float64) (loss, gr, gg []float64) {
	t.Helper()
	loss, gr, gg = make([]float64, c.nOut(len(xr), len(xg))), make([]float64, len(xr)), make([]float64, len(xg))
	require.NoError(t, c.runInto(xr, xg, loss, gr, gg))
	return loss, gr, gg
}

func (c ganCall) runInto(xr, xg, loss, gr, gg []float64) error {
	var wr, wg losses.Tensor
	if c.wr != nil {
		wr = losses.HostTensor(c.wr)
	}
	if c.wg != nil {
		wg = losses.HostTensor(c.wg)
	}
	a := losses.GanGeneratorArgs{RealLogits: losses.HostTensor(xr), GenLogits: losses.HostTensor(xg), RealWeights: wr,
		GeneratedWeights: wg, Loss: losses.HostTensor(loss), GradRealLogits: losses.HostTensor(gr),
		GradGenLogits: losses.HostTensor(gg)}
	if c.gen {
		return losses.GanGeneratorLoss(hostDev, a, losses.GanGeneratorLossOptions{Kind: c.kind, Reduction: c.red,
			LabelSmoothing: c.ls, RealLabel: c.rl})
	}
	return losses.GanDiscriminatorLoss(hostDev, losses.GanArgs(a), losses.GanDiscriminatorLossOptions{Kind: c.kind,
		Reduction: c.red, LabelSmoothing: c.ls, RealLabel: c.rl, FakeLabel: c.fl})
}

func softplus(x float64) float64 { return math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))) }

func TestGanClosedForm(t *testing.T) {
	l2 := math.Log(2)
	zr, zg := []float64{0, 0, 0}, []float64{0, 0}
	cases := []struct {
		what   string
		c      ganCall
		xr, xg []float64
		want   float64
	}{
		{"minimax D at 0 (smoothing: the real term is still log 2)", ganCall{kind: losses.GanMinimax}, zr, zg, 2 * l2},
		{"minimax G at 0", ganCall{gen: true, kind: losses.GanMinimax}, zr, zg, -l2},
		{"non_saturating G at 0", ganCall{gen: true, kind: losses.GanNonSaturating}, zr, zg, l2},
		{"relativistic D at 0", ganCall{kind: losses.GanRelativisticAverage}, zr, zg, 2 * l2},
		{"relativistic G at 0", ganCall{gen: true, kind: losses.GanRelativisticAverage}, zr, zg, 2 * l2},
		{"minimax D smoothed", ganCall{kind: losses.GanMinimax}, []float64{2}, []float64{-1},
			softplus(2) - 0.875*2 + softplus(-1)},
		{"minimax D ls=0", ganCall{kind: losses.GanMinimax, ls: losses.Value(0)}, []float64{2}, []float64{-1},
			softplus(-2) + softplus(-1)},
		{"non_saturating G ls=0.5", ganCall{gen: true, kind: losses.GanNonSaturating, ls: losses.Value(0.5)},
			nil, []float64{1}, softplus(1) - 0.75},
		{"wasserstein D", ganCall{kind: losses.GanWasserstein}, []float64{1, 3}, []float64{5, 6, 7}, 6 - 2},
		{"wasserstein G", ganCall{gen: true, kind: losses.GanWasserstein}, nil, []float64{5, 6, 7}, -6},
		{"hinge D", ganCall{kind: losses.GanHinge}, []float64{0.5, 2}, []float64{-2, 0}, 0.25 + 0.5},
		{"hinge G", ganCall{gen: true, kind: losses.GanHinge}, nil, []float64{-2, 0}, 1},
		{"least_squares D", ganCall{kind: losses.GanLeastSquares}, []float64{1, 3}, []float64{0, 2}, 1 + 1},
		{"least_squares D labels", ganCall{kind: losses.GanLeastSquares, rl: losses.Value(0.5), fl: losses.Value(-1)},
			[]float64{1}, []float64{1}, 0.125 + 2},
		{"least_squares G", ganCall{gen: true, kind: losses.GanLeastSquares}, nil, []float64{0, 3}, (0.5 + 2) / 2},
		{"relativistic D", ganCall{kind: losses.GanRelativisticAverage}, []float64{1, 3}, []float64{0},
			(softplus(-1)+softplus(-3))/2 + softplus(-2)},
		{"relativistic G", ganCall{gen: true, kind: losses.GanRelativisticAverage}, []float64{1, 3}, []float64{0},
			(softplus(1)+softplus(3))/2 + softplus(2)},
		{"wasserstein D sum", ganCall{kind: losses.GanWasserstein, red: losses.Sum}, []float64{1, 3}, []float64{5, 6, 7}, 18 - 4},
		// SUM_BY_NONZERO_WEIGHTS: Σ w·t over the number of nonzero weights.
		{"wasserstein D weighted", ganCall{kind: losses.GanWasserstein, wr: []float64{0, 2, 1}, wg: []float64{3}},
			[]float64{100, 1, 2}, []float64{4}, 12 - 4.0/2},
	}
	for _, c := range cases {
		t.Run(c.what, func(t *testing.T) {
			xr := c.xr
			if xr == nil {
				xr = []float64{0.3}
			}
			loss, _, _ := c.c.run(t, xr, c.xg)
			require.InDelta(t, c.want, loss[0], 1e-12)
		})
	}
}

// ganPoint returns outputs for the finite differences: away from the
// hinge's kink at ±1.
func ganPoint(r *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		for {
			x[i] = r.NormFloat64() * 2
			if math.Abs(math.Abs(x[i])-1) > 0.01 {
				break
			}
		}
	}
	return x
}

func TestGanFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	for _, gen := range []bool{false, true} {
		for _, kind := range ganKinds {
			for _, red := range []losses.Reduction{losses.Mean, losses.Sum, losses.None} {
				for _, weighted := range []bool{false, true} {
					c := ganCall{gen: gen, kind: kind, red: red, ls: losses.Value(0.3), rl: losses.Value(0.8),
						fl: losses.Value(-0.2)}
					xr, xg := ganPoint(r, 5), ganPoint(r, 3)
					if weighted {
						c.wr, c.wg = []float64{0, 1.5, 2, 0.5, 0}, []float64{1, 0, 3}
					}
					t.Run(fmt.Sprintf("gen=%v/%s/%v/w=%v", gen, kind, red, weighted), func(t *testing.T) {
						_, gr, gg := c.run(t, xr, xg)
						f := func() float64 {
							l, _, _ := c.run(t, xr, xg)
							return sumLoss(l)
						}
						fdCheck(t, xr, gr, func([]float64) float64 { return f() })
						fdCheck(t, xg, gg, func([]float64) float64 { return f() })
						if gen && kind != losses.GanRelativisticAverage {
							require.Equal(t, make([]float64, len(xr)), gr, "grad_real_logits is zero")
						}
					})
				}
			}
		}
	}
}

func TestGanNoneLayoutAndEmpty(t *testing.T) {
	xr, xg := []float64{1, -2}, []float64{0.5, 3, -1}
	c := ganCall{kind: losses.GanHinge, red: losses.None}
	loss, _, _ := c.run(t, xr, xg)
	require.Equal(t, []float64{0, 3, 1.5, 4, 0}, loss, "real terms first, then generated")
	// A mean over no elements, or over no nonzero weight, is NaN.
	for _, kind := range ganKinds {
		l, _, _ := ganCall{kind: kind}.run(t, []float64{}, xg)
		require.True(t, math.IsNaN(l[0]), kind)
		l, _, _ = ganCall{kind: kind, gen: true}.run(t, xr, []float64{})
		require.True(t, math.IsNaN(l[0]), kind)
		l, _, _ = ganCall{kind: kind, wg: []float64{0, 0, 0}}.run(t, xr, xg)
		require.True(t, math.IsNaN(l[0]), kind)
		l, _, _ = ganCall{kind: kind, red: losses.Sum}.run(t, []float64{}, []float64{})
		require.Equal(t, 0.0, l[0], kind)
	}
}

func TestGanSaturatedFloat32(t *testing.T) {
	xr, xg := []float32{1e4, -1e4}, []float32{-1e4, 1e4}
	for _, gen := range []bool{false, true} {
		for _, kind := range ganKinds {
			loss, gr, gg := make([]float32, 1), make([]float32, 2), make([]float32, 2)
			a := losses.GanGeneratorArgs{RealLogits: losses.HostTensor(xr), GenLogits: losses.HostTensor(xg),
				Loss: losses.HostTensor(loss), GradRealLogits: losses.HostTensor(gr), GradGenLogits: losses.HostTensor(gg)}
			var err error
			if gen {
				err = losses.GanGeneratorLoss(hostDev, a, losses.GanGeneratorLossOptions{Kind: kind})
			} else {
				err = losses.GanDiscriminatorLoss(hostDev, losses.GanArgs(a), losses.GanDiscriminatorLossOptions{Kind: kind,
					LabelSmoothing: losses.Value(0)})
			}
			require.NoError(t, err)
			for _, v := range append(append(loss, gr...), gg...) {
				require.False(t, math.IsNaN(float64(v)) || math.IsInf(float64(v), 0), "%v %s: %v %v %v", gen, kind, loss, gr, gg)
			}
		}
	}
	// minimax D: one right and one wrong output per tensor: (0 + 1e4)/2 twice.
	loss, _, _ := ganCall{kind: losses.GanMinimax, ls: losses.Value(0)}.run(t, []float64{1e4, -1e4}, []float64{-1e4, 1e4})
	require.Equal(t, 1e4, loss[0])
}

func TestGanErrors(t *testing.T) {
	xr, xg := []float64{1, 2}, []float64{3}
	bad := []struct {
		c   ganCall
		arg string
	}{
		{ganCall{kind: "bogus"}, "kind"},
		{ganCall{ls: losses.Value(1.5)}, "label_smoothing"},
		{ganCall{ls: losses.Value(-0.1)}, "label_smoothing"},
		{ganCall{ls: losses.Value(math.NaN())}, "label_smoothing"},
		{ganCall{rl: losses.Value(math.Inf(1)), kind: losses.GanLeastSquares}, "real_label"},
		{ganCall{red: losses.Reduction(7)}, "reduction"},
		{ganCall{wr: []float64{1}}, "real_weights"},
		{ganCall{wg: []float64{1, 2}}, "generated_weights"},
		{ganCall{gen: true, kind: "bogus"}, "kind"},
		{ganCall{gen: true, ls: losses.Value(2)}, "label_smoothing"},
	}
	for _, b := range bad {
		loss, gr, gg := []float64{-7}, []float64{-7, -7}, []float64{-7}
		err := b.c.runInto(xr, xg, loss, gr, gg)
		var ae *losses.ArgError
		require.True(t, errors.As(err, &ae), "%+v: %v", b.c, err)
		require.Equal(t, b.arg, ae.Arg)
		require.Equal(t, []float64{-7}, loss, "nothing written")
		require.Equal(t, []float64{-7, -7}, gr)
	}
	// relativistic_average's generator loss needs real_logits.
	err := losses.GanGeneratorLoss(hostDev, losses.GanGeneratorArgs{GenLogits: losses.HostTensor(xg),
		Loss: losses.HostTensor(make([]float64, 1))}, losses.GanGeneratorLossOptions{Kind: losses.GanRelativisticAverage})
	var ae *losses.ArgError
	require.True(t, errors.As(err, &ae))
	require.Equal(t, "real_logits", ae.Arg)
	// The other generator losses do not.
	loss := make([]float64, 1)
	require.NoError(t, losses.GanGeneratorLoss(hostDev, losses.GanGeneratorArgs{GenLogits: losses.HostTensor(xg),
		Loss: losses.HostTensor(loss)}, losses.GanGeneratorLossOptions{Kind: losses.GanWasserstein}))
	require.Equal(t, -3.0, loss[0])
}

// penaltyRun runs gradient_penalty (or r1 with r1 set) on the host in
// float64 over g [n, d].
func penaltyRun(t *testing.T, r1 bool, g []float64, n, d int, gpo losses.GradientPenaltyOptions,
	r1o losses.R1PenaltyOptions) (loss, grad []float64) {
	t.Helper()
	red := gpo.Reduction
	if r1 {
		red = r1o.Reduction
	}
	nl := 1
	if red == losses.None {
		nl = n
	}
	loss, grad = make([]float64, nl), make([]float64, n*d)
	a := losses.GradientPenaltyArgs{Gradients: losses.HostTensor(g, n, d), Loss: losses.HostTensor(loss),
		GradGradients: losses.HostTensor(grad, n, d)}
	var err error
	if r1 {
		err = losses.R1Penalty(hostDev, a, r1o)
	} else {
		err = losses.GradientPenalty(hostDev, a, gpo)
	}
	require.NoError(t, err)
	return loss, grad
}

func TestGanPenaltyClosedForm(t *testing.T) {
	g := []float64{3, 4, 0, 0, 0.6, 0.8}
	loss, grad := penaltyRun(t, false, g, 3, 2, losses.GradientPenaltyOptions{Epsilon: losses.Value(0)}, losses.R1PenaltyOptions{})
	// λ·mean((‖g‖ − 1)²) = 10·(16 + 1 + 0)/3; the zero row with eps 0: norm 0, gradient 0·(−2)/0 is NaN.
	require.InDelta(t, 10*17.0/3, loss[0], 1e-12)
	require.InDelta(t, 10*2*4*0.6/3, grad[0], 1e-12)
	loss, grad = penaltyRun(t, false, g, 3, 2, losses.GradientPenaltyOptions{}, losses.R1PenaltyOptions{})
	require.InDelta(t, 10*(16+math.Pow(math.Sqrt(1e-10)-1, 2))/3, loss[0], 1e-9)
	require.Equal(t, 0.0, grad[2], "a zero row: finite (0) with epsilon")
	require.Equal(t, 0.0, grad[3])
	loss, _ = penaltyRun(t, false, g, 3, 2, losses.GradientPenaltyOptions{OneSided: true, Target: losses.Value(2),
		Weight: losses.Value(1), Reduction: losses.None}, losses.R1PenaltyOptions{})
	require.InDeltaSlice(t, []float64{9, 0, 0}, loss, 1e-9)
	loss, grad = penaltyRun(t, true, g, 3, 2, losses.GradientPenaltyOptions{}, losses.R1PenaltyOptions{})
	require.InDelta(t, 5*(25+0+1)/3.0, loss[0], 1e-12)
	require.InDelta(t, 10*3/3.0, grad[0], 1e-12)
	loss, _ = penaltyRun(t, true, nil, 0, 4, losses.GradientPenaltyOptions{}, losses.R1PenaltyOptions{})
	require.True(t, math.IsNaN(loss[0]), "mean over no samples")
	// No columns: every row's norm is sqrt(eps).
	loss, _ = penaltyRun(t, false, nil, 3, 0, losses.GradientPenaltyOptions{Reduction: losses.Sum}, losses.R1PenaltyOptions{})
	require.InDelta(t, 3*10*math.Pow(math.Sqrt(1e-10)-1, 2), loss[0], 1e-12)
	loss, _ = penaltyRun(t, false, nil, 3, 0, losses.GradientPenaltyOptions{}, losses.R1PenaltyOptions{})
	require.InDelta(t, 10*math.Pow(math.Sqrt(1e-10)-1, 2), loss[0], 1e-12)
}

func TestGanPenaltyFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	const n, d = 4, 5
	for _, red := range []losses.Reduction{losses.Mean, losses.Sum, losses.None} {
		for _, v := range []struct {
			what string
			r1   bool
			o    losses.GradientPenaltyOptions
		}{{"gp", false, losses.GradientPenaltyOptions{}},
			{"gp-one-sided", false, losses.GradientPenaltyOptions{OneSided: true, Target: losses.Value(1.2), Weight: losses.Value(3)}},
			{"r1", true, losses.GradientPenaltyOptions{}}} {
			t.Run(fmt.Sprintf("%s/%v", v.what, red), func(t *testing.T) {
				g := make([]float64, n*d)
				for i := range g {
					g[i] = r.NormFloat64() * 0.5
				}
				v.o.Reduction = red
				r1o := losses.R1PenaltyOptions{Gamma: losses.Value(3), Reduction: red}
				_, grad := penaltyRun(t, v.r1, g, n, d, v.o, r1o)
				fdCheck(t, g, grad, func(x []float64) float64 {
					l, _ := penaltyRun(t, v.r1, x, n, d, v.o, r1o)
					return sumLoss(l)
				})
			})
		}
	}
}

func TestGanPenaltyErrors(t *testing.T) {
	g := []float64{1, 2, 3, 4}
	for _, c := range []struct {
		o   losses.GradientPenaltyOptions
		arg string
	}{
		{losses.GradientPenaltyOptions{Weight: losses.Value(-1)}, "weight"},
		{losses.GradientPenaltyOptions{Epsilon: losses.Value(-1)}, "epsilon"},
		{losses.GradientPenaltyOptions{Target: losses.Value(math.NaN())}, "target"},
		{losses.GradientPenaltyOptions{Reduction: losses.BatchMean}, "reduction"},
	} {
		loss := []float64{-7}
		err := losses.GradientPenalty(hostDev, losses.GradientPenaltyArgs{Gradients: losses.HostTensor(g, 2, 2),
			Loss: losses.HostTensor(loss)}, c.o)
		var ae *losses.ArgError
		require.True(t, errors.As(err, &ae), "%v", err)
		require.Equal(t, c.arg, ae.Arg)
		require.Equal(t, -7.0, loss[0])
	}
	err := losses.R1Penalty(hostDev, losses.GradientPenaltyArgs{Gradients: losses.HostTensor(g, 2, 2),
		Loss: losses.HostTensor(make([]float64, 1))}, losses.R1PenaltyOptions{Gamma: losses.Value(-2)})
	var ae *losses.ArgError
	require.True(t, errors.As(err, &ae))
	require.Equal(t, "gamma", ae.Arg)
	err = losses.R1Penalty(hostDev, losses.GradientPenaltyArgs{Gradients: losses.HostTensor(g, 2, 2),
		Loss: losses.HostTensor(make([]float64, 1)), GradGradients: losses.HostTensor(make([]float64, 4), 4)},
		losses.R1PenaltyOptions{})
	require.True(t, errors.As(err, &ae))
	require.Equal(t, "grad_gradients", ae.Arg)
}
