package losses

import (
	"math"
	"strings"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// The mining family: metric-learning losses over a batch of embeddings
// [B, D] with int32 class labels [B], the pairs and triplets formed inside
// the batch. The kernels are in kernels/src/mining.h (host mirrors:
// host/mining.go).

// MiningArgs are the tensors of batch_triplet_loss: embeddings [B, D],
// labels [B] (int32, any values: equal labels make a positive pair), the
// loss (one element) and the gradient w.r.t. the embeddings, which may
// not share memory with them.
type MiningArgs struct {
	Embeddings     Tensor `loss:"embeddings,in"`
	Labels         Tensor `loss:"labels,in,int32"`
	Loss           Tensor `loss:"loss,out"`
	GradEmbeddings Tensor `loss:"grad_embeddings,grad"`
}

// BatchTripletLossOptions are the options of batch_triplet_loss. The zero
// value is batch-hard mining, margin 1, the hinge, the euclidean
// distance.
type BatchTripletLossOptions struct {
	// Mining is "hard" (or ""): per anchor, its farthest positive and its
	// nearest negative (Hermans et al. batch-hard); "semi_hard": TF-Addons'
	// triplet_semihard_loss; "all": every valid triplet.
	Mining string `json:"mining"`
	// Margin of the hinge relu(margin + d_ap − d_an); nil: 1.0 (TF-Addons'
	// default). Unused with Soft.
	Margin *float64 `json:"margin"`
	// Soft replaces the hinge by softplus(d_ap − d_an) (Hermans et al.'s
	// soft margin, TF-Addons' soft option).
	Soft bool `json:"soft"`
	// Distance is "l2" (or ""): ‖a − b‖; "squared_l2": ‖a − b‖²; "cosine":
	// 1 − cos(a, b), on rows normalised as F.normalize does (a zero row
	// stays zero: distance 1 to every row).
	Distance string `json:"distance"`
}

// BatchTripletLoss is the triplet margin loss with triplets mined in the
// batch, and its gradient w.r.t. the embeddings. For an anchor a, its
// positives are the other rows with its label, its negatives the rows
// with another label; a triplet (a, p, n) has loss relu(margin + d_ap −
// d_an) (softplus(d_ap − d_an) with Soft). The mining:
//
//   - hard (Hermans et al., "In Defense of the Triplet Loss", batch-hard):
//     per anchor the triplet of its farthest positive and nearest negative;
//     an anchor without a positive or without a negative is skipped; the
//     loss is the mean over the anchors kept (0 if none, where TF-Addons'
//     triplet_hard_loss would average over every anchor, a skipped one
//     with a made-up negative).
//   - semi_hard (TF-Addons triplet_semihard_loss): per positive pair (a,
//     p), the nearest negative of a farther than d_ap; if there is none,
//     the farthest negative of a; if a has no negative, d_an = 0 (TF-Addons'
//     masked maximum of an empty set, the row's minimum, the diagonal's 0).
//     The loss is the mean over every positive pair, those with a zero
//     loss included; NaN for a batch without one (TF-Addons' 0/0).
//   - all: every triplet (a, p, n); the mean over the triplets whose loss
//     is > 0 (pytorch-metric-learning's AvgNonZeroReducer; every triplet
//     with Soft); 0 if none.
//
// Ties in the maximum or minimum pick the lowest index (TF's reduce_max
// gradient would split a tie). The gradient of the euclidean distance at
// 0 (duplicate rows) is taken as 0, as TF-Addons' pairwise_distance does;
// relu's derivative at 0 is 0. A NaN or infinite distance between two
// rows makes the loss NaN (the gradient is then unspecified). B = 0 gives
// 0 (NaN for semi_hard).
//
// The distances are held in a B × B workspace, with B × B derivative
// coefficients (and B × B int32 choices for semi_hard): about 8·B² bytes
// (12·B²), refused beyond the device's memory. Launches mine_prep (cosine
// only), mine_pdist, mine_triplet_rows, mine_finish and, for the
// gradient, mine_grad.
func BatchTripletLoss(dev device.Device, a MiningArgs, o BatchTripletLossOptions) error {
	const name = "batch_triplet_loss"
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	s := stage{dev: dev, loss: name}
	return s.finish(tripletStaged(&s, name, a, o))
}

// mineDistance parses a distance option.
func mineDistance(name, v string) (int32, error) {
	switch strings.ToLower(v) {
	case "", "l2", "euclidean":
		return kernelspec.MineDistL2, nil
	case "squared_l2":
		return kernelspec.MineDistSqL2, nil
	case "cosine":
		return kernelspec.MineDistCosine, nil
	}
	return 0, argErr(name, "distance", "unknown distance %s: want l2, squared_l2 or cosine", clip(v))
}

// mineMining parses a mining option.
func mineMining(name, v string) (int32, error) {
	switch strings.ToLower(v) {
	case "", "hard":
		return kernelspec.MineHard, nil
	case "semi_hard":
		return kernelspec.MineSemi, nil
	case "all":
		return kernelspec.MineAll, nil
	}
	return 0, argErr(name, "mining", "unknown mining %s: want hard, semi_hard or all", clip(v))
}

// mineEmbeddings checks embeddings [B, D] and labels [B] and returns B, D.
func mineEmbeddings(s *stage, name string, x, labels Tensor) (int, int, error) {
	if !x.Present() {
		return 0, 0, argErr(name, "embeddings", "buffer is nil")
	}
	if !labels.Present() {
		return 0, 0, argErr(name, "labels", "buffer is nil")
	}
	if len(x.Shape) != 2 {
		return 0, 0, argErr(name, "embeddings", "has shape %v: want [B, D]", x.Shape)
	}
	if err := s.check("embeddings", x); err != nil {
		return 0, 0, err
	}
	b, d := x.Shape[0], x.Shape[1]
	if len(labels.Shape) != 1 || labels.Shape[0] != b {
		return 0, 0, argErr(name, "labels", "has shape %v: want [%d] (one label per row of embeddings)", labels.Shape, b)
	}
	if b > kernelspec.MaxIntLoop || d > kernelspec.MaxIntLoop {
		return 0, 0, argErr(name, "embeddings", "has shape %v: beyond the int32 range of the kernels", x.Shape)
	}
	return b, d, nil
}

func tripletStaged(s *stage, name string, a MiningArgs, o BatchTripletLossOptions) error {
	mining, err := mineMining(name, o.Mining)
	if err != nil {
		return err
	}
	dist, err := mineDistance(name, o.Distance)
	if err != nil {
		return err
	}
	margin := 1.0
	if o.Margin != nil {
		margin = *o.Margin
	}
	if math.IsNaN(margin) || math.IsInf(margin, 0) {
		return argErr(name, "margin", "must be finite, got %v", margin)
	}
	b, d, err := mineEmbeddings(s, name, a.Embeddings, a.Labels)
	if err != nil {
		return err
	}
	if err := checkLoss(name, a.Loss, Mean, b); err != nil {
		return err
	}
	if a.GradEmbeddings.Present() {
		if !sameShape(a.GradEmbeddings.Shape, a.Embeddings.Shape) {
			return argErr(name, "grad_embeddings", "has shape %v, want %v", a.GradEmbeddings.Shape, a.Embeddings.Shape)
		}
		if sameMemory(a.GradEmbeddings.Buf, a.Embeddings.Buf) {
			return argErr(name, "grad_embeddings", "shares memory with embeddings: the gradient may not overwrite them")
		}
	}
	var x, lab, loss, grad device.Buffer
	if err := s.bind(in("embeddings", a.Embeddings, &x), in("labels", a.Labels, &lab), out("loss", a.Loss, &loss),
		out("grad_embeddings", a.GradEmbeddings, &grad)); err != nil {
		return err
	}
	dev := s.dev
	ft := x.DType()
	if err := floatType(name, "embeddings", dev, ft); err != nil {
		return err
	}
	for _, c := range []struct {
		arg string
		b   device.Buffer
		dt  device.DType
		n   int
		opt bool
	}{{"embeddings", x, ft, b * d, false}, {"labels", lab, device.Int32, b, false}, {"loss", loss, ft, 1, true},
		{"grad_embeddings", grad, ft, b * d, true}} {
		if err := checkBuf(name, c.arg, dev, c.b, c.dt, c.n, c.opt); err != nil {
			return err
		}
	}
	if loss == nil && grad == nil {
		return nil
	}
	empty := 0.0
	if mining == kernelspec.MineSemi {
		empty = math.NaN()
	}
	if b == 0 {
		if loss == nil {
			return nil
		}
		return writeFloats(dev, loss, []float64{empty})
	}
	fs := int64(ft.Size())
	bb := int64(b) * int64(b)
	bytes := 2*bb*fs + 3*int64(b)*fs + 2*fs
	if mining == kernelspec.MineSemi {
		bytes += 4 * bb
	}
	if dist == kernelspec.MineDistCosine {
		bytes += int64(b) * int64(d) * fs
	}
	if err := checkWorkspace(dev, name, bytes); err != nil {
		return err
	}
	w, err := mineWork(dev, ft, b, d, mining, dist)
	if err != nil {
		return err
	}
	defer w.release()
	v := x
	if dist == kernelspec.MineDistCosine {
		if err := dev.Launch("mine_prep", rowGrid(b), x, int32(b), int32(d), w.u, w.norms); err != nil {
			return err
		}
		v = w.u
	}
	tiles := (b + 15) / 16
	if err := dev.Launch("mine_pdist", device.Grid{Blocks: tiles * tiles, Threads: kernelspec.BlockSize}, v,
		int32(b), int32(d), dist, w.pd); err != nil {
		return err
	}
	if err := dev.Launch("mine_triplet_rows", rowGrid(b), w.pd, lab, int32(b), mining, margin, b2i(o.Soft), w.coef,
		w.sel, w.rowloss, w.rowcount); err != nil {
		return err
	}
	lossOut := other(loss, w.loss)
	if err := dev.Launch("mine_finish", oneBlock, w.rowloss, w.rowcount, int32(b), empty, lossOut, w.scale); err != nil {
		return err
	}
	if grad == nil {
		return nil
	}
	norms := w.norms
	if norms == nil {
		norms = w.scale
	}
	return dev.Launch("mine_grad", rowGrid(b), v, w.pd, w.coef, w.scale, int32(b), int32(d), dist, norms, grad)
}

// mineBufs is the workspace of batch_triplet_loss, from the scratch pool.
type mineBufs struct {
	pd, coef, rowloss, rowcount, scale, loss, u, norms, sel device.Buffer
	all                                                     []device.Buffer
}

func (w *mineBufs) release() { pool.put(w.all...) }

// mineWork takes the workspace from the scratch pool, the largest buffers
// first (so that a small request does not take a large free buffer).
func mineWork(dev device.Device, ft device.DType, b, d int, mining, dist int32) (*mineBufs, error) {
	w := &mineBufs{}
	get := func(dst *device.Buffer, dt device.DType, n int) error {
		buf, err := pool.get(dev, dt, n)
		if err != nil {
			return err
		}
		*dst = buf
		w.all = append(w.all, buf)
		return nil
	}
	reqs := []struct {
		dst *device.Buffer
		dt  device.DType
		n   int
	}{{&w.pd, ft, b * b}, {&w.coef, ft, b * b}}
	nsel := 1 // not read: mine_triplet_rows uses sel with semi_hard only
	if mining == kernelspec.MineSemi {
		nsel = b * b
	}
	reqs = append(reqs, struct {
		dst *device.Buffer
		dt  device.DType
		n   int
	}{&w.sel, device.Int32, nsel})
	if dist == kernelspec.MineDistCosine {
		reqs = append(reqs, struct {
			dst *device.Buffer
			dt  device.DType
			n   int
		}{&w.u, ft, max(1, b*d)}, struct {
			dst *device.Buffer
			dt  device.DType
			n   int
		}{&w.norms, ft, b})
	}
	reqs = append(reqs, []struct {
		dst *device.Buffer
		dt  device.DType
		n   int
	}{{&w.rowloss, ft, b}, {&w.rowcount, ft, b}, {&w.scale, ft, 1}, {&w.loss, ft, 1}}...)
	for _, r := range reqs {
		if err := get(r.dst, r.dt, r.n); err != nil {
			w.release()
			return nil, err
		}
	}
	return w, nil
}

func init() {
	register("batch_triplet_loss", "BatchTripletLoss", BatchTripletLoss,
		func(MiningArgs, BatchTripletLossOptions) map[string][]int { return map[string][]int{"loss": {}} },
		"mine_prep", "mine_pdist", "mine_triplet_rows", "mine_finish", "mine_grad")
}

// BarlowTwinsArgs are the tensors of barlow_twins_loss: the embeddings of
// two views z1 and z2, [N, D] each, the loss (one element) and the
// gradients w.r.t. z1 and z2 (each may be its own input's buffer).
type BarlowTwinsArgs struct {
	Z1     Tensor `loss:"z1,in"`
	Z2     Tensor `loss:"z2,in"`
	Loss   Tensor `loss:"loss,out"`
	GradZ1 Tensor `loss:"grad_z1,grad"`
	GradZ2 Tensor `loss:"grad_z2,grad"`
}

// BarlowTwinsLossOptions are the options of barlow_twins_loss; the zero
// value is the paper's: λ = 5e-3, batch-norm normalisation.
type BarlowTwinsLossOptions struct {
	// Lambd weighs the off-diagonal terms; nil: 5e-3 (the paper's and
	// MONAI's default).
	Lambd *float64 `json:"lambd"`
	// Normalization of each column over the batch: "batch_norm" (or ""):
	// (z − mean)/sqrt(biased var + 1e-5), the paper's BatchNorm1d
	// (affine=False) in training mode; "unbiased_std": (z − mean)/std with
	// the unbiased std, as MONAI's BarlowTwinsLoss (N ≥ 2).
	Normalization string `json:"normalization"`
}

// BarlowTwinsLoss is the Barlow Twins loss (Zbontar et al., 2021) and its
// gradient w.r.t. both views: each column of z1 and z2 normalised over the
// batch (Normalization), c = z1nᵀ z2n / N (D × D), and
//
//	loss = Σ_i (1 − c_ii)² + λ Σ_{i≠j} c_ij²
//
// the sum, not a mean, as the paper's and MONAI's. The gradient goes back
// through the product and the normalisation (through the mean and the
// standard deviation of each column). A constant column has a zero
// standard deviation: batch_norm divides by sqrt(1e-5), unbiased_std by 0
// (Inf or NaN, as MONAI). N = 0 gives NaN; D = 0 gives 0. The workspace is
// the two normalised views and c: 4·(2·N·D + D² + 2·D) bytes in float32,
// checked against the device's memory. Launches bt_norm, gram_gemm (the
// gram family's tiled product), bt_terms, reduce_sum and, for the gradients,
// gram_gemm and bt_norm_back.
func BarlowTwinsLoss(dev device.Device, a BarlowTwinsArgs, o BarlowTwinsLossOptions) error {
	const name = "barlow_twins_loss"
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	s := stage{dev: dev, loss: name}
	return s.finish(barlowStaged(&s, name, a, o))
}

func barlowStaged(s *stage, name string, a BarlowTwinsArgs, o BarlowTwinsLossOptions) error {
	lambd := 5e-3
	if o.Lambd != nil {
		lambd = *o.Lambd
	}
	if math.IsNaN(lambd) || math.IsInf(lambd, 0) {
		return argErr(name, "lambd", "must be finite, got %v", lambd)
	}
	var mode int32
	switch strings.ToLower(o.Normalization) {
	case "", "batch_norm":
		mode = kernelspec.BTNormBatch
	case "unbiased_std":
		mode = kernelspec.BTNormUnbiased
	default:
		return argErr(name, "normalization", "unknown normalization %s: want batch_norm or unbiased_std", clip(o.Normalization))
	}
	if !a.Z1.Present() {
		return argErr(name, "z1", "buffer is nil")
	}
	if !a.Z2.Present() {
		return argErr(name, "z2", "buffer is nil")
	}
	if len(a.Z1.Shape) != 2 {
		return argErr(name, "z1", "has shape %v: want [N, D]", a.Z1.Shape)
	}
	if !sameShape(a.Z2.Shape, a.Z1.Shape) {
		return argErr(name, "z2", "has shape %v: want z1's %v", a.Z2.Shape, a.Z1.Shape)
	}
	if err := s.check("z1", a.Z1); err != nil {
		return err
	}
	n, d := a.Z1.Shape[0], a.Z1.Shape[1]
	if n > kernelspec.MaxIntLoop || d > kernelspec.MaxIntLoop {
		return argErr(name, "z1", "has shape %v: beyond the int32 range of the kernels", a.Z1.Shape)
	}
	if mode == kernelspec.BTNormUnbiased && n == 1 {
		return argErr(name, "z1", "has one row: the unbiased std needs N >= 2")
	}
	if err := checkLoss(name, a.Loss, Mean, 1); err != nil {
		return err
	}
	for _, g := range []struct {
		arg string
		t   Tensor
	}{{"grad_z1", a.GradZ1}, {"grad_z2", a.GradZ2}} {
		if g.t.Present() && !sameShape(g.t.Shape, a.Z1.Shape) {
			return argErr(name, g.arg, "has shape %v, want %v", g.t.Shape, a.Z1.Shape)
		}
	}
	var z1, z2, loss, g1, g2 device.Buffer
	if err := s.bind(in("z1", a.Z1, &z1), in("z2", a.Z2, &z2), out("loss", a.Loss, &loss),
		out("grad_z1", a.GradZ1, &g1), out("grad_z2", a.GradZ2, &g2)); err != nil {
		return err
	}
	dev := s.dev
	ft := z1.DType()
	if err := floatType(name, "z1", dev, ft); err != nil {
		return err
	}
	for _, c := range []struct {
		arg string
		b   device.Buffer
		n   int
		opt bool
	}{{"z2", z2, n * d, false}, {"loss", loss, 1, true}, {"grad_z1", g1, n * d, true}, {"grad_z2", g2, n * d, true}} {
		if err := checkBuf(name, c.arg, dev, c.b, ft, c.n, c.opt); err != nil {
			return err
		}
	}
	if loss == nil && g1 == nil && g2 == nil {
		return nil
	}
	if n == 0 || d == 0 {
		if loss == nil {
			return nil
		}
		v := 0.0
		if n == 0 {
			v = math.NaN()
		}
		return writeFloats(dev, loss, []float64{v})
	}
	fs := int64(ft.Size())
	nd, dd := int64(n)*int64(d), int64(d)*int64(d)
	g := partialGrid(d * d)
	if err := checkWorkspace(dev, name, (2*nd+dd+2*int64(d)+int64(g.Blocks)+1)*fs); err != nil {
		return err
	}
	var bufs []device.Buffer
	defer func() { pool.put(bufs...) }()
	get := func(k int) (device.Buffer, error) {
		b, err := pool.get(dev, ft, k)
		if err == nil {
			bufs = append(bufs, b)
		}
		return b, err
	}
	var zn1, zn2, c, is1, is2, partials, lossTmp device.Buffer
	for _, r := range []struct {
		dst *device.Buffer
		k   int
	}{{&zn1, n * d}, {&zn2, n * d}, {&c, d * d}, {&is1, d}, {&is2, d}, {&partials, g.Blocks}, {&lossTmp, 1}} {
		b, err := get(r.k)
		if err != nil {
			return err
		}
		*r.dst = b
	}
	if err := dev.Launch("bt_norm", rowGrid(d), z1, int32(n), int32(d), mode, zn1, is1); err != nil {
		return err
	}
	if err := dev.Launch("bt_norm", rowGrid(d), z2, int32(n), int32(d), mode, zn2, is2); err != nil {
		return err
	}
	// c = z1nᵀ z2n / N
	if err := dev.Launch("gram_gemm", gemmGrid(1, d, d), zn1, zn2, c, int32(1), int32(d), int32(d), int32(n), int32(1), int32(0),
		1/float64(n)); err != nil {
		return err
	}
	if err := dev.Launch("bt_terms", g, c, int32(d), lambd, partials); err != nil {
		return err
	}
	if err := dev.Launch("reduce_sum", oneBlock, partials, int32(g.Blocks), 1.0, int32(0), partials,
		other(loss, lossTmp)); err != nil {
		return err
	}
	// dL/dz1n = z2n (dL/dc)ᵀ / N, dL/dz2n = z1n (dL/dc) / N, then back
	// through each normalisation.
	if g1 != nil {
		if err := dev.Launch("gram_gemm", gemmGrid(1, n, d), zn2, c, g1, int32(1), int32(n), int32(d), int32(d), int32(0), int32(1),
			1/float64(n)); err != nil {
			return err
		}
		if err := dev.Launch("bt_norm_back", rowGrid(d), zn1, is1, int32(n), int32(d), mode, g1); err != nil {
			return err
		}
	}
	if g2 != nil {
		if err := dev.Launch("gram_gemm", gemmGrid(1, n, d), zn1, c, g2, int32(1), int32(n), int32(d), int32(d), int32(0), int32(0),
			1/float64(n)); err != nil {
			return err
		}
		if err := dev.Launch("bt_norm_back", rowGrid(d), zn2, is2, int32(n), int32(d), mode, g2); err != nil {
			return err
		}
	}
	return nil
}

func init() {
	register("barlow_twins_loss", "BarlowTwinsLoss", BarlowTwinsLoss,
		func(BarlowTwinsArgs, BarlowTwinsLossOptions) map[string][]int { return map[string][]int{"loss": {}} },
		"bt_norm", "gram_gemm", "bt_terms", "reduce_sum", "bt_norm_back")
}

// CircleLossOptions are the options of circle_loss, Keras 3's
// keras.losses.Circle keyword arguments and defaults.
type CircleLossOptions struct {
	// Gamma scales the logits; nil: 80.
	Gamma *float64 `json:"gamma"`
	// Margin is the relaxation m; nil: 0.4.
	Margin *float64 `json:"margin"`
	// RemoveDiagonal leaves each row out of its own positives; nil: true.
	RemoveDiagonal *bool `json:"remove_diagonal"`
}

// CircleLoss is the circle loss of Sun et al. 2020 as Keras 3's
// keras.losses.Circle computes it, with its gradient w.r.t. the
// embeddings: the rows are L2-normalised inside (as F.normalize; Keras
// expects normalised rows and does not normalise), d_ij = max(1 − u_i·u_j,
// 0), and per row i
//
//	P = logsumexp_{j positive} −γ α_p (m − d_ij),  α_p = max(m + d_ij, 0)
//	N = logsumexp_{j negative}  γ α_n (1 − m − d_ij), α_n = max(1 + m − d_ij, 0)
//	loss_i = softplus(P + N)
//
// (positives: the same label, the row itself left out with
// RemoveDiagonal; negatives: another label). A row without a positive or
// without a negative has loss 0 (P or N is −∞), and the loss is the mean
// over the other rows (Keras masks the rows whose loss is 0 and divides by
// their count + 1e-7; the rows are the same unless a float32 loss
// underflows to 0); 0 if there is none, and for B = 0. The weights α are
// held constant in the gradient (the paper's and pytorch-metric-learning's
// stop-gradient; Keras' autograd differentiates them). The logsumexps
// subtract their maxima. The workspace is 8·B² bytes (float32), checked
// against the device's memory. Launches mine_prep, mine_pdist (cosine),
// circle_rows, mine_finish and, for the gradient, mine_grad.
func CircleLoss(dev device.Device, a MiningArgs, o CircleLossOptions) error {
	const name = "circle_loss"
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	s := stage{dev: dev, loss: name}
	return s.finish(circleStaged(&s, name, a, o))
}

func circleStaged(s *stage, name string, a MiningArgs, o CircleLossOptions) error {
	gamma, margin, rd := 80.0, 0.4, true
	if o.Gamma != nil {
		gamma = *o.Gamma
	}
	if o.Margin != nil {
		margin = *o.Margin
	}
	if o.RemoveDiagonal != nil {
		rd = *o.RemoveDiagonal
	}
	if math.IsNaN(gamma) || math.IsInf(gamma, 0) {
		return argErr(name, "gamma", "must be finite, got %v", gamma)
	}
	if math.IsNaN(margin) || math.IsInf(margin, 0) {
		return argErr(name, "margin", "must be finite, got %v", margin)
	}
	b, d, err := mineEmbeddings(s, name, a.Embeddings, a.Labels)
	if err != nil {
		return err
	}
	if err := checkLoss(name, a.Loss, Mean, b); err != nil {
		return err
	}
	if a.GradEmbeddings.Present() && !sameShape(a.GradEmbeddings.Shape, a.Embeddings.Shape) {
		return argErr(name, "grad_embeddings", "has shape %v, want %v", a.GradEmbeddings.Shape, a.Embeddings.Shape)
	}
	var x, lab, loss, grad device.Buffer
	if err := s.bind(in("embeddings", a.Embeddings, &x), in("labels", a.Labels, &lab), out("loss", a.Loss, &loss),
		out("grad_embeddings", a.GradEmbeddings, &grad)); err != nil {
		return err
	}
	dev := s.dev
	ft := x.DType()
	if err := floatType(name, "embeddings", dev, ft); err != nil {
		return err
	}
	for _, c := range []struct {
		arg string
		b   device.Buffer
		dt  device.DType
		n   int
		opt bool
	}{{"embeddings", x, ft, b * d, false}, {"labels", lab, device.Int32, b, false}, {"loss", loss, ft, 1, true},
		{"grad_embeddings", grad, ft, b * d, true}} {
		if err := checkBuf(name, c.arg, dev, c.b, c.dt, c.n, c.opt); err != nil {
			return err
		}
	}
	if loss == nil && grad == nil {
		return nil
	}
	if b == 0 {
		if loss == nil {
			return nil
		}
		return writeFloats(dev, loss, []float64{0})
	}
	fs := int64(ft.Size())
	if err := checkWorkspace(dev, name, (2*int64(b)*int64(b)+int64(b)*int64(d)+4*int64(b)+2)*fs); err != nil {
		return err
	}
	w, err := mineWork(dev, ft, b, d, kernelspec.MineHard, kernelspec.MineDistCosine)
	if err != nil {
		return err
	}
	defer w.release()
	// The rows are normalised into u (the gradient reads u after the
	// last write to grad's memory only, so grad may be embeddings' buffer).
	if err := dev.Launch("mine_prep", rowGrid(b), x, int32(b), int32(d), w.u, w.norms); err != nil {
		return err
	}
	tiles := (b + 15) / 16
	if err := dev.Launch("mine_pdist", device.Grid{Blocks: tiles * tiles, Threads: kernelspec.BlockSize}, w.u,
		int32(b), int32(d), kernelspec.MineDistCosine, w.pd); err != nil {
		return err
	}
	if err := dev.Launch("circle_rows", rowGrid(b), w.pd, lab, int32(b), gamma, margin, b2i(rd), w.coef, w.rowloss,
		w.rowcount); err != nil {
		return err
	}
	if err := dev.Launch("mine_finish", oneBlock, w.rowloss, w.rowcount, int32(b), 0.0, other(loss, w.loss),
		w.scale); err != nil {
		return err
	}
	if grad == nil {
		return nil
	}
	return dev.Launch("mine_grad", rowGrid(b), w.u, w.pd, w.coef, w.scale, int32(b), int32(d),
		kernelspec.MineDistCosine, w.norms, grad)
}

func init() {
	register("circle_loss", "CircleLoss", CircleLoss,
		func(MiningArgs, CircleLossOptions) map[string][]int { return map[string][]int{"loss": {}} },
		"mine_prep", "mine_pdist", "circle_rows", "mine_finish", "mine_grad")
}
