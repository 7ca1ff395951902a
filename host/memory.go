package host

import (
	"fmt"
	"sync/atomic"

	"github.com/lossengine/lossengine/device"
)

// The host memory budget. A real out-of-memory is a fatal error in Go (no
// recover), so the host device refuses, before allocating, any buffer
// larger than the budget, and package losses refuses a call whose outputs
// or workspace would exceed it: an oversized request becomes an error
// wrapping device.ErrOutOfMemory that says how many bytes it needed,
// instead of a crash.
//
// The default budget is half of the machine's physical memory (1 TiB where
// that cannot be read); SetMemoryBudget changes it.

var budget atomic.Int64

func init() {
	b := physicalMemory() / 2
	if b <= 0 {
		b = 1 << 40
	}
	budget.Store(b)
}

// MemoryBudget returns the largest number of bytes one buffer, or the
// outputs of one call, may take on the host.
func MemoryBudget() int64 { return budget.Load() }

// SetMemoryBudget sets the budget (bytes > 0) and returns the previous one.
func SetMemoryBudget(bytes int64) int64 {
	if bytes <= 0 {
		return budget.Load()
	}
	return budget.Swap(bytes)
}

// CheckBudget returns an error wrapping device.ErrOutOfMemory when bytes
// exceed the budget; what names the request.
func CheckBudget(what string, bytes int64) error {
	if b := budget.Load(); bytes > b || bytes < 0 {
		return fmt.Errorf("%w: %s: %d bytes, over the host memory budget of %d bytes (host.SetMemoryBudget)",
			device.ErrOutOfMemory, what, bytes, b)
	}
	return nil
}
