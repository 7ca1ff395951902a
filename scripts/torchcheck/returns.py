"""torch_check entries of the returns family: GAE, lambda and n-step
returns, and the TD losses of rlax (td_learning, q_learning,
double_q_learning).

The references are plain torch loops over time, in float64, vectorised
over the B columns of a time-major [T, B] rollout: GAE is
Stable-Baselines3's compute_returns_and_advantage loop (episode_starts
and dones from terminated), extended by the truncation rule (bootstrap
from truncation_values, cut the trace) where a case has truncations;
lambda_returns and n_step_returns are rlax's loops (n_step with its
padding). The TD losses are torch ops with autograd for the gradient
w.r.t. v_tm1 / q_tm1, the targets detached; Huber is F.huber_loss, which
is rlax.huber_loss.

GAE's advantages, the lambda and n-step returns are each loss's "output";
GAE's returns and the TD losses' td are further outputs, which lossbench
eval reports under "outputs": the refs below give them there too.
"""

import torch
import torch.nn.functional as F



def _rollout(rng, T, B, p_end, truncs):
    n = T * B
    r = [rng.gauss(0, 1) for _ in range(n)]
    v = [rng.gauss(0, 3) for _ in range(n)]
    tv = [rng.gauss(0, 1) for _ in range(n)]
    term, trunc = [], []
    for _ in range(n):
        te = 1.0 if rng.random() < p_end else 0.0
        tr = 1.0 if truncs and te == 0 and rng.random() < p_end else 0.0
        term.append(te)
        trunc.append(tr)
    boot = [rng.gauss(0, 3) for _ in range(B)]
    return r, v, tv, term, trunc, boot


def _shape(rng, i):
    T = rng.choice([1, 2, 5, 17, 40]) if i % 5 else 0
    B = rng.choice([1, 3, 8])
    return T, B


def _gen_gae(rng, i):
    T, B = _shape(rng, i)
    truncs = i % 3 == 2
    r, v, tv, term, trunc, boot = _rollout(rng, T, B, rng.choice([0.0, 0.1, 0.3, 1.0]), truncs)
    tb = lambda x: {"shape": [T, B], "data": x}
    ins = {"rewards": tb(r), "values": tb(v), "bootstrap_value": {"shape": [B], "data": boot}}
    opts = {}
    gamma = rng.choice([0.99, 0.9, 0.0, 1.0])
    if i % 2:
        ins["discounts"] = tb([gamma * (1 - x) for x in term])
    else:
        ins["terminated"] = tb(term)
        opts["gamma"] = gamma
    if truncs:
        ins["truncated"] = tb(trunc)
        ins["truncation_values"] = tb(tv)
    if i % 4:
        opts["lambda"] = rng.choice([0.95, 0.0, 1.0, 0.5])
    return {"loss": "gae", "options": opts, "inputs": ins}


def _ends(tc, req):
    """The discounts d [T, B] of a request, and gamma."""
    ins, opts = req["inputs"], req["options"]
    gamma = opts.get("gamma", 0.99)
    if "discounts" in ins:
        return tc.to_torch(ins["discounts"]), gamma
    return gamma * (1 - tc.to_torch(ins["terminated"])), gamma


def _ref_gae(tc):
    def ref(req):
        ins = req["inputs"]
        lam = req["options"].get("lambda", 0.95)
        r, v = tc.to_torch(ins["rewards"]), tc.to_torch(ins["values"])
        boot = tc.to_torch(ins["bootstrap_value"])
        d, _ = _ends(tc, req)
        T = r.shape[0]
        trunc = tc.to_torch(ins["truncated"]) if "truncated" in ins else torch.zeros_like(r)
        tv = tc.to_torch(ins["truncation_values"]) if "truncation_values" in ins else torch.zeros_like(r)
        adv = torch.zeros_like(r)
        last = torch.zeros_like(boot)
        # SB3's loop, with d_t in place of gamma * next_non_terminal, and a
        # truncation bootstrapping from its truncation value with the trace cut
        for step in reversed(range(T)):
            nxt = boot if step == T - 1 else v[step + 1]
            cut = trunc[step] != 0
            nxt = torch.where(cut, tv[step], nxt)
            delta = r[step] + d[step] * nxt - v[step]
            last = delta + torch.where(cut, torch.zeros_like(last), d[step] * lam * last)
            adv[step] = last
        return {"grads": {}, "output": tc.from_torch(adv), "outputs": {"returns": tc.from_torch(adv + v)}}
    return ref


def _gen_seq(name):
    def gen(rng, i):
        T, B = _shape(rng, i)
        r, v, _, term, _, _ = _rollout(rng, T, B, rng.choice([0.0, 0.1, 0.3]), False)
        tb = lambda x: {"shape": [T, B], "data": x}
        ins = {"rewards": tb(r), "values": tb(v)}
        opts = {}
        if i % 2:
            ins["discounts"] = tb([rng.choice([0.9, 0.99, 0.5]) * (1 - x) for x in term])
        else:
            ins["terminated"] = tb(term)
            opts["gamma"] = rng.choice([0.99, 0.9, 0.0])
        if i % 3:
            opts["lambda"] = rng.choice([0.0, 0.5, 0.9, 1.0])
        if name == "n_step_returns":
            opts["n"] = rng.choice([1, 2, 3, 7, 50])
        return {"loss": name, "options": opts, "inputs": ins}
    return gen


def _ref_seq(name, tc):
    def ref(req):
        ins = req["inputs"]
        r, v = tc.to_torch(ins["rewards"]), tc.to_torch(ins["values"])
        d, _ = _ends(tc, req)
        lam = req["options"].get("lambda", 1.0)
        T = r.shape[0]
        if T == 0:
            return {"grads": {}, "output": tc.from_torch(r)}
        if name == "lambda_returns":  # rlax.lambda_returns
            g = v[-1]
            out = torch.zeros_like(r)
            for i in reversed(range(T)):
                g = r[i] + d[i] * ((1 - lam) * v[i] + lam * g)
                out[i] = g
        else:  # rlax.n_step_bootstrapped_returns, with its padding
            n = req["options"].get("n", 1)
            pad = n - 1
            targets = torch.cat([v[n - 1:], v[-1:].expand(min(pad, T), *v.shape[1:])])
            rp = torch.cat([r, torch.zeros(pad, *r.shape[1:], dtype=r.dtype)])
            dp = torch.cat([d, torch.ones(pad, *d.shape[1:], dtype=d.dtype)])
            vp = torch.cat([v, v[-1:].expand(pad, *v.shape[1:])])
            for i in reversed(range(n)):
                targets = rp[i:i + T] + dp[i:i + T] * ((1 - lam) * vp[i:i + T] + lam * targets)
            out = targets
        return {"grads": {}, "output": tc.from_torch(out)}
    return ref


def _gen_td(name):
    def gen(rng, i):
        shape = rng.choice([[1], [5], [3, 4], [16]]) if i % 6 else [0]
        n = 1
        for s in shape:
            n *= s
        A = rng.choice([1, 2, 5])
        g = lambda k, s: [rng.gauss(0, s) for _ in range(k)]
        bt = {"shape": shape, "data": g(n, 1)}
        disc = {"shape": shape, "data": [rng.choice([0.0, 0.5, 0.9, 0.99]) for _ in range(n)]}
        if name == "td_learning":
            ins = {"v_tm1": {"shape": shape, "data": g(n, 2)}, "r_t": bt, "discount_t": disc,
                   "v_t": {"shape": shape, "data": g(n, 2)}}
        else:
            qs = shape + [A]
            ins = {"q_tm1": {"shape": qs, "data": g(n * A, 2)}, "r_t": bt, "discount_t": disc,
                   "a_tm1": {"shape": shape, "data": [rng.randrange(A) for _ in range(n)]}}
            if name == "q_learning":
                ins["q_t"] = {"shape": qs, "data": g(n * A, 2)}
            else:
                ins["q_t_value"] = {"shape": qs, "data": g(n * A, 2)}
                # small integers: ties, where the first index wins
                ins["q_t_selector"] = {"shape": qs, "data": [float(rng.randrange(3)) for _ in range(n * A)]}
        opts = {}
        red = ["mean", "sum", "none", None][i % 4]
        if red:
            opts["reduction"] = red
        if i % 3 == 1:
            opts["kind"] = "huber"
            if i % 2:
                opts["delta"] = rng.choice([0.5, 2.0])
        return {"loss": name, "options": opts, "inputs": ins}
    return gen


def _ref_td(name, tc):
    def ref(req):
        ins, opts = req["inputs"], req["options"]
        r, d = tc.to_torch(ins["r_t"]), tc.to_torch(ins["discount_t"])
        if name == "td_learning":
            x = tc.to_torch(ins["v_tm1"], True)
            q = x
            boot = tc.to_torch(ins["v_t"])
        else:
            x = tc.to_torch(ins["q_tm1"], True)
            a = torch.tensor([int(v) for v in ins["a_tm1"]["data"]], dtype=torch.long).reshape(ins["a_tm1"]["shape"])
            q = x.gather(-1, a.unsqueeze(-1)).squeeze(-1)
            if name == "q_learning":
                boot = tc.to_torch(ins["q_t"]).max(-1).values
            else:
                sel = tc.to_torch(ins["q_t_selector"]).argmax(-1)  # first maximum, as jnp.argmax
                boot = tc.to_torch(ins["q_t_value"]).gather(-1, sel.unsqueeze(-1)).squeeze(-1)
        target = (r + d * boot).detach()
        td = target - q
        if opts.get("kind", "mse") == "huber":
            per = F.huber_loss(td, torch.zeros_like(td), reduction="none", delta=opts.get("delta", 1.0))
        else:
            per = 0.5 * td ** 2
        red = opts.get("reduction", "mean")
        loss = per if red == "none" else (per.sum() if red == "sum" else per.mean())
        loss.backward(torch.ones_like(loss))
        g = x.grad if x.grad is not None else torch.zeros_like(x)
        grad_name = "v_tm1" if name == "td_learning" else "q_tm1"
        return {"loss": tc.loss_json(loss, red), "grads": {grad_name: tc.from_torch(g)},
                "outputs": {"td": tc.from_torch(td)}}
    return ref


def losses(tc):
    out = {"gae": (_gen_gae, _ref_gae(tc))}
    for name in ("lambda_returns", "n_step_returns"):
        out[name] = (_gen_seq(name), _ref_seq(name, tc))
    for name in ("td_learning", "q_learning", "double_q_learning"):
        out[name] = (_gen_td(name), _ref_td(name, tc))
    return out
