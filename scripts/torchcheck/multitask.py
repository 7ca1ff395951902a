"""torch_check entries of the multitask family: weighted_sum,
uncertainty_weighting (Kendall, Gal & Cipolla 2018, s = log sigma^2) and
gradnorm_loss (Chen et al. 2018), written from the papers' formulas in
torch ops (float64, autograd for the gradients). Inputs are [K] or [M, K]
(M independent sets); each set gives one loss, reduced over the sets.
GradNorm's target mean(G) * r^alpha is computed under no_grad, as the
paper holds it constant.
"""

import torch

NAMES = ["weighted_sum", "uncertainty_weighting", "gradnorm_loss"]


def _shape(rng, i):
    if i % 5 == 0:
        return [rng.choice([1, 2, 3, 8])]
    return [rng.choice([0, 1, 2, 5]), rng.choice([1, 2, 3, 7])]


def _vals(rng, n, lo, hi):
    return [rng.uniform(lo, hi) for _ in range(n)]


def _numel(sh):
    n = 1
    for d in sh:
        n *= d
    return n


def _gen(name):
    def gen(rng, i):
        sh = _shape(rng, i)
        n, k = _numel(sh), sh[-1]
        opts = {}
        red = ["mean", "sum", "none", None][i % 4]
        if red is not None:
            opts["reduction"] = red
        t = lambda v: {"shape": sh, "data": v}
        if name == "weighted_sum":
            ins = {"losses": t(_vals(rng, n, 0, 4)), "weights": t(_vals(rng, n, -1, 2))}
        elif name == "uncertainty_weighting":
            s = _vals(rng, n, -5, 5)
            if n >= 2 and i % 3 == 0:
                s[0], s[1] = 30.0, -30.0
            ins = {"losses": t(_vals(rng, n, 0, 3)), "log_vars": t(s)}
            if i % 2 == 1:
                opts["task_types"] = [rng.choice(["regression", "classification"]) for _ in range(k)]
        else:
            ins = {"weights": t(_vals(rng, n, 0.2, 2)), "grad_norms": t(_vals(rng, n, 0.1, 5)),
                   "initial_losses": t(_vals(rng, n, 0.5, 3)), "losses": t(_vals(rng, n, 0, 3))}
            if i % 3 == 1:
                opts["alpha"] = rng.choice([0.0, 0.5, 2.5])
        return {"loss": name, "options": opts, "inputs": ins}
    return gen


def _per_set(name, req, tc):
    ins = req["inputs"]
    o = req["options"]
    sh = ins["losses"]["shape"]
    k = sh[-1]
    grads = {}

    def inp(key, grad):
        leaf = tc.to_torch(ins[key], grad)
        if grad:
            grads[key] = leaf
        return leaf.reshape(-1, k)

    if name == "weighted_sum":
        L, w = inp("losses", True), inp("weights", True)
        per = (w * L).sum(dim=-1)
    elif name == "uncertainty_weighting":
        L, s = inp("losses", True), inp("log_vars", True)
        types = o.get("task_types") or ["regression"] * k
        c = torch.tensor([1.0 if x == "classification" else 0.5 for x in types], dtype=torch.float64)
        per = (c * torch.exp(-s) * L + 0.5 * s).sum(dim=-1)
    else:
        w, g = inp("weights", True), inp("grad_norms", True)
        L0, L = inp("initial_losses", False), inp("losses", False)
        alpha = o.get("alpha", 1.5)
        G = w * g
        with torch.no_grad():
            lt = L / L0
            r = lt / lt.mean(dim=-1, keepdim=True)
            target = G.mean(dim=-1, keepdim=True) * r ** alpha
        per = (G - target).abs().sum(dim=-1)
    return per.reshape(sh[:-1]), grads


def _ref(name, tc):
    def ref(req):
        per, leaves = _per_set(name, req, tc)
        red = req["options"].get("reduction", "mean")
        if red == "none":
            loss = per
        elif red == "sum":
            loss = per.sum()
        else:
            loss = per.mean()  # NaN for no sets, as lossengine
        if loss.requires_grad:
            loss.backward(torch.ones_like(loss))
        grads = {}
        sh = req["inputs"]["losses"]["shape"]
        for key, v in leaves.items():
            g = v.grad if v.grad is not None else torch.zeros_like(v)
            grads[key] = tc.from_torch(g.reshape(sh))
        return {"loss": tc.loss_json(loss, red), "grads": grads}
    return ref


def losses(tc):
    return {name: (_gen(name), _ref(name, tc)) for name in NAMES}
