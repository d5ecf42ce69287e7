"""A plan: a traced region as two flat programs of array kernels, forward and backward.

:func:`build` turns a :class:`~chainrule.compiler.trace.Trace` into Python source, one line
per kernel, with no Tensor or node objects in it:

* the **forward** program calls, for each op, its array kernel (``Op.kernel``) writing into
  a preallocated buffer (``np.multiply(b3, e1, b4)``) or, for ops without one, the op's own
  forward on arrays (``v7 = run(n7, b4, (32, -1))``); buffers whose values are dead are
  reused by later values of the same shape and dtype, and an elementwise kernel writes over
  an argument that dies at it (a buffer, or a fresh array an op made, when :func:`owned`
  says at the call that nothing else holds it: ReLU after a convolution); the region's
  outputs are fresh arrays;
* the **backward** program calls each recorded op's own ``backward(np, grad)`` formula, in
  the order the autograd engine ran them on the trace (a dry run), and sums the gradients
  each value receives in the engine's order, so that its results are bit-identical to
  eager's; an op with a ``backward_over`` (ReLU) writes over its incoming gradient when
  :func:`owned` says nothing else holds it.

Each program is compiled once; a :class:`BufferSet` (buffers and copies of the ops, see
``graph.detached``) binds them to arrays of its own, so that a second call can run while
the first one's backward is still pending.
"""
from __future__ import annotations

import re
import threading
from sys import getrefcount
from typing import Any

import numpy as np

from .. import numpy_errstate as fp_errors
from ..autograd import graph
from ..autograd.function import Op
from ..autograd.node import Node
from ..inplace import apply_inplace
from .trace import Raw, Ref, Step, Trace, Value, refs


class PlanError(RuntimeError):
    """The trace cannot become a plan (the reason is a graph break)."""


class Slot:
    """An argument template entry of a plan: the region's value ``index`` (``raw``: passed as
    its array, not as a tensor)."""

    __slots__ = ("index", "raw")

    def __init__(self, index: int, raw: bool = False) -> None:
        self.index = index
        self.raw = raw


class PlanValue:
    """What a plan knows of one value of the region (no tensor of the traced call is kept,
    bar the live tensors from outside)."""

    __slots__ = ("index", "kind", "position", "tensor", "array", "shape", "dtype", "requires_grad")

    def __init__(self, value: Value, position: int | None) -> None:
        self.index, self.kind, self.position = value.index, value.kind, position
        self.requires_grad = value.requires_grad
        self.shape, self.dtype = value.array.shape, value.array.dtype
        live = value.kind == "external" and value.live
        self.tensor = value.tensor if live else None
        self.array = value.array if live else (np.array(value.array, copy=True)
                                               if value.kind == "external" else None)
        if value.kind == "external" and not live:
            self.kind = "constant"


class PlanStep:
    """One step of a plan, for the listing and for the eager backward (``create_graph``):
    the op's class, its argument templates (:class:`Slot`, :class:`Raw`, constants), its
    output's value index; a ``write``/``bump`` of an external."""

    __slots__ = ("kind", "op", "args", "kwargs", "out", "name", "change", "random")

    def __init__(self, step: Step) -> None:
        self.kind, self.name, self.change = step.kind, step.name, step.change
        self.op = type(step.node) if step.node is not None else None
        self.args, self.kwargs = _slots(step.args), _slots(step.kwargs)
        self.out = step.out.index
        self.random = self.op is not None and self.op.random


def _slots(template: Any) -> Any:
    kind = type(template)
    if kind is Ref:
        return Slot(template.value.index, template.raw)
    if kind is tuple or kind is list:
        return kind(_slots(x) for x in template)
    if kind is dict:
        return {k: _slots(v) for k, v in template.items()}
    return template


class Plan:
    """A region's compiled programs and what a call needs to run them (see the module
    docstring); :meth:`new_set` makes the buffers and op copies a call runs on."""

    def __init__(self) -> None:
        self.values: list[PlanValue] = []
        self.steps: list[PlanStep] = []
        self.inputs: list[int] = []  # value index of each input
        self.live: list[PlanValue] = []  # tensors read at each call (identity of their arrays guarded)
        self.edges: list[PlanValue] = []  # where the backward's gradients go, in order
        self.outputs: list[int] = []  # value index of each program output (the node's outputs)
        self.differentiable: list[bool] = []  # per program output: does it require grad?
        self.output_template: Any = None
        # The arrays the backward reads, (array or position, role), for the in-place checks:
        self.static_kept: list[tuple] = []  # of parameters and buffers
        self.input_kept: list[tuple] = []  # of inputs (by position)
        self.output_kept: list[tuple] = []  # of outputs (by position)
        self.guarded: list[tuple] = []  # (tensor, array): a replay needs the same arrays
        self.static_edges: list | None = None  # the edges, when they are all parameters
        self.random: list[int] = []  # value indices of random draws (kept per call for create_graph)
        self.transient: list[int] = []  # nodes whose forward saves fresh arrays (freed after backward)
        self.fresh: set[int] = set()  # slots allocated at each call, not held by a buffer set
        self.buffers: list[tuple] = []  # layout_of(...) per buffer
        self.nodes: list[Any] = []  # detached copies of the traced ops, copied again per buffer set
        self.shared: dict[str, Any] = {}  # kernels, constants, helpers
        self.source = ""
        self.listing = ""  # the two programs, for people (print_plan, explain)
        self.has_backward = False
        self.errstate: dict = {}  # numpy.errstate settings some kernel needs (sigmoid's overflow)
        self.errors: fp_errors.Setting | None = None  # the same, prepared for numpy_errstate (each call)
        self.kernels = 0
        self.fallbacks = 0
        self.code: Any = None  # the compiled source (on first use)
        self.sets: list = []  # the buffer sets kept for reuse

    # -- buffer sets -------------------------------------------------------------------------------
    def acquire(self) -> "BufferSet":
        """A buffer set no other call holds (a new one if all are held), marked held: a call
        holds its set from its forward until its backward is done (or, with nothing to
        backward, until the call returns), so calls from several threads never share buffers."""
        with _sets_lock:
            for candidate in self.sets:
                if not candidate.busy:
                    candidate.busy = True
                    return candidate
        fresh = BufferSet(self)
        fresh.busy = True
        with _sets_lock:
            if len(self.sets) < 4:  # more are made for as long as backwards pend, and dropped after
                self.sets.append(fresh)
        return fresh

    @property
    def buffer_bytes(self) -> int:
        return sum(int(np.prod(shape)) * np.dtype(dtype).itemsize
                   for k, (shape, dtype, _) in enumerate(self.buffers) if k not in self.fresh)


#: Guards the choice of a free buffer set (the calls of one plan may come from several threads).
_sets_lock = threading.Lock()


class BufferSet:
    """The arrays and op copies one call of a plan runs on: ``forward(*input arrays)``
    returns the output arrays, ``backward(grads)`` one gradient per edge."""

    def __init__(self, plan: Plan) -> None:
        if plan.code is None:
            plan.code = compile(plan.source, "<chainrule plan>", "exec")
        names: dict[str, Any] = dict(plan.shared)
        for k, layout in enumerate(plan.buffers):
            if k not in plan.fresh:
                names[f"b{k}"] = allocate(layout)
        for k, node in enumerate(plan.nodes):
            names[f"n{k}"] = graph.detached(node)
        names["drawn"] = self.drawn = [None] * len(plan.random)
        namespace: dict[str, Any] = {}
        exec(plan.code, namespace)
        make = namespace.pop("make")  # (its globals are the namespace: no cycle left behind)
        self.forward, self.backward = make(**{name: names[name] for name in make.__code__.co_varnames[
            :make.__code__.co_argcount]})
        self.transient = [names[f"n{k}"] for k in plan.transient]
        self.busy = False

    def release(self) -> None:
        """The backward is done (or will never come): let go of what the ops saved afresh."""
        for node in self.transient:
            node.saved = None
        drawn = self.drawn
        for k in range(len(drawn)):
            drawn[k] = None
        # Free last: another thread's call may take the set at once, and save into it.
        self.busy = False


class Pin:
    """A call's backward program, holding its buffer set until the graph lets go of it (a
    backward without ``retain_graph`` frees the node's ``saved``, and with it this)."""

    __slots__ = ("buffers",)

    def __init__(self, buffers: BufferSet) -> None:
        self.buffers = buffers  # held since acquire()

    def __call__(self, grads: tuple) -> tuple:
        return self.buffers.backward(grads)

    def __del__(self) -> None:
        self.buffers.release()


# -- building ------------------------------------------------------------------------------------


def build(trace: Trace, order: list, names: dict | None = None) -> Plan:
    """The plan of ``trace``; ``order`` is the engine's dry run on it: ``(node, flowing,
    passes, single)`` for the recorded nodes, in the order the engine ran them (the
    arguments a gradient flows to; whether the backward hands it on unchanged; whether it
    returns one gradient rather than a tuple).  ``names``: ``{id(tensor): name}`` for the
    parameters and buffers, to name them in the programs."""
    plan = Plan()
    positions = {v.index: k for k, v in enumerate(trace.inputs)}
    plan.values = [PlanValue(v, positions.get(v.index)) for v in trace.values]
    plan.inputs = [v.index for v in trace.inputs]
    plan.live = [plan.values[v.index] for v in trace.values if plan.values[v.index].kind == "external"]
    plan.steps = [PlanStep(s) for s in trace.steps]
    _name_outputs(plan, trace)
    writer = _Writer(plan, trace, names or {})
    writer.forward()
    if order and plan.edges:
        writer.backward(order)
    plan.source = writer.source()
    return plan


def _name_outputs(plan: Plan, trace: Trace) -> None:
    """The program's outputs (each op value returned, once) and the result's template."""
    slots: dict[int, int] = {}

    def convert(template: Any) -> Any:
        kind = type(template)
        if kind is Ref:
            value = plan.values[template.value.index]
            if value.kind != "op":
                return Slot(value.index)
            if value.index not in slots:
                slots[value.index] = len(plan.outputs)
                plan.outputs.append(value.index)
            return ("output", slots[value.index])
        if kind is tuple or kind is list:
            return kind(convert(x) for x in template)
        if kind is dict:
            return {k: convert(v) for k, v in template.items()}
        return template

    plan.output_template = convert(trace.output)
    plan.differentiable = [plan.values[i].requires_grad and trace.grad_enabled for i in plan.outputs]
    edges = [plan.values[v.index] for v in trace.inputs if v.requires_grad]
    edges += [v for v in plan.live if v.requires_grad]
    plan.edges = edges if trace.grad_enabled else []
    if plan.edges and all(v.kind == "external" for v in plan.edges):
        plan.static_edges = [v.tensor for v in plan.edges]
    plan.guarded = [(v.tensor, v.array) for v in plan.live]


def _op_slots(cls: type) -> list[str]:
    """The per-node fields an op class adds (its ``__slots__`` below Node's)."""
    names: list[str] = []
    for klass in cls.__mro__:
        if klass is Op or klass is Node or not issubclass(klass, Op):
            continue
        slots = klass.__dict__.get("__slots__", ())
        names.extend([slots] if isinstance(slots, str) else slots)
    return names


def _holds_array(item: Any) -> bool:
    if isinstance(item, np.ndarray):
        return True
    if isinstance(item, (tuple, list)):
        return any(_holds_array(x) for x in item)
    return False


class _Writer:
    """Writes the two programs' source (see the module docstring)."""

    def __init__(self, plan: Plan, trace: Trace, tensor_names: dict) -> None:
        self.plan, self.trace = plan, trace
        self.lines: list[str] = []
        self.back: list[str] = []
        self.init: list[str] = []  # per buffer set: saved tuples made of buffers and constants
        self.names: dict[int, str] = {}  # value index -> its name in the forward program
        self.constants: dict[int, str] = {}  # id(object) -> its name
        self.held: list = []  # the objects named (their ids stay theirs)
        self.node_of: dict[int, int] = {}  # id(trace node) -> n<k>
        self.kept: set[int] = set()  # value indices some recorded op saved
        self.transient: set[str] = set()  # nodes whose saved values are made afresh at each call
        self.at: list[tuple] = []  # per step: the range of its lines in self.lines
        self.fresh: set[int] = set()  # slots made afresh at each call (large saved values)
        self.allocated: set[str] = set()  # fresh slots allocated so far in the program
        self.overwrite: dict[int, int] = {}  # value index -> the dying fresh array it is written over
        self.static: set[int] = set()  # value indices whose array is the same at every call
        shared = plan.shared
        shared.update(np=np, run=graph.replay, allocate=allocate, bump=graph.increment_version,
                      apply_inplace=apply_inplace, retaining=graph.retaining, owned=owned)
        for value in plan.values:
            if value.kind == "input":
                self.names[value.index] = f"x{value.position}"
            elif value.kind in ("external", "constant"):
                hint = tensor_names.get(id(value.tensor)) if value.kind == "external" else None
                name = self.constant(value.array, "e" if value.kind == "external" else "c",
                                     "w_" + hint if hint else None)
                self.names[value.index] = name
                self.static.add(value.index)

    # -- names --------------------------------------------------------------------------------------
    def constant(self, item: Any, prefix: str = "c", hint: str | None = None) -> str:
        """The program's name for ``item`` (one name per object): ``hint`` made an identifier,
        or ``prefix`` and a number."""
        name = self.constants.get(id(item))
        if name is None:
            name = f"{prefix}{len(self.plan.shared)}"
            if hint:
                name = re.sub(r"\W", "_", hint)
                if name in self.plan.shared or name in _RESERVED:
                    name = f"{name}_{len(self.plan.shared)}"
            self.constants[id(item)] = name
            self.plan.shared[name] = item
            self.held.append(item)
        return name

    def expression(self, template: Any) -> str:
        kind = type(template)
        if kind is Ref:
            return self.names[template.value.index]
        if kind is Raw:
            return self.constant(template.array)
        if kind is tuple:
            return "(" + "".join(self.expression(x) + ", " for x in template) + ")"
        if kind is list:
            return "[" + ", ".join(self.expression(x) for x in template) + "]"
        if kind is dict:
            return "{" + ", ".join(f"{k!r}: {self.expression(v)}" for k, v in template.items()) + "}"
        if template is None or kind in (bool, int, str) or (kind is float and np.isfinite(template)):
            return repr(template)
        return self.constant(template)

    def node(self, node: Any) -> str:
        key = id(node)
        if key not in self.node_of:
            self.node_of[key] = len(self.plan.nodes)
            self.plan.nodes.append(graph.detached(node))  # not the traced node: what it saved goes
        return f"n{self.node_of[key]}"

    # -- forward ------------------------------------------------------------------------------------
    def forward(self) -> None:
        plan, trace = self.plan, self.trace
        buffered = self._choose_kernels()
        places = self._allocate(buffered)
        output_values = set(plan.outputs)
        for position, step in enumerate(trace.steps):
            start = len(self.lines)
            if step.kind == "write":
                self.write(step)
            elif step.kind == "bump":
                self.lines.append(f"bump({self.tensor(step.out)})")
            elif id(step) in buffered:
                self.kernel_step(step, places.get(step.out.index))
            else:
                self.generic_step(step)
                self.transient.add(self.node(step.node))
            if step.kind == "op" and step.out.index in output_values:
                self.fresh_output(step.out)
            if step.kind == "op" and plan.steps[step.out.step].random:
                plan.random.append(step.out.index)
                self.lines.append(f"drawn[{len(plan.random) - 1}] = {self.names[step.out.index]}")
            self.at.append((start, len(self.lines)))
        self.lines = self._with_deletions(output_values)
        plan.transient = sorted(int(name[1:]) for name in self.transient)
        for index in sorted(self.kept):
            value, role = plan.values[index], self.role(index)
            if value.kind == "input":
                plan.input_kept.append((value.position, role))
            elif value.kind == "external":
                plan.static_kept.append((value.array, role))
            elif index in output_values:
                plan.output_kept.append((plan.outputs.index(index), role))
        outputs = ", ".join(self.names[i] for i in plan.outputs)
        self.lines.append(f"return ({outputs}{',' if len(plan.outputs) == 1 else ''})")

    def _with_deletions(self, output_values: set) -> list[str]:
        """The forward's lines with a ``del`` after each step where fresh arrays are read for
        the last time: the program then holds an array no longer than eager holds its tensor
        (what an op saved stays alive in its node)."""
        last: dict[str, int] = {}
        for position, step in enumerate(self.trace.steps):
            if step.kind == "op" and step.out.index not in output_values:
                name = self.names[step.out.index]
                last[name] = max(last.get(name, position), position)
            for ref in refs(step.args) + refs(step.kwargs):
                name = self.names[ref.value.index]
                if name in last:
                    last[name] = max(last[name], position)
        dying: dict[int, list[str]] = {}
        for name, position in last.items():
            if re.fullmatch(r"[vf]\d+", name):
                dying.setdefault(position, []).append(name)
        lines: list[str] = []
        for position, (start, end) in enumerate(self.at):
            lines += self.lines[start:end]
            if position in dying:
                lines.append(f"del {', '.join(sorted(dying[position]))}")
        return lines + self.lines[self.at[-1][1]:] if self.at else self.lines

    def tensor(self, value: Value) -> str:
        return self.constant(self.plan.values[value.index].tensor, "t")

    def write(self, step: Step) -> None:
        change = step.change
        args = "".join(self.expression(a) + ", " for a in step.args)
        kwargs = "".join(f"{k}={self.expression(v)}, " for k, v in step.kwargs.items())
        self.lines.append(f"apply_inplace({self.tensor(step.out)}, {step.name!r}, {self.constant(change.op, 'f')}, "
                          f"{args}kernel={self.constant(change.kernel, 'f')}, {kwargs})")

    def _choose_kernels(self) -> set:
        """The op steps that run as array kernels into buffers (by id); records what each
        recorded op saved (``self.kept``)."""
        chosen = set()
        for step in self.trace.op_steps():
            saved_map = _saved_map(step)
            if step.recorded:
                if saved_map is None:  # a generic op: all its arrays may be needed by its backward
                    self.kept.update(r.value.index for r in refs(step.args))
                    self.kept.update(self._saved_values(step))
                else:
                    self.kept.update(step.args[i].value.index for i in saved_map if type(i) is int)
                    if "out" in saved_map:
                        self.kept.add(step.out.index)
            if saved_map is not None and _kernel_matches(step):
                chosen.add(id(step))
        return chosen

    def _saved_values(self, step: Step) -> list[int]:
        by_array = {id(v.array): v.index for v in self.trace.values}
        return [by_array[id(a)] for a in (step.node.saved or ()) if id(a) in by_array]

    def _allocate(self, buffered: set) -> dict[int, int]:
        """Buffer slots for the values the chosen kernels write (not the outputs): a buffer is
        reused once every value living in it (views included) is dead and unsaved."""
        trace, plan = self.trace, self.plan
        owner_of = {}  # value index -> the value owning its storage
        for value in trace.values:
            owner_of[value.index] = (value.alias_of or value).index
        last_use: dict[int, float] = {}
        for position, step in enumerate(trace.steps):
            for ref in refs(step.args) + refs(step.kwargs):
                owner = owner_of[ref.value.index]
                last_use[owner] = max(last_use.get(owner, -1), position)
        forever = set(plan.outputs) | self.kept
        for index in forever:
            last_use[owner_of[index]] = float("inf")
        places: dict[int, int] = {}
        free: dict[tuple, list[int]] = {}
        releases: list[tuple[float, int, tuple]] = []
        outputs = set(plan.outputs)
        for position, step in enumerate(trace.steps):
            if id(step) not in buffered or step.out.index in outputs:
                continue
            for entry in [r for r in releases if r[0] < position]:
                releases.remove(entry)
                free.setdefault(entry[2], []).append(entry[1])
            key = layout_of(step.out.array)
            spent = self._spent_fresh_argument(step, position, key, places, owner_of, last_use, forever)
            if spent is not None:  # written over a fresh array that dies here (relu after conv)
                self.overwrite[step.out.index] = spent
                continue
            slot = None
            if _elementwise(step.node):  # write over an argument that dies here (relu after linear)
                for ref in refs(step.args):
                    index = ref.value.index
                    entry = next((r for r in releases if r[1] == places.get(index)), None)
                    if entry is not None and owner_of[index] == index and entry[0] == position and entry[2] == key:
                        releases.remove(entry)
                        slot = entry[1]
                        break
            if slot is None and free.get(key):
                slot = free[key].pop()
            if slot is None:
                slot = len(plan.buffers)
                plan.buffers.append(key)
            places[step.out.index] = slot
            releases.append((last_use.get(step.out.index, position), slot, key))
        # A large value some op saves is made afresh at each call, in a slot of its own
        # (with what was written over): the backward frees it once used, as eager does,
        # instead of a buffer holding it through the whole backward.
        for index, slot in places.items():
            if index in forever and trace.values[index].array.nbytes >= FRESH_BYTES:
                self.fresh.add(slot)
        return places

    def _spent_fresh_argument(self, step: Step, position: int, key: tuple, places: dict, owner_of: dict,
                              last_use: dict, forever: set) -> int | None:
        """For an elementwise kernel: an argument it may write over in place, if one is an
        array an op made afresh at this call (no buffer, no view of or by another value)
        that nothing saved and nothing reads after this step; its value index, else None."""
        if not _elementwise(step.node):
            return None
        for ref in refs(step.args):
            value = ref.value
            index = value.index
            if (value.kind == "op" and index not in places and index not in self.overwrite
                    and value.alias_of is None and index not in forever
                    and last_use.get(index) == position and layout_of(value.array) == key
                    and value.array.flags.writeable and _dense(value.array)
                    and sum(1 for owner in owner_of.values() if owner == index) == 1):
                return index
        return None

    def kernel_step(self, step: Step, slot: int | None) -> None:
        kernel = type(step.node).kernel
        out = step.out
        spent = self.overwrite.get(out.index)
        if spent is not None:
            # Over the dying fresh array, unless something kept a reference to it after all.
            name = f"v{out.index}"
            self.lines.append(f"{name} = {self.names[spent]} if owned({self.names[spent]}) else "
                              f"allocate({self.constant(layout_of(out.array))})")
        elif slot is None:
            name = f"v{out.index}"
        elif slot in self.fresh:
            name = f"f{slot}"
        else:
            name = f"b{slot}"
        if spent is None and (slot is None or (slot in self.fresh and name not in self.allocated)):
            self.allocated.add(name)
            self.lines.append(f"{name} = allocate({self.constant(layout_of(out.array))})")
        args = [self.expression(a) for a in step.args]
        label = kernel.__name__ if getattr(kernel, "__name__", "<lambda>") != "<lambda>" else \
            f"{step.node.op_name.lower()}_kernel"
        call = self.constant(kernel, "k", label)
        if isinstance(kernel, np.ufunc) and kernel not in _KEYWORD_OUT:  # positional out: parsed faster
            text = f"{call}({', '.join(args + [name])})"
        else:
            text = f"{call}({''.join(a + ', ' for a in args)}out={name})"
        self.names[out.index] = name
        self.lines.append(f"{text}  # {_label(step)}")
        self.plan.kernels += 1
        wanted = getattr(type(step.node), "kernel_errstate", None)
        if wanted:
            self.plan.errstate.update(wanted)
            self.plan.errors = fp_errors.Setting(**self.plan.errstate)
        if not step.recorded:
            return
        node = self.node(step.node)
        saved_map = _saved_map(step)
        if step.node.saved:
            parts = [name if entry == "out" else (args[entry] if type(entry) is int else self.expression(entry[1]))
                     for entry in saved_map]
            line = f"{node}.saved = ({''.join(p + ', ' for p in parts)})"
            dynamic = any(type(e) is int and step.args[e].value.index not in self.static and
                          not _is_buffer(self.names[step.args[e].value.index]) for e in saved_map)
            dynamic = dynamic or ("out" in saved_map and not _is_buffer(name))
            (self.lines if dynamic else self.init).append(line)
            if dynamic:
                self.transient.add(node)

    def generic_step(self, step: Step) -> None:
        out = step.out
        name = f"v{out.index}"
        args = "".join(", " + self.expression(a) for a in step.args)
        kwargs = "".join(f", {k}={self.expression(v)}" for k, v in step.kwargs.items())
        self.lines.append(f"{name} = run({self.node(step.node)}{args}{kwargs})  # {_label(step)}")
        self.names[out.index] = name
        self.plan.fallbacks += 1

    def fresh_output(self, value: Value) -> None:
        """A returned value must not live in a buffer a later call overwrites."""
        owner = value.alias_of or value
        if _is_buffer(self.names.get(owner.index, "")):
            name = f"v{value.index}"
            self.lines.append(f"{name} = {self.names[value.index]}.copy()")
            self.names[value.index] = name

    def role(self, index: int) -> str:
        value = self.plan.values[index]
        if value.kind == "input":
            return f"input {value.position} of the compiled region"
        if value.kind == "external":
            return f"a parameter or buffer ({tuple(value.shape)}) read by the compiled region"
        return "an output of the compiled region"

    # -- backward -----------------------------------------------------------------------------------
    def backward(self, order: list) -> None:
        """The backward program: each recorded op's backward in the engine's order."""
        plan, trace = self.plan, self.trace
        step_of = {id(s.node): s for s in trace.op_steps() if s.recorded}
        edge_var = {v.index: f"ge{k}" for k, v in enumerate(plan.edges)}
        source_of = {}  # id(node) / (id(node), nr) / id(leaf) -> value index of an input or external
        for value in trace.values:
            if value.kind in ("input", "external") and value.tensor is not None:
                if value.tensor.grad_fn is not None:
                    source_of[(id(value.tensor.grad_fn), value.tensor.output_nr)] = value.index
                else:
                    source_of[id(value.tensor)] = value.index
        checked = len(plan.outputs) > 1
        lines = self.back
        seeds = [f"g{i}" if plan.values[i].requires_grad else "_" for i in plan.outputs]
        assigned: set[str] = set()
        if checked:
            names = {f"g{s.out.index}" for s in step_of.values()} | set(edge_var.values())
            lines.extend(f"{n} = None" for n in sorted(names - set(seeds)))
            assigned |= names
        lines.append(f"{', '.join(seeds)}{',' if len(seeds) == 1 else ''} = grads")
        lines.append("keep = retaining()  # retain_graph: what the ops saved must stay")
        assigned.update(s for s in seeds if s != "_")
        for node, flowing, passes, single in order:
            step = step_of.get(id(node))
            if step is None:
                continue
            var = f"g{step.out.index}"
            if var not in assigned:
                continue
            # A backward that hands the gradient on unchanged (add, sub of a number, clone)
            # needs no call: the program hands it on itself.
            if passes:
                body: list[str] = []
            elif single and hasattr(node, "backward_over") and not checked:
                # Written over the incoming gradient when nothing but this program holds it.
                body = ["r = None  # (the last result lets go of the gradient: owned() counts references)",
                        f"r = {self.node(node)}.backward_over(np, {var}) if owned({var}) else "
                        f"{self.node(node)}.backward(np, {var})  # {_label(step)}"]
            else:
                body = [f"r = {self.node(node)}.backward(np, {var})  # {_label(step)}"]
            edges = graph.inputs(node)
            for i in flowing:
                if edges[i] is None:
                    continue
                target = self._gradient_target(edges[i], step_of, source_of, edge_var)
                if target is None:
                    raise PlanError(f"the backward of {node.name()} sends a gradient outside the region")
                expr = var if passes else ("r" if single else f"r[{i}]")
                if checked:
                    body.append(f"x = {expr}")
                    body.append(f"if x is not None: {target} = x if {target} is None else {target} + x")
                else:
                    body.append(f"{target} = {target} + {expr}" if target in assigned else f"{target} = {expr}")
                assigned.add(target)
            body.append(f"{var} = None")  # the engine, too, drops a gradient once passed on
            name = self.node(node)
            if not passes and name in self.transient:
                body.append(f"if not keep: {name}.saved = None")  # as the engine frees a node's
            if checked:
                lines.append(f"if {var} is not None:")
                lines.extend("    " + b for b in body)
            else:
                lines.extend(body)
        result = [edge_var[v.index] if edge_var[v.index] in assigned else "None" for v in plan.edges]
        where = ", ".join(self.names[v.index] for v in plan.edges)
        lines.append(f"return ({', '.join(result)}{',' if len(result) == 1 else ''})  # for {where}")
        plan.has_backward = True

    def _gradient_target(self, edge: Any, step_of: dict, source_of: dict, edge_var: dict) -> str | None:
        if edge.node is not None:
            step = step_of.get(id(edge.node))
            if step is not None:
                return f"g{step.out.index}"
            index = source_of.get((id(edge.node), edge.output_nr))
        else:
            index = source_of.get(id(edge.leaf))
        return edge_var.get(index) if index is not None else None

    # -- source -------------------------------------------------------------------------------------
    def source(self) -> str:
        """The programs as Python source (``make(...)`` binds them to a buffer set); also
        sets ``plan.listing``, the two programs as a reader sees them."""
        plan = self.plan
        inputs = ", ".join(f"x{k}" for k in range(len(plan.inputs)))
        plan.fresh = set(self.fresh)
        used = sorted(set(plan.shared) | {f"b{k}" for k in range(len(plan.buffers)) if k not in self.fresh}
                      | {f"n{k}" for k in range(len(plan.nodes))} | {"drawn"})
        back = self.back or ["return ()"]
        text = [f"def make({', '.join(used)}):"]
        text += ["    " + line for line in self.init]
        text.append(f"    def forward({inputs}):")
        text += ["        " + line for line in self.lines]
        text.append("    def backward(grads):")
        text += ["        " + line for line in back]
        text.append("    return forward, backward")
        listing = [f"forward({inputs}):"] + ["    " + line for line in self.lines]
        listing += ["backward(grads):"] + ["    " + line for line in back]
        if self.init:
            listing += ["once per buffer set (saved values that live in buffers):"] + ["    " + line for line in self.init]
        plan.listing = "\n".join(listing)
        return "\n".join(text) + "\n"


def _saved_map(step: Step) -> list | None:
    """What a kernel step's op saved, entry by entry: an argument's index, ``"out"``, or
    ``("constant", item)``; None when the op saved anything else (or keeps arrays in other
    fields), or has no kernel."""
    node = step.node
    if type(node).kernel is None or step.kwargs or not isinstance(step.out.array, np.ndarray):
        return None
    out = step.out.array
    if out.dtype.kind != "f":
        return None
    for arg in step.args:
        if type(arg) is Ref:
            if not isinstance(arg.value.array, np.ndarray) or arg.value.array.dtype != out.dtype:
                return None
        elif not (arg is None or type(arg) in (int, float, bool)):
            return None
    for name in _op_slots(type(node)):
        if _holds_array(getattr(node, name, None)):
            return None
    saved = []
    arrays = [a.value.array if type(a) is Ref else None for a in step.args]
    for item in node.saved or ():
        if item is out:
            saved.append("out")
        elif isinstance(item, np.ndarray):
            index = next((i for i, a in enumerate(arrays) if a is item), None)
            if index is None:
                return None
            saved.append(index)
        else:
            saved.append(("constant", item))
    return saved


#: A value some op saves is made afresh at each call from this size on (smaller ones live in
#: buffers: there, allocating costs more than the memory a buffer holds).
FRESH_BYTES = 1 << 16

#: Ufuncs whose ``out`` must be a keyword (NumPy deprecates a third positional argument).
_KEYWORD_OUT = (np.maximum, np.minimum)


def _is_buffer(name: str) -> bool:
    return re.fullmatch(r"b\d+", name) is not None


#: Names the programs use for their own helpers.
_RESERVED = {"np", "run", "allocate", "bump", "apply_inplace", "retaining", "owned", "drawn", "grads", "make", "forward",
             "backward", "r", "x", "keep"}


def _elementwise(node: Any) -> bool:
    """Whether the op's kernel may write over one of its arguments (element by element)."""
    return isinstance(type(node).kernel, np.ufunc) or bool(getattr(type(node), "elementwise", False))


def layout_of(array: Any) -> tuple:
    """``(shape, dtype, axes)``: ``array``'s memory order as the axes from the slowest to
    the fastest varying (None for C order).  A buffer gets the layout of the array eager
    made: the next ops' results (and the order their reductions add in) follow it."""
    if array.flags.c_contiguous:
        return array.shape, array.dtype, None
    axes = tuple(sorted(range(array.ndim), key=lambda axis: -array.strides[axis]))
    return array.shape, array.dtype, axes


def _references(array: Any) -> int:
    return getrefcount(array)


def _held_once() -> tuple[int, int]:
    """``sys.getrefcount`` seen one call down (as in :func:`owned`) of an array whose only
    other reference is one local variable of the caller, and of the base of a view held only
    by that view (measured, as both differ between Python versions)."""
    base = np.empty(2)
    view = base[1:]
    viewed = _references(base) - 1  # less this function's own variable
    del base
    return _references(view), viewed


_HELD_ONCE, _BASE_HELD_ONCE = _held_once()


def owned(array: Any) -> bool:
    """Whether ``array`` is a writeable NumPy array that nothing but one variable of the
    calling program holds, and whose memory (if it is a view) nothing but it holds: then the
    program may write over it."""
    if type(array) is not np.ndarray or not array.flags.writeable or getrefcount(array) > _HELD_ONCE:
        return False
    base = array.base
    return base is None or (type(base) is np.ndarray and base.base is None
                            and getrefcount(base) <= _BASE_HELD_ONCE)


def allocate(layout: tuple) -> Any:
    """An uninitialised array of a :func:`layout_of` layout."""
    shape, dtype, axes = layout
    if axes is None:
        return np.empty(shape, dtype)
    return np.empty([shape[a] for a in axes], dtype).transpose(np.argsort(axes))


def _dense(array: Any) -> bool:
    """Whether ``array`` fills its memory in some axis order (what a buffer can copy)."""
    if array.flags.c_contiguous:
        return True
    axes = layout_of(array)[2]
    return array.transpose(axes).flags.c_contiguous


def _kernel_matches(step: Step) -> bool:
    """The kernel on the traced arrays gives the traced output, bit for bit, in a buffer of
    the traced output's layout."""
    kernel = type(step.node).kernel
    out = step.out.array
    if not _dense(out):
        return False
    args = [a.value.array if type(a) is Ref else a for a in step.args]
    trial = allocate(layout_of(out))
    positional = isinstance(kernel, np.ufunc) and kernel not in _KEYWORD_OUT
    try:
        with np.errstate(all="ignore"):
            result = kernel(*args, trial) if positional else kernel(*args, out=trial)
    except (TypeError, ValueError):
        return False
    return result is trial and trial.tobytes() == np.ascontiguousarray(out).tobytes()


def _label(step: Step) -> str:
    out = step.out.array
    shape = "x".join(str(n) for n in out.shape) or "scalar"
    return f"{step.node.name()} -> {out.dtype}[{shape}]"
