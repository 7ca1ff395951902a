package kernelspec

// returnsKernels are the kernels of the returns family (kernels/src/returns.h,
// host/returns.go): the reverse scan of returns and advantages over
// time-major [T, B] rollouts, and the TD-error losses.
var returnsKernels = []Kernel{
	// returns_scan: one thread per column; a thread past the last column
	// reads and writes nothing.
	{Name: "returns_scan", Family: "returns", Grid: "ceil(B/BlockSize) blocks", Sizes: sizes("T", "B", "n"),
		Requires: []Cond{
			require("n >= 1 where op == RetNStep", []string{"n", "op"}, func(v Vals) bool { return int32(v[1]) != RetNStep || v[0] >= 1 }),
		},
		Args: []Arg{i32("op"), buf("rewards", elems("T", "B")), buf("values", elems("T", "B")),
			buf("bootstrap", elems("B").whenBits("flags", RetFlagBootstrap, "RetFlagBootstrap")),
			buf("disc", elems("T", "B")),
			buf("truncated", elems("T", "B").whenBits("flags", RetFlagTruncated, "RetFlagTruncated")),
			buf("truncation_values", elems("T", "B").whenBits("flags", RetFlagTruncated, "RetFlagTruncated")),
			i32("T"), i32("B"), real("gamma"), real("lambda"), i32("n"), i32("flags"),
			buf("out", elems("T", "B")),
			buf("out2", elems("T", "B").whenBits("flags", RetFlagOut2, "RetFlagOut2"))}},
	// td_loss: out holds one partial sum per block with TDFlagReduce, else
	// one loss per sample. x_tm1, x_t and grad have n*A elements (A = 1
	// for TDError).
	{Name: "td_loss", Family: "returns", Grid: "min(ceil(n/BlockSize), MaxReduceBlocks) blocks", Sizes: sizes("n", "A"),
		Requires: []Cond{
			require("A == 1 where op == TDError", []string{"A", "op"}, func(v Vals) bool { return int32(v[1]) != TDError || v[0] == 1 }),
		},
		Args: []Arg{i32("op"), buf("x_tm1", elems("n", "A")),
			ibuf("actions", elems("n").whenBits("flags", TDFlagActions, "TDFlagActions")),
			buf("r_t", elems("n")), buf("d_t", elems("n")), buf("x_t", elems("n", "A")),
			buf("sel", elems("n", "A").whenBits("flags", TDFlagSelector, "TDFlagSelector")),
			i32("n"), i32("A"), real("delta"), real("grad_scale"), i32("flags"),
			buf("grad", elems("n", "A").whenBits("flags", TDFlagGrad, "TDFlagGrad")),
			buf("td", elems("n").whenBits("flags", TDFlagOutTD, "TDFlagOutTD")),
			buf("out", rule("flags&TDFlagReduce ? blocks : n", []string{"flags", "blocks", "n"}, func(v Vals) int64 {
				if int32(v[0])&TDFlagReduce != 0 {
					return v[1]
				}
				return v[2]
			}))}},
}

// returns_scan ops.
const (
	RetGAE    int32 = 0 // generalized advantage estimation
	RetLambda int32 = 1 // rlax lambda_returns
	RetNStep  int32 = 2 // rlax n_step_bootstrapped_returns
)

// returns_scan flag bits.
const (
	RetFlagDiscounts int32 = 1 // disc holds discount_t; else terminated (0/1) with gamma
	RetFlagTruncated int32 = 2 // read truncated and truncation_values (GAE)
	RetFlagBootstrap int32 = 4 // read bootstrap (GAE)
	RetFlagOut2      int32 = 8 // write out2 = advantages + values (GAE)
)

// td_loss ops.
const (
	TDError   int32 = 0 // rlax td_learning
	TDQ       int32 = 1 // rlax q_learning
	TDDoubleQ int32 = 2 // rlax double_q_learning
)

// td_loss flag bits.
const (
	TDFlagGrad     int32 = 1  // write grad
	TDFlagReduce   int32 = 2  // out gets one partial sum per block
	TDFlagOutTD    int32 = 4  // write td
	TDFlagHuber    int32 = 8  // Huber loss with delta; else ½δ²
	TDFlagActions  int32 = 16 // read actions (Q ops)
	TDFlagSelector int32 = 32 // read sel (double Q)
)
