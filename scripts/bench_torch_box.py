#!/usr/bin/python3
"""Time PyTorch for the box IoU losses and boundary_loss (the speed peers
of losses/box.go and losses/boundary.go): forward + backward, float32, the
inputs lossbench uses for the same shapes:

  box_iou_loss, generalized_box_iou_loss, distance_box_iou_loss,
  complete_box_iou_loss   torchvision.ops' formulas in torch ops (torchvision
                          is not in Debian's PyTorch), reduction mean,
                          gradient w.r.t. boxes1; shape Nx4 (default 1048576x4)
  boundary_loss           softmax over the classes, (p * dist).mean(),
                          gradient w.r.t. the logits; shape NxCxHxW
                          (default 16x4x256x256)

with torch.set_num_threads(os.cpu_count()), printing the median time per
call over several runs. With --vs-lossbench PATH it runs `PATH -loss NAME
-shape S` in turn with PyTorch (interleaved, so that a change of the
machine's load favours neither) and prints both medians and the ratio
(lossengine / PyTorch: below 1 is faster). Run it with Debian's Python:

    go build -o /tmp/lb ./cmd/lossbench
    /usr/bin/python3 scripts/bench_torch_box.py [--loss NAME] [--shape S] [--vs-lossbench /tmp/lb]
"""

import math
import os
import sys

from benchpeer import peer_main

try:
    import torch
except ImportError:  # pragma: no cover
    sys.exit("bench_torch_box: PyTorch is not importable by %s; run it with /usr/bin/python3" % sys.executable)

BOXES = ["box_iou_loss", "generalized_box_iou_loss", "distance_box_iou_loss", "complete_box_iou_loss"]
DEFAULT_SHAPES = {name: "1048576x4" for name in BOXES}
DEFAULT_SHAPES["boundary_loss"] = "16x4x256x256"


def box_per_pair(name, b1, b2, eps=1e-7):
    x1, y1, x2, y2 = b1.unbind(-1)
    u1, v1, u2, v2 = b2.unbind(-1)
    ix1, iy1, ix2, iy2 = torch.max(x1, u1), torch.max(y1, v1), torch.min(x2, u2), torch.min(y2, v2)
    inter = torch.zeros_like(x1)
    mask = (iy2 > iy1) & (ix2 > ix1)
    inter[mask] = (ix2[mask] - ix1[mask]) * (iy2[mask] - iy1[mask])
    union = (x2 - x1) * (y2 - y1) + (u2 - u1) * (v2 - v1) - inter
    iou = inter / (union + eps)
    if name == "box_iou_loss":
        return 1 - iou
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


def build(name, shape, gen):
    """The call of one case: forward + backward."""
    if name in BOXES:
        n = shape[0]
        xy = torch.rand(n, 2, generator=gen) * 100
        wh = 1 + torch.rand(n, 2, generator=gen) * 20
        b1 = torch.cat([xy, xy + wh], dim=1).requires_grad_()
        uv = xy + torch.randn(n, 2, generator=gen) * 3
        b2 = torch.cat([uv, uv + wh * (0.8 + 0.4 * torch.rand(n, 2, generator=gen))], dim=1)

        def call():
            b1.grad = None
            box_per_pair(name, b1, b2).mean().backward()
        return call
    x = torch.randn(*shape, generator=gen).requires_grad_()
    dist = torch.randn(*shape, generator=gen) * 20

    def call():
        x.grad = None
        (torch.softmax(x, dim=1) * dist).mean().backward()
    return call



def main():
    peer_main(__doc__, BOXES + ["boundary_loss"], DEFAULT_SHAPES, build, widths=(26, 16), loss_help="only this loss (repeatable; default all five)", shape_help="the shape of every selected loss (default: Nx4 1048576x4, boundary 16x4x256x256)")


if __name__ == "__main__":
    main()
