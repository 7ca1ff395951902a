package losses

import (
	"fmt"
	"sort"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// The Lovász losses of Berman, Rannen Triki and Blaschko, "The
// Lovász-Softmax loss: a tractable surrogate for the optimization of the
// intersection-over-union measure in neural networks" (CVPR 2018), with
// the semantics of segmentation_models_pytorch (SMP) LovaszLoss and of the
// authors' reference code. The kernels are in kernels/src/lovasz.h (host
// mirrors: host/lovasz.go).
//
// For each class c of a group of pixels (one image with per_image, else
// the whole batch), the errors e_i of the kept pixels (not ignore_index)
// are sorted in descending order, ties by pixel index ascending (the
// order is unique, so results are bitwise reproducible), and the class's
// loss is the Lovász extension of the Jaccard loss:
//
//	loss_c = Σ_i e_(i) · g_i,  g_i = J_i − J_{i−1},  J_{−1} = 0,
//	J_i = 1 − (gts − cf_i) / (gts + (i+1) − cf_i)
//
// with gts the group's foreground pixels of class c and cf_i those among
// the first i+1 sorted pixels. The gradient w.r.t. e_(i) is g_i (the sort
// is piecewise constant); ties between equal errors do not change the
// loss, and the gradient follows the tie rule (as torch.sort with
// stable=True on descending errors). The sort keys are 32-bit: the
// float64 host path orders the errors by their float32 roundings (errors
// equal in float32 by pixel index) and adds their full float64 values, so
// it departs from an exact float64 sort only where two errors of one
// class differ by less than a float32 spacing.

// LovaszSoftmaxArgs are the tensors of lovasz_softmax_loss.
type LovaszSoftmaxArgs struct {
	Input     Tensor `loss:"input,in"`        // [N, C, *spatial]: logits (from_logits) or probabilities
	Target    Tensor `loss:"target,in,int32"` // [N, *spatial]: class indices in [0, C), or ignore_index
	Loss      Tensor `loss:"loss,out"`        // one element
	GradInput Tensor `loss:"grad_input,grad"` // like Input; may not alias it
}

// LovaszSoftmaxLossOptions are the options of lovasz_softmax_loss. The
// zero value is SMP's LovaszLoss("multiclass") default: per batch, no
// ignored label, logits, the classes present.
type LovaszSoftmaxLossOptions struct {
	// PerImage averages the loss of each image instead of computing it
	// over the batch's pixels at once.
	PerImage bool `json:"per_image"`
	// IgnoreIndex: pixels with this label are left out. nil: none (SMP's
	// default None; PyTorch's -100 is not applied).
	IgnoreIndex *int `json:"ignore_index"`
	// Classes is "present" (or ""): the mean is over the classes with at
	// least one kept pixel of their label in the group; "all": over all C
	// classes (an absent class then adds its largest probability).
	Classes string `json:"classes"`
	// FromLogits: the input is softmax-ed over C (the gradient is w.r.t.
	// the logits); false: the input is the probabilities. nil means true.
	FromLogits *bool `json:"from_logits"`
	// SkipTargetCheck skips the read-back of the targets that checks
	// them; a label outside [0, C) that is not IgnoreIndex is then the
	// foreground of no class (as in SMP) instead of an error.
	SkipTargetCheck bool `json:"skip_target_check"`
}

// LovaszHingeArgs are the tensors of lovasz_hinge_loss.
type LovaszHingeArgs struct {
	Input     Tensor `loss:"input,in"`        // [N, *spatial] or [N, 1, *spatial]: logits
	Target    Tensor `loss:"target,in,int32"` // input's shape (with or without the size-1 axis 1): 0, 1 or ignore_index
	Loss      Tensor `loss:"loss,out"`        // one element
	GradInput Tensor `loss:"grad_input,grad"` // like Input; may not alias it
}

// LovaszHingeLossOptions are the options of lovasz_hinge_loss. The zero
// value is SMP's LovaszLoss("binary") default: per batch, no ignored
// label. (The authors' lovasz_hinge defaults to per_image=True.)
type LovaszHingeLossOptions struct {
	// PerImage averages the loss of each image (every image counts, one
	// with no kept pixel as 0) instead of computing it over the batch.
	PerImage bool `json:"per_image"`
	// IgnoreIndex: pixels with this label are left out; nil: none.
	IgnoreIndex *int `json:"ignore_index"`
	// SkipTargetCheck skips the read-back of the targets that checks
	// them; a label other than 0, 1 and IgnoreIndex is then background.
	SkipTargetCheck bool `json:"skip_target_check"`
}

// LovaszSoftmaxLoss computes the Lovász-softmax loss (SMP LovaszLoss in
// multiclass mode; Berman et al.'s lovasz_softmax) of input [N, C,
// *spatial] against class indices [N, *spatial], and its gradient w.r.t.
// the input (through the softmax, with from_logits). Per class c of a
// group the errors are |[y = c] − p_c|; the loss is the mean of the
// classes' losses over the classes counted (Classes), and with PerImage
// the mean of that over the N images.
//
// Empty cases, where SMP returns 0 or fails: a group with no class
// counted (all its pixels ignored, or no pixel) has loss 0 and, with
// PerImage, still counts in the mean over the images; an empty input
// (N, C or a spatial size 0) gives 0. Launches lovasz_softmax_errors,
// lovasz_sort_runs, lovasz_merge (log₂ of the groups' length over
// kernelspec.LovaszRun times), lovasz_tile_counts, lovasz_segment_scan,
// lovasz_tile_grad, lovasz_finalize and, for the gradient,
// lovasz_softmax_grad; the workspace is about 4·(4 + 1)·N·C·spatial
// bytes (float32), from the scratch pool. The targets are read back once
// to be checked (see SkipTargetCheck).
func LovaszSoftmaxLoss(dev device.Device, a LovaszSoftmaxArgs, opt LovaszSoftmaxLossOptions) error {
	const name = "lovasz_softmax_loss"
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	s := stage{dev: dev, loss: name}
	return s.finish(lovaszSoftmaxStaged(&s, a, opt))
}

// LovaszHingeLoss computes the binary Lovász hinge (SMP LovaszLoss in
// binary mode; Berman et al.'s lovasz_hinge) of logits [N, *spatial]
// against labels 0/1 (int32), and its gradient w.r.t. the logits: errors
// 1 − x·(2y − 1) sorted descending, loss Σ relu(e_(i)) g_i with the
// Jaccard gradient g of the foreground (y = 1) pixels; with PerImage the
// mean over the N images. A group with no kept pixel has loss 0 (and
// counts in the mean over images); an empty input gives 0. Launches
// lovasz_hinge_errors, lovasz_sort_runs, lovasz_merge, lovasz_tile_counts,
// lovasz_segment_scan, lovasz_tile_grad and lovasz_finalize.
func LovaszHingeLoss(dev device.Device, a LovaszHingeArgs, opt LovaszHingeLossOptions) error {
	const name = "lovasz_hinge_loss"
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	s := stage{dev: dev, loss: name}
	return s.finish(lovaszHingeStaged(&s, a, opt))
}

// lovaszCall is one Lovász call after its shapes are checked: n images of
// hw pixels and c classes (1 for the hinge).
type lovaszCall struct {
	name       string
	hinge      bool
	n, c, hw   int
	perImage   bool
	hasIgnore  bool
	ignore     int32
	all        bool
	fromLogits bool
	skip       bool
	input      Tensor
	target     Tensor
	loss, grad Tensor
}

func lovaszSoftmaxStaged(s *stage, a LovaszSoftmaxArgs, opt LovaszSoftmaxLossOptions) error {
	const name = "lovasz_softmax_loss"
	if !a.Input.Present() {
		return argErr(name, "input", "buffer is nil")
	}
	if err := a.Input.check(name, "input"); err != nil {
		return err
	}
	sh := a.Input.Shape
	if len(sh) < 2 {
		return argErr(name, "input", "has shape %v: want [N, C, *spatial]", sh)
	}
	want := append([]int{sh[0]}, sh[2:]...)
	if a.Target.Present() && !sameShape(a.Target.Shape, want) {
		return argErr(name, "target", "has shape %v: want [N, *spatial] = %v", a.Target.Shape, want)
	}
	if opt.Classes != "" && opt.Classes != "present" && opt.Classes != "all" {
		return argErr(name, "classes", "is %q: want \"present\" or \"all\"", opt.Classes)
	}
	c := lovaszCall{name: name, n: sh[0], c: sh[1], hw: prod(sh[2:]), perImage: opt.PerImage,
		all: opt.Classes == "all", fromLogits: opt.FromLogits == nil || *opt.FromLogits, skip: opt.SkipTargetCheck,
		input: a.Input, target: a.Target, loss: a.Loss, grad: a.GradInput}
	if err := c.ignoreIndex(opt.IgnoreIndex); err != nil {
		return err
	}
	return c.run(s)
}

func lovaszHingeStaged(s *stage, a LovaszHingeArgs, opt LovaszHingeLossOptions) error {
	const name = "lovasz_hinge_loss"
	if !a.Input.Present() {
		return argErr(name, "input", "buffer is nil")
	}
	if err := a.Input.check(name, "input"); err != nil {
		return err
	}
	sh := a.Input.Shape
	if len(sh) < 1 {
		return argErr(name, "input", "has shape %v: want [N, *spatial] or [N, 1, *spatial]", sh)
	}
	if a.Target.Present() && !sameShape(squeezeAxis1(a.Target.Shape), squeezeAxis1(sh)) {
		return argErr(name, "target", "has shape %v: want input's %v (with or without its axis 1 of size 1)", a.Target.Shape, sh)
	}
	c := lovaszCall{name: name, hinge: true, n: sh[0], c: 1, hw: prod(sh[1:]), perImage: opt.PerImage, all: true,
		skip: opt.SkipTargetCheck, input: a.Input, target: a.Target, loss: a.Loss, grad: a.GradInput}
	if err := c.ignoreIndex(opt.IgnoreIndex); err != nil {
		return err
	}
	return c.run(s)
}

// squeezeAxis1 drops axis 1 of a shape when it has size 1.
func squeezeAxis1(sh []int) []int {
	if len(sh) >= 2 && sh[1] == 1 {
		return append(append([]int{}, sh[:1]...), sh[2:]...)
	}
	return sh
}

func (c *lovaszCall) ignoreIndex(p *int) error {
	if p == nil {
		return nil
	}
	if err := checkIgnoreIndex(c.name, *p); err != nil {
		return err
	}
	c.hasIgnore, c.ignore = true, int32(*p)
	return nil
}

// run validates the tensors, binds them and launches.
func (c *lovaszCall) run(s *stage) error {
	name := c.name
	if !c.target.Present() {
		return argErr(name, "target", "buffer is nil")
	}
	if !c.loss.Present() {
		return argErr(name, "loss", "buffer is nil")
	}
	if c.loss.Len() != 1 {
		return argErr(name, "loss", "has shape %v: want 1 element", c.loss.Shape)
	}
	if c.grad.Present() {
		if !sameShape(c.grad.Shape, c.input.Shape) {
			return argErr(name, "grad_input", "has shape %v, want %v", c.grad.Shape, c.input.Shape)
		}
		if sameMemory(c.grad.Buf, c.input.Buf) {
			return argErr(name, "grad_input", "shares memory with input: the gradient may not overwrite the input here")
		}
	}
	var x, tg, loss, grad device.Buffer
	if err := s.bind(in("input", c.input, &x), in("target", c.target, &tg),
		out("loss", c.loss, &loss), out("grad_input", c.grad, &grad)); err != nil {
		return err
	}
	dev := s.dev
	ft := x.DType()
	if err := floatType(name, "input", dev, ft); err != nil {
		return err
	}
	np := c.n * c.hw
	total := np * c.c
	for _, b := range []struct {
		arg      string
		buf      device.Buffer
		dt       device.DType
		n        int
		optional bool
	}{{"input", x, ft, total, false}, {"target", tg, device.Int32, np, false}, {"loss", loss, ft, 1, false},
		{"grad_input", grad, ft, total, true}} {
		if err := checkBuf(name, b.arg, dev, b.buf, b.dt, b.n, b.optional); err != nil {
			return err
		}
	}
	if total == 0 {
		return writeFloats(dev, loss, []float64{0})
	}
	if !c.skip {
		t := make([]int32, np)
		if err := dev.Read(t, tg); err != nil {
			return fmt.Errorf("losses: %s: target: %w", name, err)
		}
		if err := c.checkTargets(t); err != nil {
			return err
		}
	}
	return c.launch(dev, ft, x, tg, loss, grad)
}

// checkTargets requires each label in [0, C) ({0, 1} for the hinge) or
// ignore_index.
func (c *lovaszCall) checkTargets(t []int32) error {
	hi := c.c
	if c.hinge {
		hi = 2
	}
	for i, v := range t {
		if c.hasIgnore && v == c.ignore {
			continue
		}
		if v < 0 || int(v) >= hi {
			ig := "no ignore_index"
			if c.hasIgnore {
				ig = fmt.Sprintf("not ignore_index (%d)", c.ignore)
			}
			return argErr(c.name, "target", "target[%d] = %d is out of range [0, %d) and %s", i, v, hi, ig)
		}
	}
	return nil
}

// lovaszGrid is a grid of enough blocks for work items at per items a
// block, at most 65535 (the kernels loop over the rest).
func lovaszGrid(work, per int) device.Grid {
	b := (work + per - 1) / per
	return device.Grid{Blocks: max(1, min(b, 65535)), Threads: kernelspec.BlockSize}
}

// launch queues the kernels: errors, sort, scan, finalize, gradient.
func (c *lovaszCall) launch(dev device.Device, ft device.DType, x, tg, loss, grad device.Buffer) error {
	name := c.name
	groups, ln := 1, c.n*c.hw
	if c.perImage {
		groups, ln = c.n, c.hw
	}
	nseg := groups * c.c
	total := nseg * ln
	nt := int(kernelspec.LovaszTiles(int64(ln)))
	merges := ln > kernelspec.LovaszRun
	fs := int64(ft.Size())
	bytes := int64(total)*(8+fs) + int64(nseg)*int64(nt)*(8+fs) + int64(nseg)*(4+fs)
	if merges {
		bytes += int64(total) * 8
	}
	if err := checkWorkspace(dev, name, bytes); err != nil {
		return err
	}
	var tmp []device.Buffer
	defer func() { pool.put(tmp...) }()
	type want struct {
		dt device.DType
		n  int
	}
	wants := []want{{device.Int32, 2 * total}, {ft, total}, {device.Int32, nseg * nt}, {device.Int32, nseg * nt},
		{device.Int32, nseg}, {ft, nseg * nt}, {ft, nseg}}
	if merges {
		wants = append(wants, want{device.Int32, 2 * total})
	}
	// The largest first: the pool hands out any free buffer long enough,
	// and a small request must not take a large one that the next call
	// then allocates again.
	order := make([]int, len(wants))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return wants[order[i]].n > wants[order[j]].n })
	tmp = make([]device.Buffer, len(wants))
	for _, i := range order {
		b, err := pool.get(dev, wants[i].dt, wants[i].n)
		if err != nil {
			pool.put(tmp...)
			tmp = nil
			return err
		}
		tmp[i] = b
	}
	pairs, errs, counts, offsets, segFG, tileLoss, segW := tmp[0], tmp[1], tmp[2], tmp[3], tmp[4], tmp[5], tmp[6]
	np := c.n * c.hw
	var err error
	if c.hinge {
		err = dev.Launch("lovasz_hinge_errors", lovaszGrid(np, kernelspec.BlockSize), x, tg, int32(c.n), int32(c.hw),
			b2i(c.perImage), b2i(c.hasIgnore), c.ignore, pairs, errs)
	} else {
		err = dev.Launch("lovasz_softmax_errors", lovaszGrid(np, kernelspec.BlockSize), x, tg, int32(c.n), int32(c.c),
			int32(c.hw), b2i(c.perImage), b2i(c.fromLogits), b2i(c.hasIgnore), c.ignore, pairs, errs)
	}
	if err != nil {
		return err
	}
	nr := (ln + kernelspec.LovaszRun - 1) / kernelspec.LovaszRun
	if err := dev.Launch("lovasz_sort_runs", lovaszGrid(nseg*nr, 1), pairs, int32(nseg), int32(ln)); err != nil {
		return err
	}
	if merges {
		other := tmp[7]
		chunks := nseg * ((ln + 7) / 8)
		for w := kernelspec.LovaszRun; w < ln; w *= 2 {
			if err := dev.Launch("lovasz_merge", lovaszGrid(chunks, kernelspec.BlockSize), pairs, int32(nseg),
				int32(ln), int32(w), other); err != nil {
				return err
			}
			pairs, other = other, pairs
		}
	}
	if err := dev.Launch("lovasz_tile_counts", lovaszGrid(nseg*nt, 1), pairs, int32(nseg), int32(ln), int32(nt),
		counts); err != nil {
		return err
	}
	if err := dev.Launch("lovasz_segment_scan", lovaszGrid(nseg, 1), counts, int32(nseg), int32(nt), offsets,
		segFG); err != nil {
		return err
	}
	scale := 1.0
	if c.hinge {
		scale = 1 / float64(groups)
	}
	if err := dev.Launch("lovasz_tile_grad", lovaszGrid(nseg*nt, 1), pairs, errs, offsets, segFG, int32(nseg),
		int32(ln), int32(nt), int32(c.c), int32(c.hw), scale, b2i(grad != nil), other(grad, errs), tileLoss); err != nil {
		return err
	}
	if err := dev.Launch("lovasz_finalize", oneBlock, tileLoss, segFG, int32(groups), int32(c.c), int32(nt),
		b2i(c.all), loss, segW); err != nil {
		return err
	}
	if grad == nil || c.hinge {
		return nil
	}
	return dev.Launch("lovasz_softmax_grad", lovaszGrid(np, kernelspec.BlockSize), x, int32(c.n), int32(c.c),
		int32(c.hw), b2i(c.perImage), b2i(c.fromLogits), segW, grad)
}

func init() {
	shapes := func(any) map[string][]int { return map[string][]int{"loss": {}} }
	register("lovasz_softmax_loss", "LovaszSoftmaxLoss", LovaszSoftmaxLoss,
		func(a LovaszSoftmaxArgs, o LovaszSoftmaxLossOptions) map[string][]int { return shapes(nil) },
		"lovasz_softmax_errors", "lovasz_sort_runs", "lovasz_merge", "lovasz_tile_counts", "lovasz_segment_scan",
		"lovasz_tile_grad", "lovasz_finalize", "lovasz_softmax_grad")
	register("lovasz_hinge_loss", "LovaszHingeLoss", LovaszHingeLoss,
		func(a LovaszHingeArgs, o LovaszHingeLossOptions) map[string][]int { return shapes(nil) },
		"lovasz_hinge_errors", "lovasz_sort_runs", "lovasz_merge", "lovasz_tile_counts", "lovasz_segment_scan",
		"lovasz_tile_grad", "lovasz_finalize")
}
