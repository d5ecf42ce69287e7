"""Running test workers as MPI jobs: ``mpiexec -n N python worker.py ...`` in a subprocess, with a
timeout, each rank reporting its results as a JSON file (``workers/report.py``)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from chainrule.distributed.launcher import mpiexec_path

WORKERS = Path(__file__).parent / "distributed" / "workers"
MPIEXEC = mpiexec_path()
# One BLAS thread per rank: the ranks share the machine's cores.
ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class Job:
    """A finished job: exit status, output, seconds taken, and the JSON lines its ranks printed."""

    def __init__(self, process: subprocess.CompletedProcess, seconds: float, reports: list) -> None:
        self.returncode = process.returncode
        self.stdout = process.stdout
        self.stderr = process.stderr
        self.seconds = seconds
        self.reports = reports

    def by_rank(self) -> dict:
        return {report["rank"]: report for report in self.reports}


def run(args: list, n: int | None = 2, timeout: float = 60, env: dict | None = None, cwd=None) -> Job:
    """``mpiexec -n n python *args`` (``n=None``: plain ``python *args``, no launcher).

    ``timeout`` only turns a hung job into a failure, so it stays generous: a job of about a
    second here takes several times longer on a 2-core CI machine that others load."""
    command = [sys.executable, *map(str, args)]
    if n is not None:
        command = [MPIEXEC, "-n", str(n)] + command
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        process = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=cwd,
                                 env={**os.environ, **ENV, "REPORT_DIR": folder, **(env or {})})
        seconds = time.perf_counter() - start
        reports = [json.loads(path.read_text()) for path in sorted(Path(folder).glob("rank*.json"))]
    return Job(process, seconds, reports)


def worker(name: str) -> Path:
    return WORKERS / name
