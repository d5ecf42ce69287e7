"""``chainrule vanishing``: the vanishing-gradient experiment (see ``chainrule.viz.vanishing``).

Prints the gradient norm of every layer for sigmoid, tanh and ReLU networks of the same
depth, the first-to-last layer ratio and the test accuracy each reaches in the same
budget, and writes the plot (gradient norm against depth, log scale).
"""
from __future__ import annotations

import argparse
import os
from typing import Any

from ..optional import MissingDependency
from ..viz.vanishing import run_experiment
from . import MAX_PARAMETERS, UsageError, note, positive


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got '{text}'") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "vanishing",
        help="measure vanishing gradients in a deep sigmoid / tanh / ReLU network",
        description="Build the same deep MLP with sigmoid (default and Xavier init), tanh "
        "(Xavier) and ReLU (Kaiming) on the embedded digits; print every layer's gradient "
        "norm at initialisation and after training, the first-to-last layer ratio and the "
        "test accuracy reached; write the plot.",
    )
    parser.add_argument("--depth", type=positive(int), default=20, help="hidden layers (default 20)")
    parser.add_argument("--width", type=positive(int), default=64, help="units per hidden layer (default 64)")
    parser.add_argument("--steps", type=_count, default=300, help="SGD steps per network (default 300)")
    parser.add_argument("--lr", type=positive(float), default=0.01, help="learning rate (default 0.01, momentum 0.9)")
    parser.add_argument("--batch-size", type=positive(int), default=64, help="(default 64)")
    parser.add_argument("--seed", type=_count, default=0, help="seeds the split, initialisation and batches (default 0)")
    parser.add_argument("--out", default="vanishing.png", metavar="FILE.png",
                        help="where to write the plot (default vanishing.png)")


def run(args: argparse.Namespace) -> int:
    folder = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(folder):
        raise UsageError(f"--out {args.out}: folder {folder} does not exist")
    if not args.out.lower().endswith((".png", ".svg", ".pdf")):
        raise UsageError(f"--out {args.out}: use a .png, .svg or .pdf file name")
    # input 64 -> depth hidden layers of width -> 10 classes, counted before anything is built
    parameters = 65 * args.width + (args.depth - 1) * (args.width + 1) * args.width + (args.width + 1) * 10
    if parameters > MAX_PARAMETERS:
        raise UsageError(f"--depth {args.depth} --width {args.width}: each network would have {parameters:,} "
                         f"parameters; at most {MAX_PARAMETERS:,}")
    print(f"Vanishing gradients: {args.depth} hidden layers of {args.width} units on the digits, "
          f"{args.steps} SGD steps (lr {args.lr:g}, momentum 0.9, batch {args.batch_size}), seed {args.seed}")
    result = run_experiment(depth=args.depth, width=args.width, steps=args.steps, lr=args.lr,
                            seed=args.seed, batch_size=args.batch_size, log=print)
    print()
    print(result.table())
    print()
    print(result.summary())
    try:
        written = result.plot(args.out)
    except MissingDependency as missing:
        note(str(missing))
        return 0
    except OSError as error:
        raise UsageError(f"--out {args.out}: {error.strerror or error}") from None
    print(f"\nwrote {written}")
    return 0
