"""``chainrule.linalg``: the norms of ``torch.linalg`` (vector and matrix), through the
reductions in ``functional``; ``inv``, ``solve``, ``cholesky``, ``eigh`` and ``svd`` (NumPy's
LAPACK, with their gradients); ``cross``, ``det``, ``slogdet``, ``matrix_power``."""
from __future__ import annotations

import builtins
from collections import namedtuple
from typing import Any

import numpy

from . import functional as F
from . import tensor_namespace
from .autograd.grad_mode import no_grad
from .composites import det, linalg_cross as cross, matrix_power, slogdet
from .dtypes import finfo
from .ops import decompositions as _decompositions
from .ops import linalg as _ops
from .ops.linalg import LinAlgError
from .tensor import Tensor

__all__ = ["norm", "vector_norm", "matrix_norm", "inv", "solve", "cross", "det", "slogdet", "matrix_power",
           "cholesky", "eigh", "eigvalsh", "svd", "svdvals", "pinv", "matrix_rank", "LinAlgError"]

eigh_result = namedtuple("eigh", ["eigenvalues", "eigenvectors"])
svd_result = namedtuple("svd", ["U", "S", "Vh"])

tensor_namespace.extend(_ops.namespace_functions())  # (solve's backward under create_graph)

_INF = float("inf")
_SCALAR_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def vector_norm(x: Tensor, ord: Any = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The ``ord``-norm of ``x`` as a vector (over ``dim``, or over all its elements)."""
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    if dtype is not None:
        x = x.to(dtype)
    if not x.is_floating_point():
        name = str(x.dtype).rsplit(".", 1)[-1]
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as input. "
                           f"Got {_SCALAR_NAMES.get(name, name)}")
    return F.norm(x, ord, dim, keepdim)


def matrix_norm(A: Tensor, ord: Any = "fro", dim: tuple = (-2, -1), keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """The ``ord``-norm of the matrices in ``A`` (over the two dims ``dim``): 'fro', or the
    max/min absolute row (ord=±inf) or column (ord=±1) sum."""
    if dtype is not None:
        A = A.to(dtype)
    if A.dim() < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    rows, cols = (d % A.dim() for d in dim)
    if ord == "fro":
        return F.norm(A, "fro", (rows, cols), keepdim)
    if ord in (_INF, -_INF, 1, -1):
        summed, reduced = (cols, rows) if ord in (_INF, -_INF) else (rows, cols)
        sums = F.sum(F.abs(A), summed, keepdim=True)
        extreme = F.amax if ord > 0 else F.amin
        out = extreme(sums, reduced, keepdim=True)
        return out if keepdim else F.squeeze(F.squeeze(out, builtins.max(rows, cols)), builtins.min(rows, cols))
    raise NotImplementedError(f"linalg.matrix_norm: ord={ord!r} (it needs singular values) is not supported")


def norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """A vector norm when ``dim`` is one dim (or ``A`` is 1-D), a matrix norm when ``dim``
    is two dims (or ``A`` is 2-D and ``ord`` is given); the 2-norm of all of ``A`` when
    neither ``ord`` nor ``dim`` is given."""
    if dim is not None and not isinstance(dim, (tuple, list)):
        dim = (dim,)
    if ord is None:
        if dim is not None and len(dim) == 2:
            return matrix_norm(A, "fro", tuple(dim), keepdim, dtype=dtype)
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if dim is None:
        if A.dim() not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                               f"Got {A.dim()}D.")
        dim = tuple(range(A.dim()))
    if len(dim) == 2:
        return matrix_norm(A, ord, tuple(dim), keepdim, dtype=dtype)
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)


def inv(A: Tensor) -> Tensor:
    """``A^-1`` of (batches of) square matrices; a singular one raises :class:`LinAlgError`."""
    return _ops.Inverse.apply(A)


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """The Cholesky factor ``L`` (``A = L L^T``, from ``A``'s lower triangle) of (batches of)
    symmetric positive-definite matrices; ``upper``: ``L^T``.  A matrix that is not positive-definite
    raises :class:`LinAlgError` naming the first leading minor that is not."""
    factor = _decompositions.Cholesky.apply(A)
    return factor.mT if upper else factor


def eigh(A: Tensor, UPLO: str = "L") -> Any:
    """The eigenvalues (ascending) and orthonormal eigenvectors (columns) of (batches of)
    symmetric matrices, read from the ``UPLO`` ('L' or 'U') triangle: ``(eigenvalues, eigenvectors)``."""
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    both = _decompositions.Eigh.apply(A, UPLO)
    return eigh_result(both[..., 0, :], both[..., 1:, :])


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues (ascending) of (batches of) symmetric matrices."""
    return eigh(A, UPLO).eigenvalues


def svd(A: Tensor, full_matrices: bool = True) -> Any:
    """``(U, S, Vh)`` with ``A = U diag(S) Vh``, S descending, of (batches of) matrices: reduced
    (``full_matrices=False``: U (m, k), Vh (k, n), k = min(m, n)) or full (U (m, m), Vh (n, n)).
    The gradient comes through U's and Vh's first k columns/rows and S, as PyTorch's."""
    m, n = A.shape[-2], A.shape[-1]
    k = builtins.min(m, n)
    u_columns, vh_rows = (m, n) if full_matrices else (k, k)
    packed = _decompositions.Svd.apply(A, bool(full_matrices))
    batch = tuple(A.shape[:-2])
    return svd_result(packed[..., :m * u_columns].reshape(batch + (m, u_columns)),
                      packed[..., m * u_columns:m * u_columns + k],
                      packed[..., m * u_columns + k:].reshape(batch + (vh_rows, n)))


def svdvals(A: Tensor) -> Tensor:
    """The singular values (descending) of (batches of) matrices."""
    return svd(A, full_matrices=False).S


def _cutoff(shape: tuple, dtype: Any, atol: Any, rtol: Any) -> Any:
    """``cutoff(values)``: the singular values (or absolute eigenvalues) counted as zero are
    those at or below max(atol, rtol * largest); with neither given, PyTorch's default
    rtol = eps * max(m, n)."""
    if isinstance(atol, Tensor):
        atol = atol.detach().numpy()[..., None]
    if isinstance(rtol, Tensor):
        rtol = rtol.detach().numpy()[..., None]
    if atol is None and rtol is None:
        rtol = finfo(dtype).eps * builtins.max(shape[-2], shape[-1])

    def cutoff(values: Any) -> Any:
        largest = values.max(axis=-1, keepdims=True) if values.shape[-1] else values.sum(axis=-1, keepdims=True)
        relative = largest * (0.0 if rtol is None else rtol)
        return relative if atol is None else numpy.maximum(relative, atol)

    return cutoff


def pinv(A: Tensor, *, atol: Any = None, rtol: Any = None, hermitian: bool = False) -> Tensor:
    """The Moore-Penrose pseudo-inverse of (batches of) matrices: singular values at or below
    max(atol, rtol * the largest) count as zero (see :func:`matrix_rank`)."""
    return _decompositions.PseudoInverse.apply(A, _cutoff(tuple(A.shape), A.dtype, atol, rtol), bool(hermitian))


def matrix_rank(A: Tensor, *, atol: Any = None, rtol: Any = None, hermitian: bool = False) -> Tensor:
    """The number of singular values above max(atol, rtol * the largest), as int64."""
    with no_grad():
        values = eigh(A).eigenvalues.abs() if hermitian else svdvals(A)
        limit = _cutoff(tuple(A.shape), A.dtype, atol, rtol)(values._data)
        return (values > Tensor._wrap(limit.astype(values._data.dtype))).sum(-1)


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """``X`` with ``A X = B`` (``left=False``: ``X A = B``); ``B`` is a batch of vectors when it
    has one dimension less than ``A`` and its shape is ``A``'s without the last dim, as PyTorch
    reads it."""
    if not left:
        return solve(A.mT, B.mT).mT
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    return _ops.Solve.apply(A, B, vector)
