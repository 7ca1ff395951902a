package losses_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/losses"
)

// clipTensors wraps each slice as a host tensor.
func clipTensors[T losses.Elem](gs ...[]T) []losses.Tensor {
	ts := make([]losses.Tensor, len(gs))
	for i, g := range gs {
		ts[i] = losses.HostTensor(g)
	}
	return ts
}

// clipBrute is the p-norm of every element of gs, by brute force in
// float64 with the terms scaled by the largest |g| (no overflow), and the
// largest |g| for p = Inf.
func clipBrute[T float32 | float64](p float64, gs ...[]T) float64 {
	m := 0.0
	for _, g := range gs {
		for _, v := range g {
			m = max(m, math.Abs(float64(v)))
		}
	}
	if math.IsInf(p, 1) || m == 0 {
		return m
	}
	s := 0.0
	for _, g := range gs {
		for _, v := range g {
			s += math.Pow(math.Abs(float64(v))/m, p)
		}
	}
	return m * math.Pow(s, 1/p)
}

// TestClipGradNormClosedForm: one buffer (3, 4) has norm 5; torch's
// coefficient max_norm / (5 + 1e-6) scales it, clamped to 1.
func TestClipGradNormClosedForm(t *testing.T) {
	g := []float64{3, 4}
	total, err := losses.ClipGradNorm(hostDev, clipTensors(g), losses.ClipGradNormOptions{MaxNorm: 1})
	require.NoError(t, err)
	require.Equal(t, 5.0, total)
	c := 1 / (5 + 1e-6)
	require.InDeltaSlice(t, []float64{3 * c, 4 * c}, g, 1e-15)

	// max_norm = the norm: torch's eps still scales (by 5 / (5 + 1e-6))
	g = []float64{3, 4}
	_, err = losses.ClipGradNorm(hostDev, clipTensors(g), losses.ClipGradNormOptions{MaxNorm: 5})
	require.NoError(t, err)
	require.InDeltaSlice(t, []float64{3 * 5 / (5 + 1e-6), 4 * 5 / (5 + 1e-6)}, g, 1e-15)
	require.Less(t, g[1], 4.0)

	// a larger max_norm: coefficient clamped to 1, the gradients exact
	g32 := []float32{3, -4}
	total, err = losses.ClipGradNorm(hostDev, clipTensors(g32), losses.ClipGradNormOptions{MaxNorm: 10})
	require.NoError(t, err)
	require.Equal(t, 5.0, total)
	require.Equal(t, []float32{3, -4}, g32)

	// float32: max_norm / (total + 1e-6) in float32, as torch
	g32 = []float32{3, 4}
	_, err = losses.ClipGradNorm(hostDev, clipTensors(g32), losses.ClipGradNormOptions{MaxNorm: 1})
	require.NoError(t, err)
	c32 := float32(1) / (float32(5) + float32(1e-6))
	require.Equal(t, []float32{3 * c32, 4 * c32}, g32)
}

// TestClipGradNormOrders: the norm over three buffers (3), (), (−4, 0)
// for p = 1, 2, 3, 0.5 and Inf, and the scaling by max_norm / total.
func TestClipGradNormOrders(t *testing.T) {
	for _, tc := range []struct {
		p    float64
		want float64
	}{
		{1, 7}, {2, 5}, {0, 5}, {3, math.Cbrt(27 + 64)}, {0.5, (math.Sqrt(3) + 2) * (math.Sqrt(3) + 2)}, {math.Inf(1), 4},
	} {
		for _, f32 := range []bool{false, true} {
			o := losses.ClipGradNormOptions{MaxNorm: 0.5, NormType: losses.ClipNormType(tc.p)}
			var total float64
			var got []float64
			var err error
			if f32 {
				a, b, c := []float32{3}, []float32{}, []float32{-4, 0}
				total, err = losses.ClipGradNorm(hostDev, clipTensors(a, b, c), o)
				got = []float64{float64(a[0]), float64(c[0]), float64(c[1])}
			} else {
				a, b, c := []float64{3}, []float64{}, []float64{-4, 0}
				total, err = losses.ClipGradNorm(hostDev, clipTensors(a, b, c), o)
				got = []float64{a[0], c[0], c[1]}
			}
			require.NoError(t, err)
			tolr := 1e-14
			if f32 {
				tolr = 1e-6
			}
			require.InEpsilon(t, tc.want, total, tolr, "p=%v f32=%v", tc.p, f32)
			coef := 0.5 / (tc.want + 1e-6)
			require.InEpsilonSlice(t, []float64{3 * coef, -4 * coef}, got[:2], tolr, "p=%v", tc.p)
			require.Equal(t, 0.0, got[2])
		}
	}
}

// TestClipGradNormBrute: random buffers of random lengths (zeros among
// them, one beyond MaxReduceBlocks·BlockSize elements), at several
// scales, against a brute-force norm.
func TestClipGradNormBrute(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	lens := []int{0, 1, 255, 256, 257, 0, 4097, 600000, 3}
	for _, p := range []float64{2, 1, 3, 0.5, math.Inf(1)} {
		for _, scale := range []float64{1, 1e-30, 1e30} {
			if p == 0.5 && scale == 1e30 { // the norm itself, near 1e41, is beyond the float32 range
				continue
			}
			gs := make([][]float32, len(lens))
			for i, n := range lens {
				gs[i] = make([]float32, n)
				for j := range gs[i] {
					gs[i][j] = float32(r.NormFloat64() * scale * float64(1+i%3))
				}
			}
			want := clipBrute(p, gs...)
			orig := make([][]float32, len(gs))
			for i := range gs {
				orig[i] = slices.Clone(gs[i])
			}
			maxNorm := want / 3
			total, err := losses.ClipGradNorm(hostDev, clipTensors(gs...),
				losses.ClipGradNormOptions{MaxNorm: maxNorm, NormType: losses.ClipNormType(p)})
			require.NoError(t, err)
			require.InEpsilon(t, want, total, 1e-6, "p=%v scale=%v", p, scale)
			c := float32(maxNorm) / (float32(total) + 1e-6)
			for i := range gs {
				for j := range gs[i] {
					if gs[i][j] != orig[i][j]*c {
						t.Fatalf("p=%v scale=%v: g[%d][%d] = %v, want %v·%v", p, scale, i, j, gs[i][j], orig[i][j], c)
					}
				}
			}
		}
	}
}

// TestClipGradNormHuge: float32 gradients of 1e30 (torch's float32 norm
// is Inf from 1e20 on: its sum of squares overflows) and of 1e-30 (torch:
// 0, the squares underflow) give their finite norm here; float64
// gradients of 1e200 too.
func TestClipGradNormHuge(t *testing.T) {
	g := []float32{1e30, -1e30, 1e30}
	total, err := losses.ClipGradNorm(hostDev, clipTensors(g), losses.ClipGradNormOptions{MaxNorm: 1})
	require.NoError(t, err)
	require.InEpsilon(t, math.Sqrt(3)*1e30, total, 1e-6)
	require.InEpsilonSlice(t, []float64{1 / math.Sqrt(3), -1 / math.Sqrt(3), 1 / math.Sqrt(3)},
		[]float64{float64(g[0]), float64(g[1]), float64(g[2])}, 1e-6)

	g = []float32{1e-30, 1e-30}
	total, err = losses.ClipGradNorm(hostDev, clipTensors(g), losses.ClipGradNormOptions{MaxNorm: 1})
	require.NoError(t, err)
	require.InEpsilon(t, math.Sqrt2*1e-30, total, 1e-6)

	g64 := []float64{1e200, 1e200}
	total, err = losses.ClipGradNorm(hostDev, clipTensors(g64), losses.ClipGradNormOptions{MaxNorm: 1})
	require.NoError(t, err)
	require.InEpsilon(t, math.Sqrt2*1e200, total, 1e-14)
	require.InEpsilon(t, 1/math.Sqrt2, g64[0], 1e-14)

	// p = 3 of 1e30 in float32: (Σ|g|³)^(1/3) with |g|³ = 1e90
	g = []float32{1e30, 1e30}
	total, err = losses.ClipGradNorm(hostDev, clipTensors(g), losses.ClipGradNormOptions{MaxNorm: 1, NormType: 3})
	require.NoError(t, err)
	require.InEpsilon(t, math.Cbrt(2)*1e30, total, 1e-6)

	// the largest float32: the norm exceeds the float32 range (Inf), as it must
	g = []float32{math.MaxFloat32, math.MaxFloat32}
	total, err = losses.ClipGradNorm(hostDev, clipTensors(g), losses.ClipGradNormOptions{MaxNorm: 1})
	require.NoError(t, err)
	require.True(t, math.IsInf(total, 1))
}

// TestClipGradNormOptax: max_norm / max(total, max_norm), no eps; below
// max_norm nothing changes.
func TestClipGradNormOptax(t *testing.T) {
	g := []float64{3, 4}
	total, err := losses.ClipGradNorm(hostDev, clipTensors(g), losses.ClipGradNormOptions{MaxNorm: 2, Mode: losses.ClipOptax})
	require.NoError(t, err)
	require.Equal(t, 5.0, total)
	c := 2.0
	c /= 5
	require.Equal(t, []float64{3 * c, 4 * c}, g)
	g = []float64{3, 4}
	_, err = losses.ClipGradNorm(hostDev, clipTensors(g), losses.ClipGradNormOptions{MaxNorm: 5, Mode: losses.ClipOptax})
	require.NoError(t, err)
	require.Equal(t, []float64{3, 4}, g, "total = max_norm: coefficient exactly 1 (torch's eps would scale)")
	_, err = losses.ClipGradNorm(hostDev, clipTensors(g), losses.ClipGradNormOptions{MaxNorm: 5, Mode: losses.ClipOptax, NormType: 1})
	requireArg(t, err, "clip_grad_norm", "norm_type")
}

// TestClipGradNormEmpty: no buffers, or only empty ones: total 0, nothing
// written (torch returns 0).
func TestClipGradNormEmpty(t *testing.T) {
	total, err := losses.ClipGradNorm(hostDev, nil, losses.ClipGradNormOptions{MaxNorm: 1})
	require.NoError(t, err)
	require.Equal(t, 0.0, total)
	total, err = losses.ClipGradNorm(hostDev, clipTensors([]float32{}, []float32{}), losses.ClipGradNormOptions{MaxNorm: 1})
	require.NoError(t, err)
	require.Equal(t, 0.0, total)
	g := []float32{0, 0}
	total, err = losses.ClipGradNorm(hostDev, clipTensors(g), losses.ClipGradNormOptions{MaxNorm: 1})
	require.NoError(t, err)
	require.Equal(t, 0.0, total)
	require.Equal(t, []float32{0, 0}, g)
}

// TestClipGradNormNonfinite: a NaN gradient makes the total NaN and (torch
// 1.13, error_if_nonfinite false) every gradient NaN; an Inf makes it Inf,
// the coefficient 0: finite gradients become 0, infinite ones NaN. With
// error_if_nonfinite, ErrNonfiniteNorm and nothing written.
func TestClipGradNormNonfinite(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, p := range []float64{2, 1, math.Inf(1)} {
		o := losses.ClipGradNormOptions{MaxNorm: 1, NormType: losses.ClipNormType(p)}
		a, b := []float32{1, 2}, []float32{nan, 3}
		total, err := losses.ClipGradNorm(hostDev, clipTensors(a, b), o)
		require.NoError(t, err)
		require.True(t, math.IsNaN(total))
		for _, v := range append(a, b...) {
			require.True(t, math.IsNaN(float64(v)), "p=%v", p)
		}

		a, b = []float32{1, 2}, []float32{-inf, 3}
		total, err = losses.ClipGradNorm(hostDev, clipTensors(a, b), o)
		require.NoError(t, err)
		require.True(t, math.IsInf(total, 1))
		require.Equal(t, []float32{0, 0}, a)
		require.True(t, math.IsNaN(float64(b[0])))
		require.Equal(t, float32(0), b[1])

		// NaN and Inf: NaN
		a, b = []float32{inf, 2}, []float32{nan, 3}
		total, err = losses.ClipGradNorm(hostDev, clipTensors(a, b), o)
		require.NoError(t, err)
		require.True(t, math.IsNaN(total))

		o.ErrorIfNonfinite = true
		for _, bad := range []float32{nan, inf, -inf} {
			a, b = []float32{10, 20}, []float32{bad, 30}
			total, err = losses.ClipGradNorm(hostDev, clipTensors(a, b), o)
			require.ErrorIs(t, err, losses.ErrNonfiniteNorm)
			require.False(t, math.Abs(total) <= math.MaxFloat64)
			require.Equal(t, []float32{10, 20}, a)
			require.Equal(t, float32(30), b[1])
		}
		// finite: no error, clipped
		a = []float32{3, 4}
		total, err = losses.ClipGradNorm(hostDev, clipTensors(a), o)
		require.NoError(t, err)
		require.Less(t, a[1], float32(4))
		_ = total
	}
}

// TestClipGradNormDeterministic: the same call twice is bitwise identical.
func TestClipGradNormDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	mk := func() [][]float32 {
		r := rand.New(rand.NewPCG(1, 2))
		var gs [][]float32
		for _, n := range []int{70001, 5, 0, 300000} {
			g := make([]float32, n)
			for i := range g {
				g[i] = float32(r.NormFloat64())
			}
			gs = append(gs, g)
		}
		return gs
	}
	_ = r
	for _, p := range []float64{2, 1, 0.5, math.Inf(1)} {
		a, b := mk(), mk()
		o := losses.ClipGradNormOptions{MaxNorm: 1, NormType: losses.ClipNormType(p)}
		ta, err := losses.ClipGradNorm(hostDev, clipTensors(a...), o)
		require.NoError(t, err)
		tb, err := losses.ClipGradNorm(hostDev, clipTensors(b...), o)
		require.NoError(t, err)
		require.Equal(t, math.Float64bits(ta), math.Float64bits(tb))
		for i := range a {
			require.Equal(t, a[i], b[i])
		}
	}
}

// TestClipBadInput: each bad option or tensor is an *ArgError naming it,
// and nothing is written.
func TestClipBadInput(t *testing.T) {
	g := []float32{3, 4}
	for _, tc := range []struct {
		o   losses.ClipGradNormOptions
		arg string
	}{
		{losses.ClipGradNormOptions{MaxNorm: math.NaN()}, "max_norm"},
		{losses.ClipGradNormOptions{}, "max_norm"},
		{losses.ClipGradNormOptions{MaxNorm: -1}, "max_norm"},
		{losses.ClipGradNormOptions{MaxNorm: 1, NormType: -2}, "norm_type"},
		{losses.ClipGradNormOptions{MaxNorm: 1, NormType: losses.ClipNormType(math.NaN())}, "norm_type"},
		{losses.ClipGradNormOptions{MaxNorm: 1, NormType: losses.ClipNormType(math.Inf(-1))}, "norm_type"},
		{losses.ClipGradNormOptions{MaxNorm: 1, Mode: "keras"}, "mode"},
	} {
		_, err := losses.ClipGradNorm(hostDev, clipTensors(g), tc.o)
		requireArg(t, err, "clip_grad_norm", tc.arg)
	}
	_, err := losses.ClipGradNorm(hostDev, []losses.Tensor{losses.HostTensor(g), losses.HostTensor([]float64{1})},
		losses.ClipGradNormOptions{MaxNorm: 1})
	requireArg(t, err, "clip_grad_norm", "grads[1]")
	_, err = losses.ClipGradNorm(hostDev, []losses.Tensor{losses.HostTensor(g), {}}, losses.ClipGradNormOptions{MaxNorm: 1})
	requireArg(t, err, "clip_grad_norm", "grads[1]")
	_, err = losses.ClipGradNorm(hostDev, []losses.Tensor{losses.HostTensor([]int32{1})}, losses.ClipGradNormOptions{MaxNorm: 1})
	requireArg(t, err, "clip_grad_norm", "grads[0]")
	_, err = losses.ClipGradNorm(hostDev, []losses.Tensor{losses.HostTensor(g, 3)}, losses.ClipGradNormOptions{MaxNorm: 1})
	requireArg(t, err, "clip_grad_norm", "grads[0]")
	for _, v := range []float64{math.NaN(), -1, 0} {
		err = losses.ClipGradValue(hostDev, clipTensors(g), losses.ClipGradValueOptions{ClipValue: v})
		requireArg(t, err, "clip_grad_value", "clip_value")
	}
	err = losses.ClipGradValue(hostDev, []losses.Tensor{losses.HostTensor(g), losses.HostTensor([]float64{1})},
		losses.ClipGradValueOptions{ClipValue: 1})
	requireArg(t, err, "clip_grad_value", "grads[1]")
	require.Equal(t, []float32{3, 4}, g)

	// the flat form: sizes that do not add up, a negative size
	x := []float32{1, 2, 3}
	out := make([]float32, 3)
	tn := make([]float32, 1)
	for _, sz := range [][]int32{{1, 1}, {4, -1}, {1, 1, 2}} {
		err = losses.ClipGradNormFlat(hostDev, losses.ClipGradNormFlatArgs{Input: losses.HostTensor(x),
			Sizes: losses.HostTensor(sz), TotalNorm: losses.HostTensor(tn), Output: losses.HostTensor(out)},
			losses.ClipGradNormFlatOptions{ClipGradNormOptions: losses.ClipGradNormOptions{MaxNorm: 1}})
		requireArg(t, err, "clip_grad_norm", "sizes")
		require.Equal(t, []float32{0, 0, 0}, out)
		require.Equal(t, []float32{0}, tn)
	}
}

// TestClipGradValue: clamping to [−v, v], NaN kept, ±Inf clamped.
func TestClipGradValue(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	a, b := []float32{-3, 0.25, nan}, []float32{inf, -inf, 1, -1}
	require.NoError(t, losses.ClipGradValue(hostDev, clipTensors(a, b, []float32{}), losses.ClipGradValueOptions{ClipValue: 1}))
	require.Equal(t, []float32{-1, 0.25}, a[:2])
	require.True(t, math.IsNaN(float64(a[2])))
	require.Equal(t, []float32{1, -1, 1, -1}, b)
	c := []float64{-1e300, 1e-300, 5}
	require.NoError(t, losses.ClipGradValue(hostDev, clipTensors(c), losses.ClipGradValueOptions{ClipValue: math.Inf(1)}))
	require.Equal(t, []float64{-1e300, 1e-300, 5}, c)
	require.NoError(t, losses.ClipGradValue(hostDev, nil, losses.ClipGradValueOptions{ClipValue: 1}))
}

// TestClipFlat: the declared forms: a separate output leaves the input
// alone, the output may be the input itself, and the total lands in loss.
func TestClipFlat(t *testing.T) {
	x := []float64{3, 0, 4, 0}
	out := make([]float64, 4)
	tn := make([]float64, 1)
	o := losses.ClipGradNormFlatOptions{ClipGradNormOptions: losses.ClipGradNormOptions{MaxNorm: 1}}
	require.NoError(t, losses.ClipGradNormFlat(hostDev, losses.ClipGradNormFlatArgs{Input: losses.HostTensor(x, 2, 2),
		Sizes: losses.HostTensor([]int32{1, 0, 3}), TotalNorm: losses.HostTensor(tn, 1), Output: losses.HostTensor(out, 2, 2)}, o))
	require.Equal(t, []float64{5}, tn)
	c := 1 / (5 + 1e-6)
	require.InDeltaSlice(t, []float64{3 * c, 0, 4 * c, 0}, out, 1e-15)
	require.Equal(t, []float64{3, 0, 4, 0}, x)
	require.NoError(t, losses.ClipGradNormFlat(hostDev, losses.ClipGradNormFlatArgs{Input: losses.HostTensor(x),
		Output: losses.HostTensor(x)}, o))
	require.InDeltaSlice(t, []float64{3 * c, 0, 4 * c, 0}, x, 1e-15)

	d, ok := losses.Lookup("clip_grad_norm")
	require.True(t, ok)
	opt, err := d.DecodeOptions([]byte(`{"max_norm": 2, "norm_type": "inf", "error_if_nonfinite": true}`))
	require.NoError(t, err)
	res, err := d.Call(hostDev, map[string]losses.Tensor{"input": losses.HostTensor([]float32{1, -8, 2})}, opt)
	require.NoError(t, err)
	require.Equal(t, []float64{8}, losses.Floats(res["loss"]))
	require.InDeltaSlice(t, []float64{0.25, -2, 0.5}, losses.Floats(res["output"]), 1e-6)
	_, err = d.DecodeOptions([]byte(`{"max_norm": 2, "norm_type": "two"}`))
	requireArg(t, err, "clip_grad_norm", "norm_type")

	v, ok := losses.Lookup("clip_grad_value")
	require.True(t, ok)
	opt, err = v.DecodeOptions([]byte(`{"clip_value": 0.5}`))
	require.NoError(t, err)
	res, err = v.Call(hostDev, map[string]losses.Tensor{"input": losses.HostTensor([]float32{1, -8, 0.25}, 3, 1)}, opt)
	require.NoError(t, err)
	require.Equal(t, []float64{0.5, -0.5, 0.25}, losses.Floats(res["output"]))
}
