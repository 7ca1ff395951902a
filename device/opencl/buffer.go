//go:build opencl

package opencl

import (
	"fmt"
	"sync"

	"github.com/jgillich/go-opencl/cl"
	"github.com/lossengine/lossengine/device"
)

// Buffer is an OpenCL buffer of float32 or int32 elements. It implements
// device.Buffer.
type Buffer struct {
	dev     *Device
	mem     *cl.MemObject
	dt      device.DType
	n       int
	wrapped bool // the memory object belongs to the caller

	mu       sync.Mutex
	released bool
}

// Wrap makes a buffer of n elements of type t (Float32 or Int32) over the
// caller's memory object mem, which must have been created in dev's
// context (Device.Context) and hold at least n elements. Releasing the
// buffer does not release mem; the caller keeps it alive while the buffer
// is in use.
func Wrap(dev *Device, mem *cl.MemObject, t device.DType, n int) (*Buffer, error) {
	switch {
	case dev == nil:
		return nil, fmt.Errorf("opencl: wrap: nil device")
	case mem == nil:
		return nil, fmt.Errorf("opencl: wrap: nil memory object")
	case n < 0:
		return nil, fmt.Errorf("opencl: wrap: negative length %d", n)
	case t == device.Float64:
		return nil, fmt.Errorf("opencl: wrap: %w: float64 buffers (the OpenCL kernels are float32-only)", device.ErrUnsupported)
	case t != device.Float32 && t != device.Int32:
		return nil, fmt.Errorf("opencl: wrap: unknown dtype %v", t)
	}
	return &Buffer{dev: dev, mem: mem, dt: t, n: n, wrapped: true}, nil
}

// DType returns the element type.
func (b *Buffer) DType() device.DType { return b.dt }

// Len returns the number of elements.
func (b *Buffer) Len() int { return b.n }

// Device returns the device the buffer belongs to.
func (b *Buffer) Device() device.Device { return b.dev }

// Mem returns the underlying memory object, for the caller's own OpenCL
// code; it must not be released by the caller unless it was wrapped.
func (b *Buffer) Mem() *cl.MemObject { return b.mem }

// Release frees the buffer's memory, once work queued on it is done. A
// wrapped buffer's memory object is left to its owner. Release is
// idempotent.
func (b *Buffer) Release() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.released {
		return nil
	}
	b.released = true
	if !b.wrapped {
		b.mem.Release()
	}
	return nil
}

func (b *Buffer) isReleased() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.released
}
