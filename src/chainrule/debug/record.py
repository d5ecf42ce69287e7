"""What debug mode records while a script runs: the call site of every op, every place the
graph is cut, what activations did, where NaN/inf first appeared, and how large the
gradients were at each node of every backward.

A :class:`Recorder` watches through the public graph API (``on_record``, ``on_cut``,
``on_backward``, ``on_backward_call``).  What it sees between two ``backward()`` calls is one
:class:`Pass`; the pass that ended with the latest backward is kept for the diagnosis.
With no recorder running, none of this costs anything.
"""
from __future__ import annotations

import itertools
import math
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..autograd import graph
from ..tensor import Tensor
from . import values
from .sites import Site, user_site

#: Sources kept per cut: the most recent ones (a cut in a loop is one line, many values).
SOURCES_KEPT = 4


_ORDERS = itertools.count()  # cuts sort in the order they happened


class Cut:
    """One place (kind, op and line) where values that needed a gradient left the graph, in
    one pass: ``sources`` are the latest of them (their node, or the leaf itself)."""

    __slots__ = ("kind", "op", "site", "sources", "count", "order", "__weakref__")

    def __init__(self, kind: str, op: str | None, site: Site | None) -> None:
        self.kind, self.op, self.site = kind, op, site
        self.sources: list = []
        self.count = 0
        self.order = next(_ORDERS)

    def add(self, tensors: list) -> None:
        self.count += 1
        self.sources = (self.sources + [t.grad_fn if t.grad_fn is not None else t for t in tensors])[-SOURCES_KEPT:]

    def __repr__(self) -> str:
        return f"Cut({self.kind!r}, {self.op!r}, {self.site})"


class CutMark(str):
    """A tensor's cut description (what a backward from it reports) that also carries the
    :class:`Cut`, so that where the value flows next can be traced back to it."""

    cut: Cut

    def __new__(cls, text: str, cut: Cut) -> "CutMark":
        mark = super().__new__(cls, text)
        mark.cut = cut
        return mark


class NodeNote:
    """What debug mode knows of one recorded node: its call site, what its forward did to
    its units (``activity``: fraction, words), the cuts whose values it consumed, and the
    gradients of the latest backward through it (:class:`NodeGradients`)."""

    __slots__ = ("site", "activity", "consumed", "grads")

    def __init__(self, site: Site | None) -> None:
        self.site = site
        self.activity: tuple | None = None
        self.consumed: tuple = ()
        self.grads: NodeGradients | None = None


@dataclass
class NodeGradients:
    """One backward through a node: the norm of the gradient arriving (``out_scale``) and
    leaving per argument (``in_scales``, None where none left), and, when the node turned a
    finite gradient into NaN/inf, why (``culprit``)."""

    out_scale: float
    in_scales: tuple
    culprit: str | None = None


def measure(node: Any, grad_outputs: tuple, grad_inputs: tuple) -> NodeGradients:
    """The :class:`NodeGradients` of one node's backward (its kept values must still be
    there, to explain a NaN it made)."""
    scales = [values.scale(g) for g in grad_outputs if g is not None]
    out_scale = math.nan if any(math.isnan(s) for s in scales) else max(scales, default=0.0)
    in_scales = tuple(None if g is None else values.scale(g) for g in grad_inputs)
    culprit = None
    if math.isfinite(out_scale) and any(s is not None and not math.isfinite(s) for s in in_scales):
        culprit = values.backward_culprit(values.op_of(node), graph.kept_arguments(node),
                                          graph.derivative_formulas(node))
    return NodeGradients(out_scale, in_scales, culprit)


@dataclass
class NonFinite:
    """The first op of a pass whose forward output held NaN/inf: whether it made them from
    finite inputs (``created``) or only passed on an input's (a propagator), and why."""

    op: str
    site: Site | None
    created: bool
    why: str
    node: Any = None
    later: int = 0  # how many recorded ops after it also gave NaN/inf


@dataclass
class Pass:
    """Everything recorded between two ``backward()`` calls; ``roots`` are the tensors the
    second one started from (None while the pass is open)."""

    cuts: dict = field(default_factory=dict)  # (kind, op, site) -> Cut
    leaves_used: dict = field(default_factory=dict)  # id(leaf) -> (leaf, first Site using it)
    nonfinite: NonFinite | None = None
    roots: list | None = None
    error: BaseException | None = None
    site: Site | None = None  # where backward() was called

    def cut_list(self) -> list:
        return sorted(self.cuts.values(), key=lambda cut: cut.order)


class Recorder:
    """Records what a diagnosis needs while it is started (also a context manager).

    ``on_pass(pass_)`` is called after each ``backward()`` call, its :class:`Pass` closed."""

    def __init__(self, on_pass: Callable[[Pass], None] | None = None) -> None:
        self.notes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.current = Pass()
        self.last: Pass | None = None
        self.on_pass = on_pass
        self.handles: list = []

    def start(self) -> "Recorder":
        if not self.handles:
            self.handles = [graph.on_record(self.record), graph.on_cut(self.cut),
                            graph.on_backward(self.backward), graph.on_backward_call(self.close_pass)]
            _active.append(self)
            _latest[:] = [self]
        return self

    def stop(self) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles = []
        if self in _active:
            _active.remove(self)

    def __enter__(self) -> "Recorder":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def note(self, node: Any) -> NodeNote | None:
        return self.notes.get(node)

    # -- the observers ---------------------------------------------------------------------
    def record(self, node: Any, args: tuple, kwargs: dict, output: Any) -> None:
        site = user_site()
        note = NodeNote(site)
        self.notes[node] = note
        consumed = []
        leaves = self.current.leaves_used
        for a in _tensor_arguments(args):
            if a.requires_grad:
                if a.grad_fn is None and id(a) not in leaves:
                    leaves[id(a)] = (a, site)
            else:
                mark = graph.cut_of(a)
                if isinstance(mark, CutMark):
                    consumed.append(mark.cut)
        if consumed:
            note.consumed = tuple(consumed)
        op = values.op_of(node)
        note.activity = values.activity(op, args, output)
        if not values.all_finite(output):
            self._nonfinite(node, op, site, args)

    def _nonfinite(self, node: Any, op: str, site: Site | None, args: tuple) -> None:
        first = self.current.nonfinite
        if first is not None:
            first.later += 1
            return
        tensors = [a for a in args if isinstance(a, (Tensor, np.ndarray))]
        bad = [a for a in tensors if not values.all_finite(a)]
        if not bad:
            self.current.nonfinite = NonFinite(op, site, True, values.forward_culprit(op, args), node)
        else:
            self.current.nonfinite = NonFinite(op, site, False, "an input already held NaN/inf, made outside the "
                                               "recorded graph (the data, or a computation under no_grad)", node)

    def cut(self, kind: str, sources: tuple, output: Any, op: str | None) -> Any:
        site = user_site()
        if op == "Compare":  # one op for every comparison: its ufunc says which
            op = next((a.__name__ for a in sources if isinstance(a, np.ufunc)), op)
        needing = [s for s in _tensor_arguments(sources) if s.requires_grad]
        key = (kind, op, site)
        cut = self.current.cuts.get(key)
        if cut is None:
            cut = self.current.cuts[key] = Cut(kind, op, site)
        cut.add(needing)
        if output is None:
            return None
        base = graph.cut_of(output) or graph.CUT_KINDS[kind]
        return CutMark(f"{base} at {site}" if site is not None else base, cut)

    def backward(self, node: Any, grad_outputs: tuple, grad_inputs: tuple) -> None:
        note = self.notes.get(node)
        if note is None:
            note = self.notes[node] = NodeNote(None)
        note.grads = measure(node, grad_outputs, grad_inputs)

    def close_pass(self, roots: list, error: BaseException | None) -> None:
        finished, self.current = self.current, Pass()
        finished.roots, finished.error, finished.site = roots, error, user_site()
        self.last = finished
        if self.on_pass is not None:
            self.on_pass(finished)


def _tensor_arguments(args: Any) -> list:
    """The tensors among ``args``, looking one level into lists and tuples (cat, stack)."""
    found = []
    for a in args:
        if isinstance(a, Tensor):
            found.append(a)
        elif isinstance(a, (list, tuple)):
            found.extend(t for t in a if isinstance(t, Tensor))
    return found


_active: list = []
_latest: list = []  # the recorder started last, running or not: what a diagnosis after its block reads


def active() -> Recorder | None:
    """The recorder a diagnosis reads: the one running (the innermost), else the one that ran
    last (``with recording(): ...`` then ``diagnose(...)``)."""
    if _active:
        return _active[-1]
    return _latest[0] if _latest else None


def recording() -> Recorder:
    """A context manager that records what :func:`chainrule.autograd.diagnose` reports
    with the lines of your code::

        with chainrule.debug.recording():
            loss = model(x).sum(); loss.backward()
        print(chainrule.autograd.diagnose(loss, model))
    """
    return Recorder()
