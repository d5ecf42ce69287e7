"""ddp_exactness: the issue's full-length exactness check of DistributedDataParallel (the test
suite runs it with 64 steps): 640 SGD-momentum steps of a 64-128-128-10 MLP, global batch 32,

- 2 ranks give weights bit-identical (sha256) to one process accumulating the same two
  micro-batches (each loss x 1/2) and stepping once, in float64 and float32;
- against one process on the full batch: relative difference (max |a - b| / max |b| per
  tensor) <= 1e-12 in float64 after 640 steps, <= 1e-5 in float32 after 64 steps;
- 4 ranks: identical replicas, and the same agreement with the full batch in float64.

    python benchmarks/ddp_exactness.py
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

from chainrule.distributed.launcher import mpiexec_path

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "tests", "distributed", "workers",
                      "mlp_training.py")


def train(mode: str, ranks: int | None, dtype: str, steps: int, out: str, shares: int = 2) -> set[str]:
    """The sha256 digests the ranks reported (their weights are saved to ``out``)."""
    with tempfile.TemporaryDirectory() as reports:
        command = [sys.executable, WORKER, mode, "--dtype", dtype, "--steps", str(steps), "--out", out,
                   "--shares", str(shares)]
        if ranks is not None:
            command = [mpiexec_path(), "-n", str(ranks)] + command
        env = {**os.environ, "REPORT_DIR": reports, "OPENBLAS_NUM_THREADS": "1"}
        subprocess.run(command, check=True, env=env, timeout=1200)
        digests = set()
        for name in os.listdir(reports):
            with open(os.path.join(reports, name)) as f:
                digests.add(json.load(f)["sha256"])
        return digests


def relative(a: str, b: str) -> float:
    with np.load(a) as x, np.load(b) as y:
        return max(float(np.abs(x[k] - y[k]).max() / np.abs(y[k]).max()) for k in y.files)


def main(argv: list[str] | None = None) -> dict:
    folder = tempfile.mkdtemp()
    path = lambda name: os.path.join(folder, name + ".npz")  # noqa: E731
    failures = []
    for dtype, steps, tolerance in (("float64", 640, 1e-12), ("float32", 640, None), ("float32", 64, 1e-5)):
        ddp = train("ddp", 2, dtype, steps, path("ddp"))
        accumulated = train("accumulate", None, dtype, steps, path("accumulated"))
        train("full", None, dtype, steps, path("full"))
        identical = len(ddp) == 1 and ddp == accumulated
        difference = relative(path("ddp"), path("full"))
        verdict = identical and (tolerance is None or difference <= tolerance)
        print(f"{dtype} {steps:>3} steps, 2 ranks: sha256 {'identical to' if identical else 'DIFFERS from'} "
              f"micro-batch accumulation ({next(iter(ddp))[:16]}...); vs full batch {difference:.2e}"
              + (f" (<= {tolerance:g}: {'ok' if verdict else 'MISSED'})" if tolerance else ""))
        if not verdict:
            failures.append(f"{dtype} {steps}")
    four = train("ddp", 4, "float64", 640, path("ddp4"))
    train("full", None, "float64", 640, path("full"))
    difference = relative(path("ddp4"), path("full"))
    print(f"float64 640 steps, 4 ranks: {'identical' if len(four) == 1 else 'DIFFERENT'} replicas; "
          f"vs full batch {difference:.2e}")
    if len(four) != 1 or difference > 1e-12:
        failures.append("4 ranks")
    print("all checks passed" if not failures else f"FAILED: {', '.join(failures)}")
    return {}


if __name__ == "__main__":
    main()
