"""Who is watching the graph: callbacks that tools (``chainrule.viz``, the debugger) register
through :mod:`chainrule.autograd.graph`.  The engine and the recording paths look here; with
nothing registered each costs one truthiness check of a list."""
from __future__ import annotations

from typing import Any, Callable

#: ``observe(node, args, kwargs, output)`` after an op records a node.
forward: list = []
#: ``observe(node, grad_outputs, grad_inputs)`` after each node's backward, in every backward;
#: ``grad_inputs`` has one entry per argument of the op (None where none flowed).
backward: list = []


def notify_forward(node: Any, args: tuple, kwargs: dict, output: Any) -> None:
    for callback in list(forward):
        callback(node, args, kwargs, output)


def notify_backward(node: Any, grad_outputs: tuple, grad_inputs: tuple) -> None:
    for callback in list(backward):
        callback(node, grad_outputs, grad_inputs)


def add(callbacks: list, callback: Callable) -> Callable[[], None]:
    """Register ``callback`` in ``callbacks``; returns the function that removes it."""
    callbacks.append(callback)

    def remove() -> None:
        try:
            callbacks.remove(callback)
        except ValueError:
            pass

    return remove
