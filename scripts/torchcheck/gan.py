"""torch_check entries of the gan family: TF-GAN's discriminator and
generator losses (tensorflow_gan/python/losses/losses_impl.py), the
relativistic average GAN loss, the WGAN-GP gradient penalty and the R1
penalty.

TF-GAN is not available here, so the reference is TF-GAN's formulas written
in torch ops (float64, autograd for the gradients w.r.t. both tensors of
discriminator outputs): tf.losses.sigmoid_cross_entropy with its label
smoothing y*(1 - ls) + ls/2 as torch's binary_cross_entropy_with_logits,
tf.losses.mean_squared_error as (x - label)^2, and TF-GAN's default
reduction SUM_BY_NONZERO_WEIGHTS as sum(w*t) / count_nonzero(w) (over no
nonzero weight this gives NaN, where TF's div_no_nan gives 0: lossengine
follows torch's mean of nothing). With reduction "none" the terms are
concatenated, real ones first.

For the penalties the `gradients` tensor is made as a caller makes it: a
tiny torch discriminator D (two linear layers with a softplus) on random
interpolates x, gradients = torch.autograd.grad(D(x).sum(), x,
create_graph=True); the check compares the penalty and its gradient
w.r.t. those gradients (torch.autograd.grad of the penalty w.r.t. the
gradients tensor).
"""

import torch
import torch.nn.functional as F

KINDS = ["minimax", "non_saturating", "wasserstein", "hinge", "least_squares", "relativistic_average"]


def _data(rng, n, saturate):
    x = [rng.gauss(0, 2.5) for _ in range(n)]
    if saturate:
        for i, v in enumerate([0.0, 1.0, -1.0, 1e4, -1e4][:n]):
            x[i] = v
    return x


def _weights(rng, n):
    return [0.0 if i % 3 == 0 else rng.uniform(0, 2) for i in range(n)]


def _gen(name):
    def gen(rng, i):
        nr = rng.choice([0, 1, 2, 5, 17, 64]) if i % 5 else 9
        ng = rng.choice([1, 3, 8, 33]) if i % 7 else 0
        kind = KINDS[i % len(KINDS)]
        opts = {"kind": kind}
        red = ["mean", "sum", "none", None][(i // len(KINDS)) % 4]
        if red is not None:
            opts["reduction"] = red
        if i % 3 == 1:
            opts["label_smoothing"] = rng.choice([0.0, 0.1, 0.5])
        if kind == "least_squares" and i % 2:
            opts["real_label"] = rng.uniform(0.5, 1.5)
            if name == "gan_discriminator_loss":
                opts["fake_label"] = rng.uniform(-1, 0.5)
        ins = {"real_logits": {"shape": [nr], "data": _data(rng, nr, i % 2 == 0)},
               "gen_logits": {"shape": [ng], "data": _data(rng, ng, i % 4 == 0)}}
        if i % 4 == 3:
            ins["real_weights"] = {"shape": [nr], "data": _weights(rng, nr)}
            ins["generated_weights"] = {"shape": [ng], "data": _weights(rng, ng)}
        if name == "gan_generator_loss" and kind != "relativistic_average" and i % 6 == 5:
            del ins["real_logits"]
            ins.pop("real_weights", None)
        return {"loss": name, "options": opts, "inputs": ins}
    return gen


def _reduce(t, w, red):
    """TF-GAN's weighted reduction of the terms t: SUM_BY_NONZERO_WEIGHTS
    for mean (NaN over no nonzero weight), the weighted sum, or the weighted
    terms."""
    wt = t if w is None else t * w
    if red == "none":
        return wt
    if red == "sum":
        return wt.sum()
    cnt = torch.tensor(float(t.numel())) if w is None else (w != 0).sum().double()
    return wt.sum() / cnt


def _sce(x, y):
    return F.binary_cross_entropy_with_logits(x, torch.full_like(x, y), reduction="none")


def _terms(name, kind, xr, xg, o):
    """The per-element terms (real, generated) of the loss; None where a
    tensor has no terms."""
    gen = name == "gan_generator_loss"
    ls = o.get("label_smoothing", 0.0 if gen else 0.25)
    rl, fl = o.get("real_label", 1.0), o.get("fake_label", 0.0)
    if kind == "relativistic_average":
        mr, mg = xr.mean(), xg.mean()
        if not gen:  # -log sigmoid(r - mean g), -log(1 - sigmoid(g - mean r))
            return F.softplus(-(xr - mg)), F.softplus(xg - mr)
        return F.softplus(xr - mg), F.softplus(-(xg - mr))
    if not gen:
        if kind in ("minimax", "non_saturating"):
            return _sce(xr, 1.0 * (1 - ls) + 0.5 * ls), _sce(xg, 0.0)
        if kind == "wasserstein":
            return -xr, xg
        if kind == "hinge":
            return F.relu(1 - xr), F.relu(1 + xg)
        return 0.5 * (xr - rl) ** 2, 0.5 * (xg - fl) ** 2
    if kind == "minimax":
        return None, -_sce(xg, 0.0)
    if kind == "non_saturating":
        return None, _sce(xg, 1.0 * (1 - ls) + 0.5 * ls)
    if kind in ("wasserstein", "hinge"):
        return None, -xg
    return None, 0.5 * (xg - rl) ** 2


def _ref(name, tc):
    def ref(req):
        ins, o = req["inputs"], req["options"]
        kind = o.get("kind", "non_saturating")
        red = o.get("reduction", "mean")
        has_real = "real_logits" in ins
        xr = tc.to_torch(ins["real_logits"], True) if has_real else torch.zeros(0, dtype=torch.float64)
        xg = tc.to_torch(ins["gen_logits"], True)
        wr = tc.to_torch(ins["real_weights"]) if "real_weights" in ins else None
        wg = tc.to_torch(ins["generated_weights"]) if "generated_weights" in ins else None
        tr, tg = _terms(name, kind, xr, xg, o)
        parts = ([] if tr is None else [_reduce(tr, wr, red)]) + [_reduce(tg, wg, red)]
        loss = torch.cat(parts) if red == "none" else sum(parts[1:], parts[0])
        ins_g = [xr, xg] if has_real else [xg]
        if loss.requires_grad:
            gs = torch.autograd.grad(loss, ins_g, torch.ones_like(loss), allow_unused=True)
        else:
            gs = [None] * len(ins_g)
        gs = [torch.zeros_like(t) if g is None else g for t, g in zip(ins_g, gs)]
        grads = {"gen_logits": tc.from_torch(gs[-1])}
        if has_real:
            grads["real_logits"] = tc.from_torch(gs[0])
        return {"loss": tc.loss_json(loss, red), "grads": grads}
    return ref


def _pen_gen(name):
    def gen(rng, i):
        n = rng.choice([0, 1, 2, 5, 9]) if i % 6 else 4
        d = rng.choice([1, 3, 8, 20])
        torch.manual_seed(1000 + i)
        D = torch.nn.Sequential(torch.nn.Linear(d, 6), torch.nn.Softplus(), torch.nn.Linear(6, 1)).double()
        xr, xf = torch.randn(n, d, dtype=torch.float64), torch.randn(n, d, dtype=torch.float64)
        eps = torch.rand(n, 1, dtype=torch.float64)
        x = (eps * xr + (1 - eps) * xf).requires_grad_() if name == "gradient_penalty" else xr.requires_grad_()
        (g,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
        data = [float(v) for v in g.detach().reshape(-1).tolist()]
        if n > 2 and i % 2 == 0:
            data[d:2 * d] = [0.0] * d  # a zero row: the norm is sqrt(epsilon)
        opts = {}
        red = ["mean", "sum", "none", None][i % 4]
        if red is not None:
            opts["reduction"] = red
        if name == "gradient_penalty":
            if i % 3 == 1:
                opts.update({"target": rng.choice([0.5, 1.0, 2.0]), "weight": rng.choice([1.0, 10.0]),
                             "one_sided": bool(i % 2)})
            if i % 5 == 2:
                opts["epsilon"] = 1e-6
        elif i % 3 == 1:
            opts["gamma"] = rng.choice([0.1, 1.0, 5.0])
        return {"loss": name, "options": opts, "inputs": {"gradients": {"shape": [n, d], "data": data}}}
    return gen


def _pen_ref(name, tc):
    def ref(req):
        o = req["options"]
        red = o.get("reduction", "mean")
        g = tc.to_torch(req["inputs"]["gradients"], True)
        sq = (g ** 2).sum(dim=1)
        if name == "gradient_penalty":
            slopes = torch.sqrt(sq + o.get("epsilon", 1e-10))
            pen = slopes - o.get("target", 1.0)
            if o.get("one_sided", False):
                pen = torch.clamp(pen, min=0.0)
            per = o.get("weight", 10.0) * pen ** 2
        else:
            per = o.get("gamma", 10.0) / 2 * sq
        loss = per if red == "none" else (per.sum() if red == "sum" else per.mean())
        (gg,) = torch.autograd.grad(loss, g, torch.ones_like(loss), allow_unused=True)
        if gg is None:
            gg = torch.zeros_like(g)
        return {"loss": tc.loss_json(loss, red), "grads": {"gradients": tc.from_torch(gg)}}
    return ref


def losses(tc):
    out = {name: (_gen(name), _ref(name, tc)) for name in ["gan_discriminator_loss", "gan_generator_loss"]}
    out.update({name: (_pen_gen(name), _pen_ref(name, tc)) for name in ["gradient_penalty", "r1_penalty"]})
    return out
