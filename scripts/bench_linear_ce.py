#!/usr/bin/python3
"""Fused linear + cross-entropy at language-model scale: time and peak
memory of one forward + backward (loss and the gradients w.r.t. hidden,
weight and bias), float32, on the host:

  pytorch    F.linear + F.cross_entropy + autograd (PyTorch, 2 threads)
  fused      lossengine's LinearCrossEntropy (tiles of 128 rows)
  unfused    lossengine with all N x V logits: GEMM, the fused
             cross_entropy with its gradient over the logits, two GEMMs

lossengine's two come from BenchmarkLinearCrossEntropy of a `go test -c`
binary of package losses (build it with -tags openblas for OpenBLAS's GEMM,
the library PyTorch calls here). Each run is a fresh process; the three
run in turn, --runs times, and the medians are printed with the ratios.
Peak memory is the growth of the resident set during one call over the
resident set with the inputs and outputs allocated (VmHWM reset through
/proc/self/clear_refs); for PyTorch the gradients it allocates are
outputs, so their size is subtracted.

  go test -c -tags openblas -o /tmp/losses.test ./losses
  /usr/bin/python3 scripts/bench_linear_ce.py --go-test /tmp/losses.test --shape 4096x1024x50257
"""

import argparse
import os
import re
import statistics
import subprocess
import sys

TORCH_CHILD = r'''
import os, sys, time, torch
import torch.nn.functional as F
torch.set_num_threads(2)
n, h, v = map(int, sys.argv[1].split("x"))
g = torch.Generator().manual_seed(1)
hid = torch.randn(n, h, generator=g).requires_grad_()
w = (torch.randn(v, h, generator=g) * 0.05).requires_grad_()
b = (torch.randn(v, generator=g) * 0.1).requires_grad_()
t = torch.randint(0, v, (n,), generator=g)
def call():
    hid.grad = w.grad = b.grad = None
    F.cross_entropy(F.linear(hid, w, b), t).backward()
call()  # the gradients exist from here on: outputs
def kb(field):
    for l in open("/proc/self/status"):
        if l.startswith(field + ":"):
            return int(l.split()[1])
hid.grad = w.grad = b.grad = None
base = kb("VmRSS") + 4 * (n * h + v * h + v) // 1024  # inputs now, gradients to come
open("/proc/self/clear_refs", "w").write("5")
t0 = time.perf_counter()
call()
sec = time.perf_counter() - t0
peak = (kb("VmHWM") - base) * 1024
print("RESULT %.6f %d" % (sec, peak))
'''


def run_torch(shape):
    out = subprocess.run([sys.executable, "-c", TORCH_CHILD, shape], capture_output=True, text=True, check=True)
    sec, peak = out.stdout.split("RESULT")[1].split()
    return float(sec), int(peak), None


def run_go(binary, kind, shape):
    env = dict(os.environ, LOSSENGINE_LCE_SHAPE=shape, GOMAXPROCS="2")
    out = subprocess.run([binary, "-test.run", "^$", "-test.bench", "BenchmarkLinearCrossEntropy/" + kind + "/",
                          "-test.benchtime", "1x"], capture_output=True, text=True, env=env, check=True)
    m = re.search(r"\s(\d+(?:\.\d+)?) ns/op.*?(\d+(?:\.\d+)?) peak_MB\s+(\d+) B/op", out.stdout)
    if not m:
        sys.exit("bench_linear_ce: no result from %s: %s" % (binary, out.stdout + out.stderr))
    return float(m.group(1)) / 1e9, int(float(m.group(2)) * 1e6), int(m.group(3))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--go-test", required=True, help="a `go test -c` binary of package losses")
    ap.add_argument("--shape", default="1024x512x16384", help="NxHxV (default 1024x512x16384)")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    n, h, v = map(int, args.shape.split("x"))
    res = {"pytorch": [], "fused": [], "unfused": []}
    for _ in range(args.runs):
        res["pytorch"].append(run_torch(args.shape))
        res["fused"].append(run_go(args.go_test, "fused", args.shape))
        res["unfused"].append(run_go(args.go_test, "unfused", args.shape))
    med = {k: (statistics.median(x[0] for x in r), statistics.median(x[1] for x in r), r[0][2]) for k, r in res.items()}
    logits_mb = 4 * n * v / 1e6
    print("shape %s (N x H x V), float32; the logits are %.0f MB; medians of %d runs in turn" % (args.shape, logits_mb, args.runs))
    print("peak: resident-set growth during a call above inputs and outputs; alloc: Go heap bytes allocated per call")
    print("%-10s %10s %10s %12s %10s %12s" % ("path", "time s", "peak MB", "peak/logits", "alloc MB", "alloc/logits"))
    for k in ("pytorch", "unfused", "fused"):
        s, p, a = med[k]
        al = "%10.1f %11.1f%%" % (a / 1e6, 100 * a / 1e6 / logits_mb) if a is not None else "%10s %12s" % ("-", "-")
        print("%-10s %10.3f %10.1f %11.1f%% %s" % (k, s, p / 1e6, 100 * p / 1e6 / logits_mb, al))
    f, u, t = med["fused"][0], med["unfused"][0], med["pytorch"][0]
    print("fused / unfused time %.3f; fused / pytorch time %.3f; fused / pytorch peak memory %.3f"
          % (f / u, f / t, med["fused"][1] / max(med["pytorch"][1], 1)))


if __name__ == "__main__":
    main()
