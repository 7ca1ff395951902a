package losses

import (
	"math"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

const barlowName = "barlow_twins_loss"

// BarlowTwinsArgs are the tensors of barlow_twins_loss: the embeddings z1
// and z2 [N, D] of two augmented views of the same N samples (row i of
// each is sample i), the loss (one element), and the gradients wanted
// (shaped like z1 and z2). No output may share memory with an input or
// with another output.
type BarlowTwinsArgs struct {
	Z1     Tensor `loss:"z1,in"`
	Z2     Tensor `loss:"z2,in"`
	Loss   Tensor `loss:"loss,out"`
	GradZ1 Tensor `loss:"grad_z1,grad"`
	GradZ2 Tensor `loss:"grad_z2,grad"`
}

// BarlowTwinsLossOptions are the options of barlow_twins_loss. The zero
// value is the paper's: λ = 5e-3 and BatchNorm's standardisation.
type BarlowTwinsLossOptions struct {
	// Lambd weighs the off-diagonal (redundancy) terms; nil: 5e-3, the
	// paper's and MONAI's default. It must be finite and >= 0.
	Lambd *float64 `json:"lambd"`
	// Normalization standardises each column over the batch:
	// "batch_norm" (the default, ""): (z − mean)/sqrt(biased var + eps),
	// the paper's BatchNorm1d(affine=False) in training mode;
	// "unbiased_std": (z − mean)/std with the unbiased std, MONAI's
	// BarlowTwinsLoss.
	Normalization string `json:"normalization"`
	// Eps is batch_norm's variance epsilon; nil: 1e-5 (BatchNorm1d's).
	// unbiased_std has none.
	Eps *float64 `json:"eps"`
}

// BarlowTwinsLoss computes Barlow Twins' loss (Zbontar et al. 2021): with
// z1n and z2n the columns of z1 and z2 standardised over the N samples
// (Normalization) and the cross-correlation matrix c = z1nᵀ z2n / N
// [D, D],
//
//	loss = Σ_i (1 − c_ii)² + λ Σ_{i≠j} c_ij²
//
// and its gradients w.r.t. z1 and z2, through c (d loss / d z1n =
// z2n Gᵀ / N, d loss / d z2n = z1n G / N, G = d loss / d c) and through
// the standardisation (its batch statistics included, as autograd gives
// in PyTorch's training mode). N must be at least 2 (BatchNorm refuses a
// batch of one in training); D = 0 gives 0. A constant column gives
// zeros in batch_norm and NaN in unbiased_std (0/0, as MONAI). The
// workspace is 2·N·D + D² + 2·D floats (the standardised embeddings and
// c) plus the partial sums. Launches bt_norm, gram_gemm, bt_cc,
// reduce_sum and bt_norm_back.
func BarlowTwinsLoss(dev device.Device, a BarlowTwinsArgs, o BarlowTwinsLossOptions) error {
	if dev == nil || isNilDevice(dev) {
		return argErr(barlowName, "device", "is nil")
	}
	s := stage{dev: dev, loss: barlowName}
	return s.finish(barlowStaged(&s, a, o))
}

func barlowStaged(s *stage, a BarlowTwinsArgs, o BarlowTwinsLossOptions) error {
	const name = barlowName
	lambd := optOr(o.Lambd, 5e-3)
	if math.IsNaN(lambd) || math.IsInf(lambd, 0) || lambd < 0 {
		return argErr(name, "lambd", "is %v: want a finite value >= 0", lambd)
	}
	unbiased, eps := int32(0), optOr(o.Eps, 1e-5)
	switch o.Normalization {
	case "", "batch_norm":
	case "unbiased_std":
		unbiased, eps = 1, 0
		if o.Eps != nil {
			return argErr(name, "eps", "is set: unbiased_std has no epsilon (batch_norm has)")
		}
	default:
		return argErr(name, "normalization", "is %s: want \"batch_norm\" or \"unbiased_std\"", clip(o.Normalization))
	}
	if math.IsNaN(eps) || math.IsInf(eps, 0) || eps < 0 {
		return argErr(name, "eps", "is %v: want a finite value >= 0", eps)
	}
	for _, t := range []struct {
		arg string
		t   Tensor
	}{{"z1", a.Z1}, {"z2", a.Z2}} {
		if !t.t.Present() {
			return argErr(name, t.arg, "buffer is nil")
		}
		if err := s.check(t.arg, t.t); err != nil {
			return err
		}
		if len(t.t.Shape) != 2 {
			return argErr(name, t.arg, "has shape %v: want [N, D]", t.t.Shape)
		}
	}
	sh := a.Z1.Shape
	if !sameShape(a.Z2.Shape, sh) {
		return argErr(name, "z2", "has shape %v: want z1's %v", a.Z2.Shape, sh)
	}
	n, d := sh[0], sh[1]
	if n < 2 {
		return argErr(name, "z1", "has %d rows: the batch statistics need N >= 2", n)
	}
	if int64(n)*int64(d) > maxInt32 || int64(d)*int64(d) > maxInt32 {
		return argErr(name, "z1", "shape %v: N·D or D·D is beyond the int32 range of the kernels", sh)
	}
	if a.Loss.Present() && a.Loss.Len() != 1 {
		return argErr(name, "loss", "has shape %v: want one element", a.Loss.Shape)
	}
	for _, g := range []struct {
		arg string
		t   Tensor
	}{{"grad_z1", a.GradZ1}, {"grad_z2", a.GradZ2}} {
		if g.t.Present() && !sameShape(g.t.Shape, sh) {
			return argErr(name, g.arg, "has shape %v, want %v", g.t.Shape, sh)
		}
	}
	for _, o := range []struct {
		arg string
		t   Tensor
	}{{"loss", a.Loss}, {"grad_z1", a.GradZ1}, {"grad_z2", a.GradZ2}} {
		for _, in := range []struct {
			arg string
			t   Tensor
		}{{"z1", a.Z1}, {"z2", a.Z2}} {
			if o.t.Present() && sameMemory(o.t.Buf, in.t.Buf) {
				return argErr(name, o.arg, "shares memory with %s, which it would overwrite while it is read", in.arg)
			}
		}
	}
	dev := s.dev
	ft := a.Z1.DType()
	if err := floatType(name, "z1", dev, ft); err != nil {
		return err
	}
	for _, t := range []struct {
		arg string
		t   Tensor
	}{{"z2", a.Z2}, {"loss", a.Loss}, {"grad_z1", a.GradZ1}, {"grad_z2", a.GradZ2}} {
		if t.t.Present() && t.t.DType() != ft {
			return argErr(name, t.arg, "dtype is %s, want %s", t.t.DType(), ft)
		}
	}
	nd, dd := n*d, d*d
	need := int64(ft.Size()) * (2*int64(nd) + int64(dd) + 2*int64(d) + int64(kernelspec.MaxReduceBlocks))
	if err := checkWorkspace(dev, name, need); err != nil {
		return err
	}
	var z1, z2, loss, g1, g2 device.Buffer
	if err := s.bind(in("z1", a.Z1, &z1), in("z2", a.Z2, &z2), out("loss", a.Loss, &loss),
		out("grad_z1", a.GradZ1, &g1), out("grad_z2", a.GradZ2, &g2)); err != nil {
		return err
	}
	if loss == nil && g1 == nil && g2 == nil {
		return nil
	}
	var tmp []device.Buffer
	defer func() { pool.put(tmp...) }()
	get := func(n int) (device.Buffer, error) {
		b, err := pool.get(dev, ft, n)
		if err == nil {
			tmp = append(tmp, b)
		}
		return b, err
	}
	partials, err := get(kernelspec.MaxReduceBlocks)
	if err != nil {
		return err
	}
	if d == 0 {
		if loss == nil {
			return nil
		}
		// The sum of no terms.
		return dev.Launch("reduce_sum", oneBlock, partials, int32(0), 1.0, int32(0), partials, loss)
	}
	var zn1, zn2, c, r1, r2 device.Buffer
	for _, p := range []struct {
		b *device.Buffer
		n int
	}{{&zn1, nd}, {&zn2, nd}, {&c, dd}, {&r1, d}, {&r2, d}} {
		if *p.b, err = get(p.n); err != nil {
			return err
		}
	}
	colGrid := device.Grid{Blocks: min((d+kernelspec.BlockSize-1)/kernelspec.BlockSize, kernelspec.MaxReduceBlocks),
		Threads: kernelspec.BlockSize}
	N, D := int32(n), int32(d)
	if err := dev.Launch("bt_norm", colGrid, z1, N, D, unbiased, eps, zn1, r1); err != nil {
		return err
	}
	if err := dev.Launch("bt_norm", colGrid, z2, N, D, unbiased, eps, zn2, r2); err != nil {
		return err
	}
	inv := 1 / float64(n)
	if err := dev.Launch("gram_gemm", gemmGrid(1, d, d), zn1, zn2, c, int32(1), D, D, N, int32(1), int32(0), inv); err != nil {
		return err
	}
	hasGrad := g1 != nil || g2 != nil
	pg := partialGrid(dd)
	if err := dev.Launch("bt_cc", pg, c, D, lambd, 1.0, b2i(hasGrad), partials); err != nil {
		return err
	}
	if loss != nil {
		if err := dev.Launch("reduce_sum", oneBlock, partials, int32(pg.Blocks), 1.0, int32(0), partials, loss); err != nil {
			return err
		}
	}
	// c now holds G = d loss / d c.
	if g1 != nil {
		// d loss / d z1n = z2n Gᵀ / N, then through the standardisation
		if err := dev.Launch("gram_gemm", gemmGrid(1, n, d), zn2, c, g1, int32(1), N, D, D, int32(0), int32(1), inv); err != nil {
			return err
		}
		if err := dev.Launch("bt_norm_back", colGrid, zn1, r1, N, D, unbiased, g1); err != nil {
			return err
		}
	}
	if g2 != nil {
		// d loss / d z2n = z1n G / N
		if err := dev.Launch("gram_gemm", gemmGrid(1, n, d), zn1, c, g2, int32(1), N, D, D, int32(0), int32(0), inv); err != nil {
			return err
		}
		if err := dev.Launch("bt_norm_back", colGrid, zn2, r2, N, D, unbiased, g2); err != nil {
			return err
		}
	}
	return nil
}

func barlowShapes(a BarlowTwinsArgs, o BarlowTwinsLossOptions) map[string][]int {
	return map[string][]int{"loss": {}}
}

func init() {
	register(barlowName, "BarlowTwinsLoss", BarlowTwinsLoss, barlowShapes,
		"bt_norm", "gram_gemm", "bt_cc", "reduce_sum", "bt_norm_back")
}
