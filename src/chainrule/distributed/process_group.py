"""The default process group: MPI's world, under torch.distributed's names.

``init_process_group`` accepts any backend name PyTorch scripts pass ("gloo", "mpi",
"nccl") and always communicates over MPI; the processes are the MPI job's (started by
``mpiexec -n N``), so an explicit rank or world size is only checked against MPI's.
"""
from __future__ import annotations

import datetime
import os
import socket
from importlib.util import find_spec
from typing import Any

import numpy as np

from . import mpi
from .launcher import fill_environment, mpi_launch, relaunch_command

_BACKENDS = ("gloo", "mpi", "nccl", "ucc", "xccl")
_DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)
_HOSTNAME_BYTES = 256


class Backend(str):
    """A backend name, lower-cased and checked, as ``torch.distributed.Backend``."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    UCC = "ucc"
    MPI = "mpi"

    def __new__(cls, name: str) -> "Backend":
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, but got: {type(name)}")
        value = name.lower()
        # "cpu:gloo,cuda:nccl": one backend per device type.
        names = [part.split(":")[-1].strip() for part in value.split(",")]
        if not names or any(n not in _BACKENDS for n in names):
            raise ValueError(f"Invalid backend: '{name}'")
        return super().__new__(cls, value)


class ProcessGroup:
    """A group of processes that run collectives together: here, every process of the MPI job,
    on a communicator of its own (a duplicate of MPI's world, so that a program's own mpi4py
    messages never mix with these)."""

    def __init__(self, comm: Any, timeout: datetime.timedelta) -> None:
        self.comm = comm
        self.timeout = timeout
        self._rank = comm.Get_rank()
        self._size = comm.Get_size()

    def rank(self) -> int:
        return self._rank

    def size(self) -> int:
        return self._size

    def name(self) -> str:
        return Backend.MPI

    def __repr__(self) -> str:
        return f"ProcessGroup(backend=mpi, rank={self._rank}, size={self._size})"


_default: list[ProcessGroup | None] = [None]


class _WorldAttribute(type):
    @property
    def WORLD(cls) -> ProcessGroup | None:
        return _default[0]


class group(metaclass=_WorldAttribute):
    """``group.WORLD``: the default process group (None before ``init_process_group``)."""


class GroupMember(metaclass=_WorldAttribute):
    """``GroupMember.WORLD``, as in torch.distributed."""

    NON_GROUP_MEMBER = -100


def is_available() -> bool:
    """Whether the distributed package can run here: mpi4py is installed (nothing is imported)."""
    try:
        return find_spec("mpi4py") is not None
    except (ImportError, ValueError):  # a broken or blocked install
        return False


def is_mpi_available() -> bool:
    return is_available()


def is_gloo_available() -> bool:
    """True where MPI is: a "gloo" process group runs over MPI."""
    return is_available()


def is_nccl_available() -> bool:
    return False


def is_initialized() -> bool:
    return _default[0] is not None


def _get_default_group() -> ProcessGroup:
    if _default[0] is None:
        raise ValueError("Default process group has not been initialized, please make sure to call init_process_group.")
    return _default[0]


def resolve(group: Any) -> ProcessGroup:
    """The process group a collective runs on: ``group`` (None means the default one)."""
    default = _get_default_group()
    if group is None or group is default:
        return default
    raise ValueError(f"chainrule.distributed has one process group, the default (WORLD); got {group!r}")


def _requested(value: int, variable: str) -> int | None:
    if value is not None and int(value) != -1:
        return int(value)
    text = os.environ.get(variable)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"Error initializing torch.distributed: environment variable {variable} is not an integer: {text!r}") from None


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout: datetime.timedelta | None = None, world_size: int = -1, rank: int = -1,
                       store: Any = None, group_name: str = "", pg_options: Any = None,
                       device_id: Any = None) -> None:
    """Join the job's processes into the default process group.

    The processes are the MPI job's: start the script with ``mpiexec -n N python script.py``.
    ``backend`` may be any name PyTorch takes ("gloo", "mpi", "nccl"); MPI carries every
    collective. ``rank`` and ``world_size`` (or ``RANK``/``WORLD_SIZE`` in the environment), when
    given, must agree with MPI's; ``init_method``, ``store`` and ``device_id`` are accepted and
    not needed."""
    if _default[0] is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if backend is not None:
        Backend(backend)
    launch = mpi_launch()
    wanted_size = _requested(world_size, "WORLD_SIZE")
    if launch is None and wanted_size is not None and wanted_size > 1:
        raise RuntimeError(
            f"WORLD_SIZE is {wanted_size} but this process was not started by an MPI launcher (torchrun?): "
            f"chainrule.distributed runs each rank as an MPI process; start the job with "
            f"`{relaunch_command(wanted_size)}`")
    MPI = mpi.load()
    world = MPI.COMM_WORLD
    if world.Get_size() > 1:  # from here on, a rank that fails must end the job (see mpi.py)
        mpi.abort_on_uncaught_exception()
    wanted_rank = _requested(rank, "RANK")
    for what, wanted, actual in (("world_size", wanted_size, world.Get_size()), ("rank", wanted_rank, world.Get_rank())):
        if wanted is not None and wanted != actual:
            raise ValueError(f"init_process_group: {what} {wanted} was asked for, but MPI started this process "
                             f"with {what} {actual} (mpiexec -n {world.Get_size()})")
    comm = world.Dup()
    fill_environment(launch)
    _fill_master_address(comm)
    _default[0] = ProcessGroup(comm, timeout or _DEFAULT_TIMEOUT)


def _fill_master_address(comm: Any) -> None:
    """``MASTER_ADDR`` (rank 0's host name, sent to every rank) and ``MASTER_PORT`` where unset,
    for scripts that read them: MPI itself needs neither."""
    name = np.zeros(_HOSTNAME_BYTES, np.uint8)
    if comm.Get_rank() == 0:
        encoded = socket.gethostname().encode()[:_HOSTNAME_BYTES]
        name[:len(encoded)] = np.frombuffer(encoded, np.uint8)
    comm.Bcast(name, root=0)
    os.environ.setdefault("MASTER_ADDR", bytes(name).rstrip(b"\0").decode(errors="replace") or "localhost")
    os.environ.setdefault("MASTER_PORT", "29500")


def destroy_process_group(group: Any = None) -> None:
    """Leave the default process group; ``init_process_group`` may be called again."""
    pg = resolve(group)
    pg.comm.Free()
    _default[0] = None


def get_rank(group: Any = None) -> int:
    """This process's rank in the group (0 .. world size - 1)."""
    return resolve(group).rank()


def get_world_size(group: Any = None) -> int:
    """How many processes the group has."""
    return resolve(group).size()


def get_backend(group: Any = None) -> Backend:
    """The backend that carries the group's collectives: always "mpi"."""
    resolve(group)
    return Backend(Backend.MPI)


def get_node_local_rank(fallback_rank: int | None = None) -> int:
    """This process's rank among the processes of its host (``LOCAL_RANK``)."""
    if "LOCAL_RANK" in os.environ:
        return int(os.environ["LOCAL_RANK"])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError("LOCAL_RANK is not in the environment. Consider passing fallback_rank to allow "
                       "`get_node_local_rank` to work, assuming you are not running in a multi-device context "
                       "and want the code to run locally instead.")
