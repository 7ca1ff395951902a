"""Shared part of the PyTorch speed-peer scripts (scripts/bench_torch*.py):
running one lossbench case for a side-by-side comparison."""

import json
import os
import subprocess
import sys


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
