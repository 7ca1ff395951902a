package losses

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
)

// Role says what a tensor of a loss's Args is.
type Role string

const (
	In   Role = "in"   // an input
	Out  Role = "out"  // an output (the loss, or another result)
	Grad Role = "grad" // the gradient w.r.t. the input GradOf, shaped like it
)

// Param is one tensor of a loss, declared by the `loss` tag of its Args
// field: `loss:"NAME,ROLE[,DTYPE][,optional]"`, with ROLE in, out or grad
// and DTYPE float (the default), int32 or any (float or int32). A grad's
// NAME is grad_<input>.
type Param struct {
	Name     string // PyTorch's argument name ("input", "target", "grad_input", "loss")
	Field    string // the Go field of the Args struct
	Role     Role
	DType    string // "float", "int32" or "any"
	Optional bool   // inputs: may be absent; outputs: written only when given
	GradOf   string // for Role Grad: the input it is the gradient of
}

// Option is one option of a loss, declared by the json tag of its Options
// field.
type Option struct {
	Name  string // the JSON name (PyTorch's keyword argument)
	Field string // the Go field
	Type  string // the Go type
}

// Decl is the one declaration of a loss: its name, its tensors, its
// options and its kernels. The public function, `lossbench eval`, the
// sweep, the equivalence table and the PyTorch check all read it.
type Decl struct {
	// Name is the torch.nn.functional name (or the source's, where
	// PyTorch has none), e.g. "cross_entropy".
	Name string
	// Func is the Go function, e.g. "CrossEntropy".
	Func    string
	Params  []Param
	Options []Option
	// Kernels are the kernels the loss launches (names in the kernel manifest, internal/kernelspec).
	Kernels []string

	argsType, optType reflect.Type
	run               func(dev device.Device, args, opt reflect.Value) error
	bind              func(args, opt reflect.Value) func(device.Device) error
	shapes            func(args, opt reflect.Value) map[string][]int
}

var registry = map[string]*Decl{}

// register declares a loss: fn is its public function, shapes gives the
// shapes of its outputs (by Param name) for given inputs and options;
// a grad not listed gets its input's shape, an output not listed is
// optional and left out of Call's results.
func register[A, O any](name, funcName string, fn func(device.Device, A, O) error,
	shapes func(A, O) map[string][]int, kernels ...string) *Decl {
	if _, dup := registry[name]; dup {
		panic("losses: " + name + " declared twice")
	}
	d := &Decl{Name: name, Func: funcName, Kernels: kernels,
		argsType: reflect.TypeFor[A](), optType: reflect.TypeFor[O]()}
	d.Params = paramsOf(d.argsType)
	d.Options = optionsOf(d.optType)
	d.run = func(dev device.Device, a, o reflect.Value) error {
		return fn(dev, a.Interface().(A), o.Interface().(O))
	}
	d.bind = func(a, o reflect.Value) func(device.Device) error {
		av, ov := a.Interface().(A), o.Interface().(O)
		return func(dev device.Device) error { return fn(dev, av, ov) }
	}
	d.shapes = func(a, o reflect.Value) map[string][]int {
		return shapes(a.Interface().(A), o.Interface().(O))
	}
	registry[name] = d
	return d
}

func paramsOf(t reflect.Type) []Param {
	var ps []Param
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("loss")
		if !ok {
			continue
		}
		parts := strings.Split(tag, ",")
		p := Param{Name: parts[0], Field: f.Name, Role: Role(parts[1]), DType: "float"}
		for _, a := range parts[2:] {
			switch a {
			case "optional":
				p.Optional = true
			case "int32", "any", "float":
				p.DType = a
			default:
				panic("losses: bad loss tag " + tag)
			}
		}
		if p.Role == Grad {
			p.GradOf = strings.TrimPrefix(p.Name, "grad_")
			p.Optional = true
		}
		ps = append(ps, p)
	}
	return ps
}

func optionsOf(t reflect.Type) []Option {
	var os []Option
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			os = append(os, optionsOf(f.Type)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		os = append(os, Option{Name: name, Field: f.Name, Type: f.Type.String()})
	}
	return os
}

// Lookup returns the declaration of the loss with the given name.
func Lookup(name string) (*Decl, bool) {
	d, ok := registry[name]
	return d, ok
}

// Declarations returns every declared loss, sorted by name.
func Declarations() []*Decl {
	out := make([]*Decl, 0, len(registry))
	for _, d := range registry {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Names returns the names of every declared loss, sorted.
func Names() []string {
	var out []string
	for _, d := range Declarations() {
		out = append(out, d.Name)
	}
	return out
}

// Param returns the tensor of the given name.
func (d *Decl) Param(name string) (Param, bool) {
	for _, p := range d.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// Inputs returns the names of the input tensors, required ones first.
func (d *Decl) Inputs() (required, optional []string) {
	for _, p := range d.Params {
		if p.Role != In {
			continue
		}
		if p.Optional {
			optional = append(optional, p.Name)
		} else {
			required = append(required, p.Name)
		}
	}
	return required, optional
}

// OptionNames returns the JSON names of the options.
func (d *Decl) OptionNames() []string {
	var out []string
	for _, o := range d.Options {
		out = append(out, o.Name)
	}
	return out
}

// NewOptions returns a pointer to a new zero value (the defaults) of the
// loss's options struct.
func (d *Decl) NewOptions() any { return reflect.New(d.optType).Interface() }

// DecodeOptions decodes a JSON object of options (PyTorch's keyword
// names) into the loss's options struct. Unknown names are an *ArgError.
func (d *Decl) DecodeOptions(raw []byte) (any, error) {
	opt := d.NewOptions()
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return opt, nil
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return nil, argErr(d.Name, "options", "%v", err)
	}
	known := d.OptionNames()
	for k, v := range keys {
		if !containsStr(known, k) {
			sort.Strings(known)
			list := strings.Join(known, ", ")
			if list == "" {
				list = "none"
			}
			return nil, argErr(d.Name, trunc(k), "unknown option %s (options of %s: %s)", clip(k), d.Name, list)
		}
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			delete(keys, k)
		}
	}
	for k := range keys {
		v := keys[k]
		one, _ := json.Marshal(map[string]json.RawMessage{k: v})
		if err := json.Unmarshal(one, opt); err != nil {
			msg := err.Error()
			if ute, ok := err.(*json.UnmarshalTypeError); ok {
				msg = fmt.Sprintf("%s is not %s", clip(string(bytes.TrimSpace(v))), jsonKind(ute.Type))
			}
			return nil, argErr(d.Name, k, "option %q: %s", k, strings.TrimPrefix(msg, "json: "))
		}
	}
	return opt, nil
}

// clip quotes at most 80 bytes of a caller's string for a message.
func clip(s string) string {
	if len(s) > 80 {
		return fmt.Sprintf("%q... (%d bytes)", s[:80], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// trunc cuts a caller's string to at most 80 bytes, for an ArgError's Arg.
func trunc(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "an array of " + jsonKind(t.Elem()) + "s"
	case reflect.String:
		return "a string"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return t.String()
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Call runs the loss on dev with the named input tensors and options (a
// value or pointer of the loss's options type; nil means the defaults).
// It allocates every output the declaration lists for these inputs, as
// host tensors of the dtype of the first float input in declaration order
// (each gradient only where its input is given and float), and returns
// them by name. On an accelerator host tensors are copied there and back.
func (d *Decl) Call(dev device.Device, inputs map[string]Tensor, opt any) (map[string]Tensor, error) {
	if dev == nil || isNilDevice(dev) {
		return nil, argErr(d.Name, "device", "is nil")
	}
	a := reflect.New(d.argsType).Elem()
	for name, t := range inputs {
		p, ok := d.Param(name)
		if !ok || p.Role != In {
			req, optl := d.Inputs()
			all := append(append([]string{}, req...), optl...)
			sort.Strings(all)
			return nil, argErr(d.Name, trunc(name), "unknown input %s (inputs of %s: %s)", clip(name), d.Name, strings.Join(all, ", "))
		}
		a.FieldByName(p.Field).Set(reflect.ValueOf(t))
	}
	// The outputs take the float type of the first float input in the
	// order of the declaration (not of the map, whose order varies: with
	// inputs of two float types the call would fail on a different
	// argument each time).
	ft := device.Float32
	for _, p := range d.Params {
		t := inputs[p.Name]
		if p.Role == In && p.DType != "int32" && t.Present() && t.Buf.DType().IsFloat() {
			ft = t.Buf.DType()
			break
		}
	}
	for _, p := range d.Params {
		if p.Role == In && !p.Optional && !inputs[p.Name].Present() {
			return nil, argErr(d.Name, p.Name, "missing input %q", p.Name)
		}
	}
	o, err := d.options(opt)
	if err != nil {
		return nil, err
	}
	// The output shapes follow from the input shapes: check those first
	// (no negative dimension, no product beyond the int32 range), so that
	// no output is sized from a negative or overflowing product.
	for _, p := range d.Params {
		if t, ok := inputs[p.Name]; ok && p.Role == In {
			if err := t.check(d.Name, p.Name); err != nil {
				return nil, err
			}
		}
	}
	shapes := d.shapes(a, o)
	var need int64
	for _, p := range d.Params {
		sh, ok := shapes[p.Name]
		switch {
		case p.Role == In, p.Role == Out && (!ok || sh == nil):
			continue
		case p.Role == Grad && !ok:
			in := inputs[p.GradOf]
			if !in.Present() {
				continue
			}
			sh = in.Shape
		}
		if err := (Tensor{Shape: sh}).check(d.Name, p.Name); err != nil {
			return nil, err
		}
		n := int64(ft.Size())
		for _, x := range sh {
			n *= int64(x)
		}
		need += n
	}
	if err := host.CheckBudget("losses: "+d.Name+": its outputs", need); err != nil {
		return nil, err
	}
	out := map[string]Tensor{}
	for _, p := range d.Params {
		var shape []int
		switch p.Role {
		case In:
			continue
		case Grad:
			in := inputs[p.GradOf]
			if !in.Present() || !in.Buf.DType().IsFloat() {
				continue
			}
			shape = in.Shape
			if s, ok := shapes[p.Name]; ok {
				if s == nil {
					continue
				}
				shape = s
			}
		case Out:
			s, ok := shapes[p.Name]
			if !ok || s == nil {
				continue
			}
			shape = s
		}
		n := 1
		for _, x := range shape {
			n *= x
		}
		var t Tensor
		if ft == device.Float64 {
			t = HostTensor(make([]float64, n), shape...)
		} else {
			t = HostTensor(make([]float32, n), shape...)
		}
		if len(shape) == 0 {
			t.Shape = []int{}
		}
		a.FieldByName(p.Field).Set(reflect.ValueOf(t))
		out[p.Name] = t
	}
	if err := d.run(dev, a, o); err != nil {
		return nil, err
	}
	return out, nil
}

// Bind builds a call of the loss's function on the named tensors, inputs
// and outputs alike (nothing is allocated: the caller gives every output
// it wants, typically buffers already on the device), with the given
// options (a value or pointer of the options type; nil: the defaults).
// fields sets further fields of the Args struct by Go name (ctc_loss's
// Workspace). The returned function runs the call on a device; it can be
// run many times, as a training loop or a benchmark does.
func (d *Decl) Bind(tensors map[string]Tensor, opt any, fields map[string]any) (func(device.Device) error, error) {
	a := reflect.New(d.argsType).Elem()
	for name, t := range tensors {
		p, ok := d.Param(name)
		if !ok {
			return nil, argErr(d.Name, name, "%s has no tensor %q", d.Name, name)
		}
		a.FieldByName(p.Field).Set(reflect.ValueOf(t))
	}
	for name, v := range fields {
		f := a.FieldByName(name)
		if !f.IsValid() || !reflect.ValueOf(v).Type().AssignableTo(f.Type()) {
			return nil, argErr(d.Name, name, "%s has no field %s of type %T", d.argsType, name, v)
		}
		f.Set(reflect.ValueOf(v))
	}
	o, err := d.options(opt)
	if err != nil {
		return nil, err
	}
	return d.bind(a, o), nil
}

func (d *Decl) options(opt any) (reflect.Value, error) {
	o := reflect.New(d.optType).Elem()
	if opt != nil {
		v := reflect.ValueOf(opt)
		if v.Kind() == reflect.Pointer {
			v = v.Elem()
		}
		if v.Type() != d.optType {
			return o, argErr(d.Name, "options", "are a %s, want %s", v.Type(), d.optType)
		}
		o.Set(v)
	}
	return o, nil
}

func isNilDevice(dev device.Device) bool {
	v := reflect.ValueOf(dev)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// Floats returns a host tensor's elements as float64 (nil for an absent
// or non-host tensor).
func Floats(t Tensor) []float64 {
	if !t.Present() {
		return nil
	}
	hb, ok := t.Buf.(interface{ Slice() any })
	if !ok {
		return nil
	}
	n := t.Len()
	switch s := hb.Slice().(type) {
	case []float32:
		out := make([]float64, n)
		for i := range out {
			out[i] = float64(s[i])
		}
		return out
	case []float64:
		return append([]float64(nil), s[:n]...)
	case []int32:
		out := make([]float64, n)
		for i := range out {
			out[i] = float64(s[i])
		}
		return out
	}
	return nil
}
