"""Householder QR as LAPACK geqrf packs it (``torch.geqrf``), written with NumPy alone."""
from __future__ import annotations

from typing import Any

import numpy

from ..autograd.function import Op


def geqrf_arrays(a: Any) -> tuple:
    """``(a, tau)`` of (batches of) real matrices as LAPACK geqrf gives them: R in the upper
    triangle, the Householder vectors v_i (v_i[i] = 1 implied) below the diagonal, and the
    scalars tau_i with ``A = H_1 ... H_k R``, ``H_i = I - tau_i v_i v_i^T``.  As LAPACK's dlarfg:
    beta = -sign(alpha) ||x||, tau = (beta - alpha) / beta, and tau = 0 where x below alpha is 0."""
    packed = numpy.array(a, copy=True)
    m, n = packed.shape[-2], packed.shape[-1]
    k = min(m, n)
    batch = packed.shape[:-2]
    packed = packed.reshape((-1, m, n))
    tau = numpy.zeros((packed.shape[0], k), dtype=packed.dtype)
    for i in range(k):
        alpha = packed[:, i, i].copy()
        below = packed[:, i + 1:, i]
        below_norm = numpy.sqrt((below * below).sum(axis=-1))
        reflect = below_norm != 0
        beta = -numpy.copysign(numpy.hypot(alpha, below_norm), alpha)
        with numpy.errstate(divide="ignore", invalid="ignore"):
            tau[:, i] = numpy.where(reflect, (beta - alpha) / beta, 0)
            scale = numpy.where(reflect, 1 / (alpha - beta), 0)
        below *= scale[:, None]
        packed[:, i, i] = numpy.where(reflect, beta, alpha)
        v = numpy.concatenate([numpy.ones((packed.shape[0], 1), dtype=packed.dtype), below], axis=-1)
        rest = packed[:, i:, i + 1:]  # H_i applied to the columns to the right
        rest -= (tau[:, i, None] * numpy.einsum("bj,bjc->bc", v, rest))[:, None, :] * v[:, :, None]
    return packed.reshape(batch + (m, n)), tau.reshape(batch + (k,))


class Geqrf(Op):
    """geqrf's ``(a, tau)`` packed along the last dim (a's entries, then tau) for the
    functional form to cut apart; not differentiable, as in PyTorch."""

    __slots__ = ()
    arguments = "unary"
    pytorch_name = "GeqrfBackward0"
    derivative = ("d A: not implemented, as in PyTorch (backward raises)",)

    def forward(self, xp, a):
        if a.ndim < 2:
            raise RuntimeError("torch.geqrf: input must have at least 2 dimensions.")
        packed, tau = geqrf_arrays(a)
        batch = a.shape[:-2]
        return numpy.concatenate([packed.reshape(batch + (-1,)), tau], axis=-1)

    def backward(self, xp, g):
        raise NotImplementedError("the derivative for 'geqrf' is not implemented.")
