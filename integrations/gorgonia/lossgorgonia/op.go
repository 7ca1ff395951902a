package lossgorgonia

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sort"

	"github.com/chewxy/hm"
	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Loss returns the node of the lossengine loss name (a declared name:
// "cross_entropy", "ctc_loss", "huber_loss", ...) over the named input
// nodes, keyed by the loss's PyTorch argument names. opt is the loss's
// options (a value or pointer of its Options type, nil for the defaults);
// the reduction must give one value. The gradient flows to the loss's
// first declared input (its model output).
func Loss(dev device.Device, name string, inputs map[string]*G.Node, opt any) (*G.Node, error) {
	d, ok := losses.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("lossgorgonia: unknown loss %q", name)
	}
	if dev == nil {
		return nil, fmt.Errorf("lossgorgonia: %s: nil device", name)
	}
	op := &lossOp{dev: dev, decl: d, opt: opt}
	for _, p := range d.Params {
		if p.Role == losses.In && op.wrt == "" {
			op.wrt = p.Name
		}
	}
	if inputs[op.wrt] == nil {
		return nil, fmt.Errorf("lossgorgonia: %s: missing input %q", name, op.wrt)
	}
	// The wrt input first, then the others by name: a fixed order.
	op.names = append(op.names, op.wrt)
	var rest []string
	for n := range inputs {
		if n != op.wrt {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	op.names = append(op.names, rest...)
	nodes := make(G.Nodes, len(op.names))
	for i, n := range op.names {
		nodes[i] = inputs[n]
		var ty hm.Type = nodes[i].Dtype() // a scalar
		if nodes[i].Dims() > 0 {
			ty = G.TensorType{Dims: nodes[i].Dims(), Of: nodes[i].Dtype()}
		}
		op.types = append(op.types, ty)
	}
	op.dtype = nodes[0].Dtype()
	return G.ApplyOp(op, nodes...)
}

// CrossEntropy is cross_entropy(logits [N, C], target [N] class indices).
func CrossEntropy(dev device.Device, logits, target *G.Node, opt losses.CrossEntropyOptions) (*G.Node, error) {
	return Loss(dev, "cross_entropy", map[string]*G.Node{"input": logits, "target": target}, opt)
}

// CTCLoss is ctc_loss(logProbs [T, N, C], targets [N, S] or concatenated,
// inputLengths [N], targetLengths [N]); with opt.Logits the first input
// holds raw scores and the gradient is w.r.t. them.
func CTCLoss(dev device.Device, logProbs, targets, inputLengths, targetLengths *G.Node, opt losses.CTCLossOptions) (*G.Node, error) {
	return Loss(dev, "ctc_loss", map[string]*G.Node{
		"log_probs": logProbs, "targets": targets, "input_lengths": inputLengths, "target_lengths": targetLengths,
	}, opt)
}

// Elementwise is an elementwise loss by name ("mse_loss", "huber_loss",
// "binary_cross_entropy_with_logits", ...) of input and target, shaped
// alike; opt is its options (e.g. losses.HuberLossOptions) or nil.
func Elementwise(dev device.Device, name string, input, target *G.Node, opt any) (*G.Node, error) {
	return Loss(dev, name, map[string]*G.Node{"input": input, "target": target}, opt)
}

// lossOp is the forward: its value is the loss.
type lossOp struct {
	dev   device.Device
	decl  *losses.Decl
	opt   any
	wrt   string   // the differentiated input
	names []string // the inputs' names, in argument order (wrt first)
	types []hm.Type
	dtype tensor.Dtype
}

func (op *lossOp) Arity() int { return len(op.names) }

func (op *lossOp) Type() hm.Type {
	ts := append(append([]hm.Type{}, op.types...), op.dtype)
	return hm.NewFnType(ts...)
}

func (op *lossOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return tensor.ScalarShape(), nil }

func (op *lossOp) Do(vals ...G.Value) (G.Value, error) {
	out, err := op.call(vals)
	if err != nil {
		return nil, err
	}
	l := out["loss"]
	if len(l.Shape) != 0 {
		return nil, fmt.Errorf("lossgorgonia: %s: the loss has shape %v: a reduction to one value is needed", op.decl.Name, l.Shape)
	}
	v := losses.Floats(l)[0]
	if op.dtype == tensor.Float32 {
		return G.NewF32(float32(v)), nil
	}
	return G.NewF64(v), nil
}

// call runs the loss on vals (in op.names order) through its declaration,
// which returns the loss and every gradient.
func (op *lossOp) call(vals []G.Value) (map[string]losses.Tensor, error) {
	if len(vals) != len(op.names) {
		return nil, fmt.Errorf("lossgorgonia: %s: %d inputs, want %d", op.decl.Name, len(vals), len(op.names))
	}
	in := map[string]losses.Tensor{}
	for i, v := range vals {
		t, err := toTensor(v)
		if err != nil {
			return nil, fmt.Errorf("lossgorgonia: %s: %s: %w", op.decl.Name, op.names[i], err)
		}
		in[op.names[i]] = t
	}
	return op.decl.Call(op.dev, in, op.opt)
}

// toTensor wraps a gorgonia value as a host tensor of its shape; integer
// values are converted to int32.
func toTensor(v G.Value) (losses.Tensor, error) {
	shape := []int(v.Shape())
	switch d := v.Data().(type) {
	case []float64:
		return losses.HostTensor(d, shape...), nil
	case []float32:
		return losses.HostTensor(d, shape...), nil
	case []int32:
		return losses.HostTensor(d, shape...), nil
	case []int:
		c := make([]int32, len(d))
		for i, x := range d {
			c[i] = int32(x)
		}
		return losses.HostTensor(c, shape...), nil
	case float64:
		return losses.HostTensor([]float64{d}), nil
	case float32:
		return losses.HostTensor([]float32{d}), nil
	}
	return losses.Tensor{}, fmt.Errorf("values of dtype %v are not supported", v.Dtype())
}

func (op *lossOp) ReturnsPtr() bool     { return false }
func (op *lossOp) CallsExtern() bool    { return false }
func (op *lossOp) OverwritesInput() int { return -1 }
func (op *lossOp) String() string       { return fmt.Sprintf("lossengine.%s%v", op.decl.Name, op.names) }

func (op *lossOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%s %p", op, op) }

func (op *lossOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

// DiffWRT says the loss is differentiable w.r.t. its first input only.
func (op *lossOp) DiffWRT(n int) []bool {
	wrt := make([]bool, n)
	if n > 0 {
		wrt[0] = true
	}
	return wrt
}

// SymDiff returns the node of ∂loss/∂input: the gradient op over the same
// inputs and the upstream gradient.
func (op *lossOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	args := append(append(G.Nodes{}, inputs...), grad)
	g, err := G.ApplyOp(&gradOp{op}, args...)
	if err != nil {
		return nil, err
	}
	out := make(G.Nodes, len(inputs))
	out[0] = g
	return out, nil
}

// DoDiff is automatic differentiation for gorgonia's LispMachine: it adds
// upstream · ∂loss/∂input, from one lossengine call, to the first input's
// gradient (its dual value), in place.
func (op *lossOp) DoDiff(_ G.ExecutionContext, inputs G.Nodes, output *G.Node) error {
	if len(inputs) != len(op.names) {
		return fmt.Errorf("lossgorgonia: %s: %d inputs, want %d", op.decl.Name, len(inputs), len(op.names))
	}
	up, err := output.Grad()
	if err != nil {
		return fmt.Errorf("lossgorgonia: %s: the loss's gradient: %w", op.decl.Name, err)
	}
	vals := make([]G.Value, 0, len(inputs)+1)
	for _, n := range inputs {
		vals = append(vals, n.Value())
	}
	g, err := (&gradOp{op}).Do(append(vals, up)...)
	if err != nil {
		return err
	}
	dst, err := inputs[0].Grad()
	if err != nil {
		return fmt.Errorf("lossgorgonia: %s: the gradient of %s: %w", op.decl.Name, op.names[0], err)
	}
	switch d := dst.Data().(type) {
	case []float64:
		src, ok := g.Data().([]float64)
		if !ok || len(src) != len(d) {
			break
		}
		for i, x := range src {
			d[i] += x
		}
		return nil
	case []float32:
		src, ok := g.Data().([]float32)
		if !ok || len(src) != len(d) {
			break
		}
		for i, x := range src {
			d[i] += x
		}
		return nil
	}
	return fmt.Errorf("lossgorgonia: %s: the gradient of %s is a %v of shape %v, the loss's a %v of shape %v",
		op.decl.Name, op.names[0], dst.Dtype(), dst.Shape(), g.Dtype(), g.Shape())
}

// gradOp computes upstream · ∂loss/∂input from the inputs and the
// upstream gradient (the last argument, a scalar).
type gradOp struct{ *lossOp }

func (op *gradOp) Arity() int { return len(op.names) + 1 }

func (op *gradOp) Type() hm.Type {
	ts := append(append([]hm.Type{}, op.types...), op.dtype, op.types[0])
	return hm.NewFnType(ts...)
}

func (op *gradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("lossgorgonia: %s: input 0 has no shape", op.decl.Name)
	}
	return s.Clone(), nil
}

func (op *gradOp) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != op.Arity() {
		return nil, fmt.Errorf("lossgorgonia: %s gradient: %d inputs, want %d", op.decl.Name, len(vals), op.Arity())
	}
	up, err := scalar(vals[len(vals)-1])
	if err != nil {
		return nil, err
	}
	out, err := op.call(vals[:len(vals)-1])
	if err != nil {
		return nil, err
	}
	g, ok := out["grad_"+op.wrt]
	if !ok {
		return nil, fmt.Errorf("lossgorgonia: %s: no gradient w.r.t. %s", op.decl.Name, op.wrt)
	}
	grad := losses.Floats(g)
	shape := vals[0].Shape().Clone()
	if op.dtype == tensor.Float32 {
		d := make([]float32, len(grad))
		for i, x := range grad {
			d[i] = float32(x * up)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d)), nil
	}
	for i := range grad {
		grad[i] *= up
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(grad)), nil
}

func (op *gradOp) String() string { return fmt.Sprintf("lossengine.grad_%s.%s", op.wrt, op.decl.Name) }

func (op *gradOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%s %p", op, op.lossOp) }

func (op *gradOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

// scalar reads a one-element value.
func scalar(v G.Value) (float64, error) {
	switch d := v.Data().(type) {
	case float64:
		return d, nil
	case float32:
		return float64(d), nil
	case []float64:
		if len(d) == 1 {
			return d[0], nil
		}
	case []float32:
		if len(d) == 1 {
			return float64(d[0]), nil
		}
	}
	return 0, fmt.Errorf("lossgorgonia: the upstream gradient %v is not a scalar", v)
}
