"""torch_check entries of the clip family: torch.nn.utils.clip_grad_norm_
and clip_grad_value_ themselves, on a list of gradient tensors.

The declarations take the list as one flat tensor `input` split into
buffers by the int32 `sizes`; here each buffer becomes the .grad of its own
Parameter (float64), torch clips the list in place, and the expected
`output` is the clipped gradients laid end to end; clip_grad_norm's `loss`
is the total norm it returns. torch's p = inf norm takes abs().max() of each
gradient, which fails on an empty one: those cases have no empty buffers
(lossengine's maximum over nothing is 0). mode optax has no PyTorch
function: its reference is optax.clip_by_global_norm's formula in torch ops
(g * max_norm / max(total, max_norm)).
"""

import math

import torch

NORMS = [2.0, 1.0, 3.0, 0.5, "inf", 2.0]


def _enc(v):
    """A float as lossbench's JSON wants it: non-finite values as strings."""
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def _grads(rng, k, allow_empty, scale):
    sizes = [rng.choice([0, 1, 2, 3, 7, 16, 33]) if allow_empty else rng.choice([1, 2, 3, 7, 16, 33]) for _ in range(k)]
    data = [scale * rng.gauss(0, 1) for _ in range(sum(sizes))]
    return sizes, data


def gen_norm(rng, i):
    p = NORMS[i % len(NORMS)]
    k = rng.choice([0, 1, 2, 5, 12]) if i % 7 else 3
    scale = rng.choice([1.0, 1e-3, 1e3])
    sizes, data = _grads(rng, k, p != "inf", scale)
    if data and i % 11 == 5:
        data[rng.randrange(len(data))] = rng.choice([math.nan, math.inf, -math.inf])
    opts = {"max_norm": rng.choice([0.5, 1.0, 3.0, 1e6])}
    if i % 6 != 0:
        opts["norm_type"] = p
    if i % 6 == 5:
        opts["mode"] = "optax"
    return {"loss": "clip_grad_norm", "options": opts,
            "inputs": {"input": {"shape": [len(data)], "data": [_enc(v) for v in data]}, "sizes": {"shape": [k], "data": sizes}}}


def gen_value(rng, i):
    k = rng.choice([0, 1, 3, 6])
    sizes, data = _grads(rng, k, True, rng.choice([1.0, 5.0]))
    if data and i % 5 == 2:
        data[rng.randrange(len(data))] = rng.choice([math.nan, math.inf, -math.inf])
    n = len(data)
    shape = [n] if n % 2 or n == 0 else [2, n // 2]
    return {"loss": "clip_grad_value", "options": {"clip_value": rng.choice([0.1, 1.0, 2.5])},
            "inputs": {"input": {"shape": shape, "data": [_enc(v) for v in data]}}}


def _params(tc, req):
    flat = tc.to_torch(req["inputs"]["input"]).reshape(-1)
    sizes = [int(s) for s in req["inputs"].get("sizes", {"data": [flat.numel()]})["data"]]
    params, off = [], 0
    for s in sizes:
        p = torch.nn.Parameter(torch.zeros(s, dtype=torch.float64))
        p.grad = flat[off:off + s].clone()
        params.append(p)
        off += s
    return params


def _out(tc, req, params):
    shape = req["inputs"]["input"]["shape"]
    grads = [p.grad for p in params]
    flat = torch.cat(grads) if grads else torch.zeros(0, dtype=torch.float64)
    return {"shape": list(shape), "data": [float(x) for x in flat.tolist()]}


def ref_norm(tc):
    def ref(req):
        o = req["options"]
        params = _params(tc, req)
        p = o.get("norm_type", 2.0)
        p = math.inf if p == "inf" else float(p)
        if o.get("mode") == "optax":
            grads = [q.grad for q in params]
            flat = torch.cat(grads) if grads else torch.zeros(0, dtype=torch.float64)
            total = torch.linalg.vector_norm(flat)
            coef = o["max_norm"] / torch.maximum(total, torch.tensor(o["max_norm"], dtype=torch.float64))
            for q in params:
                q.grad.mul_(coef)
        else:
            total = torch.nn.utils.clip_grad_norm_(params, o["max_norm"], norm_type=p)
        return {"loss": float(total), "output": _out(tc, req, params), "grads": {}}
    return ref


def ref_value(tc):
    def ref(req):
        params = _params(tc, req)
        torch.nn.utils.clip_grad_value_(params, req["options"]["clip_value"])
        return {"output": _out(tc, req, params), "grads": {}}
    return ref


def losses(tc):
    return {"clip_grad_norm": (gen_norm, ref_norm(tc)), "clip_grad_value": (gen_value, ref_value(tc))}
