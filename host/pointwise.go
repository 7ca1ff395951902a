package host

import (
	"sync"

	"github.com/lossengine/lossengine/kernels"
)

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

// pointwiseChunk applies op to one chunk of at most BlockSize elements,
// writes the gradients asked for and returns the sum of the losses, added
// in four lanes (i mod 4) then (l0+l1)+(l2+l3). Common ops have loops of
// their own so that the element function inlines.
func pointwiseChunk[T Float](op int32, x, y, gx, gy, out []T, p0, p1, gs T) float64 {
	var s [4]float64
	y = y[:len(x)]
	switch op {
	case kernels.OpMSE:
		if out == nil && len(gx) == len(x) {
			// The training case: reduced loss, gradient w.r.t. input. Each
			// lane adds at most BlockSize/4 squares in T before the chunk
			// total goes to float64.
			gx = gx[:len(x)]
			g2, ng2 := 2*gs, -2*gs
			i := 0
			var s0, s1, s2, s3 T
			if gy != nil {
				gy = gy[:len(x)]
				for ; i+4 <= len(x); i += 4 {
					xv, yv, gv, hv := x[i:i+4:i+4], y[i:i+4:i+4], gx[i:i+4:i+4], gy[i:i+4:i+4]
					d0, d1, d2, d3 := xv[0]-yv[0], xv[1]-yv[1], xv[2]-yv[2], xv[3]-yv[3]
					gv[0], gv[1], gv[2], gv[3] = g2*d0, g2*d1, g2*d2, g2*d3
					hv[0], hv[1], hv[2], hv[3] = ng2*d0, ng2*d1, ng2*d2, ng2*d3
					s0 += d0 * d0
					s1 += d1 * d1
					s2 += d2 * d2
					s3 += d3 * d3
				}
			} else {
				for ; i+4 <= len(x); i += 4 {
					xv, yv, gv := x[i:i+4:i+4], y[i:i+4:i+4], gx[i:i+4:i+4]
					d0, d1, d2, d3 := xv[0]-yv[0], xv[1]-yv[1], xv[2]-yv[2], xv[3]-yv[3]
					gv[0], gv[1], gv[2], gv[3] = g2*d0, g2*d1, g2*d2, g2*d3
					s0 += d0 * d0
					s1 += d1 * d1
					s2 += d2 * d2
					s3 += d3 * d3
				}
			}
			s = [4]float64{float64(s0), float64(s1), float64(s2), float64(s3)}
			for ; i < len(x); i++ {
				d := x[i] - y[i]
				gx[i] = g2 * d
				if gy != nil {
					gy[i] = ng2 * d
				}
				s[i&3] += float64(d * d)
			}
			break
		}
		for i := range x {
			d := x[i] - y[i]
			if gx != nil {
				gx[i] = gs * (2 * d)
			}
			if gy != nil {
				gy[i] = gs * (-2 * d)
			}
			if out != nil {
				out[i] = d * d
			}
			s[i&3] += float64(d * d)
		}
	default:
		for i := range x {
			l, dx, dy := pointwiseOp(op, x[i], y[i], p0, p1)
			if gx != nil {
				gx[i] = gs * dx
			}
			if gy != nil {
				gy[i] = gs * dy
			}
			if out != nil {
				out[i] = l
			}
			s[i&3] += float64(l)
		}
	}
	return (s[0] + s[1]) + (s[2] + s[3])
}

var chunkSums = sync.Pool{New: func() any { return new([]float64) }}

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
// kernel adds each part in a fixed order and tree. The mirror walks memory
// in order: it adds each BlockSize chunk in float64, then each part's
// chunks in chunk order, so its result does not depend on the core count.
func pointwiseLoss[T Float](a argv) error {
	op, x, y, n := int32(a.int(0)), fbuf[T](a, 1), fbuf[T](a, 2), a.int(3)
	p0, p1, gs, flags := T(a.real(4)), T(a.real(5)), T(a.real(6)), int32(a.int(7))
	gx, gy, out := fbuf[T](a, 8), fbuf[T](a, 9), fbuf[T](a, 10)
	if flags&kernels.FlagGradInput == 0 {
		gx = nil
	}
	if flags&kernels.FlagGradTarget == 0 {
		gy = nil
	}
	reduce := flags&kernels.FlagReduce != 0
	const bs = kernels.BlockSize
	chunks := (n + bs - 1) / bs
	var sums []float64
	if reduce {
		p := chunkSums.Get().(*[]float64)
		defer chunkSums.Put(p)
		if cap(*p) < chunks {
			*p = make([]float64, chunks)
		}
		sums = (*p)[:chunks]
	}
	parallelFor(chunks, 64, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			i, j := c*bs, min(c*bs+bs, n)
			var gxc, gyc, oc []T
			if gx != nil {
				gxc = gx[i:j]
			}
			if gy != nil {
				gyc = gy[i:j]
			}
			if !reduce {
				oc = out[i:j]
			}
			s := pointwiseChunk(op, x[i:j], y[i:j], gxc, gyc, oc, p0, p1, gs)
			if reduce {
				sums[c] = s
			}
		}
	})
	if !reduce {
		return nil
	}
	blocks := a.grid.Blocks
	for b := 0; b < blocks; b++ {
		var s float64
		for c := b; c < chunks; c += blocks {
			s += sums[c]
		}
		out[b] = T(s)
	}
	return nil
}
