"""Tools that make backprop visible: the graph (``draw_graph``), the chain rule step by step
(``explain``), the gradient flowing through each layer (``GradientFlow``), and the
vanishing-gradient experiment (``vanishing``).

Importing this package stays light: matplotlib and graphviz load only inside the functions
that draw with them.
"""
from __future__ import annotations

from . import vanishing
from ._walk import fmt as format_value
from .explain import Explanation, PathExplanation, Step, explain
from .gradflow import GradientFlow, LayerStats
from .graph import Edge, Graph, GraphvizNotFound, Vertex, draw_graph, find_dot, render
from .trace import trace

__all__ = [
    "Edge", "Explanation", "Graph", "GraphvizNotFound", "GradientFlow", "PathExplanation", "Step",
    "Vertex", "draw_graph", "explain", "find_dot", "render", "trace", "vanishing", "LayerStats", "format_value",
]
