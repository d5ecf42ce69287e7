"""Tensor: a backend array, its gradient, and its place in the graph.

Operators and methods are thin calls into ``chainrule.functional`` and ``ops/``; nothing
about an op is written here.
"""
from __future__ import annotations

import operator
import weakref
from typing import Any, Callable, Iterable

import numpy as np

from . import dtypes as _dt
from .autograd.function import Node, Op, RemovableHandle, VersionCounter, named, storage_root
from .autograd.grad_mode import grad_state

_ndarray = np.ndarray


class Size(tuple):
    """A tensor's shape: a tuple that prints like PyTorch's ``torch.Size``."""

    def __repr__(self) -> str:
        return f"chainrule.Size({list(self)})"

    def numel(self) -> int:
        count = 1
        for n in self:
            count *= n
        return count


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
    name: str | None = None
    # Numpy defers to us in mixed expressions (ndarray * Tensor -> Tensor.__rmul__).
    __array_priority__ = 1000

    def __init__(self, data: Any = None, *, requires_grad: bool = False, dtype: Any = None) -> None:
        if data is None:
            data = []
        array = _to_array(data, dtype)
        if dtype is None and not isinstance(data, Tensor) and array.dtype.kind in "iubf":
            # The legacy constructor is the default float type's (FloatTensor), whatever the data.
            default = _dt.get_default_dtype().numpy
            if array.dtype != default:
                array = array.astype(default)
        _init(self, array, None, False)
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _wrap(array: Any) -> "Tensor":
        """A constant tensor around ``array`` (no copy)."""
        return _make(array, None, False)

    # -- storage ------------------------------------------------------------------------
    @property
    def data(self) -> "Tensor":
        """This tensor's storage as a tensor outside the graph, as PyTorch's ``.data``:
        changes through it are not recorded (``w.data -= lr * w.grad.data``,
        ``m.weight.data.normal_(0, 0.02)``).  The backend array itself is ``numpy()``'s
        result, or ``_data`` inside chainrule."""
        out = _make(self._data, None, False)
        out._vc = VersionCounter(None)  # its own counter, and one that tracks nothing
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
    def device(self) -> "device":
        from .backend import get_array_module

        return device("cpu" if get_array_module(self._data) is np else "cuda")

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def _set_grad(self, value: Any) -> None:
        # Checked as PyTorch checks it: a wrong gradient fails here, not deep in a backward.
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value._data.shape)}' to a tensor of size "
                    f"'{list(self._data.shape)}'. Please ensure that the gradient and the tensor are the same size")
            if value._data.dtype != self._data.dtype:
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
        if value and self._data.dtype.kind not in "fc":
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
        return self._data.dtype.kind == "f"

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)

    def stride(self, dim: int | None = None) -> Any:
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[_dim(dim, self._data.ndim)]

    def data_ptr(self) -> int:
        return int(self._data.__array_interface__["data"][0])

    @property
    def output_nr(self) -> int:
        return self._output_nr

    @property
    def retains_grad(self) -> bool:
        return bool(self._retains_grad)

    # -- conversion -----------------------------------------------------------------------
    def numpy(self, *, force: bool = False) -> np.ndarray:
        if self.requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
            )
        from .backend import to_numpy

        return to_numpy(self._data)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        from .backend import to_numpy

        array = to_numpy(self._data)
        return array if dtype is None else array.astype(dtype)

    def item(self) -> Any:
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar"
            )
        return self._data.reshape(()).item()

    def tolist(self) -> Any:
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
        if self._data.ndim == 0 or (self._data.size == 1 and spec):
            return format(self.item(), spec)
        return repr(self) if not spec else format(str(self), spec)

    def __repr__(self) -> str:
        from ._repr import tensor_repr

        return tensor_repr(self)

    __str__ = __repr__

    def __reduce_ex__(self, protocol: int) -> Any:
        return (_rebuild, (self._data, self.requires_grad))

    def __deepcopy__(self, memo: dict) -> "Tensor":
        if not self.is_leaf:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at the moment."
            )
        new = type(self).__new__(type(self))
        _init(new, self._data.copy(), None, self.requires_grad)
        if type(self) is not Tensor:
            for name in getattr(self, "__dict__", {}):
                if name not in _NOT_DEEPCOPIED:
                    setattr(new, name, getattr(self, name))
        if self.grad is not None:
            new.grad = self.grad.__deepcopy__(memo)
        memo[id(self)] = new
        return new

    def to(self, *args: Any, **kwargs: Any) -> "Tensor":
        """``to(dtype)``, ``to(device)``, ``to(other)``: a cast (a no-op when nothing changes)."""
        dtype = kwargs.get("dtype")
        copy = kwargs.get("copy", False)
        for a in args:
            if isinstance(a, _dt.dtype) or (isinstance(a, type) and issubclass(a, (float, int, bool))):
                dtype = a
            elif isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, (str, device)):
                _check_device(a)
        if "device" in kwargs:
            _check_device(kwargs["device"])
        if dtype is None:
            return self.clone() if copy else self
        target = _dt.to_numpy(dtype)
        if target == self._data.dtype and not copy:
            return self
        from .ops.elementwise import Cast

        return Cast.apply(self, target)

    def type(self, dtype: Any = None, non_blocking: bool = False, **kwargs: Any) -> Any:
        """No argument: the legacy type name, ``'chainrule.FloatTensor'`` (PyTorch's
        ``'torch.FloatTensor'``).  A legacy type (``chainrule.LongTensor``), its name
        (``'torch.LongTensor'``) or a dtype: a converted copy, or this tensor if it already is one."""
        unexpected = set(kwargs) - {"async", "memory_format"}  # PyTorch's old spelling, and a no-op here
        if unexpected:
            raise TypeError(f"type() got an unexpected keyword argument '{unexpected.pop()}'")
        if dtype is None:
            return f"chainrule.{_dt.from_numpy(self._data.dtype).legacy_name}"
        from .legacy_types import resolve

        return self.to(resolve(dtype))

    def float(self) -> "Tensor":
        return self.to(_dt.float32)

    def double(self) -> "Tensor":
        return self.to(_dt.float64)

    def half(self) -> "Tensor":
        return self.to(_dt.float16)

    def long(self) -> "Tensor":
        return self.to(_dt.int64)

    def int(self) -> "Tensor":
        return self.to(_dt.int32)

    def bool(self) -> "Tensor":
        return self.to(_dt.bool)

    def cpu(self) -> "Tensor":
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> "Tensor":
        _check_device("cuda")
        return self

    def clone(self, *, memory_format: Any = None) -> "Tensor":
        from .ops.elementwise import Clone

        return Clone.apply(self)

    def contiguous(self, memory_format: Any = None) -> "Tensor":
        if self._data.flags.c_contiguous:
            return self
        return self.clone()

    # -- autograd -----------------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError(
                f"only Tensors of floating point and complex dtype can require gradients (got {self.dtype})"
            )
        self._rg = bool(requires_grad)
        return self

    def detach(self) -> "Tensor":
        out = _make(self._data, None, False)
        out._vc = self._version_counter()
        if self.requires_grad:
            out._cut = "a .detach() call"
        return out

    def detach_(self) -> "Tensor":
        if self.requires_grad:
            self._cut = "a .detach_() call"
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
                tensor.grad = grad if grad.requires_grad else _make(grad._data.copy(), None, False)
            else:
                tensor.grad = tensor.grad + grad

        retain._retains_grad = True  # register_hook keeps it last, as PyTorch runs it
        self._retains_grad = True
        self.register_hook(retain)

    def register_hook(self, hook: Callable[["Tensor"], Any]) -> RemovableHandle:
        """``hook(grad)`` runs when the gradient for this tensor is computed; it may return a
        replacement gradient."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            node = self.grad_fn
            if node._tensor_hooks is None:
                node._tensor_hooks = {}
            node._hooked = True
            hooks = node._tensor_hooks.setdefault(self._output_nr, [])
        if hooks and getattr(hooks[-1], "_retains_grad", False):
            hooks.insert(len(hooks) - 1, hook)  # .grad of a retain_grad() tensor is the hooked gradient
        else:
            hooks.append(hook)
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
        from .autograd.engine import backward

        backward(self, None if gradient is None else [gradient], retain_graph, create_graph, inputs)

    # -- in-place -------------------------------------------------------------------------
    def _check_inplace(self) -> None:
        if self.requires_grad and self.grad_fn is None and grad_state.enabled:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation."
            )

    def _inplace(self, name: str, op: type, *args: Any) -> "Tensor":
        """Apply ``op(self, *args)`` in place: write into this storage, bump its version,
        and, when recording, become the op's output in the graph."""
        self._check_inplace()
        recording = grad_state.enabled and (
            self.requires_grad or (args and any(isinstance(a, Tensor) and a.requires_grad for a in args))
        )
        if recording:
            if self._view_of is not None:
                _check_view_of_leaf(self)
            # The op may save its input: hand it a copy, since we overwrite the original.
            before = _make(self._data.copy(), self.grad_fn, self.requires_grad)
            before._output_nr = self._output_nr
            result = op.apply(before, *args)
            _assign(self._data, result._data)
            self._mark_modified(name)
            _output_is_this_storage(result.grad_fn, result._data, self._data)
            self.grad_fn = result.grad_fn
            self._output_nr = 0
            self._rg = True
            if self._view_of is not None:
                _rebase_view(self, name)
        else:
            kernel = _inplace_kernels.get(op)
            if kernel is not None:
                kernel(self._data, *[a._data if isinstance(a, Tensor) else a for a in args])
            else:  # the op's own forward on the values, written back
                _assign(self._data, op.apply(_make(self._data, None, False), *args)._data)
            self._mark_modified(name)
        return self

    def _mark_modified(self, op_name: str) -> None:
        """Record an in-place change: bump the version (nodes that saved this storage then
        refuse to run their backward)."""
        self._version_counter().bump(op_name)

    def add_(self, other: Any, *, alpha: Any = 1) -> "Tensor":
        from .ops.elementwise import Add

        if alpha != 1:
            other = other * alpha
        return self._inplace("add_", Add, other)

    def sub_(self, other: Any, *, alpha: Any = 1) -> "Tensor":
        from .ops.elementwise import Sub

        if alpha != 1:
            other = other * alpha
        return self._inplace("sub_", Sub, other)

    def addcmul_(self, tensor1: Any, tensor2: Any, *, value: Any = 1) -> "Tensor":
        """``self += value * tensor1 * tensor2``, in place."""
        return self.add_(tensor1 * tensor2, alpha=value)

    def addcdiv_(self, tensor1: Any, tensor2: Any, *, value: Any = 1) -> "Tensor":
        """``self += value * tensor1 / tensor2``, in place."""
        return self.add_(tensor1 / tensor2, alpha=value)

    def mul_(self, other: Any) -> "Tensor":
        from .ops.elementwise import Mul

        return self._inplace("mul_", Mul, other)

    def div_(self, other: Any) -> "Tensor":
        from .ops.elementwise import Div

        return self._inplace("div_", Div, other)

    def pow_(self, other: Any) -> "Tensor":
        from .ops.elementwise import Pow

        return self._inplace("pow_", Pow, other)

    def clamp_(self, min: Any = None, max: Any = None) -> "Tensor":
        from .ops.elementwise import Clamp

        return self._inplace("clamp_", Clamp, min, max)

    clip_ = clamp_

    def zero_(self) -> "Tensor":
        return self._inplace("zero_", _Overwrite, 0)

    def fill_(self, value: Any) -> "Tensor":
        return self._inplace("fill_", _Overwrite, value)

    def copy_(self, src: Any, non_blocking: bool = False) -> "Tensor":
        src_shape = src._data.shape if isinstance(src, Tensor) else np.shape(src)
        try:
            if np.broadcast_shapes(src_shape, self._data.shape) != self._data.shape:
                raise ValueError
        except ValueError:
            from .autograd.function import _broadcast_error

            try:
                broadcast = np.broadcast_shapes(src_shape, self._data.shape)
            except ValueError:
                raise _broadcast_error([self._data, np.empty(src_shape, dtype=bool)]) from None
            raise RuntimeError(
                f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
                f"{list(broadcast)}"
            ) from None
        return self._inplace("copy_", _Overwrite, src)

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> "Tensor":
        from .random import _generator

        with _no_grad_write(self):
            self._data[...] = _generator(generator).normal(mean, std, self._data.shape)
        return self

    def uniform_(self, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> "Tensor":
        from .random import _generator

        with _no_grad_write(self):
            self._data[...] = _generator(generator).uniform(a, b, self._data.shape)
        return self

    def bernoulli_(self, p: float = 0.5, *, generator: Any = None) -> "Tensor":
        from .random import _generator

        with _no_grad_write(self):
            self._data[...] = _generator(generator).uniform(0.0, 1.0, self._data.shape) < p
        return self

    def _unary_(self, name: str, op_name: str) -> "Tensor":
        from .ops import elementwise

        return self._inplace(name, getattr(elementwise, op_name))

    def relu_(self) -> "Tensor":
        return self._unary_("relu_", "Relu")

    def sigmoid_(self) -> "Tensor":
        return self._unary_("sigmoid_", "Sigmoid")

    def tanh_(self) -> "Tensor":
        return self._unary_("tanh_", "Tanh")

    def exp_(self) -> "Tensor":
        return self._unary_("exp_", "Exp")

    def log_(self) -> "Tensor":
        return self._unary_("log_", "Log")

    def sqrt_(self) -> "Tensor":
        return self._unary_("sqrt_", "Sqrt")

    def abs_(self) -> "Tensor":
        return self._unary_("abs_", "Abs")

    def neg_(self) -> "Tensor":
        return self._unary_("neg_", "Neg")

    def sin_(self) -> "Tensor":
        return self._unary_("sin_", "Sin")

    def cos_(self) -> "Tensor":
        return self._unary_("cos_", "Cos")

    def sign_(self) -> "Tensor":
        return self._unary_("sign_", "Sign")

    def clamp_min_(self, min: Any) -> "Tensor":
        return self.clamp_(min=min)

    def clamp_max_(self, max: Any) -> "Tensor":
        return self.clamp_(max=max)

    def _reshape_(self, name: str, view: "Tensor") -> "Tensor":
        """An in-place view op (unsqueeze_, t_ ...): this tensor becomes ``view`` (of itself)."""
        self._check_inplace()
        if self.grad_fn is None:
            self._data = view._data  # a leaf stays a leaf
        else:
            self._data, self.grad_fn, self._output_nr = view._data, view.grad_fn, 0
        return self

    def unsqueeze_(self, dim: int) -> "Tensor":
        return self._reshape_("unsqueeze_", self.unsqueeze(dim))

    def squeeze_(self, dim: Any = None) -> "Tensor":
        return self._reshape_("squeeze_", self.squeeze() if dim is None else self.squeeze(dim))

    def t_(self) -> "Tensor":
        return self._reshape_("t_", self.t())

    def transpose_(self, dim0: int, dim1: int) -> "Tensor":
        return self._reshape_("transpose_", self.transpose(dim0, dim1))

    def type_as(self, other: "Tensor") -> "Tensor":
        return self.to(other.dtype)

    def where(self, condition: Any, other: Any) -> "Tensor":
        from .functional import where

        return where(condition, self, other)

    def fill_diagonal_(self, fill_value: Any, wrap: bool = False) -> "Tensor":
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

    def index_fill_(self, dim: int, index: Any, value: Any) -> "Tensor":
        index = index._data if isinstance(index, Tensor) else np.asarray(index)
        self[(slice(None),) * _dim(dim, self._data.ndim) + (index.reshape(-1),)] = value
        return self

    def index_add_(self, dim: int, index: Any, source: Any, *, alpha: Any = 1) -> "Tensor":
        index = index._data if isinstance(index, Tensor) else np.asarray(index)
        if alpha != 1:
            source = source * alpha
        key = (slice(None),) * _dim(dim, self._data.ndim) + (index.reshape(-1),)
        return self.index_put_(key, source, accumulate=True)

    def index_copy_(self, dim: int, index: Any, source: Any) -> "Tensor":
        index = index._data if isinstance(index, Tensor) else np.asarray(index)
        self[(slice(None),) * _dim(dim, self._data.ndim) + (index.reshape(-1),)] = source
        return self

    def __iadd__(self, other: Any) -> "Tensor":
        return self.add_(other)

    def __isub__(self, other: Any) -> "Tensor":
        return self.sub_(other)

    def __imul__(self, other: Any) -> "Tensor":
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> "Tensor":
        return self.div_(other)

    def __setitem__(self, index: Any, value: Any) -> None:
        from .ops.shape import IndexPut

        index = _index_key(index)
        self._check_inplace()
        if grad_state.enabled and (self.requires_grad or (isinstance(value, Tensor) and value.requires_grad)):
            self._inplace("__setitem__", IndexPut, value, index)
            return
        self._data[index] = value._data if isinstance(value, Tensor) else value
        self._mark_modified("__setitem__")

    def index_put_(self, indices: tuple, values: Any, accumulate: bool = False) -> "Tensor":
        from .ops.shape import IndexPut

        index = _index_key(tuple(indices))
        return self._inplace("index_put_", IndexPut, values, index, accumulate)

    def masked_fill_(self, mask: Any, value: Any) -> "Tensor":
        mask_data = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
        return self.copy_(self.masked_fill(mask_data, value))

    def scatter_(self, dim: int, index: Any, src: Any = None, *, value: Any = None) -> "Tensor":
        return self.copy_(self.scatter(dim, index, src, value=value))

    def scatter_add_(self, dim: int, index: Any, src: Any) -> "Tensor":
        return self.copy_(self.scatter_add(dim, index, src))

    # -- new tensors like this one (its dtype unless told otherwise) --------------------------
    def new_tensor(self, data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> "Tensor":
        from .creation import tensor

        return tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_zeros(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> "Tensor":
        from .creation import zeros

        return zeros(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> "Tensor":
        from .creation import ones

        return ones(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_empty(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> "Tensor":
        from .creation import empty

        return empty(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_full(self, size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> "Tensor":
        from .creation import full

        return full(size, fill_value, dtype=dtype or self.dtype, requires_grad=requires_grad)

    # -- operators --------------------------------------------------------------------------
    # A Python number takes the ops' scalar forms: one edge, nothing broadcast, nothing
    # promoted (``promote`` gives the same dtypes), which is what long chains of small ops
    # spend their time on.
    def __add__(self, other: Any) -> "Tensor":
        kind = other.__class__
        if kind is float or kind is int:
            return _add_scalar(self, other)
        if kind is Tensor:
            return _add_tensors(self, other)
        return _Add.apply(self, _coerce(self, other))

    def __radd__(self, other: Any) -> "Tensor":
        kind = other.__class__
        if kind is float or kind is int:
            return _add_scalar(self, other)
        return _Add.apply(_coerce(self, other), self)

    def __sub__(self, other: Any) -> "Tensor":
        kind = other.__class__
        if kind is float or kind is int:
            return _sub_scalar(self, other)
        if kind is Tensor:
            return _sub_tensors(self, other)
        return _Sub.apply(self, _coerce(self, other))

    def __rsub__(self, other: Any) -> "Tensor":
        kind = other.__class__
        if kind is float or kind is int:
            return _rsub_scalar(self, other)
        return _Sub.apply(_coerce(self, other), self)

    def __mul__(self, other: Any) -> "Tensor":
        kind = other.__class__
        if kind is float or kind is int:
            return _mul_scalar(self, other)
        if kind is Tensor:
            return _mul_tensors(self, other)
        return _Mul.apply(self, _coerce(self, other))

    def __rmul__(self, other: Any) -> "Tensor":
        kind = other.__class__
        if kind is float or kind is int:
            return _mul_scalar(self, other)
        return _Mul.apply(_coerce(self, other), self)

    def __truediv__(self, other: Any) -> "Tensor":
        kind = other.__class__
        if kind is float or kind is int:
            return _div_scalar(self, other)
        if kind is Tensor:
            return _div_tensors(self, other)
        return _Div.apply(self, _coerce(self, other))

    def __rtruediv__(self, other: Any) -> "Tensor":
        kind = other.__class__
        # PyTorch computes number / tensor as number * reciprocal(tensor): its node is a Mul.
        return named(_Div.apply(other if kind is float else _coerce(self, other), self), "MulBackward0")

    def __rpow__(self, other: Any) -> "Tensor":
        # number ** tensor is PyTorch's pow.Scalar (PowBackward2).
        return named(_Pow.apply(_coerce(self, other), self), "PowBackward2", (1,))

    def __pow__(self, other: Any) -> "Tensor":
        kind = other.__class__
        if kind is float or kind is int:
            return _pow_scalar(self, other)
        return _Pow.apply(self, _coerce(self, other))

    def __matmul__(self, other: Any) -> "Tensor":
        return _Matmul.apply(self, other)

    def __rmatmul__(self, other: Any) -> "Tensor":
        return _Matmul.apply(other, self)

    def __neg__(self) -> "Tensor":
        return _Neg.apply_one(self)

    def __pos__(self) -> "Tensor":
        return self

    def __abs__(self) -> "Tensor":
        return self.abs()

    def __floordiv__(self, other: Any) -> "Tensor":
        from .ops.elementwise import FloorDivide

        return FloorDivide.apply(self, other)

    def __rfloordiv__(self, other: Any) -> "Tensor":
        from .ops.elementwise import FloorDivide

        return FloorDivide.apply(other, self)

    def __mod__(self, other: Any) -> "Tensor":
        from .ops.elementwise import Remainder

        return Remainder.apply(self, other)

    def __rmod__(self, other: Any) -> "Tensor":
        from .ops.elementwise import Remainder

        return Remainder.apply(other, self)

    def __eq__(self, other: Any) -> "Tensor":  # type: ignore[override]
        return _compare(self, other, np.equal)

    def __ne__(self, other: Any) -> "Tensor":  # type: ignore[override]
        return _compare(self, other, np.not_equal)

    def __lt__(self, other: Any) -> "Tensor":
        return _compare(self, other, np.less)

    def __le__(self, other: Any) -> "Tensor":
        return _compare(self, other, np.less_equal)

    def __gt__(self, other: Any) -> "Tensor":
        return _compare(self, other, np.greater)

    def __ge__(self, other: Any) -> "Tensor":
        return _compare(self, other, np.greater_equal)

    def __and__(self, other: Any) -> "Tensor":
        return _compare(self, other, np.logical_and if self._data.dtype == np.bool_ else np.bitwise_and)

    def __rand__(self, other: Any) -> "Tensor":
        return self.__and__(other)

    def __or__(self, other: Any) -> "Tensor":
        return _compare(self, other, np.logical_or if self._data.dtype == np.bool_ else np.bitwise_or)

    def __ror__(self, other: Any) -> "Tensor":
        return self.__or__(other)

    def __xor__(self, other: Any) -> "Tensor":
        return _compare(self, other, np.logical_xor if self._data.dtype == np.bool_ else np.bitwise_xor)

    def __rxor__(self, other: Any) -> "Tensor":
        return self.__xor__(other)

    def __invert__(self) -> "Tensor":
        from .ops.elementwise import LogicalNot

        if self._data.dtype == np.bool_:
            return LogicalNot.apply(self)
        return _make(~self._data, None, False)

    def __getitem__(self, index: Any) -> "Tensor":
        from .ops.shape import Index

        return Index.apply(self, _index_key(index))

    @property
    def T(self) -> "Tensor":
        # PyTorch's .T is a permute (PermuteBackward0), not t(), and a new tensor even in 1-D.
        return self.permute(*reversed(range(self._data.ndim))) if self._data.ndim else self

    @property
    def mT(self) -> "Tensor":
        if self._data.ndim < 2:
            raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got {self._data.ndim}-D tensor.")
        return self.transpose(-2, -1)

    @property
    def H(self) -> "Tensor":
        return self.T

    @property
    def mH(self) -> "Tensor":
        return self.mT


def _shares_storage(view: Tensor) -> bool:
    info = view._view_of
    return info is not None and np.may_share_memory(view._data, info[0]._data)


#: Per-tensor state a deep copy does not take over: the original's hooks and graph face.
_NOT_DEEPCOPIED = {"_accumulate_grad", "_hooks", "_post_accumulate_hooks", "_retains_grad"}


def _output_is_this_storage(node: Any, out: Any, data: Any) -> None:
    """After ``x.relu_()`` the op's output *is* x's storage: a node that saved its output now
    holds that storage, so a later in-place change of x makes its backward refuse to run,
    as in PyTorch (``x.relu_(); x.exp_()`` then backward raises).  This write itself is not
    such a change, unless the op also saved an argument in that storage (``x.mul_(x)``
    overwrote what it saved: its backward must refuse, as PyTorch's does)."""
    if not isinstance(node, Op) or not node.saved:
        return
    if node.output is out:
        node.output = data
    root = storage_root(data)
    overwritten = any(type(s) is np.ndarray and s is not out and storage_root(s) is root for s in node.saved)
    node.saved = tuple(data if s is out else s for s in node.saved)
    if not overwritten:
        node.epoch = _function.inplace_epoch.value


def _check_view_of_leaf(view: Tensor) -> None:
    base = view
    while _shares_storage(base):
        base = base._view_of[0]
    if base is not view and base.requires_grad and base.grad_fn is None:
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place operation."
        )


def _rebase_view(view: Tensor, op_name: str) -> None:
    """``view`` was changed in place, and with it its base's storage: the base's new history
    is its old one outside the view's region and the view's new one inside (PyTorch's
    CopySlices).  Views of views rebase up the chain."""
    if not _shares_storage(view):  # advanced indexing made a copy: nothing else changed
        return
    from .ops.shape import ViewScatter

    # No bump here: the view shares its base's version counter, already bumped.
    base, view_op, args, kwargs = view._view_of
    before = _make(base._data, base.grad_fn, base.requires_grad)
    before._output_nr = base._output_nr
    result = ViewScatter.apply(before, view, view_op, args, kwargs)
    base.grad_fn = result.grad_fn
    base._output_nr = 0
    base._rg = result._rg
    if base._view_of is not None:
        _rebase_view(base, op_name)


def _rebuild(data: Any, requires_grad: bool) -> Tensor:
    return Tensor._wrap(data).requires_grad_(requires_grad)


def _init(tensor: Tensor, data: Any, grad_fn: Node | None, requires_grad: bool) -> None:
    tensor._data = data
    tensor._grad = None
    tensor.grad_fn = grad_fn
    tensor._rg = requires_grad
    tensor._vc = None


_new_tensor = object.__new__


def _make(data: Any, grad_fn: Node | None, requires_grad: bool) -> Tensor:
    """The fast constructor every op uses: no argument parsing, no copy."""
    tensor = _new_tensor(Tensor)
    tensor._data = data
    tensor._grad = None
    tensor.grad_fn = grad_fn
    tensor._rg = requires_grad
    tensor._vc = None
    return tensor


def _to_array(data: Any, dtype: Any) -> np.ndarray:
    target = None if dtype is None else _dt.to_numpy(dtype)
    kinds = _leaf_types(data) if isinstance(data, (list, tuple)) else set()
    if isinstance(data, Tensor):
        array = data._data
    elif kinds and not kinds.isdisjoint(_tensor_types()):
        array = np.array(_unwrap_nested(data))
        if target is None and array.dtype == np.float64 and np.float64 not in kinds and not any(
                isinstance(x, Tensor) and x._data.dtype == np.float64 for x in _flatten(data)):
            # Python floats next to float32 tensors stay float32, as in PyTorch.
            array = array.astype(np.float32)
        data = array
    else:
        array = data
    if isinstance(array, np.ndarray):
        out = np.array(array, dtype=target, copy=True)
    else:
        from .backend import get_array_module

        xp = get_array_module(array)
        out = xp.array(array, dtype=target)
    if target is None:
        # NumPy arrays and scalars keep their dtype; Python floats and ints get PyTorch's (and
        # a sequence holding NumPy float64 scalars, float64, as PyTorch infers it).
        if out.dtype == np.float64 and not (isinstance(array, (np.ndarray, np.generic)) or isinstance(data, Tensor)
                                            or np.float64 in kinds):
            out = out.astype(np.float32)
        elif out.dtype.kind in "iu" and out.dtype != np.uint8 and not isinstance(array, (np.ndarray, np.generic)):
            out = out.astype(np.int64)
        elif out.dtype.kind in "US":
            raise TypeError(f"new(): invalid data type '{out.dtype.name}'")
        elif out.dtype == object:
            raise TypeError("Could not infer dtype of the given data (nested sequences of different lengths?)")
    return out


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
        return data._data
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


def _coerce(tensor: Tensor, other: Any) -> Any:
    """Python scalars stay scalars (weakly typed, as in PyTorch; the ops promote dtypes as
    PyTorch does, see ``ops.elementwise.promote``)."""
    kind = other.__class__
    if kind is bool:
        return int(other) if tensor._data.dtype.kind != "b" else other
    if kind is int or kind is float or kind is Tensor:
        return other
    if isinstance(other, Tensor):
        return other
    if isinstance(other, np.ndarray):
        return _make(other, None, False)
    if isinstance(other, np.generic):
        return other.item()
    if isinstance(other, (list, tuple)):
        return _make(np.asarray(other, dtype=tensor._data.dtype if tensor._data.dtype.kind == "f" else None), None, False)
    return other


def _compare(tensor: Tensor, other: Any, ufunc: Any) -> Tensor:
    from .ops.elementwise import Compare

    if other is None:
        return NotImplemented  # type: ignore[return-value]
    return Compare.apply(tensor, _coerce(tensor, other), ufunc=ufunc)


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


def _assign(target: np.ndarray, value: np.ndarray) -> None:
    if value.shape != target.shape:
        raise RuntimeError(
            f"output with shape {list(target.shape)} doesn't match the broadcast shape "
            f"{list(value.shape)}"
        )
    if value.dtype != target.dtype:
        value = value.astype(target.dtype)
    target[...] = value


def _kernel(ufunc: Any) -> Callable:
    def run(target: np.ndarray, other: Any) -> None:
        try:
            ufunc(target, other, out=target, casting="same_kind")
        except TypeError as error:
            raise RuntimeError(
                f"result type of {ufunc.__name__}({target.dtype}, {getattr(other, 'dtype', type(other).__name__)}) "
                f"can't be cast to the desired output type {target.dtype}"
            ) from error
        except ValueError as error:
            raise RuntimeError(
                f"output with shape {list(target.shape)} doesn't match the broadcast shape "
                f"{list(np.broadcast_shapes(target.shape, np.shape(other)))}"
            ) from error

    return run


def _clamp_kernel(target: np.ndarray, low: Any, high: Any) -> None:
    if low is not None:
        np.maximum(target, low, out=target)
    if high is not None:
        np.minimum(target, high, out=target)


def _put_kernel(target: np.ndarray, value: Any, index: tuple, accumulate: bool = False) -> None:
    if accumulate:
        np.add.at(target, index, value)
    else:
        target[index] = value


class _Overwrite:
    """fill_ and copy_ when recorded: the new value everywhere, the old one nowhere (its
    gradient is zero), as a ``where`` with an all-true mask."""

    @staticmethod
    def apply(before: Tensor, value: Any) -> Tensor:
        from .ops.elementwise import Cast, Where

        if isinstance(value, Tensor) and value._data.dtype != before._data.dtype:
            value = Cast.apply(value, before._data.dtype)
        everywhere = np.ones(before._data.shape, dtype=bool)
        return Where.apply(everywhere, value, before)


def _overwrite_kernel(target: np.ndarray, value: Any) -> None:
    target[...] = value


def _no_grad_write(tensor: Tensor) -> Any:
    class _Writer:
        def __enter__(self) -> None:
            tensor._check_inplace()

        def __exit__(self, *exc: object) -> None:
            tensor._mark_modified("an in-place random fill")

    return _Writer()


def _check_device(spec: Any) -> None:
    name = spec.type if isinstance(spec, device) else str(spec).split(":")[0]
    if name not in ("cpu", "cuda", "meta"):
        raise RuntimeError(f"Expected one of cpu, cuda device type at start of device string: {spec}")
    if name == "cuda":
        from .backend import cuda_available

        if not cuda_available():
            raise RuntimeError("Torch not compiled with CUDA enabled: chainrule found no CuPy/GPU on this machine")


class device:
    """A device name, as ``torch.device('cpu')``."""

    def __init__(self, type: str, index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index
        name, _, number = str(type).partition(":")
        self.type = name
        self.index = int(number) if number else index

    def __repr__(self) -> str:
        return f"device(type='{self.type}'" + (f", index={self.index})" if self.index is not None else ")")

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))


from .autograd import function as _function  # noqa: E402

_function.bind_tensor(Tensor, _make)

from .ops.elementwise import (  # noqa: E402
    Add as _Add, AddScalar as _AddScalar, Clamp as _Clamp, Div as _Div, DivScalar as _DivScalar,
    Mul as _Mul, MulScalar as _MulScalar, Neg as _Neg, Pow as _Pow, PowScalar as _PowScalar,
    RsubScalar as _RsubScalar, Sub as _Sub, SubScalar as _SubScalar,
)

# The operators' fast paths, bound once (they run on every ``tensor <op> number`` and
# ``tensor <op> tensor``).
_add_scalar = _AddScalar.apply_one
_sub_scalar = _SubScalar.apply_one
_rsub_scalar = _RsubScalar.apply_one
_mul_scalar = _MulScalar.apply_one
_div_scalar = _DivScalar.apply_one
_pow_scalar = _PowScalar.apply_one
_add_tensors = _Add.apply_two
_sub_tensors = _Sub.apply_two
_mul_tensors = _Mul.apply_two
_div_tensors = _Div.apply_two
from .ops.linalg import Matmul as _Matmul  # noqa: E402
from .ops.shape import IndexPut as _IndexPut  # noqa: E402

_inplace_kernels: dict = {
    _Add: _kernel(np.add),
    _Sub: _kernel(np.subtract),
    _Mul: _kernel(np.multiply),
    _Div: _kernel(np.true_divide),
    _Pow: _kernel(np.power),
    _Clamp: _clamp_kernel,
    _Overwrite: _overwrite_kernel,
    _IndexPut: _put_kernel,
}
