#!/usr/bin/python3
"""Time PyTorch for the policy family's losses (the speed peers of
losses/policy.go): forward + backward, float32, a categorical policy of
shape NxA (N = T*B rows, default 65536x18), the inputs lossbench uses for
the same shapes:

  actor_critic_loss     CleanRL's PPO loss (ppo_atari.py): log_softmax,
                        gather of the actions' log-probs, Categorical
                        entropy, ratio, normalised advantages, clamp,
                        clipped surrogate, value loss 0.5*(v - R)^2,
                        loss = pg - 0.01*entropy + 0.5*v_loss, the clip
                        fraction and approximate KL; backward to the
                        logits and values
  ppo_clip_loss         the clipped surrogate alone (normalised advantages)
  policy_gradient_loss  -(log_softmax(x).gather(a) * adv).mean()
  entropy_loss          -Categorical(logits=x).entropy().mean()

with torch.set_num_threads(os.cpu_count()), printing the median time per
call over several runs. With --vs-lossbench PATH it runs `PATH -loss NAME
-shape S` in turn with PyTorch (interleaved, so that a change of the
machine's load favours neither) and prints both medians and the ratio
(lossengine / PyTorch: below 1 is faster). Run it with Debian's Python:

    go build -o /tmp/lb ./cmd/lossbench
    /usr/bin/python3 scripts/bench_torch_policy.py [--loss NAME] [--shape S] [--vs-lossbench /tmp/lb]
"""

import os
import sys

from benchpeer import peer_main

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover
    sys.exit("bench_torch_policy: PyTorch is not importable by %s; run it with /usr/bin/python3" % sys.executable)

NAMES = ["actor_critic_loss", "ppo_clip_loss", "policy_gradient_loss", "entropy_loss"]


def build(name, shape, gen):
    """The call of one case: forward + backward."""
    n, a = shape
    x = torch.randn(n, a, generator=gen).requires_grad_()
    act = torch.randint(0, a, (n,), generator=gen)
    with torch.no_grad():
        old = F.log_softmax(x, -1).gather(-1, act[:, None])[:, 0] + 0.2 * torch.randn(n, generator=gen)
    adv = torch.randn(n, generator=gen)
    v = torch.randn(n, generator=gen).requires_grad_()
    ret = torch.randn(n, generator=gen)
    clip, ent_coef, vf_coef = 0.2, 0.01, 0.5

    def ppo_terms(logp):
        logratio = logp - old
        ratio = logratio.exp()
        with torch.no_grad():
            approx_kl = ((ratio - 1) - logratio).mean()
            clipfrac = ((ratio - 1.0).abs() > clip).float().mean()
        mb_adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        pg1 = -mb_adv * ratio
        pg2 = -mb_adv * torch.clamp(ratio, 1 - clip, 1 + clip)
        return torch.max(pg1, pg2).mean(), approx_kl, clipfrac

    def call():
        x.grad = None
        v.grad = None
        logits = x
        if name == "entropy_loss":
            loss = -torch.distributions.Categorical(logits=logits).entropy().mean()
        else:
            logp_all = F.log_softmax(logits, -1)
            logp = logp_all.gather(-1, act[:, None])[:, 0]
            if name == "policy_gradient_loss":
                loss = -(logp * adv).mean()
            elif name == "ppo_clip_loss":
                loss, _, _ = ppo_terms(logp)
            else:
                entropy = -(logp_all.exp() * logp_all).sum(-1)
                pg_loss, approx_kl, clipfrac = ppo_terms(logp)
                v_loss = 0.5 * ((v - ret) ** 2).mean()
                loss = pg_loss - ent_coef * entropy.mean() + v_loss * vf_coef
                float(approx_kl), float(clipfrac)  # CleanRL logs them
        loss.backward()
    return call


def main():
    peer_main(__doc__, NAMES, {n: "65536x18" for n in NAMES}, build, loss_help="only this loss (repeatable; default all four)", shape_help="NxA (default 65536x18)")


if __name__ == "__main__":
    main()
