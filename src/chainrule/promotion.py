"""PyTorch's type promotion, asked directly: ``promote_types``, ``result_type`` and
``can_cast`` (the ops promote their operands with the same rules: ``ops.elementwise.promote``)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .dtypes import dtype, from_numpy, get_default_dtype, resolve_type
from .ops.elementwise import _promote_types, _result_type
from .tensor import Tensor

__all__ = ["can_cast", "promote_types", "result_type"]

#: The categories of dtypes, lowest first: a cast down a category is not a "safe" cast.
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def promote_types(type1: dtype, type2: dtype) -> dtype:
    """The smallest dtype both ``type1`` and ``type2`` cast to, by PyTorch's table (an
    integer with a float gives the float: ``promote_types(int64, float16)`` is float16)."""
    return from_numpy(_promote_types(resolve_type(type1).numpy, resolve_type(type2).numpy))


def result_type(tensor1: Any, tensor2: Any) -> dtype:
    """The dtype an arithmetic op on the two operands (tensors or Python numbers) gives: a
    tensor with dims beats a 0-d one of the same category, a Python float makes integers the
    default float dtype, a Python int keeps the tensor's dtype."""
    first, second = _operand(tensor1), _operand(tensor2)
    if isinstance(first, np.ndarray) and isinstance(second, np.ndarray):
        return from_numpy(_result_type(first, second))
    if isinstance(first, np.ndarray) or isinstance(second, np.ndarray):
        array, scalar = (first, second) if isinstance(first, np.ndarray) else (second, first)
        return from_numpy(_with_number(array.dtype, scalar))
    return from_numpy(_number_dtype(_wider_number(first, second)))


def can_cast(from_: dtype, to: dtype) -> bool:
    """Whether a cast from ``from_`` to ``to`` stays within or goes up the categories bool <
    integer < float < complex (float64 to float32 may; float to integer may not)."""
    return _CATEGORY[resolve_type(from_).numpy.kind] <= _CATEGORY[resolve_type(to).numpy.kind]


def _operand(value: Any) -> Any:
    if isinstance(value, Tensor):
        return value._data if isinstance(value._data, np.ndarray) else np.asarray(value.cpu()._data)
    if isinstance(value, (bool, int, float, complex)):
        return value
    raise TypeError(f"result_type(): argument must be a Tensor or a Number, not {type(value).__name__}")


def _number_dtype(number: Any) -> np.dtype:
    if isinstance(number, bool):
        return np.dtype(np.bool_)
    if isinstance(number, int):
        return np.dtype(np.int64)
    if isinstance(number, float):
        return get_default_dtype().numpy
    return np.dtype(np.complex128 if get_default_dtype().numpy == np.float64 else np.complex64)


def _wider_number(a: Any, b: Any) -> Any:
    order = (bool, int, float, complex)
    return a if order.index(type(a)) >= order.index(type(b)) else b


def _with_number(array_dtype: np.dtype, number: Any) -> np.dtype:
    number_kind = _number_dtype(number).kind
    if _CATEGORY[number_kind] <= _CATEGORY[array_dtype.kind]:
        return array_dtype
    if number_kind == "c" and array_dtype.kind == "f":
        return np.dtype(np.complex128 if array_dtype == np.float64 else np.complex64)
    return _number_dtype(number)
