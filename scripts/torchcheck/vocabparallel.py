"""torch_check entries of the vocabparallel family: the vocabulary-parallel
cross-entropy as one rank holding the whole vocabulary (its declared form;
the split across ranks is checked in Go against this same call and against
a full-vocabulary reference).

The reference is torch.nn.functional.cross_entropy (float64, autograd) on
the capped logits x' = s*tanh(x/s) (softcap s > 0, Gemma 2), plus the
z-loss z*logsumexp(x')^2 per non-ignored row (PaLM), which with reduction
mean is divided by the number of non-ignored rows (Liger-Kernel's
convention) while the cross-entropy part is divided by the sum of the
target weights, as PyTorch. With every row ignored under mean, the loss
is NaN and the gradient zero (the convention of cross_entropy here).
"""

import torch
import torch.nn.functional as F

NAME = "vocab_parallel_cross_entropy"


def _gen(tc):
    def gen(rng, i):
        n = rng.choice([0, 1, 2, 5, 9, 17])
        v = rng.choice([1, 2, 7, 31, 100])
        scale = rng.choice([1, 3, 30])
        x = [rng.gauss(0, scale) for _ in range(n * v)]
        opts = {"reduction": ["mean", "sum", "none"][i % 3]}
        if i % 2 == 1:
            opts["weight"] = [rng.uniform(0.1, 2) for _ in range(v)]
        if i % 4 >= 2:
            opts["label_smoothing"] = rng.choice([0.1, 0.3, 1.0])
        if i % 5 >= 2:
            opts["softcap"] = rng.choice([1.0, 5.0, 30.0])
        if i % 3 == 1 or i % 7 == 0:
            opts["z_loss"] = rng.choice([1e-4, 1e-2, 0.5])
        if i % 6 == 5:
            opts["vocab_size"] = v
        ign = -100
        if i % 8 == 3:
            ign = rng.randrange(v)
            opts["ignore_index"] = ign
        all_ignored = i % 10 == 9
        t = [ign if all_ignored or rng.random() < 0.2 else rng.randrange(v) for _ in range(n)]
        return {"loss": NAME, "options": opts,
                "inputs": {"input": tc.tensor_json([n, v], x), "target": tc.tensor_json([n], t)}}
    return gen


def _ref(tc):
    def ref(req):
        o = req["options"]
        x = tc.to_torch(req["inputs"]["input"], True)
        t = torch.tensor([int(tc.dec(v)) for v in req["inputs"]["target"]["data"]], dtype=torch.long)
        w = o.get("weight")
        w = torch.tensor(w, dtype=torch.float64) if w is not None else None
        red = o.get("reduction", "mean")
        ign = o.get("ignore_index", -100)
        s = o.get("softcap", 0.0)
        z = o.get("z_loss", 0.0)
        xc = s * torch.tanh(x / s) if s > 0 else x
        loss = F.cross_entropy(xc, t, weight=w, ignore_index=ign, reduction=red,
                               label_smoothing=o.get("label_smoothing", 0.0))
        if z != 0:
            keep = (t != ign).to(torch.float64)
            zr = z * torch.logsumexp(xc, dim=1) ** 2 * keep
            if red == "none":
                loss = loss + zr
            elif red == "sum":
                loss = loss + zr.sum()
            else:
                # lossengine's convention for a mean over no row: the loss is
                # NaN (the cross-entropy part, 0/0 as PyTorch) and the
                # gradient 0, which a z-part of 0/0 would turn into NaN.
                loss = loss + zr.sum() / keep.sum().clamp_min(1)
        loss.backward(torch.ones_like(loss))
        g = x.grad if x.grad is not None else torch.zeros_like(x)
        return {"loss": tc.loss_json(loss, red), "grads": {"input": tc.from_torch(g)}}
    return ref


def losses(tc):
    return {NAME: (_gen(tc), _ref(tc))}
