"""torch_check cases of the ssim and tv families: ssim_loss and ms_ssim_loss
(pytorch-msssim's formulas, its keyword K named "k" here, written in torch ops: a separable Gaussian
window through conv2d with groups=C, VALID, avg_pool2d between MS-SSIM
levels; autograd for both gradients) and total_variation (piq's formula;
kornia's l1 summed over the channels)."""

import torch
import torch.nn.functional as F


def _window(size, sigma):
    c = torch.arange(size, dtype=torch.float64) - size // 2
    g = torch.exp(-(c ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def _filter(x, g):
    C = x.shape[1]
    k = g.reshape(1, 1, 1, -1).repeat(C, 1, 1, 1)
    out = F.conv2d(x, k, groups=C)
    return F.conv2d(out, k.transpose(2, 3), groups=C)


def _ssim_planes(x, y, g, c1, c2):
    mx, my = _filter(x, g), _filter(y, g)
    sxx = _filter(x * x, g) - mx * mx
    syy = _filter(y * y, g) - my * my
    sxy = _filter(x * y, g) - mx * my
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    s = (2 * mx * my + c1) / (mx * mx + my * my + c1) * cs
    return s.flatten(2).mean(-1), cs.flatten(2).mean(-1)


def _opts(o):
    L = o.get("data_range", 255.0)
    k1, k2 = o.get("k", [0.01, 0.03])
    return L, o.get("win_size", 11), o.get("win_sigma", 1.5), (k1 * L) ** 2, (k2 * L) ** 2


def _reduce(per_image, red):
    if red == "none":
        return per_image
    if red == "sum":
        return per_image.sum()
    return per_image.mean()


def losses(tc):
    def images(rng, n, c, h, w, L, corr):
        x = [L * rng.random() for _ in range(n * c * h * w)]
        y = [corr * v + (1 - corr) * L * rng.random() for v in x]
        if L == 255 and rng.random() < 0.5:
            x, y = [float(int(v)) for v in x], [float(int(v)) for v in y]
        if rng.random() < 0.1:  # constant images
            x, y = [0.25 * L] * len(x), [0.75 * L] * len(y)
        return x, y

    def window_opts(rng, i, opts):
        L = rng.choice([None, 1.0, 255.0])
        if L is not None:
            opts["data_range"] = L
        if i % 4 == 1:
            opts["win_size"] = rng.choice([3, 5, 7, 9])
        if i % 5 == 2:
            opts["win_sigma"] = rng.choice([0.8, 1.0, 2.5])
        if i % 6 == 3:
            opts["k"] = [rng.choice([0.01, 0.05]), rng.choice([0.03, 0.1])]
        return 255.0 if L is None else L

    def gen_ssim(rng, i):
        opts = {"reduction": ["mean", "sum", "none"][i % 3]}
        L = window_opts(rng, i, opts)
        win = opts.get("win_size", 11)
        n = 0 if i == 7 else rng.choice([1, 2, 3])
        c = rng.choice([1, 1, 2, 3])
        h, w = rng.randint(win, win + 14), rng.randint(win, win + 14)
        corr = rng.choice([0.9, 0.5, 0.0, -0.8])
        if i % 4 == 2:
            opts["nonnegative_ssim"] = True
        x, y = images(rng, n, c, h, w, L, corr)
        sh = [n, c, h, w]
        return {"loss": "ssim_loss", "options": opts,
                "inputs": {"input": tc.tensor_json(sh, x), "target": tc.tensor_json(sh, y)}}

    def ref_ssim(req):
        o = req["options"]
        x = tc.to_torch(req["inputs"]["input"], True)
        y = tc.to_torch(req["inputs"]["target"], True)
        L, win, sigma, c1, c2 = _opts(o)
        s, _ = _ssim_planes(x, y, _window(win, sigma), c1, c2)
        if o.get("nonnegative_ssim"):
            s = torch.relu(s)
        red = o.get("reduction", "mean")
        loss = _reduce(1 - s.mean(1), red)
        loss.backward(torch.ones_like(loss))
        return {"loss": tc.loss_json(loss, red), "grads": {"input": tc.from_torch(x.grad), "target": tc.from_torch(y.grad)}}

    def gen_ms(rng, i):
        opts = {"reduction": ["mean", "sum", "none"][i % 3]}
        L = window_opts(rng, i, opts)
        win = opts.get("win_size", 11)
        n = 0 if i == 7 else rng.choice([1, 2])
        c = rng.choice([1, 2])
        if i % 6 == 0:  # the five default levels: more than 160 px
            levels = 5
            opts.pop("win_size", None)
            win = 11
            n, c = min(n, 1), 1
        else:
            levels = rng.choice([1, 2, 3])
            opts["weights"] = [round(rng.uniform(0.1, 1.0), 3) for _ in range(levels)]
        side = (win - 1) * 2 ** (levels - 1) + 1
        h, w = side + rng.randint(0, 6), side + rng.randint(0, 6)
        x, y = images(rng, n, c, h, w, L, rng.choice([0.9, 0.6, 0.2]))
        sh = [n, c, h, w]
        return {"loss": "ms_ssim_loss", "options": opts,
                "inputs": {"input": tc.tensor_json(sh, x), "target": tc.tensor_json(sh, y)}}

    def ref_ms(req):
        o = req["options"]
        x = tc.to_torch(req["inputs"]["input"], True)
        y = tc.to_torch(req["inputs"]["target"], True)
        L, win, sigma, c1, c2 = _opts(o)
        g = _window(win, sigma)
        weights = torch.tensor(o.get("weights", [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]), dtype=torch.float64)
        levels = weights.shape[0]
        X, Y, mcs = x, y, []
        for k in range(levels):
            s, cs = _ssim_planes(X, Y, g, c1, c2)
            if k < levels - 1:
                mcs.append(torch.relu(cs))
                pad = (X.shape[2] % 2, X.shape[3] % 2)
                X = F.avg_pool2d(X, kernel_size=2, padding=pad)
                Y = F.avg_pool2d(Y, kernel_size=2, padding=pad)
        stack = torch.stack(mcs + [torch.relu(s)], dim=0)
        v = torch.prod(stack ** weights.view(-1, 1, 1), dim=0)
        red = o.get("reduction", "mean")
        loss = _reduce(1 - v.mean(1), red)
        loss.backward(torch.ones_like(loss))
        return {"loss": tc.loss_json(loss, red), "grads": {"input": tc.from_torch(x.grad), "target": tc.from_torch(y.grad)}}

    def gen_tv(rng, i):
        opts = {"reduction": ["mean", "sum", "none"][i % 3]}
        norm = ["l1", "l2", "l2_squared", None][(i // 3) % 4]
        if norm is not None:
            opts["norm_type"] = norm
        n = 0 if i == 10 else rng.choice([1, 2, 3])
        c, h, w = rng.choice([1, 3]), rng.choice([1, 2, 7, 16]), rng.choice([1, 5, 9, 33])
        x = tc.gauss_data(rng, n * c * h * w)
        if i % 7 == 6 and norm == "l2":  # l2's gradient at zero variation: 0 here, NaN in autograd
            opts["norm_type"] = "l2_squared"
        return {"loss": "total_variation", "options": opts, "inputs": {"input": tc.tensor_json([n, c, h, w], x)}}

    def ref_tv(req):
        o = req["options"]
        x = tc.to_torch(req["inputs"]["input"], True)
        norm = o.get("norm_type", "l1")
        dw = x[:, :, :, 1:] - x[:, :, :, :-1]
        dh = x[:, :, 1:, :] - x[:, :, :-1, :]
        if norm == "l1":
            per = dw.abs().sum(dim=[1, 2, 3]) + dh.abs().sum(dim=[1, 2, 3])
        else:
            per = dw.pow(2).sum(dim=[1, 2, 3]) + dh.pow(2).sum(dim=[1, 2, 3])
            if norm == "l2":
                per = torch.sqrt(per)
        red = o.get("reduction", "mean")
        loss = _reduce(per, red)
        loss.backward(torch.ones_like(loss))
        return {"loss": tc.loss_json(loss, red), "grads": {"input": tc.from_torch(x.grad)}}

    return {"ssim_loss": (gen_ssim, ref_ssim), "ms_ssim_loss": (gen_ms, ref_ms), "total_variation": (gen_tv, ref_tv)}
