package kernelspec

// multitaskKernels are the kernels of the multitask family
// (kernels/src/multitask.h, host/multitask.go): weightings of M sets of K
// per-task losses, row-major [m, k].
var multitaskKernels = []Kernel{
	// out holds one partial sum per block with MTReduce, else one loss per
	// set. b and l0 are read by MTGradNorm only, coef by MTUncertainty.
	{Name: "multitask_loss", Family: "multitask", Grid: "min(ceil(m/BlockSize), MaxReduceBlocks) blocks",
		Sizes:    sizes("m", "k"),
		Requires: []Cond{require("0 <= op <= 2", []string{"op"}, func(v Vals) bool { return v[0] >= 0 && v[0] <= 2 })},
		Args: []Arg{i32("op"), i32("m"), i32("k"), buf("losses", elems("m", "k")), buf("a", elems("m", "k")),
			buf("b", mtOnly(MTGradNorm, true)), buf("l0", mtOnly(MTGradNorm, true)), buf("coef", mtOnly(MTUncertainty, false)),
			real("alpha"), real("grad_scale"), i32("flags"),
			buf("grad_losses", elems("m", "k").whenBits("flags", MTGradLosses, "MTGradLosses")),
			buf("grad_a", elems("m", "k").whenBits("flags", MTGradA, "MTGradA")),
			buf("grad_b", rule("m*k if op == MTGradNorm and flags&MTGradB", []string{"op", "flags", "m", "k"}, func(v Vals) int64 {
				if int32(v[0]) == MTGradNorm && int32(v[1])&MTGradB != 0 {
					return mulSat(v[2], v[3])
				}
				return 0
			})),
			buf("out", rule("flags&MTReduce ? blocks : m", []string{"flags", "blocks", "m"}, func(v Vals) int64 {
				if int32(v[0])&MTReduce != 0 {
					return v[1]
				}
				return v[2]
			}))}},
}

// mtOnly is the need of a buffer that op alone reads: m*k elements (perSet)
// or k (one per task), and 0 for the other ops.
func mtOnly(op int32, perSet bool) *Need {
	text, names := "k if op == MTUncertainty and m > 0", []string{"op", "m", "k"}
	if perSet {
		text = "m*k if op == MTGradNorm"
	}
	return rule(text, names, func(v Vals) int64 {
		if int32(v[0]) != op {
			return 0
		}
		if perSet {
			return mulSat(v[1], v[2])
		}
		if v[1] == 0 {
			return 0
		}
		return v[2]
	})
}

// Ops of multitask_loss.
const (
	MTWeightedSum int32 = 0 // Σ_k w_k·L_k
	MTUncertainty int32 = 1 // Σ_k c_k·exp(−s_k)·L_k + s_k/2
	MTGradNorm    int32 = 2 // Σ_k |w_k·g_k − target_k|
)

// multitask_loss flag bits.
const (
	MTGradLosses int32 = 1 // write grad_losses
	MTGradA      int32 = 2 // write grad_a (weights or log_vars)
	MTGradB      int32 = 4 // write grad_b (grad_norms; MTGradNorm)
	MTReduce     int32 = 8 // out gets one partial sum per block; otherwise out[i] is set i's loss
)
