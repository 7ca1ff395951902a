"""torch_check cases of the gram family: feature_loss (F.mse_loss or
F.l1_loss between two feature maps, times layer_weight) and gram_style_loss
(F.mse_loss between the Gram matrices torch.bmm(F, F^T) / (C*H*W) of input
and target, times layer_weight, as in PyTorch's neural-style tutorial).
Gradients w.r.t. input and target by autograd, float64."""

import torch
import torch.nn.functional as F


def _shape(rng, i, gram):
    n = rng.choice([1, 2, 3]) if i % 9 else 0
    c = rng.choice([1, 2, 3, 5, 17, 33])
    spatial = rng.choice([[], [1], [4], [3, 5], [7, 9], [1, 1]])
    return [n, c] + spatial


def gen_feature_loss(tc):
    def gen(rng, i):
        shape = _shape(rng, i, False)
        n = tc.numel(shape)
        x = tc.gauss_data(rng, n, rng.choice([0.5, 1, 3]))
        y = tc.gauss_data(rng, n, rng.choice([0.5, 1, 3]))
        if i % 4 == 3:  # ties: the L1 gradient is 0 where x == y
            y = [a if k % 3 == 0 else b for k, (a, b) in enumerate(zip(x, y))]
        opts = {}
        if i % 2:
            opts["criterion"] = "l1"
        elif rng.random() < 0.5:
            opts["criterion"] = "mse"
        if i % 3 == 1:
            opts["layer_weight"] = rng.choice([0.25, 2.0, -1.5])
        return {"loss": "feature_loss", "options": opts,
                "inputs": {"input": tc.tensor_json(shape, x), "target": tc.tensor_json(shape, y)}}
    return gen


def ref_feature_loss(tc):
    def ref(req):
        x = tc.to_torch(req["inputs"]["input"], True)
        y = tc.to_torch(req["inputs"]["target"], True)
        o = req["options"]
        crit = F.l1_loss if o.get("criterion", "mse") == "l1" else F.mse_loss
        loss = o.get("layer_weight", 1.0) * crit(x, y)
        loss.backward()
        return {"loss": float(loss.detach()), "grads": {"input": tc.from_torch(x.grad), "target": tc.from_torch(y.grad)}}
    return ref


def gram(f):
    n, c = f.shape[0], f.shape[1]
    hw = 1
    for d in f.shape[2:]:
        hw *= d
    m = f.reshape(n, c, hw)
    return torch.bmm(m, m.transpose(1, 2)) / (c * hw)


def gen_gram_style_loss(tc):
    def gen(rng, i):
        xs = _shape(rng, i, True)
        ys = xs if i % 3 else xs[:2] + rng.choice([[2, 3], [5], [1]])  # a style target of another size
        x = tc.gauss_data(rng, tc.numel(xs), rng.choice([0.5, 1, 3]))
        y = tc.gauss_data(rng, tc.numel(ys), rng.choice([0.5, 1, 3]))
        opts = {}
        if i % 2:
            opts["layer_weight"] = rng.choice([0.5, 1e3, -2.0])
        return {"loss": "gram_style_loss", "options": opts,
                "inputs": {"input": tc.tensor_json(xs, x), "target": tc.tensor_json(ys, y)}}
    return gen


def ref_gram_style_loss(tc):
    def ref(req):
        x = tc.to_torch(req["inputs"]["input"], True)
        y = tc.to_torch(req["inputs"]["target"], True)
        loss = req["options"].get("layer_weight", 1.0) * F.mse_loss(gram(x), gram(y))
        loss.backward()
        grads = {}
        for name, t in (("input", x), ("target", y)):
            g = t.grad if t.grad is not None else torch.zeros_like(t)
            grads[name] = tc.from_torch(g)
        return {"loss": float(loss.detach()), "grads": grads}
    return ref


def losses(tc):
    return {"feature_loss": (gen_feature_loss(tc), ref_feature_loss(tc)),
            "gram_style_loss": (gen_gram_style_loss(tc), ref_gram_style_loss(tc))}
