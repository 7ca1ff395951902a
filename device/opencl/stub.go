//go:build !opencl

package opencl

import "github.com/lossengine/lossengine/device"

func init() { device.RegisterMissing("opencl", "opencl") }
