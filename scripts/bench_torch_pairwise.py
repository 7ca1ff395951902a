#!/usr/bin/python3
"""Time PyTorch for the pairwise losses (the speed peers of
losses/pairwise.go): forward + backward, float32, reduction mean, the
gradient w.r.t. every [N, D] input, standard normal inputs of the shapes
lossbench uses:

  triplet_margin_loss                 F.triplet_margin_loss (margin 1, p 2)
  triplet_margin_with_distance_loss   F.triplet_margin_with_distance_loss (pairwise_distance)
  cosine_embedding_loss               F.cosine_embedding_loss, targets ±1
  cosine_similarity_loss              Keras' formula in torch ops
  contrastive_loss                    Hadsell's formula in torch ops, targets 0/1
  margin_ranking_loss                 F.margin_ranking_loss, shape N (default 1048576)

The NxD losses default to 65536x128. With torch.set_num_threads(os.cpu_count()),
printing the median time per call over several runs. With --vs-lossbench
PATH it runs `PATH -loss NAME -shape S` in turn with PyTorch (interleaved,
so that a change of the machine's load favours neither) and prints both
medians and the ratio (lossengine / PyTorch: below 1 is faster). Run it
with Debian's Python:

    go build -o /tmp/lb ./cmd/lossbench
    /usr/bin/python3 scripts/bench_torch_pairwise.py [--loss NAME] [--shape S] [--vs-lossbench /tmp/lb]
"""

import os
import sys

from benchpeer import peer_main

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover
    sys.exit("bench_torch_pairwise: PyTorch is not importable by %s; run it with /usr/bin/python3" % sys.executable)

ROWS = ["triplet_margin_loss", "triplet_margin_with_distance_loss", "cosine_embedding_loss",
        "cosine_similarity_loss", "contrastive_loss"]
NAMES = ROWS + ["margin_ranking_loss"]
DEFAULT_SHAPES = {name: "65536x128" for name in ROWS}
DEFAULT_SHAPES["margin_ranking_loss"] = "1048576"


def build(name, shape, gen):
    """The call of one case: forward + backward."""
    def randn(k):
        return [torch.randn(*shape, generator=gen).requires_grad_() for _ in range(k)]
    n = shape[0]
    if name in ("triplet_margin_loss", "triplet_margin_with_distance_loss"):
        xs = randn(3)
        fn = F.triplet_margin_loss if name == "triplet_margin_loss" else F.triplet_margin_with_distance_loss
        f = lambda: fn(*xs)
    elif name == "cosine_embedding_loss":
        xs = randn(2)
        y = torch.randint(0, 2, (n,), generator=gen).float() * 2 - 1
        f = lambda: F.cosine_embedding_loss(xs[0], xs[1], y)
    elif name == "cosine_similarity_loss":
        xs = randn(2)

        def f():
            a = xs[0] / torch.sqrt(torch.clamp_min((xs[0] * xs[0]).sum(-1, keepdim=True), 1e-12))
            b = xs[1] / torch.sqrt(torch.clamp_min((xs[1] * xs[1]).sum(-1, keepdim=True), 1e-12))
            return (-(a * b).sum(-1)).mean()
    elif name == "contrastive_loss":
        xs = randn(2)
        y = torch.randint(0, 2, (n,), generator=gen).float()

        def f():
            d = (xs[0] - xs[1]).norm(dim=1)
            return (0.5 * y * d ** 2 + 0.5 * (1 - y) * torch.clamp_min(1.0 - d, 0) ** 2).mean()
    else:
        xs = randn(2)
        y = torch.randint(0, 2, (n,), generator=gen).float() * 2 - 1
        f = lambda: F.margin_ranking_loss(xs[0], xs[1], y)

    def call():
        for x in xs:
            x.grad = None
        f().backward()
    return call


def main():
    peer_main(__doc__, NAMES, DEFAULT_SHAPES, build, widths=(34, 12), loss_help="only this loss (repeatable; default all six)", shape_help="the shape of every selected loss (default: NxD 65536x128, margin_ranking_loss 1048576)")


if __name__ == "__main__":
    main()
