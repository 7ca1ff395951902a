//go:build cuda

package cuda

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"sync"

	"gorgonia.org/cu"
)

// errClosed is returned by every call on a closed Device.
var errClosed = errors.New("cuda: device is closed")

// WorkerEnv names the environment variable that, set to 1 when a device is
// opened, sends all of the device's driver calls to its locked goroutine
// instead of running them on the caller's thread (see the package
// documentation).
const WorkerEnv = "LOSSENGINE_CUDA_WORKER"

// worker runs a device's driver calls, one at a time, with the device's
// primary context current. It owns a goroutine locked to an OS thread on
// which the context is current; that goroutine retains the context when
// the device opens and releases it when the device closes. In between,
// do runs each call either on that goroutine (locked mode) or on the
// caller's goroutine, locked to its thread for the call, with the context
// pushed before and popped after (direct mode, the default).
type worker struct {
	jobs   chan func()
	mu     sync.RWMutex // held for reading while a call is in flight, for writing by stop
	closed bool
	locked bool         // locked mode
	ctx    cu.CUContext // set before startWorker returns
	serial sync.Mutex   // one call at a time in direct mode
}

// startWorker starts the locked goroutine, which retains dev's primary
// context and makes it current on its thread.
func startWorker(dev cu.Device) (*worker, error) {
	w := &worker{jobs: make(chan func()), locked: os.Getenv(WorkerEnv) == "1"}
	ready := make(chan error, 1)
	go w.run(dev, ready)
	if err := <-ready; err != nil {
		return nil, err
	}
	return w, nil
}

func (w *worker) run(dev cu.Device, ready chan<- error) {
	// The goroutine never unlocks: when it returns, its thread exits with
	// it, and the context stops being current there.
	runtime.LockOSThread()
	ctx, err := dev.RetainPrimaryCtx()
	if err != nil {
		ready <- cuErr(fmt.Sprintf("retaining the primary context of device %d", int(dev)), err)
		return
	}
	if err := cu.SetCurrentContext(ctx); err != nil {
		dev.ReleasePrimaryCtx()
		ready <- cuErr(fmt.Sprintf("making the context of device %d current", int(dev)), err)
		return
	}
	w.ctx = ctx
	ready <- nil
	for job := range w.jobs {
		job()
	}
}

// do runs fn with the context current, after every call already in flight,
// and returns its error. A panic in fn becomes an error.
func (w *worker) do(fn func() error) error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return errClosed
	}
	if w.locked {
		errc := make(chan error, 1)
		w.jobs <- func() { errc <- protect(fn) }
		return <-errc
	}
	w.serial.Lock()
	defer w.serial.Unlock()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cu.PushCurrentCtx(w.ctx); err != nil {
		return err
	}
	defer cu.PopCurrentCtx() // the thread gets its previous context back
	return protect(fn)
}

// stop runs final on the locked goroutine, after every call in flight, and
// then ends the goroutine. Later calls to do return errClosed; stopping
// twice is a no-op.
func (w *worker) stop(final func() error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	errc := make(chan error, 1)
	w.jobs <- func() { errc <- protect(final) }
	err := <-errc
	w.closed = true
	close(w.jobs)
	return err
}

// isClosed reports whether stop has run.
func (w *worker) isClosed() bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.closed
}

func protect(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cuda: panic in a driver call: %v", r)
		}
	}()
	return fn()
}

// cuErr wraps a driver error as "cuda: what: Name (CUresult N)". The
// result stays testable with errors.Is (e.g. against cu.OutOfMemory).
func cuErr(what string, err error) error {
	if v := reflect.ValueOf(err); v.Kind() == reflect.Int {
		return fmt.Errorf("cuda: %s: %w (CUresult %d)", what, err, v.Int())
	}
	return fmt.Errorf("cuda: %s: %w", what, err)
}
