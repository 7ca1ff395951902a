package kernelspec

// barlowKernels are the kernels of the barlow family (kernels/src/barlow.h,
// host/barlow.go): Barlow Twins' loss; its matrix products are the gram
// family's gram_gemm.
var barlowKernels = []Kernel{
	// bt_norm: one thread per column, grid-stride over the d columns.
	{Name: "bt_norm", Family: "barlow", Grid: "ceil(d/BlockSize) blocks (any count: grid-stride)", Sizes: sizes("n", "d"),
		Requires: []Cond{intLoop("n", "the row index is an int")},
		Args: []Arg{buf("z", elems("n", "d")), i32("n"), i32("d"), i32("unbiased"), real("eps"),
			buf("zn", elems("n", "d")), buf("rstd", elems("d"))}},
	// bt_cc: out-of-place partials, one per block; c in place.
	{Name: "bt_cc", Family: "barlow", Grid: "min(ceil(d*d/BlockSize), MaxReduceBlocks) blocks", Sizes: sizes("d"),
		Args: []Arg{buf("c", elems("d", "d")), i32("d"), real("lambd"), real("scale"), i32("has_grad"),
			buf("partials", elems("blocks"))}},
	{Name: "bt_norm_back", Family: "barlow", Grid: "ceil(d/BlockSize) blocks (any count: grid-stride)", Sizes: sizes("n", "d"),
		Requires: []Cond{intLoop("n", "the row index is an int")},
		Args: []Arg{buf("zn", elems("n", "d")), buf("rstd", elems("d")), i32("n"), i32("d"), i32("unbiased"),
			buf("g", elems("n", "d"))}},
}
