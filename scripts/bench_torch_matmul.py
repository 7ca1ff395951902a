#!/usr/bin/python3
"""Time torch.matmul (float32, CPU, on every core) on the products of a
fused linear + cross-entropy layer, the speed peer of host.Matmul
(host/matmul_bench_test.go, BenchmarkMatmul, the same shapes):

  logits   hidden[128, 1024] @ W[50257, 1024]^T
  dhidden  G[128, 50257] @ W[50257, 1024]
  dweight  G[128, 50257]^T @ hidden[128, 1024]
  square   [1024, 1024] @ [1024, 1024]

printing the median GFLOP/s (2*m*n*k per call) over several runs. With
--vs-go PKG_TEST_BINARY (built by `go test -c -o BIN ./host`, with or
without -tags openblas) it runs that binary's BenchmarkMatmul for each
shape in turn with PyTorch's runs and prints both medians and their ratio
(lossengine / PyTorch GFLOP/s: above 1 is faster). Run it with Debian's
Python, which has PyTorch:

    /usr/bin/python3 scripts/bench_torch_matmul.py [--runs 5] [--vs-go /tmp/host.test]
"""

import argparse
import os
import re
import statistics
import subprocess
import sys

from benchpeer import time_runs

try:
    import torch
except ImportError:  # pragma: no cover
    sys.exit("bench_torch_matmul: PyTorch is not importable by %s; run it with /usr/bin/python3" % sys.executable)

# name (as in BenchmarkMatmul), trans_a, trans_b, m, n, k
SHAPES = [
    ("logits=128x1024.(50257x1024)T", False, True, 128, 50257, 1024),
    ("dhidden=128x50257.50257x1024", False, False, 128, 1024, 50257),
    ("dweight=(128x50257)T.128x1024", True, False, 50257, 1024, 128),
    ("square=1024x1024x1024", False, False, 1024, 1024, 1024),
]


def operands(ta, tb, m, n, k, gen):
    """The operands as stored (row-major), and op(a), op(b) as views."""
    a = torch.randn(*((k, m) if ta else (m, k)), generator=gen)
    b = torch.randn(*((n, k) if tb else (k, n)), generator=gen)
    return (a.t() if ta else a), (b.t() if tb else b)


def go_gflops(binary, name):
    """GFLOP/s of one run of BenchmarkMatmul/<name> in the Go test binary."""
    pat = "^BenchmarkMatmul$/^" + re.escape(name) + "$"
    out = subprocess.run([binary, "-test.run", "^$", "-test.bench", pat, "-test.benchtime", "1x"],
                         check=True, capture_output=True, text=True).stdout
    m = re.search(r"([0-9.]+) GFLOP/s", out)
    if not m:
        sys.exit("bench_torch_matmul: no GFLOP/s in the output of %s:\n%s" % (binary, out))
    return float(m.group(1))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--min-time", type=float, default=1.0, help="seconds per PyTorch run")
    p.add_argument("--vs-go", metavar="BINARY", help="a `go test -c ./host` binary to run in turn")
    p.add_argument("--only", help="run only the shapes whose name contains this")
    args = p.parse_args()
    torch.set_num_threads(os.cpu_count())
    gen = torch.Generator().manual_seed(0)
    print("torch %s, %d threads" % (torch.__version__, torch.get_num_threads()))
    for name, ta, tb, m, n, k in SHAPES:
        if args.only and args.only not in name:
            continue
        a, b = operands(ta, tb, m, n, k, gen)
        out = torch.empty(m, n)
        flop = 2.0 * m * n * k
        torch_g, go_g = [], []
        for _ in range(args.runs):
            per = time_runs(lambda: torch.matmul(a, b, out=out), 1, args.min_time)
            torch_g.append(flop / per[0] / 1e9)
            if args.vs_go:
                go_g.append(go_gflops(args.vs_go, name))
        line = "%-32s torch %7.1f GFLOP/s" % (name, statistics.median(torch_g))
        if go_g:
            g = statistics.median(go_g)
            line += "   lossengine %7.1f GFLOP/s   ratio %.2f" % (g, g / statistics.median(torch_g))
        print(line, flush=True)


if __name__ == "__main__":
    main()
