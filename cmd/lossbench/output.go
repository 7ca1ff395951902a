package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// rowWriter receives the sweep's rows as they finish.
type rowWriter interface {
	row(r sweepRow) error
	// close ends the output (the table is written here).
	close() error
}

// ndjsonWriter writes one JSON object per row, one per line, as each case
// finishes (NDJSON): a run stopped half way keeps the rows written so
// far, and each line parses alone.
type ndjsonWriter struct {
	enc *json.Encoder
	w   io.Writer
}

func newNDJSON(w io.Writer) *ndjsonWriter { return &ndjsonWriter{enc: json.NewEncoder(w), w: w} }

func (n *ndjsonWriter) row(r sweepRow) error {
	if err := n.enc.Encode(r); err != nil { // Encode ends the object with "\n"
		return err
	}
	if f, ok := n.w.(interface{ Flush() error }); ok {
		return f.Flush()
	}
	return nil
}

func (n *ndjsonWriter) close() error { return nil }

// tableWriter prints the rows as a table aligned by text/tabwriter when
// the sweep ends (progress on stderr shows each row as it finishes).
type tableWriter struct {
	w    io.Writer
	rows []sweepRow
}

// tableHeader holds the columns of the sweep's table.
var tableHeader = []string{"loss", "shape", "device", "time/call", "GB/s", "copy GB/s", "% of copy", "max|diff|", "note"}

func (t *tableWriter) row(r sweepRow) error {
	t.rows = append(t.rows, r)
	return nil
}

func (t *tableWriter) close() error { return writeTable(t.w, t.rows) }

// writeTable writes rows under tableHeader, columns separated by at
// least two spaces. A row that was not timed has "-" in the timing
// columns, its status in time/call and the reason in note.
func writeTable(w io.Writer, rows []sweepRow) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 8, 2, ' ', 0)
	line := func(cells []string) {
		for i, c := range cells {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, c)
		}
		fmt.Fprint(tw, "\n")
	}
	line(tableHeader)
	for _, r := range rows {
		line(tableCells(r))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// A row without a note ends in the padding of its last column.
	var out strings.Builder
	for _, l := range strings.SplitAfter(buf.String(), "\n") {
		body, nl := strings.CutSuffix(l, "\n")
		out.WriteString(strings.TrimRight(body, " "))
		if nl {
			out.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, out.String())
	return err
}

// tableCells are the cells of one row, in tableHeader's order.
func tableCells(r sweepRow) []string {
	diff := "-"
	if r.MaxDiff != nil {
		diff = fmt.Sprintf("%.2e", r.MaxDiff.v)
	}
	c := []string{r.Loss, shapeString(r.Shape), r.Device, r.Status, "-", "-", "-", diff, ""}
	switch r.Status {
	case "ok":
		c[3] = formatTime(*r.Seconds)
		c[4] = fmt.Sprintf("%.2f", *r.GBps)
		c[5] = fmt.Sprintf("%.2f", *r.CopyGBps)
		c[6] = fmt.Sprintf("%.1f%%", *r.PctOfCopy)
	case "MISMATCH":
		c[8] = "worst: " + r.Worst
	default:
		c[8] = r.Error
	}
	return c
}
