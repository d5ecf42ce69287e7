"""PyTorch's legacy tensor types: ``FloatTensor``, ``LongTensor`` ... one per dtype.

Each is a constructor and an ``isinstance`` test, as in PyTorch, not a subclass of Tensor:
every tensor is a plain ``Tensor``, and ``isinstance(t, chainrule.LongTensor)`` asks whether
``t`` is an int64 tensor on the CPU::

    >>> chainrule.LongTensor([1, 2])           # data
    tensor([1, 2])
    >>> chainrule.FloatTensor(2, 3).shape      # sizes (zeros)
    chainrule.Size([2, 3])
    >>> isinstance(chainrule.zeros(2), chainrule.FloatTensor)
    True
"""
from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import dtypes as _dt
from .tensor import Size, Tensor, _make, _to_array, device


class _LegacyTensorType(type):
    """The metaclass that makes ``FloatTensor(...)`` build a Tensor and
    ``isinstance(t, FloatTensor)`` test its dtype (PyTorch's ``torch.tensortype``)."""

    dtype: _dt.dtype

    def __instancecheck__(cls, obj: Any) -> bool:
        # Legacy types are CPU types (PyTorch keeps torch.cuda.FloatTensor apart), so a CuPy
        # array's tensor is not one of them.
        return (
            isinstance(obj, Tensor)
            and obj.device.type == "cpu"
            and obj._data.dtype == cls.dtype.numpy
        )

    def __call__(cls, *args: Any, **kwargs: Any) -> Tensor:
        size = kwargs.pop("size", None)
        _check_legacy_device(kwargs.pop("device", None))
        if kwargs:
            raise TypeError(
                f"{cls.__name__}() got an unexpected keyword argument '{next(iter(kwargs))}' "
                "(legacy constructors take data or sizes, and device)"
            )
        if size is not None:
            if args:
                raise TypeError(f"{cls.__name__}() takes sizes either as arguments or as size=, not both")
            return _zeros(cls, tuple(size))
        if not args:
            return _zeros(cls, (0,))
        if len(args) == 1 and isinstance(args[0], Size):
            return _zeros(cls, tuple(args[0]))
        if len(args) == 1:
            return _from_data(cls, args[0])
        return _zeros(cls, args)


def _zeros(cls: _LegacyTensorType, sizes: tuple) -> Tensor:
    # PyTorch leaves the memory uninitialised; zeros are one valid content and reproducible.
    shape = []
    for n in sizes:
        try:
            shape.append(operator.index(n))
        except TypeError:
            raise TypeError(
                f"{cls.__name__}(): sizes must be ints, got {type(n).__name__} "
                f"(in {tuple(type(s).__name__ for s in sizes)})"
            ) from None
    for n in shape:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {shape}")
    return _make(np.zeros(tuple(shape), dtype=cls.dtype.numpy))


def _from_data(cls: _LegacyTensorType, data: Any) -> Tensor:
    target = cls.dtype.numpy
    if isinstance(data, Tensor):
        if data._data.dtype != target:
            raise TypeError(f"{cls.__name__}(): expected a tensor of dtype {cls.dtype} (got {data.dtype})")
        # PyTorch returns an alias: same storage and, when it requires grad, the same graph.
        return data.view_as(data)
    if isinstance(data, np.ndarray) and not (data.ndim == 0 and data.dtype.kind in "iu"):
        if data.dtype == target:
            return _make(data)  # shares memory, as PyTorch does with an ndarray
        return _make(_to_array(data, target))
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    if not isinstance(data, Sequence):
        # One int (anything with __index__: a NumPy integer, a 0-d integer array) is a size,
        # as in PyTorch; a bool is not, though it has __index__.
        if hasattr(data, "__index__") and not isinstance(data, (bool, np.bool_)):
            return _zeros(cls, (data,))
        raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
    try:
        return _make(_to_array(data, target))
    except OverflowError:
        # NumPy's error for ByteTensor([300]); PyTorch raises a RuntimeError.
        raise RuntimeError(f"value cannot be converted to type {cls.dtype.name} without overflow") from None


def _check_legacy_device(spec: Any) -> None:
    if spec is None:
        return
    name = spec.type if isinstance(spec, device) else str(spec).split(":")[0]
    if name != "cpu":
        raise RuntimeError(f"legacy constructor expects device type: cpu but device type: {name} was passed")


def _legacy_type(name: str, dtype: _dt.dtype) -> _LegacyTensorType:
    return _LegacyTensorType(name, (), {
        "__module__": "chainrule",
        "__doc__": f"A {dtype} tensor: ``{name}(data)``, ``{name}(*sizes)`` or an isinstance test.",
        "dtype": dtype,
        "is_cuda": False,
        "is_sparse": False,
    })


# The ones PyTorch has at top level but BFloat16Tensor (bfloat16 tensors need the optional ml_dtypes).
FloatTensor = _legacy_type("FloatTensor", _dt.float32)
DoubleTensor = _legacy_type("DoubleTensor", _dt.float64)
HalfTensor = _legacy_type("HalfTensor", _dt.float16)
ByteTensor = _legacy_type("ByteTensor", _dt.uint8)
CharTensor = _legacy_type("CharTensor", _dt.int8)
ShortTensor = _legacy_type("ShortTensor", _dt.int16)
IntTensor = _legacy_type("IntTensor", _dt.int32)
LongTensor = _legacy_type("LongTensor", _dt.int64)
BoolTensor = _legacy_type("BoolTensor", _dt.bool)

__all__ = ["BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor", "FloatTensor", "HalfTensor", "IntTensor",
           "LongTensor", "ShortTensor"]
