package losses

import (
	"math"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// SSIM and MS-SSIM losses over images [N, C, H, W] with pytorch-msssim's
// conventions (kernels/*/ssim.*, host/ssim.go): a Gaussian window of
// win_size taps and σ win_sigma, normalised to sum 1 and applied
// separably in the VALID convention (no padding: an H x W image gives
// (H - win_size + 1) x (W - win_size + 1) windows; skimage's
// structural_similarity with gaussian_weights and
// use_sample_covariance=False, but without its cropping); σ² = E[x²] − μ²
// as pytorch-msssim computes it; C1 = (K1·data_range)², C2 =
// (K2·data_range)²; each plane's SSIM and cs are the means of their maps.

// SSIMArgs are the tensors of SSIMLoss and MSSSIMLoss.
type SSIMArgs struct {
	Input  Tensor `loss:"input,in"`  // [N, C, H, W]
	Target Tensor `loss:"target,in"` // [N, C, H, W]
	// Loss is one element, or [N] with reduction None.
	Loss Tensor `loss:"loss,out"`
	// GradInput and GradTarget, when given, receive the gradients (the
	// losses are symmetric in input and target). Each may alias its input.
	GradInput  Tensor `loss:"grad_input,grad"`
	GradTarget Tensor `loss:"grad_target,grad"`
}

// SSIMWindow are the options of the window and constants that SSIMLoss
// and MSSSIMLoss share. The zero value means pytorch-msssim's defaults.
type SSIMWindow struct {
	// DataRange L of the images; 0 means 255 (pytorch-msssim's default; use
	// 1 for images in [0, 1]).
	DataRange float64 `json:"data_range"`
	// WinSize is the odd number of taps of the window, at most
	// kernelspec.SSIMMaxWin (33); 0 means 11.
	WinSize int `json:"win_size"`
	// WinSigma is the Gaussian's σ; 0 means 1.5.
	WinSigma float64 `json:"win_sigma"`
	// K is (K1, K2); nil means (0.01, 0.03). Its JSON name is "k"
	// (pytorch-msssim's keyword K, in the snake case of every option).
	K []float64 `json:"k"`
}

// SSIMLossOptions are the options of SSIMLoss.
type SSIMLossOptions struct {
	// Reduction: Mean is 1 − the mean SSIM over the N·C planes
	// (pytorch-msssim's size_average=True); None is 1 − each image's mean
	// over its channels ([N], size_average=False); Sum adds those.
	Reduction Reduction `json:"reduction"`
	SSIMWindow
	// NonnegativeSSIM clamps each plane's SSIM at 0 (relu) before the
	// mean, as pytorch-msssim's nonnegative_ssim.
	NonnegativeSSIM bool `json:"nonnegative_ssim"`
}

// MSSSIMLossOptions are the options of MSSSIMLoss.
type MSSSIMLossOptions struct {
	// Reduction: as in SSIMLossOptions.
	Reduction Reduction `json:"reduction"`
	SSIMWindow
	// Weights are the exponents of the scales, one per level; nil means
	// the five of Wang et al. (0.0448, 0.2856, 0.3001, 0.2363, 0.1333).
	Weights []float64 `json:"weights"`
}

// DefaultMSSSIMWeights are the exponents of the five MS-SSIM scales of
// Wang, Simoncelli and Bovik (2003), pytorch-msssim's default.
var DefaultMSSSIMWeights = []float64{0.0448, 0.2856, 0.3001, 0.2363, 0.1333}

// ssimParams are the resolved options of one call.
type ssimParams struct {
	name    string
	red     Reduction
	win     int
	sigma   float64
	c1, c2  float64
	weights []float64 // one per level
	relu    bool
	ms      bool
}

func (o SSIMWindow) resolve(name string, p *ssimParams) error {
	L := o.DataRange
	if L == 0 {
		L = 255
	}
	if math.IsNaN(L) || math.IsInf(L, 0) {
		return argErr(name, "data_range", "must be finite, got %v", L)
	}
	p.win = o.WinSize
	if p.win == 0 {
		p.win = 11
	}
	if p.win < 1 || p.win%2 == 0 || p.win > kernelspec.SSIMMaxWin {
		return argErr(name, "win_size", "must be odd, in [1, %d], got %d", kernelspec.SSIMMaxWin, p.win)
	}
	p.sigma = o.WinSigma
	if p.sigma == 0 {
		p.sigma = 1.5
	}
	if !(p.sigma > 0) || math.IsInf(p.sigma, 0) {
		return argErr(name, "win_sigma", "must be positive and finite, got %v", p.sigma)
	}
	k1, k2 := 0.01, 0.03
	if o.K != nil {
		if len(o.K) != 2 {
			return argErr(name, "k", "has %d elements, want 2 (K1, K2)", len(o.K))
		}
		k1, k2 = o.K[0], o.K[1]
	}
	p.c1, p.c2 = (k1*L)*(k1*L), (k2*L)*(k2*L)
	if math.IsNaN(p.c1) || math.IsInf(p.c1, 0) || math.IsNaN(p.c2) || math.IsInf(p.c2, 0) {
		return argErr(name, "k", "(K·data_range)² must be finite, got K = %v", o.K)
	}
	return nil
}

// ssimWindow is pytorch-msssim's 1-D Gaussian: g_k ∝ exp(-(k - win/2)² /
// (2σ²)), k < win, normalised to sum 1.
func ssimWindow(win int, sigma float64) []float64 {
	g := make([]float64, win)
	var s float64
	for k := range g {
		d := float64(k - win/2)
		g[k] = math.Exp(-d * d / (2 * sigma * sigma))
		s += g[k]
	}
	for k := range g {
		g[k] /= s
	}
	return g
}

// SSIMLoss computes 1 − SSIM (pytorch-msssim's ssim) between input and
// target [N, C, H, W], and its gradients w.r.t. both. Launches
// ssim_forward, ssim_plane_stats, ssim_combine, ssim_backward, then
// reduce_sum (broadcast_sum with reduction None); with NonnegativeSSIM,
// ssim_forward twice (the gradient's coefficients need each plane's
// value first).
func SSIMLoss(dev device.Device, a SSIMArgs, opt SSIMLossOptions) error {
	p := ssimParams{name: "ssim_loss", red: opt.Reduction, weights: []float64{1}, relu: opt.NonnegativeSSIM}
	if err := opt.SSIMWindow.resolve(p.name, &p); err != nil {
		return err
	}
	return ssimRun(dev, &p, a)
}

// MSSSIMLoss computes 1 − MS-SSIM (pytorch-msssim's ms_ssim) between input
// and target [N, C, H, W], and its gradients w.r.t. both: len(Weights)
// levels, each but the last followed by a 2 x 2 average pool (padding H
// mod 2 and W mod 2, counted in the divisor), the product of
// relu(cs_k)^w_k over the levels below the last and relu(ssim)^w at it.
// The smaller side must exceed (win_size − 1)·2^(levels−1) (pytorch-msssim
// asks (win_size − 1)·16 whatever the levels). Launches ssim_pool,
// ssim_forward, ssim_plane_stats, ssim_combine, ssim_backward, then
// reduce_sum (broadcast_sum with reduction None).
func MSSSIMLoss(dev device.Device, a SSIMArgs, opt MSSSIMLossOptions) error {
	p := ssimParams{name: "ms_ssim_loss", red: opt.Reduction, relu: true, ms: true, weights: opt.Weights}
	if p.weights == nil {
		p.weights = DefaultMSSSIMWeights
	}
	if len(p.weights) == 0 || len(p.weights) > 16 {
		return argErr(p.name, "weights", "has %d elements, want 1 to 16 levels", len(p.weights))
	}
	for i, w := range p.weights {
		if math.IsNaN(w) || math.IsInf(w, 0) {
			return argErr(p.name, "weights", "weights[%d] = %v is not finite", i, w)
		}
	}
	if err := opt.SSIMWindow.resolve(p.name, &p); err != nil {
		return err
	}
	return ssimRun(dev, &p, a)
}

func ssimRun(dev device.Device, p *ssimParams, a SSIMArgs) error {
	if dev == nil || isNilDevice(dev) {
		return argErr(p.name, "device", "is nil")
	}
	s := stage{dev: dev, loss: p.name}
	return s.finish(ssimStaged(&s, p, a))
}

// ssimLevel is one level of a call: its size and device buffers.
type ssimLevel struct {
	h, w            int
	x, y, gx, gy    device.Buffer
	tilesOut, tiles int // ssim_forward's and ssim_backward's blocks
}

func ssimStaged(s *stage, p *ssimParams, a SSIMArgs) error {
	name := p.name
	if !p.red.valid() {
		return argErr(name, "reduction", "unknown reduction %d", int(p.red))
	}
	if !a.Input.Present() {
		return argErr(name, "input", "buffer is nil")
	}
	if len(a.Input.Shape) != 4 {
		return argErr(name, "input", "has shape %v: want [N, C, H, W]", a.Input.Shape)
	}
	if !a.Target.Present() {
		return argErr(name, "target", "buffer is nil")
	}
	if !sameShape(a.Target.Shape, a.Input.Shape) {
		return argErr(name, "target", "has shape %v: want input's %v", a.Target.Shape, a.Input.Shape)
	}
	n, c, h, w := a.Input.Shape[0], a.Input.Shape[1], a.Input.Shape[2], a.Input.Shape[3]
	if c < 1 {
		return argErr(name, "input", "has shape %v: C must be at least 1", a.Input.Shape)
	}
	levels := len(p.weights)
	if min(h, w) < p.win {
		return argErr(name, "input", "has shape %v: H and W must be at least win_size = %d", a.Input.Shape, p.win)
	}
	if p.ms {
		if need := (p.win - 1) << (levels - 1); min(h, w) <= need {
			return argErr(name, "input", "has shape %v: the smaller side must exceed (win_size-1)·2^(levels-1) = %d for %d levels",
				a.Input.Shape, need, levels)
		}
	}
	if !a.Loss.Present() {
		return argErr(name, "loss", "buffer is nil")
	}
	if err := checkLoss(name, a.Loss, p.red, n); err != nil {
		return err
	}
	for _, g := range []struct {
		arg string
		t   Tensor
	}{{"grad_input", a.GradInput}, {"grad_target", a.GradTarget}} {
		if g.t.Present() && !sameShape(g.t.Shape, a.Input.Shape) {
			return argErr(name, g.arg, "has shape %v, want %v", g.t.Shape, a.Input.Shape)
		}
	}
	ft := a.Input.DType()
	if err := floatType(name, "input", s.dev, ft); err != nil {
		return err
	}
	for _, t := range []struct {
		arg string
		t   Tensor
	}{{"target", a.Target}, {"loss", a.Loss}, {"grad_input", a.GradInput}, {"grad_target", a.GradTarget}} {
		if t.t.Present() && t.t.DType() != ft {
			return argErr(name, t.arg, "dtype is %s, want the input's %s", t.t.DType(), ft)
		}
	}
	var x, y, loss, gx, gy device.Buffer
	if err := s.bind(in("input", a.Input, &x), in("target", a.Target, &y), out("loss", a.Loss, &loss),
		out("grad_input", a.GradInput, &gx), out("grad_target", a.GradTarget, &gy)); err != nil {
		return err
	}
	dev := s.dev
	planes := n * c
	grad := gx != nil || gy != nil

	// The levels and the workspace, checked before anything is allocated.
	lv := make([]ssimLevel, levels)
	hh, ww := h, w
	var ws int64
	for k := range lv {
		l := &lv[k]
		l.h, l.w = hh, ww
		l.tilesOut = int(kernelspec.SSIMTiles(int64(hh-p.win+1)) * kernelspec.SSIMTiles(int64(ww-p.win+1)))
		l.tiles = int(kernelspec.SSIMTiles(int64(hh)) * kernelspec.SSIMTiles(int64(ww)))
		px := int64(planes) * int64(hh) * int64(ww)
		if k > 0 {
			ws += 2 * px // pooled x and y
			if gx != nil {
				ws += px
			}
			if gy != nil {
				ws += px
			}
		}
		hh, ww = (hh+1)/2, (ww+1)/2
	}
	nPartial := 2 * int64(planes) * int64(lv[0].tilesOut)
	nMaps := int64(0)
	if grad {
		nMaps = 4 * int64(planes) * int64(h-p.win+1) * int64(w-p.win+1)
	}
	nSmall := 4*int64(planes)*int64(levels) + int64(planes) + int64(levels) + int64(p.win)
	if err := checkWorkspace(dev, name, (ws+nPartial+nMaps+nSmall)*int64(ft.Size())); err != nil {
		return err
	}

	var tmp []device.Buffer
	defer func() { pool.put(tmp...) }()
	get := func(k int64) (device.Buffer, error) {
		b, err := pool.get(dev, ft, int(k))
		if err == nil {
			tmp = append(tmp, b)
		}
		return b, err
	}
	upload := func(v []float64) (device.Buffer, error) {
		b, err := get(int64(len(v)))
		if err != nil {
			return nil, err
		}
		return b, writeFloats(dev, b, v)
	}

	// The largest buffers first: the pool hands out the first free buffer
	// that is long enough.
	var gmap, partial, planeLoss device.Buffer
	var err error
	if grad && planes > 0 {
		if gmap, err = get(nMaps); err != nil {
			return err
		}
	}
	lv[0].x, lv[0].y, lv[0].gx, lv[0].gy = x, y, gx, gy
	for k := 1; k < levels && planes > 0; k++ {
		l := &lv[k]
		px := int64(planes) * int64(l.h) * int64(l.w)
		for _, b := range []*device.Buffer{&l.x, &l.y, &l.gx, &l.gy} {
			if b == &l.gx && gx == nil || b == &l.gy && gy == nil {
				continue
			}
			if *b, err = get(px); err != nil {
				return err
			}
		}
	}
	if planes > 0 {
		if partial, err = get(nPartial); err != nil {
			return err
		}
	}
	if planeLoss, err = get(int64(planes)); err != nil {
		return err
	}
	if planes > 0 {
		window, err := upload(ssimWindow(p.win, p.sigma))
		if err != nil {
			return err
		}
		weights, err := upload(p.weights)
		if err != nil {
			return err
		}
		stats, err := get(2 * int64(planes) * int64(levels))
		if err != nil {
			return err
		}
		coef, err := get(2 * int64(planes) * int64(levels))
		if err != nil {
			return err
		}
		if gmap == nil {
			gmap = partial // a stand-in where no gradient is asked for
		}
		for k := 1; k < levels; k++ {
			l, up := &lv[k], &lv[k-1]
			np := planes * l.h * l.w
			for _, xy := range [2][2]device.Buffer{{up.x, l.x}, {up.y, l.y}} {
				if err := dev.Launch("ssim_pool", partialGrid(np), xy[0], int32(planes), int32(up.h), int32(up.w), xy[1]); err != nil {
					return err
				}
			}
		}
		gscale := 1 / float64(c)
		if p.red == Mean {
			gscale /= float64(n)
		}
		P, W, c1, c2 := int32(planes), int32(p.win), p.c1, p.c2
		forward := func(k int, hasGrad, hasCoef bool, gs, gc float64) error {
			l := &lv[k]
			return dev.Launch("ssim_forward", blocksGrid(planes*l.tilesOut), l.x, l.y, window, P, int32(l.h), int32(l.w), W,
				c1, c2, b2i(hasGrad), gs, gc, b2i(hasCoef), coef, int32(k), gmap, partial)
		}
		// The fused path: SSIM without relu has the constant coefficient
		// d loss / d ssim(o) = -gscale / (ho·wo), so one forward pass also
		// writes the gradient maps.
		fused := grad && !p.ms && !p.relu
		m0 := float64(h-p.win+1) * float64(w-p.win+1)
		for k := range lv {
			l := &lv[k]
			if fused {
				err = forward(k, true, false, -gscale/m0, 0)
			} else {
				err = forward(k, false, false, 0, 0)
			}
			if err != nil {
				return err
			}
			if err := dev.Launch("ssim_plane_stats", blocksGrid(planes), partial, P, int32(l.h), int32(l.w), W, int32(k), stats); err != nil {
				return err
			}
		}
		if err := dev.Launch("ssim_combine", partialGrid(planes), stats, weights, P, int32(levels), b2i(p.relu),
			1/float64(c), gscale, planeLoss, coef); err != nil {
			return err
		}
		for k := levels - 1; grad && k >= 0; k-- {
			l := &lv[k]
			if !fused {
				mk := float64(l.h-p.win+1) * float64(l.w-p.win+1)
				if err := forward(k, true, true, 1/mk, 1/mk); err != nil {
					return err
				}
			}
			var flags int32
			upx, upy := l.x, l.x // stand-ins
			if l.gx != nil {
				flags |= kernelspec.SSIMGradX
			}
			if l.gy != nil {
				flags |= kernelspec.SSIMGradY
			}
			if k+1 < levels {
				if l.gx != nil {
					flags |= kernelspec.SSIMUpX
					upx = lv[k+1].gx
				}
				if l.gy != nil {
					flags |= kernelspec.SSIMUpY
					upy = lv[k+1].gy
				}
			}
			if err := dev.Launch("ssim_backward", blocksGrid(planes*l.tiles), l.x, l.y, window, gmap, P, int32(l.h),
				int32(l.w), W, flags, upx, upy, other(l.gx, l.x), other(l.gy, l.x)); err != nil {
				return err
			}
		}
	}
	switch p.red {
	case None:
		if n == 0 {
			return nil
		}
		return dev.Launch("broadcast_sum", blocksGrid(n), planeLoss, int32(planes), int32(n), int32(c), loss)
	case Sum:
		return dev.Launch("reduce_sum", oneBlock, planeLoss, int32(planes), 1.0, int32(0), planeLoss, loss)
	}
	// Mean over the images: +Inf for N = 0, and 0·Inf is NaN.
	return dev.Launch("reduce_sum", oneBlock, planeLoss, int32(planes), 1/float64(n), int32(0), planeLoss, loss)
}

// blocksGrid is a grid of b blocks of BlockSize threads.
func blocksGrid(b int) device.Grid { return device.Grid{Blocks: b, Threads: kernelspec.BlockSize} }

func ssimShapes[O interface{ reduction() Reduction }](a SSIMArgs, o O) map[string][]int {
	return map[string][]int{"loss": lossShape(o.reduction(), firstDim(a.Input.Shape))}
}

func (o SSIMLossOptions) reduction() Reduction   { return o.Reduction }
func (o MSSSIMLossOptions) reduction() Reduction { return o.Reduction }

func init() {
	register("ssim_loss", "SSIMLoss", SSIMLoss, ssimShapes[SSIMLossOptions],
		"ssim_forward", "ssim_plane_stats", "ssim_combine", "ssim_backward", "reduce_sum", "broadcast_sum")
	register("ms_ssim_loss", "MSSSIMLoss", MSSSIMLoss, ssimShapes[MSSSIMLossOptions],
		"ssim_pool", "ssim_forward", "ssim_plane_stats", "ssim_combine", "ssim_backward", "reduce_sum", "broadcast_sum")
}
