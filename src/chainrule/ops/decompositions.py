"""Matrix decompositions with their gradients, by NumPy's LAPACK: the Cholesky factor, the
symmetric eigendecomposition, the SVD, the pseudo-inverse, QR, and triangular solves
(``torch.linalg.cholesky``, ``eigh``, ``svd``, ``pinv``, ``qr``, ``solve_triangular``); the
general eigendecomposition (``eig``, without its gradient yet)."""
from __future__ import annotations

from typing import Any

import numpy

from ..autograd.function import Op
from ..backend import to_numpy
from .elementwise import sum_to_shape
from .linalg import LinAlgError, _scalar, _square_batches, _transposed


def _plain_only(xp: Any, name: str) -> None:
    if not (xp is numpy or hasattr(xp, "ndarray")):
        raise NotImplementedError(f"{name}: backward with create_graph=True is not supported")


def _matrices(name: str, a: Any) -> None:
    """PyTorch's checks of a decomposition's input: floating point, at least 2-D."""
    if a.dtype.kind not in "fc":
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got {_scalar(a)}")
    if a.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")


def non_positive_minors(a: Any) -> Any:
    """Per matrix of the batch ``a``: the order of its first leading minor that is not
    positive-definite (LAPACK potrf's ``info``; 0 where the Cholesky factor exists), int32."""
    flat = to_numpy(a).reshape((-1,) + tuple(a.shape[-2:]))
    orders = numpy.zeros(len(flat), dtype=numpy.int32)
    for index, matrix in enumerate(flat):
        for order in range(1, matrix.shape[-1] + 1):
            try:
                numpy.linalg.cholesky(matrix[:order, :order])
            except numpy.linalg.LinAlgError:
                orders[index] = order
                break
    return orders.reshape(tuple(a.shape[:-2]))


def not_positive_definite(a: Any, name: str = "linalg.cholesky") -> LinAlgError:
    """PyTorch's error for the first matrix (of a batch) without a Cholesky factor: it names
    the order of the first leading minor that is not positive-definite."""
    orders = non_positive_minors(a).reshape(-1)
    failing = numpy.flatnonzero(orders)
    if not failing.size:
        return LinAlgError(f"{name}: The factorization could not be completed because the input is not "
                           f"positive-definite.")
    index = int(failing[0])
    where = f"(Batch element {index}): " if a.ndim > 2 else ""
    return LinAlgError(f"{name}: {where}The factorization could not be completed because the input is not "
                       f"positive-definite (the leading minor of order {int(orders[index])} is not positive-definite).")


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
            raise not_positive_definite(a) from None
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
        _matrices("linalg.svd", a)
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


def _tall_qr_gradient(xp: Any, q: Any, r: Any, g_q: Any, g_r: Any) -> Any:
    """d A for ``A = Q R`` with R square (m >= n): ``Q (gR + tril(S) R^-T) + (gQ - Q Q^T gQ) R^-T``,
    S = skew(Q^T gQ) + skew(R gR^T)."""
    q_t = _transposed(xp, q)
    inner = xp.matmul(q_t, g_q)
    rotation = xp.tril(inner - _transposed(xp, inner) + xp.matmul(r, _transposed(xp, g_r))
                       - xp.matmul(g_r, _transposed(xp, r)))
    # X R^-T as (R^-1 X^T)^T
    from_r = _transposed(xp, _triangular_solve(xp, r, _transposed(xp, rotation), True))
    rest = _transposed(xp, _triangular_solve(xp, r, _transposed(xp, g_q - xp.matmul(q, inner)), True))
    return xp.matmul(q, g_r + from_r) + rest


class Qr(Op):
    """``A = Q R`` (Q with orthonormal columns, R upper-triangular; ``mode`` "reduced",
    "complete" or "r"), Q's and R's entries packed along the last dim for the functional form
    to cut apart.  Differentiable as PyTorch's: not for mode "r" (no Q) nor for a complete Q of
    a tall matrix."""

    __slots__ = ("mode",)
    presented_inputs = 1
    pytorch_name = "LinalgQrBackward0"
    derivative = ("d A = Q (gR + tril(S) R^-T) + (gQ - Q Q^T gQ) R^-T, S = skew(Q^T gQ) + skew(R gR^T) "
                  "(a wide A: R = [X | Y], the Y part through Q)",)

    def forward(self, xp, a, mode):
        if mode not in ("reduced", "complete", "r"):
            raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), "
                               f"'r', or 'complete'")
        _matrices("linalg.qr", a)
        self.mode = mode
        q, r = xp.linalg.qr(a, mode="complete" if mode == "complete" else "reduced")
        self.saved = (q, r)
        batch = a.shape[:-2]
        return xp.concatenate([q.reshape(batch + (-1,)), r.reshape(batch + (-1,))], axis=-1)

    def backward(self, xp, g):
        _plain_only(xp, "linalg.qr")
        q, r = self.saved
        m, k, n = q.shape[-2], q.shape[-1], r.shape[-1]
        if self.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                               "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
                               "linalg.qr.")
        if self.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        batch = g.shape[:-1]
        g_q = g[..., :m * k].reshape(batch + (m, k))
        g_r = g[..., m * k:].reshape(batch + (k, n))
        if m >= n:
            return _tall_qr_gradient(xp, q, r, g_q, g_r), None
        # A = Q [X | Y] with X square: X's gradient as a square QR's, Y = Q R_Y linear in Q
        y = xp.matmul(q, r[..., :, m:])
        g_y = g_r[..., :, m:]
        g_x = _tall_qr_gradient(xp, q, r[..., :, :m], g_q + xp.matmul(y, _transposed(xp, g_y)), g_r[..., :, :m])
        return xp.concatenate([g_x, xp.matmul(q, g_y)], axis=-1), None


def _triangular_solve(xp: Any, a: Any, b: Any, upper: bool) -> Any:
    """``a^-1 b`` for triangular ``a`` (only its triangle is read by the caller's masking):
    LAPACK's solver; for a zero on the diagonal, back substitution with IEEE division, so that
    the result holds inf/nan where PyTorch's does instead of raising."""
    try:
        return xp.linalg.solve(a, b)
    except numpy.linalg.LinAlgError:
        pass
    n = a.shape[-1]
    out = xp.zeros(numpy.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:], dtype=b.dtype)
    rows = range(n - 1, -1, -1) if upper else range(n)
    with numpy.errstate(divide="ignore", invalid="ignore"):
        for i in rows:
            known = xp.matmul(a[..., i:i + 1, :], out)  # (the unknown rows are still 0)
            out[..., i, :] = (b[..., i, :] - known[..., 0, :]) / a[..., i, i:i + 1]
    return out


class SolveTriangular(Op):
    """``X`` with ``A X = B`` (``left``) or ``X A = B`` for triangular ``A``, of which only the
    ``upper`` or lower triangle is read (and with ``unitriangular`` not the diagonal, taken as
    ones); batch dims broadcast."""

    __slots__ = ("upper", "left", "unit", "shapes")
    pytorch_name = "LinalgSolveTriangularBackward0"
    derivative = ("d B = A^-T G (left), d A = -d B X^T, on A's triangle",)

    def forward(self, xp, a, b, upper, left, unitriangular):
        for name, m in (("A", a), ("B", b)):
            if m.ndim < 2:
                raise RuntimeError(f"linalg.solve_triangular: The input tensor {name} must have at least 2 dimensions.")
        if a.shape[-1] != a.shape[-2]:
            raise RuntimeError(f"linalg.solve_triangular: A must be batches of square matrices, but they are "
                               f"{a.shape[-2]} by {a.shape[-1]} matrices")
        if (b.shape[-2] if left else b.shape[-1]) != a.shape[-1]:
            raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the equation "
                               f"{'AX = B' if left else 'XA = B'} ({a.shape[-2]}x{a.shape[-1]} and "
                               f"{b.shape[-2]}x{b.shape[-1]})")
        self.upper, self.left, self.unit, self.shapes = upper, left, unitriangular, (a.shape, b.shape)
        tri = self._triangle(xp, a)
        if unitriangular:
            eye = xp.eye(a.shape[-1], dtype=bool)
            tri = xp.where(eye, xp.ones((), dtype=a.dtype), tri)
        if left:
            out = _triangular_solve(xp, tri, b, upper)
        else:  # X A = B  <=>  A^T X^T = B^T
            out = _transposed(xp, _triangular_solve(xp, _transposed(xp, tri), _transposed(xp, b), not upper))
        self.saved = (tri, out)
        return out

    def _triangle(self, xp: Any, a: Any) -> Any:
        return xp.triu(a) if self.upper else xp.tril(a)

    def backward(self, xp, g):
        _plain_only(xp, "linalg.solve_triangular")
        tri, x = self.saved
        shape_a, shape_b = self.shapes
        if self.left:
            g_b = _triangular_solve(xp, _transposed(xp, tri), g, not self.upper)
            g_a = -xp.matmul(g_b, _transposed(xp, x))
        else:
            g_b = _transposed(xp, _triangular_solve(xp, tri, _transposed(xp, g), self.upper))
            g_a = -xp.matmul(_transposed(xp, x), g_b)
        g_a = self._triangle(xp, g_a)
        if self.unit:
            g_a = xp.where(xp.eye(g_a.shape[-1], dtype=bool), xp.zeros((), dtype=g_a.dtype), g_a)
        return sum_to_shape(g_a, shape_a), sum_to_shape(g_b, shape_b), None, None, None


class Eig(Op):
    """The eigenvalues and eigenvectors (columns, unit norm, as LAPACK geev scales them) of
    general square matrices, complex, packed as :class:`Eigh` packs them.  The gradient is
    PyTorch's (complex gradients in its convention; a real input gets the real part); a loss
    that depends on the eigenvectors' arbitrary phases is refused, as PyTorch refuses it."""

    __slots__ = ("real",)
    presented_inputs = 1
    pytorch_name = "LinalgEigBackward0"
    derivative = ("d A = V^-H (diag(gL) + (V^H gV - V^H V diag(re(V^H gV))) / conj(L_j - L_i)) V^H",)

    def forward(self, xp, a, name="linalg.eig"):
        if a.ndim < 2:
            raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
        if a.dtype.kind not in "fc":
            raise RuntimeError(f"Unknown Complex ScalarType for {_scalar(a)}")
        _square_batches(name, a)
        complex_dtype = numpy.result_type(a.dtype, numpy.complex64)
        values, vectors = numpy.linalg.eig(a)
        out = numpy.concatenate([values[..., None, :], vectors], axis=-2).astype(complex_dtype)
        self.real = a.dtype.kind == "f"
        self.saved = (out,)
        return out

    def backward(self, xp, g):
        _plain_only(xp, "linalg.eig")
        (out,) = self.saved
        values, vectors = out[..., 0, :], out[..., 1:, :]
        grad_values, grad_vectors = g[..., 0, :], g[..., 1:, :]
        vectors_h = numpy.conj(numpy.swapaxes(vectors, -1, -2))
        projected = vectors_h @ grad_vectors
        diagonal = numpy.diagonal(projected, axis1=-2, axis2=-1)
        if not numpy.allclose(diagonal.imag, 0, rtol=1e-2, atol=1e-2):
            raise RuntimeError("linalg_eig_backward: The eigenvectors in the complex case are specified up to "
                               "multiplication by e^{i phi}. The specified loss function depends on this quantity, "
                               "so it is ill-defined.")
        projected = projected - vectors_h @ (vectors * diagonal.real[..., None, :])
        conjugate = numpy.conj(values)
        gaps = conjugate[..., None, :] - conjugate[..., :, None]
        n = values.shape[-1]
        gaps[..., range(n), range(n)] = 1
        inner = projected / gaps
        inner[..., range(n), range(n)] = grad_values
        grad = numpy.linalg.solve(vectors_h, inner @ vectors_h)
        return (grad.real if self.real else grad).astype(g.real.dtype if self.real else g.dtype), None
