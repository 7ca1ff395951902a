//go:build cuda

package cuda_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/device/cuda"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// TestWrap wraps part of an allocated buffer, launches on it, and checks
// that releasing the wrapper leaves the memory alone.
func TestWrap(t *testing.T) {
	d := openGPU(t)
	v := make([]float32, 1000)
	for i := range v {
		v[i] = float32(i)
	}
	base := upload(t, d, v)
	w, err := cuda.Wrap(d, base.(*cuda.Buffer).Ptr(), device.Float32, 500)
	if err != nil {
		t.Fatal(err)
	}
	if w.Len() != 500 || w.DType() != device.Float32 || w.Device() != device.Device(d) || !w.Wrapped() {
		t.Fatalf("wrapped buffer: len %d dtype %s wrapped %v", w.Len(), w.DType(), w.Wrapped())
	}
	out := mustAlloc(t, d, device.Float32, 1)
	if err := d.Launch("reduce_sum", oneBlock, w, int32(500), 1.0, int32(0), w, out); err != nil {
		t.Fatal(err)
	}
	if got := download(t, d, out)[0]; got != 499*500/2 {
		t.Errorf("sum over the wrapped buffer = %v, want %v", got, 499*500/2)
	}
	if err := w.Release(); err != nil {
		t.Fatal(err)
	}
	if err := w.Release(); err != nil {
		t.Fatalf("second release: %v", err)
	}
	if got := download(t, d, base); got[999] != 999 {
		t.Errorf("memory under a released wrapper changed: %v", got[999])
	}
	err = d.Launch("reduce_sum", oneBlock, w, int32(500), 1.0, int32(0), w, out)
	if !errors.Is(err, device.ErrReleased) {
		t.Errorf("launch on a released wrapper: %v, want ErrReleased", err)
	}
	if _, err := cuda.Wrap(d, base.(*cuda.Buffer).Ptr(), device.Float64, 1); !errors.Is(err, device.ErrUnsupported) {
		t.Errorf("wrap float64: %v, want ErrUnsupported", err)
	}
}

// TestErrors checks the error paths of Alloc, Launch, Write, Read and Copy.
func TestErrors(t *testing.T) {
	d := openGPU(t)
	if _, err := d.Alloc(device.Float64, 4); !errors.Is(err, device.ErrUnsupported) {
		t.Errorf("alloc float64: %v, want ErrUnsupported", err)
	}
	if _, err := d.Alloc(device.Float32, 1<<42); !errors.Is(err, device.ErrOutOfMemory) || !strings.Contains(err.Error(), "bytes") {
		t.Errorf("alloc 16 TiB: %v, want ErrOutOfMemory with the byte count", err)
	}
	if _, err := d.Alloc(device.Float32, -1); err == nil {
		t.Error("alloc -1: no error")
	}
	empty := mustAlloc(t, d, device.Float32, 0)
	if empty.Len() != 0 {
		t.Errorf("empty buffer has Len %d", empty.Len())
	}
	if err := d.Write(empty, []float32{}); err != nil {
		t.Errorf("empty write: %v", err)
	}
	if err := d.Read([]float32{}, empty); err != nil {
		t.Errorf("empty read: %v", err)
	}
	x := upload(t, d, []float32{1, 2, 3})
	ib := mustAlloc(t, d, device.Int32, 3)
	out := mustAlloc(t, d, device.Float32, 1)
	hb, _ := host.Wrap([]float32{1, 2, 3})
	var nilBuf *cuda.Buffer
	bad := []struct {
		name string
		grid device.Grid
		args []any
		want error
	}{
		{"unknown kernel", oneBlock, nil, device.ErrBadArguments},
		{"too few args", oneBlock, []any{x, int32(3)}, device.ErrBadArguments},
		{"int for real", oneBlock, []any{x, int32(3), int32(1), int32(0), x, out}, device.ErrBadArguments},
		{"int buffer for float buffer", oneBlock, []any{ib, int32(3), 1.0, int32(0), x, out}, device.ErrBadArguments},
		{"nil buffer", oneBlock, []any{nilBuf, int32(3), 1.0, int32(0), x, out}, device.ErrBadArguments},
		{"host buffer", oneBlock, []any{hb, int32(3), 1.0, int32(0), x, out}, device.ErrWrongDevice},
		{"128 threads", device.Grid{Blocks: 1, Threads: 128}, []any{x, int32(3), 1.0, int32(0), x, out}, device.ErrBadArguments},
		{"negative grid", device.Grid{Blocks: -1, Threads: kernelspec.BlockSize}, []any{x, int32(3), 1.0, int32(0), x, out}, device.ErrBadArguments},
	}
	for _, b := range bad {
		name := "reduce_sum"
		if b.name == "unknown kernel" {
			name = "no_such_kernel"
		}
		if err := d.Launch(name, b.grid, b.args...); !errors.Is(err, b.want) {
			t.Errorf("%s: %v, want %v", b.name, err, b.want)
		}
	}
	if err := d.Launch("reduce_sum", device.Grid{Blocks: 0, Threads: kernelspec.BlockSize}, x, int32(3), 1.0, int32(0), x, x); err != nil {
		t.Errorf("0 blocks: %v", err)
	}
	if got := download(t, d, x); got[0] != 1 {
		t.Errorf("a 0-block launch wrote: %v", got)
	}
	if err := d.Write(x, []float32{1, 2, 3, 4}); err == nil {
		t.Error("write of 4 into 3: no error")
	}
	if err := d.Write(x, []int32{1}); err == nil {
		t.Error("write of int32 into float32: no error")
	}
	if err := d.Read([]float32{0}, hb); !errors.Is(err, device.ErrWrongDevice) {
		t.Errorf("read from a host buffer: %v, want ErrWrongDevice", err)
	}
	dst := mustAlloc(t, d, device.Float32, 3)
	if err := d.Copy(dst, x, 2); err != nil {
		t.Fatal(err)
	}
	if got := download(t, d, dst); got[0] != 1 || got[1] != 2 {
		t.Errorf("copy: %v", got)
	}
	if err := d.Copy(dst, ib, 2); err == nil {
		t.Error("copy int32 to float32: no error")
	}
	if err := d.Copy(dst, x, 4); err == nil {
		t.Error("copy of 4 elements between buffers of 3: no error")
	}
	rel, _ := d.Alloc(device.Float32, 3)
	rel.Release()
	if err := rel.Release(); err != nil {
		t.Errorf("second release: %v", err)
	}
	if err := d.Write(rel, []float32{1}); !errors.Is(err, device.ErrReleased) {
		t.Errorf("write to a released buffer: %v, want ErrReleased", err)
	}
	if err := d.Sync(); err != nil {
		t.Errorf("sync after error cases: %v", err)
	}
}

// TestRegistry checks the backend's device list and Open's caching.
func TestRegistry(t *testing.T) {
	d := openGPU(t)
	in := d.Info()
	if in.Name != "cuda:0" || in.Backend != "cuda" || in.Kind != device.GPU || in.Memory <= 0 || in.ComputeUnit <= 0 || in.Float64 {
		t.Errorf("info: %+v", in)
	}
	t.Logf("cuda:0: %s, %d MiB, %d multiprocessors", in.Description, in.Memory>>20, in.ComputeUnit)
	d2, err := device.Open("cuda")
	if err != nil {
		t.Fatal(err)
	}
	if d2 != device.Device(d) {
		t.Error("device.Open(\"cuda\") returned another Device than cuda.Open(0)")
	}
	if _, err := device.Open("cuda:99"); !errors.Is(err, device.ErrNotPresent) {
		t.Errorf("cuda:99: %v, want ErrNotPresent", err)
	}
}

// TestConcurrent uses one device from many goroutines.
func TestConcurrent(t *testing.T) {
	d := openGPU(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 1000 + g
			v := make([]float32, n)
			for i := range v {
				v[i] = 1
			}
			for rep := 0; rep < 20; rep++ {
				x, err := d.Alloc(device.Float32, n)
				if err != nil {
					errs <- err
					return
				}
				out, _ := d.Alloc(device.Float32, 1)
				if err := d.Write(x, v); err != nil {
					errs <- err
					return
				}
				if err := d.Launch("reduce_sum", oneBlock, x, int32(n), 1.0, int32(0), x, out); err != nil {
					errs <- err
					return
				}
				got := []float32{0}
				if err := d.Read(got, out); err != nil {
					errs <- err
					return
				}
				if got[0] != float32(n) {
					errs <- errors.New("wrong sum under concurrency")
					return
				}
				x.Release()
				out.Release()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestLockedMode reopens the device with all driver calls on its locked
// goroutine (cuda.WorkerEnv=1) and uses it from several goroutines.
func TestLockedMode(t *testing.T) {
	if err := openGPU(t).Close(); err != nil {
		t.Fatal(err)
	}
	t.Setenv(cuda.WorkerEnv, "1")
	d := openGPU(t)
	defer d.Close() // later tests reopen in the default mode
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x, err := d.Alloc(device.Float32, 300)
			if err != nil {
				errs <- err
				return
			}
			defer x.Release()
			v := make([]float32, 300)
			for i := range v {
				v[i] = float32(g)
			}
			got := []float32{0}
			if err := d.Write(x, v); err == nil {
				err = d.Launch("reduce_sum", oneBlock, x, int32(300), 1.0, int32(0), x, x)
				if err == nil {
					err = d.Read(got, x)
				}
			}
			if err != nil {
				errs <- err
			} else if got[0] != float32(300*g) {
				errs <- errors.New("wrong sum in locked mode")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestClose closes the shared device, checks that it and its buffers refuse
// work, and that Open then gives a fresh, working device (the one that
// TestKernels, later in file order, uses).
func TestClose(t *testing.T) {
	d := openGPU(t)
	b, err := d.Alloc(device.Float32, 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := d.Alloc(device.Float32, 1); err == nil {
		t.Error("alloc on a closed device: no error")
	}
	if err := d.Sync(); err == nil {
		t.Error("sync on a closed device: no error")
	}
	if err := b.Release(); err != nil {
		t.Errorf("release after close: %v", err)
	}
	d2 := openGPU(t)
	if d2 == d {
		t.Fatal("Open after Close returned the closed device")
	}
	x := upload(t, d2, []float32{1, 2})
	out := mustAlloc(t, d2, device.Float32, 1)
	if err := d2.Launch("reduce_sum", oneBlock, x, int32(2), 1.0, int32(0), x, out); err != nil {
		t.Fatal(err)
	}
	if got := download(t, d2, out); got[0] != 3 {
		t.Errorf("sum on the reopened device: %v", got)
	}
}
