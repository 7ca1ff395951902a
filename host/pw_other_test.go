//go:build !amd64 || purego

package host

import "testing"

// vecModes runs f once: without the vector loops, the unweighted float32
// chunks of the elementwise losses run the Go loops.
func vecModes(t *testing.T, f func(mode string)) { f("Go loops") }
