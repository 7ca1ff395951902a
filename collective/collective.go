package collective

import (
	"fmt"
	"math"

	"github.com/lossengine/lossengine/device"
)

// Op is the combining operation of an AllReduce.
type Op int

const (
	// Sum adds the contributions, in rank order: ((r0 + r1) + r2) + ...
	Sum Op = iota
	// Max takes the elementwise maximum; a NaN in any contribution gives NaN.
	Max
)

func (o Op) String() string {
	switch o {
	case Sum:
		return "sum"
	case Max:
		return "max"
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

// Valid reports whether o is Sum or Max.
func (o Op) Valid() bool { return o == Sum || o == Max }

// Communicator connects the ranks of one group. Rank is this member's
// index in [0, Size()). AllReduce replaces buf, a float32 or float64
// buffer on the caller's device, on every rank with the elementwise
// combination by op of all ranks' buffers; every rank must call it with a
// buffer of the same length and dtype and the same op.
type Communicator interface {
	Rank() int
	Size() int
	AllReduce(buf device.Buffer, op Op) error
}

// Error is a collective's refusal: a bad argument of this rank, or a
// mismatch between the ranks (then every rank gets one).
type Error struct {
	Op   string // "allreduce"
	Rank int
	Msg  string
	Err  error // a device error behind the message, if any
}

func (e *Error) Error() string {
	return fmt.Sprintf("collective: %s on rank %d: %s", e.Op, e.Rank, e.Msg)
}

// Unwrap returns the device error behind the message, if any.
func (e *Error) Unwrap() error { return e.Err }

func errorf(rank int, format string, a ...any) error {
	return &Error{Op: "allreduce", Rank: rank, Msg: fmt.Sprintf(format, a...)}
}

// CheckBuffer refuses a buffer that cannot be all-reduced: nil, or not
// float32 or float64.
func CheckBuffer(rank int, buf device.Buffer) error {
	if buf == nil || buf.Device() == nil {
		return errorf(rank, "buffer is nil")
	}
	if !buf.DType().IsFloat() {
		return errorf(rank, "buffer dtype is %s, want float32 or float64", buf.DType())
	}
	return nil
}

// ReadFloat64 reads buf (float32 or float64) from its device as float64
// values (exact).
func ReadFloat64(buf device.Buffer) ([]float64, error) {
	n := buf.Len()
	if buf.DType() == device.Float64 {
		v := make([]float64, n)
		return v, buf.Device().Read(v, buf)
	}
	v32 := make([]float32, n)
	if err := buf.Device().Read(v32, buf); err != nil {
		return nil, err
	}
	v := make([]float64, n)
	for i, x := range v32 {
		v[i] = float64(x)
	}
	return v, nil
}

// WriteFloat64 writes v into buf, rounding to float32 for a float32 buffer
// (exact for values combined from float32 contributions by Max, and for
// Sum the one rounding of the float64 sum).
func WriteFloat64(buf device.Buffer, v []float64) error {
	if buf.DType() == device.Float64 {
		return buf.Device().Write(buf, v)
	}
	v32 := make([]float32, len(v))
	for i, x := range v {
		v32[i] = float32(x)
	}
	return buf.Device().Write(buf, v32)
}

// Combine combines the contributions parts (one per rank, in rank order,
// each of the same length) by op into dst: dst[i] = parts[0][i] ⊕
// parts[1][i] ⊕ ... added left to right, in float64. For float32 buffers
// the sum is rounded once, at the end, so the result does not depend on
// how the ranks were grouped. Every communicator of this package and of
// collective/mpi combines with it.
func Combine(dst []float64, parts [][]float64, op Op) {
	for i := range dst {
		acc := parts[0][i]
		for _, p := range parts[1:] {
			v := p[i]
			switch op {
			case Sum:
				acc += v
			case Max:
				if acc != acc || v != v {
					acc = math.NaN()
				} else if v > acc {
					acc = v
				}
			}
		}
		dst[i] = acc
	}
}
