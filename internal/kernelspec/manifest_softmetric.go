package kernelspec

// softmetricKernels are the kernels of the softmetric family
// (kernels/src/softmetric.h, host/softmetric.go): the soft F1 and soft
// MCC losses over an input [n, c].
var softmetricKernels = []Kernel{
	// Block b >= nb reads and writes nothing; rows past n are not read.
	{Name: "sm_partials", Family: "softmetric", Grid: "nb blocks", Sizes: sizes("n", "c", "nb", "rpb"),
		Requires: []Cond{require("nb*rpb >= n", []string{"nb", "rpb", "n"}, func(v Vals) bool { return mulSat(v[0], v[1]) >= v[2] })},
		Args: []Arg{buf("x", elems("n", "c")), buf("y", elems("n", "c")), i32("n"), i32("c"), i32("nb"), i32("rpb"),
			i32("flags"), buf("part", elems("nb", "c", "4"))}},
	{Name: "sm_finish", Family: "softmetric", Grid: "1 block", Sizes: sizes("nb", "c"),
		Requires: []Cond{intLoop("c", "the classes")},
		Args: []Arg{buf("part", elems("nb", "c", "4")), i32("nb"), i32("c"), i32("op"), i32("flags"), real("eps"),
			real("grad_scale"), buf("coef", elems("c", "3")), buf("loss", elems("1"))}},
	// Grid-stride over the n*c elements (any grid).
	{Name: "sm_grad", Family: "softmetric", Grid: "min(ceil(n*c/BlockSize), MaxReduceBlocks) blocks", Sizes: sizes("n", "c"),
		Args: []Arg{buf("x", elems("n", "c")), buf("y", elems("n", "c")), i32("n"), i32("c"), i32("flags"),
			buf("coef", rule("c*3 where n > 0", []string{"n", "c"}, func(v Vals) int64 {
				if v[0] == 0 {
					return 0
				}
				return mulSat(v[1], 3)
			})),
			buf("grad", elems("n", "c"))}},
}

// Ops of sm_finish.
const (
	SMF1  int32 = 0 // 1 − soft F1
	SMMCC int32 = 1 // 1 − soft MCC
)

// Flag bits of the softmetric kernels.
const (
	SMSigmoid int32 = 1 // p = sigmoid(x), else p = x
	SMMicro   int32 = 2 // sm_finish: one set of sums over every class
)
