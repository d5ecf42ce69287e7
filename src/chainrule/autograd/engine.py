"""The backward engine: the chain rule, applied node by node from the roots to the leaves.

One pass counts, for every node reachable from the roots, how many edges point at it; a
second pass walks the nodes in reverse topological order with an explicit stack (no
recursion, so a 1,000,000-op chain works at Python's default recursion limit), summing the
gradients that reach each node and calling its backward once they all have.  Each gradient
is dropped as soon as it has been passed on, and saved values are freed unless
``retain_graph``.

The walk itself (:meth:`_Backward.walk`) handles the common case inline: a node's backward,
its gradients handed to single-output nodes (straight to the next node along a chain) and
summed into leaves.  Hooks, captured gradients (``autograd.grad``), anomaly checks,
observers and leaves with hooks are named helpers, entered only when a node or leaf has them.
"""
from __future__ import annotations

import gc
import threading
from sys import getrefcount
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from .. import numpy_errstate as fp_errors
from ..backend import get_array_module, to_numpy
from . import function as _function
from . import observe
from .anomaly import on_backward, state as anomaly
from .grad_mode import grad_state
from .node import ONE_CONSTANT, PAIR, Node
from .sparse_rows import SparseRows

_ndarray = np.ndarray


def _unshared_reference_count() -> int:
    """``sys.getrefcount`` of an array held only by a backward's result tuple, seen from where
    the walk asks (inside ``self.to_leaf(edge, g)``, called from ``for edge, g in zip(edges,
    input_grads)``): the count above which the leaf path must copy a gradient before keeping it."""
    counts = []

    class Probe:
        def to_leaf(self, edge: Any, g: Any) -> None:
            counts.append(getrefcount(g))

    probe = Probe()
    input_grads = (np.empty(1), None)
    for edge, g in zip((None, None), input_grads):
        probe.to_leaf(edge, g)
        break
    return counts[0]


_UNSHARED = _unshared_reference_count()


class _Task(threading.local):
    """The backward running in this thread: does it keep the graph (``retain_graph``)?  A
    node that stands for many ops (a compiled region) may free what each of them saved as
    soon as it is used, but only then.  Outside any backward: True (free nothing)."""

    retain_graph = True


task = _Task()


class _Backward:
    """One backward pass: its options, and the state the walk shares with its helpers."""

    def __init__(self, retain_graph: bool, create_graph: bool, capture: Sequence[Any] | None,
                 accumulate: bool, observer: Callable | None) -> None:
        self.retain_graph = retain_graph
        self.create_graph = create_graph
        self.accumulate = accumulate
        # A dry run (``observer`` given) touches nothing: no hooks, no observers but its own.
        self.dry = observer is not None
        self.observers = [observer] if observer is not None else list(observe.backward)
        self.starters = [] if observer is not None else list(observe.backward_starting)
        self.grads: dict = {}  # node -> its gradient (a list per output for several outputs)
        self.deps: dict = {}  # node -> how many edges still owe it a gradient
        self.ready: list = []
        self.handed: set = set()  # ids of arrays some leaf keeps as its .grad
        self.hooked_leaves: dict = {}  # id(leaf) -> gradients still to come (hooks run once)
        self.leaf_sums: dict = {}
        self.fast_leaves = capture is None and accumulate and not create_graph
        self.captured: list | None = None
        self.capture_leaf: dict = {}  # id(leaf) -> index in ``captured``
        self.capture_node: dict = {}  # (node, output index) -> index in ``captured``
        self.duplicates: list = []  # (index, index of the same tensor's first occurrence)
        self.leaf_roots: list = []  # (leaf, gradient) for roots that are leaves
        #: ``autograd.grad``: the reached nodes that need not run (no asked-for tensor below).
        self.idle: set = set()
        if capture is not None:
            self._plan_capture(capture)

    # -- before the walk ---------------------------------------------------------------
    def _plan_capture(self, capture: Sequence[Any]) -> None:
        """``autograd.grad``: leaves are found by identity, non-leaves by (node, output)."""
        self.captured = [None] * len(capture)
        for i, t in enumerate(capture):
            key = id(t) if t.grad_fn is None else (t.grad_fn, t._output_nr)
            table = self.capture_leaf if t.grad_fn is None else self.capture_node
            if key in table:
                self.duplicates.append((i, table[key]))
            else:
                table[key] = i

    def seed(self, roots: Sequence[Any], grad_roots: Sequence[Any]) -> list:
        """Put each root's gradient where the walk finds it; returns the root nodes."""
        Tensor = _function.Tensor
        grads = self.grads
        root_nodes = []
        for root, grad in zip(roots, grad_roots):
            if self.create_graph:
                grad = grad if isinstance(grad, Tensor) else Tensor._wrap(grad)
            else:
                grad = _as_grad_array(grad)
            fn = root.grad_fn
            if fn is None:
                self.seed_leaf(root, grad)
                continue
            nr = root._output_nr
            if fn.n_outputs == 1:
                grads[fn] = grad if fn not in grads else grads[fn] + grad
            else:
                buffer = grads.setdefault(fn, [None] * fn.n_outputs)
                buffer[nr] = grad if buffer[nr] is None else buffer[nr] + grad
            root_nodes.append(fn)
        return list(dict.fromkeys(root_nodes))

    def seed_leaf(self, leaf: Any, grad: Any) -> None:
        if not leaf.requires_grad:
            raise _no_grad_error(leaf)
        self.leaf_roots.append((leaf, grad))

    def deliver_leaf_roots(self) -> None:
        """Roots that are leaves get their gradient at once; a hooked one that the graph also
        reaches waits for the rest, so that its hooks run once, on the sum."""
        for leaf, grad in self.leaf_roots:
            if leaf._hooks is not None and not self.dry:
                self.hooked_leaves[id(leaf)] = self.hooked_leaves.get(id(leaf), 0) + 1
                self.gather_leaf(leaf, grad)
            else:
                self.deliver_leaf(leaf, grad)

    def count_dependencies(self, roots: list) -> None:
        """Pass 1: how many edges point at each node reachable from ``roots``."""
        Tensor = _function.Tensor
        deps = self.deps
        hooked = self.hooked_leaves
        root_set = set(roots)
        stack = list(roots)
        # Without retain_graph no node's output is wanted after this backward (an output that
        # backward needs is also in ``saved``): let go of them now, so that each activation is
        # freed once its last consumer has run, not when the graph dies (peak memory).
        drop_outputs = not self.retain_graph and not self.create_graph
        count_hooks = not self.dry
        while stack:
            node = stack.pop()
            if drop_outputs:
                node.output = None
            # Node.edges, inlined here and in walk (a method call per node measured +5% on
            # tiny_ops), less a one-constant op's edge for its constant.
            others = node.other_edges
            if others is PAIR:
                edges = (node.first_edge, node.second_edge)
            else:  # (a constant's edge is None: ONE_CONSTANT adds nothing to walk)
                edges = (node.first_edge,) + others if others and others is not ONE_CONSTANT else (node.first_edge,)
            for edge in edges:
                if edge is None:
                    continue
                if isinstance(edge, Tensor):
                    # Hooked leaves: how many gradients will reach each, so that its hooks
                    # run once, on their sum, as PyTorch runs them (a clamp is not linear).
                    if count_hooks and edge._hooks is not None:
                        hooked[id(edge)] = hooked.get(id(edge), 0) + 1
                    continue
                if type(edge) is tuple:
                    edge = edge[0]
                count = deps.get(edge)
                if count is None:
                    deps[edge] = 1
                    if edge not in root_set:
                        stack.append(edge)
                else:
                    deps[edge] = count + 1
        self.ready = [node for node in roots if node not in deps]

    def plan_pruning(self, roots: list) -> None:
        """``autograd.grad`` (and ``backward(inputs=...)``): find the reached nodes from which
        no asked-for tensor can be reached.  As in PyTorch they do not run: no backward
        computed for nothing, and what they saved is kept for a later backward."""
        Tensor = _function.Tensor
        leaves, outputs = self.capture_leaf, self.capture_node
        wanted: dict = {}  # node -> whether an asked-for tensor lies below it (None: pending)
        for root in roots:
            stack = [root]
            while stack:
                node = stack[-1]
                if node not in wanted:
                    wanted[node] = None
                    stack.extend(target for target in _edge_nodes(node, Tensor) if target not in wanted)
                    continue
                stack.pop()
                if wanted[node] is not None:
                    continue
                found = False
                for edge in node.edges:
                    if edge is None:
                        continue
                    if isinstance(edge, Tensor):
                        found = id(edge) in leaves
                    else:
                        target, nr = edge if type(edge) is tuple else (edge, 0)
                        found = (target, nr) in outputs or bool(wanted.get(target))
                    if found:
                        break
                wanted[node] = found
        self.idle = {node for node, found in wanted.items() if not found}

    # -- the walk ----------------------------------------------------------------------
    def walk(self) -> None:
        """Pass 2: every node once all its gradients have come, in reverse topological order."""
        Tensor = _function.Tensor
        grads, deps, ready = self.grads, self.deps, self.ready
        create_graph, release = self.create_graph, not self.retain_graph
        watched = bool(self.capture_node or self.observers or anomaly.enabled or self.idle)
        idle = self.idle
        carried = carried_grad = None  # a node whose whole gradient the last node produced
        while True:
            if carried is not None:
                node, grad, carried = carried, carried_grad, None
            elif ready:
                node = ready.pop()
                grad = grads.pop(node, None)
            else:
                return
            slow = watched or node._hooked or type(grad) is list
            if slow:
                if idle and node in idle:  # not run: only the captured outputs' own hooks are called
                    if self.capture_node:
                        self.capture_idle(node, grad)
                    self.pass_over(node)
                    continue
                grad = self.before_node(node, grad)
            others = node.other_edges
            if others is PAIR:
                edges = (node.first_edge, node.second_edge)
            else:  # (a constant's edge is None: ONE_CONSTANT adds nothing to walk)
                edges = (node.first_edge,) + others if others and others is not ONE_CONSTANT else (node.first_edge,)
            if grad is None:
                input_grads = (None,) * len(edges)
            else:
                input_grads = node.apply_backward(grad, create_graph)
                if slow:
                    input_grads = self.after_node(node, grad, input_grads)
            if release and node.saved:
                node.saved = node.inputs = node.output = None  # Op.release, inlined
            for edge, g in zip(edges, input_grads):
                if edge is None:
                    continue
                if isinstance(edge, Tensor):
                    self.to_leaf(edge, g)
                elif carried is None and type(edge) is not tuple and edge.n_outputs == 1 \
                        and deps[edge] == 1 and edge not in grads:
                    del deps[edge]  # its last gradient, and the only one: run it next
                    carried, carried_grad = edge, g
                else:
                    self.to_node(edge, g)

    def pass_over(self, node: Node) -> None:
        """An idle node (see :meth:`plan_pruning`): not run, nothing freed; the nodes below
        it are told that no gradient comes from it, so that the walk goes on."""
        Tensor = _function.Tensor
        for edge in node.edges:
            if edge is None:
                continue
            if isinstance(edge, Tensor):
                self.to_leaf(edge, None)
            else:
                self.to_node(edge, None)

    def to_node(self, edge: Any, g: Any) -> None:
        """A gradient for a node's input edge: summed with the others for that node (per
        output for a node with several), and the node made ready once all have come."""
        if type(edge) is tuple:
            target, nr = edge
        else:
            target, nr = edge, 0
        if g is not None:
            grads = self.grads
            if target.n_outputs == 1:
                previous = grads.get(target)
                grads[target] = g if previous is None else previous + g
            else:
                buffer = grads.get(target)
                if buffer is None:
                    buffer = grads[target] = [None] * target.n_outputs
                buffer[nr] = g if buffer[nr] is None else buffer[nr] + g
        count = self.deps[target] - 1
        if count:
            self.deps[target] = count
        else:
            del self.deps[target]
            self.ready.append(target)

    def to_leaf(self, leaf: Any, g: Any) -> None:
        """A gradient for a leaf: summed into its ``.grad`` on the fast path; through its
        hooks (once all its gradients have come) or into ``autograd.grad``'s results else."""
        if self.hooked_leaves and id(leaf) in self.hooked_leaves:
            self.gather_leaf(leaf, g)
        elif g is None:
            return
        elif self.fast_leaves and leaf._hooks is None:
            existing = leaf._grad
            if (existing is not None and type(g) is _ndarray and existing.grad_fn is None
                    and not existing._rg and not existing.is_sparse and g.shape == existing._data.shape):
                existing._data += g
            else:
                # The leaf may keep this very array as its .grad (and add into it later) only
                # if nothing but the walk holds it: not a gradient that also goes to another
                # input, nor a caller's seed.
                owned = getrefcount(g) <= _UNSHARED
                _accumulate(leaf, g, False, self.handed, owned)
        else:
            self.deliver_leaf(leaf, g)

    def gather_leaf(self, leaf: Any, g: Any) -> None:
        """One of the gradients for a leaf with hooks: summed until the last has come, then
        delivered (hooks, then accumulation) once."""
        key = id(leaf)
        sums = self.leaf_sums
        if g is not None:
            sums[key] = g if key not in sums else sums[key] + g
        left = self.hooked_leaves[key] - 1
        if left:
            self.hooked_leaves[key] = left
            return
        del self.hooked_leaves[key]
        total = sums.pop(key, None)
        if total is not None:
            self.deliver_leaf(leaf, total)

    def deliver_leaf(self, leaf: Any, grad: Any) -> None:
        """A leaf's whole gradient: its hooks, then accumulation (or capture)."""
        if self.captured is not None and id(leaf) not in self.capture_leaf:
            return  # autograd.grad: a leaf it was not asked for is left alone, hooks too
        if type(grad) is SparseRows and (leaf._hooks or self.captured is not None):
            grad = grad.dense()  # hooks and autograd.grad see the dense gradient
        if leaf._hooks and not self.dry:
            grad = _run_hooks(leaf._hooks, grad, self.create_graph)
        if self.captured is not None:
            index = self.capture_leaf[id(leaf)]
            previous = self.captured[index]
            self.captured[index] = grad if previous is None else previous + grad
            return
        if not self.accumulate:
            return
        _accumulate(leaf, grad, self.create_graph, self.handed)
        if leaf._post_accumulate_hooks:
            for hook in list(leaf._post_accumulate_hooks):
                if hook(leaf) is not None:
                    raise RuntimeError("Tensor post accumulate grad hooks should return None.")

    def before_node(self, node: Node, grad: Any) -> Any:
        """Before a node's backward: its tensor and pre hooks, and capture of its outputs'
        gradients; several outputs' gradients become a tuple (None if none came)."""
        for starter in self.starters:
            starter(node)
        if node._hooked and not self.dry and grad is not None:
            grad = _run_pre_hooks(node, grad, self.create_graph)
        if self.capture_node:
            self.capture_outputs(node, grad)
        if type(grad) is list:
            grad = None if all(g is None for g in grad) else tuple(grad)
        return grad

    def after_node(self, node: Node, grad: Any, input_grads: tuple) -> tuple:
        """After a node's backward: anomaly checks, its post hooks, observers."""
        if anomaly.enabled:
            on_backward(node, input_grads)
        if node._hooked and not self.dry:
            if node._post_hooks is not None:
                input_grads = _run_post_hooks(node, input_grads, grad, self.create_graph)
            watchers = node.__dict__.get("_observers")
            if watchers:
                for watcher in list(watchers):
                    watcher(node, _as_tuple(node, grad), input_grads)
        for observer in self.observers:
            observer(node, _as_tuple(node, grad), input_grads)
        return input_grads

    def capture_idle(self, node: Node, grad: Any) -> None:
        """The captured outputs of a node that does not run: each one's gradient through that
        tensor's own hooks (``retain_grad`` among them), as PyTorch's capture hooks; the node's
        other hooks are not called."""
        hooks = node._tensor_hooks if node._hooked and not self.dry else None
        for nr in range(node.n_outputs):
            index = self.capture_node.get((node, nr))
            if index is None:
                continue
            g = grad if node.n_outputs == 1 else (grad[nr] if grad is not None else None)
            if g is None:
                continue
            if hooks and nr in hooks:
                g = _run_hooks(hooks[nr], g, self.create_graph)
            previous = self.captured[index]
            self.captured[index] = g if previous is None else previous + g

    def capture_outputs(self, node: Node, grad: Any) -> None:
        for nr in range(node.n_outputs):
            index = self.capture_node.get((node, nr))
            if index is None:
                continue
            g = grad if node.n_outputs == 1 else (grad[nr] if grad is not None else None)
            if g is not None:
                previous = self.captured[index]
                self.captured[index] = g if previous is None else previous + g

    # -- after the walk ----------------------------------------------------------------
    def results(self, allow_unused: bool) -> list:
        """``autograd.grad``'s answer: the captured gradients as tensors, in input order."""
        Tensor = _function.Tensor
        captured = self.captured
        for i, first in self.duplicates:
            captured[i] = captured[first]
        if not allow_unused:
            for i, g in enumerate(captured):
                if g is None:
                    raise RuntimeError(
                        f"One of the differentiated Tensors (input {i}) appears to not have "
                        f"been used in the graph. Set allow_unused=True if this is the desired "
                        f"behavior."
                    )
        return [g if g is None or isinstance(g, Tensor) else Tensor._wrap(g) for g in captured]


def run_backward(
    roots: Sequence[Any],
    grad_roots: Sequence[Any],
    retain_graph: bool,
    create_graph: bool,
    capture: Sequence[Any] | None = None,
    accumulate: bool = True,
    allow_unused: bool = True,
    observer: Callable | None = None,
) -> list | None:
    """Backpropagate ``grad_roots`` from ``roots`` (Tensors).

    With ``accumulate`` the gradients of leaves are summed into their ``.grad``; with
    ``capture`` (a list of tensors) the gradients reaching those tensors are returned
    instead (``autograd.grad``), and only they are touched.  With ``observer`` the pass is a
    dry run: ``observer(node, grad_outputs, grad_inputs)`` sees every node's gradients and no
    hook or other observer runs.
    """
    if (capture is None and accumulate and not create_graph and observer is None and len(roots) == 1
            and not observe.backward and not anomaly.enabled
            and _one_node_backward(roots[0], grad_roots[0], retain_graph)):
        return None
    backward_pass = _Backward(retain_graph, create_graph, capture, accumulate, observer)
    root_nodes = backward_pass.seed(roots, grad_roots)
    backward_pass.count_dependencies(root_nodes)
    if capture is not None:
        backward_pass.plan_pruning(root_nodes)
    backward_pass.deliver_leaf_roots()
    previous_mode, previous_retain = grad_state.enabled, task.retain_graph
    grad_state.enabled = create_graph
    task.retain_graph = retain_graph or create_graph
    # The walk creates no reference cycles (nodes only point towards the leaves), so the
    # cyclic collector has nothing to find here; pausing it saves its repeated scans of a
    # large live graph.  Like PyTorch, a backward that meets inf/NaN propagates them without
    # warnings (detect_anomaly is the tool that reports them).
    collecting = gc.isenabled()
    gc.disable()
    errors = fp_errors.ignore(fp_errors.EVERYTHING)
    try:
        backward_pass.walk()
    finally:
        fp_errors.restore(errors)
        grad_state.enabled = previous_mode
        task.retain_graph = previous_retain
        if collecting:
            gc.enable()
    if backward_pass.captured is not None:
        return backward_pass.results(allow_unused)
    return None


def _one_node_backward(root: Any, grad: Any, retain_graph: bool) -> bool:
    """A graph of one node whose inputs are all leaves without hooks (a compiled region with
    its loss inside): the node's backward and the leaves' accumulation, without the walk's
    bookkeeping (dependency counts, ready queue), which is a fifth of such a backward.  Does
    nothing and returns False for any other graph."""
    node = root.grad_fn
    if node is None or node._hooked or node.n_outputs != 1:
        return False
    others = node.other_edges
    if others is PAIR:
        edges = (node.first_edge, node.second_edge)
    else:
        edges = (node.first_edge,) + others if others and others is not ONE_CONSTANT else (node.first_edge,)
    Tensor = _function.Tensor
    for edge in edges:
        if edge is not None and (not isinstance(edge, Tensor) or edge._hooks is not None):
            return False
    backward_pass = _Backward(retain_graph, False, None, True, None)
    if not retain_graph:
        node.output = None
    previous_mode, previous_retain = grad_state.enabled, task.retain_graph
    grad_state.enabled = False
    task.retain_graph = retain_graph
    errors = fp_errors.ignore(fp_errors.EVERYTHING)
    try:
        input_grads = node.apply_backward(_as_grad_array(grad), False)
    finally:
        fp_errors.restore(errors)
        grad_state.enabled = previous_mode
        task.retain_graph = previous_retain
    if not retain_graph and node.saved:
        node.saved = node.inputs = node.output = None  # Op.release, inlined
    for edge, g in zip(edges, input_grads):
        if edge is None:
            continue
        backward_pass.to_leaf(edge, g)  # (called as the walk calls it: see _unshared_reference_count)
    return True


# -- helpers ----------------------------------------------------------------------------------


def _edge_nodes(node: Node, tensor_type: type) -> list:
    """The nodes ``node``'s edges point at (not leaves)."""
    found = []
    for edge in node.edges:
        if edge is None or isinstance(edge, tensor_type):
            continue
        found.append(edge[0] if type(edge) is tuple else edge)
    return found


def _no_grad_error(tensor: Any) -> RuntimeError:
    reason = ""
    base = tensor._cut
    if base:
        reason = f" The graph was cut at {base}."
    return RuntimeError(
        "element 0 of tensors does not require grad and does not have a grad_fn." + reason
    )


def _as_grad_array(grad: Any) -> Any:
    return grad._data if isinstance(grad, _function.Tensor) else grad


def _as_tuple(node: Node, grad: Any) -> tuple:
    return (grad,) if node.n_outputs == 1 else tuple(grad) if grad is not None else (None,) * node.n_outputs


def _wrap(items: Iterable) -> tuple:
    Tensor = _function.Tensor
    return tuple(None if g is None else (g if isinstance(g, Tensor) else Tensor._wrap(g)) for g in items)


def _run_hooks(hooks: list, grad: Any, create_graph: bool) -> Any:
    """``hook(grad)`` for each tensor hook in turn; a hook may return a replacement."""
    Tensor = _function.Tensor
    for hook in list(hooks):
        given = grad if isinstance(grad, Tensor) else Tensor._wrap(grad)
        result = hook(given)
        if result is not None:
            _check_hook_result(hook, given, result)
            grad = result if create_graph else _as_grad_array(result)
    return grad


def _check_hook_result(hook: Callable, given: Any, result: Any) -> None:
    """PyTorch's checks of what a tensor hook returned: a tensor of the same size and type."""
    name = getattr(hook, "__name__", type(hook).__name__)
    if not isinstance(result, _function.Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type(result).__name__}'")
    if tuple(result.shape) != tuple(given.shape):
        raise RuntimeError(f"hook '{name}' has changed the size of value")
    if result.dtype != given.dtype:
        raise RuntimeError(f"hook '{name}' has changed the type of value (was {given.type()} got {result.type()})")


def _run_pre_hooks(node: Node, grad: Any, create_graph: bool) -> Any:
    tensor_hooks = node._tensor_hooks
    single = node.n_outputs == 1
    if tensor_hooks:
        for nr, hooks in list(tensor_hooks.items()):
            g = grad if single else grad[nr]
            if g is not None:
                g = _run_hooks(hooks, g, create_graph)
                if single:
                    grad = g
                else:
                    grad[nr] = g
    if node._pre_hooks:
        wrapped = _wrap((grad,) if single else grad)
        for hook in list(node._pre_hooks):
            result = hook(wrapped)
            if result is not None:
                wrapped = tuple(result)
        unwrapped = [None if g is None else (g if create_graph else _as_grad_array(g)) for g in wrapped]
        grad = unwrapped[0] if single else unwrapped
    return grad


def _run_post_hooks(node: Node, input_grads: tuple, grad: Any, create_graph: bool) -> tuple:
    """``hook(grad_inputs, grad_outputs)`` for each post hook; a hook that returns new
    ``grad_inputs`` replaces them, as in PyTorch."""
    outputs = _wrap((grad,) if node.n_outputs == 1 else grad)
    # The hooks see PyTorch's inputs of the node, in its order (addmm: bias, input, weight).
    positions = tuple(node.presented_indices())
    inputs = _wrap(input_grads[i] if i < len(input_grads) else None for i in positions)
    replaced = False
    for hook in list(node._post_hooks):
        result = hook(inputs, outputs)
        if result is not None:
            result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
            if len(result) != len(inputs):
                raise RuntimeError(
                    f"hook '{getattr(hook, '__name__', hook)}' has returned an incorrect number of values "
                    f"(got {len(result)}, but expected {len(inputs)})")
            inputs, replaced = result, True
    if not replaced:
        return input_grads
    grads = list(input_grads) + [None] * (len(node.edges) - len(input_grads))
    for i, g in zip(positions, inputs):
        grads[i] = None if g is None else (g if create_graph else _as_grad_array(g))
    return tuple(grads)


def _accumulate(leaf: Any, grad: Any, create_graph: bool, handed: set, owned: bool = False) -> None:
    """Sum ``grad`` into ``leaf.grad``; keep ``grad`` itself as the new ``.grad`` only when it
    is ``owned`` (referenced nowhere else) and no other leaf has it."""
    Tensor = _function.Tensor
    if type(grad) is SparseRows:
        _accumulate_rows(leaf, grad)
        return
    if isinstance(grad, Tensor):
        if grad._data.dtype != leaf._data.dtype:  # gradients take the leaf's dtype, as in PyTorch
            if grad._data.dtype.kind == "c" and leaf._data.dtype.kind != "c":
                grad = grad.real  # (a real leaf of a complex computation: the real part, as PyTorch's)
            grad = grad.to(leaf.dtype)
        if leaf.grad is None:
            # A gradient with a graph is kept (a later plain backward adds to it out of place);
            # a constant one (a caller's seed, a broadcast view) is copied: later accumulation
            # adds into .grad in place.
            keep = create_graph and grad.requires_grad
            leaf.grad = grad if keep else Tensor._wrap(grad._data.copy())
        else:
            leaf.grad = leaf.grad + grad
        return
    if type(grad) is not _ndarray:
        if isinstance(grad, np.generic):  # a scalar: an array where the leaf is
            grad = get_array_module(leaf._data).asarray(grad)
        elif type(leaf._data) is _ndarray:  # a 0-d CPU tensor used on a device: its gradient comes home
            grad = to_numpy(grad)
    if grad.shape != leaf._data.shape:
        raise RuntimeError(
            f"Function returned an invalid gradient: got shape {tuple(grad.shape)} for a "
            f"tensor of shape {tuple(leaf._data.shape)}"
        )
    if grad.dtype != leaf._data.dtype:
        if grad.dtype.kind == "c" and leaf._data.dtype.kind != "c":
            grad = grad.real
        grad = grad.astype(leaf._data.dtype)
    existing = leaf._grad
    if existing is None:
        flags = grad.flags  # a device array's flags (CuPy's) have no ``writeable``
        if not owned or id(grad) in handed or not flags.owndata or not getattr(flags, "writeable", True):
            grad = grad.copy()
        handed.add(id(grad))
        leaf._grad = Tensor._wrap(grad)  # shape and dtype checked above
    elif existing.is_sparse:
        leaf.grad = Tensor._wrap(grad) + existing  # dense + sparse: dense, as PyTorch's
    elif existing.requires_grad or create_graph:
        leaf.grad = existing + Tensor._wrap(grad)
    else:
        existing._data += grad


def _accumulate_rows(leaf: Any, grad: SparseRows) -> None:
    """A sparse gradient into ``leaf.grad``, as PyTorch's AccumulateGrad: kept sparse (the
    rows of both when ``.grad`` is sparse already), added into a dense ``.grad``."""
    existing = leaf._grad
    if existing is None:
        leaf._grad = grad.to_tensor(grad)
    elif existing.is_sparse:
        leaf._grad = existing + grad.to_tensor(grad)
    elif existing.requires_grad:
        leaf.grad = existing + _function.Tensor._wrap(grad.dense())
    else:
        existing._data += grad.dense()


# -- the public entry points -------------------------------------------------------------------


def backward(
    tensors: Any,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Any = None,
) -> None:
    """``chainrule.autograd.backward``: sum the gradients of ``tensors`` into the leaves."""
    Tensor = _function.Tensor
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if not observe.passes:
        return _backward(tensors, grad_tensors, retain_graph, create_graph, inputs)
    try:
        _backward(tensors, grad_tensors, retain_graph, create_graph, inputs)
    except BaseException as error:
        observe.notify_pass(tensors, error)
        raise
    observe.notify_pass(tensors, None)


def _backward(tensors: list, grad_tensors: Any, retain_graph: bool | None, create_graph: bool,
              inputs: Any) -> None:
    Tensor = _function.Tensor
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    elif isinstance(grad_tensors, Tensor) or not isinstance(grad_tensors, (list, tuple)):
        grad_tensors = [grad_tensors]
    grads = _make_grads(tensors, grad_tensors, create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        if not inputs:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
        found = run_backward(tensors, grads, retain_graph, create_graph, capture=inputs,
                             accumulate=False)
        for t, g in zip(inputs, found):
            if g is None or (t.grad_fn is not None and t._retains_grad):
                continue  # (a retained non-leaf got its gradient from its retain hook already)
            _accumulate(t, g if create_graph else g._data, create_graph, set())
        return
    run_backward(tensors, grads, retain_graph, create_graph)


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: bool | None = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
) -> tuple:
    """``chainrule.autograd.grad``: the gradients of ``outputs`` with respect to ``inputs``,
    returned instead of accumulated into ``.grad``."""
    Tensor = _function.Tensor
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not require grad")
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    if is_grads_batched:
        return _batched_grad(outputs, inputs, list(grad_outputs), retain_graph, create_graph,
                             allow_unused, materialize_grads)
    grads = _make_grads(outputs, list(grad_outputs), create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    result = run_backward(outputs, grads, retain_graph, create_graph, capture=inputs,
                          accumulate=False, allow_unused=allow_unused)
    if materialize_grads:
        result = [Tensor._wrap(t._data * 0) if g is None else g for g, t in zip(result, inputs)]
    return tuple(result)


def _batched_grad(outputs: list, inputs: list, grad_outputs: list, retain_graph: Any,
                  create_graph: bool, allow_unused: Any, materialize_grads: bool) -> tuple:
    """``grad(..., is_grads_batched=True)``: the first dim of each ``grad_outputs`` is a batch
    of upstream gradients; one backward per entry (PyTorch vectorises this with vmap), the
    results stacked along a new first dim."""
    if any(g is None for g in grad_outputs):
        raise RuntimeError("grad_outputs must be given (batched) when is_grads_batched=True")
    count = grad_outputs[0].shape[0]
    rows = []
    for i in range(count):
        keep = True if i < count - 1 else retain_graph
        rows.append(grad(outputs, inputs, [g[i] for g in grad_outputs], retain_graph=keep,
                         create_graph=create_graph, allow_unused=allow_unused,
                         materialize_grads=materialize_grads))
    stack = _function.tensor_namespace().stack
    return tuple(None if row[0] is None else stack(list(row)) for row in zip(*rows))


def _make_grads(tensors: list, grad_tensors: list, create_graph: bool) -> list:
    Tensor = _function.Tensor
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(
            f"grad_tensors should have the same length as tensors: got {len(grad_tensors)} "
            f"gradients for {len(tensors)} tensors"
        )
    out = []
    for t, g in zip(tensors, grad_tensors):
        if not t.requires_grad:
            raise _no_grad_error(t)
        if g is None:
            if t._data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs (got a tensor of "
                    f"shape {tuple(t._data.shape)}); pass gradient= with that shape"
                )
            if t._data.dtype.kind not in "fcV":
                raise RuntimeError(
                    f"grad can be implicitly created only for real scalar outputs but got {t.dtype}"
                )
            data = t._data
            # (np.ones, not np.ones_like: a one-element seed has no layout to keep, and
            # ones_like's Python wrapper takes twice as long: 1.2 against 0.6 us)
            out.append(np.ones(data.shape, data.dtype) if type(data) is _ndarray
                       else get_array_module(data).ones_like(data))
        else:
            if not isinstance(g, Tensor):
                g = Tensor._wrap(get_array_module(t._data).asarray(g, dtype=t._data.dtype))
            if tuple(g.shape) != tuple(t.shape):
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[0] has a shape of {tuple(g.shape)} and "
                    f"output[0] has a shape of {tuple(t.shape)}."
                )
            out.append(g if create_graph else g._data)
    return out
