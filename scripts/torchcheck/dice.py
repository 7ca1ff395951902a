"""torch_check: the overlap losses (losses/dice.go): dice_loss (and its
Jaccard form), tversky_loss and generalized_dice_loss.

The references are the published formulas written in torch ops, float64,
with autograd for the gradient: MONAI's DiceLoss / TverskyLoss /
GeneralizedDiceLoss (convention monai: one loss per sample and class, or
per class with batch) and segmentation_models_pytorch's DiceLoss /
JaccardLoss / TverskyLoss (convention smp: per class over the batch and
the pixels, absent classes dropped, an eps clamp of the denominator).
"""

import torch


def _shape(rng, i):
    n = rng.choice([1, 2, 3])
    c = rng.choice([1, 2, 3, 4, 5]) if i % 6 else rng.choice([2, 4])
    nsp = rng.choice([1, 2, 2, 3])
    sp = [rng.choice([1, 2, 3, 5, 7, 16]) for _ in range(nsp)]
    return n, c, sp


def _numel(sh):
    k = 1
    for d in sh:
        k *= d
    return k


def _gen(tc, loss):
    def gen(rng, i):
        n, c, sp = _shape(rng, i)
        shape = [n, c] + sp
        smp = loss != "generalized_dice_loss" and i % 4 == 3
        act = rng.choice(["softmax", "softmax", "sigmoid", "none"])
        if act == "softmax" and c == 1:
            act = "sigmoid"
        if act == "none":
            x = [rng.uniform(0.02, 0.98) for _ in range(_numel(shape))]
        else:
            x = [rng.gauss(0, 2) for _ in range(_numel(shape))]
        o = {"activation": act}
        red = ["mean", "sum", "none"][i % 3]
        o["reduction"] = red
        soft = i % 5 == 1
        if soft:
            tgt = tc.tensor_json(shape, [rng.random() for _ in range(_numel(shape))])
            if rng.random() < 0.5:
                o["soft_label"] = True
        else:
            t = [rng.randrange(c) for _ in range(n * _numel(sp))]
            if rng.random() < 0.4:
                ig = rng.choice([-1, 255, c - 1])
                o["ignore_index"] = ig
                t = [ig if rng.random() < 0.25 else v for v in t]
            tgt = tc.tensor_json([n] + sp, t)
        if c > 1 and rng.random() < 0.3:
            o["include_background"] = False
        kept = c - 1 if o.get("include_background") is False else c
        if smp:
            o["convention"] = "smp"
            if rng.random() < 0.5:
                o["smooth"] = rng.choice([0.0, 0.5, 1.0])
            if rng.random() < 0.3:
                o["eps"] = rng.choice([1e-7, 0.5])
        else:
            if rng.random() < 0.5:
                o["smooth_nr"] = rng.choice([0.0, 1e-5, 0.5])
                o["smooth_dr"] = rng.choice([1e-5, 0.5, 1.0])
            if rng.random() < 0.3:
                o["batch"] = True
        if loss == "dice_loss":
            if rng.random() < 0.4:
                o["jaccard"] = True
            if not smp and rng.random() < 0.3:
                o["squared_pred"] = True
            if not smp and rng.random() < 0.3:
                o["weight"] = [rng.uniform(0, 2) for _ in range(kept)]
        if loss == "tversky_loss":
            o["alpha"] = rng.choice([0.5, 0.3, 0.7, 0.0])
            o["beta"] = rng.choice([0.5, 0.7, 0.3, 1.0])
            if (not smp or red == "mean") and rng.random() < 0.5:
                o["gamma"] = rng.choice([0.75, 1.5, 2.0])
            if not smp and rng.random() < 0.3:
                o["weight"] = [rng.uniform(0, 2) for _ in range(kept)]
        if loss == "generalized_dice_loss":
            o["w_type"] = rng.choice(["square", "simple", "uniform"])
        return {"loss": loss, "options": o, "inputs": {"input": tc.tensor_json(shape, x), "target": tgt}}
    return gen


def _prepare(tc, req):
    """(x with grad, p, t, o): the activated input and the one-hot (or
    float) target, both zeroed at ignored pixels, background dropped."""
    o = req["options"]
    ins = req["inputs"]
    x = tc.to_torch(ins["input"], True)
    c = x.shape[1]
    act = o.get("activation", "none")
    if act == "softmax" and c > 1:
        p = torch.softmax(x, 1)
    elif act == "sigmoid":
        p = torch.sigmoid(x)
    else:
        p = x
    if ins["target"]["shape"] == ins["input"]["shape"]:
        t = tc.to_torch(ins["target"])
    else:
        idx = torch.tensor([int(tc.dec(v)) for v in ins["target"]["data"]], dtype=torch.long).reshape(ins["target"]["shape"])
        keep = torch.ones_like(idx, dtype=torch.float64)
        if "ignore_index" in o:
            keep = (idx != o["ignore_index"]).to(torch.float64)
        safe = torch.where(idx == o.get("ignore_index", -10**9), torch.zeros_like(idx), idx)
        t = torch.nn.functional.one_hot(safe, c).movedim(-1, 1).to(torch.float64)
        t = t * keep.unsqueeze(1)
        p = p * keep.unsqueeze(1)
    if o.get("include_background") is False and c > 1:
        p, t = p[:, 1:], t[:, 1:]
    return x, p, t, o


def _sums(p, t, dims, squared, soft):
    """I, P, T over dims (MONAI's tp and the norms; the soft-label form
    (|p| + |t| − |p − t|)/2 with soft)."""
    if squared:
        return (p * t).sum(dims), (p * p).sum(dims), (t * t).sum(dims)
    if soft:
        P, T, D = p.abs().sum(dims), t.abs().sum(dims), (p - t).abs().sum(dims)
        return (P + T - D) / 2, P, T
    return (p * t).sum(dims), p.sum(dims), t.sum(dims)


def _ref(tc, loss):
    def ref(req):
        x, p, t, o = _prepare(tc, req)
        smp = o.get("convention") == "smp"
        red = o.get("reduction", "mean")
        soft = o.get("soft_label", False)
        sp_dims = list(range(2, p.dim()))
        if smp:
            dims = [0] + sp_dims
            I, P, T = _sums(p, t, dims, False, soft)
            sm, eps = o.get("smooth", 0.0), o.get("eps", 1e-7)
            if loss == "tversky_loss":
                a, b = o.get("alpha", 0.5), o.get("beta", 0.5)
                score = (I + sm) / (I + a * (P - I) + b * (T - I) + sm).clamp_min(eps)
            elif o.get("jaccard"):
                score = (I + sm) / (P + T - I + sm).clamp_min(eps)
            else:
                score = (2 * I + sm) / (P + T + sm).clamp_min(eps)
            f = (1 - score) * (T > 0).to(torch.float64)
        else:
            dims = ([0] + sp_dims) if o.get("batch") else sp_dims
            snr, sdr = o.get("smooth_nr", 1e-5), o.get("smooth_dr", 1e-5)
            squared = o.get("squared_pred", False)
            I, P, T = _sums(p, t, dims, squared, soft)
            if loss == "generalized_dice_loss":
                wt = o.get("w_type", "square")
                w = 1 / (T * T) if wt == "square" else (1 / T if wt == "simple" else torch.ones_like(T))
                inf = torch.isinf(w)
                w = torch.where(inf, torch.zeros_like(w), w)
                if w.dim() == 1:
                    mx = w.max() if w.numel() else torch.tensor(0.0)
                    w = torch.where(inf, mx, w)
                else:
                    mx = w.max(1, keepdim=True)[0]
                    w = torch.where(inf, mx.expand_as(w), w)
                rd = w.dim() - 1
                f = 1 - (2 * (w * I).sum(rd) + snr) / ((w * (P + T)).sum(rd) + sdr)
                if f.dim() == 0:
                    f = f.reshape(1)
            elif loss == "tversky_loss":
                a, b = o.get("alpha", 0.5), o.get("beta", 0.5)
                f = 1 - (I + snr) / (I + a * (P - I) + b * (T - I) + sdr)
                f = f ** o.get("gamma", 1.0)
            elif o.get("jaccard"):
                f = 1 - (2 * I + snr) / (2 * (P + T - I) + sdr)
            else:
                f = 1 - (2 * I + snr) / (P + T + sdr)
            if "weight" in o and f.shape[-1] > 1 and loss != "generalized_dice_loss":
                f = f * torch.tensor(o["weight"], dtype=torch.float64)
        if red == "mean":
            out = f.mean()
            if smp and loss == "tversky_loss":
                out = out ** o.get("gamma", 1.0)
        elif red == "sum":
            out = f.sum()
        else:
            out = f
        out.backward(torch.ones_like(out))
        g = x.grad if x.grad is not None else torch.zeros_like(x)
        return {"loss": tc.loss_json(out, red), "grads": {"input": tc.from_torch(g)}}
    return ref


def _gen_ce(tc):
    """dice_ce_loss: the dice options of monai, mean or sum, weight of
    length C (with include_background), lambdas, label smoothing; C = 1
    with a float target (the binary cross-entropy)."""
    g = _gen(tc, "dice_loss")

    def gen(rng, i):
        req = g(rng, 4 * i)  # 4*i % 4 != 3: convention monai
        req["loss"] = "dice_ce_loss"
        o = req["options"]
        o["reduction"] = ["mean", "sum"][i % 2]
        shape = req["inputs"]["input"]["shape"]
        c = shape[1]
        o.pop("weight", None)
        if c == 1 and req["inputs"]["target"]["shape"] != shape:
            req["inputs"]["target"] = tc.tensor_json(shape, [float(rng.random() < 0.5) for _ in range(_numel(shape))])
            o.pop("ignore_index", None)
        if c > 1 and rng.random() < 0.4:
            o.pop("include_background", None)
            o["weight"] = [rng.uniform(0.1, 2) for _ in range(c)]
        if rng.random() < 0.5:
            o["lambda_dice"] = rng.choice([0.0, 0.5, 2.0])
            o["lambda_ce"] = rng.choice([0.0, 0.3, 1.5])
        if rng.random() < 0.5:
            o["label_smoothing"] = rng.choice([0.0, 0.1, 0.3])
        return req
    return gen


def _ref_ce(tc):
    dref = _ref(tc, "dice_loss")

    def ref(req):
        d = dref(req)
        o = req["options"]
        ins = req["inputs"]
        x = tc.to_torch(ins["input"], True)
        c = x.shape[1]
        red = o["reduction"]
        if c == 1:
            ce = torch.nn.functional.binary_cross_entropy_with_logits(x, tc.to_torch(ins["target"]), reduction=red)
        else:
            w = torch.tensor(o["weight"], dtype=torch.float64) if "weight" in o else None
            ls = o.get("label_smoothing", 0.0)
            if ins["target"]["shape"] == ins["input"]["shape"]:
                ce = torch.nn.functional.cross_entropy(x, tc.to_torch(ins["target"]), weight=w, reduction=red,
                                                       label_smoothing=ls)
            else:
                idx = torch.tensor([int(tc.dec(v)) for v in ins["target"]["data"]], dtype=torch.long).reshape(ins["target"]["shape"])
                ce = torch.nn.functional.cross_entropy(x, idx, weight=w, reduction=red, label_smoothing=ls,
                                                       ignore_index=o.get("ignore_index", -100))
        lce = o.get("lambda_ce", 1.0)
        ce = lce * ce
        ce.backward()
        gd = tc.to_torch(d["grads"]["input"])
        ld = o.get("lambda_dice", 1.0)
        g = ld * gd + x.grad
        return {"loss": ld * d["loss"] + float(ce.detach()), "grads": {"input": tc.from_torch(g)}}
    return ref


def _gen_focal(tc):
    """dice_focal_loss: the dice options of monai, mean or sum, weight of
    length C', lambdas, gamma, alpha."""
    g = _gen(tc, "dice_loss")

    def gen(rng, i):
        req = g(rng, 4 * i)  # convention monai
        req["loss"] = "dice_focal_loss"
        o = req["options"]
        o["reduction"] = ["mean", "sum"][i % 2]
        if rng.random() < 0.5:
            o["lambda_dice"] = rng.choice([0.0, 0.5, 2.0])
            o["lambda_focal"] = rng.choice([0.0, 0.3, 1.5])
        if rng.random() < 0.6:
            o["gamma"] = rng.choice([0.0, 0.5, 1.0, 2.0, 3.0])
        if rng.random() < 0.5:
            o["alpha"] = rng.choice([0.25, 0.5, 0.9])
        return req
    return gen


def _ref_focal(tc):
    dref = _ref(tc, "dice_loss")

    def ref(req):
        d = dref(req)
        o = req["options"]
        ins = req["inputs"]
        x = tc.to_torch(ins["input"], True)
        c = x.shape[1]
        if ins["target"]["shape"] == ins["input"]["shape"]:
            t = tc.to_torch(ins["target"])
            keep = torch.ones_like(x[:, :1])
        else:
            idx = torch.tensor([int(tc.dec(v)) for v in ins["target"]["data"]], dtype=torch.long).reshape(ins["target"]["shape"])
            keep = torch.ones_like(idx, dtype=torch.float64)
            if "ignore_index" in o:
                keep = (idx != o["ignore_index"]).to(torch.float64)
            safe = torch.where(idx == o.get("ignore_index", -10**9), torch.zeros_like(idx), idx)
            t = torch.nn.functional.one_hot(safe, c).movedim(-1, 1).to(torch.float64)
            keep = keep.unsqueeze(1)
        xi, ti = x, t
        nobg = o.get("include_background") is False and c > 1
        if nobg:
            xi, ti = x[:, 1:], t[:, 1:]
        gamma = o.get("gamma", 2.0)
        alpha = o.get("alpha")
        if o.get("activation") == "softmax":
            ls = xi.log_softmax(1)
            f = -(1 - ls.exp()).pow(gamma) * ls * ti
            if alpha is not None and not nobg:
                fac = torch.tensor([1 - alpha] + [alpha] * (ti.shape[1] - 1), dtype=torch.float64)
                f = f * fac.view([-1] + [1] * (ti.dim() - 2))
        else:
            f = xi - xi * ti - torch.nn.functional.logsigmoid(xi)
            f = (torch.nn.functional.logsigmoid(-xi * (ti * 2 - 1)) * gamma).exp() * f
            if alpha is not None:
                f = (ti * alpha + (1 - ti) * (1 - alpha)) * f
        if "weight" in o and ti.shape[1] > 1:
            f = f * torch.tensor(o["weight"], dtype=torch.float64).view([-1] + [1] * (ti.dim() - 2))
        f = f * keep
        sp = list(range(2, f.dim()))
        if o["reduction"] == "sum":
            fl = f.sum() / float(torch.tensor(f.shape[2:]).prod())
        else:
            fl = f.sum() / (keep.expand_as(f).sum())
        lf = o.get("lambda_focal", 1.0) * fl
        if o["reduction"] == "mean" and float(keep.sum()) == 0:
            # every pixel ignored: the mean of nothing is NaN, its gradient
            # zero (lossengine's rule for an all-ignored batch, as cross_entropy)
            lf = torch.tensor(float("nan"))
        else:
            lf.backward()
        gd = tc.to_torch(d["grads"]["input"])
        ld = o.get("lambda_dice", 1.0)
        g = ld * gd + (x.grad if x.grad is not None else torch.zeros_like(x))
        return {"loss": ld * d["loss"] + float(lf.detach()), "grads": {"input": tc.from_torch(g)}}
    return ref


def losses(tc):
    out = {name: (_gen(tc, name), _ref(tc, name)) for name in ("dice_loss", "tversky_loss", "generalized_dice_loss")}
    out["dice_ce_loss"] = (_gen_ce(tc), _ref_ce(tc))
    out["dice_focal_loss"] = (_gen_focal(tc), _ref_focal(tc))
    return out
