//go:build mpi

package mpi

import (
	"fmt"

	"github.com/lossengine/lossengine/device"
)

// ErrNotCompiled is wrapped by every function of this package in a build
// without the mpi tag (never in this build).
var ErrNotCompiled = fmt.Errorf("mpi: built without the mpi build tag: %w", device.ErrNotCompiled)
