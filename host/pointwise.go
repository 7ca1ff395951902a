package host

import "github.com/lossengine/lossengine/kernels"

func init() {
	register("pointwise_loss", pointwiseLoss[float32], pointwiseLoss[float64])
}

// pointwiseOp returns element i's loss and its partial derivatives with
// respect to input and target. It is the twin of le_pointwise in
// kernels/lemath.h.
func pointwiseOp[T Float](op int32, x, y, p0, p1 T) (l, dx, dy T) {
	switch op {
	case kernels.OpMSE: // (x - y)^2
		d := x - y
		return d * d, 2 * d, -2 * d
	}
	nan := T(0)
	nan = nan / nan
	return nan, nan, nan
}

// pointwiseLoss mirrors pointwise_loss(op, input, target, n, p0, p1,
// grad_scale, flags, grad_input, grad_target, out). For each i < n, with
// (l, dx, dy) the loss of op at (input[i], target[i]) and its partial
// derivatives:
//
//	grad_input[i]  = grad_scale * dx       if flags & FlagGradInput
//	grad_target[i] = grad_scale * dy       if flags & FlagGradTarget
//	out[i]         = l                     unless flags & FlagReduce
//	out[b]         = Σ_{i in part b} l     if flags & FlagReduce
//
// where, for a grid of B blocks, part b holds the i with
// (i / BlockSize) mod B == b (the grid-stride loop of the kernel). The
// kernel adds each part in a fixed order and tree; the mirror in float64.
func pointwiseLoss[T Float](a argv) error {
	op, x, y, n := int32(a.int(0)), fbuf[T](a, 1), fbuf[T](a, 2), a.int(3)
	p0, p1, gs, flags := T(a.real(4)), T(a.real(5)), T(a.real(6)), int32(a.int(7))
	gx, gy, out := fbuf[T](a, 8), fbuf[T](a, 9), fbuf[T](a, 10)
	wantGX, wantGY, reduce := flags&kernels.FlagGradInput != 0, flags&kernels.FlagGradTarget != 0, flags&kernels.FlagReduce != 0
	const bs = kernels.BlockSize
	elem := func(lo, hi int) float64 {
		var s float64
		for i := lo; i < hi; i++ {
			l, dx, dy := pointwiseOp(op, x[i], y[i], p0, p1)
			if wantGX {
				gx[i] = gs * dx
			}
			if wantGY {
				gy[i] = gs * dy
			}
			if reduce {
				s += float64(l)
			} else {
				out[i] = l
			}
		}
		return s
	}
	if !reduce {
		parallelFor(n, 1<<14, func(lo, hi int) { elem(lo, hi) })
		return nil
	}
	blocks := a.grid.Blocks
	if blocks < 1 {
		return nil
	}
	parallelFor(blocks, 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			var s float64
			for start := b * bs; start < n; start += blocks * bs {
				s += elem(start, min(start+bs, n))
			}
			out[b] = T(s)
		}
	})
	return nil
}
