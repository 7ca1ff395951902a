package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
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
	// tick is how often the status line is redrawn during a case (tty; 0:
	// only at the start of each case).
	tick time.Duration

	mu      sync.Mutex // guards what follows and the writes (tty)
	last    int        // length of the drawn status line
	cur     int        // the running case
	name    string     // its name
	stop    chan struct{}
	stopped chan struct{}
}

// newProgress returns the progress of a sweep of total cases on w, or nil
// when quiet. tty selects the in-place bar.
func newProgress(w io.Writer, total int, quiet, tty bool) *progress {
	if quiet {
		return nil
	}
	return &progress{w: w, tty: tty, total: total, start: time.Now(), now: time.Now, width: 24, tick: time.Second}
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
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cur, p.name = i, name
	p.draw()
	if p.tick > 0 && p.stop == nil {
		// Keep the elapsed time moving while a long case runs.
		p.stop, p.stopped = make(chan struct{}), make(chan struct{})
		go func() {
			defer close(p.stopped)
			t := time.NewTicker(p.tick)
			defer t.Stop()
			for {
				select {
				case <-p.stop:
					return
				case <-t.C:
					p.mu.Lock()
					if p.last > 0 {
						p.draw()
					}
					p.mu.Unlock()
				}
			}
		}()
	}
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
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	fmt.Fprintf(p.w, "%s %s\n", name, result)
}

// done stops the redrawing and clears the status line at the end of the
// sweep.
func (p *progress) done() {
	if p == nil || !p.tty {
		return
	}
	if p.stop != nil {
		close(p.stop)
		<-p.stopped
		p.stop = nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
}

// draw redraws the status line: the bar of the cases done so far, the
// count, the running case and the elapsed time.
func (p *progress) draw() {
	fill := 0
	if p.total > 0 {
		fill = p.cur * p.width / p.total
	}
	bar := strings.Repeat("=", fill)
	if fill < p.width {
		bar += ">" + strings.Repeat(" ", p.width-fill-1)
	}
	line := fmt.Sprintf("[%s] %d/%d  %s  %s", bar, p.cur, p.total, p.name, p.elapsed())
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
