package losses

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// Gradient clipping: torch.nn.utils.clip_grad_norm_ and clip_grad_value_,
// in place on a list of gradient buffers (ClipGradNorm, ClipGradValue).
// These are not losses and have no gradient; the registry declares each
// over one flat tensor (ClipGradNormFlat, ClipGradValueFlat) so that the
// declaration-driven tools run them.

// ErrNonfiniteNorm is returned by ClipGradNorm with ErrorIfNonfinite when
// the total norm is NaN or infinite, wrapped in an *ArgError naming grads
// (input in the flat form), as a NaN policy's error is; no gradient is
// then written (torch raises a RuntimeError).
var ErrNonfiniteNorm = errors.New("losses: clip_grad_norm: the total norm of the gradients is non-finite")

// ClipNormType is the order p of a norm: a number > 0, or +Inf (JSON: a
// number, or "inf"). Its zero value means 2.
type ClipNormType float64

// UnmarshalJSON accepts a number or the string "inf" (torch's
// float('inf')).
func (p *ClipNormType) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		if strings.EqualFold(s, "inf") || strings.EqualFold(s, "infinity") {
			*p = ClipNormType(math.Inf(1))
			return nil
		}
		return fmt.Errorf("%q is not a number or \"inf\"", s)
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("%s is not a number or \"inf\"", b)
	}
	*p = ClipNormType(f)
	return nil
}

// ClipMode picks whose global-norm clipping ClipGradNorm follows.
type ClipMode string

const (
	// ClipTorch (the default, ""): coef = min(max_norm / (total + 1e-6), 1),
	// torch.nn.utils.clip_grad_norm_.
	ClipTorch ClipMode = "torch"
	// ClipOptax: coef = max_norm / max(total, max_norm),
	// optax.clip_by_global_norm (norm_type 2 only).
	ClipOptax ClipMode = "optax"
)

// ClipGradNormOptions are the options of ClipGradNorm, torch's keyword
// arguments of clip_grad_norm_ (and Mode).
type ClipGradNormOptions struct {
	// MaxNorm > 0 (required; +Inf never clips). torch also takes 0 (every
	// gradient zeroed) and negative values (gradients flipped): here those
	// and NaN are an *ArgError.
	MaxNorm float64 `json:"max_norm"`
	// NormType is p > 0 or +Inf (the largest |g|); 0 (the zero value)
	// means 2.
	NormType ClipNormType `json:"norm_type"`
	// ErrorIfNonfinite: a NaN or infinite total norm returns an error
	// wrapping ErrNonfiniteNorm and writes nothing. Without it, as in
	// torch, the gradients are scaled by the coefficient of that total
	// (NaN: every gradient NaN; +Inf: 0, NaN where a gradient is infinite).
	ErrorIfNonfinite bool `json:"error_if_nonfinite"`
	// Mode: ClipTorch ("" or "torch") or ClipOptax ("optax").
	Mode ClipMode `json:"mode"`
}

// ClipGradValueOptions are the options of ClipGradValue.
type ClipGradValueOptions struct {
	// ClipValue > 0 (required; +Inf never clips): every element is clamped
	// to [−ClipValue, ClipValue]. torch also takes 0 (every element
	// zeroed) and negative values (every element set to ClipValue): here
	// those and NaN are an *ArgError.
	ClipValue float64 `json:"clip_value"`
}

// clipNorm is the validated form of ClipGradNormOptions.
type clipNorm struct {
	p       float64
	pinf    int32
	maxNorm float64
	mode    int32
	errNF   bool
	errArg  string // the argument a non-finite total's error names
}

func (o ClipGradNormOptions) check(name string) (clipNorm, error) {
	var c clipNorm
	if !(o.MaxNorm > 0) {
		return c, argErr(name, "max_norm", "must be > 0, got %v", o.MaxNorm)
	}
	p := float64(o.NormType)
	if p == 0 {
		p = 2
	}
	if !(p > 0) {
		return c, argErr(name, "norm_type", "must be > 0 or inf, got %v", float64(o.NormType))
	}
	switch o.Mode {
	case "", ClipTorch:
	case ClipOptax:
		if p != 2 {
			return c, argErr(name, "norm_type", "mode optax clips by the 2-norm only, got %v", p)
		}
		c.mode |= kernelspec.ClipOptax
	default:
		return c, argErr(name, "mode", "unknown mode %s (torch or optax)", clip(string(o.Mode)))
	}
	if math.IsInf(p, 1) {
		c.pinf, p = 1, 1
	}
	if o.ErrorIfNonfinite {
		c.mode |= kernelspec.ClipErrorNonfinite
		c.errNF = true
	}
	c.p, c.maxNorm = p, o.MaxNorm
	return c, nil
}

// ClipGradNorm scales the gradients grads in place so that their global
// p-norm is at most MaxNorm, and returns their total norm before the
// scaling, as torch.nn.utils.clip_grad_norm_ (PyTorch 1.13):
//
//	total = (Σ over every element of every buffer |g|^p)^(1/p)   (max |g| for p = Inf)
//	coef  = min(max_norm / (total + 1e-6), 1)                    (ClipOptax: max_norm / max(total, max_norm))
//	g    *= coef, for every buffer
//
// torch forms the norm of each buffer and then the norm of those norms;
// for a finite p that is the global norm up to rounding. Here each block
// of each buffer keeps its sum as s^p·q with s a power of two near its
// largest |g|, so that float32 gradients as large as 1e30 give a finite
// norm where the norm is finite (torch's float32 sum of squares gives Inf
// for 1e20 and more). A NaN gradient makes the total NaN, an infinite one
// +Inf (NaN if both). torch multiplies even when coef = 1; multiplying by 1
// changes nothing, so then no gradient is written.
//
// The buffers may have different lengths, zero included (an empty buffer
// launches nothing); they must share one float dtype. An empty list
// returns 0 and writes nothing, as torch. Host tensors on an accelerator
// are copied there and back. Launches, with no host round trip between
// them, clip_norm_partial per buffer, clip_norm_total once and clip_scale
// per buffer, then reads the total (3 numbers) once.
func ClipGradNorm(dev device.Device, grads []Tensor, o ClipGradNormOptions) (float64, error) {
	const name = "clip_grad_norm"
	if dev == nil || isNilDevice(dev) {
		return 0, argErr(name, "device", "is nil")
	}
	c, err := o.check(name)
	if err != nil {
		return 0, err
	}
	c.errArg = "grads"
	s := stage{dev: dev, loss: name}
	total, err := clipNormList(&s, name, grads, c)
	return total, s.finish(err)
}

func clipNormList(s *stage, name string, grads []Tensor, c clipNorm) (float64, error) {
	bufs := make([]device.Buffer, len(grads))
	ns := make([]int, len(grads))
	var ft device.DType
	for i, g := range grads {
		arg := fmt.Sprintf("grads[%d]", i)
		if !g.Present() {
			return 0, argErr(name, arg, "buffer is nil")
		}
		if err := s.check(arg, g); err != nil {
			return 0, err
		}
		if i == 0 {
			ft = g.Buf.DType()
			if err := floatType(name, arg, s.dev, ft); err != nil {
				return 0, err
			}
		} else if g.Buf.DType() != ft {
			return 0, argErr(name, arg, "dtype is %s, grads[0]'s is %s: the gradients must share one dtype", g.Buf.DType(), ft)
		}
		ns[i] = g.Len()
	}
	if len(grads) == 0 {
		return 0, nil
	}
	for i, g := range grads {
		arg := fmt.Sprintf("grads[%d]", i)
		var err error
		if bufs[i], err = s.buf(arg, g, false); err != nil { // copied in
			return 0, err
		}
		if _, err = s.buf(arg, g, true); err != nil { // and back
			return 0, err
		}
	}
	offs := make([]int, len(grads))
	return clipNormRun(s.dev, name, ft, bufs, offs, ns, bufs, nil, c)
}

// clipNormRun runs the three steps over the buffers src[i][off[i]:off[i]+n[i]],
// scaling dst[i] (dst nil: no scaling), copies the total norm to tn (when
// not nil) and returns it.
func clipNormRun(dev device.Device, name string, ft device.DType, src []device.Buffer, off, ns []int,
	dst []device.Buffer, tn device.Buffer, c clipNorm) (float64, error) {
	slots := 0
	for _, n := range ns {
		if n > 0 {
			slots += partialGrid(n).Blocks
		}
	}
	if err := checkWorkspace(dev, name, int64(3*slots+3)*int64(ft.Size())); err != nil {
		return 0, err
	}
	ws, err := pool.get(dev, ft, 3*slots)
	if err != nil {
		return 0, err
	}
	defer pool.put(ws)
	st, err := pool.get(dev, ft, 3)
	if err != nil {
		return 0, err
	}
	defer pool.put(st)
	slot := 0
	for i, n := range ns {
		if n == 0 {
			continue
		}
		g := partialGrid(n)
		if err := dev.Launch("clip_norm_partial", g, src[i], int32(off[i]), int32(n), c.p, c.pinf, int32(slot), ws); err != nil {
			return 0, err
		}
		slot += g.Blocks
	}
	if err := dev.Launch("clip_norm_total", oneBlock, ws, int32(slots), c.p, c.pinf, c.maxNorm, c.mode, st); err != nil {
		return 0, err
	}
	for i, n := range ns {
		if n == 0 || dst == nil || dst[i] == nil {
			continue
		}
		inplace := int32(0)
		if dst[i] == src[i] {
			inplace = 1
		}
		if err := dev.Launch("clip_scale", partialGrid(n), src[i], int32(off[i]), int32(n), st, inplace, dst[i]); err != nil {
			return 0, err
		}
	}
	total, err := clipReadTotal(dev, ft, st)
	if err != nil {
		return 0, err
	}
	if c.errNF && !(math.Abs(total) <= math.MaxFloat64) {
		return total, &ArgError{Loss: name, Arg: c.errArg, Err: ErrNonfiniteNorm,
			Msg: fmt.Sprintf("the total norm of order %v is %v (error_if_nonfinite: nothing written)", clipOrder(c), total)}
	}
	if tn != nil {
		if err := dev.Copy(tn, st, 1); err != nil {
			return 0, fmt.Errorf("losses: %s: loss: %w", name, err)
		}
	}
	return total, nil
}

func clipOrder(c clipNorm) float64 {
	if c.pinf != 0 {
		return math.Inf(1)
	}
	return c.p
}

// clipReadTotal reads st[0], the total norm.
func clipReadTotal(dev device.Device, ft device.DType, st device.Buffer) (float64, error) {
	if hb, ok := st.(*host.Buffer); ok {
		switch v := hb.Slice().(type) {
		case []float32:
			return float64(v[0]), nil
		case []float64:
			return v[0], nil
		}
	}
	if ft == device.Float64 {
		var v [1]float64
		err := dev.Read(v[:], st)
		return v[0], err
	}
	var v [1]float32
	err := dev.Read(v[:], st)
	return float64(v[0]), err
}

// ClipGradValue clamps every element of every gradient in grads to
// [−ClipValue, ClipValue] in place, as torch.nn.utils.clip_grad_value_ (a
// NaN stays NaN, as torch.clamp). The gradients must share one float
// dtype. Launches clip_value per non-empty buffer.
func ClipGradValue(dev device.Device, grads []Tensor, o ClipGradValueOptions) error {
	const name = "clip_grad_value"
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	if err := o.check(name); err != nil {
		return err
	}
	s := stage{dev: dev, loss: name}
	return s.finish(clipValueList(&s, name, grads, o.ClipValue))
}

func (o ClipGradValueOptions) check(name string) error {
	if !(o.ClipValue > 0) {
		return argErr(name, "clip_value", "must be > 0, got %v", o.ClipValue)
	}
	return nil
}

func clipValueList(s *stage, name string, grads []Tensor, v float64) error {
	var ft device.DType
	for i, g := range grads {
		arg := fmt.Sprintf("grads[%d]", i)
		if !g.Present() {
			return argErr(name, arg, "buffer is nil")
		}
		if err := s.check(arg, g); err != nil {
			return err
		}
		if i == 0 {
			ft = g.Buf.DType()
			if err := floatType(name, arg, s.dev, ft); err != nil {
				return err
			}
		} else if g.Buf.DType() != ft {
			return argErr(name, arg, "dtype is %s, grads[0]'s is %s: the gradients must share one dtype", g.Buf.DType(), ft)
		}
	}
	for i, g := range grads {
		arg := fmt.Sprintf("grads[%d]", i)
		b, err := s.buf(arg, g, false)
		if err != nil {
			return err
		}
		if _, err := s.buf(arg, g, true); err != nil {
			return err
		}
		if n := g.Len(); n > 0 {
			if err := s.dev.Launch("clip_value", partialGrid(n), b, int32(n), v); err != nil {
				return err
			}
		}
	}
	return nil
}

// ClipGradNormFlatArgs are the tensors of ClipGradNormFlat: the gradients
// of a list as one flat tensor input, split into consecutive buffers by
// the int32 lengths sizes (absent: one buffer). TotalNorm (one element,
// declared as "loss": the scalar result the registry's tools compare, the
// value clip_grad_norm_ returns) gets the total norm; Output (input's
// shape) gets input scaled, and may be input itself (in place).
type ClipGradNormFlatArgs struct {
	Input     Tensor `loss:"input,in"`
	Sizes     Tensor `loss:"sizes,in,int32,optional"`
	TotalNorm Tensor `loss:"loss,out"`
	Output    Tensor `loss:"output,out"`
}

// ClipGradNormFlatOptions are the options of ClipGradNormFlat.
type ClipGradNormFlatOptions struct{ ClipGradNormOptions }

// ClipGradNormFlat is ClipGradNorm over the buffers input[o_k : o_k +
// sizes[k]] (o_k the sum of the sizes before k), the declared form of
// clip_grad_norm. The sizes must be >= 0 and add up to the number of
// elements of input. Output, when given and not input itself, is written
// in full (input·coef) by the scaling kernels; with ErrorIfNonfinite and a
// non-finite total nothing is written, loss included.
func ClipGradNormFlat(dev device.Device, a ClipGradNormFlatArgs, o ClipGradNormFlatOptions) error {
	const name = "clip_grad_norm"
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	c, err := o.check(name)
	if err != nil {
		return err
	}
	c.errArg = "input"
	s := stage{dev: dev, loss: name}
	return s.finish(clipNormFlat(&s, name, a, c))
}

func clipNormFlat(s *stage, name string, a ClipGradNormFlatArgs, c clipNorm) error {
	if !a.Input.Present() {
		return argErr(name, "input", "buffer is nil")
	}
	n := a.Input.Len()
	if a.TotalNorm.Present() && a.TotalNorm.Len() != 1 {
		return argErr(name, "loss", "has shape %v: want 1 element", a.TotalNorm.Shape)
	}
	if a.Output.Present() && !sameShape(a.Output.Shape, a.Input.Shape) {
		return argErr(name, "output", "has shape %v, want input's %v", a.Output.Shape, a.Input.Shape)
	}
	if a.Sizes.Present() && len(a.Sizes.Shape) != 1 {
		return argErr(name, "sizes", "has shape %v: want one dimension", a.Sizes.Shape)
	}
	var x, sz, tn, y device.Buffer
	if err := s.bind(in("input", a.Input, &x), in("sizes", a.Sizes, &sz), out("loss", a.TotalNorm, &tn),
		out("output", a.Output, &y)); err != nil {
		return err
	}
	dev := s.dev
	ft := x.DType()
	if err := floatType(name, "input", dev, ft); err != nil {
		return err
	}
	if err := checkBuf(name, "sizes", dev, sz, device.Int32, a.Sizes.Len(), true); err != nil {
		return err
	}
	if err := checkBuf(name, "loss", dev, tn, ft, 1, true); err != nil {
		return err
	}
	if err := checkBuf(name, "output", dev, y, ft, n, true); err != nil {
		return err
	}
	ns := []int{n}
	if sz != nil {
		k := a.Sizes.Len()
		if err := checkWorkspace(dev, name, 5*8*int64(k)); err != nil {
			return err
		}
		sizes := make([]int32, k)
		if k > 0 {
			if err := dev.Read(sizes, sz); err != nil {
				return fmt.Errorf("losses: %s: sizes: %w", name, err)
			}
		}
		ns = make([]int, k)
		var sum int64
		for i, v := range sizes {
			if v < 0 {
				return argErr(name, "sizes", "sizes[%d] = %d is negative", i, v)
			}
			sum += int64(v)
			ns[i] = int(v)
		}
		if sum != int64(n) {
			return argErr(name, "sizes", "add up to %d, input has %d elements", sum, n)
		}
	}
	src := make([]device.Buffer, len(ns))
	offs := make([]int, len(ns))
	var dst []device.Buffer
	if y != nil {
		dst = make([]device.Buffer, len(ns))
	}
	o := 0
	for i, m := range ns {
		src[i], offs[i] = x, o
		if y != nil {
			dst[i] = y
		}
		o += m
	}
	_, err := clipNormRun(dev, name, ft, src, offs, ns, dst, tn, c)
	return err
}

// ClipGradValueFlatArgs are the tensors of ClipGradValueFlat: Output
// (input's shape, may be input itself) gets input clamped.
type ClipGradValueFlatArgs struct {
	Input  Tensor `loss:"input,in"`
	Output Tensor `loss:"output,out"`
}

// ClipGradValueFlatOptions are the options of ClipGradValueFlat.
type ClipGradValueFlatOptions struct{ ClipGradValueOptions }

// ClipGradValueFlat is ClipGradValue over one tensor, written to output
// (which may be input itself), the declared form of clip_grad_value.
func ClipGradValueFlat(dev device.Device, a ClipGradValueFlatArgs, o ClipGradValueFlatOptions) error {
	const name = "clip_grad_value"
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	if err := o.check(name); err != nil {
		return err
	}
	s := stage{dev: dev, loss: name}
	return s.finish(clipValueFlat(&s, name, a, o.ClipValue))
}

func clipValueFlat(s *stage, name string, a ClipGradValueFlatArgs, v float64) error {
	if !a.Input.Present() {
		return argErr(name, "input", "buffer is nil")
	}
	n := a.Input.Len()
	if a.Output.Present() && !sameShape(a.Output.Shape, a.Input.Shape) {
		return argErr(name, "output", "has shape %v, want input's %v", a.Output.Shape, a.Input.Shape)
	}
	var x, y device.Buffer
	if err := s.bind(in("input", a.Input, &x), out("output", a.Output, &y)); err != nil {
		return err
	}
	dev := s.dev
	ft := x.DType()
	if err := floatType(name, "input", dev, ft); err != nil {
		return err
	}
	if err := checkBuf(name, "output", dev, y, ft, n, true); err != nil {
		return err
	}
	if y == nil || n == 0 {
		return nil
	}
	if y != x {
		if err := dev.Copy(y, x, n); err != nil {
			return fmt.Errorf("losses: %s: output: %w", name, err)
		}
	}
	return dev.Launch("clip_value", partialGrid(n), y, int32(n), v)
}

func clipNormShapes(a ClipGradNormFlatArgs, _ ClipGradNormFlatOptions) map[string][]int {
	return map[string][]int{"loss": {}, "output": a.Input.Shape}
}

func clipValueShapes(a ClipGradValueFlatArgs, _ ClipGradValueFlatOptions) map[string][]int {
	return map[string][]int{"output": a.Input.Shape}
}

func init() {
	register("clip_grad_norm", "ClipGradNormFlat", ClipGradNormFlat, clipNormShapes,
		"clip_norm_partial", "clip_norm_total", "clip_scale")
	register("clip_grad_value", "ClipGradValueFlat", ClipGradValueFlat, clipValueShapes, "clip_value")
}
