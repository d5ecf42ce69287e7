"""The ``chainrule`` command (also ``python -m chainrule``).

Each subcommand lives in its own module under ``chainrule.commands`` exposing
``add_parser(subparsers)`` and ``run(args) -> int``; modules are imported only when their
command runs, except for building the parser, which imports only argparse definitions.
Errors a user can cause (bad options, paths, files) print one line and exit with status 2.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn, Sequence

COMMANDS = ("train", "evaluate", "sample", "explain", "graph", "vanishing")


class UsageError(Exception):
    """A problem with what the user asked for: printed as one line, exit status 2."""


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
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"chainrule.commands.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"chainrule.commands.{name}":
                raise
            continue
        module.add_parser(subparsers)
    return parser


def classic_example() -> int:
    """The tutorial's example, printed: w=2, x=5, y=12, loss=(y - w*x)**2."""
    import chainrule as torch

    w = torch.tensor([2.0], requires_grad=True)
    x = torch.tensor([5.0])
    y_actual = torch.tensor([12.0])
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
    module = importlib.import_module(f"chainrule.commands.{args.command}")
    try:
        return int(module.run(args) or 0)
    except UsageError as error:
        print(f"chainrule {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
