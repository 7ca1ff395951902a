package losstest

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

// snapshot copies every tensor's elements as bits.
func snapshot(ts map[string]losses.Tensor) map[string][]uint64 {
	out := map[string][]uint64{}
	for name, t := range ts {
		var v []uint64
		switch s := t.Buf.(*host.Buffer).Slice().(type) {
		case []float32:
			for _, x := range s {
				v = append(v, uint64(math.Float32bits(x)))
			}
		case []float64:
			for _, x := range s {
				v = append(v, math.Float64bits(x))
			}
		case []int32:
			for _, x := range s {
				v = append(v, uint64(uint32(x)))
			}
		}
		out[name] = v
	}
	return out
}

// TestBadBuffers: for one non-empty case of every declared loss, a
// typed-nil buffer in any tensor (input or output), and any two outputs
// given the same memory, are each an *ArgError naming an argument, and
// every buffer of the call is bitwise unchanged afterwards: a call fails
// before it writes anything.
func TestBadBuffers(t *testing.T) {
	dev := host.Default()
	seen := map[string]bool{}
	for _, c := range Cases() {
		if c.ins == nil || seen[c.Loss] {
			continue
		}
		d, _ := losses.Lookup(c.Loss)
		// a case with data, whose call succeeds as it is
		ts := map[string]losses.Tensor{}
		empty := false
		for name, v := range c.ins {
			if v.isInt {
				ts[name] = losses.HostTensor(slices.Clone(v.i), v.shape...)
			} else {
				ts[name] = losses.HostTensor(to32(v.f), v.shape...)
				empty = empty || len(v.f) == 0
			}
		}
		if empty {
			continue
		}
		outs, err := d.Call(dev, ts, c.opt)
		if err != nil || len(outs) < 1 {
			continue
		}
		seen[c.Loss] = true
		all := map[string]losses.Tensor{}
		for k, v := range ts {
			all[k] = v
		}
		for k, v := range outs {
			all[k] = v
		}
		run := func(what string, mod map[string]losses.Tensor) {
			t.Helper()
			for k, v := range outs { // poison the outputs: unchanged means unwritten
				for i := range v.Buf.(*host.Buffer).Float32s() {
					v.Buf.(*host.Buffer).Float32s()[i] = float32(i) + 0.5
				}
				_ = k
			}
			before := snapshot(all)
			call, err := d.Bind(mod, c.opt, nil)
			if err == nil {
				err = call(dev)
			}
			var ae *losses.ArgError
			if !errors.As(err, &ae) {
				t.Errorf("%s: %s: got %v, want an *ArgError", c.Name, what, err)
				return
			}
			after := snapshot(all)
			for k := range before {
				if !slices.Equal(before[k], after[k]) {
					t.Errorf("%s: %s: failed with %q but changed %s", c.Name, what, err, k)
				}
			}
		}
		for name, v := range all {
			mod := maps(all)
			mod[name] = losses.Tensor{Buf: (*host.Buffer)(nil), Shape: v.Shape}
			run("typed-nil "+name, mod)
		}
		var outNames []string
		for k := range outs {
			outNames = append(outNames, k)
		}
		slices.Sort(outNames)
		for i, a := range outNames {
			for _, b := range outNames[i+1:] {
				mod := maps(all)
				mod[b] = losses.Tensor{Buf: all[a].Buf, Shape: all[b].Shape}
				run(b+" aliasing "+a, mod)
			}
		}
	}
	for _, name := range losses.Names() {
		if !seen[name] {
			t.Errorf("%s: no case with data ran", name)
		}
	}
}

func maps(m map[string]losses.Tensor) map[string]losses.Tensor {
	out := make(map[string]losses.Tensor, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
