"""The namespaces backward formulas are written against.

Backward formulas use an array namespace ``xp``.  In an ordinary backward ``xp`` is NumPy (or
CuPy); under ``create_graph=True`` the engine passes the Tensor namespace instead (NumPy's
function names over Tensors, built by the functional layer: ``chainrule.tensor_namespace``),
so the very same formula runs on Tensors, records itself, and can be differentiated again.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..backend import get_array_module


def plain(xp: Any) -> bool:
    """True for an array namespace (NumPy, CuPy): a backward that computes; False for the
    Tensor namespace, in which a backward records itself (create_graph)."""
    return xp is np or hasattr(xp, "ndarray")


def arrays_for(xp: Any, like: Any) -> Any:
    """The array namespace to build a backward's constants (masks, zeros) with, on the device
    of ``like`` (the gradient): ``xp`` itself in an ordinary backward; under create_graph,
    where ``xp`` is the Tensor namespace, that of ``like``'s data."""
    return xp if xp is np or hasattr(xp, "ndarray") else get_array_module(like._data)


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
