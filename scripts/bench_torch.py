#!/usr/bin/python3
"""Time PyTorch on the CPU for the losses lossbench times: the speed peer.

Times forward + backward of F.cross_entropy on float32 logits 512x32000 and
of F.mse_loss on 1<<24 float32 elements, with torch.set_num_threads(
os.cpu_count()), and prints the median time per call over several runs.
GB/s uses lossbench's byte model (see `lossbench -h`):

  cross_entropy  4*(2*N*C + N) bytes (logits read, int32 targets read,
                 gradients written; PyTorch's int64 targets are not counted
                 as 8 bytes, to keep the numbers comparable)
  mse_loss       4*4*N bytes (input and target read, both gradients written)

Run it with Debian's Python, which has PyTorch:

    /usr/bin/python3 scripts/bench_torch.py [--json]
"""

import argparse
import json
import os
import statistics
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover
    sys.exit("bench_torch: PyTorch is not importable by %s; run it with /usr/bin/python3" % sys.executable)


def bench_cross_entropy(n, c, gen):
    x = torch.randn(n, c, generator=gen, dtype=torch.float32).requires_grad_()
    t = torch.randint(0, c, (n,), generator=gen)

    def call():
        x.grad = None
        F.cross_entropy(x, t).backward()
    return call, 4 * (2 * n * c + n)


def bench_mse(n, gen):
    x = torch.randn(n, generator=gen, dtype=torch.float32).requires_grad_()
    y = torch.randn(n, generator=gen, dtype=torch.float32).requires_grad_()

    def call():
        x.grad = None
        y.grad = None
        F.mse_loss(x, y).backward()
    return call, 4 * 4 * n


# One entry per case: (loss, shape, builder).
CASES = [
    ("cross_entropy", [512, 32000], lambda g: bench_cross_entropy(512, 32000, g)),
    ("mse_loss", [1 << 24], lambda g: bench_mse(1 << 24, g)),
]


def time_call(call, runs, min_time):
    """Median seconds per call over runs runs of enough calls for min_time."""
    call()  # warm up
    t0 = time.perf_counter()
    call()
    one = max(time.perf_counter() - t0, 1e-9)
    iters = max(1, int(min_time / one))
    per = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(iters):
            call()
        per.append((time.perf_counter() - t0) / iters)
    return statistics.median(per), iters


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print the rows as a JSON array")
    ap.add_argument("--runs", type=int, default=7, help="timed runs per case; the median is reported (default 7)")
    ap.add_argument("--min-time", type=float, default=0.2, help="seconds per run (default 0.2)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads (default: os.cpu_count())")
    ap.add_argument("--loss", action="append", help="time only this loss (repeatable)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(args.seed)
    rows = []
    for loss, shape, build in CASES:
        if args.loss and loss not in args.loss:
            continue
        call, nbytes = build(gen)
        sec, iters = time_call(call, args.runs, args.min_time)
        rows.append({"loss": loss, "shape": shape, "device": "torch-cpu", "threads": args.threads,
                     "dtype": "float32", "iters_per_run": iters, "runs": args.runs,
                     "ms_per_call": sec * 1e3, "bytes_per_call": nbytes, "gb_per_s": nbytes / sec / 1e9,
                     "torch": torch.__version__})
        del call
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print("PyTorch %s CPU, %d threads, float32, forward+backward, median of %d runs"
          % (torch.__version__, args.threads, args.runs))
    print("%-14s %-10s %12s %9s" % ("loss", "shape", "ms/call", "GB/s"))
    for r in rows:
        print("%-14s %-10s %12.3f %9.2f" % (r["loss"], "x".join(map(str, r["shape"])), r["ms_per_call"], r["gb_per_s"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
