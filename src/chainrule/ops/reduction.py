"""Reductions: sum, mean, prod, amax/amin, max/min along a dim, logsumexp, cumsum.

``axis`` is always a normalised tuple of non-negative dims (or None for all dims); the
backward first restores the reduced dims (``keepdims`` shape) and then broadcasts.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Op, variant
from . import stdselect
from .namespace import plain
from .wirtinger import holomorphic


def normalize_axis(dim: Any, ndim: int) -> tuple | None:
    """``dim`` (int, sequence or None) as a sorted tuple of non-negative axes."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if not dims:
        return None
    out = []
    for d in dims:
        d = int(d)
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-max(ndim, 1)}, "
                f"{max(ndim, 1) - 1}], but got {d})"
            )
        out.append(d % max(ndim, 1))
    if ndim == 0:
        return None
    return tuple(sorted(set(out)))


def keepdims_shape(shape: tuple, axis: tuple | None) -> tuple:
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


def _restore(xp: Any, g: Any, shape: tuple, axis: tuple | None, keepdims: bool) -> Any:
    if not keepdims:
        g = g.reshape(keepdims_shape(shape, axis))
    return xp.broadcast_to(g, shape)


def _count(shape: tuple, axis: tuple | None) -> int:
    count = 1
    for i, n in enumerate(shape):
        if axis is None or i in axis:
            count *= n
    return count


class Sum(Op):
    __slots__ = ("shape", "axis", "keepdims")
    presented_inputs = 1
    derivative = ("d sum(u)/du_i = 1",)

    def forward(self, xp, a, axis, keepdims):
        self.shape, self.axis, self.keepdims = a.shape, axis, keepdims
        if axis is not None:
            self.__class__ = _SUM_DIM  # PyTorch's sum.dim_IntList
        kind = a.dtype.kind
        if kind == "V":  # bfloat16: accumulated in float32 and rounded once, as PyTorch's
            return a.sum(axis=axis, keepdims=keepdims, dtype=xp.float32).astype(a.dtype)
        out = a.sum(axis=axis, keepdims=keepdims)
        if kind in "biu" and out.dtype.kind in "biu":
            out = out.astype(xp.int64)
        return out

    def backward(self, xp, g):
        return _restore(xp, g, self.shape, self.axis, self.keepdims)


class Mean(Op):
    __slots__ = ("shape", "axis", "keepdims")
    presented_inputs = 1

    derivative = ("d mean(u)/du_i = 1/N",)

    def forward(self, xp, a, axis, keepdims):
        self.shape, self.axis, self.keepdims = a.shape, axis, keepdims
        if axis is not None:
            self.__class__ = _MEAN_DIM
        if a.dtype.kind == "V":  # bfloat16: accumulated in float32 and rounded once, as PyTorch's
            return a.mean(axis=axis, keepdims=keepdims, dtype=xp.float32).astype(a.dtype)
        return a.mean(axis=axis, keepdims=keepdims)

    def backward(self, xp, g):
        count = _count(self.shape, self.axis)
        return _restore(xp, g / count if count else g, self.shape, self.axis, self.keepdims)


class Prod(Op):
    __slots__ = ("axis", "keepdims")
    presented_inputs = 1

    derivative = ("d prod(u)/du_i = prod_{j != i} u_j",)

    def forward(self, xp, a, axis, keepdims):
        if axis is not None:
            self.__class__ = _PROD_DIM
        if a.dtype.kind == "c":
            self.__class__ = holomorphic(type(self), a)
        out = a.prod(axis=axis, keepdims=keepdims)
        self.axis, self.keepdims = axis, keepdims
        self.saved = (a, out)
        return out

    def backward(self, xp, g):
        a, out = self.saved
        shape = a.shape
        g = _restore(xp, g, shape, self.axis, self.keepdims)
        out = _restore(xp, out, shape, self.axis, self.keepdims)
        if not plain(xp) or not (a == 0).any():
            return g * out / a
        return g * _product_of_others(xp, a, self.axis)


def _product_of_others(xp: Any, a: Any, axis: tuple | None) -> Any:
    """prod_{j != i} a_j along the reduced axes, exact where a has zeros (exclusive
    cumulative products from both sides)."""
    if axis is None:
        flat = a.reshape(-1)
        return _product_of_others_1d(xp, flat).reshape(a.shape)
    keep = [i for i in range(a.ndim) if i not in axis]
    moved = xp.transpose(a, keep + list(axis))
    lead = moved.shape[: len(keep)]
    flat = moved.reshape(lead + (-1,))
    others = _product_of_others_1d(xp, flat)
    others = others.reshape(moved.shape)
    inverse = [int(i) for i in np.argsort(keep + list(axis))]
    return xp.transpose(others, inverse)


def _product_of_others_1d(xp: Any, x: Any) -> Any:
    ones = xp.ones(x.shape[:-1] + (1,), dtype=x.dtype)
    left = xp.cumprod(xp.concatenate([ones, x[..., :-1]], axis=-1), axis=-1)
    right = xp.flip(xp.cumprod(xp.flip(xp.concatenate([x[..., 1:], ones], axis=-1), -1), axis=-1), -1)
    return left * right


# The nodes of the reductions over given dims (made once: forward takes them per call).
_SUM_DIM = variant(Sum, "SumBackward1")
_MEAN_DIM = variant(Mean, "MeanBackward1")
_PROD_DIM = variant(Prod, "ProdBackward1")


class Amax(Op):
    """amax/amin and max()/min() over all dims: the gradient is shared evenly by ties."""

    __slots__ = ("axis", "keepdims")
    presented_inputs = 1
    derivative = ("d max(u)/du_i = [u_i = max] / #ties",)

    def forward(self, xp, a, axis, keepdims, largest):
        out = a.max(axis=axis, keepdims=keepdims) if largest else a.min(axis=axis, keepdims=keepdims)
        self.axis, self.keepdims = axis, keepdims
        self.saved = (a, out)
        return out

    def backward(self, xp, g):
        a, out = self.saved
        shape = a.shape
        out = _restore(xp, out, shape, self.axis, self.keepdims)
        mask = self._ties(a, out)
        ties = mask.sum(axis=self.axis, keepdims=True)
        g = _restore(xp, g, shape, self.axis, self.keepdims)
        return g * mask / ties

    @staticmethod
    def _ties(a: Any, out: Any) -> Any:
        return a == out


class Median(Amax):
    """The lower median of all elements; like max, its gradient is shared evenly by the
    elements equal to it (PyTorch's median() does the same; median(dim) picks one)."""

    __slots__ = ()
    derivative = ("d median(u)/du_i = [u_i = median] / #ties",)

    def forward(self, xp, a):
        flat = a.reshape(-1)
        nan = flat != flat
        # A NaN makes the median NaN, as in PyTorch (NumPy would sort it to the end).
        out = flat[nan][0] if nan.any() else xp.sort(flat)[(flat.shape[0] - 1) // 2]
        self.axis, self.keepdims = None, False
        self.saved = (a, out)
        return out

    @staticmethod
    def _ties(a: Any, out: Any) -> Any:
        return (a == out) | ((a != a) & (out != out))


class LogSumExp(Op):
    """Always keeps the reduced dims (callers squeeze), so the saved output is the output
    tensor itself and the backward stays differentiable through it."""

    __slots__ = ("axis",)
    presented_inputs = 1
    pytorch_name = "LogsumexpBackward0"
    derivative = ("d logsumexp(u)/du_i = softmax(u)_i",)

    def forward(self, xp, a, axis):
        # Over an empty dim the max has no identity; the sum of exps is 0 and the result -inf.
        peak = a.max(axis=axis, keepdims=True) if a.size else xp.zeros(keepdims_shape(a.shape, axis), a.dtype)
        peak = xp.where(xp.isfinite(peak), peak, 0)
        out = xp.log(xp.exp(a - peak).sum(axis=axis, keepdims=True)) + peak
        self.axis = axis
        self.saved = (a, out)
        return out

    def backward(self, xp, g):
        a, out = self.saved
        return g * xp.exp(a - out)


def _reversed_cumsum(xp: Any, a: Any, axis: int) -> Any:
    """``sum_{j >= i} a_j`` along ``axis``: the adjoint of a cumulative sum."""
    return xp.flip(xp.cumsum(xp.flip(a, axis), axis=axis), axis)


class Cumsum(Op):
    __slots__ = ("axis",)
    presented_inputs = 1
    derivative = ("d cumsum(u)_k/du_i = [i <= k]",)

    def forward(self, xp, a, axis):
        self.axis = axis
        out = xp.cumsum(a, axis=axis) if a.ndim else a.copy()
        if a.dtype.kind in "biu":
            out = out.astype(xp.int64)
        return out

    def backward(self, xp, g):
        axis = self.axis
        if g.ndim == 0:
            return g
        return _reversed_cumsum(xp, g, axis)


class _Scan(Op):
    """A running reduction along ``axis`` (a 0-d input is its own result); the backward gets
    the input, the output and the gradient of a non-scalar (``scan_backward``)."""

    __slots__ = ("axis",)
    presented_inputs = 1

    def forward(self, xp, a, axis):
        self.axis = axis
        if a.dtype.kind == "c":
            self.__class__ = holomorphic(type(self), a)
        out = self.scan(xp, a, axis) if a.ndim else a.copy()
        self.saved = (a, out)
        return out

    def backward(self, xp, g):
        if g.ndim == 0:
            return g
        a, out = self.saved
        return self.scan_backward(xp, g, a, out, self.axis)


class Cumprod(_Scan):
    __slots__ = ()
    derivative = ("d cumprod(u)_k/du_i = prod_{j <= k, j != i} u_j for i <= k",)

    @staticmethod
    def scan(xp, a, axis):
        return xp.cumprod(a, axis=axis)

    @staticmethod
    def scan_backward(xp, g, a, out, axis):
        if not plain(xp) or not (a == 0).any():
            return _reversed_cumsum(xp, g * out, axis) / a
        # Zeros: prod over j <= k, j != i, directly (one cumulative product per position).
        a_last, g_last = xp.moveaxis(a, axis, -1), xp.moveaxis(g, axis, -1)
        grad = xp.empty_like(a_last)
        for i in range(a_last.shape[-1]):
            others = a_last.copy()
            others[..., i] = 1
            grad[..., i] = (g_last[..., i:] * xp.cumprod(others, axis=-1)[..., i:]).sum(axis=-1)
        return xp.moveaxis(grad, -1, axis)


class CumExtremeIndices(Op):
    """For ``cummax`` (``largest``) and ``cummin``: the index of the running extreme along
    ``axis``, the latest position where it was reached (a NaN, once met, is the extreme, as in
    PyTorch).  Never differentiable: the values are gathered at these indices."""

    __slots__ = ()
    differentiable = False

    def forward(self, xp, a, axis, largest):
        if a.ndim == 0:
            return xp.zeros((), dtype=np.int64)
        running = (xp.maximum if largest else xp.minimum).accumulate(a, axis=axis)
        shape = [1] * a.ndim
        shape[axis] = a.shape[axis]
        positions = xp.arange(a.shape[axis]).reshape(shape)
        reached = a == running
        if a.dtype.kind in "fcV":
            reached |= xp.isnan(a)
        return xp.maximum.accumulate(xp.where(reached, positions, 0), axis=axis).astype(np.int64)


class LogCumSumExp(_Scan):
    """``log(cumsum(exp(u)))`` along ``axis``, without overflow (``logaddexp`` accumulated)."""

    __slots__ = ()
    pytorch_name = "LogcumsumexpBackward0"
    derivative = ("d out_k/du_i = exp(u_i - out_k) for i <= k",)

    @staticmethod
    def scan(xp, a, axis):
        return xp.logaddexp.accumulate(a, axis=axis)

    @staticmethod
    def scan_backward(xp, g, a, out, axis):
        if not plain(xp):  # (create_graph: the direct form, its sums reversed with flips)
            return xp.exp(a) * _reversed_cumsum(xp, g * xp.exp(-out), axis)
        # sum_{k >= i} g_k exp(u_i - out_k), the positive and the negative g apart, each as a
        # reversed log-cumsum-exp of log|g_k| - out_k: no exp overflows.
        with np.errstate(divide="ignore"):
            positive = xp.log(xp.where(g > 0, g, 0)) - out
            negative = xp.log(xp.where(g < 0, -g, 0)) - out

        def reversed_lcse(v):
            return xp.flip(xp.logaddexp.accumulate(xp.flip(v, axis), axis=axis), axis)

        return xp.exp(a + reversed_lcse(positive)) - xp.exp(a + reversed_lcse(negative))


class Argmax(Op):
    __slots__ = ()
    differentiable = False

    def forward(self, xp, a, axis, keepdims, largest):
        if a.dtype.kind == "b":
            raise RuntimeError(f"{'argmax' if largest else 'argmin'}(): does not support bool input")
        if axis is None or a.ndim == 0:
            index = a.argmax() if largest else a.argmin()
            out = xp.asarray(index, dtype=xp.int64)
            return out.reshape((1,) * a.ndim) if keepdims else out
        out = a.argmax(axis=axis) if largest else a.argmin(axis=axis)
        out = out.astype(xp.int64, copy=False)
        return xp.expand_dims(out, axis) if keepdims else out


class Argsort(Op):
    """The indices that sort ``a`` along ``axis`` (stable; largest first with
    ``descending``), as int64.  An op of its own, never differentiable, so that sort, argsort
    and topk are captured by a plan (``chainrule.compiler``) rather than computed beside the
    ops."""

    __slots__ = ()
    differentiable = False

    def forward(self, xp, a, axis, descending):
        return stable_argsort(xp, a, axis, descending)


def stable_argsort(xp: Any, a: Any, axis: int, descending: bool) -> Any:
    """The stable sorting order of ``a`` along ``axis`` as int64 (equal values in their order)."""
    if not descending:
        return xp.argsort(a, axis=axis, kind="stable").astype(xp.int64, copy=False)
    # Largest first, ties in their order (no negation: it breaks unsigned, bool and the
    # most negative integer): the ascending stable order of the reversed array, reversed,
    # mapped back; NaN sorts as the largest, first, as in PyTorch.
    n = a.shape[axis]
    backwards = xp.flip(xp.argsort(xp.flip(a, axis), axis=axis, kind="stable"), axis)
    return (n - 1 - backwards).astype(xp.int64, copy=False)


class TopkIndices(Op):
    """The indices of the ``k`` largest (``largest``) or smallest values along ``axis``, as
    PyTorch's CPU kernel picks them: a stable argsort's first ``k`` where that is the one
    answer (the top ``k + 1`` values all distinct), and PyTorch's own selection algorithm
    (``ops.stdselect``) for NumPy rows where equal values make the choice.  Never
    differentiable (topk gathers its values through these)."""

    __slots__ = ()
    differentiable = False

    def forward(self, xp, a, k, axis, largest, sorted):
        order = xp.moveaxis(stable_argsort(xp, a, axis, largest), axis, -1)
        top = order[..., :k]
        if k == 0 or xp is not np or a.dtype.kind not in "fiu":
            return xp.ascontiguousarray(xp.moveaxis(top, -1, axis))
        rows = np.moveaxis(a, axis, -1)
        head = np.take_along_axis(rows, order[..., :k + 1], axis=-1)
        tied = head[..., 1:] == head[..., :-1]
        if a.dtype.kind == "f":
            tied |= np.isnan(head[..., 1:]) & np.isnan(head[..., :-1])
        if tied.any():
            shape, rows = top.shape, rows.reshape(-1, rows.shape[-1])
            top = top.reshape(-1, k).copy()
            for at in np.flatnonzero(tied.reshape(len(top), -1).any(axis=1)):
                _, ranks = np.unique(rows[at], return_inverse=True)  # equal values (and NaNs) share a rank
                keys = (ranks.max() - ranks) if largest else ranks
                top[at] = stdselect.topk_row(keys.reshape(-1).tolist(), k, sorted)
            top = top.reshape(shape)
        return xp.ascontiguousarray(xp.moveaxis(top, -1, axis))


class Truth(Op):
    """``any`` or ``all`` (``how``) over ``axis`` (None: every element), as booleans.  Never
    differentiable; an op so that a compiled plan reduces each call's values."""

    __slots__ = ()
    arguments = "unary"
    differentiable = False

    def forward(self, xp, a, how, axis, keepdims):
        return xp.asarray(getattr(a, how)(axis=axis, keepdims=keepdims))


class SearchSorted(Op):
    """Where each of ``values`` would go in the sorted last dim of ``boundaries`` (one row for
    all values when ``boundaries`` is 1-D, else row by row), as ``dtype``.  Never
    differentiable; an op so that a compiled plan searches again at each call."""

    __slots__ = ()
    differentiable = False

    def forward(self, xp, boundaries, values, side, dtype):
        if boundaries.ndim == 1:
            out = xp.searchsorted(boundaries, values, side=side)
        else:
            rows_b = boundaries.reshape(-1, boundaries.shape[-1])
            rows_v = values.reshape(-1, values.shape[-1])
            out = xp.stack([xp.searchsorted(b, v, side=side) for b, v in zip(rows_b, rows_v)]).reshape(values.shape)
        return xp.asarray(out, dtype=dtype)


class Var(Op):
    """Variance with ``correction`` (Bessel's for 1); the backward is PyTorch's var_backward,
    including its inf/NaN when ``N - correction <= 0``."""

    __slots__ = ("axis", "keepdims", "correction")
    presented_inputs = 1
    derivative = ("d var(u)/du_i = 2 (u_i - mean(u)) / (N - correction)",)

    def forward(self, xp, a, axis, keepdims, correction):
        if a.dtype.kind not in "fcV":
            raise RuntimeError("std and var only support floating point and complex dtypes")
        self.axis, self.keepdims, self.correction = axis, keepdims, correction
        self.saved = (a,)
        centered = a - a.mean(axis=axis, keepdims=True)
        squares = (centered * centered).sum(axis=axis, keepdims=keepdims)
        return squares / max(_count(a.shape, axis) - correction, 0)

    def backward(self, xp, g):
        a = self.saved[0]
        g = _restore(xp, g, a.shape, self.axis, self.keepdims)
        centered = a - a.mean(axis=self.axis, keepdims=True)
        dof = _count(a.shape, self.axis) - self.correction
        if self.axis is None and dof <= 0:
            return g * xp.where(centered == 0, float("nan"), float("inf"))
        return g * centered * (2.0 / dof if dof else float("inf"))


class Std(Var):
    """sqrt(var); the gradient is 0 (not NaN) where the std is 0, as in PyTorch."""

    __slots__ = ()
    derivative = ("d std(u)/du_i = (u_i - mean(u)) / ((N - correction) std(u))",)

    def forward(self, xp, a, axis, keepdims, correction):
        out = xp.sqrt(Var.forward(self, xp, a, axis, keepdims, correction))
        self.saved = (a, out)
        return out

    def backward(self, xp, g):
        out = self.saved[1]
        g = xp.where(out == 0, 0.0, g / (2 * xp.where(out == 0, 1.0, out)))
        return Var.backward(self, xp, g)


class Norm2(Op):
    """The 2-norm; its gradient is 0 (not NaN) where the norm is 0, as in PyTorch."""

    __slots__ = ("axis", "keepdims")
    presented_inputs = 1
    pytorch_name = "LinalgVectorNormBackward0"
    derivative = ("d ||u||/du = u / ||u||",)

    def forward(self, xp, a, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims
        out = xp.sqrt((a * a).sum(axis=axis, keepdims=keepdims))
        self.saved = (a, out)
        return out

    def backward(self, xp, g):
        a, out = self.saved
        shape = a.shape
        g = _restore(xp, g, shape, self.axis, self.keepdims)
        out = _restore(xp, out, shape, self.axis, self.keepdims)
        safe = xp.where(out == 0, 1.0, out)
        return xp.where(out == 0, 0.0, g * a / safe)


class PNorm(Op):
    """The p-norm for p other than 0, 1, 2 and ±inf: ``sum(|u|^p)^(1/p)``.  Its gradient is
    ``sign(u) |u|^(p-1) / ||u||^(p-1)``, and 0 (not NaN) where the norm is 0, as in PyTorch."""

    __slots__ = ("axis", "keepdims", "p")
    presented_inputs = 1
    pytorch_name = "LinalgVectorNormBackward0"
    derivative = ("d ||u||_p/du = sign(u) |u|^(p-1) / ||u||_p^(p-1)",)

    def forward(self, xp, a, p, axis, keepdims):
        self.axis, self.keepdims, self.p = axis, keepdims, p
        with np.errstate(divide="ignore"):  # p < 0: a zero element makes the sum inf, the norm 0
            out = (xp.abs(a) ** p).sum(axis=axis, keepdims=keepdims) ** (1.0 / p)
        self.saved = (a, out)
        return out

    def backward(self, xp, g):
        a, out = self.saved
        shape, p = a.shape, self.p
        g = _restore(xp, g, shape, self.axis, self.keepdims)
        out = _restore(xp, out, shape, self.axis, self.keepdims)
        safe = xp.where(out == 0, 1.0, out)
        magnitude = xp.where(a == 0, 1.0, xp.abs(a))  # sign(0) = 0 makes the term 0 even for p < 1
        return xp.where(out == 0, 0.0, g * xp.sign(a) * magnitude ** (p - 1) / safe ** (p - 1))
