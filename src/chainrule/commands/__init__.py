"""The ``chainrule`` subcommands, one module each: ``add_parser(subparsers)`` and ``run(args)``."""
from __future__ import annotations


class UsageError(Exception):
    """A problem with what the user asked for: printed as one line, exit status 2."""
