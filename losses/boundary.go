package losses

import (
	"fmt"
	"math"
	"strings"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// BoundaryLossArgs are the tensors of boundary_loss: logits Input
// [N, C, *spatial] and DistMap of the same shape, the signed distance map
// of each class's ground truth (SignedDistanceMap computes them: negative
// inside the class, positive outside). GradInput may be Input's buffer.
type BoundaryLossArgs struct {
	Input     Tensor `loss:"input,in"`
	DistMap   Tensor `loss:"dist_map,in"`
	Loss      Tensor `loss:"loss,out"`
	GradInput Tensor `loss:"grad_input,grad"`
}

// BoundaryLossOptions are the options of boundary_loss, named as in the
// reference implementation of Kervadec et al. (its BoundaryLoss takes
// idc; it applies softmax before and takes the mean). The zero value is
// every class, softmax, mean.
type BoundaryLossOptions struct {
	// Idc are the classes the loss sums over (each once, in [0, C));
	// empty: every class. The reference usually leaves out the background
	// (idc=[1] for a binary task): give it explicitly.
	Idc []int `json:"idc"`
	// Activation turns Input into probabilities: "softmax" (or ""), over
	// the classes; "sigmoid", per element; "none", Input already holds them.
	Activation string `json:"activation"`
	// Reduction: Mean, the sum divided by N·|idc|·pixels (the reference's
	// mean over the selected classes; NaN when that is 0, as PyTorch's
	// mean of nothing); Sum; None, the products p·dist as a tensor shaped
	// like Input, zeros in the classes outside Idc.
	Reduction Reduction `json:"reduction"`
}

func activationCode(s string) (int32, bool) {
	switch strings.ToLower(s) {
	case "", "softmax":
		return kernelspec.ActivationSoftmax, true
	case "sigmoid":
		return kernelspec.ActivationSigmoid, true
	case "none":
		return kernelspec.ActivationNone, true
	}
	return 0, false
}

// BoundaryLoss is the boundary loss of Kervadec et al., "Boundary loss for
// highly unbalanced segmentation" (MIDL 2019): with p = activation(Input)
// (softmax over the classes by default),
//
//	loss = mean over n, the classes k in Idc and the pixels j of p[n,k,j]·dist_map[n,k,j]
//
// and its gradient w.r.t. the logits (the softmax Jacobian per pixel:
// p_k (e_k − Σ_l p_l e_l), e_k = dist_map[n,k,j] for k in Idc, else 0).
// The classes outside Idc still enter the softmax, as in the reference,
// which slices the probabilities after the softmax. Launches boundary_loss
// and reduce_sum.
func BoundaryLoss(dev device.Device, a BoundaryLossArgs, o BoundaryLossOptions) error {
	const name = "boundary_loss"
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	s := stage{dev: dev, loss: name}
	return s.finish(boundaryStaged(&s, a, o))
}

func boundaryStaged(s *stage, a BoundaryLossArgs, o BoundaryLossOptions) error {
	const name = "boundary_loss"
	red := o.Reduction
	if !red.valid() {
		return argErr(name, "reduction", "unknown reduction %d", int(red))
	}
	act, ok := activationCode(o.Activation)
	if !ok {
		return argErr(name, "activation", "unknown activation %s: want softmax, sigmoid or none", clip(o.Activation))
	}
	if !a.Input.Present() {
		return argErr(name, "input", "buffer is nil")
	}
	sh := a.Input.Shape
	if len(sh) < 2 {
		return argErr(name, "input", "has shape %v: want [N, C, *spatial]", sh)
	}
	if err := s.check("input", a.Input); err != nil {
		return err
	}
	if !a.DistMap.Present() {
		return argErr(name, "dist_map", "buffer is nil")
	}
	if !sameShape(a.DistMap.Shape, sh) {
		return argErr(name, "dist_map", "has shape %v: want input's %v", a.DistMap.Shape, sh)
	}
	n, c := sh[0], sh[1]
	sp := 1
	for _, d := range sh[2:] {
		sp *= d // within int32: checkShape bounds the product
	}
	if sp == 0 || n == 0 {
		sp, n = 0, 0 // no pixels: the classes need not be counted
	}
	nIdc := c
	if len(o.Idc) > 0 {
		nIdc = len(o.Idc)
		if len(o.Idc) > c {
			return argErr(name, "idc", "has %d classes, input has C = %d", len(o.Idc), c)
		}
		seen := make(map[int]bool, len(o.Idc))
		for i, k := range o.Idc {
			if k < 0 || k >= c {
				return argErr(name, "idc", "idc[%d] = %d is out of range [0, %d)", i, k, c)
			}
			if seen[k] {
				return argErr(name, "idc", "idc[%d] = %d is listed twice", i, k)
			}
			seen[k] = true
		}
	}
	if red == None {
		if a.Loss.Present() && !sameShape(a.Loss.Shape, sh) && a.Loss.Len() != a.Input.Len() {
			return argErr(name, "loss", "has shape %v: want input's %v with reduction none", a.Loss.Shape, sh)
		}
	} else if err := checkLoss(name, a.Loss, red, 0); err != nil {
		return err
	}
	if a.GradInput.Present() && !sameShape(a.GradInput.Shape, sh) {
		return argErr(name, "grad_input", "has shape %v, want %v", a.GradInput.Shape, sh)
	}
	var x, dist, loss, grad device.Buffer
	if err := s.bind(in("input", a.Input, &x), in("dist_map", a.DistMap, &dist), out("loss", a.Loss, &loss),
		out("grad_input", a.GradInput, &grad)); err != nil {
		return err
	}
	dev := s.dev
	ft := x.DType()
	if err := floatType(name, "input", dev, ft); err != nil {
		return err
	}
	total := a.Input.Len()
	for _, ck := range []struct {
		arg string
		b   device.Buffer
		n   int
	}{{"dist_map", dist, total}, {"loss", loss, a.Loss.Len()}, {"grad_input", grad, total}} {
		if err := checkBuf(name, ck.arg, dev, ck.b, ft, ck.n, true); err != nil {
			return err
		}
	}
	if loss == nil && grad == nil {
		return nil
	}
	count := float64(n) * float64(sp) * float64(nIdc)
	scale := 1.0
	if red == Mean {
		scale = 1 / count // +Inf for no element: NaN below, as torch's mean of nothing
	}
	if total == 0 || n == 0 || sp == 0 {
		if loss == nil || red == None {
			return nil
		}
		z, err := pool.get(dev, ft, 1)
		if err != nil {
			return err
		}
		defer pool.put(z)
		if red == Mean {
			scale = math.NaN()
		}
		return dev.Launch("reduce_sum", oneBlock, z, int32(0), scale, int32(0), z, loss)
	}
	use := make([]int32, c)
	if len(o.Idc) == 0 {
		for k := range use {
			use[k] = 1
		}
	} else {
		for _, k := range o.Idc {
			use[k] = 1
		}
	}
	ub, err := pool.get(dev, device.Int32, c)
	if err != nil {
		return err
	}
	defer pool.put(ub)
	if err := dev.Write(ub, use); err != nil {
		return fmt.Errorf("losses: %s: %w", name, err)
	}
	flags := int32(0)
	gs := 1.0
	if red == Mean {
		gs = scale
	}
	if grad != nil {
		flags |= kernelspec.BoundaryGrad
	}
	g := partialGrid(n * sp)
	outBuf := loss
	if red != None || loss == nil {
		flags |= kernelspec.BoundaryReduce
		p, err := pool.get(dev, ft, g.Blocks)
		if err != nil {
			return err
		}
		defer pool.put(p)
		outBuf = p
	}
	if err := dev.Launch("boundary_loss", g, x, dist, ub, int32(n), int32(c), int32(sp), act, gs, flags,
		other(grad, x), outBuf); err != nil {
		return err
	}
	if red == None || loss == nil {
		return nil
	}
	return dev.Launch("reduce_sum", oneBlock, outBuf, int32(g.Blocks), scale, int32(0), outBuf, loss)
}

// SignedDistanceMap writes into dst [N, classes, *spatial] the signed
// distance maps of the integer label maps labels [N, *spatial] (shape is
// labels' shape), the dist_map input of BoundaryLoss, with the convention
// of the reference implementation (one_hot2dist): for class k, a pixel
// outside the class holds its Euclidean distance to the class, a pixel
// inside −(its distance to the outside − 1), so 0 on the class's border
// pixels and negative deeper in (the image's edge is no border: distances
// are to the nearest pixel of the other side, as scipy's
// distance_transform_edt, which the reference uses, measures them).
// Distances are in units of spacing (one
// value per spatial dimension; nil: 1). A class absent from an image gets
// zeros, as in the reference, and so does a class that fills the image
// (no border: the reference's distance transform is undefined there).
// The transform is exact (Felzenszwalb and Huttenlocher's linear-time
// squared Euclidean distance transform, one axis after another), for any
// number of spatial dimensions. Labels must lie in [0, classes).
func SignedDistanceMap[T Float](dst []T, labels []int32, shape []int, classes int, spacing []float64) error {
	if err := host.SignedDistanceMap(dst, labels, shape, classes, spacing); err != nil {
		return argErr("signed_distance_map", "labels", "%v", err)
	}
	return nil
}

func init() {
	register("boundary_loss", "BoundaryLoss", BoundaryLoss,
		func(a BoundaryLossArgs, o BoundaryLossOptions) map[string][]int {
			return map[string][]int{"loss": lossShape(o.Reduction, a.Input.Shape)}
		}, "boundary_loss", "reduce_sum")
}
