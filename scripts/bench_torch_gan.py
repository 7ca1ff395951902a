#!/usr/bin/python3
"""Time PyTorch for the gan family's losses (the speed peers of
losses/gan.go): forward + backward, float32, the shapes lossbench uses:

  gan_discriminator_loss  TF-GAN's minimax discriminator loss in torch ops
                          (binary_cross_entropy_with_logits with the real
                          target smoothed to 1 - 0.25/2, and target 0 on the
                          generated outputs, each a mean), gradients w.r.t.
                          both; shape N (default 1048576 real and N generated)
  gradient_penalty        10 * ((sqrt((g**2).sum(1) + 1e-10) - 1)**2).mean(),
                          gradient w.r.t. g; shape NxD (default 4096x12288)

with torch.set_num_threads(os.cpu_count()), printing the median time per
call over several runs. With --vs-lossbench PATH it runs `PATH -loss NAME
-shape S` in turn with PyTorch (interleaved) and prints both medians and
the ratio (lossengine / PyTorch: below 1 is faster). Run it with Debian's
Python:

    go build -o /tmp/lb ./cmd/lossbench
    /usr/bin/python3 scripts/bench_torch_gan.py [--loss NAME] [--shape S] [--vs-lossbench /tmp/lb]
"""

import os
import sys

from benchpeer import peer_main

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover
    sys.exit("bench_torch_gan: PyTorch is not importable by %s; run it with /usr/bin/python3" % sys.executable)

DEFAULT_SHAPES = {"gan_discriminator_loss": "1048576", "gradient_penalty": "4096x12288"}


def build(name, shape, gen):
    """The call of one case: forward + backward."""
    if name == "gan_discriminator_loss":
        n = shape[0]
        xr = (torch.randn(n, generator=gen) * 2 + 1).requires_grad_()
        xg = (torch.randn(n, generator=gen) * 2 - 1).requires_grad_()
        yr, yg = torch.full((n,), 1 - 0.25 / 2), torch.zeros(n)

        def call():
            xr.grad, xg.grad = None, None
            (F.binary_cross_entropy_with_logits(xr, yr) + F.binary_cross_entropy_with_logits(xg, yg)).backward()
        return call
    g = (torch.randn(*shape, generator=gen) * 0.01).requires_grad_()

    def call():
        g.grad = None
        (10 * ((torch.sqrt((g ** 2).sum(dim=1) + 1e-10) - 1) ** 2).mean()).backward()
    return call


def main():
    peer_main(__doc__, list(DEFAULT_SHAPES), DEFAULT_SHAPES, build, widths=(26, 16), loss_help="only this loss (repeatable; default both)", shape_help="the shape of every selected loss (default: N 1048576, NxD 4096x12288)")


if __name__ == "__main__":
    main()
