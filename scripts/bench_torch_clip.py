#!/usr/bin/python3
"""Time PyTorch for gradient clipping (the speed peer of losses/clip.go):
torch.nn.utils.clip_grad_norm_ and clip_grad_value_ on float32 gradients,
the work lossbench's entries do for the same shapes:

  clip_grad_norm    shape KxN (default 200x33554432): K gradient tensors of
                    random lengths totalling N elements; each call copies
                    the original gradients into .grad (as lossbench copies
                    input to output) and clips them to global 2-norm 1
  clip_grad_value   shape N (default 33554432): one tensor, copied into
                    .grad, then clamped to [-1, 1]

with torch.set_num_threads(os.cpu_count()), printing the median time per
call over several runs. With --vs-lossbench PATH it runs `PATH -loss NAME
-shape S` in turn with PyTorch (interleaved, so that a change of the
machine's load favours neither) and prints both medians and the ratio
(lossengine / PyTorch: below 1 is faster). --no-copy times PyTorch's
clipping alone (no copy; clip_grad_norm then scales by a coefficient near 1
after the first call, which PyTorch still multiplies by). Run it with
Debian's Python:

    go build -o /tmp/lb ./cmd/lossbench
    /usr/bin/python3 scripts/bench_torch_clip.py [--loss NAME] [--shape S] [--vs-lossbench /tmp/lb]
"""

import argparse
import os
import random
import sys

from benchpeer import compare

try:
    import torch
except ImportError:  # pragma: no cover
    sys.exit("bench_torch_clip: PyTorch is not importable by %s; run it with /usr/bin/python3" % sys.executable)

NAMES = ["clip_grad_norm", "clip_grad_value"]
DEFAULT_SHAPES = {"clip_grad_norm": "200x33554432", "clip_grad_value": "33554432"}


def sizes(k, n, rng):
    """k random lengths, about n/k each (half to 1.5 times), totalling n."""
    out, left = [], n
    for _ in range(k - 1):
        v = min(left, n // k // 2 + rng.randrange(max(1, n // k)))
        out.append(v)
        left -= v
    out.append(left)
    return out


def build(name, shape, gen, copy):
    """The call of one case."""
    if name == "clip_grad_norm":
        k, n = shape
        lens = sizes(k, n, random.Random(1))
    else:
        lens = [shape[0]]
    orig = [torch.randn(m, generator=gen) for m in lens]
    params = [torch.nn.Parameter(torch.zeros(m)) for m in lens]
    for p, o in zip(params, orig):
        p.grad = o.clone()

    def call():
        if copy:
            for p, o in zip(params, orig):
                p.grad.copy_(o)
        if name == "clip_grad_norm":
            torch.nn.utils.clip_grad_norm_(params, 1.0)
        else:
            torch.nn.utils.clip_grad_value_(params, 1.0)
    return call


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--loss", action="append", help="only this one (repeatable; default both)")
    ap.add_argument("--shape", help="the shape of every selected case (default: 200x33554432, 33554432)")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per case; the median is printed (default 5)")
    ap.add_argument("--min-time", type=float, default=1.0, help="seconds per run (default 1)")
    ap.add_argument("--no-copy", action="store_true", help="time the clipping alone, without restoring .grad")
    ap.add_argument("--vs-lossbench", metavar="PATH", help="a lossbench binary to time in turn with PyTorch")
    ap.add_argument("--vs-device", default="host", help="lossbench's device for --vs-lossbench (default host)")
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count())
    gen = torch.Generator().manual_seed(1)
    print("PyTorch %s CPU, %d threads, float32, %s, medians of %d runs%s"
          % (torch.__version__, torch.get_num_threads(), "clip only" if args.no_copy else "copy + clip", args.runs,
             (" taken in turn with lossengine (%s)" % args.vs_device) if args.vs_lossbench else ""))
    print("%-16s %-14s %10s %14s %7s" % ("loss", "shape", "torch ms", "lossengine ms", "ratio"))
    for name in args.loss or NAMES:
        s = args.shape or DEFAULT_SHAPES[name]
        shape = [int(v) for v in s.split("x")]
        call = build(name, shape, gen, not args.no_copy)
        compare(name, s, call, args, (16, 14))
        del call


if __name__ == "__main__":
    main()
