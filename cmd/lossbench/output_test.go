package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// unmarshalLines decodes NDJSON: each line alone is one JSON object,
// appended to *dst (a pointer to a slice).
func unmarshalLines(s string, dst any) error {
	sv := reflect.ValueOf(dst).Elem()
	for i, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if !strings.HasPrefix(l, "{") || !strings.HasSuffix(l, "}") {
			return fmt.Errorf("line %d is not one JSON object: %q", i+1, l)
		}
		v := reflect.New(sv.Type().Elem())
		if err := json.Unmarshal([]byte(l), v.Interface()); err != nil {
			return fmt.Errorf("line %d: %w", i+1, err)
		}
		sv.Set(reflect.Append(sv, v.Elem()))
	}
	return nil
}

// ndRow is a row of -json output as a reader decodes it.
type ndRow struct {
	Loss      string   `json:"loss"`
	Shape     []int    `json:"shape"`
	Status    string   `json:"status"`
	Seconds   *float64 `json:"seconds_per_call"`
	MaxDiff   *num     `json:"max_diff"`
	HeapBytes int64    `json:"heap_bytes"`
}

// logWriter records, in one ordered log, what was written to stdout and
// to stderr.
type logWriter struct {
	log  *[]string
	name string
}

func (w logWriter) Write(p []byte) (int, error) {
	*w.log = append(*w.log, w.name+": "+string(p))
	return len(p), nil
}

// TestSweepNDJSON: -json (also spelt --json) writes one object per case
// on its own line, each written before the next case starts, so that a
// killed run keeps its rows.
func TestSweepNDJSON(t *testing.T) {
	var log []string
	code := run([]string{"-device", "host", "--json", "-loss", "mse_loss,cross_entropy", "-shape", "3x5,7", "-iters", "1"},
		strings.NewReader(""), logWriter{&log, "stdout"}, logWriter{&log, "stderr"})
	require.Equal(t, 0, code, "%q", log)
	var rows []ndRow
	var stdout strings.Builder
	objects := 0
	for _, e := range log {
		if s, ok := strings.CutPrefix(e, "stdout: "); ok {
			stdout.WriteString(s)
			objects++
			require.True(t, strings.HasSuffix(s, "\n"), "an object is written with its newline: %q", s)
		}
	}
	require.NoError(t, unmarshalLines(stdout.String(), &rows))
	require.Len(t, rows, 3) // mse_loss 3x5, mse_loss 7, cross_entropy 3x5
	require.Equal(t, 3, objects, "one write per row")
	for _, r := range rows {
		require.Equal(t, "ok", r.Status)
		require.NotNil(t, r.Seconds)
		require.NotNil(t, r.MaxDiff)
	}
	// The first row is out before the second case begins.
	first, second := -1, -1
	for i, e := range log {
		if first < 0 && strings.HasPrefix(e, "stdout: {") {
			first = i
		}
		if second < 0 && strings.HasPrefix(e, "stderr: [2/3]") {
			second = i
		}
	}
	require.True(t, first >= 0 && second > first, "row 1 at %d, case 2 begins at %d: %q", first, second, log)
}

// TestProgressOnStderr: progress lines go to stderr, one per case with
// its result; stdout holds the table alone; -q silences stderr.
func TestProgressOnStderr(t *testing.T) {
	code, out, errs := runArgs("-device", "host", "-loss", "mse_loss,log_softmax", "-shape", "4x6", "-iters", "1")
	require.Equal(t, 0, code, errs)
	require.NotContains(t, out, "[1/2]")
	lines := strings.Split(strings.TrimSuffix(errs, "\n"), "\n")
	require.Len(t, lines, 2, errs)
	require.Regexp(t, `^\[1/2\] mse_loss 4x6 \.\.\. ok .* of copy \([0-9.]+s\)$`, lines[0])
	require.Regexp(t, `^\[2/2\] log_softmax 4x6 \.\.\. ok `, lines[1])

	code, out, errs = runArgs("-device", "host", "-loss", "mse_loss", "-shape", "4", "-iters", "1", "-q")
	require.Equal(t, 0, code)
	require.Empty(t, errs)
	require.Contains(t, out, "mse_loss")
}

// TestProgressTerminal: on a terminal, one status line redrawn in place
// (carriage returns), each finished case printed above it, and the line
// cleared at the end.
func TestProgressTerminal(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, 4, false, true)
	clock := p.start
	p.now = func() time.Time { return clock }
	p.width, p.tick = 8, 0
	p.begin(0, "a 1")
	require.Equal(t, "[>       ] 0/4  a 1  0.0s", b.String())
	clock = clock.Add(65 * time.Second)
	p.end(0, "a 1", "ok")
	p.begin(1, "b 2")
	require.Contains(t, b.String(), "\ra 1 ok\n")
	require.True(t, strings.HasSuffix(b.String(), "[==>     ] 1/4  b 2  1m05s"), "%q", b.String())
	for i := 1; i < 4; i++ {
		p.end(i, "x", "ok")
	}
	p.done()
	last := b.String()[strings.LastIndex(b.String(), "\n")+1:]
	require.Empty(t, strings.TrimSpace(strings.ReplaceAll(last, "\r", "")), "the status line is cleared: %q", last)
	require.Nil(t, newProgress(&b, 4, true, true), "-q")

	// During a long case the elapsed time is redrawn.
	var tb syncBuffer
	p = newProgress(&tb, 2, false, true)
	p.tick = 5 * time.Millisecond
	p.begin(0, "slow 1")
	time.Sleep(60 * time.Millisecond)
	p.end(0, "slow 1", "ok")
	p.done()
	require.Greater(t, strings.Count(tb.String(), "slow 1  "), 2, "%q", tb.String())
	require.False(t, isTerminal(&b))
}

// syncBuffer is a bytes.Buffer safe for one writer goroutine and a
// reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestTableAligned: every column of the table starts at the same offset
// on every line, after at least two spaces, and no line ends in spaces.
func TestTableAligned(t *testing.T) {
	sec, gb, cp, pct := 1.5e-3, 12.25, 40.5, 30.25
	rows := []sweepRow{
		{Loss: "mse_loss", Shape: []int{1024}, Device: "host", Status: "ok", Seconds: &sec, GBps: &gb, CopyGBps: &cp,
			PctOfCopy: &pct, MaxDiff: &outNum{v: 1e-9, bits: 64}},
		{Loss: "triplet_margin_with_distance_loss", Shape: []int{65536, 128}, Device: "opencl:0", Status: "MISMATCH",
			MaxDiff: &outNum{v: 0.5, bits: 64}, Worst: "grad_input"},
		{Loss: "x", Shape: []int{3}, Device: "host", Status: "ERROR", Error: "boom"},
	}
	var b bytes.Buffer
	require.NoError(t, writeTable(&b, rows))
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	require.Len(t, lines, 4)
	var starts []int
	for _, h := range tableHeader {
		starts = append(starts, strings.Index(lines[0], h))
	}
	for _, l := range lines {
		require.Equal(t, strings.TrimRight(l, " "), l, "trailing spaces")
		for k, st := range starts[1:] {
			if st >= len(l) {
				continue // an empty last cell
			}
			require.NotEqual(t, byte(' '), l[st], "column %s of %q", tableHeader[k+1], l)
			require.Equal(t, "  ", l[st-2:st], "column %s of %q", tableHeader[k+1], l)
		}
	}
	require.Contains(t, lines[1], "1.500 ms")
	require.Contains(t, lines[1], "30.2%")
	require.Contains(t, lines[2], "worst: grad_input")
	require.True(t, strings.HasSuffix(lines[3], "boom"))
}

// fakeRows are sweep rows for the plot tests: n timed cases and one
// mismatch, which the plots leave out.
func fakeRows(n int) []sweepRow {
	var rows []sweepRow
	for i := 0; i < n; i++ {
		sec, pct, cp := 1e-6*float64(int(1)<<i), 10*float64(i+1), 20.0
		gb := pct * cp / 100
		rows = append(rows, sweepRow{Loss: fmt.Sprintf("loss%d", i), Shape: []int{1024 << i}, Device: "host", Status: "ok",
			Bytes: int64(16 * 1024 << i), Seconds: &sec, GBps: &gb, CopyGBps: &cp, PctOfCopy: &pct})
	}
	return append(rows, sweepRow{Loss: "bad", Shape: []int{7}, Device: "host", Status: "MISMATCH"})
}

func TestPlotSweep(t *testing.T) {
	rows := fakeRows(5)
	timeP, pctP, n := sweepPlots(rows)
	require.Equal(t, 5, n)
	require.Equal(t, "time per call on host", timeP.Title.Text)
	require.Contains(t, pctP.Title.Text, "% of the copy bandwidth")
	require.Len(t, caseTicks{names: make([]string, 5)}.Ticks(0, 1), 5)

	dir := t.TempDir()
	svg := filepath.Join(dir, "sweep.svg")
	require.NoError(t, plotSweep(svg, rows))
	data, err := os.ReadFile(svg)
	require.NoError(t, err)
	require.NoError(t, wellFormedXML(data))
	for i := 0; i < 5; i++ {
		require.Equal(t, 1, strings.Count(string(data), fmt.Sprintf(">loss%d %d<", i, 1024<<i)), "label of case %d", i)
	}
	require.NotContains(t, string(data), ">bad 7<", "a MISMATCH row has no bar")
	require.Equal(t, 2*5, strings.Count(string(data), "fill:#1F77B4"), "a bar per timed case in each panel")

	pngFile := filepath.Join(dir, "sweep.png")
	require.NoError(t, plotSweep(pngFile, rows))
	f, err := os.Open(pngFile)
	require.NoError(t, err)
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	require.NoError(t, err)
	require.Equal(t, 12*96, cfg.Width) // 12 inches at 96 dpi
	require.Equal(t, 3*96, cfg.Height) // 1.2 + 0.22 per case, at least 3 inches

	require.Error(t, plotSweep(filepath.Join(dir, "none.svg"), fakeRows(0)))
}

func TestPlotScale(t *testing.T) {
	rows := fakeRows(6)
	_, lossXY, copyXY := scalePlot(rows)
	require.Len(t, lossXY, 6)
	require.Len(t, copyXY, 6)
	for i, xy := range lossXY {
		require.Equal(t, float64(int(1024)<<i), xy.X)
		require.InDelta(t, 1e-6*float64(int(1)<<i), xy.Y, 1e-15)
		// copy time = bytes / copy GB/s.
		require.InDelta(t, float64(int(16*1024)<<i)/20e9, copyXY[i].Y, 1e-15)
	}
	dir := t.TempDir()
	svg := filepath.Join(dir, "scale.svg")
	require.NoError(t, plotScale(svg, rows))
	data, err := os.ReadFile(svg)
	require.NoError(t, err)
	require.NoError(t, wellFormedXML(data))
	require.Contains(t, string(data), "copy of the same bytes")
	pngFile := filepath.Join(dir, "scale.png")
	require.NoError(t, plotScale(pngFile, rows))
	f, err := os.Open(pngFile)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	require.Equal(t, 8*96, img.Bounds().Dx())
	require.Equal(t, 5*96, img.Bounds().Dy())
}

// wellFormedXML reads every token of an SVG document.
func wellFormedXML(data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	svg := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			if !svg {
				return fmt.Errorf("no <svg> element")
			}
			return nil
		}
		if err != nil {
			return err
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "svg" {
			svg = true
		}
	}
}

func TestScaleCases(t *testing.T) {
	shapes := func(cs []sweepCase) (out []string) {
		for _, c := range cs {
			out = append(out, shapeString(c.shape))
		}
		return out
	}
	cs, err := scaleCases("mse_loss", nil, nil, 1<<24)
	require.NoError(t, err)
	require.Len(t, cs, 15) // 2^10 .. 2^24
	require.Equal(t, "1024", shapes(cs)[0])
	require.Equal(t, "16777216", shapes(cs)[14])

	cs, err = scaleCases("cross_entropy", nil, nil, 1<<24)
	require.NoError(t, err)
	require.Equal(t, []string{"1x32000", "2x32000", "4x32000", "8x32000", "16x32000", "32x32000", "64x32000",
		"128x32000", "256x32000", "512x32000"}, shapes(cs))

	cs, err = scaleCases("ctc_loss", []string{"ctc_loss"}, []string{"50x8x20x10"}, 1<<16)
	require.NoError(t, err) // N grows: 50*20*10 = 10000 elements per sequence
	require.Equal(t, []string{"50x1x20x10", "50x2x20x10", "50x4x20x10"}, shapes(cs))

	for _, bad := range []struct {
		name   string
		loss   []string
		shapes []string
		max    int
	}{
		{"nosuch", nil, nil, 1 << 24},
		{"mse_loss", []string{"cross_entropy"}, nil, 1 << 24},
		{"mse_loss", nil, []string{"4", "8"}, 1 << 24},
		{"cross_entropy", nil, []string{"100"}, 1 << 24},
		{"cross_entropy", nil, nil, 1 << 14}, // one row of 32000 is over the cap
	} {
		_, err := scaleCases(bad.name, bad.loss, bad.shapes, bad.max)
		require.Error(t, err, "%+v", bad)
	}
}

// TestScaleRun: -scale times the sizes in order, writes a row each and
// a plot; -maxmem stops it before a size whose heap would pass the cap.
func TestScaleRun(t *testing.T) {
	file := filepath.Join(t.TempDir(), "scale.svg")
	code, out, errs := runArgs("-device", "host", "-scale", "mse_loss", "-scale-max", "4096", "-iters", "1", "-json",
		"-plot", file)
	require.Equal(t, 0, code, errs)
	var rows []ndRow
	require.NoError(t, unmarshalLines(out, &rows))
	require.Len(t, rows, 3)
	for i, r := range rows {
		require.Equal(t, []int{1024 << i}, r.Shape)
		require.Positive(t, r.HeapBytes)
	}
	_, err := os.Stat(file)
	require.NoError(t, err)

	code, out, errs = runArgs("-device", "host", "-scale", "mse_loss", "-iters", "1", "-json", "-maxmem", "1MiB")
	require.Equal(t, 0, code, errs)
	rows = nil
	require.NoError(t, unmarshalLines(out, &rows))
	require.Less(t, len(rows), 15, "the cap stops the run")
	require.Contains(t, errs, "-scale stops before mse_loss")
}

func TestSweepFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-scale", "nosuch"},
		{"-scale", "mse_loss", "-loss", "cross_entropy"},
		{"-scale", "mse_loss", "-scale-max", "100"},
		{"-scale", "mse_loss", "-scale-max", "x"},
		{"-scale", "cross_entropy", "-shape", "7"},
		{"-plot", "out.pdf", "-loss", "mse_loss"},
		{"-maxmem", "lots", "-loss", "mse_loss"},
		{"-maxmem", "10", "-loss", "mse_loss"},
	} {
		code, out, errs := runArgs(args...)
		require.Equal(t, 2, code, "%q: %s", args, errs)
		require.Empty(t, out, "%q", args)
		require.Contains(t, errs, "lossbench: ", "%q", args)
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"": 42, "4GiB": 4 << 30, "512 MiB": 512 << 20, "2GB": 2e9, "1e9": 1e9,
		"1048576": 1 << 20, "1.5gib": 3 << 29} {
		got, err := parseBytes(in, 42)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"x", "1KiB", "-4GiB", "GiB", "NaN"} {
		_, err := parseBytes(in, 42)
		require.Error(t, err, in)
	}
}
