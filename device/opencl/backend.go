//go:build opencl

package opencl

import (
	"errors"
	"fmt"
	"sync"

	"github.com/jgillich/go-opencl/cl"
	"github.com/lossengine/lossengine/device"
)

func init() { device.Register(backend{}) }

// backend is the device.Backend registered as "opencl".
type backend struct{}

func (backend) Name() string { return "opencl" }

func (backend) Devices() ([]device.Info, error) {
	devs, err := enumerate()
	if err != nil {
		return nil, err
	}
	infos := make([]device.Info, len(devs))
	for i, d := range devs {
		infos[i] = d.info
	}
	return infos, nil
}

func (backend) Open(index int) (device.Device, error) {
	devs, err := enumerate()
	if err != nil {
		return nil, err
	}
	if index < 0 || index >= len(devs) {
		return nil, fmt.Errorf("opencl: %w: %d device(s), index %d asked for", device.ErrNotPresent, len(devs), index)
	}
	return open(devs[index])
}

// found is one enumerated device.
type found struct {
	dev      *cl.Device
	info     device.Info
	maxAlloc int64
	maxGroup int
}

var (
	enumOnce sync.Once
	enumDevs []found
	enumErr  error
)

// clPlatformNotFound is CL_PLATFORM_NOT_FOUND_KHR, which ICD loaders return
// when no platform is installed.
const clPlatformNotFound = cl.ErrOther(-1001)

// enumerate lists the GPU, accelerator and CPU devices of every platform,
// platforms in the order the runtime reports them and devices in their
// platform's order. The list is made once per process.
func enumerate() ([]found, error) {
	enumOnce.Do(func() { enumDevs, enumErr = scan() })
	return enumDevs, enumErr
}

func scan() (out []found, err error) {
	// go-opencl panics when an info query fails; keep that inside.
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("opencl: querying the platforms: %v", r)
		}
	}()
	plats, err := cl.GetPlatforms()
	if errors.Is(err, clPlatformNotFound) || (err == nil && len(plats) == 0) {
		return nil, errors.New("opencl: no OpenCL platform installed")
	}
	if err != nil {
		return nil, fmt.Errorf("opencl: listing platforms: %w", err)
	}
	const usable = cl.DeviceTypeGPU | cl.DeviceTypeAccelerator | cl.DeviceTypeCPU
	for _, p := range plats {
		devs, err := p.GetDevices(cl.DeviceTypeAll)
		if errors.Is(err, cl.ErrDeviceNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("opencl: listing the devices of platform %q: %w", p.Name(), err)
		}
		for _, d := range devs {
			if d.Type()&usable == 0 || !d.Available() || !d.CompilerAvailable() {
				continue
			}
			kind := device.CPU
			if d.Type()&cl.DeviceTypeGPU != 0 {
				kind = device.GPU
			}
			out = append(out, found{
				dev: d,
				info: device.Info{
					Name:        fmt.Sprintf("opencl:%d", len(out)),
					Backend:     "opencl",
					Description: p.Name() + ": " + d.Name(),
					Kind:        kind,
					Memory:      d.GlobalMemSize(),
					ComputeUnit: d.MaxComputeUnits(),
					Float64:     false,
				},
				maxAlloc: d.MaxMemAllocSize(),
				maxGroup: d.MaxWorkGroupSize(),
			})
		}
	}
	return out, nil
}
