"""NumPy's function names over Tensors.

Backward formulas are written against an array namespace ``xp``.  In an ordinary backward
``xp`` is NumPy; under ``create_graph=True`` the engine passes :data:`tensor_namespace`
instead, so the very same formula runs on Tensors, records itself, and can be
differentiated again.
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Callable

import numpy as np


def _build() -> SimpleNamespace:
    from .. import functional as F
    from .elementwise import Where
    from .reduction import Cumsum
    from .shape import Expand, Flip, IndexAddInto, Permute, Reshape
    from .linalg import Matmul
    from . import conv, pooling, spatial
    from ..tensor import Tensor
    from ..creation import zeros_like

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

    return SimpleNamespace(
        exp=F.exp, log=F.log, sqrt=F.sqrt, sin=F.sin, cos=F.cos, tanh=F.tanh, sign=F.sign,
        abs=F.abs, maximum=F.maximum, minimum=F.minimum, where=where,
        broadcast_to=broadcast_to, transpose=transpose, swapaxes=swapaxes,
        expand_dims=expand_dims, matmul=Matmul.apply, flip=flip, cumsum=cumsum,
        index_add_into=index_add_into, zeros_like=zeros_like,
        **conv.namespace_functions(), **pooling.namespace_functions(), **spatial.namespace_functions(),
    )


def plain(xp: Any) -> bool:
    """True for an array namespace (NumPy, CuPy): a backward that computes; False for the
    Tensor namespace, in which a backward records itself (create_graph)."""
    return xp is np or hasattr(xp, "ndarray")


class _LazyNamespace:
    """Built on first use: importing chainrule must not pay for it."""

    _namespace: SimpleNamespace | None = None

    def __getattr__(self, name: str) -> Any:
        if _LazyNamespace._namespace is None:
            _LazyNamespace._namespace = _build()
        return getattr(_LazyNamespace._namespace, name)


tensor_namespace = _LazyNamespace()


class ArrayKernels:
    """A module's array kernels (conv, pooling) under the Tensor namespace's names, bound to
    an array namespace (NumPy, CuPy); subclasses add the kernels as methods."""

    __slots__ = ("xp",)

    def __init__(self, xp: Any) -> None:
        self.xp = xp


def kernel_selector(kernels: type) -> Callable[[Any], Any]:
    """``select(xp)`` for backward formulas: the ``kernels`` (an :class:`ArrayKernels`
    subclass) bound to ``xp`` when it is an array namespace (NumPy's made once), or, under
    ``create_graph=True``, the Tensor namespace itself, which maps the same names to ops."""
    numpy_kernels = kernels(np)

    def select(xp: Any) -> Any:
        if xp is np:
            return numpy_kernels
        return kernels(xp) if hasattr(xp, "ndarray") else xp

    return select
