"""The ``chainrule`` subcommands, one module each: ``add_parser(subparsers)`` and ``run(args)``."""
from __future__ import annotations

import sys

#: The largest model the commands build (checked before anything is allocated): 100 million
#: float32 parameters are 400 MB, 1.6 GB with their gradients and Adam's two moments.
MAX_PARAMETERS = 100_000_000


class UsageError(Exception):
    """A problem with what the user asked for: printed as one line, exit status 2."""


def note(text: str) -> None:
    """One line on stderr about something a command left out (an optional package missing)."""
    print(f"chainrule: {text}", file=sys.stderr)
