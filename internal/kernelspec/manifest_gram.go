package kernelspec

// gramKernels are the kernels of the gram family (kernels/src/gram.h,
// host/gram.go): the perceptual and style losses over feature maps.
var gramKernels = []Kernel{
	// gram_gemm: one block per 16x16 output tile of each of the batch
	// matrices; a block past the last tile reads and writes nothing.
	{Name: "gram_gemm", Family: "gram", Grid: "batch*ceil(m/16)*ceil(n/16) blocks", Sizes: sizes("batch", "m", "n", "k"),
		Requires: []Cond{intLoop("m", "the tile's row index is an int"), intLoop("n", "the tile's column index is an int"),
			intLoop("k", "the k tiles' index is an int")},
		Args: []Arg{buf("a", elems("batch", "m", "k")), buf("b", elems("batch", "k", "n")), buf("c", elems("batch", "m", "n")),
			i32("batch"), i32("m"), i32("n"), i32("k"), i32("trans_a"), i32("trans_b"), real("alpha")}},
	{Name: "gram_diff", Family: "gram", Grid: "min(ceil(n/BlockSize), MaxReduceBlocks) blocks", Sizes: sizes("n"),
		Args: []Arg{buf("gx", elems("n")), buf("gy", elems("n")), i32("n"), buf("d", elems("n")),
			buf("partials", elems("blocks"))}},
	{Name: "feature_diff", Family: "gram", Grid: "min(ceil(n/BlockSize), MaxReduceBlocks) blocks", Sizes: sizes("n"),
		Args: []Arg{buf("x", elems("n")), buf("y", elems("n")), i32("n"), i32("l1"), real("scale"),
			i32("has_grad_input"), buf("grad_input", elems("n").when("has_grad_input")),
			i32("has_grad_target"), buf("grad_target", elems("n").when("has_grad_target")),
			buf("partials", elems("blocks"))}},
	{Name: "gram_layer_sum", Family: "gram", Grid: "1 block", Sizes: sizes("n", "slot"),
		Args: []Arg{buf("x", elems("n")), i32("n"), real("scale"), i32("slot"),
			buf("slots", rule("slot+1", []string{"slot"}, func(v Vals) int64 { return addSat(v[0], 1) }))}},
}
