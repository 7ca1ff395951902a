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
