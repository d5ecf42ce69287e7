"""Unmodified PyTorch DDP programs (programs/, ``import torch``) run with chainrule as torch
(workers/as_torch.py) under ``mpiexec -n 2``, and train to the loss one process reaches on
the same global batches; the mp.spawn form too, and its error without mpiexec."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from mpi_jobs import run, worker

PROGRAMS = Path(__file__).parent / "programs"
AS_TORCH = worker("as_torch.py")
# What torchrun sets for a one-process job.
ONE_PROCESS = {"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0", "LOCAL_WORLD_SIZE": "1",
               "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500"}


def result(job) -> dict:
    assert job.returncode == 0, job.stderr
    (line,) = [line for line in job.stdout.splitlines() if line.startswith("RESULT ")]
    return json.loads(line[len("RESULT "):])


def test_torchrun_style_script_trains_as_one_process():
    two = result(run([AS_TORCH, PROGRAMS / "ddp_torchrun.py"], n=2))
    one = result(run([AS_TORCH, PROGRAMS / "ddp_torchrun.py"], n=None, env=ONE_PROCESS))
    assert (two["world_size"], one["world_size"], two["local_rank"]) == (2, 1, 0)
    assert two["all_ranks"][0] == two["all_ranks"][1]  # identical replicas
    assert two["final_loss"] == pytest.approx(one["final_loss"], rel=1e-12)
    assert two["epoch_losses"] == pytest.approx(one["epoch_losses"], rel=1e-12)
    assert two["epoch_losses"][-1] < 0.8 * two["epoch_losses"][0]  # it learned


def test_spawn_form_trains_as_one_process():
    two = result(run([AS_TORCH, PROGRAMS / "ddp_spawn.py", 2], n=2))
    one = result(run([AS_TORCH, PROGRAMS / "ddp_spawn.py", 1], n=None))
    assert (two["world_size"], one["world_size"]) == (2, 1)
    assert two["final_loss"] == pytest.approx(one["final_loss"], rel=1e-12)


def test_spawn_without_mpiexec_names_the_command():
    job = run([AS_TORCH, PROGRAMS / "ddp_spawn.py", 2], n=None)
    assert job.returncode == 1
    last = job.stderr.strip().splitlines()[-1]
    assert last.startswith("RuntimeError: spawn(nprocs=2): chainrule runs each rank as an MPI process, and this one "
                           "was started without an MPI launcher; start the script with `mpiexec -n 2 python ")
    job = run([AS_TORCH, PROGRAMS / "ddp_spawn.py", 3], n=2)
    assert job.returncode != 0 and "`mpiexec -n 3 python " in job.stderr
