package kernelspec

// vpTarget is the need of the targets of the vocabparallel kernels: rows
// row0 .. row0+r-1 of the full batch.
func vpTarget() *Need {
	return rule("row0+r", []string{"row0", "r"}, func(v Vals) int64 { return v[0] + v[1] })
}

// vocabparallelKernels are the kernels of the vocabparallel family
// (kernels/src/vocabparallel.h, host/vocabparallel.go): the per-shard steps
// of the vocabulary-parallel cross-entropy over one shard's logits
// [r, vs] of a V-class softmax; package losses runs the all-reduces between
// them. Blocks past the last row (r blocks) write nothing.
var vocabparallelKernels = []Kernel{
	{Name: "vp_ce_max", Family: "vocabparallel", Grid: "r blocks", Sizes: sizes("r", "vs", "row0"),
		Args: []Arg{buf("x", elems("r", "vs")), ibuf("target", vpTarget()), i32("r"), i32("vs"), i32("row0"),
			i32("ignore_index"), real("softcap"), buf("rowmax", elems("r"))}},
	// v0 is the shard's first class; a target t is used at t-v0 only
	// where 0 <= t-v0 < vs.
	{Name: "vp_ce_partials", Family: "vocabparallel", Grid: "r blocks", Sizes: sizes("r", "vs", "row0"),
		Args: []Arg{buf("x", elems("r", "vs")), ibuf("target", vpTarget()), buf("weight", elems("vs").when("has_weight")),
			i32("r"), i32("vs"), i32("row0"), i32("v0"), i32("has_weight"), i32("ignore_index"), i32("smooth"),
			real("softcap"), buf("rowmax", elems("r")), buf("partials", elems("r", "5"))}},
	{Name: "vp_ce_denom", Family: "vocabparallel", Grid: "1 block", Sizes: sizes("r", "row0"),
		Args: []Arg{ibuf("target", vpTarget()), buf("partials", elems("r", "5")), i32("r"), i32("row0"),
			i32("ignore_index"), i32("reduction"), buf("denom", elems("4"))}},
	// grad may be x (in place).
	{Name: "vp_ce_rows", Family: "vocabparallel", Grid: "r blocks", Sizes: sizes("r", "vs", "row0", "v"),
		Args: []Arg{buf("x", elems("r", "vs")), ibuf("target", vpTarget()), buf("weight", elems("vs").when("has_weight")),
			i32("r"), i32("vs"), i32("row0"), i32("v0"), i32("v"), i32("has_weight"), i32("ignore_index"),
			real("label_smoothing"), real("softcap"), real("z_loss"), buf("rowmax", elems("r")),
			buf("partials", elems("r", "5")), buf("denom", elems("4").when("has_grad")), i32("has_grad"),
			buf("grad", elems("r", "vs").when("has_grad")), i32("combine"), buf("loss_rows", elems("r")),
			buf("z_rows", elems("r"))}},
	{Name: "vp_ce_reduce", Family: "vocabparallel", Grid: "1 block", Sizes: sizes("r"),
		Args: []Arg{buf("loss_rows", elems("r")), buf("z_rows", elems("r")), i32("r"), i32("has_z"),
			buf("denom", elems("4")), buf("loss", elems("1")), buf("z_out", elems("1"))}},
}

// VPParts is the number of packed partials per row of vp_ce_partials
// (VP_PARTS), and VP* their positions.
const (
	VPParts  = 5
	VPSumExp = 0 // Σ_k exp(x'_k − M)
	VPXT     = 1 // x'_t if t is in the shard, else 0
	VPWX     = 2 // Σ_k w(k) x'_k with label smoothing, else 0
	VPWS     = 3 // Σ_k w(k) with label smoothing, else 0
	VPWT     = 4 // w(t) if t is in the shard, else 0
)
