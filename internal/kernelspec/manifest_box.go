package kernelspec

// boxKernels are the kernels of the box family (kernels/src/box.h,
// host/box.go): torchvision's box IoU losses over [n, 4] box pairs.
var boxKernels = []Kernel{
	// out holds one partial sum per block with BoxReduce, else one loss
	// per box.
	{Name: "box_iou_loss", Family: "box", Grid: "min(ceil(n/BlockSize), MaxReduceBlocks) blocks", Sizes: sizes("n"),
		Args: []Arg{i32("op"), buf("boxes1", elems("n", "4")), buf("boxes2", elems("n", "4")), i32("n"), real("eps"),
			real("grad_scale"), i32("flags"),
			buf("grad1", elems("n", "4").whenBits("flags", BoxGrad1, "BoxGrad1")),
			buf("grad2", elems("n", "4").whenBits("flags", BoxGrad2, "BoxGrad2")),
			buf("out", rule("flags&BoxReduce ? blocks : n", []string{"flags", "blocks", "n"}, func(v Vals) int64 {
				if int32(v[0])&BoxReduce != 0 {
					return v[1]
				}
				return v[2]
			}))}},
}

// Box loss ops (the op argument of box_iou_loss).
const (
	BoxIoU  int32 = 0 // 1 − IoU
	BoxGIoU int32 = 1 // generalized IoU loss
	BoxDIoU int32 = 2 // distance IoU loss
	BoxCIoU int32 = 3 // complete IoU loss
)

// box_iou_loss flag bits.
const (
	BoxGrad1  int32 = 1 // write grad1
	BoxGrad2  int32 = 2 // write grad2
	BoxReduce int32 = 4 // out gets one partial sum per block; otherwise out[i] is box i's loss
)
