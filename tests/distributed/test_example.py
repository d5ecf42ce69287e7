"""``mpiexec -n 2 python examples/ddp_digits.py``: the README's command trains and reports."""
from __future__ import annotations

import re
from pathlib import Path

from mpi_jobs import run

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ddp_digits.py"


def test_ddp_digits_example_learns(tmp_path):
    job = run([EXAMPLE], n=2, timeout=120, cwd=tmp_path)
    assert job.returncode == 0, job.stderr
    assert job.stdout.startswith("2 processes (this one: rank 0, local rank 0), 24 batches of 32")
    assert job.stdout.count("epoch 10") == 1  # rank 0 alone prints
    accuracy = float(re.search(r"test accuracy ([\d.]+)% on 261 held-out digits", job.stdout).group(1))
    assert accuracy > 90
    assert "import chainrule as torch" in EXAMPLE.read_text()
