package main

import (
	"testing"

	"github.com/lossengine/lossengine/examples/internal/extest"
)

// TestRun runs the example on the first device of every backend compiled
// in and present: it fails when the device form differs from the slice
// form or misses its accuracy.
func TestRun(t *testing.T) { extest.OnEveryDevice(t, run) }
