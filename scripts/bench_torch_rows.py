#!/usr/bin/python3
"""Time PyTorch for the row losses lossbench times with -loss (the speed
peer of losses/rowloss.go): forward + backward w.r.t. the input, float32,
mean reduction, the same inputs as lossbench's cases:

  cross_entropy_probs  F.cross_entropy with probability targets
  nll_loss             F.nll_loss on the logits as log-probabilities
  focal_loss           -(1 - p_t)^2 log p_t from F.log_softmax and gather
  multi_margin_loss    F.multi_margin_loss (p 1, margin 1)
  categorical_hinge    max(0, amax((1-y) x) - sum(y x) + 1), one-hot y
  distill_kl           F.kl_div(F.log_softmax(s/2), F.softmax(t/2), "batchmean") * 4,
                       and with the teacher as log_softmax(t/2), log_target=True

with torch.set_num_threads(os.cpu_count()), printing the median time per
call over several runs. Run it with Debian's Python, which has PyTorch:

    /usr/bin/python3 scripts/bench_torch_rows.py [--shape 512x32000] [--runs 7]
"""

import argparse
import os
import statistics
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover
    sys.exit("bench_torch_rows: PyTorch is not importable by %s; run it with /usr/bin/python3" % sys.executable)


def cases(n, c, gen):
    x = torch.randn(n, c, generator=gen).requires_grad_()
    t = torch.randint(0, c, (n,), generator=gen)
    y = torch.softmax(torch.randn(n, c, generator=gen), dim=1)
    onehot = F.one_hot(t, c).float()
    teacher = torch.randn(n, c, generator=gen)

    def focal():
        lpt = F.log_softmax(x, dim=1).gather(1, t[:, None])[:, 0]
        return (-(-torch.expm1(lpt)) ** 2 * lpt).mean()

    def hinge():
        pos = (onehot * x).sum(dim=1)
        neg = ((1 - onehot) * x).amax(dim=1)
        return torch.clamp(neg - pos + 1, min=0).mean()

    return x, {
        "cross_entropy_probs": lambda: F.cross_entropy(x, y),
        "nll_loss": lambda: F.nll_loss(x, t),
        "focal_loss": focal,
        "multi_margin_loss": lambda: F.multi_margin_loss(x, t),
        "categorical_hinge": hinge,
        "distill_kl": lambda: F.kl_div(F.log_softmax(x / 2, dim=1), F.softmax(teacher / 2, dim=1), reduction="batchmean") * 4,
        # The same value with the teacher as log-probabilities: F.softmax is
        # much slower than F.log_softmax in Debian's torch 1.13.
        "distill_kl/log_target": lambda: F.kl_div(F.log_softmax(x / 2, dim=1), F.log_softmax(teacher / 2, dim=1),
                                                  reduction="batchmean", log_target=True) * 4,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shape", action="append", help="NxC (repeatable; default 512x32000 and 4096x128)")
    ap.add_argument("--runs", type=int, default=7, help="timed runs per case; the median is printed")
    ap.add_argument("--loss", action="append", help="only this loss (repeatable)")
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count())
    gen = torch.Generator().manual_seed(1)
    print("PyTorch %s, %d threads, float32" % (torch.__version__, torch.get_num_threads()))
    for s in args.shape or ["512x32000", "4096x128"]:
        n, c = (int(v) for v in s.split("x"))
        x, fns = cases(n, c, gen)
        for name, fn in fns.items():
            if args.loss and name not in args.loss:
                continue

            def call():
                x.grad = None
                fn().backward()
            call()  # warm up
            per = []
            for _ in range(args.runs):
                k, t0 = 0, time.perf_counter()
                while True:
                    call()
                    k += 1
                    if time.perf_counter() - t0 > 0.2:
                        break
                per.append((time.perf_counter() - t0) / k)
            print("%-20s %-10s %10.3f ms" % (name, s, 1e3 * statistics.median(per)))


if __name__ == "__main__":
    main()
