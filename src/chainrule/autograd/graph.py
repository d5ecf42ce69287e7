"""The recorded graph, for tools that read it: ``chainrule.autograd.graph``.

A forward with grad mode on records one :class:`Node` per op.  This module is the one way
tools (``chainrule.viz``, the command line, a debugger, a graph capture) look at that graph
without depending on how nodes store it:

* walk it: :func:`walk` (every node from a root, consumers first), :func:`inputs` (where
  each argument of a node came from, as :class:`Edge`), :func:`get_gradient_edge`;
* read what a node kept from its forward: :func:`kept_output`, :func:`kept_arguments`, and
  whether a value changed in place since (:func:`changed_since`);
* run pieces of it again: :func:`recompute` (an op's forward on other values),
  :func:`local_backward` (a node's backward on a gradient of your choosing), and
  :func:`backward_gradients` (a whole backward that touches nothing and reports the
  gradient on every edge);
* watch it: :func:`on_record` (every node as it is recorded), :func:`on_backward` (every
  node's gradients in every backward; with ``before``, also just before each node, which
  is how ``chainrule.profiler`` times it), :func:`watch` (one node's, in later backwards),
  :func:`on_backward_call` (each ``backward()`` call as a whole), :func:`on_cut` (every place
  a value that needs a gradient leaves the graph: ``.detach()``, ``.data``, ``.item()``, an
  op under no_grad or without a derivative ...) and :func:`cut_of` (where a tensor's history
  was cut), :func:`on_grad_read` (code reading ``tensor.grad``);
* capture it (``chainrule.compiler``): :func:`on_apply` (every op as it runs, recorded or
  not; with ``before``, also just before its forward), :func:`on_read` (values read into Python), :func:`on_inplace` (in-place changes),
  :func:`detached` and :func:`replay` (an op's copy whose forward and backward run again on
  other arrays),
  :func:`value` and :func:`version` (a tensor's array and version), and :func:`record`
  (one node standing for a whole region).

PyTorch's names live here too: ``Node``, ``GradientEdge``, ``get_gradient_edge``,
``increment_version``, and the hooks on saved values (``saved_tensors_hooks``, ``save_on_cpu``,
``disable_saved_tensors_hooks``: see :mod:`.saved_hooks`).

>>> y = (x * w).sum()
>>> [graph.op_name(n) for n in graph.walk(y)]
['Sum', 'Mul']
"""
from __future__ import annotations

import copy
import inspect
from typing import Any, Callable, Iterator, NamedTuple

import numpy as np

from . import function as _function
from . import observe
from .engine import run_backward, task
from .function import Function, Op, _output_array
from .node import Node, pytorch_edge, split_edge
from .region import CompiledFunctionBackward, record
from .saved_hooks import disable_saved_tensors_hooks, save_on_cpu, saved_tensors_hooks
from .versions import changed_since as _array_changed_since

__all__ = [
    "Node", "GradientEdge", "get_gradient_edge", "increment_version", "Edge", "inputs", "walk",
    "op_name", "derivative_formulas", "is_elementwise", "kept_output", "kept_arguments",
    "changed_since", "recompute", "local_backward", "backward_gradients", "GraphFreed",
    "on_record", "on_backward", "watch", "Handle", "on_backward_call", "on_cut", "cut_of", "on_grad_read",
    "CUT_KINDS", "on_apply", "on_read", "on_inplace",
    "InplaceChange", "has_hooks", "detached", "replay", "value", "version", "record", "retaining",
    "CompiledFunctionBackward", "saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks",
]


class InplaceChange(NamedTuple):
    """What an in-place change through ``chainrule.inplace.apply_inplace`` does: ``op(tensor,
    *args, **kwargs)`` written into the tensor, or (unrecorded, when given) ``kernel(array,
    *arrays, **kwargs)`` on its array.  Passing the four back to ``apply_inplace`` repeats it."""

    op: Any
    args: tuple
    kwargs: dict
    kernel: Any


class GradientEdge(NamedTuple):
    """PyTorch's ``torch.autograd.graph.GradientEdge``: a node and one of its outputs."""

    node: Any
    output_nr: int


class Edge(NamedTuple):
    """Where one argument of a node came from: output ``output_nr`` of ``node``, or the leaf
    tensor ``leaf`` (``node`` is None then)."""

    node: Any
    output_nr: int
    leaf: Any

    @property
    def is_leaf(self) -> bool:
        return self.node is None


class GraphFreed(RuntimeError):
    """The saved values of the graph were freed by a backward without retain_graph."""


class Handle:
    """Returned by the ``on_*``/``watch`` registrations; ``remove()`` unregisters (also as a
    context manager)."""

    def __init__(self, remove: Callable[[], None]) -> None:
        self._remove = remove

    def remove(self) -> None:
        self._remove()

    def __enter__(self) -> "Handle":
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


# -- walking -------------------------------------------------------------------------------------


def get_gradient_edge(tensor: Any) -> GradientEdge:
    """The edge a gradient for ``tensor`` flows along: its node and output index (for a leaf
    that requires grad, its AccumulateGrad node), as PyTorch's."""
    if tensor.grad_fn is None:
        if not tensor.requires_grad:
            raise RuntimeError("It is not possible to get the gradient edge for a Tensor that does not require gradients")
        return GradientEdge(pytorch_edge(tensor)[0], 0)
    return GradientEdge(tensor.grad_fn, tensor.output_nr)


def tensor_edge(tensor: Any) -> Edge | None:
    """The edge an op taking ``tensor`` as an argument records (None: it needs no gradient)."""
    if tensor.grad_fn is not None:
        return Edge(tensor.grad_fn, tensor.output_nr, None)
    return Edge(None, 0, tensor) if tensor.requires_grad else None


def inputs(node: Any) -> tuple:
    """One entry per argument of ``node``'s op: an :class:`Edge`, or None for an argument that
    needs no gradient (a constant, a number, an option)."""
    out = []
    for edge in node.edges:
        target, nr = split_edge(edge)
        if target is None:
            out.append(None)
        elif isinstance(target, Node):
            out.append(Edge(target, nr, None))
        else:
            out.append(Edge(None, 0, target))
    return tuple(out)


def walk(root: Any) -> list:
    """The nodes reachable from ``root`` (a tensor or a node), consumers before what they
    consume (reverse topological order: the order backward visits them), without recursion."""
    root_node = getattr(root, "grad_fn", root) if not isinstance(root, Node) else root
    if root_node is None:
        return []
    order: list = []
    seen = {root_node}
    stack: list = [(root_node, iter(inputs(root_node)))]
    while stack:
        node, edges = stack[-1]
        for edge in edges:
            if edge is not None and edge.node is not None and edge.node not in seen:
                seen.add(edge.node)
                stack.append((edge.node, iter(inputs(edge.node))))
                break
        else:
            stack.pop()
            order.append(node)
    order.reverse()
    return order


def iter_leaves(root: Any) -> Iterator[Any]:
    """The leaf tensors that requires grad reachable from ``root``, each once."""
    seen: set = set()
    for node in walk(root):
        for edge in inputs(node):
            if edge is not None and edge.is_leaf and id(edge.leaf) not in seen:
                seen.add(id(edge.leaf))
                yield edge.leaf


# -- what a node is ---------------------------------------------------------------------------


def op_name(node: Any) -> str:
    """The op as chainrule names it (``Matmul`` where PyTorch's node is ``MvBackward0``; a
    Function's class name)."""
    if isinstance(node, Op):
        cls = type(node)
        return cls.display_name or cls.op_name
    name = node.name()
    return name[:-len("Backward")] if name.endswith("Backward") else name


def derivative_formulas(node: Any) -> tuple:
    """The op's readable local derivatives, one per argument (``("d(a*b)/da = b", ...)``);
    empty for a node without them (a custom Function)."""
    return tuple(type(node).derivative)


def is_elementwise(node: Any) -> bool:
    """Whether the op works element by element (its Jacobian is diagonal when no argument
    was broadcast)."""
    return bool(getattr(type(node), "elementwise", False))


def is_custom_function(node: Any) -> bool:
    """Whether ``node`` comes from a user's ``autograd.Function``."""
    return isinstance(node, Function)


# -- what a node kept -----------------------------------------------------------------------------


def changed_since(value: Any, node: Any) -> bool:
    """Whether ``value`` (a tensor or an array) was modified in place after ``node`` was
    recorded: a value ``node`` kept is then no longer what its forward saw."""
    array = getattr(value, "_data", value)
    epoch = getattr(node, "epoch", None)
    if not isinstance(array, np.ndarray) or epoch is None:
        return False
    return _array_changed_since(array, epoch)


def kept_output(node: Any) -> Any:
    """The output array ``node`` still holds from its forward, or None (not kept, freed by a
    backward, or changed in place since)."""
    output = getattr(node, "output", None) if isinstance(node, Op) else None
    if output is None or changed_since(output, node):
        return None
    return output


def kept_arguments(node: Any) -> dict:
    """``{argument index: value}`` for the arguments ``node`` kept from its forward (ops that
    save something keep all their arguments: arrays and options) and that have not changed
    in place since."""
    arguments = getattr(node, "inputs", None) if isinstance(node, Op) else None
    if not arguments:
        return {}
    return {i: a for i, a in enumerate(arguments) if not changed_since(a, node)}


def recompute(node: Any, arguments: list, kwargs: dict | None = None) -> np.ndarray:
    """The output of ``node``'s op run again on ``arguments`` (arrays and options, one per
    argument, as it was called) and ``kwargs``: a fresh forward that records nothing.

    Raises TypeError when the op cannot be called so (it takes arguments other than those
    it recorded)."""
    cls = type(node)
    if not isinstance(node, Op):
        raise TypeError(f"{node.name()} is not a chainrule op: its forward cannot be recomputed")
    if not kwargs and not _takes_exactly(cls, len(arguments)):
        raise TypeError(f"{node.name()}'s forward takes other arguments than the {len(arguments)} it recorded")
    fresh = cls.__new__(cls)
    fresh.saved = None
    with np.errstate(all="ignore"):
        return np.asarray(fresh.forward(np, *arguments, **(kwargs or {})))


def _takes_exactly(cls: type, count: int) -> bool:
    """Whether ``cls.forward(self, xp, ...)`` takes exactly ``count`` positional arguments."""
    parameters = list(inspect.signature(cls.forward).parameters.values())[2:]
    return len(parameters) == count and all(p.kind is p.POSITIONAL_OR_KEYWORD for p in parameters)


def local_backward(node: Any, grad_output: Any, output_nr: int = 0) -> tuple:
    """``node``'s backward on ``grad_output`` (an array for output ``output_nr``; the other
    outputs get none): one gradient per argument of its op (None where none flows).  Nothing
    is freed or accumulated."""
    if node.n_outputs == 1:
        grads = node.apply_backward(grad_output, False)
    else:
        upstream = [None] * node.n_outputs
        upstream[output_nr] = grad_output
        grads = node.apply_backward(tuple(upstream), False)
    return tuple(None if g is None else np.asarray(getattr(g, "_data", g)) for g in grads)


def backward_gradients(root: Any, seed: Any = None, observer: Callable | None = None) -> dict:
    """``{node: (grad_outputs, grad_inputs)}`` for one backward from the tensor ``root``
    (seeded with ``seed``, ones by default), as arrays, ``grad_inputs`` one per argument; in
    the order the engine ran the nodes.  ``root`` may be a list of tensors (``seed`` then a
    list too, or None).  With ``observer``, ``observer(node, grad_outputs, grad_inputs)`` is
    called for each node instead, and nothing is kept (an empty dict is returned).

    The backward runs with the graph retained and touches nothing: no ``.grad`` is written,
    no hook or other observer runs.  Raises :class:`GraphFreed` when an earlier backward
    freed the graph's saved values."""
    roots = list(root) if isinstance(root, (list, tuple)) else [root]
    seeds = list(seed) if isinstance(seed, (list, tuple)) else [seed] * len(roots)
    seeds = [np.ones_like(r._data) if s is None else s for r, s in zip(roots, seeds)]
    found: dict = {}

    def collect(node: Any, grad_outputs: tuple, grad_inputs: tuple) -> None:
        found[node] = (tuple(_copy(g) for g in grad_outputs), tuple(_copy(g) for g in grad_inputs))

    try:
        run_backward(roots, seeds, True, False, accumulate=False, observer=observer or collect)
    except RuntimeError as error:
        if _is_freed(error):
            raise GraphFreed("the graph's saved values were freed by backward(); call this before "
                             "backward(), or call backward(retain_graph=True)") from None
        raise
    return found


def _is_freed(error: BaseException) -> bool:
    return str(error).startswith("Trying to backward through the graph a second time")


def _copy(g: Any) -> Any:
    if g is None:
        return None
    return np.array(getattr(g, "_data", g), copy=True)


# -- watching --------------------------------------------------------------------------------------


def on_record(callback: Callable[[Any, tuple, dict, Any], None]) -> Handle:
    """Call ``callback(node, args, kwargs, output)`` each time an op records a node (``args``:
    the op's arguments as passed, tensors included; ``output``: the tensor it returns)."""
    return Handle(observe.add(observe.forward, callback))


def on_backward(callback: Callable[[Any, tuple, tuple], None],
                before: Callable[[Any], None] | None = None) -> Handle:
    """Call ``callback(node, grad_outputs, grad_inputs)`` after each node's backward in every
    backward (``grad_inputs``: one per argument of the op), and ``before(node)``, when given,
    just before it (a profiler times the node between the two)."""
    removers = [observe.add(observe.backward, callback)]
    if before is not None:
        removers.append(observe.add(observe.backward_starting, before))
    return Handle(lambda: [remove() for remove in removers])


def watch(node: Any, callback: Callable[[Any, tuple, tuple], None]) -> Handle:
    """Call ``callback(node, grad_outputs, grad_inputs)`` after ``node``'s backward, in each
    later backward through it (not in :func:`backward_gradients`'s dry runs)."""
    watchers = node.__dict__.setdefault("_observers", [])
    node._hooked = True
    return Handle(observe.add(watchers, callback))


def increment_version(tensor: Any) -> None:
    """Count an in-place change of ``tensor`` made behind autograd's back (on its array):
    nodes that saved it then refuse to run their backward, as after any in-place op."""
    tensor._version_counter().bump("an in-place change (increment_version)")


def on_backward_call(callback: Callable[[list, BaseException | None], None]) -> Handle:
    """Call ``callback(roots, error)`` after each ``backward()`` call (``tensor.backward()``,
    ``autograd.backward``): ``roots`` are the tensors it started from, ``error`` the
    exception it raised (which then propagates), or None."""
    return Handle(observe.add(observe.passes, callback))


#: What :func:`on_cut` reports, by ``kind``: how a value that needed a gradient left the graph.
CUT_KINDS = {
    "detach": ".detach()",
    "detach_": ".detach_()",
    "data": ".data",
    "item": ".item()",
    "tolist": ".tolist()",
    "numpy": ".numpy()",
    "tensor": "tensor(...) of a tensor",
    "no_grad": "an op under no_grad",
    "no_derivative": "an op without a derivative",
    "integer_cast": "a cast to an integer or bool dtype",
}


def on_cut(callback: Callable[[str, tuple, Any, Any], Any]) -> Handle:
    """Call ``callback(kind, sources, output, op)`` wherever a value that needs a gradient
    leaves the graph: ``kind`` is one of :data:`CUT_KINDS`, ``sources`` the tensors that
    needed one, ``output`` the tensor made without history (None for a Python value or a
    NumPy array), ``op`` the op's name for the op kinds (``"Argmax"``, the target dtype of a
    cast).  A str the callback returns becomes ``output``'s :func:`cut_of`, and that of
    every tensor computed from it alone."""
    return Handle(observe.add(observe.cuts, callback))


def cut_of(tensor: Any) -> str | None:
    """Where ``tensor``'s history was cut, as the error of a backward from it says (``"a
    .detach() call"``), or None: it has a history, or never had one."""
    return tensor._cut


def on_grad_read(callback: Callable[[Any, Any], None]) -> Handle:
    """Call ``callback(tensor, grad)`` each time code reads ``tensor.grad`` (chainrule's own
    reads included: look at the caller to tell them apart).  Reads cost nothing extra while
    no one watches them."""
    remove = observe.add(observe.grad_reads, callback)
    _read_grads_through_observers(True)

    def unregister() -> None:
        remove()
        if not observe.grad_reads:
            _read_grads_through_observers(False)

    return Handle(unregister)


_plain_grad: list = []  # Tensor's own ``grad`` property, while the observing one replaces it


def _read_grads_through_observers(on: bool) -> None:
    tensor_cls = _function.Tensor
    if on and not _plain_grad:
        plain = tensor_cls.__dict__["grad"]
        _plain_grad.append(plain)
        tensor_cls.grad = property(lambda t: observe.notify_grad_read(t, t._grad), plain.fset, doc=plain.__doc__)
    elif not on and _plain_grad:
        tensor_cls.grad = _plain_grad.pop()
# -- capturing -------------------------------------------------------------------------------------


def on_apply(callback: Callable[[Any, tuple, dict, Any], None],
             before: Callable[[type], None] | None = None) -> Handle:
    """Call ``callback(node, args, kwargs, output)`` after every op runs, recorded or not
    (``node`` is the op instance that ran the forward, with what it saved; ``output`` the
    tensor it returns, whose ``grad_fn`` is ``node`` when it was recorded), and
    ``before(op class)``, when given, just before its forward (a profiler times the op
    between the two).  Ops cost nothing extra while no one watches them."""
    removers = [observe.add(observe.forward, callback), observe.add(observe.unrecorded, callback)]
    if before is not None:
        removers.append(observe.add(observe.starting, before))
    return Handle(lambda: [remove() for remove in removers])


def on_read(callback: Callable[[Any, str], None]) -> Handle:
    """Call ``callback(tensor, how)`` when a tensor's values are read into Python: ``item()``
    (and ``float()``, ``int()``), ``bool()`` (an ``if`` on a tensor), ``tolist()``,
    ``numpy()``, conversion to a NumPy array, printing; and when a result is computed from
    them outside the ops (``nonzero``, ``unique``, ``equal`` ...; ``tensor`` None for a
    boolean-mask index, whose result's shape depends on the mask).  ``how`` names the read."""
    return Handle(observe.add(observe.read, callback))


def on_inplace(callback: Callable[[str, Any, str, Any], None]) -> Handle:
    """Call ``callback(stage, target, name, change)`` for in-place changes: ``stage`` is
    "begin" and "end" around a change made through ``chainrule.inplace.apply_inplace``
    (``target`` the tensor, ``name`` its method's name, ``change`` an :class:`InplaceChange`),
    "copy" in between when the change is recorded in the graph, or when a "begin" callback
    returned True (``target`` the copy of the tensor's old value that the op then reads;
    ``change`` None: the change runs as its op on that copy, never as its kernel), and
    "version" for every version bump of a storage, however made (``target`` the storage's
    array, None for a storage whose changes are not tracked; ``change`` None)."""
    return Handle(observe.add(observe.inplace, callback))


def has_hooks(node: Any) -> bool:
    """Whether ``node`` has hooks of any kind (node hooks, tensor hooks on its outputs,
    ``retain_grad``, :func:`watch` observers)."""
    return bool(node._hooked)


def detached(node: Any) -> Any:
    """A copy of ``node``'s op outside any graph, for running its forward and backward again
    on other arrays (the kernels of a captured plan): the same op and options; its arguments
    that needed a gradient still do (``needs_grad``), but it has no edges, hooks or saved
    values.  Call ``copy.forward(np, *arrays)`` (which sets ``copy.saved``) and then
    ``copy.backward(np, grad)``."""
    if not isinstance(node, Op):
        raise TypeError(f"{node.name()} is not a chainrule op: it cannot run again outside its graph")
    twin = copy.copy(node)
    twin.__dict__.clear()
    try:
        needed = node.edges
    except AttributeError:  # an op that ran without recording: no edges were set
        needed = (None,)
    twin.edges = tuple(None if edge is None else True for edge in needed)
    twin.saved = twin.inputs = twin.output = None
    return twin


def value(tensor: Any) -> Any:
    """The backend array holding ``tensor``'s values (no copy, nothing recorded, no read
    reported): for tools that compute on values outside the graph."""
    return tensor._data


def version(tensor: Any) -> int:
    """How many in-place changes ``tensor``'s storage has had (PyTorch's ``_version``)."""
    return tensor._version


def replay(node: Any, *arrays: Any, **kwargs: Any) -> Any:
    """``node``'s op forward run again on ``arrays`` (and ``kwargs``), ``node`` being a
    :func:`detached` copy (its ``saved`` is set anew); the output as ``Op.apply`` makes it (a
    NumPy scalar becomes a 0-d array).  Nothing is recorded."""
    out = node.forward(np, *arrays, **kwargs) if kwargs else node.forward(np, *arrays)
    return out if type(out) is np.ndarray else _output_array(node, out)


def retaining() -> bool:
    """Whether the backward running in this thread keeps the graph (``retain_graph``, or
    ``create_graph``); True outside any backward.  A node standing for many ops (a compiled
    region) frees what each saved as soon as it was used only when this is False."""
    return task.retain_graph
