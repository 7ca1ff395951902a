"""torch_check entry of the boundary family: the boundary loss of Kervadec
et al. (MIDL 2019), written as their reference code computes it: softmax
over the classes (or a sigmoid, or the input as it is), the probabilities
and distance maps of the classes in idc multiplied and averaged; autograd
for the gradient w.r.t. the logits. Reduction none compares the products
shaped like the input, zeros outside idc.
"""

import torch


def gen(rng, i):
    shape = rng.choice([[2, 3, 5, 7], [1, 1, 9], [3, 2, 4, 3, 2], [2, 4], [0, 3, 4], [1, 5, 1, 1]])
    c = shape[1]
    n = 1
    for d in shape:
        n *= d
    x = [rng.gauss(0, rng.choice([1, 3, 10])) for _ in range(n)]
    dist = [rng.gauss(0, 5) for _ in range(n)]
    opts = {}
    if i % 3 == 1 and c > 1:
        opts["idc"] = sorted(rng.sample(range(c), rng.randint(1, c)))
    act = ["softmax", "sigmoid", "none", None][i % 4]
    if act is not None:
        opts["activation"] = act
    red = [None, "sum", "none", "mean"][(i // 2) % 4]
    if red is not None:
        opts["reduction"] = red
    return {"loss": "boundary_loss", "options": opts,
            "inputs": {"input": {"shape": shape, "data": x}, "dist_map": {"shape": shape, "data": dist}}}


def losses(tc):
    def ref(req):
        x = tc.to_torch(req["inputs"]["input"], True)
        dist = tc.to_torch(req["inputs"]["dist_map"])
        opts = req["options"]
        c = x.shape[1]
        idc = opts.get("idc") or list(range(c))
        act = opts.get("activation", "softmax")
        red = opts.get("reduction", "mean")
        if act == "softmax":
            p = torch.softmax(x, dim=1)
        elif act == "sigmoid":
            p = torch.sigmoid(x)
        else:
            p = x
        sel = p[:, idc] * dist[:, idc]
        if red == "none":
            loss = torch.zeros_like(p)
            loss[:, idc] = sel
        elif red == "sum":
            loss = sel.sum()
        else:
            loss = sel.mean()
        loss.backward(torch.ones_like(loss))
        g = x.grad if x.grad is not None else torch.zeros_like(x)
        return {"loss": tc.loss_json(loss, red), "grads": {"input": tc.from_torch(g)}}
    return {"boundary_loss": (gen, ref)}
