"""``chainrule run SCRIPT [ARGS...]``: run an unmodified PyTorch script on chainrule.

The script runs as Python would run it (``__name__ == "__main__"``, ``sys.argv`` its own,
its folder first on ``sys.path``) with ``torch`` and every ``torch.*`` module it imports
resolved to chainrule's (:mod:`chainrule.torch_alias`).  Its own exceptions propagate with
their traceback, as under ``python SCRIPT``; a ``torch`` name chainrule lacks is one line:
"chainrule has no torch.X (used at train.py:12: ...)".
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tokenize
import traceback
import types
from typing import Any, Callable

from ..tensor import Tensor
from ..torch_alias import MissingTorchName, aliased, describe_site, torch_name
from . import UsageError

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a PyTorch script on chainrule, unchanged",
        description="Run a PyTorch script unchanged on chainrule: `import torch` and every "
        "torch.* module it imports resolve to chainrule's. Arguments after SCRIPT are the "
        "script's own.",
    )
    add_script_arguments(parser)


def add_script_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("script", metavar="SCRIPT", help="the Python file to run")
    parser.add_argument("script_args", nargs=argparse.REMAINDER, metavar="ARGS",
                        help="the script's own arguments (its sys.argv[1:])")


def run(args: argparse.Namespace) -> int:
    return run_cli(args.script, args.script_args)


def run_cli(path: str, argv: list, around: Callable[[Callable[[], None]], None] | None = None) -> int:
    """Run the script as the command line does: its exit status, its uncaught exception's
    traceback printed as Python prints it (status 1), a missing torch name as one line.
    ``around(start)``, if given, runs ``start()`` (the script) inside whatever it sets up."""
    try:
        if around is None:
            run_script(path, argv)
        else:
            around(lambda: run_script(path, argv))
    except SystemExit as stop:
        return _exit_status(stop.code)
    except (KeyboardInterrupt, BrokenPipeError, UsageError):
        raise
    except Exception as error:  # the script's own: reported as Python reports it
        missing = missing_name(error)
        if missing is not None:
            raise UsageError(str(missing)) from None
        _print_script_traceback(error, path)
        return 1
    return 0


def run_script(path: str, argv: list | tuple = ()) -> dict:
    """Run the Python file ``path`` as ``__main__`` with ``sys.argv == [path, *argv]`` and
    ``torch`` bound to chainrule; returns its globals.  Exceptions propagate unchanged;
    ``sys.argv``, ``sys.path`` and ``sys.modules["__main__"]`` are restored after."""
    code = _compile(path)
    module = types.ModuleType("__main__")
    module.__dict__.update(__file__=path, __builtins__=__builtins__, __cached__=None)
    saved = sys.argv, sys.modules.get("__main__")
    sys.argv = [path, *argv]
    sys.modules["__main__"] = module
    folder = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, folder)
    try:
        with aliased():
            exec(code, module.__dict__)
    finally:
        sys.argv = saved[0]
        if saved[1] is not None:
            sys.modules["__main__"] = saved[1]
        if folder in sys.path:
            sys.path.remove(folder)
    return module.__dict__


def _compile(path: str) -> types.CodeType:
    if not os.path.exists(path):
        raise UsageError(f"{path}: no such file")
    if os.path.isdir(path):
        raise UsageError(f"{path} is a folder: give the script to run")
    try:
        with tokenize.open(path) as file:  # honours a coding cookie, as Python does
            source = file.read()
    except (OSError, UnicodeDecodeError, SyntaxError) as error:
        raise UsageError(f"cannot read {path}: {error}") from None
    return compile(source, path, "exec")


def _exit_status(code: Any) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _print_script_traceback(error: BaseException, path: str) -> None:
    """The traceback from the script's first frame on (this runner's frames left out)."""
    tb = error.__traceback__
    script = os.path.abspath(path)
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) != script:
        tb = tb.tb_next
    traceback.print_exception(type(error), error, tb if tb is not None else error.__traceback__)


_NO_ATTRIBUTE = re.compile(r"module '(chainrule(?:\.\w+)*)' has no attribute '(\w+)'")
_CANNOT_IMPORT = re.compile(r"cannot import name '(\w+)' from '(chainrule(?:\.\w+)*)'")


def missing_name(error: BaseException) -> MissingTorchName | None:
    """``error`` as "chainrule has no torch.X" when it is a torch name the script's own code
    asked for (a module, ``torch.X``, ``from torch import X``, a Tensor method) that chainrule
    lacks; None for any other error."""
    if isinstance(error, MissingTorchName):
        return error
    site = _innermost_site(error)
    if site is None or os.path.abspath(site[0]).startswith(_PACKAGE_DIR):
        return None  # raised inside chainrule, not at the script's own reference
    name = None
    message = str(error)
    if isinstance(error, AttributeError):
        match = _NO_ATTRIBUTE.search(message)
        if match:
            name = f"{torch_name(match.group(1))}.{match.group(2)}"
        elif isinstance(getattr(error, "obj", None), Tensor) and getattr(error, "name", None):
            name = f"torch.Tensor.{error.name}"
    elif isinstance(error, ImportError):
        match = _CANNOT_IMPORT.search(message)
        if match:
            name = f"{torch_name(match.group(2))}.{match.group(1)}"
    return None if name is None else MissingTorchName(name, describe_site(site))


def _innermost_site(error: BaseException) -> tuple[str, int] | None:
    """The script's line that raised ``error``: the innermost frame, or the one that called
    a module's ``__getattr__`` (where chainrule answers a name it lacks)."""
    entries = []
    tb = error.__traceback__
    while tb is not None:
        entries.append((tb.tb_frame.f_code, tb.tb_lineno))
        tb = tb.tb_next
    while len(entries) > 1 and entries[-1][0].co_name == "__getattr__" and \
            os.path.abspath(entries[-1][0].co_filename).startswith(_PACKAGE_DIR):
        entries.pop()
    return (entries[-1][0].co_filename, entries[-1][1]) if entries else None
