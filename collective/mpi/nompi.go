//go:build !mpi

package mpi

import (
	"fmt"

	"github.com/lossengine/lossengine/collective"
	"github.com/lossengine/lossengine/device"
)

// ErrNotCompiled is wrapped by every function of this package in a build
// without the mpi tag.
var ErrNotCompiled = fmt.Errorf("mpi: built without the mpi build tag: %w", device.ErrNotCompiled)

// Init returns an error wrapping ErrNotCompiled (build with -tags mpi).
func Init() error { return ErrNotCompiled }

// Finalize returns an error wrapping ErrNotCompiled.
func Finalize() error { return ErrNotCompiled }

// World returns an error wrapping ErrNotCompiled.
func World(dev device.Device) (collective.Communicator, error) { return nil, ErrNotCompiled }
