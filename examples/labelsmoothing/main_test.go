package main

import "testing"

// TestRun runs the example: it fails when the classifier misses its accuracy or loss target.
func TestRun(t *testing.T) {
	if err := run(); err != nil {
		t.Fatal(err)
	}
}
