#!/usr/bin/python3
"""Time PyTorch for the perceptual and style losses lossbench times with
-loss (the speed peer of losses/gram.go): 4 layers of features [N, C, H, W]
(input and target, default 4x256x64x64 each), forward + backward w.r.t.
the input features, float32:

  gram_style_loss  sum over the layers of F.mse_loss(gram(x), gram(y)),
                   gram(f) = torch.bmm(F, F^T) / (C*H*W) with F = f as
                   [N, C, H*W]; both Gram matrices computed every call, as
                   lossbench's call does (PyTorch's neural-style tutorial)
  feature_loss     sum over the layers of F.mse_loss(x, y)

with torch.set_num_threads(os.cpu_count()), printing the median time per
call over several runs. With --vs-lossbench PATH it runs
`PATH -loss NAME -shape S` in turn with PyTorch and prints both medians
and their ratio (lossengine / PyTorch: below 1 is faster). Run it with
Debian's Python, which has PyTorch:

    /usr/bin/python3 scripts/bench_torch_gram.py [--shape 4x256x64x64] [--runs 7] [--vs-lossbench /tmp/lb]
"""

import argparse
import os
import statistics
import sys

from benchpeer import run_lossbench, time_runs

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover
    sys.exit("bench_torch_gram: PyTorch is not importable by %s; run it with /usr/bin/python3" % sys.executable)

LAYERS = 4


def gram(f):
    n, c, h, w = f.shape
    m = f.reshape(n, c, h * w)
    return torch.bmm(m, m.transpose(1, 2)) / (c * h * w)


def cases(shape, gen):
    xs = [torch.randn(*shape, generator=gen).requires_grad_() for _ in range(LAYERS)]
    ys = [torch.randn(*shape, generator=gen) for _ in range(LAYERS)]

    def style():
        return sum(F.mse_loss(gram(x), gram(y)) for x, y in zip(xs, ys))

    def feature():
        return sum(F.mse_loss(x, y) for x, y in zip(xs, ys))

    def wrap(fn):
        def call():
            for x in xs:
                x.grad = None
            fn().backward()
        return call

    return {"gram_style_loss": wrap(style), "feature_loss": wrap(feature)}



def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shape", action="append", help="NxCxHxW of each of the 4 layers (repeatable; default 4x256x64x64)")
    ap.add_argument("--runs", type=int, default=7, help="timed runs per case; the median is printed (default 7)")
    ap.add_argument("--min-time", type=float, default=0.5, help="seconds per run (default 0.5)")
    ap.add_argument("--loss", action="append", help="only this loss (repeatable)")
    ap.add_argument("--vs-lossbench", metavar="PATH", help="a lossbench binary: time each case with it too, in turn")
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count())
    gen = torch.Generator().manual_seed(1)
    print("PyTorch %s, %d threads, float32, forward+backward over %d layers, medians of %d runs"
          % (torch.__version__, torch.get_num_threads(), LAYERS, args.runs))
    if args.vs_lossbench:
        print("%-16s %-14s %12s %14s %8s" % ("loss", "shape", "torch ms", "lossengine ms", "ratio"))
    for s in args.shape or ["4x256x64x64"]:
        shape = [int(v) for v in s.split("x")]
        for name, call in cases(shape, gen).items():
            if args.loss and name not in args.loss:
                continue
            if not args.vs_lossbench:
                per = time_runs(call, args.runs, args.min_time)
                print("%-16s %-14s %10.3f ms" % (name, s, 1e3 * statistics.median(per)))
                continue
            tt, lt = [], []
            for _ in range(args.runs):
                tt.extend(time_runs(call, 1, args.min_time))
                sec = run_lossbench(args.vs_lossbench, "host", name, s, args.min_time)
                if sec is None:
                    break
                lt.append(sec)
            if len(lt) < args.runs:
                print("%-16s %-14s lossbench did not run it (not in its cases, or a mismatch)" % (name, s))
                continue
            t, l = statistics.median(tt), statistics.median(lt)
            print("%-16s %-14s %12.2f %14.2f %8.2f" % (name, s, t * 1e3, l * 1e3, l / t))
    return 0


if __name__ == "__main__":
    sys.exit(main())
