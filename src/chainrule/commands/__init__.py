"""The ``chainrule`` subcommands, one module each: ``add_parser(subparsers)`` and ``run(args)``."""
from __future__ import annotations

import argparse
import sys
from typing import Any, Callable

#: The largest model the commands build (checked before anything is allocated): 100 million
#: float32 parameters are 400 MB, 1.6 GB with their gradients and Adam's two moments.
MAX_PARAMETERS = 100_000_000


class UsageError(Exception):
    """A problem with what the user asked for: printed as one line, exit status 2."""


def note(text: str) -> None:
    """One line on stderr about something a command left out (an optional package missing)."""
    print(f"chainrule: {text}", file=sys.stderr)


def positive(kind: type) -> Callable[[str], Any]:
    """An argparse ``type``: a number of ``kind`` (int or float) above 0."""
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, got '{text}'") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value

    return parse
