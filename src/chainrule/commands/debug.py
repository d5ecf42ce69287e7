"""``chainrule debug [--steps N] SCRIPT [ARGS...]``: run a PyTorch script on chainrule with
diagnosis on, and say why a gradient is None, zero or NaN, and where.

The script runs as under ``chainrule run``.  At its first ``backward()`` and at each optimizer
``step()``, every parameter the optimizers hold (and every tensor the script reads ``.grad``
of) is checked; problems are reported on stderr with the cause, the line of the script and
the usual fix, healthy parameters in one line, and the script goes on.
"""
from __future__ import annotations

import argparse
from typing import Any

from ..debug import Session
from . import positive
from .run import add_script_arguments, run_cli


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "debug",
        help="run a PyTorch script and say why a gradient is None, zero or NaN, and where",
        description="Run a PyTorch script on chainrule (as `chainrule run`) with diagnosis on: at "
        "the first backward() and at each optimizer step(), report each parameter whose gradient "
        "is None, zero, vanishingly small or NaN/inf, with the cause, the line of the script and "
        "the usual fix. Options go before SCRIPT; what follows it is the script's own.",
    )
    parser.add_argument("--steps", type=positive(int), metavar="N",
                        help="stop the script after N optimizer steps (backward passes without an optimizer)")
    add_script_arguments(parser)


def run(args: argparse.Namespace) -> int:
    session = Session(steps=args.steps)
    return run_cli(args.script, args.script_args, around=session.run)
