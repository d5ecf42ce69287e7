"""In-place changes: ``x.add_(y)``, ``x[i] = v``, ``F.relu(x, inplace=True)``.

:func:`apply_inplace` writes an op's result into a tensor's own storage.  When the change is
recorded, the op runs on a copy that carries the tensor's history (the op may save its input,
which the write would otherwise change under it), and the tensor becomes the op's output in
the graph; its version goes up, so nodes that saved the old values refuse their backward.  A
change of a view rewrites its base's history too (PyTorch's CopySlices).  Unrecorded changes
of the common arithmetic write straight into the array with an in-place ufunc.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .autograd import dual_state, observe
from .autograd.function import Op
from .autograd.graph import InplaceChange
from .autograd.grad_mode import grad_state
from .autograd.versions import inplace_epoch, storage_root
from .backend import array_backend, get_array_module
from .dtypes import cast_error, cpp_name, get_default_dtype
from .ops.elementwise import Cast, Where, bool_subtraction, promote
from .ops.shape import ViewScatter
from .tensor import Tensor, _make


def apply_inplace(tensor: Tensor, name: str, op: Callable, *args: Any, kernel: Callable | None = None,
                  **kwargs: Any) -> Tensor:
    """Write ``op(tensor, *args, **kwargs)`` (an Op's ``apply`` or a functional form) into
    ``tensor``; ``name`` is the in-place form's name for errors (``"add_"``).  ``kernel(array,
    *arrays, **kwargs)``, when given, does the unrecorded change in place."""
    if observe.inplace:  # a graph capture is watching: tell it what changes, before and after
        change = InplaceChange(op, args, kwargs, kernel)
        as_op = observe.notify_inplace("begin", tensor, name, change)
        try:
            return _apply_inplace(tensor, name, op, args, kwargs, kernel, as_op)
        finally:
            observe.notify_inplace("end", tensor, name, change)
    return _apply_inplace(tensor, name, op, args, kwargs, kernel)


def _apply_inplace(tensor: Tensor, name: str, op: Callable, args: tuple, kwargs: dict,
                   kernel: Callable | None, as_op: bool = False) -> Tensor:
    tensor._check_inplace()
    # Forward-mode AD: the op runs on a copy carrying the tensor's tangent, which gives the new one.
    dual = dual_state.level_open and any(dual_state.tangents.tangent_of(a) is not None
                                         for a in (tensor, *args, *kwargs.values()))
    recording = grad_state.enabled and (
        tensor._rg or any(isinstance(a, Tensor) and a._rg for a in args)
        or any(isinstance(a, Tensor) and a._rg for a in kwargs.values())
    )
    if not recording:
        if as_op:  # a graph capture takes this change as its op on a copy of the old value
            before = _make(tensor._data.copy())
            observe.notify_inplace("copy", before, name)
            result = op(before, *args, **kwargs)._data
            if result.dtype == tensor._data.dtype or kernel is None:
                assign(tensor._data, result)
            else:  # a cast into the tensor's dtype: eager's own kernel, with its casting rules
                kernel(tensor._data, *[a._data if isinstance(a, Tensor) else a for a in args], **kwargs)
        elif dual:
            result = op(dual_state.tangents.with_tangent_of(tensor, _make(tensor._data.copy())), *args, **kwargs)
            assign(tensor._data, result._data)
            _take_tangent(tensor, result)
        elif kernel is not None:
            kernel(tensor._data, *[a._data if isinstance(a, Tensor) else a for a in args], **kwargs)
        else:  # the op's own forward on the values, written back
            assign(tensor._data, op(_make(tensor._data), *args, **kwargs)._data)
        tensor._mark_modified(name)
        return tensor
    if tensor._view_of is not None:
        _check_view_of_leaf(tensor)
    before = _make(tensor._data.copy(), tensor.grad_fn, tensor._rg)
    before._output_nr = tensor._output_nr
    if dual:
        dual_state.tangents.with_tangent_of(tensor, before)
    if observe.inplace:  # a graph capture: the op reads this copy of the tensor's old value
        observe.notify_inplace("copy", before, name)
    result = op(before, *args, **kwargs)
    assign(tensor._data, result._data)
    tensor._mark_modified(name)
    _output_is_this_storage(result.grad_fn, result._data, tensor._data)
    tensor.grad_fn = result.grad_fn
    tensor._output_nr = 0
    tensor._rg = True
    if dual:
        _take_tangent(tensor, result)
    if tensor._view_of is not None:
        _rebase_view(tensor, name)
    return tensor


def assign(target: Any, value: Any) -> None:
    """``target[...] = value`` for an in-place result, which must keep the target's shape."""
    if value.shape != target.shape:
        raise RuntimeError(
            f"output with shape {list(target.shape)} doesn't match the broadcast shape "
            f"{list(value.shape)}"
        )
    if value.dtype != target.dtype:
        if not np.can_cast(value.dtype, target.dtype, "same_kind"):
            raise cast_error(value.dtype, target.dtype)
        value = value.astype(target.dtype)
    target[...] = value


def overwrite(before: Tensor, value: Any) -> Tensor:
    """fill_ and copy_ as an op: the new value everywhere, the old one nowhere (its gradient
    is zero), recorded as a ``where`` with an all-true mask."""
    if isinstance(value, Tensor) and value._data.dtype != before._data.dtype:
        value = Cast.apply(value, before._data.dtype)
    everywhere = get_array_module(before._data).ones(before._data.shape, dtype=bool)
    return Where.apply(everywhere, value, before)


# -- the unrecorded fast paths: in-place ufuncs -------------------------------------------------


def zero_gradient(grad: Tensor) -> None:
    """``zero_grad(set_to_none=False)`` for one ``.grad`` (a module's and an optimizer's): cut
    from any graph and zeroed in place, as PyTorch's; a sparse one is left with no entries."""
    if grad.is_sparse:
        grad.zero_()
        return
    if grad.grad_fn is not None:
        grad.detach_()
    else:
        grad._rg = False
    grad._data.fill(0)
    grad._mark_modified("zero_")


def _opmath_operand(ufunc: Any, dtype: Any, other: Any) -> Any:
    """The other operand of a bfloat16 in-place op, for its float32 computation: arrays in
    float32; a number as it is, but for add and sub, whose PyTorch kernels round it (and
    ``alpha``) to bfloat16 first (as the out-of-place ops, ops.elementwise._with_number)."""
    if hasattr(other, "dtype"):
        return other.astype(np.float32) if other.dtype.kind in "fV" else other
    if ufunc is np.add or ufunc is np.subtract:
        return float(dtype.type(other))
    return other


def _result_dtype(ufunc: Any, target: Any, other: Any) -> np.dtype:
    """The dtype of ``ufunc(target, other)`` by PyTorch's promotion (a Python float is the
    default dtype; a true division of integers is a float)."""
    if type(other) is complex:
        result = np.dtype(np.complex64)
    elif type(other) is float or hasattr(other, "dtype"):
        result = promote(target, other)[0].dtype
    else:
        result = np.result_type(target, other)
    return get_default_dtype().numpy if ufunc is np.true_divide and result.kind in "biu" else result


def ufunc_kernel(ufunc: Any) -> Callable:
    """``target op= other`` in place, with PyTorch's errors for what cannot be written."""

    def run(target: Any, other: Any, alpha: Any = 1) -> None:
        if target.dtype.kind == "V":  # bfloat16: in float32, rounded once (PyTorch's opmath)
            wide = target.astype(np.float32)
            run(wide, _opmath_operand(ufunc, target.dtype, other), float(target.dtype.type(alpha)))
            target[...] = wide
            return
        if alpha != 1:
            other = other * alpha
        try:
            ufunc(target, other, out=target, casting="same_kind")
        except TypeError:
            if ufunc is np.subtract and np.bool_ in (target.dtype, getattr(other, "dtype", type(other))):
                raise bool_subtraction(target, other) from None
            raise cast_error(_result_dtype(ufunc, target, other), target.dtype) from None
        except ValueError as error:
            if "negative integer powers" in str(error):
                raise RuntimeError(str(error)) from None
            raise RuntimeError(
                f"output with shape {list(target.shape)} doesn't match the broadcast shape "
                f"{list(np.broadcast_shapes(target.shape, np.shape(other)))}"
            ) from error

    run.accepts = frozenset({"alpha"})
    return run


def clamp_kernel(target: Any, min: Any = None, max: Any = None) -> None:
    try:
        if min is not None:
            np.maximum(target, min, out=target)
        if max is not None:
            np.minimum(target, max, out=target)
    except TypeError:  # (a float bound of an integer tensor)
        raise RuntimeError(f"result type Float can't be cast to the desired output type {cpp_name(target.dtype)}") \
            from None


clamp_kernel.accepts = frozenset({"min", "max"})


def overwrite_kernel(target: Any, value: Any) -> None:
    target[...] = value


def put_kernel(target: Any, value: Any, index: tuple, accumulate: bool = False) -> None:
    if accumulate:
        np.add.at(target, index, value)
    else:
        target[index] = value


# -- the graph side of a change ---------------------------------------------------------------


def _output_is_this_storage(node: Any, out: Any, data: Any) -> None:
    """After ``x.relu_()`` the op's output *is* x's storage: a node that saved its output now
    holds that storage, so a later in-place change of x makes its backward refuse to run,
    as in PyTorch (``x.relu_(); x.exp_()`` then backward raises).  This write itself is not
    such a change, unless the op also saved an argument in that storage (``x.mul_(x)``
    overwrote what it saved: its backward must refuse, as PyTorch's does)."""
    if not isinstance(node, Op) or not node.saved:
        return
    if node.output is out:
        node.output = data
    root = storage_root(data)
    overwritten = any((type(s) is np.ndarray or array_backend(s) is not None) and s is not out
                      and storage_root(s) is root for s in node.saved)
    node.saved = tuple(data if s is out else s for s in node.saved)
    if not overwritten:
        node.epoch = inplace_epoch.value


def _take_tangent(tensor: Tensor, result: Tensor) -> None:
    """Forward-mode AD: ``tensor``, changed in place to ``result``'s values, takes its tangent;
    the bases it is a view of take it in the view's region."""
    forward_ad = dual_state.tangents
    forward_ad.set_changed_tangent(tensor, forward_ad.tangent_of(result))
    view = tensor
    while view._is_view() and forward_ad.tangent_of(view) is not None:
        base, view_op, args, kwargs = view._view_of
        old = forward_ad.tangent_of(base)
        tangent = _make(get_array_module(base._data).zeros_like(base._data) if old is None else old._data.copy())
        region = view_op.__new__(view_op).forward(get_array_module(base._data), tangent._data, *args, **kwargs)
        region[...] = forward_ad.tangent_of(view)._data
        forward_ad.set_changed_tangent(base, tangent)
        view = base




def _check_view_of_leaf(view: Tensor) -> None:
    base = view
    while base._is_view():
        base = base._view_of[0]
    if base is not view and base.requires_grad and base.grad_fn is None:
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place operation."
        )


def _rebase_view(view: Tensor, op_name: str) -> None:
    """``view`` was changed in place, and with it its base's storage: the base's new history
    is its old one outside the view's region and the view's new one inside (PyTorch's
    CopySlices).  Views of views rebase up the chain."""
    if not view._is_view():  # advanced indexing made a copy: nothing else changed
        return
    # No bump here: the view shares its base's version counter, already bumped.
    base, view_op, args, kwargs = view._view_of
    before = _make(base._data, base.grad_fn, base.requires_grad)
    before._output_nr = base._output_nr
    result = ViewScatter.apply(before, view, view_op, args, kwargs)
    base.grad_fn = result.grad_fn
    base._output_nr = 0
    base._rg = result._rg
    if base._view_of is not None:
        _rebase_view(base, op_name)
