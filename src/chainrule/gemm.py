"""The matrix product of the large GEMMs: NumPy's, or MKL's when the ``mkl`` extra is installed.

On Intel CPUs the OpenBLAS that NumPy bundles runs float32 GEMM at 0.8-0.9x the speed of the
MKL inside PyTorch (``benchmarks/README.md``: "GEMM floor"); the ``mkl`` wheel from PyPI
(``pip install chainrule[mkl]``) closes that gap.  When it is installed, :func:`matmul` sends
2-D float32/float64 products of at least :data:`GEMM_MIN` multiply-adds to its
``cblas_sgemm``/``cblas_dgemm`` (through ctypes: no compiled code of ours) and everything else
to ``np.matmul``.  Results agree with NumPy's to float rounding: the same sums, added in
another order.

The choice is made once, at import: ``CHAINRULE_GEMM=numpy`` keeps NumPy's, ``=mkl`` asks for
MKL (a one-line warning with the extra to install when it is missing), unset picks MKL when
its library is there.  ``backend()`` says which runs.  MKL follows ``MKL_NUM_THREADS`` and
threadpoolctl like NumPy's BLAS; it starts with as many threads as NumPy's BLAS has.
"""
from __future__ import annotations

import os
import sys
import warnings
from typing import Any, Callable

import numpy as np

from . import numpy_openblas

__all__ = ["GEMM_MIN", "backend", "matmul", "product"]

#: Products smaller than this many multiply-adds stay with NumPy (a ctypes call costs ~2 us).
GEMM_MIN = 1 << 20

_ndarray = np.ndarray
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112


class Cblas:
    """``cblas_?gemm`` of one shared library, bound with ctypes: ``gemm(a, b)`` is ``a @ b``
    for 2-D float32/float64 arrays that are C- or Fortran-contiguous (a transposed operand is
    passed as such, not copied), None for anything else."""

    def __init__(self, path: str, sgemm: str, dgemm: str, integer: Any) -> None:
        import ctypes  # (here: only a process that uses a CBLAS library pays for the import)

        self.path = path
        self.library = ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
        self.functions = {}
        for dtype, name, scalar in ((_F32, sgemm, ctypes.c_float), (_F64, dgemm, ctypes.c_double)):
            function = getattr(self.library, name)
            function.restype = None
            function.argtypes = ([ctypes.c_int] * 3 + [integer] * 3 + [scalar, ctypes.c_void_p, integer,
                                 ctypes.c_void_p, integer, scalar, ctypes.c_void_p, integer])
            self.functions[dtype] = function

    def gemm(self, a: Any, b: Any) -> Any:
        dtype = a.dtype
        function = self.functions.get(dtype)
        if function is None or b.dtype != dtype or a.ndim != 2 or b.ndim != 2:
            return None
        m, k = a.shape
        n = b.shape[1]
        if k != b.shape[0] or not (m and n and k):
            return None
        a_trans, lda = _layout(a)
        b_trans, ldb = _layout(b)
        if a_trans is None or b_trans is None:
            return None
        out = np.empty((m, n), dtype)
        function(_ROW_MAJOR, a_trans, b_trans, m, n, k, 1.0, a.ctypes.data, lda, b.ctypes.data, ldb,
                 0.0, out.ctypes.data, n)
        return out


def _layout(array: Any) -> tuple:
    """(CBLAS transpose flag, leading dimension) of a 2-D operand, or (None, 0) when its
    strides are neither row- nor column-major."""
    rows, cols = array.shape
    item = array.itemsize
    strides = array.strides
    if strides[1] == item or cols == 1:
        if strides[0] % item == 0 and strides[0] >= cols * item:
            return _NO_TRANS, max(strides[0] // item, cols, 1)
    if strides[0] == item or rows == 1:
        if strides[1] % item == 0 and strides[1] >= rows * item:
            return _TRANS, max(strides[1] // item, rows, 1)
    return None, 0


def _mkl_path() -> str | None:
    """MKL's runtime library as the ``mkl`` wheel installs it (in the environment's lib/),
    found without loading anything."""
    for prefix in dict.fromkeys((sys.prefix, sys.base_prefix)):
        for version in (3, 2):
            path = os.path.join(prefix, "lib", f"libmkl_rt.so.{version}")
            if os.path.exists(path):
                return path
    return None


def _numpy_openblas_call(kind: str) -> Any:
    """``openblas_<kind>_num_threads`` of NumPy's bundled OpenBLAS (kind "get" or "set"), or
    None where NumPy has no such library (another BLAS, a build without it)."""
    found = numpy_openblas.function(f"openblas_{kind}_num_threads")
    return None if found is None else found[0]


def _numpy_blas_threads() -> int | None:
    """How many threads NumPy's bundled OpenBLAS runs, if it can be asked."""
    get = _numpy_openblas_call("get")
    return None if get is None else int(get())


def threads() -> int | None:
    """How many threads the large GEMMs run with (MKL's when it runs them, else NumPy's
    OpenBLAS's); None when the library cannot be asked."""
    if _CBLAS is not None and hasattr(_CBLAS.library, "MKL_Get_Max_Threads"):
        return int(_CBLAS.library.MKL_Get_Max_Threads())
    return _numpy_blas_threads()


def set_threads(count: int) -> None:
    """Run GEMMs with ``count`` threads: NumPy's OpenBLAS and, when it runs the large GEMMs,
    MKL, each through its own call (``torch.set_num_threads``)."""
    set_openblas = _numpy_openblas_call("set")
    if set_openblas is not None:
        set_openblas(int(count))
    if _CBLAS is not None and hasattr(_CBLAS.library, "MKL_Set_Num_Threads"):
        _CBLAS.library.MKL_Set_Num_Threads(int(count))


def load_mkl(path: str) -> Cblas:
    """MKL's CBLAS from ``path``, with OpenMP threading where the ``intel-openmp`` wheel is
    installed beside it (sequential otherwise), started with NumPy's BLAS thread count."""
    if "MKL_THREADING_LAYER" not in os.environ:
        threaded = os.path.exists(os.path.join(os.path.dirname(path), "libiomp5.so"))
        os.environ["MKL_THREADING_LAYER"] = "INTEL" if threaded else "SEQUENTIAL"
    import ctypes

    cblas = Cblas(path, "cblas_sgemm", "cblas_dgemm", ctypes.c_int)
    threads = None if "MKL_NUM_THREADS" in os.environ else _numpy_blas_threads()
    if threads:
        cblas.library.MKL_Set_Num_Threads(threads)
    return cblas


def _choose() -> Cblas | None:
    wanted = os.environ.get("CHAINRULE_GEMM", "auto").strip().lower() or "auto"
    if wanted not in ("auto", "numpy", "mkl"):
        warnings.warn(f"CHAINRULE_GEMM={wanted!r} is not 'numpy', 'mkl' or unset: using NumPy's matmul",
                      stacklevel=2)
        return None
    if wanted == "numpy":
        return None
    path = _mkl_path()
    if path is None:
        if wanted == "mkl":
            warnings.warn("CHAINRULE_GEMM=mkl but MKL is not installed (pip install 'chainrule[mkl]'): "
                          "using NumPy's matmul", stacklevel=2)
        return None
    try:
        return load_mkl(path)
    except (OSError, AttributeError) as error:
        if wanted == "mkl":
            warnings.warn(f"CHAINRULE_GEMM=mkl but MKL at {path} does not load ({error}): using NumPy's "
                          "matmul", stacklevel=2)
        return None


_CBLAS: Cblas | None = _choose()


def backend() -> str:
    """Which library runs the large GEMMs: ``"mkl"`` or ``"numpy"``."""
    return "mkl" if _CBLAS is not None else "numpy"


def matmul(a: Any, b: Any, gemm: Callable | None = None) -> Any:
    """``a @ b`` (NumPy's matmul semantics); a large 2-D float product through the chosen
    library (``gemm``: a :meth:`Cblas.gemm` to use instead, for tests)."""
    if gemm is None:
        if _CBLAS is None:
            return a @ b if a.dtype.kind != "V" else reduced_matmul(a, b)
        gemm = _CBLAS.gemm
    if (type(a) is _ndarray and type(b) is _ndarray and a.ndim == 2 and b.ndim == 2
            and a.shape[0] * a.shape[1] * b.shape[1] >= GEMM_MIN):
        out = gemm(a, b)
        if out is not None:
            return out
    return a @ b if a.dtype.kind != "V" else reduced_matmul(a, b)


def reduced_matmul(a: Any, b: Any) -> Any:
    """A bfloat16 product as PyTorch's CPU kernels compute it: float32 products accumulated
    in float32, rounded once (NumPy's matmul of ml_dtypes' bfloat16 is slow and gives
    float32)."""
    return matmul(a.astype(np.float32), b.astype(np.float32)).astype(a.dtype)


def product(xp: Any, a: Any, b: Any) -> Any:
    """``xp.matmul(a, b)``, through :func:`matmul` when ``xp`` is NumPy (the ops' forward and
    ordinary backward); the Tensor namespace of a create_graph backward records its own."""
    if _CBLAS is None or xp is not np:
        return xp.matmul(a, b) if xp is not np or a.dtype.kind != "V" else reduced_matmul(a, b)
    return matmul(a, b)
