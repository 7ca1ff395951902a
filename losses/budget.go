package losses

import (
	"fmt"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
)

// checkWorkspace refuses, before anything is allocated, a call whose
// temporary device memory (bytes in all) exceeds what dev can give: the
// host memory budget (host.SetMemoryBudget) on the host, and the memory
// the device reports (device.Info.Memory) on an accelerator. The error
// wraps device.ErrOutOfMemory and says how many bytes the call needed.
func checkWorkspace(dev device.Device, loss string, bytes int64) error {
	if _, ok := dev.(*host.Device); ok {
		return host.CheckBudget(fmt.Sprintf("losses: %s: its workspace", loss), bytes)
	}
	if m := dev.Info().Memory; bytes < 0 || (m > 0 && bytes > m) {
		return fmt.Errorf("%w: losses: %s: its workspace needs %d bytes, more than the %d bytes of %s",
			device.ErrOutOfMemory, loss, bytes, m, dev.Info().Name)
	}
	return nil
}
