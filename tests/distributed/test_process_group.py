"""The process group: optional mpi4py, the launcher's environment, one process without a
launcher, the errors of misuse, and a failing rank ending the whole job."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chainrule.distributed import launcher
from mpi_jobs import MPIEXEC, run, worker

HINT = 'chainrule.distributed needs MPI: pip install "chainrule[distributed]" (mpi4py and mpich)'


def python(code: str, timeout: float, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def test_import_chainrule_does_not_import_mpi4py():
    done = python("import sys, chainrule, chainrule.nn, chainrule.distributed, chainrule.utils.data, "
                  "chainrule.multiprocessing; print('mpi4py' in sys.modules, 'chainrule.distributed' in sys.modules)",
                  timeout=60)
    assert done.stdout.split() == ["False", "True"], done.stderr


@pytest.fixture
def without_mpi4py(tmp_path):
    """An environment where ``import mpi4py`` fails, as without the [distributed] extra."""
    (tmp_path / "mpi4py").mkdir()
    (tmp_path / "mpi4py" / "__init__.py").write_text("raise ImportError('No module named mpi4py')\n")
    return {"PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}


def test_without_mpi4py_the_entry_points_say_how_to_install_it(without_mpi4py, tmp_path):
    done = python("import chainrule as torch\n"
                  "print(torch.distributed.is_available())\n"
                  "try:\n    torch.distributed.init_process_group('gloo')\n"
                  "except ImportError as e:\n    print(e)\n", timeout=60, env=without_mpi4py)
    assert done.stdout.splitlines() == ["True", HINT], done.stderr  # installed, but broken: the hint
    job = run(["-m", "chainrule", "train", "--epochs", "1", "--out", tmp_path / "run"], n=2, env=without_mpi4py)
    assert job.returncode == 2
    # Both ranks say it; mpiexec merges their stderr, so the two lines may arrive interleaved.
    message = f"chainrule train: error: this command was started by an MPI launcher, but {HINT}"
    assert job.stderr.count(message) == 2, job.stderr
    assert job.stderr.count("chainrule train: error") == 2, job.stderr
    assert not (tmp_path / "run").exists()


def test_torchrun_style_variables_without_mpiexec_fail_fast_with_the_command():
    env = {"RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500"}
    done = python("import chainrule as torch; torch.distributed.init_process_group('gloo')", timeout=60, env=env)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("RuntimeError: WORLD_SIZE is 2 but this process was not started by an MPI launcher")
    assert "`mpiexec -n 2 python " in last


def test_one_process_without_a_launcher():
    job = run([worker("singleton.py")], n=None)
    assert job.returncode == 0, job.stderr
    (r,) = job.reports
    assert r["available"] is True and r["initialized_before"] is False
    assert r["rank_before"] == ["ValueError", "Default process group has not been initialized, please make sure to "
                                              "call init_process_group."]
    assert r["bad_backend"] == ["ValueError", "Invalid backend: 'tcp'"]
    assert r["wrong_rank"][0] == "ValueError" and "rank 1 was asked for" in r["wrong_rank"][1]
    assert (r["initialized"], r["the_rank"], r["world_size"], r["backend"]) == (True, 0, 1, "mpi")
    assert r["all_reduce"] == [1.5, -2.0]
    assert r["twice"] == ["ValueError", "trying to initialize the default process group twice!"]
    assert r["world_is_default"] and r["master"][1] == "29500" and r["master"][0]
    assert r["gather_no_list"] == ["ValueError", "Argument ``gather_list`` must be specified on destination rank."]
    assert r["gather_short_list"] == ["ValueError", "gather_list must be a list of 1 tensors (one per rank), got 2"]
    assert r["scatter_wrong_size"] == ["ValueError", "every tensor in scatter_list must have the 2 elements of tensor"]
    assert r["after_destroy"] is False and r["reinitialized"] == 1


def test_launcher_variables_become_torchrun_variables(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "PMI_RANK", "PMI_SIZE"):
        monkeypatch.setenv(name, "")  # so that monkeypatch restores the test's environment afterwards
        monkeypatch.delenv(name)
    assert launcher.mpi_launch() is None
    monkeypatch.setenv("OMPI_COMM_WORLD_RANK", "3")
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "4")
    monkeypatch.setenv("OMPI_COMM_WORLD_LOCAL_RANK", "1")
    monkeypatch.setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "2")
    monkeypatch.setenv("WORLD_SIZE", "4")  # already set: left alone
    assert launcher.mpi_launch() == launcher.Launch(3, 4, 1, 2)
    launcher.fill_environment()
    assert [os.environ[n] for n in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE")] == ["3", "4", "1", "2"]


def test_mpiexec_is_found_next_to_the_mpich_wheel():
    path = Path(MPIEXEC)
    assert path.name == "mpiexec" and path.is_file() and os.access(path, os.X_OK)


@pytest.mark.parametrize("when", ["after_init", "before_init"])
def test_one_rank_raising_ends_the_job(when):
    job = run([worker("fail.py"), when], n=2)
    assert job.returncode != 0
    assert "ValueError: rank 1 fails" in job.stderr
