package kernelspec

// boundaryKernels are the kernels of the boundary family
// (kernels/src/boundary.h, host/boundary.go): the boundary loss over
// logits [n, c, s] and signed distance maps of the same shape.
var boundaryKernels = []Kernel{
	// out holds one partial sum per block with BoundaryReduce, else one
	// value per element.
	{Name: "boundary_loss", Family: "boundary", Grid: "min(ceil(n*s/BlockSize), MaxReduceBlocks) blocks",
		Sizes: sizes("n", "c", "s"),
		Args: []Arg{buf("x", elems("n", "c", "s")), buf("dist", elems("n", "c", "s")), ibuf("use", elems("c")),
			i32("n"), i32("c"), i32("s"), i32("act"), real("grad_scale"), i32("flags"),
			buf("grad", elems("n", "c", "s").whenBits("flags", BoundaryGrad, "BoundaryGrad")),
			buf("out", rule("flags&BoundaryReduce ? blocks : n*c*s", []string{"flags", "blocks", "n", "c", "s"},
				func(v Vals) int64 {
					if int32(v[0])&BoundaryReduce != 0 {
						return v[1]
					}
					return mulSat(mulSat(v[2], v[3]), v[4])
				}))}},
}

// Activations (the act argument of boundary_loss).
const (
	ActivationSoftmax int32 = 0 // softmax over the classes
	ActivationSigmoid int32 = 1 // a sigmoid per element
	ActivationNone    int32 = 2 // the input is the probabilities
)

// boundary_loss flag bits.
const (
	BoundaryGrad   int32 = 1 // write grad
	BoundaryReduce int32 = 2 // out gets one partial sum per block; otherwise out[i] is element i's p·dist
)
