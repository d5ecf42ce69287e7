"""The Tensor namespace: NumPy's function names over Tensors.

Backward formulas are written against an array namespace ``xp``.  In an ordinary backward
``xp`` is NumPy; under ``create_graph=True`` the engine passes this namespace instead, so the
very same formula runs on Tensors, records itself, and can be differentiated again.  Its
entries are the functional forms whose rows name them (``@public(xp="exp")``), the adapters
below for NumPy spellings that differ from PyTorch's, and the spatial kernels (conv, pooling),
which ``chainrule.nn.functional`` adds with :func:`extend` when it loads them.
:func:`register` builds it and registers it into autograd.
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from .autograd.function import bind_namespace
from .ops.elementwise import Where
from .ops.linalg import Matmul
from .ops.reduction import Cumsum
from .ops.shape import Cat, Expand, Flip, IndexAddInto, Permute, Reshape, Stack
from .tensor import Tensor, _make


def where(condition: Any, a: Any, b: Any) -> Any:
    if isinstance(condition, Tensor):
        condition = condition._data
    return Where.apply(condition, a, b)


def broadcast_to(x: Any, shape: tuple) -> Any:
    return Expand.apply(x, tuple(shape))


def transpose(x: Any, axes: tuple) -> Any:
    return Permute.apply(x, tuple(axes))


def swapaxes(x: Any, a: int, b: int) -> Any:
    axes = list(range(x.ndim))
    axes[a], axes[b] = axes[b], axes[a]
    return Permute.apply(x, tuple(axes))


def expand_dims(x: Any, axis: int) -> Any:
    shape = list(x.shape)
    axis = axis % (len(shape) + 1)
    shape.insert(axis, 1)
    return Reshape.apply(x, tuple(shape))


def flip(x: Any, axis: Any) -> Any:
    return Flip.apply(x, axis)


def cumsum(x: Any, axis: int) -> Any:
    return Cumsum.apply(x, axis)


def index_add_into(shape: tuple, index: tuple, g: Any) -> Any:
    return IndexAddInto.apply(g, tuple(shape), index)


def zeros_like(x: Any) -> Any:
    return _make(np.zeros_like(x._data))


def stack(tensors: list, axis: int = 0) -> Any:
    return Stack.apply(*tensors, axis=axis)


def concatenate(tensors: list, axis: int = 0) -> Any:
    return Cat.apply(*tensors, axis=axis % tensors[0].ndim)


_ADAPTERS = {
    "where": where, "broadcast_to": broadcast_to, "transpose": transpose, "swapaxes": swapaxes,
    "expand_dims": expand_dims, "matmul": Matmul.apply, "flip": flip, "cumsum": cumsum,
    "index_add_into": index_add_into, "zeros_like": zeros_like, "stack": stack,
    "concatenate": concatenate,
}


def register(rows: dict) -> SimpleNamespace:
    """Build the namespace from the registration rows and the adapters, and register it into
    autograd as the one create_graph backward formulas run on."""
    entries = {row.xp: row.function for row in rows.values() if row.xp}
    entries.update(_ADAPTERS)
    _NAMESPACE.__dict__.update(entries)
    bind_namespace(_NAMESPACE)
    return _NAMESPACE


def extend(entries: dict) -> None:
    """Add entries (a module's kernels under the names its backward formulas use)."""
    _NAMESPACE.__dict__.update(entries)


_NAMESPACE = SimpleNamespace()
