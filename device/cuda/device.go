//go:build cuda

package cuda

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sort"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
	"github.com/lossengine/lossengine/kernels"
	"gorgonia.org/cu"
)

// SyncEnv names the environment variable that, set (to anything but 0)
// when a device is opened, makes every Launch wait for its kernel, so that
// an asynchronous fault is reported by the launch that caused it.
const SyncEnv = "LOSSENGINE_CUDA_SYNC"

// Device is one GPU. It implements device.Device; see the package
// documentation for its threading rules.
type Device struct {
	index int
	info  device.Info
	w     *worker
	// Set while opening, read-only after.
	mods []cu.Module
	fns  map[string]cu.Function
	// owned holds the buffers Alloc made that are not yet released. It is
	// touched only on the worker's thread.
	owned map[*Buffer]struct{}
	// syncLaunch makes Launch wait for each kernel (SyncEnv).
	syncLaunch bool
}

var _ device.Device = (*Device)(nil)

// newDevice starts the device's thread and loads every family's PTX.
func newDevice(index int, info device.Info) (*Device, error) {
	dev, err := cu.GetDevice(index)
	if err != nil {
		return nil, cuErr(fmt.Sprintf("device %d", index), err)
	}
	w, err := startWorker(dev)
	if err != nil {
		return nil, err
	}
	d := &Device{index: index, info: info, w: w, fns: map[string]cu.Function{}, owned: map[*Buffer]struct{}{},
		syncLaunch: os.Getenv(SyncEnv) != "" && os.Getenv(SyncEnv) != "0"}
	err = w.do(func() error { return d.load(kernels.PTX()) })
	if err != nil {
		w.stop(func() error { return d.release(dev) })
		return nil, err
	}
	return d, nil
}

// load loads each family's module and looks up every manifest kernel. It
// runs on the worker's thread.
func (d *Device) load(ptx map[string]string) error {
	mods := map[string]cu.Module{}
	fams := kernelspec.Families()
	sort.Strings(fams)
	for _, fam := range fams {
		src, ok := ptx[fam]
		if !ok {
			return fmt.Errorf("cuda: no PTX embedded for kernel family %s (run go generate ./kernels/)", fam)
		}
		m, err := cu.LoadData(src)
		if err != nil {
			return cuErr(fmt.Sprintf("loading the PTX of kernel family %s on %s (the PTX is ISA 7.8 from CUDA 11.8: the driver must be R520 or newer)", fam, d.info.Name), err)
		}
		d.mods = append(d.mods, m)
		mods[fam] = m
	}
	for _, k := range kernelspec.Manifest {
		fn, err := mods[k.Family].Function(k.Name)
		if err != nil {
			return cuErr(fmt.Sprintf("kernel %s in the PTX of family %s", k.Name, k.Family), err)
		}
		d.fns[k.Name] = fn
	}
	return nil
}

// release frees the owned buffers, unloads the modules and releases the
// primary context. It runs on the worker's thread, last.
func (d *Device) release(dev cu.Device) error {
	var errs []error
	if err := cu.Synchronize(); err != nil {
		errs = append(errs, cuErr("synchronizing before close", err))
	}
	for b := range d.owned {
		if err := cu.MemFree(b.ptr); err != nil {
			errs = append(errs, cuErr("freeing a buffer", err))
		}
		b.released.Store(true)
	}
	clear(d.owned)
	for _, m := range d.mods {
		if err := m.Unload(); err != nil {
			errs = append(errs, cuErr("unloading a module", err))
		}
	}
	d.mods = nil
	if err := dev.ReleasePrimaryCtx(); err != nil {
		errs = append(errs, cuErr("releasing the primary context", err))
	}
	return errors.Join(errs...)
}

// Info describes the GPU.
func (d *Device) Info() device.Info { return d.info }

// Index returns the GPU's CUDA device ordinal.
func (d *Device) Index() int { return d.index }

// Alloc returns a buffer of n float32 or int32 elements (at least one
// element is allocated, so n may be 0). Float64 gives an error wrapping
// device.ErrUnsupported; too little memory an error wrapping
// device.ErrOutOfMemory.
func (d *Device) Alloc(t device.DType, n int) (device.Buffer, error) {
	b, err := d.alloc(t, n)
	if err != nil {
		return nil, err
	}
	return b, nil
}

func (d *Device) alloc(t device.DType, n int) (*Buffer, error) {
	if err := checkDType(t); err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, fmt.Errorf("cuda: negative buffer length %d", n)
	}
	if n > math.MaxInt64/8 {
		return nil, fmt.Errorf("%w: cuda: %d elements of %s", device.ErrOutOfMemory, n, t)
	}
	bytes := int64(max(n, 1)) * int64(t.Size())
	b := &Buffer{dev: d, dt: t, n: n, owned: true}
	err := d.w.do(func() error {
		p, err := cu.MemAlloc(bytes)
		if err != nil {
			return err
		}
		b.ptr = p
		d.owned[b] = struct{}{}
		return nil
	})
	if err != nil {
		if errors.Is(err, cu.OutOfMemory) {
			return nil, fmt.Errorf("%w: cuda: %d bytes (%d elements of %s) on %s", device.ErrOutOfMemory, bytes, n, t, d.info.Name)
		}
		if err == errClosed {
			return nil, err
		}
		return nil, cuErr(fmt.Sprintf("allocating %d bytes on %s", bytes, d.info.Name), err)
	}
	return b, nil
}

// checkDType accepts the dtypes the kernels use.
func checkDType(t device.DType) error {
	switch t {
	case device.Float32, device.Int32:
		return nil
	case device.Float64:
		return fmt.Errorf("%w: cuda: float64 buffers (the CUDA kernels are float32)", device.ErrUnsupported)
	}
	return fmt.Errorf("cuda: unknown dtype %v", t)
}

// Sync waits for all queued work and returns any error it raised. CUDA
// errors raised by a kernel (an illegal address, say) are sticky: the
// context is unusable afterwards and every later call fails.
func (d *Device) Sync() error {
	if err := d.w.do(cu.Synchronize); err != nil {
		if err == errClosed {
			return err
		}
		return cuErr("sync on "+d.info.Name, err)
	}
	return nil
}

// Close waits for queued work, frees every buffer Alloc made (wrapped
// buffers excepted), unloads the kernels and releases the context. Later
// calls on d, and on its buffers, return an error; Open makes a new Device.
// Closing twice is a no-op.
func (d *Device) Close() error {
	device.Closing(d)
	forget(d)
	dev, err := cu.GetDevice(d.index)
	if err != nil {
		return cuErr(fmt.Sprintf("device %d", d.index), err)
	}
	return d.w.stop(func() error { return d.release(dev) })
}
