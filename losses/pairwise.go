package losses

import (
	"math"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// The pairwise family: metric-learning losses over pairs (or triplets) of
// rows of [N, D] matrices, row i of each input compared with row i of the
// others. Each runs pairwise_rows (one block per row: the row's dot
// products, norms or p-th power sums in a fixed tree, then the loss and
// the gradient of each element) and reduce_sum over the rows
// (pairwise_avg_nonzero for contrastive_loss's pml form). Mean divides by
// N and is NaN for N = 0, as PyTorch's mean of nothing; Sum of nothing is
// 0. With reduction None the gradient is that of the sum of the per-row
// losses.

// CosineEmbeddingArgs are the tensors of cosine_embedding_loss: Input1 and
// Input2 [N, D], Target [N] (±1, of the inputs' float type). Loss is one
// element, or [N] with reduction None. Target has no gradient (PyTorch's
// is zero: the loss selects by target == 1 and target == −1).
type CosineEmbeddingArgs struct {
	Input1     Tensor `loss:"input1,in"`
	Input2     Tensor `loss:"input2,in"`
	Target     Tensor `loss:"target,in"`
	Loss       Tensor `loss:"loss,out"`
	GradInput1 Tensor `loss:"grad_input1,grad"`
	GradInput2 Tensor `loss:"grad_input2,grad"`
}

// CosineEmbeddingLossOptions are the options of cosine_embedding_loss; the
// zero value is PyTorch's defaults.
type CosineEmbeddingLossOptions struct {
	Reduction Reduction `json:"reduction"`
	// Margin for the dissimilar pairs (target −1), finite; PyTorch
	// suggests [−1, 1]. Default 0.
	Margin float64 `json:"margin"`
}

// CosineEmbeddingLoss is torch.nn.functional.cosine_embedding_loss: with
// cos = x1·x2 / √((‖x1‖² + ε)(‖x2‖² + ε)), ε = 1e-12 as in PyTorch, the
// loss of row i is 1 − cos for target 1, max(0, cos − margin) for target
// −1 and 0 for any other target value (PyTorch selects with
// target == 1 and target == −1 and does not check the values). Launches
// pairwise_rows and reduce_sum.
func CosineEmbeddingLoss(dev device.Device, a CosineEmbeddingArgs, o CosineEmbeddingLossOptions) error {
	c := pairCall{name: "cosine_embedding_loss", op: kernelspec.PwCosineEmbedding, red: o.Reduction,
		margin: o.Margin, eps: 1e-12,
		x:      [3]pairT{{"input1", a.Input1}, {"input2", a.Input2}},
		g:      [3]pairT{{"grad_input1", a.GradInput1}, {"grad_input2", a.GradInput2}},
		target: pairT{"target", a.Target}, loss: a.Loss}
	if err := pairFinite(c.name, "margin", o.Margin); err != nil {
		return err
	}
	return c.run(dev)
}

// MarginRankingArgs are the tensors of margin_ranking_loss: Input1,
// Input2 and Target of one shape (usually [N]), elementwise. Loss is one
// element, or the inputs' shape with reduction None.
type MarginRankingArgs struct {
	Input1     Tensor `loss:"input1,in"`
	Input2     Tensor `loss:"input2,in"`
	Target     Tensor `loss:"target,in"`
	Loss       Tensor `loss:"loss,out"`
	GradInput1 Tensor `loss:"grad_input1,grad"`
	GradInput2 Tensor `loss:"grad_input2,grad"`
	GradTarget Tensor `loss:"grad_target,grad"`
}

// MarginRankingLossOptions are the options of margin_ranking_loss; the
// zero value is PyTorch's defaults.
type MarginRankingLossOptions struct {
	Reduction Reduction `json:"reduction"`
	Margin    float64   `json:"margin"` // finite; default 0
}

// MarginRankingLoss is torch.nn.functional.margin_ranking_loss:
// max(0, −y·(x1 − x2) + margin) per element, with the gradient w.r.t. the
// target too (−(x1 − x2) where the hinge is active), as PyTorch's
// autograd gives it. Launches pairwise_rows and reduce_sum.
func MarginRankingLoss(dev device.Device, a MarginRankingArgs, o MarginRankingLossOptions) error {
	c := pairCall{name: "margin_ranking_loss", op: kernelspec.PwMarginRank, red: o.Reduction, margin: o.Margin,
		x:      [3]pairT{{"input1", a.Input1}, {"input2", a.Input2}},
		g:      [3]pairT{{"grad_input1", a.GradInput1}, {"grad_input2", a.GradInput2}},
		target: pairT{"target", a.Target}, gradTarget: pairT{"grad_target", a.GradTarget}, loss: a.Loss, flat: true}
	if err := pairFinite(c.name, "margin", o.Margin); err != nil {
		return err
	}
	return c.run(dev)
}

// TripletArgs are the tensors of the triplet losses: Anchor, Positive and
// Negative [N, D]. Loss is one element, or [N] with reduction None.
type TripletArgs struct {
	Anchor       Tensor `loss:"anchor,in"`
	Positive     Tensor `loss:"positive,in"`
	Negative     Tensor `loss:"negative,in"`
	Loss         Tensor `loss:"loss,out"`
	GradAnchor   Tensor `loss:"grad_anchor,grad"`
	GradPositive Tensor `loss:"grad_positive,grad"`
	GradNegative Tensor `loss:"grad_negative,grad"`
}

// TripletMarginLossOptions are the options of triplet_margin_loss; the
// zero value is PyTorch's defaults.
type TripletMarginLossOptions struct {
	Reduction Reduction `json:"reduction"`
	Margin    *float64  `json:"margin"` // finite; nil: 1
	P         *float64  `json:"p"`      // the norm's order, finite and >= 1; nil: 2
	Eps       *float64  `json:"eps"`    // finite and >= 0, added to x − y; nil: 1e-6
	Swap      bool      `json:"swap"`   // the distance swap of Balntas et al.
}

// TripletMarginLoss is torch.nn.functional.triplet_margin_loss:
// max(d(a, p) − d(a, n) + margin, 0) with d(x, y) = ‖x − y + eps‖_p as
// torch.pairwise_distance computes it, and with Swap d(a, n) replaced by
// min(d(a, n), d(p, n)) (a tie splits the gradient evenly, as
// torch.min). The gradient of a distance 0 is 0, as PyTorch's norm
// backward. Launches pairwise_rows and reduce_sum.
func TripletMarginLoss(dev device.Device, a TripletArgs, o TripletMarginLossOptions) error {
	const name = "triplet_margin_loss"
	c := pairTriplet(name, kernelspec.PwTriplet, a, o.Reduction, o.Swap)
	c.margin, c.p, c.eps = pairOr(o.Margin, 1), pairOr(o.P, 2), pairOr(o.Eps, 1e-6)
	if err := pairFinite(name, "margin", c.margin); err != nil {
		return err
	}
	if !(c.p >= 1) || math.IsInf(c.p, 0) {
		return argErr(name, "p", "must be finite and >= 1, got %v", c.p)
	}
	if !(c.eps >= 0) || math.IsInf(c.eps, 0) {
		return argErr(name, "eps", "must be finite and >= 0, got %v", c.eps)
	}
	return c.run(dev)
}

// TripletMarginWithDistanceLossOptions are the options of
// triplet_margin_with_distance_loss; the zero value is PyTorch's defaults.
type TripletMarginWithDistanceLossOptions struct {
	Reduction Reduction `json:"reduction"`
	// Distance names the distance function: "" or "l2",
	// torch.pairwise_distance (p = 2, eps = 1e-6, PyTorch's default);
	// "squared_l2", ‖x − y‖² (no eps); "cosine", 1 − cosine_similarity
	// (eps = 1e-8, PyTorch 1.13's formula: each squared norm clamped to
	// at least eps²).
	Distance string   `json:"distance"`
	Margin   *float64 `json:"margin"` // finite and > 0 (PyTorch refuses <= 0); nil: 1
	Swap     bool     `json:"swap"`
}

// TripletMarginWithDistanceLoss is
// torch.nn.functional.triplet_margin_with_distance_loss with a named
// distance (PyTorch takes any callable): max(d(a, p) − d(a, n) + margin,
// 0), with Swap d(a, n) replaced by min(d(a, n), d(p, n)). Launches
// pairwise_rows and reduce_sum.
func TripletMarginWithDistanceLoss(dev device.Device, a TripletArgs, o TripletMarginWithDistanceLossOptions) error {
	const name = "triplet_margin_with_distance_loss"
	var op int32
	eps := 0.0
	switch o.Distance {
	case "", "l2":
		op, eps = kernelspec.PwTriplet, 1e-6
	case "squared_l2":
		op = kernelspec.PwTripletSq
	case "cosine":
		op, eps = kernelspec.PwTripletCos, 1e-8
	default:
		return argErr(name, "distance", "unknown distance %q: want l2, squared_l2 or cosine", clip(o.Distance))
	}
	c := pairTriplet(name, op, a, o.Reduction, o.Swap)
	c.margin, c.p, c.eps = pairOr(o.Margin, 1), 2, eps
	if !(c.margin > 0) || math.IsInf(c.margin, 0) {
		return argErr(name, "margin", "must be finite and > 0, got %v", c.margin)
	}
	return c.run(dev)
}

func pairTriplet(name string, op int32, a TripletArgs, red Reduction, swap bool) pairCall {
	return pairCall{name: name, op: op, red: red, swap: swap,
		x:    [3]pairT{{"anchor", a.Anchor}, {"positive", a.Positive}, {"negative", a.Negative}},
		g:    [3]pairT{{"grad_anchor", a.GradAnchor}, {"grad_positive", a.GradPositive}, {"grad_negative", a.GradNegative}},
		loss: a.Loss}
}

// CosineSimilarityArgs are the tensors of cosine_similarity_loss: Input
// (Keras' y_pred) and Target (y_true), both [N, D] and both
// differentiable. Loss is one element, or [N] with reduction None.
type CosineSimilarityArgs struct {
	Input      Tensor `loss:"input,in"`
	Target     Tensor `loss:"target,in"`
	Loss       Tensor `loss:"loss,out"`
	GradInput  Tensor `loss:"grad_input,grad"`
	GradTarget Tensor `loss:"grad_target,grad"`
}

// CosineSimilarityLossOptions are the options of cosine_similarity_loss;
// the zero value is Keras' defaults (the mean over the rows, Keras'
// sum_over_batch_size).
type CosineSimilarityLossOptions struct {
	Reduction Reduction `json:"reduction"`
}

// CosineSimilarityLoss is Keras' tf.keras.losses.CosineSimilarity(axis=-1):
// per row −Σ l2_normalize(target)·l2_normalize(input), l2_normalize(x) =
// x / √max(Σx², 1e-12), so values lie in [−1, 1] and a zero row gives 0.
// The gradient of the max goes to Σx² where Σx² >= 1e-12, as
// TensorFlow's. Launches pairwise_rows and reduce_sum.
func CosineSimilarityLoss(dev device.Device, a CosineSimilarityArgs, o CosineSimilarityLossOptions) error {
	c := pairCall{name: "cosine_similarity_loss", op: kernelspec.PwKerasCos, red: o.Reduction, eps: 1e-12,
		x:    [3]pairT{{"input", a.Input}, {"target", a.Target}},
		g:    [3]pairT{{"grad_input", a.GradInput}, {"grad_target", a.GradTarget}},
		loss: a.Loss}
	return c.run(dev)
}

// ContrastiveArgs are the tensors of contrastive_loss: the pairs Input1
// and Input2 [N, D] and Target [N] (1 similar, 0 dissimilar; the loss is
// linear in it, and its gradient is given). Loss is one element, or [N]
// with reduction None.
type ContrastiveArgs struct {
	Input1     Tensor `loss:"input1,in"`
	Input2     Tensor `loss:"input2,in"`
	Target     Tensor `loss:"target,in"`
	Loss       Tensor `loss:"loss,out"`
	GradInput1 Tensor `loss:"grad_input1,grad"`
	GradInput2 Tensor `loss:"grad_input2,grad"`
	GradTarget Tensor `loss:"grad_target,grad"`
}

// ContrastiveLossOptions are the options of contrastive_loss.
type ContrastiveLossOptions struct {
	// Reduction: Mean is the mean over the pairs in the default form, and
	// pytorch-metric-learning's AvgNonZeroReducer in the pml form (the
	// mean over the pairs with a loss > 0, 0 where there is none).
	Reduction Reduction `json:"reduction"`
	// Form: "" or "hadsell", Hadsell, Chopra and LeCun (2006); "pml",
	// pytorch-metric-learning's ContrastiveLoss on the given pairs.
	Form string `json:"form"`
	// Margin of the Hadsell form, finite; nil: 1.
	Margin *float64 `json:"margin"`
	// PosMargin and NegMargin of the pml form, finite; nil: 0 and 1.
	PosMargin *float64 `json:"pos_margin"`
	NegMargin *float64 `json:"neg_margin"`
}

// ContrastiveLoss is the contrastive loss of a batch of pairs. In the
// Hadsell form, with d = ‖x1 − x2‖ (no eps):
// ½·y·d² + ½·(1 − y)·max(0, margin − d)²; the direction of d is undefined
// at d = 0 and that term's gradient is taken as 0 there (the ½yd² term's
// gradient y·(x1 − x2) is exact). In the pml form, as
// pytorch-metric-learning's ContrastiveLoss with its defaults (LpDistance
// of the L2-normalised embeddings, x / max(‖x‖, 1e-12)):
// y·relu(d − pos_margin) + (1 − y)·relu(neg_margin − d) with d the
// distance of the normalised rows, reduced by the mean over the pairs with
// a nonzero loss (the pairs with a zero loss get zero gradients, the
// target's included, as the reducer leaves them out). pml forms every pair of a labelled batch itself; this
// takes the pairs given (to reproduce pml, pass its pairs and the
// same-label indicator as Target). Launches pairwise_rows and reduce_sum,
// or pairwise_rows twice and pairwise_avg_nonzero for the pml form's mean.
func ContrastiveLoss(dev device.Device, a ContrastiveArgs, o ContrastiveLossOptions) error {
	const name = "contrastive_loss"
	c := pairCall{name: name, red: o.Reduction,
		x:      [3]pairT{{"input1", a.Input1}, {"input2", a.Input2}},
		g:      [3]pairT{{"grad_input1", a.GradInput1}, {"grad_input2", a.GradInput2}},
		target: pairT{"target", a.Target}, gradTarget: pairT{"grad_target", a.GradTarget}, loss: a.Loss}
	switch o.Form {
	case "", "hadsell":
		c.op, c.margin = kernelspec.PwContrastive, pairOr(o.Margin, 1)
		if err := pairFinite(name, "margin", c.margin); err != nil {
			return err
		}
	case "pml":
		c.op, c.margin, c.margin2, c.eps = kernelspec.PwContrastivePML, pairOr(o.PosMargin, 0), pairOr(o.NegMargin, 1), 1e-12
		if err := pairFinite(name, "pos_margin", c.margin); err != nil {
			return err
		}
		if err := pairFinite(name, "neg_margin", c.margin2); err != nil {
			return err
		}
		c.avgNonZero = c.red == Mean
	default:
		return argErr(name, "form", "unknown form %q: want hadsell or pml", clip(o.Form))
	}
	return c.run(dev)
}

func pairOr(v *float64, def float64) float64 {
	if v == nil {
		return def
	}
	return *v
}

func pairFinite(name, arg string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return argErr(name, arg, "must be finite, got %v", v)
	}
	return nil
}

// pairT is one named tensor of a pairwise call.
type pairT struct {
	arg string
	t   Tensor
}

// pairCall is one call of a pairwise loss: x are the inputs (x[2] for the
// triplets only), g their gradients, target the [N] target if the loss
// has one.
type pairCall struct {
	name                    string
	op                      int32
	red                     Reduction
	x, g                    [3]pairT
	target, gradTarget      pairT
	loss                    Tensor
	p, margin, margin2, eps float64
	swap                    bool
	// flat: the inputs have any one shape and are taken elementwise (d = 1).
	flat bool
	// avgNonZero: the mean is pairwise_avg_nonzero's.
	avgNonZero bool
}

func (c *pairCall) run(dev device.Device) error {
	if dev == nil || isNilDevice(dev) {
		return argErr(c.name, "device", "is nil")
	}
	s := stage{dev: dev, loss: c.name}
	return s.finish(c.staged(&s))
}

func (c *pairCall) staged(s *stage) error {
	name := c.name
	if !c.red.valid() {
		return argErr(name, "reduction", "unknown reduction %d", int(c.red))
	}
	nx := 2
	if c.x[2].arg != "" {
		nx = 3
	}
	for _, x := range c.x[:nx] {
		if !x.t.Present() {
			return argErr(name, x.arg, "buffer is nil")
		}
	}
	hasTarget := c.target.arg != ""
	if hasTarget && !c.target.t.Present() {
		return argErr(name, c.target.arg, "buffer is nil")
	}
	sh := c.x[0].t.Shape
	var n, d int
	var perRow []int
	if c.flat {
		n, d, perRow = prod(sh), 1, sh
	} else {
		if len(sh) != 2 {
			return argErr(name, c.x[0].arg, "has shape %v: want [N, D]", sh)
		}
		n, d, perRow = sh[0], sh[1], sh[:1]
	}
	for _, x := range c.x[1:nx] {
		if !sameShape(x.t.Shape, sh) {
			return argErr(name, x.arg, "has shape %v: want %s's %v", x.t.Shape, c.x[0].arg, sh)
		}
	}
	if hasTarget && !sameShape(c.target.t.Shape, perRow) {
		return argErr(name, c.target.arg, "has shape %v: want %v", c.target.t.Shape, perRow)
	}
	if err := s.check(c.x[0].arg, c.x[0].t); err != nil {
		return err
	}
	if err := checkLoss(name, c.loss, c.red, n); err != nil {
		return err
	}
	for _, g := range c.g[:nx] {
		if g.t.Present() && !sameShape(g.t.Shape, sh) {
			return argErr(name, g.arg, "has shape %v, want %v", g.t.Shape, sh)
		}
	}
	if c.gradTarget.t.Present() && !sameShape(c.gradTarget.t.Shape, perRow) {
		return argErr(name, c.gradTarget.arg, "has shape %v, want %v", c.gradTarget.t.Shape, perRow)
	}
	var xb, gb [3]device.Buffer
	var tb, gtb, loss device.Buffer
	bs := []binding{}
	for k := range nx {
		bs = append(bs, in(c.x[k].arg, c.x[k].t, &xb[k]))
	}
	if hasTarget {
		bs = append(bs, in(c.target.arg, c.target.t, &tb))
	}
	bs = append(bs, out("loss", c.loss, &loss))
	for k := range nx {
		bs = append(bs, out(c.g[k].arg, c.g[k].t, &gb[k]))
	}
	if c.gradTarget.arg != "" {
		bs = append(bs, out(c.gradTarget.arg, c.gradTarget.t, &gtb))
	}
	if err := s.bind(bs...); err != nil {
		return err
	}
	dev := s.dev
	ft := xb[0].DType()
	if err := floatType(name, c.x[0].arg, dev, ft); err != nil {
		return err
	}
	type chk struct {
		arg string
		b   device.Buffer
		n   int
	}
	cs := []chk{}
	for k := 1; k < nx; k++ {
		cs = append(cs, chk{c.x[k].arg, xb[k], n * d})
	}
	if hasTarget {
		cs = append(cs, chk{c.target.arg, tb, n})
	}
	cs = append(cs, chk{"loss", loss, c.loss.Len()})
	for k := range nx {
		cs = append(cs, chk{c.g[k].arg, gb[k], n * d})
	}
	if c.gradTarget.arg != "" {
		cs = append(cs, chk{c.gradTarget.arg, gtb, n})
	}
	for _, ck := range cs {
		if err := checkBuf(name, ck.arg, dev, ck.b, ft, ck.n, true); err != nil {
			return err
		}
	}
	grads := gb[0] != nil || gb[1] != nil || gb[2] != nil || gtb != nil
	if loss == nil && !grads {
		return nil
	}
	if n == 0 {
		if loss == nil || c.red == None {
			return nil
		}
		// The mean of nothing is NaN (0·Inf), as PyTorch's; the sum is 0;
		// pml's AvgNonZeroReducer gives 0.
		z, err := pool.get(dev, ft, 1)
		if err != nil {
			return err
		}
		defer pool.put(z)
		if c.avgNonZero {
			return dev.Launch("pairwise_avg_nonzero", oneBlock, z, int32(0), z, loss)
		}
		scale := 1.0
		if c.red == Mean {
			scale = math.Inf(1)
		}
		return dev.Launch("reduce_sum", oneBlock, z, int32(0), scale, int32(0), z, loss)
	}
	if d == 0 && !hasTarget && c.red != None {
		// Empty rows without a target all have the same loss: one row's,
		// times N for the sum; no gradient elements. One block, not N.
		if loss == nil {
			return nil
		}
		r, err := pool.get(dev, ft, 1)
		if err != nil {
			return err
		}
		defer pool.put(r)
		x0 := xb[0]
		flags := int32(0)
		if nx == 3 {
			flags |= kernelspec.PwHasX3
		}
		if c.swap {
			flags |= kernelspec.PwSwap
		}
		if err := dev.Launch("pairwise_rows", rowGrid(1), c.op, x0, xb[1], other(xb[2], x0), x0, int32(1), int32(0),
			c.p, c.margin, c.margin2, c.eps, 1.0, x0, flags, x0, x0, x0, x0, r); err != nil {
			return err
		}
		scale := 1.0
		if c.red == Sum {
			scale = float64(n)
		}
		return dev.Launch("reduce_sum", oneBlock, r, int32(1), scale, int32(0), r, loss)
	}
	gs := 1.0
	if c.red == Mean && !c.avgNonZero {
		gs = 1 / float64(n)
	}
	flags := int32(0)
	for k, bit := range []int32{kernelspec.PwGrad1, kernelspec.PwGrad2, kernelspec.PwGrad3} {
		if gb[k] != nil {
			flags |= bit
		}
	}
	if gtb != nil {
		flags |= kernelspec.PwGradTarget
	}
	if c.swap {
		flags |= kernelspec.PwSwap
	}
	if nx == 3 {
		flags |= kernelspec.PwHasX3
	}
	if hasTarget {
		flags |= kernelspec.PwHasTarget
	}
	rows := loss
	if c.red != None || loss == nil {
		r, err := pool.get(dev, ft, n)
		if err != nil {
			return err
		}
		defer pool.put(r)
		rows = r
	}
	x0 := xb[0]
	launch := func(flags int32, denom device.Buffer) error {
		return dev.Launch("pairwise_rows", rowGrid(n), c.op, x0, xb[1], other(xb[2], x0), other(tb, x0),
			int32(n), int32(d), c.p, c.margin, c.margin2, c.eps, gs, other(denom, x0), flags,
			other(gb[0], x0), other(gb[1], x0), other(gb[2], x0), other(gtb, x0), rows)
	}
	if c.avgNonZero {
		// The gradient's divisor is the count of nonzero losses: the rows
		// first, then the count, then the gradients.
		den, err := pool.get(dev, ft, 1)
		if err != nil {
			return err
		}
		defer pool.put(den)
		lossOut := loss
		if lossOut == nil {
			lossOut = den
		}
		if err := launch(flags&^(kernelspec.PwGrad1|kernelspec.PwGrad2|kernelspec.PwGrad3|kernelspec.PwGradTarget), nil); err != nil {
			return err
		}
		if err := dev.Launch("pairwise_avg_nonzero", oneBlock, rows, int32(n), den, lossOut); err != nil {
			return err
		}
		if !grads {
			return nil
		}
		return launch(flags|kernelspec.PwDenom|kernelspec.PwNonZero, den)
	}
	if err := launch(flags, nil); err != nil {
		return err
	}
	if c.red == None || loss == nil {
		return nil
	}
	return dev.Launch("reduce_sum", oneBlock, rows, int32(n), gs, int32(0), rows, loss)
}

// pairShapes is the loss shape of the row-wise pairwise losses: a scalar,
// or [N] (the first input's leading dimension) with reduction None.
func pairShapes(first func() Tensor, red Reduction, flat bool) map[string][]int {
	sh := first().Shape
	if flat {
		return map[string][]int{"loss": lossShape(red, sh)}
	}
	if len(sh) != 2 {
		return map[string][]int{"loss": {}} // the call refuses it
	}
	return map[string][]int{"loss": lossShape(red, sh[:1])}
}

func init() {
	register("cosine_embedding_loss", "CosineEmbeddingLoss", CosineEmbeddingLoss,
		func(a CosineEmbeddingArgs, o CosineEmbeddingLossOptions) map[string][]int {
			return pairShapes(func() Tensor { return a.Input1 }, o.Reduction, false)
		}, "pairwise_rows", "reduce_sum")
	register("margin_ranking_loss", "MarginRankingLoss", MarginRankingLoss,
		func(a MarginRankingArgs, o MarginRankingLossOptions) map[string][]int {
			return pairShapes(func() Tensor { return a.Input1 }, o.Reduction, true)
		}, "pairwise_rows", "reduce_sum")
	register("triplet_margin_loss", "TripletMarginLoss", TripletMarginLoss,
		func(a TripletArgs, o TripletMarginLossOptions) map[string][]int {
			return pairShapes(func() Tensor { return a.Anchor }, o.Reduction, false)
		}, "pairwise_rows", "reduce_sum")
	register("triplet_margin_with_distance_loss", "TripletMarginWithDistanceLoss", TripletMarginWithDistanceLoss,
		func(a TripletArgs, o TripletMarginWithDistanceLossOptions) map[string][]int {
			return pairShapes(func() Tensor { return a.Anchor }, o.Reduction, false)
		}, "pairwise_rows", "reduce_sum")
	register("cosine_similarity_loss", "CosineSimilarityLoss", CosineSimilarityLoss,
		func(a CosineSimilarityArgs, o CosineSimilarityLossOptions) map[string][]int {
			return pairShapes(func() Tensor { return a.Input }, o.Reduction, false)
		}, "pairwise_rows", "reduce_sum")
	register("contrastive_loss", "ContrastiveLoss", ContrastiveLoss,
		func(a ContrastiveArgs, o ContrastiveLossOptions) map[string][]int {
			return pairShapes(func() Tensor { return a.Input1 }, o.Reduction, false)
		}, "pairwise_rows", "reduce_sum", "pairwise_avg_nonzero")
}
