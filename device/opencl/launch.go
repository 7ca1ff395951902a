//go:build opencl

package opencl

import (
	"errors"
	"fmt"

	"github.com/jgillich/go-opencl/cl"
	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
	"github.com/lossengine/lossengine/kernels"
)

// BuildOptions are the options the kernel program is compiled with: OpenCL
// C 1.2 and no fast-math flags, so results follow IEEE float32.
const BuildOptions = "-cl-std=CL1.2"

// Launch queues the kernel on a grid of g.Blocks work-groups of
// g.Threads (= kernelspec.BlockSize) work-items. Arguments are checked
// against the manifest first, kinds and sizes (device.ErrBadArguments);
// buffers must be live buffers of this device (device.ErrWrongDevice,
// device.ErrReleased).
// A grid of no blocks queues nothing. The program is compiled at the first
// launch.
func (d *Device) Launch(name string, g device.Grid, args ...any) error {
	k, err := kernelspec.CheckArgs(name, args, isBuffer)
	if err != nil {
		return fmt.Errorf("opencl: %w: %w", device.ErrBadArguments, err)
	}
	bufs := make([]*Buffer, len(args))
	for i, a := range k.Args {
		if a.Kind != kernelspec.FloatBuf && a.Kind != kernelspec.IntBuf {
			continue
		}
		b, err := d.own(args[i].(device.Buffer))
		if err != nil {
			return fmt.Errorf("opencl: %s argument %d (%s): %w", name, i, a.Name, err)
		}
		if a.Kind == kernelspec.FloatBuf && b.dt != device.Float32 {
			return fmt.Errorf("opencl: %w: %s argument %d (%s) is %s, the kernels take float32",
				device.ErrBadArguments, name, i, a.Name, b.dt)
		}
		bufs[i] = b
	}
	if g.Blocks < 0 {
		return fmt.Errorf("opencl: %w: %s: negative grid of %d blocks", device.ErrBadArguments, name, g.Blocks)
	}
	if err := kernelspec.CheckSizes(k, g.Blocks, args); err != nil {
		return fmt.Errorf("opencl: %w: %w", device.ErrBadArguments, err)
	}
	if g.Blocks == 0 {
		return nil
	}
	if g.Threads != kernelspec.BlockSize {
		return fmt.Errorf("opencl: %w: %s: %d threads per block, the kernels need %d",
			device.ErrBadArguments, name, g.Threads, kernelspec.BlockSize)
	}

	d.life.RLock()
	defer d.life.RUnlock()
	if d.closed {
		return errClosed
	}
	d.build.Do(d.compile)
	if d.buildErr != nil {
		return d.buildErr
	}
	d.launch.Lock()
	defer d.launch.Unlock()
	kern, err := d.kernel(name)
	if err != nil {
		return err
	}
	for i, a := range k.Args {
		var err error
		switch a.Kind {
		case kernelspec.FloatBuf, kernelspec.IntBuf:
			err = kern.SetArgBuffer(i, bufs[i].mem)
		case kernelspec.Int:
			err = kern.SetArgInt32(i, args[i].(int32))
		case kernelspec.Real:
			err = kern.SetArgFloat32(i, float32(args[i].(float64)))
		}
		if err != nil {
			return fmt.Errorf("opencl: %s: setting argument %d (%s): %w", name, i, a.Name, err)
		}
	}
	ev, err := d.queue.EnqueueNDRangeKernel(kern, nil, []int{g.Blocks * g.Threads}, []int{g.Threads}, nil)
	release(ev)
	return wrapErr("launching "+name, err)
}

// isBuffer tells kernelspec.CheckArgs whether v is a buffer, and an int32 one.
func isBuffer(v any) (isBuf, isInt bool) {
	switch b := v.(type) {
	case *Buffer:
		if b == nil {
			return false, false
		}
		return true, b.dt == device.Int32
	case device.Buffer:
		defer func() { _ = recover() }() // a typed nil of another backend
		return true, b.DType() == device.Int32
	}
	return false, false
}

// compile builds the program for the device; run once, by Launch.
func (d *Device) compile() {
	prog, err := d.ctx.CreateProgramWithSource([]string{kernels.OpenCLSource()})
	if err != nil {
		d.buildErr = fmt.Errorf("opencl: creating the kernel program on %s: %w", d.info.Name, err)
		return
	}
	if err := prog.BuildProgram([]*cl.Device{d.dev}, BuildOptions); err != nil {
		prog.Release()
		var be cl.BuildError
		if errors.As(err, &be) {
			d.buildErr = fmt.Errorf("opencl: building the kernels for %s (%s) failed; build log:\n%s",
				d.info.Name, d.info.Description, string(be))
			return
		}
		d.buildErr = fmt.Errorf("opencl: building the kernels for %s: %w", d.info.Name, err)
		return
	}
	d.program = prog
}

// kernel returns the cached kernel object for name; d.launch must be held.
func (d *Device) kernel(name string) (*cl.Kernel, error) {
	if k, ok := d.kernels[name]; ok {
		return k, nil
	}
	k, err := d.program.CreateKernel(name)
	if err != nil {
		return nil, fmt.Errorf("opencl: creating kernel %s: %w", name, err)
	}
	d.kernels[name] = k
	return k, nil
}
