package losses

import (
	"math"

	"github.com/lossengine/lossengine/device"
)

// RowsBuffers are the buffers of a row-wise op over a [Rows, Cols] matrix.
type RowsBuffers struct {
	Rows, Cols int
	// X is the input [Rows, Cols] (the forward output Y for the backward
	// of Softmax and LogSoftmax).
	X device.Buffer
	// Out receives the result: [Rows, Cols], or [Rows] for LogSumExp.
	Out device.Buffer
}

// Temperature τ divides the inputs of the softmax family: softmax(x/τ).
// Zero means 1.
type Temperature float64

func (t Temperature) inv(op string) (float64, error) {
	tau := float64(t)
	if tau == 0 {
		return 1, nil
	}
	if !(tau > 0) || math.IsInf(tau, 1) {
		return 0, argErr(op, "temperature", "must be positive and finite, got %v", tau)
	}
	return 1 / tau, nil
}

func checkRows(dev device.Device, op string, rows, cols int, bufs map[string]device.Buffer, sizes map[string]int) (device.DType, error) {
	if dev == nil {
		return 0, argErr(op, "device", "is nil")
	}
	if err := checkSize(op, "rows", rows); err != nil {
		return 0, err
	}
	if err := checkSize(op, "cols", cols); err != nil {
		return 0, err
	}
	if int64(rows)*int64(cols) > maxInt32 {
		return 0, argErr(op, "input", "rows*cols = %d exceeds the int32 range of the kernels", int64(rows)*int64(cols))
	}
	x := bufs["input"]
	if x == nil {
		return 0, argErr(op, "input", "buffer is nil")
	}
	ft := x.DType()
	if !ft.IsFloat() {
		return 0, argErr(op, "input", "dtype is %s, want a float type", ft)
	}
	if ft == device.Float64 && !dev.Info().Float64 {
		return 0, argErr(op, "input", "float64 is not supported on device %s", dev.Info().Name)
	}
	for _, name := range []string{"input", "lse", "grad_output", "output", "grad_input"} {
		b, ok := bufs[name]
		if !ok {
			continue
		}
		if err := checkBuf(op, name, dev, b, ft, sizes[name], false); err != nil {
			return 0, err
		}
	}
	return ft, nil
}

// LogSumExp writes out[r] = log Σ_c exp(x[r,c]/τ) for each row, in one
// pass over the row (online maximum and sum).
func LogSumExp(dev device.Device, b RowsBuffers, tau Temperature) error {
	const op = "logsumexp"
	inv, err := tau.inv(op)
	if err != nil {
		return err
	}
	if _, err := checkRows(dev, op, b.Rows, b.Cols, map[string]device.Buffer{"input": b.X, "output": b.Out},
		map[string]int{"input": b.Rows * b.Cols, "output": b.Rows}); err != nil {
		return err
	}
	if b.Rows == 0 {
		return nil
	}
	return dev.Launch("logsumexp_rows", rowGrid(b.Rows), b.X, int32(b.Rows), int32(b.Cols), inv, b.Out)
}

// LogSumExpBackward writes dx[r,c] = dlse[r] · exp(x[r,c]/τ - lse[r]) / τ,
// the gradient of LogSumExp given its output lse and the upstream gradient
// dlse [Rows]. b.X is x, b.Out is dx.
func LogSumExpBackward(dev device.Device, b RowsBuffers, lse, dlse device.Buffer, tau Temperature) error {
	const op = "logsumexp_backward"
	inv, err := tau.inv(op)
	if err != nil {
		return err
	}
	n := b.Rows * b.Cols
	if _, err := checkRows(dev, op, b.Rows, b.Cols, map[string]device.Buffer{"input": b.X, "lse": lse, "grad_output": dlse, "grad_input": b.Out},
		map[string]int{"input": n, "lse": b.Rows, "grad_output": b.Rows, "grad_input": n}); err != nil {
		return err
	}
	if b.Rows == 0 {
		return nil
	}
	return dev.Launch("logsumexp_backward_rows", rowGrid(b.Rows), b.X, lse, dlse, int32(b.Rows), int32(b.Cols), inv, b.Out)
}

func softmaxFwd(dev device.Device, op string, b RowsBuffers, tau Temperature, log bool) error {
	inv, err := tau.inv(op)
	if err != nil {
		return err
	}
	n := b.Rows * b.Cols
	if _, err := checkRows(dev, op, b.Rows, b.Cols, map[string]device.Buffer{"input": b.X, "output": b.Out},
		map[string]int{"input": n, "output": n}); err != nil {
		return err
	}
	if b.Rows == 0 {
		return nil
	}
	return dev.Launch("softmax_rows", rowGrid(b.Rows), b.X, int32(b.Rows), int32(b.Cols), inv, b2i(log), b.Out)
}

func softmaxBwd(dev device.Device, op string, b RowsBuffers, dy device.Buffer, tau Temperature, log bool) error {
	inv, err := tau.inv(op)
	if err != nil {
		return err
	}
	n := b.Rows * b.Cols
	if _, err := checkRows(dev, op, b.Rows, b.Cols, map[string]device.Buffer{"input": b.X, "grad_output": dy, "grad_input": b.Out},
		map[string]int{"input": n, "grad_output": n, "grad_input": n}); err != nil {
		return err
	}
	if b.Rows == 0 {
		return nil
	}
	return dev.Launch("softmax_backward_rows", rowGrid(b.Rows), b.X, dy, int32(b.Rows), int32(b.Cols), inv, b2i(log), b.Out)
}

// Softmax writes out = softmax(x/τ) row by row. Out may be X.
func Softmax(dev device.Device, b RowsBuffers, tau Temperature) error {
	return softmaxFwd(dev, "softmax", b, tau, false)
}

// LogSoftmax writes out = log_softmax(x/τ) row by row. Out may be X.
func LogSoftmax(dev device.Device, b RowsBuffers, tau Temperature) error {
	return softmaxFwd(dev, "log_softmax", b, tau, true)
}

// SoftmaxBackward is the gradient of Softmax: given its output y (b.X)
// and the upstream gradient dy, it writes dx = y ⊙ (dy - Σ_c dy·y) / τ
// into b.Out (which may be dy).
func SoftmaxBackward(dev device.Device, b RowsBuffers, dy device.Buffer, tau Temperature) error {
	return softmaxBwd(dev, "softmax_backward", b, dy, tau, false)
}

// LogSoftmaxBackward is the gradient of LogSoftmax: given its output y
// (b.X) and the upstream gradient dy, it writes dx = (dy - exp(y) Σ_c dy)/τ
// into b.Out (which may be dy).
func LogSoftmaxBackward(dev device.Device, b RowsBuffers, dy device.Buffer, tau Temperature) error {
	return softmaxBwd(dev, "log_softmax_backward", b, dy, tau, true)
}

// RowOp names a row-wise op of the softmax family for RowOpSlices.
type RowOp string

const (
	OpSoftmax    RowOp = "softmax"
	OpLogSoftmax RowOp = "log_softmax"
	OpLogSumExp  RowOp = "logsumexp"
)

// RowOpSlices runs op on x [rows*cols] and its backward with upstream
// gradient dy (shaped like the output; nil means ones). It returns the
// output in Loss and d(Σ dy·output)/dx in Grad.
func RowOpSlices[T Float](dev device.Device, op RowOp, x []T, rows, cols int, tau Temperature, dy []T) (*Result[T], error) {
	name := string(op)
	if op != OpSoftmax && op != OpLogSoftmax && op != OpLogSumExp {
		return nil, argErr(name, "op", "unknown row op %q: want softmax, log_softmax or logsumexp", name)
	}
	if dev == nil {
		return nil, argErr(name, "device", "is nil")
	}
	if err := checkSize(name, "rows", rows); err != nil {
		return nil, err
	}
	if err := checkSize(name, "cols", cols); err != nil {
		return nil, err
	}
	if len(x) != rows*cols {
		return nil, argErr(name, "input", "has %d elements, want rows*cols = %d", len(x), rows*cols)
	}
	if _, err := tau.inv(name); err != nil {
		return nil, err
	}
	nOut := rows * cols
	if op == OpLogSumExp {
		nOut = rows
	}
	if dy == nil {
		dy = make([]T, nOut)
		for i := range dy {
			dy[i] = 1
		}
	}
	if len(dy) != nOut {
		return nil, argErr(name, "grad_output", "has %d elements, want %d", len(dy), nOut)
	}
	if floatDType[T]() == device.Float64 && !dev.Info().Float64 {
		return nil, argErr(name, "input", "float64 is not supported on device %s", dev.Info().Name)
	}
	res := &Result[T]{Loss: make([]T, nOut), Grad: make([]T, rows*cols)}
	s := staged{dev: dev}
	defer s.release()
	xb, err := s.in(name, "input", x)
	if err != nil {
		return nil, err
	}
	dyb, err := s.in(name, "grad_output", dy)
	if err != nil {
		return nil, err
	}
	yb, err := s.out(name, "output", res.Loss)
	if err != nil {
		return nil, err
	}
	gb, err := s.out(name, "grad_input", res.Grad)
	if err != nil {
		return nil, err
	}
	fb := RowsBuffers{Rows: rows, Cols: cols, X: xb, Out: yb}
	switch op {
	case OpSoftmax:
		err = Softmax(dev, fb, tau)
		if err == nil {
			err = SoftmaxBackward(dev, RowsBuffers{Rows: rows, Cols: cols, X: yb, Out: gb}, dyb, tau)
		}
	case OpLogSoftmax:
		err = LogSoftmax(dev, fb, tau)
		if err == nil {
			err = LogSoftmaxBackward(dev, RowsBuffers{Rows: rows, Cols: cols, X: yb, Out: gb}, dyb, tau)
		}
	case OpLogSumExp:
		err = LogSumExp(dev, fb, tau)
		if err == nil {
			err = LogSumExpBackward(dev, RowsBuffers{Rows: rows, Cols: cols, X: xb, Out: gb}, yb, dyb, tau)
		}
	}
	if err != nil {
		return nil, err
	}
	if err := s.read(res.Loss, yb); err != nil {
		return nil, err
	}
	if err := s.read(res.Grad, gb); err != nil {
		return nil, err
	}
	return res, nil
}
