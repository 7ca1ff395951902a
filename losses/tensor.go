package losses

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
)

// Tensor is a buffer with its shape: the one argument type of every loss.
// Its elements are the first Len() elements of Buf, row-major. The zero
// Tensor is "absent" (an optional input, or an output not asked for).
//
// Buf may live on the device the loss runs on (the buffer form: nothing is
// copied), or be a host buffer wrapping a Go slice (HostTensor: the slice
// form). On the host device a host tensor is used in place; on an
// accelerator it is copied to the device before the launches and, for an
// output, back after them.
type Tensor struct {
	Buf   device.Buffer
	Shape []int
}

// NewTensor returns buf with the given shape; no shape means one dimension
// of buf.Len() elements.
func NewTensor(buf device.Buffer, shape ...int) Tensor {
	if len(shape) == 0 && buf != nil && !isNilBuffer(buf) {
		shape = []int{buf.Len()}
	}
	return Tensor{Buf: buf, Shape: shape}
}

// Elem is the element type of a Go slice that HostTensor wraps.
type Elem = device.Elem

// HostTensor wraps a Go slice, without copying, as a tensor of the given
// shape (no shape: one dimension of len(data)). Results written to an
// output HostTensor land in data.
func HostTensor[T Elem](data []T, shape ...int) Tensor {
	b, _ := host.Wrap(any(data)) // cannot fail for these slice types
	if len(shape) == 0 {
		shape = []int{len(data)}
	}
	return Tensor{Buf: b, Shape: shape}
}

// Present reports whether the tensor is given.
func (t Tensor) Present() bool { return t.Buf != nil && !isNilBuffer(t.Buf) }

// Len is the number of elements, the product of the shape.
func (t Tensor) Len() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Dim returns dimension i (negative i counts from the end).
func (t Tensor) Dim(i int) int {
	if i < 0 {
		i += len(t.Shape)
	}
	return t.Shape[i]
}

// DType is the buffer's element type.
func (t Tensor) DType() device.DType { return t.Buf.DType() }

func isNilBuffer(b device.Buffer) bool {
	if b == nil {
		return true
	}
	v := reflect.ValueOf(b)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// check checks a tensor's shape against its buffer: non-negative
// dimensions, each and their product within the kernels' int32 range, and
// a product that fits the buffer.
func (t Tensor) check(loss, arg string) error { return t.checkLimit(loss, arg, maxInt32) }

// checkLimit is check with an element limit (maxInt32, or maxWide for
// tensors that kernels index with 64-bit offsets).
func (t Tensor) checkLimit(loss, arg string, limit int64) error {
	if t.Buf != nil && isNilBuffer(t.Buf) {
		return argErr(loss, arg, "buffer is a nil %T", t.Buf)
	}
	if hb, ok := t.Buf.(*host.Buffer); ok {
		if err := host.Default().Check(hb); err != nil {
			return bufErr(loss, arg, err) // released: its length reads 0
		}
	}
	return t.checkShape(loss, arg, limit)
}

// maxWide bounds the element count of a tensor whose kernels index it
// with 64-bit offsets (stage.wide).
const maxWide = 1 << 62

// checkShape is the shape half of check: non-negative dimensions within
// the kernels' int32 range whose product fits the buffer and is at most
// limit (maxInt32, or maxWide where the kernels use 64-bit offsets).
func (t Tensor) checkShape(loss, arg string, limit int64) error {
	n := int64(1)
	for i, d := range t.Shape {
		if d < 0 {
			return argErr(loss, arg, "shape %v: dimension %d is negative", t.Shape, i)
		}
		// each dimension within int32 first (the kernels take them as
		// int32), and the product compared before it is formed, so that
		// it cannot overflow int64: [2, 2⁶²+1] would wrap to a negative count
		if int64(d) > maxInt32 {
			return argErr(loss, arg, "shape %v: dimension %d is beyond the int32 range of the kernels", t.Shape, i)
		}
		if d > 0 && n > limit/int64(d) {
			if limit == maxInt32 {
				return argErr(loss, arg, "shape %v: more elements than the int32 range of the kernels", t.Shape)
			}
			return argErr(loss, arg, "shape %v: more than 2^62 elements", t.Shape)
		}
		n *= int64(d)
	}
	if t.Buf != nil && int64(t.Buf.Len()) < n {
		return argErr(loss, arg, "shape %v needs %d elements, the buffer has %d", t.Shape, n, t.Buf.Len())
	}
	return nil
}

// checkLoss checks the loss tensor of a call over n samples: one element,
// or n with reduction None.
func checkLoss(loss string, t Tensor, red Reduction, n int) error {
	if !t.Present() {
		return nil
	}
	want := 1
	if red == None {
		want = n
	}
	if t.Len() != want {
		return argErr(loss, "loss", "has shape %v: want %d element(s)", t.Shape, want)
	}
	return nil
}

func sameShape(a, b []int) bool { return slices.Equal(a, b) }

// prod is the product of dims (1 for none).
func prod(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

// stage moves a call's host tensors to the device it runs on and its
// results back. Aliased tensors (an output that is also an input) share
// one device buffer.
type stage struct {
	dev   device.Device
	loss  string
	moved map[device.Buffer]device.Buffer
	owned []device.Buffer
	outs  [][2]device.Buffer // host, device
	// bound are the outputs bound so far, to refuse two that share memory.
	bound  [12]boundOut
	nbound int
	// wide: the loss's kernels index its tensors with 64-bit offsets, so
	// a tensor may hold more than 2³¹−1 elements (each dimension still
	// within int32).
	wide bool
}

type boundOut struct {
	arg string
	buf device.Buffer
}

// sameMemory reports whether two buffers are, or overlap, the same memory.
func sameMemory(a, b device.Buffer) bool {
	if a == b {
		return true
	}
	ha, ok1 := a.(*host.Buffer)
	hb, ok2 := b.(*host.Buffer)
	return ok1 && ok2 && host.Overlap(ha, hb)
}

func newStage(dev device.Device, loss string) *stage {
	return &stage{dev: dev, loss: loss}
}

// buf returns the buffer the launches use for t (nil when absent). A
// buffer of dev is used as it is; a host buffer is copied to dev (inputs)
// or allocated there (outputs, copied back by finish).
func (s *stage) buf(arg string, t Tensor, out bool) (device.Buffer, error) {
	if err := s.check(arg, t); err != nil || t.Buf == nil {
		return nil, err
	}
	if out {
		for _, o := range s.bound[:s.nbound] {
			if sameMemory(o.buf, t.Buf) {
				return nil, argErr(s.loss, arg, "shares memory with %s: two outputs may not alias each other", o.arg)
			}
		}
		if s.nbound < len(s.bound) {
			s.bound[s.nbound] = boundOut{arg, t.Buf}
			s.nbound++
		}
	}
	if t.Buf.Device() == s.dev {
		return t.Buf, nil
	}
	hb := t.Buf.(*host.Buffer) // s.check let only host buffers through
	if d, ok := s.moved[t.Buf]; ok {
		if out {
			s.outs = append(s.outs, [2]device.Buffer{t.Buf, d})
		}
		return d, nil
	}
	d, err := s.dev.Alloc(hb.DType(), hb.Len())
	if err != nil {
		return nil, fmt.Errorf("losses: %s: %s: %w", s.loss, arg, err)
	}
	s.owned = append(s.owned, d)
	if s.moved == nil {
		s.moved = map[device.Buffer]device.Buffer{}
	}
	s.moved[t.Buf] = d
	if out {
		s.outs = append(s.outs, [2]device.Buffer{t.Buf, d})
	}
	if !out && hb.Len() > 0 {
		if err := s.dev.Write(d, hb.Slice()); err != nil {
			return nil, fmt.Errorf("losses: %s: %s: %w", s.loss, arg, err)
		}
	}
	return d, nil
}

// check validates t (see Tensor.check) and its buffer, before anything is
// allocated or launched: a buffer of s.dev must pass s.dev.Check (live, and
// of the backend's own type); any other must be a live host buffer, which
// is staged.
func (s *stage) check(arg string, t Tensor) error {
	if isNilBuffer(t.Buf) {
		return t.check(s.loss, arg) // absent, or a typed nil
	}
	if t.Buf.Device() == s.dev {
		if err := s.dev.Check(t.Buf); err != nil {
			return bufErr(s.loss, arg, err)
		}
	} else if hb, ok := t.Buf.(*host.Buffer); !ok {
		return argErr(s.loss, arg, "buffer belongs to device %s, not %s", t.Buf.Device().Info().Name, s.dev.Info().Name)
	} else if err := host.Default().Check(hb); err != nil {
		return bufErr(s.loss, arg, err)
	}
	limit := int64(maxInt32)
	if s.wide {
		limit = maxWide
	}
	return t.checkShape(s.loss, arg, limit) // liveness checked just above
}

// binding is one tensor of a call and the launch buffer it fills.
type binding struct {
	arg string
	t   Tensor
	dst *device.Buffer
	out bool
}

// in and out name an input and an output tensor for stage.bind.
func in(arg string, t Tensor, dst *device.Buffer) binding  { return binding{arg, t, dst, false} }
func out(arg string, t Tensor, dst *device.Buffer) binding { return binding{arg, t, dst, true} }

// bind fills each binding's buffer (see buf), stopping at the first error.
func (s *stage) bind(bs ...binding) error {
	for _, b := range bs {
		if err := s.check(b.arg, b.t); err != nil {
			return err
		}
	}
	for _, b := range bs {
		var err error
		if *b.dst, err = s.buf(b.arg, b.t, b.out); err != nil {
			return err
		}
	}
	return nil
}

// finish copies the outputs back to their host tensors and frees the
// staging buffers.
func (s *stage) finish(callErr error) error {
	defer func() {
		for _, b := range s.owned {
			b.Release()
		}
	}()
	if callErr != nil {
		return callErr
	}
	for _, p := range s.outs {
		hb := p[0].(*host.Buffer)
		if hb.Len() == 0 {
			continue
		}
		if err := s.dev.Read(hb.Slice(), p[1]); err != nil {
			return fmt.Errorf("losses: %s: %w", s.loss, err)
		}
	}
	return nil
}
