"""torch_check entries of the sac family: soft actor-critic's losses as
CleanRL writes them (sac_atari, sac_continuous_action), in torch ops,
float64, with autograd for the gradients.

sac_discrete_actor_loss, sac_discrete_critic_target and
sac_temperature_loss use F.log_softmax for log pi (the terms CleanRL
detaches are detached here too); action_reduction "mean" is CleanRL's
.mean() over the B x A entries. sac_continuous_actor_loss builds the whole
reparameterised graph: torch.distributions.Normal(mean, exp(log_std)), x =
mean + std * noise, the tanh squash, the log-prob correction, and a real
critic: the minimum of two tiny fixed MLPs Q(a) of the squashed action.
The request carries that critic's q_value and its gradient dq_da at the
action (torch.autograd.grad), as a caller would pass them; the reference
differentiates through the critic itself, so the gradients w.r.t. mean and
log_std check the chain rule end to end.
"""

import math

import torch
import torch.nn.functional as F




def _critics(A):
    g = torch.Generator().manual_seed(1000 + A)
    mk = lambda: (torch.randn(8, A, generator=g, dtype=torch.float64), torch.randn(8, generator=g, dtype=torch.float64),
                  torch.randn(8, generator=g, dtype=torch.float64))
    return mk(), mk()


def _q(critics, a):
    qs = [torch.tanh(a @ w1.T + b1) @ w2 for (w1, b1, w2) in critics]
    return torch.min(qs[0], qs[1])


def _randn(rng, n, s):
    return [rng.gauss(0, s) for _ in range(n)]


def _gen(name):
    def gen(rng, i):
        B = rng.choice([1, 2, 5, 16]) if i % 7 else 0
        A = rng.choice([1, 3, 6])
        opts = {}
        red = ["mean", "sum", "none", None][i % 4]
        if name == "sac_continuous_actor_loss":
            mean = _randn(rng, B * A, 2)
            if B * A > 2 and i % 2:
                mean[0], mean[1] = 15.0, -15.0  # deep in tanh's tails
            ls = [rng.uniform(-2, 0.5) for _ in range(B * A)]
            noise = _randn(rng, B * A, 1)
            scale, bias = (1.0, 0.0) if i % 3 == 0 else (rng.choice([0.5, 2.0]), rng.choice([0.0, -0.3]))
            alpha = rng.choice([0.2, 0.0, 1.0])
            opts.update({"alpha": alpha, "action_scale": scale, "action_bias": bias})
            if red:
                opts["reduction"] = red
            m = torch.tensor(mean, dtype=torch.float64).reshape(B, A)
            s = torch.tensor(ls, dtype=torch.float64).reshape(B, A).exp()
            e = torch.tensor(noise, dtype=torch.float64).reshape(B, A)
            act = (torch.tanh(m + s * e) * scale + bias).requires_grad_()
            q = _q(_critics(A), act)
            dq = torch.autograd.grad(q.sum(), act)[0] if B > 0 else torch.zeros(B, A, dtype=torch.float64)
            sh = [B, A]
            return {"loss": name, "options": opts, "inputs": {
                "mean": {"shape": sh, "data": mean}, "log_std": {"shape": sh, "data": ls},
                "noise": {"shape": sh, "data": noise}, "q_value": {"shape": [B], "data": q.detach().tolist()},
                "dq_da": {"shape": sh, "data": dq.reshape(-1).tolist()}}}
        z = _randn(rng, B * A, 2)
        if B * A > 2 and i % 2:
            z[0], z[1] = 1e4, -1e4
        sh = [B, A]
        if name == "sac_discrete_actor_loss":
            opts["alpha"] = rng.choice([0.2, 0.0, 0.7])
            if red:
                opts["reduction"] = red
            if i % 3 == 1:
                opts["action_reduction"] = "mean"
            return {"loss": name, "options": opts, "inputs": {"logits": {"shape": sh, "data": z},
                                                              "q_values": {"shape": sh, "data": _randn(rng, B * A, 3)}}}
        if name == "sac_discrete_critic_target":
            opts.update({"alpha": rng.choice([0.2, 0.0]), "gamma": rng.choice([0.99, 0.5])})
            return {"loss": name, "options": opts, "inputs": {
                "next_logits": {"shape": sh, "data": z}, "next_q_values": {"shape": sh, "data": _randn(rng, B * A, 3)},
                "rewards": {"shape": [B], "data": _randn(rng, B, 1)},
                "dones": {"shape": [B], "data": [float(rng.random() < 0.3) for _ in range(B)]}}}
        # sac_temperature_loss
        if red:
            opts["reduction"] = red
        ins = {"log_alpha": {"shape": [1], "data": [rng.uniform(-2, 1)]}}
        if i % 2:
            ins["log_pi"] = {"shape": [B], "data": _randn(rng, B, 3)}
            opts["target_entropy"] = -float(A)
        else:
            ins["logits"] = {"shape": sh, "data": z}
            if i % 3 == 0:
                opts["target_entropy"] = rng.choice([-1.0, 0.5])
            if i % 4 == 2:
                opts["action_reduction"] = "mean"
        return {"loss": name, "options": opts, "inputs": ins}
    return gen


def _reduce(per, red):
    if red == "none":
        return per
    return per.sum() if red == "sum" else per.mean()


def _ref(name, tc):
    def ref(req):
        ins, opts = req["inputs"], req["options"]
        red = opts.get("reduction", "mean")
        act_mean = opts.get("action_reduction", "sum") == "mean"
        if name == "sac_discrete_actor_loss":
            z = tc.to_torch(ins["logits"], True)
            q = tc.to_torch(ins["q_values"])
            lp = F.log_softmax(z, dim=-1)
            terms = lp.exp() * (opts.get("alpha", 0.2) * lp - q)
            per = terms.mean(-1) if act_mean else terms.sum(-1)
            loss = _reduce(per, red)
            loss.backward(torch.ones_like(loss))
            return {"loss": tc.loss_json(loss, red), "grads": {"logits": tc.from_torch(z.grad)}}
        if name == "sac_discrete_critic_target":
            z, q = tc.to_torch(ins["next_logits"]), tc.to_torch(ins["next_q_values"])
            lp = F.log_softmax(z, dim=-1)
            v = (lp.exp() * (q - opts.get("alpha", 0.2) * lp)).sum(-1)
            t = tc.to_torch(ins["rewards"]) + (1 - tc.to_torch(ins["dones"])) * opts.get("gamma", 0.99) * v
            return {"grads": {}, "output": tc.from_torch(t)}
        if name == "sac_temperature_loss":
            la = tc.to_torch(ins["log_alpha"], True)
            if "log_pi" in ins:
                per = -la.exp() * (tc.to_torch(ins["log_pi"]) + opts["target_entropy"])
            else:
                z = tc.to_torch(ins["logits"])
                A = z.shape[-1]
                te = opts.get("target_entropy", -0.89 * math.log(1 / A) if A > 0 else 0.0)
                lp = F.log_softmax(z, dim=-1).detach()
                terms = lp.exp() * (-la.exp() * (lp + te))
                per = terms.mean(-1) if act_mean else terms.sum(-1)
            loss = _reduce(per, red)
            loss.backward(torch.ones_like(loss))
            g = la.grad if la.grad is not None else torch.zeros_like(la)
            return {"loss": tc.loss_json(loss, red), "grads": {"log_alpha": tc.from_torch(g)}}
        # sac_continuous_actor_loss: the reparameterised graph through a real critic
        mean, ls = tc.to_torch(ins["mean"], True), tc.to_torch(ins["log_std"], True)
        e = tc.to_torch(ins["noise"])
        scale, bias, alpha = opts.get("action_scale", 1.0), opts.get("action_bias", 0.0), opts.get("alpha", 0.2)
        std = ls.exp()
        normal = torch.distributions.Normal(mean, std)
        x = mean + std * e  # normal.rsample() with the given noise
        y = torch.tanh(x)
        act = y * scale + bias
        log_prob = normal.log_prob(x) - torch.log(scale * (1 - y.pow(2)) + 1e-6)
        log_pi = log_prob.sum(-1)
        q = _q(_critics(mean.shape[-1]), act)
        loss = _reduce(alpha * log_pi - q, red)
        loss.backward(torch.ones_like(loss))
        gm = mean.grad if mean.grad is not None else torch.zeros_like(mean)
        gl = ls.grad if ls.grad is not None else torch.zeros_like(ls)
        return {"loss": tc.loss_json(loss, red), "grads": {"mean": tc.from_torch(gm), "log_std": tc.from_torch(gl)},
                "outputs": {"log_pi": tc.from_torch(log_pi)}}
    return ref


def losses(tc):
    return {name: (_gen(name), _ref(name, tc)) for name in
            ("sac_discrete_actor_loss", "sac_discrete_critic_target", "sac_temperature_loss", "sac_continuous_actor_loss")}
