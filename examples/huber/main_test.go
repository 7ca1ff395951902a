package main

import "testing"

// TestRun runs the example: it fails when the fit misses its target.
func TestRun(t *testing.T) {
	if err := run(); err != nil {
		t.Fatal(err)
	}
}
