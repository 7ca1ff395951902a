"""torch_check entries of the contrastive family: nt_xent_loss (optax's
label form and SimCLR's two-view form), info_nce_loss (the
info-nce-pytorch package) and supcon_loss (the SupContrast reference).

None of the three is in PyTorch, so each reference is its source's
published formula written in torch ops, float64, with autograd for the
gradients w.r.t. every embedding input:

- optax.ntxent: cosine similarities over norms clamped below at eps (the
  element type's machine epsilon by default; the clamped branch passes no
  gradient to the norm), divided by the temperature; for each positive
  pair (i, j) (equal labels, j != i) the term
  logsumexp([s_ij, s_ik for every k of another label]) - s_ij; the mean
  over the positive pairs (0/0 = NaN with none).
- SimCLR (z2 given, embeddings = z1): F.normalize of the 2N views [z1; z2], the similarity matrix over
  the temperature with its diagonal masked to -inf, F.cross_entropy against
  the other view of each sample.
- info-nce-pytorch: F.normalize of query, positive_key and negative_keys;
  with negatives the logits [q.p, q.n_1..M], label 0; without, Q P^T with
  label i; F.cross_entropy of logits / temperature.
- SupContrast's SupConLoss, line by line (the mask, logits_mask, the
  detached row maximum, the guard that divides a row with no positive by
  1), on F.normalize'd features. A single row (B * V = 1) is left out: the
  reference gives NaN there (0 * log 0), lossengine 0.
"""

import torch
import torch.nn.functional as F

EPS64 = 2.220446049250313e-16


def _emb(rng, n, d, special):
    x = [rng.gauss(0, 1) for _ in range(n * d)]
    if special and n > 2:
        x[d:2 * d] = x[:d]              # a duplicate embedding
        x[(n - 1) * d:] = [0.0] * d      # a zero embedding
    return x


def _tile(rng, opts):
    t = rng.choice([None, 0, 1, 7, 1 << 20])
    if t is not None:
        opts["tile"] = t


def _gen_ntxent(rng, i):
    d = rng.choice([1, 3, 8, 33])
    opts = {}
    _tile(rng, opts)
    if i % 2 == 0:
        b = rng.choice([0, 2, 3, 5, 17]) if i % 8 else 9
        labels = [rng.randrange(rng.choice([1, 2, 3, 100])) for _ in range(b)]
        if i % 3 == 0:
            opts["temperature"] = rng.choice([0.05, 0.5, 2.0])
        if i % 5 == 0:
            opts["eps"] = 1e-3
        return {"loss": "nt_xent_loss", "options": opts,
                "inputs": {"embeddings": {"shape": [b, d], "data": _emb(rng, b, d, i % 4 == 0)},
                           "labels": {"shape": [b], "data": labels}}}
    n = rng.choice([0, 1, 2, 5, 17])
    if i % 3 == 1:
        opts["temperature"] = rng.choice([0.07, 0.2, 1.0])
    return {"loss": "nt_xent_loss", "options": opts,
            "inputs": {"embeddings": {"shape": [n, d], "data": _emb(rng, n, d, i % 4 == 1)},
                       "z2": {"shape": [n, d], "data": _emb(rng, n, d, False)}}}


def _safe_unit(x, eps):
    n = x.norm(dim=1, keepdim=True)
    return x / torch.where(n <= eps, torch.full_like(n, eps), n)


def _ref_ntxent(tc):
    def ref(req):
        ins, opts = req["inputs"], req["options"]
        if "z2" not in ins:
            x = tc.to_torch(ins["embeddings"], True)
            lab = torch.tensor([int(tc.dec(v)) for v in ins["labels"]["data"]], dtype=torch.long)
            tau = opts.get("temperature", 0.07)
            u = _safe_unit(x, opts.get("eps", EPS64))
            s = u @ u.T / tau
            b = x.shape[0]
            same = lab[:, None] == lab[None, :]
            total, pairs = x.sum() * 0.0, 0
            for i in range(b):
                neg = s[i][~same[i]]
                for j in range(b):
                    if j != i and same[i, j]:
                        total = total + torch.logsumexp(torch.cat([s[i, j:j + 1], neg]), 0) - s[i, j]
                        pairs += 1
            loss = total / pairs if pairs else total / 0.0
            if x.numel() > 0:
                loss.backward()
            g = x.grad if x.grad is not None else torch.zeros_like(x)
            return {"loss": float(loss), "grads": {"embeddings": tc.from_torch(g)}}
        z1, z2 = tc.to_torch(ins["embeddings"], True), tc.to_torch(ins["z2"], True)
        tau = opts.get("temperature", 0.5)
        eps = opts.get("eps", 1e-12)
        n = z1.shape[0]
        z = F.normalize(torch.cat([z1, z2]), dim=1, eps=eps)
        s = (z @ z.T / tau).masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
        target = (torch.arange(2 * n) + n) % max(2 * n, 1)
        loss = F.cross_entropy(s, target)
        if n > 0:
            loss.backward()
        g1 = z1.grad if z1.grad is not None else torch.zeros_like(z1)
        g2 = z2.grad if z2.grad is not None else torch.zeros_like(z2)
        return {"loss": float(loss), "grads": {"embeddings": tc.from_torch(g1), "z2": tc.from_torch(g2)}}
    return ref


def _gen_infonce(rng, i):
    b, d = rng.choice([1, 2, 3, 8, 17]), rng.choice([1, 4, 16, 33])
    opts = {}
    _tile(rng, opts)
    if i % 3 == 0:
        opts["temperature"] = rng.choice([0.05, 0.5])
    ins = {"query": {"shape": [b, d], "data": _emb(rng, b, d, i % 4 == 0)},
           "positive_key": {"shape": [b, d], "data": _emb(rng, b, d, False)}}
    if i % 2 == 0:
        m = rng.choice([1, 5, 20])
        ins["negative_keys"] = {"shape": [m, d], "data": _emb(rng, m, d, i % 3 == 1)}
    return {"loss": "info_nce_loss", "options": opts, "inputs": ins}


def _ref_infonce(tc):
    def ref(req):
        ins, opts = req["inputs"], req["options"]
        tau = opts.get("temperature", 0.1)
        q, p = tc.to_torch(ins["query"], True), tc.to_torch(ins["positive_key"], True)
        nk = tc.to_torch(ins["negative_keys"], True) if "negative_keys" in ins else None
        qn, pn = F.normalize(q, dim=-1), F.normalize(p, dim=-1)
        if nk is not None:
            nn = F.normalize(nk, dim=-1)
            logits = torch.cat([torch.sum(qn * pn, dim=1, keepdim=True), qn @ nn.T], dim=1)
            labels = torch.zeros(len(logits), dtype=torch.long)
        else:
            logits = qn @ pn.T
            labels = torch.arange(len(qn))
        loss = F.cross_entropy(logits / tau, labels)
        loss.backward()
        grads = {"query": tc.from_torch(q.grad), "positive_key": tc.from_torch(p.grad)}
        if nk is not None:
            grads["negative_keys"] = tc.from_torch(nk.grad)
        return {"loss": float(loss), "grads": grads}
    return ref


def _gen_supcon(rng, i):
    b, v, d = rng.choice([1, 2, 3, 8, 17]), rng.choice([1, 2, 3]), rng.choice([1, 4, 16, 33])
    if b * v == 1:
        v = 2
    opts = {}
    _tile(rng, opts)
    if i % 3 == 0:
        opts["temperature"] = rng.choice([0.1, 0.5])
    if i % 4 == 1:
        opts["base_temperature"] = rng.choice([0.07, 1.0])
    if i % 2 == 1:
        opts["contrast_mode"] = rng.choice(["all", "one"])
    ins = {"features": {"shape": [b, v, d], "data": _emb(rng, b * v, d, i % 5 == 0)}}
    if i % 3 != 2:
        ins["labels"] = {"shape": [b], "data": [rng.randrange(rng.choice([1, 2, 4])) for _ in range(b)]}
    return {"loss": "supcon_loss", "options": opts, "inputs": ins}


def _ref_supcon(tc):
    def ref(req):
        ins, opts = req["inputs"], req["options"]
        tau = opts.get("temperature", 0.07)
        tb = opts.get("base_temperature", 0.07)
        mode = opts.get("contrast_mode", "all")
        x = tc.to_torch(ins["features"], True)
        features = F.normalize(x, dim=-1)
        b, v = features.shape[0], features.shape[1]
        if "labels" in ins:
            lab = torch.tensor([int(tc.dec(t)) for t in ins["labels"]["data"]], dtype=torch.long).view(-1, 1)
            mask = torch.eq(lab, lab.T).double()
        else:
            mask = torch.eye(b, dtype=torch.float64)
        contrast_feature = torch.cat(torch.unbind(features, dim=1), dim=0)
        if mode == "one":
            anchor_feature, anchor_count = features[:, 0], 1
        else:
            anchor_feature, anchor_count = contrast_feature, v
        adc = anchor_feature @ contrast_feature.T / tau
        logits_max, _ = torch.max(adc, dim=1, keepdim=True)
        logits = adc - logits_max.detach()
        mask = mask.repeat(anchor_count, v)
        logits_mask = torch.scatter(torch.ones_like(mask), 1, torch.arange(b * anchor_count).view(-1, 1), 0)
        mask = mask * logits_mask
        exp_logits = torch.exp(logits) * logits_mask
        log_prob = logits - torch.log(exp_logits.sum(1, keepdim=True))
        mpp = mask.sum(1)
        mpp = torch.where(mpp < 1e-6, torch.ones_like(mpp), mpp)
        mean_log_prob_pos = (mask * log_prob).sum(1) / mpp
        loss = (-(tau / tb) * mean_log_prob_pos).view(anchor_count, b).mean()
        loss.backward()
        return {"loss": float(loss), "grads": {"features": tc.from_torch(x.grad)}}
    return ref


def losses(tc):
    return {"nt_xent_loss": (_gen_ntxent, _ref_ntxent(tc)),
            "info_nce_loss": (_gen_infonce, _ref_infonce(tc)),
            "supcon_loss": (_gen_supcon, _ref_supcon(tc))}
