"""Forward-mode automatic differentiation: PyTorch's ``torch.autograd.forward_ad``.

Inside a :class:`dual_level`, :func:`make_dual` pairs a tensor with a tangent; every op applied
to such a *dual tensor* gives its output the tangent ``J t`` (the op's Jacobian times its
inputs' tangents), and :func:`unpack_dual` reads it back.

No op has a tangent formula of its own.  An op's backward computes ``J^T g``, linear in ``g``;
run on the Tensor namespace (as under ``create_graph``) with a dummy ``g`` that requires grad,
the gradient of ``<J^T g, t>`` with respect to ``g`` is ``J t`` (the transpose, or
double-backward, trick).  So every op that supports double backward has forward mode too.
The tangent is computed when the op runs: while a level is open, a callback on every op
(``observe.forward``/``observe.unrecorded``, which also send the lean recording paths to the
general one) looks for dual arguments; ordinary ops cost nothing when no level is open.  The
tangent carries a graph (reverse mode over forward mode) where the op's inputs or tangents
require grad.  A user :class:`~chainrule.autograd.Function` gives its tangents by its ``jvp``
staticmethod (with what ``ctx.save_for_forward`` kept).

As in PyTorch, one level can be open at a time (nested forward mode is
:func:`chainrule.func.jvp`'s), levels are numbered from 0, and leaving a level deletes the
tangents made in it.
"""
from __future__ import annotations

import contextlib
import copy
import functools
import sys
import threading
import weakref
from typing import Any, Callable, Iterator, NamedTuple

import numpy as np

from ..backend import array_backend, get_array_module
from . import dual_state
from . import function as _function
from . import observe
from .engine import grad as _grad
from .function import Op
from .node import Node, edge_of, freed_error, set_edges
from .versions import inplace_epoch
from .grad_mode import enable_grad, grad_state, no_grad

__all__ = ["UnpackedDualTensor", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual", "dual_level"]

_current_level = -1
#: The tensors holding a tangent at the open level (by id): leaving the level deletes them.
_duals: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
_stop_watching: list = []


class _Paused(threading.local):
    depth = 0  # > 0 while tangents are being computed (or a Function's forward runs): none propagate


_paused = _Paused()


@contextlib.contextmanager
def _no_propagation() -> Iterator[None]:
    _paused.depth += 1
    try:
        yield
    finally:
        _paused.depth -= 1


# -- levels ----------------------------------------------------------------------------------------

def enter_dual_level() -> int:
    """Open a forward-mode level (the default level of :func:`make_dual` and
    :func:`unpack_dual` from now on) and return its number."""
    global _current_level
    if _current_level >= 0:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _current_level, dual_state.level_open = 0, True
    _stop_watching.extend((observe.add(observe.forward, _propagate), observe.add(observe.unrecorded, _propagate)))
    _function.bind_forward_mode(_apply_function)
    return _current_level


def exit_dual_level(*, level: int | None = None) -> None:
    """Close the open level (only the last one entered can be), deleting every tangent made in it."""
    global _current_level
    if level is None:
        level = _current_level
    if level != _current_level:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that was created. "
                           "This is not supported.")
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    while _stop_watching:
        _stop_watching.pop()()
    _function.bind_forward_mode(None)
    for tensor in list(_duals.values()):
        tensor._tangent = None
    _duals.clear()
    _current_level, dual_state.level_open = level - 1, False


class dual_level:
    """Context manager (and decorator) in which forward-mode AD runs: it enters a level and
    exits it, deleting its tangents, on the way out::

        with dual_level():
            out = f(make_dual(x, v))
            jvp = unpack_dual(out).tangent
    """

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        exit_dual_level()

    def __call__(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def in_level(*args: Any, **kwargs: Any) -> Any:
            with dual_level():
                return func(*args, **kwargs)

        return in_level


def _checked_level(level: int | None, what: str) -> int:
    if level is None:
        return _current_level
    if level != _current_level:
        raise RuntimeError(f"Invalid level given to {what}")
    return level


# -- dual tensors ----------------------------------------------------------------------------------

class UnpackedDualTensor(NamedTuple):
    """What :func:`unpack_dual` returns: the primal (a view of the dual tensor's values) and
    its tangent (None when it has none)."""

    primal: Any
    tangent: Any


class _Alias(Op):
    """A view of the whole tensor (the primal of make_dual and unpack_dual)."""

    __slots__ = ()
    arguments = "general"
    is_view = True
    pytorch_name = "ViewBackward0"
    derivative = ("d u/du = 1",)

    def forward(self, xp: Any, a: Any) -> Any:
        return a.view()

    def backward(self, xp: Any, g: Any) -> Any:
        return g


def make_dual(tensor: Any, tangent: Any, *, level: int | None = None) -> Any:
    """A view of ``tensor`` carrying ``tangent`` (kept as it is) at the open level: ops
    applied to it propagate the tangent (the Jacobian-vector product)."""
    if level is None:
        level = _current_level
    if level < 0:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, make sure to "
                           "enter_dual_level() first.")
    for role, value in (("primal", tensor), ("tangent", tangent)):
        if value._data.dtype.kind not in "fcV":
            raise ValueError(f"Expected {role} to be floating point or complex, but got: {value.dtype}")
    if level != _current_level:
        raise RuntimeError("Invalid level given to _make_dual")
    if tensor._tangent is not None:
        raise RuntimeError(f"Making a dual Tensor based on a Tensor that already has a forward gradient at the "
                           f"same level {level} is not supported.")
    _check_size(tensor, tangent)
    with _no_propagation():
        dual = _Alias.apply(tensor)
    _set_tangent(dual, tangent)
    return dual


def unpack_dual(tensor: Any, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)`` of a dual tensor: a view of its values without the tangent, and
    the tangent as it is (None for a tensor without one, or outside any level)."""
    if level is None:
        level = _current_level
    if level < 0:
        return UnpackedDualTensor(tensor, None)
    _checked_level(level, "_fw_primal")
    tangent = tensor._tangent
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    with _no_propagation():
        primal = _Alias.apply(tensor)
    return UnpackedDualTensor(primal, tangent)


def _check_size(tensor: Any, tangent: Any) -> None:
    if tangent._data.shape != tensor._data.shape:
        raise RuntimeError(
            f"Trying to set a forward gradient that has a different size than that of the original Tensor, this is "
            f"not supported. Tensor is of size {list(tensor._data.shape)} while the given forward gradient is of "
            f"size {list(tangent._data.shape)}.")


def _set_tangent(tensor: Any, tangent: Any) -> None:
    tensor._tangent = tangent
    _duals[id(tensor)] = tensor


def tangent_of(tensor: Any) -> Any:
    """``tensor``'s tangent at the open level, or None (the same as ``unpack_dual(t).tangent``
    for a tensor; None for anything else)."""
    return getattr(tensor, "_tangent", None) if _current_level >= 0 else None


def with_tangent_of(source: Any, target: Any) -> Any:
    """``target``, given ``source``'s tangent (the copy an in-place change runs its op on)."""
    tangent = tangent_of(source)
    if tangent is not None:
        _set_tangent(target, tangent)
    return target


def set_changed_tangent(tensor: Any, tangent: Any) -> None:
    """After an in-place change of ``tensor``: its tangent becomes ``tangent``, written into
    its old tangent where it has one (as PyTorch updates the tangent in place)."""
    old = tensor._tangent
    if tangent is None:
        if old is not None:
            tangent = old * 0
        else:
            return
    if old is not None and old._data.shape == tangent._data.shape and old._data.dtype == tangent._data.dtype \
            and old.grad_fn is None and not old._rg:
        old._data[...] = tangent._data
        return
    _set_tangent(tensor, tangent)


# -- propagation through ops: the transpose trick --------------------------------------------------

def _propagate(node: Any, args: tuple, kwargs: dict, output: Any) -> None:
    """After an op ran (the ``observe`` callback): give its output the tangent ``J t`` when
    an argument is dual."""
    if _paused.depth:
        return
    Tensor = _function.Tensor
    tangents = [a._tangent if isinstance(a, Tensor) else None for a in args]
    if all(t is None for t in tangents) or not type(node).differentiable or not isinstance(output, Tensor):
        return
    if output._data.dtype.kind not in "fcV" or not isinstance(node, Op):
        return
    with _no_propagation():
        _set_tangent(output, _jvp(node, args, output, tangents))


def _jvp(node: Op, args: tuple, output: Any, tangents: list) -> Any:
    """``J t`` of the op ``node`` that ran on ``args`` and made ``output``: the gradient with
    respect to ``g`` of ``sum(J_i^T g * t_i)``, each ``J_i^T g`` being the op's backward.

    The computation has a graph of its own: the values it reads (saved arguments, the saved
    output, the tangents) enter it as fresh leaves.  Where some of them require grad, the
    tangent's one node (:class:`_TangentBackward`) leads from those leaves to the real tensors,
    so that a backward through tangents never walks the whole graph behind each op."""
    make, namespace, Tensor = _function._make, _function.tensor_namespace(), _function.Tensor
    differentiable = grad_state.enabled and (output._rg or any(t is not None and t._rg for t in tangents))
    stand_ins: dict = {}  # id(real tensor) -> (real tensor, the leaf standing for it)

    def stand_in(real: Any) -> Any:
        if not (differentiable and real._rg):
            return make(real._data, None, False)
        pair = stand_ins.get(id(real))
        if pair is None:
            pair = stand_ins[id(real)] = (real, make(real._data, None, True))
        return pair[1]

    twin = copy.copy(node)
    twin.__dict__.clear()
    twin.edges = tuple(None if t is None else True for t in tangents)
    if node.saved:
        twin.saved = tuple(_saved_value(s, args, output, stand_in) for s in node.saved)
    out = output._data
    with enable_grad():
        g = make(get_array_module(out).zeros(out.shape, dtype=out.dtype), None, True)
        result = twin.backward(namespace, g)
        if type(result) is not tuple:
            result = (result,)
        total = None
        for r, t in zip(result, tangents):
            if t is not None and isinstance(r, Tensor) and r._rg:
                term = (r * stand_in(t)).sum()
                total = term if total is None else total + term
        jvp = None if total is None else _grad(total, g, create_graph=differentiable, allow_unused=True)[0]
    if jvp is None:
        return make(out * 0, None, False)
    if not (stand_ins and jvp._rg):
        return make(jvp._data, None, False)
    return _tangent_with_graph(jvp, list(stand_ins.values()))


def _saved_value(saved: Any, args: tuple, output: Any, stand_in: Any) -> Any:
    """A saved value as the backward formula reads it: a tensor standing for the argument or
    output it is, else a constant (numbers and options as they are)."""
    if type(saved) is not np.ndarray and array_backend(saved) is None:
        return saved
    if saved is output._data:
        return stand_in(output)
    for a in args:
        if getattr(a, "_data", None) is saved:
            return stand_in(a)
    return _function._make(saved, None, False)


class _TangentBackward(Node):
    """The node of a tangent that depends on tensors requiring grad: its backward is that of
    the tangent's own graph (``saved``: the tangent computed there, and the leaves standing
    for this node's inputs)."""

    __slots__ = ()

    def apply_backward(self, grad: Any, create_graph: bool) -> tuple:
        if self.saved is None:
            raise freed_error(self)
        inner, leaves = self.saved
        if not isinstance(grad, _function.Tensor):
            grad = _function._make(grad, None, False)
        with (enable_grad() if create_graph else no_grad()):
            found = _grad(inner, leaves, grad, retain_graph=True, create_graph=create_graph, allow_unused=True)
        return tuple(f if create_graph or f is None else f._data for f in found)

    def release(self) -> None:
        self.saved = None


def _tangent_with_graph(inner: Any, pairs: list) -> Any:
    """The tangent ``inner`` (computed on stand-in leaves) as a tensor whose history leads to
    the real tensors the leaves stood for."""
    node = _TangentBackward.__new__(_TangentBackward)
    set_edges(node, [edge_of(real) for real, _ in pairs])
    node.saved = (inner, [leaf for _, leaf in pairs])
    node.inputs = ()
    node.output = None
    node.epoch = inplace_epoch.value
    return _function._make(inner._data, node, True)


# -- user Functions: their jvp ---------------------------------------------------------------------

def _apply_function(cls: type, args: tuple, kwargs: dict) -> Any:
    """``Function.apply`` while a level is open: the forward sees no tangents; the outputs get
    those ``cls.jvp(ctx, *tangents)`` returns (zeros for a tensor argument without one)."""
    Tensor = _function.Tensor
    tangents = [tangent_of(a) if isinstance(a, Tensor) else None for a in args]
    if _paused.depth or all(t is None for t in tangents):
        return cls._apply_with_ctx(args, kwargs)[1]
    with _no_propagation():
        ctx, result = cls._apply_with_ctx(args, kwargs)
    given = [(t if t is not None else _function._make(a._data * 0, None, False)) if isinstance(a, Tensor) else None
             for a, t in zip(args, tangents)]
    outputs = result if isinstance(result, tuple) else (result,)
    with _no_propagation():
        ctx._in_jvp = True
        try:
            found = cls.jvp(ctx, *given)
        finally:
            ctx._in_jvp = False
    found = found if isinstance(found, tuple) else (found,)
    if len(found) != len(outputs):
        raise RuntimeError(f"Function's jvp returned an invalid number of forward gradients (expected "
                           f"{len(outputs)} but got {len(found)})")
    for out, tangent in zip(outputs, found):
        if isinstance(out, Tensor) and tangent is not None and out._data.dtype.kind in "fcV":
            _check_size(out, tangent)
            _set_tangent(out, tangent)
    return result


dual_state.tangents = sys.modules[__name__]
