package losstest

import (
	"fmt"
	"math/rand/v2"

	"github.com/lossengine/lossengine/losses"
)

func init() { familyCases = append(familyCases, ssimCases, tvCases) }

// imagePair returns input and target [n, c, h, w]: input uniform in
// [0, L) (whole numbers for L = 255, as 8-bit images), target a mix of
// input and noise by corr (1: the same image; negative: anti-correlated).
func imagePair(seed uint64, n, c, h, w int, L, corr float64) (x, y []float64) {
	r := rand.New(rand.NewPCG(seed, 91))
	x, y = make([]float64, n*c*h*w), make([]float64, n*c*h*w)
	for i := range x {
		x[i] = L * r.Float64()
		noise := L * r.Float64()
		if corr >= 0 {
			y[i] = corr*x[i] + (1-corr)*noise
		} else {
			y[i] = L + corr*x[i] + (1+corr)*noise
		}
		if L == 255 {
			x[i], y[i] = float64(int(x[i])), float64(int(y[i]))
		}
	}
	return roundTo32(x), roundTo32(y)
}

func ssimCase(loss, name string, n, c, h, w int, L, corr, tol float64, opt any) Case {
	x, y := imagePair(uint64(n*c*h*w+len(name)), n, c, h, w, L, corr)
	return declCase(fmt.Sprintf("%s/%s/%dx%dx%dx%d", loss, name, n, c, h, w), loss, tol,
		inputs{"input": fl(x, n, c, h, w), "target": fl(y, n, c, h, w)}, opt)
}

// constantPair is input 0.25 and target 0.75 everywhere (σ = 0). The
// gradient is of the order of 1e-4 here, the difference of terms of the
// order of 0.1 (d exx / dx = 2x and the mean's term): float32 keeps about
// 3 digits of it, as PyTorch's autograd of the same formula does.
func constantPair(loss string, n, c, h, w int, opt any) Case {
	x, y := make([]float64, n*c*h*w), make([]float64, n*c*h*w)
	for i := range x {
		x[i], y[i] = 0.25, 0.75
	}
	return declCase(fmt.Sprintf("%s/constant/%dx%dx%dx%d", loss, n, c, h, w), loss, 2e-3,
		inputs{"input": fl(x, n, c, h, w), "target": fl(y, n, c, h, w)}, opt)
}

// ssimCases are the rows of ssim_loss and ms_ssim_loss: pytorch-msssim's
// defaults on 8-bit images (data_range 255), images in [0, 1], every
// reduction, odd sizes, C = 1, a window of 3 and of 33 taps, other K and
// σ, nonnegative_ssim on anti-correlated images, constant images, the
// five default MS-SSIM levels at 161 px, fewer levels through weights, and
// an empty batch.
func ssimCases() []Case {
	unit := losses.SSIMWindow{DataRange: 1}
	return []Case{
		ssimCase("ssim_loss", "defaults", 2, 3, 24, 26, 255, 0.8, 1e-3, nil),
		ssimCase("ssim_loss", "unit", 2, 3, 24, 26, 1, 0.8, 2e-4, losses.SSIMLossOptions{SSIMWindow: unit}),
		ssimCase("ssim_loss", "sum", 3, 2, 17, 15, 1, 0.5, 2e-4, losses.SSIMLossOptions{Reduction: losses.Sum, SSIMWindow: unit}),
		ssimCase("ssim_loss", "none", 3, 2, 17, 15, 1, 0.5, 2e-4, losses.SSIMLossOptions{Reduction: losses.None, SSIMWindow: unit}),
		ssimCase("ssim_loss", "odd-C1-win7", 1, 1, 13, 11, 1, 0.6, 2e-4,
			losses.SSIMLossOptions{SSIMWindow: losses.SSIMWindow{DataRange: 1, WinSize: 7, WinSigma: 1, K: []float64{0.02, 0.05}}}),
		ssimCase("ssim_loss", "win3", 2, 1, 5, 40, 1, 0.6, 2e-4, losses.SSIMLossOptions{SSIMWindow: losses.SSIMWindow{DataRange: 1, WinSize: 3}}),
		ssimCase("ssim_loss", "win33", 1, 2, 50, 41, 1, 0.6, 2e-4, losses.SSIMLossOptions{SSIMWindow: losses.SSIMWindow{DataRange: 1, WinSize: 33, WinSigma: 5}}),
		ssimCase("ssim_loss", "single-window", 2, 2, 11, 11, 1, 0.3, 2e-4, losses.SSIMLossOptions{SSIMWindow: unit}),
		ssimCase("ssim_loss", "nonnegative", 2, 2, 20, 20, 1, -0.9, 2e-4,
			losses.SSIMLossOptions{SSIMWindow: unit, NonnegativeSSIM: true}),
		ssimCase("ssim_loss", "anticorrelated", 2, 2, 20, 20, 1, -0.9, 2e-4, losses.SSIMLossOptions{SSIMWindow: unit}),
		constantPair("ssim_loss", 2, 2, 12, 13, losses.SSIMLossOptions{SSIMWindow: unit}),
		ssimCase("ssim_loss", "empty", 0, 3, 11, 11, 1, 0.5, 2e-4, nil),
		ssimCase("ms_ssim_loss", "defaults", 1, 2, 161, 170, 255, 0.8, 1e-3, nil),
		ssimCase("ms_ssim_loss", "3-levels-none", 2, 1, 40, 37, 1, 0.7, 2e-4,
			losses.MSSSIMLossOptions{Reduction: losses.None, SSIMWindow: losses.SSIMWindow{DataRange: 1, WinSize: 5}, Weights: []float64{0.2, 0.3, 0.5}}),
		ssimCase("ms_ssim_loss", "2-levels-sum", 2, 2, 27, 33, 1, 0.5, 2e-4,
			losses.MSSSIMLossOptions{Reduction: losses.Sum, SSIMWindow: unit, Weights: []float64{0.4, 0.6}}),
		constantPair("ms_ssim_loss", 1, 2, 30, 31, losses.MSSSIMLossOptions{SSIMWindow: unit, Weights: []float64{0.5, 0.5}}),
		ssimCase("ms_ssim_loss", "empty", 0, 2, 161, 161, 255, 0.5, 1e-3, nil),
	}
}

// tvCases are the rows of total_variation: each norm and reduction, odd
// sizes, C = 1, 1 x 1 images, an image with a single row, an image of
// more than one block of pixels and an empty batch.
func tvCases() []Case {
	var cs []Case
	tv := func(name string, n, c, h, w int, opt losses.TotalVariationOptions) {
		r := rand.New(rand.NewPCG(uint64(n*c*h*w+len(name)), 92))
		x := logits(r, n*c*h*w, 1)
		cs = append(cs, declCase(fmt.Sprintf("total_variation/%s/%dx%dx%dx%d", name, n, c, h, w), "total_variation", 1e-4,
			inputs{"input": fl(x, n, c, h, w)}, opt))
	}
	for _, norm := range []losses.TVNorm{losses.TVL1, losses.TVL2, losses.TVL2Squared} {
		for _, red := range []losses.Reduction{losses.Mean, losses.Sum, losses.None} {
			tv(norm.String()+"-"+red.String(), 3, 2, 9, 11, losses.TotalVariationOptions{Reduction: red, NormType: norm})
		}
		tv(norm.String()+"-C1", 2, 1, 17, 13, losses.TotalVariationOptions{NormType: norm})
		tv(norm.String()+"-1x1", 2, 3, 1, 1, losses.TotalVariationOptions{NormType: norm})
		tv(norm.String()+"-row", 1, 2, 1, 300, losses.TotalVariationOptions{NormType: norm})
		tv(norm.String()+"-large", 2, 3, 64, 70, losses.TotalVariationOptions{NormType: norm})
		tv(norm.String()+"-empty", 0, 3, 5, 5, losses.TotalVariationOptions{NormType: norm})
	}
	return cs
}
