package kernelspec

// matmulKernels are the kernels of the matmul family (kernels/src/matmul.h,
// host/matmul.go): the general matrix product with a bias that the fused
// linear layers build on.
var matmulKernels = []Kernel{
	// matmul: one block per 64x64 output tile, ceil(m/64)*ceil(n/64)
	// blocks (none where m or n is 0); a block past the last tile reads
	// and writes nothing. Every index is 64-bit: no limit below int32's.
	// c is read only where beta != 0, but its size is the same either way.
	{Name: "matmul", Family: "matmul", Grid: "ceil(m/64)*ceil(n/64) blocks", Sizes: sizes("m", "n", "k"),
		Args: []Arg{buf("a", elems("m", "k")), buf("b", elems("k", "n")), buf("c", elems("m", "n")),
			i32("m"), i32("n"), i32("k"), i32("trans_a"), i32("trans_b"), real("alpha"), real("beta"),
			i32("has_bias"), buf("bias", elems("n").when("has_bias"))}},
}
