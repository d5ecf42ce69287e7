"""``detect_anomaly``: find the op whose forward or backward first produced NaN or inf.

While it is on, every recorded node remembers the user's source line that created it.  A
forward that produces NaN/inf is reported with a warning naming the op and that line; a
backward that produces NaN/inf raises RuntimeError naming the node, the line of the
forward call that created it, and the first forward op that went non-finite, if any.
"""
from __future__ import annotations

import functools
import os
import sys
import warnings
from typing import Any

import numpy as np

from ..backend import array_backend, get_array_module


class _AnomalyState:
    __slots__ = ("enabled", "check_nan", "first_forward")

    def __init__(self) -> None:
        self.enabled = False
        self.check_nan = True
        self.first_forward: str | None = None


state = _AnomalyState()

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def user_frame() -> str:
    """``file:line in function`` of the innermost caller outside chainrule."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if not filename.startswith(_PACKAGE_DIR):
            return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"
        frame = frame.f_back
    return "<unknown>"


def _non_finite(array: Any) -> bool:
    if not isinstance(array, np.ndarray) and array_backend(array) is None:
        return False
    return array.dtype.kind in "fcV" and not bool(get_array_module(array).isfinite(array).all())


def on_forward(op_name: str, out: Any, node: Any) -> None:
    where = user_frame()
    if node is not None:
        node.anomaly_trace = where
    if state.check_nan and _non_finite(out):
        message = f"{op_name} produced NaN/inf in its forward, at {where}"
        if state.first_forward is None:
            state.first_forward = message
        warnings.warn(message, RuntimeWarning, stacklevel=3)


def on_backward(node: Any, grads: tuple) -> None:
    if not state.check_nan:
        return
    for index, g in enumerate(grads):
        data = getattr(g, "_data", g)  # a Tensor's array under create_graph, else the array
        if _non_finite(data):
            where = getattr(node, "anomaly_trace", None) or "an unknown line (created before anomaly detection was on)"
            extra = f" Earlier, {state.first_forward}." if state.first_forward else ""
            kind = "nan" if bool(get_array_module(data).isnan(data).any()) else "inf"
            raise RuntimeError(
                f"Function '{node.name()}' returned {kind} values in its {index}th output. "
                f"The forward call that created it: {where}.{extra}"
            )


class detect_anomaly:
    """Context manager (and decorator) that turns anomaly detection on.

    >>> with chainrule.autograd.detect_anomaly():
    ...     loss.backward()   # RuntimeError: Function 'LogBackward' returned nan values ...
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self) -> None:
        self.previous = (state.enabled, state.check_nan, state.first_forward)
        state.enabled, state.check_nan, state.first_forward = True, self.check_nan, None

    def __exit__(self, *exc: object) -> None:
        state.enabled, state.check_nan, state.first_forward = self.previous

    def __call__(self, func: Any) -> Any:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly(self.check_nan):
                return func(*args, **kwargs)

        return wrapper


class set_detect_anomaly:
    """Turn anomaly detection on or off (at once, and restored on exit as a context manager)."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.previous = (state.enabled, state.check_nan)
        state.enabled, state.check_nan = bool(mode), check_nan

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        state.enabled, state.check_nan = self.previous


def is_anomaly_enabled() -> bool:
    """Whether ``detect_anomaly`` (or ``set_detect_anomaly(True)``) is on."""
    return state.enabled


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly mode also checks every backward result for NaN/inf."""
    return state.check_nan
