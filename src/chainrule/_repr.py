"""PyTorch-style tensor printing: ``tensor([1., 2.], requires_grad=True)``."""
from __future__ import annotations

import contextlib
import math
from typing import Any, Iterator

import numpy as np

from .backend import get_default_device, resolve_device, to_numpy
from .dtypes import default_complex_dtype, get_default_dtype, printed


class PrinterOptions:
    """What :func:`set_printoptions` sets, PyTorch's defaults; ``sci_mode`` None lets the
    values choose.  (A plain class: a dataclass costs a third of a millisecond of import.)"""

    __slots__ = ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")

    def __init__(self) -> None:
        self.precision, self.threshold, self.edgeitems, self.linewidth = 4, 1000, 3, 80
        self.sci_mode: bool | None = None


#: The options every tensor print reads (process-wide, as PyTorch's ``PRINT_OPTS``).
PRINT_OPTS = PrinterOptions()

_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80), "full": (4, math.inf, 3, 80)}


def set_printoptions(precision: int | None = None, threshold: float | None = None, edgeitems: int | None = None,
                     linewidth: int | None = None, profile: str | None = None, sci_mode: bool | None = None) -> None:
    """Set how tensors print, as ``torch.set_printoptions``: ``precision`` digits after the
    point (4), more than ``threshold`` elements summarized (1000) to ``edgeitems`` at each
    end of each dim (3), lines broken at ``linewidth`` (80); ``profile`` ("default", "short",
    "full") sets all four first; ``sci_mode`` forces scientific notation on or off, and, as in
    PyTorch, every call sets it (None: chosen from the values).

    >>> chainrule.set_printoptions(precision=2)
    >>> chainrule.tensor([1.12345])
    tensor([1.12])
    """
    if profile in _PROFILES:
        PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = _PROFILES[profile]
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The current print options, as keyword arguments for :func:`set_printoptions`."""
    return {name: getattr(PRINT_OPTS, name) for name in PrinterOptions.__slots__}


@contextlib.contextmanager
def printoptions(**options: Any) -> Iterator[None]:
    """:func:`set_printoptions` for the duration of a ``with`` block."""
    previous = get_printoptions()
    set_printoptions(**options)
    try:
        yield
    finally:
        set_printoptions(**previous)


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
        self.sci_mode = (bool(largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4)
                         if PRINT_OPTS.sci_mode is None else PRINT_OPTS.sci_mode)
        for value in finite.tolist():
            if self.sci_mode:
                width = len(f"{value:.{PRINT_OPTS.precision}e}")
            elif self.int_mode:
                width = len(f"{value:.0f}") + 1
            else:
                width = len(f"{value:.{PRINT_OPTS.precision}f}")
            self.max_width = max(self.max_width, width)

    def format(self, value: Any) -> str:
        if not self.floating:
            text = f"{value}"
        elif self.sci_mode:
            text = f"{value:{self.max_width}.{PRINT_OPTS.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        else:
            text = f"{value:.{PRINT_OPTS.precision}f}"
        return (self.max_width - len(text)) * " " + text


def _summarized(array: np.ndarray) -> np.ndarray:
    """The elements a summarized print shows (the first and last ``edgeitems`` along each dim)."""
    edge = PRINT_OPTS.edgeitems
    for axis in range(array.ndim):
        if array.shape[axis] > 2 * edge:
            array = np.concatenate([array.take(range(edge), axis), array.take(range(-edge, 0), axis)], axis)
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
    edge = PRINT_OPTS.edgeitems
    per_line = max(1, (PRINT_OPTS.linewidth - indent) // (fmt.max_width + 2))
    if summarize and array.shape[0] > 2 * edge:
        data = ([fmt.format(v) for v in array[:edge].tolist()] + [" ..."]
                + [fmt.format(v) for v in array[-edge:].tolist()])
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
    edge = PRINT_OPTS.edgeitems
    if summarize and array.shape[0] > 2 * edge:
        rows = [*range(edge), None, *range(array.shape[0] - edge, array.shape[0])]
    slices = ["..." if i is None else _nested(array[i], indent + 1, summarize, fmt) for i in rows]
    return "[" + ("," + "\n" * (array.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _add_suffixes(text: str, suffixes: list, indent: int, force_newline: bool = False) -> str:
    """Each suffix on the last line if it fits in the line width, else on a new line (the
    first one always, with ``force_newline``: a sparse tensor's). A suffix is measured as
    PyTorch spells it ("dtype=torch.float64"), so that the lines break where PyTorch's do."""
    parts = [text]
    last_line = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        length = len(suffix.replace("chainrule.", "torch."))
        if force_newline or last_line + length + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line = indent + length
            force_newline = False
        else:
            parts.append(", " + suffix)
            last_line += length + 2
    return "".join(parts) + ")"


def _current_index(where: Any) -> int | None:
    """The index of the current device of ``where``'s type."""
    return resolve_device(where.type).index


def _body(array: np.ndarray, indent: int) -> str:
    """The nested-list text of a nonempty array, summarized past the threshold."""
    if array.dtype.kind == "V":  # bfloat16: its values, printed as floats
        array = array.astype(np.float32)
    summarize = array.size > PRINT_OPTS.threshold
    shown = _summarized(array) if summarize else array
    return _nested(array, indent, summarize, _ComplexFormatter(shown) if array.dtype.kind == "c" else _Formatter(shown))


def tensor_repr(tensor: Any) -> str:
    """PyTorch's layout (torch/_tensor_str.py), under the :data:`PRINT_OPTS` options."""
    array = to_numpy(tensor._data)
    prefix = "tensor("
    indent = len(prefix)
    dtype_name = f"dtype={printed.namespace}.{array.dtype.name if array.dtype != np.bool_ else 'bool'}"
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
        body = _body(array, indent)
    if tensor.grad_fn is not None:
        suffixes.append(f"grad_fn=<{tensor.grad_fn.name()}>")
    elif tensor.requires_grad:
        suffixes.append("requires_grad=True")
    if tensor._tangent is not None:
        suffixes.append(f"tangent={tensor._tangent!r}")
    return _add_suffixes(prefix + body, suffixes, indent)


def sparse_repr(indices: np.ndarray, values: np.ndarray, size: tuple, autograd_suffix: str | None) -> str:
    """PyTorch's print of a sparse COO tensor: ``tensor(indices=tensor([[...]]),
    values=tensor([...]), size=(3, 3), nnz=4, layout=torch.sparse_coo)`` (the size and
    layout on a line of their own)."""
    return _sparse_text((("indices", indices), ("values", values)), values.dtype, size, indices.shape[1],
                        "sparse_coo", autograd_suffix, force_newline=True)


def compressed_repr(crow_indices: np.ndarray, col_indices: np.ndarray, values: np.ndarray, size: tuple,
                    autograd_suffix: str | None) -> str:
    """PyTorch's print of a sparse CSR tensor: ``tensor(crow_indices=tensor([...]),
    col_indices=tensor([...]), values=tensor([...]), size=(2, 2), nnz=3, layout=torch.sparse_csr)``
    (the suffixes go on the values' line while it has room)."""
    return _sparse_text((("crow_indices", crow_indices), ("col_indices", col_indices), ("values", values)),
                        values.dtype, size, col_indices.shape[-1], "sparse_csr", autograd_suffix, force_newline=False)


def _sparse_text(parts: tuple, dtype: np.dtype, size: tuple, nnz: int, layout_name: str,
                 autograd_suffix: str | None, force_newline: bool) -> str:
    """A sparse tensor's arrays, one ``name=tensor(...)`` a line, then its suffixes."""
    prefix = "tensor("
    indent = len(prefix)
    texts = []
    for name, array in parts:
        inner = f"{name}=tensor("
        text = _body(array, indent + len(inner)) if array.size else f"[], size={tuple(array.shape)}"
        texts.append(inner + text + ")")
    suffixes = [f"size={tuple(size)}", f"nnz={nnz}"]
    if dtype not in (get_default_dtype().numpy, np.dtype(np.int64), np.dtype(np.bool_)):
        suffixes.append(f"dtype={printed.namespace}.{dtype.name if dtype != np.bool_ else 'bool'}")
    suffixes.append(f"layout=torch.{layout_name}")
    if autograd_suffix:
        suffixes.append(autograd_suffix)
    return _add_suffixes(prefix + (",\n" + " " * indent).join(texts), suffixes, indent, force_newline=force_newline)