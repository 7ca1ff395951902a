package losses

import (
	"errors"
	"fmt"
)

// ErrInvalidArgument is matched (errors.Is) by every validation error.
var ErrInvalidArgument = errors.New("losses: invalid argument")

// ArgError is a validation error naming the argument at fault.
type ArgError struct {
	Loss string // e.g. "cross_entropy"
	Arg  string // e.g. "target"
	Msg  string
	// Err is the device error behind the message, if any (for example
	// device.ErrReleased or device.ErrWrongDevice), for errors.Is.
	Err error
}

func (e *ArgError) Error() string {
	return fmt.Sprintf("losses: %s: %s: %s", e.Loss, e.Arg, e.Msg)
}

// Is makes errors.Is(err, ErrInvalidArgument) true.
func (e *ArgError) Is(target error) bool { return target == ErrInvalidArgument }

// Unwrap returns the device error behind the message, if any.
func (e *ArgError) Unwrap() error { return e.Err }

// bufErr is an ArgError for a buffer that dev.Check refused.
func bufErr(loss, arg string, err error) error {
	return &ArgError{Loss: loss, Arg: arg, Msg: err.Error(), Err: err}
}

func argErr(loss, arg, format string, a ...any) error {
	return &ArgError{Loss: loss, Arg: arg, Msg: fmt.Sprintf(format, a...)}
}
