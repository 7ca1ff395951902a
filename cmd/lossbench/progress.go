package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress reports a sweep's advance on stderr, never on stdout (which
// holds the results). On a terminal it redraws one status line in place
//
//	[=======>            ] 12/84  ssim_loss 8x3x512x512  1m02s
//
// and prints each finished case above it; elsewhere (a pipe, a file, a
// CI log) it writes one line per case, begun when the case starts (so a
// killed run shows which case was running) and ended with its result:
//
//	[12/84] ssim_loss 8x3x512x512 ... ok 41.2 ms, 63.0% of copy (1m02s)
//
// A nil *progress reports nothing (-q).
type progress struct {
	w     io.Writer
	tty   bool
	total int
	start time.Time
	now   func() time.Time // time.Now; tests fix it
	width int              // bar width in characters (tty)
	last  int              // length of the drawn status line (tty)
}

// newProgress returns the progress of a sweep of total cases on w, or nil
// when quiet. tty selects the in-place bar.
func newProgress(w io.Writer, total int, quiet, tty bool) *progress {
	if quiet {
		return nil
	}
	return &progress{w: w, tty: tty, total: total, start: time.Now(), now: time.Now, width: 24}
}

// isTerminal reports whether w is a character device (a terminal): the
// in-place bar needs one, any other stderr gets plain lines.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// elapsed is the time since the sweep began, rounded for reading:
// "3.2s", "1m02s", "1h05m".
func (p *progress) elapsed() string {
	d := p.now().Sub(p.start)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// begin reports that case i (from 0) starts.
func (p *progress) begin(i int, name string) {
	if p == nil {
		return
	}
	if !p.tty {
		fmt.Fprintf(p.w, "[%d/%d] %s ... ", i+1, p.total, name)
		return
	}
	p.draw(i, name)
}

// end reports case i's result (a short summary).
func (p *progress) end(i int, name, result string) {
	if p == nil {
		return
	}
	if !p.tty {
		fmt.Fprintf(p.w, "%s (%s)\n", result, p.elapsed())
		return
	}
	p.clear()
	fmt.Fprintf(p.w, "%s %s\n", name, result)
	if i+1 < p.total {
		p.draw(i+1, "")
	}
}

// done clears the status line at the end of the sweep.
func (p *progress) done() {
	if p != nil && p.tty {
		p.clear()
	}
}

// draw redraws the status line: the bar of the cases done so far, the
// count, the running case and the elapsed time.
func (p *progress) draw(done int, name string) {
	fill := 0
	if p.total > 0 {
		fill = done * p.width / p.total
	}
	bar := strings.Repeat("=", fill)
	if fill < p.width {
		bar += ">" + strings.Repeat(" ", p.width-fill-1)
	}
	line := fmt.Sprintf("[%s] %d/%d  %s  %s", bar, done, p.total, name, p.elapsed())
	p.clear()
	fmt.Fprint(p.w, line)
	p.last = len(line)
}

func (p *progress) clear() {
	if p.last > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.last))
		p.last = 0
	}
}

// summary is the one-line result of a row for the progress report.
func summary(r sweepRow) string {
	switch r.Status {
	case "ok":
		return fmt.Sprintf("ok %s, %.1f%% of copy", formatTime(*r.Seconds), *r.PctOfCopy)
	case "MISMATCH":
		return fmt.Sprintf("MISMATCH max|diff| %.2e (worst: %s)", r.MaxDiff.v, r.Worst)
	case "SKIPPED":
		return "SKIPPED: " + r.Error
	}
	return "ERROR: " + r.Error
}
