"""Scaled dot-product attention as one node: ``softmax(q k^T * scale + mask) @ v``.

Forward is two batched GEMMs around a softmax computed in place; backward is four GEMMs
around the softmax's backward, fused (``ds = p * (dp - rowsum(g * out))``: the row sums of
``dp * p`` equal those of ``g * out``, which are narrower). Multi-head attention and the
transformer layers spend their attention time here.
"""
from __future__ import annotations

import functools
import math

import numpy as _np

from ..autograd.function import Op
from .elementwise import sum_to_shape
from .namespace import plain as _plain


@functools.lru_cache(maxsize=16)
def _causal_bias(rows: int, cols: int, dtype: _np.dtype) -> _np.ndarray:
    """0 on and below the diagonal, -inf above: query i sees keys 0..i (top-left aligned,
    as PyTorch's ``is_causal``). Made once per shape; read-only, since it is shared."""
    bias = _np.triu(_np.full((rows, cols), -_np.inf, dtype=dtype), 1)
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
    runs a strided loop, not BLAS, on a transposed right operand."""
    if _plain(xp):
        return xp.ascontiguousarray(xp.swapaxes(a, -1, -2))
    return xp.swapaxes(a, -1, -2)


def _softmax_rows_(xp, scores):
    """Softmax over the last axis, in place (a row of -inf gives NaN, as in PyTorch)."""
    with _np.errstate(invalid="ignore"):
        scores -= scores.max(axis=-1, keepdims=True)
    xp.exp(scores, out=scores)
    scores /= scores.sum(axis=-1, keepdims=True)
    return scores


class Attention(Op):
    """``softmax(q @ k^T * scale + bias) [* keep] @ v`` for ``q`` (..., L, D), ``k`` (..., S, D)
    and ``v`` (..., S, Dv): ``mask`` a boolean (True: may attend) or float (added) array
    broadcasting to (..., L, S) or None, ``causal`` masks keys after each query, and
    ``keep`` (dropout's scaled mask of the weights) or None."""

    __slots__ = ("scale", "causal")
    pytorch_name = "ScaledDotProductFlashAttentionForCpuBackward0"
    presented_inputs = 4
    derivative = (
        "d out/dq = (P * (G V^T - rowsum(G * out))) K * scale",
        "d out/dk = (P * (G V^T - rowsum(G * out)))^T Q * scale",
        "d out/dv = P^T G",
        "d out/dmask = P * (G V^T - rowsum(G * out))",
    )

    def forward(self, xp, q, k, v, mask, scale, causal, keep):
        self.scale, self.causal = scale, causal
        scores = xp.matmul(q, _contiguous_transpose(xp, k))
        scores *= scale
        if causal:
            scores += xp.asarray(_causal_bias(q.shape[-2], k.shape[-2], scores.dtype))
        if mask is not None:
            bias = _bias_of(xp, mask, scores.dtype)
            if xp.broadcast_shapes(scores.shape, bias.shape) == scores.shape:
                scores += bias
            else:
                scores = scores + bias
        weights = _softmax_rows_(xp, scores)
        out = xp.matmul(weights if keep is None else weights * keep, v)
        self.saved = (q, k, v, mask, keep, weights, out)
        return out

    def _weights(self, xp, q, k, mask):
        """The attention weights as a function of the Tensors q, k (and a float mask),
        recorded: what a backward that records itself (create_graph) differentiates again."""
        scores = xp.matmul(q, xp.swapaxes(k, -1, -2)) * self.scale
        dtype = scores._data.dtype
        if self.causal:
            scores = scores + _causal_bias(q.shape[-2], k.shape[-2], dtype)
        if mask is not None:
            scores = scores + (_bias_of(_np, mask._data, dtype) if mask._data.dtype == bool else mask)
        # Softmax is unchanged by a constant shift per row: the row maxima, as constants.
        with _np.errstate(invalid="ignore"):
            e = xp.exp(scores - scores._data.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def backward(self, xp, g):
        q, k, v, mask, keep, weights, out = self.saved
        if not _plain(xp):
            weights = self._weights(xp, q, k, mask)
        dq = dk = dv = dmask = None
        if self.needs_grad(2):
            dropped = weights if keep is None else weights * keep
            dv = sum_to_shape(xp.matmul(xp.swapaxes(dropped, -1, -2), g), v.shape)
        if self.needs_grad(0) or self.needs_grad(1) or self.needs_grad(3):
            dp = xp.matmul(g, _contiguous_transpose(xp, v))
            if keep is not None:
                dp = dp * keep
            ds = weights * (dp - (g * out).sum(axis=-1, keepdims=True))
            if self.needs_grad(3):
                dmask = sum_to_shape(ds, mask.shape)
            ds = ds * self.scale
            if self.needs_grad(0):
                dq = sum_to_shape(xp.matmul(ds, k), q.shape)
            if self.needs_grad(1):
                dk = sum_to_shape(xp.matmul(xp.swapaxes(ds, -1, -2), q), k.shape)
        return dq, dk, dv, dmask
