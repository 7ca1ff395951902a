package main

import (
	"testing"

	"github.com/lossengine/lossengine/examples/internal/extest"
)

// TestRun runs the example on the first device of every backend compiled
// in and present: it fails when the fit misses its target.
func TestRun(t *testing.T) { extest.OnEveryDevice(t, run) }
