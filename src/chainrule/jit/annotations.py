"""TorchScript's annotations and markers, as they behave in PyTorch's eager mode: decorators
that return what they decorate, type markers, ``is_scripting()`` (always False: chainrule
never compiles Python into TorchScript) and ``jit.isinstance`` (a check of the value against
a typing annotation such as ``List[int]``)."""
from __future__ import annotations

import builtins
import collections
import collections.abc
import contextlib
import typing
import warnings
from typing import Any, Callable, Iterator

__all__ = [
    "Attribute", "Final", "annotate", "interface", "ignore", "unused", "export", "script_method",
    "is_scripting", "isinstance", "fuser", "optimized_execution", "strict_fusion", "Error",
    "TracerWarning", "ScriptWarning",
]

#: ``self.x: torch.jit.Final[int]`` marks a constant for the TorchScript compiler.
Final = typing.Final

#: ``torch.jit.Attribute(value, type)``: an attribute's value with its TorchScript type. Outside a
#: ScriptModule it stays the pair (as in PyTorch); a ScriptModule keeps its ``value``.
Attribute = collections.namedtuple("Attribute", ["value", "type"])


class Error(Exception):
    """``torch.jit.Error``: the error a TorchScript program raises (an Exception, as PyTorch's)."""


class TracerWarning(Warning):
    """A trace may not generalise: a tensor's value was read into Python while tracing."""

    @staticmethod
    def ignore_lib_warnings() -> None:
        """Accepted for compatibility (PyTorch filters its own library's tracer warnings)."""


class ScriptWarning(Warning):
    """``torch.jit.ScriptWarning``."""


def annotate(the_type: Any, the_value: Any) -> Any:
    """The TorchScript type hint of a value: ``the_value`` itself."""
    return the_value


def interface(obj: Any) -> Any:
    """Marks a class as a TorchScript interface: the class itself."""
    warnings.warn("`torch.jit.interface` is deprecated. Please use `torch.compile` instead.", DeprecationWarning,
                  stacklevel=2)
    return obj


def ignore(drop: Any = False, **kwargs: Any) -> Any:
    """``@torch.jit.ignore`` or ``@torch.jit.ignore(drop=True)``: leave a function to Python
    (every function is, here): the function itself."""
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn: Callable) -> Callable:
    """``@torch.jit.unused``: a method the compiler skips: the method itself."""
    return fn


def export(fn: Callable) -> Callable:
    """``@torch.jit.export``: a method compiled besides ``forward``: the method itself."""
    return fn


def script_method(fn: Callable) -> Callable:
    """``@torch.jit.script_method`` of the legacy ``ScriptModule`` subclasses: the method itself."""
    warnings.warn("`torch.jit.script_method` is deprecated. Please switch to `torch.compile` or `torch.export`.",
                  DeprecationWarning, stacklevel=2)
    return fn


def is_scripting() -> bool:
    """Whether the code runs compiled by TorchScript: never, in chainrule."""
    return False


def isinstance(obj: Any, target_type: Any) -> bool:
    """Whether ``obj`` is of ``target_type``, which may be a typing annotation
    (``List[int]``, ``Dict[str, Tensor]``, ``Tuple[int, str]``, ``Optional[Tensor]``),
    checked element by element as TorchScript refines types (``Tuple[int, ...]`` is a
    tuple of two elements there, the second ``...``)."""
    origin = typing.get_origin(target_type)
    args = typing.get_args(target_type)
    if origin is None:
        return builtins.isinstance(obj, target_type)
    if origin is typing.Union:
        return any(isinstance(obj, arg) for arg in args)
    if origin in (list, collections.abc.Sequence) and builtins.isinstance(obj, list):
        return not args or all(isinstance(item, args[0]) for item in obj)
    if origin is dict and builtins.isinstance(obj, dict):
        return not args or all(isinstance(k, args[0]) and isinstance(v, args[1]) for k, v in obj.items())
    if origin is tuple and builtins.isinstance(obj, tuple):
        if not args:
            return True
        return len(args) == len(obj) and all(isinstance(item, arg) for item, arg in zip(obj, args))
    return False


@contextlib.contextmanager
def fuser(name: str) -> Iterator[None]:
    """Pick TorchScript's fusion backend for a block: accepted, nothing is fused."""
    if name not in ("fuser0", "fuser1", "fuser2", "fuser3", "none"):
        raise Exception(f"unrecognized fuser option (name: {name})")
    yield


@contextlib.contextmanager
def optimized_execution(should_optimize: bool) -> Iterator[None]:
    """TorchScript's graph optimisations on or off for a block: accepted (they change no number)."""
    yield


class strict_fusion:
    """A block TorchScript must fuse entirely: accepted, as a context manager that does nothing."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None
