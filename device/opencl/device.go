//go:build opencl

package opencl

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"github.com/jgillich/go-opencl/cl"
	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// Device is an opened OpenCL device: a context and one in-order command
// queue. It implements device.Device; every method is safe for concurrent
// use.
type Device struct {
	info     device.Info
	dev      *cl.Device
	ctx      *cl.Context
	queue    *cl.CommandQueue
	maxAlloc int64

	// life is held for reading by every operation and for writing by Close.
	life   sync.RWMutex
	closed bool

	// launch makes setting a kernel's arguments and queueing it atomic,
	// and guards kernels.
	launch  sync.Mutex
	kernels map[string]*cl.Kernel

	build    sync.Once
	program  *cl.Program
	buildErr error
}

var errClosed = errors.New("opencl: device is closed")

func open(f found) (d *Device, err error) {
	defer func() {
		if r := recover(); r != nil {
			d, err = nil, fmt.Errorf("opencl: opening %s: %v", f.info.Name, r)
		}
	}()
	if f.maxGroup < kernelspec.BlockSize {
		return nil, fmt.Errorf("opencl: %w: %s (%s) allows %d work-items per work-group, the kernels need %d",
			device.ErrUnsupported, f.info.Name, f.info.Description, f.maxGroup, kernelspec.BlockSize)
	}
	ctx, err := cl.CreateContext([]*cl.Device{f.dev})
	if err != nil {
		return nil, fmt.Errorf("opencl: creating a context on %s: %w", f.info.Name, err)
	}
	q, err := ctx.CreateCommandQueue(f.dev, 0)
	if err != nil {
		ctx.Release()
		return nil, fmt.Errorf("opencl: creating a command queue on %s: %w", f.info.Name, err)
	}
	return &Device{info: f.info, dev: f.dev, ctx: ctx, queue: q, maxAlloc: f.maxAlloc,
		kernels: map[string]*cl.Kernel{}}, nil
}

// Info describes the device.
func (d *Device) Info() device.Info { return d.info }

// Context returns the device's OpenCL context, in which memory objects
// given to Wrap must be created. It must not be released by the caller.
func (d *Device) Context() *cl.Context { return d.ctx }

// Queue returns the device's in-order command queue, on which every
// transfer and launch is queued. It must not be released by the caller.
func (d *Device) Queue() *cl.CommandQueue { return d.queue }

// Alloc returns a buffer of n float32 or int32 elements. A zero-length
// buffer is valid (one element is allocated behind it). Float64 gives an
// error wrapping device.ErrUnsupported, too large a request one wrapping
// device.ErrOutOfMemory.
func (d *Device) Alloc(t device.DType, n int) (device.Buffer, error) {
	if n < 0 {
		return nil, fmt.Errorf("opencl: negative buffer length %d", n)
	}
	switch t {
	case device.Float32, device.Int32:
	case device.Float64:
		return nil, fmt.Errorf("opencl: %w: float64 buffers (the OpenCL kernels are float32-only)", device.ErrUnsupported)
	default:
		return nil, fmt.Errorf("opencl: unknown dtype %v", t)
	}
	d.life.RLock()
	defer d.life.RUnlock()
	if d.closed {
		return nil, errClosed
	}
	size := int64(max(n, 1)) * int64(t.Size())
	if size > d.maxAlloc || size/int64(t.Size()) != int64(max(n, 1)) {
		return nil, fmt.Errorf("opencl: %w: %d elements of %s exceed the largest allocation of %s (%d bytes)",
			device.ErrOutOfMemory, n, t, d.info.Name, d.maxAlloc)
	}
	mem, err := d.ctx.CreateEmptyBuffer(cl.MemReadWrite, int(size))
	if err != nil {
		return nil, wrapErr(fmt.Sprintf("allocating %d elements of %s", n, t), err)
	}
	return &Buffer{dev: d, mem: mem, dt: t, n: n}, nil
}

// own checks that b is a live buffer of this device.
// Check returns nil when b is a live buffer of d (see device.Device).
func (d *Device) Check(b device.Buffer) error {
	_, err := d.own(b)
	return err
}

func (d *Device) own(b device.Buffer) (*Buffer, error) {
	ob, ok := b.(*Buffer)
	if !ok || ob == nil || ob.dev != d {
		return nil, fmt.Errorf("opencl: %w", device.ErrWrongDevice)
	}
	if ob.isReleased() {
		return nil, fmt.Errorf("opencl: %w", device.ErrReleased)
	}
	return ob, nil
}

// hostPtr returns the address and byte size of a []float32, []float64 or
// []int32 (nil, 0 when empty).
func hostPtr(s any) (unsafe.Pointer, int) {
	switch v := s.(type) {
	case []float32:
		if len(v) > 0 {
			return unsafe.Pointer(&v[0]), 4 * len(v)
		}
	case []float64:
		if len(v) > 0 {
			return unsafe.Pointer(&v[0]), 8 * len(v)
		}
	case []int32:
		if len(v) > 0 {
			return unsafe.Pointer(&v[0]), 4 * len(v)
		}
	}
	return nil, 0
}

// Write copies src into dst from element 0. It returns when the copy is
// done, after the work queued before it.
func (d *Device) Write(dst device.Buffer, src any) error {
	if err := device.CheckTransfer(d, src, dst); err != nil {
		return fmt.Errorf("opencl: write: %w", err)
	}
	b, err := d.own(dst)
	if err != nil {
		return err
	}
	ptr, size := hostPtr(src)
	if size == 0 {
		return nil
	}
	d.life.RLock()
	defer d.life.RUnlock()
	if d.closed {
		return errClosed
	}
	ev, err := d.queue.EnqueueWriteBuffer(b.mem, true, 0, size, ptr, nil)
	release(ev)
	return wrapErr("write", err)
}

// Read copies src into dst from element 0, after all queued work has
// finished.
func (d *Device) Read(dst any, src device.Buffer) error {
	if err := device.CheckTransfer(d, dst, src); err != nil {
		return fmt.Errorf("opencl: read: %w", err)
	}
	b, err := d.own(src)
	if err != nil {
		return err
	}
	ptr, size := hostPtr(dst)
	if size == 0 {
		return nil
	}
	d.life.RLock()
	defer d.life.RUnlock()
	if d.closed {
		return errClosed
	}
	ev, err := d.queue.EnqueueReadBuffer(b.mem, true, 0, size, ptr, nil)
	release(ev)
	return wrapErr("read", err)
}

// Copy queues a copy of n elements from src to dst.
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
		return fmt.Errorf("opencl: copy from %s to %s", b.dt, a.dt)
	}
	if n < 0 || n > a.n || n > b.n {
		return fmt.Errorf("opencl: copy of %d elements between buffers of %d and %d", n, b.n, a.n)
	}
	if n == 0 || a.mem == b.mem {
		return nil
	}
	d.life.RLock()
	defer d.life.RUnlock()
	if d.closed {
		return errClosed
	}
	ev, err := d.queue.EnqueueCopyBuffer(b.mem, a.mem, 0, 0, n*a.dt.Size(), nil)
	release(ev)
	return wrapErr("copy", err)
}

// Sync waits for all queued work.
func (d *Device) Sync() error {
	d.life.RLock()
	defer d.life.RUnlock()
	if d.closed {
		return errClosed
	}
	return wrapErr("sync", d.queue.Finish())
}

// Close waits for queued work and releases the queue, the program, the
// kernels and the context. Buffers should be released first; later calls
// on the device return an error. Close is idempotent.
func (d *Device) Close() error {
	device.Closing(d)
	d.life.Lock()
	defer d.life.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	err := d.queue.Finish()
	d.launch.Lock()
	for name, k := range d.kernels {
		k.Release()
		delete(d.kernels, name)
	}
	d.launch.Unlock()
	if d.program != nil {
		d.program.Release()
	}
	d.queue.Release()
	d.ctx.Release()
	return wrapErr("close", err)
}

// release frees an event that go-opencl returned; nobody waits on it.
func release(ev *cl.Event) {
	if ev != nil {
		ev.Release()
	}
}

// wrapErr prefixes err with the operation and wraps device.ErrOutOfMemory
// around OpenCL's allocation failures.
func wrapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, cl.ErrMemObjectAllocationFailure), errors.Is(err, cl.ErrOutOfResources),
		errors.Is(err, cl.ErrOutOfHostMemory), errors.Is(err, cl.ErrInvalidBufferSize):
		return fmt.Errorf("opencl: %s: %w: %w", op, device.ErrOutOfMemory, err)
	}
	return fmt.Errorf("opencl: %s: %w", op, err)
}
