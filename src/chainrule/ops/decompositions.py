"""Matrix decompositions of (batches of) symmetric matrices with their gradients: the Cholesky
factor and the eigendecomposition (``torch.linalg.cholesky``, ``eigh``), by NumPy's LAPACK."""
from __future__ import annotations

from typing import Any

import numpy

from ..autograd.function import Op
from .linalg import LinAlgError, _square_batches, _transposed


def _plain_only(xp: Any, name: str) -> None:
    if not (xp is numpy or hasattr(xp, "ndarray")):
        raise NotImplementedError(f"{name}: backward with create_graph=True is not supported")


def _not_positive_definite(xp: Any, a: Any) -> LinAlgError:
    """PyTorch's error for the first matrix (of a batch) without a Cholesky factor: it names
    the order of the first leading minor that is not positive-definite."""
    flat = a.reshape((-1,) + a.shape[-2:])
    for index, matrix in enumerate(flat):
        for order in range(1, matrix.shape[-1] + 1):
            try:
                xp.linalg.cholesky(matrix[:order, :order])
            except numpy.linalg.LinAlgError:
                where = f"(Batch element {index}): " if a.ndim > 2 else ""
                return LinAlgError(f"linalg.cholesky: {where}The factorization could not be completed because the "
                                   f"input is not positive-definite (the leading minor of order {order} is not "
                                   "positive-definite).")
    return LinAlgError("linalg.cholesky: The factorization could not be completed because the input is not "
                       "positive-definite.")


class Cholesky(Op):
    """``L`` lower-triangular with ``A = L L^T``, from ``A``'s lower triangle."""

    __slots__ = ()
    arguments = "unary"
    pytorch_name = "LinalgCholeskyExBackward0"
    derivative = ("d A = L^-T Phi(L^T G) L^-1, symmetrised (Phi: the lower triangle, its diagonal halved)",)

    def forward(self, xp, a):
        _square_batches("linalg.cholesky", a)
        try:
            factor = xp.linalg.cholesky(a)
        except numpy.linalg.LinAlgError:
            raise _not_positive_definite(xp, a) from None
        self.saved = (factor,)
        return factor

    def backward(self, xp, g):
        _plain_only(xp, "linalg.cholesky")
        (factor,) = self.saved
        factor_t = _transposed(xp, factor)
        phi = xp.tril(xp.matmul(factor_t, g))
        phi = phi - 0.5 * (xp.eye(phi.shape[-1], dtype=phi.dtype) * phi)  # the diagonal halved
        left = xp.linalg.solve(factor_t, phi)  # L^-T Phi
        grad = _transposed(xp, xp.linalg.solve(factor_t, _transposed(xp, left)))  # L^-T Phi L^-1
        return 0.5 * (grad + _transposed(xp, grad))


class Eigh(Op):
    """The eigenvalues (ascending) and eigenvectors of symmetric matrices, as one array: row 0
    holds the eigenvalues, rows 1..n the eigenvectors (in columns); the functional form splits
    them, so that each part's gradient reaches this node."""

    __slots__ = ()
    presented_inputs = 1
    pytorch_name = "LinalgEighBackward0"
    derivative = ("d A = V (diag(g_w) + skew(V^T g_V) / (w_j - w_i)) V^T",)

    def forward(self, xp, a, uplo):
        _square_batches("linalg.eigh", a)
        values, vectors = xp.linalg.eigh(a, UPLO=uplo)
        self.saved = (values, vectors)
        return xp.concatenate([values[..., None, :], vectors], axis=-2)

    def backward(self, xp, g):
        _plain_only(xp, "linalg.eigh")
        values, vectors = self.saved
        g_values, g_vectors = g[..., 0, :], g[..., 1:, :]
        inner = xp.matmul(_transposed(xp, vectors), g_vectors)
        inner = 0.5 * (inner - _transposed(xp, inner))  # only the rotations of V are free
        gaps = values[..., None, :] - values[..., :, None]  # w_j - w_i
        n = values.shape[-1]
        eye = xp.eye(n, dtype=bool)
        with numpy.errstate(divide="ignore", invalid="ignore"):
            # (no rotation asked for: 0, also between equal eigenvalues, as when only they are used)
            middle = xp.where(eye | (inner == 0), 0, inner / xp.where(eye, 1, gaps))
        middle = middle + eye * g_values[..., None, :]
        return xp.matmul(xp.matmul(vectors, middle), _transposed(xp, vectors)), None
