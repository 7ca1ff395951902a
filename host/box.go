package host

import (
	"math"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() {
	register("box_iou_loss", boxIoULoss[float32], boxIoULoss[float64])
}

// boxLoss is the loss of one pair of boxes p = (x1, y1, x2, y2) and
// g = (u1, v1, u2, v2) for op, with its gradient w.r.t. each coordinate of
// p (dp) and g (dg), in float64, as torchvision.ops computes it:
//
//	inter = iw·ih if iw > 0 and ih > 0, else 0,
//	        iw = min(x2, u2) − max(x1, u1), ih = min(y2, v2) − max(y1, v1)
//	union = (x2 − x1)(y2 − y1) + (u2 − u1)(v2 − v1) − inter
//	iou   = inter / (union + eps)
//	C     = the enclosing box [min(x1, u1), min(y1, v1), max(x2, u2), max(y2, v2)], cw × ch
//	BoxIoU:  1 − iou, computed as ((union − inter) + eps) / (union + eps)
//	BoxGIoU: 1 − iou + (cw·ch − union) / (cw·ch + eps)
//	BoxDIoU: 1 − iou + ρ² / (cw² + ch² + eps), ρ the distance of the centres
//	BoxCIoU: BoxDIoU + α·v, v = (4/π²)(atan(w_g/h_g) − atan(w_p/h_p))²,
//	         α = v / (1 − iou + v + eps), a constant for the gradient
//	         (torchvision computes it under no_grad)
//
// The gradient of min and max splits a tie evenly between the two
// arguments, as PyTorch's minimum and maximum do; the gradient of
// atan(w/h) is taken as (h, −w)/(w² + h²), finite for h = 0, w ≠ 0. Each
// quotient's derivative is formed as ((dX − dY) − value·dY) / divisor
// (for 1 − iou: X = union − inter, Y = union), which is exact where the
// boxes coincide, and so is the kernel's in float32.
func boxLoss(op int32, p, g *[4]float64, eps float64, dp, dg *[4]float64) float64 {
	x1, y1, x2, y2 := p[0], p[1], p[2], p[3]
	u1, v1, u2, v2 := g[0], g[1], g[2], g[3]
	ix1, iy1, ix2, iy2 := max(x1, u1), max(y1, v1), min(x2, u2), min(y2, v2)
	iw, ih := ix2-ix1, iy2-iy1
	hi, inter := 0.0, 0.0
	if iw > 0 && ih > 0 {
		hi, inter = 1, iw*ih
	}
	w1, h1, w2, h2 := x2-x1, y2-y1, u2-u1, v2-v1
	uni := w1*h1 + w2*h2 - inter
	ue := uni + eps
	iou := inter / ue
	liou := ((uni - inter) + eps) / ue
	loss := liou
	cx1, cy1, cx2, cy2 := min(x1, u1), min(y1, v1), max(x2, u2), max(y2, v2)
	cw, ch := cx2-cx1, cy2-cy1
	sx1, sy1, sx2, sy2 := selMax(x1, u1), selMax(y1, v1), selMin(x2, u2), selMin(y2, v2)
	tx1, ty1, tx2, ty2 := selMin(x1, u1), selMin(y1, v1), selMax(x2, u2), selMax(y2, v2)
	// Derivatives w.r.t. q = (x1, y1, x2, y2, u1, v1, u2, v2): of the
	// intersection, of area1 + area2, of the enclosing width and height, of
	// the centre offsets and of atan(w2/h2) − atan(w1/h1).
	dI := [8]float64{-hi * ih * sx1, -hi * iw * sy1, hi * ih * sx2, hi * iw * sy2,
		-hi * ih * (1 - sx1), -hi * iw * (1 - sy1), hi * ih * (1 - sx2), hi * iw * (1 - sy2)}
	dA := [8]float64{-h1, -w1, h1, w1, -h2, -w2, h2, w2}
	dW := [8]float64{-tx1, 0, tx2, 0, -(1 - tx1), 0, 1 - tx2, 0}
	dH := [8]float64{0, -ty1, 0, ty2, 0, -(1 - ty1), 0, 1 - ty2}
	dX := [8]float64{0.5, 0, 0.5, 0, -0.5, 0, -0.5, 0}
	dY := [8]float64{0, 0.5, 0, 0.5, 0, -0.5, 0, -0.5}
	var dT [8]float64
	egi, ce, ed, diag, dx, dy, gv := 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0
	switch op {
	case kernelspec.BoxGIoU:
		area := cw * ch
		ce = area + eps
		egi = (area - uni) / ce
		loss += egi
	case kernelspec.BoxDIoU, kernelspec.BoxCIoU:
		diag = cw*cw + ch*ch + eps
		dx, dy = 0.5*(x1+x2)-0.5*(u1+u2), 0.5*(y1+y2)-0.5*(v1+v2)
		ed = (dx*dx + dy*dy) / diag
		loss += ed
		if op == kernelspec.BoxCIoU {
			const k = 4 / (math.Pi * math.Pi)
			da := math.Atan(w2/h2) - math.Atan(w1/h1)
			v := k * da * da
			alpha := v / (1 - iou + v + eps)
			loss += alpha * v
			gv = alpha * 2 * k * da
			r1, r2 := w1*w1+h1*h1, w2*w2+h2*h2
			dT = [8]float64{h1 / r1, -w1 / r1, -h1 / r1, w1 / r1, -h2 / r2, w2 / r2, h2 / r2, -w2 / r2}
		}
	}
	rue, rce, rdiag := 1/ue, 1/ce, 1/diag // float64 reciprocals: the kernel divides
	for q := range 8 {
		dU := dA[q] - dI[q]
		d := ((dU - dI[q]) - liou*dU) * rue
		switch op {
		case kernelspec.BoxGIoU:
			dC := ch*dW[q] + cw*dH[q]
			d += ((dC - dU) - egi*dC) * rce
		case kernelspec.BoxDIoU, kernelspec.BoxCIoU:
			drho, ddiag := 2*(dx*dX[q]+dy*dY[q]), 2*(cw*dW[q]+ch*dH[q])
			d += (drho-ed*ddiag)*rdiag + gv*dT[q]
		}
		if q < 4 {
			dp[q] = d
		} else {
			dg[q-4] = d
		}
	}
	return loss
}

// selMin is d min(a, b)/da: 1, ½ on a tie, 0 (d/db is 1 − selMin(a, b)).
func selMin(a, b float64) float64 {
	switch {
	case a < b:
		return 1
	case a == b:
		return 0.5
	}
	return 0
}

// selMax is d max(a, b)/da: 1, ½ on a tie, 0.
func selMax(a, b float64) float64 {
	switch {
	case a > b:
		return 1
	case a == b:
		return 0.5
	}
	return 0
}

// boxIoULoss mirrors box_iou_loss(op, boxes1, boxes2, n, eps, grad_scale,
// flags, grad1, grad2, out): for each box pair i < n, (l, dp, dg) =
// boxLoss(op, boxes1[4i:4i+4], boxes2[4i:4i+4], eps), computed in float64
// from the stored values (the kernel computes in float32), and
//
//	grad1[4i+k] = grad_scale·dp[k]          if flags&BoxGrad1
//	grad2[4i+k] = grad_scale·dg[k]          if flags&BoxGrad2
//	out[i]      = l                         unless flags&BoxReduce
//	out[b]      = Σ l over block b's boxes  if flags&BoxReduce
//
// where block b of a grid of B blocks holds the boxes i with
// (i / BlockSize) mod B == b (added here in float64, in index order).
// grad1 may be boxes1 and grad2 may be boxes2.
func boxIoULoss[T Float](a argv) error {
	op, b1, b2, n, eps, gs, flags := int32(a.int(0)), fbuf[T](a, 1), fbuf[T](a, 2), a.int(3), a.real(4), a.real(5), int32(a.int(6))
	g1, g2, out := fbuf[T](a, 7), fbuf[T](a, 8), fbuf[T](a, 9)
	const bs = kernelspec.BlockSize
	blocks := a.grid.Blocks
	reduce := flags&kernelspec.BoxReduce != 0
	parallelFor(blocks, 1, func(lo, hi int) {
		var p, g, dp, dg [4]float64
		for b := lo; b < hi; b++ {
			acc := 0.0
			for start := b * bs; start < n; start += blocks * bs {
				for i := start; i < min(start+bs, n); i++ {
					for k := range 4 {
						p[k], g[k] = float64(b1[4*i+k]), float64(b2[4*i+k])
					}
					l := boxLoss(op, &p, &g, eps, &dp, &dg)
					if flags&kernelspec.BoxGrad1 != 0 {
						for k := range 4 {
							g1[4*i+k] = T(gs * dp[k])
						}
					}
					if flags&kernelspec.BoxGrad2 != 0 {
						for k := range 4 {
							g2[4*i+k] = T(gs * dg[k])
						}
					}
					if reduce {
						acc += l
					} else {
						out[i] = T(l)
					}
				}
			}
			if reduce {
				out[b] = T(acc)
			}
		}
	})
	return nil
}
