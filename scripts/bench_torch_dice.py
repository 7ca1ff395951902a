#!/usr/bin/python3
"""Time PyTorch for the overlap losses lossbench times with -loss (the speed
peer of losses/dice.go): MONAI's formulas in composed torch ops, forward +
backward w.r.t. the logits, float32, mean reduction, softmax over the
classes of each pixel, int32 class-index targets one-hot encoded inside the
timed call (as MONAI's to_onehot_y does), the same shapes as lossbench:

  dice_loss              1 - (2 sum(p t) + 1e-5) / (sum p + sum t + 1e-5), per (sample, class)
  tversky_loss           alpha 0.3, beta 0.7
  generalized_dice_loss  w = 1/T^2, infinite weights replaced by the row's largest finite one
  dice_ce_loss           dice_loss + F.cross_entropy over the logits (MONAI's DiceCELoss)
  dice_focal_loss        dice_loss + MONAI's softmax focal term, gamma 2 (DiceFocalLoss)

with torch.set_num_threads(os.cpu_count()), printing the median time per
call. With --vs-lossbench PATH, each case is also run with
`PATH -loss NAME -shape S` in turn with PyTorch, and both times and their
ratio (lossengine / PyTorch) are printed. Run it with Debian's Python:

    /usr/bin/python3 scripts/bench_torch_dice.py [--shape 16x4x256x256] [--device cuda]
        [--vs-lossbench /tmp/lb --vs-device cuda]
"""

import argparse
import os
import statistics
import sys
import time

from benchpeer import run_lossbench

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover
    sys.exit("bench_torch_dice: PyTorch is not importable by %s; run it with /usr/bin/python3" % sys.executable)

DEV = "cpu"


def sync():
    if DEV != "cpu":
        torch.cuda.synchronize()


def build(name, shape, gen):
    n, c, h, w = shape
    x = torch.randn(n, c, h, w, generator=gen).to(DEV).requires_grad_()
    t = torch.randint(0, c, (n, h, w), generator=gen, dtype=torch.int32).to(DEV)
    dims = (2, 3)

    def sums():
        p = torch.softmax(x, 1)
        y = F.one_hot(t.long(), c).permute(0, 3, 1, 2).to(p.dtype)
        return (p * y).sum(dims), p.sum(dims), y.sum(dims)

    def dice():
        i, ps, ts = sums()
        return (1 - (2 * i + 1e-5) / (ps + ts + 1e-5)).mean()

    def tversky():
        i, ps, ts = sums()
        return (1 - (i + 1e-5) / (i + 0.3 * (ps - i) + 0.7 * (ts - i) + 1e-5)).mean()

    def gdl():
        i, ps, ts = sums()
        wt = 1 / (ts * ts)
        inf = torch.isinf(wt)
        wt = torch.where(inf, torch.zeros_like(wt), wt)
        wt = torch.where(inf, wt.max(1, keepdim=True)[0].expand_as(wt), wt)
        return (1 - (2 * (wt * i).sum(1) + 1e-5) / ((wt * (ps + ts)).sum(1) + 1e-5)).mean()

    def dice_ce():
        return dice() + F.cross_entropy(x, t.long())

    def dice_focal():
        ls = x.log_softmax(1)
        y = F.one_hot(t.long(), c).permute(0, 3, 1, 2).to(ls.dtype)
        return dice() + (-(1 - ls.exp()).pow(2) * ls * y).mean()

    fn = {"dice_loss": dice, "tversky_loss": tversky, "generalized_dice_loss": gdl, "dice_ce_loss": dice_ce,
          "dice_focal_loss": dice_focal}[name]

    def call():
        x.grad = None
        fn().backward()
    return call


def time_call(call, runs, min_time):
    call()
    sync()
    per = []
    for _ in range(runs):
        k, t0 = 0, time.perf_counter()
        while True:
            call()
            k += 1
            sync()
            if time.perf_counter() - t0 > min_time:
                break
        per.append((time.perf_counter() - t0) / k)
    return statistics.median(per)




def main():
    global DEV
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shape", action="append", help="NxCxHxW (repeatable; default 16x4x256x256)")
    ap.add_argument("--runs", type=int, default=7, help="timed runs per case; the median is printed")
    ap.add_argument("--min-time", type=float, default=0.2, help="seconds per run (default 0.2)")
    ap.add_argument("--loss", action="append", help="only this loss (repeatable)")
    ap.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    ap.add_argument("--vs-lossbench", metavar="PATH", help="a lossbench binary to run in turn with PyTorch")
    ap.add_argument("--vs-device", default="host", help="lossbench's device for --vs-lossbench (default host)")
    args = ap.parse_args()
    DEV = args.device
    if DEV != "cpu" and not torch.cuda.is_available():
        sys.exit("bench_torch_dice: --device %s but torch.cuda is not available" % DEV)
    torch.set_num_threads(os.cpu_count())
    gen = torch.Generator().manual_seed(1)
    where = "CPU, %d threads" % torch.get_num_threads() if DEV == "cpu" else torch.cuda.get_device_name(0)
    print("PyTorch %s %s, float32, forward+backward, medians of %d runs" % (torch.__version__, where, args.runs))
    names = args.loss or ["dice_loss", "tversky_loss", "generalized_dice_loss", "dice_ce_loss", "dice_focal_loss"]
    for s in args.shape or ["16x4x256x256"]:
        shape = [int(v) for v in s.split("x")]
        for name in names:
            call = build(name, shape, gen)
            if not args.vs_lossbench:
                print("%-22s %-16s %10.3f ms" % (name, s, 1e3 * time_call(call, args.runs, args.min_time)))
                continue
            tt, lt = [], []
            for _ in range(args.runs):
                tt.append(time_call(call, 1, args.min_time))
                sec = run_lossbench(args.vs_lossbench, args.vs_device, name, shape, args.min_time)
                if sec is None:
                    break
                lt.append(sec)
            if len(lt) < args.runs:
                print("%-22s %-16s lossbench did not run it" % (name, s))
                continue
            t, l = statistics.median(tt), statistics.median(lt)
            print("%-22s %-16s torch %10.3f ms  lossengine (%s) %10.3f ms  ratio %.2f"
                  % (name, s, 1e3 * t, args.vs_device, 1e3 * l, l / t))


if __name__ == "__main__":
    main()
