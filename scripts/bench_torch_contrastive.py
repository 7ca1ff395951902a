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

import os
import sys

from benchpeer import peer_main

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
    peer_main(__doc__, list(DEFAULT_SHAPES), DEFAULT_SHAPES, build, widths=(16, 14), loss_help="only this loss (repeatable; default all three)", shape_help="the shape of every selected loss (default: each loss's own)")


if __name__ == "__main__":
    main()
