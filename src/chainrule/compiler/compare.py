"""Two traces of the same guarded call, compared: what a plan may take as fixed.

A trace cannot see everything a region depends on: a tensor made inside it by something
other than an op (``nonzero``, ``unique``, a mask built from ``x._data``), a number computed
from Python state, random numbers drawn outside an op.  Comparing the first two calls with
the same guards finds them: the plan is built only when both calls ran the same ops on the
same constants.  Tensors from outside that are the same object in both are *live* (a replay
reads them); other tensors from outside must hold the same values in both (*constants*)
and must not require grad.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .trace import Raw, Ref, Trace, Value, storage_root


def compare(first: Trace, second: Trace) -> str | None:
    """None when ``second`` repeats ``first`` (then each external value of ``second`` is
    marked live or constant: ``Value.live``), else why not."""
    if len(first.values) != len(second.values) or len(first.steps) != len(second.steps):
        return "the region ran other ops than at its previous call"
    for a, b in zip(first.values, second.values):
        reason = _same_value(a, b)
        if reason:
            return reason
    storages = (_external_storages(first), _external_storages(second))
    for a, b in zip(first.steps, second.steps):
        if a.kind != b.kind or a.name != b.name or a.op is not b.op:
            return "the region ran other ops than at its previous call"
        if a.out.index != b.out.index or not (_same(a.args, b.args, storages) and
                                              _same(a.kwargs, b.kwargs, storages)):
            return (f"an argument of {b.op.__name__ if b.op is not None else b.name} changed between "
                    f"calls (a number or array computed from Python state or from the inputs' values)")
    for step in second.steps:
        if step.kind in ("write", "bump") and not step.out.live:
            return "an in-place change of a tensor made inside the region"
    if not _same(first.output, second.output, storages):
        return "the region's result has another structure or other constants than at its previous call"
    return None


def _same_value(a: Value, b: Value) -> str | None:
    if a.kind != b.kind or a.meta != b.meta or a.requires_grad != b.requires_grad:
        return "the region computed other values than at its previous call"
    if a.kind != "external":
        return None
    if a.tensor is b.tensor:
        return None
    if b.requires_grad:
        return "a tensor that requires grad was made inside the region by something other than an op"
    if a.alias_of is not None and b.alias_of is not None and a.alias_of.index == b.alias_of.index:
        return None  # a view of the same parameter or buffer: read live through the view
    if not _equal_arrays(a.array, b.array):
        return ("a tensor made inside the region by something other than an op changed between calls "
                "(it depends on the inputs' values, on Python state, or on random numbers)")
    b.live = False
    return None


def _external_storages(trace: Trace) -> dict:
    """id(storage) -> index of the live external value owning it."""
    return {id(v.root): v.index for v in trace.values if v.kind == "external" and v.alias_of is None}


def _equal_arrays(a: Any, b: Any) -> bool:
    return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
            and a.dtype == b.dtype and np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes())


def _view_place(array: Any) -> tuple:
    """Where a view lies in its storage: shape, strides, dtype, offset."""
    root = storage_root(array)
    offset = array.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return array.shape, array.strides, array.dtype, offset, root.shape, root.dtype


def _same(a: Any, b: Any, storages: tuple) -> bool:
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is Ref:
        return a.value.index == b.value.index and a.raw == b.raw
    if kind is Raw:
        if a.array is b.array:
            return True
        owners = (storages[0].get(id(storage_root(a.array))), storages[1].get(id(storage_root(b.array))))
        if owners[0] is not None and owners[0] == owners[1]:
            # the same view of a parameter's or buffer's storage (running statistics): live,
            # whatever values it holds now
            return _view_place(a.array) == _view_place(b.array)
        return _equal_arrays(a.array, b.array)
    if kind is tuple or kind is list:
        return len(a) == len(b) and all(_same(x, y, storages) for x, y in zip(a, b))
    if kind is dict:
        return a.keys() == b.keys() and all(_same(a[k], b[k], storages) for k in a)
    if isinstance(a, tuple):  # a named tuple of an op's constants (resampling's AxisMap): by field
        return len(a) == len(b) and all(_same(x, y, storages) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):  # an array inside such a constant: by value
        return _equal_arrays(a, b)
    if kind is float:
        return repr(a) == repr(b)  # tells -0.0 from 0.0, and nan equals nan
    try:
        equal = a == b
    except Exception:  # noqa: BLE001 - an object without a usable ==
        return a is b
    return equal is True or (isinstance(equal, (bool, np.bool_)) and bool(equal))
