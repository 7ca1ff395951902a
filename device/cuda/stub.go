//go:build !cuda

package cuda

import "github.com/lossengine/lossengine/device"

func init() { device.RegisterMissing("cuda", "cuda") }
