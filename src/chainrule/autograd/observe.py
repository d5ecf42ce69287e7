"""Who is watching the graph: callbacks that tools (``chainrule.viz``, the debugger, the graph
capture of ``chainrule.compiler``) register through :mod:`chainrule.autograd.graph`.  The
engine, the recording paths and the tensor methods that read values look here; with nothing
registered each costs one truthiness check of a list, made only off the hot paths (cuts, backward
entries), and reads of ``.grad`` are watched only while someone watches them (the Tensor class
then reads through :func:`notify_grad_read`)."""
from __future__ import annotations

from typing import Any, Callable

#: ``observe(node, args, kwargs, output)`` after an op records a node.
forward: list = []
#: ``observe(node, args, kwargs, output)`` after an op runs without recording a node (grad
#: mode off, or no argument requiring grad).  Each of these callbacks is also in ``forward``
#: (which sends every op down the recording path that notifies).
unrecorded: list = []
#: ``observe(cls)`` just before an op's forward runs (registered with a ``forward`` and
#: ``unrecorded`` callback, which send every op down the path that checks this list).
starting: list = []
#: ``observe(node)`` just before each node's backward, in every backward but dry runs
#: (registered with a ``backward`` callback, which sends the walk down its watched path).
backward_starting: list = []
#: ``observe(node, grad_outputs, grad_inputs)`` after each node's backward, in every backward;
#: ``grad_inputs`` has one entry per argument of the op (None where none flowed).
backward: list = []
#: ``observe(kind, sources, output, op)`` where the graph is cut: a value that needs a gradient
#: leaves it (``.detach()``, ``.data``, ``.item()``, an op under no_grad, an op with no
#: derivative ...).  A str it returns becomes ``output``'s cut description.
cuts: list = []
#: ``observe(roots, error)`` after each ``backward()`` call (``error``: the exception it raised,
#: or None).
passes: list = []
#: ``observe(tensor, grad)`` when code reads ``tensor.grad``.
grad_reads: list = []
#: ``observe(tensor, how)`` when a tensor's values are read into Python (``item()``,
#: ``bool()``, ``tolist()``, ``numpy()`` ...): ``how`` names the read.
read: list = []
#: ``observe(node)`` after a user ``Function``'s node records what ``save_for_backward`` kept
#: (``node.saved``): the saved tensor hooks (:mod:`.saved_hooks`) pack it there.
saved: list = []
#: ``observe(stage, target, name, change)`` for in-place changes (see ``graph.on_inplace``):
#: "begin"/"end" around a change made through ``inplace.apply_inplace`` (``target``: the
#: tensor; a "begin" callback returning True asks for the change as its op), "copy" for the
#: copy of the old value that op reads, "version" for every version bump (``target``: the
#: storage's array, or None).
inplace: list = []


def notify_forward(node: Any, args: tuple, kwargs: dict, output: Any) -> None:
    for callback in list(forward):
        callback(node, args, kwargs, output)


def notify_unrecorded(node: Any, args: tuple, kwargs: dict, output: Any) -> None:
    for callback in list(unrecorded):
        callback(node, args, kwargs, output)


def notify_backward(node: Any, grad_outputs: tuple, grad_inputs: tuple) -> None:
    for callback in list(backward):
        callback(node, grad_outputs, grad_inputs)


def notify_cut(kind: str, sources: tuple, output: Any, op: str | None = None) -> None:
    """Tell the cut watchers; the last description one returns is kept on ``output``."""
    for callback in list(cuts):
        description = callback(kind, sources, output, op)
        if description is not None and output is not None:
            output._cut = description


def notify_pass(roots: list, error: BaseException | None) -> None:
    for callback in list(passes):
        callback(roots, error)


def notify_grad_read(tensor: Any, grad: Any) -> Any:
    for callback in list(grad_reads):
        callback(tensor, grad)
    return grad
def notify_read(tensor: Any, how: str) -> None:
    for callback in list(read):
        callback(tensor, how)


def notify_saved(node: Any) -> None:
    for callback in list(saved):
        callback(node)


def notify_inplace(stage: str, target: Any, name: str, change: Any = None) -> bool:
    """Tell the in-place observers; True when one asks for the change as its op on a copy of
    the old value (see ``graph.on_inplace``)."""
    wanted = False
    for callback in list(inplace):
        wanted = bool(callback(stage, target, name, change)) or wanted
    return wanted


def add(callbacks: list, callback: Callable) -> Callable[[], None]:
    """Register ``callback`` in ``callbacks``; returns the function that removes it."""
    callbacks.append(callback)

    def remove() -> None:
        try:
            callbacks.remove(callback)
        except ValueError:
            pass

    return remove
