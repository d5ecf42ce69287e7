"""The decompositions and triangular solves as functional forms: what ``torch.linalg``'s
``svd``, ``qr``, ``pinv`` and ``solve_triangular`` are (the ops in :mod:`.ops.decompositions`
cut into their named parts), and PyTorch's top-level spellings of them, registered with their
Tensor methods: ``torch.svd`` (which returns V, not Vh), ``torch.qr``, ``torch.cholesky``,
``cholesky_solve``, ``cholesky_inverse``, ``pinverse``, ``triangular_solve``, ``chain_matmul``,
``vander``, the LU forms ``torch.lu``, ``lu_unpack`` and ``lu_solve``, ``matrix_exp``, and the
Householder forms ``geqrf`` and ``orgqr``."""
from __future__ import annotations

import builtins
import warnings
from typing import Any

import numpy

from . import functional as F
from . import tensor_namespace
from .creation import empty, eye, ones_like, zeros
from .dtypes import finfo
from .ops import decompositions as D
from .ops import householder as H
from .ops import lu as LU
from .registry import public
from .return_types import structseq
from .tensor import Tensor

__all__ = ["svd", "qr", "cholesky", "cholesky_solve", "cholesky_inverse", "pinverse", "triangular_solve",
           "chain_matmul", "vander", "lu", "lu_unpack", "lu_solve", "matrix_exp",
           "geqrf", "orgqr"]

tensor_namespace.extend(LU.namespace_functions())  # (matrix_exp's backward under create_graph)

linalg_svd_result = structseq("linalg_svd", ["U", "S", "Vh"])
svd_result = structseq("svd", ["U", "S", "V"])
linalg_qr_result = structseq("linalg_qr", ["Q", "R"])
qr_result = structseq("qr", ["Q", "R"])
triangular_solve_result = structseq("triangular_solve", ["solution", "cloned_coefficient"])
lu_factor_ex_result = structseq("linalg_lu_factor_ex", ["LU", "pivots", "info"])
lu_unpack_result = structseq("lu_unpack", ["P", "L", "U"])
geqrf_result = structseq("geqrf", ["a", "tau"])


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


def linalg_lu_factor_ex(A: Tensor, pivot: bool = True, check_errors: bool = False,
                        name: str = "torch.linalg.lu_factor_ex") -> Any:
    """``(LU, pivots, info)`` (see ``linalg.lu_factor_ex``); ``name``: the form that raises
    for a singular matrix when ``check_errors``."""
    LU.lu_input("torch.lu_factor", A._data)
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    packed, pivots, info = LU.lu_factor_arrays(A._data)
    if check_errors and info.any():
        index = int(numpy.flatnonzero(info.reshape(-1))[0])
        where = f"(Batch element {index}): " if A.dim() > 2 else ""
        k = int(info.reshape(-1)[index])
        raise RuntimeError(f"{name}: {where}U[{k},{k}] is zero and using it on lu_solve would result in a division "
                           f"by zero. If you still want to perform the factorization, consider calling "
                           f"linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")
    return lu_factor_ex_result(LU.LuFactor.apply(A, packed, pivots), Tensor._wrap(pivots), Tensor._wrap(info))


def permutation(pivots: Tensor, m: int, dtype: Any) -> Tensor:
    """The permutation matrices ``P`` (m, m) of LAPACK's 1-based row swaps ``pivots``."""
    return Tensor._wrap(LU.permutation_arrays(pivots._data, m, numpy.dtype(str(dtype).rsplit(".", 1)[-1])))


def linalg_lu_solve(LU_: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True, adjoint: bool = False) -> Tensor:
    """``X`` with ``A X = B`` (``adjoint``: ``A^T X = B``; ``left=False``: ``X A = B`` or
    ``X A^T = B``) for ``A = P L U`` given as ``linalg.lu_factor``'s ``(LU, pivots)``: a
    permutation and two triangular solves, differentiable in LU and B."""
    if B.dim() < 2:
        raise RuntimeError("linalg.lu_solve: The input tensor B must have at least 2 dimensions.")
    if LU_.dim() < 2 or LU_.shape[-1] != LU_.shape[-2]:
        raise RuntimeError(f"torch.linalg.lu_solve: A must be batches of square matrices, but they are "
                           f"{LU_.shape[-2] if LU_.dim() > 1 else 1} by {LU_.shape[-1]} matrices")
    n = LU_.shape[-1]
    if pivots.shape[-1] != n:
        raise RuntimeError("linalg.lu_solve: Number of pivots per batch should be same as the dimension of the matrix")
    if (B.shape[-2] if left else B.shape[-1]) != n:
        raise RuntimeError(f"linalg.lu_solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {B.shape[-2]}x{B.shape[-1]})")
    LU.same_dtypes(LU_._data, B._data)
    if not left:  # X A = B  <=>  A^T X^T = B^T
        return linalg_lu_solve(LU_, pivots, B.mT, adjoint=not adjoint).mT
    return LU.LuSolve.apply(LU_, B, pivots._data, bool(adjoint))


def linalg_householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """The first n columns of ``H_1 ... H_k`` (see ``linalg.householder_product``), by
    applying the reflectors to I from the last, as tensor operations (so differentiable)."""
    name = "torch.linalg.householder_product"
    if A.dim() < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if tau.dim() != A.dim() - 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but got tau.ndim equal to "
                           f"{tau.dim()} and input.ndim is equal to {A.dim()}")
    m, n, k = A.shape[-2], A.shape[-1], tau.shape[-1]
    if m < n:
        raise RuntimeError(f"{name}: input.shape[-2] must be greater than or equal to input.shape[-1]")
    if n < k:
        raise RuntimeError(f"{name}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    if tau.dtype != A.dtype:
        raise RuntimeError(f"{name}: tau dtype {_scalar_name(tau.dtype)} does not match input dtype "
                           f"{_scalar_name(A.dtype)}")
    vectors = F.tril(A, -1)[..., :, :k] + eye(m, k, dtype=A.dtype)
    product = eye(m, n, dtype=A.dtype).expand(tuple(A.shape))
    for i in reversed(range(k)):
        v = vectors[..., :, i:i + 1]
        product = product - tau[..., i, None, None] * (v @ (v.mT @ product))
    return product


def _scalar_name(dtype: Any) -> str:
    name = str(dtype).rsplit(".", 1)[-1]
    return {"float64": "Double", "float32": "Float", "complex64": "ComplexFloat",
            "complex128": "ComplexDouble"}.get(name, name)


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


@public()
def lu(A: Tensor, pivot: bool = True, get_infos: bool = False) -> Any:
    """``(LU, pivots)`` (with ``get_infos``: and info) of ``linalg.lu_factor_ex``; deprecated."""
    warnings.warn("torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex and will be "
                  "removed in a future PyTorch release.\nLU, pivots = torch.lu(A, compute_pivots)\nshould be replaced "
                  "with\nLU, pivots = torch.linalg.lu_factor(A, compute_pivots)\nand\nLU, pivots, info = torch.lu(A, "
                  "compute_pivots, get_infos=True)\nshould be replaced with\nLU, pivots, info = "
                  "torch.linalg.lu_factor_ex(A, compute_pivots)", UserWarning, stacklevel=2)
    factor, pivots, info = linalg_lu_factor_ex(A, pivot)
    return (factor, pivots, info) if get_infos else (factor, pivots)


@public(method=False)
def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True, unpack_pivots: bool = True) -> Any:
    """``(P, L, U)`` of ``A = P L U`` from ``linalg.lu_factor``'s packed ``(LU, pivots)``: L unit
    lower-triangular (m, k), U upper-triangular (k, n), k = min(m, n); L and U (without
    ``unpack_data``) or P (without ``unpack_pivots``) are empty."""
    m, n = LU_data.shape[-2], LU_data.shape[-1]
    k = builtins.min(m, n)
    nothing = LU_data.new_empty((0,))
    P = permutation(LU_pivots, m, LU_data.dtype) if unpack_pivots else nothing
    if not unpack_data:
        return lu_unpack_result(P, nothing, nothing)
    lower = F.tril(LU_data, -1)[..., :, :k] + eye(m, k, dtype=LU_data.dtype)
    return lu_unpack_result(P, lower, F.triu(LU_data)[..., :k, :])


@public()
def lu_solve(input: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:
    """``X`` with ``A X = input`` for ``A`` given as ``linalg.lu_factor``'s ``(LU, pivots)``; deprecated."""
    warnings.warn("torch.lu_solve is deprecated in favor of torch.linalg.lu_solveand will be removed in a future "
                  "PyTorch release.\nNote that torch.linalg.lu_solve has its arguments reversed.\nX = "
                  "torch.lu_solve(B, LU, pivots)\nshould be replaced with\nX = torch.linalg.lu_solve(LU, pivots, B)",
                  UserWarning, stacklevel=2)
    return linalg_lu_solve(LU_data, LU_pivots, input)


@public()
def matrix_exp(A: Tensor) -> Tensor:
    """The matrix exponential of (batches of) square matrices (see ``linalg.matrix_exp``)."""
    return LU.MatrixExp.apply(A)


@public()
def geqrf(input: Tensor) -> Any:
    """``(a, tau)``: the QR factorization as LAPACK geqrf packs it (R in the upper triangle, the
    Householder vectors below it, their scalars in tau); see ``linalg.householder_product``."""
    m, n = input.shape[-2] if input.dim() > 1 else 0, input.shape[-1]
    packed = H.Geqrf.apply(input)
    batch = tuple(input.shape[:-2])
    return geqrf_result(packed[..., :m * n].reshape(batch + (m, n)), packed[..., m * n:])


@public()
def orgqr(input: Tensor, tau: Tensor) -> Tensor:
    """``linalg.householder_product``: Q from geqrf's ``(a, tau)``."""
    return linalg_householder_product(input, tau)
