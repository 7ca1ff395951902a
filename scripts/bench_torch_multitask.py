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

import sys

from benchpeer import peer_main

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
    peer_main(__doc__, NAMES, {n: "1x8" for n in NAMES}, build, loss_help="only this loss (repeatable; default all three)", shape_help="MxK (default 1x8)")


if __name__ == "__main__":
    main()
