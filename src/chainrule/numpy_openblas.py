"""NumPy's own OpenBLAS (the ``scipy-openblas`` library its wheels bundle), reached through
ctypes: its thread count, and LAPACK's LU factorization ``?getrf``, which ``numpy.linalg``
runs inside ``solve`` and ``det`` but does not expose.

A NumPy built on another BLAS has no such library: then :func:`library` is None, the thread
calls answer None, and :func:`getrf` returns None so that its callers use their NumPy code.
The library is looked up on first use, not at ``import chainrule``.
"""
from __future__ import annotations

import os
import threading
import ctypes
from typing import Any

import numpy as np

__all__ = ["library", "function", "getrf"]

_lookup = threading.Lock()
_library: Any = None
_looked = False


def library() -> Any:
    """The bundled OpenBLAS as a ``ctypes.CDLL`` (loaded once), or None where NumPy has none."""
    global _library, _looked
    if not _looked:
        with _lookup:
            if not _looked:
                _library, _looked = _find(), True
    return _library


def _find() -> Any:
    libs = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    names = sorted(os.listdir(libs)) if os.path.isdir(libs) else []
    for name in names:
        if name.startswith("libscipy_openblas") and name.endswith(".so"):
            try:
                return ctypes.CDLL(os.path.join(libs, name))
            except OSError:
                return None
    return None


def function(name: str) -> tuple[Any, bool] | None:
    """``(routine, ilp64)`` for a routine of the library under either of its export names
    (``scipy_<name>64_``: 64-bit integers, the wheels' ILP64 build; ``scipy_<name>``: 32-bit),
    or None."""
    found = library()
    if found is None:
        return None
    for exported, ilp64 in ((f"scipy_{name}64_", True), (f"scipy_{name}", False)):
        if hasattr(found, exported):
            return getattr(found, exported), ilp64
    return None


#: LAPACK's LU routine per dtype.
_GETRF = {np.dtype(np.float32): "sgetrf_", np.dtype(np.float64): "dgetrf_",
          np.dtype(np.complex64): "cgetrf_", np.dtype(np.complex128): "zgetrf_"}
_getrf_bound: dict = {}


def getrf(a: Any) -> tuple | None:
    """LAPACK's ``getrf`` of (batches of) matrices ``a``: ``(LU, pivots, info)`` as
    ``torch.linalg.lu_factor_ex`` gives them (L's strict lower triangle and U packed in LU,
    pivots 1-based int32, info the 1-based index of the first exactly zero pivot, 0 for none),
    one LAPACK call per matrix; None for what it does not take (not a NumPy array, another
    dtype, an empty matrix, no library)."""
    if type(a) is not np.ndarray or a.ndim < 2 or a.dtype not in _GETRF or 0 in a.shape[-2:]:
        return None
    bound = _bind(a.dtype)
    if bound is None:
        return None
    routine, integer = bound
    m, n = a.shape[-2], a.shape[-1]
    batch = a.shape[:-2]
    # LAPACK reads matrices column by column: each matrix's transpose, laid out row by row,
    # is the matrix in LAPACK's order, and the factors come back in it.
    columns = np.array(a.reshape((-1, m, n)).transpose(0, 2, 1), order="C", copy=True)
    count = columns.shape[0]
    pivots = np.empty((count, min(m, n)), dtype=integer)
    info = np.zeros(count, dtype=np.int32)
    status = integer(0)
    rows, cols, result = ctypes.byref(integer(m)), ctypes.byref(integer(n)), ctypes.byref(status)
    stride, pivot_stride = columns.strides[0], pivots.strides[0]
    base, pivot_base = columns.ctypes.data, pivots.ctypes.data
    for index in range(count):
        routine(rows, cols, base + index * stride, rows, pivot_base + index * pivot_stride, result)
        if status.value < 0:  # an argument LAPACK refused: a bug here, not the user's input
            raise RuntimeError(f"LAPACK {routine.__name__}: argument {-status.value} was invalid")
        info[index] = status.value
    lu = columns.transpose(0, 2, 1).reshape(batch + (m, n))
    return lu, pivots.astype(np.int32).reshape(batch + (min(m, n),)), info.reshape(batch)


def _bind(dtype: np.dtype) -> tuple | None:
    """``(routine, ctypes integer type)`` of the dtype's getrf, bound once."""
    if dtype not in _getrf_bound:
        found = function(_GETRF[dtype])
        if found is None:
            _getrf_bound[dtype] = None
        else:
            routine, ilp64 = found
            integer = ctypes.c_int64 if ilp64 else ctypes.c_int32
            pointer = ctypes.POINTER(integer)
            routine.restype = None
            routine.argtypes = [pointer, pointer, ctypes.c_void_p, pointer, ctypes.c_void_p, pointer]
            _getrf_bound[dtype] = (routine, integer)
    return _getrf_bound[dtype]
