//go:build cuda

package cuda

import (
	"fmt"
	"sync/atomic"

	"github.com/lossengine/lossengine/device"
	"gorgonia.org/cu"
)

// Buffer is a typed array in a GPU's global memory: allocated by
// Device.Alloc, or wrapped around a caller's memory by Wrap.
type Buffer struct {
	dev      *Device
	ptr      cu.DevicePtr
	dt       device.DType
	n        int
	owned    bool // allocated by Alloc; Release frees it
	released atomic.Bool
}

var _ device.Buffer = (*Buffer)(nil)

// Wrap makes a Buffer of n elements of type t (Float32 or Int32) at ptr,
// memory that the caller owns, such as a training framework's tensor.
// ptr must be valid in dev's context, the GPU's primary context (the one
// the CUDA runtime uses), and hold at least n elements. Releasing the
// Buffer does not free the memory, and neither does closing dev.
func Wrap(dev *Device, ptr cu.DevicePtr, t device.DType, n int) (*Buffer, error) {
	if dev == nil {
		return nil, fmt.Errorf("cuda: wrap: nil device")
	}
	if err := checkDType(t); err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, fmt.Errorf("cuda: wrap: negative length %d", n)
	}
	if ptr == 0 && n > 0 {
		return nil, fmt.Errorf("cuda: wrap: null pointer for %d elements", n)
	}
	if dev.w.isClosed() {
		return nil, errClosed
	}
	return &Buffer{dev: dev, ptr: ptr, dt: t, n: n}, nil
}

// DType returns the element type.
func (b *Buffer) DType() device.DType { return b.dt }

// Len returns the number of elements.
func (b *Buffer) Len() int { return b.n }

// Device returns the Device the buffer lives on.
func (b *Buffer) Device() device.Device { return b.dev }

// Ptr returns the device address of element 0.
func (b *Buffer) Ptr() cu.DevicePtr { return b.ptr }

// Wrapped reports whether the buffer wraps a caller's memory (Wrap).
func (b *Buffer) Wrapped() bool { return !b.owned }

// Release frees memory that Alloc allocated, after the work queued before
// it; for a wrapped buffer it only marks the buffer released. Later use of
// the buffer gives device.ErrReleased. Release is idempotent, and a no-op
// once the device is closed (closing freed the memory).
func (b *Buffer) Release() error {
	if b.released.Swap(true) || !b.owned {
		return nil
	}
	d := b.dev
	err := d.w.do(func() error {
		if _, ok := d.owned[b]; !ok {
			return nil
		}
		delete(d.owned, b)
		return cu.MemFree(b.ptr)
	})
	if err == errClosed {
		return nil
	}
	if err != nil {
		return cuErr("freeing a buffer", err)
	}
	return nil
}

// Check returns nil when v is a live buffer of d (see device.Device).
func (d *Device) Check(v device.Buffer) error {
	_, err := d.own(v)
	return err
}

// own checks that v is a live Buffer of d.
func (d *Device) own(v device.Buffer) (*Buffer, error) {
	b, ok := v.(*Buffer)
	if !ok || b == nil || b.dev != d {
		return nil, fmt.Errorf("cuda: %w", device.ErrWrongDevice)
	}
	if b.released.Load() {
		return nil, fmt.Errorf("cuda: %w", device.ErrReleased)
	}
	return b, nil
}
