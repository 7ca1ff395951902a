package device

import "fmt"

// Float is the element type of float buffers on the host: float32 or
// float64.
type Float interface{ ~float32 | ~float64 }

// Elem is the element type of a host slice a Buffer exchanges with the
// host: the Go type of each DType.
type Elem interface{ float32 | float64 | int32 }

// DTypeOf returns the DType of T.
func DTypeOf[T Elem]() DType {
	var z T
	switch any(z).(type) {
	case float64:
		return Float64
	case int32:
		return Int32
	}
	return Float32
}

// Upload allocates a buffer of len(src) elements of T's dtype on d and
// copies src into it. The dtype is checked when the program compiles,
// where Device.Write checks it when it runs.
func Upload[T Elem](d Device, src []T) (Buffer, error) {
	b, err := d.Alloc(DTypeOf[T](), len(src))
	if err != nil {
		return nil, err
	}
	if len(src) > 0 {
		if err := d.Write(b, src); err != nil {
			b.Release()
			return nil, err
		}
	}
	return b, nil
}

// Download copies the first n elements of b into a new []T, after all
// queued work has finished. T must match b's dtype.
func Download[T Elem](d Device, b Buffer, n int) ([]T, error) {
	if b == nil {
		return nil, fmt.Errorf("device: nil buffer")
	}
	if dt := DTypeOf[T](); b.DType() != dt {
		return nil, fmt.Errorf("device: buffer is %s, not %s", b.DType(), dt)
	}
	if n < 0 || n > b.Len() {
		return nil, fmt.Errorf("device: %d elements asked of a buffer of %d", n, b.Len())
	}
	out := make([]T, n)
	if n == 0 {
		return out, nil
	}
	return out, d.Read(out, b)
}
