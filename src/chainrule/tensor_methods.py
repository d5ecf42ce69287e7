"""Everything a Tensor does beyond holding data, installed on it in one place.

:func:`install` reads the registration table (``chainrule.registry``: the functional forms'
rows) and the methods written here (``@method``: operators, conversions, in-place forms that
are not a functional form written back), and sets them all on ``Tensor``; then it registers
the create_graph namespace into autograd.  ``tensor.py`` itself stays a data holder.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from . import dtypes as _dt
from . import bitwise as _bitwise
from . import complex_numbers as _complex
from . import functional as F
from . import tensor_namespace
from . import upcalls as _upcalls
from .amp import lower_precision
from .autograd import dual_state
from .autograd.function import broadcast_error, named
from .autograd.grad_mode import grad_state
from .autograd.versions import storage_root
from .backend import CPU, cuda_available, device, get_array_module, resolve_device, to_device
from .composites import polygamma as _polygamma
from .creation import bernoulli as _bernoulli, empty, full, multinomial as _multinomial, ones, tensor as _new_tensor, zeros
from .inplace import apply_inplace, overwrite, overwrite_kernel, put_kernel
from .mt19937 import CpuSampler, along_memory, visiting_order
from .ops import elementwise as E
from .ops.linalg import Matmul, _scalar
from .ops.shape import Index, IndexPut, setitem_error
from .random import _generator
from .registry import ROWS, Row
from .tensor import Size, Tensor, _dim, _make

#: name -> method written here (see :func:`method`).
_WRITTEN: dict[str, Any] = {}


def method(name: str | None = None) -> Callable:
    """Install the decorated function as ``Tensor.<name>`` (its own name by default)."""

    def register(function: Callable) -> Callable:
        _WRITTEN[name or function.__name__] = function
        return function

    return register


def install() -> None:
    """Set every method on Tensor, and register the create_graph namespace into autograd."""
    _install_rows(ROWS)
    for name, function in _WRITTEN.items():
        setattr(Tensor, name, function)


def install_module(module_name: str) -> None:
    """Set the methods of one module's rows on Tensor: a module that :func:`install` did not
    see, because ``import chainrule`` loads it only on first use."""
    _install_rows({name: row for name, row in ROWS.items() if row.function.__module__ == module_name})


def _install_rows(rows: dict[str, Row]) -> None:
    for row in rows.values():
        if row.method:
            setattr(Tensor, row.name, row.function)
        if row.inplace:
            setattr(Tensor, row.name + "_", _inplace_form(row))
    tensor_namespace.register(rows)


class OnFirstUse:
    """``Tensor.<name>`` of a module that ``import chainrule`` does not load (``x.svd()``,
    ``x.gcd_(y)``): the first access calls ``load``, which imports the module and sets its real
    methods on Tensor in place of these placeholders, and then returns the real one."""

    __slots__ = ("load", "name")

    def __init__(self, load: Callable[[], None], name: str) -> None:
        self.load, self.name = load, name

    def __get__(self, instance: Tensor | None, owner: type | None = None) -> Any:
        self.load()
        if Tensor.__dict__.get(self.name) is self:  # the module does not define it: a wrong table
            raise AttributeError(f"'Tensor' object has no attribute '{self.name}'")
        return getattr(Tensor if instance is None else instance, self.name)


def install_on_first_use(load: Callable[[], None], names: tuple[str, ...]) -> None:
    """Set :class:`OnFirstUse` placeholders for ``names``, the Tensor methods that ``load``
    brings."""
    for name in names:
        setattr(Tensor, name, OnFirstUse(load, name))


def _inplace_form(row: Row) -> Callable:
    """``Tensor.<name>_``: the functional form's result written into the tensor."""
    form, name, kernel = row.function, row.name + "_", row.kernel
    accepted = getattr(kernel, "accepts", frozenset())

    def inplace(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        fast = kernel if kernel is not None and accepted.issuperset(kwargs) else None
        return apply_inplace(self, name, form, *args, kernel=fast, **kwargs)

    inplace.__name__ = inplace.__qualname__ = name
    inplace.__doc__ = f"``{row.name}`` in place: ``x.{name}(...)`` writes ``{row.name}(x, ...)`` into x."
    return inplace


# -- operators ---------------------------------------------------------------------------------
# A Python number takes the ops' scalar forms: one edge, nothing broadcast, nothing promoted
# (``promote`` gives the same dtypes), which is what long chains of small ops spend their
# time on.

_add_scalar = E.AddScalar.apply
_sub_scalar = E.SubScalar.apply
_rsub_scalar = E.RsubScalar.apply
_mul_scalar = E.MulScalar.apply
_div_scalar = E.DivScalar.apply
_pow_scalar = E.PowScalar.apply
_add = E.Add.apply
_sub = E.Sub.apply
_mul = E.Mul.apply
_div = E.Div.apply
_coerce = F._coerce


@method()
def __add__(self: Tensor, other: Any) -> Tensor:
    kind = other.__class__
    if kind is float or kind is int:
        return _add_scalar(self, other)
    return _add(self, other if kind is Tensor else _coerce(self, other))


@method()
def __radd__(self: Tensor, other: Any) -> Tensor:
    kind = other.__class__
    if kind is float or kind is int:
        return _add_scalar(self, other)
    return _add(_coerce(self, other), self)


@method()
def __sub__(self: Tensor, other: Any) -> Tensor:
    kind = other.__class__
    if kind is float or kind is int:
        return _sub_scalar(self, other)
    return _sub(self, other if kind is Tensor else _coerce(self, other))


@method()
def __rsub__(self: Tensor, other: Any) -> Tensor:
    kind = other.__class__
    if kind is float or kind is int:
        return _rsub_scalar(self, other)
    return _sub(_coerce(self, other), self)


@method()
def __mul__(self: Tensor, other: Any) -> Tensor:
    kind = other.__class__
    if kind is float or kind is int:
        return _mul_scalar(self, other)
    return _mul(self, other if kind is Tensor else _coerce(self, other))


@method()
def __rmul__(self: Tensor, other: Any) -> Tensor:
    kind = other.__class__
    if kind is float or kind is int:
        return _mul_scalar(self, other)
    return _mul(_coerce(self, other), self)


@method()
def __truediv__(self: Tensor, other: Any) -> Tensor:
    kind = other.__class__
    if kind is float or kind is int:
        return _div_scalar(self, other)
    return _div(self, other if kind is Tensor else _coerce(self, other))


@method()
def __rtruediv__(self: Tensor, other: Any) -> Tensor:
    # PyTorch computes number / tensor as number * reciprocal(tensor): its node is a Mul.
    return named(_div(other if other.__class__ is float else _coerce(self, other), self), "MulBackward0")


@method()
def __pow__(self: Tensor, other: Any) -> Tensor:
    kind = other.__class__
    if kind is float or kind is int:
        return _pow_scalar(self, other)
    return E.Pow.apply(self, _coerce(self, other))


@method()
def __rpow__(self: Tensor, other: Any) -> Tensor:
    # number ** tensor is PyTorch's pow.Scalar (PowBackward2).
    return named(E.Pow.apply(_coerce(self, other), self), "PowBackward2", (1,))


@method()
def __matmul__(self: Tensor, other: Any) -> Tensor:
    return Matmul.apply(*lower_precision(self, other))


@method()
def __rmatmul__(self: Tensor, other: Any) -> Tensor:
    return Matmul.apply(*lower_precision(other, self))


@method()
def __neg__(self: Tensor) -> Tensor:
    return E.Neg.apply(self)


@method()
def __pos__(self: Tensor) -> Tensor:
    return self


@method()
def __abs__(self: Tensor) -> Tensor:
    return E.Abs.apply(self)


@method()
def __floordiv__(self: Tensor, other: Any) -> Tensor:
    return E.FloorDivide.apply(self, other)


@method()
def __rfloordiv__(self: Tensor, other: Any) -> Tensor:
    return E.FloorDivide.apply(other, self)


@method()
def __mod__(self: Tensor, other: Any) -> Tensor:
    return E.Remainder.apply(self, other)


@method()
def __rmod__(self: Tensor, other: Any) -> Tensor:
    return E.Remainder.apply(other, self)


def _compare(self: Tensor, other: Any, ufunc: Any) -> Tensor:
    if other is None:
        return NotImplemented  # type: ignore[return-value]
    return E.Compare.apply(self, _coerce(self, other), ufunc=ufunc)


def _comparison(ufunc: Any) -> Callable:
    def operator(self: Tensor, other: Any) -> Tensor:
        return _compare(self, other, ufunc)

    return operator


def _bitwise_operator(form: Callable, reflected: bool) -> Callable:
    """``&``, ``|``, ``^`` (and their reflections): the bitwise forms, which refuse floats
    (on bools they are the logical ops)."""

    def operator(self: Tensor, other: Any) -> Tensor:
        if other is None:
            return NotImplemented  # type: ignore[return-value]
        return form(other, self) if reflected else form(self, other)

    return operator


for _name, _ufunc in (("__eq__", np.equal), ("__ne__", np.not_equal), ("__lt__", np.less),
                      ("__le__", np.less_equal), ("__gt__", np.greater), ("__ge__", np.greater_equal)):
    _WRITTEN[_name] = _comparison(_ufunc)
for _name, _form in (("and", _bitwise.bitwise_and), ("or", _bitwise.bitwise_or), ("xor", _bitwise.bitwise_xor)):
    _WRITTEN[f"__{_name}__"] = _bitwise_operator(_form, False)
    _WRITTEN[f"__r{_name}__"] = _bitwise_operator(_form, True)
del _name, _ufunc, _form


def _truth_inplace(name: str) -> Callable:
    """``x.gt_(y)`` ...: the comparison written into ``x`` in its own dtype (1 and 0).  Through
    ``copy_``, so that a tensor with history gets a node whose gradient is zero, as PyTorch's."""

    def inplace(self: Tensor, other: Any) -> Tensor:
        return self.copy_(getattr(F, name)(self, other))

    inplace.__name__ = name + "_"
    return inplace


for _name in ("eq", "ne", "not_equal", "lt", "less", "le", "less_equal", "gt", "greater", "ge", "greater_equal",
              "logical_and", "logical_or", "logical_xor"):
    _WRITTEN[_name + "_"] = _truth_inplace(_name)
del _name


_WRITTEN["__lshift__"] = _bitwise.bitwise_left_shift
_WRITTEN["__rshift__"] = _bitwise.bitwise_right_shift


@method()
def __invert__(self: Tensor) -> Tensor:
    if self._data.dtype == np.bool_:
        return E.LogicalNot.apply(self)
    if self._data.dtype.kind not in "iu":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return E.NoGradientUfunc.apply(self, np.invert)


@method()
def __getitem__(self: Tensor, index: Any) -> Tensor:
    return Index.apply(self, _index_key(index))


@method()
def __setitem__(self: Tensor, index: Any, value: Any) -> None:
    index = _index_key(index)
    self._check_inplace()
    if grad_state.enabled and (self.requires_grad or (isinstance(value, Tensor) and value.requires_grad)) \
            or dual_state.level_open:
        apply_inplace(self, "__setitem__", IndexPut.apply, value, index)
        return
    value = value._data if isinstance(value, Tensor) else value
    try:
        self._data[index] = value
    except ValueError as error:
        if "broadcast" not in str(error):
            raise
        raise setitem_error(self._data, index, value) from None
    self._mark_modified("__setitem__")


@method()
def __iadd__(self: Tensor, other: Any) -> Tensor:
    return self.add_(other)


@method()
def __isub__(self: Tensor, other: Any) -> Tensor:
    return self.sub_(other)


@method()
def __imul__(self: Tensor, other: Any) -> Tensor:
    return self.mul_(other)


@method()
def __itruediv__(self: Tensor, other: Any) -> Tensor:
    return self.div_(other)


def _index_key(index: Any) -> tuple:
    """A Python index as a tuple NumPy understands (Tensors become arrays)."""
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    for item in index:
        if isinstance(item, Tensor):
            item = item._data
            if item.dtype.kind in "iu" and item.ndim == 0:
                item = int(item)
        elif isinstance(item, list):
            item = np.asarray([x.item() if isinstance(x, Tensor) else x for x in item])
            if item.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        if isinstance(item, np.ndarray) and item.dtype.kind == "f":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        out.append(item)
    return tuple(out)


# -- transposes -----------------------------------------------------------------------------------


def _t_property(self: Tensor) -> Tensor:
    # PyTorch's .T is a permute (PermuteBackward0), not t(), and a new tensor even in 1-D.
    return self.permute(*reversed(range(self._data.ndim))) if self._data.ndim else self


def _mt_property(self: Tensor) -> Tensor:
    if self._data.ndim < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got {self._data.ndim}-D tensor.")
    return self.transpose(-2, -1)


_WRITTEN["T"] = property(_t_property, doc="The tensor with its dims reversed.")
_WRITTEN["mT"] = property(_mt_property, doc="The last two dims swapped.")
_WRITTEN["H"] = property(lambda self: _complex.conj(_t_property(self)), doc="The conjugate transpose (real tensors: .T).")
_WRITTEN["mH"] = property(lambda self: _complex.conj(_mt_property(self)), doc="The conjugate of .mT (real tensors: .mT).")
_WRITTEN["real"] = property(_complex.real_part, _complex.set_real_part, doc=_complex.real_part.__doc__)
_WRITTEN["imag"] = property(_complex.imag_part, _complex.set_imag_part, doc=_complex.imag_part.__doc__)


# -- conversions ------------------------------------------------------------------------------------


@method()
def to(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """``to(dtype)``, ``to(device, dtype=None)``, ``to(other)`` (its device and dtype): this
    tensor when nothing changes (unless ``copy=True``), else a converted copy, recorded as
    PyTorch's ``ToCopyBackward0`` (a device move sends the gradient back to this device)."""
    dtype, where, copy = parse_to_arguments(args, kwargs)
    target = None if where is None else resolve_device(where)
    if target is not None and target != self.device:
        kind = None if dtype is None else _dt.to_numpy(dtype)
        if kind is not None and kind.kind not in "fcV" and self._rg:  # an integer copy carries no gradient
            return _make(to_device(self._data, target).astype(kind))
        return E.ToDevice.apply(self, target, kind)
    if dtype is None:
        return self.clone() if copy else self
    kind = _dt.to_numpy(dtype)
    if kind == self._data.dtype and not copy:
        return self
    return E.Cast.apply(self, kind)


def parse_to_arguments(args: tuple, kwargs: dict) -> tuple:
    """``to``'s arguments, as PyTorch parses them: (dtype, device, copy)."""
    unexpected = set(kwargs) - {"dtype", "device", "non_blocking", "copy", "memory_format"}
    if unexpected:
        raise TypeError(f"to() got an unexpected keyword argument '{unexpected.pop()}'")
    dtype, where, copy = kwargs.get("dtype"), kwargs.get("device"), kwargs.get("copy", False)
    flags = []
    for a in args:
        if isinstance(a, (_dt.dtype, np.dtype)) or (isinstance(a, type) and issubclass(a, (float, int, bool, np.generic))):
            dtype = a
        elif isinstance(a, Tensor):
            dtype, where = a.dtype, a.device
        elif isinstance(a, bool):
            flags.append(a)  # non_blocking, then copy
        elif isinstance(a, (str, int, device)):
            where = a
        elif a is not None:
            raise TypeError(f"to() received an invalid combination of arguments: got {type(a).__name__}")
    if len(flags) > 1:
        copy = flags[1]
    return dtype, where, copy


@method(name="type")
def type_method(self: Tensor, dtype: Any = None, non_blocking: bool = False, **kwargs: Any) -> Any:
    """No argument: the legacy type name, ``'chainrule.FloatTensor'`` (PyTorch's
    ``'torch.FloatTensor'``).  A legacy type (``chainrule.LongTensor``), its name
    (``'torch.LongTensor'``) or a dtype: a converted copy, or this tensor if it already is one."""
    unexpected = set(kwargs) - {"async", "memory_format"}  # PyTorch's old spelling, and a no-op here
    if unexpected:
        raise TypeError(f"type() got an unexpected keyword argument '{unexpected.pop()}'")
    if dtype is None:
        return f"{_dt.printed.namespace}.{_dt.from_numpy(self._data.dtype).legacy_name}"
    return self.to(_dt.get_default_dtype() if dtype is Tensor else _dt.resolve_type(dtype))


@method()
def type_as(self: Tensor, other: Tensor) -> Tensor:
    return self.to(other.dtype)


def _cast_to(target: _dt.dtype) -> Callable:
    def cast(self: Tensor, memory_format: Any = None) -> Tensor:
        return self.to(target)

    cast.__name__ = target.name
    cast.__doc__ = f"This tensor as {target!r} (itself if it already is)."
    return cast


for _name, _target in (("float", _dt.float32), ("double", _dt.float64), ("half", _dt.float16),
                       ("bfloat16", _dt.bfloat16), ("long", _dt.int64), ("int", _dt.int32), ("bool", _dt.bool),
                       ("short", _dt.int16), ("char", _dt.int8), ("byte", _dt.uint8), ("cfloat", _dt.complex64),
                       ("cdouble", _dt.complex128)):
    _WRITTEN[_name] = _cast_to(_target)
del _name, _target


@method()
def cpu(self: Tensor, memory_format: Any = None) -> Tensor:
    """This tensor in host memory: itself when it is there, else a copy (recorded)."""
    if type(self._data) is np.ndarray:
        return self
    return self.to(CPU)


@method()
def cuda(self: Tensor, device: Any = None, non_blocking: bool = False, memory_format: Any = None) -> Tensor:
    """This tensor on a GPU (``device``: an index, ``"cuda:1"``; None: the current one)."""
    return self.to("cuda" if device is None else device if not isinstance(device, int) else f"cuda:{device}")


@method()
def clone(self: Tensor, *, memory_format: Any = None) -> Tensor:
    return E.Clone.apply(self)


@method()
def contiguous(self: Tensor, memory_format: Any = None) -> Tensor:
    if self._data.flags.c_contiguous:
        return self
    return self.clone()


@method(name="where")
def where_method(self: Tensor, condition: Any, other: Any) -> Tensor:
    """``x.where(condition, y)``: x where condition holds, y elsewhere."""
    return F.where(condition, self, other)


# -- in-place forms that are not a functional form written back ---------------------------------


@method()
def zero_(self: Tensor) -> Tensor:
    return apply_inplace(self, "zero_", overwrite, 0, kernel=overwrite_kernel)


@method()
def fill_(self: Tensor, value: Any) -> Tensor:
    return apply_inplace(self, "fill_", overwrite, value, kernel=overwrite_kernel)


@method()
def copy_(self: Tensor, src: Any, non_blocking: bool = False) -> Tensor:
    src_shape = src._data.shape if isinstance(src, Tensor) else np.shape(src)
    try:
        if np.broadcast_shapes(src_shape, self._data.shape) != self._data.shape:
            raise ValueError
    except ValueError:
        try:
            broadcast = np.broadcast_shapes(src_shape, self._data.shape)
        except ValueError:
            raise broadcast_error([self._data, np.empty(src_shape, dtype=bool)]) from None
        raise RuntimeError(
            f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
            f"{list(broadcast)}"
        ) from None
    return apply_inplace(self, "copy_", overwrite, src, kernel=overwrite_kernel)


@method()
def index_put_(self: Tensor, indices: tuple, values: Any, accumulate: bool = False) -> Tensor:
    return apply_inplace(self, "index_put_", IndexPut.apply, values, _index_key(tuple(indices)), accumulate,
                         kernel=put_kernel)


@method()
def fill_diagonal_(self: Tensor, fill_value: Any, wrap: bool = False) -> Tensor:
    shape = self._data.shape
    if len(shape) < 2 or (len(shape) > 2 and len(set(shape)) != 1):
        raise RuntimeError("all dimensions of input must be of equal length" if len(shape) > 2
                           else "dimensions must larger than 1")
    if wrap and len(shape) == 2 and shape[0] > shape[1]:
        step = shape[1] + 1  # a tall matrix: the diagonal starts again after a skipped row
        rows = np.arange(shape[0])
        rows = rows[rows % step != shape[1]]
        self[rows, rows % step] = fill_value
    else:
        index = np.arange(min(shape))
        self[(index,) * len(shape)] = fill_value
    return self


@method()
def multinomial(self: Tensor, num_samples: int, replacement: bool = False, *, generator: Any = None) -> Tensor:
    """``chainrule.multinomial(self, ...)``: indices drawn from each row's distribution."""
    return _multinomial(self, num_samples, replacement, generator=generator)


@method()
def bernoulli(self: Tensor, p: Any = None, *, generator: Any = None) -> Tensor:
    """``chainrule.bernoulli(self, ...)``: 1 with probability ``self`` (or ``p``), else 0."""
    return _bernoulli(self, p, generator=generator)


@method()
def unfold(self: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Every window of ``size`` elements along ``dimension``, ``step`` apart: that dim becomes
    the window count and a last dim of ``size`` is added (``x.unfold(2, p, p).unfold(3, p, p)``
    cuts images into p x p patches)."""
    axis = _dim(dimension, max(self._data.ndim, 1))
    length = self._data.shape[axis] if self._data.ndim else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {axis} is {length} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if not self._data.ndim:
        return self.reshape(1)[:size]
    windows = [F.narrow(self, axis, start, size) for start in range(0, length - size + 1, step)]
    return F.movedim(F.stack(windows, axis), axis + 1, -1)


@method()
def get_device(self: Tensor) -> int:
    """The device's index: -1 for the CPU, as PyTorch."""
    index = self.device.index
    return -1 if self.device.type == "cpu" else (index or 0)


@method()
def is_signed(self: Tensor) -> bool:
    """Whether the dtype can hold negative numbers (False for uint8 and bool)."""
    return self._data.dtype.kind not in "ub"


@method()
def is_same_size(self: Tensor, other: Tensor) -> bool:
    return tuple(self._data.shape) == tuple(other._data.shape)


@method()
def to_sparse(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """``chainrule.sparse``'s COO form of this tensor (the module is loaded on first use)."""
    return _upcalls.sparse().to_sparse(self, *args, **kwargs)


@method()
def to_sparse_coo(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """:meth:`to_sparse`."""
    return _upcalls.sparse().to_sparse(self, *args, **kwargs)


@method()
def to_sparse_csr(self: Tensor, dense_dim: int | None = None) -> Tensor:
    """``chainrule.sparse``'s CSR form of this matrix (the module is loaded on first use)."""
    return _upcalls.sparse().to_sparse_csr(self, dense_dim)


@method()
def to_dense(self: Tensor, dtype: Any = None, *, masked_grad: bool | None = None) -> Tensor:
    """A dense tensor is its own dense form."""
    return self if dtype is None else self.to(dtype)


@method()
def is_nonzero(self: Tensor) -> bool:
    """The truth of a one-element tensor (PyTorch's errors for any other)."""
    if self._data.size == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if self._data.size > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(self)


def _along(self: Tensor, dim: int, index: Any) -> tuple:
    index = index._data if isinstance(index, Tensor) else np.asarray(index)
    return (slice(None),) * _dim(dim, self._data.ndim) + (index.reshape(-1),)


@method()
def index_fill_(self: Tensor, dim: int, index: Any, value: Any) -> Tensor:
    self[_along(self, dim, index)] = value
    return self


@method()
def index_add_(self: Tensor, dim: int, index: Any, source: Any, *, alpha: Any = 1) -> Tensor:
    if alpha != 1:
        source = source * alpha
    return self.index_put_(_along(self, dim, index), source, accumulate=True)


@method()
def index_copy_(self: Tensor, dim: int, index: Any, source: Any) -> Tensor:
    self[_along(self, dim, index)] = source
    return self


@method()
def storage_offset(self: Tensor) -> int:
    """Where this tensor starts in its storage, in elements (a view's offset into its base)."""
    data, root = self._data, storage_root(self._data)
    if isinstance(data, np.ndarray):
        start = data.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    else:  # (a device array)
        start = data.data.ptr - root.data.ptr
    return start // data.itemsize if data.itemsize else 0


# -- shared memory (Hogwild training with torch.multiprocessing) -------------------------------


@method()
def is_pinned(self: Tensor) -> bool:
    """False: chainrule does not page-lock host memory."""
    return False


@method()
def pin_memory(self: Tensor) -> Tensor:
    """For copies to a GPU: PyTorch's error where there is none, as on a CPU-only PyTorch;
    with CuPy's GPU, a copy (chainrule does not page-lock host memory, so a later ``.cuda()``
    copies as from any host tensor)."""
    if not cuda_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")
    return self.clone()


@method()
def is_shared(self: Tensor) -> bool:
    """Whether the storage is in shared memory (``share_memory_``)."""
    import mmap  # (here: the standard library's mmap is loaded only by code that shares memory)

    return isinstance(self._data, np.ndarray) and isinstance(storage_root(self._data).base, mmap.mmap)


@method()
def share_memory_(self: Tensor) -> Tensor:
    """Move the storage to shared memory: an anonymous shared mapping, which processes forked
    from this one (``torch.multiprocessing.Process``) read and write in place, so that their
    optimizer steps reach this process's parameters.  Nothing happens for a tensor already
    shared or on a GPU."""
    if self.is_shared() or not isinstance(self._data, np.ndarray):
        return self
    import mmap

    shared = np.ndarray(self._data.shape, self._data.dtype, buffer=mmap.mmap(-1, max(self._data.nbytes, 1)))
    shared[...] = self._data
    self._data = shared
    if self._vc is not None and self._vc.root is not None:  # its version counter watches the new storage
        self._vc.root = storage_root(shared)
    return self


def _view_inplace(name: str, view: Callable) -> Callable:
    """An in-place view op (unsqueeze_, t_ ...): the tensor becomes ``view(tensor, ...)``."""

    def inplace(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        self._check_inplace()
        result = view(self, *args, **kwargs)
        if self.grad_fn is None:
            self._data = result._data  # a leaf stays a leaf
        else:
            self._data, self.grad_fn, self._output_nr = result._data, result.grad_fn, 0
        return self

    inplace.__name__ = name
    return inplace


for _name, _view in (("unsqueeze_", F.unsqueeze), ("t_", F.t), ("transpose_", F.transpose),
                     ("squeeze_", lambda x, dim=None: F.squeeze(x) if dim is None else F.squeeze(x, dim))):
    _WRITTEN[_name] = _view_inplace(_name, _view)
del _name, _view


def _random_fill(name: str, draw: Callable, check: Callable | None = None, layout: bool = False) -> Callable:
    """An in-place random fill (``normal_`` ...): new values drawn (on the tensor's device),
    never recorded; ``check(tensor, *args)`` refuses what PyTorch refuses.  ``layout``: ``draw``
    takes ``contiguous=`` (normal_'s kernel depends on it)."""

    def fill(self: Tensor, *args: Any, generator: Any = None, **kwargs: Any) -> Tensor:
        if check is not None:
            check(self, *args, **kwargs)
        self._check_inplace()
        array = self._data
        # PyTorch's kernels draw along a strided view's memory.  (Only views: an op's own layout
        # here may differ from PyTorch's contiguous result.)
        order = visiting_order(array) if self._view_of is not None else None
        if layout:
            kwargs["contiguous"] = self._view_of is None or array.flags.c_contiguous
        if order is not None:  # (a tensor argument, bernoulli_'s p, follows its elements)
            args = tuple(_permuted(value, array.shape, order) for value in args)
            kwargs = {key: _permuted(value, array.shape, order) for key, value in kwargs.items()}
        rng = _generator(generator, self.device)
        array[...] = along_memory(array.shape, order, lambda shape: draw(rng, shape, array.dtype, *args, **kwargs))
        self._mark_modified(name)
        return self

    fill.__name__ = name
    return fill


def _permuted(value: Any, shape: tuple, order: tuple) -> Any:
    """``value`` as is, or (a tensor) broadcast to ``shape`` with its axes in ``order``."""
    if not isinstance(value, Tensor):
        return value
    return _make(get_array_module(value._data).broadcast_to(value._data, shape).transpose(order))


def _continuous(distribution: str, positive: str | None = None) -> Callable:
    """The checks of a continuous distribution's fill: a floating tensor, and (``positive``)
    its scale parameter above 0."""

    def check(tensor: Tensor, *args: Any, **kwargs: Any) -> None:
        if not tensor.dtype.is_floating_point:
            raise RuntimeError(f"{distribution} distribution is a continuous probability distribution. dtype must "
                               f"be a floating point but you specified {_scalar_name(tensor)}")
        if positive is not None:
            name, position, default = _SCALES[positive]
            value = kwargs.get(name, args[position] if len(args) > position else default)
            if not value > 0:
                raise RuntimeError(f"{positive} expects {name if name != 'lambd' else 'lambda'} > 0.0, but found "
                                   f"{name if name != 'lambd' else 'lambda'}={value}")

    return check


#: The scale each fill checks: (its name, its position, its default).
_SCALES = {"exponential_": ("lambd", 0, 1.0), "cauchy_": ("sigma", 1, 1.0), "log_normal_": ("std", 1, 2.0)}


def _geometric_check(tensor: Tensor, p: float, **_: Any) -> None:
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")


def _normal_draw(rng: Any, shape: tuple, dtype: Any, mean: float = 0.0, std: float = 1.0, *,
                 contiguous: bool) -> Any:
    """``normal_(mean, std)``: on the CPU's stream, PyTorch's kernel for the tensor's layout."""
    if isinstance(rng, CpuSampler):
        return rng.normal(mean, std, shape, dtype=dtype, contiguous=contiguous)
    return rng.normal(mean, std, shape, dtype=dtype)


def _normal_check(tensor: Tensor, mean: float = 0.0, std: float = 1.0, **_: Any) -> None:
    if tensor._data.dtype.kind not in "fcV":
        raise _dt.not_implemented("normal_kernel_cpu", tensor._data.dtype)
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")


def _uniform_check(tensor: Tensor, a: float = 0.0, b: float = 1.0, **_: Any) -> None:
    if tensor._data.dtype.kind not in "fcV":
        raise _dt.not_implemented("check_uniform_bounds", tensor._data.dtype)
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a:g} > to={b:g}")


_WRITTEN["normal_"] = _random_fill("normal_", _normal_draw, _normal_check, layout=True)
for _name, _draw, _check in (
    ("uniform_", lambda rng, shape, dtype, a=0.0, b=1.0: rng.uniform(a, b, shape, dtype=dtype), _uniform_check),
    ("bernoulli_", lambda rng, shape, dtype, p=0.5: _bernoulli_draw(rng, shape, dtype, p), None),
    ("exponential_", lambda rng, shape, dtype, lambd=1.0: rng.exponential(1.0 / lambd, shape, dtype=dtype),
     _continuous("Exponential", "exponential_")),
    ("log_normal_", lambda rng, shape, dtype, mean=1.0, std=2.0: rng.lognormal(mean, std, shape, dtype=dtype),
     _continuous("Log-normal", "log_normal_")),
    ("cauchy_", lambda rng, shape, dtype, median=0.0, sigma=1.0: rng.cauchy(median, sigma, shape, dtype=dtype),
     _continuous("Cauchy", "cauchy_")),
    ("geometric_", lambda rng, shape, dtype, p: rng.geometric(p, shape, dtype=dtype), _geometric_check),
):
    _WRITTEN[_name] = _random_fill(_name, _draw, _check)
del _name, _draw, _check


def _bernoulli_draw(rng: Any, shape: tuple, dtype: Any, p: Any) -> Any:
    """``bernoulli_(p)``: 1 where a uniform is below ``p`` (a number or a tensor of them)."""
    if isinstance(p, Tensor):
        p = p._data
    if hasattr(rng, "bernoulli"):  # (the CPU's stream: PyTorch's draws)
        return rng.bernoulli(p, shape, dtype)
    return rng.uniform(0.0, 1.0, shape) < p


def _scalar_name(tensor: Tensor) -> str:
    """PyTorch's name of a tensor's scalar type in messages: Float, Long, Bool ..."""
    return _scalar(tensor._data)


@method()
def polygamma(self: Tensor, n: int) -> Tensor:
    """``chainrule.polygamma(n, self)``."""
    return _polygamma(n, self)


@method()
def polygamma_(self: Tensor, n: int) -> Tensor:
    """``polygamma`` in place: ``x.polygamma_(n)`` writes ``chainrule.polygamma(n, x)`` into x."""
    return apply_inplace(self, "polygamma_", polygamma, n)


@method()
def random_(self: Tensor, *args: Any, generator: Any = None, **kwargs: Any) -> Tensor:
    """Integers drawn uniformly from ``[from, to)`` (``random_(to)``: from 0; ``random_()``: from
    0 to the largest integer the dtype holds exactly)."""
    bounds = list(args)
    if "from" in kwargs:
        if "to" not in kwargs and not args:
            raise TypeError("random_() received an invalid combination of arguments - got (from=int, ), but "
                            "expected one of: (*, Generator generator), (int from, int to, *, Generator generator), "
                            "(int to, *, Generator generator)")
        bounds = [kwargs.pop("from")] + bounds
    if "to" in kwargs:
        bounds = (bounds or [0]) + [kwargs.pop("to")]
    if kwargs:
        raise TypeError(f"random_() got an unexpected keyword argument '{next(iter(kwargs))}'")
    dtype = self._data.dtype
    if len(bounds) == 1:
        low, high = 0, int(bounds[0])
    elif len(bounds) == 2:
        low, high = int(bounds[0]), (None if bounds[1] is None else int(bounds[1]))
    else:
        low, high = 0, None
    if high is None:  # the largest integer + 1 the dtype represents exactly (PyTorch's default)
        high = (2 ** (np.finfo(dtype).nmant + 1) + 1) if dtype.kind == "f" else (
            2 if dtype.kind == "b" else int(np.iinfo(dtype).max) + 1)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    if dtype.kind in "iub":
        smallest, largest = (0, 1) if dtype.kind == "b" else (int(np.iinfo(dtype).min), int(np.iinfo(dtype).max))
        name = _dt.cpp_name(dtype)
        if low < smallest or low > largest:
            raise RuntimeError(f"from is out of bounds for {name}")
        if high - 1 > largest:
            raise RuntimeError(f"to - 1 is out of bounds for {name}")
    if not bounds and hasattr(_generator(generator, self.device), "full_range"):  # (the CPU's stream)
        return _random_fill("random_", lambda rng, shape, dtype: rng.full_range(shape, dtype))(self, generator=generator)
    return _random_fill("random_", lambda rng, shape, dtype: rng.integers(low, high, shape, dtype=dtype))(
        self, generator=generator)


@method()
def put_(self: Tensor, index: Any, source: Any, accumulate: bool = False) -> Tensor:
    """Write (or add) ``source``'s elements at the flat positions ``index`` of this tensor."""
    index = index if isinstance(index, Tensor) else _new_tensor(index)
    if index.numel() != source.numel():
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got "
                         f"source.numel() = {source.numel()}, index.numel() = {index.numel()}")
    if source.dtype != self.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got self.dtype = "
                           f"{_scalar_name(self)} and source.dtype = {_scalar_name(source)}")
    flat = self.reshape(-1).clone()  # (any layout: written back whole)
    flat.index_put_((index.reshape(-1),), source.reshape(-1), accumulate)
    return self.copy_(flat.reshape(self.shape))


# -- new tensors like this one (its dtype unless told otherwise) ---------------------------------


@method()
def new(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """PyTorch's legacy constructor: ``x.new(2, 3)`` an uninitialised tensor, ``x.new(data)`` a
    copy of ``data``, both of this tensor's dtype and device."""
    if not args:
        return empty(0, dtype=self.dtype, device=self.device)
    if len(args) == 1 and not isinstance(args[0], (int, Size)):
        return _new_tensor(args[0], dtype=self.dtype, device=self.device)
    return empty(*args, dtype=self.dtype, device=self.device)


@method()
def new_tensor(self: Tensor, data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _new_tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


def _new_like(name: str, factory: Callable) -> Callable:
    def new(self: Tensor, *sizes: Any, size: Any = None, dtype: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
        return factory(*sizes, size=size, dtype=dtype or self.dtype, device=device or self.device,
                       requires_grad=requires_grad)

    new.__name__ = name
    new.__doc__ = f"``chainrule.{name[4:]}(...)`` with this tensor's dtype and device unless told otherwise."
    return new


for _name, _factory in (("new_zeros", zeros), ("new_ones", ones), ("new_empty", empty)):
    _WRITTEN[_name] = _new_like(_name, _factory)
del _name, _factory


@method()
def new_full(self: Tensor, size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


install()
