//go:build opencl

package opencl_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/jgillich/go-opencl/cl"
	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/device/opencl"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// noDevice is the reason to skip: no OpenCL platform or device here.
type noDevice struct{ error }

// devices opens every OpenCL device once per test binary.
var devices = sync.OnceValues(func() ([]device.Device, error) {
	for _, st := range device.List() {
		if st.Name != "opencl" {
			continue
		}
		if len(st.Devices) == 0 {
			return nil, noDevice{fmt.Errorf("no OpenCL device present: %v", st.Err)}
		}
		var out []device.Device
		for _, in := range st.Devices {
			d, err := device.Open(in.Name)
			if err != nil {
				return nil, fmt.Errorf("open %s: %w", in.Name, err)
			}
			out = append(out, d)
		}
		return out, nil
	}
	return nil, errors.New("the opencl backend is not registered")
})

// forEachDevice runs fn on every OpenCL device, or skips with the reason.
func forEachDevice(t *testing.T, fn func(t *testing.T, d device.Device)) {
	t.Helper()
	devs, err := devices()
	var nd noDevice
	if errors.As(err, &nd) {
		t.Skipf("skipping: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		t.Run(d.Info().Name, func(t *testing.T) { fn(t, d) })
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestWrap(t *testing.T) {
	forEachDevice(t, func(t *testing.T, d device.Device) {
		od := d.(*opencl.Device)
		mem, err := od.Context().CreateEmptyBuffer(cl.MemReadWrite, 4*10)
		if err != nil {
			t.Fatal(err)
		}
		defer mem.Release()
		b, err := opencl.Wrap(od, mem, device.Float32, 10)
		if err != nil {
			t.Fatal(err)
		}
		if b.Len() != 10 || b.DType() != device.Float32 || b.Device() != d || b.Mem() != mem {
			t.Fatalf("wrapped buffer: len %d dtype %v", b.Len(), b.DType())
		}
		src := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
		must(t, d.Write(b, src))
		out := []float32{0}
		must(t, d.Launch("reduce_sum", device.Grid{Blocks: 1, Threads: kernelspec.BlockSize}, b, int32(10), 1.0, int32(0), b, b))
		must(t, d.Read(out, b))
		if out[0] != 55 {
			t.Fatalf("sum of wrapped buffer = %v", out[0])
		}
		must(t, b.Release())
		must(t, b.Release())
		if err := d.Write(b, src); !errors.Is(err, device.ErrReleased) {
			t.Fatalf("write to released buffer: %v", err)
		}
		// The memory object outlives the wrapper's Release.
		b2, err := opencl.Wrap(od, mem, device.Float32, 10)
		must(t, err)
		got := make([]float32, 10)
		must(t, d.Read(got, b2))
		if got[0] != 55 || got[9] != 10 {
			t.Fatalf("after release of the wrapper: %v", got)
		}
		if _, err := opencl.Wrap(od, mem, device.Float64, 5); !errors.Is(err, device.ErrUnsupported) {
			t.Fatalf("wrap float64: %v", err)
		}
		if _, err := opencl.Wrap(nil, mem, device.Float32, 5); err == nil {
			t.Fatal("wrap on nil device succeeded")
		}
	})
}

func TestErrors(t *testing.T) {
	forEachDevice(t, func(t *testing.T, d device.Device) {
		g := device.Grid{Blocks: 1, Threads: kernelspec.BlockSize}
		x, err := d.Alloc(device.Float32, 4)
		must(t, err)
		defer x.Release()
		ib, err := d.Alloc(device.Int32, 4)
		must(t, err)
		defer ib.Release()
		hb, err := host.Default().Alloc(device.Float32, 4)
		must(t, err)

		bad := map[string][]any{
			"too few":          {x, int32(4), 1.0, int32(0), x},
			"too many":         {x, int32(4), 1.0, int32(0), x, x, x},
			"int not int32":    {x, 4, 1.0, int32(0), x, x},
			"float32 for real": {x, int32(4), float32(1), int32(0), x, x},
			"int buffer":       {ib, int32(4), 1.0, int32(0), x, x},
			"not a buffer":     {[]float32{1}, int32(4), 1.0, int32(0), x, x},
			"nil buffer":       {(*opencl.Buffer)(nil), int32(4), 1.0, int32(0), x, x},
		}
		for what, args := range bad {
			if err := d.Launch("reduce_sum", g, args...); !errors.Is(err, device.ErrBadArguments) {
				t.Errorf("%s: got %v, want ErrBadArguments", what, err)
			}
		}
		if err := d.Launch("no_such_kernel", g); !errors.Is(err, device.ErrBadArguments) {
			t.Errorf("unknown kernel: %v", err)
		}
		if err := d.Launch("reduce_sum", g, hb, int32(4), 1.0, int32(0), x, x); !errors.Is(err, device.ErrWrongDevice) {
			t.Errorf("host buffer: %v", err)
		}
		if err := d.Launch("reduce_sum", device.Grid{Blocks: 1, Threads: 128}, x, int32(4), 1.0, int32(0), x, x); !errors.Is(err, device.ErrBadArguments) {
			t.Errorf("128 threads: %v", err)
		}
		must(t, d.Launch("reduce_sum", device.Grid{}, x, int32(4), 1.0, int32(0), x, x))

		if _, err := d.Alloc(device.Float64, 4); !errors.Is(err, device.ErrUnsupported) {
			t.Errorf("float64 alloc: %v", err)
		}
		if _, err := d.Alloc(device.Float32, 1<<50); !errors.Is(err, device.ErrOutOfMemory) {
			t.Errorf("huge alloc: %v", err)
		}
		if _, err := d.Alloc(device.Float32, -1); err == nil {
			t.Error("negative alloc succeeded")
		}
		if err := d.Write(x, []float64{1}); err == nil {
			t.Error("float64 write to float32 buffer succeeded")
		}
		if err := d.Write(x, make([]float32, 5)); err == nil {
			t.Error("oversized write succeeded")
		}
		if err := d.Write(hb, []float32{1}); !errors.Is(err, device.ErrWrongDevice) {
			t.Errorf("write to host buffer: %v", err)
		}

		// Zero-length buffers and transfers.
		z, err := d.Alloc(device.Float32, 0)
		must(t, err)
		if z.Len() != 0 {
			t.Errorf("Len of empty buffer = %d", z.Len())
		}
		must(t, d.Write(z, []float32{}))
		must(t, d.Read([]float32{}, z))
		must(t, d.Copy(z, x, 0))
		out, err := d.Alloc(device.Float32, 1)
		must(t, err)
		defer out.Release()
		must(t, d.Launch("reduce_sum", g, z, int32(0), 1.0, int32(0), z, out))
		v := []float32{7}
		must(t, d.Read(v, out))
		if v[0] != 0 {
			t.Errorf("sum of nothing = %v", v[0])
		}
		must(t, z.Release())
		if err := d.Launch("reduce_sum", g, z, int32(0), 1.0, int32(0), z, out); !errors.Is(err, device.ErrReleased) {
			t.Errorf("launch on a released buffer: %v", err)
		}

		// Copy.
		must(t, d.Write(x, []float32{1, 2, 3, 4}))
		y, err := d.Alloc(device.Float32, 4)
		must(t, err)
		defer y.Release()
		must(t, d.Copy(y, x, 3))
		got := []float32{0, 0, 0}
		must(t, d.Read(got, y))
		if got[0] != 1 || got[2] != 3 {
			t.Errorf("copy: %v", got)
		}
		if err := d.Copy(y, ib, 2); err == nil {
			t.Error("copy int32 to float32 succeeded")
		}
		if err := d.Copy(y, x, 5); err == nil {
			t.Error("copy past the end succeeded")
		}
		must(t, d.Sync())
	})
}

func TestInfo(t *testing.T) {
	forEachDevice(t, func(t *testing.T, d device.Device) {
		in := d.Info()
		if in.Backend != "opencl" || in.Description == "" || in.Float64 || in.ComputeUnit <= 0 {
			t.Errorf("info: %+v", in)
		}
		t.Logf("%s: %s, %s, %d compute units, %d MiB", in.Name, in.Description, in.Kind, in.ComputeUnit, in.Memory>>20)
	})
}

// TestConcurrent launches from several goroutines at once.
func TestConcurrent(t *testing.T) {
	forEachDevice(t, func(t *testing.T, d device.Device) {
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for gi := 0; gi < 8; gi++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n := 1000 + gi
				xs := make([]float32, n)
				for i := range xs {
					xs[i] = 1
				}
				x, err := d.Alloc(device.Float32, n)
				if err != nil {
					errs <- err
					return
				}
				defer x.Release()
				out, err := d.Alloc(device.Float32, 1)
				if err != nil {
					errs <- err
					return
				}
				defer out.Release()
				for rep := 0; rep < 20; rep++ {
					if err := d.Write(x, xs); err != nil {
						errs <- err
						return
					}
					if err := d.Launch("reduce_sum", device.Grid{Blocks: 1, Threads: kernelspec.BlockSize},
						x, int32(n), 1.0, int32(0), x, out); err != nil {
						errs <- err
						return
					}
					v := []float32{0}
					if err := d.Read(v, out); err != nil {
						errs <- err
						return
					}
					if v[0] != float32(n) {
						errs <- fmt.Errorf("goroutine %d: sum %v, want %d", gi, v[0], n)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}
