package main

import "testing"

// TestRun runs the example: it fails when the greedy decoding is not both targets.
func TestRun(t *testing.T) {
	if err := run(); err != nil {
		t.Fatal(err)
	}
}
