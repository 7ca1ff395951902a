package kernelspec

// distillKernels are the kernels of the distill family
// (kernels/src/distill.h, host/distill.go): Liger-Kernel's generalised
// Jensen-Shannon divergence, TRL's per-sequence log-probabilities and the
// DPO loss.
var distillKernels = []Kernel{
	// Block 0 writes out[0]; the others write nothing.
	{Name: "jsd_count_valid", Family: "distill", Grid: "1 block", Sizes: sizes("n"),
		Args: []Arg{ibuf("labels", elems("n")), i32("n"), i32("ignore_index"), buf("out", elems("1"))}},
	// Block i >= n reads and writes nothing.
	{Name: "jsd_rows", Family: "distill", Grid: "n blocks", Sizes: sizes("n", "c"),
		Args: []Arg{buf("x", elems("n", "c")), buf("y", elems("n", "c")),
			ibuf("labels", elems("n").whenBits("flags", DstJSDLabels, "DstJSDLabels")), i32("n"), i32("c"),
			real("inv_tau"), real("beta"), i32("ignore_index"), real("grad_scale"),
			buf("denom", elems("1").whenBits("flags", DstJSDDenom, "DstJSDDenom")), i32("flags"),
			buf("grad_input", elems("n", "c").whenBits("flags", DstJSDGradInput, "DstJSDGradInput")),
			buf("grad_target", elems("n", "c").whenBits("flags", DstJSDGradTarget, "DstJSDGradTarget")),
			buf("loss_rows", elems("n"))}},
	// One block per sequence; block s >= b writes nothing.
	{Name: "seq_log_probs_scale", Family: "distill", Grid: "b blocks", Sizes: sizes("b", "t"),
		Args: []Arg{ibuf("target", elems("b", "t")), ibuf("mask", elems("b", "t").when("has_mask")), i32("b"), i32("t"),
			i32("has_mask"), i32("ignore_index"), i32("average"), i32("has_grad_output"),
			buf("grad_output", elems("b").when("has_grad_output")), buf("scale", elems("b")), buf("count", elems("b"))}},
	// One block per token row; x[r, target[r]] is read for each counted
	// row r: package losses checks the targets (in [0, v) or
	// ignore_index) on the host before it launches.
	{Name: "seq_log_probs_rows", Family: "distill", Grid: "b*t blocks", Sizes: sizes("b", "t", "v"),
		Args: []Arg{buf("x", elems("b", "t", "v")), ibuf("target", elems("b", "t")),
			ibuf("mask", elems("b", "t").when("has_mask")), i32("b"), i32("t"), i32("v"), i32("has_mask"),
			i32("ignore_index"), buf("scale", elems("b")), i32("has_grad"),
			buf("grad", elems("b", "t", "v").when("has_grad")), buf("tok", elems("b", "t"))}},
	// One block per sequence; block s >= b writes nothing.
	{Name: "seq_log_probs_sum", Family: "distill", Grid: "b blocks", Sizes: sizes("b", "t"),
		Args: []Arg{buf("tok", elems("b", "t")), i32("b"), i32("t"), i32("average"), buf("count", elems("b")),
			buf("out", elems("b"))}},
	// out holds one partial sum per block with DstDPOReduce, else one loss
	// per pair.
	{Name: "dpo_loss_elems", Family: "distill", Grid: "min(ceil(n/BlockSize), MaxReduceBlocks) blocks", Sizes: sizes("n"),
		Args: []Arg{i32("op"), buf("pc", elems("n")), buf("pr", elems("n")), buf("rc", elems("n")), buf("rr", elems("n")),
			i32("n"), real("beta"), real("label_smoothing"), real("grad_scale"), i32("flags"),
			buf("grad_chosen", elems("n").whenBits("flags", DstDPOGradChosen, "DstDPOGradChosen")),
			buf("grad_rejected", elems("n").whenBits("flags", DstDPOGradRejected, "DstDPOGradRejected")),
			buf("chosen_rewards", elems("n").whenBits("flags", DstDPORewards, "DstDPORewards")),
			buf("rejected_rewards", elems("n").whenBits("flags", DstDPORewards, "DstDPORewards")),
			buf("out", rule("flags&DstDPOReduce ? blocks : n", []string{"flags", "blocks", "n"}, func(v Vals) int64 {
				if int32(v[0])&DstDPOReduce != 0 {
					return v[1]
				}
				return v[2]
			}))}},
}

// jsd_rows flag bits.
const (
	DstJSDLabels     int32 = 1 // rows whose label is ignore_index are skipped
	DstJSDDenom      int32 = 2 // the gradient scale is divided by denom[0]
	DstJSDGradInput  int32 = 4 // write grad_input (w.r.t. the student logits)
	DstJSDGradTarget int32 = 8 // write grad_target (w.r.t. the teacher logits)
)

// DPO loss types (the op argument of dpo_loss_elems), TRL's loss_type.
const (
	DstDPOSigmoid int32 = 0 // −log σ(β h), with label smoothing (cDPO)
	DstDPOHinge   int32 = 1 // max(0, 1 − β h)
	DstDPOIPO     int32 = 2 // (h − 1/(2β))²
)

// dpo_loss_elems flag bits.
const (
	DstDPOGradChosen   int32 = 1 // write grad_chosen
	DstDPOGradRejected int32 = 2 // write grad_rejected
	DstDPOReduce       int32 = 4 // out gets one partial sum per block; otherwise out[i] is pair i's loss
	DstDPORewards      int32 = 8 // write chosen_rewards and rejected_rewards
)
