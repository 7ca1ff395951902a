"""Shared part of the PyTorch speed-peer scripts (scripts/bench_torch*.py):
running one lossbench case for a side-by-side comparison."""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def run_lossbench(lossbench, device, loss, shape, min_time):
    """Seconds per call of one lossbench run of one case (its own timing
    over enough calls for min_time), or None if the case is not ok. shape
    is "AxBxC" or a sequence of ints."""
    if not isinstance(shape, str):
        shape = "x".join(map(str, shape))
    cmd = [lossbench, "-device", device, "-loss", loss, "-shape", shape, "-min-time", "%gs" % min_time, "-json"]
    out = subprocess.run(cmd, check=False, capture_output=True, text=True)
    try:
        rows = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]  # NDJSON: one object a line
    except ValueError:
        sys.exit("%s: %s gave no JSON (exit %d): %s" % (os.path.basename(sys.argv[0]), " ".join(cmd), out.returncode,
                                                         out.stderr.strip()))
    if not rows or rows[0].get("status") != "ok":
        return None
    return rows[0]["seconds_per_call"]


def time_per_call(call, min_time, warm=True):
    """Seconds per call over one run of calls lasting at least min_time,
    after one untimed call when warm."""
    if warm:
        call()
    k, t0 = 0, time.perf_counter()
    while True:
        call()
        k += 1
        if time.perf_counter() - t0 > min_time:
            return (time.perf_counter() - t0) / k


def time_runs(call, runs, min_time):
    """Seconds per call in each of runs runs of a fixed number of calls
    (enough for min_time, estimated from one call after a warm-up)."""
    call()  # warm up
    t0 = time.perf_counter()
    call()
    iters = max(1, int(min_time / max(time.perf_counter() - t0, 1e-9)))
    per = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(iters):
            call()
        per.append((time.perf_counter() - t0) / iters)
    return per


def compare(name, shape, call, args, widths=(26, 16)):
    """Times call (PyTorch) args.runs times, each followed by `lossbench
    -loss name -shape shape` when args.vs_lossbench is set (in turn, so
    that a change of the machine's load favours neither), and prints one
    row: both medians in ms and their ratio (lossengine / PyTorch), or
    PyTorch's median alone without --vs-lossbench. widths are the name
    and shape columns' widths."""
    w1, w2 = widths
    tt, lt = [], []
    for _ in range(args.runs):
        tt.append(time_per_call(call, args.min_time))
        if args.vs_lossbench:
            sec = run_lossbench(args.vs_lossbench, args.vs_device, name, shape, args.min_time)
            if sec is None:
                print("%-*s %-*s lossbench did not run it (a mismatch, or a bad shape)" % (w1, name, w2, shape))
                return
            lt.append(sec)
    t = statistics.median(tt) * 1e3
    if lt:
        l = statistics.median(lt) * 1e3
        print("%-*s %-*s %10.2f %14.2f %7.2f" % (w1, name, w2, shape, t, l, l / t))
    else:
        print("%-*s %-*s %10.2f" % (w1, name, w2, shape, t))


def peer_main(doc, names, default_shapes, build, widths=(26, 16), loss_help="only this loss (repeatable; default all)",
              shape_help="the shape of every selected loss (default: each loss's own)"):
    """The command line every PyTorch speed-peer script shares: --loss,
    --shape, --runs, --min-time, --vs-lossbench, --vs-device; then, for
    each selected loss of names (in order), call = build(name, shape, gen)
    (forward + backward in PyTorch, float32, on all cores) timed by
    compare, at --shape or default_shapes[name]. doc is the script's
    docstring (its first paragraph is the description)."""
    import torch

    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--loss", action="append", help=loss_help)
    ap.add_argument("--shape", help=shape_help)
    ap.add_argument("--runs", type=int, default=5, help="timed runs per case; the median is printed (default 5)")
    ap.add_argument("--min-time", type=float, default=0.5, help="seconds per run (default 0.5)")
    ap.add_argument("--vs-lossbench", metavar="PATH", help="a lossbench binary to time in turn with PyTorch")
    ap.add_argument("--vs-device", default="host", help="lossbench's device for --vs-lossbench (default host)")
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count())
    gen = torch.Generator().manual_seed(1)
    print("PyTorch %s CPU, %d threads, float32, forward+backward, medians of %d runs%s"
          % (torch.__version__, torch.get_num_threads(), args.runs,
             (" taken in turn with lossengine (%s)" % args.vs_device) if args.vs_lossbench else ""))
    w1, w2 = widths
    print("%-*s %-*s %10s %14s %7s" % (w1, "loss", w2, "shape", "torch ms", "lossengine ms", "ratio"))
    for name in args.loss or names:
        s = args.shape or default_shapes[name]
        call = build(name, [int(v) for v in s.split("x")], gen)
        compare(name, s, call, args, widths)
        del call
