package gonumloss

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// Shaped is a matrix read as a tensor of another shape, or as integer
// indices: it is a mat.Matrix (the matrix it wraps), so that it goes in
// the same inputs map as the plain matrices. Make one with Reshape or
// Indices.
type Shaped struct {
	mat.Matrix
	shape   []int // nil: the matrix's own shape
	indices bool
}

// Reshape returns m read as a tensor of the given shape: its elements in
// row-major order (a vector's in order). The product of shape must be the
// number of elements of m; no shape is a scalar (m has one element). The
// gradient w.r.t. a reshaped input comes back with m's dimensions.
func Reshape(m mat.Matrix, shape ...int) *Shaped {
	s := &Shaped{Matrix: m, shape: append([]int{}, shape...)}
	if in, ok := m.(*Shaped); ok {
		s.Matrix, s.indices = in.Matrix, in.indices
	}
	return s
}

// Indices returns m (with its own shape, or the shape of a Reshape) read
// as int32 indices, for a tensor a loss takes either as floats or as
// indices; a tensor the loss declares int32 needs no wrapping.
func Indices(m mat.Matrix) *Shaped {
	if in, ok := m.(*Shaped); ok {
		return &Shaped{Matrix: in.Matrix, shape: in.shape, indices: true}
	}
	return &Shaped{Matrix: m, indices: true}
}

// Result is what Call returns.
type Result struct {
	// Loss is the value of the output "loss" when it has one element (a
	// reduction to a scalar), NaN otherwise: see Outputs["loss"].
	Loss float64
	// Outputs holds every output the loss wrote, by its name ("loss",
	// "lse", "log_likelihood", ...): a *mat.VecDense for a tensor of rank
	// 0 or 1, a *mat.Dense for rank 2, and for a higher rank a *mat.Dense
	// of [d0, d1·d2·…] rows and columns (Shapes says the shape). An output
	// with no elements is an empty matrix (gonum has no 0×n matrix).
	Outputs map[string]mat.Matrix
	// Grads holds the gradient w.r.t. each float input given, by the
	// input's name ("input", "target", "log_probs", ...), shaped like the
	// matrix passed: a *mat.VecDense for a mat.Vector, else a *mat.Dense of
	// the matrix's dimensions (also for a Reshape).
	Grads map[string]mat.Matrix
	// Shapes holds the tensor shape of every output and gradient, by the
	// names the loss declares ("loss", "grad_input", ...).
	Shapes map[string][]int
}

// Grad returns the gradient w.r.t. the named input as a *mat.Dense (nil
// when there is none, or when the input was a vector: see GradVec).
func (r *Result) Grad(input string) *mat.Dense {
	d, _ := r.Grads[input].(*mat.Dense)
	return d
}

// GradVec returns the gradient w.r.t. the named input as a *mat.VecDense
// (nil when there is none, or when the input was not a vector).
func (r *Result) GradVec(input string) *mat.VecDense {
	v, _ := r.Grads[input].(*mat.VecDense)
	return v
}

// Call runs the loss named name (a torch.nn.functional name: see
// losses.Names) on dev with the named input matrices (the loss's input
// names: "input", "target", "weight", ...) and options (a value or
// pointer of the loss's options type, e.g. losses.CrossEntropyOptions;
// nil: the defaults). Every gradient of a float input given is computed.
func Call(dev device.Device, name string, inputs map[string]mat.Matrix, opt any) (*Result, error) {
	decl, ok := losses.Lookup(name)
	if !ok {
		return nil, &losses.ArgError{Loss: name, Arg: "name",
			Msg: fmt.Sprintf("no loss is named %q (losses.Names lists them)", name)}
	}
	f64 := dev != nil && dev.Info().Float64
	tensors := make(map[string]losses.Tensor, len(inputs))
	forms := map[string]mat.Matrix{}
	for _, in := range sortedKeys(inputs) {
		p, ok := decl.Param(in)
		if !ok || p.Role != losses.In {
			req, optl := decl.Inputs()
			all := append(append([]string{}, req...), optl...)
			sort.Strings(all)
			return nil, &losses.ArgError{Loss: name, Arg: in,
				Msg: fmt.Sprintf("unknown input %s (inputs of %s: %s)", in, name, strings.Join(all, ", "))}
		}
		m := inputs[in]
		if m == nil || isNilMatrix(m) {
			continue // absent, as the zero Tensor
		}
		t, base, err := tensor(name, p, m, f64)
		if err != nil {
			return nil, err
		}
		tensors[in] = t
		forms[in] = base
	}
	out, err := decl.Call(dev, tensors, opt)
	if err != nil {
		return nil, err
	}
	res := &Result{Loss: math.NaN(), Outputs: map[string]mat.Matrix{}, Grads: map[string]mat.Matrix{},
		Shapes: map[string][]int{}}
	for _, p := range decl.Params {
		t, ok := out[p.Name]
		if !ok {
			continue
		}
		data := float64s(t)
		res.Shapes[p.Name] = append([]int{}, t.Shape...)
		if p.Role == losses.Grad {
			if base, ok := forms[p.GradOf]; ok {
				if g := like(base, data); g != nil {
					res.Grads[p.GradOf] = g
					continue
				}
			}
			res.Grads[p.GradOf] = matrixOf(t.Shape, data)
			continue
		}
		res.Outputs[p.Name] = matrixOf(t.Shape, data)
		if p.Name == "loss" && len(data) == 1 {
			res.Loss = data[0]
		}
	}
	return res, nil
}

func sortedKeys(m map[string]mat.Matrix) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// isNilMatrix reports a typed nil pointer in the interface.
func isNilMatrix(m mat.Matrix) bool {
	switch v := m.(type) {
	case *mat.Dense:
		return v == nil
	case *mat.VecDense:
		return v == nil
	case *Shaped:
		return v == nil || v.Matrix == nil || isNilMatrix(v.Matrix)
	}
	return false
}

// tensor converts one input matrix into the tensor of param p, and
// returns the plain matrix it came from (Shaped unwrapped), whose form a
// gradient takes.
func tensor(loss string, p losses.Param, m mat.Matrix, f64 bool) (losses.Tensor, mat.Matrix, error) {
	var shape []int
	indices := false
	if s, ok := m.(*Shaped); ok {
		m, shape, indices = s.Matrix, s.shape, s.indices
		if shape == nil {
			shape = shapeOf(m)
		}
	} else {
		shape = shapeOf(m)
	}
	n := elems(m)
	want := 1
	for _, d := range shape {
		if d < 0 {
			return losses.Tensor{}, nil, &losses.ArgError{Loss: loss, Arg: p.Name,
				Msg: fmt.Sprintf("shape %v has a negative dimension", shape)}
		}
		want *= d
	}
	if want != n {
		return losses.Tensor{}, nil, &losses.ArgError{Loss: loss, Arg: p.Name,
			Msg: fmt.Sprintf("shape %v holds %d elements, the matrix has %d", shape, want, n)}
	}
	switch {
	case p.DType == "int32", p.DType == "any" && (indices || len(shape) == 1):
		ints, err := toInt32(loss, p.Name, m)
		if err != nil {
			return losses.Tensor{}, nil, err
		}
		return losses.HostTensor(ints, shape...), m, nil
	case indices:
		return losses.Tensor{}, nil, &losses.ArgError{Loss: loss, Arg: p.Name,
			Msg: "is a float tensor: Indices does not apply"}
	case f64:
		return losses.HostTensor(float64Data(m), shape...), m, nil
	default:
		d := float64Data(m)
		f := make([]float32, len(d))
		for i, v := range d {
			f[i] = float32(v)
		}
		return losses.HostTensor(f, shape...), m, nil
	}
}

// shapeOf is [n] for a vector, [r, c] for any other matrix; [0] or [0, 0]
// for an empty one.
func shapeOf(m mat.Matrix) []int {
	if v, ok := m.(mat.Vector); ok {
		if e, ok := m.(interface{ IsEmpty() bool }); ok && e.IsEmpty() {
			return []int{0}
		}
		return []int{v.Len()}
	}
	if e, ok := m.(interface{ IsEmpty() bool }); ok && e.IsEmpty() {
		return []int{0, 0}
	}
	r, c := m.Dims()
	return []int{r, c}
}

func elems(m mat.Matrix) int {
	if e, ok := m.(interface{ IsEmpty() bool }); ok && e.IsEmpty() {
		return 0
	}
	r, c := m.Dims()
	return r * c
}

// float64Data returns m's elements in row-major order: the matrix's own
// memory when it is contiguous, else a packed copy.
func float64Data(m mat.Matrix) []float64 {
	if elems(m) == 0 {
		return []float64{}
	}
	switch v := m.(type) {
	case *mat.Dense:
		raw := v.RawMatrix()
		if raw.Stride == raw.Cols {
			return raw.Data[:raw.Rows*raw.Cols]
		}
	case *mat.VecDense:
		raw := v.RawVector()
		if raw.Inc == 1 {
			return raw.Data[:raw.N]
		}
	}
	if v, ok := m.(mat.Vector); ok {
		out := make([]float64, v.Len())
		for i := range out {
			out[i] = v.AtVec(i)
		}
		return out
	}
	r, c := m.Dims()
	out := make([]float64, 0, r*c)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			out = append(out, m.At(i, j))
		}
	}
	return out
}

// toInt32 converts m's elements (row-major) to int32, refusing a value
// that is not an integer in the int32 range.
func toInt32(loss, arg string, m mat.Matrix) ([]int32, error) {
	d := float64Data(m)
	out := make([]int32, len(d))
	for i, v := range d {
		if v != math.Trunc(v) || v < math.MinInt32 || v > math.MaxInt32 {
			return nil, &losses.ArgError{Loss: loss, Arg: arg,
				Msg: fmt.Sprintf("element %d = %v is not an integer in the int32 range (an int32 tensor)", i, v)}
		}
		out[i] = int32(v)
	}
	return out, nil
}

// float64s returns a host tensor's elements as float64: the tensor's own
// slice when it is float64, else a converted copy.
func float64s(t losses.Tensor) []float64 {
	if hb, ok := t.Buf.(interface{ Slice() any }); ok {
		if s, ok := hb.Slice().([]float64); ok {
			return s[:t.Len()]
		}
	}
	return losses.Floats(t)
}

// like returns data as a matrix of base's form (a vector for a vector,
// else base's dimensions), or nil when the counts differ.
func like(base mat.Matrix, data []float64) mat.Matrix {
	if elems(base) != len(data) {
		return nil
	}
	if len(data) == 0 {
		if _, ok := base.(mat.Vector); ok {
			return &mat.VecDense{}
		}
		return &mat.Dense{}
	}
	if _, ok := base.(mat.Vector); ok {
		return mat.NewVecDense(len(data), data)
	}
	r, c := base.Dims()
	return mat.NewDense(r, c, data)
}

// matrixOf returns data with the given tensor shape as a matrix: a
// vector for rank 0 and 1, [d0, rest] for rank 2 and more.
func matrixOf(shape []int, data []float64) mat.Matrix {
	if len(shape) <= 1 {
		if len(data) == 0 {
			return &mat.VecDense{}
		}
		return mat.NewVecDense(len(data), data)
	}
	if len(data) == 0 {
		return &mat.Dense{}
	}
	return mat.NewDense(shape[0], len(data)/shape[0], data)
}
