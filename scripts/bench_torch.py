#!/usr/bin/python3
"""Time PyTorch for the losses lossbench times: the speed peer (CPU or CUDA).

Times forward + backward of F.cross_entropy on float32 logits 512x32000,
of F.mse_loss on 1<<24 float32 elements, of F.log_softmax, and of
F.ctc_loss(F.log_softmax(x)) on the ctc_loss shapes TxNxCxL (all sequences
full length, random labels), with torch.set_num_threads(os.cpu_count()),
and prints the median time per call over several runs. GB/s uses
lossbench's byte model (see `lossbench -h`):

  cross_entropy  4*(2*N*C + N) bytes (logits read, int32 targets read,
                 gradients written; PyTorch's int64 targets are not counted
                 as 8 bytes, to keep the numbers comparable)
  mse_loss       4*4*N bytes (input and target read, both gradients written)
  ctc_loss       4*2*T*N*C bytes (logits read, gradients written)

Run it with Debian's Python, which has PyTorch:

    /usr/bin/python3 scripts/bench_torch.py [--json] [--device cuda]

Side by side with lossengine (here: CTC on the host, the 2-core CPU both
share), each case timed by PyTorch and by lossbench in turn, medians and
ratios:

    go build -o /tmp/lb ./cmd/lossbench
    /usr/bin/python3 scripts/bench_torch.py --loss ctc_loss --vs-lossbench /tmp/lb [--vs-device host]

With --device cuda the tensors live on the GPU and every timed run ends
with torch.cuda.synchronize() (scripts/gpu-check.sh run does this).
"""

import argparse
import json
import os
import statistics
import sys
import time

from benchpeer import run_lossbench

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover
    sys.exit("bench_torch: PyTorch is not importable by %s; run it with /usr/bin/python3" % sys.executable)


DEV = "cpu"


def bench_cross_entropy(n, c, gen):
    x = torch.randn(n, c, generator=gen, dtype=torch.float32).to(DEV).requires_grad_()
    t = torch.randint(0, c, (n,), generator=gen).to(DEV)

    def call():
        x.grad = None
        F.cross_entropy(x, t).backward()
    return call, 4 * (2 * n * c + n)


def bench_mse(n, gen):
    x = torch.randn(n, generator=gen, dtype=torch.float32).to(DEV).requires_grad_()
    y = torch.randn(n, generator=gen, dtype=torch.float32).to(DEV).requires_grad_()

    def call():
        x.grad = None
        y.grad = None
        F.mse_loss(x, y).backward()
    return call, 4 * 4 * n


def bench_log_softmax(r, c, gen):
    x = torch.randn(r, c, generator=gen, dtype=torch.float32).to(DEV).requires_grad_()
    dy = torch.randn(r, c, generator=gen, dtype=torch.float32).to(DEV)

    def call():
        x.grad = None
        F.log_softmax(x, dim=1).backward(dy)
    return call, 4 * 5 * r * c


def bench_ctc(T, N, C, L, gen):
    """log_softmax + ctc_loss forward and backward, mean reduction, blank 0:
    lossengine's ctc_loss with logits input computes the same."""
    x = torch.randn(T, N, C, generator=gen, dtype=torch.float32).to(DEV).requires_grad_()
    targets = torch.randint(1, C, (N, L), generator=gen).to(DEV)
    il = torch.full((N,), T, dtype=torch.long).to(DEV)
    tl = torch.full((N,), L, dtype=torch.long).to(DEV)

    def call():
        x.grad = None
        F.ctc_loss(F.log_softmax(x, dim=-1), targets, il, tl).backward()
    return call, 4 * 2 * T * N * C


def bench_pointwise(name, n, gen):
    """An elementwise loss, mean reduction, gradients w.r.t. input and target
    (input only for +-1 labels; input, target and var for gaussian_nll_loss),
    as lossbench times it: torch.nn.functional where PyTorch has the loss,
    else its published definition in torch ops (torch_check.py)."""
    from torch_check import LABEL_LOSSES, torch_pointwise_elems
    r = lambda: torch.rand(n, generator=gen, dtype=torch.float32)  # noqa: E731
    z = lambda: torch.randn(n, generator=gen, dtype=torch.float32)  # noqa: E731
    x, y, a = z(), z(), None
    if name == "binary_cross_entropy":
        x, y = r(), r()
    elif name in ("binary_cross_entropy_with_logits", "sigmoid_focal_loss", "kl_div"):
        y = r()
    elif name in LABEL_LOSSES:
        y = torch.where(r() < 0.5, -1.0, 1.0)
    elif name in ("poisson_nll_loss", "mean_squared_logarithmic_error"):
        x, y = 3 * r(), 4 * r()
    elif name == "mean_absolute_percentage_error":
        y = torch.sign(y) * (0.1 + r())
    elif name == "gaussian_nll_loss":
        a = (0.1 + 2 * r()).to(DEV).requires_grad_()
    x = x.to(DEV).requires_grad_()
    y = y.to(DEV).requires_grad_(name not in LABEL_LOSSES)
    words = 3 if name in LABEL_LOSSES else (6 if a is not None else 4)

    def call():
        x.grad = y.grad = None
        if a is not None:
            a.grad = None
        torch_pointwise_elems(name, x, y, a, {}).mean().backward()
    return call, 4 * words * n


POINTWISE = ("l1_loss", "huber_loss", "smooth_l1_loss", "log_cosh", "mean_absolute_percentage_error",
             "mean_squared_logarithmic_error", "binary_cross_entropy", "binary_cross_entropy_with_logits",
             "sigmoid_focal_loss", "hinge_embedding_loss", "soft_margin_loss", "hinge", "squared_hinge", "kl_div",
             "poisson_nll_loss", "gaussian_nll_loss")


# One entry per case: (loss, shape, builder).
CASES = [
    ("cross_entropy", [512, 32000], lambda g: bench_cross_entropy(512, 32000, g)),
    ("cross_entropy", [64, 1000], lambda g: bench_cross_entropy(64, 1000, g)),
    ("cross_entropy", [4096, 128], lambda g: bench_cross_entropy(4096, 128, g)),
    ("cross_entropy", [8, 131072], lambda g: bench_cross_entropy(8, 131072, g)),
    ("log_softmax", [512, 32000], lambda g: bench_log_softmax(512, 32000, g)),
    ("ctc_loss", [150, 64, 28, 40], lambda g: bench_ctc(150, 64, 28, 40, g)),
    ("ctc_loss", [150, 64, 5000, 20], lambda g: bench_ctc(150, 64, 5000, 20, g)),
    ("ctc_loss", [1000, 32, 29, 200], lambda g: bench_ctc(1000, 32, 29, 200, g)),
    ("mse_loss", [1 << 20], lambda g: bench_mse(1 << 20, g)),
    ("mse_loss", [1 << 24], lambda g: bench_mse(1 << 24, g)),
] + [(name, [n], (lambda name, n: lambda g: bench_pointwise(name, n, g))(name, n))
     for name in POINTWISE for n in (1 << 20, 1 << 24)]


def sync():
    if DEV != "cpu":
        torch.cuda.synchronize()


def time_call(call, runs, min_time):
    """Median seconds per call over runs runs of enough calls for min_time."""
    call()  # warm up
    sync()
    t0 = time.perf_counter()
    call()
    sync()
    one = max(time.perf_counter() - t0, 1e-9)
    iters = max(1, int(min_time / one))
    per = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(iters):
            call()
        sync()
        per.append((time.perf_counter() - t0) / iters)
    return statistics.median(per), iters




def compare(args, gen):
    """Side by side: for every selected case that lossbench also runs, one
    PyTorch run and one lossbench run (-device args.vs_device) in turn,
    args.runs times, and the medians and their ratio (lossengine / PyTorch:
    below 1 is faster). Taking the two in turn keeps a change of the
    machine's load from favouring either."""
    rows = []
    for loss, shape, build in CASES:
        if args.loss and loss not in args.loss:
            continue
        call, _ = build(gen)
        call()
        sync()
        t0 = time.perf_counter()
        call()
        sync()
        iters = max(1, int(args.min_time / max(time.perf_counter() - t0, 1e-9)))
        tt, lt = [], []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            for _ in range(iters):
                call()
            sync()
            tt.append((time.perf_counter() - t0) / iters)
            sec = run_lossbench(args.vs_lossbench, args.vs_device, loss, shape, args.min_time)
            if sec is None:
                break
            lt.append(sec)
        del call
        if len(lt) < args.runs:
            print("%-14s %-18s lossbench did not run it (not in its cases, or a mismatch)" % (loss, "x".join(map(str, shape))))
            continue
        t, l = statistics.median(tt), statistics.median(lt)
        rows.append({"loss": loss, "shape": shape, "torch_ms": t * 1e3, "lossengine_ms": l * 1e3,
                     "lossengine_device": args.vs_device, "ratio": l / t, "runs": args.runs,
                     "torch_ms_runs": [v * 1e3 for v in tt], "lossengine_ms_runs": [v * 1e3 for v in lt]})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print("PyTorch %s CPU, %d threads, vs lossengine (%s), float32, forward+backward, medians of %d runs taken in turn"
          % (torch.__version__, args.threads, args.vs_device, args.runs))
    print("%-14s %-18s %12s %14s %8s" % ("loss", "shape", "torch ms", "lossengine ms", "ratio"))
    for r in rows:
        print("%-14s %-18s %12.2f %14.2f %8.2f" % (r["loss"], "x".join(map(str, r["shape"])), r["torch_ms"],
                                                   r["lossengine_ms"], r["ratio"]))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print the rows as a JSON array")
    ap.add_argument("--runs", type=int, default=7, help="timed runs per case; the median is reported (default 7)")
    ap.add_argument("--min-time", type=float, default=0.2, help="seconds per run (default 0.2)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads (default: os.cpu_count())")
    ap.add_argument("--loss", action="append", help="time only this loss (repeatable)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    ap.add_argument("--vs-lossbench", metavar="PATH",
                    help="a lossbench binary: time each case with it too, in turn with PyTorch, and print the ratios")
    ap.add_argument("--vs-device", default="host", help="lossbench's device for --vs-lossbench (default host)")
    args = ap.parse_args()
    global DEV
    DEV = args.device
    if DEV != "cpu" and not torch.cuda.is_available():
        sys.exit("bench_torch: --device %s but torch.cuda is not available" % DEV)

    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(args.seed)
    if args.vs_lossbench:
        return compare(args, gen)
    rows = []
    for loss, shape, build in CASES:
        if args.loss and loss not in args.loss:
            continue
        call, nbytes = build(gen)
        sec, iters = time_call(call, args.runs, args.min_time)
        rows.append({"loss": loss, "shape": shape, "device": "torch-" + DEV, "threads": args.threads,
                     "dtype": "float32", "iters_per_run": iters, "runs": args.runs,
                     "ms_per_call": sec * 1e3, "bytes_per_call": nbytes, "gb_per_s": nbytes / sec / 1e9,
                     "torch": torch.__version__})
        del call
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    where = "CPU, %d threads" % args.threads if DEV == "cpu" else torch.cuda.get_device_name(0)
    print("PyTorch %s %s, float32, forward+backward, median of %d runs"
          % (torch.__version__, where, args.runs))
    print("%-32s %-16s %12s %9s" % ("loss", "shape", "ms/call", "GB/s"))
    for r in rows:
        print("%-32s %-16s %12.3f %9.2f" % (r["loss"], "x".join(map(str, r["shape"])), r["ms_per_call"], r["gb_per_s"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
