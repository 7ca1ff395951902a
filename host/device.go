package host

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() { device.Register(backend{}) }

type backend struct{}

func (backend) Name() string                    { return "host" }
func (backend) Devices() ([]device.Info, error) { return []device.Info{info()}, nil }
func (backend) Open(int) (device.Device, error) { return Default(), nil }

func info() device.Info {
	return device.Info{Name: "host", Backend: "host", Description: fmt.Sprintf("Go %s on %s/%s",
		runtime.Version(), runtime.GOOS, runtime.GOARCH), Kind: device.CPU,
		ComputeUnit: runtime.GOMAXPROCS(0), Float64: true, Memory: physicalMemory()}
}

// Device is the host device. The zero value is not usable; use Default.
type Device struct{ _ int }

var defaultDevice = &Device{}

// Default returns the host device.
func Default() *Device { return defaultDevice }

// Buffer is a host buffer: a Go slice.
type Buffer struct {
	dt       device.DType
	f32      []float32
	f64      []float64
	i32      []int32
	mu       sync.Mutex
	released bool
}

// Wrap wraps a caller's []float32, []float64 or []int32 as a host buffer
// without copying. The buffer aliases the slice.
func Wrap(s any) (*Buffer, error) {
	switch v := s.(type) {
	case []float32:
		return &Buffer{dt: device.Float32, f32: v}, nil
	case []float64:
		return &Buffer{dt: device.Float64, f64: v}, nil
	case []int32:
		return &Buffer{dt: device.Int32, i32: v}, nil
	}
	return nil, fmt.Errorf("host: cannot wrap %T: want []float32, []float64 or []int32", s)
}

func (b *Buffer) DType() device.DType   { return b.dt }
func (b *Buffer) Device() device.Device { return defaultDevice }
func (b *Buffer) Len() int {
	switch b.dt {
	case device.Float32:
		return len(b.f32)
	case device.Float64:
		return len(b.f64)
	}
	return len(b.i32)
}

// Release drops the reference to the slice.
func (b *Buffer) Release() error {
	b.mu.Lock()
	b.released = true
	b.f32, b.f64, b.i32 = nil, nil, nil
	b.mu.Unlock()
	return nil
}

// Slice returns the underlying slice ([]float32, []float64 or []int32).
func (b *Buffer) Slice() any {
	switch b.dt {
	case device.Float32:
		return b.f32
	case device.Float64:
		return b.f64
	}
	return b.i32
}

func (d *Device) Info() device.Info { return info() }

// Alloc returns a zeroed buffer. Requests beyond the memory budget
// (MemoryBudget) give device.ErrOutOfMemory before anything is allocated.
func (d *Device) Alloc(t device.DType, n int) (buf device.Buffer, err error) {
	if n < 0 {
		return nil, fmt.Errorf("host: negative buffer length %d", n)
	}
	if err := CheckBudget(fmt.Sprintf("host: a buffer of %d elements of %s", n, t), int64(n)*int64(t.Size())); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			buf, err = nil, fmt.Errorf("%w: host: %d elements of %s", device.ErrOutOfMemory, n, t)
		}
	}()
	switch t {
	case device.Float32:
		return &Buffer{dt: t, f32: make([]float32, n)}, nil
	case device.Float64:
		return &Buffer{dt: t, f64: make([]float64, n)}, nil
	case device.Int32:
		return &Buffer{dt: t, i32: make([]int32, n)}, nil
	}
	return nil, fmt.Errorf("host: unknown dtype %v", t)
}

// Check returns nil when b is a live host buffer (see device.Device).
func (d *Device) Check(b device.Buffer) error {
	_, err := d.own(b)
	return err
}

func (d *Device) own(b device.Buffer) (*Buffer, error) {
	hb, ok := b.(*Buffer)
	if !ok || hb == nil {
		return nil, device.ErrWrongDevice
	}
	hb.mu.Lock()
	released := hb.released
	hb.mu.Unlock()
	if released {
		return nil, device.ErrReleased
	}
	return hb, nil
}

func (d *Device) Write(dst device.Buffer, src any) error {
	if err := device.CheckTransfer(d, src, dst); err != nil {
		return err
	}
	hb, err := d.own(dst)
	if err != nil {
		return err
	}
	switch v := src.(type) {
	case []float32:
		copy(hb.f32, v)
	case []float64:
		copy(hb.f64, v)
	case []int32:
		copy(hb.i32, v)
	}
	return nil
}

func (d *Device) Read(dst any, src device.Buffer) error {
	if err := device.CheckTransfer(d, dst, src); err != nil {
		return err
	}
	hb, err := d.own(src)
	if err != nil {
		return err
	}
	switch v := dst.(type) {
	case []float32:
		copy(v, hb.f32)
	case []float64:
		copy(v, hb.f64)
	case []int32:
		copy(v, hb.i32)
	}
	return nil
}

func (d *Device) Copy(dst, src device.Buffer, n int) error {
	a, err := d.own(dst)
	if err != nil {
		return err
	}
	b, err := d.own(src)
	if err != nil {
		return err
	}
	if a.dt != b.dt {
		return fmt.Errorf("host: copy from %s to %s", b.dt, a.dt)
	}
	if n < 0 || n > a.Len() || n > b.Len() {
		return fmt.Errorf("host: copy of %d elements between buffers of %d and %d", n, b.Len(), a.Len())
	}
	switch a.dt {
	case device.Float32:
		parallelCopy(a.f32[:n], b.f32[:n])
	case device.Float64:
		parallelCopy(a.f64[:n], b.f64[:n])
	default:
		parallelCopy(a.i32[:n], b.i32[:n])
	}
	return nil
}

func parallelCopy[T any](dst, src []T) {
	parallelFor(len(dst), 1<<16, func(lo, hi int) { copy(dst[lo:hi], src[lo:hi]) })
}

// Launch runs the kernel's host mirror synchronously, once its arguments
// have passed the manifest's checks: kinds (kernelspec.CheckArgs), live
// host buffers of one float type, and sizes (kernelspec.CheckSizes), so
// that no mirror indexes outside a buffer.
func (d *Device) Launch(name string, g device.Grid, args ...any) error {
	k, err := kernelspec.CheckArgs(name, args, func(v any) (bool, bool) {
		b, ok := v.(device.Buffer)
		if !ok || b == nil {
			return false, false
		}
		return true, b.DType() == device.Int32
	})
	if err != nil {
		return fmt.Errorf("%w: host: %v", device.ErrBadArguments, err)
	}
	m, ok := mirrors[name]
	if !ok {
		return fmt.Errorf("host: kernel %q has no host mirror", name)
	}
	ft := device.DType(-1)
	for i, a := range args {
		b, ok := a.(device.Buffer)
		if !ok {
			continue
		}
		hb, err := d.own(b)
		if err != nil {
			return fmt.Errorf("host: %s argument %d: %w", name, i, err)
		}
		if hb.dt == device.Int32 {
			continue
		}
		if ft >= 0 && hb.dt != ft {
			return fmt.Errorf("%w: host: %s mixes %s and %s buffers", device.ErrBadArguments, name, ft, hb.dt)
		}
		ft = hb.dt
	}
	if g.Blocks < 0 {
		return fmt.Errorf("%w: host: %s: negative grid", device.ErrBadArguments, name)
	}
	if err := kernelspec.CheckSizes(k, g.Blocks, args); err != nil {
		return fmt.Errorf("%w: host: %v", device.ErrBadArguments, err)
	}
	a := argv{args: args, grid: g}
	if ft == device.Float64 {
		return m.f64(a)
	}
	return m.f32(a)
}

func (d *Device) Sync() error { return nil }

// Close frees what other packages keep for the device (the losses'
// scratch buffers, through device.Closing); the host device stays usable.
func (d *Device) Close() error {
	device.Closing(d)
	return nil
}

// Float32s returns the underlying []float32 (nil unless the buffer is
// float32). Unlike Slice, it does not box the slice.
func (b *Buffer) Float32s() []float32 { return b.f32 }

// Float64s returns the underlying []float64 (nil unless the buffer is
// float64).
func (b *Buffer) Float64s() []float64 { return b.f64 }

// Int32s returns the underlying []int32 (nil unless the buffer is int32).
func (b *Buffer) Int32s() []int32 { return b.i32 }

// Overlap reports whether two host buffers share memory (two Wraps of
// one slice, or of overlapping slices).
func Overlap(a, b *Buffer) bool {
	pa, na := a.span()
	pb, nb := b.span()
	return na > 0 && nb > 0 && pa < pb+nb && pb < pa+na
}

// span is the buffer's memory as an address and a length in bytes.
func (b *Buffer) span() (uintptr, uintptr) {
	switch {
	case len(b.f32) > 0:
		return uintptr(unsafe.Pointer(unsafe.SliceData(b.f32))), uintptr(len(b.f32)) * 4
	case len(b.f64) > 0:
		return uintptr(unsafe.Pointer(unsafe.SliceData(b.f64))), uintptr(len(b.f64)) * 8
	case len(b.i32) > 0:
		return uintptr(unsafe.Pointer(unsafe.SliceData(b.i32))), uintptr(len(b.i32)) * 4
	}
	return 0, 0
}
