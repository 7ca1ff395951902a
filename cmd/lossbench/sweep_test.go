package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/lossengine/lossengine/internal/losstest"
	"github.com/lossengine/lossengine/losses"
)

func runArgs(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestSweepHostJSON(t *testing.T) {
	code, out, errs := runArgs("-device", "host", "-loss", "cross_entropy,mse_loss", "-loss", "log_softmax,softmax,logsumexp",
		"-shape", "3x5", "-shape", "17", "-iters", "2", "-json")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errs)
	}
	var rows []struct {
		Loss      string   `json:"loss"`
		Shape     []int    `json:"shape"`
		Device    string   `json:"device"`
		Status    string   `json:"status"`
		Iters     int      `json:"iters"`
		Bytes     int64    `json:"bytes_per_call"`
		Seconds   *float64 `json:"seconds_per_call"`
		GBps      *float64 `json:"gb_per_s"`
		CopyGBps  *float64 `json:"copy_gb_per_s"`
		PctOfCopy *float64 `json:"pct_of_copy"`
		MaxDiff   *num     `json:"max_diff"`
	}
	if err := unmarshalLines(out, &rows); err != nil {
		t.Fatalf("bad NDJSON %q: %v", out, err)
	}
	// Row losses take 3x5 only; mse_loss takes both shapes.
	want := []string{"cross_entropy 3x5", "mse_loss 3x5", "mse_loss 17", "log_softmax 3x5", "softmax 3x5", "logsumexp 3x5"}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d: %s", len(rows), len(want), out)
	}
	for i, r := range rows {
		if got := r.Loss + " " + shapeString(r.Shape); got != want[i] {
			t.Errorf("row %d is %s, want %s", i, got, want[i])
		}
		if r.Status != "ok" || r.Device != "host" || r.Iters != 2 || r.Seconds == nil || r.GBps == nil ||
			r.CopyGBps == nil || r.PctOfCopy == nil || r.MaxDiff == nil || !(float64(*r.MaxDiff) < 1e-5) || r.Bytes <= 0 {
			t.Errorf("row %d: %+v", i, r)
		}
	}
	if rows[0].Bytes != 4*(2*15+3) {
		t.Errorf("cross_entropy 3x5 bytes %d, want %d", rows[0].Bytes, 4*(2*15+3))
	}
	if rows[2].Bytes != 16*17 {
		t.Errorf("mse_loss 17 bytes %d, want %d", rows[2].Bytes, 16*17)
	}
}

func TestSweepHostTable(t *testing.T) {
	code, out, errs := runArgs("-device", "host", "-loss", "mse_loss", "-shape", "1<<10", "-min-time", "5ms")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errs)
	}
	for _, s := range []string{"time/call", "GB/s", "copy GB/s", "% of copy", "max|diff|", "mse_loss  1024   host"} {
		if !strings.Contains(out, s) {
			t.Errorf("table lacks %q:\n%s", s, out)
		}
	}
}

func TestSweepMismatch(t *testing.T) {
	outputsHook = func(o [][]float32) { o[len(o)-1][0] += 1 }
	defer func() { outputsHook = nil }()
	code, out, _ := runArgs("-device", "host", "-loss", "cross_entropy", "-shape", "2x3", "-iters", "1")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(out, "MISMATCH") || strings.Contains(out, " us ") || strings.Contains(out, " ms ") {
		t.Fatalf("want MISMATCH and no time:\n%s", out)
	}
	code, out, _ = runArgs("-device", "host", "-loss", "mse_loss", "-shape", "4", "-iters", "1", "-json")
	if code != 1 || !strings.Contains(out, `"status":"MISMATCH"`) || !strings.Contains(out, `"seconds_per_call":null`) {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestSweepUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-loss", "nosuch"},
		{"-shape", "0x5"},
		{"-shape", "axb"},
		{"-shape", "2x3x4"},
		{"-loss", "cross_entropy", "-shape", "100"},
		{"-iters", "-1"},
		{"-tol", "-1"},
		{"-nosuchflag"},
		{"stray"},
	} {
		if code, _, _ := runArgs(args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	if code, _, _ := runArgs("-device", "nosuch", "-shape", "4", "-loss", "mse_loss"); code != 2 {
		t.Errorf("unknown device: exit %d, want 2", code)
	}
	if code, help, _ := runArgs("-h"); code != 0 || !strings.Contains(help, "4*(2*N*C + N)") {
		t.Errorf("-h: exit %d, help (stdout) lacks the byte model:\n%s", code, help)
	}
}

func TestParseShape(t *testing.T) {
	for in, want := range map[string][]int{"512x32000": {512, 32000}, "1048576": {1048576}, "1<<24": {1 << 24}, " 8 X 1<<17 ": {8, 1 << 17},
		"150x64x28x40": {150, 64, 28, 40}} {
		got, err := parseShape(in)
		if err != nil || !sameShape(got, want) {
			t.Errorf("parseShape(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

func TestSelectDefault(t *testing.T) {
	cases, err := selectCases(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cases {
		got = append(got, c.loss.name+" "+shapeString(c.shape))
	}
	want := "cross_entropy 512x32000,cross_entropy 64x1000,cross_entropy 4096x128,cross_entropy 8x131072," +
		"log_softmax 512x32000,ctc_loss 150x64x28x40,ctc_loss 150x64x5000x20," +
		"ctc_loss 1000x32x29x200,ctc_loss 3000x8x1000x1000,mse_loss 1048576,mse_loss 16777216"
	if strings.Join(got, ",") != want {
		t.Errorf("default sweep %v", got)
	}
}

// TestSweepPointwise times every elementwise loss on a small shape: each
// must match its float64 host reference, or the sweep exits 1.
func TestSweepPointwise(t *testing.T) {
	ew := losstest.Elementwise()
	if len(ew) < 17 {
		t.Fatalf("%d elementwise losses declared, want at least 17", len(ew))
	}
	cases, err := selectCases([]string{"pointwise"}, []string{"1003"})
	if err != nil || len(cases) != len(ew) {
		t.Fatalf("-loss pointwise: %d cases, %v", len(cases), err)
	}
	code, out, errs := runArgs("-loss", "pointwise", "-shape", "1003", "-iters", "2")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, d := range ew {
		if !strings.Contains(out, d.Name) {
			t.Errorf("no row for %s:\n%s", d.Name, out)
		}
	}
}

// The elementwise byte models: 4 words per element, 3 for the ±1-label
// losses (no grad_target), 6 for gaussian_nll_loss (var and its gradient).
func TestSweepPointwiseBytes(t *testing.T) {
	for name, want := range map[string]int{"mse_loss": 4, "binary_cross_entropy_with_logits": 4, "hinge": 3,
		"soft_margin_loss": 3, "gaussian_nll_loss": 6} {
		words, _ := pointwiseBytes(mustDecl(name))
		if words != want {
			t.Errorf("%s: %d words per element, want %d", name, words, want)
		}
		if b := findBenchLoss(name); b == nil || !strings.Contains(b.byteModel, fmt.Sprintf("4*%d*N bytes", want)) {
			t.Errorf("%s: byte model %+v", name, b)
		}
	}
	code, out, errs := runArgs("-device", "host", "-loss", "gaussian_nll_loss,hinge", "-shape", "3x5", "-iters", "1", "-json")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errs)
	}
	var rows []struct {
		Loss  string `json:"loss"`
		Bytes int64  `json:"bytes_per_call"`
	}
	if err := unmarshalLines(out, &rows); err != nil || len(rows) != 2 {
		t.Fatalf("bad JSON %q: %v", out, err)
	}
	if rows[0].Bytes != 4*6*15 || rows[1].Bytes != 4*3*15 {
		t.Errorf("rows %+v", rows)
	}
}

// TestSweepLossFuncs: every entry of lossFuncs is the function its
// declaration names, and every loss of the sweep has one.
func TestSweepLossesDeclared(t *testing.T) {
	for _, b := range benchLosses {
		name := b.name
		if name == "cross_entropy_probs" {
			name = "cross_entropy"
		}
		if _, ok := losses.Lookup(name); !ok {
			t.Errorf("sweep loss %s is not declared", b.name)
		}
	}
}

func TestRelDiff(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, tc := range []struct {
		got  []float32
		ref  []float64
		want float64
	}{
		{[]float32{1, 2}, []float64{1, 3}, 1.0 / 4},
		{[]float32{float32(nan)}, []float64{nan}, 0},
		{[]float32{float32(inf)}, []float64{inf}, 0},
		{[]float32{1}, []float64{nan}, inf},
		{[]float32{float32(nan)}, []float64{1}, inf},
		{[]float32{float32(-inf)}, []float64{inf}, inf},
		{[]float32{}, []float64{1}, inf},
	} {
		if got := relDiff(tc.got, tc.ref); got != tc.want {
			t.Errorf("relDiff(%v, %v) = %v, want %v", tc.got, tc.ref, got, tc.want)
		}
	}
}

func TestDevices(t *testing.T) {
	code, out, errs := runArgs("devices")
	if code != 0 || !strings.Contains(out, "host: compiled in") || !strings.Contains(out, "float64 true") {
		t.Fatalf("exit %d, stderr %q:\n%s", code, errs, out)
	}
	code, out, _ = runArgs("devices", "-json")
	var rows []deviceRow
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	found := false
	for _, r := range rows {
		if r.Backend == "host" {
			found = r.Compiled && len(r.Devices) == 1 && r.Devices[0].Name == "host"
		} else if len(r.Devices) == 0 && r.Error == "" {
			t.Errorf("backend %s: no devices and no reason", r.Backend)
		}
	}
	if !found {
		t.Errorf("no host row: %s", out)
	}
	if code, _, _ := runArgs("devices", "x"); code != 2 {
		t.Errorf("devices x: exit %d, want 2", code)
	}
	if code, out, _ := runArgs("help"); code != 0 || !strings.Contains(out, "lossbench eval") {
		t.Errorf("help: exit %d\n%s", code, out)
	}
}

func TestSweepCTC(t *testing.T) {
	code, out, errs := runArgs("-device", "host", "-loss", "ctc_loss", "-shape", "12x3x7x4", "-iters", "2", "-json")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errs)
	}
	var rows []struct {
		Status  string `json:"status"`
		Bytes   int64  `json:"bytes_per_call"`
		MaxDiff *num   `json:"max_diff"`
	}
	if err := unmarshalLines(out, &rows); err != nil || len(rows) != 1 {
		t.Fatalf("bad JSON %q: %v", out, err)
	}
	if r := rows[0]; r.Status != "ok" || r.Bytes != 8*12*3*7 || r.MaxDiff == nil || !(float64(*r.MaxDiff) < 1e-5) {
		t.Fatalf("row %+v", r)
	}
	// A 4-D shape fits only ctc_loss; a 3-D one nothing.
	if code, _, _ := runArgs("-loss", "mse_loss", "-shape", "2x3x4x5"); code != 2 {
		t.Errorf("mse_loss with a 4-D shape: exit %d, want 2", code)
	}
	if code, _, _ := runArgs("-loss", "ctc_loss", "-shape", "2x3"); code != 2 {
		t.Errorf("ctc_loss with a 2-D shape: exit %d, want 2", code)
	}
}
