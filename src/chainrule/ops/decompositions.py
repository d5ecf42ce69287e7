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


class Svd(Op):
    """The singular value decomposition ``A = U diag(S) Vh`` (S descending; reduced, or with
    ``full`` U and Vh completed to square orthonormal matrices), packed in one array along the
    last dim — U's, S's and Vh's entries in turn — for the functional form to cut apart, so
    that each part's gradient reaches this node.  As in PyTorch, the completing columns of a
    full U or Vh send no gradient."""

    __slots__ = ("full",)
    presented_inputs = 1
    pytorch_name = "LinalgSvdBackward0"
    derivative = ("d A = U [(skew(U^T gU) S + S skew(V^T gV)) / (S_j^2 - S_i^2) + diag(gS)] V^T + the parts "
                  "of gU, gV outside U's and V's columns",)

    def forward(self, xp, a, full):
        if a.dtype.kind not in "fc":
            raise RuntimeError(f"linalg.svd: Expected a floating point or complex tensor as input. Got {a.dtype}")
        if a.ndim < 2:
            raise RuntimeError("linalg.svd: The input tensor A must have at least 2 dimensions.")
        self.full = full
        u, s, vh = xp.linalg.svd(a, full_matrices=full)
        k = s.shape[-1]
        self.saved = (u[..., :, :k], s, vh[..., :k, :])
        batch = a.shape[:-2]
        return xp.concatenate([u.reshape(batch + (-1,)), s, vh.reshape(batch + (-1,))], axis=-1)

    def backward(self, xp, g):
        _plain_only(xp, "linalg.svd")
        u, s, vh = self.saved
        m, k, n = u.shape[-2], s.shape[-1], vh.shape[-1]
        u_columns, vh_rows = (m, n) if self.full else (k, k)
        batch = g.shape[:-1]
        g_u = g[..., :m * u_columns].reshape(batch + (m, u_columns))[..., :, :k]
        g_s = g[..., m * u_columns:m * u_columns + k]
        g_v = _transposed(xp, g[..., m * u_columns + k:].reshape(batch + (vh_rows, n))[..., :k, :])
        v = _transposed(xp, vh)
        skew_u = xp.matmul(_transposed(xp, u), g_u)
        skew_u = skew_u - _transposed(xp, skew_u)
        skew_v = xp.matmul(vh, g_v)
        skew_v = skew_v - _transposed(xp, skew_v)
        squares = s * s
        gaps = squares[..., None, :] - squares[..., :, None]  # S_j^2 - S_i^2
        eye = xp.eye(k, dtype=bool)
        numerator = skew_u * s[..., None, :] + s[..., :, None] * skew_v
        with numpy.errstate(divide="ignore", invalid="ignore"):
            # (no rotation asked for: 0, also between equal singular values, as when only they are used)
            middle = xp.where(eye | (numerator == 0), 0, numerator / xp.where(eye, 1, gaps))
        middle = middle + eye * g_s[..., None, :]
        with numpy.errstate(divide="ignore", invalid="ignore"):
            if m > k:  # gU's part outside U's columns
                g_u_scaled = xp.where(g_u == 0, 0, g_u / s[..., None, :])  # (0 where no gradient is asked)
                outside = g_u_scaled - xp.matmul(u, xp.matmul(_transposed(xp, u), g_u_scaled))
                return xp.matmul(xp.matmul(u, middle) + outside, vh)
            if n > k:  # gV's part outside V's columns
                g_v_scaled = xp.where(g_v == 0, 0, g_v / s[..., None, :])
                outside = g_v_scaled - xp.matmul(v, xp.matmul(vh, g_v_scaled))
                return xp.matmul(u, xp.matmul(middle, vh) + _transposed(xp, outside))
        return xp.matmul(xp.matmul(u, middle), vh)


class PseudoInverse(Op):
    """The Moore-Penrose pseudo-inverse ``A+`` of (batches of) matrices from the SVD (or, for
    ``hermitian``, the eigendecomposition), values at or below ``cutoff`` (per matrix) counted
    as zero; its gradient PyTorch's (exact where the rank does not change)."""

    __slots__ = ()
    presented_inputs = 1
    pytorch_name = "LinalgPinvBackward0"
    derivative = ("d A+ = -A+ dA A+ + A+ A+^T dA^T (I - A A+) + (I - A+ A) dA^T A+^T A+",)

    def forward(self, xp, a, cutoff, hermitian):
        if hermitian:
            values, vectors = xp.linalg.eigh(a)
            keep = xp.abs(values) > cutoff(xp.abs(values))
            inverted = xp.where(keep, 1 / xp.where(keep, values, 1), 0).astype(a.dtype)
            out = xp.matmul(vectors * inverted[..., None, :], _transposed(xp, vectors))
        else:
            u, s, vh = xp.linalg.svd(a, full_matrices=False)
            keep = s > cutoff(s)
            inverted = xp.where(keep, 1 / xp.where(keep, s, 1), 0).astype(a.dtype)
            out = xp.matmul(_transposed(xp, vh) * inverted[..., None, :], _transposed(xp, u))
        self.saved = (a, out)
        return out

    def backward(self, xp, g):
        _plain_only(xp, "linalg.pinv")
        a, pinv = self.saved
        pinv_t, g_t = _transposed(xp, pinv), _transposed(xp, g)
        mm = xp.matmul
        if a.shape[-2] <= a.shape[-1]:
            k = mm(g_t, pinv)
            k_pinv_t = mm(k, pinv_t)
            return (-_transposed(xp, mm(pinv, k)) + k_pinv_t - mm(mm(a, pinv), k_pinv_t)
                    + mm(mm(pinv_t, pinv), g_t - mm(k, a)))
        k = mm(pinv, g_t)
        pinv_t_k = mm(pinv_t, k)
        return (-_transposed(xp, mm(k, pinv)) + mm(mm(g_t - mm(a, k), pinv), pinv_t) + pinv_t_k
                - mm(mm(pinv_t_k, pinv), a))
