package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// evalRequest is the JSON case read by "lossbench eval".
type evalRequest struct {
	Loss    string                     `json:"loss"`
	Options map[string]json.RawMessage `json:"options"`
	Inputs  map[string]tensorIn        `json:"inputs"`
	Device  string                     `json:"device"`
	DType   string                     `json:"dtype"`
}

// tensorIn is an input tensor: a shape and its elements in row-major order.
// A missing shape means one dimension of len(data).
type tensorIn struct {
	Shape *[]int `json:"shape"`
	Data  []num  `json:"data"`
}

// tensor is a validated input tensor.
type tensor struct {
	shape []int
	data  []float64
}

// tensorOut is an output tensor.
type tensorOut struct {
	Shape []int   `json:"shape"`
	Data  outNums `json:"data"`
}

// evalResponse is what "lossbench eval" writes.
type evalResponse struct {
	// Loss is a number, or an array (flattened) with reduction "none";
	// absent for ops that are not losses.
	Loss any `json:"loss,omitempty"`
	// Output is the result of an op such as softmax.
	Output *tensorOut           `json:"output,omitempty"`
	Grads  map[string]tensorOut `json:"grads"`
	// Outputs are the loss's other results (lse, log_likelihood, ...).
	Outputs map[string]tensorOut `json:"outputs,omitempty"`
}

// evalError is an error in a request: exit status 2.
type evalError struct{ msg string }

func (e *evalError) Error() string { return e.msg }

func errorf(loss, format string, a ...any) error {
	return &evalError{loss + ": " + fmt.Sprintf(format, a...)}
}

func cmdEval(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lossbench eval", flag.ContinueOnError)
	help := flagOutput(args, stdout, stderr)
	fs.SetOutput(help)
	devName := fs.String("device", "", "device used when the case names none (default: $"+device.EnvVar+", then auto)")
	pretty := fs.Bool("pretty", false, "indent the JSON output")
	maxBytes := fs.Int64("max-bytes", 256<<20, "largest case read from stdin, in bytes (a larger one exits with status 3)")
	fs.Usage = func() {
		fmt.Fprint(help, evalUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lossbench eval: unexpected arguments %q (the case is read from stdin)\n", fs.Args())
		return 2
	}
	resp, err := evalReader(io.LimitReader(stdin, *maxBytes+1), *devName, *maxBytes)
	if err != nil {
		fmt.Fprintf(stderr, "lossbench eval: %v\n", err)
		return exitStatus(err)
	}
	var out []byte
	if *pretty {
		out, err = json.MarshalIndent(resp, "", "  ")
	} else {
		out, err = json.Marshal(resp)
	}
	if err != nil {
		fmt.Fprintf(stderr, "lossbench eval: encoding the result: %v\n", err)
		return 2
	}
	out = append(out, '\n')
	if _, err := stdout.Write(out); err != nil {
		fmt.Fprintf(stderr, "lossbench eval: %v\n", err)
		return 1
	}
	return 0
}

// tooLargeError is a request beyond a resource limit: exit status 3.
type tooLargeError struct{ msg string }

func (e *tooLargeError) Error() string { return e.msg }

// exitStatus maps an error of eval to the exit status: 2 for a bad case
// (bad JSON, unknown loss, input or option, bad shapes or values, an
// *losses.ArgError, a device that does not exist), 3 for a case beyond a
// resource limit (too large to read, out of memory), 1 for anything else
// (an internal or device failure).
func exitStatus(err error) int {
	var tl *tooLargeError
	var ee *evalError
	var ae *losses.ArgError
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tl), errors.Is(err, device.ErrOutOfMemory):
		return 3
	case errors.As(err, &ee), errors.As(err, &ae), errors.As(err, &se), errors.As(err, &te),
		errors.Is(err, losses.ErrInvalidArgument), errors.Is(err, device.ErrUnknown),
		errors.Is(err, device.ErrNotCompiled), errors.Is(err, device.ErrNotPresent):
		return 2
	}
	return 1
}

// clip quotes at most 80 bytes of an input string for a message.
func clip(s string) string {
	if len(s) > 80 {
		return fmt.Sprintf("%q... (%d bytes)", s[:80], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// strictObject checks that raw is a JSON object whose keys are among
// allowed, spelled exactly (encoding/json would also take "Loss" for
// "loss"), none of them null.
func strictObject(what string, raw json.RawMessage, allowed ...string) error {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return &evalError{what + " is null, want an object"}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return &evalError{fmt.Sprintf("bad JSON: %s: %v", what, err)}
	}
	for k, v := range m {
		if !contains(allowed, k) {
			return &evalError{fmt.Sprintf("bad JSON: %s: unknown field %s (fields: %s)", what, clip(k), strings.Join(allowed, ", "))}
		}
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			return &evalError{fmt.Sprintf("bad JSON: %s: field %q is null", what, k)}
		}
	}
	return nil
}

// UnmarshalJSON reads a tensor strictly: only "shape" and "data", neither
// null, and no null dimension.
func (t *tensorIn) UnmarshalJSON(b []byte) error {
	if err := strictObject("tensor", b, "shape", "data"); err != nil {
		return err
	}
	var raw struct {
		Shape *[]json.RawMessage `json:"shape"`
		Data  []num              `json:"data"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	t.Data = raw.Data
	if raw.Shape != nil {
		shape := make([]int, len(*raw.Shape))
		for i, d := range *raw.Shape {
			if bytes.Equal(bytes.TrimSpace(d), []byte("null")) {
				return &evalError{fmt.Sprintf("shape: dimension %d is null", i)}
			}
			if err := json.Unmarshal(d, &shape[i]); err != nil {
				return &evalError{fmt.Sprintf("shape: dimension %d: %s is not an integer", i, clip(string(d)))}
			}
		}
		t.Shape = &shape
	}
	return nil
}

// evalReader decodes one case from r (at most maxBytes) and evaluates it.
func evalReader(r io.Reader, defaultDevice string, maxBytes int64) (*evalResponse, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading stdin: %w", err)
	}
	if int64(len(raw)) > maxBytes {
		return nil, &tooLargeError{fmt.Sprintf("the case is larger than -max-bytes (%d bytes)", maxBytes)}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var top json.RawMessage
	if err := dec.Decode(&top); err != nil {
		if err == io.EOF {
			return nil, &evalError{"bad JSON: empty input, want one JSON object"}
		}
		return nil, &evalError{"bad JSON: " + err.Error()}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &evalError{"bad JSON: more than one JSON value on stdin"}
	}
	if err := strictObject("the case", top, "loss", "options", "inputs", "device", "dtype"); err != nil {
		return nil, err
	}
	var req evalRequest
	if err := json.Unmarshal(top, &req); err != nil {
		return nil, &evalError{"bad JSON: " + err.Error()}
	}
	return evalRequestRun(&req, defaultDevice)
}

// evalRequestRun evaluates a decoded case through the loss's declaration
// in package losses: its inputs, options and outputs are read from there,
// so every declared loss is available here without code of its own.
func evalRequestRun(req *evalRequest, defaultDevice string) (*evalResponse, error) {
	decl, ok := losses.Lookup(req.Loss)
	if !ok {
		return nil, &evalError{fmt.Sprintf("unknown loss %s: known losses are %s", clip(req.Loss), strings.Join(losses.Names(), ", "))}
	}
	name := req.Loss
	optRaw, err := json.Marshal(req.Options)
	if err != nil {
		return nil, errorf(name, "options: %v", err)
	}
	if req.Options == nil {
		optRaw = nil
	}
	opt, err := decl.DecodeOptions(optRaw)
	if err != nil {
		return nil, err
	}
	required, optional := decl.Inputs()
	all := append(append([]string{}, required...), optional...)
	parsed := map[string]*tensor{}
	for in, tin := range req.Inputs {
		if !contains(all, in) {
			return nil, errorf(name, "unknown input %s (inputs of %s: %s)", clip(in), name, listOrNone(all))
		}
		t, err := tin.validate()
		if err != nil {
			return nil, errorf(name, "input %q: %v", in, err)
		}
		parsed[in] = t
	}
	for _, in := range required {
		if parsed[in] == nil {
			return nil, errorf(name, "missing input %q", in)
		}
	}

	devName := req.Device
	if devName == "" {
		devName = defaultDevice
	}
	dev, err := device.Open(devName)
	if err != nil {
		return nil, err
	}
	defer dev.Close()
	isHost := dev.Info().Backend == "host"
	f64 := false
	switch strings.ToLower(req.DType) {
	case "":
		f64 = isHost
	case "float64":
		if !isHost {
			return nil, errorf(name, "dtype float64 is only supported on the host device, not %s", dev.Info().Name)
		}
		f64 = true
	case "float32":
	default:
		return nil, errorf(name, "unknown dtype %s: want float32 or float64", clip(req.DType))
	}
	bits := 32
	if f64 {
		bits = 64
	}

	// The first float input's shape decides, for an input that may be
	// float or int32 (cross_entropy's target), which it is: the same shape
	// means float (probabilities), as in PyTorch.
	var floatShape []int
	for _, p := range decl.Params {
		if p.Role == losses.In && p.DType == "float" && parsed[p.Name] != nil {
			floatShape = parsed[p.Name].shape
			break
		}
	}
	inputs := map[string]losses.Tensor{}
	for _, p := range decl.Params {
		t := parsed[p.Name]
		if p.Role != losses.In || t == nil {
			continue
		}
		isInt := p.DType == "int32" || p.DType == "any" && !sameShape(t.shape, floatShape)
		switch {
		case isInt:
			v, err := int32s(name, p.Name, t)
			if err != nil {
				return nil, err
			}
			inputs[p.Name] = losses.HostTensor(v, t.shape...)
		case f64:
			inputs[p.Name] = losses.HostTensor(t.data, t.shape...)
		default:
			inputs[p.Name] = losses.HostTensor(toT[float32](t.data), t.shape...)
		}
		if len(t.shape) == 0 {
			inputs[p.Name] = losses.Tensor{Buf: inputs[p.Name].Buf, Shape: []int{}}
		}
	}
	outs, err := decl.Call(dev, inputs, opt)
	if err != nil {
		return nil, err
	}
	resp := &evalResponse{Grads: map[string]tensorOut{}}
	for _, p := range decl.Params {
		t, ok := outs[p.Name]
		if !ok {
			continue
		}
		v := losses.Floats(t)
		switch {
		case p.Name == "loss":
			if len(t.Shape) == 0 && !reductionNone(opt) {
				resp.Loss = outNum{v: v[0], bits: bits}
			} else {
				resp.Loss = outNums{v: v, bits: bits}
			}
		case p.Name == "output":
			resp.Output = &tensorOut{Shape: t.Shape, Data: outNums{v: v, bits: bits}}
		case p.Role == losses.Grad:
			resp.Grads[p.GradOf] = tensorOut{Shape: t.Shape, Data: outNums{v: v, bits: bits}}
		default:
			if resp.Outputs == nil {
				resp.Outputs = map[string]tensorOut{}
			}
			resp.Outputs[p.Name] = tensorOut{Shape: t.Shape, Data: outNums{v: v, bits: bits}}
		}
	}
	return resp, nil
}

// reductionNone reports whether options (a pointer to an options struct)
// ask for reduction none: the loss is then an array, even of a scalar
// input, as PyTorch's is a tensor of the input's shape.
func reductionNone(opt any) bool {
	v := reflect.ValueOf(opt)
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return false
	}
	f := v.FieldByName("Reduction")
	if !f.IsValid() {
		return false
	}
	r, ok := f.Interface().(losses.Reduction)
	return ok && r == losses.None
}

// int32s converts a tensor of integral values to int32.
func int32s(loss, name string, t *tensor) ([]int32, error) {
	out := make([]int32, len(t.data))
	for i, v := range t.data {
		if v != math.Trunc(v) || v < math.MinInt32 || v > math.MaxInt32 {
			return nil, errorf(loss, "%s[%d] = %v is not an int32 (a class index, label or length)", name, i, v)
		}
		out[i] = int32(v)
	}
	return out, nil
}

func sameShape(a, b []int) bool { return slices.Equal(a, b) }

func (t tensorIn) validate() (*tensor, error) {
	var shape []int
	if t.Shape == nil {
		shape = []int{len(t.Data)}
	} else {
		shape = *t.Shape
	}
	n := 1
	for i, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("shape %v: dimension %d is negative", shape, i)
		}
		if d > 0 && n > math.MaxInt32/d {
			return nil, fmt.Errorf("shape %v: too many elements", shape)
		}
		n *= d
	}
	if len(t.Data) != n {
		return nil, fmt.Errorf("shape %v has %d elements but data has %d", shape, n, len(t.Data))
	}
	v := make([]float64, n)
	for i, x := range t.Data {
		v[i] = float64(x)
	}
	return &tensor{shape: append([]int{}, shape...), data: v}, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func listOrNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	s := append([]string{}, list...)
	sort.Strings(s)
	return strings.Join(s, ", ")
}

// Conversions between the float64 JSON values and the compute type.

func toT[T losses.Float](v []float64) []T {
	out := make([]T, len(v))
	for i, x := range v {
		out[i] = T(x)
	}
	return out
}

func fromT[T losses.Float](v []T) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
