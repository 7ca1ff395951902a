"""PyTorch checks of the Lovász losses (lovasz_softmax_loss,
lovasz_hinge_loss): the published formula (Berman et al., CVPR 2018, as
segmentation_models_pytorch's LovaszLoss computes it) written in torch ops
in float64, torch.sort(descending=True, stable=True) for the order (ties by
pixel index, lossengine's rule), autograd for the gradient.

Where SMP has no answer (a group with no kept pixel, which it returns as an
empty tensor) the reference gives lossengine's documented 0.
"""

import torch


def jaccard_grad(fg_sorted):
    """The Lovász extension's gradient of the Jaccard loss at the sorted
    foreground indicators: 1 - intersection/union, differenced."""
    gts = fg_sorted.sum()
    inter = gts - fg_sorted.cumsum(0)
    union = gts + (1.0 - fg_sorted).cumsum(0)
    jac = 1.0 - inter / union
    if jac.numel() > 1:
        jac = torch.cat([jac[:1], jac[1:] - jac[:-1]])
    return jac


def mean_or_zero(vals, like):
    if not vals:
        return like.sum() * 0.0
    return sum(vals) / len(vals)


def softmax_flat(probas, labels, all_classes, like):
    """probas [P, C], labels [P]: the mean over the classes counted."""
    if probas.shape[0] == 0:
        return like.sum() * 0.0
    out = []
    for c in range(probas.shape[1]):
        fg = (labels == c).double()
        if not all_classes and fg.sum() == 0:
            continue
        errors = (fg - probas[:, c]).abs()
        es, perm = torch.sort(errors, dim=0, descending=True, stable=True)
        out.append(torch.dot(es, jaccard_grad(fg[perm])))
    return mean_or_zero(out, like)


def flatten(probas, labels, ignore):
    """[N, C, *] and [N, *] to [P, C] and [P], without the ignored pixels."""
    c = probas.shape[1]
    p = probas.movedim(1, -1).reshape(-1, c)
    l = labels.reshape(-1)
    if ignore is None:
        return p, l
    keep = l != ignore
    return p[keep], l[keep]


def hinge_flat(logits, labels, like):
    if labels.numel() == 0:
        return like.sum() * 0.0
    signs = 2.0 * labels.double() - 1.0
    errors = 1.0 - logits * signs
    es, perm = torch.sort(errors, dim=0, descending=True, stable=True)
    return torch.dot(torch.relu(es), jaccard_grad(labels.double()[perm]))


def losses(tc):
    def labels_of(req):
        t = req["inputs"]["target"]
        return torch.tensor([int(tc.dec(v)) for v in t["data"]], dtype=torch.long).reshape(t["shape"])

    def gen_softmax(rng, i):
        n = rng.choice([0, 1, 1, 2, 3])
        c = rng.choice([1, 2, 3, 5, 8])
        spatial = rng.choice([[], [7], [3, 3], [4, 5], [2, 3, 4], [60]])
        opts = {}
        if i % 2 == 1:
            opts["per_image"] = True
        if i % 3 == 1:
            opts["classes"] = "all"
        elif i % 3 == 2:
            opts["classes"] = "present"
        ignore = rng.choice([None, None, 255, rng.randrange(c)])
        if ignore is not None:
            opts["ignore_index"] = ignore
        probs = i % 4 == 3
        if probs:
            opts["from_logits"] = False
        hw = tc.numel(spatial)
        np_ = n * hw
        # labels from fewer classes than c now and then: absent classes
        lab = rng.choice([c, max(1, c // 2)])
        t = [rng.randrange(lab) for _ in range(np_)]
        if ignore is not None:
            every = rng.choice([2, 3, 7])
            t = [ignore if k % every == 1 else v for k, v in enumerate(t)]
            if i % 12 == 11:
                t = [ignore] * np_  # every pixel ignored
        shape = [n, c] + spatial
        if probs and i % 8 == 7:
            x = [rng.randrange(5) * 0.25 for _ in range(tc.numel(shape))]  # exact ties
        elif probs:
            x = [rng.random() for _ in range(tc.numel(shape))]
        else:
            x = tc.gauss_data(rng, tc.numel(shape), rng.choice([1, 2, 5]))
        return {"loss": "lovasz_softmax_loss", "options": opts,
                "inputs": {"input": tc.tensor_json(shape, x), "target": tc.tensor_json([n] + spatial, t)}}

    def ref_softmax(req):
        o = req["options"]
        x = tc.to_torch(req["inputs"]["input"], True)
        y = labels_of(req)
        probas = x.softmax(dim=1) if o.get("from_logits", True) else x
        all_classes = o.get("classes", "present") == "all"
        ignore = o.get("ignore_index")
        if o.get("per_image", False):
            per = [softmax_flat(*flatten(probas[k:k + 1], y[k:k + 1], ignore), all_classes, x)
                   for k in range(x.shape[0])]
            loss = mean_or_zero(per, x)
        else:
            loss = softmax_flat(*flatten(probas, y, ignore), all_classes, x)
        loss.backward()
        g = x.grad if x.grad is not None else torch.zeros_like(x)
        return {"loss": float(loss), "grads": {"input": tc.from_torch(g)}}

    def gen_hinge(rng, i):
        n = rng.choice([0, 1, 2, 3, 4])
        spatial = rng.choice([[1], [7], [3, 3], [1, 4, 5], [1, 2, 3, 4], [50], [1, 40]])
        opts = {}
        if i % 2 == 1:
            opts["per_image"] = True
        ignore = rng.choice([None, None, 255, -1])
        if ignore is not None:
            opts["ignore_index"] = ignore
        shape = [n] + spatial
        np_ = tc.numel(shape)
        t = [rng.randrange(2) for _ in range(np_)]
        if i % 5 == 4:
            t = [0] * np_  # no foreground
        if ignore is not None:
            every = rng.choice([2, 3, 7])
            t = [ignore if k % every == 1 else v for k, v in enumerate(t)]
            if i % 12 == 11:
                t = [ignore] * np_
        if i % 4 == 3:
            x = [(rng.randrange(7) - 3) * 0.5 for _ in range(np_)]  # exact ties, errors at 0
        else:
            x = tc.gauss_data(rng, np_, rng.choice([1, 2, 5]))
        tshape = shape
        if len(shape) >= 3 and shape[1] == 1 and i % 3 == 0:
            tshape = [shape[0]] + shape[2:]  # target without the channel axis
        return {"loss": "lovasz_hinge_loss", "options": opts,
                "inputs": {"input": tc.tensor_json(shape, x), "target": tc.tensor_json(tshape, t)}}

    def ref_hinge(req):
        o = req["options"]
        x = tc.to_torch(req["inputs"]["input"], True)
        if x.numel() == 0:
            return {"loss": 0.0, "grads": {"input": tc.from_torch(torch.zeros_like(x))}}
        y = labels_of(req).reshape(x.shape[0], -1)
        xf = x.reshape(x.shape[0], -1)
        ignore = o.get("ignore_index")

        def flat(xs, ys):
            xs, ys = xs.reshape(-1), ys.reshape(-1)
            if ignore is not None:
                keep = ys != ignore
                xs, ys = xs[keep], ys[keep]
            return hinge_flat(xs, ys, x)

        if o.get("per_image", False):
            loss = mean_or_zero([flat(xf[k], y[k]) for k in range(x.shape[0])], x)
        else:
            loss = flat(xf, y)
        loss.backward()
        g = x.grad if x.grad is not None else torch.zeros_like(x)
        return {"loss": float(loss), "grads": {"input": tc.from_torch(g)}}

    return {"lovasz_softmax_loss": (gen_softmax, ref_softmax), "lovasz_hinge_loss": (gen_hinge, ref_hinge)}
