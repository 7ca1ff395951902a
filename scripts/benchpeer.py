"""Shared part of the PyTorch speed-peer scripts (scripts/bench_torch*.py):
running one lossbench case for a side-by-side comparison."""

import json
import os
import subprocess
import sys
import time


def run_lossbench(lossbench, device, loss, shape, min_time):
    """Seconds per call of one lossbench run of one case (its own timing
    over enough calls for min_time), or None if the case is not ok. shape
    is "AxBxC" or a sequence of ints."""
    if not isinstance(shape, str):
        shape = "x".join(map(str, shape))
    cmd = [lossbench, "-device", device, "-loss", loss, "-shape", shape, "-min-time", "%gs" % min_time, "-json"]
    out = subprocess.run(cmd, check=False, capture_output=True, text=True)
    try:
        rows = json.loads(out.stdout)
    except ValueError:
        sys.exit("%s: %s gave no JSON (exit %d): %s" % (os.path.basename(sys.argv[0]), " ".join(cmd), out.returncode,
                                                         out.stderr.strip()))
    if not rows or rows[0].get("status") != "ok":
        return None
    return rows[0]["seconds_per_call"]


def time_per_call(call, min_time, warm=True):
    """Seconds per call over one run of calls lasting at least min_time,
    after one untimed call when warm."""
    if warm:
        call()
    k, t0 = 0, time.perf_counter()
    while True:
        call()
        k += 1
        if time.perf_counter() - t0 > min_time:
            return (time.perf_counter() - t0) / k


def time_runs(call, runs, min_time):
    """Seconds per call in each of runs runs of a fixed number of calls
    (enough for min_time, estimated from one call after a warm-up)."""
    call()  # warm up
    t0 = time.perf_counter()
    call()
    iters = max(1, int(min_time / max(time.perf_counter() - t0, 1e-9)))
    per = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(iters):
            call()
        per.append((time.perf_counter() - t0) / iters)
    return per
