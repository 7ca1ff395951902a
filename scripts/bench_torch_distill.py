#!/usr/bin/python3
"""Time PyTorch for the distill family (the speed peers of
losses/distill.go): forward + backward, float32, inputs like lossbench's
for the same shapes:

  jsd_loss            Liger-Kernel's generalised JSD (beta 0.5) in torch ops,
                      as Liger's torch reference writes it: log_softmax of
                      both logits, M = lerp(Q, P, beta), beta KL(P||M) +
                      (1 - beta) KL(Q||M) with F.kl_div, the mean over the
                      rows; gradient w.r.t. the student's logits; shape NxV
                      (default 4096x32000)
  sequence_log_probs  TRL's get_batch_logps: gather(log_softmax(logits)) summed
                      per sequence (4 sequences of R/4 tokens); gradient
                      w.r.t. the logits; shape RxV (default 1024x32000)
  dpo_loss            TRL's sigmoid DPO loss, beta 0.1, the mean, gradients
                      w.r.t. both policy log-probabilities; shape N
                      (default 1048576)

with torch.set_num_threads(os.cpu_count()), printing the median time per
call over several runs. With --vs-lossbench PATH it runs `PATH -loss NAME
-shape S` in turn with PyTorch (interleaved, so that a change of the
machine's load favours neither) and prints both medians and the ratio
(lossengine / PyTorch: below 1 is faster). Run it with Debian's Python:

    go build -o /tmp/lb ./cmd/lossbench
    /usr/bin/python3 scripts/bench_torch_distill.py [--loss NAME] [--shape S] [--vs-lossbench /tmp/lb]
"""

import os
import sys

from benchpeer import peer_main

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover
    sys.exit("bench_torch_distill: PyTorch is not importable by %s; run it with /usr/bin/python3" % sys.executable)

NAMES = ["jsd_loss", "sequence_log_probs", "dpo_loss"]
DEFAULT_SHAPES = {"jsd_loss": "4096x32000", "sequence_log_probs": "1024x32000", "dpo_loss": "1048576"}


def build(name, shape, gen):
    """The call of one case: forward + backward."""
    if name == "jsd_loss":
        n, v = shape
        x = (torch.randn(n, v, generator=gen) * 2).requires_grad_()
        y = torch.randn(n, v, generator=gen) * 2
        beta = 0.5

        def call():
            x.grad = None
            lq, lp = F.log_softmax(x, dim=-1), F.log_softmax(y, dim=-1)
            lm = torch.lerp(lq.exp(), lp.exp(), beta).log()
            loss = (beta * F.kl_div(lm, lp, reduction="sum", log_target=True)
                    + (1 - beta) * F.kl_div(lm, lq, reduction="sum", log_target=True)) / n
            loss.backward()
        return call
    if name == "sequence_log_probs":
        r, v = shape
        b, t = (4, r // 4) if r % 4 == 0 else (1, r)
        x = (torch.randn(b, t, v, generator=gen) * 2).requires_grad_()
        tg = torch.randint(0, v, (b, t), generator=gen)

        def call():
            x.grad = None
            lp = torch.gather(F.log_softmax(x, dim=-1), 2, tg.unsqueeze(-1)).squeeze(-1)
            lp.sum(-1).sum().backward()
        return call
    n = shape[0]
    pc, pr = [(torch.randn(n, generator=gen) * 20 - 50).requires_grad_() for _ in range(2)]
    rc, rr = [torch.randn(n, generator=gen) * 20 - 50 for _ in range(2)]

    def call():
        pc.grad, pr.grad = None, None
        logits = (pc - pr) - (rc - rr)
        loss = -F.logsigmoid(0.1 * logits).mean()
        _ = (0.1 * (pc - rc)).detach(), (0.1 * (pr - rr)).detach()
        loss.backward()
    return call


def main():
    peer_main(__doc__, NAMES, DEFAULT_SHAPES, build, widths=(20, 16), loss_help="only this loss (repeatable; default all three)", shape_help="the shape of every selected loss (default: each loss's own)")


if __name__ == "__main__":
    main()
