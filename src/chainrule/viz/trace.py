"""Remember what the graph forgets: forward values, the modules that made each node, and the
gradients that flowed through it.

A graph node keeps only what its backward needs.  ``trace`` records, for every node created
while it is active, the op's arguments (so the forward can be replayed, e.g. for finite
differences), its output value, the stack of modules it was created in (through forward
hooks), and, after a backward, the gradients that flowed through it (through node hooks)::

    with chainrule.viz.trace(model):
        loss = loss_fn(model(x), y)
    loss.backward()
    chainrule.viz.draw_graph(loss, params=model, collapse=[model.encoder]).save("g.svg")

What it records lives as long as the nodes do (a weak-keyed registry).
"""
from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from ..autograd import graph

#: Values up to this many elements are copied (later in-place updates would change them).
COPY_LIMIT = 1 << 16


class NodeRecord:
    """What ``trace`` remembers about one node."""

    __slots__ = ("args", "kwargs", "value", "shape", "dtype", "scope", "tensor", "order",
                 "grad_outputs", "grad_inputs")

    def __init__(self, args: tuple, kwargs: dict, value: Any, scope: tuple, tensor: Any,
                 order: int) -> None:
        self.args = args
        self.kwargs = kwargs
        self.value = value
        self.shape = tuple(value.shape)
        self.dtype = value.dtype
        self.scope = scope
        self.tensor = tensor
        self.order = order
        self.grad_outputs: tuple | None = None
        self.grad_inputs: tuple | None = None

    @property
    def name(self) -> str | None:
        """The ``.name`` given to the node's output tensor, while that tensor lives."""
        tensor = self.tensor()
        return None if tensor is None else tensor.name


_registry: "weakref.WeakKeyDictionary[Any, NodeRecord]" = weakref.WeakKeyDictionary()
_counter = [0]


def record_of(node: Any) -> NodeRecord | None:
    """The record ``trace`` kept for ``node``, if it was created under a trace."""
    try:
        return _registry.get(node)
    except TypeError:
        return None


class trace:
    """Context manager: record every node created inside it (see the module docstring).

    ``model`` (a Module, optional): its submodules' forward hooks tell which module created
    which node, so that ``draw_graph(..., collapse=[module])`` can draw a module as one box.
    ``grads``: also capture the gradients of each node during later backward passes.
    """

    def __init__(self, model: Any = None, *, grads: bool = True) -> None:
        self.model = model
        self.grads = grads
        self._stack: list[tuple[str, Any]] = []
        self._handles: list[Any] = []

    def __enter__(self) -> "trace":
        if self.model is not None:
            for name, module in _named_modules(self.model):
                self._handles.append(module.register_forward_pre_hook(self._enter_module(name, module)))
                self._handles.append(module.register_forward_hook(self._leave_module(module)))
        self._handles.append(graph.on_record(self._observe))
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        self._stack.clear()

    def _enter_module(self, name: str, module: Any) -> Any:
        def hook(mod: Any, inputs: Any) -> None:
            self._stack.append((name, module))

        return hook

    def _leave_module(self, module: Any) -> Any:
        def hook(mod: Any, inputs: Any, output: Any) -> None:
            # Pop back to this module's entry (an exception may have skipped inner pops).
            while self._stack:
                name, entry = self._stack.pop()
                if entry is module:
                    break

        return hook

    def _observe(self, node: Any, args: tuple, kwargs: dict, result: Any) -> None:
        out = result.detach().cpu().numpy()
        value = out.copy() if out.size <= COPY_LIMIT else out
        _counter[0] += 1
        record = NodeRecord(args, dict(kwargs), value, tuple(self._stack), weakref.ref(result),
                            _counter[0])
        _registry[node] = record
        if self.grads:
            graph.watch(node, _grad_recorder(record))


def _grad_recorder(record: NodeRecord) -> Any:
    def recorder(node: Any, grad_outputs: tuple, grad_inputs: tuple) -> None:
        record.grad_inputs = tuple(_array_copy(g) for g in grad_inputs)
        record.grad_outputs = tuple(_array_copy(g) for g in grad_outputs)

    return recorder


def _array_copy(g: Any) -> Any:
    if g is None:
        return None
    if hasattr(g, "detach"):  # a Tensor (a backward under create_graph)
        g = g.detach().cpu().numpy()
    return np.array(g, copy=True)


def _named_modules(model: Any) -> list:
    if hasattr(model, "named_modules"):
        return list(model.named_modules())
    raise TypeError(f"trace(model=...) expects a chainrule.nn.Module, got {type(model).__name__}")
