#!/usr/bin/python3
"""Time PyTorch for soft_f1_loss and soft_mcc_loss (the speed peers of
losses/softmetric.go): forward + backward, float32, the inputs lossbench
uses for the same shapes (logits through a sigmoid, 0/1 targets):

  soft_f1_loss   the macro soft-F1 loss in torch ops: per-class tp, fp, fn
                 over the batch, 1 - mean(2tp / (2tp + fp + fn + 1e-16))
  soft_mcc_loss  segmentation_models_pytorch's MCCLoss formula in torch ops
                 (eps 1e-5), after the sigmoid

both with autograd for the gradient w.r.t. the logits, shape NxC (default
65536x20), with torch.set_num_threads(os.cpu_count()), printing the median
time per call over several runs. With --vs-lossbench PATH it runs `PATH
-loss NAME -shape S` in turn with PyTorch (interleaved, so that a change of
the machine's load favours neither) and prints both medians and the ratio
(lossengine / PyTorch: below 1 is faster). Run it with Debian's Python:

    go build -o /tmp/lb ./cmd/lossbench
    /usr/bin/python3 scripts/bench_torch_softmetric.py [--loss NAME] [--shape S] [--vs-lossbench /tmp/lb]
"""

import os
import sys

from benchpeer import peer_main

try:
    import torch
except ImportError:  # pragma: no cover
    sys.exit("bench_torch_softmetric: PyTorch is not importable by %s; run it with /usr/bin/python3" % sys.executable)

NAMES = ["soft_f1_loss", "soft_mcc_loss"]


def soft_f1(p, y, eps=1e-16):
    tp = (p * y).sum(dim=0)
    fp = (p * (1 - y)).sum(dim=0)
    fn = ((1 - p) * y).sum(dim=0)
    return 1 - (2 * tp / (2 * tp + fp + fn + eps)).mean()


def soft_mcc(p, y, eps=1e-5):
    tp = torch.sum(p * y) + eps
    tn = torch.sum((1 - p) * (1 - y)) + eps
    fp = torch.sum(p * (1 - y)) + eps
    fn = torch.sum((1 - p) * y) + eps
    num = tp * tn - fp * fn
    den = torch.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return 1.0 - num / den


def build(name, shape, gen):
    """The call of one case: forward + backward."""
    n, c = shape
    x = (torch.randn(n, c, generator=gen) * 2).requires_grad_()
    y = (torch.rand(n, c, generator=gen) < 0.25).float()
    f = soft_f1 if name == "soft_f1_loss" else soft_mcc

    def call():
        x.grad = None
        f(torch.sigmoid(x), y).backward()
    return call


def main():
    peer_main(__doc__, NAMES, {n: "65536x20" for n in NAMES}, build, loss_help="only this loss (repeatable; default both)", shape_help="NxC (default 65536x20)")


if __name__ == "__main__":
    main()
