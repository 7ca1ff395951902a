package losstest

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"testing"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

// TestEmptyWithHugeDimensions: for every declared loss, on every device,
// each case shape is rewritten with one of its dimensions (a symbol such
// as N, C or T: every dimension of the case's shapes with that value) set
// to 0 and another set to 2³¹ − 1, so that the tensors holding the first
// are empty however large the second. Every such call must succeed or fail
// with an *ArgError or device.ErrOutOfMemory, and must not allocate in
// proportion to the huge dimension: no per-row, per-class or workspace
// memory for rows or classes that have no elements.
func TestEmptyWithHugeDimensions(t *testing.T) {
	const huge = 1<<31 - 1
	forEachDevice(t, func(t *testing.T, dev device.Device) {
		prev := host.SetMemoryBudget(256 << 20)
		defer host.SetMemoryBudget(prev)
		seen := map[string]bool{}
		ran := 0
		for _, c := range Cases() {
			if c.ins == nil || seen[c.Loss] {
				continue
			}
			var dims []int // the case's distinct dimensions other than 0 and 1
			for _, v := range c.ins {
				for _, d := range v.shape {
					if d > 1 && !slices.Contains(dims, d) {
						dims = append(dims, d)
					}
				}
			}
			if len(dims) < 2 {
				continue
			}
			seen[c.Loss] = true
			d, _ := losses.Lookup(c.Loss)
			for _, zero := range dims {
				for _, big := range dims {
					if big == zero {
						continue
					}
					ins, ok := rewrite(c.ins, zero, big, huge)
					if !ok {
						continue
					}
					what := fmt.Sprintf("%s with %d→0, %d→%d", c.Name, zero, big, huge)
					var before, after runtime.MemStats
					runtime.ReadMemStats(&before)
					_, err := d.Call(dev, ins, c.opt)
					runtime.ReadMemStats(&after)
					var ae *losses.ArgError
					if err != nil && !errors.As(err, &ae) && !errors.Is(err, device.ErrOutOfMemory) {
						t.Errorf("%s: %v (want success, an *ArgError or device.ErrOutOfMemory)", what, err)
					}
					if a := after.TotalAlloc - before.TotalAlloc; a > 16<<20 {
						t.Errorf("%s: allocated %d MiB for empty tensors", what, a>>20)
					}
					ran++
				}
			}
		}
		for _, name := range losses.Names() {
			if !seen[name] {
				t.Errorf("%s: no case with two distinct dimensions", name)
			}
		}
		t.Logf("%d calls with an empty dimension beside a huge one", ran)
	})
}

// rewrite returns the case's inputs as float32 / int32 host tensors, with
// every dimension equal to zero set to 0 and every one equal to big set to
// huge; ok is false when a tensor would have elements and a huge
// dimension (too large to hold). Non-empty tensors are filled with 0.5
// (floats) or 0 (ints: class 0, lengths 0).
func rewrite(ins inputs, zero, big, huge int) (map[string]losses.Tensor, bool) {
	out := map[string]losses.Tensor{}
	for name, v := range ins {
		shape := slices.Clone(v.shape)
		n := 1
		for i, d := range shape {
			switch d {
			case zero:
				shape[i] = 0
			case big:
				shape[i] = huge
			}
			n *= shape[i]
		}
		if n != 0 && slices.Contains(shape, huge) {
			return nil, false
		}
		if v.isInt {
			out[name] = losses.HostTensor(make([]int32, n), shape...)
		} else {
			f := make([]float32, n)
			for i := range f {
				f[i] = 0.5
			}
			out[name] = losses.HostTensor(f, shape...)
		}
	}
	return out, true
}
