"""torch_check entries of the policy family: the reinforcement-learning
losses policy_gradient_loss, entropy_loss and gaussian_entropy_loss (rlax's
definitions),
ppo_clip_loss (CleanRL's clipped surrogate), value_loss (CleanRL's and
rlax's l2 and Huber losses, PPO's clipped form) and actor_critic_loss
(CleanRL's full PPO loss expression, or the A2C one with the policy
gradient term).

Each reference is the loss written in torch ops from its source's
definition, in float64 with autograd for the gradients: log_softmax and
gather for a categorical policy, torch.distributions.Categorical for its
entropy, torch.distributions.Normal for the diagonal Gaussian (log-probs
summed over the action dimension), and for the tanh-squashed one SB3's
SquashedDiagGaussianDistribution (atanh of the actions clamped to
+-(1 - eps), eps float32's machine epsilon as lossengine documents, minus
sum log(1 - a^2 + 1e-6); entropy estimated as -log pi(a)).
"""

import math

import torch
import torch.nn.functional as F

NAMES = ["policy_gradient_loss", "entropy_loss", "gaussian_entropy_loss", "ppo_clip_loss", "value_loss", "actor_critic_loss"]
EPS32 = 1.1920928955078125e-07


def _batch(rng, i):
    shapes = [[5, 3], [7], [1], [2, 4], [0], [11]]
    lead = shapes[i % len(shapes)]
    a = [1, 2, 4, 6, 18][(i // 2) % 5]
    return lead, a


def _numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def _t(shape, data):
    return {"shape": list(shape), "data": data}


def _policy(rng, lead, a, kind, inputs):
    """Adds a policy's inputs; returns the log-prob of each element (float64, for old log-probs)."""
    n = _numel(lead)
    full = lead + [a]
    lps = []
    if kind == "cat":
        x = [rng.gauss(0, 2) for _ in range(n * a)]
        acts = [rng.randrange(a) for _ in range(n)]
        for r in range(n):
            if r % 4 == 3:  # saturated rows, the action at a maximum
                for j in range(a):
                    x[r * a + j] = 1e4 if j % 2 == 0 else -1e4
                acts[r] = 2 * rng.randrange((a + 1) // 2)
            row = x[r * a:(r + 1) * a]
            m = max(row)
            lps.append(row[acts[r]] - m - math.log(sum(math.exp(v - m) for v in row)))
        inputs["logits"] = _t(full, x)
        inputs["actions"] = _t(lead, acts)
    else:
        mu = [rng.gauss(0, 0.5) for _ in range(n * a)]
        ls = [rng.gauss(-0.2, 0.3) for _ in range(n * a)]
        act = [rng.gauss(0, 0.8) for _ in range(n * a)]
        if kind == "squash":
            act = [math.tanh(v) for v in act]
        for r in range(n):
            lp = 0.0
            for k in range(r * a, (r + 1) * a):
                u = math.atanh(act[k]) if kind == "squash" else act[k]
                z = (u - mu[k]) / math.exp(ls[k])
                lp += -0.5 * z * z - ls[k] - 0.5 * math.log(2 * math.pi)
                if kind == "squash":
                    lp -= math.log(1 - act[k] ** 2 + 1e-6)
            lps.append(lp)
        inputs["mean"] = _t(full, mu)
        inputs["log_std"] = _t(full, ls)
        inputs["actions"] = _t(full, act)
    return lps


def _gen(name):
    def gen(rng, i):
        lead, a = _batch(rng, i)
        n = _numel(lead)
        kind = ["cat", "gauss", "squash"][i % 3]
        if name == "entropy_loss":
            kind = "cat"
        elif name == "gaussian_entropy_loss":
            kind = ["gauss", "squash"][i % 2]
        inputs, opts = {}, {}
        per = lambda s, o: [o + s * rng.gauss(0, 1) for _ in range(n)]
        if name == "value_loss":
            inputs["values"], inputs["returns"] = _t(lead, per(2, 0)), _t(lead, per(2, 0))
            if i % 4 == 1:
                opts["kind"] = "huber"
                if i % 8 == 1:
                    opts["delta"] = 0.5
            if i % 3 == 2:
                opts["clip_vf"] = 0.3
                inputs["old_values"] = _t(lead, per(2, 0))
            if i % 5 < 3:
                opts["reduction"] = ["mean", "sum", "none"][i % 5]
            return {"loss": name, "options": opts, "inputs": inputs}
        direct = name == "ppo_clip_loss" and i % 6 == 5
        if direct:
            lps = per(0.5, -1)
            inputs["log_probs"] = _t(lead, lps)
        else:
            lps = _policy(rng, lead, a, kind, inputs)
            if kind == "squash":
                opts["squash"] = True
        if name == "entropy_loss" or name == "gaussian_entropy_loss" and kind != "squash":
            del inputs["actions"]
        if name == "gaussian_entropy_loss" and kind != "squash" and i % 4 == 0:
            del inputs["mean"]  # the entropy does not depend on it
        adv = per(1, 0.3)
        for r in range(0, n, 3):
            adv[r] = 0.0
        if name in ("policy_gradient_loss", "entropy_loss", "gaussian_entropy_loss"):
            if name == "policy_gradient_loss":
                inputs["advantages"] = _t(lead, adv)
            if i % 2 == 0:
                w = per(1, 0.5)
                for r in range(1, n, 4):
                    w[r] = 0.0
                inputs["weights"] = _t(lead, w)
            if i % 5 < 3:
                opts["reduction"] = ["mean", "sum", "none"][i % 5]
            return {"loss": name, "options": opts, "inputs": inputs}
        ppo = name == "ppo_clip_loss" or i % 2 == 1
        inputs["advantages"] = _t(lead, adv)
        if ppo:
            # log-ratios inside and outside the clip range
            inputs["old_log_probs"] = _t(lead, [lp - rng.choice([-0.6, -0.1, 0.05, 0.5, 0.12, -0.3]) for lp in lps])
            if i % 4 >= 2:
                opts["normalize_advantages"] = True
            if i % 3 == 1:
                opts["clip_eps"] = 0.1
        if name == "ppo_clip_loss":
            if i % 5 < 3:
                opts["reduction"] = ["mean", "sum", "none"][i % 5]
            return {"loss": name, "options": opts, "inputs": inputs}
        opts["policy_loss"] = "ppo" if ppo else "pg"
        inputs["values"], inputs["returns"] = _t(lead, per(2, 0)), _t(lead, per(2, 0))
        if i % 4 == 1:
            opts["kind"] = "huber"
        if i % 3 == 0:
            opts["clip_vf"] = 0.2
            inputs["old_values"] = _t(lead, per(2, 0))
        if i % 5 == 0:
            opts["value_coef"], opts["entropy_coef"] = 0.7, 0.05
        return {"loss": name, "options": opts, "inputs": inputs}
    return gen


def _logp_entropy(tc, ins, opts, grads):
    """log pi(a) and the entropy (None for log_probs) of the request's policy, with leaves in grads."""
    if "log_probs" in ins:
        lp = tc.to_torch(ins["log_probs"], True)
        grads["log_probs"] = lp
        return lp, None
    if "logits" in ins:
        x = tc.to_torch(ins["logits"], True)
        grads["logits"] = x
        if x.numel() > 0:
            ent = torch.distributions.Categorical(logits=x).entropy()
        else:  # Categorical refuses an empty batch
            ent = x.sum(-1)
        if "actions" not in ins:
            return None, ent
        act = torch.tensor([int(v) for v in ins["actions"]["data"]], dtype=torch.long).reshape(ins["actions"]["shape"])
        lp = F.log_softmax(x, -1).gather(-1, act.unsqueeze(-1)).squeeze(-1)
        return lp, ent
    ls = tc.to_torch(ins["log_std"], True)
    grads["log_std"] = ls
    if "mean" not in ins:  # gaussian_entropy_loss without squash
        return None, (ls + 0.5 * math.log(2 * math.pi * math.e)).sum(-1)
    mu = tc.to_torch(ins["mean"], True)
    grads["mean"] = mu
    dist = torch.distributions.Normal(mu, ls.exp())
    if not opts.get("squash"):
        ent = dist.entropy().sum(-1)
        if "actions" not in ins:
            return None, ent
        return dist.log_prob(tc.to_torch(ins["actions"])).sum(-1), ent
    a = tc.to_torch(ins["actions"])
    u = torch.atanh(a.clamp(-1 + EPS32, 1 - EPS32))
    lp = dist.log_prob(u).sum(-1) - torch.log(1 - a ** 2 + 1e-6).sum(-1)
    return lp, -lp  # SB3: no closed form, -log pi(a) estimates the entropy


def _reduce(per, red):
    if red == "none":
        return per
    if red == "sum":
        return per.sum()
    return per.mean()  # NaN for no elements, as lossengine


def _value(tc, ins, opts, grads):
    v, r = tc.to_torch(ins["values"], True), tc.to_torch(ins["returns"])
    grads["values"] = v
    delta = opts.get("delta", 1.0)

    def l(d):
        if opts.get("kind") == "huber":  # rlax.huber_loss
            q = d.abs().clamp(max=delta)
            return 0.5 * q ** 2 + delta * (d.abs() - q)
        return 0.5 * d ** 2  # CleanRL's 0.5 * (v - R)^2, rlax.l2_loss
    c = opts.get("clip_vf", 0.0)
    if c > 0:  # CleanRL's clip_vloss
        old = tc.to_torch(ins["old_values"])
        vc = old + torch.clamp(v - old, -c, c)
        return torch.max(l(v - r), l(vc - r))
    return l(v - r)


def _ppo_terms(tc, lp, ins, opts):
    """CleanRL's clipped surrogate per element, and clip fraction, approx kl."""
    old = tc.to_torch(ins["old_log_probs"])
    adv = tc.to_torch(ins["advantages"])
    if opts.get("normalize_advantages"):
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    eps = opts.get("clip_eps", 0.2)
    logratio = lp - old
    ratio = logratio.exp()
    pg1 = -adv * ratio
    pg2 = -adv * torch.clamp(ratio, 1 - eps, 1 + eps)
    with torch.no_grad():  # CleanRL's logged statistics
        stats = {"clip_fraction": ((ratio - 1).abs() > eps).double().mean(),
                 "approx_kl": ((ratio - 1) - logratio).mean()}
    return torch.max(pg1, pg2), stats


def _ref(name, tc):
    def ref(req):
        ins, opts = req["inputs"], req["options"]
        grads, stats = {}, {}
        red = opts.get("reduction", "mean")
        if name == "value_loss":
            loss = _reduce(_value(tc, ins, opts, grads), red)
        else:
            lp, ent = _logp_entropy(tc, ins, opts, grads)
            if name == "policy_gradient_loss":  # rlax: -mean(log_pi_a * adv * w)
                adv = tc.to_torch(ins["advantages"])
                w = tc.to_torch(ins["weights"]) if "weights" in ins else torch.ones_like(adv)
                loss = _reduce(-(lp * adv * w), red)
            elif name in ("entropy_loss", "gaussian_entropy_loss"):  # rlax: -mean(entropy * w)
                w = tc.to_torch(ins["weights"]) if "weights" in ins else torch.ones_like(ent)
                loss = _reduce(-(ent * w), red)
            elif name == "ppo_clip_loss":
                terms, stats = _ppo_terms(tc, lp, ins, opts)
                loss = _reduce(terms, red)
            else:  # CleanRL: loss = pg_loss - ent_coef * entropy_loss + v_loss * vf_coef
                if opts.get("policy_loss") == "ppo":
                    terms, stats = _ppo_terms(tc, lp, ins, opts)
                    pg_loss = terms.mean()
                else:
                    pg_loss = -(lp * tc.to_torch(ins["advantages"])).mean()
                v_loss = _value(tc, ins, opts, grads).mean()
                loss = pg_loss - opts.get("entropy_coef", 0.01) * ent.mean() + v_loss * opts.get("value_coef", 0.5)
                stats.update({"policy_loss": pg_loss.detach(), "value_loss": v_loss.detach(),
                              "entropy": ent.detach().mean()})
        if loss.numel() > 0:
            loss.backward(torch.ones_like(loss))
        out = {}
        for k, t in grads.items():
            out[k] = tc.from_torch(t.grad if t.grad is not None else torch.zeros_like(t))
        return {"loss": tc.loss_json(loss, red if name != "actor_critic_loss" else "mean"), "grads": out,
                "outputs": {k: tc.from_torch(v) for k, v in stats.items()}}
    return ref


def losses(tc):
    return {name: (_gen(name), _ref(name, tc)) for name in NAMES}
