"""Tools that make backprop visible: the graph (``draw_graph``), the chain rule step by step
(``explain``), the gradient flowing through each layer (``GradientFlow``), and the
vanishing-gradient experiment (``vanishing``).

Importing this package stays light: matplotlib and graphviz load only inside the functions
that draw with them.
"""
from __future__ import annotations

from typing import Any

from .explain import Explanation, PathExplanation, Step, explain
from .graph import Edge, Graph, GraphvizNotFound, Vertex, draw_graph, find_dot, render
from .trace import trace

__all__ = [
    "Edge", "Explanation", "Graph", "GraphvizNotFound", "GradientFlow", "PathExplanation", "Step",
    "Vertex", "draw_graph", "explain", "find_dot", "render", "trace", "vanishing",
]


def __getattr__(name: str) -> Any:
    # These need chainrule.nn; load them on first use.
    if name in ("GradientFlow", "LayerStats"):
        from . import gradflow

        return getattr(gradflow, name)
    if name == "vanishing":
        from . import vanishing

        return vanishing
    raise AttributeError(f"module 'chainrule.viz' has no attribute '{name}'")
