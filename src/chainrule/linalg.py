"""``chainrule.linalg``: the norms of ``torch.linalg`` (vector and matrix), through the
reductions in ``functional``; ``inv``, ``solve``, ``cholesky``, ``eigh`` and ``svd`` (NumPy's
LAPACK, with their gradients); ``cross``, ``det``, ``slogdet``, ``matrix_power``."""
from __future__ import annotations

import builtins
import math
from typing import Any

import numpy

from . import factorizations as _factorizations
from . import functional as F
from . import tensor_namespace
from .autograd.grad_mode import no_grad
from .composites import det, linalg_cross as cross, matrix_power
from .composites import slogdet as _slogdet
from .ops import decompositions as _decompositions
from .ops import linalg as _ops
from .ops import ldl as _ldl
from .ops import lu as _lu
from .ops.linalg import LinAlgError
from .return_types import structseq
from .tensor import Tensor

__all__ = ["norm", "vector_norm", "matrix_norm", "inv", "solve", "cross", "det", "slogdet", "matrix_power",
           "cholesky", "eigh", "eigvalsh", "svd", "svdvals", "pinv", "matrix_rank", "qr", "solve_triangular", "lstsq",
           "matmul", "diagonal", "multi_dot", "vecdot", "inv_ex", "cholesky_ex", "solve_ex", "cond", "vander",
           "lu_factor", "lu_factor_ex", "lu", "lu_solve", "matrix_exp", "eig", "eigvals", "householder_product",
           "tensorinv", "tensorsolve", "ldl_factor", "ldl_factor_ex", "ldl_solve", "LinAlgError"]

eigh_result = structseq("linalg_eigh", ["eigenvalues", "eigenvectors"])
lstsq_result = structseq("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])
inv_ex_result = structseq("linalg_inv_ex", ["inverse", "info"])
cholesky_ex_result = structseq("linalg_cholesky_ex", ["L", "info"])
solve_ex_result = structseq("linalg_solve_ex", ["result", "info"])
slogdet_result = structseq("linalg_slogdet", ["sign", "logabsdet"])
lu_factor_result = structseq("linalg_lu_factor", ["LU", "pivots"])
lu_result = structseq("linalg_lu", ["P", "L", "U"])
eig_result = structseq("linalg_eig", ["eigenvalues", "eigenvectors"])
ldl_factor_ex_result = structseq("linalg_ldl_factor_ex", ["LD", "pivots", "info"])
ldl_factor_result = structseq("linalg_ldl_factor", ["LD", "pivots"])


def slogdet(A: Tensor) -> Any:
    """``(sign, logabsdet)`` of ``det(A)`` (``torch.slogdet``'s values, as ``linalg_slogdet``)."""
    return slogdet_result(*_slogdet(A))


_LSTSQ_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")

tensor_namespace.extend(_ops.namespace_functions())  # (solve's backward under create_graph)

_INF = float("inf")


def vector_norm(x: Tensor, ord: Any = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The ``ord``-norm of ``x`` as a vector (over ``dim``, or over all its elements)."""
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    if dtype is not None:
        x = x.to(dtype)
    return F.norm(x, ord, dim, keepdim)


def matrix_norm(A: Tensor, ord: Any = "fro", dim: tuple = (-2, -1), keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """The ``ord``-norm of the matrices in ``A`` (over the two dims ``dim``): 'fro', the
    max/min absolute row (ord=±inf) or column (ord=±1) sum, or from the singular values:
    'nuc' (their sum), 2 and -2 (the largest and the smallest)."""
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
    if ord in ("nuc", 2, -2):  # the sum, largest or smallest of the singular values
        moved = F.movedim(A, (rows, cols), (-2, -1))
        values = svdvals(moved)
        out = values.sum(-1) if ord == "nuc" else values.amax(-1) if ord == 2 else values.amin(-1)
        if keepdim:
            out = F.unsqueeze(F.unsqueeze(out, builtins.min(rows, cols)), builtins.max(rows, cols))
        return out
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


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
    return _factorizations.linalg_svd(A, full_matrices)


def svdvals(A: Tensor) -> Tensor:
    """The singular values (descending) of (batches of) matrices."""
    return svd(A, full_matrices=False).S


def pinv(A: Tensor, *, atol: Any = None, rtol: Any = None, hermitian: bool = False) -> Tensor:
    """The Moore-Penrose pseudo-inverse of (batches of) matrices: singular values at or below
    max(atol, rtol * the largest) count as zero (see :func:`matrix_rank`)."""
    return _factorizations.linalg_pinv(A, atol, rtol, hermitian)


def matrix_rank(A: Tensor, *, atol: Any = None, rtol: Any = None, hermitian: bool = False) -> Tensor:
    """The number of singular values above max(atol, rtol * the largest), as int64."""
    with no_grad():
        values = eigh(A).eigenvalues.abs() if hermitian else svdvals(A)
        limit = _factorizations.singular_cutoff(tuple(A.shape), A.dtype, atol, rtol)(values._data)
        return (values > Tensor._wrap(limit.astype(values._data.dtype))).sum(-1)


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """``X`` with ``A X = B`` (``left=False``: ``X A = B``); ``B`` is a batch of vectors when it
    has one dimension less than ``A`` and its shape is ``A``'s without the last dim, as PyTorch
    reads it."""
    if not left:
        return solve(A.mT, B.mT).mT
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    return _ops.Solve.apply(A, B, vector)


def qr(A: Tensor, mode: str = "reduced") -> Any:
    """``(Q, R)`` with ``A = Q R``, Q with orthonormal columns and R upper-triangular, as LAPACK
    (and PyTorch) signs them: ``mode`` "reduced" (Q (m, k), R (k, n), k = min(m, n)),
    "complete" (Q (m, m)) or "r" (R only; Q empty)."""
    return _factorizations.linalg_qr(A, mode)


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True, unitriangular: bool = False) -> Tensor:
    """``X`` with ``A X = B`` (``left=False``: ``X A = B``) for triangular ``A``: only its upper
    (``upper``) or lower triangle is read, its diagonal taken as ones with ``unitriangular``."""
    return _factorizations.linalg_solve_triangular(A, B, upper=upper, left=left, unitriangular=unitriangular)


def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *, driver: str | None = None) -> Any:
    """The least-squares solution of ``A X = B`` (``B`` may be a batch of vectors):
    ``(solution, residuals, rank, singular_values)`` filled as PyTorch's CPU drivers fill them
    ("gelsy" by default: rank only; "gelsd"/"gelss": rank and singular values; all but "gelsy":
    the squared residuals of a tall full-rank A).  The solution is ``pinv(A) B`` (values to
    rounding, and the pseudo-inverse's gradient)."""
    driver = "gelsy" if driver is None else driver
    if driver not in _LSTSQ_DRIVERS:
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of ({', '.join(_LSTSQ_DRIVERS)})")
    if A.dim() < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    vector = B.dim() == A.dim() - 1
    if not vector and B.dim() != A.dim():
        raise RuntimeError("torch.linalg.lstsq: input.dim() must be greater or equal to other.dim() and "
                           "(input.dim() - other.dim()) <= 1")
    rhs = B.unsqueeze(-1) if vector else B
    if rhs.shape[-2] != A.shape[-2]:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    m, n = A.shape[-2], A.shape[-1]
    cutoff = rcond if rcond is not None and rcond > 0 else _eps(A) * builtins.max(m, n)
    solution = pinv(A, rtol=cutoff) @ rhs
    with no_grad():
        rank = matrix_rank(A, rtol=cutoff)
    # (as PyTorch's, every float result is an output of the solve: an empty one too)
    nothing = solution.reshape(-1)[:0]
    residuals = nothing
    if driver != "gelsy" and m > n and (driver == "gels" or bool((rank == n).all())):  # (gels assumes full rank)
        residuals = ((A @ solution - rhs) ** 2).sum(-2)
        if vector:
            residuals = residuals.squeeze(-1)
    return lstsq_result(solution.squeeze(-1) if vector else solution, residuals,
                        rank if driver != "gels" else A.new_empty((0,), dtype=rank.dtype),
                        _singular_values(A) if driver in ("gelsd", "gelss") else A.new_empty((0,)))


def _singular_values(A: Tensor) -> Tensor:
    with no_grad():  # (lstsq's singular values are not differentiable in PyTorch)
        return svdvals(A)


def _eps(A: Tensor) -> float:
    return float(numpy.finfo(A._data.dtype).eps)


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """``torch.matmul``."""
    return F.matmul(input, other)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """``torch.diagonal`` over the last two dims by default."""
    return F.diagonal(A, offset, dim1, dim2)


def multi_dot(tensors: Any) -> Tensor:
    """The product of the tensors (the first may be a row vector, the last a column vector)."""
    return _factorizations.multi_dot(list(tensors))


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """The dot products along ``dim`` (of broadcast ``x`` and ``y``)."""
    for t in (x, y):
        if not (t.is_floating_point() or t.is_complex()):
            raise RuntimeError(f"linalg.vecdot: Expected a floating point or complex tensor as input. Got "
                               f"{_ops._scalar(t._data)}")
    return (x * y).sum(dim)


def inv_ex(A: Tensor, *, check_errors: bool = False) -> Any:
    """``(A^-1, info)``: info per matrix is LAPACK's (0, or the first zero pivot of A's LU
    factorisation); a singular matrix raises with ``check_errors``, else its inverse is NaN."""
    try:
        return inv_ex_result(inv(A), _info(A, 0))
    except LinAlgError:
        pivots = _ops.zero_pivots(A._data)
    if check_errors:
        raise _ops.singular_error("linalg.inv_ex", A._data) from None
    return inv_ex_result(_nan_where(pivots, inv(_identity_where(pivots, A))), Tensor._wrap(pivots))


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False) -> Any:
    """``(L, info)``: info per matrix the order of its first leading minor that is not
    positive-definite (0 for none); it raises with ``check_errors``, else that factor is NaN."""
    try:
        return cholesky_ex_result(cholesky(A, upper=upper), _info(A, 0))
    except LinAlgError:
        orders = _decompositions.non_positive_minors(A._data)
    if check_errors:
        raise _decompositions.not_positive_definite(A._data, "linalg.cholesky_ex") from None
    factor = cholesky(_identity_where(orders, A), upper=upper)
    return cholesky_ex_result(_nan_where(orders, factor), Tensor._wrap(orders))


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False) -> Any:
    """``(X, info)`` of :func:`solve`: info per matrix of ``A`` as :func:`inv_ex`'s; a singular
    ``A`` raises with ``check_errors``, else its solution is NaN."""
    try:
        return solve_ex_result(solve(A, B, left=left), _info(A, 0))
    except LinAlgError:
        pivots = _ops.zero_pivots(A._data)
    if check_errors:
        raise _ops.singular_error("torch.linalg.solve_ex", A._data) from None
    return solve_ex_result(_nan_where(pivots, solve(_identity_where(pivots, A), B, left=left)), Tensor._wrap(pivots))


def _info(A: Tensor, value: int) -> Tensor:
    return Tensor._wrap(numpy.full(tuple(A.shape[:-2]), value, dtype=numpy.int32))


def _identity_where(failed: Any, A: Tensor) -> Tensor:
    """``A`` with the matrices that ``failed`` (non-zero per batch element) replaced by I."""
    mask = Tensor._wrap(failed.astype(bool)[..., None, None])
    return F.where(mask, Tensor._wrap(numpy.eye(A.shape[-1], dtype=A._data.dtype)), A)


def _nan_where(failed: Any, result: Tensor) -> Tensor:
    """``result`` with the batch elements that ``failed`` set to NaN (its batch dims lead)."""
    batch = failed.ndim
    mask = failed.astype(bool).reshape(failed.shape + (1,) * (result.ndim - batch))
    return F.where(Tensor._wrap(mask), float("nan"), result)


def cond(A: Tensor, p: Any = None) -> Tensor:
    """The condition number of (batches of) matrices in the ``p``-norm: the ratio of the largest
    to the smallest singular value for p None, 2 or -2 (any shape); ``norm(A, p) norm(A^-1, p)``
    of square matrices else, inf where A is singular (for 'nuc' from the singular values)."""
    if p is None or p in (2, -2):
        values = svdvals(A)
        ratio = values[..., 0] / values[..., -1]
        return 1 / ratio if p == -2 else ratio
    if A.dim() < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.cond(ord={p}): A must be batches of square matrices, but they are "
                          f"{A.shape[-2] if A.dim() > 1 else 1} by {A.shape[-1]} matrices")
    if p == "nuc":  # (from the singular values, as PyTorch: finite for a singular A)
        values = svdvals(A)
        return values.sum(-1) * values.reciprocal().sum(-1)
    inverse, info = inv_ex(A)
    ratio = matrix_norm(A, p) * matrix_norm(F.where(info.unsqueeze(-1).unsqueeze(-1) > 0, 0.0, inverse), p)
    return F.where(info > 0, float("inf"), ratio)


def vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """The Vandermonde matrices of the last dim of ``x``: columns x^0, x^1, ..., x^(N-1)."""
    if N is not None and N <= 1:
        raise RuntimeError("N must be greater than 1.")
    return _factorizations.linalg_vander(x, N)


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False) -> Any:
    """``(LU, pivots, info)`` of ``A = P L U`` (batches of matrices, rectangular too) by partial
    pivoting as LAPACK getrf: L's strict lower triangle and U packed in LU, the 1-based int32 row
    swaps, and info the first zero pivot of U (0 for none; it raises with ``check_errors``)."""
    return _factorizations.linalg_lu_factor_ex(A, pivot, check_errors)


def lu_factor(A: Tensor, *, pivot: bool = True) -> Any:
    """``(LU, pivots)`` of :func:`lu_factor_ex`; a zero pivot of U raises."""
    factor, pivots, _ = _factorizations.linalg_lu_factor_ex(A, pivot, True, "torch.linalg.lu_factor")
    return lu_factor_result(factor, pivots)


def lu(A: Tensor, *, pivot: bool = True) -> Any:
    """``(P, L, U)`` with ``A = P L U``: P a permutation, L unit lower-triangular (m, k), U
    upper-triangular (k, n), k = min(m, n)."""
    _lu.lu_input("linalg.lu", A._data)
    factor, pivots, _ = _factorizations.linalg_lu_factor_ex(A, pivot)
    return lu_result(*_factorizations.lu_unpack(factor, pivots))


def lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True, adjoint: bool = False) -> Tensor:
    """``X`` with ``A X = B`` for ``A`` given by :func:`lu_factor` (``adjoint``: ``A^H X = B``;
    ``left=False``: ``X A = B``)."""
    return _factorizations.linalg_lu_solve(LU, pivots, B, left=left, adjoint=adjoint)


def matrix_exp(A: Tensor) -> Tensor:
    """The matrix exponential of (batches of) square matrices, by scaling and squaring with Padé
    approximants; its gradient through the exponential of a block matrix, as PyTorch's."""
    return _factorizations.matrix_exp(A)


def eig(A: Tensor) -> Any:
    """``(eigenvalues, eigenvectors)`` of (batches of) general square matrices, complex (the
    eigenvectors columns of unit norm, as LAPACK geev gives them), with PyTorch's gradient."""
    both = _decompositions.Eig.apply(A)
    return eig_result(both[..., 0, :], both[..., 1:, :])


def eigvals(A: Tensor) -> Tensor:
    """The eigenvalues of (batches of) general square matrices, complex."""
    return _decompositions.Eig.apply(A, "linalg.eigvals")[..., 0, :]


def householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """The first n columns of the product of the Householder reflectors ``I - tau_i v_i v_i^T``
    whose vectors are stored below the diagonal of ``A`` (m, n) (LAPACK orgqr: Q of geqrf)."""
    return _factorizations.linalg_householder_product(A, tau)


def tensorinv(A: Tensor, ind: int = 2) -> Tensor:
    """The inverse of ``A`` for :func:`tensordot` over its first ``ind`` dims: A reshaped to a
    square matrix, inverted, reshaped to ``A.shape[ind:] + A.shape[:ind]``."""
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, columns = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    if math.prod(columns) != math.prod(rows):
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {math.prod(columns)} != {math.prod(rows)}")
    return inv(A.reshape(math.prod(rows), math.prod(columns))).reshape(columns + rows)


def tensorsolve(A: Tensor, B: Tensor, dims: Any = None) -> Tensor:
    """``X`` with ``tensordot(A, X, X.ndim) = B`` (``dims``: A's dims moved to the end first)."""
    if dims is not None:
        A = F.movedim(A, tuple(dims), tuple(range(A.dim() - len(dims), A.dim())))
    rows, columns = tuple(A.shape[:B.dim()]), tuple(A.shape[B.dim():])
    if math.prod(columns) != B.numel():  # (PyTorch's message names A's leading dims, its value is B's size)
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
                           f"prod(self.shape[:other.ndim]), but got {math.prod(columns)} != {B.numel()}")
    return solve(A.reshape(math.prod(rows), math.prod(columns)), B.reshape(-1)).reshape(columns)


def ldl_factor_ex(A: Tensor, *, hermitian: bool = False, check_errors: bool = False) -> Any:
    """``(LD, pivots, info)`` of (batches of) symmetric matrices (their lower triangle) by
    Bunch-Kaufman pivoting as LAPACK sytrf: D's 1x1 and 2x2 blocks and L's multipliers in LD,
    the 1-based interchanges (negative for a 2x2 block), info the first zero block of D (0 for
    none; it raises with ``check_errors``).  Not differentiable, as in PyTorch."""
    name = "torch.linalg.ldl_factor_ex"
    if A.dim() < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are {A.shape[-2]} by "
                           f"{A.shape[-1]} matrices")
    packed, pivots, info = _ldl.ldl_factor_arrays(A._data)
    if check_errors:
        _ldl_errors(info, name)
    return ldl_factor_ex_result(_ldl.LdlFactor.apply(A, packed), Tensor._wrap(pivots), Tensor._wrap(info))


def _ldl_errors(info: Any, name: str) -> None:
    # (PyTorch 2.13 fails here with an internal assert, "Unknown error code"; this says what it is)
    if info.any():
        index = int(numpy.flatnonzero(info.reshape(-1))[0])
        where = f"(Batch element {index}): " if info.ndim else ""
        k = int(info.reshape(-1)[index])
        raise LinAlgError(f"{name}: {where}The factorization could not be completed because the block diagonal "
                          f"matrix D is singular: D[{k},{k}] is zero.")


def ldl_factor(A: Tensor, *, hermitian: bool = False) -> Any:
    """``(LD, pivots)`` of :func:`ldl_factor_ex`; a singular D raises."""
    packed, pivots, info = ldl_factor_ex(A, hermitian=hermitian)
    _ldl_errors(info._data, "torch.linalg.ldl_factor")
    return ldl_factor_result(packed, pivots)


def ldl_solve(LD: Tensor, pivots: Tensor, B: Tensor, *, hermitian: bool = False) -> Tensor:
    """``X`` with ``A X = B`` for ``A`` given by :func:`ldl_factor` (LAPACK sytrs); batch dims
    broadcast.  Not differentiable, as in PyTorch."""
    if B.dtype != LD.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type {_ops._scalar(B._data)} "
                           f"and A of type {_ops._scalar(LD._data)} instead.")
    if B.dim() < 2 or B.shape[-2] != LD.shape[-1]:
        rows, columns = (B.shape[-2], B.shape[-1]) if B.dim() > 1 else (1, B.shape[-1])
        raise RuntimeError(f"Incompatible matrix sizes for torch.linalg.ldl_solve: each A matrix is {LD.shape[-2]} by "
                           f"{LD.shape[-1]} but each b matrix is {rows} by {columns}")
    return Tensor._wrap(_ldl.ldl_solve_arrays(LD._data, pivots._data, B._data))
