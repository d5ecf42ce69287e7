"""The LU factorization with partial pivoting and the matrix exponential, with their gradients
(``torch.linalg.lu_factor`` and ``matrix_exp``): the factorization by LAPACK's getrf from the
OpenBLAS NumPy bundles where there is one, else written with NumPy alone."""
from __future__ import annotations

from typing import Any

import numpy

from .. import numpy_openblas
from ..autograd.function import Op
from ..dtypes import not_implemented
from .decompositions import _plain_only, _triangular_solve
from .elementwise import sum_to_shape
from .linalg import _scalar, _square_batches, _transposed
from .namespace import plain


#: The panel width of the blocked factorization: columns eliminated one by one before one
#: triangular solve and one matrix product update the rest.
_PANEL = 32


def lu_factor_arrays(a: Any) -> tuple:
    """``(LU, pivots, info)`` of (batches of) matrices ``a`` as LAPACK getrf gives them: L's
    strict lower triangle and U packed in LU; pivots 1-based int32 (row i was swapped with row
    pivots[i]); info the 1-based index of the first zero pivot (0 for none).  Blocked as getrf:
    within a panel of columns, column by column (vectorised over the batch) with the first
    largest |value| of the column as pivot, elimination going on past a zero pivot as LAPACK's;
    then U's rows right of the panel by one triangular solve and the rest by one product.
    LAPACK's own getrf runs instead where NumPy's OpenBLAS provides it (the same algorithm,
    compiled: 20-100x faster on small matrices)."""
    factored = numpy_openblas.getrf(a)
    if factored is not None:
        return factored
    lu = numpy.array(a, copy=True)
    m, n = lu.shape[-2], lu.shape[-1]
    k = min(m, n)
    batch = lu.shape[:-2]
    lu = lu.reshape((-1, m, n))
    rows = numpy.arange(lu.shape[0])
    pivots = numpy.zeros((lu.shape[0], k), dtype=numpy.int32)
    info = numpy.zeros(lu.shape[0], dtype=numpy.int32)
    for start in range(0, k, _PANEL):
        stop = min(start + _PANEL, k)
        for j in range(start, stop):
            column = lu[:, j:, j]
            # (LAPACK's izamax compares |re| + |im| of complex entries)
            size = numpy.abs(column.real) + numpy.abs(column.imag) if lu.dtype.kind == "c" else numpy.abs(column)
            p = j + numpy.argmax(size, axis=-1)
            pivots[:, j] = p + 1
            swapped = lu[rows, p].copy()  # (whole rows: the columns left and right of the panel too)
            lu[rows, p] = lu[:, j]
            lu[:, j] = swapped
            pivot = lu[:, j, j]
            zero = pivot == 0
            info = numpy.where(zero & (info == 0), j + 1, info).astype(numpy.int32)
            with numpy.errstate(divide="ignore", invalid="ignore"):
                # (LAPACK scales by the pivot's reciprocal; a zero pivot's column is all zeros and stays)
                reciprocal = numpy.where(zero, 1, 1 / numpy.where(zero, 1, pivot)).astype(lu.dtype)
            lu[:, j + 1:, j] *= reciprocal[:, None]
            lu[:, j + 1:, j + 1:stop] -= lu[:, j + 1:, j, None] * lu[:, j, None, j + 1:stop]
        if stop < n:
            unit_lower = numpy.tril(lu[:, start:stop, start:stop], -1) + numpy.eye(stop - start, dtype=lu.dtype)
            lu[:, start:stop, stop:] = numpy.linalg.solve(unit_lower, lu[:, start:stop, stop:])
            lu[:, stop:, stop:] -= lu[:, stop:, start:stop] @ lu[:, start:stop, stop:]
    return lu.reshape(batch + (m, n)), pivots.reshape(batch + (k,)), info.reshape(batch)


def permutation_arrays(pivots: Any, m: int, dtype: Any) -> Any:
    """The permutation matrices ``P`` (m, m) of LAPACK's row swaps ``pivots`` (1-based):
    ``A = P L U``."""
    batch = pivots.shape[:-1]
    orders = []
    # (the swaps one by one on Python lists: a NumPy call per swap costs ten times more)
    for swaps in (pivots.reshape((-1, pivots.shape[-1])).astype(numpy.int64) - 1).tolist():
        order = list(range(m))  # order[i]: the row of A that ends up in row i of P^T A
        for j, p in enumerate(swaps):
            order[j], order[p] = order[p], order[j]
        orders.append(order)
    rows = numpy.arange(len(orders))
    permutation = numpy.zeros((len(orders), m, m), dtype=dtype)
    permutation[rows[:, None], numpy.array(orders, dtype=numpy.int64).reshape(len(orders), m),
                numpy.arange(m)[None, :]] = 1
    return permutation.reshape(batch + (m, m))


def _solve_upper(xp: Any, upper: Any, b: Any) -> Any:
    return xp.linalg.solve(xp.triu(upper), b)


def _right(solve: Any, xp: Any, a: Any, b: Any) -> Any:
    """``b a^-T`` through ``solve(a, b^T)^T``."""
    return _transposed(xp, solve(xp, a, _transposed(xp, b)))


class LuFactor(Op):
    """The packed LU factor of ``A = P L U`` (computed ahead by :func:`lu_factor_arrays`, which
    also gives the pivots); its gradient PyTorch's, for square, wide and tall A."""

    __slots__ = ()
    presented_inputs = 1
    pytorch_name = "LinalgLuFactorExBackward0"
    derivative = ("d A = P L^-T (tril(L^T gL, -1) + triu(gU U^T)) U^-T (square; wide and tall A by blocks)",)

    def forward(self, xp, a, lu, pivots):
        self.saved = (lu, pivots.copy())
        return lu.copy()

    def backward(self, xp, g):
        _plain_only(xp, "linalg.lu_factor")
        lu, pivots = self.saved
        m, n = lu.shape[-2], lu.shape[-1]
        k = min(m, n)
        lower = xp.tril(lu[..., :, :k], -1) + xp.eye(m, k, dtype=lu.dtype)
        upper = xp.triu(lu[..., :k, :])
        g_lower, g_upper = xp.tril(g[..., :, :k], -1), xp.triu(g[..., :k, :])
        mm = xp.matmul
        if m == n:
            inner = xp.tril(mm(_transposed(xp, lower), g_lower), -1) + xp.triu(mm(g_upper, _transposed(xp, upper)))
            inner = _right(_solve_upper, xp, upper, inner)  # X U^-T
            grad = xp.linalg.solve(_transposed(xp, lower), inner)
        elif m < n:  # A = P L [U1 | U2]
            inner = mm(_transposed(xp, lower), g_lower) - mm(g_upper, _transposed(xp, upper))
            inner = _right(_solve_upper, xp, upper[..., :, :k], xp.tril(inner, -1))
            inner = xp.concatenate([inner + g_upper[..., :, :k], g_upper[..., :, k:]], axis=-1)
            grad = xp.linalg.solve(_transposed(xp, lower), inner)
        else:  # A = P [L1; L2] U
            inner = mm(g_upper, _transposed(xp, upper)) - mm(_transposed(xp, lower), g_lower)
            inner = xp.linalg.solve(_transposed(xp, lower[..., :k, :]), xp.triu(inner))
            inner = xp.concatenate([inner + g_lower[..., :k, :], g_lower[..., k:, :]], axis=-2)
            grad = _right(_solve_upper, xp, upper, inner)
        return mm(permutation_arrays(pivots, m, lu.dtype), grad), None, None


def _lu_solve(xp: Any, lu: Any, permutation: Any, b: Any, adjoint: bool) -> Any:
    """``A^-1 b`` (``adjoint``: ``A^-T b``) for ``A = P L U`` packed in ``lu``."""
    lower = xp.tril(lu, -1) + xp.eye(lu.shape[-1], dtype=lu.dtype)
    upper = xp.triu(lu)
    if adjoint:  # A^T = U^T L^T P^T
        halfway = _triangular_solve(xp, _transposed(xp, upper), b, False)
        return xp.matmul(permutation, _triangular_solve(xp, _transposed(xp, lower), halfway, True))
    halfway = _triangular_solve(xp, lower, xp.matmul(_transposed(xp, permutation), b), False)
    return _triangular_solve(xp, upper, halfway, True)


class LuSolve(Op):
    """``X`` with ``A X = B`` (``adjoint``: ``A^T X = B``) for ``A = P L U`` given as
    ``lu_factor``'s packed LU and pivots; batch dims broadcast."""

    __slots__ = ("adjoint", "shapes")
    pytorch_name = "LinalgLuSolveBackward0"
    derivative = ("d B = A^-T G (adjoint: A^-1 G)",
                  "d LU = tril(P^T gA U^T, -1) + triu(L^T P^T gA), gA = -gB X^T (adjoint: -X gB^T)")

    def forward(self, xp, lu, b, pivots, adjoint):
        permutation = permutation_arrays(pivots, lu.shape[-1], lu.dtype)
        out = _lu_solve(xp, lu, permutation, b, adjoint)
        self.adjoint, self.shapes = adjoint, (lu.shape, b.shape)
        self.saved = (lu, permutation, out)
        return out

    def backward(self, xp, g):
        _plain_only(xp, "linalg.lu_solve")
        lu, permutation, x = self.saved
        shape_lu, shape_b = self.shapes
        g_b = _lu_solve(xp, lu, permutation, g, not self.adjoint)
        g_a = -xp.matmul(x, _transposed(xp, g_b)) if self.adjoint else -xp.matmul(g_b, _transposed(xp, x))
        lower = xp.tril(lu, -1) + xp.eye(lu.shape[-1], dtype=lu.dtype)
        permuted = xp.matmul(_transposed(xp, permutation), g_a)
        g_lu = xp.tril(xp.matmul(permuted, _transposed(xp, xp.triu(lu))), -1) + \
            xp.triu(xp.matmul(_transposed(xp, lower), permuted))
        return sum_to_shape(g_lu, tuple(shape_lu)), sum_to_shape(g_b, tuple(shape_b)), None, None


# -- the matrix exponential -----------------------------------------------------------------------

#: Higham's Padé coefficients b_0 .. b_m and the 1-norm up to which degree m is accurate in
#: double precision ("The scaling and squaring method for the matrix exponential revisited", 2005).
_PADE = {3: (1.495585217958292e-2, (120.0, 60.0, 12.0, 1.0)),
         5: (2.539398330063230e-1, (30240.0, 15120.0, 3360.0, 420.0, 30.0, 1.0)),
         7: (9.504178996162932e-1, (17297280.0, 8648640.0, 1995840.0, 277200.0, 25200.0, 1512.0, 56.0, 1.0)),
         9: (2.097847961257068, (17643225600.0, 8821612800.0, 2075673600.0, 302702400.0, 30270240.0, 2162160.0,
                                 110880.0, 3960.0, 90.0, 1.0)),
         13: (5.371920351148152, (64764752532480000.0, 32382376266240000.0, 7771770303897600.0,
                                  1187353796428800.0, 129060195264000.0, 10559470521600.0, 670442572800.0,
                                  33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0))}


def _pade(a: Any, degree: int) -> Any:
    """The degree-``degree`` Padé approximant ``q(a)^-1 p(a)`` of exp at (batches of) ``a``."""
    b = _PADE[degree][1]
    eye = numpy.broadcast_to(numpy.eye(a.shape[-1], dtype=a.dtype), a.shape)
    a2 = a @ a
    if degree < 13:
        powers = [eye, a2]
        while len(powers) <= degree // 2:
            powers.append(powers[-1] @ a2)
        odd = a @ sum(b[2 * i + 1] * powers[i] for i in range(len(powers)))
        even = sum(b[2 * i] * powers[i] for i in range(len(powers)))
    else:
        a4 = a2 @ a2
        a6 = a4 @ a2
        odd = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * eye)
        even = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * eye
    return numpy.linalg.solve(even - odd, even + odd)


def matrix_exp_array(a: Any) -> Any:
    """``exp(a)`` of (batches of) square matrices by scaling and squaring: the lowest Padé
    degree accurate at the batch's largest 1-norm, or degree 13 after halving each matrix
    s times (its own s) and squaring the result back s times.  Computed in double precision."""
    work = a.astype(numpy.complex128 if a.dtype.kind == "c" else numpy.float64)
    if work.shape[-1] == 0 or work.size == 0:
        return work.astype(a.dtype)
    norms = numpy.abs(work).sum(axis=-2).max(axis=-1)
    largest = float(norms.max()) if norms.size else 0.0
    for degree in (3, 5, 7, 9):
        if largest <= _PADE[degree][0]:
            return _pade(work, degree).astype(a.dtype)
    with numpy.errstate(divide="ignore"):
        squarings = numpy.maximum(0, numpy.ceil(numpy.log2(norms / _PADE[13][0]))).astype(numpy.int64)
    out = _pade(work / (2.0 ** squarings)[..., None, None], 13)
    for step in range(int(squarings.max()) if squarings.size else 0):
        out = numpy.where((squarings > step)[..., None, None], out @ out, out)
    return out.astype(a.dtype)


class MatrixExp(Op):
    """``exp(A)`` of (batches of) square matrices; its gradient the upper-right block of the
    exponential of ``[[A^T, G], [0, A^T]]``, as PyTorch's."""

    __slots__ = ()
    arguments = "unary"
    pytorch_name = "LinalgMatrixExpBackward0"
    derivative = ("d A = exp([[A^T, G], [0, A^T]])[:n, n:]",)

    def forward(self, xp, a):
        _square_batches("linalg.matrix_exp", a)
        self.saved = (a,)
        return matrix_exp_array(a)

    def backward(self, xp, g):
        (a,) = self.saved
        n = a.shape[-1]
        a_t = _transposed(xp, a)
        if plain(xp) and a.dtype.kind == "c":  # (complex tensors have no create_graph backward)
            a_t = xp.conj(a_t)
        block = xp.concatenate([xp.concatenate([a_t, g], axis=-1),
                                xp.concatenate([xp.zeros_like(a_t), a_t], axis=-1)], axis=-2)
        exponential = matrix_exp_array(block) if plain(xp) else xp.linalg_matrix_exp(block)
        return exponential[..., :n, n:]


def namespace_functions() -> dict:
    """Tensor-namespace forms, for backward formulas under create_graph."""
    return {"linalg_matrix_exp": MatrixExp.apply}


def lu_input(name: str, a: Any) -> None:
    """PyTorch's checks of an LU factorization's input."""
    if a.ndim < 2:
        raise RuntimeError(f"{name}: Expected tensor with 2 or more dimensions. Got size: {list(a.shape)} instead")
    if a.dtype.kind not in "fc":
        raise not_implemented("lu_cpu", a.dtype)


def same_dtypes(lu: Any, b: Any) -> None:
    """PyTorch's check that ``lu_solve``'s LU and B have one dtype."""
    if lu.dtype != b.dtype:
        raise RuntimeError(f"linalg.lu_solve: Expected LU and B to have the same dtype, but found LU of type "
                           f"{_scalar(lu)} and B of type {_scalar(b)} instead")
