#!/usr/bin/python3
"""Time PyTorch for the contrastive losses (the speed peers of
losses/contrastive.go): forward + backward, float32, the shapes lossbench
uses:

  nt_xent_loss   NxD two views (default 2048x128): F.normalize of [z1; z2],
                 the similarity matrix / 0.5 with its diagonal masked,
                 F.cross_entropy against the other view, gradients w.r.t.
                 z1 and z2
  info_nce_loss  BxD in-batch (default 2048x128): F.normalize, Q P^T / 0.1,
                 F.cross_entropy with label i, gradients w.r.t. both
  supcon_loss    BxD, two views (default 1024x128, features [B, 2, D]): SupContrast's SupConLoss
                 without labels on F.normalize'd features, gradient w.r.t.
                 the features

with torch.set_num_threads(os.cpu_count()), printing the median time per
call over several runs. With --vs-lossbench PATH it runs `PATH -loss NAME
-shape S` in turn with PyTorch and prints both medians and the ratio
(lossengine / PyTorch: below 1 is faster). Run it with Debian's Python:

    go build -o /tmp/lb ./cmd/lossbench
    /usr/bin/python3 scripts/bench_torch_contrastive.py [--loss NAME] [--shape S] [--vs-lossbench /tmp/lb]
"""

import argparse
import os
import sys

from benchpeer import compare

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover
    sys.exit("bench_torch_contrastive: PyTorch is not importable by %s; run it with /usr/bin/python3" % sys.executable)

DEFAULT_SHAPES = {"nt_xent_loss": "2048x128", "info_nce_loss": "2048x128", "supcon_loss": "1024x128"}


def supcon(features, tau=0.07, tb=0.07):
    b, v = features.shape[0], features.shape[1]
    mask = torch.eye(b).repeat(v, v)
    contrast = torch.cat(torch.unbind(features, dim=1), dim=0)
    adc = contrast @ contrast.T / tau
    logits = adc - adc.max(dim=1, keepdim=True)[0].detach()
    logits_mask = torch.scatter(torch.ones_like(mask), 1, torch.arange(b * v).view(-1, 1), 0)
    mask = mask * logits_mask
    log_prob = logits - torch.log((torch.exp(logits) * logits_mask).sum(1, keepdim=True))
    mpp = mask.sum(1)
    mpp = torch.where(mpp < 1e-6, torch.ones_like(mpp), mpp)
    return (-(tau / tb) * (mask * log_prob).sum(1) / mpp).mean()


def build(name, shape, gen):
    """The call of one case: forward + backward."""
    if name == "supcon_loss":
        x = torch.randn(shape[0], 2, shape[1], generator=gen).requires_grad_()

        def call():
            x.grad = None
            supcon(F.normalize(x, dim=-1)).backward()
        return call
    n, d = shape
    a = torch.randn(n, d, generator=gen).requires_grad_()
    b = torch.randn(n, d, generator=gen).requires_grad_()
    if name == "info_nce_loss":
        labels = torch.arange(n)

        def call():
            a.grad, b.grad = None, None
            F.cross_entropy(F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T / 0.1, labels).backward()
        return call
    eye = torch.eye(2 * n, dtype=torch.bool)
    target = (torch.arange(2 * n) + n) % (2 * n)

    def call():
        a.grad, b.grad = None, None
        z = F.normalize(torch.cat([a, b]), dim=1)
        F.cross_entropy((z @ z.T / 0.5).masked_fill(eye, float("-inf")), target).backward()
    return call


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--loss", action="append", help="only this loss (repeatable; default all three)")
    ap.add_argument("--shape", help="the shape of every selected loss (default: each loss's own)")
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
    print("%-16s %-14s %10s %14s %7s" % ("loss", "shape", "torch ms", "lossengine ms", "ratio"))
    for name in args.loss or list(DEFAULT_SHAPES):
        s = args.shape or DEFAULT_SHAPES[name]
        shape = [int(v) for v in s.split("x")]
        call = build(name, shape, gen)
        compare(name, s, call, args, (16, 14))
        del call


if __name__ == "__main__":
    main()
