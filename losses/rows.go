package losses

import "github.com/lossengine/lossengine/device"

// The public face of the row-wise losses over input [N, C] (the machinery
// is in rowloss.go): nll_loss, focal_loss and multi_margin_loss with
// class-index targets, categorical_hinge and distill_kl with float
// targets [N, C], and cross_entropy with probability targets (through
// CrossEntropy).

// ClassTargetArgs are the tensors of a row-wise loss with class-index
// targets.
type ClassTargetArgs struct {
	Input  Tensor `loss:"input,in"`        // [N, C]
	Target Tensor `loss:"target,in,int32"` // [N], each in [0, C) or ignore_index
	// SampleWeight [N] multiplies each row's loss and gradient (not the
	// divisor of Mean); Mask [N] (int32) drops the rows where it is 0.
	SampleWeight Tensor `loss:"sample_weight,in,optional"`
	Mask         Tensor `loss:"mask,in,int32,optional"`
	Loss         Tensor `loss:"loss,out"`        // one element, or [N] with reduction None
	GradInput    Tensor `loss:"grad_input,grad"` // [N, C]; may alias Input
}

// RowArgs are the tensors of a row-wise loss whose target is a float
// [N, C] (Keras' y_true, or the teacher's logits).
type RowArgs struct {
	Input        Tensor `loss:"input,in"`  // [N, C]
	Target       Tensor `loss:"target,in"` // [N, C]
	SampleWeight Tensor `loss:"sample_weight,in,optional"`
	Mask         Tensor `loss:"mask,in,int32,optional"`
	Loss         Tensor `loss:"loss,out"`
	GradInput    Tensor `loss:"grad_input,grad"`
}

// SoftTargetArgs are RowArgs for a loss that also has a gradient w.r.t.
// its float target [N, C] (label distributions).
type SoftTargetArgs struct {
	Input        Tensor `loss:"input,in"`  // [N, C] logits
	Target       Tensor `loss:"target,in"` // [N, C]
	SampleWeight Tensor `loss:"sample_weight,in,optional"`
	Mask         Tensor `loss:"mask,in,int32,optional"`
	Loss         Tensor `loss:"loss,out"`
	GradInput    Tensor `loss:"grad_input,grad"`  // [N, C]; may alias Input
	GradTarget   Tensor `loss:"grad_target,grad"` // [N, C]; may alias Target
}

// rowCall is the union of the row-wise Args.
type rowCall struct {
	input, target, sampleWeight, mask, loss, gradInput, gradTarget Tensor
}

func (a ClassTargetArgs) call() rowCall {
	return rowCall{a.Input, a.Target, a.SampleWeight, a.Mask, a.Loss, a.GradInput, Tensor{}}
}

func (a RowArgs) call() rowCall {
	return rowCall{a.Input, a.Target, a.SampleWeight, a.Mask, a.Loss, a.GradInput, Tensor{}}
}

func (a SoftTargetArgs) call() rowCall {
	return rowCall{a.Input, a.Target, a.SampleWeight, a.Mask, a.Loss, a.GradInput, a.GradTarget}
}

// rows stages the tensors of a row-wise loss and runs it.
func rows(dev device.Device, r *rowLoss, a rowCall) error {
	if dev == nil || isNilDevice(dev) {
		return argErr(r.name, "device", "is nil")
	}
	s := stage{dev: dev, loss: r.name}
	return s.finish(rowsStaged(&s, r, a))
}

func rowsStaged(s *stage, r *rowLoss, a rowCall) error {
	name := r.name
	if !a.input.Present() {
		return argErr(name, "input", "buffer is nil")
	}
	if len(a.input.Shape) != 2 {
		return argErr(name, "input", "has shape %v: want [N, C]", a.input.Shape)
	}
	n, c := a.input.Shape[0], a.input.Shape[1]
	if a.target.Present() {
		if r.intTarget && (len(a.target.Shape) != 1 || a.target.Shape[0] != n) {
			return argErr(name, "target", "has shape %v: want [N] = [%d] (class indices)", a.target.Shape, n)
		}
		if !r.intTarget && !sameShape(a.target.Shape, a.input.Shape) {
			return argErr(name, "target", "has shape %v: want input's [N, C] = %v", a.target.Shape, a.input.Shape)
		}
	}
	for _, t := range []struct {
		arg string
		t   Tensor
	}{{"sample_weight", a.sampleWeight}, {"mask", a.mask}} {
		if t.t.Present() && t.t.Len() != n {
			return argErr(name, t.arg, "has shape %v: want [N] = [%d]", t.t.Shape, n)
		}
	}
	if a.loss.Present() {
		want := 1
		if r.red == None {
			want = n
		}
		if a.loss.Len() != want {
			return argErr(name, "loss", "has shape %v: want %d element(s)", a.loss.Shape, want)
		}
	}
	if a.gradInput.Present() && !sameShape(a.gradInput.Shape, a.input.Shape) {
		return argErr(name, "grad_input", "has shape %v, want %v", a.gradInput.Shape, a.input.Shape)
	}
	if a.gradTarget.Present() && !sameShape(a.gradTarget.Shape, a.target.Shape) {
		return argErr(name, "grad_target", "has shape %v, want %v", a.gradTarget.Shape, a.target.Shape)
	}
	b := rowLossBuffers{N: n, C: c}
	if err := s.bind(in("input", a.input, &b.Input), in("target", a.target, &b.Target),
		in("sample_weight", a.sampleWeight, &b.SampleWeight), in("mask", a.mask, &b.Mask),
		out("loss", a.loss, &b.Loss), out("grad_input", a.gradInput, &b.Grad), out("grad_target", a.gradTarget, &b.GradTarget)); err != nil {
		return err
	}
	return r.run(s.dev, b)
}

// NLLLoss computes torch.nn.functional.nll_loss on log-probabilities
// input [N, C] with class-index targets [N]: l_i = −w[t_i]·x[i, t_i], rows
// whose target is IgnoreIndex left out; Mean is Σ l_i / Σ w[t_i] over the
// rows kept (NaN when that is 0, as in PyTorch). Launches
// cross_entropy_weight_sum, nll_rows, reduce_sum. The targets are read
// back once to be checked (see SkipTargetCheck).
func NLLLoss(dev device.Device, a ClassTargetArgs, opt NLLLossOptions) error {
	return rows(dev, nllLoss(opt), a.call())
}

// FocalLoss computes the softmax focal loss (Lin et al., 2017)
// −α_t (1 − p_t)^γ log p_t over logits [N, C] with class-index targets;
// Mean divides by the number of rows kept. Launches logsumexp_rows,
// cross_entropy_weight_sum, focal_rows, reduce_sum.
func FocalLoss(dev device.Device, a ClassTargetArgs, opt FocalLossOptions) error {
	return rows(dev, focalLoss(opt), a.call())
}

// MultiMarginLoss computes torch.nn.functional.multi_margin_loss:
// l_i = Σ_{j≠t} w[t]·max(0, margin − x[i,t] + x[i,j])^p / C. Launches
// multi_margin_rows, reduce_sum.
func MultiMarginLoss(dev device.Device, a ClassTargetArgs, opt MultiMarginLossOptions) error {
	return rows(dev, multiMarginLoss(opt), a.call())
}

// CategoricalHinge computes Keras' categorical_hinge:
// max(0, max_j (1 − y_j)·x_j − Σ_j y_j x_j + 1) per row, target y [N, C]
// one-hot or probabilities. Launches categorical_hinge_rows, reduce_sum.
func CategoricalHinge(dev device.Device, a RowArgs, opt CategoricalHingeOptions) error {
	return rows(dev, categoricalHingeLoss(opt), a.call())
}

// DistillKL computes the knowledge-distillation term of Hinton et al.:
// τ²·KL(softmax(t/τ) ‖ softmax(s/τ)) per row, student logits as input
// and teacher logits as target; Mean is PyTorch's batchmean. The gradient
// is w.r.t. the student. Launches logsumexp_rows (twice),
// distill_kl_rows, reduce_sum.
func DistillKL(dev device.Device, a RowArgs, opt DistillKLOptions) error {
	return rows(dev, distillKLLoss(opt), a.call())
}

// PolyLossCrossEntropy computes the Poly-1 loss of Leng et al. (2022),
// Optax's poly_loss_cross_entropy: per row, with p = softmax(x) and
// label distribution y,
//
//	l_i = −Σ_k y_ik log p_ik + ε·Σ_k y_ik (1 − p_ik)
//
// and its gradients d l_i / d x_ik = p_ik (Y_i + ε (S_i − y_ik)) − y_ik and
// d l_i / d y_ik = −log p_ik + ε (1 − p_ik), with Y_i = Σ_k y_ik and
// S_i = Σ_k y_ik p_ik. Launches logsumexp_rows, poly_cross_entropy_rows,
// reduce_sum.
func PolyLossCrossEntropy(dev device.Device, a SoftTargetArgs, opt PolyLossCrossEntropyOptions) error {
	return rows(dev, polyLoss(opt), a.call())
}

func classShapes[O interface{ reduction() Reduction }](a ClassTargetArgs, o O) map[string][]int {
	return map[string][]int{"loss": lossShape(o.reduction(), firstDim(a.Input.Shape))}
}

func rowShapes[O interface{ reduction() Reduction }](a RowArgs, o O) map[string][]int {
	return map[string][]int{"loss": lossShape(o.reduction(), firstDim(a.Input.Shape))}
}

func firstDim(shape []int) []int {
	if len(shape) == 0 {
		return []int{}
	}
	return shape[:1]
}

func (o NLLLossOptions) reduction() Reduction          { return o.Reduction }
func (o FocalLossOptions) reduction() Reduction        { return o.Reduction }
func (o MultiMarginLossOptions) reduction() Reduction  { return o.Reduction }
func (o CategoricalHingeOptions) reduction() Reduction { return o.Reduction }
func (o DistillKLOptions) reduction() Reduction        { return o.Reduction }

func init() {
	register("nll_loss", "NLLLoss", NLLLoss, classShapes[NLLLossOptions],
		"cross_entropy_weight_sum", "nll_rows", "reduce_sum", "mask_targets", "scale_rows")
	register("focal_loss", "FocalLoss", FocalLoss, classShapes[FocalLossOptions],
		"logsumexp_rows", "cross_entropy_weight_sum", "focal_rows", "reduce_sum", "mask_targets", "scale_rows")
	register("multi_margin_loss", "MultiMarginLoss", MultiMarginLoss, classShapes[MultiMarginLossOptions],
		"multi_margin_rows", "reduce_sum", "mask_count", "scale_rows")
	register("categorical_hinge", "CategoricalHinge", CategoricalHinge, rowShapes[CategoricalHingeOptions],
		"categorical_hinge_rows", "reduce_sum", "mask_count", "scale_rows")
	register("poly_loss_cross_entropy", "PolyLossCrossEntropy", PolyLossCrossEntropy,
		func(a SoftTargetArgs, o PolyLossCrossEntropyOptions) map[string][]int {
			return map[string][]int{"loss": lossShape(o.Reduction, firstDim(a.Input.Shape))}
		}, "logsumexp_rows", "poly_cross_entropy_rows", "reduce_sum", "mask_count", "scale_rows")
	register("distill_kl", "DistillKL", DistillKL, rowShapes[DistillKLOptions],
		"logsumexp_rows", "distill_kl_rows", "reduce_sum", "mask_count", "scale_rows")
}
