"""The LDL^T factorization of symmetric matrices with Bunch-Kaufman pivoting and its solve, as
LAPACK sytrf / sytrs (lower) compute them, written with NumPy alone (``torch.linalg.ldl_factor``,
``ldl_solve``).  Neither is differentiable, as in PyTorch."""
from __future__ import annotations

import math
from typing import Any

import numpy

from ..autograd.function import Op

#: Bunch-Kaufman's threshold between a 1x1 and a 2x2 pivot.
_ALPHA = (1.0 + math.sqrt(17.0)) / 8.0


def _swap_lower(a: Any, k: int, kk: int, kp: int, kstep: int) -> None:
    """sytf2's symmetric interchange of rows and columns kk and kp of the trailing lower triangle."""
    n = a.shape[0]
    if kp < n - 1:
        a[kp + 1:, [kk, kp]] = a[kp + 1:, [kp, kk]]
    column = a[kk + 1:kp, kk].copy()
    a[kk + 1:kp, kk] = a[kp, kk + 1:kp]
    a[kp, kk + 1:kp] = column
    a[[kk, kp], [kk, kp]] = a[[kp, kk], [kp, kk]]
    if kstep == 2:
        a[[k + 1, kp], k] = a[[kp, k + 1], k]


def _pivot(a: Any, k: int) -> tuple:
    """Bunch-Kaufman's choice at step k: (kp, kstep), or None where the column is all zero."""
    n = a.shape[0]
    absakk = abs(a[k, k])
    imax, colmax = k, 0.0
    if k < n - 1:
        imax = k + 1 + int(numpy.argmax(numpy.abs(a[k + 1:, k])))
        colmax = abs(a[imax, k])
    if max(absakk, colmax) == 0:
        return None
    if absakk >= _ALPHA * colmax:
        return k, 1
    rowmax = float(numpy.abs(a[imax, k:imax]).max())
    if imax < n - 1:
        rowmax = max(rowmax, float(numpy.abs(a[imax + 1:, imax]).max()))
    if absakk >= _ALPHA * colmax * (colmax / rowmax):
        return k, 1
    if abs(a[imax, imax]) >= _ALPHA * rowmax:
        return imax, 1
    return imax, 2


def _ldl_one(a: Any) -> tuple:
    """``(LD, pivots, info)`` of one symmetric matrix (its lower triangle read)."""
    a = numpy.tril(a)
    n = a.shape[0]
    pivots = numpy.zeros(n, dtype=numpy.int32)
    info, k = 0, 0
    while k < n:
        choice = _pivot(a, k)
        if choice is None:
            info = info or k + 1
            pivots[k] = k + 1
            k += 1
            continue
        kp, kstep = choice
        kk = k + kstep - 1
        if kp != kk:
            _swap_lower(a, k, kk, kp, kstep)
        if kstep == 1:
            if k < n - 1:
                d11 = 1.0 / a[k, k]
                x = a[k + 1:, k].copy()
                a[k + 1:, k + 1:] -= numpy.tril(d11 * numpy.outer(x, x))
                a[k + 1:, k] *= d11
            pivots[k] = kp + 1
        else:
            if k < n - 2:
                d21 = a[k + 1, k]
                d11, d22 = a[k + 1, k + 1] / d21, a[k, k] / d21
                d21 = (1.0 / (d11 * d22 - 1.0)) / d21
                wk = d21 * (d11 * a[k + 2:, k] - a[k + 2:, k + 1])
                wkp1 = d21 * (d22 * a[k + 2:, k + 1] - a[k + 2:, k])
                a[k + 2:, k + 2:] -= numpy.tril(numpy.outer(a[k + 2:, k], wk) + numpy.outer(a[k + 2:, k + 1], wkp1))
                a[k + 2:, k], a[k + 2:, k + 1] = wk, wkp1
            pivots[k] = pivots[k + 1] = -(kp + 1)
        k += kstep
    return a, pivots, info


def ldl_factor_arrays(a: Any) -> tuple:
    """``(LD, pivots, info)`` of (batches of) symmetric matrices as LAPACK sytrf (lower) gives
    them: D's 1x1 and 2x2 blocks and L's multipliers packed in LD's lower triangle, the 1-based
    interchanges (negative for both rows of a 2x2 block), info the first zero block (0 for none)."""
    batch, n = a.shape[:-2], a.shape[-1]
    flat = a.reshape((-1, n, n))
    parts = [_ldl_one(numpy.array(m, dtype=a.dtype)) for m in flat]
    ld = numpy.stack([p[0] for p in parts]) if parts else numpy.zeros_like(flat)
    pivots = numpy.stack([p[1] for p in parts]) if parts else numpy.zeros((0, n), dtype=numpy.int32)
    info = numpy.array([p[2] for p in parts], dtype=numpy.int32)
    return ld.reshape(a.shape), pivots.reshape(batch + (n,)), info.reshape(batch)


def _ldl_solve_one(a: Any, pivots: Any, b: Any) -> Any:
    """sytrs (lower): ``A^-1 b`` from one matrix's packed factor."""
    b = b.copy()
    n = a.shape[0]
    k = 0
    while k < n:  # L D y = P^T b
        if pivots[k] > 0:
            kp = pivots[k] - 1
            b[[k, kp]] = b[[kp, k]]
            b[k + 1:] -= numpy.outer(a[k + 1:, k], b[k])
            b[k] /= a[k, k]
            k += 1
        else:
            kp = -pivots[k] - 1
            b[[k + 1, kp]] = b[[kp, k + 1]]
            b[k + 2:] -= numpy.outer(a[k + 2:, k], b[k]) + numpy.outer(a[k + 2:, k + 1], b[k + 1])
            akm1k = a[k + 1, k]
            akm1, ak = a[k, k] / akm1k, a[k + 1, k + 1] / akm1k
            denom = akm1 * ak - 1.0
            bkm1, bk = b[k] / akm1k, b[k + 1] / akm1k
            b[k], b[k + 1] = (ak * bkm1 - bk) / denom, (akm1 * bk - bkm1) / denom
            k += 2
    k = n - 1
    while k >= 0:  # L^T P^T x = y
        step = 1 if pivots[k] > 0 else 2
        for row in range(k, k - step, -1):
            b[row] -= a[k + 1:, row] @ b[k + 1:]
        kp = abs(pivots[k]) - 1
        b[[k, kp]] = b[[kp, k]]
        k -= step
    return b


class LdlFactor(Op):
    """The packed LD of :func:`ldl_factor_arrays` (computed ahead, with the pivots): recorded
    so that backward raises PyTorch's error."""

    __slots__ = ()
    presented_inputs = 1
    pytorch_name = "NotImplemented"
    derivative = ("d A: not implemented, as in PyTorch (backward raises)",)

    def forward(self, xp, a, ld):
        return ld.copy()

    def backward(self, xp, g):
        raise RuntimeError("derivative for aten::linalg_ldl_factor_ex is not implemented")


def ldl_solve_arrays(ld: Any, pivots: Any, b: Any) -> Any:
    """``A^-1 b`` for (batches of) ``A`` given by :func:`ldl_factor_arrays`; batch dims broadcast."""
    batch = numpy.broadcast_shapes(ld.shape[:-2], b.shape[:-2])
    n = ld.shape[-1]
    lds = numpy.broadcast_to(ld, batch + ld.shape[-2:]).reshape((-1, n, n))
    pivs = numpy.broadcast_to(pivots, batch + (n,)).reshape((-1, n))
    bs = numpy.broadcast_to(b, batch + b.shape[-2:]).reshape((-1,) + b.shape[-2:])
    out = [_ldl_solve_one(m, p, r) for m, p, r in zip(lds, pivs, bs)]
    return (numpy.stack(out) if out else numpy.zeros_like(bs)).reshape(batch + b.shape[-2:])
