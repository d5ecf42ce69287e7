"""The chain rule, step by step, with real numbers.

``explain(loss, wrt)`` follows the backward pass from a scalar loss to one input (or one
element of it): for every node on the way it shows the forward value, the gradient arriving
from above (upstream), the node's local derivative (its formula, from the op's
``derivative`` attribute, and its value) and their product, the gradient passed on.  Where
the input reaches the loss along several paths, each path is shown, then their sum::

    >>> w = chainrule.tensor([2.0], requires_grad=True)
    >>> loss = (12.0 - w * 5.0) ** 2
    >>> print(chainrule.explain(loss, w))      # ... ∂loss/∂w = ... = -20

It checks itself: the total must equal what backward computes (``autograd.grad``) and a
finite-difference estimate in float64 (when the forward can be replayed: build the loss
inside ``chainrule.viz.trace()``, or pass a function ``explain(lambda: ..., w)``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..autograd import graph
from ..autograd.engine import grad as autograd_grad
from ..debug import diagnose
from ..tensor import Tensor
from ._walk import (
    FREED_MESSAGE, GraphFreed, ReplayUnavailable, array_of, caller_names, fmt, forward_values, is_freed_error,
    node_label, nodes_of, replay, tensor_label,
)
from .trace import trace

#: Finite differences check at most this many elements of a large input.
FD_ELEMENTS = 32


@dataclass
class Step:
    """One node on a path: the gradient ``upstream`` (∂L/∂output) times the local derivative
    (∂output/∂input) gives ``product`` (∂L/∂input), passed on to the next step."""

    node: str
    op: str
    output: str
    input: str
    input_index: int
    value: Any
    upstream: Any
    formula: str
    local: Any
    product: Any

    @property
    def factor(self) -> str:
        return f"∂{self.output}/∂{self.input}"


@dataclass
class PathExplanation:
    """One way from the loss to the input, and the gradient that flows along it."""

    steps: list[Step]
    gradient: Any

    def chain(self, loss: str, wrt: str) -> str:
        """``∂L/∂w = ∂L/∂out · ∂out/∂net · ∂net/∂w = 4 · (-1) · 5 = -20``, on three lines."""
        head = f"∂{loss}/∂{wrt} = "
        pad = " " * (len(head) - 2) + "= "
        lines = [head + " · ".join(step.factor for step in self.steps)]
        if all(_is_number(step.local) for step in self.steps):
            lines.append(pad + " · ".join(parenthesize(fmt(step.local)) for step in self.steps))
        lines.append(pad + fmt(self.gradient))
        return "\n".join(lines)


@dataclass
class Explanation:
    """The result of :func:`explain`; ``print()`` it for the table, the chain-rule product
    and the checks."""

    loss_name: str
    wrt_name: str
    loss: Any
    index: tuple | None
    paths: list[PathExplanation]
    path_count: int
    gradient: Any
    autograd: Any
    finite_difference: Any = None
    fd_note: str = ""
    dtype: str = "float64"
    notes: list[str] = field(default_factory=list)

    @property
    def matches_autograd(self) -> bool:
        return _close(self.gradient, self.autograd, self.dtype, finite=False)

    @property
    def matches_finite_difference(self) -> bool | None:
        if self.finite_difference is None:
            return None
        fd = np.asarray(self.finite_difference, dtype=np.float64)
        checked = ~np.isnan(fd)
        return _close(np.asarray(self.autograd)[checked], fd[checked], self.dtype, finite=True)

    @property
    def ok(self) -> bool:
        """The total agrees with backward and (when available) with finite differences."""
        return self.matches_autograd and self.matches_finite_difference is not False

    def table(self) -> str:
        """One table per path: step, node, forward value, upstream, local derivative, product."""
        blocks = []
        for number, path in enumerate(self.paths, 1):
            header = ["step", "node", "forward", "upstream", "local derivative", "", "value", "product"]
            rows = []
            for k, step in enumerate(path.steps, 1):
                rows.append([
                    str(k), step.node, f"{step.output} = {fmt(step.value)}",
                    f"∂{self.loss_name}/∂{step.output} = {fmt(step.upstream)}",
                    step.factor, step.formula or "(no formula)", _local_text(step.local),
                    f"∂{self.loss_name}/∂{step.input} = {fmt(step.product)}",
                ])
            title = f"path {number} of {len(self.paths)}" if len(self.paths) > 1 else ""
            blocks.append(_render_table(header, rows, title))
        if not self.paths and self.path_count:
            blocks.append(f"({self.path_count} paths from {self.loss_name} to {self.wrt_name}: too many to list)")
        return "\n\n".join(blocks)

    def chain(self) -> str:
        """The chain-rule product per path, and their sum when there are several."""
        target = self._target()
        if not self.paths:
            if self.path_count == 0:
                return (f"{self.wrt_name} does not reach {self.loss_name}: ∂{self.loss_name}/∂{target} = 0, and "
                        f"backward leaves {self.wrt_name}.grad None")
            return f"∂{self.loss_name}/∂{target} = {fmt(self.gradient)} (summed over {self.path_count} paths)"
        if len(self.paths) == 1:
            return self.paths[0].chain(self.loss_name, target)
        parts = [f"{self.wrt_name} reaches {self.loss_name} along {len(self.paths)} paths; "
                 f"the chain rule sums them:"]
        for number, path in enumerate(self.paths, 1):
            parts.append(f"path {number}: " + path.chain(self.loss_name, target).replace("\n", "\n" + " " * 8))
        terms = " + ".join(parenthesize(fmt(p.gradient)) for p in self.paths)
        parts.append(f"sum:    ∂{self.loss_name}/∂{target} = {terms} = {fmt(self.gradient)}")
        return "\n".join(parts)

    def checks(self) -> str:
        mark = "✓" if self.matches_autograd else "✗ MISMATCH"
        lines = [f"check: backward (autograd.grad) gives {fmt(self.autograd)} {mark}"]
        if self.finite_difference is None:
            lines.append(f"check: finite differences unavailable ({self.fd_note})")
        else:
            mark = "✓" if self.matches_finite_difference else "✗ differs"
            note = f" [{self.fd_note}]" if self.fd_note else ""
            lines.append(f"check: finite differences (float64) give {fmt(self.finite_difference)} {mark}{note}")
        return "\n".join(lines)

    def __str__(self) -> str:
        parts = [self.table(), self.chain(), self.checks()] + self.notes
        return "\n\n".join(p for p in parts if p)

    def _target(self) -> str:
        if self.index is None:
            return self.wrt_name
        return f"{self.wrt_name}[{', '.join(str(i) for i in self.index)}]"


def explain(loss: Any, wrt: Any, index: Any = None, *, max_paths: int = 16,
            names: dict | None = None) -> Explanation:
    """Follow the backward pass from the scalar ``loss`` to ``wrt`` (or its element ``index``).

    ``loss`` is a scalar tensor, or a function of no arguments returning one (it is then run
    under ``viz.trace()`` so that finite differences can replay it).  ``wrt`` is a tensor
    that requires grad (a leaf or an intermediate result).  ``names``: {tensor: name} for
    labels; otherwise ``.name``, the caller's variable names, then u1, u2, ...
    The graph must still hold its saved values: call it before ``loss.backward()`` (or
    after ``backward(retain_graph=True)``).
    """
    label_map = caller_names()
    if callable(loss) and not isinstance(loss, Tensor):
        with trace():
            loss = loss()
    if not isinstance(loss, Tensor) or not isinstance(wrt, Tensor):
        raise TypeError("explain(loss, wrt): both must be chainrule tensors")
    if loss.numel() != 1:
        raise ValueError(f"explain needs a scalar loss, got shape {tuple(loss.shape)}")
    if not loss.requires_grad or not wrt.requires_grad:
        raise ValueError("explain: the loss and wrt must both require grad (wrt must feed the loss)"
                         + _why_no_gradient(loss, wrt, tensor_label(wrt, label_map) or "wrt"))
    if names:
        label_map.update({(k.grad_fn if k.grad_fn is not None else id(k)): v for k, v in names.items()})
    index = _normalize_index(index, tuple(wrt.shape))

    nodes = nodes_of(loss.grad_fn)
    try:
        (reference,) = autograd_grad(loss, wrt, retain_graph=True, allow_unused=True)
    except RuntimeError as error:
        if is_freed_error(error):
            raise GraphFreed("explain: " + FREED_MESSAGE) from None
        raise
    reference = np.zeros_like(array_of(wrt)) if reference is None else np.array(array_of(reference))
    is_target = _target_test(wrt)
    count, edges_to = _count_paths(loss.grad_fn, nodes, is_target)
    loss_name = tensor_label(loss, label_map) or label_map.get(loss.grad_fn) or "L"
    wrt_name = tensor_label(wrt, label_map) or ("L" if wrt is loss else "input")
    values = forward_values(loss, nodes)
    seed = np.ones_like(array_of(loss))

    paths: list[PathExplanation] = []
    if 0 < count <= max_paths:
        routes = _enumerate_paths(loss.grad_fn, edges_to)
        auto = _auto_names(routes, nodes, label_map, loss.grad_fn)
        for route in routes:
            paths.append(_follow(route, seed, values, auto, loss_name, wrt_name))

    total = sum((p.gradient for p in paths), np.zeros_like(reference)) if paths else reference
    fd, fd_note = _finite_difference(loss, wrt, nodes, index, reference)
    pick = (lambda a: a) if index is None else (lambda a: None if a is None else np.asarray(a)[index])
    for path in paths:
        path.gradient = pick(path.gradient)
        if index is not None:
            _project(path, index, tuple(wrt.shape))
    result = Explanation(
        loss_name=loss_name, wrt_name=wrt_name, loss=np.array(array_of(loss)), index=index,
        paths=paths, path_count=count, gradient=pick(total), autograd=pick(reference),
        finite_difference=fd, fd_note=fd_note, dtype=np.dtype(array_of(loss).dtype).name,
    )
    if count == 0:
        result.notes.append(_why_no_gradient(loss, wrt, wrt_name).strip())
    if paths and any(step.local is None for p in paths for step in p.steps):
        result.notes.append("(a local derivative shown as 'Jacobian' is a matrix; its product with "
                            "the upstream gradient is computed by the node's backward)")
    return result


# ---------------------------------------------------------------------------------------


def _why_no_gradient(loss: Any, wrt: Any, name: str) -> str:
    """What :func:`chainrule.autograd.diagnose` finds about ``wrt``'s missing gradient."""
    report = diagnose(loss, [(name, wrt)]).report()
    if not report:
        return ""
    return f"\nWhy (chainrule.autograd.diagnose(loss, [{name}])):\n{report}"


def _normalize_index(index: Any, shape: tuple) -> tuple | None:
    if index is None:
        return None
    index = tuple(int(i) for i in (index if isinstance(index, (tuple, list)) else (index,)))
    if len(shape) == 0 and index in ((), (0,)):
        return ()
    if len(index) != len(shape) or any(not -n <= i < n for i, n in zip(index, shape)):
        raise IndexError(f"index {index} is out of range for an input of shape {tuple(shape)}")
    return tuple(i % n for i, n in zip(index, shape))


def _target_test(wrt: Any) -> Callable[[Any], bool]:
    """Whether a graph edge (or a tensor) is ``wrt``."""
    fn, nr = wrt.grad_fn, wrt.output_nr

    def test(obj: Any) -> bool:
        if isinstance(obj, Tensor):
            return obj is wrt or (fn is not None and obj.grad_fn is fn and obj.output_nr == nr)
        if obj.is_leaf:
            return obj.leaf is wrt
        return obj.node is fn and obj.output_nr == nr

    return test


def _count_paths(root: Any, nodes: list, is_target: Callable) -> tuple[int, dict]:
    """Number of paths from the root to the target, and for every node the edges that lead
    to it: {node: [(input index, target node or None when the edge hits the target), ...]}."""
    if root is None:
        return 0, {}
    counts: dict = {}
    edges_to: dict = {}
    for node in reversed(nodes):
        total = 0
        useful = []
        for i, edge in enumerate(graph.inputs(node)):
            if edge is None:
                continue
            if is_target(edge):
                total += 1
                useful.append((i, None))
            elif not edge.is_leaf and counts.get(edge.node, 0):
                total += counts[edge.node]
                useful.append((i, edge.node))
        counts[node] = total
        edges_to[node] = useful
    return counts.get(root, 0), edges_to


def _enumerate_paths(root: Any, edges_to: dict) -> list[list[tuple]]:
    """Every path as a list of (node, input index, nr of the node's output used)."""
    routes = []
    stack = [(root, 0, [])]
    while stack:
        node, nr, prefix = stack.pop()
        for i, nxt in reversed(edges_to.get(node, [])):
            route = prefix + [(node, i, nr)]
            if nxt is None:
                routes.append(route)
            else:
                next_nr = graph.inputs(node)[i].output_nr
                stack.append((nxt, next_nr, route))
    return routes


def _auto_names(routes: list, nodes: list, label_map: dict, root: Any) -> dict:
    """Names for the nodes on the paths: given names first, then u1, u2 ... in forward order."""
    on_path = {node for route in routes for node, _, _ in route if node is not root}
    names = {}
    taken = set(label_map.values())
    counter = 0
    for node in reversed(nodes):
        if node not in on_path:
            continue
        name = node_label(node, label_map)
        if not name:
            counter += 1
            while f"u{counter}" in taken:
                counter += 1
            name = f"u{counter}"
        names[node] = name
    return names


def _formula(node: Any, index: int) -> str:
    """The op's readable derivative for input ``index`` (variadic ops: one for all)."""
    formulas = graph.derivative_formulas(node)
    if not formulas:
        return "custom backward (autograd.Function)" if graph.is_custom_function(node) else ""
    return formulas[index] if index < len(formulas) else formulas[-1]


def _elementwise(node: Any, out_shape: tuple, in_shape: tuple) -> bool:
    """Whether ∂output/∂input is diagonal: an elementwise op without broadcasting."""
    return graph.is_elementwise(node) and tuple(out_shape) == tuple(in_shape)


def _local(node: Any, nr: int, index: int, out_shape: tuple, in_shape: tuple, dtype: Any) -> Any:
    """The local derivative ∂output/∂input as numbers when the Jacobian is a row (a scalar
    output) or a diagonal (elementwise, shown as one number per element); None otherwise."""
    if int(np.prod(out_shape)) != 1 and not _elementwise(node, out_shape, in_shape):
        return None
    ones = np.ones(out_shape, dtype=dtype)
    result = graph.local_backward(node, ones, nr)[index]
    return None if result is None else np.asarray(getattr(result, "data", result)).reshape(in_shape)


def _follow(route: list, seed: Any, values: dict, auto: dict, loss_name: str, wrt_name: str) -> PathExplanation:
    steps = []
    g = seed
    for k, (node, index, nr) in enumerate(route):
        output = loss_name if k == 0 else auto[node]
        nxt = route[k + 1][0] if k + 1 < len(route) else None
        inp = auto[nxt] if nxt is not None else wrt_name
        upstream = g
        grads = graph.local_backward(node, g, nr)
        product = grads[index]
        product = np.asarray(getattr(product, "data", product))
        local = _local(node, nr, index, np.shape(upstream), product.shape, np.asarray(upstream).dtype)
        steps.append(Step(node=node.name(), op=graph.op_name(node), output=output, input=inp,
                          input_index=index, value=values.get(node), upstream=upstream,
                          formula=_formula(node, index), local=local, product=product))
        g = product
    return PathExplanation(steps, g)


def _project(path: PathExplanation, index: tuple, shape: tuple) -> None:
    """Follow one element: the steps whose gradient still has the input's shape and reaches
    it through elementwise ops only show that element's numbers."""
    for step in reversed(path.steps):
        if np.shape(step.product) != tuple(shape):
            break
        diagonal = step.local is not None and np.shape(step.local) == tuple(shape)
        same = np.shape(step.upstream) == tuple(shape)
        step.product = np.asarray(step.product)[index]
        if diagonal:
            step.local = np.asarray(step.local)[index]
        if same:
            step.upstream = np.asarray(step.upstream)[index]
        if step.value is not None and np.shape(step.value) == tuple(shape):
            step.value = np.asarray(step.value)[index]
        if not (same and diagonal):
            break


def _finite_difference(loss: Any, wrt: Any, nodes: list, index: tuple | None,
                       reference: Any) -> tuple[Any, str]:
    """Central differences of the replayed forward (float64), at ``index`` or at up to
    FD_ELEMENTS elements of ``wrt``."""
    target = _target_test(wrt)
    base = np.array(array_of(wrt), dtype=np.float64)
    flat = base.reshape(-1)
    if index is not None:
        positions = [int(np.ravel_multi_index(index, base.shape))] if base.ndim else [0]
    elif flat.size <= FD_ELEMENTS:
        positions = list(range(flat.size))
    else:
        positions = sorted(np.random.default_rng(0).choice(flat.size, FD_ELEMENTS, replace=False).tolist())
    estimate = np.full(flat.shape, np.nan)
    try:
        for p in positions:
            h = 1e-6 * max(1.0, abs(flat[p]))
            plus, minus = flat.copy(), flat.copy()
            plus[p] += h
            minus[p] -= h
            up = float(np.sum(replay(loss, target, plus.reshape(base.shape), nodes)))
            down = float(np.sum(replay(loss, target, minus.reshape(base.shape), nodes)))
            estimate[p] = (up - down) / (2 * h)
    except ReplayUnavailable as error:
        return None, (f"{error}; build the loss inside `with chainrule.viz.trace():` or pass a "
                      f"function, explain(lambda: ..., {tensor_label(wrt, {}) or 'x'})")
    estimate = estimate.reshape(base.shape)
    if index is not None:
        return estimate[index], ""
    note = "" if len(positions) == flat.size else f"{len(positions)} of {flat.size} elements checked"
    return estimate, note


def _close(a: Any, b: Any, dtype: str, finite: bool) -> bool:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.size == 0:
        return True
    magnitudes = np.abs(b[np.isfinite(b)])
    scale = 1.0 + float(np.max(magnitudes)) if magnitudes.size else 1.0  # inf and nan compare as themselves
    if dtype == "float64":
        rtol, atol = (1e-5, 1e-6 * scale) if finite else (1e-9, 1e-12 * scale)
    else:
        rtol, atol = (2e-3, 2e-3 * scale) if finite else (1e-5, 1e-6 * scale)
    return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))


def _is_number(x: Any) -> bool:
    return x is not None and np.size(x) == 1


def parenthesize(text: str) -> str:
    """``text`` in parentheses when it starts with a minus sign (a negative factor)."""
    return f"({text})" if text.startswith("-") else text


def _local_text(local: Any) -> str:
    return "Jacobian" if local is None else fmt(local)


def _render_table(header: list[str], rows: list[list[str]], title: str) -> str:
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    lines = [title] if title else []
    for r in [header] + rows:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
        if r is header:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
