//go:build go1.24

package losstest

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"weak"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

// rssBytes is the process's resident set (Linux), or 0 where unknown.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// smallCases are a few cases of each family, to loop over.
func smallCases() []Case {
	var out []Case
	seen := map[string]int{}
	for _, c := range Cases() {
		if c.ins != nil && seen[c.Loss] < 1 {
			seen[c.Loss]++
			out = append(out, c)
		}
	}
	return out
}

// TestNoRetainedArguments: after a call returns, the losses keep no
// reference to the caller's slices (inputs or outputs), so a loop over
// fresh batches does not hold them alive.
func TestNoRetainedArguments(t *testing.T) {
	d, _ := losses.Lookup("mse_loss")
	const n = 4099
	var refs []weak.Pointer[[n]float32]
	for i := 0; i < 8; i++ {
		x, y, gx := new([n]float32), new([n]float32), new([n]float32)
		loss := new([n]float32)
		for j := range x {
			x[j], y[j] = float32(j%7), float32(j%5)
		}
		refs = append(refs, weak.Make(x), weak.Make(y), weak.Make(gx), weak.Make(loss))
		for _, red := range []losses.Reduction{losses.Mean, losses.None} {
			ln := 1
			if red == losses.None {
				ln = n
			}
			call, err := d.Bind(map[string]losses.Tensor{
				"input": losses.HostTensor(x[:]), "target": losses.HostTensor(y[:]),
				"loss": losses.HostTensor(loss[:ln]), "grad_input": losses.HostTensor(gx[:]),
			}, losses.MSELossOptions{ElementwiseOptions: losses.ElementwiseOptions{Reduction: red}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := call(host.Default()); err != nil {
				t.Fatal(err)
			}
		}
	}
	runtime.GC()
	runtime.GC()
	kept := 0
	for _, r := range refs {
		if r.Value() != nil {
			kept++
		}
	}
	if kept > 0 {
		t.Errorf("%d of %d caller arrays still reachable after their calls returned", kept, len(refs))
	}
}

// TestNoLeaks: on every device, 10 000 calls over a case of every loss,
// and 50 open / call / close cycles, leave the Go heap, the pooled scratch
// and the resident set bounded.
func TestNoLeaks(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	cases := smallCases()
	forEachDevice(t, func(t *testing.T, dev device.Device) {
		var ms runtime.MemStats
		heap := func() uint64 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			return ms.HeapAlloc
		}
		calls := 10000
		if dev.Info().Backend != "host" {
			calls = 2000 // PoCL runs each launch on threads of its own: slower
		}
		run := func(dev device.Device, i int) {
			c := cases[i%len(cases)]
			if _, err := c.Run(dev, false); err != nil {
				t.Fatalf("%s: %v", c.Name, err)
			}
		}
		losses.Trim(dev)                // what earlier tests pooled
		for i := range 2 * len(cases) { // warm up: pools, compiled kernels
			run(dev, i)
		}
		h0, r0 := heap(), rssBytes()
		for i := range calls {
			run(dev, i)
		}
		h1, r1 := heap(), rssBytes()
		t.Logf("%d calls: heap %d → %d KiB, RSS %d → %d MiB, pooled scratch %d KiB",
			calls, h0>>10, h1>>10, r0>>20, r1>>20, losses.ScratchBytes(dev)>>10)
		if h1 > h0+8<<20 {
			t.Errorf("%d calls grew the heap by %d MiB", calls, (h1-h0)>>20)
		}
		if r0 > 0 && r1 > r0+64<<20 {
			t.Errorf("%d calls grew the resident set by %d MiB", calls, (r1-r0)>>20)
		}
		if s := losses.ScratchBytes(dev); s > 16<<20 {
			t.Errorf("%d bytes of scratch pooled after small calls", s)
		}

		name := dev.Info().Name
		cycle := func() {
			d, err := device.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			for i := range len(cases) {
				run(d, i)
			}
			if losses.ScratchBytes(d) == 0 {
				t.Fatalf("no scratch pooled: the test does not test the close path")
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			if s := losses.ScratchBytes(d); s != 0 {
				t.Fatalf("%d bytes of scratch still pooled for a closed device", s)
			}
		}
		for range 3 {
			cycle()
		}
		h0, r0 = heap(), rssBytes()
		for range 50 {
			cycle()
		}
		h1, r1 = heap(), rssBytes()
		t.Logf("50 open/close cycles: heap %d → %d KiB, RSS %d → %d MiB", h0>>10, h1>>10, r0>>20, r1>>20)
		if h1 > h0+8<<20 {
			t.Errorf("50 open/close cycles grew the heap by %d MiB", (h1-h0)>>20)
		}
		if r0 > 0 && r1 > r0+64<<20 {
			t.Errorf("50 open/close cycles grew the resident set by %d MiB", (r1-r0)>>20)
		}
	})
}
