"""PyTorch-style tensor printing: ``tensor([1., 2.], requires_grad=True)``."""
from __future__ import annotations

from typing import Any

import numpy as np


def _float_formatter(values: np.ndarray) -> Any:
    """PyTorch's choice, from the nonzero finite values: integer mode (``1.``), fixed
    (``0.1000``) or scientific (``1.0000e-05``), each right-aligned to the widest of them
    (NaN and inf are not counted, so they are never padded)."""
    finite = values[np.isfinite(values) & (values != 0)]
    if not finite.size:
        return lambda x: _special(x) or f"{x:.0f}."
    magnitude = np.abs(finite)
    largest, smallest = magnitude.max(), magnitude.min()
    if np.all(finite == np.ceil(finite)):
        sci = largest / smallest > 1000 or largest > 1e8
        fmt = (lambda x: _special(x) or f"{x:.4e}") if sci else (lambda x: _special(x) or f"{x:.0f}.")
    else:
        sci = largest / smallest > 1000 or largest > 1e8 or smallest < 1e-4
        fmt = (lambda x: _special(x) or f"{x:.4e}") if sci else (lambda x: _special(x) or f"{x:.4f}")
    width = max(len(fmt(x)) for x in finite)
    return lambda x: fmt(x).rjust(width)


def _special(x: float) -> str | None:
    if np.isnan(x):
        return "nan"
    if np.isinf(x):
        return "inf" if x > 0 else "-inf"
    return None


def _summarized(array: np.ndarray) -> np.ndarray:
    """The elements a summarized print shows (the first and last three along each dim)."""
    for axis in range(array.ndim):
        if array.shape[axis] > 6:
            array = np.concatenate([array.take(range(3), axis), array.take(range(-3, 0), axis)], axis)
    return array


def _padded(fmt: Any, array: np.ndarray) -> Any:
    """Every element right-aligned to the widest one, as PyTorch prints."""
    shown = array if array.size <= 1000 else _summarized(array)
    width = max(len(fmt(x)) for x in shown.reshape(-1))
    return lambda x: fmt(x).rjust(width)


def _body(array: np.ndarray) -> str:
    if array.size == 0:
        return "[]" if array.ndim == 1 else "[]"
    if array.dtype.kind == "f":
        shown = array if array.size <= 1000 else _summarized(array)
        formatter = {"float_kind": _float_formatter(shown.astype(np.float64))}
    elif array.dtype == np.bool_:
        formatter = {"bool": _padded(lambda b: "True" if b else "False", array)}
    else:
        formatter = None
    return np.array2string(array, separator=", ", prefix="tensor(", formatter=formatter,
                           threshold=1000, edgeitems=3, max_line_width=80)


def tensor_repr(tensor: Any) -> str:
    from .backend import to_numpy
    from .dtypes import get_default_dtype

    array = to_numpy(tensor._data)
    parts = [_body(array)]
    default_dtypes = (get_default_dtype().numpy, np.dtype(np.int64), np.dtype(np.bool_))
    if array.dtype not in default_dtypes or array.size == 0 and array.dtype != get_default_dtype().numpy:
        parts.append(f"dtype=chainrule.{array.dtype.name if array.dtype != np.bool_ else 'bool'}")
    if array.size == 0 and array.ndim != 1:
        parts.append(f"size={tuple(array.shape)}")
    if tensor.grad_fn is not None:
        parts.append(f"grad_fn=<{tensor.grad_fn.name()}>")
    elif tensor.requires_grad:
        parts.append("requires_grad=True")
    return "tensor(" + ", ".join(parts) + ")"
