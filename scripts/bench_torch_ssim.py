#!/usr/bin/python3
"""Time PyTorch for the image losses lossbench times with -loss (the speed
peer of losses/ssim.go and losses/tv.go): forward + backward w.r.t. the
input, float32, the default shapes NxCxHxW = 8x3x512x512, 8-bit images
(input, and a noisy copy as target):

  ssim_loss        1 - SSIM: pytorch-msssim's formula in torch ops (conv2d with
                   the 1-D Gaussian window separably, groups=C, VALID;
                   data_range 255, window 11, sigma 1.5) and autograd
  ms_ssim_loss     1 - MS-SSIM: the same with avg_pool2d between the five levels
  total_variation  piq's l1 total variation, mean over the images

with torch.set_num_threads(os.cpu_count()), printing the median time per
call over several runs. With --vs-lossbench PATH it runs
`PATH -device DEV -loss NAME -shape S -json` in turn with PyTorch and
prints both medians and their ratio (lossengine / PyTorch: below 1 is
faster). Run it with Debian's Python, which has PyTorch:

    /usr/bin/python3 scripts/bench_torch_ssim.py [--shape 8x3x512x512] [--loss ssim_loss]
        [--vs-lossbench /tmp/lb --vs-device host]
"""

import argparse
import os
import statistics
import sys

from benchpeer import run_lossbench, time_per_call

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover
    sys.exit("bench_torch_ssim: PyTorch is not importable by %s; run it with /usr/bin/python3" % sys.executable)

WEIGHTS = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]


def window(size=11, sigma=1.5):
    c = torch.arange(size, dtype=torch.float32) - size // 2
    g = torch.exp(-(c ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def gfilter(x, g):
    C = x.shape[1]
    k = g.reshape(1, 1, 1, -1).repeat(C, 1, 1, 1)
    return F.conv2d(F.conv2d(x, k, groups=C), k.transpose(2, 3), groups=C)


def ssim_planes(x, y, g, c1=(0.01 * 255) ** 2, c2=(0.03 * 255) ** 2):
    mx, my = gfilter(x, g), gfilter(y, g)
    sxx = gfilter(x * x, g) - mx * mx
    syy = gfilter(y * y, g) - my * my
    sxy = gfilter(x * y, g) - mx * my
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    s = (2 * mx * my + c1) / (mx * mx + my * my + c1) * cs
    return s.flatten(2).mean(-1), cs.flatten(2).mean(-1)


def cases(shape, gen):
    x = torch.randint(0, 256, shape, generator=gen).float()
    y = (x + torch.randint(-20, 21, shape, generator=gen).float()).clamp(0, 255)
    x.requires_grad_()
    g = window()
    w = torch.tensor(WEIGHTS)

    def ssim():
        s, _ = ssim_planes(x, y, g)
        return 1 - s.mean()

    def ms_ssim():
        X, Y, mcs = x, y, []
        for k in range(len(WEIGHTS)):
            s, cs = ssim_planes(X, Y, g)
            if k < len(WEIGHTS) - 1:
                mcs.append(torch.relu(cs))
                pad = (X.shape[2] % 2, X.shape[3] % 2)
                X, Y = F.avg_pool2d(X, 2, padding=pad), F.avg_pool2d(Y, 2, padding=pad)
        v = torch.prod(torch.stack(mcs + [torch.relu(s)]) ** w.view(-1, 1, 1), dim=0)
        return 1 - v.mean()

    def tv():
        dw = (x[:, :, :, 1:] - x[:, :, :, :-1]).abs().sum(dim=[1, 2, 3])
        dh = (x[:, :, 1:, :] - x[:, :, :-1, :]).abs().sum(dim=[1, 2, 3])
        return (dw + dh).mean()

    return x, {"ssim_loss": ssim, "ms_ssim_loss": ms_ssim, "total_variation": tv}



def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shape", action="append", help="NxCxHxW (repeatable; default 8x3x512x512)")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per case; the median is printed")
    ap.add_argument("--min-time", type=float, default=0.5, help="seconds per run (default 0.5)")
    ap.add_argument("--loss", action="append", help="only this loss (repeatable)")
    ap.add_argument("--vs-lossbench", metavar="PATH", help="a lossbench binary to time in turn with PyTorch")
    ap.add_argument("--vs-device", default="host", help="lossbench's device for --vs-lossbench (default host)")
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count())
    gen = torch.Generator().manual_seed(1)
    print("PyTorch %s, %d threads, float32, forward+backward" % (torch.__version__, torch.get_num_threads()))
    for s in args.shape or ["8x3x512x512"]:
        shape = tuple(int(v) for v in s.split("x"))
        x, fns = cases(shape, gen)
        for name, fn in fns.items():
            if args.loss and name not in args.loss:
                continue

            def call():
                x.grad = None
                fn().backward()
            call()  # warm up
            tt, lt = [], []
            for _ in range(args.runs):
                tt.append(time_per_call(call, args.min_time, warm=False))
                if args.vs_lossbench:
                    sec = run_lossbench(args.vs_lossbench, args.vs_device, name, s, args.min_time)
                    if sec is None:
                        print("%-16s %-12s lossbench did not run it (a mismatch?)" % (name, s))
                        break
                    lt.append(sec)
            t = statistics.median(tt)
            if lt and len(lt) == args.runs:
                l = statistics.median(lt)
                print("%-16s %-12s torch %10.2f ms  lossengine (%s) %10.2f ms  ratio %.2f"
                      % (name, s, 1e3 * t, args.vs_device, 1e3 * l, l / t))
            else:
                print("%-16s %-12s %10.2f ms" % (name, s, 1e3 * t))


if __name__ == "__main__":
    main()
