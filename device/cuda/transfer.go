//go:build cuda

package cuda

import (
	"fmt"
	"runtime"
	"unsafe"

	"github.com/lossengine/lossengine/device"
	"gorgonia.org/cu"
)

// hostBytes returns the address and byte length of a []float32 or []int32
// (nil for an empty slice). CheckTransfer has vetted the type.
func hostBytes(s any) (unsafe.Pointer, int64) {
	switch v := s.(type) {
	case []float32:
		if len(v) > 0 {
			return unsafe.Pointer(&v[0]), int64(len(v)) * 4
		}
	case []int32:
		if len(v) > 0 {
			return unsafe.Pointer(&v[0]), int64(len(v)) * 4
		}
	}
	return nil, 0
}

// Write copies src ([]float32 or []int32, matching dst's dtype) into dst
// from element 0. It is ordered after queued work and returns once src
// may be reused.
func (d *Device) Write(dst device.Buffer, src any) error {
	if err := device.CheckTransfer(d, src, dst); err != nil {
		return fmt.Errorf("cuda: write: %w", err)
	}
	b, err := d.own(dst)
	if err != nil {
		return err
	}
	p, n := hostBytes(src)
	if n == 0 {
		return nil
	}
	err = d.w.do(func() error { return cu.MemcpyHtoD(b.ptr, p, n) })
	runtime.KeepAlive(src)
	if err != nil && err != errClosed {
		return cuErr(fmt.Sprintf("writing %d bytes to %s", n, d.info.Name), err)
	}
	return err
}

// Read copies src into dst ([]float32 or []int32) from element 0, after
// all queued work has finished.
func (d *Device) Read(dst any, src device.Buffer) error {
	if err := device.CheckTransfer(d, dst, src); err != nil {
		return fmt.Errorf("cuda: read: %w", err)
	}
	b, err := d.own(src)
	if err != nil {
		return err
	}
	p, n := hostBytes(dst)
	if n == 0 {
		return nil
	}
	err = d.w.do(func() error { return cu.MemcpyDtoH(p, b.ptr, n) })
	runtime.KeepAlive(dst)
	if err != nil && err != errClosed {
		return cuErr(fmt.Sprintf("reading %d bytes from %s", n, d.info.Name), err)
	}
	return err
}

// Copy copies n elements from src to dst, both on d and of one dtype,
// ordered after queued work.
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
		return fmt.Errorf("cuda: copy from %s to %s", b.dt, a.dt)
	}
	if n < 0 || n > a.n || n > b.n {
		return fmt.Errorf("cuda: copy of %d elements between buffers of %d and %d", n, b.n, a.n)
	}
	if n == 0 {
		return nil
	}
	bytes := int64(n) * int64(a.dt.Size())
	err = d.w.do(func() error { return cu.MemcpyDtoD(a.ptr, b.ptr, bytes) })
	if err != nil && err != errClosed {
		return cuErr(fmt.Sprintf("copying %d bytes on %s", bytes, d.info.Name), err)
	}
	return err
}
