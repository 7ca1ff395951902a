"""torch_check entries of the barlow family: Barlow Twins' loss (Zbontar et
al. 2021) written from the paper in torch ops, float64, autograd for the
gradients w.r.t. both views: each column standardised over the batch,
either as BatchNorm1d(affine=False) in training mode (F.batch_norm with
training=True: the biased variance and eps) or by MONAI's (z - mean) /
std (the unbiased std), c = z1n^T z2n / N, the squared distance of its
diagonal from 1 plus lambd times the squares off the diagonal.
"""

import torch
import torch.nn.functional as F


def _gen(rng, i):
    n = rng.choice([2, 3, 5, 16, 37]) if i % 5 else 64
    d = rng.choice([1, 2, 7, 20]) if i % 4 else 33
    z1, z2 = [], []
    for _ in range(n * d):
        a = rng.gauss(0, 1.5)
        z1.append(a + (100.0 if i % 3 == 0 else 0.0))
        z2.append(0.5 * a + rng.gauss(0, 1))
    opts = {}
    if i % 2:
        opts["normalization"] = "unbiased_std"
    elif i % 4 == 2:
        opts["normalization"] = "batch_norm"
        opts["eps"] = rng.choice([1e-3, 0.0])
    if i % 3 == 1:
        opts["lambd"] = rng.choice([0.0, 0.1, 1.0])
    return {"loss": "barlow_twins_loss", "options": opts,
            "inputs": {"z1": {"shape": [n, d], "data": z1}, "z2": {"shape": [n, d], "data": z2}}}


def _ref(tc):
    def ref(req):
        z1 = tc.to_torch(req["inputs"]["z1"], True)
        z2 = tc.to_torch(req["inputs"]["z2"], True)
        o = req["options"]
        n, d = z1.shape
        lambd = o.get("lambd", 5e-3)

        def norm(z):
            if o.get("normalization") == "unbiased_std":
                return (z - z.mean(0)) / z.std(0)
            return F.batch_norm(z, None, None, training=True, eps=o.get("eps", 1e-5))

        c = norm(z1).T @ norm(z2) / n
        on = (1 - torch.diagonal(c)).pow(2).sum()
        off = (c - torch.diag(torch.diagonal(c))).pow(2).sum()
        loss = on + lambd * off
        loss.backward()
        return {"loss": tc.loss_json(loss, "sum"),
                "grads": {"z1": tc.from_torch(z1.grad), "z2": tc.from_torch(z2.grad)}}
    return ref


def losses(tc):
    return {"barlow_twins_loss": (_gen, _ref(tc))}
