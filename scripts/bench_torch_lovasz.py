#!/usr/bin/python3
"""Time PyTorch for the Lovász losses (the speed peer of losses/lovasz.go):
segmentation_models_pytorch's LovaszLoss formula written in torch ops
(softmax over C, per class: |fg - p|, torch.sort descending, the Jaccard
gradient by cumulative sums, a dot product; the binary hinge likewise),
forward + backward w.r.t. the input by autograd, float32, per batch, the
classes present, no ignore_index, on inputs like lossbench's:

  lovasz_softmax_loss  NxCxHxW logits, class labels [N, H, W]
  lovasz_hinge_loss    Nx1xHxW logits, 0/1 labels

with torch.set_num_threads(os.cpu_count()) and medians over several runs.
With --vs-lossbench PATH it runs `PATH -loss NAME -shape S` in turn with
PyTorch (interleaved, so that a change of the machine's load favours
neither) and prints both times and their ratio (lossengine / PyTorch:
below 1 is faster). Run it with Debian's Python, which has PyTorch:

    /usr/bin/python3 scripts/bench_torch_lovasz.py [--shape 8x21x128x128] [--runs 5]
    go build -o /tmp/lb ./cmd/lossbench
    /usr/bin/python3 scripts/bench_torch_lovasz.py --vs-lossbench /tmp/lb [--vs-device host]
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
    sys.exit("bench_torch_lovasz: PyTorch is not importable by %s; run it with /usr/bin/python3" % sys.executable)


def jaccard_grad(fg_sorted):
    gts = fg_sorted.sum()
    inter = gts - fg_sorted.cumsum(0)
    union = gts + (1.0 - fg_sorted).cumsum(0)
    jac = 1.0 - inter / union
    return torch.cat([jac[:1], jac[1:] - jac[:-1]])


def lovasz_softmax(x, labels):
    c = x.shape[1]
    p = x.softmax(dim=1).movedim(1, -1).reshape(-1, c)
    lab = labels.reshape(-1)
    out = []
    for k in range(c):
        fg = (lab == k).float()
        if fg.sum() == 0:
            continue
        errors = (fg - p[:, k]).abs()
        es, perm = torch.sort(errors, 0, descending=True)
        out.append(torch.dot(es, jaccard_grad(fg[perm])))
    return sum(out) / len(out)


def lovasz_hinge(x, labels):
    xf, lab = x.reshape(-1), labels.reshape(-1).float()
    errors = 1.0 - xf * (2.0 * lab - 1.0)
    es, perm = torch.sort(errors, 0, descending=True)
    return torch.dot(F.relu(es), jaccard_grad(lab[perm]))


def case(loss, shape, gen):
    n, c, h, w = shape
    x = torch.randn(n, c, h, w, generator=gen).requires_grad_()
    if loss == "lovasz_softmax_loss":
        t = torch.randint(0, c, (n, h, w), generator=gen)
        fn = lambda: lovasz_softmax(x, t)
    else:
        t = torch.randint(0, 2, (n, c, h, w), generator=gen)
        fn = lambda: lovasz_hinge(x, t)

    def call():
        x.grad = None
        fn().backward()
    return call



def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--loss", action="append", help="only this loss (repeatable)")
    ap.add_argument("--shape", action="append",
                    help="NxCxHxW (repeatable; default 8x21x128x128 for the softmax, 8x1x256x256 for the hinge)")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per case; medians are printed")
    ap.add_argument("--min-time", type=float, default=1.0, help="seconds per timed run")
    ap.add_argument("--vs-lossbench", help="path of a lossbench binary to time in turn with PyTorch")
    ap.add_argument("--vs-device", default="host", help="lossbench's -device (default host)")
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count())
    gen = torch.Generator().manual_seed(1)
    defaults = {"lovasz_softmax_loss": [8, 21, 128, 128], "lovasz_hinge_loss": [8, 1, 256, 256]}
    print("PyTorch %s CPU, %d threads, float32, forward+backward, medians of %d runs"
          % (torch.__version__, torch.get_num_threads(), args.runs))
    if args.vs_lossbench:
        print("%-20s %-14s %10s %14s %7s" % ("loss", "shape", "torch ms", "lossengine ms", "ratio"))
    for loss, dshape in defaults.items():
        if args.loss and loss not in args.loss:
            continue
        shapes = [[int(v) for v in s.split("x")] for s in args.shape] if args.shape else [dshape]
        for shape in shapes:
            if len(shape) != 4 or (loss == "lovasz_hinge_loss" and shape[1] != 1):
                continue
            call = case(loss, shape, gen)
            s = "x".join(map(str, shape))
            if not args.vs_lossbench:
                print("%-20s %-14s %10.2f ms" % (loss, s, 1e3 * statistics.median(time_runs(call, args.runs, args.min_time))))
                continue
            tt, lt = [], []
            for _ in range(args.runs):
                tt.extend(time_runs(call, 1, args.min_time))
                sec = run_lossbench(args.vs_lossbench, args.vs_device, loss, shape, args.min_time)
                if sec is None:
                    break
                lt.append(sec)
            if len(lt) < args.runs:
                print("%-20s %-14s lossbench did not run it (a mismatch, or not built with it)" % (loss, s))
                continue
            t, l = statistics.median(tt), statistics.median(lt)
            print("%-20s %-14s %10.2f %14.2f %7.2f" % (loss, s, 1e3 * t, 1e3 * l, l / t))
    return 0


if __name__ == "__main__":
    sys.exit(main())
