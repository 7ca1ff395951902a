#!/usr/bin/python3
"""Time PyTorch for weighted_sum, uncertainty_weighting and gradnorm_loss
(the speed peers of losses/multitask.go): forward + backward, float32,
shape MxK (M sets of K tasks; default 1x8, where both sides are bound by
the cost of a call, not by arithmetic), the mean over the sets, the
gradients w.r.t. the differentiable inputs, the papers' formulas in torch
ops with autograd (GradNorm's target under no_grad). With --vs-lossbench
PATH it times `PATH -loss NAME -shape S` in turn with PyTorch and prints
both medians and the ratio (lossengine / PyTorch). Run it with Debian's
Python:

    go build -o /tmp/lb ./cmd/lossbench
    /usr/bin/python3 scripts/bench_torch_multitask.py [--loss NAME] [--shape S] [--vs-lossbench /tmp/lb]
"""

import argparse
import os
import sys

from benchpeer import compare

try:
    import torch
except ImportError:  # pragma: no cover
    sys.exit("bench_torch_multitask: PyTorch is not importable by %s; run it with /usr/bin/python3" % sys.executable)

NAMES = ["weighted_sum", "uncertainty_weighting", "gradnorm_loss"]


def build(name, shape, gen):
    m, k = shape

    def u(lo, hi, grad):
        t = lo + torch.rand(m, k, generator=gen) * (hi - lo)
        return t.requires_grad_() if grad else t

    if name == "weighted_sum":
        L, w = u(0, 3, True), u(0.2, 2, True)

        def call():
            L.grad = w.grad = None
            (w * L).sum(dim=-1).mean().backward()
    elif name == "uncertainty_weighting":
        L, s = u(0, 3, True), u(-2, 2, True)

        def call():
            L.grad = s.grad = None
            (0.5 * torch.exp(-s) * L + 0.5 * s).sum(dim=-1).mean().backward()
    else:
        w, g, L0, L = u(0.2, 2, True), u(0.1, 3, True), u(0.5, 2, False), u(0, 2, False)

        def call():
            w.grad = g.grad = None
            G = w * g
            with torch.no_grad():
                lt = L / L0
                target = G.mean(dim=-1, keepdim=True) * (lt / lt.mean(dim=-1, keepdim=True)) ** 1.5
            (G - target).abs().sum(dim=-1).mean().backward()
    return call


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--loss", action="append", help="only this loss (repeatable; default all three)")
    ap.add_argument("--shape", default="1x8", help="MxK (default 1x8)")
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
    print("%-26s %-16s %10s %14s %7s" % ("loss", "shape", "torch ms", "lossengine ms", "ratio"))
    shape = [int(v) for v in args.shape.split("x")]
    for name in args.loss or NAMES:
        call = build(name, shape, gen)
        compare(name, args.shape, call, args, (26, 16))
        del call


if __name__ == "__main__":
    main()
