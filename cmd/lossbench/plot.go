package main

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// plotFormat is "svg" or "png" by the file's extension.
func plotFormat(file string) (string, error) {
	switch ext := strings.ToLower(filepath.Ext(file)); ext {
	case ".svg", ".png":
		return ext[1:], nil
	}
	return "", fmt.Errorf("-plot %q: the file must end in .svg or .png", file)
}

// Colours of the charts: the loss, and the copy it is measured against.
var (
	lossColor = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	copyColor = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
)

// hbars is a horizontal bar chart: bar i spans x from the axis minimum
// (so that it works on a log axis, which has no zero) to vals[i], at
// y = len(vals)-1-i, so that the first value is on top.
type hbars struct {
	vals  []float64
	color color.Color
	// lo is the low end of the x range the bars ask for (0 on a linear
	// axis, below the smallest value on a log one).
	lo float64
}

func (b *hbars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	half := (trY(1) - trY(0)) * 0.35
	x0 := trX(p.X.Min)
	for i, v := range b.vals {
		if !(v > p.X.Min) {
			continue
		}
		y := trY(float64(len(b.vals) - 1 - i))
		x1 := trX(math.Min(v, p.X.Max))
		pts := []vg.Point{{X: x0, Y: y - half}, {X: x1, Y: y - half}, {X: x1, Y: y + half}, {X: x0, Y: y + half}}
		c.FillPolygon(b.color, c.ClipPolygonXY(pts))
	}
}

func (b *hbars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = b.lo, b.lo
	for _, v := range b.vals {
		xmax = math.Max(xmax, v)
	}
	return xmin, xmax, -0.5, float64(len(b.vals)) - 0.5
}

// caseTicks labels y = len(names)-1-i with names[i] (blank labels when
// blank, for a second panel beside the first).
type caseTicks struct {
	names []string
	blank bool
}

func (t caseTicks) Ticks(min, max float64) []plot.Tick {
	ts := make([]plot.Tick, len(t.names))
	for i, n := range t.names {
		ts[i] = plot.Tick{Value: float64(len(t.names) - 1 - i)}
		if !t.blank {
			ts[i].Label = n
		}
	}
	return ts
}

// labelTicks are the ticks of a log axis (plot.LogTicks) with the major
// ones labelled by format.
type labelTicks struct{ format func(float64) string }

func (t labelTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.LogTicks{Prec: -1}.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = t.format(ts[i].Value)
		}
	}
	return ts
}

// sweepPlots are the two panels of a sweep's chart: time per call (log
// axis) and % of the copy bandwidth, one bar per timed case, in the
// order of the rows. Cases not timed (MISMATCH, ERROR) are left out.
func sweepPlots(rows []sweepRow) (timeP, pctP *plot.Plot, n int) {
	var names []string
	var secs, pcts []float64
	for _, r := range rows {
		if r.Status != "ok" {
			continue
		}
		names = append(names, r.Loss+" "+shapeString(r.Shape))
		secs = append(secs, *r.Seconds)
		pcts = append(pcts, *r.PctOfCopy)
	}
	dev := ""
	if len(rows) > 0 {
		dev = " on " + rows[0].Device
	}

	timeP = plot.New()
	timeP.Title.Text = "time per call" + dev
	timeP.X.Label.Text = "seconds (log)"
	timeP.X.Scale = plot.LogScale{}
	timeP.X.Tick.Marker = labelTicks{formatTime}
	timeP.Y.Tick.Marker = caseTicks{names: names}
	lo := 1e-9
	if len(secs) > 0 {
		lo = secs[0]
		for _, s := range secs {
			lo = math.Min(lo, s)
		}
		lo /= 2
	}
	timeP.Add(&hbars{vals: secs, color: lossColor, lo: lo}, plotter.NewGrid())

	pctP = plot.New()
	pctP.Title.Text = "% of the copy bandwidth (same bytes)"
	pctP.Y.Tick.Marker = caseTicks{names: names, blank: true}
	pctP.X.Label.Text = "% of copy GB/s (dashed: the copy, 100%)"
	pctP.Add(&hbars{vals: pcts, color: lossColor}, plotter.NewGrid())
	if ref, err := plotter.NewLine(plotter.XYs{{X: 100, Y: -0.5}, {X: 100, Y: float64(len(pcts)) - 0.5}}); err == nil {
		ref.Color = copyColor
		ref.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		pctP.Add(ref)
	}
	pctP.X.Max = math.Max(pctP.X.Max, 110)
	return timeP, pctP, len(names)
}

// plotSweep draws the sweep's chart into file (.svg or .png): the two
// panels of sweepPlots side by side, a bar per timed case.
func plotSweep(file string, rows []sweepRow) error {
	timeP, pctP, n := sweepPlots(rows)
	if n == 0 {
		return fmt.Errorf("no case was timed: nothing to plot")
	}
	w, h := 12*vg.Inch, vg.Length(math.Max(3, 1.2+0.22*float64(n)))*vg.Inch
	return writeCanvas(file, w, h, func(dc draw.Canvas) {
		tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Points(12), PadTop: vg.Points(4), PadBottom: vg.Points(4),
			PadLeft: vg.Points(4), PadRight: vg.Points(12)}
		cs := plot.Align([][]*plot.Plot{{timeP, pctP}}, tiles, dc)
		timeP.Draw(cs[0][0])
		pctP.Draw(cs[0][1])
	})
}

// scalePlot is the chart of a -scale run: time per call against the
// case's elements on log-log axes, a point per timed size, and the time
// of a device copy moving the same bytes for reference.
func scalePlot(rows []sweepRow) (p *plot.Plot, lossXY, copyXY plotter.XYs) {
	name, dev := "", ""
	for _, r := range rows {
		if r.Status != "ok" {
			continue
		}
		name, dev = r.Loss, r.Device
		x := float64(elems(r.Shape))
		lossXY = append(lossXY, plotter.XY{X: x, Y: *r.Seconds})
		copyXY = append(copyXY, plotter.XY{X: x, Y: float64(r.Bytes) / (*r.CopyGBps * 1e9)})
	}
	p = plot.New()
	p.Title.Text = fmt.Sprintf("%s on %s: time per call against size", name, dev)
	p.X.Label.Text = "elements (product of the shape)"
	p.Y.Label.Text = "seconds per call"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker = labelTicks{func(v float64) string {
		return strings.NewReplacer("e+0", "e", "e+", "e").Replace(strconv.FormatFloat(v, 'g', 3, 64))
	}}
	p.Y.Tick.Marker = labelTicks{formatTime}
	p.Add(plotter.NewGrid())
	p.Legend.Top, p.Legend.Left = true, true
	for _, s := range []struct {
		xy    plotter.XYs
		label string
		color color.Color
		dash  bool
	}{{lossXY, name, lossColor, false}, {copyXY, "copy of the same bytes", copyColor, true}} {
		if len(s.xy) == 0 {
			continue
		}
		l, pts, err := plotter.NewLinePoints(s.xy)
		if err != nil {
			continue
		}
		l.Color, pts.Color = s.color, s.color
		if s.dash {
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		p.Add(l, pts)
		p.Legend.Add(s.label, l, pts)
	}
	return p, lossXY, copyXY
}

// plotScale draws scalePlot into file (.svg or .png).
func plotScale(file string, rows []sweepRow) error {
	p, xy, _ := scalePlot(rows)
	if len(xy) == 0 {
		return fmt.Errorf("no size was timed: nothing to plot")
	}
	return writeCanvas(file, 8*vg.Inch, 5*vg.Inch, func(dc draw.Canvas) { p.Draw(dc) })
}

// writeCanvas draws into a w x h canvas of file's format and writes it.
func writeCanvas(file string, w, h vg.Length, drawFn func(draw.Canvas)) (err error) {
	format, err := plotFormat(file)
	if err != nil {
		return err
	}
	var c vg.CanvasWriterTo
	if format == "svg" {
		c = vgsvg.New(w, h)
	} else {
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(96))}
	}
	drawFn(draw.New(c))
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer func() {
		if e := f.Close(); err == nil {
			err = e
		}
	}()
	_, err = c.WriteTo(f)
	return err
}
