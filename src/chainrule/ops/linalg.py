"""Matrix products: matmul (1-D, 2-D, batched, broadcast-batched) and the fused linear layer."""
from __future__ import annotations

from typing import Any

import numpy

from ..autograd.function import Op, broadcast_error, variant
from ..backend import to_numpy
from ..dtypes import cpp_name, scalar_name
from ..gemm import product
from .wirtinger import holomorphic, is_complex_gradient
from .elementwise import sum_to_shape


#: PyTorch's node for ``matmul`` by the operands' dimensions (it dispatches to these ops).
_MATMUL_NAMES = {(2, 2): "MmBackward0", (1, 1): "DotBackward0", (2, 1): "MvBackward0",
                 (1, 2): "SqueezeBackward4"}


class Matmul(Op):
    __slots__ = ()
    pytorch_name = "MmBackward0"
    derivative = ("d(A@B)/dA = G @ B^T", "d(A@B)/dB = A^T @ G")
    saved_needed_by = (1, 0)

    def forward(self, xp, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise RuntimeError(
                f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D"
            )
        if a.dtype != b.dtype:  # PyTorch never promotes in a matrix product
            raise _dtype_mismatch(a, b)
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise _mismatch(a.shape, b.shape)
        if a.ndim > 2 or b.ndim > 2:
            try:
                xp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
            except ValueError:
                raise broadcast_error([xp.empty(a.shape[:-2] + (0,)), xp.empty(b.shape[:-2] + (0,))]) from None
        self.saved = (a, b)
        if a.ndim != 2 or b.ndim != 2:
            self.__class__ = variant(Matmul, _MATMUL_NAMES.get((a.ndim, b.ndim), "UnsafeViewBackward0"))
        if a.dtype.kind == "c":
            self.__class__ = holomorphic(type(self), a, b)
        return product(xp, a, b)

    def backward(self, xp, g):
        a, b = self.saved
        a_shape, b_shape = a.shape, b.shape
        # Promote 1-D operands the way matmul does, so one formula covers every case (b's
        # dim first: for 1-D @ 1-D, g is 0-d).
        if len(b_shape) == 1:
            b = b.reshape(tuple(b_shape) + (1,))
            g = xp.expand_dims(g, -1)
        if len(a_shape) == 1:
            a = a.reshape((1,) + tuple(a_shape))
            g = xp.expand_dims(g, -2)
        ga = gb = None
        if self.needs_grad(0):
            ga = product(xp, g, xp.swapaxes(b, -1, -2))
            ga = sum_to_shape(ga, tuple(a.shape)).reshape(a_shape)
        if self.needs_grad(1):
            gb = product(xp, xp.swapaxes(a, -1, -2), g)
            gb = sum_to_shape(gb, tuple(b.shape)).reshape(b_shape)
        return ga, gb


def _mismatch(a: tuple, b: tuple) -> RuntimeError:
    """PyTorch's message for inner dims that differ, which depends on the operands' ranks."""
    if len(a) == 1 and len(b) == 1:
        return RuntimeError(
            f"inconsistent tensor size, expected tensor [{a[0]}] and src [{b[0]}] to have the same "
            f"number of elements, but got {a[0]} and {b[0]} elements respectively"
        )
    rows = 1
    for n in a[:-1]:
        rows *= n
    if len(b) == 1:
        return RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{a[-1]}), vec ({b[0]})")
    if len(b) == 2:
        return RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({_describe((rows, a[-1]) if len(a) > 1 else a)} "
            f"and {_describe(b)})"
        )
    try:
        batch_shape = numpy.broadcast_shapes(a[:-2], b[:-2])
    except ValueError:
        batch_shape = a[:-2] if len(a) > len(b) else b[:-2]
    batch = 1
    for n in batch_shape:
        batch *= n
    inner = a[-1]
    return RuntimeError(
        f"Expected size for first two dimensions of batch2 tensor to be: [{batch}, {inner}] but got: "
        f"[{batch}, {b[-2]}]."
    )


#: How PyTorch's dtype errors name a dtype: the C++ type (mm) and the ScalarType (the others).


def _cpp(array) -> str:
    return cpp_name(array.dtype)


def _scalar(array) -> str:
    return scalar_name(array.dtype)


def _dtype_mismatch(a, b) -> RuntimeError:
    """PyTorch's error for matmul operands of two dtypes: it names the kernel the operands'
    ranks dispatch to (dot, mv, mm, or the batched product)."""
    if a.ndim == 1 and b.ndim == 1:
        return RuntimeError(f"dot : expected both vectors to have same dtype, but found {_scalar(a)} and {_scalar(b)}")
    if b.ndim == 1:
        return RuntimeError(f"addmv input tensors must have the same dtype, but got {_scalar(b)}, {_scalar(a)}, "
                            f"and {_scalar(b)}")
    if b.ndim == 2:
        return RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_cpp(a)} != {_cpp(b)}")
    return RuntimeError(f"expected scalar type {_scalar(a)} but found {_scalar(b)}")


def _describe(shape: tuple) -> str:
    if len(shape) == 1:
        return f"1x{shape[0]}"
    return "x".join(str(n) for n in shape)


def _matrix(a):
    """``a`` (..., n) as the (rows, n) matrix of its last axis (a view when it can be)."""
    rows = 1
    for n in a.shape[:-1]:
        rows *= n
    return a.reshape((rows, a.shape[-1]))


def linear_into(x: Any, weight: Any, bias: Any = None, *, out: Any) -> Any:
    """``x @ weight.T + bias`` written into ``out``: one 2-D GEMM over all leading dims
    (NumPy's stacked matmul runs one per matrix), the bias added in place."""
    if x.ndim > 2:
        numpy.matmul(_matrix(x), weight.T, out.reshape((-1, out.shape[-1])))
    else:
        numpy.matmul(x, weight.T, out)  # (out positionally: NumPy parses it faster)
    if bias is not None:
        out += bias
    return out


class Linear(Op):
    """``x @ weight.T + bias`` in one node: one GEMM forward, two backward, the bias
    gradient as one reduction, and no input gradient when the input needs none."""

    __slots__ = ()
    kernel = staticmethod(linear_into)
    pytorch_name = "AddmmBackward0"
    derivative = ("d(xW^T+b)/dx = G W", "d(xW^T+b)/dW = G^T x", "d(xW^T+b)/db = sum G")
    saved_needed_by = (1, 0)

    def forward(self, xp, x, weight, bias=None):
        # PyTorch's messages: addmm(bias, x, weight.t()) checks the bias first; mm without a bias.
        if bias is not None and bias.dtype != weight.dtype:
            raise RuntimeError(f"self and mat2 must have the same dtype, but got {_scalar(bias)} and {_scalar(weight)}")
        if x.dtype != weight.dtype:
            if bias is None:
                raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_cpp(x)} != {_cpp(weight)}")
            raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_scalar(x)} and {_scalar(weight)}")
        if x.shape[-1] != weight.shape[-1]:
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied ({_describe(x.shape if x.ndim <= 2 else (x.size // x.shape[-1], x.shape[-1]))} "
                f"and {_describe(weight.shape[::-1])})"
            )
        a, w, b = x, weight, bias
        reduced = x.dtype.kind == "V"
        if reduced:  # bfloat16: in float32, the bias added before the one rounding (PyTorch's addmm)
            a, w, b = (None if v is None else v.astype(xp.float32) for v in (x, weight, bias))
        # One 2-D GEMM over all leading dims: NumPy's stacked matmul runs one per matrix.
        out = (product(xp, _matrix(a), w.T).reshape(x.shape[:-1] + weight.shape[:1]) if x.ndim > 2
               else product(xp, a, w.T))
        if b is not None:
            out += b
        if reduced:
            out = out.astype(x.dtype)
        self.saved = (x, weight)
        # PyTorch's node: addmm or mm for a matrix input, a view of a batched product else.
        if x.ndim != 2 or bias is None:
            self.__class__ = _LINEAR_VARIANTS[x.ndim == 2, bias is not None]
        if x.dtype.kind == "c":
            self.__class__ = holomorphic(type(self), x, weight, bias)
        return out

    def presented_indices(self) -> tuple:
        # addmm(bias, input, weight.t()): PyTorch's node lists the bias first.
        return (2, 0, 1) if type(self).__name__ == "AddmmBackward0" else (0, 1)

    def backward(self, xp, g):
        x, weight = self.saved
        gx = gw = gb = None
        if self.needs_grad(0):
            gx = (product(xp, _matrix(g), weight).reshape(tuple(x.shape)) if g.ndim > 2
                  else product(xp, g, weight))
        if self.needs_grad(1) or self.needs_grad(2):
            g2 = _matrix(g) if g.ndim != 2 else g
            if self.needs_grad(1):
                x2 = _matrix(x) if x.ndim != 2 else x
                gw = product(xp, xp.swapaxes(g2, 0, 1), x2)
            if self.needs_grad(2):
                gb = (g2.sum(axis=0) if type(g2) is not numpy.ndarray or g2.dtype.kind != "V"
                      else sum_to_shape(g2, weight.shape[:1]))
        return gx, gw, gb


#: Linear's node when it is not addmm, by (matrix input, bias): PyTorch's mm, or a view of
#: a batched product.
_LINEAR_VARIANTS = {(True, False): variant(Linear, "MmBackward0"),
                    (False, True): variant(Linear, "ViewBackward0"),
                    (False, False): variant(Linear, "UnsafeViewBackward0")}


# -- inverse and linear systems ------------------------------------------------------------------

class LinAlgError(RuntimeError):
    """A linear-algebra routine met a matrix it cannot work with (``torch.linalg.LinAlgError``)."""


def _square_batches(name: str, a: Any) -> None:
    if a.dtype.kind not in "fc":
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {_scalar(a)}")
    if a.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{a.shape[-2]} by {a.shape[-1]} matrices")


def zero_pivot(matrix: Any) -> int:
    """LAPACK getrf's ``info`` for one square matrix: the 1-based index of the first pivot of
    its LU factorization with partial pivoting that is exactly 0 (0 for none).  Elimination
    goes on past a zero pivot, as LAPACK's does."""
    a = numpy.array(to_numpy(matrix), dtype=numpy.float64 if matrix.dtype.kind == "f" else numpy.complex128)
    first = 0
    for k in range(a.shape[0]):
        p = k + int(numpy.argmax(numpy.abs(a[k:, k])))
        if a[p, k] == 0:
            first = first or k + 1
            continue
        a[[k, p]] = a[[p, k]]
        a[k + 1:, k] /= a[k, k]
        a[k + 1:, k + 1:] -= numpy.outer(a[k + 1:, k], a[k, k + 1:])
    return first


def zero_pivots(a: Any) -> Any:
    """:func:`zero_pivot` of each matrix of the batch ``a``, as int32 of the batch's shape."""
    flat = to_numpy(a).reshape((-1,) + tuple(a.shape[-2:]))
    return numpy.array([zero_pivot(m) for m in flat], dtype=numpy.int32).reshape(tuple(a.shape[:-2]))


def singular_error(name: str, a: Any) -> LinAlgError:
    """PyTorch's error for the first singular matrix of ``a`` (an inverse's names its zero pivot)."""
    pivots = zero_pivots(a)
    index = int(numpy.flatnonzero(pivots)[0]) if pivots.any() else 0
    where = f"(Batch element {index}): " if a.ndim > 2 else ""
    if name == "linalg.inv" or name.endswith("inv_ex"):
        pivot = int(pivots.reshape(-1)[index]) if pivots.size else 1
        return LinAlgError(f"{name}: {where}The diagonal element {pivot} is zero, the inversion could not be "
                           f"completed because the input matrix is singular.")
    return LinAlgError(f"{name}: {where}The solver failed because the input matrix is singular.")


def _transposed(xp: Any, a: Any) -> Any:
    return xp.swapaxes(a, -1, -2)


def _solve(xp: Any, a: Any, b: Any) -> Any:
    """``a^-1 b`` for matrices ``b`` (batched): NumPy's solver, or the recorded op."""
    if xp is numpy or hasattr(xp, "ndarray"):
        return xp.linalg.solve(a, b)
    return xp.linalg_solve_matrix(a, b)


class Inverse(Op):
    """``A^-1`` of (batches of) square matrices."""

    __slots__ = ()
    pytorch_name = "LinalgInvExBackward0"
    derivative = ("d A^-1 = -A^-T G A^-T",)

    def forward(self, xp, a):
        _square_batches("linalg.inv", a)
        if a.dtype.kind == "c":
            self.__class__ = holomorphic(Inverse, a)
        try:
            out = xp.linalg.inv(a)
        except numpy.linalg.LinAlgError:
            raise singular_error("linalg.inv", a) from None
        self.saved = (out,)
        return out

    def backward(self, xp, g):
        inverse_t = _transposed(xp, self.saved[0])
        return -xp.matmul(xp.matmul(inverse_t, g), inverse_t)


class Det(Op):
    """``det A`` of (batches of) square matrices; its gradient the adjugate's transpose, taken
    from the singular value decomposition so that a singular matrix has one too."""

    __slots__ = ()
    arguments = "unary"
    pytorch_name = "LinalgDetBackward0"
    derivative = ("d det A/dA = adj(A)^T",)

    def forward(self, xp, a):
        _square_batches("linalg.det", a)
        if a.dtype.kind == "c":
            self.__class__ = holomorphic(Det, a)
        self.saved = (a,)
        return xp.asarray(xp.linalg.det(a), dtype=a.dtype)

    def backward(self, xp, g):
        (a,) = self.saved
        if not (xp is numpy or hasattr(xp, "ndarray")):
            raise NotImplementedError("det: backward with create_graph=True is not supported")
        # A = U S V^T: adj(A)^T = det(U) det(V^T) U diag(prod_{j != i} s_j) V^T (of a complex A,
        # A = U S V^H and adj(A)^T = det(U) det(V^H) conj(U) diag(...) conj(V^H)).
        u, s, vt = xp.linalg.svd(a)
        signs = xp.linalg.det(u) * xp.linalg.det(vt)
        if u.dtype.kind == "c":
            u, vt = xp.conj(u), xp.conj(vt)
        ones = xp.ones(s.shape[:-1] + (1,), dtype=s.dtype)
        before = xp.cumprod(xp.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
        after = xp.flip(xp.cumprod(xp.concatenate([ones, xp.flip(s, -1)[..., :-1]], axis=-1), axis=-1), -1)
        adjugate_t = xp.matmul(u * (before * after)[..., None, :], vt) * signs[..., None, None]
        return g[..., None, None] * adjugate_t


class LogAbsDet(Op):
    """``log |det A|`` of (batches of) square matrices (the second value of slogdet)."""

    __slots__ = ()
    pytorch_name = "LinalgSlogdetBackward0"
    derivative = ("d log|det A|/dA = A^-T",)

    def forward(self, xp, a):
        _square_batches("linalg.slogdet", a)
        _, out = xp.linalg.slogdet(a)
        self.saved = (a,)
        return xp.asarray(out, dtype=a.real.dtype)

    def backward(self, xp, g):
        (a,) = self.saved
        inverse_t = _transposed(xp, Inverse.apply(a) if not (xp is numpy or hasattr(xp, "ndarray")) else
                                _inverse(xp, a))
        if is_complex_gradient(a):  # (log |det A| = Re log det A: A^-H)
            inverse_t = xp.conj(inverse_t)
        return g[..., None, None] * inverse_t


def _inverse(xp: Any, a: Any) -> Any:
    try:
        return xp.linalg.inv(a)
    except numpy.linalg.LinAlgError:
        raise LinAlgError("linalg.slogdet: the gradient of log|det A| is A^-T, and A is singular") from None


class DetSign(Op):
    """The sign of ``det A`` (-1, 0 or 1): piecewise constant, its gradient zero (recorded, as
    PyTorch's slogdet records its sign)."""

    __slots__ = ()
    arguments = "unary"
    pytorch_name = "LinalgSlogdetBackward0"
    derivative = ("d sign(det A)/dA = 0",)

    def forward(self, xp, a):
        _square_batches("linalg.slogdet", a)
        sign, _ = xp.linalg.slogdet(a)
        self.saved = (a,)
        return xp.asarray(sign, dtype=a.dtype)

    def backward(self, xp, g):
        return xp.zeros_like(self.saved[0])


class Solve(Op):
    """``X`` with ``A X = B``: B (..., n, k) or, with ``vector``, (..., n); batch dims broadcast."""

    __slots__ = ("vector", "shapes")
    pytorch_name = "LinalgSolveExBackward0"
    derivative = ("d X/dB = A^-T G", "d X/dA = -(A^-T G) X^T")

    def forward(self, xp, a, b, vector):
        _square_batches("linalg.solve", a)
        if a.dtype.kind == "c":
            self.__class__ = holomorphic(Solve, a, b, None)
        if a.dtype != b.dtype:
            raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                               f"{_scalar(a)} and B of type {_scalar(b)} instead")
        rhs = b[..., None] if vector else b
        if rhs.shape[-2] != a.shape[-1]:
            raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                               f"({a.shape[-2]}x{a.shape[-1]} and {rhs.shape[-2]}x{rhs.shape[-1]})")
        batch = xp.broadcast_shapes(a.shape[:-2], rhs.shape[:-2])
        try:
            x = xp.linalg.solve(xp.broadcast_to(a, batch + a.shape[-2:]), xp.broadcast_to(rhs, batch + rhs.shape[-2:]))
        except numpy.linalg.LinAlgError:
            raise singular_error("torch.linalg.solve", xp.broadcast_to(a, batch + a.shape[-2:])) from None
        self.vector, self.shapes = vector, (a.shape, b.shape)
        out = x[..., 0] if vector else x
        # The output itself is saved (a create_graph backward then sees it with its history).
        self.saved = (a, out)
        return out

    def backward(self, xp, g):
        a, x = self.saved
        if self.vector:
            x = x[..., None]
        a_shape, b_shape = self.shapes
        g = g[..., None] if self.vector else g
        gb = _solve(xp, xp.broadcast_to(_transposed(xp, a), tuple(x.shape[:-2]) + tuple(a_shape[-2:])), g)
        ga = -xp.matmul(gb, _transposed(xp, x)) if self.needs_grad(0) else None
        if ga is not None:
            ga = sum_to_shape(ga, tuple(a_shape))
        if not self.needs_grad(1):
            return ga, None, None
        gb = sum_to_shape(gb, tuple(b_shape) + ((1,) if self.vector else ()))
        return ga, (gb[..., 0] if self.vector else gb), None


def namespace_functions() -> dict:
    """Tensor-namespace forms, for backward formulas under create_graph."""

    def linalg_solve_matrix(a: Any, b: Any) -> Any:
        return Solve.apply(a, b, False)

    return {"linalg_solve_matrix": linalg_solve_matrix}
