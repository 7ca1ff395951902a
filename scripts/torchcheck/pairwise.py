"""torch_check entries of the pairwise family: metric-learning losses over
pairs and triplets of rows.

cosine_embedding_loss, margin_ranking_loss, triplet_margin_loss and
triplet_margin_with_distance_loss are PyTorch's own functions (the named
distances as callables: None for "l2", the squared Euclidean distance,
1 - F.cosine_similarity). cosine_similarity_loss is Keras' formula and
contrastive_loss Hadsell et al.'s and pytorch-metric-learning's, written in
torch ops, float64, with autograd for every gradient (the target's too,
where the loss is differentiable in it).
"""

import torch
import torch.nn.functional as F


def _rows(rng, n, d, k):
    """k lists of n*d values; the first rows are edge cases: an identical
    pair, a zero row, rows scaled by 1e4."""
    xs = [[rng.gauss(0, 1) for _ in range(n * d)] for _ in range(k)]
    if n >= 3 and rng.random() < 0.7:
        xs[1][:d] = xs[0][:d]
        xs[0][d:2 * d] = [0.0] * d
        for x in xs:
            x[2 * d:3 * d] = [v * 1e4 for v in x[2 * d:3 * d]]
    return xs


def _shape(rng, i):
    if i % 7 == 6:
        return 0, rng.choice([1, 3])
    return rng.choice([1, 2, 3, 5, 8, 17]), rng.choice([1, 2, 3, 7, 16, 33])


def _red(opts, i):
    red = ["mean", "sum", "none", None][i % 4]
    if red is not None:
        opts["reduction"] = red


def _t(shape, data):
    return {"shape": shape, "data": data}


def gen_cosine_embedding(rng, i):
    n, d = _shape(rng, i)
    x1, x2 = _rows(rng, n, d, 2)
    y = [rng.choice([1.0, -1.0]) for _ in range(n)]
    opts = {}
    _red(opts, i)
    if i % 3:
        opts["margin"] = rng.choice([-0.5, 0.0, 0.3, 0.9])
    return {"loss": "cosine_embedding_loss", "options": opts,
            "inputs": {"input1": _t([n, d], x1), "input2": _t([n, d], x2), "target": _t([n], y)}}


def gen_margin_ranking(rng, i):
    n = rng.choice([0, 1, 2, 5, 17, 64]) if i % 5 else 7
    x1, x2 = [rng.gauss(0, 1) for _ in range(n)], [rng.gauss(0, 1) for _ in range(n)]
    y = [rng.choice([1.0, -1.0, 0.5]) for _ in range(n)]
    opts = {}
    _red(opts, i)
    if i % 3:
        opts["margin"] = rng.choice([0.0, 0.2, 1.0])
    return {"loss": "margin_ranking_loss", "options": opts,
            "inputs": {"input1": _t([n], x1), "input2": _t([n], x2), "target": _t([n], y)}}


def _triplet_inputs(rng, i):
    n, d = _shape(rng, i)
    a, p, q = _rows(rng, n, d, 3)
    return {"anchor": _t([n, d], a), "positive": _t([n, d], p), "negative": _t([n, d], q)}


def gen_triplet(rng, i):
    opts = {}
    _red(opts, i)
    if i % 2:
        opts["swap"] = True
    if i % 3 == 1:
        opts["p"] = rng.choice([1.0, 3.0, 1.5])
    if i % 5 == 2:
        opts["eps"] = rng.choice([0.0, 1e-3])
    if i % 3 == 2:
        opts["margin"] = rng.choice([0.0, 0.5, 4.0])
    return {"loss": "triplet_margin_loss", "options": opts, "inputs": _triplet_inputs(rng, i)}


def gen_triplet_distance(rng, i):
    opts = {"distance": ["l2", "squared_l2", "cosine"][i % 3]}
    _red(opts, i // 3)
    if (i // 3) % 2:
        opts["swap"] = True
    if i % 4 == 1:
        opts["margin"] = rng.choice([0.5, 2.0])
    return {"loss": "triplet_margin_with_distance_loss", "options": opts, "inputs": _triplet_inputs(rng, i)}


def gen_cosine_similarity(rng, i):
    n, d = _shape(rng, i)
    x, y = _rows(rng, n, d, 2)
    opts = {}
    _red(opts, i)
    return {"loss": "cosine_similarity_loss", "options": opts,
            "inputs": {"input": _t([n, d], x), "target": _t([n, d], y)}}


def gen_contrastive(rng, i):
    n, d = _shape(rng, i)
    x1, x2 = _rows(rng, n, d, 2)
    y = [rng.choice([0.0, 1.0]) for _ in range(n)]
    opts = {}
    _red(opts, i)
    if i % 2:
        opts["form"] = "pml"
        if i % 3 == 1 or (n >= 3 and not any(x1[d:2 * d])):
            # A zero row is at distance exactly 1 from any normalised row:
            # on the default neg_margin's kink, where the last bit of d
            # decides whether AvgNonZero counts the pair.
            opts["pos_margin"], opts["neg_margin"] = 0.2, 1.5
    elif i % 3 == 1:
        opts["margin"] = rng.choice([0.5, 2.0, 10.0])
    return {"loss": "contrastive_loss", "options": opts,
            "inputs": {"input1": _t([n, d], x1), "input2": _t([n, d], x2), "target": _t([n], y)}}


def _reduce(per, red):
    if red == "none":
        return per
    if red == "sum":
        return per.sum()
    return per.mean()


def _grads(names, ts):
    return {k: _from(t) for k, t in zip(names, ts)}


def _from(t):
    g = t.grad if t.grad is not None else torch.zeros_like(t)
    return _from.tc.from_torch(g)


def make(tc):
    _from.tc = tc

    def inputs(req, names, grad=True):
        return [tc.to_torch(req["inputs"][k], grad) for k in names]

    def finish(loss, red, names, ts):
        if loss.requires_grad:
            loss.backward(torch.ones_like(loss))
        return {"loss": tc.loss_json(loss, red), "grads": _grads(names, ts)}

    def cosine_embedding(req):
        o = req["options"]
        red = o.get("reduction", "mean")
        x1, x2 = inputs(req, ["input1", "input2"])
        y = tc.to_torch(req["inputs"]["target"])
        loss = F.cosine_embedding_loss(x1, x2, y, margin=o.get("margin", 0.0), reduction=red)
        return finish(loss, red, ["input1", "input2"], [x1, x2])

    def margin_ranking(req):
        o = req["options"]
        red = o.get("reduction", "mean")
        ts = inputs(req, ["input1", "input2", "target"])
        loss = F.margin_ranking_loss(*ts, margin=o.get("margin", 0.0), reduction=red)
        return finish(loss, red, ["input1", "input2", "target"], ts)

    names3 = ["anchor", "positive", "negative"]

    def triplet(req):
        o = req["options"]
        red = o.get("reduction", "mean")
        ts = inputs(req, names3)
        loss = F.triplet_margin_loss(*ts, margin=o.get("margin", 1.0), p=o.get("p", 2.0), eps=o.get("eps", 1e-6),
                                     swap=o.get("swap", False), reduction=red)
        return finish(loss, red, names3, ts)

    dists = {"l2": None,
             "squared_l2": lambda x, y: ((x - y) ** 2).sum(-1),
             "cosine": lambda x, y: 1.0 - F.cosine_similarity(x, y)}

    def triplet_distance(req):
        o = req["options"]
        red = o.get("reduction", "mean")
        ts = inputs(req, names3)
        loss = F.triplet_margin_with_distance_loss(*ts, distance_function=dists[o.get("distance", "l2")],
                                                   margin=o.get("margin", 1.0), swap=o.get("swap", False),
                                                   reduction=red)
        return finish(loss, red, names3, ts)

    def cosine_similarity(req):
        red = req["options"].get("reduction", "mean")
        x, y = inputs(req, ["input", "target"])
        nx = x / torch.sqrt(torch.clamp_min((x * x).sum(-1, keepdim=True), 1e-12))
        ny = y / torch.sqrt(torch.clamp_min((y * y).sum(-1, keepdim=True), 1e-12))
        loss = _reduce(-(nx * ny).sum(-1), red)
        return finish(loss, red, ["input", "target"], [x, y])

    def contrastive(req):
        o = req["options"]
        red = o.get("reduction", "mean")
        ts = inputs(req, ["input1", "input2", "target"])
        x1, x2, y = ts
        if o.get("form", "hadsell") == "pml":
            n1, n2 = F.normalize(x1, p=2, dim=1, eps=1e-12), F.normalize(x2, p=2, dim=1, eps=1e-12)
            d = (n1 - n2).norm(dim=1)
            per = y * F.relu(d - o.get("pos_margin", 0.0)) + (1 - y) * F.relu(o.get("neg_margin", 1.0) - d)
            if red == "mean":  # pml's AvgNonZeroReducer
                keep = per > 0
                loss = per[keep].mean() if int(keep.sum()) >= 1 else (per * 0).sum()
            else:
                loss = _reduce(per, red)
        else:
            d = (x1 - x2).norm(dim=1)
            m = o.get("margin", 1.0)
            per = 0.5 * y * d ** 2 + 0.5 * (1 - y) * torch.clamp_min(m - d, 0) ** 2
            loss = _reduce(per, red)
        return finish(loss, red, ["input1", "input2", "target"], ts)

    return {
        "cosine_embedding_loss": (gen_cosine_embedding, cosine_embedding),
        "margin_ranking_loss": (gen_margin_ranking, margin_ranking),
        "triplet_margin_loss": (gen_triplet, triplet),
        "triplet_margin_with_distance_loss": (gen_triplet_distance, triplet_distance),
        "cosine_similarity_loss": (gen_cosine_similarity, cosine_similarity),
        "contrastive_loss": (gen_contrastive, contrastive),
    }


def losses(tc):
    return make(tc)
