#!/usr/bin/python3
"""Time PyTorch for batch_triplet_loss (the speed peer of losses/mining.go):
forward + backward, float32, the shapes lossbench uses:

  circle_loss          Keras 3's circle formula in torch ops (F.normalize,
                       u u^T, masks, detached weights, logsumexp, softplus,
                       the mean over the rows kept), gamma 80, margin 0.4;
                       shape BxD (default 1024x128), labels in 16 classes
  barlow_twins_loss    F.batch_norm (training, affine-free) of both views,
                       c = z1n^T z2n / N, the diagonal and off-diagonal
                       terms (lambd 5e-3), gradients w.r.t. both views;
                       shape NxD (default 512x1024)
  batch_triplet_loss   batch-hard mining, margin 1, euclidean distance:
                       torch.cdist, the positive and negative masks, the
                       farthest positive and nearest negative per anchor
                       (masked max and min), relu, the mean over the
                       anchors that have both; gradient w.r.t. the
                       embeddings by autograd; shape BxD (default 1024x128),
                       labels in 16 classes

with torch.set_num_threads(os.cpu_count()), printing the median time per
call over several runs. With --vs-lossbench PATH it runs `PATH -loss NAME
-shape S` in turn with PyTorch (interleaved, so that a change of the
machine's load favours neither) and prints both medians and the ratio
(lossengine / PyTorch: below 1 is faster). Run it with Debian's Python:

    go build -o /tmp/lb ./cmd/lossbench
    /usr/bin/python3 scripts/bench_torch_mining.py [--shape S] [--vs-lossbench /tmp/lb]
"""

import os
import sys

from benchpeer import peer_main

try:
    import torch
except ImportError:  # pragma: no cover
    sys.exit("bench_torch_mining: PyTorch is not importable by %s; run it with /usr/bin/python3" % sys.executable)

DEFAULT_SHAPES = {"batch_triplet_loss": "1024x128", "circle_loss": "1024x128", "barlow_twins_loss": "512x1024"}


def batch_hard(x, labels, margin=1.0):
    d = torch.cdist(x, x)
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool)
    pos, neg = same & ~eye, ~same
    far = torch.where(pos, d, torch.full_like(d, -float("inf"))).max(dim=1).values
    near = torch.where(neg, d, torch.full_like(d, float("inf"))).min(dim=1).values
    keep = pos.any(dim=1) & neg.any(dim=1)
    return torch.relu(margin + far - near)[keep].mean()


def barlow(z1, z2, lambd=5e-3):
    n = z1.shape[0]
    a = torch.nn.functional.batch_norm(z1, None, None, training=True, eps=1e-5)
    b = torch.nn.functional.batch_norm(z2, None, None, training=True, eps=1e-5)
    c = a.T @ b / n
    diag = torch.diagonal(c)
    return (diag - 1).pow(2).sum() + lambd * (c.pow(2).sum() - diag.pow(2).sum())


def circle(x, labels, gamma=80.0, m=0.4):
    u = torch.nn.functional.normalize(x, dim=1)
    d = torch.clamp(1 - u @ u.T, min=0)
    same = labels[:, None] == labels[None, :]
    pos = same & ~torch.eye(len(labels), dtype=torch.bool)
    neg = ~same
    wp = torch.clamp(m + d, min=0).detach()
    wn = torch.clamp(1 + m - d, min=0).detach()
    ninf = torch.full_like(d, -float("inf"))
    p = torch.logsumexp(torch.where(pos, -gamma * wp * (m - d), ninf), dim=1)
    n = torch.logsumexp(torch.where(neg, gamma * wn * (1 - m - d), ninf), dim=1)
    keep = pos.any(1) & neg.any(1)
    return torch.nn.functional.softplus(p[keep] + n[keep]).mean()


def build(name, shape, gen):
    b, d = shape
    if name == "circle_loss":
        x = torch.randn(b, d, generator=gen).requires_grad_()
        labels = torch.randint(0, 16, (b,), generator=gen)

        def call():
            x.grad = None
            circle(x, labels).backward()
        return call
    if name == "barlow_twins_loss":
        z1 = torch.randn(b, d, generator=gen).requires_grad_()
        z2 = (0.6 * z1.detach() + torch.randn(b, d, generator=gen)).requires_grad_()

        def call():
            z1.grad = z2.grad = None
            barlow(z1, z2).backward()
        return call
    x = torch.randn(b, d, generator=gen).requires_grad_()
    labels = torch.randint(0, 16, (b,), generator=gen)

    def call():
        x.grad = None
        batch_hard(x, labels).backward()
    return call


def main():
    peer_main(__doc__, DEFAULT_SHAPES, DEFAULT_SHAPES, build, widths=(26, 16), loss_help="only this loss (repeatable; default both)", shape_help="BxD of every selected loss (default 1024x128, barlow 512x1024)")


if __name__ == "__main__":
    main()
