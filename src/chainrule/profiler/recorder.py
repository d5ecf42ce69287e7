"""The recording behind every profiler: timed ranges on each thread, from the public graph
API's hooks (an op's forward between ``on_apply``'s ``before`` and its callback, a node's
backward between ``on_backward``'s) and from ``record_function`` blocks.

While no recorder runs, nothing is registered: ops and backwards run as without a profiler."""
from __future__ import annotations

import re
import threading
import time
from typing import Any

import numpy as np

from ..autograd import graph
from ..tensor import Tensor
from .events import EventList, FunctionEvent, Interval

__all__ = ["Recorder", "active", "aten_names", "backward_names"]

#: The recorders now running; ``record_function`` opens its range in each.
active: list = []

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_names: dict = {}


def _snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


def aten_names(cls: type) -> tuple:
    """The events an op's forward shows as, outermost first: ``("aten::addmm",)`` for the
    op whose PyTorch node is ``AddmmBackward0``, and, when chainrule's op is a composite
    PyTorch runs as another op (its ``Linear`` records ``AddmmBackward0``), the composite
    around it: ``("aten::linear", "aten::addmm")``."""
    found = _names.get(cls)
    if found is None:
        inner = "aten::" + _snake(re.sub(r"Backward\d*$", "", cls.__name__))
        outer = "aten::" + _snake(cls.display_name or cls.op_name)
        valid = re.fullmatch(r"aten::\w+", outer) is not None
        found = _names[cls] = (outer, inner) if valid and outer != inner else (inner,)
    return found


def backward_names(node: Any) -> tuple:
    """The events a node's backward shows as: PyTorch's engine range around the node's own."""
    name = node.name()
    return (f"autograd::engine::evaluate_function: {name}", name)


def _shapes(args: tuple) -> list:
    return [list(a.shape) if isinstance(a, Tensor) else [] for a in args]


def _new_bytes(args: tuple, output: Any) -> int:
    """Bytes of the output arrays that do not share memory with an argument's (a view's
    output allocates nothing)."""
    outputs = output if isinstance(output, (tuple, list)) else (output,)
    inputs = [graph.value(a) for a in args if isinstance(a, Tensor)]
    total = 0
    for out in outputs:
        if isinstance(out, Tensor):
            array = graph.value(out)
            if isinstance(array, np.ndarray) and not any(np.may_share_memory(array, a) for a in inputs):
                total += array.nbytes
    return total


class Recorder:
    """Collects :class:`FunctionEvent` ranges from :meth:`start` to :meth:`stop`."""

    def __init__(self, record_shapes: bool = False, profile_memory: bool = False) -> None:
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.origin = time.perf_counter_ns()
        self.opened: list[FunctionEvent] = []  # every range, in the order they began
        self.stacks = threading.local()
        self.handles: list = []
        self.lock = threading.Lock()

    def now_us(self) -> float:
        return (time.perf_counter_ns() - self.origin) / 1000.0

    def start(self) -> None:
        self.handles = [graph.on_apply(self.op_ended, before=self.op_started),
                        graph.on_backward(self.node_ended, before=self.node_started)]
        active.append(self)

    def stop(self) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles = []
        if self in active:
            active.remove(self)

    def events(self) -> EventList:
        """The closed ranges, in the order they began."""
        return EventList([e for e in self.opened if e.closed], self.profile_memory)

    # -- ranges -------------------------------------------------------------------------------
    def stack(self) -> list:
        stack = getattr(self.stacks, "open", None)
        if stack is None:
            stack = self.stacks.open = []
        return stack

    def open(self, name: str, kind: str) -> None:
        event = FunctionEvent(len(self.opened), name, threading.get_native_id(), self.now_us(), 0.0,
                              is_user_annotation=kind == "user")
        stack = self.stack()
        event.kind, event.closed, event.within = kind, False, stack[-1] if stack else None
        with self.lock:
            self.opened.append(event)
        stack.append(event)

    def close(self, kind: str, input_shapes: list | None = None, memory: int = 0) -> None:
        """Close the innermost open range of ``kind``; ranges opened inside it and never
        closed (an op whose forward raised) are dropped."""
        stack = self.stack()
        if not any(e.kind == kind for e in stack):
            return
        end = self.now_us()
        event = stack.pop()
        while event.kind != kind:
            event = stack.pop()
        event.time_range = Interval(event.time_range.start, end)
        event.closed = True
        if input_shapes is not None:
            event.input_shapes = input_shapes
        event.cpu_memory_usage = memory
        if event.within is not None:
            event.within.append_child(event)

    # -- graph hooks ---------------------------------------------------------------------------
    def op_started(self, cls: type) -> None:
        # A forward runs no other op: an op range still open here is one whose forward raised.
        stack = self.stack()
        while stack and stack[-1].kind == "op":
            stack.pop()
        for name in aten_names(cls):
            self.open(name, "op")

    def op_ended(self, node: Any, args: tuple, kwargs: dict, output: Any) -> None:
        shapes = _shapes(args) if self.record_shapes else None
        memory = _new_bytes(args, output) if self.profile_memory else 0
        for _ in aten_names(type(node)):
            self.close("op", shapes, memory)

    def node_started(self, node: Any) -> None:
        for name in backward_names(node):
            self.open(name, "backward")

    def node_ended(self, node: Any, grad_outputs: tuple, grad_inputs: tuple) -> None:
        self.close("backward")
        self.close("backward")
