package main

import (
	"testing"

	"github.com/lossengine/lossengine/device"
)

// TestRun runs the example on the first device of every backend compiled
// in and present: it fails when the the device form differs from the slice form or misses its accuracy.
func TestRun(t *testing.T) {
	for _, b := range device.List() {
		if !b.Compiled || len(b.Devices) == 0 {
			continue
		}
		name := b.Devices[0].Name
		t.Run(name, func(t *testing.T) {
			if err := run(name); err != nil {
				t.Fatal(err)
			}
		})
	}
}
