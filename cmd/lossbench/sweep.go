package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/lossengine/lossengine/device"
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
		fmt.Fprintf(w, "%s\n-loss all times every loss; -loss pointwise every elementwise loss.\n\nSubcommands: devices, eval (see lossbench help).\n\nFlags:\n", strings.Join(extra, ", "))
		fs.PrintDefaults()
	}
}

func cmdSweep(args []string, stdout, stderr io.Writer) int {
	var cfg sweepConfig
	fs := flag.NewFlagSet("lossbench", flag.ContinueOnError)
	out := flagOutput(args, stdout, stderr)
	fs.SetOutput(out)
	fs.StringVar(&cfg.device, "device", "", "device: host, cuda[:N], opencl[:N] or auto (default: $"+device.EnvVar+", then auto)")
	fs.BoolVar(&cfg.asJSON, "json", false, "print the rows as a JSON array instead of a table")
	fs.Var(&cfg.losses, "loss", "loss to run (repeatable or comma-separated; default: the default sweep)")
	fs.Var(&cfg.shapes, "shape", "shape to run, RxC (e.g. 512x32000), N for pointwise losses or TxNxCxL for ctc_loss (repeatable or comma-separated)")
	fs.IntVar(&cfg.iters, "iters", 0, "timed calls per case (default: enough for -min-time, at least 3)")
	fs.DurationVar(&cfg.minTime, "min-time", 300*time.Millisecond, "target timing time per case when -iters is not given")
	fs.Uint64Var(&cfg.seed, "seed", 1, "random seed of the inputs")
	fs.Float64Var(&cfg.tol, "tol", 1e-4, "largest max|diff| accepted (float32 kernels vs float64 host)")
	fs.BoolVar(&skipTargetCheck, "skip-target-check", false, "time cross_entropy with SkipTargetCheck: no read-back of the targets, fully asynchronous (the training path)")
	fs.Usage = sweepUsage(fs, out)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lossbench: unexpected arguments %q (subcommands: devices, eval, losses, help, version)\n", fs.Args())
		return 2
	}
	if cfg.iters < 0 {
		fmt.Fprintf(stderr, "lossbench: -iters must be positive\n")
		return 2
	}
	if !(cfg.tol >= 0) {
		fmt.Fprintf(stderr, "lossbench: -tol must be non-negative\n")
		return 2
	}
	cases, err := selectCases(cfg.losses, cfg.shapes)
	if err != nil {
		fmt.Fprintf(stderr, "lossbench: %v\n", err)
		return 2
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
	info := dev.Info()
	if !cfg.asJSON {
		fmt.Fprintf(stdout, "device %s: %s (%s, %d compute units); float32; seed %d; tol %g\n",
			info.Name, info.Description, info.Kind, info.ComputeUnit, cfg.seed, cfg.tol)
		fmt.Fprintf(stdout, "%-13s %-10s %-8s %11s %9s %10s %9s %10s\n",
			"loss", "shape", "device", "time/call", "GB/s", "copy GB/s", "% of copy", "max|diff|")
	}
	status := 0
	var rows []sweepRow
	for i, sc := range cases {
		rng := rand.New(rand.NewPCG(cfg.seed, uint64(i)))
		row := runCase(dev, sc, rng, cfg)
		if row.Status != "ok" {
			status = 1
		}
		rows = append(rows, row)
		if !cfg.asJSON {
			printRow(stdout, row)
		}
	}
	if cfg.asJSON {
		b, err := json.MarshalIndent(rows, "", "  ")
		if err != nil {
			fmt.Fprintf(stderr, "lossbench: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s\n", b)
	}
	if status != 0 {
		fmt.Fprintf(stderr, "lossbench: some cases failed their check (MISMATCH or ERROR): no time reported for them\n")
	}
	return status
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

func printRow(w io.Writer, r sweepRow) {
	diff := "-"
	if r.MaxDiff != nil {
		diff = fmt.Sprintf("%.2e", r.MaxDiff.v)
	}
	head := fmt.Sprintf("%-13s %-10s %-8s", r.Loss, shapeString(r.Shape), r.Device)
	switch r.Status {
	case "ok":
		fmt.Fprintf(w, "%s %11s %9.2f %10.2f %8.1f%% %10s\n", head, formatTime(*r.Seconds), *r.GBps,
			*r.CopyGBps, *r.PctOfCopy, diff)
	case "MISMATCH":
		fmt.Fprintf(w, "%s %11s %9s %10s %9s %10s  (worst: %s)\n", head, "MISMATCH", "-", "-", "-", diff, r.Worst)
	default:
		fmt.Fprintf(w, "%s %11s  %s\n", head, "ERROR", r.Error)
	}
}
