"""Evenly spaced values as PyTorch's CPU kernel rounds them (``linspace``, and the bin edges of
``histogram``)."""
from __future__ import annotations

from typing import Any

import numpy as np


def _fused_multiply_add(a: Any, k: np.ndarray, c: Any) -> np.ndarray:
    """``a * k + c`` rounded once, as a fused multiply-add (float64 ``a``, ``c``; integer
    ``k`` < 2**26): ``a`` split in halves of 26 bits makes both partial products exact, and
    the sum's rounding error is carried exactly (Dekker's and Knuth's error-free transforms)."""
    split = a * 134217729.0  # 2**27 + 1
    high = split - (split - a)
    low = a - high
    product_high, product_low = high * k, low * k
    total = c + product_high
    carried = total - c
    error = (c - (total - carried)) + (product_high - carried)
    return total + (error + product_low)


def linspace_values(start: Any, end: Any, steps: int, kind: np.dtype) -> np.ndarray:
    """PyTorch's CPU kernel, value for value: ``step = (end - start) / (steps - 1)`` in the
    dtype (float64 for integers), the first half ``start + step * i`` and the second half
    ``end - step * (steps - 1 - i)``, each one multiply-add rounded once.  (float16 and
    bfloat16 values can differ from PyTorch's in the last bit: its half-precision kernel
    rounds in steps this does not repeat.)"""
    if kind.kind == "c" or steps < 2:
        return np.linspace(start, end, steps).astype(kind)
    if kind.kind in "iub":
        compute = np.dtype(np.float64)
        start, end = int(start), int(end)
    else:  # (float16 and bfloat16: the dtype's values, computed in float32)
        compute = kind if kind == np.float64 else np.dtype(np.float32)
        start, end = kind.type(start), kind.type(end)
    first, last = compute.type(start), compute.type(end)
    step = (last - first) / compute.type(steps - 1)
    step = np.float64(step if kind.kind in "iub" else kind.type(step))
    index = np.arange(steps, dtype=np.float64)
    half = steps // 2
    if compute == np.float64:
        values = np.concatenate([_fused_multiply_add(step, index[:half], np.float64(first)),
                                 _fused_multiply_add(-step, steps - 1 - index[half:], np.float64(last))])
    else:  # (a float32 product of a 24-bit step and an index is exact in float64: one rounding)
        values = np.concatenate([np.float64(first) + step * index[:half],
                                 np.float64(last) - step * (steps - 1 - index[half:])])
    return (np.trunc(values) if kind.kind in "iu" else values).astype(compute).astype(kind)
