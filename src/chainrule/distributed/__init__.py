"""``chainrule.distributed``: torch.distributed's API, carried by MPI.

Start one process per rank with an MPI launcher; the script is an ordinary PyTorch one::

    # mpiexec -n 2 python train.py
    import chainrule as torch
    dist = torch.distributed
    dist.init_process_group("gloo")           # any backend name: MPI carries it
    t = torch.tensor([float(dist.get_rank())])
    dist.all_reduce(t)                        # tensor([1.]) on both ranks

Needs the ``[distributed]`` extra (mpi4py and the mpich wheel); ``import chainrule`` never
imports mpi4py. Under an MPI launcher, importing this package sets ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK`` and ``LOCAL_WORLD_SIZE`` where they are unset (``init_process_group`` adds
``MASTER_ADDR`` and ``MASTER_PORT``), as torchrun would, and an uncaught exception on any rank
ends the whole job (MPI_Abort, mpi4py's mechanism) rather than leaving the other ranks waiting.
"""
from .collectives import (
    Future, ReduceOp, Work, all_gather, all_gather_into_tensor, all_reduce, barrier, broadcast, gather, reduce,
    reduce_scatter, reduce_scatter_tensor, scatter,
)
from .launcher import fill_environment as _fill_environment, mpi_launch as _mpi_launch
from .mpi import abort_on_uncaught_exception as _abort_on_uncaught_exception
from .process_group import (
    Backend, GroupMember, ProcessGroup, destroy_process_group, get_backend, get_node_local_rank, get_rank,
    get_world_size, group, init_process_group, is_available, is_gloo_available, is_initialized, is_mpi_available,
    is_nccl_available,
)

_launch = _mpi_launch()
_fill_environment(_launch)
if _launch is not None and _launch.world_size > 1:  # one of several ranks: never leave the others hanging
    _abort_on_uncaught_exception()

__all__ = [
    "Backend", "Future", "GroupMember", "ProcessGroup", "ReduceOp", "Work", "all_gather", "all_gather_into_tensor",
    "all_reduce", "barrier", "broadcast", "destroy_process_group", "gather", "get_backend", "get_node_local_rank",
    "get_rank", "get_world_size", "group", "init_process_group", "is_available", "is_gloo_available",
    "is_initialized", "is_mpi_available", "is_nccl_available", "reduce", "reduce_scatter", "reduce_scatter_tensor",
    "scatter",
]
