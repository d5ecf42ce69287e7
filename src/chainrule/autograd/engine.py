"""The backward engine: the chain rule, applied node by node from the roots to the leaves.

One pass counts, for every node reachable from the roots, how many edges point at it; a
second pass walks the nodes in reverse topological order with an explicit stack (no
recursion, so a 1,000,000-op chain works at Python's default recursion limit), summing the
gradients that reach each node and calling its backward once they all have.  Each gradient
is dropped as soon as it has been passed on, and saved values are freed unless
``retain_graph``.
"""
from __future__ import annotations

import gc
from sys import getrefcount

from typing import Any, Callable, Iterable, Sequence

import numpy as np

from .function import Node
from .anomaly import on_backward, state as anomaly
from .grad_mode import grad_state

_ndarray = np.ndarray


from . import function as _function


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


def run_backward(
    roots: Sequence[Any],
    grad_roots: Sequence[Any],
    retain_graph: bool,
    create_graph: bool,
    capture: Sequence[Any] | None = None,
    accumulate: bool = True,
    allow_unused: bool = True,
) -> list | None:
    """Backpropagate ``grad_roots`` from ``roots`` (Tensors).

    With ``accumulate`` the gradients of leaves are summed into their ``.grad``; with
    ``capture`` (a list of tensors) the gradients reaching those tensors are returned
    instead (``autograd.grad``), and only they are touched.
    """
    Tensor = _function.Tensor

    # Gradients travel as backend arrays, or as Tensors when the backward is recorded.
    grads = {}
    root_nodes = []
    leaf_roots = []
    for root, grad in zip(roots, grad_roots):
        if create_graph:
            grad = grad if isinstance(grad, Tensor) else Tensor._wrap(grad)
        else:
            grad = _as_grad_array(grad)
        fn = root.grad_fn
        if fn is None:
            leaf_roots.append((root, grad))
            continue
        key = fn
        nr = root._output_nr
        if fn.n_outputs == 1:
            grads[key] = grad if key not in grads else grads[key] + grad
        else:
            buffer = grads.setdefault(key, [None] * fn.n_outputs)
            buffer[nr] = grad if buffer[nr] is None else buffer[nr] + grad
        root_nodes.append(fn)

    # Tensors whose gradient is captured (autograd.grad): leaves by identity, non-leaves by
    # (node, output index).
    captured: list | None = None
    capture_leaf: dict[int, int] = {}
    capture_node: dict[tuple, int] = {}
    duplicates: list = []  # (index, index of the same tensor's first occurrence)
    if capture is not None:
        captured = [None] * len(capture)
        for i, t in enumerate(capture):
            key = id(t) if t.grad_fn is None else (t.grad_fn, t._output_nr)
            table = capture_leaf if t.grad_fn is None else capture_node
            if key in table:
                duplicates.append((i, table[key]))
            else:
                table[key] = i

    # Pass 1: dependency counts (how many edges point at each node).
    deps: dict[Node, int] = {}
    unique_roots = list(dict.fromkeys(root_nodes))
    root_set = set(unique_roots)
    stack = list(unique_roots)
    # Without retain_graph no node's output is wanted after this backward (an output that
    # backward needs is also in ``saved``): let go of them now, so that each activation is
    # freed once its last consumer has run, not when the graph dies (peak memory).
    drop_outputs = not retain_graph and not create_graph
    # Leaves with hooks: how many gradients will reach each (by id), so that its hooks run
    # once, on their sum, as PyTorch runs them (a clamp in a hook is not linear).
    hooked_leaves: dict[int, int] = {}
    while stack:
        node = stack.pop()
        if drop_outputs:
            node.output = None
        for edge in (node.first_edge,) + node.other_edges:
            if edge is None:
                continue
            if isinstance(edge, Tensor):
                if edge._hooks is not None:
                    hooked_leaves[id(edge)] = hooked_leaves.get(id(edge), 0) + 1
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

    handed: set[int] = set()
    fast_leaves = capture is None and accumulate and not create_graph
    leaf_sums: dict[int, Any] = {}

    def deliver_leaf(leaf: Any, grad: Any) -> None:
        if capture is not None and id(leaf) not in capture_leaf:
            return  # autograd.grad: a leaf it was not asked for is left alone, hooks too
        hooks = leaf._hooks
        if hooks:
            for hook in list(hooks):
                result = hook(grad if isinstance(grad, Tensor) else Tensor._wrap(grad))
                if result is not None:
                    grad = result if create_graph else _as_grad_array(result)
        if capture is not None:
            index = capture_leaf.get(id(leaf))
            if index is not None:
                captured[index] = grad if captured[index] is None else captured[index] + grad
            return
        if not accumulate:
            return
        _accumulate(leaf, grad, create_graph, handed)
        if leaf._post_accumulate_hooks:
            for hook in list(leaf._post_accumulate_hooks):
                hook(leaf)

    for leaf, grad in leaf_roots:
        if not leaf.requires_grad:
            raise _no_grad_error(leaf)
        if leaf._hooks is not None:  # a root that the graph also reaches: hooks run once, on the sum
            hooked_leaves[id(leaf)] = hooked_leaves.get(id(leaf), 0) + 1
            _gather_leaf_gradient(leaf, grad, hooked_leaves, leaf_sums, deliver_leaf)
        else:
            deliver_leaf(leaf, grad)

    # Pass 2: reverse topological order.
    ready = [node for node in unique_roots if node not in deps]
    previous_mode = grad_state.enabled
    grad_state.enabled = create_graph
    # The walk creates no reference cycles (nodes only point towards the leaves), so the
    # cyclic collector has nothing to find here; pausing it saves its repeated scans of a
    # large live graph.
    collecting = gc.isenabled()
    gc.disable()
    # Like PyTorch, a backward that meets inf/NaN propagates them without warnings
    # (detect_anomaly is the tool that reports them).
    quiet = np.errstate(all="ignore")
    quiet.__enter__()
    # ``carried``: a node whose whole gradient the last node produced, taken next without a
    # round trip through ``grads`` and ``ready`` (the common case along a chain).
    carried = carried_grad = None
    try:
        while True:
            if carried is not None:
                node, grad, carried = carried, carried_grad, None
            elif ready:
                node = ready.pop()
                grad = grads.pop(node, None)
            else:
                break
            hooked = node._hooked
            if hooked:
                grad = _run_pre_hooks(node, grad, create_graph, handed)
            if capture_node:
                grad = _capture_node_grads(node, grad, capture_node, captured)
            if type(grad) is list:
                grad = None if all(g is None for g in grad) else tuple(grad)
            edges = (node.first_edge,) + node.other_edges
            if grad is None:
                input_grads = (None,) * len(edges)
            else:
                input_grads = node.apply_backward(grad, create_graph)
                if anomaly.enabled:
                    on_backward(node, input_grads)
                if hooked and node._post_hooks is not None:
                    input_grads = _run_post_hooks(node, input_grads, grad, create_graph)
            if not retain_graph and node.saved:
                # Op.release, inlined on this hot path (Function nodes ignore the extra fields).
                node.saved = node.inputs = node.output = None
            for edge, g in zip(edges, input_grads):
                if edge is None:
                    continue
                if isinstance(edge, Tensor):
                    if hooked_leaves and id(edge) in hooked_leaves:
                        _gather_leaf_gradient(edge, g, hooked_leaves, leaf_sums, deliver_leaf)
                        continue
                    if g is not None:
                        if fast_leaves and edge._hooks is None:
                            existing = edge._grad
                            if (existing is not None and type(g) is _ndarray and existing.grad_fn is None
                                    and not existing._rg and g.shape == existing._data.shape):
                                existing._data += g
                            else:
                                # The leaf may keep this very array as its .grad (and add into
                                # it later) only if nothing else holds it: not a gradient that
                                # also goes to another input, nor a caller's seed.
                                owned = getrefcount(g) <= _UNSHARED
                                _accumulate(edge, g, create_graph, handed, owned)
                        else:
                            deliver_leaf(edge, g)
                    continue
                if type(edge) is tuple:
                    target, nr = edge
                    if g is not None:
                        buffer = grads.get(target)
                        if buffer is None:
                            buffer = grads[target] = [None] * target.n_outputs
                        buffer[nr] = g if buffer[nr] is None else buffer[nr] + g
                else:
                    target = edge
                    if target.n_outputs == 1:
                        previous = grads.get(target)
                        if previous is None:
                            if deps[target] == 1 and carried is None:
                                # Its last gradient, and the only one: run it next.
                                del deps[target]
                                carried, carried_grad = target, g
                                continue
                            if g is not None:
                                grads[target] = g
                        elif g is not None:
                            grads[target] = previous + g
                    elif g is not None:  # output 0 of a node with several outputs (a bare edge)
                        buffer = grads.get(target)
                        if buffer is None:
                            buffer = grads[target] = [None] * target.n_outputs
                        buffer[0] = g if buffer[0] is None else buffer[0] + g
                count = deps[target] - 1
                if count:
                    deps[target] = count
                else:
                    del deps[target]
                    ready.append(target)
    finally:
        grad_state.enabled = previous_mode
        quiet.__exit__(None, None, None)
        if collecting:
            gc.enable()

    if captured is not None:
        for i, first in duplicates:
            captured[i] = captured[first]
        if not allow_unused:
            for i, g in enumerate(captured):
                if g is None:
                    raise RuntimeError(
                        f"One of the differentiated Tensors (input {i}) appears to not have "
                        f"been used in the graph. Set allow_unused=True if this is the desired "
                        f"behavior."
                    )
        out = []
        for g in captured:
            if g is None:
                out.append(None)
            elif isinstance(g, Tensor):
                out.append(g)
            else:
                out.append(Tensor._wrap(g))
        return out
    return None


def _gather_leaf_gradient(leaf: Any, g: Any, pending: dict, sums: dict, deliver: Callable) -> None:
    """One of the gradients for a leaf with hooks: summed until the last has come, then
    delivered (hooks, then accumulation) once."""
    key = id(leaf)
    if g is not None:
        sums[key] = g if key not in sums else sums[key] + g
    left = pending[key] - 1
    if left:
        pending[key] = left
        return
    del pending[key]
    total = sums.pop(key, None)
    if total is not None:
        deliver(leaf, total)


def _unshared_reference_count() -> int:
    """``sys.getrefcount`` of an array held only by a backward's result tuple, seen from a
    loop shaped like the engine's (``for edge, g in zip(edges, input_grads)``): the count
    above which the engine's leaf path must copy a gradient before keeping it."""
    input_grads = (np.empty(1), None)
    for edge, g in zip((None, None), input_grads):
        return getrefcount(g)
    return 0


def _accumulate(leaf: Any, grad: Any, create_graph: bool, handed: set, owned: bool = False) -> None:
    """Sum ``grad`` into ``leaf.grad``; keep ``grad`` itself as the new ``.grad`` only when it
    is ``owned`` (referenced nowhere else) and no other leaf has it."""
    Tensor = _function.Tensor
    if isinstance(grad, Tensor):
        if grad._data.dtype != leaf._data.dtype:  # gradients take the leaf's dtype, as in PyTorch
            grad = grad.to(leaf.dtype)
        if leaf.grad is None:
            # A gradient with a graph is kept (a later plain backward adds to it out of place);
            # a constant one (a caller's seed, a broadcast view) is copied: later accumulation
            # adds into .grad in place.
            keep = create_graph and grad.requires_grad
            leaf.grad = grad if keep else Tensor._wrap(np.array(grad._data, copy=True))
        else:
            leaf.grad = leaf.grad + grad
        return
    if type(grad) is not _ndarray and isinstance(grad, np.generic):
        grad = np.asarray(grad)
    if grad.shape != leaf._data.shape:
        raise RuntimeError(
            f"Function returned an invalid gradient: got shape {tuple(grad.shape)} for a "
            f"tensor of shape {tuple(leaf._data.shape)}"
        )
    if grad.dtype != leaf._data.dtype:
        grad = grad.astype(leaf._data.dtype)
    existing = leaf._grad
    if existing is None:
        if not owned or id(grad) in handed or not grad.flags.owndata or not grad.flags.writeable:
            grad = grad.copy()
        handed.add(id(grad))
        leaf._grad = Tensor._wrap(grad)  # shape and dtype checked above
    elif existing.requires_grad or create_graph:
        leaf.grad = existing + Tensor._wrap(grad)
    else:
        existing._data += grad


def _run_pre_hooks(node: Node, grad: Any, create_graph: bool, handed: set) -> Any:
    Tensor = _function.Tensor
    if grad is None:
        return None
    tensor_hooks = node._tensor_hooks
    if tensor_hooks:
        single = node.n_outputs == 1
        for nr, hooks in list(tensor_hooks.items()):
            g = grad if single else (grad[nr] if grad is not None else None)
            if g is None:
                continue
            for hook in list(hooks):
                result = hook(g if isinstance(g, Tensor) else Tensor._wrap(g))
                if result is not None:
                    g = result if create_graph else _as_grad_array(result)
            if single:
                grad = g
            else:
                grad[nr] = g
    if node._pre_hooks:
        as_tuple = (grad,) if node.n_outputs == 1 else tuple(grad)
        wrapped = tuple(
            None if g is None else (g if isinstance(g, Tensor) else Tensor._wrap(g))
            for g in as_tuple
        )
        for hook in list(node._pre_hooks):
            result = hook(wrapped)
            if result is not None:
                wrapped = tuple(result)
        unwrapped = [None if g is None else (g if create_graph else _as_grad_array(g)) for g in wrapped]
        grad = unwrapped[0] if node.n_outputs == 1 else unwrapped
    return grad


def _run_post_hooks(node: Node, input_grads: tuple, grad: Any, create_graph: bool) -> tuple:
    """``hook(grad_inputs, grad_outputs)`` for each post hook; a hook that returns new
    ``grad_inputs`` replaces them, as in PyTorch."""
    Tensor = _function.Tensor

    def wrap(items: Iterable) -> tuple:
        return tuple(None if g is None else (g if isinstance(g, Tensor) else Tensor._wrap(g)) for g in items)

    outputs = wrap((grad,) if node.n_outputs == 1 else grad)
    # The hooks see PyTorch's inputs of the node, in its order (addmm: bias, input, weight).
    positions = tuple(node.presented_indices())
    inputs = wrap(input_grads[i] if i < len(input_grads) else None for i in positions)
    replaced = False
    for hook in list(node._post_hooks):
        if getattr(hook, "all_arguments", False):
            # chainrule's own observers (viz) want one gradient per argument, in its order.
            hook(wrap(input_grads), outputs)
            continue
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


def _capture_node_grads(node: Node, grad: Any, capture_node: dict, captured: list) -> Any:
    for nr in range(node.n_outputs):
        index = capture_node.get((node, nr))
        if index is None:
            continue
        g = grad if node.n_outputs == 1 else (grad[nr] if grad is not None else None)
        if g is not None:
            captured[index] = g if captured[index] is None else captured[index] + g
    return grad


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
    single_input = isinstance(inputs, Tensor)
    inputs = [inputs] if single_input else list(inputs)
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
        from ..creation import zeros_like

        result = [zeros_like(t) if g is None else g for g, t in zip(result, inputs)]
    return tuple(result)


_UNSHARED = _unshared_reference_count()


def _batched_grad(outputs: list, inputs: list, grad_outputs: list, retain_graph: Any,
                  create_graph: bool, allow_unused: Any, materialize_grads: bool) -> tuple:
    """``grad(..., is_grads_batched=True)``: the first dim of each ``grad_outputs`` is a batch
    of upstream gradients; one backward per entry (PyTorch vectorises this with vmap), the
    results stacked along a new first dim."""
    from ..functional import stack

    if any(g is None for g in grad_outputs):
        raise RuntimeError("grad_outputs must be given (batched) when is_grads_batched=True")
    count = grad_outputs[0].shape[0]
    rows = []
    for i in range(count):
        keep = True if i < count - 1 else retain_graph
        rows.append(grad(outputs, inputs, [g[i] for g in grad_outputs], retain_graph=keep,
                         create_graph=create_graph, allow_unused=allow_unused,
                         materialize_grads=materialize_grads))
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
            if t._data.dtype.kind not in "fc":
                raise RuntimeError(
                    f"grad can be implicitly created only for real scalar outputs but got {t.dtype}"
                )
            out.append(np.ones_like(t._data) if type(t._data) is _ndarray else t._data * 0 + 1)
        else:
            g = g if isinstance(g, Tensor) else Tensor._wrap(np.asarray(g, dtype=t._data.dtype))
            if tuple(g.shape) != tuple(t.shape):
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[0] has a shape of {tuple(g.shape)} and "
                    f"output[0] has a shape of {tuple(t.shape)}."
                )
            out.append(g if create_graph else g._data)
    return out
