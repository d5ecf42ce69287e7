"""Tensor: a backend array, its gradient, and its place in the graph.

This module is the data holder only: storage, dtype/shape/device, the gradient, the version
counter, hooks and the ``backward`` entry.  Operators, in-place forms and every other method
are installed by the functional layer from one table (``chainrule.tensor_methods``); nothing
about an op is written here.  :func:`_make` is the one constructor every tensor goes through.
"""
from __future__ import annotations

import operator
import weakref
from typing import Any, Callable, Iterable

import numpy as np

from . import dtypes as _dt
from ._repr import tensor_repr
from .autograd import engine as _engine
from .autograd import function as _function
from .autograd import observe
from .autograd.function import named
from .autograd.grad_mode import grad_state
from .autograd.node import RemovableHandle, add_hook
from .autograd.versions import VersionCounter, storage_root
from .backend import CPU, array_backend, device, device_of, get_array_module, to_numpy

_ndarray = np.ndarray


class Size(tuple):
    """A tensor's shape: a tuple that prints like PyTorch's ``torch.Size``."""

    def __repr__(self) -> str:
        return f"{_dt.printed.namespace}.Size({list(self)})"

    def numel(self) -> int:
        count = 1
        for n in self:
            count *= n
        return count


def _is_a_size(data: Any) -> bool:
    """One int given to the legacy constructor (``Tensor(3)``, a NumPy integer, a 0-d integer
    array) is a size, as in PyTorch; a bool is data."""
    if isinstance(data, np.ndarray):
        return data.ndim == 0 and data.dtype.kind in "iu"
    return hasattr(data, "__index__") and not isinstance(data, (bool, np.bool_, Tensor))


class Tensor:
    """An n-dimensional array that can record the ops applied to it.

    >>> w = chainrule.tensor([2.0], requires_grad=True)
    >>> loss = (12.0 - w * 5.0) ** 2; loss.backward(); w.grad
    tensor([-20.])
    """

    # The hot attributes are slots; rarely set ones live in __dict__ and fall back to the
    # class defaults below, so creating a tensor (once per op) sets only five fields.
    __slots__ = ("_data", "_grad", "_rg", "grad_fn", "_vc", "__dict__", "__weakref__")
    _hooks: list | None = None
    _post_accumulate_hooks: list | None = None
    _output_nr = 0
    _cut: str | None = None
    _retains_grad = False
    _view_of: tuple | None = None  # (base, view op, its arguments) for views made by an op
    _tangent: Any = None  # forward-mode AD: the tangent at the open dual level (autograd.forward_ad)
    name: str | None = None
    layout = _dt.strided  # a sparse tensor (chainrule.sparse) says sparse_coo or sparse_csr
    is_sparse = False
    is_sparse_csr = False
    # Numpy defers to us in mixed expressions (ndarray * Tensor -> Tensor.__rmul__).
    __array_priority__ = 1000

    def __new__(cls, *args: Any, requires_grad: bool = False, dtype: Any = None, device: Any = None) -> "Tensor":
        # PyTorch's legacy constructor: Tensor(data), or Tensor(*sizes) / Tensor(Size) for a
        # tensor of that shape (uninitialised in PyTorch; zeros here, one valid content).
        if device is not None and str(device).split(":")[0] != "cpu":
            raise RuntimeError(f"legacy constructor expects device type: cpu but device type: "
                               f"{str(device).split(':')[0]} was passed")
        data = args[0] if len(args) == 1 else [] if not args else None
        if data is None or isinstance(data, Size) or _is_a_size(data):
            shape = tuple(data) if isinstance(data, Size) else args
            if not all(hasattr(n, "__index__") and not isinstance(n, (bool, np.bool_)) for n in shape):
                raise TypeError(f"new(): argument 'size' must be tuple of ints, but found element of type "
                                f"{next(type(n).__name__ for n in shape if not hasattr(n, '__index__'))}")
            shape = tuple(operator.index(n) for n in shape)
            if any(n < 0 for n in shape):
                raise RuntimeError(f"Trying to create tensor with negative dimension "
                                   f"{next(n for n in shape if n < 0)}: {list(shape)}")
            kind = _dt.to_numpy(dtype) if dtype is not None else _dt.get_default_dtype().numpy
            return _make(np.zeros(shape, dtype=kind), cls=cls)
        if isinstance(data, (float, complex, np.floating, np.complexfloating)) or isinstance(data, (bool, np.bool_)):
            raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
        array = _to_array(data, dtype)
        if dtype is None and not isinstance(data, Tensor) and array.dtype.kind in "iubf":
            # The legacy constructor is the default float type's (FloatTensor), whatever the data.
            default = _dt.get_default_dtype().numpy
            if array.dtype != default:
                array = array.astype(default)
        return _make(array, cls=cls)

    def __init__(self, *args: Any, requires_grad: bool = False, dtype: Any = None, device: Any = None) -> None:
        if requires_grad:
            self.requires_grad_(True)

    # -- storage ------------------------------------------------------------------------
    @property
    def data(self) -> "Tensor":
        """This tensor's storage as a tensor outside the graph, as PyTorch's ``.data``:
        changes through it are not recorded (``w.data -= lr * w.grad.data``,
        ``m.weight.data.normal_(0, 0.02)``).  The backend array itself is ``numpy()``'s
        result, or ``_data`` inside chainrule."""
        out = _make(self._data)
        out._vc = VersionCounter(None)  # its own counter, and one that tracks nothing
        if self._rg and observe.cuts:
            observe.notify_cut("data", (self,), out)
        return out

    @data.setter
    def data(self, value: Any) -> None:
        array = value._data if isinstance(value, Tensor) else np.asarray(value)
        if array.shape != self._data.shape and self.grad_fn is not None:
            raise RuntimeError(
                f"data set to a tensor of shape {tuple(array.shape)} on a non-leaf tensor of "
                f"shape {tuple(self._data.shape)}"
            )
        self._data = array

    # -- metadata ---------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None) -> Any:
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_dim(dim, self._data.ndim)]

    @property
    def dtype(self) -> _dt.dtype:
        return _dt.from_numpy(self._data.dtype)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def device(self) -> device:
        """Where the data lives: ``device(type='cpu')``, ``device(type='cuda', index=0)``."""
        return CPU if type(self._data) is _ndarray else device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        return self.device.type == "cpu"

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes of all the elements."""
        return int(self._data.size) * self._data.itemsize

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def _set_grad(self, value: Any) -> None:
        # Checked as PyTorch checks it: a wrong gradient fails here, not deep in a backward.
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value.is_sparse:  # (a sparse gradient has no storage: its size and dtype are checked)
                if tuple(value.shape) != self._data.shape or value.dtype != self.dtype:
                    raise RuntimeError(f"attempting to assign a sparse gradient of size {list(value.shape)} and dtype "
                                       f"{value.dtype} to a tensor of size {list(self.shape)} and dtype {self.dtype}")
            elif value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value._data.shape)}' to a tensor of size "
                    f"'{list(self._data.shape)}'. Please ensure that the gradient and the tensor are the same size")
            elif value._data.dtype != self._data.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{_dt.from_numpy(value._data.dtype)}' to a tensor "
                    f"with dtype '{_dt.from_numpy(self._data.dtype)}'. The gradient must match the tensor's dtype.")
        self._grad = value

    #: The gradient accumulated by backward (None until then); assigning checks shape and dtype.
    grad = property(operator.attrgetter("_grad"), _set_grad)

    def _set_requires_grad(self, value: bool) -> None:
        # As in PyTorch: only a leaf's flag can change, and only floating tensors require grad.
        if not isinstance(value, (bool, np.bool_)):
            raise RuntimeError("requires_grad must be a bool")
        if self.grad_fn is not None:
            hint = "" if value else (" If you want to use a computed variable in a subgraph that doesn't "
                                     "require differentiation use var_no_grad = var.detach().")
            raise RuntimeError("you can only change requires_grad flags of leaf variables." + hint)
        if value and self._data.dtype.kind not in "fcV":
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        self._rg = bool(value)

    #: Whether ops on this tensor are recorded for backward (the slot ``_rg`` on hot paths).
    requires_grad = property(operator.attrgetter("_rg"), _set_requires_grad)

    @property
    def _version(self) -> int:
        return 0 if self._vc is None else self._vc.value

    def _version_counter(self) -> VersionCounter:
        """This storage's version counter, created on first need (most tensors never need one)."""
        counter = self._vc
        if counter is None:
            counter = self._vc = VersionCounter(storage_root(self._data))
        return counter

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind in "fV"

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    def is_contiguous(self, memory_format: Any = None) -> bool:
        """Whether the elements lie in memory in C order, or with ``memory_format``
        (``channels_last``: (N, C, H, W) stored as (N, H, W, C); ``channels_last_3d`` for 5-D)."""
        name = getattr(memory_format, "name", "contiguous_format")
        data = self._data
        if name == "contiguous_format":
            return bool(data.flags.c_contiguous)
        if name == "preserve_format":
            raise RuntimeError("preserve memory format is unsupported by the contiguous operator")
        order = {"channels_last": (4, (0, 2, 3, 1)), "channels_last_3d": (5, (0, 2, 3, 4, 1))}[name]
        return data.ndim == order[0] and bool(data.transpose(order[1]).flags.c_contiguous)

    def stride(self, dim: int | None = None) -> Any:
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[_dim(dim, self._data.ndim)]

    def data_ptr(self) -> int:
        data = self._data
        return int(data.__array_interface__["data"][0] if hasattr(data, "__array_interface__") else data.data.ptr)

    @property
    def output_nr(self) -> int:
        return self._output_nr

    @property
    def retains_grad(self) -> bool:
        return bool(self._retains_grad)

    # -- conversion -----------------------------------------------------------------------
    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The data as a NumPy array sharing its memory (a CPU tensor's; ``force=True``
        copies a GPU tensor's to the host)."""
        if type(self._data) is not _ndarray and not force:
            self._check_host("numpy")
        if self._rg:
            if not force:
                raise RuntimeError(
                    "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
                )
            if observe.cuts:
                observe.notify_cut("numpy", (self,), None)
        if observe.read:
            observe.notify_read(self, "numpy()")
        return to_numpy(self._data)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if type(self._data) is not _ndarray:
            self._check_host("numpy")
        if observe.read:
            observe.notify_read(self, "conversion to a NumPy array")
        array = to_numpy(self._data)
        return array if dtype is None else array.astype(dtype)

    def __dlpack__(self, **kwargs: Any) -> Any:
        """The data as a DLPack capsule (shared memory), for ``from_dlpack`` of NumPy, PyTorch ..."""
        if self._rg:
            raise RuntimeError("Can't export tensors that require gradient, use tensor.detach()")
        return self._data.__dlpack__(**kwargs)

    def __dlpack_device__(self) -> tuple:
        return self._data.__dlpack_device__()

    def _check_host(self, what: str) -> None:
        where = self.device
        if where.type != "cpu":
            raise TypeError(f"can't convert {where} device type tensor to {what}. Use Tensor.cpu() to "
                            f"copy the tensor to host memory first.")

    def item(self) -> Any:
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar"
            )
        if self._rg and observe.cuts:
            observe.notify_cut("item", (self,), None)
        if observe.read:
            observe.notify_read(self, "item()")
        return self._data.reshape(()).item()

    def tolist(self) -> Any:
        if self._rg and observe.cuts:
            observe.notify_cut("tolist", (self,), None)
        if observe.read:
            observe.notify_read(self, "tolist()")
        return self._data.tolist()

    def __float__(self) -> float:
        return float(self._scalar_for("float"))

    def __int__(self) -> int:
        return int(self._scalar_for("int"))

    def _scalar_for(self, conversion: str) -> Any:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                "Boolean value of Tensor with more than one value is ambiguous"
            )
        if observe.read:
            observe.notify_read(self, "bool() (Python control flow on a tensor's value)")
        return bool(self._data.reshape(()).item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Any:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        # PyTorch iterates by unbind: its pieces show UnbindBackward0.
        return (named(self[i], "UnbindBackward0") for i in range(self._data.shape[0]))

    def __hash__(self) -> int:
        return id(self)

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return format(self.item(), spec)
        if spec:  # (object's __format__, as PyTorch's: a spec only for one number)
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return repr(self)

    def __repr__(self) -> str:
        if observe.read:
            observe.notify_read(self, "printing it")
        return tensor_repr(self)

    __str__ = __repr__

    def __reduce_ex__(self, protocol: int) -> Any:
        return (_rebuild, (self._data, self.requires_grad))

    def __deepcopy__(self, memo: dict) -> "Tensor":
        if not self.is_leaf:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at the moment."
            )
        new = _make(self._data.copy(), None, self.requires_grad, type(self))
        if type(self) is not Tensor:
            for name in getattr(self, "__dict__", {}):
                if name not in _NOT_DEEPCOPIED:
                    setattr(new, name, getattr(self, name))
        if self.grad is not None:
            new.grad = self.grad.__deepcopy__(memo)
        memo[id(self)] = new
        return new

    # -- autograd -----------------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if requires_grad and self._data.dtype.kind not in "fcV":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._rg = bool(requires_grad)
        return self

    def detach(self) -> "Tensor":
        out = _make(self._data)
        out._vc = self._version_counter()
        if self.requires_grad:
            out._cut = "a .detach() call"
            if observe.cuts:
                observe.notify_cut("detach", (self,), out)
        return out

    def _is_view(self) -> bool:
        """Whether this tensor is a view of another's storage, made by a view op (PyTorch's
        ``Tensor._is_view``): advanced indexing and reshapes that had to copy are not."""
        info = self._view_of
        return info is not None and bool(np.may_share_memory(self._data, info[0]._data))

    @property
    def _base(self) -> "Tensor | None":
        """The tensor whose storage this view shares, at the root of a chain of views (PyTorch's
        ``Tensor._base``); None for a tensor that is not a view."""
        if not self._is_view():
            return None
        base = self._view_of[0]
        while base._is_view():
            base = base._view_of[0]
        return base

    def detach_(self) -> "Tensor":
        if self._is_view():
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using DistributedDataParallel (DDP) "
                "for training, and gradient_as_bucket_view is set as True, gradients are views of DDP buckets, and "
                "hence detach_() cannot be called on these gradients. To fix this error, please refer to the "
                "Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution.")
        if self.requires_grad:
            self._cut = "a .detach_() call"
            if observe.cuts:
                observe.notify_cut("detach_", (self,), self)
        self.grad_fn = None
        self._rg = False
        return self

    def retain_grad(self) -> None:
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        reference = weakref.ref(self)

        def retain(grad: "Tensor") -> None:
            tensor = reference()
            if tensor is None:
                return
            if grad._data.dtype != tensor._data.dtype:  # a float64 consumer of a float32 tensor
                grad = grad.to(tensor.dtype)
            if tensor.grad is None:
                tensor.grad = grad if grad.requires_grad else _make(grad._data.copy())
            else:
                tensor.grad = tensor.grad + grad

        retain.retains_grad = True  # hooks added later run before it, as PyTorch runs them
        self._retains_grad = True
        self.register_hook(retain)

    def register_hook(self, hook: Callable[["Tensor"], Any]) -> RemovableHandle:
        """``hook(grad)`` runs when the gradient for this tensor is computed; it may return a
        replacement gradient."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn.register_tensor_hook(self._output_nr, hook)
        if self._hooks is None:
            self._hooks = []
        hooks = self._hooks
        add_hook(hooks, hook)
        return RemovableHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook: Callable[["Tensor"], None]) -> RemovableHandle:
        """``hook(tensor)`` runs after backward has accumulated this leaf's ``.grad`` (an
        optimizer can step a parameter there, as soon as its gradient is complete)."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if self._hooks is None:
            self._hooks = []  # routes this leaf's gradient through the engine's hooked path
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = []
        self._post_accumulate_hooks.append(hook)
        return RemovableHandle(self._post_accumulate_hooks, hook)

    def backward(self, gradient: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        """Compute the gradient of this tensor with respect to the graph leaves, summing it
        into their ``.grad``: the chain rule, node by node, from here back to every leaf."""
        _engine.backward(self, None if gradient is None else [gradient], retain_graph, create_graph, inputs)

    # -- in-place changes: the checks and the version bump every in-place form makes ------------
    def _check_inplace(self) -> None:
        if self.requires_grad and self.grad_fn is None and grad_state.enabled:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation."
            )
        # An expanded view (several elements on one memory location) is NumPy's read-only
        # broadcast: PyTorch's error, not NumPy's ValueError from deep inside the write.
        if self._view_of is not None and not getattr(self._data.flags, "writeable", True):
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers to a single memory "
                "location. Please clone() the tensor before performing the operation.")

    def _mark_modified(self, op_name: str) -> None:
        """Record an in-place change: bump the version (nodes that saved this storage then
        refuse to run their backward)."""
        self._version_counter().bump(op_name)


#: Per-tensor state a deep copy does not take over: the original's hooks and graph face.
_NOT_DEEPCOPIED = {"_accumulate_grad", "_hooks", "_post_accumulate_hooks", "_retains_grad"}


def _rebuild(data: Any, requires_grad: bool) -> Tensor:
    return _make(data).requires_grad_(requires_grad)


_new_tensor = object.__new__


def _make(data: Any, grad_fn: Any = None, requires_grad: bool = False, cls: type = Tensor) -> Tensor:
    """The one constructor: a tensor (of ``cls``) around the backend array ``data``, no copy,
    no argument parsing; every op's output, constant and factory result is made here."""
    tensor = _new_tensor(cls)
    tensor._data = data
    tensor._grad = None
    tensor.grad_fn = grad_fn
    tensor._rg = requires_grad
    tensor._vc = None
    return tensor


#: A constant tensor around an array (no copy): ``Tensor._wrap(array)``.
Tensor._wrap = staticmethod(_make)

_function.bind_tensor(Tensor, _make)


def _to_array(data: Any, dtype: Any) -> np.ndarray:
    target = None if dtype is None else _dt.to_numpy(dtype)
    kinds = _leaf_types(data) if isinstance(data, (list, tuple)) else set()
    if isinstance(data, Tensor):
        array = data._data
    elif kinds and not kinds.isdisjoint(_tensor_types()):
        try:
            array = np.array(_unwrap_nested(data))
        except ValueError as error:
            if "inhomogeneous" not in str(error):
                raise
            raise _ragged(data) from None
        if target is None and array.dtype == np.float64 and np.float64 not in kinds and not any(
                isinstance(x, Tensor) and x._data.dtype == np.float64 for x in _flatten(data)):
            # Python floats next to float32 tensors stay float32, as in PyTorch.
            array = array.astype(np.float32)
        data = array
    else:
        array = data
    on_device = type(array) is not np.ndarray and array_backend(array) is not None
    if on_device:  # a device array (a GPU tensor's data): copied there
        out = get_array_module(array).array(array, dtype=target)
    else:
        try:
            out = np.array(array, dtype=target, copy=True)
        except ValueError as error:
            if "inhomogeneous" not in str(error):
                raise
            raise _ragged(array) from None
        except OverflowError:  # (Python ints beyond the dtype's range)
            raise _overflow(array, target) from None
    if target is None:
        # Arrays and NumPy scalars keep their dtype; Python floats and ints get PyTorch's (and
        # a sequence holding NumPy float64 scalars, float64, as PyTorch infers it).
        typed = on_device or isinstance(array, (np.ndarray, np.generic))
        if out.dtype == np.float64 and not (typed or isinstance(data, Tensor) or np.float64 in kinds):
            # Python floats take the default dtype, read from the floats themselves (a float32
            # round trip would lose float64's digits)
            out = out.astype(_dt.get_default_dtype().numpy, copy=False)
        elif out.dtype == np.complex128 and not (typed or isinstance(data, Tensor) or np.complex128 in kinds):
            out = out.astype(_dt.default_complex_dtype().numpy, copy=False)  # (Python complex numbers)
        elif out.dtype.kind in "iu" and out.dtype != np.uint8 and not typed:
            if out.dtype == np.uint64:  # (NumPy's type for Python ints from 2**63 to 2**64 - 1)
                raise _overflow(array, out.dtype)
            out = out.astype(np.int64)
        elif out.dtype.kind in "US":
            raise TypeError(f"new(): invalid data type '{out.dtype.name}'")
        elif out.dtype == object:
            if int in kinds or type(array) is int:  # (Python ints beyond 64 bits)
                raise _overflow(array, out.dtype)
            raise TypeError("Could not infer dtype of the given data (nested sequences of different lengths?)")
    return out


def _overflow(data: Any, target: np.dtype) -> Exception:
    """PyTorch's error for Python ints that ``target`` cannot hold: a ValueError for any int
    beyond int64's range (PyTorch reads each as a C long long first), else a RuntimeError."""
    values = _flatten(data) if isinstance(data, (list, tuple)) else (data,)
    if any(type(v) is int and not -2 ** 63 <= v < 2 ** 63 for v in values):
        return ValueError("Overflow when unpacking long long")
    return RuntimeError(f"value cannot be converted to type {target.name} without overflow")


def _ragged(data: Any) -> Exception:
    """PyTorch's error for nested sequences of different lengths, naming the first one: the
    lengths expected are those of the first entry at each depth."""
    def is_sequence(x: Any) -> bool:
        return isinstance(x, (list, tuple)) or (isinstance(x, (np.ndarray, Tensor)) and x.ndim > 0)

    shape, first = [], data
    while is_sequence(first):
        shape.append(len(first))
        if not len(first):
            break
        first = first[0]

    def first_mismatch(x: Any, dim: int) -> Exception | None:
        if dim == len(shape):
            return TypeError(f"expected a number at dim {dim}, got a sequence of length {len(x)}") \
                if is_sequence(x) else None
        if not is_sequence(x):
            return TypeError("not a sequence")
        if len(x) != shape[dim]:
            return ValueError(f"expected sequence of length {shape[dim]} at dim {dim} (got {len(x)})")
        return next((e for e in (first_mismatch(item, dim + 1) for item in x) if e is not None), None)

    return first_mismatch(data, 0) or ValueError("nested sequences of different lengths")


def _leaf_types(data: Any) -> set:
    """The types of the non-sequence items of a (nested) list or tuple, each row's collected
    in C (``set(map(type, row))``): a few percent of the cost of converting it."""
    types = set(map(type, data))
    nested = [kind for kind in types if issubclass(kind, (list, tuple))]
    if nested:
        types.difference_update(nested)
        for item in data:
            if isinstance(item, (list, tuple)):
                types |= _leaf_types(item)
    return types


def _tensor_types() -> set:
    """Tensor and its subclasses (Parameter ...)."""
    found, stack = {Tensor}, [Tensor]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                stack.append(sub)
    return found


def _flatten(data: Any) -> Iterable:
    for item in data:
        if isinstance(item, (list, tuple)):
            yield from _flatten(item)
        else:
            yield item


def _unwrap_nested(data: Any) -> Any:
    if isinstance(data, Tensor):
        return to_numpy(data._data)
    if isinstance(data, (list, tuple)):
        return [_unwrap_nested(d) for d in data]
    return data


def _dim(dim: int, ndim: int) -> int:
    limit = max(ndim, 1)
    if not -limit <= dim < limit:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-limit}, {limit - 1}], but got {dim})"
        )
    return dim % limit


