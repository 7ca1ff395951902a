"""torch_check entries of the box family: torchvision.ops' box IoU losses
(generalized, distance, complete) and the plain 1 - IoU loss.

torchvision is not part of Debian's PyTorch, so the reference is
torchvision's published formulas written in torch ops (float64, autograd
for the gradients w.r.t. both box sets): the intersection kept where it has
a positive width and height, union + eps in the IoU, the enclosing box for
the generalized and distance terms, and complete IoU's alpha computed under
no_grad. torch.min and torch.max of two tensors split the gradient of a tie
evenly, as the kernels do. A zero-height box under complete IoU is left out:
torch's autograd gives NaN there (atan(w/h) at h = 0: inf times 0), where
lossengine gives the finite limit.
"""

import math

import torch

NAMES = ["box_iou_loss", "generalized_box_iou_loss", "distance_box_iou_loss", "complete_box_iou_loss"]


def _boxes(rng, n, special, complete):
    b1, b2 = [], []
    for _ in range(n):
        x, y = rng.uniform(-5, 5), rng.uniform(-5, 5)
        u, v = x + rng.gauss(0, 2), y + rng.gauss(0, 2)
        b1 += [x, y, x + rng.uniform(0.1, 4), y + rng.uniform(0.1, 4)]
        b2 += [u, v, u + rng.uniform(0.1, 4), v + rng.uniform(0.1, 4)]
    if special:
        edge = [([0, 0, 2, 3], [0, 0, 2, 3]),       # identical: every min and max tied
                ([2, 0, 0, 1], [0, 0, 2, 1]),       # inverted (x2 < x1), no check, as torchvision
                ([0, 0, 1, 1], [5, 5, 6, 7]),       # disjoint
                ([0, 0, 4, 4], [1, 1, 2, 3])]       # enclosed
        if not complete:
            edge += [([0, 0, 2, 0], [0, 0, 2, 2]),  # zero height
                     ([1, 1, 1, 1], [1, 1, 1, 1])]  # a point on a point
        for i, (p, g) in enumerate(edge[:n]):
            b1[4 * i:4 * i + 4], b2[4 * i:4 * i + 4] = p, g
    return b1, b2


def _gen(name):
    def gen(rng, i):
        n = rng.choice([0, 1, 2, 5, 17, 64]) if i % 6 else 9
        b1, b2 = _boxes(rng, n, i % 2 == 0, name == "complete_box_iou_loss")
        opts = {}
        red = ["none", "mean", "sum", None][i % 4]
        if red is not None:
            opts["reduction"] = red
        if i % 3 == 1:
            opts["eps"] = rng.choice([1e-3, 0.0, 1e-9])
        return {"loss": name, "options": opts,
                "inputs": {"boxes1": {"shape": [n, 4], "data": b1}, "boxes2": {"shape": [n, 4], "data": b2}}}
    return gen


def _inter_union(b1, b2):
    x1, y1, x2, y2 = b1.unbind(-1)
    u1, v1, u2, v2 = b2.unbind(-1)
    ix1, iy1 = torch.max(x1, u1), torch.max(y1, v1)
    ix2, iy2 = torch.min(x2, u2), torch.min(y2, v2)
    inter = torch.zeros_like(x1)
    mask = (iy2 > iy1) & (ix2 > ix1)
    inter[mask] = (ix2[mask] - ix1[mask]) * (iy2[mask] - iy1[mask])
    union = (x2 - x1) * (y2 - y1) + (u2 - u1) * (v2 - v1) - inter
    return inter, union


def _per_box(name, b1, b2, eps):
    inter, union = _inter_union(b1, b2)
    iou = inter / (union + eps)
    if name == "box_iou_loss":
        return 1 - iou
    x1, y1, x2, y2 = b1.unbind(-1)
    u1, v1, u2, v2 = b2.unbind(-1)
    cx1, cy1, cx2, cy2 = torch.min(x1, u1), torch.min(y1, v1), torch.max(x2, u2), torch.max(y2, v2)
    if name == "generalized_box_iou_loss":
        area = (cx2 - cx1) * (cy2 - cy1)
        return 1 - (iou - (area - union) / (area + eps))
    diag = (cx2 - cx1) ** 2 + (cy2 - cy1) ** 2 + eps
    rho = ((x1 + x2) / 2 - (u1 + u2) / 2) ** 2 + ((y1 + y2) / 2 - (v1 + v2) / 2) ** 2
    loss = 1 - iou + rho / diag
    if name == "distance_box_iou_loss":
        return loss
    v = (4 / math.pi ** 2) * torch.pow(torch.atan((u2 - u1) / (v2 - v1)) - torch.atan((x2 - x1) / (y2 - y1)), 2)
    with torch.no_grad():
        alpha = v / (1 - iou + v + eps)
    return loss + alpha * v


def _ref(name, tc):
    def ref(req):
        b1 = tc.to_torch(req["inputs"]["boxes1"], True)
        b2 = tc.to_torch(req["inputs"]["boxes2"], True)
        eps = req["options"].get("eps", 1e-7)
        red = req["options"].get("reduction", "none")  # torchvision's default
        per = _per_box(name, b1, b2, eps)
        if red == "none":
            loss = per
        elif red == "sum":
            loss = per.sum()
        else:  # torchvision: the mean, or 0 for no boxes
            loss = per.mean() if per.numel() > 0 else 0.0 * per.sum()
        loss.backward(torch.ones_like(loss))
        g1 = b1.grad if b1.grad is not None else torch.zeros_like(b1)
        g2 = b2.grad if b2.grad is not None else torch.zeros_like(b2)
        return {"loss": tc.loss_json(loss, red), "grads": {"boxes1": tc.from_torch(g1), "boxes2": tc.from_torch(g2)}}
    return ref


def losses(tc):
    return {name: (_gen(name), _ref(name, tc)) for name in NAMES}
