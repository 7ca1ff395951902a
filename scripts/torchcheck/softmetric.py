"""torch_check entries of the softmetric family.

soft_f1_loss: the macro soft-F1 loss as commonly published (tp, fp, fn
summed over the batch per class from the probabilities, F1 = 2tp / (2tp +
fp + fn + eps), eps 1e-16, loss 1 - mean F1), with lossengine's micro and
binary averages (the sums over every class first) and its sigmoid
activation, in torch ops with autograd.

soft_mcc_loss: segmentation_models_pytorch's MCCLoss (eps 1e-5 added to
each of tp, tn, fp, fn; the sums pooled over the whole batch), its forward
written out in torch ops as SMP's source has it, with the optional sigmoid
first (SMP itself applies none).
"""

import torch

NAMES = ["soft_f1_loss", "soft_mcc_loss"]


def _data(rng, n, sigmoid, all_neg):
    x, y = [], []
    for j in range(n):
        x.append(rng.gauss(0, 3) if sigmoid else rng.random())
        t = float(rng.randrange(2))
        if j % 5 == 2:
            t = rng.random()
        y.append(0.0 if all_neg else t)
    ext = [1e4, -1e4] if sigmoid else [0.0, 1.0]
    for j, v in enumerate(ext[:n]):
        x[j] = v
    return x, y


def _gen(name):
    def gen(rng, i):
        n = rng.choice([0, 1, 3, 8, 33]) if i % 4 else 64
        c = rng.choice([1, 2, 5])
        sigmoid = i % 2 == 1
        x, y = _data(rng, n * c, sigmoid, i % 7 == 3)
        opts = {}
        if sigmoid:
            opts["activation"] = "sigmoid"
        if name == "soft_f1_loss":
            avg = ["macro", "micro", "binary", None][i % 4]
            if avg is not None:
                opts["average"] = avg
            if i % 5 == 4:
                opts["eps"] = rng.choice([1e-7, 1.0])
            sh = [n, c]
        else:
            if i % 5 == 4:
                opts["eps"] = rng.choice([1e-7, 0.1])
            sh = [n, 1, c]
        return {"loss": name, "options": opts,
                "inputs": {"input": {"shape": sh, "data": x}, "target": {"shape": sh, "data": y}}}
    return gen


def _mcc_smp(y_pred, y_true, eps):
    """SMP's MCCLoss.forward, in torch ops. SMP's view(bs, 1, -1) raises
    for an empty batch; lossengine applies the same formula to its zero
    sums there (MCC 0, loss 1), so an empty batch is flattened instead."""
    bs = y_true.shape[0]
    if y_true.numel() == 0:
        y_true, y_pred = y_true.reshape(-1), y_pred.reshape(-1)
    else:
        y_true = y_true.view(bs, 1, -1)
        y_pred = y_pred.view(bs, 1, -1)
    tp = torch.sum(torch.mul(y_pred, y_true)) + eps
    tn = torch.sum(torch.mul((1 - y_pred), (1 - y_true))) + eps
    fp = torch.sum(torch.mul(y_pred, (1 - y_true))) + eps
    fn = torch.sum(torch.mul((1 - y_pred), y_true)) + eps
    numerator = torch.mul(tp, tn) - torch.mul(fp, fn)
    denominator = torch.sqrt(torch.add(tp, fp) * torch.add(tp, fn) * torch.add(tn, fp) * torch.add(tn, fn))
    mcc = torch.div(numerator.sum(), denominator.sum())
    return 1.0 - mcc


def _soft_f1(p, y, avg, eps):
    if avg in ("micro", "binary"):
        p, y = p.reshape(-1, 1), y.reshape(-1, 1)
    tp = (p * y).sum(dim=0)
    fp = (p * (1 - y)).sum(dim=0)
    fn = ((1 - p) * y).sum(dim=0)
    f1 = 2 * tp / (2 * tp + fp + fn + eps)
    return 1 - f1.mean()


def _ref(name, tc):
    def ref(req):
        o = req["options"]
        x = tc.to_torch(req["inputs"]["input"], True)
        y = tc.to_torch(req["inputs"]["target"])
        p = torch.sigmoid(x) if o.get("activation") == "sigmoid" else x
        if name == "soft_f1_loss":
            loss = _soft_f1(p, y, o.get("average", "macro"), o.get("eps", 1e-16))
        else:
            loss = _mcc_smp(p, y, o.get("eps", 1e-5))
        loss.backward()
        g = x.grad if x.grad is not None else torch.zeros_like(x)
        return {"loss": float(loss.detach()), "grads": {"input": tc.from_torch(g)}}
    return ref


def losses(tc):
    return {name: (_gen(name), _ref(name, tc)) for name in NAMES}
