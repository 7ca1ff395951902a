package losses

import (
	"math"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// BoxArgs are the tensors of the box IoU losses (torchvision.ops): boxes1
// and boxes2 of one shape [..., 4], usually [N, 4], each box (x1, y1, x2,
// y2); box i of boxes1 is compared with box i of boxes2. Loss is one
// element, or the leading shape [...] with reduction None. GradBoxes1 and
// GradBoxes2 (shaped like the boxes) may be their own boxes' buffers.
type BoxArgs struct {
	Boxes1     Tensor `loss:"boxes1,in"`
	Boxes2     Tensor `loss:"boxes2,in"`
	Loss       Tensor `loss:"loss,out"`
	GradBoxes1 Tensor `loss:"grad_boxes1,grad"`
	GradBoxes2 Tensor `loss:"grad_boxes2,grad"`
}

// BoxLossOptions are the options of the box IoU losses, torchvision's
// keyword arguments. Their zero value is torchvision's defaults, and
// torchvision's default reduction is "none" (one loss per box pair), not
// the "mean" of torch.nn.functional: Reduction is a pointer, nil meaning
// None (ReductionOpt(Mean) asks for the mean).
type BoxLossOptions struct {
	// Reduction: nil or None, one loss per pair; Mean, the mean over the
	// pairs (0 for no pairs, as torchvision returns); Sum.
	Reduction *Reduction `json:"reduction"`
	// Eps >= 0 keeps the divisions finite; nil: 1e-7.
	Eps *float64 `json:"eps"`
}

// ReductionOpt returns a pointer to r, for options whose Reduction is a
// pointer (nil meaning the peer's default).
func ReductionOpt(r Reduction) *Reduction { return &r }

func (o BoxLossOptions) reduction() Reduction {
	if o.Reduction == nil {
		return None
	}
	return *o.Reduction
}

// BoxIoULossOptions are the options of box_iou_loss.
type BoxIoULossOptions struct{ BoxLossOptions }

// GeneralizedBoxIoULossOptions are the options of generalized_box_iou_loss.
type GeneralizedBoxIoULossOptions struct{ BoxLossOptions }

// DistanceBoxIoULossOptions are the options of distance_box_iou_loss.
type DistanceBoxIoULossOptions struct{ BoxLossOptions }

// CompleteBoxIoULossOptions are the options of complete_box_iou_loss.
type CompleteBoxIoULossOptions struct{ BoxLossOptions }

// BoxIoULoss is 1 − IoU per pair of boxes, with IoU = inter / (union +
// eps) computed as in torchvision.ops (which has the IoU, box_iou, but not
// this loss): the plain IoU loss of the detection literature.
//
// The box losses, as torchvision.ops computes them: inter is the area of
// the intersection (0 unless it has a positive width and height), union =
// area1 + area2 − inter with area = (x2 − x1)(y2 − y1), and the enclosing
// box C spans [min x1, min y1, max x2, max y2]. The boxes are not checked:
// a box with x2 < x1 or y2 < y1 enters the same formulas (a negative
// area), as in torchvision's losses, which do not check either. A
// zero-area pair gives a finite loss for eps > 0 (no NaN), except complete
// IoU's aspect term of a box with zero width and height (atan(0/0), NaN in
// torchvision too). The gradient of min and max splits a tie evenly, as
// PyTorch's; identical boxes have loss eps/(area + eps). Launches
// box_iou_loss and reduce_sum.
func BoxIoULoss(dev device.Device, a BoxArgs, o BoxIoULossOptions) error {
	return boxLoss(dev, "box_iou_loss", kernelspec.BoxIoU, a, o.BoxLossOptions)
}

// GeneralizedBoxIoULoss is torchvision.ops.generalized_box_iou_loss:
// 1 − IoU + (area(C) − union) / (area(C) + eps) (see BoxIoULoss).
func GeneralizedBoxIoULoss(dev device.Device, a BoxArgs, o GeneralizedBoxIoULossOptions) error {
	return boxLoss(dev, "generalized_box_iou_loss", kernelspec.BoxGIoU, a, o.BoxLossOptions)
}

// DistanceBoxIoULoss is torchvision.ops.distance_box_iou_loss:
// 1 − IoU + ρ² / (cw² + ch² + eps), ρ the distance between the centres and
// cw × ch the size of the enclosing box (see BoxIoULoss).
func DistanceBoxIoULoss(dev device.Device, a BoxArgs, o DistanceBoxIoULossOptions) error {
	return boxLoss(dev, "distance_box_iou_loss", kernelspec.BoxDIoU, a, o.BoxLossOptions)
}

// CompleteBoxIoULoss is torchvision.ops.complete_box_iou_loss: the
// distance IoU loss plus α·v, v = (4/π²)(atan(w2/h2) − atan(w1/h1))²
// (boxes2 is the target), α = v / (1 − IoU + v + eps), α held constant in
// the gradient as torchvision computes it under no_grad (see BoxIoULoss).
func CompleteBoxIoULoss(dev device.Device, a BoxArgs, o CompleteBoxIoULossOptions) error {
	return boxLoss(dev, "complete_box_iou_loss", kernelspec.BoxCIoU, a, o.BoxLossOptions)
}

func boxLoss(dev device.Device, name string, op int32, a BoxArgs, o BoxLossOptions) error {
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	s := stage{dev: dev, loss: name}
	return s.finish(boxStaged(&s, name, op, a, o))
}

func boxStaged(s *stage, name string, op int32, a BoxArgs, o BoxLossOptions) error {
	red := o.reduction()
	if !red.valid() {
		return argErr(name, "reduction", "unknown reduction %d", int(red))
	}
	eps := 1e-7
	if o.Eps != nil {
		eps = *o.Eps
	}
	if !(eps >= 0) || math.IsInf(eps, 1) {
		return argErr(name, "eps", "must be finite and >= 0, got %v", eps)
	}
	if !a.Boxes1.Present() {
		return argErr(name, "boxes1", "buffer is nil")
	}
	if !a.Boxes2.Present() {
		return argErr(name, "boxes2", "buffer is nil")
	}
	sh := a.Boxes1.Shape
	if len(sh) == 0 || sh[len(sh)-1] != 4 {
		return argErr(name, "boxes1", "has shape %v: want [N, 4] (x1, y1, x2, y2)", sh)
	}
	if !sameShape(a.Boxes2.Shape, sh) {
		return argErr(name, "boxes2", "has shape %v: want boxes1's %v", a.Boxes2.Shape, sh)
	}
	if err := s.check("boxes1", a.Boxes1); err != nil {
		return err
	}
	n := a.Boxes1.Len() / 4
	if err := checkLoss(name, a.Loss, red, n); err != nil {
		return err
	}
	for _, g := range []struct {
		arg string
		t   Tensor
	}{{"grad_boxes1", a.GradBoxes1}, {"grad_boxes2", a.GradBoxes2}} {
		if g.t.Present() && !sameShape(g.t.Shape, sh) {
			return argErr(name, g.arg, "has shape %v, want %v", g.t.Shape, sh)
		}
	}
	var b1, b2, loss, g1, g2 device.Buffer
	if err := s.bind(in("boxes1", a.Boxes1, &b1), in("boxes2", a.Boxes2, &b2), out("loss", a.Loss, &loss),
		out("grad_boxes1", a.GradBoxes1, &g1), out("grad_boxes2", a.GradBoxes2, &g2)); err != nil {
		return err
	}
	dev := s.dev
	ft := b1.DType()
	if err := floatType(name, "boxes1", dev, ft); err != nil {
		return err
	}
	for _, c := range []struct {
		arg string
		b   device.Buffer
		n   int
	}{{"boxes2", b2, 4 * n}, {"loss", loss, a.Loss.Len()}, {"grad_boxes1", g1, 4 * n}, {"grad_boxes2", g2, 4 * n}} {
		if err := checkBuf(name, c.arg, dev, c.b, ft, c.n, true); err != nil {
			return err
		}
	}
	if loss == nil && g1 == nil && g2 == nil {
		return nil
	}
	if n == 0 {
		if loss == nil || red == None {
			return nil
		}
		// The mean of no pairs is 0 in torchvision (0·sum), the sum 0.
		z, err := pool.get(dev, ft, 1)
		if err != nil {
			return err
		}
		defer pool.put(z)
		return dev.Launch("reduce_sum", oneBlock, z, int32(0), 1.0, int32(0), z, loss)
	}
	gs := 1.0
	if red == Mean {
		gs = 1 / float64(n)
	}
	flags := int32(0)
	if g1 != nil {
		flags |= kernelspec.BoxGrad1
	}
	if g2 != nil {
		flags |= kernelspec.BoxGrad2
	}
	g := partialGrid(n)
	outBuf := loss
	if red != None || loss == nil {
		flags |= kernelspec.BoxReduce
		p, err := pool.get(dev, ft, g.Blocks)
		if err != nil {
			return err
		}
		defer pool.put(p)
		outBuf = p
	}
	if err := dev.Launch("box_iou_loss", g, op, b1, b2, int32(n), eps, gs, flags, other(g1, b1), other(g2, b2), outBuf); err != nil {
		return err
	}
	if red == None || loss == nil {
		return nil
	}
	return dev.Launch("reduce_sum", oneBlock, outBuf, int32(g.Blocks), gs, int32(0), outBuf, loss)
}

func boxShapes[O interface{ reduction() Reduction }](a BoxArgs, o O) map[string][]int {
	sh := a.Boxes1.Shape
	if len(sh) == 0 || sh[len(sh)-1] != 4 {
		return map[string][]int{"loss": {}} // the call refuses boxes1
	}
	return map[string][]int{"loss": lossShape(o.reduction(), sh[:len(sh)-1])}
}

func init() {
	register("box_iou_loss", "BoxIoULoss", BoxIoULoss, boxShapes[BoxIoULossOptions], "box_iou_loss", "reduce_sum")
	register("generalized_box_iou_loss", "GeneralizedBoxIoULoss", GeneralizedBoxIoULoss,
		boxShapes[GeneralizedBoxIoULossOptions], "box_iou_loss", "reduce_sum")
	register("distance_box_iou_loss", "DistanceBoxIoULoss", DistanceBoxIoULoss,
		boxShapes[DistanceBoxIoULossOptions], "box_iou_loss", "reduce_sum")
	register("complete_box_iou_loss", "CompleteBoxIoULoss", CompleteBoxIoULoss,
		boxShapes[CompleteBoxIoULossOptions], "box_iou_loss", "reduce_sum")
}
