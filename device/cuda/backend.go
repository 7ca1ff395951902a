//go:build cuda

package cuda

import (
	"fmt"
	"sync"

	"github.com/lossengine/lossengine/device"
	"gorgonia.org/cu"
)

func init() { device.Register(backend{}) }

// backend is the device.Backend registered as "cuda".
type backend struct{}

func (backend) Name() string { return "cuda" }

// Devices lists one Info per GPU, named "cuda:0", "cuda:1", ...
func (backend) Devices() ([]device.Info, error) {
	n, err := cu.NumDevices()
	if err != nil {
		return nil, cuErr("counting devices", err)
	}
	infos := make([]device.Info, 0, n)
	for i := 0; i < n; i++ {
		in, err := deviceInfo(i)
		if err != nil {
			return nil, err
		}
		infos = append(infos, in)
	}
	return infos, nil
}

func (backend) Open(index int) (device.Device, error) {
	d, err := Open(index)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// deviceInfo queries GPU index (no context needed).
func deviceInfo(index int) (device.Info, error) {
	dev, err := cu.GetDevice(index)
	if err != nil {
		return device.Info{}, cuErr(fmt.Sprintf("device %d", index), err)
	}
	name, err := dev.Name()
	if err != nil {
		return device.Info{}, cuErr(fmt.Sprintf("name of device %d", index), err)
	}
	major, err := dev.Attribute(cu.ComputeCapabilityMajor)
	if err != nil {
		return device.Info{}, cuErr(fmt.Sprintf("compute capability of device %d", index), err)
	}
	minor, err := dev.Attribute(cu.ComputeCapabilityMinor)
	if err != nil {
		return device.Info{}, cuErr(fmt.Sprintf("compute capability of device %d", index), err)
	}
	mem, err := dev.TotalMem()
	if err != nil {
		return device.Info{}, cuErr(fmt.Sprintf("memory of device %d", index), err)
	}
	sms, err := dev.Attribute(cu.MultiprocessorCount)
	if err != nil {
		return device.Info{}, cuErr(fmt.Sprintf("multiprocessors of device %d", index), err)
	}
	return device.Info{
		Name:        fmt.Sprintf("cuda:%d", index),
		Backend:     "cuda",
		Description: fmt.Sprintf("%s (compute capability %d.%d)", name, major, minor),
		Kind:        device.GPU,
		Memory:      mem,
		ComputeUnit: sms,
		Float64:     false,
	}, nil
}

var (
	openMu sync.Mutex
	opened = map[int]*Device{}
)

// Open opens GPU index, or returns the Device already open for it: all
// callers share one Device (and its context, modules and thread) per GPU
// until it is closed.
func Open(index int) (*Device, error) {
	openMu.Lock()
	defer openMu.Unlock()
	if d := opened[index]; d != nil {
		return d, nil
	}
	n, err := cu.NumDevices()
	if err != nil {
		return nil, cuErr("counting devices", err)
	}
	if index < 0 || index >= n {
		return nil, fmt.Errorf("%w: cuda: device %d asked for, %d present", device.ErrNotPresent, index, n)
	}
	info, err := deviceInfo(index)
	if err != nil {
		return nil, err
	}
	d, err := newDevice(index, info)
	if err != nil {
		return nil, err
	}
	opened[index] = d
	return d, nil
}

// forget drops d from the cache of open devices.
func forget(d *Device) {
	openMu.Lock()
	defer openMu.Unlock()
	if opened[d.index] == d {
		delete(opened, d.index)
	}
}

// Backend returns the device.Backend this package registers as "cuda". The
// CUDA plugin (package device/cuda/plugin) exports it for the loader in
// package device/cudaload.
func Backend() device.Backend { return backend{} }
