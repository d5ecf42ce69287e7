"""PyTorch's convention for complex gradients, for ops whose backward is written for reals.

For a real loss L of a complex tensor z = x + iy, the gradient PyTorch stores is
``dL/dx + i dL/dy`` (twice the conjugate Wirtinger derivative dL/d conj(z)).  Through a
holomorphic f with derivative f'(z) it is ``g * conj(f'(z))``; a backward formula written for
reals gives ``B(g) = g * f'(z)``, so the complex gradient is ``conj(B(conj(g)))``: the same
formula between two conjugations, which is exactly PyTorch's (``mul``: ``g * conj(other)``,
``matmul``: ``g @ other^H``).  An input that is real gets the real part of its gradient, as
PyTorch's engine gives it.

An op whose output is complex switches its node to :func:`holomorphic`'s variant in its
forward (``self.__class__ = holomorphic(type(self), a, b)``), so that real arrays, the common
case, pay nothing in backward.
"""
from __future__ import annotations

from typing import Any

import numpy as np

_VARIANTS: dict = {}


def is_complex(array: Any) -> bool:
    """Whether ``array`` (an array or a number) holds complex values."""
    dtype = getattr(array, "dtype", None)
    return dtype.kind == "c" if dtype is not None else isinstance(array, complex)


def holomorphic(cls: type, *arguments: Any) -> type:
    """``cls`` (an Op of a holomorphic function, whose backward is written for reals) with
    its backward conjugated as PyTorch's convention asks; ``arguments`` are the op's array
    arguments in order: the real ones get the real part of their gradient."""
    real = tuple(getattr(a, "dtype", None) is not None and a.dtype.kind != "c" for a in arguments)
    cls = cls.__dict__.get("holomorphic_of", cls)  # (a node's forward run again: never conjugated twice)
    key = (cls, real)
    sub = _VARIANTS.get(key)
    if sub is None:
        sub = _VARIANTS[key] = _variant(cls, real)
    return sub


def _variant(cls: type, real: tuple) -> type:
    forward_backward = cls.backward

    def backward(self: Any, xp: Any, g: Any) -> Any:
        grads = forward_backward(self, xp, xp.conj(g))
        if not isinstance(grads, tuple):
            return _conjugated(xp, grads, real[0] if real else False)
        return tuple(_conjugated(xp, grad, i < len(real) and real[i]) for i, grad in enumerate(grads))

    attributes = {"__slots__": (), "op_name": cls.op_name, "pytorch_name": cls.__name__, "holomorphic_of": cls,
                  "backward": backward, "__module__": cls.__module__, "__doc__": cls.__doc__}
    return type(cls.__name__, (cls,), attributes)


def _conjugated(xp: Any, grad: Any, real: bool) -> Any:
    if grad is None:
        return None
    if real:
        return xp.real(grad) if is_complex_gradient(grad) else grad
    return xp.conj(grad)


def is_complex_gradient(grad: Any) -> bool:
    """Whether a gradient or a saved value (an array, or a Tensor under create_graph) is complex."""
    dtype = grad.dtype
    return dtype.kind == "c" if isinstance(dtype, np.dtype) else dtype.is_complex
