"""PyTorch-style tensor printing: ``tensor([1., 2.], requires_grad=True)``."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .backend import get_default_device, resolve_device, to_numpy
from .dtypes import default_complex_dtype, get_default_dtype


_LINEWIDTH = 80
_THRESHOLD = 1000
_EDGEITEMS = 3
_PRECISION = 4


class _Formatter:
    """PyTorch's choice of number format, from the values shown: integer mode (``1.``),
    fixed (``0.1000``) or scientific (``1.0000e-05``) for floats, decided by the nonzero
    finite values; every element right-aligned to the widest."""

    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind in "fc"
        self.int_mode, self.sci_mode, self.max_width = True, False, 1
        flat = values.reshape(-1)
        if not self.floating:
            for value in flat.tolist():
                self.max_width = max(self.max_width, len(f"{value}"))
            return
        finite = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
        if not finite.size:
            return
        magnitude = np.abs(finite)
        largest, smallest = magnitude.max(), magnitude.min()
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        self.sci_mode = bool(largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4)
        for value in finite.tolist():
            if self.sci_mode:
                width = len(f"{value:.{_PRECISION}e}")
            elif self.int_mode:
                width = len(f"{value:.0f}") + 1
            else:
                width = len(f"{value:.{_PRECISION}f}")
            self.max_width = max(self.max_width, width)

    def format(self, value: Any) -> str:
        if not self.floating:
            text = f"{value}"
        elif self.sci_mode:
            text = f"{value:{self.max_width}.{_PRECISION}e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        else:
            text = f"{value:.{_PRECISION}f}"
        return (self.max_width - len(text)) * " " + text


def _summarized(array: np.ndarray) -> np.ndarray:
    """The elements a summarized print shows (the first and last three along each dim)."""
    for axis in range(array.ndim):
        if array.shape[axis] > 2 * _EDGEITEMS:
            array = np.concatenate([array.take(range(_EDGEITEMS), axis),
                                    array.take(range(-_EDGEITEMS, 0), axis)], axis)
    return array


class _ComplexFormatter:
    """A complex tensor's numbers: the real parts formatted as a real tensor of them would be,
    the imaginary parts likewise with their sign and a ``j`` (``1.0000+2.5000j``)."""

    def __init__(self, values: np.ndarray) -> None:
        self.real, self.imag = _Formatter(values.real), _Formatter(values.imag)
        self.max_width = self.real.max_width + self.imag.max_width + 1

    def format(self, value: Any) -> str:
        imag = (self.imag.format(value.imag) + "j").lstrip()
        return self.real.format(value.real) + (imag if imag[0] in "+-" else "+" + imag)


def _vector(array: np.ndarray, indent: int, summarize: bool, fmt: Any) -> str:
    per_line = max(1, (_LINEWIDTH - indent) // (fmt.max_width + 2))
    if summarize and array.shape[0] > 2 * _EDGEITEMS:
        data = ([fmt.format(v) for v in array[:_EDGEITEMS].tolist()] + [" ..."]
                + [fmt.format(v) for v in array[-_EDGEITEMS:].tolist()])
    else:
        data = [fmt.format(v) for v in array.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(array: np.ndarray, indent: int, summarize: bool, fmt: Any) -> str:
    if array.ndim == 0:
        return fmt.format(array.item())
    if array.ndim == 1:
        return _vector(array, indent, summarize, fmt)
    rows = range(array.shape[0])
    if summarize and array.shape[0] > 2 * _EDGEITEMS:
        rows = [*range(_EDGEITEMS), None, *range(array.shape[0] - _EDGEITEMS, array.shape[0])]
    slices = ["..." if i is None else _nested(array[i], indent + 1, summarize, fmt) for i in rows]
    return "[" + ("," + "\n" * (array.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _add_suffixes(text: str, suffixes: list, indent: int) -> str:
    """Each suffix on the last line if it fits in the line width, else on a new line. A
    suffix is measured as PyTorch spells it ("dtype=torch.float64"), so that the lines break
    where PyTorch's do."""
    parts = [text]
    last_line = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        length = len(suffix.replace("chainrule.", "torch."))
        if last_line + length + 2 > _LINEWIDTH:
            parts.append(",\n" + " " * indent + suffix)
            last_line = indent + length
        else:
            parts.append(", " + suffix)
            last_line += length + 2
    return "".join(parts) + ")"


def _current_index(where: Any) -> int | None:
    """The index of the current device of ``where``'s type."""
    return resolve_device(where.type).index


def tensor_repr(tensor: Any) -> str:
    """PyTorch's layout (torch/_tensor_str.py), line width 80, threshold 1000, 3 edge items."""
    array = to_numpy(tensor._data)
    prefix = "tensor("
    indent = len(prefix)
    dtype_name = f"dtype=chainrule.{array.dtype.name if array.dtype != np.bool_ else 'bool'}"
    default_float = get_default_dtype().numpy
    default_complex = default_complex_dtype().numpy
    suffixes = []
    where = tensor.device
    if where.type != get_default_device().type or (where.type == "cuda" and where.index != _current_index(where)):
        suffixes.append(f"device='{where}'")
    if array.size == 0:
        if array.ndim != 1:
            suffixes.append(f"size={tuple(array.shape)}")
        if array.dtype != default_float:
            suffixes.append(dtype_name)
        body = "[]"
    else:
        if array.dtype not in (default_float, default_complex, np.dtype(np.int64), np.dtype(np.bool_)):
            suffixes.append(dtype_name)
        summarize = array.size > _THRESHOLD
        shown = _summarized(array) if summarize else array
        fmt = _ComplexFormatter(shown) if array.dtype.kind == "c" else _Formatter(shown)
        body = _nested(array, indent, summarize, fmt)
    if tensor.grad_fn is not None:
        suffixes.append(f"grad_fn=<{tensor.grad_fn.name()}>")
    elif tensor.requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)
