"""The ``chainrule`` command (also ``python -m chainrule``).

Each subcommand lives in its own module under ``chainrule.commands`` exposing
``add_parser(subparsers)`` and ``run(args) -> int``.  Errors a user can cause (bad options,
paths, files) print one line and exit with status 2.
"""
from __future__ import annotations

import argparse
import sys
from typing import NoReturn, Sequence

from .commands import UsageError, evaluate, explain, graph, train, vanishing
from .creation import tensor

#: The subcommands, in the order ``--help`` lists them.
COMMANDS = {"train": train, "evaluate": evaluate, "explain": explain, "graph": graph, "vanishing": vanishing}


class _Parser(argparse.ArgumentParser):
    """argparse, with option errors as one line (no usage block) and exit status 2."""

    def error(self, message: str) -> "NoReturn":
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="chainrule",
        description="Backpropagation as a library: train, explain and visualise backprop.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in COMMANDS.values():
        module.add_parser(subparsers)
    return parser


def classic_example() -> int:
    """The tutorial's example, printed: w=2, x=5, y=12, loss=(y - w*x)**2."""
    w = tensor([2.0], requires_grad=True)
    x = tensor([5.0])
    y_actual = tensor([12.0])
    y_pred = w * x
    loss = (y_actual - y_pred) ** 2
    loss.backward()
    print("The classic example: w = 2, x = 5, y = 12")
    print(f"  forward:   y_pred = w * x = {y_pred.item():g}")
    print(f"  loss:      (y - y_pred)^2 = {loss.item():g}")
    print(f"  backward:  dL/dw = -2 (y - y_pred) * x = {w.grad.item():g}")
    print("Run `chainrule train` to train a network, `chainrule --help` for more.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        return classic_example()
    try:
        return int(COMMANDS[args.command].run(args) or 0)
    except UsageError as error:
        print(f"chainrule {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
