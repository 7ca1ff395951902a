package main

import (
	"testing"

	"github.com/lossengine/lossengine/examples/internal/extest"
)

// TestRun runs the example on the first device of every backend compiled
// in and present: it fails when the classifier misses its accuracy or loss target.
func TestRun(t *testing.T) { extest.OnEveryDevice(t, run) }
