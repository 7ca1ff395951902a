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

import argparse
import os
import sys

from benchpeer import compare

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
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--loss", action="append", help="only this loss (repeatable; default both)")
    ap.add_argument("--shape", help="the shape of every selected loss (default: 65536x18, 65536x6)")
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
    print("%-26s %-16s %10s %14s %7s" % ("loss", "shape", "torch ms", "lossengine ms", "ratio"))
    for name in args.loss or NAMES:
        s = args.shape or DEFAULT_SHAPES[name]
        call = build(name, [int(x) for x in s.split("x")], gen)
        compare(name, s, call, args, (26, 16))
        del call


if __name__ == "__main__":
    main()
