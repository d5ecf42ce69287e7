"""Walking a recorded graph, through the public graph API (``chainrule.autograd.graph``): its
nodes in order, the gradient on every edge (from a backward that touches nothing), the forward
values that can still be known, names for tensors, and replaying the forward (for finite
differences)."""
from __future__ import annotations

import inspect
import os
from typing import Any, Callable

import numpy as np

from ..autograd import graph
from ..autograd.graph import GraphFreed
from ..tensor import Tensor
from .trace import record_of

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FREED_MESSAGE = ("the graph's saved values were freed by backward(); call this before "
                 "backward(), or call backward(retain_graph=True)")


def nodes_of(root: Any) -> list:
    """The nodes reachable from ``root`` (a tensor or a node), consumers first."""
    return graph.walk(root) if root is not None else []


def is_freed_error(error: BaseException) -> bool:
    """Whether ``error`` is the engine's "saved values were freed" error."""
    return isinstance(error, GraphFreed) or (
        isinstance(error, RuntimeError) and "backward through the graph a second time" in str(error))


def array_of(tensor: Any) -> np.ndarray:
    """A tensor's values as a NumPy array (on the host)."""
    return tensor.detach().cpu().numpy()


def edge_gradients(root: Any) -> dict:
    """``{node: (grad_outputs, grad_inputs)}`` for one backward from ``root`` that touches
    nothing (see ``graph.backward_gradients``)."""
    return graph.backward_gradients(root, np.ones_like(array_of(root)))


def forward_values(root: Any, nodes: list) -> dict:
    """``{node: output array}`` for the nodes whose forward value can still be known: recorded
    by ``trace``, the root itself, kept by the node, kept as an argument by a consumer, or
    recomputed from arguments that are all known."""
    values: dict = {}
    for node in nodes:
        record = record_of(node)
        if record is not None:
            values[node] = record.value
    if root.grad_fn is not None and root.grad_fn.n_outputs == 1:
        values.setdefault(root.grad_fn, array_of(root))
    for node in nodes:
        output = graph.kept_output(node)
        if isinstance(output, np.ndarray):
            values.setdefault(node, output)
    # An op that saved something kept its arguments: those not changed in place since are
    # the values of the nodes that made them.
    arguments: dict = {}
    for node in nodes:
        known = graph.kept_arguments(node)
        if not known:
            continue
        edges = graph.inputs(node)
        for index, array in known.items():
            edge = edges[index]
            if (edge is not None and not edge.is_leaf and edge.output_nr == 0 and edge.node.n_outputs == 1
                    and isinstance(array, np.ndarray)):
                values.setdefault(edge.node, array)
        arguments[node] = known
    # Recompute what is still missing from arguments that are all known, leaves first.
    for node in reversed(nodes):
        if node in values or node not in arguments:
            continue
        known = arguments[node]
        count = len(graph.inputs(node))
        if len(known) != count:
            continue
        try:
            values[node] = graph.recompute(node, [known[i] for i in range(count)])
        except Exception:  # a forward that needs more than its arguments: leave it unknown
            continue
    return values


class ReplayUnavailable(RuntimeError):
    """The forward cannot be replayed (part of the graph was not recorded by ``trace``)."""


def replay(root: Any, target: Callable[[Any], bool], value: Any, nodes: list) -> np.ndarray:
    """The root's value with the tensor picked by ``target`` replaced by ``value``: the
    recorded forward run again, in float64."""
    results: dict = {}
    for node in reversed(nodes):
        record = record_of(node)
        if record is None:
            raise ReplayUnavailable(f"{node.name()} was not recorded by chainrule.viz.trace()")
        arrays = [_replay_arg(arg, target, value, results) for arg in record.args]
        results[node] = graph.recompute(node, arrays, record.kwargs or None)
    if target(root):
        return np.asarray(value, dtype=np.float64)
    fn = root.grad_fn
    if fn is None:
        return _as64(array_of(root))
    return results[fn]


def _replay_arg(arg: Any, target: Callable, value: Any, results: dict) -> Any:
    if not isinstance(arg, Tensor):
        return arg
    if target(arg):
        return np.asarray(value, dtype=np.float64)
    fn = arg.grad_fn
    if fn is None:
        return _as64(array_of(arg))
    if fn not in results or arg.output_nr != 0:
        raise ReplayUnavailable(f"{fn.name()} was not recorded by chainrule.viz.trace()")
    return results[fn]


def _as64(array: Any) -> Any:
    array = np.asarray(array)
    return array.astype(np.float64) if array.dtype.kind == "f" else array


def caller_names() -> dict:
    """``{id(tensor): name}`` and ``{node: name}`` for the tensors bound to variables in the
    innermost calling frame outside chainrule (so a teaching example labels ``w`` as w)."""
    frame = inspect.currentframe().f_back
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back
    names: dict = {}
    if frame is None:
        return names
    for name, obj in list(frame.f_locals.items()):
        if name.startswith("_") or not isinstance(obj, Tensor):
            continue
        names.setdefault(id(obj), name)
        if obj.grad_fn is not None and obj.output_nr == 0:
            names.setdefault(obj.grad_fn, name)
    return names


def param_names(params: Any) -> dict:
    """``{id(tensor): name}`` from a dict, a Module (its named_parameters) or pairs."""
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        params = params.named_parameters()
    items = params.items() if isinstance(params, dict) else params
    return {id(tensor): str(name) for name, tensor in items}


def tensor_label(tensor: Any, names: dict) -> str | None:
    if tensor.name:
        return tensor.name
    return names.get(id(tensor))


def node_label(node: Any, names: dict) -> str | None:
    record = record_of(node)
    if record is not None and record.name:
        return record.name
    return names.get(node)


def fmt(value: Any, digits: int = 5) -> str:
    """A value for a label or a table: numbers plainly, small arrays in full, others by size."""
    if value is None:
        return "?"
    array = np.asarray(value)
    if array.size == 1:
        return fmt_number(array.reshape(()).item(), digits)
    if array.size <= 6:
        flat = ", ".join(fmt_number(x, digits) for x in array.reshape(-1).tolist())
        return f"[{flat}]"
    norm = float(np.sqrt(np.sum(np.square(array.astype(np.float64))))) if array.dtype.kind in "fc" else float("nan")
    shape = "×".join(str(n) for n in array.shape)
    return f"⟨{shape}⟩ ‖·‖={fmt_number(norm, 3)}"


def fmt_number(x: Any, digits: int = 5) -> str:
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    x = float(x)
    if x != x or x in (float("inf"), float("-inf")):
        return str(x)
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.{digits}g}"
