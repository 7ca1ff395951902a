#!/usr/bin/python3
"""Time PyTorch for barlow_twins_loss (the speed peer of losses/barlow.go):
forward + backward w.r.t. both views, float32, the paper's formula in
torch ops (F.batch_norm in training mode, z1n^T z2n / N, the diagonal and
off-diagonal sums, lambd 5e-3), on normal embeddings of the shape NxD
lossbench uses (default 512x1024), with torch.set_num_threads(os.cpu_count()),
printing the median time per call over several runs. With --vs-lossbench
PATH it runs `PATH -loss barlow_twins_loss -shape S` in turn with PyTorch
and prints both medians and the ratio (lossengine / PyTorch: below 1 is
faster). Run it with Debian's Python:

    go build -o /tmp/lb ./cmd/lossbench
    /usr/bin/python3 scripts/bench_torch_barlow.py [--shape 512x1024] [--vs-lossbench /tmp/lb]
"""

import argparse
import os
import statistics
import sys

from benchpeer import run_lossbench, time_per_call

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover
    sys.exit("bench_torch_barlow: PyTorch is not importable by %s; run it with /usr/bin/python3" % sys.executable)

NAME = "barlow_twins_loss"


def build(shape, gen):
    n, d = shape
    z1 = torch.randn(n, d, generator=gen)
    z2 = (0.6 * z1 + 0.8 * torch.randn(n, d, generator=gen)).requires_grad_()
    z1.requires_grad_()

    def call():
        z1.grad, z2.grad = None, None
        c = F.batch_norm(z1, None, None, training=True).T @ F.batch_norm(z2, None, None, training=True) / n
        diag = torch.diagonal(c)
        loss = (1 - diag).pow(2).sum() + 5e-3 * (c.pow(2).sum() - diag.pow(2).sum())
        loss.backward()
    return call


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shape", default="512x1024", help="NxD (default 512x1024)")
    ap.add_argument("--runs", type=int, default=5, help="timed runs; the median is printed (default 5)")
    ap.add_argument("--min-time", type=float, default=0.5, help="seconds per run (default 0.5)")
    ap.add_argument("--vs-lossbench", metavar="PATH", help="a lossbench binary to time in turn with PyTorch")
    ap.add_argument("--vs-device", default="host", help="lossbench's device for --vs-lossbench (default host)")
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count())
    call = build([int(v) for v in args.shape.split("x")], torch.Generator().manual_seed(1))
    print("PyTorch %s CPU, %d threads, float32, forward+backward, medians of %d runs%s"
          % (torch.__version__, torch.get_num_threads(), args.runs,
             (" taken in turn with lossengine (%s)" % args.vs_device) if args.vs_lossbench else ""))
    tt, lt = [], []
    for _ in range(args.runs):
        tt.append(time_per_call(call, args.min_time))
        if args.vs_lossbench:
            sec = run_lossbench(args.vs_lossbench, args.vs_device, NAME, args.shape, args.min_time)
            if sec is None:
                sys.exit("lossbench did not run %s %s" % (NAME, args.shape))
            lt.append(sec)
    t = statistics.median(tt) * 1e3
    if lt:
        l = statistics.median(lt) * 1e3
        print("%-20s %-10s torch %9.2f ms  lossengine (%s) %9.2f ms  ratio %.2f" % (NAME, args.shape, t, args.vs_device, l, l / t))
    else:
        print("%-20s %-10s torch %9.2f ms" % (NAME, args.shape, t))


if __name__ == "__main__":
    main()
