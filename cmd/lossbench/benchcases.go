package main

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

// benchLoss is one loss of the sweep.
type benchLoss struct {
	name string
	// rows: the shape must be RxC; otherwise any shape (its element count).
	rows bool
	// dims, if not 0, is the number of dimensions the shape must have
	// (ctc_loss: TxNxCxL); losses with dims 0 take at most two.
	dims int
	// shapes are the shapes timed when no -shape is given.
	shapes []string
	// inDefault: part of the sweep when no -loss is given.
	inDefault bool
	// pointwise: an elementwise loss (-loss pointwise).
	pointwise bool
	// byteModel states what one call moves, for the help text.
	byteModel string
	// prepare builds a case: inputs on dev, a float64 host reference.
	prepare func(dev device.Device, shape []int, rng *rand.Rand) (*benchCase, error)
}

// benchCase is one prepared (loss, shape) on a device.
type benchCase struct {
	bytes int64        // bytes one call moves (the byte model)
	call  func() error // queue one call; the caller syncs
	// outputs reads the results of the last call; refs are the float64
	// host results, in the same order.
	outputs func() ([][]float32, error)
	refs    [][]float64
	names   []string
	bufs    []device.Buffer
}

func (c *benchCase) release() {
	for _, b := range c.bufs {
		if b != nil {
			b.Release()
		}
	}
	c.bufs = nil
}

// benchLosses is the sweep's table. Every declared elementwise loss joins it by
// itself (bench_pointwise.go); another loss is one entry here or in
// bench_rows.go.
var benchLosses = []benchLoss{
	{name: "cross_entropy", rows: true, inDefault: true,
		shapes:    []string{"512x32000", "64x1000", "4096x128", "8x131072"},
		byteModel: "reads N*C logits + N int32 targets, writes N*C gradients: 4*(2*N*C + N) bytes",
		prepare:   prepareCrossEntropy},
	{name: "log_softmax", rows: true, inDefault: true,
		shapes:    []string{"512x32000"},
		byteModel: "forward + backward: reads x, writes y; reads y and dy, writes dx: 4*5*R*C bytes",
		prepare:   func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) { return prepareSoftmax(d, s, r, true) }},
	{name: "ctc_loss", dims: 4, inDefault: true,
		shapes:    []string{"150x64x28x40", "150x64x5000x20", "1000x32x29x200", "3000x8x1000x1000"},
		byteModel: "TxNxCxL: logits in (softmax folded in), reads T*N*C logits, writes T*N*C gradients: 4*2*T*N*C bytes",
		prepare:   prepareCTC},
	{name: "softmax", rows: true,
		shapes:    []string{"512x32000"},
		byteModel: "as log_softmax: 4*5*R*C bytes",
		prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
			return prepareSoftmax(d, s, r, false)
		}},
	{name: "logsumexp", rows: true,
		shapes:    []string{"512x32000"},
		byteModel: "forward + backward: reads x, writes lse; reads x, lse and dlse, writes dx: 4*(3*R*C + 3*R) bytes",
		prepare:   prepareLogSumExp},
}

func findBenchLoss(name string) *benchLoss {
	for i := range benchLosses {
		if benchLosses[i].name == name {
			return &benchLosses[i]
		}
	}
	return nil
}

// Helpers.

func normals(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

func widen(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// upload allocates a buffer on dev holding v ([]float32 or []int32) and
// records it in c for release.
func (c *benchCase) upload(dev device.Device, v any) (device.Buffer, error) {
	dt, n, err := device.Elems(v)
	if err != nil {
		return nil, err
	}
	b, err := c.alloc(dev, dt, n)
	if err != nil {
		return nil, err
	}
	if err := dev.Write(b, v); err != nil {
		return nil, fmt.Errorf("write: %w", err)
	}
	return b, nil
}

func (c *benchCase) alloc(dev device.Device, dt device.DType, n int) (device.Buffer, error) {
	b, err := dev.Alloc(dt, n)
	if err != nil {
		return nil, fmt.Errorf("alloc %d x %s: %w", n, dt, err)
	}
	c.bufs = append(c.bufs, b)
	return b, nil
}

// reader returns an outputs function reading the given buffers.
func reader(dev device.Device, bufs ...device.Buffer) func() ([][]float32, error) {
	return func() ([][]float32, error) {
		out := make([][]float32, len(bufs))
		for i, b := range bufs {
			out[i] = make([]float32, b.Len())
			if err := dev.Read(out[i], b); err != nil {
				return nil, fmt.Errorf("read: %w", err)
			}
		}
		return out, nil
	}
}

// skipTargetCheck is the -skip-target-check flag.
var skipTargetCheck bool

// mustDecl returns the declaration of a loss the sweep names.
func mustDecl(name string) *losses.Decl {
	d, ok := losses.Lookup(name)
	if !ok {
		panic("lossbench: loss " + name + " is not declared")
	}
	return d
}

// hostIn is one input of a sweep case: []float32 or []int32 values with
// the tensor's shape.
type hostIn struct {
	v     any
	shape []int
}

// declCall builds a call of d's function on the given tensors and
// options (see losses.Decl.Bind); fields sets further fields of the Args
// struct by their Go name (ctc_loss's Workspace).
func declCall(dev device.Device, d *losses.Decl, ts map[string]losses.Tensor, opt any, fields map[string]any) (func() error, error) {
	call, err := d.Bind(ts, opt, fields)
	if err != nil {
		return nil, err
	}
	return func() error { return call(dev) }, nil
}

// prepareDecl builds a case of the declared loss d: the float64 host
// reference through d.Call (float inputs widened), then the inputs
// uploaded to dev once, float32 outputs on dev for the results named in
// outs (nil: every result of the reference), shaped as the reference's,
// and a call of d's function on these buffers. Both run with opt. It
// empties ins (its host copies are not needed once uploaded).
func prepareDecl(dev device.Device, d *losses.Decl, ins map[string]hostIn, opt any, outs []string,
	fields map[string]any, bytes int64) (c *benchCase, err error) {
	c = &benchCase{bytes: bytes}
	defer func() {
		if err != nil {
			c.release()
		}
	}()
	// Upload the float32 inputs first, then drop them (the caller's map
	// holds the only reference): only their device copies and the float64
	// widening stay while the host reference runs.
	ts := map[string]losses.Tensor{}
	refIns := map[string]losses.Tensor{}
	for name, in := range ins {
		b, err := c.upload(dev, in.v)
		if err != nil {
			return nil, err
		}
		ts[name] = losses.NewTensor(b, in.shape...)
		switch v := in.v.(type) {
		case []float32:
			refIns[name] = losses.HostTensor(widen(v), in.shape...)
		case []int32:
			refIns[name] = losses.HostTensor(v, in.shape...)
		default:
			return nil, fmt.Errorf("%s: input %s is a %T", d.Name, name, in.v)
		}
		delete(ins, name)
	}
	ref, err := d.Call(host.Default(), refIns, opt)
	if err != nil {
		return nil, fmt.Errorf("host reference: %w", err)
	}
	if outs == nil {
		for _, p := range d.Params { // declaration order: loss first, then the gradients
			if _, ok := ref[p.Name]; ok {
				outs = append(outs, p.Name)
			}
		}
	}
	var obufs []device.Buffer
	for _, name := range outs {
		r, ok := ref[name]
		if !ok {
			return nil, fmt.Errorf("%s: the host reference has no result %q", d.Name, name)
		}
		b, err := c.alloc(dev, device.Float32, r.Len())
		if err != nil {
			return nil, err
		}
		ts[name] = losses.NewTensor(b, r.Shape...)
		obufs = append(obufs, b)
		c.names, c.refs = append(c.names, name), append(c.refs, losses.Floats(r))
	}
	if c.call, err = declCall(dev, d, ts, opt, fields); err != nil {
		return nil, err
	}
	c.outputs = reader(dev, obufs...)
	return c, nil
}

func prepareCrossEntropy(dev device.Device, shape []int, rng *rand.Rand) (*benchCase, error) {
	n, k := shape[0], shape[1]
	x := normals(rng, n*k)
	tg := make([]int32, n)
	for i := range tg {
		tg[i] = int32(rng.IntN(k))
	}
	return prepareDecl(dev, mustDecl("cross_entropy"), map[string]hostIn{"input": {x, []int{n, k}}, "target": {tg, []int{n}}},
		losses.CrossEntropyOptions{SkipTargetCheck: skipTargetCheck}, []string{"loss", "grad_input"}, nil,
		4*(2*int64(n)*int64(k)+int64(n)))
}

// prepareCTC: shape T x N x C x L; N sequences of T frames and L labels
// (random, never the blank 0), logits input (log_softmax folded in, as in
// PyTorch's log_softmax + ctc_loss), mean reduction, a workspace reused
// across calls.
func prepareCTC(dev device.Device, shape []int, rng *rand.Rand) (c *benchCase, err error) {
	T, n, k, l := shape[0], shape[1], shape[2], shape[3]
	if k < 2 {
		return nil, fmt.Errorf("ctc_loss needs C >= 2 (a blank and a label), got %d", k)
	}
	if l > T {
		return nil, fmt.Errorf("ctc_loss: L = %d labels cannot fit in T = %d frames", l, T)
	}
	x := normals(rng, T*n*k)
	tg := make([]int32, n*l)
	for i := range tg {
		tg[i] = int32(1 + rng.IntN(k-1))
	}
	il, tl := make([]int32, n), make([]int32, n)
	for i := range il {
		il[i], tl[i] = int32(T), int32(l)
	}
	ws, err := losses.NewCTCWorkspace(dev, device.Float32, T, n, k, l, true)
	if err != nil {
		return nil, err
	}
	var wbufs []device.Buffer
	for _, w := range []device.Buffer{ws.Alpha, ws.ClassWS, ws.StateWS, ws.LSE, ws.LossRows, ws.LogLik, ws.LogLikBeta, ws.Offsets, ws.Next} {
		if w != nil {
			wbufs = append(wbufs, w)
		}
	}
	c, err = prepareDecl(dev, mustDecl("ctc_loss"), map[string]hostIn{"log_probs": {x, []int{T, n, k}}, "targets": {tg, []int{n, l}},
		"input_lengths": {il, []int{n}}, "target_lengths": {tl, []int{n}}},
		losses.CTCLossOptions{Logits: true}, []string{"loss", "grad_log_probs"}, map[string]any{"Workspace": ws},
		4*2*int64(T)*int64(n)*int64(k))
	if err != nil {
		for _, b := range wbufs {
			b.Release()
		}
		return nil, err
	}
	c.bufs = append(c.bufs, wbufs...)
	return c, nil
}

// prepareSoftmax times softmax or log_softmax forward and backward in one
// call: the output and the gradient of Σ grad_output·output.
func prepareSoftmax(dev device.Device, shape []int, rng *rand.Rand, log bool) (*benchCase, error) {
	r, k := shape[0], shape[1]
	x, dy := normals(rng, r*k), normals(rng, r*k)
	name := "softmax"
	if log {
		name = "log_softmax"
	}
	return prepareDecl(dev, mustDecl(name), map[string]hostIn{"input": {x, []int{r, k}}, "grad_output": {dy, []int{r, k}}},
		nil, []string{"output", "grad_input"}, nil, 4*5*int64(r)*int64(k))
}

func prepareLogSumExp(dev device.Device, shape []int, rng *rand.Rand) (*benchCase, error) {
	r, k := shape[0], shape[1]
	x, dy := normals(rng, r*k), normals(rng, r)
	return prepareDecl(dev, mustDecl("logsumexp"), map[string]hostIn{"input": {x, []int{r, k}}, "grad_output": {dy, []int{r}}},
		nil, []string{"output", "grad_input"}, nil, 4*(3*int64(r)*int64(k)+3*int64(r)))
}

// relDiff is max|a-b| / (1 + max|ref|) over the first len(ref) elements.
// A NaN or infinity that the other side does not have gives +Inf.
func relDiff(got []float32, ref []float64) float64 {
	if len(got) < len(ref) {
		return math.Inf(1)
	}
	var maxDiff, maxRef float64
	for i, r := range ref {
		a := float64(got[i])
		switch {
		case math.IsNaN(r) || math.IsNaN(a):
			if !(math.IsNaN(r) && math.IsNaN(a)) {
				return math.Inf(1)
			}
			continue
		case math.IsInf(r, 0) || math.IsInf(a, 0):
			if a != r {
				return math.Inf(1)
			}
			continue
		}
		maxDiff = max(maxDiff, math.Abs(a-r))
		maxRef = max(maxRef, math.Abs(r))
	}
	return maxDiff / (1 + maxRef)
}
