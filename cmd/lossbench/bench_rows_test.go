package main

import (
	"strings"
	"testing"
)

var rowBenchNames = []string{"cross_entropy_probs", "nll_loss", "focal_loss", "multi_margin_loss", "categorical_hinge", "distill_kl"}

// TestSweepRowLosses runs every row loss of the sweep on the host, at a
// shape past a block multiple, and requires each to be checked and timed.
func TestSweepRowLosses(t *testing.T) {
	code, out, errs := runArgs("-device", "host", "-loss", strings.Join(rowBenchNames, ","), "-shape", "3x300,1x1", "-iters", "2", "-json")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errs)
	}
	var rows []struct {
		Loss    string   `json:"loss"`
		Shape   []int    `json:"shape"`
		Status  string   `json:"status"`
		Bytes   int64    `json:"bytes_per_call"`
		Seconds *float64 `json:"seconds_per_call"`
		MaxDiff *num     `json:"max_diff"`
	}
	if err := unmarshalLines(out, &rows); err != nil {
		t.Fatalf("bad NDJSON %q: %v", out, err)
	}
	if len(rows) != 2*len(rowBenchNames) {
		t.Fatalf("%d rows, want %d: %s", len(rows), 2*len(rowBenchNames), out)
	}
	for i, r := range rows {
		if r.Loss != rowBenchNames[i/2] || r.Status != "ok" || r.Seconds == nil || r.MaxDiff == nil ||
			!(float64(*r.MaxDiff) < 1e-5) || r.Bytes <= 0 {
			t.Errorf("row %d: %+v", i, r)
		}
	}
	// Byte models at 3x300.
	want := map[string]int64{"cross_entropy_probs": 4 * 3 * 900, "nll_loss": 4 * (900 + 6), "focal_loss": 4 * (1800 + 3),
		"multi_margin_loss": 4 * (1800 + 3), "categorical_hinge": 4 * 3 * 900, "distill_kl": 4 * 3 * 900}
	for _, r := range rows {
		if r.Shape[1] == 300 && r.Bytes != want[r.Loss] {
			t.Errorf("%s 3x300: %d bytes, want %d", r.Loss, r.Bytes, want[r.Loss])
		}
	}
}

// The row losses are not part of the default sweep, and each has its
// byte model in the help text.
func TestSweepRowLossesListed(t *testing.T) {
	for _, name := range rowBenchNames {
		b := findBenchLoss(name)
		if b == nil || !b.rows || b.inDefault || b.byteModel == "" || len(b.shapes) == 0 {
			t.Errorf("%s: %+v", name, b)
		}
	}
	code, help, _ := runArgs("-h")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, name := range rowBenchNames {
		if !strings.Contains(help, name) {
			t.Errorf("help lacks %s", name)
		}
	}
}

// A result that disagrees with the host reference is not timed.
func TestSweepRowLossMismatch(t *testing.T) {
	outputsHook = func(o [][]float32) { o[1][0] += 1 }
	defer func() { outputsHook = nil }()
	code, out, _ := runArgs("-device", "host", "-loss", "focal_loss", "-shape", "2x3", "-iters", "1")
	if code != 1 || !strings.Contains(out, "MISMATCH") {
		t.Fatalf("exit %d, output %s", code, out)
	}
}
