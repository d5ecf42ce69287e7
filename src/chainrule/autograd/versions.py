"""Version counters: how backward knows that a value it saved was changed in place since.

Every storage that is ever changed in place gets a :class:`VersionCounter` (views share their
base's).  A node keeps only arrays, not tensors (fewer objects for the garbage collector to
rescan on long graphs), so its backward asks :func:`changed_since` whether a saved array's
storage was modified after the node's forward; :data:`inplace_epoch` counts every in-place
change anywhere, so a backward can skip all checks when nothing changed at all.
"""
from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from . import observe

_ndarray = np.ndarray


class _InplaceEpoch:
    """Counts every in-place modification anywhere; a node remembers the count at its
    forward, so its backward can skip the version checks when nothing changed since."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0


inplace_epoch = _InplaceEpoch()


def storage_root(array: Any) -> Any:
    """The array that owns ``array``'s memory (views chain to it through ``.base``)."""
    base = array.base
    # NumPy's chain ends at a non-array (bytes, a buffer); a device array's at None.
    kind = _ndarray if isinstance(array, _ndarray) else type(array)
    while isinstance(base, kind):
        array, base = base, base.base
    return array


#: id(storage root) -> (epoch, op name, version) of its latest in-place modification.  An
#: entry goes when its array is freed.
_modified: dict = {}


def _forget_storage(key: int) -> None:
    _modified.pop(key, None)


class VersionCounter:
    """Counts in-place modifications of one storage; views share their base's counter.
    ``root`` is that storage's owning array (None: changes are not tracked, as for ``.data``)."""

    __slots__ = ("value", "last_op", "epoch", "root")

    def __init__(self, root: Any = None) -> None:
        self.value = 0
        self.last_op = ""
        self.epoch = 0
        self.root = root

    def bump(self, op_name: str) -> None:
        """Record one in-place change of this storage by the op ``op_name``."""
        self.value += 1
        self.last_op = op_name
        inplace_epoch.value += 1
        self.epoch = inplace_epoch.value
        root = self.root
        if root is not None:
            key = id(root)
            if key not in _modified:
                weakref.finalize(root, _forget_storage, key)
            _modified[key] = (self.epoch, op_name, self.value)
        if observe.inplace:
            observe.notify_inplace("version", root, op_name)


def last_change(array: Any) -> tuple | None:
    """``(epoch, op name, version)`` of the latest in-place change of ``array``'s storage, or
    None if it was never changed in place."""
    return _modified.get(id(storage_root(array)))


def changed_since(array: Any, epoch: int) -> bool:
    """Whether ``array``'s storage was modified in place after the in-place epoch ``epoch``
    (a node's ``epoch`` is the count at its forward)."""
    change = _modified.get(id(storage_root(array)))
    return change is not None and change[0] > epoch
