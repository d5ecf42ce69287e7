"""The ``chainrule`` command (also ``python -m chainrule``).

Each subcommand lives in its own module under ``chainrule.commands`` exposing
``add_parser(subparsers)`` and ``run(args) -> int``.  Errors a user can cause (bad options,
paths, files) print one line and exit with status 2.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn, Sequence

import numpy as np

from .backend import keep_freed_memory
from .commands import (  # noqa: F401
    MAX_PARAMETERS, UsageError, debug, evaluate, explain, graph, note, run, sample, train, vanishing,
)
from .creation import tensor

#: The subcommands, in the order ``--help`` lists them.
COMMANDS = {"train": train, "evaluate": evaluate, "sample": sample, "explain": explain, "graph": graph,
            "vanishing": vanishing, "run": run, "debug": debug}


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


#: The exit status of a command whose output was closed early (``chainrule graph | head``):
#: what a Unix tool killed by SIGPIPE reports (128 + 13).
BROKEN_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    # The command-line jobs are chainrule's own process: keep freed memory for reuse there
    # (a library import leaves the user's process alone).
    keep_freed_memory()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        # Overflow, division by zero ...: their results (inf, nan) are shown; NumPy's
        # warnings about them would only repeat that on stderr.
        with np.errstate(all="ignore"):
            code = classic_example() if args.command is None else int(COMMANDS[args.command].run(args) or 0)
        sys.stdout.flush()
        return code
    except UsageError as error:
        print(f"chainrule {args.command}: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and send what Python would still
        # flush at exit to /dev/null, so that no second error is printed.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return BROKEN_PIPE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
