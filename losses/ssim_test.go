package losses_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/losses"
)

// ssimRefPlane is pytorch-msssim's per-plane (ssim, cs) by brute force:
// the 2-D Gaussian window g_a g_b applied directly at every VALID
// position, in float64.
func ssimRefPlane(x, y []float64, h, w, win int, sigma, c1, c2 float64) (float64, float64) {
	g := make([]float64, win)
	var gs float64
	for k := range g {
		d := float64(k - win/2)
		g[k] = math.Exp(-d * d / (2 * sigma * sigma))
		gs += g[k]
	}
	ho, wo := h-win+1, w-win+1
	var ss, cs float64
	for i := range ho {
		for j := range wo {
			var mx, my, exx, eyy, exy float64
			for a := range win {
				for b := range win {
					wt := g[a] * g[b] / (gs * gs)
					u, v := x[(i+a)*w+j+b], y[(i+a)*w+j+b]
					mx += wt * u
					my += wt * v
					exx += wt * u * u
					eyy += wt * v * v
					exy += wt * u * v
				}
			}
			sxx, syy, sxy := exx-mx*mx, eyy-my*my, exy-mx*my
			c := (2*sxy + c2) / (sxx + syy + c2)
			ss += (2*mx*my + c1) / (mx*mx + my*my + c1) * c
			cs += c
		}
	}
	m := float64(ho * wo)
	return ss / m, cs / m
}

// poolRef is avg_pool2d(kernel 2, padding (h%2, w%2), count_include_pad).
func poolRef(x []float64, h, w int) ([]float64, int, int) {
	ph, pw := h%2, w%2
	hu, wu := (h+2*ph-2)/2+1, (w+2*pw-2)/2+1
	out := make([]float64, hu*wu)
	for r := range hu {
		for c := range wu {
			var s float64
			for a := range 2 {
				for b := range 2 {
					i, j := 2*r-ph+a, 2*c-pw+b
					if i >= 0 && i < h && j >= 0 && j < w {
						s += x[i*w+j]
					}
				}
			}
			out[r*wu+c] = s / 4
		}
	}
	return out, hu, wu
}

type ssimRefOpt struct {
	win        int
	sigma, L   float64
	k1, k2     float64
	weights    []float64 // nil: SSIM
	relu       bool
	red        losses.Reduction
	n, c, h, w int
}

// ssimRef is 1 - SSIM or 1 - MS-SSIM per pytorch-msssim, reduced.
func ssimRef(x, y []float64, o ssimRefOpt) []float64 {
	c1, c2 := (o.k1*o.L)*(o.k1*o.L), (o.k2*o.L)*(o.k2*o.L)
	per := make([]float64, o.n)
	for i := range o.n {
		for ch := range o.c {
			p := i*o.c + ch
			xp, yp := x[p*o.h*o.w:(p+1)*o.h*o.w], y[p*o.h*o.w:(p+1)*o.h*o.w]
			var v float64
			if o.weights == nil {
				s, _ := ssimRefPlane(xp, yp, o.h, o.w, o.win, o.sigma, c1, c2)
				if o.relu {
					s = math.Max(s, 0)
				}
				v = s
			} else {
				v = 1
				h, w := o.h, o.w
				for k, wt := range o.weights {
					s, cs := ssimRefPlane(xp, yp, h, w, o.win, o.sigma, c1, c2)
					if k < len(o.weights)-1 {
						v *= math.Pow(math.Max(cs, 0), wt)
						xp, _, _ = poolRef(xp, h, w)
						yp, h, w = poolRef(yp, h, w)
					} else {
						v *= math.Pow(math.Max(s, 0), wt)
					}
				}
			}
			per[i] += v / float64(o.c)
		}
	}
	var sum float64
	for i := range per {
		per[i] = 1 - per[i]
		sum += per[i]
	}
	switch o.red {
	case losses.None:
		return per
	case losses.Sum:
		return []float64{sum}
	}
	return []float64{sum / float64(o.n)}
}

func (o ssimRefOpt) window() losses.SSIMWindow {
	return losses.SSIMWindow{DataRange: o.L, WinSize: o.win, WinSigma: o.sigma, K: []float64{o.k1, o.k2}}
}

// ssimCall runs SSIMLoss (weights nil) or MSSSIMLoss on the host in
// float64 and returns the loss and both gradients.
func ssimCall(t *testing.T, x, y []float64, o ssimRefOpt) (loss, gx, gy []float64) {
	t.Helper()
	sh := []int{o.n, o.c, o.h, o.w}
	nl := 1
	if o.red == losses.None {
		nl = o.n
	}
	loss, gx, gy = make([]float64, nl), make([]float64, len(x)), make([]float64, len(y))
	a := losses.SSIMArgs{Input: losses.HostTensor(x, sh...), Target: losses.HostTensor(y, sh...),
		Loss: losses.HostTensor(loss), GradInput: losses.HostTensor(gx, sh...), GradTarget: losses.HostTensor(gy, sh...)}
	if o.red == losses.None {
		a.Loss = losses.HostTensor(loss, o.n)
	}
	var err error
	if o.weights == nil {
		err = losses.SSIMLoss(hostDev, a, losses.SSIMLossOptions{Reduction: o.red, SSIMWindow: o.window(), NonnegativeSSIM: o.relu})
	} else {
		err = losses.MSSSIMLoss(hostDev, a, losses.MSSSIMLossOptions{Reduction: o.red, SSIMWindow: o.window(), Weights: o.weights})
	}
	require.NoError(t, err)
	return loss, gx, gy
}

func uniformImg(r *rand.Rand, n int, lo, hi float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = lo + (hi-lo)*r.Float64()
	}
	return v
}

func ssimCases() []struct {
	name string
	o    ssimRefOpt
} {
	base := ssimRefOpt{win: 11, sigma: 1.5, L: 1, k1: 0.01, k2: 0.03, n: 2, c: 2, h: 13, w: 15}
	with := func(f func(o *ssimRefOpt)) ssimRefOpt { o := base; f(&o); return o }
	return []struct {
		name string
		o    ssimRefOpt
	}{
		{"ssim", base},
		{"ssim sum", with(func(o *ssimRefOpt) { o.red = losses.Sum })},
		{"ssim none", with(func(o *ssimRefOpt) { o.red = losses.None })},
		{"ssim win 7 sigma 1 K", with(func(o *ssimRefOpt) { o.win, o.sigma, o.k1, o.k2 = 7, 1, 0.05, 0.1 })},
		{"ssim relu C=1 odd", with(func(o *ssimRefOpt) { o.relu, o.c, o.h, o.w, o.win = true, 1, 9, 11, 5 })},
		{"ssim data_range 255", with(func(o *ssimRefOpt) { o.L = 255 })},
		{"ms_ssim 3 levels", with(func(o *ssimRefOpt) { o.win, o.h, o.w, o.weights = 3, 17, 19, []float64{0.3, 0.3, 0.4} })},
		{"ms_ssim 2 levels none", with(func(o *ssimRefOpt) {
			o.win, o.h, o.w, o.weights, o.red = 5, 10, 13, []float64{0.5, 1.5}, losses.None
		})},
		{"ms_ssim 1 level", with(func(o *ssimRefOpt) { o.weights = []float64{2} })},
	}
}

func TestSSIMMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 1))
	for _, tc := range ssimCases() {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			scale := o.L
			x := uniformImg(r, o.n*o.c*o.h*o.w, 0, scale)
			y := make([]float64, len(x))
			for i := range y { // correlated with x, so SSIM is far from 0
				y[i] = 0.7*x[i] + 0.3*scale*r.Float64()
			}
			want := ssimRef(x, y, o)
			got, _, _ := ssimCall(t, x, y, o)
			rowClose(t, want, got, 1e-12, "loss")
		})
	}
}

func TestSSIMFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 2))
	for _, tc := range ssimCases() {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			if o.L == 255 {
				t.Skip("the step of the difference is too small for values near 255")
			}
			x := uniformImg(r, o.n*o.c*o.h*o.w, 0, 1)
			y := make([]float64, len(x))
			for i := range y {
				y[i] = 0.6*x[i] + 0.4*r.Float64()
			}
			_, gx, gy := ssimCall(t, x, y, o)
			fdCheck(t, x, gx, func(x []float64) float64 { return sumLoss(ssimRef(x, y, o)) })
			fdCheck(t, y, gy, func(y []float64) float64 { return sumLoss(ssimRef(x, y, o)) })
		})
	}
}

// Identical images: SSIM 1, loss 0 and a zero gradient (SSIM is at its
// maximum), for SSIM and MS-SSIM.
func TestSSIMIdentical(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 3))
	for _, ms := range []bool{false, true} {
		o := ssimRefOpt{win: 11, sigma: 1.5, L: 255, k1: 0.01, k2: 0.03, n: 2, c: 3, h: 23, w: 24}
		if ms {
			o.weights = []float64{0.2, 0.8}
		}
		x := uniformImg(r, o.n*o.c*o.h*o.w, 0, 255)
		loss, gx, gy := ssimCall(t, x, append([]float64(nil), x...), o)
		require.InDelta(t, 0, loss[0], 1e-13)
		for i := range gx {
			require.InDelta(t, 0, gx[i], 1e-15)
			require.InDelta(t, 0, gy[i], 1e-15)
		}
	}
}

// Constant images a and b: σ = 0 everywhere, cs = 1 and
// SSIM = (2ab + C1) / (a² + b² + C1).
func TestSSIMConstantImages(t *testing.T) {
	a, b := 0.25, 0.75
	o := ssimRefOpt{win: 11, sigma: 1.5, L: 1, k1: 0.01, k2: 0.03, n: 1, c: 1, h: 12, w: 14}
	x, y := make([]float64, o.h*o.w), make([]float64, o.h*o.w)
	for i := range x {
		x[i], y[i] = a, b
	}
	c1 := 0.01 * 0.01
	loss, _, _ := ssimCall(t, x, y, o)
	require.InDelta(t, 1-(2*a*b+c1)/(a*a+b*b+c1), loss[0], 1e-12) // σ² = E[x²] − μ² leaves ~1e-17
}

// An 11 x 11 image is one window: SSIM is the formula of the weighted
// means, variances and covariance, written out here with the Gaussian
// weights (K1 = 0.01, K2 = 0.03, L = 1).
func TestSSIMSingleWindow(t *testing.T) {
	x, y := make([]float64, 121), make([]float64, 121)
	for i := range 11 {
		for j := range 11 {
			x[i*11+j] = float64(i) / 10
			y[i*11+j] = float64(j) / 10 * float64(i) / 10
		}
	}
	var g [11]float64
	var s float64
	for k := range g {
		d := float64(k - 5)
		g[k] = math.Exp(-d * d / 4.5)
		s += g[k]
	}
	var mx, my float64
	for i := range 11 {
		for j := range 11 {
			wt := g[i] * g[j] / (s * s)
			mx += wt * x[i*11+j]
			my += wt * y[i*11+j]
		}
	}
	var vx, vy, cxy float64
	for i := range 11 {
		for j := range 11 {
			wt := g[i] * g[j] / (s * s)
			vx += wt * (x[i*11+j] - mx) * (x[i*11+j] - mx)
			vy += wt * (y[i*11+j] - my) * (y[i*11+j] - my)
			cxy += wt * (x[i*11+j] - mx) * (y[i*11+j] - my)
		}
	}
	c1, c2 := 1e-4, 9e-4
	want := (2*mx*my + c1) * (2*cxy + c2) / ((mx*mx + my*my + c1) * (vx + vy + c2))
	loss, _, _ := ssimCall(t, x, y, ssimRefOpt{win: 11, sigma: 1.5, L: 1, k1: 0.01, k2: 0.03, n: 1, c: 1, h: 11, w: 11})
	require.InDelta(t, 1-want, loss[0], 1e-13)
}

// The float32 path against the float64 reference, at data range 255 where
// σ² = E[x²] − μ² cancels most.
func TestSSIMFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 4))
	o := ssimRefOpt{win: 11, sigma: 1.5, L: 255, k1: 0.01, k2: 0.03, n: 2, c: 3, h: 40, w: 37}
	x := uniformImg(r, o.n*o.c*o.h*o.w, 0, 255)
	y := make([]float64, len(x))
	for i := range y {
		y[i] = math.Round(0.8*x[i] + 0.2*255*r.Float64())
		x[i] = math.Round(x[i])
	}
	for _, ms := range []bool{false, true} {
		if ms {
			o.weights = []float64{0.4, 0.6}
		}
		want := ssimRef(x, y, o)
		_, gx64, _ := ssimCall(t, x, y, o)
		sh := []int{o.n, o.c, o.h, o.w}
		loss, gx := make([]float32, 1), make([]float32, len(x))
		a := losses.SSIMArgs{Input: losses.HostTensor(to32s(x), sh...), Target: losses.HostTensor(to32s(y), sh...),
			Loss: losses.HostTensor(loss), GradInput: losses.HostTensor(gx, sh...)}
		var err error
		if ms {
			err = losses.MSSSIMLoss(hostDev, a, losses.MSSSIMLossOptions{Weights: o.weights})
		} else {
			err = losses.SSIMLoss(hostDev, a, losses.SSIMLossOptions{})
		}
		require.NoError(t, err)
		require.InDelta(t, want[0], float64(loss[0]), 1e-6)
		var scale float64
		for _, v := range gx64 {
			scale = math.Max(scale, math.Abs(v))
		}
		for i := range gx {
			require.InDelta(t, gx64[i], float64(gx[i]), 1e-5*scale, "element %d", i)
		}
	}
}

func TestSSIMEmptyBatch(t *testing.T) {
	for _, red := range []losses.Reduction{losses.Mean, losses.Sum, losses.None} {
		loss := []float64{7}
		if red == losses.None {
			loss = nil
		}
		err := losses.SSIMLoss(hostDev, losses.SSIMArgs{Input: losses.HostTensor([]float64{}, 0, 3, 11, 11),
			Target: losses.HostTensor([]float64{}, 0, 3, 11, 11), Loss: losses.HostTensor(loss, len(loss)),
			GradInput: losses.HostTensor([]float64{}, 0, 3, 11, 11)}, losses.SSIMLossOptions{Reduction: red})
		require.NoError(t, err)
		switch red {
		case losses.Mean:
			require.True(t, math.IsNaN(loss[0]))
		case losses.Sum:
			require.Equal(t, 0.0, loss[0])
		}
	}
}

func TestSSIMErrors(t *testing.T) {
	img := func(sh ...int) losses.Tensor {
		n := 1
		for _, d := range sh {
			n *= d
		}
		return losses.HostTensor(make([]float64, n), sh...)
	}
	loss := losses.HostTensor(make([]float64, 1))
	for _, tc := range []struct {
		name, arg string
		ms        bool
		a         losses.SSIMArgs
		win       losses.SSIMWindow
		weights   []float64
	}{
		{"window larger than the image", "input", false, losses.SSIMArgs{Input: img(1, 1, 10, 20), Target: img(1, 1, 10, 20), Loss: loss}, losses.SSIMWindow{}, nil},
		{"even win_size", "win_size", false, losses.SSIMArgs{Input: img(1, 1, 20, 20), Target: img(1, 1, 20, 20), Loss: loss}, losses.SSIMWindow{WinSize: 4}, nil},
		{"win_size too large", "win_size", false, losses.SSIMArgs{Input: img(1, 1, 40, 40), Target: img(1, 1, 40, 40), Loss: loss}, losses.SSIMWindow{WinSize: 35}, nil},
		{"shape mismatch", "target", false, losses.SSIMArgs{Input: img(1, 1, 20, 20), Target: img(1, 1, 20, 21), Loss: loss}, losses.SSIMWindow{}, nil},
		{"not 4-D", "input", false, losses.SSIMArgs{Input: img(20, 20), Target: img(20, 20), Loss: loss}, losses.SSIMWindow{}, nil},
		{"no channels", "input", false, losses.SSIMArgs{Input: img(1, 0, 20, 20), Target: img(1, 0, 20, 20), Loss: loss}, losses.SSIMWindow{}, nil},
		{"bad sigma", "win_sigma", false, losses.SSIMArgs{Input: img(1, 1, 20, 20), Target: img(1, 1, 20, 20), Loss: loss}, losses.SSIMWindow{WinSigma: -1}, nil},
		{"bad K", "k", false, losses.SSIMArgs{Input: img(1, 1, 20, 20), Target: img(1, 1, 20, 20), Loss: loss}, losses.SSIMWindow{K: []float64{0.01}}, nil},
		{"grad shape", "grad_input", false, losses.SSIMArgs{Input: img(1, 1, 20, 20), Target: img(1, 1, 20, 20), Loss: loss, GradInput: img(1, 1, 20, 19)}, losses.SSIMWindow{}, nil},
		{"too small for 5 levels", "input", true, losses.SSIMArgs{Input: img(1, 1, 160, 200), Target: img(1, 1, 160, 200), Loss: loss}, losses.SSIMWindow{}, nil},
		{"too small for 3 levels", "input", true, losses.SSIMArgs{Input: img(1, 1, 40, 41), Target: img(1, 1, 40, 41), Loss: loss}, losses.SSIMWindow{}, []float64{1, 1, 1}},
		{"empty weights", "weights", true, losses.SSIMArgs{Input: img(1, 1, 40, 41), Target: img(1, 1, 40, 41), Loss: loss}, losses.SSIMWindow{}, []float64{}},
		{"NaN weight", "weights", true, losses.SSIMArgs{Input: img(1, 1, 40, 41), Target: img(1, 1, 40, 41), Loss: loss}, losses.SSIMWindow{}, []float64{math.NaN()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.ms {
				err = losses.MSSSIMLoss(hostDev, tc.a, losses.MSSSIMLossOptions{SSIMWindow: tc.win, Weights: tc.weights})
			} else {
				err = losses.SSIMLoss(hostDev, tc.a, losses.SSIMLossOptions{SSIMWindow: tc.win})
			}
			var ae *losses.ArgError
			require.True(t, errors.As(err, &ae), "%v", err)
			require.Equal(t, tc.arg, ae.Arg, "%v", err)
		})
	}
	// 161 px allows the five default levels.
	err := losses.MSSSIMLoss(hostDev, losses.SSIMArgs{Input: img(1, 1, 161, 170), Target: img(1, 1, 161, 170), Loss: loss},
		losses.MSSSIMLossOptions{})
	require.NoError(t, err)
}
