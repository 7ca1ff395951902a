package device

import "sync"

// Packages that keep per-device state (the losses package's scratch
// buffers) register a function with OnClose; every backend's Close calls
// Closing before it frees the device, so that state goes with the device.

var (
	hookMu sync.Mutex
	hooks  = map[Device][]func(){}
)

// OnClose registers f to run when d closes, before d frees its resources.
func OnClose(d Device, f func()) {
	hookMu.Lock()
	defer hookMu.Unlock()
	hooks[d] = append(hooks[d], f)
}

// Closing runs, once, the functions registered for d with OnClose and
// forgets them. Every backend's Close calls it first.
func Closing(d Device) {
	hookMu.Lock()
	fs := hooks[d]
	delete(hooks, d)
	hookMu.Unlock()
	for _, f := range fs {
		f()
	}
}
