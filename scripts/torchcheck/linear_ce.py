"""torch_check cases of linear_cross_entropy: F.cross_entropy(F.linear(hidden,
weight, bias), target) with PyTorch's options (weight per class,
ignore_index, label_smoothing, reduction), plus Gemma 2's soft-capping
s*tanh(x/s) of the logits and PaLM's z-loss z*logsumexp^2 per counted row
(its mean over the counted rows, as Liger-Kernel) written in torch ops, and
the accuracy (argmax == target). Gradients w.r.t. hidden, weight and bias by
autograd, float64."""

import torch
import torch.nn.functional as F


def gen(tc):
    def g(rng, i):
        n = rng.choice([0, 1, 2, 5, 9]) if i % 7 else 0
        h = rng.choice([0, 1, 3, 8])
        v = rng.choice([1, 2, 5, 17, 70])
        hid = tc.gauss_data(rng, n * h, rng.choice([1.0, 3.0]))
        w = tc.gauss_data(rng, v * h, 0.5)
        opts = {"reduction": ["mean", "sum", "none"][i % 3]}
        if i % 4 == 1:
            opts["weight"] = [rng.uniform(0.1, 2.0) for _ in range(v)]
        if rng.random() < 0.5:
            opts["label_smoothing"] = rng.choice([0.1, 0.3])
        if i % 2 == 0:
            opts["softcap"] = rng.choice([0.0, 2.0, 30.0])
            opts["z_loss"] = rng.choice([0.0, 1e-4, 0.05])
            opts["return_accuracy"] = True
        opts["chunk_rows"] = rng.choice([0, 1, 2, 4])
        tg = [-100 if rng.random() < 0.2 else rng.randrange(v) for _ in range(n)]
        ins = {"hidden": tc.tensor_json([n, h], hid), "weight": tc.tensor_json([v, h], w),
               "target": tc.tensor_json([n], tg)}
        if i % 3 != 2:
            ins["bias"] = tc.tensor_json([v], tc.gauss_data(rng, v, 0.5))
        return {"loss": "linear_cross_entropy", "options": opts, "inputs": ins}
    return g


def ref(tc):
    def r(req):
        o, ins = req["options"], req["inputs"]
        hid = tc.to_torch(ins["hidden"], True)
        w = tc.to_torch(ins["weight"], True)
        b = tc.to_torch(ins["bias"], True) if "bias" in ins else None
        t = torch.tensor([int(tc.dec(u)) for u in ins["target"]["data"]], dtype=torch.long)
        cw = o.get("weight")
        cw = torch.tensor(cw, dtype=torch.float64) if cw is not None else None
        red = o.get("reduction", "mean")
        s, z = o.get("softcap", 0.0), o.get("z_loss", 0.0)
        x = F.linear(hid, w, b)
        xs = s * torch.tanh(x / s) if s > 0 else x
        loss = F.cross_entropy(xs, t, weight=cw, reduction=red, label_smoothing=o.get("label_smoothing", 0.0))
        keep = (t != -100).to(torch.float64)

        def reduce(v):
            if red == "none":
                return v
            if red == "sum":
                return v.sum()
            if float(keep.sum()) > 0:
                return v.sum() / keep.sum()
            return v.sum() * 0 + float("nan")

        out = {}
        zr = z * torch.logsumexp(xs, dim=1) ** 2 * keep
        if z > 0:
            loss = loss + reduce(zr)
            out["z_loss"] = tc.from_torch(reduce(zr))
        if o.get("return_accuracy"):
            acc = (xs.argmax(dim=1) == t).to(torch.float64) * keep if xs.shape[1] > 0 else keep
            out["accuracy"] = tc.from_torch(reduce(acc))
        if loss.requires_grad:
            loss.backward(torch.ones_like(loss))
        zeros = torch.zeros_like
        grads = {"hidden": tc.from_torch(hid.grad if hid.grad is not None else zeros(hid)),
                 "weight": tc.from_torch(w.grad if w.grad is not None else zeros(w))}
        if b is not None:
            grads["bias"] = tc.from_torch(b.grad if b.grad is not None else zeros(b))
        r = {"loss": tc.loss_json(loss, red), "grads": grads}
        if out:
            r["outputs"] = out
        return r
    return r


def losses(tc):
    return {"linear_cross_entropy": (gen(tc), ref(tc))}
