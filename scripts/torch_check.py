#!/usr/bin/python3
"""Cross-check `lossbench eval` against PyTorch.

Generates random cases of every loss that `lossbench eval` supports, runs
each through `lossbench eval` (dtype float64 on the host device) and through
torch.nn.functional in float64 with autograd, and compares the values and
gradients (|ours - torch| <= atol + rtol * |torch|, NaN equal to NaN,
infinities equal when of the same sign).

A second part measures float32 accuracy where the logistic losses
saturate (binary_cross_entropy_with_logits, sigmoid_focal_loss,
soft_margin_loss, log_cosh on logits from -30 to 30): lossengine's float32
results (`lossbench eval`, dtype float32 on the host device) and PyTorch's
float32 ones against the exact values (mpmath, which comes with PyTorch
through SymPy), printed per loss and result; it fails where lossengine's
float32 error is larger than PyTorch's float32 error on the same inputs,
or than 1e-5 relative.

Run it with Debian's Python, which has PyTorch:

    go build -o /tmp/lb ./cmd/lossbench
    /usr/bin/python3 scripts/torch_check.py --lossbench /tmp/lb

The losses come from `lossbench losses -json`, which lists every loss that
package losses declares: a declared loss without an entry in LOSSES (or an
entry for a loss no longer declared) fails the check. A new loss is one
entry in LOSSES (or in a family module, scripts/torchcheck/<family>.py):
a generator of random requests and the PyTorch function (or the published
formula in torch ops, with autograd for the gradient) that computes the
expected response.
"""

import argparse
import glob
import importlib.util
import json
import os
import math
import random
import struct
import subprocess
import sys

try:
    import mpmath
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover
    sys.exit("torch_check: PyTorch is not importable by %s; run it with /usr/bin/python3 "
             "(Debian's python3-torch)" % sys.executable)

RTOL = 1e-6
ATOL = 1e-8


# ---------------------------------------------------------------- JSON codec

def enc(v):
    """A float as lossbench's JSON wants it: non-finite values as strings."""
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def dec(v):
    if isinstance(v, str):
        s = v.strip().lower()
        if s in ("inf", "+inf", "infinity", "+infinity"):
            return math.inf
        if s in ("-inf", "-infinity"):
            return -math.inf
        if s in ("nan", "+nan", "-nan"):
            return math.nan
        raise ValueError("bad number string %r" % v)
    return float(v)


def tensor_json(shape, data):
    return {"shape": list(shape), "data": [enc(float(x)) for x in data]}


def from_torch(t):
    """A torch tensor as {"shape", "data"} with plain floats."""
    t = t.detach()
    return {"shape": list(t.shape), "data": [float(x) for x in t.reshape(-1).tolist()]}


def to_torch(tj, requires_grad=False):
    data = [dec(x) for x in tj["data"]]
    t = torch.tensor(data, dtype=torch.float64).reshape(tj["shape"])
    if requires_grad:
        t.requires_grad_()
    return t


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def loss_json(t, reduction):
    t = t.detach()
    if reduction == "none":
        return [float(x) for x in t.reshape(-1).tolist()]
    return float(t)


# ---------------------------------------------------------------- generators

def gauss_data(rng, n, scale=1.0, shift=0.0):
    return [shift + scale * rng.gauss(0, 1) for _ in range(n)]


def gen_cross_entropy(rng, i):
    n = rng.choice([1, 1, 2, 3, 5, 8, 17, 33])
    c = rng.choice([1, 2, 3, 7, 10, 31, 100])
    scale = rng.choice([1, 1, 1, 10, 1000, 1e4])
    shift = rng.choice([0, 0, 0, 1e4, -1e4])
    x = gauss_data(rng, n * c, scale, shift)
    opts = {"reduction": ["mean", "sum", "none"][i % 3]}
    if i % 2 == 1:
        opts["weight"] = [rng.choice([0.0, rng.uniform(0, 3), rng.uniform(0.5, 1.5)]) for _ in range(c)]
    ls = rng.choice([None, 0.0, 0.1, rng.uniform(0, 1), 1.0])
    if ls is not None:
        opts["label_smoothing"] = ls
    ignore = rng.choice([None, -100, rng.randrange(c), 7 if c <= 7 else -1])
    if ignore is not None:
        opts["ignore_index"] = ignore
    ig = -100 if ignore is None else ignore
    all_ignored = i % 10 == 9
    t = []
    for _ in range(n):
        if all_ignored or rng.random() < 0.25:
            t.append(ig)
        else:
            v = rng.randrange(c)
            t.append(v)
    if i % 2 == 0:  # the language-model epilogues
        opts["softcap"] = rng.choice([0.0, 1.5, 30.0])
        opts["z_loss"] = rng.choice([0.0, 1e-4, 0.05])
        opts["return_accuracy"] = True
    return {"loss": "cross_entropy", "options": opts,
            "inputs": {"input": tensor_json([n, c], x), "target": tensor_json([n], t)}}


def safe_mean(total, count):
    """total / count, or NaN with a zero gradient when count is 0 (PyTorch's
    cross_entropy mean over no counted row)."""
    if float(count) > 0:
        return total / count
    return total * 0 + float("nan")


def torch_cross_entropy(req):
    o = req["options"]
    x = to_torch(req["inputs"]["input"], True)
    t = torch.tensor([int(dec(v)) for v in req["inputs"]["target"]["data"]], dtype=torch.long)
    w = o.get("weight")
    w = torch.tensor(w, dtype=torch.float64) if w is not None else None
    red = o.get("reduction", "mean")
    ig = o.get("ignore_index", -100)
    s, z = o.get("softcap", 0.0), o.get("z_loss", 0.0)
    # Soft-capping (Gemma 2) in torch ops: s * tanh(x / s) before the softmax.
    xs = s * torch.tanh(x / s) if s > 0 else x
    loss = F.cross_entropy(xs, t, weight=w, ignore_index=ig, reduction=red,
                           label_smoothing=o.get("label_smoothing", 0.0))
    out = {}
    if z > 0 or o.get("return_accuracy"):
        # PaLM's z-loss z * logsumexp^2 per counted row, not class-weighted,
        # the mean over the counted rows (Liger-Kernel's convention); the
        # accuracy is argmax == target over the counted rows.
        keep = (t != ig).to(torch.float64)
        zr = z * torch.logsumexp(xs, dim=1) ** 2 * keep
        acc = (xs.argmax(dim=1) == t).to(torch.float64) * keep if x.shape[1] > 0 else keep
        red_fn = {"none": lambda v: v, "sum": lambda v: v.sum(), "mean": lambda v: safe_mean(v.sum(), keep.sum())}[red]
        loss = loss + red_fn(zr)
        if z > 0:
            out["z_loss"] = from_torch(red_fn(zr))
        if o.get("return_accuracy"):
            out["accuracy"] = from_torch(red_fn(acc))
    loss.backward(torch.ones_like(loss))
    r = {"loss": loss_json(loss, red), "grads": {"input": from_torch(x.grad)}}
    if out:
        r["outputs"] = out
    return r


def gen_mse_loss(rng, i):
    shape = rng.choice([[], [1], [7], [3, 4], [2, 3, 5], [64], [0]])
    n = numel(shape)
    scale = rng.choice([1, 1, 1e3, 1e-3])
    x = gauss_data(rng, n, scale)
    y = gauss_data(rng, n, scale)
    opts = {}
    red = ["mean", "sum", "none"][i % 3]
    if red != "mean" or rng.random() < 0.5:
        opts["reduction"] = red
    return {"loss": "mse_loss", "options": opts,
            "inputs": {"input": tensor_json(shape, x), "target": tensor_json(shape, y)}}


def torch_mse_loss(req):
    x = to_torch(req["inputs"]["input"], True)
    y = to_torch(req["inputs"]["target"], True)
    red = req["options"].get("reduction", "mean")
    loss = F.mse_loss(x, y, reduction=red)
    loss.backward(torch.ones_like(loss))
    return {"loss": loss_json(loss, red),
            "grads": {"input": from_torch(x.grad), "target": from_torch(y.grad)}}


def gen_row_op(name):
    def gen(rng, i):
        shape = rng.choice([[1], [5], [1, 1], [3, 7], [2, 3, 4], [4, 1], [2, 100], [1, 33]])
        n = numel(shape)
        cols = shape[-1]
        scale = rng.choice([1, 1, 10, 1e3])
        x = gauss_data(rng, n, scale)
        if cols >= 2 and i % 4 == 3:
            # some -inf entries, never a whole row
            for r in range(n // cols):
                if rng.random() < 0.5:
                    x[r * cols + rng.randrange(cols - 1)] = -math.inf
        opts = {}
        tau = rng.choice([None, 1.0, 0.5, 2.0, rng.uniform(0.1, 5)])
        if tau is not None:
            opts["temperature"] = tau
        dim = rng.choice([None, -1, len(shape) - 1])
        if dim is not None:
            opts["dim"] = dim
        out_shape = list(shape)
        if name == "logsumexp":
            keepdim = rng.choice([None, False, True])
            if keepdim is not None:
                opts["keepdim"] = keepdim
            out_shape = shape[:-1] + [1] if keepdim else shape[:-1]
        inputs = {"input": tensor_json(shape, x)}
        if rng.random() < 0.6:
            inputs["grad_output"] = tensor_json(out_shape, gauss_data(rng, numel(out_shape)))
        return {"loss": name, "options": opts, "inputs": inputs}
    return gen


def torch_row_op(name):
    def ref(req):
        o = req["options"]
        x = to_torch(req["inputs"]["input"], True)
        z = x / o.get("temperature", 1.0)
        if name == "softmax":
            y = F.softmax(z, dim=-1)
        elif name == "log_softmax":
            y = F.log_softmax(z, dim=-1)
        else:
            y = torch.logsumexp(z, dim=-1, keepdim=bool(o.get("keepdim", False)))
        g = req["inputs"].get("grad_output")
        dy = to_torch(g) if g is not None else torch.ones_like(y)
        y.backward(dy)
        return {"output": from_torch(y), "grads": {"input": from_torch(x.grad)}}
    return ref


def gen_ctc_loss(rng, i):
    """Random CTC cases: variable input and target lengths, repeated labels,
    any blank, empty targets, impossible sequences (target longer than its
    input allows), padded or concatenated targets, every reduction,
    zero_infinity, time- or batch-major layout, and the three gradient
    conventions: exact (d loss / d log_probs, on unnormalised input too),
    pytorch (torch's log_probs.grad) and logits (softmax folded in)."""
    T = rng.randint(1, 12)
    N = rng.randint(1, 4)
    C = rng.randint(2, 7)
    blank = rng.choice([0, 0, rng.randrange(C)])
    kind = ["pytorch", "exact", "logits"][i % 3]
    il, tl, labels = [], [], []
    for _ in range(N):
        tn = rng.randint(1, T)
        if rng.random() < 0.15:
            ln = rng.randint(tn // 2 + 1, tn + 2)  # often impossible
        else:
            ln = rng.randint(0, max(0, (tn - 1) // 2 + 1))
        lab = []
        for _ in range(ln):
            if lab and rng.random() < 0.3:
                lab.append(lab[-1])  # a repeat
            else:
                v = rng.randrange(C - 1)
                lab.append(v + 1 if v >= blank else v)
        il.append(tn)
        tl.append(ln)
        labels.append(lab)
    x = gauss_data(rng, T * N * C, rng.choice([1.0, 2.0, 5.0]))
    if kind == "pytorch":  # normalised log-probabilities
        xt = torch.tensor(x, dtype=torch.float64).reshape(T, N, C)
        x = F.log_softmax(xt, dim=-1).reshape(-1).tolist()
    opts = {"reduction": ["mean", "sum", "none"][(i // 3) % 3]}
    if blank != 0 or rng.random() < 0.3:
        opts["blank"] = blank
    if rng.random() < 0.4:
        opts["zero_infinity"] = rng.random() < 0.6
    if kind == "logits":
        opts["logits"] = True
    else:
        opts["grad_mode"] = kind
    batch_first = rng.random() < 0.3
    if batch_first:
        opts["batch_first"] = True
    xt = torch.tensor(x, dtype=torch.float64).reshape(T, N, C)
    if batch_first:
        xin = tensor_json([N, T, C], xt.transpose(0, 1).reshape(-1).tolist())
    else:
        xin = tensor_json([T, N, C], x)
    if rng.random() < 0.5:
        S = max(tl + [0]) + rng.choice([0, 0, 1, 2])
        flat = []
        for lab in labels:
            flat += lab + [rng.choice([blank, 0])] * (S - len(lab))  # padding is never read
        targets = tensor_json([N, S], flat)
    else:
        flat = [v for lab in labels for v in lab]
        targets = tensor_json([len(flat)], flat)
    return {"loss": "ctc_loss", "options": opts,
            "inputs": {"log_probs": xin, "targets": targets,
                       "input_lengths": tensor_json([N], il), "target_lengths": tensor_json([N], tl)}}


def torch_ctc_loss(req):
    o = req["options"]
    inp = req["inputs"]
    x = to_torch(inp["log_probs"])
    bf = bool(o.get("batch_first", False))
    if bf:
        x = x.transpose(0, 1).contiguous()
    T, N, C = x.shape
    tj = inp["targets"]
    targets = torch.tensor([int(dec(v)) for v in tj["data"]], dtype=torch.long).reshape(tj["shape"])
    il = torch.tensor([int(dec(v)) for v in inp["input_lengths"]["data"]], dtype=torch.long)
    tl = torch.tensor([int(dec(v)) for v in inp["target_lengths"]["data"]], dtype=torch.long)
    blank = o.get("blank", 0)
    red = o.get("reduction", "mean")
    zi = bool(o.get("zero_infinity", False))
    x.requires_grad_()
    lp = F.log_softmax(x, dim=-1) if o.get("logits") else x
    loss = F.ctc_loss(lp, targets, il, tl, blank=blank, reduction=red, zero_infinity=zi)
    loss.backward(torch.ones_like(loss))
    g = x.grad.detach().clone()
    # Which sequences have no alignment: torch's gradient there is NaN
    # without zero_infinity; lossengine's is 0 (documented).
    with torch.no_grad():
        per = F.ctc_loss(x.detach() if not o.get("logits") else F.log_softmax(x.detach(), dim=-1),
                         targets, il, tl, blank=blank, reduction="none", zero_infinity=False)
    for n in range(N):
        if math.isinf(float(per[n])):
            g[:, n, :] = 0
    if not o.get("logits") and o.get("grad_mode", "exact") == "exact":
        # torch returns w_n (exp(lp) - occ); the exact gradient is -w_n occ.
        for n in range(N):
            if math.isinf(float(per[n])):
                continue
            w = 1.0 / (N * max(int(tl[n]), 1)) if red == "mean" else 1.0
            tn = int(il[n])
            g[:tn, n, :] -= w * torch.exp(x.detach()[:tn, n, :])
    if bf:
        g = g.transpose(0, 1).contiguous()
    return {"loss": loss_json(loss, red), "grads": {"log_probs": from_torch(g)}}


def gen_seq_cross_entropy(rng, i):
    n, t, v = rng.randint(1, 4), rng.randint(1, 6), rng.choice([2, 3, 7, 20])
    pad = rng.choice([None, 0, v - 1])
    ig = -100 if pad is None else pad
    x = gauss_data(rng, n * t * v, rng.choice([1.0, 3.0]))
    tg = []
    for _ in range(n * t):
        tg.append(ig if rng.random() < 0.3 else rng.randrange(v))
    if i % 8 == 7:  # a sequence of padding only
        tg[:t] = [ig] * t
    opts = {"normalization": ["token", "sequence"][i % 2]}
    if pad is not None:
        opts["ignore_index"] = pad
    ls = rng.choice([None, 0.0, 0.1, 0.3])
    if ls is not None:
        opts["label_smoothing"] = ls
    if i % 4 >= 2:  # the language-model epilogues
        opts["softcap"] = rng.choice([0.0, 2.0, 30.0])
        opts["z_loss"] = rng.choice([0.0, 1e-4, 0.05])
        opts["return_accuracy"] = True
    return {"loss": "seq_cross_entropy", "options": opts,
            "inputs": {"input": tensor_json([n, t, v], x), "target": tensor_json([n, t], tg)}}


def torch_seq_cross_entropy(req):
    o = req["options"]
    x = to_torch(req["inputs"]["input"], True)
    n, t, v = x.shape
    tg = torch.tensor([int(dec(u)) for u in req["inputs"]["target"]["data"]], dtype=torch.long).reshape(n, t)
    ig = o.get("ignore_index", -100)
    ls = o.get("label_smoothing", 0.0)
    s, z = o.get("softcap", 0.0), o.get("z_loss", 0.0)
    xs = (s * torch.tanh(x / s) if s > 0 else x).reshape(-1, v)
    # Per token: cross-entropy plus z * logsumexp^2 (PaLM), padding masked.
    mask = (tg.reshape(-1) != ig).to(torch.float64)
    ztok = z * torch.logsumexp(xs, dim=1) ** 2 * mask
    per = F.cross_entropy(xs, tg.reshape(-1), ignore_index=ig, label_smoothing=ls, reduction="none") + ztok
    if o.get("normalization", "token") == "token":
        loss = safe_mean(per.sum(), mask.sum())
        zl = safe_mean(ztok.sum(), mask.sum())
    else:
        k = (tg != ig).sum(dim=1)
        keep = k > 0
        loss = (per.reshape(n, t).sum(dim=1)[keep] / k[keep]).mean()
        zl = (ztok.reshape(n, t).sum(dim=1)[keep] / k[keep]).mean()
    loss.backward()
    r = {"loss": float(loss.detach()), "grads": {"input": from_torch(x.grad)}}
    out = {}
    if z > 0:
        out["z_loss"] = from_torch(zl)
    if o.get("return_accuracy"):
        acc = ((xs.argmax(dim=1) == tg.reshape(-1)).to(torch.float64) * mask).sum() / mask.sum()
        out["accuracy"] = from_torch(acc)
    if out:
        r["outputs"] = out
    return r


# ------------------------------------------------- elementwise (pointwise) losses

LABEL_LOSSES = ("hinge_embedding_loss", "soft_margin_loss", "hinge", "squared_hinge")
LOGIT_LOSSES = ("binary_cross_entropy_with_logits", "sigmoid_focal_loss", "soft_margin_loss", "log_cosh",
                "hinge", "huber_loss", "l1_loss")


def pw_domain(rng, name, n, scale):
    x, y = gauss_data(rng, n, scale), gauss_data(rng, n)
    if name == "binary_cross_entropy":
        x = [rng.choice([rng.random(), rng.random(), 0.0, 1.0]) for _ in range(n)]
        y = [rng.random() for _ in range(n)]
    elif name in ("binary_cross_entropy_with_logits", "sigmoid_focal_loss"):
        y = [rng.choice([rng.random(), 0.0, 1.0]) for _ in range(n)]
    elif name in LABEL_LOSSES:
        y = [float(rng.choice([-1, 1])) for _ in range(n)]
    elif name == "kl_div":
        y = [rng.random() for _ in range(n)]
    elif name in ("poisson_nll_loss", "mean_squared_logarithmic_error"):
        x = [rng.uniform(0, 3) for _ in range(n)]
        y = [rng.uniform(0, 4) for _ in range(n)]
    elif name == "mean_absolute_percentage_error":
        y = [rng.choice([-1, 1]) * rng.uniform(0.1, 2) for _ in range(n)]
    return x, y


def gen_pointwise(name):
    def gen(rng, i):
        shape = rng.choice([[7], [3, 4], [2, 3, 5], [64], [5, 1], [1], [0, 3], []])
        n = numel(shape)
        scale = 1.0
        if name in LOGIT_LOSSES and rng.random() < 0.25:
            scale = 1e4
        x, y = pw_domain(rng, name, n, scale)
        if name == "kl_div" and rng.random() < 0.5:
            y = [float("-inf") if v == 0 else math.log(v) for v in y]
        reds = ["mean", "sum", "none"] + (["batchmean"] if name == "kl_div" and shape else [])
        opts = {"reduction": reds[i % len(reds)]}
        inputs = {"input": tensor_json(shape, x), "target": tensor_json(shape, y)}
        if name == "huber_loss" and rng.random() < 0.7:
            opts["delta"] = rng.choice([0.5, 1.0, 2.0, 1e-3])
        if name == "smooth_l1_loss" and rng.random() < 0.7:
            opts["beta"] = rng.choice([0.0, 0.5, 1.0, 2.0])
        if name == "hinge_embedding_loss" and rng.random() < 0.7:
            opts["margin"] = rng.choice([0.5, 1.0, 2.0, -1.0])
        if name == "sigmoid_focal_loss":
            if rng.random() < 0.7:
                opts["alpha"] = rng.choice([0.25, 0.5, -1.0, 0.9])
            if rng.random() < 0.7:
                # With gamma < 1 and saturated logits, torch's autograd
                # multiplies an infinite power by 0 (NaN); ours is the
                # limit, 0. Such cases are checked with gamma >= 1 only.
                opts["gamma"] = rng.choice([0.0, 1.0, 2.0, 3.5] if scale > 1 else [0.0, 0.5, 1.0, 2.0, 3.5])
        if name == "kl_div" and any(v < 0 for v in y):
            opts["log_target"] = True
        if name == "poisson_nll_loss":
            li = rng.random() < 0.5
            opts["log_input"] = li
            opts["full"] = rng.random() < 0.5
            if rng.random() < 0.3:
                opts["eps"] = 1e-3
        if name == "gaussian_nll_loss":
            opts["full"] = rng.random() < 0.5
            if rng.random() < 0.3:
                opts["eps"] = 0.5
            vshape = list(shape)
            if shape and rng.random() < 0.5:
                vshape = shape[:-1] + [1] if rng.random() < 0.5 else shape[:-1]
            inputs["var"] = tensor_json(vshape, [rng.choice([rng.uniform(0.1, 3), 0.0]) for _ in range(numel(vshape))])
        if name == "binary_cross_entropy_with_logits" and shape and rng.random() < 0.6:
            inputs["pos_weight"] = tensor_json([shape[-1]], [rng.uniform(0.2, 4) for _ in range(shape[-1])])
        if shape and rng.random() < 0.4:
            wshape = rng.choice([list(shape), shape[:1] + [1] * (len(shape) - 1), shape[-1:]])
            inputs["weight"] = tensor_json(wshape, [rng.uniform(0, 2) for _ in range(numel(wshape))])
        if shape and rng.random() < 0.4:
            inputs["mask"] = tensor_json(shape, [float(rng.random() < 0.7) for _ in range(n)])
        return {"loss": name, "options": opts, "inputs": inputs}
    return gen


def torch_pointwise_elems(name, x, y, a, o):
    """Per-element losses: torch.nn.functional where PyTorch has the loss,
    else the published definition (Keras, torchvision) in torch ops."""
    if name == "l1_loss":
        return F.l1_loss(x, y, reduction="none")
    if name == "mse_loss":
        return F.mse_loss(x, y, reduction="none")
    if name == "huber_loss":
        return F.huber_loss(x, y, reduction="none", delta=o.get("delta", 1.0))
    if name == "smooth_l1_loss":
        return F.smooth_l1_loss(x, y, reduction="none", beta=o.get("beta", 1.0))
    if name == "log_cosh":  # Keras: x + softplus(-2x) - log 2
        d = x - y
        return d + F.softplus(-2.0 * d) - math.log(2.0)
    if name == "mean_absolute_percentage_error":  # Keras, epsilon 1e-7
        return 100.0 * torch.abs((y - x) / torch.clamp(torch.abs(y), min=o.get("eps", 1e-7)))
    if name == "mean_squared_logarithmic_error":
        e = o.get("eps", 1e-7)
        return (torch.log(torch.clamp(x, min=e) + 1.0) - torch.log(torch.clamp(y, min=e) + 1.0)) ** 2
    if name == "binary_cross_entropy":
        return F.binary_cross_entropy(x, y, reduction="none")
    if name == "binary_cross_entropy_with_logits":
        return F.binary_cross_entropy_with_logits(x, y, reduction="none", pos_weight=a)
    if name == "sigmoid_focal_loss":  # torchvision.ops.sigmoid_focal_loss
        alpha, gamma = o.get("alpha", 0.25), o.get("gamma", 2.0)
        p = torch.sigmoid(x)
        ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
        p_t = p * y + (1 - p) * (1 - y)
        loss = ce * ((1 - p_t) ** gamma)
        if alpha >= 0:
            loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
        return loss
    if name == "hinge_embedding_loss":
        return F.hinge_embedding_loss(x, y, margin=o.get("margin", 1.0), reduction="none")
    if name == "soft_margin_loss":
        if x.numel() == 0 or float(x.detach().abs().max()) < 50:
            return F.soft_margin_loss(x, y, reduction="none")
        return F.softplus(-y * x)  # torch's soft_margin_loss overflows beyond that
    if name == "hinge":
        return torch.clamp(1.0 - y * x, min=0.0)
    if name == "squared_hinge":
        return torch.clamp(1.0 - y * x, min=0.0) ** 2
    if name == "kl_div":
        return F.kl_div(x, y, reduction="none", log_target=o.get("log_target", False))
    if name == "poisson_nll_loss":
        return F.poisson_nll_loss(x, y, log_input=o.get("log_input", True), full=o.get("full", False),
                                  eps=o.get("eps", 1e-8), reduction="none")
    if name == "gaussian_nll_loss":
        return F.gaussian_nll_loss(x, y, a, full=o.get("full", False), eps=o.get("eps", 1e-6), reduction="none")
    raise ValueError(name)


def ref_reduce(per, ins, red, x):
    """Weight, mask and reduce per-element losses as lossengine defines it:
    masked-out elements count for nothing, mean divides by those kept."""
    keep = torch.ones_like(per)
    if "weight" in ins:
        per = per * to_torch(ins["weight"])
    if "mask" in ins:
        keep = to_torch(ins["mask"]).expand(per.shape)
        per = torch.where(keep != 0, per, torch.zeros_like(per))
    if red == "none":
        return per
    if red == "sum":
        return per.sum()
    if red == "batchmean":
        return per.sum() / x.shape[0]
    return per.sum() / (keep != 0).sum()


def torch_pointwise(name):
    def ref(req):
        o, ins = req["options"], req["inputs"]
        red = o.get("reduction", "mean")
        x = to_torch(ins["input"], True)
        y = to_torch(ins["target"], name not in LABEL_LOSSES)
        a = None
        if "var" in ins:
            a = to_torch(ins["var"], True)
        elif "pos_weight" in ins:
            a = to_torch(ins["pos_weight"])
        per = torch_pointwise_elems(name, x, y, a, o)
        if name == "gaussian_nll_loss" and per.shape != x.shape:
            per = per.expand(x.shape)
        loss = ref_reduce(per, ins, red, x)
        loss.backward(torch.ones_like(loss))
        grads = {"input": from_torch(x.grad)}
        if name == "binary_cross_entropy":
            # The target gradient of the loss as computed, logs clamped at
            # -100 (torch's is +-inf or NaN where input is exactly 0 or 1).
            x2, y2 = x.detach(), y.detach().requires_grad_()
            per2 = -(y2 * torch.clamp(torch.log(x2), min=-100) + (1 - y2) * torch.clamp(torch.log(1 - x2), min=-100))
            y.grad = None
            ref2 = ref_reduce(per2, ins, red, x)
            ref2.backward(torch.ones_like(ref2))
            y = y2
        if y.requires_grad:
            grads["target"] = from_torch(y.grad if y.grad is not None else torch.zeros_like(y))
        if a is not None and a.requires_grad:
            grads["var"] = from_torch(a.grad)
        return {"loss": loss_json(loss, red), "grads": grads}
    return ref


POINTWISE = ("l1_loss", "huber_loss", "smooth_l1_loss", "log_cosh", "mean_absolute_percentage_error",
             "mean_squared_logarithmic_error", "binary_cross_entropy", "binary_cross_entropy_with_logits",
             "sigmoid_focal_loss", "hinge_embedding_loss", "soft_margin_loss", "hinge", "squared_hinge", "kl_div",
             "poisson_nll_loss", "gaussian_nll_loss")


# One entry per loss: name -> (request generator, PyTorch reference).
# The row-wise losses' generators and references come first (losses/rowloss.go):
# cross_entropy with probability targets, nll_loss, focal_loss,
# multi_margin_loss, categorical_hinge, distill_kl.

def soft_rows(rng, n, c, kind):
    """n rows of c targets: "soft" probabilities, "onehot" (exact 0 and 1)
    or "free" (any non-negative values, which PyTorch accepts)."""
    y = []
    for _ in range(n):
        if kind == "onehot":
            row = [0.0] * c
            row[rng.randrange(c)] = 1.0
        else:
            row = [rng.expovariate(1.0) for _ in range(c)]
            if kind == "soft":
                s = sum(row)
                row = [v / s for v in row]
        y += row
    return y


def gen_cross_entropy_probs(rng, i):
    n = rng.choice([0, 1, 2, 3, 5, 8, 17]) if i % 8 else rng.choice([1, 4])
    c = rng.choice([1, 2, 3, 7, 10, 31, 100])
    x = gauss_data(rng, n * c, rng.choice([1, 1, 3, 10, 1e4]), rng.choice([0, 0, 1e4]))
    y = soft_rows(rng, n, c, rng.choice(["soft", "soft", "onehot", "free"]))
    opts = {"reduction": ["mean", "sum", "none"][i % 3]}
    if i % 2 == 1:
        opts["weight"] = [rng.choice([0.0, rng.uniform(0, 3), 1.0]) for _ in range(c)]
    ls = rng.choice([None, 0.0, 0.1, rng.uniform(0, 1), 1.0])
    if ls is not None:
        opts["label_smoothing"] = ls
    if rng.random() < 0.2:
        opts["ignore_index"] = -100
    return {"loss": "cross_entropy", "options": opts,
            "inputs": {"input": tensor_json([n, c], x), "target": tensor_json([n, c], y)}}


def torch_cross_entropy_probs(req):
    o = req["options"]
    x = to_torch(req["inputs"]["input"], True)
    y = to_torch(req["inputs"]["target"], True)
    w = o.get("weight")
    w = torch.tensor(w, dtype=torch.float64) if w is not None else None
    red = o.get("reduction", "mean")
    loss = F.cross_entropy(x, y, weight=w, reduction=red, label_smoothing=o.get("label_smoothing", 0.0),
                           ignore_index=o.get("ignore_index", -100))
    loss.backward(torch.ones_like(loss))
    return {"loss": loss_json(loss, red), "grads": {"input": from_torch(x.grad), "target": from_torch(y.grad)}}


def class_targets(rng, n, c, ignore, all_ignored=False, p_ignore=0.25):
    return [ignore if all_ignored or rng.random() < p_ignore else rng.randrange(c) for _ in range(n)]


def gen_nll_loss(rng, i):
    n = rng.choice([1, 2, 3, 5, 8, 17])
    c = rng.choice([1, 2, 3, 7, 10, 31])
    x = gauss_data(rng, n * c, rng.choice([1, 3, 1e4]))
    if rng.random() < 0.5:  # proper log-probabilities
        x = F.log_softmax(torch.tensor(x, dtype=torch.float64).reshape(n, c), dim=1).reshape(-1).tolist()
    opts = {"reduction": ["mean", "sum", "none"][i % 3]}
    if i % 2 == 1:
        opts["weight"] = [rng.choice([0.0, rng.uniform(0, 3), 1.0]) for _ in range(c)]
    ignore = rng.choice([None, -100, rng.randrange(c)])
    if ignore is not None:
        opts["ignore_index"] = ignore
    t = class_targets(rng, n, c, -100 if ignore is None else ignore, all_ignored=i % 10 == 9)
    return {"loss": "nll_loss", "options": opts,
            "inputs": {"input": tensor_json([n, c], x), "target": tensor_json([n], t)}}


def torch_nll_loss(req):
    o = req["options"]
    x = to_torch(req["inputs"]["input"], True)
    t = torch.tensor([int(dec(v)) for v in req["inputs"]["target"]["data"]], dtype=torch.long)
    w = o.get("weight")
    w = torch.tensor(w, dtype=torch.float64) if w is not None else None
    red = o.get("reduction", "mean")
    loss = F.nll_loss(x, t, weight=w, ignore_index=o.get("ignore_index", -100), reduction=red)
    loss.backward(torch.ones_like(loss))
    return {"loss": loss_json(loss, red), "grads": {"input": from_torch(x.grad)}}


def gen_focal_loss(rng, i):
    n = rng.choice([1, 2, 3, 5, 8, 17])
    c = rng.choice([2, 3, 7, 10, 31])  # C = 1 has p_t = 1, where torch.pow's gradient is NaN for gamma < 1
    x = gauss_data(rng, n * c, rng.choice([1, 2, 4]))
    opts = {"reduction": ["mean", "sum", "none"][i % 3]}
    g = rng.choice([None, 0.0, 0.5, 1.0, 2.0, 3.7])
    if g is not None:
        opts["gamma"] = g
    if i % 2 == 1:
        opts["alpha"] = [rng.uniform(0, 2) for _ in range(c)]
    ignore = rng.choice([None, -100, rng.randrange(c)])
    if ignore is not None:
        opts["ignore_index"] = ignore
    t = class_targets(rng, n, c, -100 if ignore is None else ignore, all_ignored=i % 10 == 9)
    return {"loss": "focal_loss", "options": opts,
            "inputs": {"input": tensor_json([n, c], x), "target": tensor_json([n], t)}}


def torch_focal_loss(req):
    """-alpha_t (1 - p_t)^gamma log p_t per row, ignored rows 0; mean over
    the rows kept (the definition lossengine documents; PyTorch has no
    softmax focal loss of its own)."""
    o = req["options"]
    x = to_torch(req["inputs"]["input"], True)
    t = torch.tensor([int(dec(v)) for v in req["inputs"]["target"]["data"]], dtype=torch.long)
    keep = t != o.get("ignore_index", -100)
    tc = torch.where(keep, t, torch.zeros_like(t))
    lpt = F.log_softmax(x, dim=1).gather(1, tc[:, None])[:, 0]
    a = o.get("alpha")
    a = torch.tensor(a, dtype=torch.float64)[tc] if a is not None else torch.ones_like(lpt)
    per = -a * (-torch.expm1(lpt)) ** o.get("gamma", 2.0) * lpt
    per = torch.where(keep, per, torch.zeros_like(per))
    red = o.get("reduction", "mean")
    loss = {"none": per, "sum": per.sum(), "mean": per.sum() / keep.sum()}[red]
    loss.backward(torch.ones_like(loss))
    return {"loss": loss_json(loss, red), "grads": {"input": from_torch(x.grad)}}


def gen_multi_margin_loss(rng, i):
    n = rng.choice([1, 2, 3, 5, 8, 17])  # not 0: PyTorch 1.13 returns 0 for an empty mean, lossengine NaN
    c = rng.choice([1, 2, 3, 7, 10, 31, 100])
    x = gauss_data(rng, n * c, rng.choice([0.3, 1, 3, 1e4]))
    opts = {"reduction": ["mean", "sum", "none"][i % 3]}
    p = rng.choice([None, 1, 2])
    if p is not None:
        opts["p"] = p
    m = rng.choice([None, 0.0, 0.5, 1.0, 2.5])
    if m is not None:
        opts["margin"] = m
    if i % 2 == 1:
        opts["weight"] = [rng.uniform(0, 3) for _ in range(c)]
    t = [rng.randrange(c) for _ in range(n)]
    return {"loss": "multi_margin_loss", "options": opts,
            "inputs": {"input": tensor_json([n, c], x), "target": tensor_json([n], t)}}


def torch_multi_margin_loss(req):
    o = req["options"]
    x = to_torch(req["inputs"]["input"], True)
    t = torch.tensor([int(dec(v)) for v in req["inputs"]["target"]["data"]], dtype=torch.long)
    w = o.get("weight")
    w = torch.tensor(w, dtype=torch.float64) if w is not None else None
    red = o.get("reduction", "mean")
    loss = F.multi_margin_loss(x, t, p=o.get("p", 1), margin=o.get("margin", 1.0), weight=w, reduction=red)
    loss.backward(torch.ones_like(loss))
    return {"loss": loss_json(loss, red), "grads": {"input": from_torch(x.grad)}}


def gen_categorical_hinge(rng, i):
    n = rng.choice([0, 1, 2, 3, 5, 8, 17]) if i % 8 else 3
    c = rng.choice([1, 2, 3, 7, 10, 31])
    x = gauss_data(rng, n * c, rng.choice([0.5, 1, 3, 1e4]))
    if i % 4 == 3:  # integer scores: ties in the maximum, and hinges exactly at 0
        x = [float(round(v)) for v in x]
    y = soft_rows(rng, n, c, rng.choice(["soft", "onehot", "onehot"]))
    opts = {}
    red = ["mean", "sum", "none"][i % 3]
    if red != "mean" or rng.random() < 0.5:
        opts["reduction"] = red
    return {"loss": "categorical_hinge", "options": opts,
            "inputs": {"input": tensor_json([n, c], x), "target": tensor_json([n, c], y)}}


def torch_categorical_hinge(req):
    """Keras' categorical_hinge: max(0, max((1-y)x) - sum(y x) + 1); the
    maximum's gradient is shared among ties (torch.amax, as TensorFlow's
    reduce_max) and passes at 0 (torch.clamp, as TensorFlow's maximum)."""
    x = to_torch(req["inputs"]["input"], True)
    y = to_torch(req["inputs"]["target"])
    pos = (y * x).sum(dim=1)
    neg = ((1 - y) * x).amax(dim=1) if x.shape[0] > 0 else pos
    per = torch.clamp(neg - pos + 1, min=0)
    red = req["options"].get("reduction", "mean")
    loss = {"none": per, "sum": per.sum(), "mean": per.mean()}[red]
    loss.backward(torch.ones_like(loss))
    return {"loss": loss_json(loss, red), "grads": {"input": from_torch(x.grad)}}


def gen_distill_kl(rng, i):
    n = rng.choice([1, 2, 3, 5, 8, 17])
    c = rng.choice([1, 2, 3, 7, 10, 31, 100])
    s = gauss_data(rng, n * c, rng.choice([1, 3, 10]))
    t = gauss_data(rng, n * c, rng.choice([1, 3, 10]))
    if i % 5 == 4:  # a student close to its teacher
        s = [v + 1e-3 * rng.gauss(0, 1) for v in t]
    opts = {}
    red = ["batchmean", "sum", "none"][i % 3]
    if red != "batchmean" or rng.random() < 0.5:
        opts["reduction"] = red
    tau = rng.choice([None, 1.0, 2.0, 4.0, 0.5, rng.uniform(0.2, 8)])
    if tau is not None:
        opts["temperature"] = tau
    return {"loss": "distill_kl", "options": opts,
            "inputs": {"input": tensor_json([n, c], s), "target": tensor_json([n, c], t)}}


def torch_distill_kl(req):
    o = req["options"]
    s = to_torch(req["inputs"]["input"], True)
    t = to_torch(req["inputs"]["target"])
    tau = o.get("temperature", 1.0)
    red = o.get("reduction", "batchmean")
    ls, q = F.log_softmax(s / tau, dim=1), F.softmax(t / tau, dim=1)
    if red == "none":
        loss = F.kl_div(ls, q, reduction="none").sum(dim=1) * tau * tau
    else:
        loss = F.kl_div(ls, q, reduction=red) * tau * tau
    loss.backward(torch.ones_like(loss))
    return {"loss": loss_json(loss, red), "grads": {"input": from_torch(s.grad)}}


def gen_poly_loss_cross_entropy(rng, i):
    n = rng.choice([0, 1, 2, 3, 5, 8, 17]) if i % 8 else rng.choice([1, 4])
    c = rng.choice([1, 2, 3, 7, 10, 31, 100])
    x = gauss_data(rng, n * c, rng.choice([1, 1, 3, 10, 30]), rng.choice([0, 0, 1e3]))
    y = soft_rows(rng, n, c, rng.choice(["soft", "onehot", "free"]))
    opts = {}
    red = ["mean", "sum", "none"][i % 3]
    if red != "mean" or rng.random() < 0.5:
        opts["reduction"] = red
    eps = rng.choice([None, 2.0, 1.0, -1.0, 0.0, rng.uniform(-1, 5)])
    if eps is not None:
        opts["epsilon"] = eps
    return {"loss": "poly_loss_cross_entropy", "options": opts,
            "inputs": {"input": tensor_json([n, c], x), "target": tensor_json([n, c], y)}}


def torch_poly_loss_cross_entropy(req):
    """Poly-1 (Leng et al., 2022; Optax's poly_loss_cross_entropy), from its
    published formula in torch ops: -sum(y log p) + eps * sum(y (1 - p))."""
    o = req["options"]
    x = to_torch(req["inputs"]["input"], True)
    y = to_torch(req["inputs"]["target"], True)
    eps = o.get("epsilon", 2.0)
    logp = F.log_softmax(x, dim=1)
    per = -(y * logp).sum(dim=1) + eps * (y * (1 - logp.exp())).sum(dim=1)
    red = o.get("reduction", "mean")
    loss = {"none": per, "sum": per.sum(), "mean": per.mean()}[red]
    loss.backward(torch.ones_like(loss))
    return {"loss": loss_json(loss, red), "grads": {"input": from_torch(x.grad), "target": from_torch(y.grad)}}


def gen_cross_entropy_any(rng, i):
    """cross_entropy with class-index targets (even cases) and with
    probability targets (odd cases)."""
    return gen_cross_entropy(rng, i // 2) if i % 2 == 0 else gen_cross_entropy_probs(rng, i // 2)


def torch_cross_entropy_any(req):
    ins = req["inputs"]
    if ins["target"]["shape"] == ins["input"]["shape"]:
        return torch_cross_entropy_probs(req)
    return torch_cross_entropy(req)


LOSSES = {
    "cross_entropy": (gen_cross_entropy_any, torch_cross_entropy_any),
    "poly_loss_cross_entropy": (gen_poly_loss_cross_entropy, torch_poly_loss_cross_entropy),
    "mse_loss": (gen_mse_loss, torch_mse_loss),
    "softmax": (gen_row_op("softmax"), torch_row_op("softmax")),
    "log_softmax": (gen_row_op("log_softmax"), torch_row_op("log_softmax")),
    "logsumexp": (gen_row_op("logsumexp"), torch_row_op("logsumexp")),
    "ctc_loss": (gen_ctc_loss, torch_ctc_loss),
    "seq_cross_entropy": (gen_seq_cross_entropy, torch_seq_cross_entropy),
    "nll_loss": (gen_nll_loss, torch_nll_loss),
    "focal_loss": (gen_focal_loss, torch_focal_loss),
    "multi_margin_loss": (gen_multi_margin_loss, torch_multi_margin_loss),
    "categorical_hinge": (gen_categorical_hinge, torch_categorical_hinge),
    "distill_kl": (gen_distill_kl, torch_distill_kl),
}
LOSSES.update({name: (gen_pointwise(name), torch_pointwise(name)) for name in POINTWISE})


def gen_with_row_extras(gen):
    """Adds per-row sample_weight and mask inputs to some cases of a row loss."""
    def g(rng, i):
        req = gen(rng, i)
        n = req["inputs"]["input"]["shape"][0]
        if i % 3 == 2 and req["options"].get("reduction", "mean") != "mean" or i % 4 == 3:
            req["inputs"]["sample_weight"] = tensor_json([n], [rng.uniform(0, 2) for _ in range(n)])
            req["inputs"]["mask"] = tensor_json([n], [float(rng.random() < 0.7) for _ in range(n)])
        return req
    return g


def ref_with_row_extras(name, ref):
    """lossengine's semantics of sample_weight and mask on a row loss, from
    PyTorch's per-row losses and gradients (reduction none: rows are
    independent): row i counts keep_i * w_i times, and mean divides by the
    rows kept (for nll_loss by their class weights, for nll_loss and
    focal_loss without the ignored rows)."""
    def r(req):
        ins = req["inputs"]
        if "mask" not in ins:
            return ref(req)
        o = dict(req["options"])
        red = o.get("reduction", "batchmean" if name == "distill_kl" else "mean")
        o["reduction"] = "none"
        base = ref(dict(req, options=o, inputs={k: v for k, v in ins.items() if k not in ("mask", "sample_weight")}))
        n, c = ins["input"]["shape"]
        keep = [dec(v) != 0 for v in ins["mask"]["data"]]
        sw = [dec(v) for v in ins["sample_weight"]["data"]]
        per = [dec(v) for v in base["loss"]]
        g = [dec(v) for v in base["grads"]["input"]["data"]]
        den = 1.0
        if red in ("mean", "batchmean"):
            if name in ("nll_loss", "focal_loss"):
                t = [int(dec(v)) for v in ins["target"]["data"]]
                ig = req["options"].get("ignore_index", -100)
                w = req["options"].get("weight") if name == "nll_loss" else None
                den = sum((w[t[i]] if w else 1.0) for i in range(n) if keep[i] and t[i] != ig)
            else:
                den = float(sum(keep))
        scale = 1.0 / den if den != 0 else 0.0  # the mean of nothing: NaN loss, zero gradient
        f = [sw[i] * scale if keep[i] else 0.0 for i in range(n)]
        loss = [f[i] * per[i] if keep[i] else 0.0 for i in range(n)]
        grad = [f[i // c] * g[i] if keep[i // c] else 0.0 for i in range(n * c)]
        if name == "nll_loss" and red == "mean" and den == 0:
            # Kept rows whose class weights are all 0: -0/0 at the target,
            # as torch.nn.functional.nll_loss gives without a mask.
            for i in range(n):
                if keep[i] and t[i] != ig:
                    grad[i * c + t[i]] = math.nan
        out = {"loss": loss if red == "none" else (sum(loss) if den != 0 else float("nan")),
               "grads": {"input": {"shape": [n, c], "data": grad}}}
        return out
    return r


for _name in ("nll_loss", "focal_loss", "multi_margin_loss", "categorical_hinge", "distill_kl"):
    _gen, _ref = LOSSES[_name]
    LOSSES[_name] = (gen_with_row_extras(_gen), ref_with_row_extras(_name, _ref))


def load_family_checks():
    """Adds the checks of scripts/torchcheck/<family>.py: each module
    defines losses(tc), which returns {name: (gen, ref)} and may use this
    module's helpers through tc (tensor_json, loss_json, dec, to_torch, ...)."""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torchcheck")
    this = sys.modules[__name__]
    for path in sorted(glob.glob(os.path.join(here, "*.py"))):
        name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location("torchcheck_" + name, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for loss, fns in mod.losses(this).items():
            if loss in LOSSES:
                sys.exit("torch_check: %s is checked twice (%s)" % (loss, path))
            LOSSES[loss] = fns


load_family_checks()


# ---------------------------------------------------------------- comparison

def close(a, b):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= ATOL + RTOL * abs(b)


def compare_values(what, ours, ref, errs):
    ours = [dec(v) for v in ours]
    if len(ours) != len(ref):
        errs.append("%s: %d values, torch has %d" % (what, len(ours), len(ref)))
        return
    bad = [k for k in range(len(ref)) if not close(ours[k], ref[k])]
    if bad:
        k = max(bad, key=lambda j: abs(ours[j] - ref[j]) if not (math.isnan(ours[j]) or math.isnan(ref[j])) else math.inf)
        errs.append("%s: %d of %d values differ; worst [%d]: ours %r, torch %r"
                    % (what, len(bad), len(ref), k, ours[k], ref[k]))


def compare_tensor(what, ours, ref, errs):
    if ours is None:
        errs.append("%s: missing" % what)
        return
    if list(ours.get("shape", [])) != list(ref["shape"]):
        errs.append("%s: shape %s, torch %s" % (what, ours.get("shape"), ref["shape"]))
        return
    compare_values(what, ours["data"], ref["data"], errs)


def compare(ours, ref):
    errs = []
    if "loss" in ref:
        if "loss" not in ours:
            errs.append("loss: missing")
        elif isinstance(ref["loss"], list):
            if not isinstance(ours["loss"], list):
                errs.append("loss: %r, want an array" % (ours["loss"],))
            else:
                compare_values("loss", ours["loss"], ref["loss"], errs)
        else:
            if isinstance(ours["loss"], list):
                errs.append("loss: an array, want a number")
            else:
                compare_values("loss", [ours["loss"]], [ref["loss"]], errs)
    elif "loss" in ours:
        errs.append("loss: present, want none")
    if "output" in ref:
        compare_tensor("output", ours.get("output"), ref["output"], errs)
    # Further named outputs (GAE's returns, PPO's clip fraction, ...), which
    # lossbench eval reports under "outputs": compared where the reference
    # gives them.
    mine = ours.get("outputs", {})
    for k in sorted(ref.get("outputs", {})):
        compare_tensor("output " + k, mine.get(k), ref["outputs"][k], errs)
    og = ours.get("grads", {})
    if set(og) != set(ref["grads"]):
        errs.append("grads: %s, torch %s" % (sorted(og), sorted(ref["grads"])))
    for k in sorted(ref["grads"]):
        if k in og:
            compare_tensor("grad " + k, og[k], ref["grads"][k], errs)
    return errs


# ------------------------------------------- float32 accuracy where logistic losses saturate
#
# With the target on the side of the logit these losses and their gradients
# are about exp(-|x|); a float32 form that reaches them by adding terms of
# size |x| or 1 loses their digits (binary_cross_entropy_with_logits at a
# target of 0 and x = -12: 6e-6 from -12 + 12.000006). Each case is run in
# float32 through lossbench eval and through PyTorch, and compared element
# by element with the exact value (mpmath at 50 digits) of the loss and of
# its derivatives w.r.t. input and target, on the float32-rounded inputs.

ACC_LOGITS = [i / 4 for i in range(-120, 121)]  # -30, -29.75, ..., 30
ACC_FLOOR = 1e-30  # relative errors are taken against max(|exact|, this)
ACC_BOUND = 1e-5   # the largest relative error lossengine may have


def f32(v):
    """v rounded to float32."""
    return struct.unpack("f", struct.pack("f", v))[0]


def acc_cases():
    """(label, loss name, options, inputs x, targets y, pos_weight or None)."""
    cs = []
    grid = lambda ts: ([x for t in ts for x in ACC_LOGITS], [f32(t) for t in ts for _ in ACC_LOGITS])
    for pw in (None, 2.5, 0.4):
        x, y = grid([0.0, 1.0, 0.3])
        cs.append(("binary_cross_entropy_with_logits" + ("" if pw is None else " pos_weight=%g" % pw),
                   "binary_cross_entropy_with_logits", {}, x, y, pw))
    for alpha, gamma in ((0.25, 2.0), (-1.0, 2.0), (0.25, 1.5)):
        x, y = grid([0.0, 1.0, 0.3])
        cs.append(("sigmoid_focal_loss alpha=%g gamma=%g" % (alpha, gamma), "sigmoid_focal_loss",
                   {"alpha": alpha, "gamma": gamma}, x, y, None))
    x, y = grid([-1.0, 1.0])
    cs.append(("soft_margin_loss", "soft_margin_loss", {}, x, y, None))
    small = [s * d for d in (1e-4, 1e-3, 0.01, 0.1, 0.3, 0.5, 0.7) for s in (1, -1)]
    x = [f32(v) for v in ACC_LOGITS + small]
    cs.append(("log_cosh", "log_cosh", {}, x, [0.0] * len(x), None))
    return cs


def exact_elem(name, o, x, y, a):
    """The exact loss and its derivatives w.r.t. x and y (mpmath)."""
    mp = mpmath.mp
    x, y, a = mp.mpf(x), mp.mpf(y), mp.mpf(a)
    sig = lambda v: 1 / (1 + mp.exp(-v))
    if name == "binary_cross_entropy_with_logits":
        lw = 1 + (a - 1) * y
        sp = mp.log1p(mp.exp(-x))  # softplus(-x)
        return (1 - y) * x + lw * sp, (1 - y) - lw * sig(-x), -x + (a - 1) * sp
    if name == "sigmoid_focal_loss":
        alpha, gamma = mp.mpf(o["alpha"]), mp.mpf(o["gamma"])
        p = sig(x)
        ce = (1 - y) * x + mp.log1p(mp.exp(-x))
        q = p + y - 2 * p * y  # 1 - p_t
        qg, dqg = q ** gamma, gamma * q ** (gamma - 1)
        l0 = ce * qg
        gx = (p - y) * qg + ce * dqg * (1 - 2 * y) * p * (1 - p)
        gy = -x * qg + ce * dqg * (1 - 2 * p)
        if alpha < 0:
            return l0, gx, gy
        at = alpha * y + (1 - alpha) * (1 - y)
        return at * l0, at * gx, at * gy + (2 * alpha - 1) * l0
    if name == "soft_margin_loss":
        return mp.log1p(mp.exp(-y * x)), -y * sig(-y * x), mp.mpf(0)
    if name == "log_cosh":
        d = x - y
        return mp.log(mp.cosh(d)), mp.tanh(d), -mp.tanh(d)
    raise ValueError(name)


def torch_acc(name, o, x, y, pw, dtype):
    """PyTorch's per-element loss and gradients in dtype."""
    xt = torch.tensor(x, dtype=dtype).reshape(-1, 1).requires_grad_()
    yt = torch.tensor(y, dtype=dtype).reshape(-1, 1).requires_grad_(name != "soft_margin_loss")
    at = None if pw is None else torch.tensor([pw], dtype=dtype)
    per = torch_pointwise_elems(name, xt, yt, at, o)
    per.backward(torch.ones_like(per))
    gy = yt.grad.reshape(-1).tolist() if yt.grad is not None else None
    return per.detach().reshape(-1).tolist(), xt.grad.reshape(-1).tolist(), gy


def ours_acc(lossbench, name, o, x, y, pw):
    """lossengine's float32 per-element loss and gradients (lossbench eval)."""
    n = len(x)
    req = {"loss": name, "options": dict(o, reduction="none"), "device": "host", "dtype": "float32",
           "inputs": {"input": tensor_json([n, 1], x), "target": tensor_json([n, 1], y)}}
    if pw is not None:
        req["inputs"]["pos_weight"] = tensor_json([1], [pw])
    out, err = run_lossbench(lossbench, req)
    if err is not None:
        raise RuntimeError(err)
    g = out.get("grads", {})
    gy = [dec(v) for v in g["target"]["data"]] if "target" in g else None
    return [dec(v) for v in out["loss"]], [dec(v) for v in g["input"]["data"]], gy


def max_rel(got, ref):
    """The largest |got - ref| / max(|ref|, ACC_FLOOR) and its index (inf for NaN)."""
    worst, at = 0.0, 0
    for i, (g, r) in enumerate(zip(got, ref)):
        e = abs(g - r) / max(abs(r), ACC_FLOOR)
        if math.isnan(e):
            e = math.inf
        if e > worst:
            worst, at = e, i
    return worst, at


def accuracy_check(lossbench, names):
    """Prints the float32 accuracy table; returns the number of failures."""
    mpmath.mp.dps = 50
    cases = [c for c in acc_cases() if c[1] in names]
    if not cases:
        return 0
    print("float32 accuracy on saturated logits: largest relative error against the exact value")
    print("  %-48s %-12s %12s %12s %12s %12s" % ("case", "result", "torch f32", "torch f64", "torch f32 vs f64",
                                                 "lossengine"))
    failures = 0
    for label, name, o, x, y, pw in cases:
        ex = [exact_elem(name, o, xi, yi, 1.0 if pw is None else f32(pw)) for xi, yi in zip(x, y)]
        ref = [[float(e[k]) for e in ex] for k in range(3)]
        t32 = torch_acc(name, o, x, y, pw, torch.float32)
        t64 = torch_acc(name, o, x, y, pw, torch.float64)
        ours = ours_acc(lossbench, name, o, x, y, pw)
        for k, what in enumerate(("loss", "grad input", "grad target")):
            if t32[k] is None:
                continue
            e32, _ = max_rel(t32[k], ref[k])
            e64, _ = max_rel(t64[k], ref[k])
            e3264, _ = max_rel(t32[k], t64[k])
            eo, at = max_rel(ours[k], ref[k])
            bad = eo > max(e32, 2.0 ** -22) or eo > ACC_BOUND
            print("  %-48s %-12s %12.3g %12.3g %12.3g %12.3g%s" % (label, what, e32, e64, e3264, eo,
                                                                    "  FAIL" if bad else ""))
            if bad:
                failures += 1
                print("    lossengine at x=%r y=%r: %r, exact %r" % (x[at], y[at], ours[k][at], ref[k][at]))
    return failures


# ---------------------------------------------------------------- main

def run_lossbench(binary, req):
    p = subprocess.run([binary, "eval"], input=json.dumps(req, allow_nan=False), capture_output=True,
                       text=True, timeout=120)
    if p.returncode != 0:
        return None, "lossbench eval exit %d: %s" % (p.returncode, p.stderr.strip())
    try:
        return json.loads(p.stdout), None
    except ValueError as e:
        return None, "lossbench eval printed bad JSON (%s): %r" % (e, p.stdout[:200])


def short(req, limit=1500):
    s = json.dumps(req, allow_nan=False)
    return s if len(s) <= limit else s[:limit] + "... (%d chars)" % len(s)


def declared_losses(lossbench):
    """The names of the losses package losses declares (lossbench losses -json)."""
    out = subprocess.run([lossbench, "losses", "-json"], capture_output=True, text=True, check=True)
    return [d["name"] for d in json.loads(out.stdout)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lossbench", default="lossbench", help="path of a built lossbench binary (default: on PATH)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--cases-per-loss", type=int, default=24, help="cases per loss (default 24)")
    ap.add_argument("--loss", action="append", help="check only this loss (repeatable)")
    ap.add_argument("--show", type=int, default=10, help="failures to print in full (default 10)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every case")
    args = ap.parse_args()

    declared = declared_losses(args.lossbench)
    missing = sorted(set(declared) - set(LOSSES))
    extra = sorted(set(LOSSES) - set(declared))
    if missing or extra:
        print("torch_check: declared losses without a check: %s; checks of undeclared losses: %s"
              % (", ".join(missing) or "none", ", ".join(extra) or "none"))
        return 1
    names = args.loss or list(LOSSES)
    for n in names:
        if n not in LOSSES:
            ap.error("unknown loss %r: known are %s" % (n, ", ".join(LOSSES)))
    torch.set_default_dtype(torch.float64)
    total = failures = 0
    for name in names:
        gen, ref_fn = LOSSES[name]
        rng = random.Random("%d/%s" % (args.seed, name))
        for i in range(args.cases_per_loss):
            req = gen(rng, i)
            req["device"] = "host"
            req["dtype"] = "float64"
            total += 1
            ours, err = run_lossbench(args.lossbench, req)
            if err is None:
                try:
                    ref = ref_fn(req)
                except Exception as e:  # a case torch rejects is a generator bug
                    errs = ["torch raised %s: %s" % (type(e).__name__, e)]
                else:
                    errs = compare(ours, ref)
            else:
                errs = [err]
            if errs:
                failures += 1
                if failures <= args.show:
                    print("FAIL %s case %d: %s\n  request: %s" % (name, i, "; ".join(errs), short(req)))
            elif args.verbose:
                print("ok   %s case %d" % (name, i))
    print("torch_check: %d cases, %d failures" % (total, failures))
    acc_failures = accuracy_check(args.lossbench, names)
    if acc_failures:
        print("torch_check: float32 accuracy: %d results less accurate than PyTorch's float32 or beyond %g relative"
              % (acc_failures, ACC_BOUND))
    return 1 if failures or acc_failures else 0


if __name__ == "__main__":
    sys.exit(main())
