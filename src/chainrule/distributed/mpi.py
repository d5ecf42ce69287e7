"""mpi4py, loaded on first use, and the job-wide abort on an uncaught exception.

``import chainrule`` never imports mpi4py: it is an optional dependency (the
``[distributed]`` extra), and importing ``mpi4py.MPI`` initialises MPI.
"""
from __future__ import annotations

import os
import signal
import sys
from types import ModuleType
from typing import Any

from .launcher import INSTALL_HINT

_state: dict[str, Any] = {"MPI": None, "hooked": False}


def load() -> ModuleType:
    """``mpi4py.MPI`` (initialising MPI on first call); without mpi4py, an ImportError whose
    message is the one-line install hint."""
    MPI = _state["MPI"]
    if MPI is None:
        try:
            from mpi4py import MPI
        except ImportError as error:
            raise ImportError(INSTALL_HINT) from error
        _state["MPI"] = MPI
    return MPI


def loaded() -> ModuleType | None:
    """``mpi4py.MPI`` if it has been loaded already, else None (nothing is imported)."""
    return _state["MPI"] or sys.modules.get("mpi4py.MPI")


def abort_at_exit(status: int) -> None:
    """End the whole job with ``status`` when this process exits (MPI_Abort instead of
    MPI_Finalize, mpi4py's mechanism): the other ranks may be waiting for this one in a
    collective, and a clean finalize would leave them waiting for ever."""
    MPI = loaded()
    if MPI is not None and status and MPI.Is_initialized() and MPI.COMM_WORLD.Get_size() > 1:
        MPI._set_abort_status(int(status))


def _end_job(status: int) -> None:
    MPI = loaded()
    if MPI is not None and MPI.Is_initialized() and not MPI.Is_finalized():
        abort_at_exit(status)
    else:
        # MPI never started in this process, so it cannot call MPI_Abort; a rank that simply
        # exits leaves the others waiting in MPI_Init, but one that dies of a signal makes the
        # launcher end the job.
        os.kill(os.getpid(), signal.SIGTERM)


def abort_on_uncaught_exception() -> None:
    """Install, once, a ``sys.excepthook`` that prints the traceback as usual and then ends the
    whole job: one rank failing must never leave the others hanging."""
    if _state["hooked"]:
        return
    previous = sys.excepthook

    def hook(kind: type, value: BaseException, traceback: Any) -> None:
        try:
            previous(kind, value, traceback)
            sys.stderr.flush()
        finally:
            _end_job(130 if issubclass(kind, KeyboardInterrupt) else 1)

    sys.excepthook = hook
    _state["hooked"] = True
