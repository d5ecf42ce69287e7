"""``chainrule vanishing``: the vanishing-gradient experiment (see ``chainrule.viz.vanishing``).

Prints the gradient norm of every layer for sigmoid, tanh and ReLU networks of the same
depth, the first-to-last layer ratio and the test accuracy each reaches in the same
budget, and writes the plot (gradient norm against depth, log scale).

``--through-time``: the same question across time steps instead of layers (see
``chainrule.viz.through_time``): ‖∂L/∂h_t‖ for every step of the adding problem in a
vanilla RNN, an LSTM and a GRU, at initialisation and after the same training budget.
"""
from __future__ import annotations

import argparse
import os
from typing import Any

from ..optional import MissingDependency
from ..viz.through_time import run_experiment as run_through_time
from ..viz.vanishing import run_experiment
from . import MAX_PARAMETERS, UsageError, note, positive


#: Adam steps per model with --through-time: enough for the gated models to learn the
#: adding problem at the default length (measured: the GRU first, then the LSTM).
THROUGH_TIME_STEPS = 1000


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
    parser.add_argument("--through-time", action="store_true",
                        help="backpropagation through time instead: the gradient at every time step of a vanilla "
                             "RNN, an LSTM and a GRU on the adding problem")
    parser.add_argument("--depth", type=positive(int), default=20, help="hidden layers (default 20)")
    parser.add_argument("--length", type=positive(int), default=40,
                        help="with --through-time: time steps per sequence (default 40)")
    parser.add_argument("--width", type=positive(int),
                        help="units per hidden layer (default 64; with --through-time, hidden units: 32)")
    parser.add_argument("--steps", type=_count,
                        help="training steps per network (default 300 SGD steps; with --through-time, "
                             f"{THROUGH_TIME_STEPS} Adam steps)")
    parser.add_argument("--lr", type=positive(float), default=0.01,
                        help="learning rate (default 0.01: SGD with momentum 0.9, Adam with --through-time)")
    parser.add_argument("--batch-size", type=positive(int), default=64, help="(default 64)")
    parser.add_argument("--seed", type=_count, default=0, help="seeds the split, initialisation and batches (default 0)")
    parser.add_argument("--out", metavar="FILE.png",
                        help="where to write the plot (default vanishing.png; through-time.png with --through-time)")


def run(args: argparse.Namespace) -> int:
    out = args.out or ("through-time.png" if args.through_time else "vanishing.png")
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise UsageError(f"--out {out}: folder {folder} does not exist")
    if not out.lower().endswith((".png", ".svg", ".pdf")):
        raise UsageError(f"--out {out}: use a .png, .svg or .pdf file name")
    if args.through_time:
        if args.length < 2:
            raise UsageError(f"--length {args.length}: the adding problem needs at least 2 steps")
        result = _through_time(args)
    else:
        width, steps = args.width or 64, 300 if args.steps is None else args.steps
        # input 64 -> depth hidden layers of width -> 10 classes, counted before anything is built
        parameters = 65 * width + (args.depth - 1) * (width + 1) * width + (width + 1) * 10
        if parameters > MAX_PARAMETERS:
            raise UsageError(f"--depth {args.depth} --width {width}: each network would have {parameters:,} "
                             f"parameters; at most {MAX_PARAMETERS:,}")
        print(f"Vanishing gradients: {args.depth} hidden layers of {width} units on the digits, "
              f"{steps} SGD steps (lr {args.lr:g}, momentum 0.9, batch {args.batch_size}), seed {args.seed}")
        result = run_experiment(depth=args.depth, width=width, steps=steps, lr=args.lr,
                                seed=args.seed, batch_size=args.batch_size, log=print)
    print()
    print(result.table())
    print()
    print(result.summary())
    try:
        written = result.plot(out)
    except MissingDependency as missing:
        note(str(missing))
        return 0
    except OSError as error:
        raise UsageError(f"--out {out}: {error.strerror or error}") from None
    print(f"\nwrote {written}")
    return 0


def _through_time(args: argparse.Namespace) -> Any:
    hidden, steps = args.width or 32, THROUGH_TIME_STEPS if args.steps is None else args.steps
    print(f"Backpropagation through time: the adding problem, {args.length} steps per sequence; a vanilla RNN, "
          f"an LSTM and a GRU of {hidden} units, {steps} Adam steps each (lr {args.lr:g}, batch {args.batch_size}), "
          f"seed {args.seed}")
    return run_through_time(length=args.length, hidden=hidden, steps=steps, lr=args.lr, seed=args.seed,
                          batch_size=args.batch_size, log=print)
