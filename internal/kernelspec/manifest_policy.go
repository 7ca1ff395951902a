package kernelspec

// policyKernels are the kernels of the policy family (kernels/src/policy.h,
// host/policy.go): the reinforcement-learning policy, entropy, PPO, value
// and actor-critic losses, one thread per row of a flattened [n, a] policy.
var policyKernels = []Kernel{
	// out holds PolParts partial sums per block (total, pol, val, ent, cf,
	// kl), term k of block b at k*blocks + b. The policy inputs are read
	// as the op and flags say (polNeed).
	{Name: "policy_rows", Family: "policy", Grid: "min(ceil(n/BlockSize), MaxReduceBlocks) blocks", Sizes: sizes("n", "a"),
		Args: []Arg{i32("op"), i32("flags"),
			buf("x", polNeed("n*a if the op has a policy and not flags&PolLogP", polRowsX)),
			buf("log_std", polNeed("n*a if the op has a policy, flags&PolGauss and not flags&PolLogP", polRowsGauss)),
			ibuf("act_i", polNeed("n if op is neither PolEnt nor PolValue and flags has neither PolGauss nor PolLogP", polRowsCat)),
			buf("act_f", polNeed("n*a if the op has a policy, flags&PolGauss and not flags&PolLogP", polRowsGauss)),
			buf("log_probs", polNeed("n if the op has a policy and flags&PolLogP", polRowsDirect)),
			buf("old_log_probs", polNeed("n if op is PolPPO or PolACPPO", polRowsPPO)),
			buf("advantages", polNeed("n if op has advantages (not PolEnt, not PolValue)", polRowsAdv)),
			buf("weights", polNeed("n if op is PolPG or PolEnt and flags&PolWeights", polRowsWeights)),
			buf("stats", polNeed("2 if op has advantages and flags&PolNormAdv", polRowsStats)),
			buf("values", polNeed("n if op has a value term", polRowsVal)),
			buf("returns", polNeed("n if op has a value term", polRowsVal)),
			buf("old_values", polNeed("n if op has a value term and flags&PolClipVF", polRowsOldVal)),
			i32("n"), i32("a"), real("clip_eps"), real("clip_vf"), real("delta"), real("vcoef"), real("ecoef"),
			real("grad_scale"),
			buf("grad_x", polNeed("n*a if the op has a policy, flags&PolGradX and not flags&PolLogP", polRowsGradX)),
			buf("grad_log_std", polNeed("n*a if the op has a policy, flags&PolGauss, flags&PolGradLogStd and not flags&PolLogP", polRowsGradLS)),
			buf("grad_log_probs", polNeed("n if the op has a policy, flags&PolLogP and flags&PolGradLogP", polRowsGradLP)),
			buf("grad_values", polNeed("n if op has a value term and flags&PolGradValues", polRowsGradVal)),
			buf("rows", elems("n").whenBits("flags", PolRows, "PolRows")),
			buf("out", elems("6", "blocks"))}},
	// One block; the loops have an int index.
	{Name: "policy_adv_stats", Family: "policy", Grid: "1 block", Sizes: sizes("n"),
		Requires: []Cond{intLoop("n", "the loops have an int index")},
		Args:     []Arg{buf("adv", elems("n")), i32("n"), buf("stats", elems("2"))}},
	// One block: term k of policy_rows' partials over nb blocks.
	{Name: "policy_reduce", Family: "policy", Grid: "1 block", Sizes: sizes("nb", "k"),
		Requires: []Cond{intLoop("nb", "the loop has an int index")},
		Args: []Arg{buf("part", rule("(k+1)*nb", []string{"k", "nb"}, func(v Vals) int64 { return mulSat(addSat(v[0], 1), v[1]) })),
			i32("nb"), i32("k"), real("scale"), buf("out", elems("1"))}},
}

// polNeed is a size rule of policy_rows: f of (op, flags, n, a).
func polNeed(text string, f func(op, flags int32, n, a int64) int64) *Need {
	return rule(text, []string{"op", "flags", "n", "a"}, func(v Vals) int64 {
		return f(int32(v[0]), int32(v[1]), v[2], v[3])
	})
}

func polHasPolicy(op int32) bool { return op != PolValue }
func polHasValue(op int32) bool  { return op == PolValue || op == PolACPG || op == PolACPPO }
func polHasAdv(op int32) bool    { return op != PolValue && op != PolEnt }
func polIf(c bool, v int64) int64 {
	if c {
		return v
	}
	return 0
}

func polRowsX(op, flags int32, n, a int64) int64 {
	return polIf(polHasPolicy(op) && flags&PolLogP == 0, mulSat(n, a))
}
func polRowsGauss(op, flags int32, n, a int64) int64 {
	return polIf(polHasPolicy(op) && flags&PolLogP == 0 && flags&PolGauss != 0, mulSat(n, a))
}
func polRowsCat(op, flags int32, n, a int64) int64 {
	return polIf(polHasPolicy(op) && op != PolEnt && flags&(PolLogP|PolGauss) == 0, n)
}
func polRowsDirect(op, flags int32, n, a int64) int64 {
	return polIf(polHasPolicy(op) && flags&PolLogP != 0, n)
}
func polRowsPPO(op, flags int32, n, a int64) int64 {
	return polIf(op == PolPPO || op == PolACPPO, n)
}
func polRowsAdv(op, flags int32, n, a int64) int64 { return polIf(polHasAdv(op), n) }
func polRowsWeights(op, flags int32, n, a int64) int64 {
	return polIf((op == PolPG || op == PolEnt) && flags&PolWeights != 0, n)
}
func polRowsStats(op, flags int32, n, a int64) int64 {
	return polIf(polHasAdv(op) && flags&PolNormAdv != 0 && n > 0, 2)
}
func polRowsVal(op, flags int32, n, a int64) int64 { return polIf(polHasValue(op), n) }
func polRowsOldVal(op, flags int32, n, a int64) int64 {
	return polIf(polHasValue(op) && flags&PolClipVF != 0, n)
}
func polRowsGradX(op, flags int32, n, a int64) int64 {
	return polIf(polHasPolicy(op) && flags&PolLogP == 0 && flags&PolGradX != 0, mulSat(n, a))
}
func polRowsGradLS(op, flags int32, n, a int64) int64 {
	return polIf(polHasPolicy(op) && flags&(PolLogP|PolGauss) == PolGauss && flags&PolGradLogStd != 0, mulSat(n, a))
}
func polRowsGradLP(op, flags int32, n, a int64) int64 {
	return polIf(polHasPolicy(op) && flags&PolLogP != 0 && flags&PolGradLogP != 0, n)
}
func polRowsGradVal(op, flags int32, n, a int64) int64 {
	return polIf(polHasValue(op) && flags&PolGradValues != 0, n)
}

// policy_rows ops.
const (
	PolPG    int32 = 0 // policy gradient: −A·w·log π(a)
	PolEnt   int32 = 1 // entropy loss: −w·H
	PolPPO   int32 = 2 // PPO clipped surrogate
	PolValue int32 = 3 // value loss
	PolACPG  int32 = 4 // actor-critic with the policy gradient term
	PolACPPO int32 = 5 // actor-critic with the PPO term
)

// policy_rows flag bits.
const (
	PolGauss      int32 = 1    // diagonal Gaussian policy: x is the mean, with log_std and float actions
	PolSquash     int32 = 2    // the Gaussian actions are tanh-squashed
	PolLogP       int32 = 4    // log π(a) given directly in log_probs
	PolWeights    int32 = 8    // multiply by weights (PolPG, PolEnt)
	PolNormAdv    int32 = 16   // normalise the advantages with stats (mean, std)
	PolClipVF     int32 = 32   // clipped value loss around old_values
	PolHuber      int32 = 64   // Huber value loss (else half the squared error)
	PolGradX      int32 = 128  // write grad_x
	PolGradLogStd int32 = 256  // write grad_log_std
	PolGradLogP   int32 = 512  // write grad_log_probs
	PolGradValues int32 = 1024 // write grad_values
	PolRows       int32 = 2048 // write each row's loss to rows
)

// PolParts is the number of partial sums per block of policy_rows.
const PolParts = 6
