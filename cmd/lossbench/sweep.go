package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

// listFlag is a repeatable flag whose values may also be comma-separated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

type sweepConfig struct {
	device  string
	asJSON  bool
	losses  listFlag
	shapes  listFlag
	iters   int
	minTime time.Duration
	seed    uint64
	tol     float64
	quiet   bool
	plot    string
	scale   string
	// scaleMax bounds the elements of a -scale case; maxMem the heap.
	scaleMax int
	maxMem   int64
}

// sweepRow is one line of the sweep's output. Timing fields are null when
// the result was not checked good.
type sweepRow struct {
	Loss      string   `json:"loss"`
	Shape     []int    `json:"shape"`
	Device    string   `json:"device"`
	Status    string   `json:"status"` // "ok", "MISMATCH" or "ERROR"
	Error     string   `json:"error,omitempty"`
	Bytes     int64    `json:"bytes_per_call"`
	Iters     int      `json:"iters,omitempty"`
	Seconds   *float64 `json:"seconds_per_call"`
	GBps      *float64 `json:"gb_per_s"`
	CopyGBps  *float64 `json:"copy_gb_per_s"`
	PctOfCopy *float64 `json:"pct_of_copy"`
	MaxDiff   *outNum  `json:"max_diff"`
	Worst     string   `json:"worst_output,omitempty"` // output with the largest diff
	// HeapBytes is the Go heap in use while the case was timed: its
	// inputs, outputs and float64 reference (-scale stops before -maxmem).
	HeapBytes int64 `json:"heap_bytes,omitempty"`
}

func sweepUsage(fs *flag.FlagSet, w io.Writer) func() {
	return func() {
		fmt.Fprintf(w, `Usage: lossbench [flags]

Runs a sweep of losses on one device. Each case builds random float32
inputs (fixed seed), uploads them once, runs the loss once and compares the
loss and gradients with the host device computing the same in float64:
max|diff| is max|a-b| / (1 + max|ref|), the worst over the outputs. A case
beyond -tol is reported as MISMATCH, is not timed, and makes the exit
status 1. Good cases are then timed over -iters calls (default: enough for
-min-time, at least 3) with one device Sync at the end.

GB/s is bytes per call / time per call (1 GB = 1e9 bytes), by this byte model:
`)
		for _, b := range benchLosses {
			fmt.Fprintf(w, "  %-14s %s\n", b.name, b.byteModel)
		}
		fmt.Fprintf(w, `For each case a device-to-device copy (Device.Copy between two float32
buffers) moving the same number of bytes (bytes/2 read, bytes/2 written) is
timed the same way; "%% of copy" is GB/s / copy GB/s.

Default cases:
`)
		for _, b := range benchLosses {
			if b.inDefault {
				fmt.Fprintf(w, "  %-14s %s\n", b.name, strings.Join(b.shapes, " "))
			}
		}
		fmt.Fprintf(w, "Also available with -loss: ")
		var extra []string
		for _, b := range benchLosses {
			if !b.inDefault {
				extra = append(extra, b.name+" ("+strings.Join(b.shapes, " ")+")")
			}
		}
		fmt.Fprintf(w, "%s\n-loss all times every loss; -loss pointwise every elementwise loss.\n", strings.Join(extra, ", "))
		fmt.Fprint(w, sweepOutputHelp)
		fmt.Fprintf(w, "\nSubcommands: devices, eval, losses, version (see lossbench help).\n\nFlags:\n")
		fs.PrintDefaults()
	}
}

const sweepOutputHelp = `
Output: a table on stdout, aligned when the sweep ends (columns: loss,
shape, device, time/call, GB/s, copy GB/s, % of copy, max|diff|, and a
note: the worst output of a MISMATCH, the reason of an ERROR). With -json,
one JSON object per case on its own line (NDJSON), written as the case
finishes, so a run stopped half way keeps its rows. Progress goes to
stderr: a bar redrawn in place on a terminal, else a line per case
("[3/11] cross_entropy 4096x128 ... ok 1.157 ms, 65.9% of copy (3.0s)");
-q silences it.

-plot FILE.svg|FILE.png draws the results: for a sweep, a bar per case of
the time per call (log axis) beside its % of copy; for -scale, time
against elements on log-log axes with the copy of the same bytes.
-scale LOSS times one loss at sizes doubling from 1<<10 elements to
-scale-max (1<<24): its first dimension grows (N for ctc_loss and
clip_grad_norm), the others stay those of -shape or its first default.

Memory: a case's buffers and its float64 host reference are released,
and the heap collected, before the next case, so the peak is that of the
largest case (-json rows give heap_bytes, the heap while the case was
timed). -maxmem caps the heap (a soft limit for the garbage collector),
refuses any host buffer beyond it, and stops -scale before a size that
would pass it.
`

func cmdSweep(args []string, stdout, stderr io.Writer) int {
	var cfg sweepConfig
	fs := flag.NewFlagSet("lossbench", flag.ContinueOnError)
	out := flagOutput(args, stdout, stderr)
	fs.SetOutput(out)
	fs.StringVar(&cfg.device, "device", "", "device: host, cuda[:N], opencl[:N] or auto (default: $"+device.EnvVar+", then auto)")
	fs.BoolVar(&cfg.asJSON, "json", false, "write one JSON object per case, on its own line, as each case finishes (NDJSON)")
	fs.Var(&cfg.losses, "loss", "loss to run (repeatable or comma-separated; default: the default sweep)")
	fs.Var(&cfg.shapes, "shape", "shape to run, RxC (e.g. 512x32000), N for pointwise losses or TxNxCxL for ctc_loss (repeatable or comma-separated)")
	fs.IntVar(&cfg.iters, "iters", 0, "timed calls per case (default: enough for -min-time, at least 3)")
	fs.DurationVar(&cfg.minTime, "min-time", 300*time.Millisecond, "target timing time per case when -iters is not given")
	fs.Uint64Var(&cfg.seed, "seed", 1, "random seed of the inputs")
	fs.Float64Var(&cfg.tol, "tol", 1e-4, "largest max|diff| accepted (float32 kernels vs float64 host)")
	fs.BoolVar(&skipTargetCheck, "skip-target-check", false, "time cross_entropy with SkipTargetCheck: no read-back of the targets, fully asynchronous (the training path)")
	fs.BoolVar(&cfg.quiet, "q", false, "no progress on stderr")
	fs.StringVar(&cfg.plot, "plot", "", "also draw the results into `FILE` (.svg or .png): per-case bars of time and % of copy, or with -scale time against size, log-log")
	fs.StringVar(&cfg.scale, "scale", "", "time `LOSS` at sizes doubling from 1<<10 elements to -scale-max (its batch dimension grows; the base shape is -shape or its first default)")
	scaleMax := fs.String("scale-max", "1<<24", "the largest case of -scale, in elements (the product of the shape)")
	maxMem := fs.String("maxmem", "", "memory cap in bytes (e.g. 4GiB, 512MiB): the Go heap's soft limit, the largest host buffer, and -scale stops before a size that would pass it (default: half the physical memory)")
	fs.Usage = sweepUsage(fs, out)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "lossbench: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected arguments %q (subcommands: devices, eval, losses, help, version)", fs.Args())
	}
	if cfg.iters < 0 {
		return usageErr("-iters must be positive")
	}
	if !(cfg.tol >= 0) {
		return usageErr("-tol must be non-negative")
	}
	if cfg.plot != "" {
		if _, err := plotFormat(cfg.plot); err != nil {
			return usageErr("%v", err)
		}
	}
	var err error
	if cfg.maxMem, err = parseBytes(*maxMem, host.MemoryBudget()); err != nil {
		return usageErr("-maxmem: %v", err)
	}
	if v, err := parseShape(*scaleMax); err != nil || len(v) != 1 || v[0] < 1<<10 {
		return usageErr("-scale-max %q: want a number of elements of at least 1024 (e.g. 1<<24)", *scaleMax)
	} else {
		cfg.scaleMax = v[0]
	}
	var cases []sweepCase
	if cfg.scale != "" {
		cases, err = scaleCases(cfg.scale, cfg.losses, cfg.shapes, cfg.scaleMax)
	} else {
		cases, err = selectCases(cfg.losses, cfg.shapes)
	}
	if err != nil {
		return usageErr("%v", err)
	}
	dev, err := device.Open(cfg.device)
	if err != nil {
		fmt.Fprintf(stderr, "lossbench: %v\n", err)
		if errors.Is(err, device.ErrUnknown) || errors.Is(err, device.ErrNotCompiled) {
			return 2 // a name that cannot work in this binary: a usage error
		}
		return 1
	}
	defer dev.Close()

	// Bound the memory: the heap's soft limit, and no host buffer beyond
	// the cap (an error for that case instead of the kernel's OOM killer).
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(cfg.maxMem))
	if cfg.maxMem < host.MemoryBudget() {
		defer host.SetMemoryBudget(host.SetMemoryBudget(cfg.maxMem))
	}

	info := dev.Info()
	var rw rowWriter = &tableWriter{w: stdout}
	if cfg.asJSON {
		rw = newNDJSON(stdout)
	} else {
		fmt.Fprintf(stdout, "device %s: %s (%s, %d compute units); float32; seed %d; tol %g\n",
			info.Name, info.Description, info.Kind, info.ComputeUnit, cfg.seed, cfg.tol)
	}
	pr := newProgress(stderr, len(cases), cfg.quiet, isTerminal(stderr))
	status := 0
	var rows []sweepRow
	for i, sc := range cases {
		name := sc.loss.name + " " + shapeString(sc.shape)
		if cfg.scale != "" && i > 0 {
			// The heap grows with the size: stop before a case that would
			// pass the cap (the next size is about twice the last).
			if prev := rows[len(rows)-1]; prev.HeapBytes > 0 && 2*prev.HeapBytes*int64(elems(sc.shape))/
				int64(elems(prev.Shape)) > cfg.maxMem {
				pr.done()
				fmt.Fprintf(stderr, "lossbench: -scale stops before %s: about %.1f GB of heap, over -maxmem %.1f GB\n",
					name, 2*float64(prev.HeapBytes)*float64(elems(sc.shape))/float64(elems(prev.Shape))/1e9,
					float64(cfg.maxMem)/1e9)
				pr = nil
				break
			}
		}
		pr.begin(i, name)
		rng := rand.New(rand.NewPCG(cfg.seed, uint64(i)))
		row := runCase(dev, sc, rng, cfg)
		freeCase(dev)
		pr.end(i, name, summary(row))
		if row.Status != "ok" {
			status = 1
		}
		rows = append(rows, row)
		if err := rw.row(row); err != nil {
			fmt.Fprintf(stderr, "lossbench: %v\n", err)
			return 1
		}
	}
	pr.done()
	if err := rw.close(); err != nil {
		fmt.Fprintf(stderr, "lossbench: %v\n", err)
		return 1
	}
	if cfg.plot != "" {
		var err error
		if cfg.scale != "" {
			err = plotScale(cfg.plot, rows)
		} else {
			err = plotSweep(cfg.plot, rows)
		}
		if err != nil {
			fmt.Fprintf(stderr, "lossbench: -plot: %v\n", err)
			return 1
		}
	}
	if status != 0 {
		fmt.Fprintf(stderr, "lossbench: some cases failed their check (MISMATCH or ERROR): no time reported for them\n")
	}
	return status
}

// freeCase releases a finished case before the next one starts: the
// scratch buffers the losses keep for dev, and a garbage collection, so
// that the next case starts from a small live heap (the collector's pacing
// then follows that case's own live set, not the largest case so far).
// The heap's free pages stay mapped for the next case to reuse: returning
// them to the system (debug.FreeOSMemory) costs a page fault per page at
// the next case's first touch (on the host device, 14% more time for
// jsd_loss, ctc_loss and mse_loss, for the same peak); the runtime's
// scavenger returns them in the background.
func freeCase(dev device.Device) {
	losses.Trim(dev)
	runtime.GC()
}

// elems is the product of a shape's dimensions.
func elems(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// parseBytes parses a byte count: "4GiB", "512MiB", "2GB", "1e9", "4096";
// "" gives def.
func parseBytes(s string, def int64) (int64, error) {
	orig := s
	s = strings.TrimSpace(s)
	if s == "" {
		return def, nil
	}
	mult := 1.0
	for _, u := range []struct {
		suffix string
		m      float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}} {
		if len(s) > len(u.suffix) && strings.EqualFold(s[len(s)-len(u.suffix):], u.suffix) {
			s, mult = strings.TrimSpace(s[:len(s)-len(u.suffix)]), u.m
			break
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v*mult >= 1<<20) || v*mult > 1<<60 {
		return 0, fmt.Errorf("bad size %q: want bytes of at least 1 MiB, e.g. 4GiB, 512MiB, 2e9", orig)
	}
	return int64(v * mult), nil
}

type sweepCase struct {
	loss  *benchLoss
	shape []int
}

// selectCases resolves -loss and -shape into the list of cases.
func selectCases(names, shapes []string) ([]sweepCase, error) {
	var sel []*benchLoss
	if len(names) == 0 {
		for i := range benchLosses {
			if benchLosses[i].inDefault {
				sel = append(sel, &benchLosses[i])
			}
		}
	}
	for _, n := range names {
		if n == "all" || n == "pointwise" {
			for i := range benchLosses {
				if n == "all" || benchLosses[i].pointwise {
					sel = append(sel, &benchLosses[i])
				}
			}
			continue
		}
		b := findBenchLoss(n)
		if b == nil {
			var known []string
			for _, x := range benchLosses {
				known = append(known, x.name)
			}
			return nil, fmt.Errorf("unknown loss %q for the sweep: known are %s", n, strings.Join(known, ", "))
		}
		sel = append(sel, b)
	}
	var parsed [][]int
	for _, s := range shapes {
		p, err := parseShape(s)
		if err != nil {
			return nil, err
		}
		parsed = append(parsed, p)
	}
	var out []sweepCase
	used := make([]bool, len(parsed))
	for _, b := range sel {
		if len(parsed) == 0 {
			for _, s := range b.shapes {
				p, err := parseShape(s)
				if err != nil {
					return nil, fmt.Errorf("%s: default %v", b.name, err)
				}
				out = append(out, sweepCase{b, p})
			}
			continue
		}
		for i, p := range parsed {
			if b.rows && len(p) != 2 || b.dims != 0 && len(p) != b.dims || b.dims == 0 && len(p) > 2 {
				continue
			}
			used[i] = true
			out = append(out, sweepCase{b, p})
		}
	}
	for i, u := range used {
		if !u {
			return nil, fmt.Errorf("shape %q fits none of the selected losses (row losses need RxC, ctc_loss TxNxCxL)", shapes[i])
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no case selected")
	}
	return out, nil
}

// parseShape parses "512x32000", "1048576", "1<<20" (also within RxC), a
// three-dimensional NxHxV (linear_cross_entropy) or a four-dimensional
// TxNxCxL (ctc_loss).
func parseShape(s string) ([]int, error) {
	var dims []int
	for _, p := range strings.Split(strings.ToLower(s), "x") {
		p = strings.TrimSpace(p)
		var v int64
		var err error
		if a, b, ok := strings.Cut(p, "<<"); ok {
			var base, sh int64
			base, err = strconv.ParseInt(strings.TrimSpace(a), 10, 64)
			if err == nil {
				sh, err = strconv.ParseInt(strings.TrimSpace(b), 10, 64)
			}
			if err == nil && (sh < 0 || sh > 40) {
				err = errors.New("shift out of range")
			}
			v = base << sh
		} else {
			v, err = strconv.ParseInt(p, 10, 64)
		}
		if err != nil || v < 1 || v > math.MaxInt32 {
			return nil, fmt.Errorf("bad shape %q: want RxC, N or TxNxCxL with positive sizes (e.g. 512x32000, 1048576, 1<<24, 150x64x28x40)", s)
		}
		dims = append(dims, int(v))
	}
	if len(dims) > 4 {
		return nil, fmt.Errorf("bad shape %q: four dimensions at most (RxC, NxHxV for linear_cross_entropy, TxNxCxL for ctc_loss)", s)
	}
	return dims, nil
}

func shapeString(s []int) string {
	var p []string
	for _, d := range s {
		p = append(p, strconv.Itoa(d))
	}
	return strings.Join(p, "x")
}

// gcPercentBuild is the garbage collector's GOGC while a case is built
// and checked.
const gcPercentBuild = 10

// outputsHook, if set (by tests), sees the device outputs before the check.
var outputsHook func([][]float32)

func ptr(v float64) *float64 { return &v }

// runCase checks then times one case.
func runCase(dev device.Device, sc sweepCase, rng *rand.Rand, cfg sweepConfig) sweepRow {
	row := sweepRow{Loss: sc.loss.name, Shape: sc.shape, Device: dev.Info().Name}
	fail := func(err error) sweepRow {
		row.Status, row.Error = "ERROR", err.Error()
		return row
	}
	// Build and check with a tight garbage collector: the inputs, their
	// float64 widening and the host reference are large and short-lived,
	// and the default pacing would let the heap grow to twice the live
	// set. The timing runs with the default pacing.
	gc := debug.SetGCPercent(gcPercentBuild)
	restored := false
	restoreGC := func() {
		if !restored {
			debug.SetGCPercent(gc)
			restored = true
		}
	}
	defer restoreGC()
	c, err := sc.loss.prepare(dev, sc.shape, rng)
	if err != nil {
		return fail(err)
	}
	defer c.release()
	row.Bytes = c.bytes

	// Check.
	if err := c.call(); err != nil {
		return fail(err)
	}
	if err := dev.Sync(); err != nil {
		return fail(err)
	}
	got, err := c.outputs()
	if err != nil {
		return fail(err)
	}
	if outputsHook != nil {
		outputsHook(got)
	}
	worst := -1.0
	for i, ref := range c.refs {
		d := relDiff(got[i], ref)
		if d > worst || math.IsNaN(d) {
			worst, row.Worst = d, c.names[i]
		}
	}
	row.MaxDiff = &outNum{v: worst, bits: 64}
	if !(worst <= cfg.tol) {
		row.Status = "MISMATCH"
		return row
	}
	// The float64 reference is done with: let it go before the timing
	// allocates the copy buffers.
	c.refs = nil
	runtime.GC()
	restoreGC()

	// Time the loss.
	sec, iters, err := timeCalls(dev, c.call, cfg)
	if err != nil {
		return fail(err)
	}
	row.Iters = iters
	row.Seconds = ptr(sec)
	row.GBps = ptr(float64(c.bytes) / sec / 1e9)

	// Time a copy moving the same bytes: n float32 elements read and written.
	n := int(max(1, c.bytes/8))
	src, err := dev.Alloc(device.Float32, n)
	if err != nil {
		return fail(fmt.Errorf("copy buffers: %w", err))
	}
	defer src.Release()
	// Fill the source so that it is real memory (untouched host pages
	// would read as the shared zero page).
	fill := make([]float32, n)
	for i := range fill {
		fill[i] = float32(i & 1023)
	}
	if err := dev.Write(src, fill); err != nil {
		return fail(fmt.Errorf("copy buffers: %w", err))
	}
	dst, err := dev.Alloc(device.Float32, n)
	if err != nil {
		return fail(fmt.Errorf("copy buffers: %w", err))
	}
	defer dst.Release()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	row.HeapBytes = int64(ms.HeapAlloc)
	copyCall := func() error { return dev.Copy(dst, src, n) }
	if err := copyCall(); err != nil {
		return fail(fmt.Errorf("copy: %w", err))
	}
	csec, _, err := timeCalls(dev, copyCall, cfg)
	if err != nil {
		return fail(fmt.Errorf("copy: %w", err))
	}
	row.CopyGBps = ptr(float64(8*n) / csec / 1e9)
	row.PctOfCopy = ptr(100 * *row.GBps / *row.CopyGBps)
	row.Status = "ok"
	return row
}

// timeCalls returns the seconds per call of fn over cfg.iters calls, or
// enough calls for cfg.minTime, with one Sync at the end of the timed run.
func timeCalls(dev device.Device, fn func() error, cfg sweepConfig) (float64, int, error) {
	batch := func(n int) (time.Duration, error) {
		start := time.Now()
		for range n {
			if err := fn(); err != nil {
				return 0, err
			}
		}
		if err := dev.Sync(); err != nil {
			return 0, err
		}
		return time.Since(start), nil
	}
	iters := cfg.iters
	if iters == 0 {
		// Calibrate: grow the batch until it takes a tenth of the target.
		n := 1
		for {
			d, err := batch(n)
			if err != nil {
				return 0, 0, err
			}
			if d >= cfg.minTime/10 || n >= 1<<20 {
				per := max(d.Seconds()/float64(n), 1e-9)
				iters = max(3, int(math.Ceil(cfg.minTime.Seconds()/per)))
				break
			}
			n *= 4
		}
	}
	d, err := batch(iters)
	if err != nil {
		return 0, 0, err
	}
	return d.Seconds() / float64(iters), iters, nil
}

func formatTime(s float64) string {
	switch {
	case s >= 1:
		return fmt.Sprintf("%.3f s", s)
	case s >= 1e-3:
		return fmt.Sprintf("%.3f ms", s*1e3)
	case s >= 1e-6:
		return fmt.Sprintf("%.2f us", s*1e6)
	}
	return fmt.Sprintf("%.0f ns", s*1e9)
}
