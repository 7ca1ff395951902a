package losses

import (
	"math"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
)

// rowsBuffers are the buffers of a row-wise op over a [Rows, Cols] matrix.
type rowsBuffers struct {
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

// inv returns 1/τ, refusing τ that is not positive, or whose value or
// inverse is not a finite number of ft (τ = 1e-39 in float32 would turn
// every x/τ into ±Inf and the softmax into NaN).
func (t Temperature) inv(op string, ft device.DType) (float64, error) {
	tau := float64(t)
	if tau == 0 {
		return 1, nil
	}
	if !(tau > 0) || !fits(ft, tau) || !fits(ft, 1/tau) {
		return 0, argErr(op, "temperature", "must be positive, with τ and 1/τ finite in %s, got %v", ft, tau)
	}
	return 1 / tau, nil
}

// dtypeOr is b's dtype, or def when b is absent (checked elsewhere).
func dtypeOr(b device.Buffer, def device.DType) device.DType {
	if isNilBuffer(b) {
		return def
	}
	return b.DType()
}

// fits reports whether v is finite when rounded to ft.
func fits(ft device.DType, v float64) bool {
	if ft == device.Float32 {
		return !math.IsInf(float64(float32(v)), 0) && !math.IsNaN(v)
	}
	return !math.IsInf(v, 0) && !math.IsNaN(v)
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

// logSumExpBuf writes out[r] = log Σ_c exp(x[r,c]/τ) for each row, in one
// pass over the row (online maximum and sum).
func logSumExpBuf(dev device.Device, b rowsBuffers, tau Temperature) error {
	const op = "logsumexp"
	inv, err := tau.inv(op, dtypeOr(b.X, device.Float64))
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

// logSumExpBackwardBuf writes dx[r,c] = dlse[r] · exp(x[r,c]/τ - lse[r]) / τ,
// the gradient of LogSumExp given its output lse and the upstream gradient
// dlse [Rows]. b.X is x, b.Out is dx.
func logSumExpBackwardBuf(dev device.Device, b rowsBuffers, lse, dlse device.Buffer, tau Temperature) error {
	const op = "logsumexp"
	inv, err := tau.inv(op, dtypeOr(b.X, device.Float64))
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

func softmaxFwd(dev device.Device, op string, b rowsBuffers, tau Temperature, log bool) error {
	inv, err := tau.inv(op, dtypeOr(b.X, device.Float64))
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

func softmaxBwd(dev device.Device, op string, b rowsBuffers, dy device.Buffer, tau Temperature, log bool) error {
	inv, err := tau.inv(op, dtypeOr(b.X, device.Float64))
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

// softmaxBuf writes out = softmax(x/τ) row by row. Out may be X.
func softmaxBuf(dev device.Device, b rowsBuffers, tau Temperature) error {
	return softmaxFwd(dev, "softmax", b, tau, false)
}

// logSoftmaxBuf writes out = log_softmax(x/τ) row by row. Out may be X.
func logSoftmaxBuf(dev device.Device, b rowsBuffers, tau Temperature) error {
	return softmaxFwd(dev, "log_softmax", b, tau, true)
}

// softmaxBackwardBuf is the gradient of Softmax: given its output y (b.X)
// and the upstream gradient dy, it writes dx = y ⊙ (dy - Σ_c dy·y) / τ
// into b.Out (which may be dy).
func softmaxBackwardBuf(dev device.Device, b rowsBuffers, dy device.Buffer, tau Temperature) error {
	return softmaxBwd(dev, "softmax", b, dy, tau, false)
}

// logSoftmaxBackwardBuf is the gradient of LogSoftmax: given its output y
// (b.X) and the upstream gradient dy, it writes dx = (dy - exp(y) Σ_c dy)/τ
// into b.Out (which may be dy).
func logSoftmaxBackwardBuf(dev device.Device, b rowsBuffers, dy device.Buffer, tau Temperature) error {
	return softmaxBwd(dev, "log_softmax", b, dy, tau, true)
}

// rowOp names a row-wise op of the softmax family.
type rowOp string

const (
	opSoftmax    rowOp = "softmax"
	opLogSoftmax rowOp = "log_softmax"
	opLogSumExp  rowOp = "logsumexp"
)

// SoftmaxArgs are the tensors of Softmax, LogSoftmax and LogSumExp, which
// work along the last dimension of input.
type SoftmaxArgs struct {
	Input Tensor `loss:"input,in"`
	// GradOutput is the upstream gradient, shaped like Output; absent, it
	// is all ones.
	GradOutput Tensor `loss:"grad_output,in,optional"`
	// Output is the result: input's shape (LogSumExp: without its last
	// dimension, or with it 1 under KeepDim). It may be Input, except for
	// LogSumExp.
	Output Tensor `loss:"output,out"`
	// GradInput, when given, receives d(Σ grad_output·output)/d input.
	GradInput Tensor `loss:"grad_input,grad"`
}

// SoftmaxOptions are the options of Softmax, LogSoftmax and LogSumExp.
type SoftmaxOptions struct {
	// Dim must be the last dimension (−1 or rank−1) when given.
	Dim *int `json:"dim"`
	// Temperature τ > 0 divides the input: softmax(x/τ); nil means 1.
	Temperature *float64 `json:"temperature"`
}

func (o SoftmaxOptions) tau(op string) (Temperature, error) {
	if o.Temperature == nil {
		return 1, nil
	}
	t := *o.Temperature
	if !(t > 0) || math.IsInf(t, 1) {
		return 0, argErr(op, "temperature", "must be positive and finite, got %v", t)
	}
	return Temperature(t), nil
}

// LogSoftmaxOptions are the options of LogSoftmax (those of Softmax).
type LogSoftmaxOptions SoftmaxOptions

// LogSumExpOptions are the options of LogSumExp.
type LogSumExpOptions struct {
	SoftmaxOptions
	KeepDim bool `json:"keepdim"` // keep the reduced dimension, as 1
}

// Softmax writes softmax(input/τ) along the last dimension and, when
// GradInput is given, its backward: dx = y ⊙ (dy − Σ dy·y) / τ. One block
// per row, fixed-tree reductions.
func Softmax(dev device.Device, a SoftmaxArgs, opt SoftmaxOptions) error {
	return runRowOp(dev, opSoftmax, a, opt, false)
}

// LogSoftmax writes log_softmax(input/τ) along the last dimension and,
// when GradInput is given, its backward: dx = (dy − exp(y)·Σ dy) / τ.
func LogSoftmax(dev device.Device, a SoftmaxArgs, opt LogSoftmaxOptions) error {
	return runRowOp(dev, opLogSoftmax, a, SoftmaxOptions(opt), false)
}

// LogSumExp writes log Σ exp(input/τ) along the last dimension (one pass,
// online maximum and sum) and, when GradInput is given, its backward:
// dx = dy · softmax(x/τ) / τ.
func LogSumExp(dev device.Device, a SoftmaxArgs, opt LogSumExpOptions) error {
	return runRowOp(dev, opLogSumExp, a, opt.SoftmaxOptions, opt.KeepDim)
}

func rowOpOutShape(op rowOp, in []int, keepdim bool) []int {
	out := append([]int{}, in...)
	if op == opLogSumExp && len(out) > 0 {
		if keepdim {
			out[len(out)-1] = 1
		} else {
			out = out[:len(out)-1]
		}
	}
	return out
}

func runRowOp(dev device.Device, op rowOp, a SoftmaxArgs, opt SoftmaxOptions, keepdim bool) error {
	name := string(op)
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	if !a.Input.Present() {
		return argErr(name, "input", "buffer is nil")
	}
	nd := len(a.Input.Shape)
	if nd == 0 {
		return argErr(name, "input", "is a scalar: want at least one dimension")
	}
	if opt.Dim != nil && *opt.Dim != -1 && *opt.Dim != nd-1 {
		return argErr(name, "dim", "%d: only the last dimension (-1 or %d) is supported", *opt.Dim, nd-1)
	}
	tau, err := opt.tau(name)
	if err != nil {
		return err
	}
	if _, err := tau.inv(name, a.Input.DType()); err != nil {
		return err
	}
	outShape := rowOpOutShape(op, a.Input.Shape, keepdim)
	if a.Output.Present() && !sameShape(a.Output.Shape, outShape) {
		return argErr(name, "output", "has shape %v: want %v", a.Output.Shape, outShape)
	}
	if a.GradOutput.Present() && !sameShape(a.GradOutput.Shape, outShape) {
		return argErr(name, "grad_output", "has shape %v: want the output's shape %v", a.GradOutput.Shape, outShape)
	}
	if a.GradInput.Present() && !sameShape(a.GradInput.Shape, a.Input.Shape) {
		return argErr(name, "grad_input", "has shape %v, want %v", a.GradInput.Shape, a.Input.Shape)
	}
	if !a.Output.Present() {
		return argErr(name, "output", "buffer is nil")
	}
	// Every tensor is checked before anything is written: the forward
	// launch writes output before the backward one would check grad_input,
	// and an empty input returns before any launch.
	if ft := a.Input.DType(); !ft.IsFloat() {
		return argErr(name, "input", "dtype is %s, want a float type", ft)
	}
	s := stage{dev: dev, loss: name}
	for i, t := range [...]Tensor{a.Input, a.GradOutput, a.Output, a.GradInput} {
		arg := [...]string{"input", "grad_output", "output", "grad_input"}[i]
		if err := s.check(arg, t); err != nil {
			return err
		}
		if t.Present() && t.DType() != a.Input.DType() {
			return argErr(name, arg, "dtype is %s, want the input's %s", t.DType(), a.Input.DType())
		}
	}
	cols := a.Input.Shape[nd-1]
	rowsN := 1
	for _, d := range a.Input.Shape[:nd-1] {
		rowsN *= d
	}
	if op != opLogSumExp && rowsN*cols == 0 {
		return nil // empty input and output: nothing to launch, however many empty rows
	}
	if cols == 0 {
		return fillNegInf(dev, name, a.Output) // the log-sum-exp of nothing, one per empty row
	}
	err = func() error {
		x, err := s.buf("input", a.Input, false)
		if err != nil {
			return err
		}
		dy, err := s.buf("grad_output", a.GradOutput, false)
		if err != nil {
			return err
		}
		y, err := s.buf("output", a.Output, true)
		if err != nil {
			return err
		}
		gx, err := s.buf("grad_input", a.GradInput, true)
		if err != nil {
			return err
		}
		if gx != nil && dy == nil {
			ft := a.Input.DType()
			ones, err := pool.get(dev, ft, a.Output.Len())
			if err != nil {
				return err
			}
			defer pool.put(ones)
			v := make([]float64, a.Output.Len())
			for i := range v {
				v[i] = 1
			}
			if err := writeFloats(dev, ones, v); err != nil {
				return err
			}
			dy = ones
		}
		fb := rowsBuffers{Rows: rowsN, Cols: cols, X: x, Out: y}
		switch op {
		case opSoftmax:
			err = softmaxBuf(dev, fb, tau)
			if err == nil && gx != nil {
				err = softmaxBackwardBuf(dev, rowsBuffers{Rows: rowsN, Cols: cols, X: y, Out: gx}, dy, tau)
			}
		case opLogSoftmax:
			err = logSoftmaxBuf(dev, fb, tau)
			if err == nil && gx != nil {
				err = logSoftmaxBackwardBuf(dev, rowsBuffers{Rows: rowsN, Cols: cols, X: y, Out: gx}, dy, tau)
			}
		case opLogSumExp:
			err = logSumExpBuf(dev, fb, tau)
			if err == nil && gx != nil {
				err = logSumExpBackwardBuf(dev, rowsBuffers{Rows: rowsN, Cols: cols, X: x, Out: gx}, y, dy, tau)
			}
		}
		return err
	}()
	return s.finish(err)
}

// fillNegInf writes −Inf into every element of t (a fill, not one launch
// per element).
func fillNegInf(dev device.Device, name string, t Tensor) error {
	if err := t.check(name, "output"); err != nil {
		return err
	}
	n := t.Len()
	if n == 0 {
		return nil
	}
	if hb, ok := t.Buf.(*host.Buffer); ok {
		switch v := hb.Slice().(type) {
		case []float32:
			for i := range v[:n] {
				v[i] = float32(math.Inf(-1))
			}
			return nil
		case []float64:
			for i := range v[:n] {
				v[i] = math.Inf(-1)
			}
			return nil
		}
	}
	if t.Buf.Device() != dev {
		return argErr(name, "output", "buffer belongs to device %s, not %s", t.Buf.Device().Info().Name, dev.Info().Name)
	}
	v := make([]float64, n)
	for i := range v {
		v[i] = math.Inf(-1)
	}
	return writeFloats(dev, t.Buf, v)
}

func init() {
	sm := func(a SoftmaxArgs, o SoftmaxOptions) map[string][]int {
		return map[string][]int{"output": a.Input.Shape}
	}
	register("softmax", "Softmax", Softmax, sm, "softmax_rows", "softmax_backward_rows")
	register("log_softmax", "LogSoftmax", LogSoftmax, func(a SoftmaxArgs, o LogSoftmaxOptions) map[string][]int {
		return map[string][]int{"output": a.Input.Shape}
	}, "softmax_rows", "softmax_backward_rows")
	register("logsumexp", "LogSumExp", LogSumExp, func(a SoftmaxArgs, o LogSumExpOptions) map[string][]int {
		return map[string][]int{"output": rowOpOutShape(opLogSumExp, a.Input.Shape, o.KeepDim)}
	}, "logsumexp_rows", "logsumexp_backward_rows")
}
