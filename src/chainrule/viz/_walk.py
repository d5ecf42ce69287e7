"""Walking a recorded graph: its nodes in order, the gradient on every edge (from a backward
that touches nothing), the forward values that can still be known, names for tensors, and
replaying the forward (for finite differences)."""
from __future__ import annotations

import os
import sys
from typing import Any, Callable

import numpy as np

from ..autograd.function import Node, Op, modified_storage, storage_root
from .trace import record_of

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class GraphFreed(RuntimeError):
    """The saved values of the graph were freed by a backward without retain_graph."""


def split_edge(edge: Any) -> tuple[Any, int]:
    """An entry of a node's ``edges`` as (target, output index): a node, a leaf tensor, or None."""
    if type(edge) is tuple:
        return edge[0], edge[1]
    return edge, 0


def is_node(obj: Any) -> bool:
    return isinstance(obj, Node)


def nodes_of(root_node: Any) -> list:
    """The nodes reachable from ``root_node``, in reverse topological order (consumers before
    what they consume), found without recursion."""
    if root_node is None:
        return []
    order: list = []
    seen = {root_node}
    stack: list = [(root_node, iter(root_node.edges))]
    while stack:
        node, edges = stack[-1]
        for edge in edges:
            target, _ = split_edge(edge)
            if is_node(target) and target not in seen:
                seen.add(target)
                stack.append((target, iter(target.edges)))
                break
        else:
            stack.pop()
            order.append(node)
    order.reverse()
    return order


def is_freed_error(error: BaseException) -> bool:
    """Whether ``error`` is the engine's "saved values were freed" error."""
    return isinstance(error, RuntimeError) and "backward through the graph a second time" in str(error)


FREED_MESSAGE = ("the graph's saved values were freed by backward(); call this before "
                 "backward(), or call backward(retain_graph=True)")


def edge_gradients(root: Any, nodes: list, seed: Any = None) -> dict:
    """``{node: (grad_outputs, grad_inputs)}`` for one backward from ``root``, as arrays.

    The backward runs through the engine with the graph retained, but touches nothing: no
    ``.grad`` is written and the user's hooks are held back while it runs."""
    from ..autograd.engine import run_backward

    if seed is None:
        seed = np.ones_like(root._data)
    found: dict = {}
    held: list = []
    handles: list = []
    leaves: list = []
    try:
        for node in nodes:
            held.append((node, node._pre_hooks, node._post_hooks, node._tensor_hooks))
            node._pre_hooks = node._post_hooks = node._tensor_hooks = None
            handles.append(node.register_hook(_collector(node, found)))
            for edge in node.edges:
                target, _ = split_edge(edge)
                if target is not None and not is_node(target) and target._hooks is not None:
                    leaves.append((target, target._hooks))
                    target._hooks = None
        run_backward([root], [seed], True, False, capture=[], accumulate=False)
    except RuntimeError as error:
        if is_freed_error(error):
            raise GraphFreed(FREED_MESSAGE) from None
        raise
    finally:
        for node, pre, post, tensor in held:
            node._pre_hooks, node._post_hooks, node._tensor_hooks = pre, post, tensor
        for leaf, hooks in leaves:
            leaf._hooks = hooks
    return found


def _collector(node: Any, found: dict) -> Callable:
    def hook(grad_inputs: tuple, grad_outputs: tuple) -> None:
        found[node] = (tuple(_array(g) for g in grad_outputs), tuple(_array(g) for g in grad_inputs))

    hook.all_arguments = True  # one gradient per argument of the op, not PyTorch's inputs
    return hook


def _array(g: Any) -> Any:
    if g is None:
        return None
    return np.array(getattr(g, "data", g), copy=True)


def forward_values(root: Any, nodes: list) -> dict:
    """``{node: output array}`` for the nodes whose forward value can still be known: recorded
    by ``trace``, the root itself, saved for backward (by the node or a consumer), or
    recomputed from inputs that are all known."""
    values: dict = {}
    for node in nodes:
        record = record_of(node)
        if record is not None:
            values[node] = record.value
    if root.grad_fn is not None and root.grad_fn.n_outputs == 1:
        values.setdefault(root.grad_fn, root._data)
    for node in nodes:
        output = getattr(node, "output", None)
        if isinstance(output, np.ndarray) and not _changed_since(output, node.epoch):
            values.setdefault(node, output)
    # An op that saved something kept its arguments (``inputs``): those not changed in place
    # since are the values of the nodes that made them.
    inputs: dict = {}
    for node in nodes:
        arguments = getattr(node, "inputs", None) if isinstance(node, Op) else None
        if not arguments:
            continue
        known = {}
        for index, array in enumerate(arguments):
            if isinstance(array, np.ndarray) and _changed_since(array, node.epoch):
                continue
            known[index] = array
            target, nr = split_edge(node.edges[index])
            if is_node(target) and nr == 0 and target.n_outputs == 1 and isinstance(array, np.ndarray):
                values.setdefault(target, array)
        inputs[node] = known
    # Recompute what is still missing from inputs that are all known, leaves first.
    for node in reversed(nodes):
        if node in values or node not in inputs:
            continue
        known = inputs[node]
        count = len(node.edges)
        if len(known) != count or not _positional_only(type(node), count):
            continue
        try:
            with np.errstate(all="ignore"):
                values[node] = fresh_forward(type(node), [known[i] for i in range(count)], {})
        except Exception:  # a forward that needs more than its arrays: leave it unknown
            continue
    return values


def _changed_since(array: Any, epoch: int) -> bool:
    """Whether ``array``'s storage was modified in place after the in-place epoch ``epoch``."""
    change = modified_storage.get(id(storage_root(array)))
    return change is not None and change[0] > epoch


def _positional_only(cls: type, count: int) -> bool:
    code = cls.forward.__code__
    return code.co_argcount == count + 2 and not code.co_kwonlyargcount and not (code.co_flags & 0x0C)


def fresh_forward(cls: type, arrays: list, kwargs: dict) -> Any:
    """Run an op's forward on a new node: the graph is left alone."""
    node = cls.__new__(cls)
    node.saved = None
    out = node.forward(np, *arrays, **kwargs)
    return np.asarray(out)


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
        arrays = []
        for arg in record.args:
            arrays.append(_replay_arg(arg, target, value, results))
        with np.errstate(all="ignore"):
            out = fresh_forward(type(node), arrays, record.kwargs)
        results[node] = out
    if target(root):
        return np.asarray(value, dtype=np.float64)
    fn = root.grad_fn
    if fn is None:
        return _as64(root._data)
    return results[fn]


def _replay_arg(arg: Any, target: Callable, value: Any, results: dict) -> Any:
    from ..tensor import Tensor

    if not isinstance(arg, Tensor):
        return arg
    if target(arg):
        return np.asarray(value, dtype=np.float64)
    fn = arg.grad_fn
    if fn is None:
        return _as64(arg._data)
    if fn not in results or arg._output_nr != 0:
        raise ReplayUnavailable(f"{fn.name()} was not recorded by chainrule.viz.trace()")
    return results[fn]


def _as64(array: Any) -> Any:
    array = np.asarray(array)
    return array.astype(np.float64) if array.dtype.kind == "f" else array


def caller_names() -> dict:
    """``{id(tensor): name}`` and ``{node: name}`` for the tensors bound to variables in the
    innermost calling frame outside chainrule (so a teaching example labels ``w`` as w)."""
    from ..tensor import Tensor

    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back
    names: dict = {}
    if frame is None:
        return names
    for name, obj in list(frame.f_locals.items()):
        if name.startswith("_") or not isinstance(obj, Tensor):
            continue
        names.setdefault(id(obj), name)
        if obj.grad_fn is not None and obj._output_nr == 0:
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
