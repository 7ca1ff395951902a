package device

import (
	"errors"
	"fmt"
)

// DType is the element type of a Buffer.
type DType int

const (
	Float32 DType = iota
	Float64
	Int32
)

// Size returns the size of one element in bytes.
func (t DType) Size() int {
	switch t {
	case Float64:
		return 8
	default:
		return 4
	}
}

func (t DType) String() string {
	switch t {
	case Float32:
		return "float32"
	case Float64:
		return "float64"
	case Int32:
		return "int32"
	}
	return fmt.Sprintf("DType(%d)", int(t))
}

// IsFloat reports whether t is a floating-point type.
func (t DType) IsFloat() bool { return t == Float32 || t == Float64 }

// Kind says what sort of processor a device is.
type Kind string

const (
	CPU Kind = "cpu"
	GPU Kind = "gpu"
)

// Info describes one device.
type Info struct {
	Name        string // selection name, e.g. "host", "opencl:0", "cuda:0"
	Backend     string // "host", "opencl" or "cuda"
	Description string // vendor and model
	Kind        Kind
	Memory      int64 // global memory in bytes, 0 if unknown
	ComputeUnit int   // cores, compute units or multiprocessors
	Float64     bool  // whether kernels can run on float64 buffers
}

// Grid is a one-dimensional launch configuration: Blocks work-groups of
// Threads work-items each.
type Grid struct {
	Blocks  int
	Threads int
}

// Buffer is a typed one-dimensional array owned by, or wrapped for, a device.
type Buffer interface {
	DType() DType
	Len() int
	// Device returns the device the buffer lives on.
	Device() Device
	// Release frees the memory. Releasing a wrapped buffer does not free the
	// caller's memory. Release is idempotent.
	Release() error
}

// Device is the interface every backend implements.
type Device interface {
	Info() Info
	// Alloc returns a buffer of n elements of type t. The contents are
	// unspecified. Too little memory gives an error wrapping ErrOutOfMemory.
	Alloc(t DType, n int) (Buffer, error)
	// Write copies src ([]float32, []float64 or []int32, matching dst's
	// dtype) into dst starting at element 0.
	Write(dst Buffer, src any) error
	// Read copies src into dst ([]float32, []float64 or []int32) from
	// element 0, after all queued work has finished.
	Read(dst any, src Buffer) error
	// Copy copies n elements from src to dst, both on this device.
	Copy(dst, src Buffer, n int) error
	// Launch queues the kernel with the given name. Arguments are checked
	// against the kernel manifest before anything is queued: their count
	// and kinds, and the length of every buffer against the size the
	// kernel may touch for the scalars and the grid given (a failed check
	// is an error wrapping ErrBadArguments that names the kernel, the
	// argument and both sizes).
	Launch(kernel string, grid Grid, args ...any) error
	// Check returns nil when b is a live buffer of this device, else an
	// error wrapping ErrWrongDevice (another device's buffer, or a Buffer
	// of another implementation that claims this device) or ErrReleased.
	// Every loss checks each buffer argument with it before any launch.
	Check(b Buffer) error
	// Sync waits for all queued work and reports any asynchronous error.
	Sync() error
	// Close releases the device's resources.
	Close() error
}

// Errors that callers can test with errors.Is.
var (
	ErrOutOfMemory  = errors.New("device: out of memory")
	ErrNotCompiled  = errors.New("device: backend not compiled in")
	ErrNotPresent   = errors.New("device: backend compiled in but no device present")
	ErrUnknown      = errors.New("device: unknown device name")
	ErrWrongDevice  = errors.New("device: buffer belongs to another device")
	ErrReleased     = errors.New("device: buffer already released")
	ErrUnsupported  = errors.New("device: unsupported on this device")
	ErrBadArguments = errors.New("device: bad kernel arguments")
)

// Elems returns the length of a host slice and its dtype.
func Elems(s any) (DType, int, error) {
	switch v := s.(type) {
	case []float32:
		return Float32, len(v), nil
	case []float64:
		return Float64, len(v), nil
	case []int32:
		return Int32, len(v), nil
	}
	return 0, 0, fmt.Errorf("device: host slice of type %T is not []float32, []float64 or []int32", s)
}

// CheckTransfer validates a host<->device copy between slice s and buffer b.
func CheckTransfer(d Device, s any, b Buffer) error {
	if b == nil {
		return fmt.Errorf("device: nil buffer")
	}
	if b.Device() != d {
		return ErrWrongDevice
	}
	t, n, err := Elems(s)
	if err != nil {
		return err
	}
	if t != b.DType() {
		return fmt.Errorf("device: host slice is %s but buffer is %s", t, b.DType())
	}
	if n > b.Len() {
		return fmt.Errorf("device: host slice has %d elements but buffer only %d", n, b.Len())
	}
	return nil
}
