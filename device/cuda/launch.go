//go:build cuda

package cuda

import (
	"fmt"
	"math"
	"reflect"
	"unsafe"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
	"gorgonia.org/cu"
)

// Launch queues kernel name on grid.Blocks blocks of kernelspec.BlockSize
// threads, on the context's stream, and returns once it is queued (or, with
// LOSSENGINE_CUDA_SYNC=1, once it has run). Arguments are checked against
// the manifest first: buffers must be live Buffers of d, float buffers
// float32, and every buffer as long as its size rule asks
// (kernelspec.CheckSizes). A grid of 0 blocks queues nothing.
func (d *Device) Launch(name string, grid device.Grid, args ...any) error {
	k, err := kernelspec.CheckArgs(name, args, isBuffer)
	if err != nil {
		return fmt.Errorf("%w: cuda: %v", device.ErrBadArguments, err)
	}
	if grid.Threads != kernelspec.BlockSize {
		return fmt.Errorf("%w: cuda: %s: %d threads per block, the kernels need %d", device.ErrBadArguments, name, grid.Threads, kernelspec.BlockSize)
	}
	if grid.Blocks < 0 || grid.Blocks > math.MaxInt32 {
		return fmt.Errorf("%w: cuda: %s: %d blocks", device.ErrBadArguments, name, grid.Blocks)
	}
	// One 8-byte slot per parameter, holding a value of the kernel
	// parameter's type at its start: cu's Launch copies 8 bytes from each
	// pointer, and the driver reads the parameter's size from there.
	slots := make([]uint64, len(args))
	params := make([]unsafe.Pointer, len(args))
	for i, a := range k.Args {
		p := unsafe.Pointer(&slots[i])
		params[i] = p
		switch a.Kind {
		case kernelspec.FloatBuf, kernelspec.IntBuf:
			b, err := d.own(args[i].(device.Buffer))
			if err != nil {
				return fmt.Errorf("%s argument %d (%s): %w", name, i, a.Name, err)
			}
			if a.Kind == kernelspec.FloatBuf && b.dt != device.Float32 {
				return fmt.Errorf("%w: cuda: %s argument %d (%s) is %s, the CUDA kernels take float32", device.ErrBadArguments, name, i, a.Name, b.dt)
			}
			*(*cu.DevicePtr)(p) = b.ptr
		case kernelspec.Int:
			*(*int32)(p) = args[i].(int32)
		case kernelspec.Real:
			*(*float32)(p) = float32(args[i].(float64))
		}
	}
	if err := kernelspec.CheckSizes(k, grid.Blocks, args); err != nil {
		return fmt.Errorf("%w: cuda: %v", device.ErrBadArguments, err)
	}
	if grid.Blocks == 0 {
		return nil
	}
	fn, ok := d.fns[name]
	if !ok {
		return fmt.Errorf("cuda: kernel %s is not loaded on %s", name, d.info.Name)
	}
	err = d.w.do(func() error {
		if err := fn.Launch(grid.Blocks, 1, 1, kernelspec.BlockSize, 1, 1, 0, cu.Stream{}, params); err != nil {
			return err
		}
		if d.syncLaunch {
			return cu.Synchronize()
		}
		return nil
	})
	if err != nil && err != errClosed {
		return cuErr(fmt.Sprintf("launching %s on %d blocks on %s", name, grid.Blocks, d.info.Name), err)
	}
	return err
}

// isBuffer tells kernelspec.CheckArgs whether v is a buffer and whether it
// holds int32.
func isBuffer(v any) (isBuf, isInt bool) {
	b, ok := v.(device.Buffer)
	if !ok || b == nil {
		return false, false
	}
	if r := reflect.ValueOf(b); r.Kind() == reflect.Pointer && r.IsNil() {
		return false, false
	}
	return true, b.DType() == device.Int32
}
