//go:build cuda

package cuda_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/device/cuda"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/kernels"
	"gorgonia.org/cu"
)

// openGPU opens GPU 0, or skips the test when the driver reports no GPU.
// (Without a driver at all the test binary never gets here: gorgonia.org/cu
// exits the process in its init when cuInit fails.)
func openGPU(t testing.TB) *cuda.Device {
	t.Helper()
	n, err := cu.NumDevices()
	if err != nil {
		t.Skipf("cuda: the driver cannot count devices: %v", err)
	}
	if n == 0 {
		t.Skip("cuda: no GPU present")
	}
	d, err := cuda.Open(0)
	if err != nil {
		t.Fatalf("cuda.Open(0): %v", err)
	}
	return d
}

// same(j) as a launch argument stands for the buffer of argument j
// (aliasing, as in an in-place gradient).
type same int

// launchBoth runs kernel name on the host mirror and on the GPU with the
// same arguments. A []float32 or []int32 argument becomes a fresh buffer on
// each side holding a copy of it; int32 and float64 pass as they are. It
// returns, for each argument that made a buffer, the host's and the GPU's
// contents after the launch (nil for the other arguments).
func launchBoth(t *testing.T, d *cuda.Device, name string, g device.Grid, spec ...any) (hostOut, gpuOut []any) {
	t.Helper()
	hargs, gargs := make([]any, len(spec)), make([]any, len(spec))
	hostOut, gpuOut = make([]any, len(spec)), make([]any, len(spec))
	for i, s := range spec {
		switch v := s.(type) {
		case []float32, []int32:
			var hb *host.Buffer
			var err error
			switch v := v.(type) {
			case []float32:
				hb, err = host.Wrap(slices.Clone(v))
			case []int32:
				hb, err = host.Wrap(slices.Clone(v))
			}
			if err != nil {
				t.Fatal(err)
			}
			dt, n, _ := device.Elems(v)
			gb, err := d.Alloc(dt, n)
			if err != nil {
				t.Fatalf("%s: alloc argument %d: %v", name, i, err)
			}
			t.Cleanup(func() { gb.Release() })
			if err := d.Write(gb, v); err != nil {
				t.Fatalf("%s: write argument %d: %v", name, i, err)
			}
			hargs[i], gargs[i] = hb, gb
		case same:
			hargs[i], gargs[i] = hargs[v], gargs[v]
		default:
			hargs[i], gargs[i] = s, s
		}
	}
	if err := host.Default().Launch(name, g, hargs...); err != nil {
		t.Fatalf("host %s: %v", name, err)
	}
	if err := d.Launch(name, g, gargs...); err != nil {
		t.Fatalf("cuda %s: %v", name, err)
	}
	if err := d.Sync(); err != nil {
		t.Fatalf("cuda %s: sync: %v", name, err)
	}
	for i, s := range spec {
		switch s.(type) {
		case []float32:
			hostOut[i] = hargs[i].(*host.Buffer).Slice()
			out := make([]float32, gargs[i].(device.Buffer).Len())
			if err := d.Read(out, gargs[i].(device.Buffer)); err != nil {
				t.Fatalf("%s: read argument %d: %v", name, i, err)
			}
			gpuOut[i] = out
		case []int32:
			hostOut[i] = hargs[i].(*host.Buffer).Slice()
			out := make([]int32, gargs[i].(device.Buffer).Len())
			if err := d.Read(out, gargs[i].(device.Buffer)); err != nil {
				t.Fatalf("%s: read argument %d: %v", name, i, err)
			}
			gpuOut[i] = out
		}
	}
	return hostOut, gpuOut
}

// tol is a comparison tolerance: |got - want| <= abs*scale + rel*|want| +
// floor, where scale is the largest finite |want| of the buffer. floor
// covers results that are differences of much larger terms.
type tol struct{ rel, abs, floor float64 }

var defTol = tol{rel: 1e-4, abs: 1e-6}

// compareAll compares every buffer argument of a launch.
func compareAll(t *testing.T, label string, hostOut, gpuOut []any, tl tol) {
	t.Helper()
	for i := range hostOut {
		switch want := hostOut[i].(type) {
		case []float32:
			compareF(t, fmt.Sprintf("%s arg %d", label, i), gpuOut[i].([]float32), want, tl)
		case []int32:
			if got := gpuOut[i].([]int32); !slices.Equal(got, want) {
				t.Errorf("%s arg %d: int32 results differ: got %v, want %v", label, i, head(got), head(want))
			}
		}
	}
}

func head[T any](s []T) []T { return s[:min(len(s), 16)] }

func compareF(t *testing.T, label string, got, want []float32, tl tol) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: length %d, want %d", label, len(got), len(want))
	}
	scale := 0.0
	for _, w := range want {
		if a := math.Abs(float64(w)); !math.IsInf(a, 0) && a > scale {
			scale = a
		}
	}
	bad := 0
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		ok := false
		switch {
		case math.IsNaN(w):
			ok = math.IsNaN(g)
		case math.IsInf(w, 0):
			ok = g == w
		default:
			ok = math.Abs(g-w) <= tl.abs*scale+tl.rel*math.Abs(w)+tl.floor
		}
		if !ok {
			if bad < 5 {
				t.Errorf("%s[%d] = %v, host mirror %v (|diff| %.3g, scale %.3g)", label, i, got[i], want[i], math.Abs(g-w), scale)
			}
			bad++
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d of %d elements differ", label, bad, len(want))
	}
}

func randF(r *rand.Rand, n int, scale float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64()) * scale
	}
	return v
}

func rowGrid(rows int) device.Grid { return device.Grid{Blocks: rows, Threads: kernels.BlockSize} }

func partialGrid(n int) device.Grid {
	b := max(1, min((n+kernels.BlockSize-1)/kernels.BlockSize, kernels.MaxReduceBlocks))
	return device.Grid{Blocks: b, Threads: kernels.BlockSize}
}

var oneBlock = device.Grid{Blocks: 1, Threads: kernels.BlockSize}
