package losses

import (
	"fmt"
	"math"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// The perceptual and style losses over feature maps that the caller's
// network produced (kernels/src/gram.h, host/gram.go): feature_loss, the
// MSE or L1 distance between the features of an image and those of a
// target (Johnson et al.'s feature reconstruction loss), and
// gram_style_loss, the MSE between their Gram matrices (Gatys et al.'s
// style loss, as in PyTorch's neural-style tutorial). Both take a list of
// layers: loss = Σ_l w_l · loss_l, each layer's loss written into its own
// slot and the slots added in a fixed order, so the sum is reproducible.
// The declared one-layer forms (FeatureLoss, GramStyleLoss) are the lists
// of one layer with weight layer_weight.

const (
	featureName = "feature_loss"
	gramName    = "gram_style_loss"
)

// FeatureCriterion is feature_loss's distance: "mse" (the default; ""
// means it) or "l1".
type FeatureCriterion string

// LayerPair is one layer of a perceptual or style loss: the features of
// the generated image and of the target, and the gradients wanted.
type LayerPair struct {
	// Input is [N, C, *spatial] (feature_loss: any shape; gram_style_loss:
	// at least [N, C], a missing spatial part counting as one position).
	Input Tensor
	// Target: feature_loss: input's shape. gram_style_loss: [N, C,
	// *spatial'] with input's N and C; its spatial size may differ (a
	// style image of another size).
	Target Tensor
	// GradInput and GradTarget, when given, receive d loss / d input and
	// d loss / d target, in their tensors' shapes. feature_loss: either
	// may alias its layer's input or target. gram_style_loss: neither may
	// share memory with an input.
	GradInput, GradTarget Tensor
}

// LayersArgs are the tensors of a loss over several layers.
type LayersArgs struct {
	Layers []LayerPair
	// Loss receives Σ_l w_l · loss_l: one element.
	Loss Tensor
}

// FeatureArgs are the tensors of feature_loss or gram_style_loss over one
// layer (see LayerPair).
type FeatureArgs struct {
	Input      Tensor `loss:"input,in"`
	Target     Tensor `loss:"target,in"`
	Loss       Tensor `loss:"loss,out"` // one element
	GradInput  Tensor `loss:"grad_input,grad"`
	GradTarget Tensor `loss:"grad_target,grad"`
}

func (a FeatureArgs) layers() LayersArgs {
	return LayersArgs{Layers: []LayerPair{{a.Input, a.Target, a.GradInput, a.GradTarget}}, Loss: a.Loss}
}

// FeatureLossOptions are the options of feature_loss over one layer. The
// zero value is MSE with weight 1.
type FeatureLossOptions struct {
	// Criterion is "mse" (F.mse_loss, the default; "" means it) or "l1"
	// (F.l1_loss), both with reduction mean over the layer's elements.
	Criterion FeatureCriterion `json:"criterion"`
	// LayerWeight multiplies the loss and its gradients (nil: 1).
	LayerWeight *float64 `json:"layer_weight"`
}

// GramStyleLossOptions are the options of gram_style_loss over one layer.
type GramStyleLossOptions struct {
	// LayerWeight multiplies the loss and its gradients (nil: 1).
	LayerWeight *float64 `json:"layer_weight"`
}

// FeatureLossLayersOptions are the options of FeatureLossLayers.
type FeatureLossLayersOptions struct {
	// Criterion is "mse" (the default, "") or "l1".
	Criterion FeatureCriterion
	// LayerWeights holds one weight per layer (nil: 1 each).
	LayerWeights []float64
}

// GramStyleLossLayersOptions are the options of GramStyleLossLayers.
type GramStyleLossLayersOptions struct {
	// LayerWeights holds one weight per layer (nil: 1 each).
	LayerWeights []float64
}

// FeatureLoss computes the feature reconstruction (perceptual) loss of one
// layer: w · mean((x − y)²) (F.mse_loss) or w · mean(|x − y|) (F.l1_loss)
// over input x and target y of the same shape, with its gradients
// w·2(x − y)/n and w·sign(x − y)/n (the target's with the opposite sign).
// An empty layer gives NaN, the mean of nothing. Launches pointwise_loss
// feature_diff and gram_layer_sum.
func FeatureLoss(dev device.Device, a FeatureArgs, opt FeatureLossOptions) error {
	return FeatureLossLayers(dev, a.layers(), FeatureLossLayersOptions{
		Criterion: opt.Criterion, LayerWeights: []float64{optOr(opt.LayerWeight, 1)}})
}

// FeatureLossLayers is FeatureLoss over several layers: loss =
// Σ_l w_l · loss_l, each layer's gradients scaled by its w_l. With more
// than one layer it launches reduce_sum over the layers' losses as well.
func FeatureLossLayers(dev device.Device, a LayersArgs, opt FeatureLossLayersOptions) error {
	op := int32(0)
	switch opt.Criterion {
	case "", "mse":
	case "l1":
		op = 1
	default:
		return argErr(featureName, "criterion", "is %s: want \"mse\" or \"l1\"", clip(string(opt.Criterion)))
	}
	return layers(dev, featureName, a, opt.LayerWeights, func(w *layerWork, l int, b layerBufs) error {
		return w.feature(op, l, b)
	})
}

// GramStyleLoss computes the style loss of one layer between the features
// x [N, C, *spatial] of the generated image and y [N, C, *spatial'] of
// the style target: with F_x = x as [N, C, H·W] and the Gram matrices
// G_x = F_x F_xᵀ / (C·H·W) per image (G_y likewise, with y's spatial
// size),
//
//	loss = w · Σ_{n,i,j} (G_x − G_y)²[n,i,j] / (N·C·C)
//
// (F.mse_loss(gram(x), gram(y)) with the per-image gram_matrix of
// pytorch/examples' fast_neural_style, times w; with N = 1 it is also the
// neural-style tutorial's, whose gram_matrix folds the batch into the
// channels and divides by N·C·H·W), and with D = G_x − G_y (symmetric),
//
//	d loss / d x = 4w / (N·C·C · C·H·W) · D F_x
//	d loss / d y = −4w / (N·C·C · C·H'·W') · D F_y
//
// A layer with an empty input or target gives a NaN loss and NaN
// gradients, as PyTorch does (0/0 in the Gram matrix, or the mean of
// nothing). The workspace is two [N, C, C] matrices. Launches gram_gemm,
// gram_diff and gram_layer_sum.
func GramStyleLoss(dev device.Device, a FeatureArgs, opt GramStyleLossOptions) error {
	return GramStyleLossLayers(dev, a.layers(), GramStyleLossLayersOptions{LayerWeights: []float64{optOr(opt.LayerWeight, 1)}})
}

// GramStyleLossLayers is GramStyleLoss over several layers: loss =
// Σ_l w_l · loss_l. The workspace (two [N, C, C] matrices of the largest
// layer) is shared by the layers, which run one after the other. With
// more than one layer it launches reduce_sum over the layers' losses as
// well.
func GramStyleLossLayers(dev device.Device, a LayersArgs, opt GramStyleLossLayersOptions) error {
	return layers(dev, gramName, a, opt.LayerWeights, func(w *layerWork, l int, b layerBufs) error {
		return w.gram(l, b)
	})
}

// layerBufs are one layer's device buffers and sizes.
type layerBufs struct {
	x, y, gx, gy device.Buffer
	weight       float64
	// feature_loss: n elements. gram_style_loss: [batch, c, hwx] and
	// [batch, c, hwy].
	n, batch, c, hwx, hwy int
}

// empty reports whether a gram layer has no Gram entry to compare.
func (b layerBufs) empty() bool { return b.batch*b.c*b.hwx == 0 || b.batch*b.c*b.hwy == 0 }

// layerWork is the state of one call: the device, its float type, the
// per-layer loss slots and the scratch buffers.
type layerWork struct {
	dev      device.Device
	ft       device.DType
	slots    device.Buffer
	partials device.Buffer
	g1, g2   device.Buffer // gram: [N, C, C] each
}

// layers validates and stages a call and runs one layer at a time.
func layers(dev device.Device, name string, a LayersArgs, weights []float64,
	run func(w *layerWork, l int, b layerBufs) error) error {
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	s := stage{dev: dev, loss: name}
	return s.finish(layersStaged(&s, name, a, weights, run))
}

func layerArg(l int, nl int, arg string) string {
	if nl == 1 {
		return arg
	}
	return fmt.Sprintf("layers[%d].%s", l, arg)
}

func layersStaged(s *stage, name string, a LayersArgs, weights []float64,
	run func(w *layerWork, l int, b layerBufs) error) error {
	nl := len(a.Layers)
	if nl == 0 {
		return argErr(name, "layers", "is empty: want at least one layer")
	}
	if weights != nil && len(weights) != nl {
		return argErr(name, "layer_weights", "has %d weights for %d layers", len(weights), nl)
	}
	for l, w := range weights {
		if math.IsNaN(w) || math.IsInf(w, 0) {
			arg := "layer_weight"
			if nl > 1 {
				arg = fmt.Sprintf("layer_weights[%d]", l)
			}
			return argErr(name, arg, "is %v: want a finite weight", w)
		}
	}
	if a.Loss.Present() && a.Loss.Len() != 1 {
		return argErr(name, "loss", "has shape %v: want one element", a.Loss.Shape)
	}
	gram := name == gramName
	bs := make([]layerBufs, nl)
	var ft device.DType
	haveFT := false
	maxNCC := 0
	for l, p := range a.Layers {
		arg := func(s string) string { return layerArg(l, nl, s) }
		for _, t := range []struct {
			arg string
			t   Tensor
		}{{"input", p.Input}, {"target", p.Target}} {
			if !t.t.Present() {
				return argErr(name, arg(t.arg), "buffer is nil")
			}
			if err := s.check(arg(t.arg), t.t); err != nil {
				return err
			}
			if !t.t.DType().IsFloat() {
				return argErr(name, arg(t.arg), "dtype is %s, want a float type", t.t.DType())
			}
			if !haveFT {
				ft, haveFT = t.t.DType(), true
			} else if t.t.DType() != ft {
				return argErr(name, arg(t.arg), "dtype is %s, want %s", t.t.DType(), ft)
			}
		}
		b := layerBufs{weight: 1, n: p.Input.Len()}
		if weights != nil {
			b.weight = weights[l]
		}
		if gram {
			xs, ys := p.Input.Shape, p.Target.Shape
			if len(xs) < 2 {
				return argErr(name, arg("input"), "has shape %v: want [N, C, *spatial]", xs)
			}
			if len(ys) < 2 || ys[0] != xs[0] || ys[1] != xs[1] {
				return argErr(name, arg("target"), "has shape %v: want [N, C, *spatial] with input's N, C = %d, %d", ys, xs[0], xs[1])
			}
			b.batch, b.c = xs[0], xs[1]
			b.hwx, b.hwy = prod(xs[2:]), prod(ys[2:])
			if !b.empty() {
				ncc := int64(b.batch) * int64(b.c) * int64(b.c)
				if ncc > maxInt32 {
					return argErr(name, arg("input"), "shape %v: its Gram matrices [N, C, C] have %d elements, beyond the int32 range of the kernels", xs, ncc)
				}
				maxNCC = max(maxNCC, int(ncc))
			}
		} else if !sameShape(p.Target.Shape, p.Input.Shape) {
			return argErr(name, arg("target"), "has shape %v: want input's %v", p.Target.Shape, p.Input.Shape)
		}
		if p.GradInput.Present() && !sameShape(p.GradInput.Shape, p.Input.Shape) {
			return argErr(name, arg("grad_input"), "has shape %v, want %v", p.GradInput.Shape, p.Input.Shape)
		}
		if p.GradTarget.Present() && !sameShape(p.GradTarget.Shape, p.Target.Shape) {
			return argErr(name, arg("grad_target"), "has shape %v, want %v", p.GradTarget.Shape, p.Target.Shape)
		}
		bs[l] = b
	}
	if a.Loss.Present() && a.Loss.DType() != ft {
		return argErr(name, "loss", "dtype is %s, want %s", a.Loss.DType(), ft)
	}
	for l, p := range a.Layers {
		for _, g := range []struct {
			arg string
			t   Tensor
		}{{"grad_input", p.GradInput}, {"grad_target", p.GradTarget}} {
			if g.t.Present() && g.t.DType() != ft {
				return argErr(name, layerArg(l, nl, g.arg), "dtype is %s, want %s", g.t.DType(), ft)
			}
		}
	}
	if err := checkAliases(name, a, gram); err != nil {
		return err
	}
	dev := s.dev
	size := int64(ft.Size())
	need := (int64(kernelspec.MaxReduceBlocks) + int64(nl)) * size
	if gram {
		need += 2 * int64(maxNCC) * size
	}
	if err := checkWorkspace(dev, name, need); err != nil {
		return err
	}
	// Bind every tensor (this checks each output, then stages).
	for l, p := range a.Layers {
		b := &bs[l]
		arg := func(s string) string { return layerArg(l, nl, s) }
		if err := s.bind(in(arg("input"), p.Input, &b.x), in(arg("target"), p.Target, &b.y),
			out(arg("grad_input"), p.GradInput, &b.gx), out(arg("grad_target"), p.GradTarget, &b.gy)); err != nil {
			return err
		}
	}
	var lossBuf device.Buffer
	if err := s.bind(out("loss", a.Loss, &lossBuf)); err != nil {
		return err
	}
	w := &layerWork{dev: dev, ft: ft}
	var tmp []device.Buffer
	defer func() { pool.put(tmp...) }()
	get := func(dt device.DType, n int) (device.Buffer, error) {
		b, err := pool.get(dev, dt, n)
		if err == nil {
			tmp = append(tmp, b)
		}
		return b, err
	}
	var err error
	if w.partials, err = get(ft, kernelspec.MaxReduceBlocks); err != nil {
		return err
	}
	if nl == 1 && lossBuf != nil {
		w.slots = lossBuf
	} else if w.slots, err = get(ft, nl); err != nil {
		return err
	}
	if gram {
		if maxNCC > 0 {
			if w.g1, err = get(ft, maxNCC); err != nil {
				return err
			}
			if w.g2, err = get(ft, maxNCC); err != nil {
				return err
			}
		}
	}
	for l := range bs {
		if err := run(w, l, bs[l]); err != nil {
			return err
		}
	}
	if lossBuf != nil && w.slots != lossBuf {
		return dev.Launch("reduce_sum", oneBlock, w.slots, int32(nl), 1.0, int32(0), w.slots, lossBuf)
	}
	return nil
}

// checkAliases refuses two outputs that share memory and, for
// gram_style_loss (whose products read the features while they write a
// gradient), an output that shares memory with an input; feature_loss
// allows an output to share memory with an input of its own layer only.
func checkAliases(name string, a LayersArgs, gram bool) error {
	nl := len(a.Layers)
	type named struct {
		arg   string
		t     Tensor
		layer int
	}
	var ins, outs []named
	for l, p := range a.Layers {
		ins = append(ins, named{layerArg(l, nl, "input"), p.Input, l}, named{layerArg(l, nl, "target"), p.Target, l})
		outs = append(outs, named{layerArg(l, nl, "grad_input"), p.GradInput, l}, named{layerArg(l, nl, "grad_target"), p.GradTarget, l})
	}
	outs = append(outs, named{"loss", a.Loss, -1})
	for i, o := range outs {
		if !o.t.Present() {
			continue
		}
		for _, o2 := range outs[:i] {
			if o2.t.Present() && sameMemory(o.t.Buf, o2.t.Buf) {
				return argErr(name, o.arg, "shares memory with %s: two outputs may not alias each other", o2.arg)
			}
		}
		for _, in := range ins {
			if !sameMemory(o.t.Buf, in.t.Buf) || (!gram && o.layer == in.layer) {
				continue
			}
			return argErr(name, o.arg, "shares memory with %s, which it would overwrite while it is read", in.arg)
		}
	}
	return nil
}

// feature runs one layer of feature_loss: feature_diff's MSE or L1
// terms, gradients scaled by w/n and per-block partial sums, then
// gram_layer_sum into the layer's slot with scale w/n (n = 0: ±Inf or NaN,
// so the loss of an empty layer is NaN).
func (w *layerWork) feature(l1 int32, l int, b layerBufs) error {
	g := partialGrid(b.n)
	scale := b.weight / float64(b.n)
	gx, gy := other(b.gx, b.x), other(b.gy, b.x)
	if err := w.dev.Launch("feature_diff", g, b.x, b.y, int32(b.n), l1, scale, b2i(b.gx != nil), gx,
		b2i(b.gy != nil), gy, w.partials); err != nil {
		return err
	}
	return w.dev.Launch("gram_layer_sum", oneBlock, w.partials, int32(g.Blocks), scale, int32(l), w.slots)
}

// gemmGrid is gram_gemm's grid: one block per 16×16 tile of each matrix.
func gemmGrid(batch, m, n int) device.Grid {
	t := (m + 15) / 16 * ((n + 15) / 16)
	return device.Grid{Blocks: batch * t, Threads: kernelspec.BlockSize}
}

// gram runs one layer of gram_style_loss (see GramStyleLoss).
func (w *layerWork) gram(l int, b layerBufs) error {
	dev := w.dev
	N, C := int32(b.batch), int32(b.c)
	if b.empty() {
		// NaN loss; every gradient element is NaN: gram_gemm with k = 0
		// and alpha NaN writes alpha·0.
		nan := math.NaN()
		if err := dev.Launch("gram_layer_sum", oneBlock, w.partials, int32(0), nan, int32(l), w.slots); err != nil {
			return err
		}
		for _, g := range []struct {
			buf device.Buffer
			f   device.Buffer
			hw  int
		}{{b.gx, b.x, b.hwx}, {b.gy, b.y, b.hwy}} {
			if g.buf == nil || b.batch*b.c*g.hw == 0 {
				continue
			}
			if err := dev.Launch("gram_gemm", gemmGrid(b.batch, b.c, g.hw), g.f, g.f, g.buf, N, C, int32(g.hw),
				int32(0), int32(0), int32(0), nan); err != nil {
				return err
			}
		}
		return nil
	}
	mx, my := float64(b.c)*float64(b.hwx), float64(b.c)*float64(b.hwy)
	ncc := b.batch * b.c * b.c
	if err := dev.Launch("gram_gemm", gemmGrid(b.batch, b.c, b.c), b.x, b.x, w.g1, N, C, C, int32(b.hwx),
		int32(0), int32(1), 1/mx); err != nil {
		return err
	}
	if err := dev.Launch("gram_gemm", gemmGrid(b.batch, b.c, b.c), b.y, b.y, w.g2, N, C, C, int32(b.hwy),
		int32(0), int32(1), 1/my); err != nil {
		return err
	}
	g := partialGrid(ncc)
	if err := dev.Launch("gram_diff", g, w.g1, w.g2, int32(ncc), w.g1, w.partials); err != nil {
		return err
	}
	s := b.weight / float64(ncc)
	if err := dev.Launch("gram_layer_sum", oneBlock, w.partials, int32(g.Blocks), s, int32(l), w.slots); err != nil {
		return err
	}
	if b.gx != nil {
		if err := dev.Launch("gram_gemm", gemmGrid(b.batch, b.c, b.hwx), w.g1, b.x, b.gx, N, C, int32(b.hwx), C,
			int32(0), int32(0), 4*s/mx); err != nil {
			return err
		}
	}
	if b.gy != nil {
		if err := dev.Launch("gram_gemm", gemmGrid(b.batch, b.c, b.hwy), w.g1, b.y, b.gy, N, C, int32(b.hwy), C,
			int32(0), int32(0), -4*s/my); err != nil {
			return err
		}
	}
	return nil
}

func featureShapes[O any](a FeatureArgs, o O) map[string][]int {
	return map[string][]int{"loss": {}}
}

func init() {
	register(featureName, "FeatureLoss", FeatureLoss, featureShapes[FeatureLossOptions],
		"feature_diff", "gram_layer_sum", "reduce_sum")
	register(gramName, "GramStyleLoss", GramStyleLoss, featureShapes[GramStyleLossOptions],
		"gram_gemm", "gram_diff", "gram_layer_sum", "reduce_sum")
}
