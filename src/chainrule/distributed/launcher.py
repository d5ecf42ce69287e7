"""Which MPI launcher started this process, read from its environment (no MPI import).

Every MPI launcher tells its processes their rank and the job's size through environment
variables; each one spells them its own way. This module reads them, fills in the
variables that scripts written for ``torchrun`` read (``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``LOCAL_WORLD_SIZE``) where they are unset, and finds the ``mpiexec`` that
the ``mpich`` wheel installed, so that tests and messages can name it.
"""
from __future__ import annotations

import os
import shlex
import sys
import sysconfig
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

INSTALL_HINT = 'chainrule.distributed needs MPI: pip install "chainrule[distributed]" (mpi4py and mpich)'

# (rank, size, local rank, local size) as each launcher spells them: MPICH's hydra and Intel MPI,
# Open MPI, MVAPICH, and PMIx-based launchers (Open MPI 5's prterun, Slurm's srun --mpi=pmix).
_SPELLINGS = (
    ("PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"),
    ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE"),
    ("MV2_COMM_WORLD_RANK", "MV2_COMM_WORLD_SIZE", "MV2_COMM_WORLD_LOCAL_RANK", "MV2_COMM_WORLD_LOCAL_SIZE"),
    ("PMIX_RANK", "PMIX_SIZE", "PMIX_LOCAL_RANK", "PMIX_LOCAL_SIZE"),
)


@dataclass(frozen=True)
class Launch:
    """This process's place in the job, as its MPI launcher described it."""

    rank: int
    world_size: int
    local_rank: int
    local_world_size: int


def mpi_launch() -> Launch | None:
    """The rank and sizes an MPI launcher gave this process, or None when none started it."""
    env = os.environ
    for rank, size, local_rank, local_size in _SPELLINGS:
        if rank in env and size in env:
            try:
                r, n = int(env[rank]), int(env[size])
                # A launcher without a local spelling (one process per host is the safe guess).
                lr = int(env.get(local_rank, 0))
                ln = int(env.get(local_size, 1))
            except ValueError:
                continue
            return Launch(r, n, lr, ln)
    return None


def fill_environment(launch: Launch | None = None) -> None:
    """Set ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and ``LOCAL_WORLD_SIZE`` from the MPI
    launcher where they are unset, so that scripts written for torchrun find them."""
    launch = launch or mpi_launch()
    if launch is None:
        return
    for name, value in (("RANK", launch.rank), ("WORLD_SIZE", launch.world_size),
                        ("LOCAL_RANK", launch.local_rank), ("LOCAL_WORLD_SIZE", launch.local_world_size)):
        os.environ.setdefault(name, str(value))


def mpiexec_path() -> str:
    """The ``mpiexec`` to start jobs with: the one the ``mpich`` wheel installed (found from
    its own file list, wherever pip put it), else one next to this interpreter, else the
    first on ``PATH``; plain ``"mpiexec"`` when there is none."""
    try:
        for entry in metadata.distribution("mpich").files or ():
            if entry.name == "mpiexec":
                path = Path(entry.locate()).resolve()
                if path.is_file():
                    return str(path)
    except metadata.PackageNotFoundError:
        pass
    folders = [Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))]
    folders += [Path(p) for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    for folder in folders:
        candidate = folder / "mpiexec"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return "mpiexec"


def relaunch_command(nprocs: int) -> str:
    """``mpiexec -n N python <this command line>``: how to start this program under MPI."""
    argv = sys.argv if sys.argv and sys.argv[0] not in ("", "-c") else ["script.py"]
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name:  # started as `python -m package`
        argv = ["-m", spec.name.removesuffix(".__main__")] + list(sys.argv[1:])
    return f"mpiexec -n {nprocs} python " + " ".join(shlex.quote(a) for a in argv)
