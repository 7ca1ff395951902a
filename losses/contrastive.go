package losses

import (
	"math"
	"runtime"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// The contrastive family: in-batch contrastive losses over embeddings that
// are L2-normalised inside (cosine similarities), NT-Xent, InfoNCE and
// SupCon. The similarity matrix S = A·Cᵀ/τ of the anchors A [r, D] and the
// contrast set C [k, D] is never stored: the kernels form it 16 × 16 at a
// time (contrastive_rows keeps an online (max, sum of exp) state per row;
// contrastive_grad recomputes each tile and adds the coefficient tile's
// product with the rows of C, or of A for the columns' side, to the
// gradient). See ContrastiveWorkspace for the memory a call takes.

// NTXentArgs are the tensors of NTXent, in one of two forms, chosen by
// Z2. Label form (optax.ntxent): Embeddings [B, D] and Labels [B] int32,
// gradient GradEmbeddings. Two-view form (SimCLR): Embeddings (the first
// views, z1) and Z2 [N, D], the two views of N samples, gradients
// GradEmbeddings and GradZ2. Loss has one element.
type NTXentArgs struct {
	Embeddings     Tensor `loss:"embeddings,in"`
	Labels         Tensor `loss:"labels,in,int32,optional"`
	Z2             Tensor `loss:"z2,in,optional"`
	Loss           Tensor `loss:"loss,out"`
	GradEmbeddings Tensor `loss:"grad_embeddings,grad"`
	GradZ2         Tensor `loss:"grad_z2,grad"`
}

// NTXentOptions are the options of NTXent.
type NTXentOptions struct {
	// Temperature τ > 0; nil: 0.07 in the label form (optax's default),
	// 0.5 in the two-view form (SimCLR's).
	Temperature *float64 `json:"temperature"`
	// Eps > 0 clamps each norm from below (z / max(‖z‖, eps)); nil: the
	// machine epsilon of the element type in the label form (optax's
	// cosine_similarity), 1e-12 in the two-view form (F.normalize's).
	Eps *float64 `json:"eps"`
	// Tile is the column-block width of the host device's similarity
	// blocks (0: 512; at least the number of columns: the whole row block,
	// the non-tiled path). The accelerator kernels always use 16 × 16
	// tiles. The result does not depend on it beyond rounding.
	Tile int `json:"tile"`
}

// InfoNCEArgs are the tensors of InfoNCE (the info-nce-pytorch package):
// Query and PositiveKey [B, D], optional NegativeKeys [M, D] (its
// "unpaired" negative mode). Loss has one element.
type InfoNCEArgs struct {
	Query            Tensor `loss:"query,in"`
	PositiveKey      Tensor `loss:"positive_key,in"`
	NegativeKeys     Tensor `loss:"negative_keys,in,optional"`
	Loss             Tensor `loss:"loss,out"`
	GradQuery        Tensor `loss:"grad_query,grad"`
	GradPositiveKey  Tensor `loss:"grad_positive_key,grad"`
	GradNegativeKeys Tensor `loss:"grad_negative_keys,grad"`
}

// InfoNCEOptions are the options of InfoNCE.
type InfoNCEOptions struct {
	// Temperature τ > 0; nil: 0.1.
	Temperature *float64 `json:"temperature"`
	// Tile: as NTXentOptions.Tile.
	Tile int `json:"tile"`
}

// SupConArgs are the tensors of SupCon (Khosla et al., the SupContrast
// reference's SupConLoss): Features [B, V, D] (V views of B samples),
// optional Labels [B] int32. Loss has one element.
type SupConArgs struct {
	Features     Tensor `loss:"features,in"`
	Labels       Tensor `loss:"labels,in,int32,optional"`
	Loss         Tensor `loss:"loss,out"`
	GradFeatures Tensor `loss:"grad_features,grad"`
}

// SupConOptions are the options of SupCon.
type SupConOptions struct {
	// Temperature τ > 0; nil: 0.07.
	Temperature *float64 `json:"temperature"`
	// BaseTemperature τ_b > 0; nil: 0.07. The loss is scaled by τ/τ_b.
	BaseTemperature *float64 `json:"base_temperature"`
	// ContrastMode: "all" (the default: every view is an anchor) or "one"
	// (only view 0 of each sample).
	ContrastMode string `json:"contrast_mode"`
	// Tile: as NTXentOptions.Tile.
	Tile int `json:"tile"`
}

// NTXent is the normalised temperature-scaled cross-entropy loss, in two
// forms chosen by the tensors given.
//
// Label form, optax.ntxent: with s_ij = cos(e_i, e_j)/τ (each e_i divided
// by max(‖e_i‖, eps)), positives (i, j) the pairs of equal labels with
// j ≠ i and negatives k the columns of another label,
//
//	loss = mean over positive pairs (i, j) of −log(exp(s_ij) / (exp(s_ij) + Σ_k exp(s_ik)))
//
// (NaN when no pair has a positive, 0/0 as in optax). A zero embedding
// gives a finite loss: its cosine similarities are 0.
//
// Two-view form (z2 given; embeddings are z1), SimCLR's NT-Xent: the 2N
// views [z1; z2], each normalised
// with F.normalize's clamp; the positive of view i is the other view of
// the same sample, and
//
//	loss = mean over the 2N views of −log softmax_{j ≠ i}(s_ij) at the positive
//
// (identical embeddings give log(2N − 1); N = 0 gives NaN). Launches
// contrastive_normalize, contrastive_rows (twice in the label form),
// contrastive_finish, contrastive_grad and contrastive_backnorm.
func NTXent(dev device.Device, a NTXentArgs, o NTXentOptions) error {
	const name = "nt_xent_loss"
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	s := stage{dev: dev, loss: name}
	return s.finish(ntxentStaged(&s, a, o))
}

func conTemperature(name, arg string, t *float64, def float64) (float64, error) {
	v := def
	if t != nil {
		v = *t
	}
	if !(v > 0) || math.IsInf(v, 1) {
		return 0, argErr(name, arg, "must be finite and > 0, got %v", v)
	}
	return v, nil
}

// conMatrix checks that t is present with rank 2 and d columns (d < 0:
// any), and returns its rows and columns.
func conMatrix(name, arg string, t Tensor, d int) (int, int, error) {
	if !t.Present() {
		return 0, 0, argErr(name, arg, "buffer is nil")
	}
	if len(t.Shape) != 2 {
		return 0, 0, argErr(name, arg, "has shape %v: want [B, D]", t.Shape)
	}
	if d >= 0 && t.Shape[1] != d {
		return 0, 0, argErr(name, arg, "has shape %v: want D = %d columns", t.Shape, d)
	}
	if t.Shape[0] > 0 && t.Shape[1] == 0 {
		return 0, 0, conEmptyD(name, arg, t.Shape)
	}
	return t.Shape[0], t.Shape[1], nil
}

// conEmptyD refuses embeddings of D = 0 in a non-empty batch: they have no
// direction (and the call would take B² steps over no data).
func conEmptyD(name, arg string, sh []int) error {
	return argErr(name, arg, "has shape %v: D = 0, embeddings without a dimension have no cosine similarity", sh)
}

func conGradShape(name, arg string, g, x Tensor) error {
	if g.Present() && !sameShape(g.Shape, x.Shape) {
		return argErr(name, arg, "has shape %v, want %v", g.Shape, x.Shape)
	}
	return nil
}

func conLossShape(name string, l Tensor) error {
	if l.Present() && l.Len() != 1 {
		return argErr(name, "loss", "has shape %v: want one element", l.Shape)
	}
	return nil
}

func ntxentStaged(s *stage, a NTXentArgs, o NTXentOptions) error {
	const name = "nt_xent_loss"
	if o.Tile < 0 {
		return argErr(name, "tile", "must be >= 0, got %d", o.Tile)
	}
	if err := conLossShape(name, a.Loss); err != nil {
		return err
	}
	if !a.Z2.Present() {
		if a.GradZ2.Present() {
			return argErr(name, "grad_z2", "given in the label form")
		}
		b, d, err := conMatrix(name, "embeddings", a.Embeddings, -1)
		if err != nil {
			return err
		}
		if !a.Labels.Present() {
			return argErr(name, "labels", "buffer is nil: the label form needs labels [B]")
		}
		if len(a.Labels.Shape) != 1 || a.Labels.Shape[0] != b {
			return argErr(name, "labels", "has shape %v: want [%d]", a.Labels.Shape, b)
		}
		if err := conGradShape(name, "grad_embeddings", a.GradEmbeddings, a.Embeddings); err != nil {
			return err
		}
		tau, err := conTemperature(name, "temperature", o.Temperature, 0.07)
		if err != nil {
			return err
		}
		var x, lb, loss, gx device.Buffer
		if err := s.bind(in("embeddings", a.Embeddings, &x), in("labels", a.Labels, &lb), out("loss", a.Loss, &loss),
			out("grad_embeddings", a.GradEmbeddings, &gx)); err != nil {
			return err
		}
		ft := x.DType()
		if err := floatType(name, "embeddings", s.dev, ft); err != nil {
			return err
		}
		eps := 1.1920928955078125e-07 // float32's machine epsilon
		if ft == device.Float64 {
			eps = 2.220446049250313e-16
		}
		if o.Eps != nil {
			eps = *o.Eps
		}
		if err := conEps(name, eps); err != nil {
			return err
		}
		if err := conBufs(name, s.dev, ft, []conBuf{{"labels", lb, b, device.Int32}, {"loss", loss, 1, ft},
			{"grad_embeddings", gx, b * d, ft}}); err != nil {
			return err
		}
		j := conJob{name: name, dev: s.dev, ft: ft, d: d, r: b, k: b, invTau: 1 / tau, cscale: 1, eps: eps,
			labels: lb, lmod: max(b, 1), kpos: b, flags: kernelspec.ConExclSelf | kernelspec.ConOptax, tile: o.Tile,
			loss: loss, cSrc: []conSrc{{x: x, gx: gx, rows: b, bmod: max(b, 1), views: 1}}}
		return j.run()
	}
	if a.Labels.Present() {
		return argErr(name, "labels", "given with z2: use one form (embeddings and labels, or embeddings and z2)")
	}
	n, d, err := conMatrix(name, "embeddings", a.Embeddings, -1)
	if err != nil {
		return err
	}
	if n2, _, err := conMatrix(name, "z2", a.Z2, d); err != nil {
		return err
	} else if n2 != n {
		return argErr(name, "z2", "has shape %v: want embeddings' %v", a.Z2.Shape, a.Embeddings.Shape)
	}
	if err := conGradShape(name, "grad_embeddings", a.GradEmbeddings, a.Embeddings); err != nil {
		return err
	}
	if err := conGradShape(name, "grad_z2", a.GradZ2, a.Z2); err != nil {
		return err
	}
	tau, err := conTemperature(name, "temperature", o.Temperature, 0.5)
	if err != nil {
		return err
	}
	eps := 1e-12
	if o.Eps != nil {
		eps = *o.Eps
	}
	if err := conEps(name, eps); err != nil {
		return err
	}
	var z1, z2, loss, g1, g2 device.Buffer
	if err := s.bind(in("embeddings", a.Embeddings, &z1), in("z2", a.Z2, &z2), out("loss", a.Loss, &loss), out("grad_embeddings", a.GradEmbeddings, &g1),
		out("grad_z2", a.GradZ2, &g2)); err != nil {
		return err
	}
	ft := z1.DType()
	if err := floatType(name, "embeddings", s.dev, ft); err != nil {
		return err
	}
	if err := conBufs(name, s.dev, ft, []conBuf{{"z2", z2, n * d, ft}, {"loss", loss, 1, ft},
		{"grad_embeddings", g1, n * d, ft}, {"grad_z2", g2, n * d, ft}}); err != nil {
		return err
	}
	j := conJob{name: name, dev: s.dev, ft: ft, d: d, r: 2 * n, k: 2 * n, invTau: 1 / tau, cscale: 1, eps: eps,
		lmod: max(n, 1), kpos: 2 * n, flags: kernelspec.ConExclSelf, tile: o.Tile, loss: loss,
		cSrc: []conSrc{{x: z1, gx: g1, rows: n, bmod: max(n, 1), views: 1}, {x: z2, gx: g2, rows: n, bmod: max(n, 1), views: 1, off: n}}}
	return j.run()
}

func conEps(name string, eps float64) error {
	if !(eps > 0) || math.IsInf(eps, 1) {
		return argErr(name, "eps", "must be finite and > 0, got %v", eps)
	}
	return nil
}

type conBuf struct {
	arg string
	b   device.Buffer
	n   int
	dt  device.DType
}

func conBufs(name string, dev device.Device, ft device.DType, bs []conBuf) error {
	for _, c := range bs {
		if err := checkBuf(name, c.arg, dev, c.b, c.dt, c.n, c.arg != "labels" && c.arg != "z2" &&
			c.arg != "positive_key" && c.arg != "negative_keys"); err != nil {
			return err
		}
	}
	return nil
}

// InfoNCE is the InfoNCE loss of the info-nce-pytorch package: query,
// positive_key and negative_keys each L2-normalised (F.normalize), and
// without negative_keys logits = Q·Pᵀ/τ [B, B] with label i for row i;
// with negative_keys [M, D] (its "unpaired" mode) row i's logits are
// [q_i·p_i, q_i·n_1, …, q_i·n_M]/τ with label 0. The loss is the mean
// cross-entropy over the B rows (NaN for B = 0). Launches
// contrastive_normalize, contrastive_rows, contrastive_finish,
// contrastive_grad and contrastive_backnorm.
func InfoNCE(dev device.Device, a InfoNCEArgs, o InfoNCEOptions) error {
	const name = "info_nce_loss"
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	s := stage{dev: dev, loss: name}
	return s.finish(infoNCEStaged(&s, a, o))
}

func infoNCEStaged(s *stage, a InfoNCEArgs, o InfoNCEOptions) error {
	const name = "info_nce_loss"
	if o.Tile < 0 {
		return argErr(name, "tile", "must be >= 0, got %d", o.Tile)
	}
	if err := conLossShape(name, a.Loss); err != nil {
		return err
	}
	b, d, err := conMatrix(name, "query", a.Query, -1)
	if err != nil {
		return err
	}
	if bp, _, err := conMatrix(name, "positive_key", a.PositiveKey, d); err != nil {
		return err
	} else if bp != b {
		return argErr(name, "positive_key", "has shape %v: want query's %v", a.PositiveKey.Shape, a.Query.Shape)
	}
	m := 0
	if a.NegativeKeys.Present() {
		if m, _, err = conMatrix(name, "negative_keys", a.NegativeKeys, d); err != nil {
			return err
		}
	} else if a.GradNegativeKeys.Present() {
		return argErr(name, "grad_negative_keys", "given without negative_keys")
	}
	for _, g := range []struct {
		arg  string
		g, x Tensor
	}{{"grad_query", a.GradQuery, a.Query}, {"grad_positive_key", a.GradPositiveKey, a.PositiveKey},
		{"grad_negative_keys", a.GradNegativeKeys, a.NegativeKeys}} {
		if err := conGradShape(name, g.arg, g.g, g.x); err != nil {
			return err
		}
	}
	tau, err := conTemperature(name, "temperature", o.Temperature, 0.1)
	if err != nil {
		return err
	}
	var q, p, nk, loss, gq, gp, gn device.Buffer
	if err := s.bind(in("query", a.Query, &q), in("positive_key", a.PositiveKey, &p), in("negative_keys", a.NegativeKeys, &nk),
		out("loss", a.Loss, &loss), out("grad_query", a.GradQuery, &gq), out("grad_positive_key", a.GradPositiveKey, &gp),
		out("grad_negative_keys", a.GradNegativeKeys, &gn)); err != nil {
		return err
	}
	ft := q.DType()
	if err := floatType(name, "query", s.dev, ft); err != nil {
		return err
	}
	bufs := []conBuf{{"positive_key", p, b * d, ft}, {"loss", loss, 1, ft}, {"grad_query", gq, b * d, ft},
		{"grad_positive_key", gp, b * d, ft}}
	if nk != nil {
		bufs = append(bufs, conBuf{"negative_keys", nk, m * d, ft}, conBuf{"grad_negative_keys", gn, m * d, ft})
	}
	if err := conBufs(name, s.dev, ft, bufs); err != nil {
		return err
	}
	j := conJob{name: name, dev: s.dev, ft: ft, d: d, r: b, k: b + m, invTau: 1 / tau, cscale: 1, eps: 1e-12,
		lmod: max(b, 1), kpos: b, tile: o.Tile, loss: loss,
		aSrc: []conSrc{{x: q, gx: gq, rows: b, bmod: max(b, 1), views: 1}},
		cSrc: []conSrc{{x: p, gx: gp, rows: b, bmod: max(b, 1), views: 1}}}
	if nk != nil {
		j.flags |= kernelspec.ConPaired
		j.cSrc = append(j.cSrc, conSrc{x: nk, gx: gn, rows: m, bmod: max(m, 1), views: 1, off: b})
	}
	return j.run()
}

// SupCon is the supervised contrastive loss of Khosla et al. (2020), as
// the SupContrast reference's SupConLoss computes it: the features
// [B, V, D] are taken view-major (row v·B + b is view v of sample b) as
// the contrast set, and each anchor (every row with contrast_mode "all",
// the rows of view 0 with "one") has
//
//	log_prob_ij = s_ij − log Σ_{k ≠ i} exp(s_ik),  s = cos/τ
//	loss_i = −(τ/τ_b) · Σ_{j ∈ P(i)} log_prob_ij / max(|P(i)|, 1)
//
// with P(i) the rows j ≠ i of the same label (no labels: the other views
// of the same sample); loss = mean over the anchors (NaN for B = 0). The
// reference expects L2-normalised features; this normalises them
// (F.normalize, eps 1e-12), which changes nothing for normalised input.
// An anchor with no positive contributes 0 (the reference's guard divides
// by 1; with no other row at all, B·V = 1, the reference gives NaN, this
// 0). Launches contrastive_normalize, contrastive_rows,
// contrastive_finish, contrastive_grad and contrastive_backnorm.
func SupCon(dev device.Device, a SupConArgs, o SupConOptions) error {
	const name = "supcon_loss"
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	s := stage{dev: dev, loss: name}
	return s.finish(supConStaged(&s, a, o))
}

func supConStaged(s *stage, a SupConArgs, o SupConOptions) error {
	const name = "supcon_loss"
	if o.Tile < 0 {
		return argErr(name, "tile", "must be >= 0, got %d", o.Tile)
	}
	one := false
	switch o.ContrastMode {
	case "", "all":
	case "one":
		one = true
	default:
		return argErr(name, "contrast_mode", "must be all or one, got %q", o.ContrastMode)
	}
	if err := conLossShape(name, a.Loss); err != nil {
		return err
	}
	if !a.Features.Present() {
		return argErr(name, "features", "buffer is nil")
	}
	sh := a.Features.Shape
	if len(sh) != 3 {
		return argErr(name, "features", "has shape %v: want [B, V, D]", sh)
	}
	b, v, d := sh[0], sh[1], sh[2]
	if v < 1 {
		return argErr(name, "features", "has shape %v: want at least one view", sh)
	}
	if b > 0 && d == 0 {
		return conEmptyD(name, "features", sh)
	}
	if a.Labels.Present() && (len(a.Labels.Shape) != 1 || a.Labels.Shape[0] != b) {
		return argErr(name, "labels", "has shape %v: want [%d]", a.Labels.Shape, b)
	}
	if err := conGradShape(name, "grad_features", a.GradFeatures, a.Features); err != nil {
		return err
	}
	tau, err := conTemperature(name, "temperature", o.Temperature, 0.07)
	if err != nil {
		return err
	}
	tb, err := conTemperature(name, "base_temperature", o.BaseTemperature, 0.07)
	if err != nil {
		return err
	}
	var x, lb, loss, gx device.Buffer
	if err := s.bind(in("features", a.Features, &x), in("labels", a.Labels, &lb), out("loss", a.Loss, &loss),
		out("grad_features", a.GradFeatures, &gx)); err != nil {
		return err
	}
	ft := x.DType()
	if err := floatType(name, "features", s.dev, ft); err != nil {
		return err
	}
	bufs := []conBuf{{"loss", loss, 1, ft}, {"grad_features", gx, b * v * d, ft}}
	if lb != nil {
		bufs = append(bufs, conBuf{"labels", lb, b, device.Int32})
	}
	if err := conBufs(name, s.dev, ft, bufs); err != nil {
		return err
	}
	r := b * v
	if one {
		r = b
	}
	j := conJob{name: name, dev: s.dev, ft: ft, d: d, r: r, k: b * v, invTau: 1 / tau, cscale: tau / tb, eps: 1e-12,
		labels: lb, lmod: max(b, 1), kpos: b * v, flags: kernelspec.ConExclSelf, tile: o.Tile, loss: loss,
		cSrc: []conSrc{{x: x, gx: gx, rows: b * v, bmod: max(b, 1), views: v}}}
	return j.run()
}

// conSrc is one input of a contrastive call: rows of x (row r of the
// normalised block is x's row (r mod bmod)·views + r/bmod), placed at row
// off of its normalised block; gx its gradient (nil: not wanted).
type conSrc struct {
	x, gx                  device.Buffer
	rows, bmod, views, off int
}

// argName is the input the first source stands for, for errors.
func (conSrc) argName(loss string) string {
	switch loss {
	case "nt_xent_loss":
		return "embeddings"
	case "info_nce_loss":
		return "negative_keys"
	}
	return "features"
}

// conJob is one contrastive call after its checks: the contrast set C is
// cSrc's rows normalised, k in all; the anchors are aSrc's rows
// normalised, or with aSrc nil the first r rows of C.
type conJob struct {
	name       string
	dev        device.Device
	ft         device.DType
	d, r, k    int
	invTau     float64
	cscale     float64
	eps        float64
	labels     device.Buffer
	lmod, kpos int
	flags      int32
	tile       int
	loss       device.Buffer
	aSrc, cSrc []conSrc
}

// ContrastiveWorkspace is the number of bytes of temporary memory a
// contrastive call takes on dev for r anchors, a contrast set of k rows
// (k includes the anchors where they are rows of it, as in NT-Xent and
// SupCon; separate is true for InfoNCE, whose anchors are apart), D
// columns, elements of elem bytes, with or without gradients: the
// normalised rows and their norms, (k + r_apart)·(D + 1); their gradient,
// (k + r_apart)·D; the row states, 5·r; one scalar. On the host device the
// similarity and coefficient blocks of each worker, 2·64·w elements for
// the column-block width w (Tile, or 512), come on top. The B×B similarity
// matrix is never stored.
func ContrastiveWorkspace(dev device.Device, r, k, d, elem int, separate, grads bool, tile int) int64 {
	rows := int64(k)
	if separate {
		rows += int64(r)
	}
	n := rows * int64(d+1)
	if grads {
		n += rows * int64(d)
	}
	n += 5*int64(r) + 1
	if _, ok := dev.(*host.Device); ok {
		n += int64(host.ConWorkspace(tile, k)) * int64(runtime.GOMAXPROCS(0))
	}
	return n * int64(elem)
}

// conMaxRows bounds the rows of a contrastive call's contrast set: the
// kernels index rows and tiles with ints.
const conMaxRows = math.MaxInt32 - 32

func (j *conJob) run() error {
	dev, ft, d := j.dev, j.ft, j.d
	if j.k > conMaxRows || int64(j.k)*int64(d) > math.MaxInt32 {
		return argErr(j.name, j.cSrc[0].argName(j.name), "%d rows of %d: more than the kernels index", j.k, d)
	}
	gradA, gradC := false, false
	for _, s := range j.aSrc {
		gradA = gradA || s.gx != nil
	}
	for _, s := range j.cSrc {
		gradC = gradC || s.gx != nil
	}
	wantGrad := gradA || gradC
	if j.aSrc == nil {
		gradA = gradC // the anchors are rows of C
	}
	if j.loss == nil && !wantGrad {
		return nil
	}
	elem := 4
	if ft == device.Float64 {
		elem = 8
	}
	if err := checkWorkspace(dev, j.name, ContrastiveWorkspace(dev, j.r, j.k, d, elem, j.aSrc != nil, wantGrad, j.tile)); err != nil {
		return err
	}
	var held []device.Buffer
	defer func() {
		for _, b := range held {
			pool.put(b)
		}
	}()
	get := func(dt device.DType, n int) (device.Buffer, error) {
		b, err := pool.get(dev, dt, n)
		if err == nil {
			held = append(held, b)
		}
		return b, err
	}
	stats, err := get(ft, kernelspec.ConStats*j.r)
	if err != nil {
		return err
	}
	gsc, err := get(ft, 1)
	if err != nil {
		return err
	}
	optax := int32(0)
	if j.flags&kernelspec.ConOptax != 0 {
		optax = 1
	}
	if j.r == 0 {
		// The mean of nothing: 0/0. No row uses the keys that remain (the
		// negative keys of an empty batch): their gradient is 0.
		if wantGrad {
			for _, s := range j.cSrc {
				if s.gx != nil && s.rows > 0 {
					if err := writeFloats(dev, s.gx, make([]float64, s.rows*d)); err != nil {
						return err
					}
				}
			}
		}
		return dev.Launch("contrastive_finish", oneBlock, stats, int32(0), int32(1), math.NaN(), conHas(j.loss),
			other(j.loss, gsc), gsc)
	}
	yc, err := get(ft, j.k*d)
	if err != nil {
		return err
	}
	nc, err := get(ft, j.k)
	if err != nil {
		return err
	}
	ya, na := yc, nc
	if j.aSrc != nil {
		if ya, err = get(ft, j.r*d); err != nil {
			return err
		}
		if na, err = get(ft, j.r); err != nil {
			return err
		}
	}
	normGrid := func(rows int) device.Grid {
		return device.Grid{Blocks: max(1, min(rows, kernelspec.MaxReduceBlocks)), Threads: kernelspec.BlockSize}
	}
	norm := func(srcs []conSrc, y, nb device.Buffer) error {
		for _, s := range srcs {
			if s.rows == 0 {
				continue // e.g. no negative keys
			}
			if err := dev.Launch("contrastive_normalize", normGrid(s.rows), s.x, int32(s.rows), int32(d), int32(s.bmod),
				int32(s.views), j.eps, int32(s.off), y, nb); err != nil {
				return err
			}
		}
		return nil
	}
	if err := norm(j.cSrc, yc, nc); err != nil {
		return err
	}
	if j.aSrc != nil {
		if err := norm(j.aSrc, ya, na); err != nil {
			return err
		}
	}
	lb, hasLabels := j.labels, int32(1)
	if lb == nil {
		if lb, err = get(device.Int32, 1); err != nil {
			return err
		}
		hasLabels = 0
	}
	rowGrid := device.Grid{Blocks: (j.r + 15) / 16, Threads: kernelspec.BlockSize}
	common := func(flags int32) []any {
		return []any{ya, yc, int32(j.r), int32(j.k), int32(d), j.invTau, hasLabels, lb, int32(j.lmod), int32(j.kpos),
			flags, j.cscale, int32(min(j.tile, math.MaxInt32))}
	}
	if err := dev.Launch("contrastive_rows", rowGrid, append(common(j.flags), stats)...); err != nil {
		return err
	}
	if optax != 0 {
		if err := dev.Launch("contrastive_rows", rowGrid, append(common(j.flags|kernelspec.ConPass2), stats)...); err != nil {
			return err
		}
	}
	if err := dev.Launch("contrastive_finish", oneBlock, stats, int32(j.r), optax, 1/float64(j.r), conHas(j.loss),
		other(j.loss, gsc), gsc); err != nil {
		return err
	}
	if !wantGrad {
		return nil
	}
	back := func(srcs []conSrc, y, g, nb device.Buffer) error {
		for _, s := range srcs {
			if s.gx == nil || s.rows == 0 {
				continue
			}
			if err := dev.Launch("contrastive_backnorm", normGrid(s.rows), y, g, nb, int32(s.rows), int32(d), int32(s.bmod),
				int32(s.views), j.eps, int32(s.off), s.gx); err != nil {
				return err
			}
		}
		return nil
	}
	gc, err := get(ft, j.k*d)
	if err != nil {
		return err
	}
	colGrid := device.Grid{Blocks: (j.k + 15) / 16, Threads: kernelspec.BlockSize}
	if j.aSrc == nil && j.flags&kernelspec.ConPaired == 0 {
		// S is symmetric: both sides of the gradient in one pass over its tiles.
		if err := dev.Launch("contrastive_grad", colGrid, append(common(j.flags), stats, gsc, int32(2), gc)...); err != nil {
			return err
		}
		return back(j.cSrc, yc, gc, nc)
	}
	if gradC {
		if err := dev.Launch("contrastive_grad", colGrid, append(common(j.flags), stats, gsc, int32(1), gc)...); err != nil {
			return err
		}
	}
	ga := gc
	flags0 := j.flags | kernelspec.ConAccumulate
	if j.aSrc != nil {
		if ga, err = get(ft, j.r*d); err != nil {
			return err
		}
		flags0 = j.flags
	}
	if gradA {
		if err := dev.Launch("contrastive_grad", rowGrid, append(common(flags0), stats, gsc, int32(0), ga)...); err != nil {
			return err
		}
	}
	if err := back(j.cSrc, yc, gc, nc); err != nil {
		return err
	}
	return back(j.aSrc, ya, ga, na)
}

func conHas(b device.Buffer) int32 {
	if b != nil {
		return 1
	}
	return 0
}

func conScalarShape[A, O any](A, O) map[string][]int { return map[string][]int{"loss": {}} }

func init() {
	kernels := []string{"contrastive_normalize", "contrastive_rows", "contrastive_finish", "contrastive_grad",
		"contrastive_backnorm"}
	register("nt_xent_loss", "NTXent", NTXent, conScalarShape[NTXentArgs, NTXentOptions], kernels...)
	register("info_nce_loss", "InfoNCE", InfoNCE, conScalarShape[InfoNCEArgs, InfoNCEOptions], kernels...)
	register("supcon_loss", "SupCon", SupCon, conScalarShape[SupConArgs, SupConOptions], kernels...)
}
