"""The decompositions and triangular solves as functional forms: what ``torch.linalg``'s
``svd``, ``qr``, ``pinv`` and ``solve_triangular`` are (the ops in :mod:`.ops.decompositions`
cut into their named parts), and PyTorch's top-level spellings of them, registered with their
Tensor methods: ``torch.svd`` (which returns V, not Vh), ``torch.qr``, ``torch.cholesky``,
``cholesky_solve``, ``cholesky_inverse``, ``pinverse``, ``triangular_solve``, ``chain_matmul``
and ``vander``."""
from __future__ import annotations

import builtins
import warnings
from typing import Any

import numpy

from . import functional as F
from .creation import empty, eye, ones_like, zeros
from .dtypes import finfo
from .ops import decompositions as D
from .registry import public
from .return_types import structseq
from .tensor import Tensor

__all__ = ["svd", "qr", "cholesky", "cholesky_solve", "cholesky_inverse", "pinverse", "triangular_solve",
           "chain_matmul", "vander"]

linalg_svd_result = structseq("linalg_svd", ["U", "S", "Vh"])
svd_result = structseq("svd", ["U", "S", "V"])
linalg_qr_result = structseq("linalg_qr", ["Q", "R"])
qr_result = structseq("qr", ["Q", "R"])
triangular_solve_result = structseq("triangular_solve", ["solution", "cloned_coefficient"])


# -- what torch.linalg builds on ------------------------------------------------------------------

def linalg_svd(A: Tensor, full_matrices: bool = True) -> Any:
    """``(U, S, Vh)`` (see ``linalg.svd``): the packed op's parts."""
    m, n = A.shape[-2], A.shape[-1]
    k = builtins.min(m, n)
    u_columns, vh_rows = (m, n) if full_matrices else (k, k)
    packed = D.Svd.apply(A, bool(full_matrices))
    batch = tuple(A.shape[:-2])
    return linalg_svd_result(packed[..., :m * u_columns].reshape(batch + (m, u_columns)),
                             packed[..., m * u_columns:m * u_columns + k],
                             packed[..., m * u_columns + k:].reshape(batch + (vh_rows, n)))


def singular_cutoff(shape: tuple, dtype: Any, atol: Any, rtol: Any) -> Any:
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


def linalg_pinv(A: Tensor, atol: Any = None, rtol: Any = None, hermitian: bool = False) -> Tensor:
    """The pseudo-inverse (see ``linalg.pinv``)."""
    return D.PseudoInverse.apply(A, singular_cutoff(tuple(A.shape), A.dtype, atol, rtol), bool(hermitian))


def linalg_qr(A: Tensor, mode: str = "reduced") -> Any:
    """``(Q, R)`` (see ``linalg.qr``): the packed op's parts; Q is empty for mode "r"."""
    packed = D.Qr.apply(A, mode)
    m, n = A.shape[-2], A.shape[-1]
    k = m if mode == "complete" else builtins.min(m, n)
    batch = tuple(A.shape[:-2])
    r = packed[..., m * k:].reshape(batch + (k, n))
    q = empty(0, dtype=A.dtype) if mode == "r" else packed[..., :m * k].reshape(batch + (m, k))
    return linalg_qr_result(q, r)


def linalg_solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True,
                            unitriangular: bool = False) -> Tensor:
    """``X`` with ``A X = B`` (or ``X A = B``) for triangular ``A`` (see ``linalg.solve_triangular``)."""
    return D.SolveTriangular.apply(A, B, bool(upper), bool(left), bool(unitriangular))


# -- PyTorch's top-level spellings ----------------------------------------------------------------

@public()
def svd(input: Tensor, some: bool = True, compute_uv: bool = True) -> Any:
    """``(U, S, V)`` with ``input = U diag(S) V^T`` (``linalg.svd`` gives Vh); ``some``: the
    reduced factors; without ``compute_uv`` U and V are zero-filled square matrices."""
    if not compute_uv:
        values = linalg_svd(input, full_matrices=False).S
        batch = tuple(input.shape[:-2])
        m, n = input.shape[-2], input.shape[-1]
        return svd_result(zeros(batch + (m, m), dtype=input.dtype), values, zeros(batch + (n, n), dtype=input.dtype))
    u, s, vh = linalg_svd(input, full_matrices=not some)
    return svd_result(u, s, vh.mT)


@public()
def qr(input: Tensor, some: bool = True) -> Any:
    """``(Q, R)``: ``linalg.qr`` with mode "reduced" (``some``) or "complete"."""
    return qr_result(*linalg_qr(input, "reduced" if some else "complete"))


@public()
def cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """The Cholesky factor (``linalg.cholesky``; ``upper``: U with ``A = U^T U``)."""
    warnings.warn("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a future "
                  "PyTorch release.", UserWarning, stacklevel=2)
    factor = D.Cholesky.apply(input)
    return factor.mT if upper else factor


@public()
def cholesky_solve(input: Tensor, input2: Tensor, upper: bool = False) -> Tensor:
    """``X`` with ``A X = input`` for ``A = L L^T`` given its Cholesky factor ``input2`` (L, or
    U with ``A = U^T U`` when ``upper``): two triangular solves."""
    lower = input2.mT if upper else input2
    halfway = linalg_solve_triangular(lower, input, upper=False)
    return linalg_solve_triangular(lower.mT, halfway, upper=True)


@public()
def cholesky_inverse(input: Tensor, upper: bool = False) -> Tensor:
    """``A^-1`` of ``A = L L^T`` (or ``U^T U``) from its Cholesky factor."""
    n = input.shape[-1]
    identity = eye(n, dtype=input.dtype).expand(tuple(input.shape))
    return cholesky_solve(identity, input, upper)


@public()
def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """The pseudo-inverse, singular values at or below ``rcond`` times the largest counted as zero."""
    return linalg_pinv(input, rtol=rcond)


@public()
def triangular_solve(input: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False) -> Any:
    """``(X, A)`` with ``A X = input`` (``transpose``: ``A^T X = input``) for triangular ``A``."""
    if transpose:
        solution = linalg_solve_triangular(A.mT, input, upper=not upper, unitriangular=unitriangular)
    else:
        solution = linalg_solve_triangular(A, input, upper=upper, unitriangular=unitriangular)
    return triangular_solve_result(solution, A.clone())


@public(method=False)
def chain_matmul(*matrices: Tensor) -> Tensor:
    """The product of the matrices, left to right (``linalg.multi_dot`` of 2-D matrices)."""
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
                  "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than multiple "
                  "parameters.", UserWarning, stacklevel=2)
    if len(matrices) == 1:
        return matrices[0].clone()
    return multi_dot(list(matrices))


def multi_dot(tensors: list) -> Tensor:
    """``tensors[0] @ tensors[1] @ ...``: the first may be a vector (a row), the last a vector
    (a column); the others matrices."""
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    first, last = tensors[0], tensors[-1]
    for i, t in enumerate(tensors):
        allowed = (1, 2) if i in (0, len(tensors) - 1) else (2,)
        if t.dim() not in allowed:
            where = "first" if i == 0 else "last" if i == len(tensors) - 1 else None
            if where:
                raise RuntimeError(f"multi_dot(): the {where} tensor must be 1D or 2D but got {t.dim()}D")
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.dim()}D")
    product = first.unsqueeze(0) if first.dim() == 1 else first
    for t in tensors[1:-1]:
        product = F.matmul(product, t)
    product = F.matmul(product, last.unsqueeze(-1) if last.dim() == 1 else last)
    if first.dim() == 1:
        product = product.squeeze(0)
    if last.dim() == 1:
        product = product.squeeze(-1)
    return product


@public(method=False)
def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix of a 1-D ``x``: columns x^(N-1) ... x^0 (``increasing``: x^0 ... x^(N-1))."""
    if x.dim() != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    columns = linalg_vander(x, N)
    return columns if increasing else columns.flip(-1)


def linalg_vander(x: Tensor, N: int | None = None) -> Tensor:
    """Columns x^0, x^1, ..., x^(N-1) (the last dim of ``x`` made into rows), by running
    products as PyTorch's."""
    count = x.shape[-1] if N is None else N
    if count < 0:
        raise RuntimeError("N must be non-negative.")
    if count == 0:
        return x.new_empty(tuple(x.shape) + (0,))
    ones = ones_like(x).unsqueeze(-1)
    if count == 1:
        return ones
    repeated = x.unsqueeze(-1).expand(tuple(x.shape) + (count - 1,))
    return F.cat([ones, F.cumprod(repeated, -1)], -1)
