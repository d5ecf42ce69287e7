"""``chainrule graph [EXPR] [--at w=2,x=5] [--out graph.svg]``: draw an expression's graph,
with its values and the gradient on every edge.  Without ``--out`` the DOT text is printed."""
from __future__ import annotations

import argparse
import sys
import warnings
from typing import Any

from ..viz.graph import IMAGE_FORMATS, GraphvizNotFound, draw_graph
from . import UsageError
from .explain import add_expression_arguments, build


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "graph",
        help="draw the computation graph of a small expression",
        description="Draw the computation graph of a small expression (default: the "
        "tutorial's example), with forward values and the gradient flowing back along "
        "every edge.",
    )
    add_expression_arguments(parser)
    parser.add_argument("--out", metavar="FILE",
                        help="write FILE (.svg, .png, .pdf or .dot); default: print DOT text")
    parser.add_argument("--rankdir", choices=("BT", "TB", "LR", "RL"), default="BT",
                        help="layout direction (default BT: inputs at the bottom)")
    parser.add_argument("--no-values", action="store_true", help="leave values out of the boxes")
    parser.add_argument("--no-grads", action="store_true", help="leave gradients off the edges")


def run(args: argparse.Namespace) -> int:
    evaluation = build(args)
    graph = draw_graph(evaluation.result, show_values=not args.no_values,
                       show_grads=not args.no_grads, rankdir=args.rankdir,
                       title=f"{evaluation.result.name} = {evaluation.expression}")
    if args.out is None:
        sys.stdout.write(graph.dot)
        return 0
    suffix = args.out.rsplit(".", 1)[-1].lower() if "." in args.out else ""
    if suffix not in IMAGE_FORMATS + ("dot", "gv"):
        raise UsageError(f"--out {args.out}: use a .svg, .png, .pdf or .dot file name")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GraphvizNotFound)
        try:
            written = graph.save(args.out)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError) as error:
            raise UsageError(f"--out {args.out}: {error.strerror or error}") from None
    for warning in caught:
        if issubclass(warning.category, GraphvizNotFound):
            print(f"chainrule graph: {warning.message}", file=sys.stderr)
    print(f"wrote {written}")
    return 0
