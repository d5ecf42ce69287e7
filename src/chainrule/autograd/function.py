"""Graph nodes.

A node is created by ``apply`` when grad mode is on and an input requires grad.  It holds
its ``edges`` (one entry per input: the input's node, ``(node, output index)`` for an output
other than a node's first, the leaf tensor itself, or None when that input needs no
gradient) and what its backward needs; ``next_functions`` shows the edges as PyTorch does.  The first entry lives in
a slot of its own and the rest in a tuple that ops with one tensor input share: the cyclic
garbage collector then tracks one object per such node, not two, which on long graphs
halves the time its full collections spend rescanning them.  The node *is* the op
instance: the op's forward and backward are its methods, side by side.

Two flavours share the engine:

* ``Op``: chainrule's own primitives.  ``forward(self, xp, *arrays)`` runs on backend
  arrays; ``backward(self, xp, grad)`` returns one gradient per input.  Backward formulas
  are written against the namespace ``xp``: NumPy (or CuPy) in an ordinary backward, and
  the Tensor namespace under ``create_graph=True``, so the same formula records itself and
  higher-order gradients come for free.
* ``Function``: PyTorch's user API (``forward(ctx, ...)`` / ``backward(ctx, ...)`` on Tensors).
"""
from __future__ import annotations

import weakref
from typing import Any, Callable

import numpy as np

from .anomaly import state as anomaly
from .grad_mode import grad_state

_ndarray = np.ndarray
_generic = np.generic

# Bound by chainrule.tensor once it is imported (it imports this module first).
Tensor: Any = None
_make: Any = None


def bind_tensor(tensor_cls: type, make: Callable) -> None:
    global Tensor, _make
    Tensor, _make = tensor_cls, make


class _InplaceEpoch:
    """Counts every in-place modification anywhere; a node remembers the count at its
    forward, so its backward can skip the version checks when nothing changed since."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0


inplace_epoch = _InplaceEpoch()


def storage_root(array: Any) -> Any:
    """The array that owns ``array``'s memory (views chain to it through ``.base``)."""
    base = array.base
    while isinstance(base, _ndarray):
        array, base = base, base.base
    return array


#: id(storage root) -> (epoch, op name, version) of its latest in-place modification.  Nodes
#: keep only arrays, not tensors (fewer objects for the garbage collector to rescan on long
#: graphs), so their backward asks here whether a saved array's storage changed since their
#: forward.  An entry goes when its array is freed.
modified_storage: dict = {}


def _forget_storage(key: int) -> None:
    modified_storage.pop(key, None)


class VersionCounter:
    """Counts in-place modifications of one storage; views share their base's counter.
    ``root`` is that storage's owning array (None: changes are not tracked, as for ``.data``)."""

    __slots__ = ("value", "last_op", "epoch", "root")

    def __init__(self, root: Any = None) -> None:
        self.value = 0
        self.last_op = ""
        self.epoch = 0
        self.root = root

    def bump(self, op_name: str) -> None:
        self.value += 1
        self.last_op = op_name
        inplace_epoch.value += 1
        self.epoch = inplace_epoch.value
        root = self.root
        if root is not None:
            key = id(root)
            if key not in modified_storage:
                weakref.finalize(root, _forget_storage, key)
            modified_storage[key] = (self.epoch, op_name, self.value)


def _inplace_error(node: "Node", role: str, op_name: str, version: Any) -> RuntimeError:
    now = f" (now at version {version})" if version is not None else ""
    return RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: {role} of {node.name()}, saved for its backward, was modified "
        f"in place by {op_name or 'an in-place op'}{now} after it was saved. Use the "
        f"out-of-place form of {op_name or 'the op'}, or .clone() the tensor before changing it."
    )


class RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""

    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks: list, hook: Callable) -> None:
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        try:
            self._hooks.remove(self._hook)
        except ValueError:
            pass

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def _freed_error(node: "Node") -> RuntimeError:
    return RuntimeError(
        f"Trying to backward through the graph a second time (or directly access saved "
        f"tensors after they have already been freed): the saved values of {node.name()} were "
        f"freed by the first backward. Specify retain_graph=True if you need to backward "
        f"through the graph a second time or if you need to access saved tensors after "
        f"calling backward."
    )


class Node:
    """Base of every graph node.  Subclasses define ``apply_backward``."""

    # Hot fields are slots; hooks and anomaly traces are rare, so they live in __dict__ and
    # read the class defaults below until set (a node is created per op: keep it cheap).
    __slots__ = ("first_edge", "other_edges", "saved", "inputs", "output", "epoch", "__dict__",
                 "__weakref__")
    _checks: tuple | None = None  # user Functions' eager version checks
    _hooked = False  # any hook at all: the engine checks this one flag per node
    _pre_hooks: list | None = None
    _post_hooks: list | None = None
    _tensor_hooks: dict | None = None
    anomaly_trace: str | None = None
    n_outputs = 1
    #: The op's name where it differs from the class's (``MulScalar`` is PyTorch's Mul).
    display_name: str | None = None
    #: PyTorch's node name where it is not ``<display name>Backward0`` (``RsubBackward1``).
    pytorch_name: str | None = None
    #: How many leading arguments PyTorch's node takes as inputs (None: all of them) ...
    presented_inputs: int | None = None
    #: ... or exactly which, in its order (``where(c, a, b)``: a and b).
    presented: tuple | None = None
    #: Readable local derivative(s), one per input, used by ``chainrule.explain``.
    derivative: tuple[str, ...] = ()

    @property
    def edges(self) -> tuple:
        """One entry per input: the input's node (``(node, output index)`` for an output other
        than the first), the leaf tensor itself, or None when that input needs no gradient."""
        return (self.first_edge,) + self.other_edges

    @edges.setter
    def edges(self, edges: tuple) -> None:
        self.first_edge = edges[0]
        self.other_edges = _rest_of(edges)

    @property
    def next_functions(self) -> tuple:
        """The edges as PyTorch shows them: ``(node, output index)`` pairs, with an
        :class:`AccumulateGrad` for a leaf and ``(None, 0)`` for an input without gradient."""
        return tuple(_pytorch_edge(edge) for edge in self.presented_edges())

    def presented_edges(self) -> tuple:
        """The edges of the inputs PyTorch's node has, in its order."""
        edges = self.edges
        return tuple(edges[i] for i in self.presented_indices())

    def presented_indices(self) -> Any:
        """Which of this node's arguments are the inputs of PyTorch's node, in its order: the
        tensors, not the options (``sum(x, dim)`` has one input, chainrule's Sum records
        ``dim`` too).  ``next_functions`` and node post-hooks see the inputs so."""
        cls = type(self)
        if cls.presented is not None:
            return cls.presented
        count = len(self.other_edges) + 1
        shown = cls.presented_inputs
        return range(count if shown is None else min(shown, count))

    def needs_grad(self, index: int) -> bool:
        """Whether input ``index`` gets a gradient (backward formulas skip the others)."""
        return (self.first_edge if index == 0 else self.other_edges[index - 1]) is not None

    def name(self) -> str:
        """PyTorch's name for this node (``MulBackward0``): what ``grad_fn`` prints as, and
        its type's name, as graph walkers (torchviz ...) print that."""
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    # -- PyTorch's node hooks -------------------------------------------------------
    def register_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(grad_inputs, grad_outputs)`` runs after this node's backward."""
        hooks = self._post_hooks
        if hooks is None:
            hooks = self._post_hooks = []
        self._hooked = True
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def register_prehook(self, hook: Callable) -> RemovableHandle:
        """``hook(grad_outputs)`` runs before this node's backward; may return new ones."""
        hooks = self._pre_hooks
        if hooks is None:
            hooks = self._pre_hooks = []
        self._hooked = True
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def _check_versions(self) -> None:
        for counter, version, position, index in self._checks:
            if counter.value != version:
                role = "its output" if index == -1 else (
                    f"input {index}" if index is not None else f"saved tensor {position}")
                raise _inplace_error(self, role, counter.last_op, counter.value)

    def release(self) -> None:
        """Free what backward needed; a second backward then raises."""
        self.saved = None


_new_node = object.__new__

#: ``other_edges`` of the ops of one tensor and one constant, shared by all of them.
_ONE_CONSTANT = (None,)


def _rest_of(edges: Any) -> tuple:
    """The edges after the first, sharing the common constant tuples."""
    n = len(edges)
    if n == 1:
        return ()
    if n == 2 and edges[1] is None:
        return _ONE_CONSTANT
    return tuple(edges[1:])

#: Callbacks ``observe(node, args, kwargs, output)`` run when an Op records a node;
#: ``chainrule.viz.trace`` uses them to remember values, modules and gradients per node.
observers: list = []


class Op(Node):
    """A chainrule primitive: forward on backend arrays, backward by formula.

    An op class's ``__name__`` is PyTorch's name for its node (``Mul`` is MulBackward0), so
    that ``type(y.grad_fn).__name__`` reads as in PyTorch; ``op_name`` keeps chainrule's.
    Where PyTorch's name depends on the arguments (``sum()`` vs ``sum(dim)``) or on the call
    (``unsqueeze`` records a Reshape), the node takes a subclass of that name: see
    :func:`named` and :func:`variant`."""

    __slots__ = ()
    op_name = "Op"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "op_name" not in cls.__dict__:
            cls.op_name = cls.__name__
        name = cls.__dict__.get("pytorch_name") or f"{cls.display_name or cls.op_name}Backward0"
        cls.__name__ = cls.__qualname__ = name
    #: Set on ops whose output shares storage with input 0 (views share its version counter).
    is_view = False
    #: Ops whose output is never differentiable (comparisons, argmax ...).
    differentiable = True
    #: Per saved value, the input whose gradient alone needs it (as PyTorch saves ``a`` of
    #: ``a * b`` only when ``b`` requires grad): changing it in place is then an error only
    #: when that input needs a gradient.  None: every saved value is always needed.
    saved_needed_by: tuple | None = None

    def forward(self, xp: Any, *args: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, xp: Any, grad: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        # One pass over the arguments collects the arrays and, in case this op is
        # recorded, the graph edges (an input's node, the leaf itself, or None).
        arrays = []
        edges = []
        record = False
        cut = None
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a._data)
                if a._rg:
                    record = True
                    fn = a.grad_fn
                    if fn is None:
                        edges.append(a)
                    else:
                        nr = a._output_nr
                        edges.append(fn if nr == 0 else (fn, nr))
                else:
                    edges.append(None)
                    if a._cut is not None:
                        cut = a._cut
            else:
                arrays.append(a)
                edges.append(None)
        node = _new_node(cls)
        node.saved = None
        first = arrays[0]
        xp = np if type(first) is _ndarray else _namespace_of(arrays)
        try:
            out = node.forward(xp, *arrays, **kwargs) if kwargs else node.forward(xp, *arrays)
        except ValueError as error:
            if "broadcast" not in str(error):
                raise
            raise _broadcast_error(arrays) from None
        if type(out) is not _ndarray:
            out = _output_array(node, out, xp)
        enabled = grad_state.enabled
        if anomaly.enabled:
            from .anomaly import on_forward

            on_forward(cls.display_name or cls.op_name, out, node if record and enabled else None)
        if record and enabled and cls.differentiable:
            node.first_edge = edges[0]
            node.other_edges = _rest_of(edges)
            # Inputs are kept only for the checks and higher-order wiring of saved arrays.
            node.inputs = tuple(arrays) if node.saved else ()
            result = _recorded(node, out)
            if observers:
                for observe in observers:
                    observe(node, args, kwargs, result)
        else:
            result = _unrecorded(cls, out, record, cut)
        if cls.is_view:
            result._vc = args[0]._version_counter()
            # An in-place change of the view must rewrite its base's history too.
            result._view_of = (args[0], cls, args[1:], kwargs)
        return result

    @classmethod
    def apply_one(cls, tensor: Any, *constants: Any) -> Any:
        """``apply(tensor, *constants)`` for ops whose only possible tensor argument is the
        first: unary ops and arithmetic with a Python number.  The same node as ``apply``
        records, for a fraction of the bookkeeping (one edge, no loop over arguments), on the
        path that long chains of small ops spend their time in."""
        try:
            data = tensor._data
        except AttributeError:  # not a tensor: the general path reports or converts it
            return cls.apply(tensor, *constants)
        if type(data) is not _ndarray or anomaly.enabled or observers or cls.is_view:
            return cls.apply(tensor, *constants)
        node = _new_node(cls)
        node.saved = None
        out = node.forward(np, data, *constants)
        if type(out) is not _ndarray:
            out = _output_array(node, out)
        if tensor._rg:
            if grad_state.enabled and cls.differentiable:
                fn = tensor.grad_fn
                if fn is None:
                    edge = tensor
                else:
                    nr = tensor._output_nr
                    edge = fn if nr == 0 else (fn, nr)
                node.first_edge = edge
                # One entry per argument, as ``apply`` records: constants have no edge.
                node.other_edges = _ONE_CONSTANT if len(constants) == 1 else (None,) * len(constants)
                node.inputs = (data,) if node.saved else ()
                return _recorded(node, out)
            return _unrecorded(cls, out, True, None)
        return _unrecorded(cls, out, False, tensor._cut)

    @classmethod
    def apply_two(cls, first: Any, second: Any) -> Any:
        """``apply(first, second)`` for two tensors (binary arithmetic between tensors): the
        same node, with the bookkeeping of ``apply_one``."""
        try:
            a, b = first._data, second._data
        except AttributeError:
            return cls.apply(first, second)
        if type(a) is not _ndarray or type(b) is not _ndarray or anomaly.enabled or observers:
            return cls.apply(first, second)
        node = _new_node(cls)
        node.saved = None
        try:
            out = node.forward(np, a, b)
        except ValueError as error:
            if "broadcast" not in str(error):
                raise
            raise _broadcast_error((a, b)) from None
        if type(out) is not _ndarray:
            out = _output_array(node, out)
        if first._rg or second._rg:
            if grad_state.enabled and cls.differentiable:
                node.first_edge = _edge(first)
                node.other_edges = (_edge(second),)
                node.inputs = (a, b) if node.saved else ()
                return _recorded(node, out)
            return _unrecorded(cls, out, True, None)
        return _unrecorded(cls, out, False, first._cut or second._cut)

    def apply_backward(self, grad: Any, create_graph: bool) -> tuple:
        if self.inputs is None:
            raise _freed_error(self)
        if self.epoch != inplace_epoch.value:
            self._check_versions()
        if not create_graph:
            if type(grad) is _ndarray or isinstance(grad, _generic):
                result = self.backward(np, grad)
            else:
                result = self.backward(_namespace_of((grad,)), grad)
        else:
            from ..ops.namespace import tensor_namespace

            arrays = self.saved
            if arrays:
                self.saved = _saved_as_tensors(self, arrays)
            try:
                result = self.backward(tensor_namespace, grad)
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
            if type(array) is not _ndarray:
                continue
            if needed_by is not None and not self.needs_grad(needed_by[position]):
                continue
            change = modified_storage.get(id(storage_root(array)))
            if change is not None and change[0] > self.epoch:
                index = next((i for i, a in enumerate(self.inputs) if a is array), None)
                role = f"input {index}" if index is not None else (
                    "its output" if array is self.output or self.output is None else f"saved value {position}")
                raise _inplace_error(self, role, change[1], change[2])



def _output_array(node: Op, out: Any, xp: Any = np) -> Any:
    """A forward's NumPy scalar (what NumPy answers for 0-d inputs, and full reductions) as
    the 0-d array the output tensor holds; a saved output must be that very array, or
    create_graph would take it for a constant."""
    scalar, out = out, xp.asarray(out)
    saved = node.saved
    if saved:
        if len(saved) == 1:
            if saved[0] is scalar:
                node.saved = (out,)
        else:
            node.saved = tuple([out if s is scalar else s for s in saved])
    return out


def _recorded(node: Op, out: Any) -> Any:
    """The output tensor of a node being recorded (``_make(out, node, True)``, inlined: this
    runs once per recorded op)."""
    node.output = out
    node.epoch = inplace_epoch.value
    result = _new_node(Tensor)
    result._data = out
    result._grad = None
    result.grad_fn = node
    result._rg = True
    result._vc = None
    return result


def _unrecorded(cls: type, out: Any, wanted_grad: bool, cut: str | None) -> Any:
    """The output of an op that is not recorded, remembering where the graph was cut (for
    the error of a later backward): here under no_grad when an input wanted a gradient,
    else wherever an input's own history was cut."""
    result = _make(out, None, False)
    if wanted_grad:
        if not grad_state.enabled:
            result._cut = f"{cls.display_name or cls.op_name} (computed under no_grad)"
    elif cut is not None:
        result._cut = cut
    return result


def once_differentiable(backward: Callable) -> Callable:
    """Decorates a Function's ``backward`` that is not itself differentiable: it runs with
    grad mode off even under ``create_graph`` (PyTorch's decorator of the same name)."""
    import functools

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


class AccumulateGrad:
    """What PyTorch's ``next_functions`` shows for a leaf: the node that accumulates into its
    ``.grad``.  chainrule's engine accumulates into leaves directly; this is its face, one
    per leaf (the same object each time), holding the leaf weakly (no reference cycle)."""

    __slots__ = ("_variable", "__weakref__")
    next_functions: tuple = ()

    def __init__(self, variable: Any) -> None:
        self._variable = weakref.ref(variable)

    @property
    def variable(self) -> Any:
        """The leaf tensor whose gradient this accumulates."""
        return self._variable()

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def register_prehook(self, hook: Callable) -> RemovableHandle:
        """``hook((grad,))`` before the gradient is accumulated; it may return a replacement
        ``(grad,)`` (the leaf's own tensor hooks, as PyTorch runs these)."""

        def tensor_hook(grad: Any) -> Any:
            result = hook((grad,))
            return None if result is None else result[0]

        return self._leaf().register_hook(tensor_hook)

    def register_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(grad_inputs, grad_outputs)`` with the leaf's gradient, ``((), (grad,))`` as
        in PyTorch (an AccumulateGrad node has no inputs); its result is ignored."""

        def tensor_hook(grad: Any) -> None:
            hook((), (grad,))

        return self._leaf().register_hook(tensor_hook)

    def _leaf(self) -> Any:
        leaf = self._variable()
        if leaf is None:
            raise RuntimeError("the leaf tensor of this AccumulateGrad node no longer exists")
        return leaf

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


def _pytorch_edge(edge: Any) -> tuple:
    if edge is None:
        return (None, 0)
    if type(edge) is tuple:
        return edge
    if isinstance(edge, Node):
        return (edge, 0)
    accumulator = edge.__dict__.get("_accumulate_grad")
    if accumulator is None:
        accumulator = edge.__dict__["_accumulate_grad"] = AccumulateGrad(edge)
    return (accumulator, 0)


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


def _broadcast_error(arrays: Any) -> RuntimeError:
    """PyTorch's message for operands whose shapes do not broadcast."""
    shapes = [tuple(a.shape) for a in arrays if hasattr(a, "shape")]
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


def _namespace_of(arrays: Any) -> Any:
    from ..backend import get_array_module

    for a in arrays:
        if hasattr(a, "shape"):
            return get_array_module(a)
    return np


def _edge(tensor: Any) -> Any:
    """The graph edge to an input: its node (with the output index when not 0), the leaf
    tensor itself when it requires grad, or None."""
    fn = tensor.grad_fn
    if fn is None:
        return tensor if tensor.requires_grad else None
    nr = tensor._output_nr
    return fn if nr == 0 else (fn, nr)


def _saved_as_tensors(node: "Op", arrays: tuple) -> tuple:
    """Saved arrays as Tensors wired into the graph, for a backward that records itself.

    A saved array that is an input's storage becomes a tensor with that input's history (so
    second derivatives flow through it), the saved output one with this node's history;
    anything else is a constant."""
    out = list(arrays)
    inputs = node.inputs
    for position, array in enumerate(arrays):
        if type(array) is not _ndarray:
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


# ---------------------------------------------------------------------------------------
# PyTorch's user-facing autograd.Function
# ---------------------------------------------------------------------------------------


class FunctionCtx:
    """What ``forward(ctx, ...)`` can use: save_for_backward, mark_non_differentiable ..."""

    def save_for_backward(self, *tensors: Any) -> None:
        self._to_save = tensors

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
    def setup_context(ctx: Any, inputs: tuple, output: Any) -> None:
        raise NotImplementedError

    def presented_indices(self) -> tuple:
        # PyTorch's node has the tensor arguments only.
        return self._tensor_positions

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        from .grad_mode import no_grad

        node_cls = cls._backward_cls
        ctx = node_cls.__new__(node_cls)
        ctx._to_save = ()
        ctx._non_differentiable = ()
        ctx._materialize = True
        ctx.saved = None
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        record = grad_state.enabled and any(ctx.needs_input_grad)
        uses_setup_context = cls.setup_context is not Function.setup_context
        with no_grad():
            if uses_setup_context:
                raw = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, raw)
            else:
                raw = cls.forward(ctx, *args, **kwargs)
        is_tuple = isinstance(raw, tuple)
        outputs = raw if is_tuple else (raw,)
        # An input returned as an output is a new tensor on the same data, unless forward
        # changed it in place and said so (``ctx.mark_dirty``): then, as in PyTorch, the very
        # input object comes back, its history now this node.
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
        non_diff = {id(t) for t in ctx._non_differentiable}
        ctx.n_outputs = len(wrapped)
        ctx._output_meta = tuple(
            (o._data.shape, o._data.dtype) if isinstance(o, Tensor) else None for o in wrapped
        )
        if record:
            ctx.edges = tuple(_edge(a) if isinstance(a, Tensor) else None for a in args)
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
            for index, out in enumerate(wrapped):
                if isinstance(out, Tensor) and id(out) not in non_diff and out._data.dtype.kind in "fc":
                    out.grad_fn = ctx
                    out._rg = True
                    out._output_nr = index
        ctx._to_save = ()
        return tuple(wrapped) if is_tuple else wrapped[0]

    @property
    def saved_tensors(self) -> tuple:
        if self.saved is None:
            raise _freed_error(self)
        out = []
        for kind, item, data in self.saved:
            out.append(_make(data, self, True) if kind == "output" else item)
        return tuple(out)

    def apply_backward(self, grads: Any, create_graph: bool) -> tuple:
        if self.saved is None:
            raise _freed_error(self)
        self._check_versions()
        if self.n_outputs == 1:
            grads = (grads,)
        tensors = []
        for g, meta in zip(grads, self._output_meta):
            if g is None and self._materialize and meta is not None:
                g = np.zeros(meta[0], dtype=meta[1])
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
        if len(result) < expected:
            raise RuntimeError(
                f"function {self.name()} returned an incorrect number of gradients "
                f"(expected {expected}, got {len(result)})"
            )
        result = result[:expected] if all(r is None for r in result[expected:]) else result
        if len(result) != expected:
            raise RuntimeError(
                f"function {self.name()} returned an incorrect number of gradients "
                f"(expected {expected}, got {len(result)})"
            )
        out = []
        for r in result:
            if isinstance(r, Tensor):
                out.append(r if create_graph else r._data)
            else:
                out.append(r)
        return tuple(out)

    def release(self) -> None:
        self.saved = None

