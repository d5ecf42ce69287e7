"""NumPy's floating-point error handling changed for one block of code, at a fifth of the
cost of ``numpy.errstate``.

Entering ``numpy.errstate(over="ignore")`` builds a new error-state object every time
(~0.7 µs), which is a fifth of a sigmoid on a small tensor.  NumPy 2 keeps the state in a
context variable (``numpy._core._ufunc_config._extobj_contextvar``) that its ufuncs read, so
an op can set a prepared state and reset the variable afterwards (~0.15 µs).  The prepared
state is derived from the one in force (``_make_extobj`` starts from it), and is remade
whenever that changes, so settings the user made with ``numpy.seterr`` or ``errstate`` stay in
force for everything the block does not change.  Being a context variable, the state is per
thread, as ``numpy.errstate``'s.

A NumPy without these names (another major version) gets ``numpy.errstate`` itself, with the
same results::

    token = errors.ignore(errors.OVERFLOW)
    try:
        ...
    finally:
        errors.restore(token)
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Setting", "OVERFLOW", "INVALID", "EVERYTHING", "ignore", "restore", "private_state"]

try:
    from numpy._core._ufunc_config import _extobj_contextvar as _STATE, _make_extobj
except ImportError:  # (not NumPy 2's layout: numpy.errstate does the work)
    _STATE = _make_extobj = None


class Setting:
    """Keyword arguments of ``numpy.errstate`` (e.g. ``over="ignore"``), with the state they
    make from the last state in force, kept as one ``(in force, made)`` pair so that two
    threads never read a half-updated cache."""

    __slots__ = ("kwargs", "last")

    def __init__(self, **kwargs: str) -> None:
        self.kwargs = kwargs
        self.last: tuple = (None, None)

    def __repr__(self) -> str:
        return "Setting(" + ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items()) + ")"


#: exp's overflow to inf, which sigmoid's kernel turns into an exact 0.
OVERFLOW = Setting(over="ignore")
#: inf - inf, which a row of -inf gives softmax (NaN, silently, as in PyTorch).
INVALID = Setting(invalid="ignore")
#: everything: a backward pass propagates inf and NaN without warnings, as PyTorch's does.
EVERYTHING = Setting(all="ignore")


def private_state() -> bool:
    """Whether this NumPy exposes the context variable (the fast path is in use)."""
    return _STATE is not None


def ignore(setting: Setting) -> Any:
    """Put ``setting`` in force for this thread; returns the token :func:`restore` takes."""
    if _STATE is None:
        return _enter_errstate(setting)
    in_force = _STATE.get()
    last = setting.last
    if last[0] is not in_force:
        last = setting.last = (in_force, _make_extobj(**setting.kwargs))
    return _STATE.set(last[1])


def restore(token: Any) -> None:
    """Put back the state :func:`ignore` replaced."""
    if _STATE is None:
        token.__exit__(None, None, None)
    else:
        _STATE.reset(token)


def _enter_errstate(setting: Setting) -> Any:
    state = np.errstate(**setting.kwargs)
    state.__enter__()
    return state
