"""Switches for recording the graph: ``no_grad``, ``enable_grad``, ``set_grad_enabled``,
``inference_mode``.  Each works as a context manager and as a decorator.

As in PyTorch, the mode belongs to the thread: one thread inside ``no_grad`` (an optimizer's
``step``, an evaluation loop) leaves the others recording, and every new thread starts with
recording on.
"""
from __future__ import annotations

import functools
import inspect
import threading
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _GradState(threading.local):
    """The calling thread's grad mode (``enabled``: whether ops record the graph).  One
    module-level object, so that the check an op makes on its hot path is one attribute read."""

    enabled = True  # each thread reads this default until it sets its own


grad_state = _GradState()


def is_grad_enabled() -> bool:
    """True when ops in this thread record the graph for backward."""
    return grad_state.enabled


class _GradModeContext:
    _target: bool

    def __enter__(self) -> None:
        self._previous = grad_state.enabled
        grad_state.enabled = self._target

    def __exit__(self, *exc: object) -> None:
        grad_state.enabled = self._previous

    def __call__(self, func: F) -> F:
        target = self._target
        if inspect.isgeneratorfunction(func):
            return _generator_in_mode(func, target)  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            previous = grad_state.enabled
            grad_state.enabled = target
            try:
                return func(*args, **kwargs)
            finally:
                grad_state.enabled = previous

        return wrapper  # type: ignore[return-value]


def _generator_in_mode(func: Callable, target: bool) -> Callable:
    """A generator function whose body runs in the mode ``target`` each time it is resumed,
    while the caller keeps its own mode between the values it takes (as PyTorch does)."""

    def step(advance: Callable, *args: Any) -> Any:
        previous = grad_state.enabled
        grad_state.enabled = target
        try:
            return advance(*args)
        finally:
            grad_state.enabled = previous

    @functools.wraps(func)
    def generator(*args: Any, **kwargs: Any) -> Any:
        inner = func(*args, **kwargs)
        try:
            value = step(inner.send, None)
            while True:
                try:
                    sent = yield value
                except GeneratorExit:
                    step(inner.close)
                    raise
                except BaseException as error:  # noqa: BLE001 - handed to the generator
                    value = step(inner.throw, error)
                else:
                    value = step(inner.send, sent)
        except StopIteration as stop:
            return stop.value

    return generator


class _DecoratorWithoutCall(_GradModeContext):
    """Also usable as a bare decorator: ``@no_grad`` as well as ``@no_grad()``."""

    def __new__(cls, func: Callable | None = None) -> Any:
        if func is None:
            return super().__new__(cls)
        return cls()(func)


class no_grad(_DecoratorWithoutCall):
    """Ops inside do not record the graph.

    >>> with chainrule.no_grad():
    ...     w -= lr * w.grad
    """

    _target = False


class enable_grad(_DecoratorWithoutCall):
    """Ops inside record the graph, even within ``no_grad``."""

    _target = True


class _InferenceState(threading.local):
    """Whether the calling thread is inside ``inference_mode`` (per thread, as in PyTorch)."""

    enabled = False


_inference = _InferenceState()


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()`` in this thread."""
    return _inference.enabled


class inference_mode(_GradModeContext):
    """Like ``no_grad`` (chainrule has no separate inference tensors), and
    ``is_inference_mode_enabled()`` is True inside."""

    _target = False

    def __new__(cls, mode: Any = True) -> Any:
        if isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)  # a bare @inference_mode: ``mode`` is the decorated function

    def __init__(self, mode: Any = True) -> None:
        if isinstance(mode, bool):
            self._target = not mode

    def __enter__(self) -> None:
        super().__enter__()
        self._previous_inference = _inference.enabled
        _inference.enabled = not self._target

    def __exit__(self, *exc: object) -> None:
        _inference.enabled = self._previous_inference
        super().__exit__(*exc)

    def __call__(self, func: F) -> F:
        mode = self

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(mode)(not mode._target):
                return func(*args, **kwargs)

        if inspect.isgeneratorfunction(func):
            return super().__call__(func)
        return wrapper  # type: ignore[return-value]


class set_grad_enabled(_GradModeContext):
    """Turn recording on or off; takes effect at once, and as a context manager restores
    the previous mode on exit."""

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled(): argument 'enabled' (position 1) must be bool, not "
                            f"{type(mode).__name__}")
        self._target = mode
        self._previous = grad_state.enabled
        grad_state.enabled = self._target

    def __enter__(self) -> None:
        pass

    def __call__(self, func: F) -> F:
        # As a decorator it must not change the mode at decoration time.
        grad_state.enabled = self._previous
        return super().__call__(func)
