#!/usr/bin/python3
"""Time PyTorch for the returns family (the speed peers of
losses/returns.go), float32, the inputs lossbench uses for the same shapes:

  gae             Stable-Baselines3's compute_returns_and_advantage loop:
                  a Python loop over T, vectorised over B (tensors of [B]
                  per step), then returns = advantages + values; shape TxB
                  (default 2048x64)
  lambda_returns  rlax.lambda_returns as the same kind of loop; TxB
  n_step_returns  rlax.n_step_bootstrapped_returns, n = 5: n vectorised
                  passes over shifted [T, B] slices; TxB
  q_learning      rlax.q_learning with 0.5 td^2, mean, forward + backward
                  w.r.t. q_tm1 (autograd); NxA (default 65536x18)

with torch.set_num_threads(os.cpu_count()), printing the median time per
call over several runs. With --vs-lossbench PATH it runs `PATH -loss NAME
-shape S` in turn with PyTorch (interleaved, so that a change of the
machine's load favours neither) and prints both medians and the ratio
(lossengine / PyTorch: below 1 is faster). Run it with Debian's Python:

    go build -o /tmp/lb ./cmd/lossbench
    /usr/bin/python3 scripts/bench_torch_returns.py [--loss NAME] [--shape S] [--vs-lossbench /tmp/lb]
"""

import argparse
import os
import sys

from benchpeer import compare

try:
    import torch
except ImportError:  # pragma: no cover
    sys.exit("bench_torch_returns: PyTorch is not importable by %s; run it with /usr/bin/python3" % sys.executable)

NAMES = ["gae", "lambda_returns", "n_step_returns", "q_learning"]
DEFAULT_SHAPES = {"gae": "2048x64", "lambda_returns": "2048x64", "n_step_returns": "2048x64", "q_learning": "65536x18"}


def build(name, shape, gen):
    """The call of one case."""
    if name == "q_learning":
        n, a = shape
        q_tm1 = torch.randn(n, a, generator=gen).requires_grad_()
        q_t = torch.randn(n, a, generator=gen)
        act = torch.randint(0, a, (n,), generator=gen)
        r = torch.randn(n, generator=gen)
        d = torch.full((n,), 0.99)

        def call():
            q_tm1.grad = None
            target = (r + d * q_t.max(-1).values).detach()
            td = target - q_tm1.gather(-1, act.unsqueeze(-1)).squeeze(-1)
            (0.5 * td ** 2).mean().backward()
        return call
    T, B = shape
    r = torch.randn(T, B, generator=gen)
    v = torch.randn(T, B, generator=gen) * 3
    dones = (torch.rand(T, B, generator=gen) < 0.02).float()
    last_values = torch.randn(B, generator=gen)
    gamma, lam = 0.99, 0.95
    if name == "gae":
        starts = torch.cat([torch.zeros(1, B), dones[:-1]])  # SB3's episode_starts

        def call():
            adv = torch.zeros(T, B)
            last = torch.zeros(B)
            for step in reversed(range(T)):
                if step == T - 1:
                    non_terminal, nxt = 1.0 - dones[-1], last_values
                else:
                    non_terminal, nxt = 1.0 - starts[step + 1], v[step + 1]
                delta = r[step] + gamma * nxt * non_terminal - v[step]
                last = delta + gamma * lam * non_terminal * last
                adv[step] = last
            return adv, adv + v
        return call
    d = gamma * (1 - dones)
    if name == "lambda_returns":
        def call():
            out = torch.zeros(T, B)
            g = v[-1]
            for i in reversed(range(T)):
                g = r[i] + d[i] * g  # lambda 1
                out[i] = g
            return out
        return call
    n = 5

    def call():
        pad = n - 1
        targets = torch.cat([v[n - 1:], v[-1:].expand(min(pad, T), B)])
        rp = torch.cat([r, torch.zeros(pad, B)])
        dp = torch.cat([d, torch.ones(pad, B)])
        for i in reversed(range(n)):
            targets = rp[i:i + T] + dp[i:i + T] * targets
        return targets
    return call


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--loss", action="append", help="only this loss (repeatable; default all)")
    ap.add_argument("--shape", help="the shape of every selected loss (default: TxB 2048x64, q_learning 65536x18)")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per case; the median is printed (default 5)")
    ap.add_argument("--min-time", type=float, default=0.5, help="seconds per run (default 0.5)")
    ap.add_argument("--vs-lossbench", metavar="PATH", help="a lossbench binary to time in turn with PyTorch")
    ap.add_argument("--vs-device", default="host", help="lossbench's device for --vs-lossbench (default host)")
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count())
    gen = torch.Generator().manual_seed(1)
    print("PyTorch %s CPU, %d threads, float32, medians of %d runs%s"
          % (torch.__version__, torch.get_num_threads(), args.runs,
             (" taken in turn with lossengine (%s)" % args.vs_device) if args.vs_lossbench else ""))
    print("%-18s %-16s %10s %14s %7s" % ("loss", "shape", "torch ms", "lossengine ms", "ratio"))
    for name in args.loss or NAMES:
        s = args.shape or DEFAULT_SHAPES[name]
        shape = [int(x) for x in s.split("x")]
        call = build(name, shape, gen)
        with torch.no_grad() if name != "q_learning" else torch.enable_grad():
            compare(name, s, call, args, (18, 16))
        del call


if __name__ == "__main__":
    main()
