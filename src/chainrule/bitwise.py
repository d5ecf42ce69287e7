"""Bit operations of integer (and boolean) tensors: ``bitwise_and`` ... ``bitwise_right_shift``,
as functional forms, Tensor methods and in-place forms (the operators ``&``, ``|``, ``^``, ``~``
are Tensor's own).  No gradient flows through them; floating tensors are refused, as PyTorch
refuses them."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .functional import _coerce, _t
from .ops import elementwise as E
from .dtypes import not_implemented
from .registry import ROWS, public
from .tensor import Tensor

#: PyTorch's kernel names in its refusal ("lshift_cpu" not implemented for 'Float').
_KERNELS = {"bitwise_left_shift": "lshift", "bitwise_right_shift": "rshift"}


def _integral(name: str, *values: Any, kinds: str = "biu") -> None:
    """PyTorch's refusal of a value whose dtype kind is not among ``kinds`` (integers and
    booleans for the bit operations)."""
    for value in values:
        data = value._data if isinstance(value, Tensor) else np.asarray(value)
        if data.dtype.kind not in kinds:
            raise not_implemented(f"{_KERNELS.get(name, name)}_cpu", data.dtype)


def _binary(ufunc: Any, name: str) -> Callable:
    def form(input: Any, other: Any) -> Tensor:
        input = _t(input)
        _integral(name, input, other)
        return E.Compare.apply(input, _coerce(input, other), ufunc=ufunc)

    form.__name__ = form.__qualname__ = name
    form.__doc__ = f"``{name}`` of each pair of elements (integers or booleans)."
    return form


bitwise_and = public(inplace=True, out=True, name="bitwise_and")(_binary(np.bitwise_and, "bitwise_and"))
bitwise_or = public(inplace=True, out=True, name="bitwise_or")(_binary(np.bitwise_or, "bitwise_or"))
bitwise_xor = public(inplace=True, out=True, name="bitwise_xor")(_binary(np.bitwise_xor, "bitwise_xor"))
bitwise_left_shift = public(inplace=True, out=True, name="bitwise_left_shift")(
    _binary(np.left_shift, "bitwise_left_shift"))
bitwise_right_shift = public(inplace=True, out=True, name="bitwise_right_shift")(
    _binary(np.right_shift, "bitwise_right_shift"))


@public(inplace=True, out=True)
def bitwise_not(input: Tensor) -> Tensor:
    """Every bit flipped (``not`` for booleans)."""
    _integral("bitwise_not", input)
    return E.NoGradientUfunc.apply(_t(input), np.invert)


__all__ = [name for name, row in ROWS.items() if row.function.__module__ == __name__]
