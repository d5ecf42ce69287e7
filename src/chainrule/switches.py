"""PyTorch's process-wide switches, as ``torch.*`` functions: float32 matmul precision,
deterministic algorithms, and the number of threads.

NumPy's float32 GEMMs are always IEEE float32 (no TF32 or bfloat16 passes), and every chainrule
kernel is deterministic, so the first two are kept and read back and change no number.
The thread count is the BLAS's (NumPy's OpenBLAS, and MKL when chainrule's GEMM uses it),
set and read through the libraries' own calls (see :mod:`chainrule.gemm`).
"""
from __future__ import annotations

import warnings

from . import gemm

_PRECISIONS = ("highest", "high", "medium")
_state = {"precision": "highest", "deterministic": False, "warn_only": False, "interop": 1}


def set_float32_matmul_precision(precision: str) -> None:
    """Accepted as PyTorch accepts it ("highest", "high", "medium"); chainrule's float32 GEMMs
    are IEEE float32 whatever it says."""
    if precision not in _PRECISIONS:
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      f"setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    _state["precision"] = precision


def get_float32_matmul_precision() -> str:
    return _state["precision"]


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Accepted; every chainrule kernel gives the same bits run after run already."""
    _state["deterministic"], _state["warn_only"] = bool(mode), bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _state["warn_only"]


def set_num_threads(count: int) -> None:
    """The number of threads the BLAS runs GEMMs with (PyTorch's intra-op threads)."""
    if not isinstance(count, int) or isinstance(count, bool):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(count).__name__}")
    if count <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    gemm.set_threads(count)


def get_num_threads() -> int:
    """The number of threads the BLAS runs GEMMs with (1 when it cannot be asked)."""
    return gemm.threads() or 1


def set_num_interop_threads(count: int) -> None:
    """Kept and read back: chainrule runs no inter-op thread pool."""
    if int(count) <= 0:
        raise RuntimeError("set_num_interop_threads expects a positive integer")
    _state["interop"] = int(count)


def get_num_interop_threads() -> int:
    return _state["interop"]
