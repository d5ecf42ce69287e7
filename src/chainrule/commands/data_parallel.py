"""``chainrule train`` under an MPI launcher: data-parallel training with the same global batch.

``mpiexec -n N chainrule train ...`` starts N copies of the command; each finds the launcher,
joins the process group and trains a DistributedDataParallel replica on its share of every
batch. All ranks draw the same shuffled batches (same seed); rank ``r`` takes rows
``r, r + N, ...`` of each, and its loss is scaled so that DDP's average over the ranks is
the mean over the whole batch, as one process would compute it (to rounding), uneven last
batches included. Rank 0 alone writes the run folder and prints.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import distributed as dist
from . import UsageError
from ..distributed import mpi
from ..distributed.launcher import INSTALL_HINT, mpi_launch
from ..nn.parallel import DistributedDataParallel
from ..creation import from_numpy


def launched() -> bool:
    """Whether an MPI launcher started this command as one of several processes."""
    launch = mpi_launch()
    return launch is not None and launch.world_size > 1


class DataParallel:
    """This rank's part of a data-parallel run: its share of each batch and the sums over ranks."""

    def __init__(self) -> None:
        try:
            if not dist.is_initialized():
                dist.init_process_group("mpi")
        except ImportError:
            raise UsageError(f"this command was started by an MPI launcher, but {INSTALL_HINT}") from None
        self.rank = dist.get_rank()
        self.world_size = dist.get_world_size()

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def wrap(self, model: Any) -> Any:
        """The model as a DistributedDataParallel replica (rank 0's weights on every rank)."""
        return DistributedDataParallel(model)

    def share(self, xb: Any, yb: Any) -> tuple[Any, Any, float]:
        """This rank's rows of a global batch, and the factor that turns the mean loss over them
        into this rank's part of the global mean (DDP averages over the ranks)."""
        rows = slice(self.rank, None, self.world_size)
        x, y = xb[rows], yb[rows]
        return x, y, len(y) * self.world_size / max(len(yb), 1)

    def total(self, *values: float) -> list[float]:
        """Each value summed over the ranks."""
        summed = from_numpy(np.array(values, np.float64))
        dist.all_reduce(summed)
        return summed.tolist()

    def fail(self, status: int) -> None:
        """End the whole job with ``status`` when this process exits: the other ranks may be
        waiting for this one."""
        mpi.abort_at_exit(status)
