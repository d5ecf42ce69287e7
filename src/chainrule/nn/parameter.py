"""Parameter (a tensor a Module trains) and Buffer (a tensor a Module keeps but does not train)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import creation
from ..dtypes import get_default_dtype, to_numpy
from ..tensor import Tensor, _make


def _array_of(data: Any) -> Any:
    if data is None:
        return np.empty((0,), dtype=get_default_dtype().numpy)
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, np.ndarray):
        return data
    return Tensor(data)._data


class Parameter(Tensor):
    """A tensor that is a module's parameter: assigning one to a Module attribute registers it,
    and it requires grad by default.  It shares storage with the tensor it wraps.

    >>> w = nn.Parameter(chainrule.zeros(2))
    >>> w.requires_grad
    True
    """

    def __new__(cls, data: Any = None, requires_grad: bool = True) -> "Parameter":
        return _sharing(cls, data)

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        self.requires_grad_(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __reduce_ex__(self, protocol: int) -> Any:
        return (_rebuild_parameter, (self._data, self.requires_grad))


def _sharing(cls: type, data: Any) -> Any:
    """A ``cls`` tensor on ``data``'s storage (and its version counter, when a tensor)."""
    out = _make(_array_of(data), cls=cls)
    if isinstance(data, Tensor):
        out._vc = data._version_counter()
    return out


def _rebuild_parameter(data: Any, requires_grad: bool) -> Parameter:
    return Parameter(data, requires_grad)


class Buffer(Tensor):
    """Marks a tensor to be registered as a buffer when assigned to a Module attribute
    (``self.stats = nn.Buffer(t)``); the module then holds the plain tensor."""

    def __new__(cls, data: Any = None, *, persistent: bool = True) -> "Buffer":
        return _sharing(cls, data)

    def __init__(self, data: Any = None, *, persistent: bool = True) -> None:
        self.persistent = persistent

    def _plain(self) -> Tensor:
        out = Tensor._wrap(self._data)
        out._vc = self._version_counter()
        return out


def _placeholder(cls: type, dtype: Any) -> Any:
    kind = get_default_dtype().numpy if dtype is None else to_numpy(dtype)
    return _make(np.empty((0,), dtype=kind), cls=cls)


class _Uninitialized:
    """What the placeholders share: ``materialize`` gives the data its shape (uninitialised
    values, as ``torch.empty``) and the tensor its final class, in place."""

    cls_to_become: type = Tensor

    def materialize(self, shape: Any, device: Any = None, dtype: Any = None) -> None:
        kind = self._data.dtype if dtype is None else to_numpy(dtype)
        self._data = np.empty(tuple(int(n) for n in shape), dtype=kind)
        self.__class__ = self.cls_to_become

    @property
    def shape(self) -> Any:
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error usually happens in "
            "`load_state_dict` when trying to load an uninitialized parameter into an initialized one. Call "
            "`forward` to initialize the parameters before accessing their attributes.")

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def _unusable(self, method: str) -> ValueError:
        return ValueError(
            f"Attempted to use an uninitialized parameter in <method '{method}' of 'torch._C.TensorBase' objects>. "
            "This error happens when you are using a `LazyModule` or explicitly manipulating "
            "`torch.nn.parameter.UninitializedParameter` objects. When using LazyModules Call `forward` with a dummy "
            "batch to initialize the parameters before calling torch functions")

    # (what would silently answer 0 or (0,) for a placeholder: its size is not known yet)
    def numel(self) -> int:
        raise self._unusable("numel")

    def nelement(self) -> int:
        raise self._unusable("numel")  # (PyTorch's message names numel)

    def dim(self) -> int:
        raise self._unusable("dim")


class UninitializedParameter(_Uninitialized, Parameter):
    """A parameter without a shape yet (a lazy module's, before its first forward)."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device: Any = None, dtype: Any = None) -> "UninitializedParameter":
        return _placeholder(cls, dtype)

    def __init__(self, requires_grad: bool = True, device: Any = None, dtype: Any = None) -> None:
        self.requires_grad_(requires_grad)


class UninitializedBuffer(_Uninitialized, Tensor):
    """A buffer without a shape yet."""

    cls_to_become = Tensor

    def __new__(cls, requires_grad: bool = False, device: Any = None, dtype: Any = None,
                persistent: bool = True) -> "UninitializedBuffer":
        return _placeholder(cls, dtype)

    def __init__(self, requires_grad: bool = False, device: Any = None, dtype: Any = None,
                 persistent: bool = True) -> None:
        self.requires_grad_(requires_grad)


def is_lazy(param: Any) -> bool:
    """Whether ``param`` is a placeholder still waiting for its shape."""
    return isinstance(param, _Uninitialized)


def _weight_and_bias(module: Any, weight_shape: Any, bias_shape: Any, dtype: Any) -> None:
    """Register ``module.weight`` and ``module.bias``: uninitialised Parameters of these
    shapes, for ``reset_parameters`` to fill, or None (declared absent) where a shape is None."""
    for name, shape in (("weight", weight_shape), ("bias", bias_shape)):
        if shape is None:
            module.register_parameter(name, None)
        else:
            setattr(module, name, Parameter(creation.empty(shape, dtype=dtype)))
