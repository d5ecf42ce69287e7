"""``mpiexec -n 2 python -m chainrule train``: data-parallel with the same global batch, so the
same metrics as one process (to float32 rounding); rank 0 alone writes and prints."""
from __future__ import annotations

import csv

import pytest

from mpi_jobs import run

OPTIONS = ["--hidden", "16", "--batch-size", "63", "--epochs", "2", "--optimizer", "sgd"]


def metrics(folder):
    with open(folder / "metrics.csv") as f:
        return [{k: float(v) for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


def test_two_ranks_train_as_one_process(tmp_path):
    two = run(["-m", "chainrule", "train", *OPTIONS, "--out", tmp_path / "two"], n=2, timeout=120, cwd=tmp_path)
    assert two.returncode == 0, two.stderr
    one = run(["-m", "chainrule", "train", *OPTIONS, "--out", tmp_path / "one"], n=None, timeout=120, cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    # 1438 training digits in batches of 63: the last batch (52) splits 26/26, odd batches unevenly.
    for a, b in zip(metrics(tmp_path / "two"), metrics(tmp_path / "one"), strict=True):
        assert a == pytest.approx(b, rel=1e-4, abs=1e-5)
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(p.name for p in (tmp_path / "one").iterdir())
    assert two.stdout.count("Test accuracy:") == 1 and two.stdout.count("epoch 2/2") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one", "two"]  # no other rank wrote a folder
