package losses_test

// Native fuzz targets over the public API, one per loss family. Each
// decodes the fuzz bytes into one case (a loss of the family, options,
// input tensors, output tensors) and runs it on the host device in float32
// and in float64. What every call must do:
//
//   - not panic, and finish within fuzzTimeLimit;
//   - either succeed or return an *losses.ArgError, or an error wrapping
//     device.ErrOutOfMemory (the host memory budget, set to fuzzBudget
//     here, so that a case may allocate little);
//   - allocate at most fuzzAllocLimit bytes;
//   - fail when a tensor's shape has a negative dimension, or a dimension
//     or element count beyond the kernels' int32 range;
//   - leave its inputs bitwise unchanged, and, when it fails, its outputs
//     too (they are filled with a sentinel first);
//   - give bitwise the same results, or the same error, when run twice;
//   - through Decl.Call and Decl.Bind alike: given the outputs Decl.Call
//     allocated, the bound call succeeds and writes the same bits.
//
// The byte format (every read past the end gives 0, so a short input is a
// plain call; fuzzCase.encode writes it for the seeds):
//
//	loss         1 byte: index into the family's losses
//	options      1 byte n (mod 8), then n pairs (option index, value
//	             selector; see optionValue)
//	shape        1 byte rank (mod 4), then one byte per dimension (dimOf)
//	inputs       for each input in declaration order, 1 spec byte (see
//	             decode), followed by a shape when its mode is modeOwn
//	outputs      for each output and gradient, 1 spec byte (see decode),
//	             followed by a shape when it asks for its own
//	extra        1 byte, family-specific (ctc_loss: a caller workspace)
//	values       the rest: one byte per element, inputs in order
//	             (floatOf, int32Of); past the end a fixed pattern
//
// go test -run '^$' -fuzz '^FuzzPointwise$' -fuzztime 30s ./losses fuzzes
// one family; a failing input lands in testdata/fuzz/FuzzPointwise and
// then runs with the tests. testdata/fuzz also holds, by name, the empty
// tensors with huge dimensions ([2³¹−1, 0], [0, 2³¹−1], [0, 2³²], C = 2³¹−1
// with no frame, ...), which must return at once or be refused by the
// budget, and the inputs that found bugs, named for what they found.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"runtime/metrics"
	"slices"
	"testing"
	"time"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

const (
	fuzzMaxElems   = 1 << 12         // the largest tensor a case allocates
	fuzzBudget     = 4 << 20         // host memory budget while fuzzing
	fuzzAllocLimit = 4 * fuzzBudget  // bytes one call may allocate
	fuzzTimeLimit  = 1 * time.Second // wall time one call may take (about 10⁴ times a typical one)
)

// The loss families, by the file that declares them.
var fuzzFamilies = map[string][]string{
	"cross_entropy": {"cross_entropy"},
	"pointwise": {"mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "log_cosh",
		"mean_absolute_percentage_error", "mean_squared_logarithmic_error", "binary_cross_entropy",
		"binary_cross_entropy_with_logits", "sigmoid_focal_loss", "hinge_embedding_loss", "soft_margin_loss",
		"hinge", "squared_hinge", "kl_div", "poisson_nll_loss", "gaussian_nll_loss"},
	"rowloss": {"nll_loss", "focal_loss", "multi_margin_loss", "categorical_hinge", "poly_loss_cross_entropy", "distill_kl"},
	"ctc":     {"ctc_loss"},
	"seq_ce":  {"seq_cross_entropy"},
	"softmax": {"softmax", "log_softmax", "logsumexp"},
}

// TestFuzzFamilies: every declared loss is fuzzed by exactly one target.
func TestFuzzFamilies(t *testing.T) {
	seen := map[string]string{}
	for fam, names := range fuzzFamilies {
		for _, n := range names {
			if _, ok := losses.Lookup(n); !ok {
				t.Errorf("family %s: %s is not declared", fam, n)
			}
			if prev, dup := seen[n]; dup {
				t.Errorf("%s is in families %s and %s", n, prev, fam)
			}
			seen[n] = fam
		}
	}
	for _, n := range losses.Names() {
		if seen[n] == "" {
			t.Errorf("%s is in no fuzzed family", n)
		}
	}
}

func FuzzCrossEntropy(f *testing.F) {
	add := func(c fuzzCase) { f.Add(c.encode("cross_entropy")) }
	// input [2, 3], class targets [2]; then probability targets [2, 3]
	add(fuzzCase{dims: []byte{2, 3}, ins: []byte{0, modeFirst << 1}, vals: []byte{0x50, 0x60, 0x40, 0x30, 0x40, 0x70, 2, 0}})
	add(fuzzCase{dims: []byte{2, 3}, ins: []byte{0, 0x40},
		vals: []byte{0x50, 0x60, 0x40, 0x30, 0x40, 0x70, 0x44, 0x48, 0x44, 0x40, 0x50, 0x40}})
	// label smoothing 0.1, class weights, ignore_index -100 (row 1), sum; NaN and ±Inf logits
	add(fuzzCase{opts: []byte{3, 5, 1, 3, 2, 5, 0, 2}, dims: []byte{2, 3}, ins: []byte{0, modeFirst << 1},
		vals: []byte{0xC0, 0xC1, 0xC2, 0x40, 0x41, 0x42, 1, 0xC2}})
	// out-of-range classes, per-sample weights and a mask; the log-sum-exp output
	add(fuzzCase{dims: []byte{3, 2}, ins: []byte{0, modeFirst << 1, 1 | modeFirst<<1, 1 | modeFirst<<1},
		vals: []byte{0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0, 5, 0xC3, 0x50, 0x50, 0x50, 1, 0, 1}})
	add(fuzzCase{dims: []byte{3, 2}, ins: []byte{0, modeFirst << 1}, outs: []byte{0, 0, 6, 7}})
	fuzzFamily(f, "cross_entropy")
}

func FuzzPointwise(f *testing.F) {
	add := func(c fuzzCase) { f.Add(c.encode("pointwise")) }
	for i, n := range fuzzFamilies["pointwise"] {
		c := fuzzCase{loss: byte(i), dims: []byte{2, 3}}
		if d, _ := losses.Lookup(n); d.Name != "kl_div" && !hasParam(d, "grad_target") {
			c.vals = []byte{0x50, 0x44, 0x40, 0x30, 0x20, 0x60, 0x50, 0x30, 0x50, 0x50, 0x30, 0x30} // ±1 labels
		}
		add(c)
	}
	// mse_loss with reduction none; NaN, ±Inf, −0, huge and subnormal inputs
	add(fuzzCase{opts: []byte{0, 0}, dims: []byte{6}, vals: []byte{0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC9}})
	// huber_loss with delta 0.5, a per-class weight and a mask
	add(fuzzCase{loss: 2, opts: []byte{3, 3}, dims: []byte{2, 2}, ins: []byte{0, 0, 1 | modeLast<<1, 1}})
	// gaussian_nll_loss with one variance per row, full
	add(fuzzCase{loss: 16, opts: []byte{3, 1}, dims: []byte{2, 3}, ins: []byte{0, 0, modeDropLast << 1}})
	// binary_cross_entropy_with_logits with pos_weight [C]
	add(fuzzCase{loss: 8, dims: []byte{2, 3}, ins: []byte{0, 0, 0, 0, 1 | modeLast<<1}})
	// binary_cross_entropy with inputs outside [0, 1] and NaN policy error
	add(fuzzCase{loss: 7, opts: []byte{1, 1}, dims: []byte{3}, vals: []byte{0x50, 0x60, 0xC0}})
	fuzzFamily(f, "pointwise")
}

func FuzzRows(f *testing.F) {
	add := func(c fuzzCase) { f.Add(c.encode("rowloss")) }
	for i, n := range fuzzFamilies["rowloss"] {
		spec := byte(0)
		if n == "nll_loss" || n == "focal_loss" || n == "multi_margin_loss" {
			spec = modeFirst << 1 // class targets [N]
		}
		add(fuzzCase{loss: byte(i), dims: []byte{3, 4}, ins: []byte{0, spec}})
	}
	// nll_loss: out-of-range and ignored targets, class weights
	add(fuzzCase{opts: []byte{1, 4}, dims: []byte{3, 4}, ins: []byte{0, modeFirst << 1},
		vals: []byte{0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 4, 0xC2, 0xC3}})
	// distill_kl at a temperature of 2
	add(fuzzCase{loss: 5, opts: []byte{1, 4}, dims: []byte{2, 3}})
	fuzzFamily(f, "rowloss")
}

func FuzzCTC(f *testing.F) {
	add := func(c fuzzCase) { f.Add(c.encode("ctc")) }
	// log_probs [T=3, N=2, C=3] of −1, padded targets [2, 2], lengths
	lp := bytes.Repeat([]byte{0x30}, 18)
	ctc := fuzzCase{dims: []byte{3, 2, 3}, ins: []byte{0, modeOwn << 1, modeSecond << 1, modeSecond << 1},
		shapes: [][]byte{{2, 2}}, vals: append(slices.Clone(lp), 1, 2, 1, 0, 3, 2, 2, 1)}
	add(ctc)
	// raw logits, zero_infinity, reduction sum, with a caller's workspace
	w := ctc
	w.opts, w.extra = []byte{2, 1, 3, 1, 0, 2}, 1
	add(w)
	// an impossible alignment (two equal labels in two frames); blank out of range
	w = ctc
	w.vals = append(slices.Clone(lp), 1, 1, 1, 1, 2, 3, 2, 2)
	add(w)
	w.opts = []byte{1, 3}
	add(w)
	fuzzFamily(f, "ctc")
}

func FuzzSeqCE(f *testing.F) {
	add := func(c fuzzCase) { f.Add(c.encode("seq_ce")) }
	// logits [N=2, T=3, V=4], targets [2, 3] with a padding index
	add(fuzzCase{dims: []byte{2, 3, 4}, ins: []byte{0, modeDropLast << 1},
		vals: append(make([]byte, 24), 1, 2, 3, 0, 0xC2, 1)})
	// per-sequence normalisation, label smoothing 0.1, padding index 0
	add(fuzzCase{opts: []byte{2, 1, 1, 5, 0, 0}, dims: []byte{2, 3, 4}, ins: []byte{0, modeDropLast << 1}})
	fuzzFamily(f, "seq_ce")
}

func FuzzSoftmax(f *testing.F) {
	add := func(c fuzzCase) { f.Add(c.encode("softmax")) }
	for i := range fuzzFamilies["softmax"] {
		add(fuzzCase{loss: byte(i), dims: []byte{2, 3}})
		// with grad_output, at a temperature of 0.5
		spec := byte(1)
		if i == 2 {
			spec = 1 | modeFirst<<1 // logsumexp's output is [N]
		}
		add(fuzzCase{loss: byte(i), opts: []byte{1, 3}, dims: []byte{2, 3}, ins: []byte{0, spec}})
	}
	// logsumexp with keepdim; rows of ±Inf and NaN
	add(fuzzCase{loss: 2, opts: []byte{2, 1}, dims: []byte{3, 2}, vals: []byte{0xC1, 0xC1, 0xC2, 0xC2, 0xC0, 0x40}})
	fuzzFamily(f, "softmax")
}

// fuzzCase is a readable form of the byte format, for the seeds: fields
// left out are zero bytes.
type fuzzCase struct {
	loss   byte
	opts   []byte   // (option index, value selector) pairs
	dims   []byte   // the base shape, through dimOf
	ins    []byte   // one spec byte per input; zero: present, the base shape
	shapes [][]byte // the shapes of the inputs whose mode is modeOwn, in order
	outs   []byte   // one spec byte per output; zero: the shape Decl.Call gives
	extra  byte
	vals   []byte
}

// encode writes the case as fuzz bytes for a loss of the family: the
// inputs not in ins get spec 0 (required ones the base shape, optional
// ones absent), the outputs not in outs spec 0.
func (c fuzzCase) encode(family string) []byte {
	d, _ := losses.Lookup(fuzzFamilies[family][c.loss])
	b := []byte{c.loss, byte(len(c.opts) / 2)}
	b = append(b, c.opts...)
	b = append(b, byte(len(c.dims)))
	b = append(b, c.dims...)
	ins, outs, own := 0, 0, 0
	for _, p := range d.Params {
		if p.Role != losses.In {
			continue
		}
		var s byte
		if ins < len(c.ins) {
			s = c.ins[ins]
		}
		ins++
		b = append(b, s)
		if (s>>1)&7 == modeOwn {
			b = append(b, byte(len(c.shapes[own])))
			b = append(b, c.shapes[own]...)
			own++
		}
	}
	for _, p := range d.Params {
		if p.Role == losses.In {
			continue
		}
		var s byte
		if outs < len(c.outs) {
			s = c.outs[outs]
		}
		outs++
		b = append(b, s)
	}
	b = append(b, c.extra)
	return append(b, c.vals...)
}

// Shape modes of an input spec (bits 1–3), relative to the base shape s.
const (
	modeSame      = iota // s
	modeDropLast         // s[:len(s)-1]
	modeLast             // s[len(s)-1:]
	modeFirst            // s[:1]
	modeSecond           // s[1:2]
	modeDropFirst        // s[1:]
	modeOwn              // a shape of its own, read next
	modeScalar           // []
)

// fuzzBytes reads the fuzz input; past its end every byte is 0.
type fuzzBytes struct {
	b   []byte
	off int
}

func (r *fuzzBytes) next() byte {
	if r.off >= len(r.b) {
		r.off++
		return 0
	}
	r.off++
	return r.b[r.off-1]
}

func (r *fuzzBytes) left() bool { return r.off < len(r.b) }

// dimOf maps a byte to a dimension: 0–7 mostly, and sizes at and beyond
// the kernels' int32 range, and negative ones.
func dimOf(b byte) int {
	if b < 0xE0 {
		return int(b & 7)
	}
	huge := []int{math.MaxInt32, math.MaxInt32 + 1, 1 << 24, 46341, 1 << 16, 1 << 32, 1<<62 + 1, math.MaxInt,
		-1, math.MinInt32, 3 << 30, 1 << 31 / 3, 65537, 1 << 20, 1<<32 + 1, 2}
	return huge[int(b-0xE0)%len(huge)]
}

// floatOf maps a value byte to a float: (b − 0x40)/16 below 0xC0 (0x40 is
// 0, 0x50 is 1, 0x30 is −1), then special values.
func floatOf(b byte) float64 {
	if b < 0xC0 {
		return (float64(b) - 0x40) / 16
	}
	special := []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), math.MaxFloat64,
		-math.MaxFloat64, math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat64, math.SmallestNonzeroFloat32,
		1e-40, -1e-40, 1e30, -1e30, 88.72, -103.9, 709.78, -745.1, 1e-300, 0.9999999, 1 - 1e-16, 1e-7, 1e7,
		-1e7, 1e300, -1e300, 3.4e38, 2.2250738585072014e-308, 1.1754943508222875e-38, 100, -100, 0.5}
	return special[int(b-0xC0)%len(special)]
}

// int32Of maps a value byte to an int32: itself below 0xC0, then special
// values.
func int32Of(b byte) int32 {
	if b < 0xC0 {
		return int32(b)
	}
	special := []int32{-1, -2, -100, math.MaxInt32, math.MinInt32, 1 << 16, 1 << 24, -101, 1 << 30, 255, 256, 4096}
	return special[int(b-0xC0)%len(special)]
}

// Option values: JSON values by the option's Go type.
var (
	fuzzFloatOpts = []any{0, 1, -1, 0.5, 2, 0.1, 1e-7, 100, -100, 1e-300, 1e300, 3.5e38, -3.5e38, 1e-45, 1e-40,
		0.999, 1e308, 7, 0.25, 1e-12, -0.5, 3}
	fuzzIntOpts = []any{0, 1, 2, 3, -1, -100, -2, math.MaxInt32, math.MinInt32, int64(1) << 40, 5, 4}
	fuzzEnums   = map[string][]string{
		"losses.Reduction":        {"none", "mean", "sum", "batchmean", "max"},
		"losses.NaNPolicy":        {"propagate", "error", "raise"},
		"losses.CTCGradMode":      {"exact", "pytorch", "fast"},
		"losses.SeqNormalization": {"token", "sequence", "batch"},
	}
	// set directly in the options struct (JSON has no NaN or infinity)
	fuzzRawFloats = []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), math.SmallestNonzeroFloat64,
		math.MaxFloat64, -math.MaxFloat64, 1e-320}
	fuzzRawInts = []int64{-7, 1 << 40, math.MinInt64, math.MaxInt64, 99, -1}
)

// optionValue sets option o of opts (JSON values by name) or, for a
// selector from 0xF0, sets the field of the decoded struct directly
// (returned as raw).
func optionValue(o losses.Option, sel byte, opts map[string]any) (raw func(reflect.Value)) {
	if sel == 0xEF { // a JSON string where the option wants another type
		opts[o.Name] = "x"
		return nil
	}
	if sel >= 0xF0 {
		i := int(sel - 0xF0)
		return func(v reflect.Value) {
			f := v.FieldByName(o.Field)
			switch {
			case f.Kind() == reflect.Float64:
				f.SetFloat(fuzzRawFloats[i%len(fuzzRawFloats)])
			case f.Kind() == reflect.Int:
				f.SetInt(fuzzRawInts[i%len(fuzzRawInts)])
			case f.Kind() == reflect.Pointer && f.Type().Elem().Kind() == reflect.Float64:
				x := fuzzRawFloats[i%len(fuzzRawFloats)]
				f.Set(reflect.ValueOf(&x).Convert(f.Type()))
			case f.Kind() == reflect.Pointer && f.Type().Elem().Kind() == reflect.Int:
				x := int(fuzzRawInts[i%len(fuzzRawInts)])
				f.Set(reflect.ValueOf(&x).Convert(f.Type())) // *int, or a pointer to an int type (*Reduction)
			case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Float64:
				x := []float64{1, fuzzRawFloats[i%len(fuzzRawFloats)], 1}
				f.Set(reflect.ValueOf(x))
			}
		}
	}
	if e, ok := fuzzEnums[o.Type]; ok {
		opts[o.Name] = e[int(sel)%len(e)]
		return nil
	}
	switch o.Type {
	case "bool", "*bool":
		opts[o.Name] = sel&1 == 1
	case "int", "*int":
		opts[o.Name] = fuzzIntOpts[int(sel)%len(fuzzIntOpts)]
	case "[]float64":
		w := make([]any, sel%8)
		for k := range w {
			w[k] = fuzzFloatOpts[(int(sel/8)+3*k)%len(fuzzFloatOpts)]
		}
		opts[o.Name] = w
	default: // float64, *float64, losses.Temperature
		opts[o.Name] = fuzzFloatOpts[int(sel)%len(fuzzFloatOpts)]
	}
	return nil
}

// fuzzTensor is one decoded input or output.
type fuzzTensor struct {
	name   string
	role   losses.Role
	shape  []int
	n      int  // elements in the buffer
	isInt  bool // an int32 buffer
	other  bool // a float buffer of the other float type
	absent bool
	vals   []float64 // inputs: float values, or int32 values as float64
}

// fuzzDecoded is one decoded case.
type fuzzDecoded struct {
	decl   *losses.Decl
	opt    any
	ins    []fuzzTensor
	outs   []fuzzTensor // shape nil: the shape Decl.Call gives
	ctcWS  bool
	wsDims [4]int
}

func readShape(r *fuzzBytes) []int {
	rank := int(r.next() % 4)
	s := make([]int, rank)
	for i := range s {
		s[i] = dimOf(r.next())
	}
	return s
}

func derive(mode byte, s []int, r *fuzzBytes) []int {
	k := len(s)
	switch mode {
	case modeSame:
		return slices.Clone(s)
	case modeDropLast:
		if k > 0 {
			return slices.Clone(s[:k-1])
		}
	case modeLast:
		if k > 0 {
			return slices.Clone(s[k-1:])
		}
	case modeFirst:
		if k > 0 {
			return slices.Clone(s[:1])
		}
	case modeSecond:
		if k > 1 {
			return slices.Clone(s[1:2])
		}
	case modeDropFirst:
		if k > 0 {
			return slices.Clone(s[1:])
		}
	case modeOwn:
		return readShape(r)
	}
	return []int{}
}

// elems is the product of a shape, or -1 when it is negative or beyond
// fuzzMaxElems.
func elems(s []int) int {
	n := 1
	for _, d := range s {
		if d < 0 {
			return -1
		}
		if d == 0 {
			return 0
		}
	}
	for _, d := range s {
		if d > fuzzMaxElems || n*d > fuzzMaxElems {
			return -1
		}
		n *= d
	}
	return n
}

// bufLen is the buffer length for a shape: its elements (at most
// fuzzMaxElems), or one short or three over when spec asks.
func bufLen(shape []int, spec byte) int {
	n := elems(shape)
	if n < 0 {
		n = fuzzMaxElems
	}
	switch (spec >> 4) & 3 {
	case 2:
		n = max(n-1, 0)
	case 3:
		n += 3
	}
	return n
}

// decode reads one case of a family (names). An input's spec byte: bit 0
// present (optional inputs; required ones always are), bits 1–3 the shape
// mode, bits 4–5 the buffer length (2: one element short, 3: three over),
// bit 6 a float buffer for an input of either type (cross_entropy's
// target), bit 7 the other type (the other float type, or float for an
// int32 input). An output's: 6 mod 8 absent, 7 mod 8 a shape of its own
// (else the shape Decl.Call gives), bit 7 the other float type, bits 3 and
// 6 together an int32 buffer.
func decode(data []byte, names []string) *fuzzDecoded {
	r := &fuzzBytes{b: data}
	c := &fuzzDecoded{}
	c.decl, _ = losses.Lookup(names[int(r.next())%len(names)])
	d := c.decl

	// options
	jsonOpts := map[string]any{}
	var raws []func(reflect.Value)
	for n := int(r.next() % 8); n > 0; n-- {
		idx, sel := r.next(), r.next()
		if len(d.Options) == 0 {
			continue
		}
		if raw := optionValue(d.Options[int(idx)%len(d.Options)], sel, jsonOpts); raw != nil {
			raws = append(raws, raw)
		}
	}
	raw, _ := json.Marshal(jsonOpts)
	opt, err := d.DecodeOptions(raw)
	if err != nil {
		opt = err // checked by run
	} else {
		for _, set := range raws {
			set(reflect.ValueOf(opt).Elem())
		}
	}
	c.opt = opt

	// inputs
	base := readShape(r)
	for _, p := range d.Params {
		if p.Role != losses.In {
			continue
		}
		spec := r.next()
		t := fuzzTensor{name: p.Name, role: p.Role}
		t.shape = derive((spec>>1)&7, base, r)
		t.absent = p.Optional && spec&1 == 0
		switch p.DType {
		case "int32":
			t.isInt = spec&0x80 == 0 // else a float buffer where int32 is wanted
		case "any":
			t.isInt = spec&0x40 == 0
		default:
			t.other = spec&0x80 != 0
		}
		t.n = bufLen(t.shape, spec)
		c.ins = append(c.ins, t)
	}
	// outputs
	for _, p := range d.Params {
		if p.Role == losses.In {
			continue
		}
		spec := r.next()
		t := fuzzTensor{name: p.Name, role: p.Role}
		switch spec % 8 {
		case 6:
			t.absent = true
		case 7:
			t.shape = derive(modeOwn, nil, r)
		}
		t.other = spec&0x80 != 0
		t.isInt = spec&0x48 == 0x48 // an int32 output buffer
		if t.shape != nil {
			t.n = bufLen(t.shape, spec)
		}
		c.outs = append(c.outs, t)
	}
	// ctc_loss: a caller workspace, sized for the base shape or for dims of its own
	if x := r.next(); x&1 == 1 && d.Name == "ctc_loss" {
		c.ctcWS = true
		if x&2 == 0 && len(base) == 3 {
			c.wsDims = [4]int{base[0], base[1], base[2], 4}
		} else {
			for i := range c.wsDims {
				c.wsDims[i] = dimOf(r.next())
			}
		}
	}
	// values
	for i := range c.ins {
		t := &c.ins[i]
		if t.absent {
			continue
		}
		t.vals = make([]float64, t.n)
		for k := range t.vals {
			if r.left() {
				if t.isInt {
					t.vals[k] = float64(int32Of(r.next()))
				} else {
					t.vals[k] = floatOf(r.next())
				}
			} else if t.isInt {
				t.vals[k] = float64(k % 2)
			} else {
				t.vals[k] = float64(k%7) / 8
			}
		}
	}
	return c
}

// fuzzBuf is a tensor with its Go slice, to fill and compare.
type fuzzBuf struct {
	t   losses.Tensor
	f32 []float32
	f64 []float64
	i32 []int32
}

const (
	sentinel32 = 0x7fa5a5a5         // a float32 NaN payload
	sentinel64 = 0x7ff4a5a5a5a5a5a5 // a float64 NaN payload
)

func newBuf(t fuzzTensor, f64 bool, shape []int) fuzzBuf {
	if t.other {
		f64 = !f64
	}
	var b fuzzBuf
	switch {
	case t.isInt:
		b.i32 = make([]int32, t.n)
		for k := range b.i32 {
			if t.vals != nil {
				b.i32[k] = int32(t.vals[k])
			} else {
				b.i32[k] = -0x5a5a5a5b
			}
		}
		b.t = losses.HostTensor(b.i32, shape...)
	case f64:
		b.f64 = make([]float64, t.n)
		for k := range b.f64 {
			if t.vals != nil {
				b.f64[k] = t.vals[k]
			} else {
				b.f64[k] = math.Float64frombits(sentinel64)
			}
		}
		b.t = losses.HostTensor(b.f64, shape...)
	default:
		b.f32 = make([]float32, t.n)
		for k := range b.f32 {
			if t.vals != nil {
				b.f32[k] = float32(t.vals[k])
			} else {
				b.f32[k] = math.Float32frombits(sentinel32)
			}
		}
		b.t = losses.HostTensor(b.f32, shape...)
	}
	b.t.Shape = shape // HostTensor gives a shapeless tensor one dimension
	return b
}

// bits returns the buffer's elements as bits.
func (b fuzzBuf) bits() []uint64 {
	var v []uint64
	for _, x := range b.f32 {
		v = append(v, uint64(math.Float32bits(x)))
	}
	for _, x := range b.f64 {
		v = append(v, math.Float64bits(x))
	}
	for _, x := range b.i32 {
		v = append(v, uint64(uint32(x)))
	}
	return v
}

// tensorBits returns a host tensor's elements as bits.
func tensorBits(t losses.Tensor) []uint64 {
	hb := t.Buf.(*host.Buffer)
	switch s := hb.Slice().(type) {
	case []float32:
		return fuzzBuf{f32: s}.bits()
	case []float64:
		return fuzzBuf{f64: s}.bits()
	case []int32:
		return fuzzBuf{i32: s}.bits()
	}
	return nil
}

var allocMetric = []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}

func allocated() uint64 {
	metrics.Read(allocMetric)
	return allocMetric[0].Value.Uint64()
}

// allowedErr reports whether err is one a call may return.
func allowedErr(err error) bool {
	var ae *losses.ArgError
	return errors.As(err, &ae) || errors.Is(err, device.ErrOutOfMemory)
}

// fuzzFamily runs the fuzz target of a family.
func fuzzFamily(f *testing.F, family string) {
	names := fuzzFamilies[family]
	old := host.SetMemoryBudget(fuzzBudget)
	f.Cleanup(func() { host.SetMemoryBudget(old) })
	dev := host.Default()
	f.Fuzz(func(t *testing.T, data []byte) {
		c := decode(data, names)
		if err, ok := c.opt.(error); ok {
			if !allowedErr(err) {
				t.Fatalf("%s: DecodeOptions: %v (%T), want an *ArgError", c.decl.Name, err, err)
			}
			return
		}
		for _, f64 := range []bool{false, true} {
			runCase(t, dev, c, f64)
		}
	})
}

// measure runs fn and checks its time and allocations.
func measure(t *testing.T, what string, fn func() error) error {
	t.Helper()
	a0 := allocated()
	t0 := time.Now()
	err := fn()
	d := time.Since(t0)
	if a := allocated() - a0; a > fuzzAllocLimit {
		t.Errorf("%s allocated %d bytes (limit %d), error %v", what, a, fuzzAllocLimit, err)
	}
	if d > fuzzTimeLimit {
		t.Errorf("%s took %v (limit %v), error %v", what, d, fuzzTimeLimit, err)
	}
	return err
}

func runCase(t *testing.T, dev device.Device, c *fuzzDecoded, f64 bool) {
	d := c.decl
	what := fmt.Sprintf("%s (float64 %v)", d.Name, f64)
	ins := map[string]fuzzBuf{}
	inputs := map[string]losses.Tensor{}
	for _, in := range c.ins {
		if in.absent {
			continue
		}
		b := newBuf(in, f64, in.shape)
		ins[in.name] = b
		inputs[in.name] = b.t
	}
	before := map[string][]uint64{}
	for k, b := range ins {
		before[k] = b.bits()
	}
	checkInputs := func(call string) {
		t.Helper()
		for k, b := range ins {
			if !slices.Equal(before[k], b.bits()) {
				t.Fatalf("%s: %s changed input %s", what, call, k)
			}
		}
	}

	// Decl.Call, twice
	var outs1, outs2 map[string]losses.Tensor
	err1 := measure(t, what+": Call", func() (err error) { outs1, err = d.Call(dev, inputs, c.opt); return })
	checkInputs("Call")
	for k, v := range inputs {
		if err1 == nil && !validShape(v.Shape) {
			t.Fatalf("%s: Call succeeded with %s of shape %v", what, k, v.Shape)
		}
	}
	if err1 != nil && !allowedErr(err1) {
		t.Fatalf("%s: Call: %v (%T), want an *ArgError or out of memory", what, err1, err1)
	}
	err2 := measure(t, what+": Call again", func() (err error) { outs2, err = d.Call(dev, inputs, c.opt); return })
	switch {
	case (err1 == nil) != (err2 == nil) || err1 != nil && err1.Error() != err2.Error():
		t.Fatalf("%s: Call twice: %v, then %v", what, err1, err2)
	case err1 == nil:
		for k, o := range outs1 {
			if !slices.Equal(tensorBits(o), tensorBits(outs2[k])) {
				t.Fatalf("%s: Call twice: %s differs", what, k)
			}
		}
	}

	// Decl.Bind with outputs of its own, filled with a sentinel
	all := map[string]losses.Tensor{}
	for k, v := range inputs {
		all[k] = v
	}
	outs := map[string]fuzzBuf{}
	replay := err1 == nil // the outputs Decl.Call allocated, as it allocated them
	for _, o := range c.outs {
		shape, dt64 := o.shape, f64
		if shape == nil { // the shape (and type) Decl.Call gave, if it gave one
			got, ok := outs1[o.name]
			if !ok && err1 == nil {
				continue
			}
			if ok {
				shape, dt64 = got.Shape, got.DType() == device.Float64
			} else if o.role == losses.Grad {
				shape = inputShape(c, o.name)
			} else {
				shape = []int{}
			}
			o.n = bufLen(shape, 0)
		}
		replay = replay && !o.absent && !o.other && !o.isInt && o.shape == nil && elems(shape) >= 0
		if o.absent {
			continue
		}
		b := newBuf(o, dt64, shape)
		outs[o.name] = b
		all[o.name] = b.t
	}
	if replay && len(outs) != len(outs1) {
		replay = false
	}
	var fields map[string]any
	if c.ctcWS {
		dt := device.Float32
		if f64 {
			dt = device.Float64
		}
		w := c.wsDims
		ws, err := losses.NewCTCWorkspace(dev, dt, w[0], w[1], w[2], w[3], ctcLogits(c.opt))
		if err != nil {
			if !allowedErr(err) {
				t.Fatalf("%s: NewCTCWorkspace%v: %v (%T)", what, w, err, err)
			}
		} else {
			defer ws.Release()
			fields = map[string]any{"Workspace": ws}
			replay = false
		}
	}
	call, err := d.Bind(all, c.opt, fields)
	if err != nil {
		t.Fatalf("%s: Bind: %v", what, err)
	}
	outBefore := map[string][]uint64{}
	for k, b := range outs {
		outBefore[k] = b.bits()
	}
	err = measure(t, what+": bound call", func() error { return call(dev) })
	checkInputs("the bound call")
	for k, v := range all {
		if err == nil && !validShape(v.Shape) {
			t.Fatalf("%s: bound call succeeded with %s of shape %v", what, k, v.Shape)
		}
	}
	if err != nil {
		if !allowedErr(err) {
			t.Fatalf("%s: bound call: %v (%T), want an *ArgError or out of memory", what, err, err)
		}
		for k, b := range outs {
			if !slices.Equal(outBefore[k], b.bits()) {
				t.Fatalf("%s: bound call failed (%v) but wrote %s", what, err, k)
			}
		}
		if replay {
			t.Fatalf("%s: Call succeeded, the bound call with its outputs failed: %v", what, err)
		}
		return
	}
	if replay {
		for k, o := range outs1 {
			if !slices.Equal(tensorBits(o), outs[k].bits()) {
				t.Fatalf("%s: Call and the bound call differ in %s", what, k)
			}
		}
	}
	// again, from the sentinel
	first := map[string][]uint64{}
	for k, b := range outs {
		first[k] = b.bits()
		refill(b)
	}
	err = measure(t, what+": bound call again", func() error { return call(dev) })
	if err != nil {
		t.Fatalf("%s: bound call succeeded, then failed: %v", what, err)
	}
	for k, b := range outs {
		if !slices.Equal(first[k], b.bits()) {
			t.Fatalf("%s: bound call twice: %s differs", what, k)
		}
	}
}

// refill puts the sentinel back in an output buffer.
func refill(b fuzzBuf) {
	for k := range b.f32 {
		b.f32[k] = math.Float32frombits(sentinel32)
	}
	for k := range b.f64 {
		b.f64[k] = math.Float64frombits(sentinel64)
	}
	for k := range b.i32 {
		b.i32[k] = -0x5a5a5a5b
	}
}

// validShape reports whether a shape can be given to the kernels: no
// negative dimension, each and their product within the int32 range.
func validShape(s []int) bool {
	n := int64(1)
	for _, d := range s {
		if d < 0 || d > math.MaxInt32 {
			return false
		}
		n *= int64(d)
		if n > math.MaxInt32 {
			return false
		}
	}
	return true
}

// inputShape returns the shape of the input a gradient output is of.
func inputShape(c *fuzzDecoded, grad string) []int {
	p, _ := c.decl.Param(grad)
	for _, in := range c.ins {
		if in.name == p.GradOf && !in.absent {
			return in.shape
		}
	}
	return []int{}
}

func ctcLogits(opt any) bool {
	o, ok := opt.(*losses.CTCLossOptions)
	return ok && o.Logits
}

func hasParam(d *losses.Decl, name string) bool {
	_, ok := d.Param(name)
	return ok
}
