"""torch_check entries of the mining family: batch_triplet_loss.

The reference is each mining rule written in torch ops on a float64
distance matrix, with autograd for the gradient w.r.t. the embeddings:
the euclidean distances from the row differences (sqrt taken only where
the squared distance is > 0, so a zero distance has gradient 0, as
TF-Addons' pairwise_distance), the cosine distance 1 - u u^T on rows
F.normalize-d; batch-hard by masked maximum and minimum (ties to the lower
index), semi-hard as TF-Addons' triplet_semihard_loss (per positive pair,
the nearest negative farther than d_ap, else the farthest negative, else
0; the mean over the positive pairs), all triplets with the mean over
those with a positive loss (pytorch-metric-learning's AvgNonZeroReducer).

circle_loss: Keras 3's circle formula (keras.losses.circle) in torch ops
on F.normalize-d rows, the weights detached, the mean over the rows that
have a positive and a negative.

barlow_twins_loss: F.batch_norm in training mode (the paper's BatchNorm1d,
affine=False) or (z - mean) / std with torch's unbiased std (MONAI), then
c = z1n^T z2n / N and the sum of (1 - c_ii)^2 and lambd c_ij^2, autograd
for both views.
"""

import torch
import torch.nn.functional as F


def _dist(x, kind):
    if kind == "cosine":
        u = F.normalize(x, dim=1, eps=1e-12)
        return 1 - u @ u.T
    diff = x[:, None, :] - x[None, :, :]
    sq = (diff * diff).sum(-1)
    if kind == "squared_l2":
        return sq
    pos = sq > 0
    return torch.where(pos, torch.sqrt(torch.where(pos, sq, torch.ones_like(sq))), torch.zeros_like(sq))


def _term(dap, dan, margin, soft):
    if soft:
        return F.softplus(dap - dan)
    return torch.relu(margin + dap - dan)


def _lowest(values, mask, want_max):
    """Per row: the index of the best value under mask (ties to the lowest;
    0 for a row without a candidate, whose term the caller drops)."""
    r, b = values.shape
    fill = -float("inf") if want_max else float("inf")
    m = torch.where(mask, values.detach(), torch.full_like(values, fill))
    best = m.max(dim=1).values if want_max else m.min(dim=1).values
    idx = torch.arange(b).expand(r, b)
    cand = mask & (m == best[:, None])
    low = torch.where(cand, idx, torch.full_like(idx, b)).min(dim=1).values
    return torch.where(low < b, low, torch.zeros_like(low))


def batch_triplet(x, labels, mining, kind, margin, soft):
    b = x.shape[0]
    if b == 0:
        return x.sum() * 0 + (float("nan") if mining == "semi_hard" else 0.0)
    d = _dist(x, kind)
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(b, dtype=torch.bool)
    pos, neg = same & ~eye, ~same
    if mining == "hard":
        keep = pos.any(1) & neg.any(1)
        if not keep.any():
            return x.sum() * 0
        p, n = _lowest(d, pos, True), _lowest(d, neg, False)
        rows = torch.arange(b)
        terms = _term(d[rows, p], d[rows, n], margin, soft)
        return terms[keep].mean()
    if mining == "semi_hard":
        terms = []
        for a in range(b):
            for p in range(b):
                if not pos[a, p]:
                    continue
                dap = d[a, p]
                outside = neg[a] & (d[a].detach() > dap.detach())
                if outside.any():
                    n = int(_lowest(d[a:a + 1], outside[None], False)[0])
                    dan = d[a, n]
                elif neg[a].any():
                    n = int(_lowest(d[a:a + 1], neg[a][None], True)[0])
                    dan = d[a, n]
                else:
                    dan = torch.zeros((), dtype=d.dtype)
                terms.append(_term(dap, dan, margin, soft))
        if not terms:
            return x.sum() * 0 + float("nan")
        return torch.stack(terms).mean()
    trip = pos[:, :, None] & neg[:, None, :]
    t = _term(d[:, :, None], d[:, None, :], margin, soft)
    t = torch.where(trip, t, torch.zeros_like(t))
    cnt = trip.sum() if soft else ((t > 0) & trip).sum()
    if cnt == 0:
        return x.sum() * 0
    return t.sum() / cnt


def losses(tc):
    def gen(rng, i):
        b = rng.choice([0, 1, 2, 3, 5, 8, 13, 17]) if i % 7 else 6
        dd = rng.choice([1, 2, 3, 7])
        classes = rng.choice([1, 2, 3, b + 1])
        x = [rng.gauss(0, 1) for _ in range(b * dd)]
        labels = [rng.randrange(max(1, classes)) for _ in range(b)]
        if b >= 3 and i % 3 == 0:  # a duplicate row and a zero row
            x[dd:2 * dd] = x[:dd]
            x[2 * dd:3 * dd] = [0.0] * dd
        opts = {"mining": ["hard", "semi_hard", "all"][i % 3],
                "distance": ["l2", "squared_l2", "cosine"][(i // 3) % 3]}
        if i % 4 == 1:
            opts["soft"] = True
        if i % 5 == 2:
            opts["margin"] = rng.choice([0.2, 0.5, 2.0])
        return {"loss": "batch_triplet_loss", "options": opts,
                "inputs": {"embeddings": tc.tensor_json([b, dd], x), "labels": tc.tensor_json([b], labels)}}

    def ref(req):
        x = tc.to_torch(req["inputs"]["embeddings"], True)
        lt = req["inputs"]["labels"]
        labels = torch.tensor([int(tc.dec(v)) for v in lt["data"]], dtype=torch.long)
        o = req["options"]
        loss = batch_triplet(x, labels, o.get("mining", "hard"), o.get("distance", "l2"), o.get("margin", 1.0),
                             o.get("soft", False))
        loss.backward()
        g = x.grad if x.grad is not None else torch.zeros_like(x)
        return {"loss": tc.loss_json(loss, "mean"), "grads": {"embeddings": tc.from_torch(g)}}

    out = {"batch_triplet_loss": (gen, ref)}
    out.update(barlow_losses(tc))
    out.update(circle_losses(tc))
    return out


def barlow_twins(z1, z2, lambd, normalization):
    n = z1.shape[0]
    if normalization == "unbiased_std":
        a = (z1 - z1.mean(0)) / z1.std(0)
        b = (z2 - z2.mean(0)) / z2.std(0)
    else:
        a = F.batch_norm(z1, None, None, training=True, eps=1e-5)
        b = F.batch_norm(z2, None, None, training=True, eps=1e-5)
    c = a.T @ b / n
    on = (torch.diagonal(c) - 1).pow(2).sum()
    off = c.pow(2).sum() - torch.diagonal(c).pow(2).sum()
    return on + lambd * off


def barlow_losses(tc):
    def gen(rng, i):
        n = rng.choice([2, 3, 5, 8, 17])
        d = rng.choice([1, 2, 3, 6, 11])
        z1 = [rng.gauss(0, 1) for _ in range(n * d)]
        z2 = [0.6 * v + rng.gauss(0, 1) for v in z1]
        opts = {}
        if i % 2:
            opts["normalization"] = "unbiased_std"
        if i % 3 == 1:
            opts["lambd"] = rng.choice([0.0, 0.05, 1.0])
        return {"loss": "barlow_twins_loss", "options": opts,
                "inputs": {"z1": tc.tensor_json([n, d], z1), "z2": tc.tensor_json([n, d], z2)}}

    def ref(req):
        z1 = tc.to_torch(req["inputs"]["z1"], True)
        z2 = tc.to_torch(req["inputs"]["z2"], True)
        o = req["options"]
        loss = barlow_twins(z1, z2, o.get("lambd", 5e-3), o.get("normalization", "batch_norm"))
        loss.backward()
        return {"loss": tc.loss_json(loss, "mean"), "grads": {"z1": tc.from_torch(z1.grad), "z2": tc.from_torch(z2.grad)}}

    return {"barlow_twins_loss": (gen, ref)}


def circle(x, labels, gamma, m, remove_diagonal):
    """Keras 3's circle formula on F.normalize-d rows, the weights detached
    (lossengine's gradient convention), the mean over the rows with a
    positive and a negative."""
    u = F.normalize(x, dim=1, eps=1e-12)
    d = torch.clamp(1 - u @ u.T, min=0)
    same = labels[:, None] == labels[None, :]
    pos = same & ~torch.eye(len(labels), dtype=torch.bool) if remove_diagonal else same
    neg = ~same
    wp = torch.clamp(m + d, min=0).detach()
    wn = torch.clamp(1 + m - d, min=0).detach()
    ninf = torch.full_like(d, -float("inf"))
    p = torch.logsumexp(torch.where(pos, -gamma * wp * (m - d), ninf), dim=1)
    n = torch.logsumexp(torch.where(neg, gamma * wn * (1 - m - d), ninf), dim=1)
    keep = pos.any(1) & neg.any(1)
    if not keep.any():
        return x.sum() * 0
    return F.softplus(p[keep] + n[keep]).mean()


def circle_losses(tc):
    def gen(rng, i):
        b = rng.choice([0, 1, 2, 3, 5, 8, 13])
        dd = rng.choice([1, 2, 3, 7])
        classes = rng.choice([1, 2, 3, b + 1])
        x = [rng.gauss(0, 1) for _ in range(b * dd)]
        labels = [rng.randrange(max(1, classes)) for _ in range(b)]
        if b >= 2 and i % 3 == 0:  # a duplicate row
            x[dd:2 * dd] = x[:dd]
        opts = {}
        if i % 2:
            opts["gamma"] = rng.choice([1.0, 4.0, 32.0])
            opts["margin"] = rng.choice([0.1, 0.25, 0.6])
        if i % 4 == 3:
            opts["remove_diagonal"] = False
        return {"loss": "circle_loss", "options": opts,
                "inputs": {"embeddings": tc.tensor_json([b, dd], x), "labels": tc.tensor_json([b], labels)}}

    def ref(req):
        x = tc.to_torch(req["inputs"]["embeddings"], True)
        lt = req["inputs"]["labels"]
        labels = torch.tensor([int(tc.dec(v)) for v in lt["data"]], dtype=torch.long)
        o = req["options"]
        if x.shape[0] == 0:
            loss = x.sum() * 0
        else:
            loss = circle(x, labels, o.get("gamma", 80.0), o.get("margin", 0.4), o.get("remove_diagonal", True))
        loss.backward()
        g = x.grad if x.grad is not None else torch.zeros_like(x)
        return {"loss": tc.loss_json(loss, "mean"), "grads": {"embeddings": tc.from_torch(g)}}

    return {"circle_loss": (gen, ref)}
