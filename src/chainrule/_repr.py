"""PyTorch-style tensor printing: ``tensor([1., 2.], requires_grad=True)``."""
from __future__ import annotations

from typing import Any

import numpy as np


def _float_formatter(values: np.ndarray) -> Any:
    finite = values[np.isfinite(values)] if values.size else values
    if finite.size and np.all(finite == np.round(finite)) and np.abs(finite).max() < 1e8:
        return lambda x: _special(x) or f"{x:.0f}."
    if finite.size:
        magnitude = np.abs(finite)
        largest, smallest = magnitude.max(), magnitude[magnitude > 0].min() if (magnitude > 0).any() else 0
        if largest >= 1e8 or (smallest and smallest < 1e-4) or (smallest and largest / smallest > 1000):
            return lambda x: _special(x) or f"{x:.4e}"
    return lambda x: _special(x) or f"{x:.4f}"


def _special(x: float) -> str | None:
    if np.isnan(x):
        return "nan"
    if np.isinf(x):
        return "inf" if x > 0 else "-inf"
    return None


def _padded(fmt: Any, array: np.ndarray) -> Any:
    """Every element right-aligned to the widest one, as PyTorch prints."""
    shown = array if array.size <= 1000 else np.concatenate(
        [array.reshape(-1)[:3], array.reshape(-1)[-3:]])
    width = max(len(fmt(x)) for x in shown.reshape(-1))
    return lambda x: fmt(x).rjust(width)


def _body(array: np.ndarray) -> str:
    if array.size == 0:
        return "[]" if array.ndim == 1 else "[]"
    if array.dtype.kind == "f":
        fmt = _float_formatter(array.astype(np.float64))
        formatter = {"float_kind": _padded(fmt, array)}
    elif array.dtype == np.bool_:
        formatter = {"bool": _padded(lambda b: "True" if b else "False", array)}
    else:
        formatter = None
    return np.array2string(array, separator=", ", prefix="tensor(", formatter=formatter,
                           threshold=1000, edgeitems=3, max_line_width=80)


def tensor_repr(tensor: Any) -> str:
    from .backend import to_numpy
    from .dtypes import get_default_dtype

    array = to_numpy(tensor.data)
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
