package kernelspec

import "fmt"

// matmulKernels are the kernels of the matmul family (kernels/src/matmul.h,
// host/matmul.go): the general matrix product with a bias that the fused
// linear layers build on.
var matmulKernels = []Kernel{
	// matmul: one block per 64x64 output tile, ceil(m/64)*ceil(n/64)
	// blocks (none where m or n is 0); a block past the last tile reads
	// and writes nothing. Every index is 64-bit: no limit below int32's.
	// c is read only where beta != 0, but its size is the same either way.
	// The operands start at their first stored rows a_row0, b_row0 and
	// c_row0 (rows of trans_a ? m : k, trans_b ? k : n and n elements).
	{Name: "matmul", Family: "matmul", Grid: "ceil(m/64)*ceil(n/64) blocks", Sizes: sizes("m", "n", "k", "a_row0", "b_row0", "c_row0"),
		Args: []Arg{buf("a", mmNeed("a_row0", "trans_a", "m", "k")), buf("b", mmNeed("b_row0", "trans_b", "k", "n")),
			buf("c", rule("(c_row0+m)*n", []string{"c_row0", "m", "n"}, func(v Vals) int64 { return mulSat(addSat(v[0], v[1]), v[2]) })),
			i32("m"), i32("n"), i32("k"), i32("trans_a"), i32("trans_b"), real("alpha"), real("beta"),
			i32("has_bias"), buf("bias", elems("n").when("has_bias")), i32("a_row0"), i32("b_row0"), i32("c_row0")}},
}

// mmNeed is the need of an operand of rows×cols (stored as cols×rows when
// trans) that starts at stored row row0: row0·(trans ? rows : cols) +
// rows·cols.
func mmNeed(row0, trans, rows, cols string) *Need {
	return rule(fmt.Sprintf("%s*(%s ? %s : %s)+%s*%s", row0, trans, rows, cols, rows, cols),
		[]string{row0, trans, rows, cols}, func(v Vals) int64 {
			stored := v[3]
			if v[1] != 0 {
				stored = v[2]
			}
			return addSat(mulSat(v[0], stored), mulSat(v[2], v[3]))
		})
}
