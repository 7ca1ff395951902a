package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
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
}

// evalCase is a request after validation, handed to a registry entry.
type evalCase struct {
	loss    string
	dev     device.Device
	f64     bool // compute in float64 (else float32)
	options map[string]json.RawMessage
	inputs  map[string]*tensor
}

// evalError is an error in a request: exit status 2.
type evalError struct{ msg string }

func (e *evalError) Error() string { return e.msg }

func (c *evalCase) errorf(format string, a ...any) error {
	return &evalError{c.loss + ": " + fmt.Sprintf(format, a...)}
}

// bits is the precision outputs are printed with.
func (c *evalCase) bits() int {
	if c.f64 {
		return 64
	}
	return 32
}

func (c *evalCase) tensorOut(shape []int, v []float64) tensorOut {
	if shape == nil {
		shape = []int{}
	}
	return tensorOut{Shape: shape, Data: outNums{v: v, bits: c.bits()}}
}

// lossValue is the "loss" field: a number, or an array for reduction none.
func (c *evalCase) lossValue(v []float64, red losses.Reduction) any {
	if red == losses.None {
		return outNums{v: v, bits: c.bits()}
	}
	return outNum{v: v[0], bits: c.bits()}
}

func cmdEval(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lossbench eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	devName := fs.String("device", "", "device used when the case names none (default: $"+device.EnvVar+", then auto)")
	pretty := fs.Bool("pretty", false, "indent the JSON output")
	fs.Usage = func() {
		fmt.Fprint(stderr, evalUsage)
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
	resp, err := evalReader(stdin, *devName)
	if err != nil {
		fmt.Fprintf(stderr, "lossbench eval: %v\n", err)
		return 2
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

// evalReader decodes one case from r and evaluates it.
func evalReader(r io.Reader, defaultDevice string) (*evalResponse, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading stdin: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var req evalRequest
	if err := dec.Decode(&req); err != nil {
		if err == io.EOF {
			return nil, errors.New("bad JSON: empty input, want one JSON object")
		}
		return nil, fmt.Errorf("bad JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("bad JSON: more than one JSON value on stdin")
	}
	return evalRequestRun(&req, defaultDevice)
}

func evalRequestRun(req *evalRequest, defaultDevice string) (*evalResponse, error) {
	entry, ok := registry[req.Loss]
	if !ok {
		return nil, fmt.Errorf("unknown loss %q: known losses are %s", req.Loss, strings.Join(lossNames(), ", "))
	}
	c := &evalCase{loss: req.Loss, options: req.Options, inputs: map[string]*tensor{}}
	if c.options == nil {
		c.options = map[string]json.RawMessage{}
	}
	for k := range c.options {
		if !contains(entry.options, k) {
			return nil, c.errorf("unknown option %q (options of %s: %s)", k, req.Loss, listOrNone(entry.options))
		}
	}
	for name, tin := range req.Inputs {
		if !contains(entry.inputs, name) && !contains(entry.optional, name) {
			return nil, c.errorf("unknown input %q (inputs of %s: %s)", name, req.Loss,
				listOrNone(append(append([]string{}, entry.inputs...), entry.optional...)))
		}
		t, err := tin.validate()
		if err != nil {
			return nil, c.errorf("input %q: %v", name, err)
		}
		c.inputs[name] = t
	}
	for _, name := range entry.inputs {
		if c.inputs[name] == nil {
			return nil, c.errorf("missing input %q", name)
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
	switch strings.ToLower(req.DType) {
	case "":
		c.f64 = isHost
	case "float64":
		if !isHost {
			return nil, c.errorf("dtype float64 is only supported on the host device, not %s", dev.Info().Name)
		}
		c.f64 = true
	case "float32":
	default:
		return nil, c.errorf("unknown dtype %q: want float32 or float64", req.DType)
	}
	c.dev = dev
	resp, err := entry.run(c)
	if err != nil {
		return nil, err
	}
	if resp.Grads == nil {
		resp.Grads = map[string]tensorOut{}
	}
	return resp, nil
}

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

func lossNames() []string {
	var names []string
	for k := range registry {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Option readers. A JSON null counts as absent.

func (c *evalCase) opt(name string) (json.RawMessage, bool) {
	raw, ok := c.options[name]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, false
	}
	return raw, true
}

func (c *evalCase) optFloat(name string, def float64) (float64, error) {
	raw, ok := c.opt(name)
	if !ok {
		return def, nil
	}
	var v num
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, c.errorf("option %q: %v", name, err)
	}
	return float64(v), nil
}

func (c *evalCase) optInt(name string) (*int, error) {
	raw, ok := c.opt(name)
	if !ok {
		return nil, nil
	}
	var v num
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, c.errorf("option %q: %v", name, err)
	}
	f := float64(v)
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return nil, c.errorf("option %q: %v is not an integer", name, f)
	}
	i := int(f)
	return &i, nil
}

func (c *evalCase) optBool(name string) (bool, error) {
	raw, ok := c.opt(name)
	if !ok {
		return false, nil
	}
	var v bool
	if err := json.Unmarshal(raw, &v); err != nil {
		return false, c.errorf("option %q: want true or false, got %s", name, raw)
	}
	return v, nil
}

func (c *evalCase) optString(name string) (string, error) {
	raw, ok := c.opt(name)
	if !ok {
		return "", nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", c.errorf("option %q: want a string, got %s", name, raw)
	}
	return v, nil
}

func (c *evalCase) optFloats(name string) ([]float64, error) {
	raw, ok := c.opt(name)
	if !ok {
		return nil, nil
	}
	var v []num
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, c.errorf("option %q: want an array of numbers: %v", name, err)
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out, nil
}

func (c *evalCase) optReduction() (losses.Reduction, error) {
	s, err := c.optString("reduction")
	if err != nil {
		return 0, err
	}
	r, err := losses.ParseReduction(s)
	if err != nil {
		return 0, c.errorf("option \"reduction\": %q is not one of none, mean, sum", s)
	}
	return r, nil
}

func (c *evalCase) optNaN() (losses.NaNPolicy, error) {
	s, err := c.optString("nan_policy")
	if err != nil {
		return 0, err
	}
	switch strings.ToLower(s) {
	case "", "propagate":
		return losses.NaNPropagate, nil
	case "error":
		return losses.NaNError, nil
	}
	return 0, c.errorf("option \"nan_policy\": %q is not one of propagate, error", s)
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

// byDType runs the float32 or float64 instance of a loss.
func byDType(c *evalCase, f32, f64 func(*evalCase) (*evalResponse, error)) (*evalResponse, error) {
	if c.f64 {
		return f64(c)
	}
	return f32(c)
}
