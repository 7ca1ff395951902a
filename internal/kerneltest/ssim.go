package kerneltest

import (
	"fmt"
	"math"
	"testing"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() { addFamily("ssim", testSSIM, ssimSizeCases) }

// ssimShape is a stack of planes of h x w pixels and a window of win taps.
type ssimShape struct{ planes, h, w, win int }

func (s ssimShape) String() string { return fmt.Sprintf("%dx%dx%d/win%d", s.planes, s.h, s.w, s.win) }

var ssimShapes = []ssimShape{
	{1, 11, 11, 11}, {3, 13, 17, 11}, {2, 40, 37, 7}, {1, 5, 9, 3}, {2, 50, 64, 33}, {1, 1, 1, 1},
	{1, 70, 33, 11}, {0, 12, 12, 11},
}

// ssimGauss is pytorch-msssim's window of win taps, σ 1.5.
func ssimGauss(win int) []float32 {
	g := make([]float64, win)
	var s float64
	for k := range g {
		d := float64(k - win/2)
		g[k] = math.Exp(-d * d / 4.5)
		s += g[k]
	}
	out := make([]float32, win)
	for k := range g {
		out[k] = float32(g[k] / s)
	}
	return out
}

func ssimTileCount(n int) int { return int(kernelspec.SSIMTiles(int64(n))) }

// testSSIM compares the ssim kernels with their mirrors: images in [0, 1]
// (L = 1), in [0, 255] (L = 255, where σ² = E[x²] − μ² cancels most) and
// with a NaN pixel.
func testSSIM(t *testing.T, s *suite) {
	i := 0
	for _, sh := range ssimShapes {
		for _, data := range []string{"unit", "255", "nan"} {
			seed := i
			i++
			t.Run(sh.String()+"/"+data, func(t *testing.T) { testSSIMCase(t, s, sh, data, seed) })
		}
	}
	t.Run("ssim_combine", func(t *testing.T) { testSSIMCombine(t, s) })
}

func testSSIMCase(t *testing.T, s *suite, sh ssimShape, data string, seed int) {
	rng := newRand(41, seed)
	np := sh.planes * sh.h * sh.w
	L := 1.0
	if data == "255" {
		L = 255
	}
	xs := uniform(rng, np, 0, L)
	ys := make([]float32, np)
	for i := range ys {
		ys[i] = float32(0.7*float64(xs[i]) + 0.3*L*rng.Float64())
	}
	if data == "nan" && np > 0 {
		xs[rng.IntN(np)] = nan
	}
	c1, c2 := (0.01*L)*(0.01*L), (0.03*L)*(0.03*L)
	ho, wo := sh.h-sh.win+1, sh.w-sh.win+1
	tiles := ssimTileCount(ho) * ssimTileCount(wo)
	P, H, W, Win := int32(sh.planes), int32(sh.h), int32(sh.w), int32(sh.win)
	nPartial, nMaps := 2*sh.planes*tiles, 4*sh.planes*ho*wo
	window := ssimGauss(sh.win)
	// ssim and cs are in [-1, 1]; a tile adds up to 256 of them. At L = 255
	// the float32 variances carry errors of about 1e-4 of C2.
	partialTol := tol{abs: 1e-5, floor: 2e-5}
	mapTol := tol{rel: 1e-3, abs: 1e-4, floor: 1e-9}
	gradTol := tol{rel: 1e-3, abs: 1e-4, floor: 1e-9}
	if data == "255" {
		partialTol = tol{abs: 1e-4, floor: 1e-3}
		mapTol = tol{rel: 1e-2, abs: 1e-3, floor: 1e-12}
		gradTol = tol{rel: 1e-2, abs: 1e-3, floor: 1e-12}
	}
	// Two levels' coefficients; level 1 is used.
	coef := uniform(rng, 4*max(sh.planes, 1), -1, 1)
	gs := -1 / float64(max(ho*wo, 1))
	var partial []float32
	t.Run("ssim_forward", func(t *testing.T) {
		r := s.rig(t)
		r.launch("ssim_forward", sh.planes*tiles, xs, ys, window, P, H, W, Win, c1, c2, int32(0), 0.0, 0.0,
			int32(0), zeros(1), int32(0), zeros(1), filled(nPartial, 7))
		r.compare(exact, on("partial", partialTol))
		partial = r.arg("partial").host.Float32s()
		r = s.rig(t)
		r.launch("ssim_forward", sh.planes*tiles, xs, ys, window, P, H, W, Win, c1, c2, int32(1), gs, 0.5*gs,
			int32(1), coef, int32(1), filled(nMaps, 7), filled(nPartial, 7))
		r.compare(exact, on("partial", partialTol), on("gmap", mapTol))
	})
	t.Run("ssim_plane_stats", func(t *testing.T) {
		r := s.rig(t)
		r.launch("ssim_plane_stats", sh.planes, partial, P, H, W, Win, int32(1), filled(4*sh.planes, 7))
		r.compare(exact, on("stats", tol{rel: 1e-6, abs: 1e-7, floor: 1e-7}))
	})
	t.Run("ssim_backward", func(t *testing.T) {
		gmap := randn(rng, nMaps, 1e-3)
		hu, wu := (sh.h+1)/2, (sh.w+1)/2
		nu := sh.planes * hu * wu
		upx, upy := randn(rng, nu, 1e-2), randn(rng, nu, 1e-2)
		all := kernelspec.SSIMGradX | kernelspec.SSIMGradY
		for _, flags := range []int32{all | kernelspec.SSIMUpX | kernelspec.SSIMUpY, all, kernelspec.SSIMGradX, kernelspec.SSIMGradY | kernelspec.SSIMUpY} {
			r := s.rig(t)
			nb := sh.planes * ssimTileCount(sh.h) * ssimTileCount(sh.w)
			r.launch("ssim_backward", nb, xs, ys, window, gmap, P, H, W, Win, flags, upx, upy, filled(np, 7), filled(np, 7))
			r.compare(exact, on("gx", gradTol), on("gy", gradTol))
		}
		// In place: gx is x and gy is y.
		r := s.rig(t)
		x, y := r.buf(xs), r.buf(ys)
		nb := sh.planes * ssimTileCount(sh.h) * ssimTileCount(sh.w)
		r.launch("ssim_backward", nb, x, y, window, gmap, P, H, W, Win, all, upx, upy, x, y)
		r.compare(exact, on("gx", gradTol), on("gy", gradTol))
	})
	t.Run("ssim_pool", func(t *testing.T) {
		r := s.rig(t)
		n := sh.planes * ((sh.h + 1) / 2) * ((sh.w + 1) / 2)
		r.launch("ssim_pool", partialBlocks(n), xs, P, H, W, filled(n, 7))
		r.compare(exact, on("out", tol{rel: 1e-6, floor: 1e-30}))
	})
}

// testSSIMCombine: SSIM (one level, weight 1, with and without relu) and
// MS-SSIM (five levels) over per-plane means with negative, zero and NaN
// values among them.
func testSSIMCombine(t *testing.T, s *suite) {
	for i, c := range []struct {
		planes, levels int
		relu           int32
		weights        []float32
	}{
		{7, 1, 0, []float32{1}}, {7, 1, 1, []float32{1}}, {300, 5, 1, []float32{0.0448, 0.2856, 0.3001, 0.2363, 0.1333}},
		{5, 3, 1, []float32{0.5, 1, 2}}, {0, 2, 1, []float32{1, 1}},
	} {
		t.Run(fmt.Sprintf("planes=%d/levels=%d/relu=%d", c.planes, c.levels, c.relu), func(t *testing.T) {
			rng := newRand(42, i)
			n := 2 * c.planes * c.levels
			stats := uniform(rng, n, -0.2, 1)
			if n >= 4 {
				stats[1], stats[2], stats[3] = 0, nan, -0.5
			}
			r := s.rig(t)
			r.launch("ssim_combine", partialBlocks(c.planes), stats, c.weights, int32(c.planes), int32(c.levels), c.relu,
				1/3.0, 0.25, filled(c.planes, 7), filled(n, 7))
			r.compare(exact, on("plane_loss", tol{rel: 1e-5, floor: 1e-7}), on("coef", tol{rel: 1e-4, floor: 1e-7}))
		})
	}
}

// ssimSizeCases: 2 planes of 13 x 12, window 5 (9 x 8 outputs, one tile).
func ssimSizeCases() []sizeCase {
	const P, H, W, Win = 2, 13, 12, 5
	np, maps, half := P*H*W, 4*P*9*8, P*7*6
	all := kernelspec.SSIMGradX | kernelspec.SSIMGradY | kernelspec.SSIMUpX | kernelspec.SSIMUpY
	var cs []sizeCase
	for _, on := range []int32{1, 0} {
		opt := func(k int) bufSpec {
			if on == 1 {
				return need(k)
			}
			return spare()
		}
		what := map[int32]string{1: "all", 0: "none"}[on]
		cs = append(cs,
			sizeCase{kernel: "ssim_forward", what: what, blocks: P, guarded: true, bad: []badScalar{bad("win", 34), bad("win", 0)},
				args: []any{need(np), need(np), need(Win), int32(P), int32(H), int32(W), int32(Win), 0.1, 0.2, on, -0.5, 0.5,
					on, opt(8), int32(1), opt(maps), need(2 * P)}},
			sizeCase{kernel: "ssim_backward", what: what, blocks: P, guarded: true, bad: []badScalar{bad("win", 34)},
				args: []any{need(np), need(np), need(Win), need(maps), int32(P), int32(H), int32(W), int32(Win), all * on,
					opt(half), opt(half), opt(np), opt(np)}})
	}
	return append(cs,
		sizeCase{kernel: "ssim_plane_stats", blocks: P, guarded: true,
			args: []any{need(2 * P), int32(P), int32(H), int32(W), int32(Win), int32(1), need(4 * P)}},
		sizeCase{kernel: "ssim_combine", blocks: 1, guarded: true,
			args: []any{need(12), need(2), int32(3), int32(2), int32(1), 0.5, 0.25, need(3), need(12)}},
		sizeCase{kernel: "ssim_pool", blocks: 1, guarded: true, args: []any{need(np), int32(P), int32(H), int32(W), need(half)}},
	)
}
