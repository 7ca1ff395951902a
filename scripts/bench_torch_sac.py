#!/usr/bin/python3
"""Time PyTorch for the sac family (the speed peers of losses/sac.go),
float32, forward + backward, the inputs lossbench uses for the same shapes:

  sac_discrete_actor_loss    CleanRL sac_atari's actor loss: F.log_softmax,
                             (probs * (alpha * log_pi - q)).sum(1).mean(),
                             gradient w.r.t. the logits; shape BxA
                             (default 65536x18)
  sac_continuous_actor_loss  CleanRL sac_continuous_action's: Normal(mean,
                             std).log_prob(x), the tanh correction,
                             (alpha * log_pi - q).mean() with q's gradient
                             w.r.t. the action given (dq_da, as lossengine
                             takes it), gradients w.r.t. mean and log_std;
                             shape BxA (default 65536x6)

with torch.set_num_threads(os.cpu_count()), printing the median time per
call over several runs. With --vs-lossbench PATH it runs `PATH -loss NAME
-shape S` in turn with PyTorch (interleaved, so that a change of the
machine's load favours neither) and prints both medians and the ratio
(lossengine / PyTorch: below 1 is faster). Run it with Debian's Python:

    go build -o /tmp/lb ./cmd/lossbench
    /usr/bin/python3 scripts/bench_torch_sac.py [--loss NAME] [--shape S] [--vs-lossbench /tmp/lb]
"""

import os
import sys

from benchpeer import peer_main

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover
    sys.exit("bench_torch_sac: PyTorch is not importable by %s; run it with /usr/bin/python3" % sys.executable)

NAMES = ["sac_discrete_actor_loss", "sac_continuous_actor_loss"]
DEFAULT_SHAPES = {"sac_discrete_actor_loss": "65536x18", "sac_continuous_actor_loss": "65536x6"}


def build(name, shape, gen):
    b, a = shape
    if name == "sac_discrete_actor_loss":
        z = (torch.randn(b, a, generator=gen) * 2).requires_grad_()
        q = torch.randn(b, a, generator=gen) * 3

        def call():
            z.grad = None
            lp = F.log_softmax(z, dim=1)
            (lp.exp() * (0.2 * lp - q)).sum(1).mean().backward()
        return call
    mean = torch.randn(b, a, generator=gen).requires_grad_()
    ls = (torch.randn(b, a, generator=gen) * 0.3 - 0.5).requires_grad_()
    eps = torch.randn(b, a, generator=gen)
    qv = torch.randn(b, generator=gen)
    dq = torch.randn(b, a, generator=gen)

    def call():
        mean.grad, ls.grad = None, None
        std = ls.exp()
        normal = torch.distributions.Normal(mean, std)
        x = mean + std * eps
        y = torch.tanh(x)
        log_pi = (normal.log_prob(x) - torch.log(1 - y.pow(2) + 1e-6)).sum(1)
        # q(ã) to first order around the given q_value: its gradient is dq_da
        q = qv + (dq * (y - y.detach())).sum(1)
        (0.2 * log_pi - q).mean().backward()
    return call


def main():
    peer_main(__doc__, NAMES, DEFAULT_SHAPES, build, loss_help="only this loss (repeatable; default both)", shape_help="the shape of every selected loss (default: 65536x18, 65536x6)")


if __name__ == "__main__":
    main()
