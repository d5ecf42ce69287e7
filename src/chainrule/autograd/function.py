"""Ops and Functions: the two kinds of graph node a forward records.

* :class:`Op`: chainrule's own primitives.  ``forward(self, xp, *arrays)`` runs on backend
  arrays; ``backward(self, xp, grad)`` returns one gradient per argument.  Backward formulas
  are written against the namespace ``xp``: NumPy (or CuPy) in an ordinary backward, and the
  Tensor namespace under ``create_graph=True``, so the same formula records itself and
  higher-order gradients come for free.  The node *is* the op instance: forward and backward
  are its methods, side by side.
* :class:`Function`: PyTorch's user API (``forward(ctx, ...)`` / ``backward(ctx, ...)`` on
  Tensors).

The layers above register what autograd needs of them instead of being imported from here:
``tensor.py`` registers the Tensor type and its constructor (:func:`bind_tensor`), the
functional layer the Tensor namespace that create_graph backward formulas run on
(:func:`bind_namespace`).
"""
from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from ..backend import CPU, DEVICE_ARRAY_TYPES, array_backend, device_of, get_array_module, to_device
from . import observe
from .anomaly import on_forward, state as anomaly
from .grad_mode import grad_state, no_grad
from .node import ONE_CONSTANT, PAIR, Node, edge_of, freed_error, inplace_error, set_edges
from .versions import _modified, inplace_epoch, storage_root

_ndarray = np.ndarray
_generic = np.generic

# Registered by the layers above (see the module docstring).
Tensor: Any = None
_make: Any = None
_namespace: Any = None
_forward_mode: Any = None


def bind_tensor(tensor_cls: type, make: Callable) -> None:
    """Register the Tensor type and its constructor ``make(array, grad_fn, requires_grad)``."""
    global Tensor, _make
    Tensor, _make = tensor_cls, make


def bind_namespace(namespace: Any) -> None:
    """Register the Tensor namespace that backward formulas run on under create_graph."""
    global _namespace
    _namespace = namespace


def bind_forward_mode(apply: Callable | None) -> None:
    """Register (None: unregister) how ``Function.apply`` runs while a forward-mode AD level is
    open: ``apply(cls, args, kwargs)`` (see ``autograd.forward_ad``)."""
    global _forward_mode
    _forward_mode = apply


def tensor_namespace() -> Any:
    """The registered Tensor namespace (NumPy's function names over Tensors)."""
    return _namespace


_new_node = object.__new__


class Op(Node):
    """A chainrule primitive: forward on backend arrays, backward by formula.

    An op class's ``__name__`` is PyTorch's name for its node (``Mul`` is MulBackward0), so
    that ``type(y.grad_fn).__name__`` reads as in PyTorch; ``op_name`` keeps chainrule's.
    Where PyTorch's name depends on the arguments (``sum()`` vs ``sum(dim)``) or on the call
    (``unsqueeze`` records a Reshape), the node takes a subclass of that name: see
    :func:`named` and :func:`variant`.

    ``arguments`` says which arguments can be tensors, and so picks how ``apply`` records:
    ``"unary"`` (only the first: unary ops, arithmetic with a number), ``"binary"`` (exactly
    two, no options) or ``"general"``.  The first two take lean paths that record the same
    node for a fraction of the bookkeeping: long chains of small ops spend their time there.
    """

    __slots__ = ()
    op_name = "Op"
    arguments = "general"
    #: Set on ops whose output shares storage with input 0 (views share its version counter).
    is_view = False
    #: Ops whose output is never differentiable (comparisons, argmax ...).
    differentiable = True
    #: Per saved value, the input whose gradient alone needs it (as PyTorch saves ``a`` of
    #: ``a * b`` only when ``b`` requires grad): changing it in place is then an error only
    #: when that input needs a gradient.  None: every saved value is always needed.
    saved_needed_by: tuple | None = None
    #: The forward as an array kernel that writes into a given array, ``kernel(*arguments,
    #: out=array)``, for the plain case: NumPy arrays of the output's float dtype (and
    #: numbers), nothing to promote.  A captured plan (``chainrule.compiler``) runs it on
    #: preallocated buffers instead of ``forward``; it computes exactly what ``forward`` does
    #: (the capture checks this on the traced values).  None: a plan calls ``forward``.
    kernel: Callable | None = None
    #: Set on ops whose forward draws random numbers (dropout's mask): what a compiled region
    #: recomputes for ``create_graph`` reuses the values they drew instead of drawing anew.
    random = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "op_name" not in cls.__dict__:
            cls.op_name = cls.__name__
        name = cls.__dict__.get("pytorch_name") or f"{cls.display_name or cls.op_name}Backward0"
        cls.__name__ = cls.__qualname__ = name
        if "apply" not in cls.__dict__ and getattr(cls.apply, "chooses_path", False):
            cls.apply = _ENTRIES[cls.arguments]

    def forward(self, xp: Any, *args: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, xp: Any, grad: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, *grads: Any) -> Any:
        """``grad_fn(grad)``: this node's backward on its output gradients, as PyTorch's nodes
        are called (see :func:`call_node`)."""
        return call_node(self, grads)

    def apply_backward(self, grad: Any, create_graph: bool) -> tuple:
        if self.inputs is None:
            raise freed_error(self)
        if self.epoch != inplace_epoch.value:
            self._check_versions()
        if not create_graph:
            if type(grad) is _ndarray or isinstance(grad, _generic):
                result = self.backward(np, grad)
            else:
                result = self.backward(_gradient_namespace(grad), grad)
        else:
            arrays = self.saved
            if arrays:
                self.saved = _saved_as_tensors(self, arrays)
            try:
                result = self.backward(_namespace, grad)
            finally:
                self.saved = arrays
        return result if type(result) is tuple else (result,)

    def release(self) -> None:
        # Only nodes that saved something can be "freed": like PyTorch, a second backward
        # through ops that saved nothing (add, sum ...) is allowed.  The output goes too: the
        # graph outlives backward (``loss`` holds it), and keeping every activation alive
        # until then raises a training step's peak memory by all of them.
        if self.saved:
            self.saved = None
            self.inputs = None
            self.output = None

    def _check_versions(self) -> None:
        """Something was modified in place since this node's forward: was it what we saved?"""
        needed_by = self.saved_needed_by
        for position, array in enumerate(self.saved or ()):
            if type(array) is not _ndarray and array_backend(array) is None:
                continue
            if needed_by is not None and not self.needs_grad(needed_by[position]):
                continue
            change = _modified.get(id(storage_root(array)))
            if change is not None and change[0] > self.epoch:
                index = next((i for i, a in enumerate(self.inputs) if a is array), None)
                role = f"input {index}" if index is not None else (
                    "its output" if array is self.output or self.output is None else f"saved value {position}")
                raise inplace_error(self, role, change[1], change[2])


# -- recording: the general path and the two lean ones --------------------------------------


def _apply_general(cls: type, *args: Any, **kwargs: Any) -> Any:
    """Run the op's forward on its arguments' arrays and, when grad mode is on and a tensor
    argument requires grad, record its node; returns the output tensor."""
    # One pass over the arguments collects the arrays and, in case this op is recorded, the
    # graph edges.
    arrays = []
    edges = []
    record = False
    cut = None
    on_device = False
    for a in args:
        if isinstance(a, Tensor):
            data = a._data
            arrays.append(data)
            if type(data) is not _ndarray:
                on_device = True
            if a._rg:
                record = True
                edges.append(edge_of(a))
            else:
                edges.append(None)
                if a._cut is not None:
                    cut = a._cut
        else:
            arrays.append(a)
            edges.append(None)
    node = _new_node(cls)
    node.saved = None
    if on_device:
        xp = _one_device(arrays, args)
    else:
        first = arrays[0]
        xp = np if type(first) is _ndarray else _namespace_of(arrays)
    if observe.starting:
        for callback in list(observe.starting):
            callback(cls)
    try:
        out = node.forward(xp, *arrays, **kwargs) if kwargs else node.forward(xp, *arrays)
    except ValueError as error:
        if "broadcast" not in str(error):
            raise
        raise broadcast_error(arrays) from None
    if type(out) is not _ndarray and type(out) not in DEVICE_ARRAY_TYPES:
        out = _output_array(node, out, xp)
    enabled = grad_state.enabled
    if anomaly.enabled:
        on_forward(cls.display_name or cls.op_name, out, node if record and enabled else None)
    if record and enabled and cls.differentiable:
        set_edges(node, edges)
        # Inputs are kept only for the checks and higher-order wiring of saved arrays.
        node.inputs = tuple(arrays) if node.saved else ()
        node.output = out
        node.epoch = inplace_epoch.value
        result = _make(out, node, True)
        if observe.forward:
            observe.notify_forward(node, args, kwargs, result)
    else:
        result = _unrecorded(cls, out, record, cut, args, kwargs)
        if observe.unrecorded:
            observe.notify_unrecorded(node, args, kwargs, result)
    if cls.is_view:
        result._vc = args[0]._version_counter()
        # An in-place change of the view must rewrite its base's history too.
        result._view_of = (args[0], cls, args[1:], kwargs)
    return result


def _apply_unary(cls: type, tensor: Any, *constants: Any) -> Any:
    """``apply`` for ops whose only possible tensor argument is the first: the same node, with
    one edge and no loop over the arguments."""
    try:
        data = tensor._data
    except AttributeError:  # not a tensor: the general path reports or converts it
        return _apply_general(cls, tensor, *constants)
    if type(data) is not _ndarray or anomaly.enabled or observe.forward or cls.is_view:
        return _apply_general(cls, tensor, *constants)
    node = _new_node(cls)
    node.saved = None
    out = node.forward(np, data, *constants)
    if type(out) is not _ndarray:
        out = _output_array(node, out)
    if tensor._rg:
        if grad_state.enabled and cls.differentiable:
            node.first_edge = edge_of(tensor)
            # One entry per argument, as the general path records: constants have no edge.
            node.other_edges = ONE_CONSTANT if len(constants) == 1 else (None,) * len(constants)
            node.inputs = (data,) if node.saved else ()
            node.output = out
            node.epoch = inplace_epoch.value
            return _make(out, node, True)
        return _unrecorded(cls, out, True, None, (tensor,))
    return _unrecorded(cls, out, False, tensor._cut)


def _apply_binary(cls: type, first: Any, second: Any) -> Any:
    """``apply`` for ops of two arguments that are usually both tensors (arithmetic between
    tensors): the same node, with the bookkeeping of the unary path."""
    if (type(second) is not Tensor and not isinstance(second, Tensor)) or (
            type(first) is not Tensor and not isinstance(first, Tensor)):
        return _apply_general(cls, first, second)
    a, b = first._data, second._data
    if type(a) is not _ndarray or type(b) is not _ndarray or anomaly.enabled or observe.forward:
        return _apply_general(cls, first, second)
    node = _new_node(cls)
    node.saved = None
    try:
        out = node.forward(np, a, b)
    except ValueError as error:
        if "broadcast" not in str(error):
            raise
        raise broadcast_error((a, b)) from None
    if type(out) is not _ndarray:
        out = _output_array(node, out)
    if first._rg or second._rg:
        if grad_state.enabled and cls.differentiable:
            node.first_edge = edge_of(first)
            node.second_edge = edge_of(second)
            node.other_edges = PAIR
            saved = node.saved
            # The saved tuple is the inputs' when the op saved exactly them (a * b): shared.
            node.inputs = () if not saved else (
                saved if len(saved) == 2 and saved[0] is a and saved[1] is b else (a, b))
            node.output = out
            node.epoch = inplace_epoch.value
            return _make(out, node, True)
        return _unrecorded(cls, out, True, None, (first, second))
    return _unrecorded(cls, out, False, first._cut or second._cut)


# The entry each ``arguments`` kind installs as the class's ``apply`` (the lean functions
# themselves, bound as classmethods: no extra call on the way in).
_apply_general.chooses_path = True
_apply_unary.chooses_path = True
_apply_binary.chooses_path = True
_ENTRIES = {kind: classmethod(path) for kind, path in
            (("general", _apply_general), ("unary", _apply_unary), ("binary", _apply_binary))}
Op.apply = _ENTRIES["general"]


def _output_array(node: Op, out: Any, xp: Any = np) -> Any:
    """A forward's NumPy scalar (what NumPy answers for 0-d inputs, and full reductions) as
    the 0-d array the output tensor holds; a saved output must be that very array, or
    create_graph would take it for a constant.  A device array (a move's result) stays."""
    if not isinstance(out, _generic) and array_backend(out) is not None:
        return out
    scalar, out = out, xp.asarray(out)
    saved = node.saved
    if saved:
        if len(saved) == 1:
            if saved[0] is scalar:
                node.saved = (out,)
        else:
            node.saved = tuple([out if s is scalar else s for s in saved])
    return out


def _unrecorded(cls: type, out: Any, wanted_grad: bool, cut: str | None, sources: tuple = (),
                options: dict | None = None) -> Any:
    """The output of an op that is not recorded, remembering where the graph was cut (for
    the error of a later backward): here, when an input (one of ``sources``, called with
    ``options``) wanted a gradient, under no_grad or by an op without a derivative; else
    wherever an input's own history was cut."""
    result = _make(out, None, False)
    if wanted_grad:
        name = cls.display_name or cls.op_name
        enabled = grad_state.enabled
        if not enabled:
            result._cut = f"{name} (computed under no_grad)"
        if observe.cuts:
            if options:
                sources += tuple(options.values())
            observe.notify_cut("no_derivative" if enabled else "no_grad", sources, result, name)
    elif cut is not None:
        result._cut = cut
    return result


def _one_device(arrays: list, args: tuple) -> Any:
    """The namespace of tensor arguments some of which are on a device: they must all be on
    that one device, as in PyTorch, except 0-d CPU tensors (moved there, like numbers)."""
    tensors = [a for a, arg in zip(arrays, args) if isinstance(arg, Tensor)]
    kind = type(tensors[0])
    if kind in DEVICE_ARRAY_TYPES and all(type(a) is kind for a in tensors):  # the common case, checked fast
        backend = array_backend(tensors[0])
        if len(tensors) == 1 or backend.device_count() == 1 or len({backend.index_of(a) for a in tensors}) == 1:
            return backend.namespace
    target = None
    for a, arg in zip(arrays, args):
        if isinstance(arg, Tensor):
            where = device_of(a)
            if where is not CPU:
                if target is None:
                    target = where
                elif where != target:
                    raise _devices_error(target, where)
    if target is None:
        return _namespace_of(arrays)
    for position, (a, arg) in enumerate(zip(arrays, args)):
        if isinstance(arg, Tensor) and device_of(a) is CPU:
            if a.ndim:
                raise _devices_error(target, CPU)
            arrays[position] = to_device(a, target)
    return get_array_module(next(a for a, arg in zip(arrays, args) if isinstance(arg, Tensor)))


def _devices_error(one: Any, other: Any) -> RuntimeError:
    return RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                        f"{one} and {other}!")


def _gradient_namespace(grad: Any) -> Any:
    """The namespace of a node's incoming gradient (a tuple of them for several outputs)."""
    if type(grad) is tuple:
        grad = next((g for g in grad if g is not None), None)
    return get_array_module(grad)


def _namespace_of(arrays: Any) -> Any:
    for a in arrays:
        if hasattr(a, "shape"):
            return get_array_module(a)
    return np


def _saved_as_tensors(node: "Op", arrays: tuple) -> tuple:
    """Saved arrays as Tensors wired into the graph, for a backward that records itself.

    A saved array that is an input's storage becomes a tensor with that input's history (so
    second derivatives flow through it), the saved output one with this node's history;
    anything else is a constant."""
    out = list(arrays)
    inputs = node.inputs
    for position, array in enumerate(arrays):
        if type(array) is not _ndarray and array_backend(array) is None:
            continue
        if array is node.output:
            out[position] = _make(array, node, True)
            continue
        tensor = None
        for index, a in enumerate(inputs):
            if a is array:
                edge = node.edges[index]
                if edge is None:
                    break
                if isinstance(edge, Tensor):
                    tensor = edge
                elif type(edge) is tuple:
                    tensor = _make(array, edge[0], True)
                    tensor._output_nr = edge[1]
                else:
                    tensor = _make(array, edge, True)
                break
        out[position] = tensor if tensor is not None else _make(array, None, False)
    return tuple(out)


def broadcast_shape(*shapes: Any) -> tuple:
    """``numpy.broadcast_shapes(*shapes)``, raising PyTorch's error (naming the first two that
    do not broadcast, as tensors a and b) instead of NumPy's ValueError."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise _shape_mismatch([tuple(s) for s in shapes]) from None


def broadcast_error(arrays: Any) -> RuntimeError:
    """PyTorch's message for operands whose shapes do not broadcast."""
    return _shape_mismatch([tuple(a.shape) for a in arrays if hasattr(a, "shape")])


def _shape_mismatch(shapes: list) -> RuntimeError:
    for i, sa in enumerate(shapes):
        for sb in shapes[i + 1:]:
            ndim = max(len(sa), len(sb))
            for dim in range(ndim - 1, -1, -1):
                na = sa[dim - ndim + len(sa)] if dim - ndim + len(sa) >= 0 else 1
                nb = sb[dim - ndim + len(sb)] if dim - ndim + len(sb) >= 0 else 1
                if na != nb and na != 1 and nb != 1:
                    return RuntimeError(
                        f"The size of tensor a ({na}) must match the size of tensor b ({nb}) at "
                        f"non-singleton dimension {dim}"
                    )
    return RuntimeError(f"shapes {', '.join(str(list(s)) for s in shapes)} cannot be broadcast together")


# -- node names --------------------------------------------------------------------------------

_VARIANTS: dict = {}


def variant(cls: type, pytorch_name: str, presented: tuple | None = None) -> type:
    """``cls`` under another PyTorch node name (and, given ``presented``, other inputs shown):
    a subclass that only renames it (the same slots, so a node can take it by
    ``node.__class__ = ...``), made once per name."""
    cls = cls.__dict__.get("variant_of", cls)
    key = (cls, pytorch_name, presented)
    sub = _VARIANTS.get(key)
    if sub is None:
        attributes = {"__slots__": (), "op_name": cls.op_name, "pytorch_name": pytorch_name,
                      "variant_of": cls, "__module__": cls.__module__}
        if presented is not None:
            attributes["presented"] = presented
        sub = _VARIANTS[key] = type(pytorch_name, (cls,), attributes)
    return sub


def named(tensor: Any, pytorch_name: str, presented: tuple | None = None) -> Any:
    """``tensor``, its node (if it was recorded) renamed to what PyTorch's call that made it
    records (``unsqueeze`` gives UnsqueezeBackward0 though it records a Reshape), with the
    inputs PyTorch's node has when they differ (``presented``)."""
    fn = tensor.grad_fn
    if isinstance(fn, Op) and (type(fn).__name__ != pytorch_name or presented is not None):
        fn.__class__ = variant(type(fn), pytorch_name, presented)
    return tensor


# ---------------------------------------------------------------------------------------
# PyTorch's user-facing autograd.Function
# ---------------------------------------------------------------------------------------


def once_differentiable(backward: Callable) -> Callable:
    """Decorates a Function's ``backward`` that is not itself differentiable: it runs with
    grad mode off even under ``create_graph`` (PyTorch's decorator of the same name)."""

    @functools.wraps(backward)
    def wrapper(ctx: Any, *grad_outputs: Any) -> Any:
        previous = grad_state.enabled
        grad_state.enabled = False
        try:
            return backward(ctx, *grad_outputs)
        finally:
            grad_state.enabled = previous

    return wrapper


class _VariableMeta(type):
    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, Tensor)


class Variable(metaclass=_VariableMeta):
    """PyTorch's old tensor wrapper, for old code: ``Variable(t)`` is ``t`` detached (the
    same data, no history) and ``requires_grad=True`` makes it a leaf that requires grad;
    every tensor is an instance."""

    def __new__(cls, data: Any, requires_grad: bool = False, volatile: bool = False) -> Any:
        out = data.detach()
        if requires_grad:
            out.requires_grad_(True)
        return out


class FunctionCtx:
    """What ``forward(ctx, ...)`` can use: save_for_backward, mark_non_differentiable ..."""

    _saved_for_forward: tuple = ()
    _in_jvp = False  # while forward-mode AD runs ``jvp``: saved_tensors are save_for_forward's

    def save_for_backward(self, *tensors: Any) -> None:
        for i, tensor in enumerate(tensors):
            if tensor is not None and not isinstance(tensor, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} is of type "
                                f"{type(tensor).__name__}")
        self._to_save = tensors

    def save_for_forward(self, *tensors: Any) -> None:
        """Keep tensors for ``jvp`` (forward-mode AD), where ``ctx.saved_tensors`` gives them."""
        self._saved_for_forward = tensors

    def mark_non_differentiable(self, *tensors: Any) -> None:
        self._non_differentiable = tensors

    def mark_dirty(self, *tensors: Any) -> None:
        self._dirty = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self._materialize = value


class _FunctionMeta(type):
    def __init__(cls, name: str, bases: tuple, attrs: dict) -> None:
        super().__init__(name, bases, attrs)
        # The node of ``MyFn.apply`` is a ``MyFnBackward`` (a subclass of MyFn that only
        # renames it), as PyTorch's node types are named.
        if not attrs.get("_is_node_class"):
            cls._backward_cls = type(cls)(name + "Backward", (cls,), {
                "_is_node_class": True, "__module__": attrs.get("__module__", cls.__module__)})


class Function(FunctionCtx, Node, metaclass=_FunctionMeta):
    """Write a differentiable op with your own backward, as in PyTorch::

        class Exp(chainrule.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x.exp(); ctx.save_for_backward(y); return y
            @staticmethod
            def backward(ctx, grad):
                y, = ctx.saved_tensors; return grad * y
    """

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError("You must implement either the backward or vjp method for your custom autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx: Any, *grad_inputs: Any) -> Any:
        raise NotImplementedError("You must implement the jvp function for custom autograd.Function to use it "
                                  "with forward mode AD.")

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: Any) -> None:
        raise NotImplementedError

    def presented_indices(self) -> tuple:
        # PyTorch's node has the tensor arguments only.
        return self._tensor_positions

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        if _forward_mode is not None:
            return _forward_mode(cls, args, kwargs)
        return cls._apply_with_ctx(args, kwargs)[1]

    def __call__(self, *args: Any) -> Any:
        """Refused as PyTorch refuses it: an instance made by hand is the legacy, non-static
        style; a Function's recorded node (unlike a built-in op's) is not callable there."""
        if "_output_meta" in self.__dict__:
            raise TypeError(f"'{type(self).__name__}' object is not callable")
        raise RuntimeError("Legacy autograd function with non-static forward method is deprecated. Please use "
                           "new-style autograd function with static forward method. (Example: "
                           "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    @classmethod
    def _apply_with_ctx(cls, args: tuple, kwargs: dict) -> tuple:
        """``(ctx, outputs)`` of ``apply``."""
        node_cls = cls._backward_cls
        ctx = node_cls.__new__(node_cls)
        ctx._to_save = ()
        ctx._non_differentiable = ()
        ctx._materialize = True
        ctx.saved = None
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx._input_shapes = tuple(a._data.shape if isinstance(a, Tensor) else None for a in args)
        record = grad_state.enabled and any(ctx.needs_input_grad)
        with no_grad():
            if cls.setup_context is not Function.setup_context:
                raw = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, raw)
            else:
                raw = cls.forward(ctx, *args, **kwargs)
        is_tuple = isinstance(raw, tuple)
        wrapped = _function_outputs(cls, ctx, args, raw if is_tuple else (raw,), record)
        ctx.n_outputs = len(wrapped)
        ctx._output_meta = tuple(
            (o._data.shape, o._data.dtype, get_array_module(o._data)) if isinstance(o, Tensor) else None
            for o in wrapped
        )
        if record:
            _record_function(ctx, args, wrapped)
        ctx._to_save = ()
        return ctx, (tuple(wrapped) if is_tuple else wrapped[0])

    @property
    def saved_tensors(self) -> tuple:
        if self._in_jvp:
            return self._saved_for_forward
        if self.saved is None:
            raise freed_error(self)
        out = []
        for kind, item, data in self.saved:
            if kind == "packed":  # packed by saved tensor hooks: ``item`` unpacks it
                out.append(item(data))
            else:
                out.append(_make(data, self, True) if kind == "output" else item)
        return tuple(out)

    def apply_backward(self, grads: Any, create_graph: bool) -> tuple:
        if self.saved is None:
            raise freed_error(self)
        self._check_versions()
        if self.n_outputs == 1:
            grads = (grads,)
        tensors = []
        for g, meta in zip(grads, self._output_meta):
            if g is None and self._materialize and meta is not None:
                g = meta[2].zeros(meta[0], dtype=meta[1])
            if g is not None and not isinstance(g, Tensor):
                g = _make(g, None, False)
            tensors.append(g)
        previous = grad_state.enabled
        grad_state.enabled = create_graph
        try:
            result = type(self).backward(self, *tensors)
        finally:
            grad_state.enabled = previous
        if not isinstance(result, tuple):
            result = (result,)
        expected = len(self.edges)
        if len(result) > expected and all(r is None for r in result[expected:]):
            result = result[:expected]
        if len(result) != expected:
            raise RuntimeError(
                f"function {self.name()} returned an incorrect number of gradients "
                f"(expected {expected}, got {len(result)})"
            )
        result = tuple(_fit_gradient(self, i, r, shape) for i, (r, shape) in enumerate(zip(result, self._input_shapes)))
        return tuple(r if create_graph or not isinstance(r, Tensor) else r._data for r in result)

    def release(self) -> None:
        self.saved = None


def call_node(node: Node, grads: tuple) -> Any:
    """PyTorch's ``grad_fn(*grad_outputs)``: the node's backward on one gradient per output,
    giving its inputs' gradients (a tuple, one per input of ``next_functions``, None where it
    needs none; the gradient itself for a node of one input).  Under grad mode the formula is recorded, so
    the results have a history, as in PyTorch; the node keeps what it saved."""
    if len(grads) != node.n_outputs:
        raise TypeError(f"expected {node.n_outputs} arguments, got {len(grads)} instead")
    record = grad_state.enabled
    given = [g if record or not isinstance(g, Tensor) else g._data for g in grads]
    if record:
        given = [g if g is None or isinstance(g, Tensor) else Tensor._wrap(g) for g in given]
    results = node.apply_backward(given[0] if node.n_outputs == 1 else given, record)
    # One result per input of PyTorch's node (``next_functions``), None for one that needs no gradient.
    edges = node.edges
    picked = [None if edges[i] is None else results[i] for i in node.presented_indices()]
    wrapped = tuple(None if r is None else (r if isinstance(r, Tensor) else _make(r, None, False)) for r in picked)
    return wrapped[0] if len(wrapped) == 1 else wrapped


def _fit_gradient(node: Any, index: int, grad: Any, shape: tuple | None) -> Any:
    """A Function's gradient for its input ``index`` (of ``shape``) checked as PyTorch checks
    it: one of a shape the input broadcasts to is summed down to the input's shape; any other
    shape is an error naming the Function."""
    if grad is None or shape is None or not hasattr(grad, "shape") or tuple(grad.shape) == shape:
        return grad
    got = tuple(grad.shape)
    lead = len(got) - len(shape)
    if lead < 0 or any(n != 1 and n != m for n, m in zip(shape, got[lead:])):
        raise RuntimeError(f"Function {node.name()} returned an invalid gradient at index {index} - got "
                           f"{list(got)} but expected shape compatible with {list(shape)}")
    if lead:
        grad = grad.sum(axis=tuple(range(lead)))
    ones = tuple(d for d, (n, m) in enumerate(zip(shape, got[lead:])) if n == 1 and m != 1)
    return grad.sum(axis=ones, keepdims=True) if ones else grad


def _function_outputs(cls: type, ctx: Any, args: tuple, outputs: tuple, record: bool) -> list:
    """A Function's outputs as they are handed back.  An input returned as an output is a new
    tensor on the same data, unless forward changed it in place and said so
    (``ctx.mark_dirty``): then, as in PyTorch, the very input object comes back, its history
    now this node."""
    dirty = getattr(ctx, "_dirty", ())
    wrapped = []
    for out in outputs:
        if isinstance(out, Tensor) and any(out is a for a in args):
            if not any(out is d for d in dirty):
                out = _make(out._data, None, False)
            elif record and out.grad_fn is None and out.requires_grad:
                raise RuntimeError(
                    f"a leaf Variable that requires grad is being used in an in-place operation: "
                    f"{cls.__name__}.forward marked it dirty. Pass a clone (x.clone()) instead.")
        wrapped.append(out)
    return wrapped


def _record_function(ctx: Any, args: tuple, wrapped: list) -> None:
    """Wire a Function's node into the graph: its edges, what it saved (with version checks),
    and its differentiable outputs' history."""
    ctx.edges = tuple(edge_of(a) if isinstance(a, Tensor) else None for a in args)
    ctx._tensor_positions = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
    saved = []
    checks = []
    for t in ctx._to_save:
        index = next((i for i, o in enumerate(wrapped) if o is t), None)
        if index is not None:
            saved.append(("output", index, t._data))
            checks.append((t._version_counter(), t._version, len(saved) - 1, -1))
        else:
            saved.append(("tensor", t, None))
            if isinstance(t, Tensor):
                checks.append((t._version_counter(), t._version, len(saved) - 1, None))
    ctx.saved = tuple(saved)
    ctx._checks = tuple(checks)
    if observe.saved:
        observe.notify_saved(ctx)
    non_diff = {id(t) for t in ctx._non_differentiable}
    for index, out in enumerate(wrapped):
        if isinstance(out, Tensor) and id(out) not in non_diff and out._data.dtype.kind in "fcV":
            out.grad_fn = ctx
            out._rg = True
            out._output_nr = index
