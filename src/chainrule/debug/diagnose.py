"""``diagnose(loss, params)``: why a gradient is None, zero, vanishingly small or NaN, and where.

For each tensor it answers, in this order:

* not a leaf (``w = w - lr * w.grad`` outside no_grad): backward keeps no ``.grad`` for it;
* ``requires_grad`` never set;
* not reached from the loss: the graph was cut on the way (``.detach()``, ``.data``,
  ``.item()`` and a re-wrap, no_grad, an integer cast, an op without a derivative), its
  module is never called, or what it computes never reaches the loss;
* NaN/inf: the first op that made them, in the forward or the backward, and the values that did;
* exactly zero: the op that stopped the gradient (a dead ReLU, a saturated sigmoid or tanh,
  a clamp outside its range, a rounding op);
* vanishingly small: the ops where it shrank.

The lines come from what a :class:`~chainrule.debug.record.Recorder` saw (``chainrule debug``,
or ``with chainrule.debug.recording():``); without one the causes are still named, with
fewer lines.
"""
from __future__ import annotations

import math
from typing import Any

from ..autograd import graph
from ..nn import Module, Parameter
from ..optim import Optimizer
from ..tensor import Tensor
from . import fixes, values
from .findings import Diagnosis, Finding, Healthy
from .names import Names
from .record import CutMark, Pass, Recorder, active, measure
from .sites import user_frames

#: A gradient whose norm is below this (the loss's own gradient being 1) is
#: vanishingly small: an update with it changes nothing.
VANISHING = 1e-8
#: Cuts whose result is a Python number or a NumPy array: where it went cannot be followed.
_UNTRACEABLE = ("item", "tolist", "numpy")
#: Cuts whose result may reach the loss unseen (an index array passed on as an array, as
#: embedding and indexing do): the cause when nothing else is.
_LIKELY = ("no_derivative", "integer_cast", "tensor")


def diagnose(loss: Any, params: Any = None, *, recorder: Recorder | None = None,
             names: Names | None = None) -> Diagnosis:
    """Why the gradient from ``loss`` of each of ``params`` is None, zero, vanishingly small
    or NaN/inf, and where in your code.

    ``params``: a Module (its named parameters), an optimizer (its parameters), a dict
    ``{name: tensor}``, tensors or ``(name, tensor)`` pairs, or one tensor.  Call it before
    or after ``loss.backward()``; the lines of your code are known for what ran while
    recording (``chainrule debug``, or ``with chainrule.debug.recording():``).

    >>> print(chainrule.autograd.diagnose(loss, model))
    fc1.weight, fc1.bias: .grad is None
      at train.py:21:  h = self.fc1(x).detach()
      cause: .detach() cuts the graph here: nothing computed before it gets a gradient
    ...
    """
    if not isinstance(loss, Tensor):
        raise TypeError(f"diagnose(loss, params): loss must be a tensor, got {type(loss).__name__}")
    if names is None:
        names = Names.from_frames(user_frames())
    items = _named(params, names)
    recorder = recorder if recorder is not None else active()
    return Doctor(loss, recorder, names).examine(items)


def _named(params: Any, names: Names) -> list:
    """``params`` as (name, tensor) pairs, named as the user's code names them."""
    if params is None:
        return []
    if isinstance(params, Module):
        names.add_model(_variable_of(params, names), params)
        names.finish()
        return [(names.name(p, name), p) for name, p in params.named_parameters()]
    if isinstance(params, Optimizer):
        return [(names.name(p, f"param_groups[{g}][{i}]"), p)
                for g, group in enumerate(params.param_groups) for i, p in enumerate(group["params"])]
    if isinstance(params, Tensor):
        return [(names.name(params), params)]
    if isinstance(params, dict):
        return [(str(name), tensor) for name, tensor in params.items()]
    out = []
    for i, item in enumerate(params):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Tensor):
            out.append((str(item[0]), item[1]))
        else:
            out.append((names.name(item, f"tensor {i}"), item))
    return out


def _variable_of(model: Any, names: Names) -> str:
    for name, module in names.modules.items():
        if module is model:
            return name
    return "model"


class Doctor:
    """One diagnosis: the loss's graph, what was recorded around it, and the questions asked
    of it (computed once, shared by every tensor examined)."""

    def __init__(self, loss: Any, recorder: Recorder | None, names: Names) -> None:
        self.loss = loss
        self.recorder = recorder
        self.names = names
        self.pass_ = self._pass_of(loss)
        self.nodes = graph.walk(loss) if loss.grad_fn is not None else []
        self.node_set = set(self.nodes)
        self.reached = {id(e.leaf) for node in self.nodes for e in graph.inputs(node) if e is not None and e.is_leaf}
        self._below: dict = {}
        self._gradients: dict | None = None
        self._dry: dict | None = None
        self.redundant: list = []  # biases a batch norm removes (healthy, and said so)

    def _pass_of(self, loss: Any) -> Pass | None:
        recorder = self.recorder
        if recorder is None:
            return None
        last = recorder.last
        if last is not None and last.roots is not None and any(root is loss for root in last.roots):
            return last
        if loss.grad_fn is None or recorder.note(loss.grad_fn) is not None:
            return recorder.current  # recorded, and not backpropagated yet
        return None  # computed while the recorder was not running

    # -- the examination ------------------------------------------------------------------
    def examine(self, items: list, lenient: set | frozenset = frozenset()) -> Diagnosis:
        """The diagnosis of ``items`` ((name, tensor) pairs).  Tensors whose ids are in
        ``lenient`` are not known to be trained by this loss (a variable that is not a
        parameter): that the loss does not reach one is reported only when a cut on the
        loss's own way explains it."""
        findings = []
        problem = self.loss_problem()
        if problem is not None:
            findings.append(problem)
        healthy = Healthy()
        for name, tensor in items:
            if not isinstance(tensor, Tensor):
                continue
            finding = self.check(name, tensor, id(tensor) in lenient)
            if finding is None:
                if isinstance(tensor, Parameter) and not tensor.requires_grad:
                    healthy.frozen.append(name)
                else:
                    healthy.names.append(name)
                    healthy.largest = max(healthy.largest, self._largest(tensor))
            else:
                findings.append(finding)
        healthy.redundant = self.redundant
        return Diagnosis(findings, healthy)

    def loss_problem(self, name: str = "loss") -> Finding | None:
        """Why the loss itself cannot be backpropagated (it does not require grad), or None."""
        if self.loss.requires_grad:
            return None
        mark = graph.cut_of(self.loss)
        if isinstance(mark, CutMark):
            cause, fix = fixes.for_cut(mark.cut.kind, mark.cut.op)
            return Finding(name, "none", mark.cut.kind, f"{name} does not require grad: {cause}", mark.cut.site, fix)
        if mark:
            return Finding(name, "none", "loss_cut", f"{name} does not require grad: its graph was cut at {mark}",
                           None, fixes.RECORD)
        return Finding(name, "none", "nothing_requires_grad",
                       f"{name} does not require grad: nothing it is computed from requires grad", None,
                       fixes.NOTHING_REQUIRES_GRAD)

    def check(self, name: str, tensor: Any, lenient: bool = False) -> Finding | None:
        """The finding about ``tensor`` (named ``name``), or None when it is healthy
        (``lenient``: see :meth:`examine`)."""
        if tensor.grad_fn is not None and not (tensor.retains_grad and tensor.grad is not None):
            return self.not_leaf(name, tensor)
        if not tensor.requires_grad:
            if isinstance(tensor, Parameter):
                return None  # frozen on purpose
            return Finding(name, "none", "requires_grad_not_set",
                           f"{name} does not require grad: requires_grad was never set, so no op on it is "
                           "recorded and backward computes nothing for it",
                           self.names.definition(tensor), fixes.REQUIRES_GRAD.format(name=name))
        if not values.all_finite(tensor):
            return Finding(name, "value", "nan_value",
                           f"{name} itself holds NaN/inf: an earlier update wrote them (a NaN/inf gradient, "
                           "or a learning rate too large)", self.names.definition(tensor), fixes.NAN_VALUE)
        if tensor.grad_fn is None and id(tensor) not in self.reached:
            return self.cut_on_the_way(name, tensor) if lenient else self.unreached(name, tensor)
        grad = self.gradient(tensor)
        if grad is None:
            return None
        size = values.scale(grad)
        if math.isnan(size) or math.isinf(size):
            return self.nonfinite(name, tensor)
        if size < VANISHING and self.delivered(tensor) >= VANISHING:
            return None  # backward gave it a gradient: zeroed since, or contributions that cancel
        if size < VANISHING and self.before_batch_norm(tensor):
            self.redundant.append(name)  # its gradient is zero but for rounding, as it should be
            return None
        if size == 0:
            return self.zero(name, tensor)
        if size < VANISHING:
            return self.vanishing(name, tensor, size)
        return None

    # -- .grad is None ----------------------------------------------------------------------
    def not_leaf(self, name: str, tensor: Any) -> Finding:
        node = tensor.grad_fn
        note = self.recorder.note(node) if self.recorder is not None else None
        where = note.site if note is not None else None
        reassigned = where is not None and where.code.replace(" ", "").startswith(f"{name}=")
        how = ("reassigning it outside torch.no_grad() made it the result of an op" if reassigned
               else "it is computed by an op")
        cause = (f"{name} is not a leaf: {how} ({values.op_of(node)}, {node.name()}), and backward keeps "
                 ".grad only for leaves")
        return Finding(name, "none", "not_leaf", cause, where, fixes.NOT_LEAF.format(name=name))

    def cut_on_the_way(self, name: str, tensor: Any) -> Finding | None:
        """The cut that kept ``tensor`` out of the loss's graph though what was computed from
        it flowed into the loss, if there is one."""
        for cut in self._flowing_cuts():
            if self._cut_holds(cut, tensor):
                return self._cut_finding(name, cut)
        return None

    def unreached(self, name: str, tensor: Any) -> Finding:
        """Why ``tensor`` is not in the loss's graph."""
        found = self.cut_on_the_way(name, tensor)
        if found is not None:
            return found
        pass_ = self.pass_
        if pass_ is not None:
            for kinds in (_UNTRACEABLE, _LIKELY):
                for cut in pass_.cut_list():
                    if cut.kind in kinds and self._cut_holds(cut, tensor):
                        return self._cut_finding(name, cut)
        mark = graph.cut_of(self.loss) if self.loss.grad_fn is None else None
        if mark is not None and not isinstance(mark, CutMark):
            return Finding(name, "none", "loss_cut", f"the loss does not require grad: its graph was cut at {mark}",
                           None, fixes.RECORD)
        return self._unused(name, tensor)

    def _flowing_cuts(self) -> list:
        """The cuts whose results flowed into the loss (consumed by an op of its graph, or
        the loss itself), in the order they happened."""
        found = {}
        if self.recorder is not None:
            for node in self.nodes:
                note = self.recorder.note(node)
                if note is not None:
                    for cut in note.consumed:
                        found[id(cut)] = cut
        mark = graph.cut_of(self.loss)
        if isinstance(mark, CutMark):
            found[id(mark.cut)] = mark.cut
        return sorted(found.values(), key=lambda cut: cut.order)

    def _cut_holds(self, cut: Any, tensor: Any) -> bool:
        """Whether ``tensor`` was part of what ``cut`` took out of the graph."""
        for source in cut.sources:
            if source is tensor:
                return True
            if not isinstance(source, Tensor) and id(tensor) in self._leaves_below(source):
                return True
        return False

    def _leaves_below(self, node: Any) -> set:
        found = self._below.get(node)
        if found is None:
            found = self._below[node] = {id(e.leaf) for n in graph.walk(node) for e in graph.inputs(n)
                                         if e is not None and e.is_leaf}
        return found

    def _cut_finding(self, name: str, cut: Any) -> Finding:
        cause, fix = fixes.for_cut(cut.kind, cut.op)
        return Finding(name, "none", cut.kind, cause, cut.site, fix)

    def _unused(self, name: str, tensor: Any) -> Finding:
        """Not cut: the tensor (or its module) never took part, or its result went elsewhere."""
        pass_ = self.pass_
        used = pass_.leaves_used if pass_ is not None else {}
        owner = self.names.owner(tensor)
        if owner is not None and pass_ is not None:
            module_params = list(owner.module.parameters())
            if not any(id(p) in used or self._in_any_cut(p) for p in module_params):
                return Finding(name, "none", "module_not_called",
                               f"module {owner.label} ({type(owner.module).__name__}) is never called in the "
                               "forward pass, so its parameters take no part in the loss",
                               self.names.module_definition(owner),
                               fixes.MODULE_NOT_CALLED.format(
                                   module=f"self.{owner.path.split('.')[-1]}" if owner.path else owner.root_name))
        if id(tensor) in used:
            return Finding(name, "none", "output_unused",
                           "it is used here, but what is computed from it never reaches the loss",
                           used[id(tensor)][1], fixes.OUTPUT_UNUSED)
        where = self.names.definition(tensor)
        if pass_ is None:
            return Finding(name, "none", "not_reached",
                           f"{name} does not take part in computing the loss (no path from the loss back to it)",
                           where, fixes.RECORD)
        return Finding(name, "none", "not_used",
                       f"{name} is never used in computing the loss", where, fixes.NOT_USED)

    def _in_any_cut(self, tensor: Any) -> bool:
        return self.pass_ is not None and any(self._cut_holds(cut, tensor) for cut in self.pass_.cut_list())

    # -- gradients --------------------------------------------------------------------------
    def gradient(self, tensor: Any) -> Any:
        """The gradient of the loss for ``tensor``: its ``.grad``, or (before backward) one
        from a dry run of the backward."""
        grad = tensor.grad
        if grad is not None:
            return grad
        dry = self.dry_run()
        total = None
        for node, (_, grad_inputs) in dry.items():
            for edge, g in zip(graph.inputs(node), grad_inputs):
                if edge is not None and edge.is_leaf and edge.leaf is tensor and g is not None:
                    total = g if total is None else total + g
        return total

    def dry_run(self) -> dict:
        if self._dry is None:
            self._dry = {}
            if self.loss.grad_fn is not None:
                try:
                    self._dry = graph.backward_gradients(self.loss)
                except graph.GraphFreed:
                    pass
        return self._dry

    def gradients(self) -> dict:
        """{node: NodeGradients} of the backward from the loss: what the recorder saw, or a dry run."""
        if self._gradients is None:
            recorded = {}
            if self.recorder is not None and self.pass_ is not None and self.pass_.roots is not None:
                for node in self.nodes:
                    note = self.recorder.note(node)
                    if note is not None and note.grads is not None:
                        recorded[node] = note.grads
            if not recorded:
                recorded = {node: measure(node, gout, gin) for node, (gout, gin) in self.dry_run().items()}
            self._gradients = recorded
        return self._gradients

    def delivered(self, tensor: Any) -> float:
        """The largest gradient norm the backward from the loss sent ``tensor`` along one of
        its edges (0 when nothing was seen)."""
        gradients = self.gradients()
        sizes = [observed.in_scales[i] for node, observed in gradients.items()
                 for i, e in enumerate(graph.inputs(node))
                 if e is not None and e.is_leaf and e.leaf is tensor and i < len(observed.in_scales)
                 and observed.in_scales[i] is not None]
        return max((s for s in sizes if math.isfinite(s)), default=0.0)

    def _largest(self, tensor: Any) -> float:
        grad = tensor.grad
        size = values.scale(grad) if grad is not None else 0.0
        return size if math.isfinite(size) else 0.0

    def _towards(self, tensor: Any) -> dict:
        """{node: True} for the loss's nodes from which a path leads down to ``tensor``."""
        reaches: dict = {}
        for node in reversed(self.nodes):  # producers first
            reaches[node] = any(e is not None and ((e.is_leaf and e.leaf is tensor) or reaches.get(e.node, False))
                                for e in graph.inputs(node))
        return reaches

    def _edges_towards(self, node: Any, tensor: Any, reaches: dict) -> list:
        return [i for i, e in enumerate(graph.inputs(node))
                if e is not None and ((e.is_leaf and e.leaf is tensor) or reaches.get(e.node, False))]

    def _site(self, node: Any) -> Any:
        note = self.recorder.note(node) if self.recorder is not None else None
        return note.site if note is not None else None

    def _activity(self, node: Any) -> tuple | None:
        note = self.recorder.note(node) if self.recorder is not None else None
        return note.activity if note is not None else None

    # -- NaN/inf -----------------------------------------------------------------------------
    def nonfinite(self, name: str, tensor: Any) -> Finding:
        first = self.pass_.nonfinite if self.pass_ is not None else None
        if first is not None and (first.node in self.node_set or not values.all_finite(self.loss)):
            role = "made" if first.created else "first showed"
            cause = f"NaN/inf {role} in the forward pass by {first.op}: {first.why}"
            if first.later:
                cause += f"; the {first.later} op{'s' if first.later != 1 else ''} after it only passed them on"
            return Finding(name, "nonfinite", "nan_forward", cause, first.site, fixes.for_nan(first.op))
        reaches = self._towards(tensor)
        gradients = self.gradients()
        culprits = [node for node in self.nodes if reaches.get(node) and gradients.get(node) is not None
                    and gradients[node].culprit is not None]
        if culprits:
            node = culprits[0]
            passed = sum(1 for n in self.nodes if reaches.get(n) and n is not node
                         and self.nodes.index(n) > self.nodes.index(node))
            op = values.op_of(node)
            cause = (f"the gradient became NaN/inf in the backward of {op} ({node.name()}): "
                     f"{gradients[node].culprit}")
            if passed:
                cause += f"; {passed} op{'s' if passed != 1 else ''} below it only passed it on"
            return Finding(name, "nonfinite", "nan_backward", cause, self._site(node), fixes.for_nan(op, backward=True))
        return Finding(name, "nonfinite", "nan_gradient",
                       f"{name}'s gradient holds NaN/inf, though no op of this backward made them: they were "
                       "accumulated earlier or put there by a hook", None, fixes.NAN_GRADIENT)

    # -- zero and vanishing --------------------------------------------------------------------
    def zero(self, name: str, tensor: Any) -> Finding:
        reaches = self._towards(tensor)
        gradients = self.gradients()
        for node in self.nodes:
            observed = gradients.get(node)
            if not reaches.get(node) or observed is None or not observed.out_scale > 0:
                continue
            if any(i < len(observed.in_scales) and observed.in_scales[i] == 0
                   for i in self._edges_towards(node, tensor, reaches)):
                return self._stopper(name, self._silent_input(node) or node, "zero")
        return Finding(name, "zero", "zero", f"{name}'s gradient is exactly zero", None, fixes.ZERO)

    def before_batch_norm(self, tensor: Any) -> bool:
        """Whether ``tensor`` is a bias added just before a batch norm, which subtracts the
        batch mean and so removes it: its gradient is zero up to rounding, and it does no harm."""
        if tensor.ndim != 1:
            return False
        users = [node for node in self.nodes if any(e is not None and e.is_leaf and e.leaf is tensor
                                                    for e in graph.inputs(node))]
        for user in users:
            consumers = [node for node in self.nodes if any(e is not None and e.node is user
                                                            for e in graph.inputs(node))]
            if not consumers or not all("BatchNorm" in consumer.name() for consumer in consumers):
                return False
        return bool(users)

    def _silent_input(self, node: Any) -> Any:
        """The node making one of ``node``'s inputs, when its forward silenced every unit (a
        dead ReLU, saturated tanh ...): a product with that input is zero for the others."""
        for edge in graph.inputs(node):
            if edge is not None and edge.node is not None:
                activity = self._activity(edge.node)
                if activity is not None and activity[0] >= 1.0:
                    return edge.node
        return None

    def _stopper(self, name: str, node: Any, symptom: str, extra: str = "") -> Finding:
        op = values.op_of(node)
        activity = self._activity(node)
        words = fixes.for_stopper if symptom == "zero" else fixes.for_shrinker
        kind, cause, fix = words(op, node.name(), activity[1] if activity else None)
        return Finding(name, symptom, kind, cause + extra, self._site(node), fix)

    def vanishing(self, name: str, tensor: Any, size: float) -> Finding:
        reaches = self._towards(tensor)
        gradients = self.gradients()
        groups: dict = {}  # (op, site) -> [log10 of the shrink, count, a node]
        for node in self.nodes:
            observed = gradients.get(node)
            if not reaches.get(node) or observed is None or not observed.out_scale > 0:
                continue
            ratios = [observed.in_scales[i] / observed.out_scale for i in self._edges_towards(node, tensor, reaches)
                      if i < len(observed.in_scales) and observed.in_scales[i] is not None]
            ratio = max(ratios, default=1.0)
            if 0 < ratio < 1:
                key = (values.op_of(node), self._site(node))
                group = groups.setdefault(key, [0.0, 0, node])
                group[0] += math.log10(ratio)
                group[1] += 1
        if not groups:
            return Finding(name, "small", "vanishing", f"the norm of its gradient is {size:.2g}", None, fixes.VANISHING)
        (op, site), (log_shrink, times, node) = min(groups.items(), key=lambda item: item[1][0])
        if times == 1:
            return self._stopper(name, node, "small", f" (the gradient shrinks ×{10 ** log_shrink:.1g} there)")
        cause = (f"the gradient shrinks ×{10 ** log_shrink:.1g} through {times} {op} ops "
                 f"(×{10 ** (log_shrink / times):.2g} each on average) on its way here")
        return Finding(name, "small", "vanishing", cause, site, fixes.for_vanishing(op))
