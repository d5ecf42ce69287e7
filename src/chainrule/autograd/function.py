"""Graph nodes.

A node is created by ``apply`` when grad mode is on and an input requires grad.  It holds
``next_functions`` (one entry per input: the input's node, the leaf tensor itself, or None
when that input needs no gradient) and what its backward needs.  The node *is* the op
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

from typing import Any, Callable

import numpy as np

from .anomaly import state as anomaly
from .grad_mode import grad_state

_ndarray = np.ndarray


class VersionCounter:
    """Counts in-place modifications of one storage; views share their base's counter."""

    __slots__ = ("value", "last_op")

    def __init__(self) -> None:
        self.value = 0
        self.last_op = ""

    def bump(self, op_name: str) -> None:
        self.value += 1
        self.last_op = op_name


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

    __slots__ = ("next_functions", "saved", "_checks", "_pre_hooks", "_post_hooks",
                 "_tensor_hooks", "anomaly_trace", "__weakref__")
    n_outputs = 1
    #: Readable local derivative(s), one per input, used by ``chainrule.explain``.
    derivative: tuple[str, ...] = ()

    def name(self) -> str:
        return type(self).__name__ + "Backward"

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    # -- PyTorch's node hooks -------------------------------------------------------
    def register_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(grad_inputs, grad_outputs)`` runs after this node's backward."""
        hooks = getattr(self, "_post_hooks", None)
        if hooks is None:
            hooks = self._post_hooks = []
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def register_prehook(self, hook: Callable) -> RemovableHandle:
        """``hook(grad_outputs)`` runs before this node's backward; may return new ones."""
        hooks = getattr(self, "_pre_hooks", None)
        if hooks is None:
            hooks = self._pre_hooks = []
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def _check_versions(self) -> None:
        for counter, version, role, *_ in self._checks:
            if counter.value != version:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: {role} of {self.name()} (saved at version "
                    f"{version}) was modified in place by {counter.last_op or 'an in-place op'} "
                    f"(now at version {counter.value}). Use the out-of-place form of "
                    f"{counter.last_op or 'the op'}, or .clone() the tensor before changing it."
                )

    def release(self) -> None:
        """Free what backward needed; a second backward then raises."""
        self.saved = None


class Op(Node):
    """A chainrule primitive: forward on backend arrays, backward by formula."""

    __slots__ = ()
    #: Set on ops whose output shares storage with input 0 (views share its version counter).
    is_view = False
    #: Ops whose output is never differentiable (comparisons, argmax ...).
    differentiable = True

    def save(self, *arrays: Any) -> None:
        self.saved = arrays

    def forward(self, xp: Any, *args: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, xp: Any, grad: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        from ..tensor import Tensor, _make

        arrays = []
        record = False
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a.data)
                if a.requires_grad:
                    record = True
            else:
                arrays.append(a)
        node = cls.__new__(cls)
        node.saved = None
        first = arrays[0]
        xp = np if type(first) is _ndarray else _namespace_of(arrays)
        out = node.forward(xp, *arrays, **kwargs)
        if type(out) is not _ndarray:
            out = xp.asarray(out)
        if anomaly.enabled:
            from .anomaly import on_forward

            on_forward(cls.__name__, out, node if record and grad_state.enabled else None)
        if record and grad_state.enabled and cls.differentiable:
            node.next_functions = tuple(_edge(a) if isinstance(a, Tensor) else None for a in args)
            node._pre_hooks = node._post_hooks = node._tensor_hooks = None
            result = _make(out, node, True)
            node._checks = _saved_checks(node, args, result) if node.saved else ()
        else:
            result = _make(out, None, False)
        if cls.is_view:
            result._vc = args[0]._vc
        return result

    def apply_backward(self, grad: Any, create_graph: bool) -> tuple:
        if self.saved is None and self._checks is None:
            raise _freed_error(self)
        if self._checks:
            self._check_versions()
        if not create_graph:
            if type(grad) is _ndarray:
                result = self.backward(np, grad)
            else:
                result = self.backward(_namespace_of((grad,)), grad)
        else:
            from ..ops.namespace import tensor_namespace

            arrays = self.saved
            self.saved = _saved_as_tensors(self, arrays)
            try:
                result = self.backward(tensor_namespace, grad)
            finally:
                self.saved = arrays
        return result if type(result) is tuple else (result,)

    def release(self) -> None:
        self.saved = None
        self._checks = None

    def needs_grad(self, index: int) -> bool:
        return self.next_functions[index] is not None


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


def _saved_checks(node: Node, args: tuple, result: Any) -> tuple:
    """One version check per saved array that is an input's or the output's storage:
    (counter, version at save, role, position in saved, input index or -1 for output)."""
    from ..tensor import Tensor

    checks = []
    for position, saved in enumerate(node.saved):
        if type(saved) is not _ndarray:
            continue
        if saved is result.data:
            checks.append((result._vc, result._vc.value, "its output", position, -1))
            continue
        for index, a in enumerate(args):
            if isinstance(a, Tensor) and a.data is saved:
                checks.append((a._vc, a._vc.value, f"input {index}", position, index))
                break
    return tuple(checks)


def _saved_as_tensors(node: "Op", arrays: tuple) -> tuple:
    """Saved arrays as Tensors wired into the graph, for a backward that records itself.

    A saved array that is an input's storage becomes a tensor with that input's history (so
    second derivatives flow through it), the saved output one with this node's history;
    anything else is a constant."""
    from ..tensor import Tensor, _make

    out = list(arrays)
    for position, array in enumerate(arrays):
        if type(array) is _ndarray:
            out[position] = _make(array, None, False)
    for _counter, _version, _role, position, index in node._checks:
        array = arrays[position]
        if index < 0:
            out[position] = _make(array, node, True)
            continue
        edge = node.next_functions[index]
        if edge is None:
            continue
        if isinstance(edge, Tensor):
            out[position] = edge
        elif type(edge) is tuple:
            tensor = _make(array, edge[0], True)
            tensor._output_nr = edge[1]
            out[position] = tensor
        else:
            out[position] = _make(array, edge, True)
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
        # Gives ``MyFn._backward_cls`` a readable node name, as PyTorch's ``MyFnBackward``.
        cls._node_name = name + "Backward"


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

    def name(self) -> str:
        return type(self)._node_name

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        from ..tensor import Tensor, _make
        from .grad_mode import no_grad

        ctx = cls.__new__(cls)
        ctx._to_save = ()
        ctx._non_differentiable = ()
        ctx._materialize = True
        ctx._pre_hooks = ctx._post_hooks = ctx._tensor_hooks = None
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
        wrapped = []
        for out in outputs:
            if isinstance(out, Tensor) and any(out is a for a in args):
                out = _make(out.data, None, False)
            wrapped.append(out)
        non_diff = {id(t) for t in ctx._non_differentiable}
        ctx.n_outputs = len(wrapped)
        ctx._output_meta = tuple(
            (o.data.shape, o.data.dtype) if isinstance(o, Tensor) else None for o in wrapped
        )
        if record:
            ctx.next_functions = tuple(_edge(a) if isinstance(a, Tensor) else None for a in args)
            saved = []
            checks = []
            for t in ctx._to_save:
                index = next((i for i, o in enumerate(wrapped) if o is t), None)
                if index is not None:
                    saved.append(("output", index, t.data))
                    checks.append((t._vc, t._vc.value, f"output {index}", None))
                else:
                    saved.append(("tensor", t, None))
                    if isinstance(t, Tensor):
                        checks.append((t._vc, t._vc.value, "a saved tensor", None))
            ctx.saved = tuple(saved)
            ctx._checks = tuple(checks)
            for index, out in enumerate(wrapped):
                if isinstance(out, Tensor) and id(out) not in non_diff and out.dtype.kind in "fc":
                    out.grad_fn = ctx
                    out.requires_grad = True
                    out._output_nr = index
        ctx._to_save = ()
        return tuple(wrapped) if is_tuple else wrapped[0]

    @property
    def saved_tensors(self) -> tuple:
        from ..tensor import _make

        if self.saved is None:
            raise _freed_error(self)
        out = []
        for kind, item, data in self.saved:
            out.append(_make(data, self, True) if kind == "output" else item)
        return tuple(out)

    def apply_backward(self, grads: Any, create_graph: bool) -> tuple:
        from ..tensor import Tensor, _make
        from .grad_mode import set_grad_enabled

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
        expected = len(self.next_functions)
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
                out.append(r if create_graph else r.data)
            else:
                out.append(r)
        return tuple(out)

    def release(self) -> None:
        self.saved = None


class BackwardCFunction(Function):
    """Kept for code that names it; ctx objects are ``Function`` instances."""
