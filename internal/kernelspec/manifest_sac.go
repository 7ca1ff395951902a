package kernelspec

// sacKernels are the kernels of the sac family (kernels/src/sac.h,
// host/sac.go): soft actor-critic's losses, one thread per row of [n, A].
// out holds one partial sum per block with SacFlagReduce, else one value
// per row.
var sacKernels = []Kernel{
	{Name: "sac_rows", Family: "sac", Grid: "min(ceil(n/BlockSize), MaxReduceBlocks) blocks", Sizes: sizes("n", "A"),
		Requires: []Cond{
			require("A == 1 where op == SacTempLogPi", []string{"A", "op"}, func(v Vals) bool { return int32(v[1]) != SacTempLogPi || v[0] == 1 }),
		},
		Args: []Arg{i32("op"), buf("x", elems("n", "A")),
			buf("q", elems("n", "A").whenBits("flags", SacFlagQ, "SacFlagQ")),
			buf("rewards", elems("n").whenBits("flags", SacFlagTarget, "SacFlagTarget")),
			buf("dones", elems("n").whenBits("flags", SacFlagTarget, "SacFlagTarget")),
			buf("log_alpha", elems("1").whenBits("flags", SacFlagLogAlpha, "SacFlagLogAlpha")),
			i32("n"), i32("A"), real("alpha"), real("gamma"), real("target_entropy"), real("loss_scale"), real("grad_scale"), i32("flags"),
			buf("grad", elems("n", "A").whenBits("flags", SacFlagGrad, "SacFlagGrad")),
			buf("out", sacOut())}},
	{Name: "sac_continuous_actor", Family: "sac", Grid: "min(ceil(n/BlockSize), MaxReduceBlocks) blocks", Sizes: sizes("n", "A"),
		Args: []Arg{buf("mean", elems("n", "A")), buf("log_std", elems("n", "A")), buf("noise", elems("n", "A")),
			buf("q_value", elems("n")), buf("dq_da", elems("n", "A").whenBits("flags", SacFlagGrad, "SacFlagGrad")),
			i32("n"), i32("A"), real("alpha"), real("scale"), real("bias"), real("grad_scale"), i32("flags"),
			buf("grad_mean", elems("n", "A").whenBits("flags", SacFlagGrad, "SacFlagGrad")),
			buf("grad_log_std", elems("n", "A").whenBits("flags", SacFlagGrad, "SacFlagGrad")),
			buf("log_pi", elems("n").whenBits("flags", SacFlagLogPi, "SacFlagLogPi")),
			buf("action", elems("n", "A").whenBits("flags", SacFlagAction, "SacFlagAction")),
			buf("out", sacOut())}},
}

func sacOut() *Need {
	return rule("flags&SacFlagReduce ? blocks : n", []string{"flags", "blocks", "n"}, func(v Vals) int64 {
		if int32(v[0])&SacFlagReduce != 0 {
			return v[1]
		}
		return v[2]
	})
}

// sac_rows ops.
const (
	SacActor     int32 = 0 // discrete actor loss
	SacTarget    int32 = 1 // discrete critic target
	SacTemp      int32 = 2 // temperature loss, discrete form (x: logits)
	SacTempLogPi int32 = 3 // temperature loss, continuous form (x: log_pi, A = 1)
)

// Flag bits of the sac kernels. Without SacFlagQ, SacFlagTarget or
// SacFlagLogAlpha, sac_rows takes the buffers they name as zeros.
const (
	SacFlagGrad     int32 = 1  // write the gradient(s)
	SacFlagReduce   int32 = 2  // out gets one partial sum per block
	SacFlagLogPi    int32 = 4  // sac_continuous_actor: write log_pi
	SacFlagAction   int32 = 8  // sac_continuous_actor: write action
	SacFlagQ        int32 = 16 // sac_rows reads q
	SacFlagTarget   int32 = 32 // sac_rows reads rewards and dones
	SacFlagLogAlpha int32 = 64 // sac_rows reads log_alpha
)
