"""``chainrule explain [EXPR] [--at w=2,x=5] [--wrt w]``: the chain rule, step by step.

Without an expression it runs the tutorial's classic example, L = (y - w*x)^2 with w = 2,
x = 5, y = 12: the forward values, the loss, the chain-rule table, the gradient -20 and one
gradient-descent step for w.
"""
from __future__ import annotations

import argparse
import math
from typing import Any

from ..viz import format_value as fmt
from ..viz.expression import ExpressionError, evaluate, parse_assignments, variables_of
from ..viz.explain import explain, parenthesize
from . import UsageError

CLASSIC = "(y - w*x)**2"
CLASSIC_AT = "w=2,x=5,y=12"
# The tutorial's names: net = w*x (the weighted sum), out = y - net, L = out^2.
CLASSIC_NAMES = {"w * x": "net", "y - w * x": "out"}


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="show the chain rule step by step for a small expression",
        description="Show the backward pass of a small expression step by step: forward "
        "values, upstream gradients, local derivatives and their products. Without EXPR, "
        f"the tutorial's example {CLASSIC} at {CLASSIC_AT}.",
    )
    add_expression_arguments(parser)
    parser.add_argument("--wrt", help="the variable to differentiate with respect to "
                        "(default: the first one in --at)")
    parser.add_argument("--lr", type=_finite, default=0.01,
                        help="learning rate of the update step shown at the end (default 0.01)")


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text[:40]}'") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text[:40]}")
    return value


def add_expression_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("expression", nargs="?", metavar="EXPR",
                        help=f"an expression such as 'tanh(w*x + b)' (default: {CLASSIC})")
    parser.add_argument("--at", metavar="NAME=VALUE,...",
                        help="values of the variables, e.g. w=2,x=5 (default for the classic "
                        f"example: {CLASSIC_AT})")


def build(args: argparse.Namespace) -> Any:
    """Evaluate the expression the arguments name (a UsageError for anything wrong)."""
    classic = args.expression is None
    expression = CLASSIC if classic else args.expression
    try:
        used = variables_of(expression)
        at = args.at if args.at is not None else (CLASSIC_AT if classic else "")
        values = parse_assignments(at)
        missing = [name for name in used if name not in values]
        if missing:
            raise ExpressionError(f"no value for {', '.join(missing)}: pass --at "
                                  + ",".join(f"{name}=..." for name in missing))
        unused = [name for name in values if name not in used]
        if unused:
            raise ExpressionError(f"--at names {', '.join(unused)}, which the expression does not use")
        return evaluate(expression, values, CLASSIC_NAMES if classic else None)
    except ExpressionError as error:
        raise UsageError(str(error)) from None


def run(args: argparse.Namespace) -> int:
    evaluation = build(args)
    variables = evaluation.variables
    wrt = args.wrt or next(iter(variables))
    if wrt not in variables:
        raise UsageError(f"--wrt {wrt}: not a variable of the expression (variables: {', '.join(variables)})")
    loss = evaluation.result
    if not evaluation.steps:
        raise UsageError("the expression is a single variable: there is no chain to follow")
    at = ", ".join(f"{name} = {fmt(t)}" for name, t in variables.items())
    name = loss.name  # L, unless a variable is called L
    if args.expression is None:
        print(f"The classic example: {name} = {CLASSIC} with {at}")
    else:
        print(f"{name} = {evaluation.expression} with {at}")

    print("\nForward pass")
    width = max(len(name) for name, _, _ in evaluation.steps)
    column = max(len(definition) for _, definition, _ in evaluation.steps)
    for name, definition, tensor in evaluation.steps:
        print(f"  {name.ljust(width)} = {definition.ljust(column)} = {fmt(tensor)}")
    print(f"The loss: {name} = {fmt(loss)}")

    result = explain(loss, variables[wrt])
    print(f"\nBackward pass: the chain rule from {name} back to {wrt}")
    print(result.table())
    print()
    print(result.chain())
    print()
    print(result.checks())

    value = variables[wrt].item()
    gradient = float(result.gradient)
    updated = value - args.lr * gradient
    print(f"\nUpdate step (gradient descent, lr = {fmt(args.lr)})")
    print(f"  {wrt} ← {wrt} − lr · ∂{name}/∂{wrt} = {fmt(value)} − {fmt(args.lr)} · {parenthesize(fmt(gradient))} = {fmt(updated)}")
    return 0 if result.ok else 1
