"""The calls of a compiled region: guards, the cache of plans, tracing, replay.

Each call computes a *guard key*: the shapes, dtypes and ``requires_grad`` of its tensor
arguments, its other arguments, grad mode, the default dtype and (for a module) every
submodule's training flag and its parameters' ``requires_grad``.  Per key:

1. the first call runs eagerly under a tracer (:mod:`.trace`);
2. the second runs eagerly under a tracer too, and the two traces are compared
   (:mod:`.compare`); when they agree, the plan is built (:mod:`.plan`) from the second;
3. later calls replay the plan: the forward program on the input arrays, and one
   ``CompiledFunctionBackward`` node for the whole region, whose backward runs the backward
   program.

A graph break (or traces that keep disagreeing) leaves the key eager, with one warning per
reason.  A new key is a recompile; past ``cache_size_limit`` keys (PyTorch's
``recompile_limit``, 8) new keys run eagerly, with a warning.
"""
from __future__ import annotations

import functools
import inspect
import operator
import os
import threading
import warnings
from typing import Any, Callable

import numpy as np

from .. import numpy_errstate as fp_errors
from ..autograd import graph
from ..autograd.engine import grad as autograd_grad
from ..autograd.grad_mode import enable_grad, grad_state
from ..creation import from_numpy
from ..dtypes import get_default_dtype
from ..nn.module import has_hooks, structure_version
from ..tensor import Tensor
from .compare import compare
from . import config
from .plan import Pin, Plan, PlanError, Slot, build
from .trace import Raw, Unsupported, refs, trace_call

#: Traces of one key that may disagree before the key is left eager.
RETRACE_LIMIT = 4

_warned: set = set()


class _State(threading.local):
    """Per thread: how many traces are running (a compiled call inside one runs eagerly, so
    that its ops are seen), and how many ``compiler.disable`` blocks."""

    tracing = 0
    disabled = 0


state = _State()
_training = operator.attrgetter("training")
_requires_grad = operator.attrgetter("requires_grad")


def warn_once(message: str) -> None:
    """A warning per distinct message in this process (graph breaks, recompile limits),
    attributed to the first line outside chainrule: the user's call of the compiled code."""
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, UserWarning, stacklevel=_outside_chainrule())


#: chainrule's package directory (with the separator): frames in it are the library's.
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _outside_chainrule() -> int:
    """The ``stacklevel`` (as seen by a ``warnings.warn`` in the caller) of the innermost
    frame whose code is not chainrule's."""
    frame, level = inspect.currentframe().f_back, 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


def reset_warnings() -> None:
    _warned.clear()


class Entry:
    """What is known for one guard key: a first trace, a plan, or that it runs eagerly."""

    __slots__ = ("trace", "plan", "eager", "retraces")

    def __init__(self) -> None:
        self.trace: Any = None
        self.plan: Plan | None = None
        self.eager = False
        self.retraces = 0


class Region:
    """A compiled callable's state: ``call(*args, **kwargs)`` (a module's ``__call__`` or a
    function), the modules it runs (for their parameters, buffers and flags), the options,
    and the plans by guard key."""

    def __init__(self, call: Callable, roots: list, name: str, fullgraph: bool, options: dict) -> None:
        self.call = call
        self.roots = roots
        self.name = name
        self.fullgraph = fullgraph
        self.print_plan = bool(options.get("print_plan", False))
        self.cache_size_limit = int(options.get("cache_size_limit", config.plan_limit()))
        self.entries: dict = {}
        self.last_plan: Plan | None = None
        self.modules: list = []
        self.known: list = []
        self.reset()

    def reset(self) -> None:
        """Forget plans and traces; look at the modules' parts again."""
        self.entries.clear()
        self.last_plan = None
        self.structure = structure_version()
        self.modules, self.known = self.parts()

    def parts(self) -> tuple[list, list]:
        """The modules run, and their parameters and buffers (naming them, for the plans)."""
        modules = list({id(m): m for root in self.roots for m in root.modules()}.values())
        tensors = {id(t): t for m in modules for t in list(m.parameters(recurse=False))
                   + [b for b in m.buffers(recurse=False) if b is not None]}
        self.tensor_names = {id(t): name for root in self.roots
                             for name, t in list(root.named_parameters()) + list(root.named_buffers())}
        return modules, list(tensors.values())

    def look_again(self) -> None:
        """Some module changed its parts: forget the plans if one of ours did."""
        self.structure = structure_version()
        modules, known = self.parts()
        if [id(m) for m in modules] != [id(m) for m in self.modules] or \
                [id(t) for t in known] != [id(t) for t in self.known]:
            self.reset()

    # -- a call ---------------------------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if state.tracing or state.disabled:
            return self.call(*args, **kwargs)  # inside another trace: its tracer must see the ops
        if self.roots and structure_version() != self.structure:
            self.look_again()  # a parameter, buffer or submodule was added, removed or replaced
        inputs: list = []
        key = self.key(args, kwargs, inputs)
        if key is None:
            return self.call(*args, **kwargs)
        entry = self.entries.get(key)
        if entry is not None and entry.plan is not None:
            result = run(entry.plan, inputs)
            if result is not _STALE:
                return result
            entry.plan = None  # a parameter's array was replaced: trace again
        return self.traced(key, entry, args, kwargs, inputs)

    def key(self, args: tuple, kwargs: dict, inputs: list) -> tuple | None:
        """The guard key of a call (None: arguments a plan cannot take, or hooks)."""
        try:
            parts = [_part(a, inputs) for a in args]
            if kwargs:
                parts += [(k, _part(kwargs[k], inputs)) for k in sorted(kwargs)]
        except _Unguardable as error:
            self.give_up(f"an argument of type {error.args[0]} (compiled regions take tensors, numbers, "
                         f"strings and tuples or lists of them)")
            return None
        modules = self.modules
        if modules:
            if any(map(has_hooks, modules)):
                self.give_up("a module with forward or backward hooks (hooks run eagerly)")
                return None
            return (tuple(parts), grad_state.enabled, get_default_dtype(), tuple(map(_training, modules)),
                    tuple(map(_requires_grad, self.known)))
        return tuple(parts), grad_state.enabled, get_default_dtype()

    def give_up(self, reason: str) -> None:
        if self.fullgraph:
            raise Unsupported(reason)
        warn_once(f"chainrule.compile: {self.name} runs eagerly: {reason}")

    def traced(self, key: tuple, entry: Entry | None, args: tuple, kwargs: dict, inputs: list) -> Any:
        """An eager call under the tracer; the plan once two traces agree."""
        if entry is None:
            if len(self.entries) >= self.cache_size_limit:
                warn_once(f"chainrule.compile: {self.name} hit the cache size limit ({self.cache_size_limit} "
                          f"guard keys: input shapes, dtypes, grad and training modes); new ones run eagerly. "
                          f"Raise it with options={{'cache_size_limit': n}}.")
                return self.call(*args, **kwargs)
            entry = self.entries[key] = Entry()
        if entry.eager:
            return self.call(*args, **kwargs)
        state.tracing += 1
        try:
            result, trace = trace_call(self.call, args, kwargs, inputs, self.known, self.fullgraph)
        finally:
            state.tracing -= 1
        if trace.broken:
            return self.eager(entry, f"graph break: {trace.breaks[0]}", result)
        first, entry.trace = entry.trace, trace
        if first is None:
            trace.slim()
            return result
        reason = compare(first, trace)
        if reason is not None:
            trace.slim()
            entry.retraces += 1
            if entry.retraces >= RETRACE_LIMIT:
                return self.eager(entry, f"its calls keep differing: {reason}", result)
            return result
        try:
            plan = build(trace, _dry_run(trace), self.tensor_names)
        except (PlanError, graph.GraphFreed) as error:
            return self.eager(entry, f"no plan: {error}", result)
        entry.plan, entry.trace = plan, None
        self.last_plan = plan
        if self.print_plan:
            print(describe(plan, self.name))
        return result

    def eager(self, entry: Entry, reason: str, result: Any) -> Any:
        entry.eager, entry.trace = True, None
        if self.fullgraph:
            raise Unsupported(reason)
        warn_once(f"chainrule.compile: {self.name}: {reason}; calls with these input shapes and modes "
                  f"run eagerly")
        return result


class _Unguardable(Exception):
    pass


_SIMPLE = (int, float, bool, str, type(None))


def _part(item: Any, inputs: list) -> Any:
    if isinstance(item, Tensor):
        inputs.append(item)
        array = graph.value(item)
        return array.shape, array.dtype, item.requires_grad
    kind = type(item)
    if kind in _SIMPLE:
        return kind, item
    if kind is tuple or kind is list:
        return kind, tuple(_part(x, inputs) for x in item)
    raise _Unguardable(kind.__name__)


def _dry_run(trace: Any) -> list:
    """The engine's order on the trace's recorded nodes, from a backward that touches
    nothing: per node, the arguments a gradient flows to, whether its backward hands the
    gradient on unchanged, and whether it returns one gradient rather than a tuple."""
    roots = [v.tensor for v in trace.values if v.kind == "op" and v.tensor.grad_fn is not None
             and _returned(trace.output, v)]
    if not trace.grad_enabled or not roots:
        return []
    order = []

    def note(node: Any, grad_outputs: tuple, grad_inputs: tuple) -> None:
        flowing = [i for i, g in enumerate(grad_inputs) if g is not None]
        passes = all(grad_inputs[i] is grad_outputs[0] for i in flowing)
        single = passes or type(node.backward(np, grad_outputs[0])) is not tuple
        order.append((node, flowing, passes, single))

    graph.backward_gradients(roots, observer=note)
    return order


def _returned(template: Any, value: Any) -> bool:
    return any(r.value is value for r in refs(template))


# -- replay ----------------------------------------------------------------------------------------

_STALE = object()


def run(plan: Plan, inputs: list) -> Any:
    """One call of ``plan`` on the input tensors ``inputs``: its result as eager's."""
    value = graph.value
    for tensor, array in plan.guarded:
        if value(tensor) is not array:
            return _STALE
    arrays = [value(t) for t in inputs]
    buffers = plan.acquire()
    errors = plan.errors  # a kernel's own settings (sigmoid's exp(-x) may overflow, to an exact 0)
    token = None if errors is None else fp_errors.ignore(errors)
    try:
        outputs = buffers.forward(*arrays)
    except BaseException:
        buffers.release()
        raise
    finally:
        if token is not None:
            fp_errors.restore(token)
    if plan.has_backward and grad_state.enabled:
        edges = plan.static_edges or [inputs[v.position] if v.kind == "input" else v.tensor for v in plan.edges]
        kept = plan.static_kept + [(arrays[p], role) for p, role in plan.input_kept] + \
            [(outputs[p], role) for p, role in plan.output_kept]
        drawn = list(buffers.drawn) if plan.random else ()
        eager = functools.partial(_eager_backward, plan, drawn, inputs, edges)
        tensors = graph.record(outputs, plan.differentiable, edges, Pin(buffers), kept, eager)
    else:
        tensors = graph.record(outputs, plan.differentiable, (), buffers.backward)
        buffers.release()
    template = plan.output_template
    if type(template) is tuple and template[0] == "output":
        return tensors[template[1]]
    return _assemble(template, tensors, plan, inputs)


def _assemble(template: Any, tensors: list, plan: Plan, inputs: list) -> Any:
    kind = type(template)
    if kind is tuple and len(template) == 2 and template[0] == "output" and type(template[1]) is int:
        return tensors[template[1]]
    if kind is Slot:
        value = plan.values[template.index]
        if value.kind == "input":
            return inputs[value.position]
        if value.kind == "external":
            return value.tensor
        return from_numpy(value.array.copy())
    if kind is tuple or kind is list:
        return kind(_assemble(x, tensors, plan, inputs) for x in template)
    if kind is dict:
        return {k: _assemble(v, tensors, plan, inputs) for k, v in template.items()}
    return template


def _eager_backward(plan: Plan, drawn: list, inputs: list, edges: list, grads: tuple) -> tuple:
    """``create_graph=True`` through a compiled region: its ops run again eagerly (the same
    random draws, no change of buffers kept) and that graph's backward records itself."""
    warn_once("chainrule.compile: backward(create_graph=True) through a compiled region runs its forward "
              "again eagerly, to record a backward that can itself be differentiated")
    written = {id(plan.values[s.out].tensor): plan.values[s.out].tensor for s in plan.steps
               if s.kind in ("write", "bump")}
    saved = [(t, graph.value(t).copy()) for t in written.values()]
    tensors: dict[int, Any] = {}
    for value in plan.values:
        if value.kind == "input":
            tensors[value.index] = inputs[value.position]
        elif value.kind == "external":
            tensors[value.index] = value.tensor
        elif value.kind == "constant":
            tensors[value.index] = from_numpy(value.array.copy())
    draws = iter(drawn)
    try:
        with enable_grad():
            for step in plan.steps:
                if step.kind != "op":
                    continue
                if step.random:
                    tensors[step.out] = from_numpy(next(draws))
                    continue
                args = _resolve(step.args, tensors)
                kwargs = _resolve(step.kwargs, tensors)
                tensors[step.out] = step.op.apply(*args, **kwargs)
    finally:
        for tensor, array in saved:
            graph.value(tensor)[...] = array
    pairs = [(tensors[i], g) for i, g in zip(plan.outputs, grads) if g is not None and tensors[i].requires_grad]
    found = autograd_grad([t for t, _ in pairs], edges, [g for _, g in pairs], retain_graph=True,
                          create_graph=True, allow_unused=True)
    return tuple(found)


def _resolve(template: Any, tensors: dict) -> Any:
    kind = type(template)
    if kind is Slot:
        return graph.value(tensors[template.index]) if template.raw else tensors[template.index]
    if kind is tuple or kind is list:
        return kind(_resolve(x, tensors) for x in template)
    if kind is dict:
        return {k: _resolve(v, tensors) for k, v in template.items()}
    return template.array if kind is Raw else template


def describe(plan: Plan, name: str) -> str:
    """The plan as text: its two programs, one kernel a line (``options={"print_plan": True}``)."""
    header = (f"chainrule.compile plan for {name}: {plan.kernels} array kernels writing into "
              f"{len(plan.buffers)} reused buffers ({plan.buffer_bytes / 1024:.1f} KiB), "
              f"{plan.fallbacks} ops run by their own forward\n"
              f"(x: inputs, w_: parameters and buffers, b: buffers, v: fresh arrays, n: the ops, "
              f"whose backward formulas the backward program calls; g: gradients, ge: the region's "
              f"results)")
    return header + "\n" + plan.listing
