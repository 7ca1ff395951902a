package losses

import (
	"errors"
	"fmt"

	"github.com/lossengine/lossengine/device"
)

const lceName = "linear_cross_entropy"

// LinearCrossEntropyOptions are the options of linear_cross_entropy: those
// of cross_entropy with class-index targets, and the size of the logits
// tile.
type LinearCrossEntropyOptions struct {
	Reduction Reduction `json:"reduction"`
	// Weight holds one rescaling weight per class (length V), or nil.
	Weight []float64 `json:"weight"`
	// IgnoreIndex: rows whose target equals it contribute nothing. nil
	// means DefaultIgnoreIndex (−100).
	IgnoreIndex    *int    `json:"ignore_index"`
	LabelSmoothing float64 `json:"label_smoothing"`
	// Softcap, ZLoss and ReturnAccuracy are CrossEntropyOptions'.
	Softcap        float64 `json:"softcap"`
	ZLoss          float64 `json:"z_loss"`
	ReturnAccuracy bool    `json:"return_accuracy"`
	// SkipTargetCheck skips reading the targets back to check them (see
	// CrossEntropyOptions.SkipTargetCheck).
	SkipTargetCheck bool `json:"skip_target_check"`
	// ChunkRows is the number of rows whose logits are held at once (the
	// tile [ChunkRows, V]); 0 chooses it so that the tile takes at most
	// LinearCEChunkBytes.
	ChunkRows int `json:"chunk_rows"`
}

// LinearCEChunkBytes bounds the logits tile when ChunkRows is 0.
const LinearCEChunkBytes = 32 << 20

func (o LinearCrossEntropyOptions) ce() CrossEntropyOptions {
	return CrossEntropyOptions{Reduction: o.Reduction, Weight: o.Weight, IgnoreIndex: o.IgnoreIndex,
		LabelSmoothing: o.LabelSmoothing, Softcap: o.Softcap, ZLoss: o.ZLoss, ReturnAccuracy: o.ReturnAccuracy,
		SkipTargetCheck: o.SkipTargetCheck}
}

// chunkRows is the number of rows per logits tile for n rows of v classes
// of elemSize bytes: ChunkRows, or the most rows whose tile fits
// LinearCEChunkBytes, a multiple of 64 when that is at least 64 (the GEMM
// tile), at least 1 and at most n.
func (o LinearCrossEntropyOptions) chunkRows(n, v, elemSize int) int {
	r := o.ChunkRows
	if r <= 0 {
		r = LinearCEChunkBytes / max(1, v*elemSize)
		if r >= 64 {
			r -= r % 64
		}
	}
	return max(1, min(r, n))
}

// LinearCrossEntropyWorkspace is the temporary device memory, in bytes,
// of a linear_cross_entropy call over n rows, hidden size h and v classes
// with elements of dtype: the logits tile R·V (R = the chunk rows), the
// per-row losses N (not with reduction None), z-losses N and accuracies N
// (when asked for and reduced), R ones (for the bias gradient), the
// class weights V and two pairs of denominators. It does not grow with h,
// and holds R/N of the logits that an unfused call would store.
func LinearCrossEntropyWorkspace(n, h, v int, dtype device.DType, opt LinearCrossEntropyOptions, zloss, accuracy, gradBias bool) int64 {
	_ = h
	r := int64(opt.chunkRows(n, v, dtype.Size()))
	if n == 0 {
		r = 0
	}
	e := r*int64(v) + 4
	if opt.Weight != nil {
		e += int64(v) + 2
	}
	if opt.Reduction != None {
		e += int64(n)
		if zloss {
			e += int64(n)
		}
		if accuracy {
			e += int64(n)
		}
	}
	if gradBias {
		e += r
	}
	return e * int64(dtype.Size())
}

// lceBuffers are the device buffers of a linear_cross_entropy call.
type lceBuffers struct {
	Hidden, Weight, Bias, Target     device.Buffer
	N, H, V                          int
	Loss, ZLoss, Accuracy            device.Buffer
	GradHidden, GradWeight, GradBias device.Buffer
}

// LinearCrossEntropyArgs are the tensors of LinearCrossEntropy.
type LinearCrossEntropyArgs struct {
	Hidden Tensor `loss:"hidden,in"`        // [N, H], the last hidden states
	Weight Tensor `loss:"weight,in"`        // [V, H], the output embedding (row-major, as PyTorch stores it)
	Bias   Tensor `loss:"bias,in,optional"` // [V]
	Target Tensor `loss:"target,in,int32"`  // [N] class indices in [0, V), or IgnoreIndex
	Loss   Tensor `loss:"loss,out"`         // one element, or [N] with reduction None
	// ZLoss and Accuracy are shaped like Loss (see CrossEntropyArgs).
	ZLoss      Tensor `loss:"z_loss,out,optional"`
	Accuracy   Tensor `loss:"accuracy,out,optional"`
	GradHidden Tensor `loss:"grad_hidden,grad"` // [N, H]
	GradWeight Tensor `loss:"grad_weight,grad"` // [V, H]
	GradBias   Tensor `loss:"grad_bias,grad"`   // [V]
}

// LinearCrossEntropy is cross_entropy(hidden · weightᵀ + bias, target)
// and its gradients w.r.t. hidden, weight and bias, without ever storing
// the [N, V] logits: it runs over tiles of R rows (ChunkRows), and for
// each computes the tile's logits (matmul), the fused cross-entropy with
// its gradient written over the tile (cross_entropy_rows_ext, with the
// global denominators from cross_entropy_weight_sum), then
// grad_hidden[rows] = G·weight, grad_weight += Gᵀ·hidden[rows] and
// grad_bias += Σ_rows G (matmul), the tiles in row order, so every sum is
// taken in a fixed order and reruns are bitwise identical. It matches
// torch.nn.functional.cross_entropy(F.linear(hidden, weight, bias), target)
// with all of cross_entropy's options, plus softcap, z_loss and the
// accuracy.
//
// Workspace: LinearCrossEntropyWorkspace (the R×V tile and O(N) per-row
// values); with R = 128, V = 50257 and float32 the tile is 25.7 MB
// against 823 MB of logits at N = 4096. The products are the project's
// matmul kernel on OpenCL and CUDA, and gonum's BLAS on the host.
func LinearCrossEntropy(dev device.Device, a LinearCrossEntropyArgs, opt LinearCrossEntropyOptions) error {
	if dev == nil || isNilDevice(dev) {
		return argErr(lceName, "device", "is nil")
	}
	s := stage{dev: dev, loss: lceName}
	return s.finish(linearCrossEntropyStaged(&s, a, opt))
}

func linearCrossEntropyStaged(s *stage, a LinearCrossEntropyArgs, opt LinearCrossEntropyOptions) error {
	n, h, v, err := checkLinear(lceName, s.dev, linearTensors{a.Hidden, a.Weight, a.Bias, a.Target, a.Loss, a.ZLoss,
		a.Accuracy, a.GradHidden, a.GradWeight, a.GradBias}, opt.Reduction)
	if err != nil {
		return err
	}
	ft := a.Hidden.DType()
	if opt.ReturnAccuracy && !a.Accuracy.Present() {
		return argErr(lceName, "accuracy", "is required with return_accuracy")
	}
	if opt.ChunkRows < 0 || opt.ChunkRows > maxInt32 {
		return argErr(lceName, "chunk_rows", "must be in [0, 2^31), got %d", opt.ChunkRows)
	}
	if err := lceErr(validateCEOptions(opt.ce(), v)); err != nil {
		return err
	}
	if int64(opt.chunkRows(n, v, ft.Size()))*int64(v) > maxInt32 {
		return argErr(lceName, "chunk_rows", "a tile of %d rows × V = %d exceeds the int32 range of the kernels",
			opt.chunkRows(n, v, ft.Size()), v)
	}
	ws := LinearCrossEntropyWorkspace(n, h, v, ft, opt, a.ZLoss.Present(), a.Accuracy.Present(), a.GradBias.Present())
	if err := checkWorkspace(s.dev, lceName, ws); err != nil {
		return err
	}
	b := lceBuffers{N: n, H: h, V: v}
	if err := s.bind(in("hidden", a.Hidden, &b.Hidden), in("weight", a.Weight, &b.Weight), in("bias", a.Bias, &b.Bias),
		in("target", a.Target, &b.Target), out("loss", a.Loss, &b.Loss), out("z_loss", a.ZLoss, &b.ZLoss),
		out("accuracy", a.Accuracy, &b.Accuracy), out("grad_hidden", a.GradHidden, &b.GradHidden),
		out("grad_weight", a.GradWeight, &b.GradWeight), out("grad_bias", a.GradBias, &b.GradBias)); err != nil {
		return err
	}
	if !opt.SkipTargetCheck && n > 0 {
		tg := make([]int32, n)
		if err := s.dev.Read(tg, b.Target); err != nil {
			return fmt.Errorf("losses: %s: target: %w", lceName, err)
		}
		if err := checkTargets(lceName, tg, v, opt.ce().ignoreIndex()); err != nil {
			return err
		}
	}
	return linearCrossEntropyLaunch(s.dev, ft, b, opt)
}

// linearTensors are the tensors the fused linear forms share.
type linearTensors struct {
	hidden, weight, bias, target, loss, zloss, accuracy, gh, gw, gb Tensor
}

// checkLinear checks the tensors of a fused linear form before anything
// is written: hidden [N, H], weight [V, H] with V ≥ 1 (V: this rank's rows
// in the vocabulary-parallel form), bias [V], target [N] int32, loss,
// z_loss and accuracy shaped by the reduction, the gradients shaped as
// their inputs, every float tensor of hidden's float dtype (float64 where
// dev has it). It returns N, H and V.
func checkLinear(name string, dev device.Device, t linearTensors, red Reduction) (n, h, v int, err error) {
	all := []struct {
		arg string
		t   Tensor
	}{{"hidden", t.hidden}, {"weight", t.weight}, {"bias", t.bias}, {"target", t.target}, {"loss", t.loss},
		{"z_loss", t.zloss}, {"accuracy", t.accuracy}, {"grad_hidden", t.gh}, {"grad_weight", t.gw}, {"grad_bias", t.gb}}
	for _, x := range all {
		if err := x.t.check(name, x.arg); err != nil {
			return 0, 0, 0, err
		}
	}
	for _, x := range all[:5] {
		if !x.t.Present() && x.arg != "bias" {
			return 0, 0, 0, argErr(name, x.arg, "buffer is nil")
		}
	}
	if len(t.hidden.Shape) != 2 {
		return 0, 0, 0, argErr(name, "hidden", "has shape %v: want [N, H]", t.hidden.Shape)
	}
	n, h = t.hidden.Shape[0], t.hidden.Shape[1]
	if len(t.weight.Shape) != 2 || t.weight.Shape[1] != h {
		return 0, 0, 0, argErr(name, "weight", "has shape %v: want [V, H] with H = %d (hidden's)", t.weight.Shape, h)
	}
	if v = t.weight.Shape[0]; v == 0 {
		return 0, 0, 0, argErr(name, "weight", "V (number of classes) must be at least 1")
	}
	if t.bias.Present() && (len(t.bias.Shape) != 1 || t.bias.Shape[0] != v) {
		return 0, 0, 0, argErr(name, "bias", "has shape %v: want [V] = [%d]", t.bias.Shape, v)
	}
	if len(t.target.Shape) != 1 || t.target.Shape[0] != n {
		return 0, 0, 0, argErr(name, "target", "has shape %v: want [N] = [%d]", t.target.Shape, n)
	}
	if t.target.DType() != device.Int32 {
		return 0, 0, 0, argErr(name, "target", "dtype is %s, want int32", t.target.DType())
	}
	ft := t.hidden.DType()
	if err := floatType(name, "hidden", dev, ft); err != nil {
		return 0, 0, 0, err
	}
	for _, x := range all[1:] {
		if x.arg != "target" && x.t.Present() && x.t.DType() != ft {
			return 0, 0, 0, argErr(name, x.arg, "dtype is %s, want %s (hidden's)", x.t.DType(), ft)
		}
	}
	if !red.valid() {
		return 0, 0, 0, argErr(name, "reduction", "unknown reduction %d", int(red))
	}
	if err := checkLoss(name, t.loss, red, n); err != nil {
		return 0, 0, 0, err
	}
	for _, x := range all[5:7] {
		if x.t.Present() && x.t.Len() != len1(red, n) {
			return 0, 0, 0, argErr(name, x.arg, "has shape %v: want %d element(s), as loss", x.t.Shape, len1(red, n))
		}
	}
	for _, g := range []struct {
		arg string
		t   Tensor
		of  []int
	}{{"grad_hidden", t.gh, t.hidden.Shape}, {"grad_weight", t.gw, t.weight.Shape}, {"grad_bias", t.gb, []int{v}}} {
		if g.t.Present() && !sameShape(g.t.Shape, g.of) {
			return 0, 0, 0, argErr(name, g.arg, "has shape %v, want %v", g.t.Shape, g.of)
		}
	}
	if t.gb.Present() && !t.bias.Present() {
		return 0, 0, 0, argErr(name, "grad_bias", "is asked for without a bias")
	}
	return n, h, v, nil
}

// linearMM launches the matmul kernel of the fused linear forms: c =
// op(a)·op(b) + beta·c (+ bias), the operands from their stored rows a0,
// b0, c0; nothing for an empty product.
type linearMM struct {
	dev  device.Device
	bias device.Buffer // the bias, or any float buffer without one
}

func (l linearMM) run(a, b, c device.Buffer, m, n, k int, ta, tb bool, beta float64, hasBias bool, a0, b0, c0 int) error {
	if m == 0 || n == 0 {
		return nil
	}
	return l.dev.Launch("matmul", matmulGrid(m, n), a, b, c, int32(m), int32(n), int32(k), b2i(ta), b2i(tb), 1.0, beta,
		b2i(hasBias), l.bias, int32(a0), int32(b0), int32(c0))
}

// grads adds a tile's gradient products, with G [m, v] the gradient
// w.r.t. the tile's logits (rows r0 .. r0+m−1 of the batch): gh[rows] =
// G·weight, gw (+)= Gᵀ·hidden[rows], gb (+)= 1ᵀ·G (ones holds m ones);
// the first tile (r0 = 0) writes gw and gb, the later ones add. Each
// gradient buffer may be nil.
func (l linearMM) grads(g, hidden, weight, ones, gh, gw, gb device.Buffer, m, h, v, r0 int) error {
	beta := 0.0
	if r0 > 0 {
		beta = 1
	}
	if gh != nil {
		if err := l.run(g, weight, gh, m, h, v, false, false, 0, false, 0, 0, r0); err != nil {
			return err
		}
	}
	if gw != nil {
		if err := l.run(g, hidden, gw, v, h, m, true, false, beta, false, 0, r0, 0); err != nil {
			return err
		}
	}
	if gb != nil {
		return l.run(ones, g, gb, 1, v, m, false, false, beta, false, 0, 0, 0)
	}
	return nil
}

// zeroGrads writes 0 to gw [v, h] and gb [v] (k = 0 products), for a
// batch with no row.
func (l linearMM) zeroGrads(gw, gb device.Buffer, v, h int) error {
	if gw != nil {
		if err := l.run(l.bias, l.bias, gw, v, h, 0, false, false, 0, false, 0, 0, 0); err != nil {
			return err
		}
	}
	if gb != nil {
		return l.run(l.bias, l.bias, gb, 1, v, 0, false, false, 0, false, 0, 0, 0)
	}
	return nil
}

// lceErr names a cross_entropy option error after linear_cross_entropy.
func lceErr(err error) error {
	var ae *ArgError
	if errors.As(err, &ae) {
		return &ArgError{Loss: lceName, Arg: ae.Arg, Msg: ae.Msg, Err: ae.Err}
	}
	return err
}

// matmulGrid is the grid of matmul for an m×n product: one block per
// 64×64 output tile.
func matmulGrid(m, n int) device.Grid {
	return device.Grid{Blocks: ((m + 63) / 64) * ((n + 63) / 64), Threads: rowGrid(1).Threads}
}

func linearCrossEntropyLaunch(dev device.Device, ft device.DType, b lceBuffers, opt LinearCrossEntropyOptions) (err error) {
	// Exact buffers, not pooled: the logits tile is large, and kept
	// between calls it would hold its memory for nothing.
	bufs := callBufs{dev: dev, ft: ft}
	defer bufs.release()
	get := func(n int) (device.Buffer, error) { return bufs.exact(max(n, 1)) }
	ce := opt.ce()
	n, h, v := b.N, b.H, b.V
	denom, err := get(2)
	if err != nil {
		return err
	}
	cw := denom // any float buffer stands in when there is no class weight
	if opt.Weight != nil {
		if cw, err = get(v); err != nil {
			return err
		}
		if err := writeFloats(dev, cw, opt.Weight); err != nil {
			return err
		}
	}
	ign, hasW := int32(ce.ignoreIndex()), b2i(opt.Weight != nil)
	if err := dev.Launch("cross_entropy_weight_sum", oneBlock, b.Target, cw, int32(n), int32(v), hasW, ign,
		int32(opt.Reduction), denom); err != nil {
		return err
	}
	zdenom := denom
	if opt.Weight != nil {
		if zdenom, err = get(2); err != nil {
			return err
		}
		if err := dev.Launch("cross_entropy_weight_sum", oneBlock, b.Target, zdenom, int32(n), int32(v), int32(0), ign,
			int32(opt.Reduction), zdenom); err != nil {
			return err
		}
	}
	rows, zRows, accRows := b.Loss, b.ZLoss, b.Accuracy
	if opt.Reduction != None {
		if rows, err = get(n); err != nil {
			return err
		}
		if zRows != nil {
			if zRows, err = get(n); err != nil {
				return err
			}
		}
		if accRows != nil {
			if accRows, err = get(n); err != nil {
				return err
			}
		}
	}
	zr, ar := zRows, accRows
	if zr == nil {
		zr = denom
	}
	if ar == nil {
		ar = denom
	}
	hasGrad := b.GradHidden != nil || b.GradWeight != nil || b.GradBias != nil
	r := opt.chunkRows(n, v, ft.Size())
	var tile, ones device.Buffer
	if n > 0 {
		if tile, err = get(r * v); err != nil {
			return err
		}
	}
	if b.GradBias != nil && n > 0 {
		if ones, err = get(r); err != nil {
			return err
		}
		one := make([]float64, r)
		for i := range one {
			one[i] = 1
		}
		if err := writeFloats(dev, ones, one); err != nil {
			return err
		}
	}
	mm := linearMM{dev: dev, bias: b.Bias}
	if mm.bias == nil {
		mm.bias = denom
	}
	for r0 := 0; r0 < n; r0 += r {
		m := min(r, n-r0)
		// The tile's logits: hidden[r0:r0+m] · weightᵀ + bias.
		if err := mm.run(b.Hidden, b.Weight, tile, m, v, h, false, true, 0, b.Bias != nil, r0, 0, 0); err != nil {
			return err
		}
		// Loss rows r0.., and the gradient w.r.t. the logits over the tile.
		if err := dev.Launch("cross_entropy_rows_ext", rowGrid(m), tile, b.Target, cw, int32(m), int32(v), hasW, ign,
			opt.LabelSmoothing, denom, b2i(hasGrad), tile, rows, int32(0), denom, opt.Softcap, opt.ZLoss, zdenom,
			b2i(zRows != nil), zr, b2i(accRows != nil), ar, int32(r0)); err != nil {
			return err
		}
		if err := mm.grads(tile, b.Hidden, b.Weight, ones, b.GradHidden, b.GradWeight, b.GradBias, m, h, v, r0); err != nil {
			return err
		}
	}
	if n == 0 { // no tile ran: the parameter gradients are 0
		if err := mm.zeroGrads(b.GradWeight, b.GradBias, v, h); err != nil {
			return err
		}
	}
	if opt.Reduction == None {
		return nil
	}
	mean := b2i(opt.Reduction == Mean)
	if err := dev.Launch("reduce_sum", oneBlock, rows, int32(n), 1.0, mean, denom, b.Loss); err != nil {
		return err
	}
	for _, x := range []struct{ rows, out device.Buffer }{{zRows, b.ZLoss}, {accRows, b.Accuracy}} {
		if x.out != nil {
			if err := dev.Launch("reduce_sum", oneBlock, x.rows, int32(n), 1.0, mean, zdenom, x.out); err != nil {
				return err
			}
		}
	}
	return nil
}

func init() {
	register(lceName, "LinearCrossEntropy", LinearCrossEntropy,
		func(a LinearCrossEntropyArgs, o LinearCrossEntropyOptions) map[string][]int {
			sh := map[string][]int{"loss": lossShape(o.Reduction, firstDim(a.Hidden.Shape))}
			if o.ZLoss != 0 {
				sh["z_loss"] = sh["loss"]
			}
			if o.ReturnAccuracy {
				sh["accuracy"] = sh["loss"]
			}
			return sh
		}, "matmul", "cross_entropy_weight_sum", "cross_entropy_rows_ext", "reduce_sum")
}
