"""``chainrule.multiprocessing``: ``spawn`` for DDP scripts written with ``torch.multiprocessing``.

PyTorch's ``mp.spawn(fn, args, nprocs)`` forks ``nprocs`` workers; chainrule's ranks are MPI
processes, started by the launcher. So the script is started with ``mpiexec -n nprocs`` and
``spawn`` calls ``fn(rank, *args)`` in this process, the one MPI gave that rank. Everything
else (``Process``, ``Queue``, ``get_context`` ...) is Python's ``multiprocessing``.
"""
from __future__ import annotations

import multiprocessing as _stdlib
from typing import Any, Callable

from .distributed.launcher import mpi_launch, relaunch_command


class ProcessContext:
    """What ``spawn(..., join=False)`` returns: the rank ran to completion in this process."""

    def __init__(self, rank: int) -> None:
        self.rank = rank

    def join(self, timeout: float | None = None) -> bool:
        return True


def spawn(fn: Callable[..., Any], args: tuple = (), nprocs: int = 1, join: bool = True, daemon: bool = False,
          start_method: str = "spawn") -> ProcessContext | None:
    """Run ``fn(rank, *args)`` as this process's rank of an ``nprocs``-process job.

    Start the script with ``mpiexec -n nprocs python script.py``; without an MPI launcher only
    ``nprocs=1`` runs (rank 0, here), and any other count raises a RuntimeError giving the
    command to use."""
    launch = mpi_launch()
    size = 1 if launch is None else launch.world_size
    if size != nprocs:
        started = "without an MPI launcher" if launch is None else f"under an MPI launcher with {size} processes"
        raise RuntimeError(
            f"spawn(nprocs={nprocs}): chainrule runs each rank as an MPI process, and this one was started "
            f"{started}; start the script with `{relaunch_command(nprocs)}`")
    rank = 0 if launch is None else launch.rank
    fn(rank, *args)
    return None if join else ProcessContext(rank)


def __getattr__(name: str) -> Any:
    return getattr(_stdlib, name)
