"""Scaled dot-product attention as one node: ``softmax(q k^T * scale + mask) @ v``.

Forward is two batched GEMMs around a softmax; backward is four GEMMs around the softmax's
backward, fused (``ds = p * (dp - rowsum(g * out))``: the row sums of ``dp * p`` equal those
of ``g * out``, which are narrower). Multi-head attention and the transformer layers spend
their attention time here.
"""
from __future__ import annotations

import functools
import math
from typing import Any

import numpy as _np

from ..autograd.function import Op
from ..backend import get_array_module
from .elementwise import sum_to_shape
from .namespace import plain as _plain


@functools.lru_cache(maxsize=16)
def _causal_bias(rows: int, cols: int, dtype: _np.dtype, xp: Any = _np) -> Any:
    """0 on and below the diagonal, -inf above: query i sees keys 0..i (top-left aligned,
    as PyTorch's ``is_causal``). Made once per shape, in the array namespace ``xp`` (on its
    device); read-only on the host, since it is shared."""
    bias = xp.triu(xp.full((rows, cols), -_np.inf, dtype=dtype), 1)
    if xp is _np:
        bias.flags.writeable = False
    return bias


def _bias_of(xp, mask, dtype):
    """An attention mask as a term added to the scores: a boolean one (True: may attend)
    becomes 0 / -inf, a float one is added as it is."""
    if mask.dtype == bool:
        return xp.where(mask, dtype.type(0), dtype.type(-math.inf))
    return mask


def _contiguous_transpose(xp, a):
    """``a`` with its last two axes swapped, laid out contiguously: NumPy's batched matmul
    runs at half speed with a transposed right operand."""
    if _plain(xp):
        return xp.ascontiguousarray(xp.swapaxes(a, -1, -2))
    return xp.swapaxes(a, -1, -2)


def _row_sums(xp, a):
    """Sums over the last axis, kept: one matrix-vector product (BLAS), several times faster
    than NumPy's reduction over many short rows."""
    cols = a.shape[-1]
    return (a.reshape(-1, cols) @ xp.ones(cols, dtype=a.dtype)).reshape(a.shape[:-1] + (1,))


def _row_dots(xp, a, b):
    """``(a * b).sum(-1, keepdims=True)``, without the product's temporary when computing."""
    if _plain(xp):
        return xp.einsum("...i,...i->...", a, b)[..., None]
    return (a * b).sum(axis=-1, keepdims=True)


def _softmax_grad(xp, e, dp, rows):
    """``e * (dp - rows)``, in place in ``dp`` when computing (it is a fresh array)."""
    if not _plain(xp):
        return e * (dp - rows)
    dp -= rows
    dp *= e
    return dp


@functools.lru_cache(maxsize=8)
def _low_sum(dtype: _np.dtype, cols: int) -> float:
    """Below this, a row's sum of ``exp(score - max)`` for a maximum other than its own may
    have lost precision: its largest term may lie within 2**(mantissa bits + 1) of the
    smallest normal number."""
    info = _np.finfo(dtype)
    return cols * float(info.tiny) * 2.0 ** (info.nmant + 1)


def _exp_rows(xp, scores):
    """Softmax over the last axis of the contiguous ``scores`` (which it shifts in place), as
    the exponentials and the reciprocals of their row sums (the weights are their product:
    the caller scales the narrower ``weights @ v`` instead).

    Each (L, S) matrix is shifted by its own maximum (one reduction over contiguous memory,
    where per-row maxima are NumPy's slow reduction over short rows); the few rows whose
    exponentials then sum so low that precision may have been lost (far below their
    matrix's maximum, or masked entirely) are redone with their own maximum. A NaN score
    stays in its row; a row masked entirely gets weights of zero, as in PyTorch."""
    rows, cols = scores.shape[-2], scores.shape[-1]
    if scores.size == 0:
        return scores, xp.ones(scores.shape[:-1] + (1,), dtype=scores.dtype)
    mats = scores.reshape(-1, rows * cols)
    with _np.errstate(invalid="ignore"):
        mats -= xp.fmax.reduce(mats, axis=1)[:, None]
    e = xp.exp(scores)
    sums = _row_sums(xp, e)
    low = (sums < _low_sum(scores.dtype, cols)).reshape(-1)
    if not low.any():
        return e, 1 / sums
    again = scores.reshape(-1, cols)[low]
    top = again.max(axis=1, keepdims=True)
    again -= xp.where(top == -math.inf, 0, top)  # a row masked entirely: exp gives zeros
    again = xp.exp(again)
    e.reshape(-1, cols)[low] = again
    sums.reshape(-1)[low] = again.sum(axis=1)
    with _np.errstate(divide="ignore"):
        inv = 1 / sums
    inv[sums == 0] = 0  # weights of zero, as PyTorch gives a row with nothing to attend to
    return e, inv


class Attention(Op):
    """``softmax(q @ k^T * scale + bias) [* keep] @ v`` for ``q`` (..., L, D), ``k`` (..., S, D)
    and ``v`` (..., S, Dv): ``mask`` a boolean (True: may attend) or float (added) array
    broadcasting to (..., L, S) or None, ``causal`` masks keys after each query, and
    ``keep`` (dropout's scaled mask of the weights) or None."""

    __slots__ = ("scale", "causal")
    pytorch_name = "ScaledDotProductFlashAttentionForCpuBackward0"
    presented_inputs = 4
    derivative = (
        "d out/dq = (P * (G V^T - rowsum(G * out))) K * scale, P = softmax(Q K^T * scale + mask)",
        "d out/dk = (P * (G V^T - rowsum(G * out)))^T Q * scale",
        "d out/dv = P^T G",
        "d out/dmask = P * (G V^T - rowsum(G * out))",
    )

    def forward(self, xp, q, k, v, mask, scale, causal, keep):
        self.scale, self.causal = scale, causal
        scores = xp.matmul(q * scale, _contiguous_transpose(xp, k))
        if causal:
            scores += _causal_bias(q.shape[-2], k.shape[-2], scores.dtype, xp)
        if mask is not None:
            bias = _bias_of(xp, mask, scores.dtype)
            if xp.broadcast_shapes(scores.shape, bias.shape) == scores.shape:
                scores += bias
            else:
                scores = scores + bias
        e, inv = _exp_rows(xp, scores)
        out = xp.matmul(e if keep is None else e * keep, v)
        out *= inv
        self.saved = (q, k, v, mask, keep, e, inv, out)
        return out

    def _weights(self, xp, q, k, mask):
        """The attention weights as a function of the Tensors q, k (and a float mask),
        recorded: what a backward that records itself (create_graph) differentiates again."""
        scores = xp.matmul(q, xp.swapaxes(k, -1, -2)) * self.scale
        dtype = scores._data.dtype
        arrays = get_array_module(scores._data)
        if self.causal:
            scores = scores + _causal_bias(q.shape[-2], k.shape[-2], dtype, arrays)
        if mask is not None:
            scores = scores + (_bias_of(arrays, mask._data, dtype) if mask._data.dtype == bool else mask)
        # Softmax is unchanged by a constant shift per row: the row maxima, as constants (0
        # for a row masked entirely, whose weights are zeros).
        top = scores._data.max(axis=-1, keepdims=True)
        e = xp.exp(scores - arrays.where(top == -math.inf, 0, top))
        sums = e.sum(axis=-1, keepdims=True)
        return e / (sums + (sums._data == 0).astype(sums._data.dtype))

    def backward(self, xp, g):
        # With the weights P = E * inv (inv: each row's 1 / sum), the gradient scaled by inv
        # stands in for P's normalisation: no pass over the (L, S) weights to normalise them.
        q, k, v, mask, keep, e, inv, out = self.saved
        if not _plain(xp):
            e, inv = self._weights(xp, q, k, mask), None
        g = g if inv is None else g * inv
        dq = dk = dv = dmask = None
        if self.needs_grad(2):
            dropped = e if keep is None else e * keep
            dv = sum_to_shape(xp.matmul(xp.swapaxes(dropped, -1, -2), g), v.shape)
        if self.needs_grad(0) or self.needs_grad(1) or self.needs_grad(3):
            dp = xp.matmul(g, _contiguous_transpose(xp, v))
            if keep is not None:
                dp = dp * keep
            ds = _softmax_grad(xp, e, dp, _row_dots(xp, g, out))
            if self.needs_grad(3):
                dmask = sum_to_shape(ds, mask.shape)
            if self.needs_grad(0):
                dq = sum_to_shape(xp.matmul(ds, k) * self.scale, q.shape)
            if self.needs_grad(1):
                dk = sum_to_shape(xp.matmul(xp.swapaxes(ds, -1, -2), q) * self.scale, k.shape)
        return dq, dk, dv, dmask
