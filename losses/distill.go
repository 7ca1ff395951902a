package losses

import (
	"fmt"
	"math"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// The distill family: the losses of language-model distillation and
// preference training. jsd_loss (Liger-Kernel's LigerJSD) compares a
// student's and a teacher's logits; sequence_log_probs (TRL's
// get_batch_logps) turns a model's logits into the log-probability of
// each target sequence; dpo_loss (Rafailov et al., with TRL's loss types)
// scores those log-probabilities of chosen and rejected answers. Chained,
// the last two give DPO's gradient w.r.t. the logits without storing a
// probability (see the package example).

// JSDArgs are the tensors of jsd_loss: the student's logits Input and the
// teacher's logits Target, both [..., V] (usually [N, V], N = B·T token
// rows), and optional int32 Labels [...] whose rows equal to ignore_index
// are left out. Loss is one element, or [...] with reduction None.
// GradInput is the gradient w.r.t. the student's logits; GradTarget, the
// gradient w.r.t. the teacher's (for mutual distillation; leave it out
// for a frozen teacher). GradInput may be Input's buffer and GradTarget
// Target's.
type JSDArgs struct {
	Input      Tensor `loss:"input,in"`
	Target     Tensor `loss:"target,in"`
	Labels     Tensor `loss:"labels,in,int32,optional"`
	Loss       Tensor `loss:"loss,out"`
	GradInput  Tensor `loss:"grad_input,grad"`
	GradTarget Tensor `loss:"grad_target,grad"`
}

// JSDLossOptions are the options of jsd_loss, LigerJSD's arguments plus a
// temperature and a reduction. The zero value is Liger's defaults.
type JSDLossOptions struct {
	// Beta in [0, 1] weighs the two divergences from the mixture: 0 is
	// the forward KL(P‖Q) (teacher ‖ student), 1 the reverse KL(Q‖P); nil
	// means 0.5, the symmetric Jensen–Shannon divergence.
	Beta *float64 `json:"beta"`
	// Temperature τ > 0 divides both rows of logits before the softmax;
	// nil means 1. The loss is not multiplied by τ².
	Temperature *float64 `json:"temperature"`
	// IgnoreIndex is the label of rows to leave out (with Labels); nil
	// means -100.
	IgnoreIndex *int `json:"ignore_index"`
	// Reduction: Mean (default), the sum over the rows divided by the
	// number of rows not ignored (Liger's; NaN when every row is
	// ignored or there is none); Sum; None, one loss per row (0 on an
	// ignored row).
	Reduction Reduction `json:"reduction"`
}

func (o JSDLossOptions) reduction() Reduction { return o.Reduction }

func (o JSDLossOptions) values() (beta, tau float64, ign int) {
	beta, tau, ign = 0.5, 1, -100
	if o.Beta != nil {
		beta = *o.Beta
	}
	if o.Temperature != nil {
		tau = *o.Temperature
	}
	if o.IgnoreIndex != nil {
		ign = *o.IgnoreIndex
	}
	return
}

// JSDLoss is the generalised Jensen–Shannon divergence of Liger-Kernel
// (LigerJSD) between the student Q = softmax(input/τ) and the teacher
// P = softmax(target/τ), per row, with M = β P + (1−β) Q:
//
//	β = 0:     KL(P‖Q) = Σ_k P_k (log P_k − log Q_k)          (forward KL)
//	β = 1:     KL(Q‖P) = Σ_k Q_k (log Q_k − log P_k)          (reverse KL)
//	0 < β < 1: β KL(P‖M) + (1−β) KL(Q‖M)                      (β = ½: JSD ≤ log 2)
//
// summed over the vocabulary and reduced over the rows as Liger does (the
// mean over the rows whose label is not ignore_index). LigerJSD takes
// log-probabilities; this function takes logits and a temperature, as
// Liger's fused linear JSD does, and forms log Q = log_softmax(input/τ)
// itself; log M is formed as log(β e^{log P} + (1−β) e^{log Q}) by a
// log-add-exp, so that rows of saturated logits (±10⁴) stay finite. The
// gradients are w.r.t. the logits (the chain through the softmax and
// 1/τ included). Launches jsd_count_valid (mean with labels), jsd_rows
// and reduce_sum.
func JSDLoss(dev device.Device, a JSDArgs, o JSDLossOptions) error {
	const name = "jsd_loss"
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	s := stage{dev: dev, loss: name}
	return s.finish(jsdStaged(&s, a, o))
}

func jsdStaged(s *stage, a JSDArgs, o JSDLossOptions) error {
	const name = "jsd_loss"
	red := o.Reduction
	if !red.valid() {
		return argErr(name, "reduction", "unknown reduction %d", int(red))
	}
	beta, tau, ign := o.values()
	if !(beta >= 0 && beta <= 1) {
		return argErr(name, "beta", "must be in [0, 1], got %v", beta)
	}
	if !(tau > 0) || math.IsInf(tau, 1) {
		return argErr(name, "temperature", "must be finite and > 0, got %v", tau)
	}
	if ign < math.MinInt32 || ign > math.MaxInt32 {
		return argErr(name, "ignore_index", "%d is outside the int32 range", ign)
	}
	if !a.Input.Present() {
		return argErr(name, "input", "buffer is nil")
	}
	if !a.Target.Present() {
		return argErr(name, "target", "buffer is nil")
	}
	sh := a.Input.Shape
	if len(sh) == 0 || sh[len(sh)-1] < 1 {
		return argErr(name, "input", "has shape %v: want [..., V] with V >= 1", sh)
	}
	if !sameShape(a.Target.Shape, sh) {
		return argErr(name, "target", "has shape %v: want input's %v", a.Target.Shape, sh)
	}
	if err := s.check("input", a.Input); err != nil {
		return err
	}
	lead := sh[:len(sh)-1]
	c := sh[len(sh)-1]
	n := prod(lead)
	if a.Labels.Present() && !sameShape(a.Labels.Shape, lead) {
		return argErr(name, "labels", "has shape %v: want input's leading shape %v", a.Labels.Shape, lead)
	}
	if err := checkLoss(name, a.Loss, red, n); err != nil {
		return err
	}
	for _, g := range []struct {
		arg string
		t   Tensor
	}{{"grad_input", a.GradInput}, {"grad_target", a.GradTarget}} {
		if g.t.Present() && !sameShape(g.t.Shape, sh) {
			return argErr(name, g.arg, "has shape %v, want %v", g.t.Shape, sh)
		}
	}
	var x, y, lab, loss, gi, gt device.Buffer
	if err := s.bind(in("input", a.Input, &x), in("target", a.Target, &y), in("labels", a.Labels, &lab),
		out("loss", a.Loss, &loss), out("grad_input", a.GradInput, &gi), out("grad_target", a.GradTarget, &gt)); err != nil {
		return err
	}
	dev := s.dev
	ft := x.DType()
	if err := floatType(name, "input", dev, ft); err != nil {
		return err
	}
	for _, cb := range []struct {
		arg string
		b   device.Buffer
		dt  device.DType
		n   int
	}{{"target", y, ft, n * c}, {"labels", lab, device.Int32, n}, {"loss", loss, ft, a.Loss.Len()},
		{"grad_input", gi, ft, n * c}, {"grad_target", gt, ft, n * c}} {
		if err := checkBuf(name, cb.arg, dev, cb.b, cb.dt, cb.n, true); err != nil {
			return err
		}
	}
	if loss == nil && gi == nil && gt == nil {
		return nil
	}
	if n == 0 {
		if loss == nil || red == None {
			return nil
		}
		return dstEmptyReduce(dev, ft, red, loss)
	}
	bufs := callBufs{dev: dev, ft: ft}
	defer bufs.release()
	get := bufs.get
	flags := int32(0)
	if gi != nil {
		flags |= kernelspec.DstJSDGradInput
	}
	if gt != nil {
		flags |= kernelspec.DstJSDGradTarget
	}
	if lab != nil {
		flags |= kernelspec.DstJSDLabels
	}
	gs := 1 / tau
	var denom device.Buffer
	scale := 1.0
	switch {
	case red == Mean && lab != nil:
		d, err := get(1)
		if err != nil {
			return err
		}
		if err := dev.Launch("jsd_count_valid", oneBlock, lab, int32(n), int32(ign), d); err != nil {
			return err
		}
		denom = d
		flags |= kernelspec.DstJSDDenom
	case red == Mean:
		gs /= float64(n)
		scale = 1 / float64(n)
	}
	rows := loss
	if red != None || loss == nil {
		r, err := get(n)
		if err != nil {
			return err
		}
		rows = r
	}
	labArg := lab
	if labArg == nil { // an int32 stand-in, never read without DstJSDLabels
		b, err := bufs.getOf(device.Int32, 1)
		if err != nil {
			return err
		}
		labArg = b
	}
	if err := dev.Launch("jsd_rows", rowGrid(n), x, y, labArg, int32(n), int32(c), 1/tau, beta,
		int32(ign), gs, other(denom, rows), flags, other(gi, x), other(gt, y), rows); err != nil {
		return err
	}
	if red == None || loss == nil {
		return nil
	}
	hasDiv := int32(0)
	if denom != nil {
		hasDiv = 1
	}
	return dev.Launch("reduce_sum", oneBlock, rows, int32(n), scale, hasDiv, other(denom, rows), loss)
}

// dstEmptyReduce writes the reduction of no samples to loss: NaN for the
// mean (0/0, as PyTorch's mean of nothing), 0 for the sum.
func dstEmptyReduce(dev device.Device, ft device.DType, red Reduction, loss device.Buffer) error {
	z, err := pool.get(dev, ft, 1)
	if err != nil {
		return err
	}
	defer pool.put(z)
	scale := 1.0
	if red == Mean {
		scale = math.Inf(1) // 0·Inf is NaN
	}
	return dev.Launch("reduce_sum", oneBlock, z, int32(0), scale, int32(0), z, loss)
}

func jsdShapes(a JSDArgs, o JSDLossOptions) map[string][]int {
	sh := a.Input.Shape
	if len(sh) == 0 {
		return map[string][]int{"loss": {}} // the call refuses input
	}
	return map[string][]int{"loss": lossShape(o.Reduction, sh[:len(sh)-1])}
}

// SequenceLogProbsArgs are the tensors of sequence_log_probs: logits
// Input [B, T, V] and int32 Target [B, T] (token t of sequence b is
// scored at Input[b, t, :], no shift: shift the labels beforehand as
// TRL does), an optional int32 Mask [B, T] (0 leaves a token out; tokens
// whose target is ignore_index are left out too) and an optional upstream
// gradient GradOutput [B] (all ones when absent). Output [B] is each
// sequence's summed (or averaged) log-probability; GradInput [B, T, V] is
// the gradient of Σ_b GradOutput[b]·Output[b] w.r.t. the logits and may
// be Input's buffer.
type SequenceLogProbsArgs struct {
	Input      Tensor `loss:"input,in"`
	Target     Tensor `loss:"target,in,int32"`
	Mask       Tensor `loss:"mask,in,int32,optional"`
	GradOutput Tensor `loss:"grad_output,in,optional"`
	Output     Tensor `loss:"output,out"`
	GradInput  Tensor `loss:"grad_input,grad"`
}

// SequenceLogProbsOptions are the options of sequence_log_probs, TRL's
// names. The zero value is TRL's defaults.
type SequenceLogProbsOptions struct {
	// AverageLogProb: the mean over a sequence's counted tokens instead
	// of their sum (NaN for a sequence with none, as TRL's 0/0).
	AverageLogProb bool `json:"average_log_prob"`
	// IgnoreIndex is the target of tokens to leave out; nil means -100
	// (TRL's label_pad_token_id).
	IgnoreIndex *int `json:"ignore_index"`
}

// SequenceLogProbs is TRL's get_batch_logps without the label shift: for
// each sequence b, with lp[b,t] = log_softmax(Input[b,t,:])[Target[b,t]]
// and m[b,t] = 1 for a counted token (Target not ignore_index, Mask not 0),
//
//	Output[b] = Σ_t m[b,t] lp[b,t]   (AverageLogProb: divided by Σ_t m[b,t])
//	GradInput[b,t,k] = GradOutput[b] m[b,t] (onehot_k − softmax_k) (AverageLogProb: / Σ_t m[b,t])
//
// Each row of logits is read twice (its log-sum-exp, then the gradient);
// no probability is stored. The targets are read back to the host and
// checked (in [0, V) or ignore_index). It needs (B·T + 2·B) floats of
// workspace. Launches seq_log_probs_scale, seq_log_probs_rows and
// seq_log_probs_sum.
func SequenceLogProbs(dev device.Device, a SequenceLogProbsArgs, o SequenceLogProbsOptions) error {
	const name = "sequence_log_probs"
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	s := stage{dev: dev, loss: name}
	return s.finish(seqLogProbsStaged(&s, a, o))
}

func seqLogProbsStaged(s *stage, a SequenceLogProbsArgs, o SequenceLogProbsOptions) error {
	const name = "sequence_log_probs"
	ign := -100
	if o.IgnoreIndex != nil {
		ign = *o.IgnoreIndex
	}
	if ign < math.MinInt32 || ign > math.MaxInt32 {
		return argErr(name, "ignore_index", "%d is outside the int32 range", ign)
	}
	if !a.Input.Present() {
		return argErr(name, "input", "buffer is nil")
	}
	if !a.Target.Present() {
		return argErr(name, "target", "buffer is nil")
	}
	sh := a.Input.Shape
	if len(sh) != 3 || sh[2] < 1 {
		return argErr(name, "input", "has shape %v: want [B, T, V] with V >= 1", sh)
	}
	b, t, v := sh[0], sh[1], sh[2]
	bt := []int{b, t}
	if !sameShape(a.Target.Shape, bt) {
		return argErr(name, "target", "has shape %v: want [B, T] = %v", a.Target.Shape, bt)
	}
	if a.Mask.Present() && !sameShape(a.Mask.Shape, bt) {
		return argErr(name, "mask", "has shape %v: want [B, T] = %v", a.Mask.Shape, bt)
	}
	if a.GradOutput.Present() && !sameShape(a.GradOutput.Shape, []int{b}) {
		return argErr(name, "grad_output", "has shape %v: want [B] = [%d]", a.GradOutput.Shape, b)
	}
	if a.Output.Present() && a.Output.Len() != b {
		return argErr(name, "output", "has shape %v: want [B] = [%d]", a.Output.Shape, b)
	}
	if a.GradInput.Present() && !sameShape(a.GradInput.Shape, sh) {
		return argErr(name, "grad_input", "has shape %v, want %v", a.GradInput.Shape, sh)
	}
	if err := s.check("input", a.Input); err != nil {
		return err
	}
	var x, tg, mask, gout, outB, gi device.Buffer
	if err := s.bind(in("input", a.Input, &x), in("target", a.Target, &tg), in("mask", a.Mask, &mask),
		in("grad_output", a.GradOutput, &gout), out("output", a.Output, &outB), out("grad_input", a.GradInput, &gi)); err != nil {
		return err
	}
	dev := s.dev
	ft := x.DType()
	if err := floatType(name, "input", dev, ft); err != nil {
		return err
	}
	for _, cb := range []struct {
		arg string
		b   device.Buffer
		dt  device.DType
		n   int
	}{{"target", tg, device.Int32, b * t}, {"mask", mask, device.Int32, b * t}, {"grad_output", gout, ft, b},
		{"output", outB, ft, b}, {"grad_input", gi, ft, b * t * v}} {
		if err := checkBuf(name, cb.arg, dev, cb.b, cb.dt, cb.n, cb.arg != "target"); err != nil {
			return err
		}
	}
	if b*t > 0 {
		tv := make([]int32, b*t)
		if err := dev.Read(tv, tg); err != nil {
			return fmt.Errorf("losses: %s: target: %w", name, err)
		}
		if err := checkTargets(name, tv, v, ign); err != nil {
			return err
		}
	}
	if outB == nil && gi == nil || b == 0 {
		return nil
	}
	if err := checkWorkspace(dev, name, int64(b*t+2*b)*int64(ft.Size())); err != nil {
		return err
	}
	bufs := callBufs{dev: dev, ft: ft}
	defer bufs.release()
	get := bufs.get
	scale, err := get(b)
	if err != nil {
		return err
	}
	count, err := get(b)
	if err != nil {
		return err
	}
	tok, err := get(b * t)
	if err != nil {
		return err
	}
	avg, hasMask, hasGO := b2i(o.AverageLogProb), b2i(mask != nil), b2i(gout != nil)
	seqGrid := rowGrid(b)
	if err := dev.Launch("seq_log_probs_scale", seqGrid, tg, other(mask, tg), int32(b), int32(t), hasMask, int32(ign),
		avg, hasGO, other(gout, scale), scale, count); err != nil {
		return err
	}
	if b*t > 0 {
		if err := dev.Launch("seq_log_probs_rows", rowGrid(b*t), x, tg, other(mask, tg), int32(b), int32(t), int32(v),
			hasMask, int32(ign), scale, b2i(gi != nil), other(gi, x), tok); err != nil {
			return err
		}
	}
	if outB == nil {
		return nil
	}
	return dev.Launch("seq_log_probs_sum", seqGrid, tok, int32(b), int32(t), avg, count, outB)
}

func seqLogProbsShapes(a SequenceLogProbsArgs, o SequenceLogProbsOptions) map[string][]int {
	if len(a.Input.Shape) != 3 {
		return map[string][]int{"output": {}} // the call refuses input
	}
	return map[string][]int{"output": {a.Input.Shape[0]}}
}

// DPOArgs are the tensors of dpo_loss: the summed log-probabilities
// [B] (any shape, all four alike) of the chosen and rejected answers under
// the policy and under the frozen reference model. Loss is one element,
// or [B] with reduction None; ChosenRewards and RejectedRewards [B] are
// β(π − ref) of each answer (no gradient), TRL's logged rewards. The
// gradients are w.r.t. the two policy inputs; the reference inputs are
// constants.
type DPOArgs struct {
	PolicyChosenLogps       Tensor `loss:"policy_chosen_logps,in"`
	PolicyRejectedLogps     Tensor `loss:"policy_rejected_logps,in"`
	ReferenceChosenLogps    Tensor `loss:"reference_chosen_logps,in"`
	ReferenceRejectedLogps  Tensor `loss:"reference_rejected_logps,in"`
	Loss                    Tensor `loss:"loss,out"`
	ChosenRewards           Tensor `loss:"chosen_rewards,out"`
	RejectedRewards         Tensor `loss:"rejected_rewards,out"`
	GradPolicyChosenLogps   Tensor `loss:"grad_policy_chosen_logps,grad"`
	GradPolicyRejectedLogps Tensor `loss:"grad_policy_rejected_logps,grad"`
}

// DPOLossOptions are the options of dpo_loss, TRL's DPOConfig names. The
// zero value is TRL's defaults.
type DPOLossOptions struct {
	// Beta > 0; nil means 0.1. For ipo it is the regularisation τ of the
	// IPO paper, as in TRL.
	Beta *float64 `json:"beta"`
	// LossType is "sigmoid" (default, also ""), "hinge" or "ipo".
	LossType string `json:"loss_type"`
	// LabelSmoothing ε in [0, 1] (cDPO, robust to flipped preferences):
	// sigmoid's loss becomes (1−ε)(−log σ(β h)) + ε(−log σ(−β h)). The
	// hinge and ipo losses ignore it, as TRL's do.
	LabelSmoothing float64 `json:"label_smoothing"`
	// Reduction: Mean (default, TRL's; NaN for no pairs), Sum or None.
	Reduction Reduction `json:"reduction"`
}

func (o DPOLossOptions) reduction() Reduction { return o.Reduction }

// DPOLoss is the Direct Preference Optimization loss of Rafailov et al.
// (2023) with TRL's DPOTrainer loss types. With the margin
// h = (π_c − π_r) − (ref_c − ref_r) of each pair:
//
//	sigmoid: −(1−ε) log σ(β h) − ε log σ(−β h), as (1−ε) softplus(−β h) + ε softplus(β h)
//	hinge:   max(0, 1 − β h)            (SLiC; gradient 0 at the kink)
//	ipo:     (h − 1/(2β))²              (Azar et al.; β is their τ)
//
// The softplus form stays finite for any margin. Launches dpo_loss_elems
// and reduce_sum.
func DPOLoss(dev device.Device, a DPOArgs, o DPOLossOptions) error {
	const name = "dpo_loss"
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	s := stage{dev: dev, loss: name}
	return s.finish(dpoStaged(&s, a, o))
}

// dstDPOOp maps a loss_type to its kernel op.
func dstDPOOp(t string) (int32, bool) {
	switch t {
	case "", "sigmoid":
		return kernelspec.DstDPOSigmoid, true
	case "hinge":
		return kernelspec.DstDPOHinge, true
	case "ipo":
		return kernelspec.DstDPOIPO, true
	}
	return 0, false
}

func dpoStaged(s *stage, a DPOArgs, o DPOLossOptions) error {
	const name = "dpo_loss"
	red := o.Reduction
	if !red.valid() {
		return argErr(name, "reduction", "unknown reduction %d", int(red))
	}
	beta := 0.1
	if o.Beta != nil {
		beta = *o.Beta
	}
	if !(beta > 0) || math.IsInf(beta, 1) {
		return argErr(name, "beta", "must be finite and > 0, got %v", beta)
	}
	op, ok := dstDPOOp(o.LossType)
	if !ok {
		return argErr(name, "loss_type", "unknown loss type %q (want sigmoid, hinge or ipo)", clip(o.LossType))
	}
	if !(o.LabelSmoothing >= 0 && o.LabelSmoothing <= 1) {
		return argErr(name, "label_smoothing", "must be in [0, 1], got %v", o.LabelSmoothing)
	}
	ins := []struct {
		arg string
		t   Tensor
	}{{"policy_chosen_logps", a.PolicyChosenLogps}, {"policy_rejected_logps", a.PolicyRejectedLogps},
		{"reference_chosen_logps", a.ReferenceChosenLogps}, {"reference_rejected_logps", a.ReferenceRejectedLogps}}
	for _, p := range ins {
		if !p.t.Present() {
			return argErr(name, p.arg, "buffer is nil")
		}
	}
	sh := a.PolicyChosenLogps.Shape
	for _, p := range ins[1:] {
		if !sameShape(p.t.Shape, sh) {
			return argErr(name, p.arg, "has shape %v: want policy_chosen_logps's %v", p.t.Shape, sh)
		}
	}
	if err := s.check("policy_chosen_logps", a.PolicyChosenLogps); err != nil {
		return err
	}
	n := a.PolicyChosenLogps.Len()
	if err := checkLoss(name, a.Loss, red, n); err != nil {
		return err
	}
	for _, p := range []struct {
		arg string
		t   Tensor
	}{{"chosen_rewards", a.ChosenRewards}, {"rejected_rewards", a.RejectedRewards},
		{"grad_policy_chosen_logps", a.GradPolicyChosenLogps}, {"grad_policy_rejected_logps", a.GradPolicyRejectedLogps}} {
		if p.t.Present() && p.t.Len() != n {
			return argErr(name, p.arg, "has shape %v: want %d elements", p.t.Shape, n)
		}
	}
	var pc, pr, rc, rr, loss, cr, rjr, gc, gr device.Buffer
	if err := s.bind(in(ins[0].arg, ins[0].t, &pc), in(ins[1].arg, ins[1].t, &pr), in(ins[2].arg, ins[2].t, &rc),
		in(ins[3].arg, ins[3].t, &rr), out("loss", a.Loss, &loss), out("chosen_rewards", a.ChosenRewards, &cr),
		out("rejected_rewards", a.RejectedRewards, &rjr), out("grad_policy_chosen_logps", a.GradPolicyChosenLogps, &gc),
		out("grad_policy_rejected_logps", a.GradPolicyRejectedLogps, &gr)); err != nil {
		return err
	}
	dev := s.dev
	ft := pc.DType()
	if err := floatType(name, "policy_chosen_logps", dev, ft); err != nil {
		return err
	}
	for _, cb := range []struct {
		arg string
		b   device.Buffer
		n   int
	}{{"policy_rejected_logps", pr, n}, {"reference_chosen_logps", rc, n}, {"reference_rejected_logps", rr, n},
		{"loss", loss, a.Loss.Len()}, {"chosen_rewards", cr, n}, {"rejected_rewards", rjr, n},
		{"grad_policy_chosen_logps", gc, n}, {"grad_policy_rejected_logps", gr, n}} {
		if err := checkBuf(name, cb.arg, dev, cb.b, ft, cb.n, true); err != nil {
			return err
		}
	}
	if loss == nil && cr == nil && rjr == nil && gc == nil && gr == nil {
		return nil
	}
	if n == 0 {
		if loss == nil || red == None {
			return nil
		}
		return dstEmptyReduce(dev, ft, red, loss)
	}
	bufs := callBufs{dev: dev, ft: ft}
	defer bufs.release()
	get := bufs.get
	flags := int32(0)
	if gc != nil {
		flags |= kernelspec.DstDPOGradChosen
	}
	if gr != nil {
		flags |= kernelspec.DstDPOGradRejected
	}
	if cr != nil || rjr != nil {
		flags |= kernelspec.DstDPORewards
		for _, p := range []*device.Buffer{&cr, &rjr} {
			if *p == nil {
				b, err := get(n)
				if err != nil {
					return err
				}
				*p = b
			}
		}
	}
	gs, scale := 1.0, 1.0
	if red == Mean {
		gs, scale = 1/float64(n), 1/float64(n)
	}
	g := partialGrid(n)
	outBuf := loss
	if red != None || loss == nil {
		flags |= kernelspec.DstDPOReduce
		p, err := get(g.Blocks)
		if err != nil {
			return err
		}
		outBuf = p
	}
	if err := dev.Launch("dpo_loss_elems", g, op, pc, pr, rc, rr, int32(n), beta, o.LabelSmoothing, gs, flags,
		other(gc, pc), other(gr, pr), other(cr, pc), other(rjr, pr), outBuf); err != nil {
		return err
	}
	if red == None || loss == nil {
		return nil
	}
	return dev.Launch("reduce_sum", oneBlock, outBuf, int32(g.Blocks), scale, int32(0), outBuf, loss)
}

func dpoShapes(a DPOArgs, o DPOLossOptions) map[string][]int {
	sh := a.PolicyChosenLogps.Shape
	return map[string][]int{"loss": lossShape(o.Reduction, sh), "chosen_rewards": sh, "rejected_rewards": sh}
}

func init() {
	register("jsd_loss", "JSDLoss", JSDLoss, jsdShapes, "jsd_count_valid", "jsd_rows", "reduce_sum")
	register("sequence_log_probs", "SequenceLogProbs", SequenceLogProbs, seqLogProbsShapes,
		"seq_log_probs_scale", "seq_log_probs_rows", "seq_log_probs_sum")
	register("dpo_loss", "DPOLoss", DPOLoss, dpoShapes, "dpo_loss_elems", "reduce_sum")
}
