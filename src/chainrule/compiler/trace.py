"""Tracing: one eager call of a region, watched through the public graph API.

The call runs as usual (its result is eager's); while it runs, :class:`Tracer` writes down
every op it applies (recorded or not) with its arguments, in-place changes of parameters and
buffers, in-place changes of values computed in the region (as the op on a copy of the old
value, whose result becomes the tensor's value), and anything a replay could not repeat,
which ends the capture (a *graph break*): a value read into Python (``.item()``, ``bool()``,
``.tolist()``, ``.numpy()``, printing), an in-place change of an input or of a value a view
shares, a tensor made from values outside the ops, a hook on a tensor of the region.

What a trace holds, :class:`Trace`: the region's values (:class:`Value`: its inputs, tensors
from outside, op outputs), its steps in order (:class:`Step`), and the structure of its
result.  Arguments are kept as templates: a :class:`Ref` to a value, a :class:`Raw` array
(an option array such as a mask or running statistics), or a plain constant, inside tuples,
lists and dicts as the op got them.
"""
from __future__ import annotations

import threading
from typing import Any, Callable

import numpy as np

from ..autograd import graph
from ..autograd.anomaly import is_anomaly_enabled
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor


class Unsupported(RuntimeError):
    """A graph break where ``fullgraph=True`` asked for none (PyTorch's
    ``torch._dynamo.exc.Unsupported``)."""


class Value:
    """One value of a region: an ``input`` (argument ``index``), an ``external`` tensor (from
    outside: a parameter, a buffer, a tensor the function closes over, or one made inside by
    something other than an op: the comparison of two traces tells which), or an ``op``
    output (of step ``step``)."""

    __slots__ = ("index", "kind", "tensor", "array", "step", "requires_grad", "root", "alias_of", "live", "meta")

    def __init__(self, index: int, kind: str, tensor: Any, array: Any, step: int | None = None) -> None:
        self.index = index
        self.kind = kind
        self.tensor = tensor
        self.array = array
        self.step = step
        self.requires_grad = bool(tensor.requires_grad) if tensor is not None else False
        self.root = storage_root(array)
        self.meta = (getattr(array, "shape", None), getattr(array, "dtype", None))
        #: The value whose storage this one is a view of (None: its own storage).
        self.alias_of: Value | None = None
        #: For an external value: read from its tensor at each replay (False: a constant).
        self.live = True

    def __repr__(self) -> str:
        return f"<{self.kind} value {self.index} {getattr(self.array, 'shape', '')}>"


class Ref:
    """A template entry: the value ``value`` (``raw``: passed as its array, not a tensor)."""

    __slots__ = ("value", "raw")

    def __init__(self, value: Value, raw: bool = False) -> None:
        self.value = value
        self.raw = raw


class Raw:
    """A template entry: a NumPy array passed as an option (not a tensor)."""

    __slots__ = ("array",)

    def __init__(self, array: Any) -> None:
        self.array = array


class Step:
    """One step of a region: an ``op`` (``node`` ran its forward on ``args``/``kwargs``
    giving ``out``), a ``write`` (the in-place change ``change`` named ``name`` of the
    external value ``out``), or a ``bump`` (the version of the external ``out`` goes up: the
    op before changed it in place)."""

    __slots__ = ("kind", "node", "op", "args", "kwargs", "out", "recorded", "name", "change")

    def __init__(self, kind: str, node: Any, args: Any, kwargs: Any, out: Value, recorded: bool = False,
                 name: str = "", change: Any = None) -> None:
        self.kind, self.node, self.args, self.kwargs, self.out = kind, node, args, kwargs, out
        self.op = type(node) if node is not None else None
        self.recorded, self.name, self.change = recorded, name, change


class Trace:
    """What one traced call did (see the module docstring)."""

    def __init__(self) -> None:
        self.values: list[Value] = []
        self.inputs: list[Value] = []
        self.steps: list[Step] = []
        self.output: Any = None
        self.breaks: list[str] = []
        self.grad_enabled = is_grad_enabled()

    @property
    def broken(self) -> bool:
        return bool(self.breaks)

    def externals(self) -> list[Value]:
        return [v for v in self.values if v.kind == "external"]

    def op_steps(self) -> list[Step]:
        return [s for s in self.steps if s.kind == "op"]

    def slim(self) -> None:
        """Keep only what a comparison with the next trace needs: let go of the call's
        tensors, arrays and nodes (the tensors from outside and the option arrays stay)."""
        for value in self.values:
            if value.kind != "external":
                value.tensor = value.array = value.root = None
        for step in self.steps:
            step.node = None


def storage_root(array: Any) -> Any:
    """The array owning ``array``'s memory (NumPy views chain to it through ``.base``)."""
    base = getattr(array, "base", None)
    while isinstance(base, np.ndarray):
        array, base = base, base.base
    return array


class Tracer:
    """Watches one eager call (a context manager around it) and builds its :class:`Trace`.

    ``known`` are tensors from outside given up front (a module's parameters and buffers);
    ``stop(reason)`` is a graph break, raised as :class:`Unsupported` under ``fullgraph``."""

    def __init__(self, inputs: list, known: list, fullgraph: bool) -> None:
        self.trace = Trace()
        self.fullgraph = fullgraph
        self.by_tensor: dict[int, Value] = {}
        self.by_array: dict[int, Value] = {}
        self.by_root: dict[int, Value] = {}
        self.kept: list = []  # tensors looked up by id: kept alive so ids stay unique
        self.captured: list[bool] = []  # per open in-place change: captured as a write?
        # Open recorded in-place changes of values computed in the region (x.relu_(), x += y):
        # [tensor, its value before, the first step of the change, the copy the op reads];
        # see _end_rewrite.
        self.rewrites: list[list] = []
        # Per value index: how many tensors hold it, and how many values are views of it (an
        # in-place change of it must change nothing else the region reads: _unaliased).
        self.holders: dict[int, int] = {}
        self.views: dict[int, int] = {}
        self.handles: list = []
        self.thread = threading.get_ident()  # the observers see every thread's ops: only ours count
        for tensor in inputs:
            self.trace.inputs.append(self._new("input", tensor, graph.value(tensor)))
        for tensor in known:
            self._new("external", tensor, graph.value(tensor))
        if any(type(graph.value(t)) is not np.ndarray for t in (*inputs, *known)):
            self.stop("a tensor on a device other than the CPU (compiled regions run NumPy arrays)")
        if is_anomaly_enabled():
            self.stop("anomaly detection is on (its checks run per op, in eager mode)")

    # -- the watch --------------------------------------------------------------------------
    def __enter__(self) -> "Tracer":
        self.handles = [graph.on_apply(self.on_apply), graph.on_read(self.on_read),
                        graph.on_inplace(self.on_inplace)]
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self.handles:
            handle.remove()
        # The handles hold this tracer's bound methods: a cycle that would keep the traced
        # call's tensors (and their arrays) alive until the next garbage collection.
        self.handles = []

    def stop(self, reason: str) -> None:
        """A graph break: the capture ends here (the call goes on eagerly)."""
        if not self.trace.breaks:
            self.trace.breaks.append(reason)
            if self.fullgraph:
                raise Unsupported(f"graph break under fullgraph=True: {reason}")

    def on_apply(self, node: Any, args: tuple, kwargs: dict, output: Any) -> None:
        if self.trace.breaks or any(self.captured) or threading.get_ident() != self.thread:
            return
        step_args = self._template(args)
        step_kwargs = self._template(kwargs)
        if self.trace.breaks:
            return
        out_array = graph.value(output)
        value = self._new("op", output, out_array, step=len(self.trace.steps))
        for entry in refs(step_args):
            if entry.value.root is value.root:
                self._alias(value, entry.value.alias_of or entry.value)
                break
        self.trace.steps.append(Step("op", node, step_args, step_kwargs, value, output.grad_fn is node))

    def on_read(self, tensor: Any, how: str) -> None:
        if threading.get_ident() == self.thread:
            self.stop(f"{how} reads a tensor's values into Python inside the region")

    def on_inplace(self, stage: str, target: Any, name: str, change: Any) -> bool:
        """Watch an in-place change; at its "begin", True asks for it as its op on a copy of
        the old value (a change of a value computed in the region: see _begin_inplace)."""
        if self.trace.breaks or threading.get_ident() != self.thread:
            return False
        if stage == "end":
            if self.captured:
                self.captured.pop()
            if self.rewrites and self.rewrites[-1][0] is target:
                self._end_rewrite()
            return
        if stage == "begin":
            return self._begin_inplace(target, name, change)
        if stage == "copy":
            if self.rewrites:  # the op of the open rewrite reads the old value through this copy
                self.rewrites[-1][3] = target
                self._hold(target, self.rewrites[-1][1])
            return
        if any(self.captured):
            return  # the version bump of a change captured as a write
        if self.rewrites and target is self.rewrites[-1][1].root:
            return  # the version bump of a rewrite: the op's result is written over the old value
        owner = self.by_root.get(id(target)) if target is not None else None
        if owner is None or owner.kind != "external":
            self.stop(f"an in-place change ({name}) of {_describe(owner)} inside the region")
            return
        last = next((s for s in reversed(self.trace.steps) if s.kind != "bump"), None)
        if last is None or last.kind != "op" or not any(storage_root(r.array) is target for r in raws(last.args)):
            self.stop(f"an in-place change ({name}) of a parameter or buffer outside the ops")
            return
        self.trace.steps.append(Step("bump", None, (), {}, owner, name=name))

    def _begin_inplace(self, tensor: Any, name: str, change: Any) -> bool:
        value = self.by_tensor.get(id(tensor)) or self.by_root.get(id(storage_root(graph.value(tensor))))
        if value is None:
            value = self._new("external", tensor, graph.value(tensor))
        if value.kind == "op" and self._unaliased(value, tensor):
            # Run as the op on a copy of the old value (as eager records it when it records
            # the change): captured as that op, its result the tensor's new value; the plan
            # keeps old and new apart, as eager's graph does.
            self.rewrites.append([tensor, value, len(self.trace.steps), None])
            self.captured.append(False)
            return True
        recorded = is_grad_enabled() and (tensor.requires_grad or any(
            isinstance(a, Tensor) and a.requires_grad for a in list(change.args) + list(change.kwargs.values())))
        if value.kind != "external" or recorded:
            self.stop(f"an in-place change ({name}) of {_describe(value)} inside the region")
            self.captured.append(False)
            return False
        args = self._template(change.args)
        if self.trace.breaks:
            return False
        if refs(args) or refs(self._template(change.kwargs)):
            self.stop(f"an in-place change ({name}) of a buffer by values computed in the region")
            return False
        self.trace.steps.append(Step("write", None, args, dict(change.kwargs), value, name=name, change=change))
        self.captured.append(True)
        return False

    def _unaliased(self, value: Value, tensor: Any) -> bool:
        """Whether ``tensor`` holds all of ``value``'s storage, no other value is a view of it and
        no other tensor holds it (``.detach()``, ``.data``): then an in-place change of it
        changes nothing else the region reads."""
        others = self.holders.get(value.index, 0) - (self.by_tensor.get(id(tensor)) is value)
        return (value.alias_of is None and graph.value(tensor) is value.array
                and not self.views.get(value.index) and not others)

    def _end_rewrite(self) -> None:
        """A recorded in-place change is done: the tensor now holds the value its last op made.
        That value takes the tensor's array (which nodes that saved the result now hold, see
        ``inplace._output_is_this_storage``); the old value keeps the copy the op read."""
        tensor, old, first, copy = self.rewrites.pop()
        made = [s for s in self.trace.steps[first:] if s.kind == "op"]
        if self.trace.breaks:
            return
        if not made:
            self.stop("an in-place change of a value computed in the region that ran no op")
            return
        new = made[-1].out
        array = graph.value(tensor)
        if new.meta != (array.shape, array.dtype):
            self.stop(f"an in-place change that casts its result into the tensor's dtype or shape "
                      f"({new.meta[1]} into {array.dtype})")
            return
        if copy is not None:
            old.array = graph.value(copy)
        if new.tensor is not tensor:  # the op's own result tensor stays inside apply_inplace
            self._release(new.tensor)
            new.tensor = tensor
        new.array, new.root = array, old.root
        self._hold(tensor, new)
        self.by_array[id(array)] = new
        self.by_root[id(old.root)] = new

    def finish(self, result: Any) -> Trace:
        """The trace, once the call returned ``result``."""
        self.trace.output = self._template(result, output=True)
        for step in self.trace.op_steps():
            if step.recorded and graph.has_hooks(step.node):
                self.stop("a hook on a tensor computed inside the region (register_hook, retain_grad)")
                break
        return self.trace

    # -- values and templates -------------------------------------------------------------------
    def _new(self, kind: str, tensor: Any, array: Any, step: int | None = None) -> Value:
        value = Value(len(self.trace.values), kind, tensor, array, step)
        self.trace.values.append(value)
        self._hold(tensor, value)
        self.by_array.setdefault(id(array), value)
        self.by_root.setdefault(id(value.root), value)
        return value

    def _hold(self, tensor: Any, value: Value) -> None:
        """``tensor`` holds ``value`` from now on (kept alive: its id stays unique)."""
        self._release(tensor)
        self.by_tensor[id(tensor)] = value
        self.holders[value.index] = self.holders.get(value.index, 0) + 1
        self.kept.append(tensor)

    def _release(self, tensor: Any) -> None:
        held = self.by_tensor.pop(id(tensor), None)
        if held is not None:
            self.holders[held.index] -= 1

    def _alias(self, value: Value, owner: Value) -> None:
        value.alias_of = owner
        self.views[owner.index] = self.views.get(owner.index, 0) + 1

    def value_of(self, tensor: Any) -> Value | None:
        """The value ``tensor`` holds (registering a tensor from outside on first sight);
        None after a graph break."""
        found = self.by_tensor.get(id(tensor))
        if found is not None:
            return found
        array = graph.value(tensor)
        found = self.by_array.get(id(array))  # .detach(), .data: the same array
        if found is not None:
            self._hold(tensor, found)
            return found
        if type(array) is not np.ndarray:  # a device's array, even one that subclasses ndarray
            self.stop("a tensor on a device other than the CPU (compiled regions run NumPy arrays)")
            return None
        owner = self.by_root.get(id(storage_root(array)))
        if owner is not None and owner.kind != "external":
            self.stop(f"a view of {_describe(owner)} made outside the ops")
            return None
        value = self._new("external", tensor, array)
        if owner is not None:
            self._alias(value, owner)
        return value

    def _template(self, item: Any, output: bool = False) -> Any:
        kind = type(item)
        if isinstance(item, Tensor):
            value = self.value_of(item)
            return Ref(value) if value is not None else None
        if kind is tuple or kind is list:
            return kind(self._template(x, output) for x in item)
        if kind is dict:
            return {k: self._template(v, output) for k, v in item.items()}
        if isinstance(item, np.ndarray):
            if output:
                self.stop("a NumPy array in the region's result")
                return None
            same = self.by_array.get(id(item))
            if same is not None and same.kind != "external":
                return Ref(same, raw=True)  # a value's very array (cross_entropy's target)
            owner = self.by_root.get(id(storage_root(item)))
            if owner is not None and owner.kind != "external":
                self.stop(f"an array view of {_describe(owner)} passed to an op")
                return None
            return Raw(item)
        if output and not (item is None or kind in (int, float, bool, str)):
            self.stop(f"a result of type {kind.__name__} (compiled regions return tensors, "
                      f"numbers, and tuples, lists and dicts of them)")
        return item


def _describe(value: Value | None) -> str:
    if value is None:
        return "a tensor made outside the ops"
    return {"input": "an input of the region", "op": "a value computed in the region",
            "external": "a parameter or buffer"}[value.kind]


def walk(template: Any) -> Any:
    """The entries of a template (inside its tuples, lists and dicts), in order."""
    kind = type(template)
    if kind is tuple or kind is list:
        for item in template:
            yield from walk(item)
    elif kind is dict:
        for item in template.values():
            yield from walk(item)
    else:
        yield template


def refs(template: Any) -> list[Ref]:
    """The :class:`Ref` entries of a template, in order."""
    return [t for t in walk(template) if type(t) is Ref]


def raws(template: Any) -> list[Raw]:
    """The :class:`Raw` entries of a template, in order."""
    return [t for t in walk(template) if type(t) is Raw]


def trace_call(call: Callable, args: tuple, kwargs: dict, inputs: list, known: list,
               fullgraph: bool) -> tuple[Any, Trace]:
    """Run ``call(*args, **kwargs)`` eagerly under a :class:`Tracer`; returns its result and
    its trace (``inputs``: the tensors among the arguments, in order)."""
    tracer = Tracer(inputs, known, fullgraph)
    with tracer:
        result = call(*args, **kwargs)
    return result, tracer.finish(result)

