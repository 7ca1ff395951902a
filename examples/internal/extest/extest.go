// Package extest runs an example program on every device present, for the
// examples' tests.
package extest

import (
	"testing"

	"github.com/lossengine/lossengine/device"
)

// OnEveryDevice calls run with the name of the first device of every
// backend compiled in and present, each as a subtest that fails with run's
// error.
func OnEveryDevice(t *testing.T, run func(device string) error) {
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
