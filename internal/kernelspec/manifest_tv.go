package kernelspec

// The tv family: total variation of images x [n, c, h, w]; see host/tv.go
// for what each kernel computes. tv_partial takes one block per range of
// an image's pixels (n*chunks blocks), tv_image one per image; a block
// past the last reads and writes nothing. tv_grad is grid-stride.

// Total variation norms (the norm argument of the tv kernels).
const (
	TVL1        int32 = 0 // |d|
	TVL2        int32 = 1 // sqrt of the image's sum of d²
	TVL2Squared int32 = 2 // d²
)

var tvKernels = []Kernel{
	{Name: "tv_partial", Family: "tv", Grid: "n*chunks blocks", Sizes: sizes("n", "c", "h", "w", "chunks"),
		Args: []Arg{buf("x", elems("n", "c", "h", "w")), i32("n"), i32("c"), i32("h"), i32("w"), i32("chunks"),
			i32("norm"), buf("partial", elems("n", "chunks"))}},
	{Name: "tv_image", Family: "tv", Grid: "n blocks", Sizes: sizes("n", "chunks"),
		Args: []Arg{buf("partial", elems("n", "chunks")), i32("n"), i32("chunks"), i32("norm"),
			buf("loss_rows", elems("n")), buf("factor", elems("n"))}},
	{Name: "tv_grad", Family: "tv", Grid: "any (grid-stride)", Sizes: sizes("n", "c", "h", "w"),
		Args: []Arg{buf("x", elems("n", "c", "h", "w")), buf("factor", elems("n")), i32("n"), i32("c"), i32("h"),
			i32("w"), i32("norm"), real("scale"), buf("grad", elems("n", "c", "h", "w"))}},
}
