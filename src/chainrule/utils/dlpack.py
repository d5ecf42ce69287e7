"""PyTorch's ``torch.utils.dlpack``: tensors exchanged with other array libraries through
DLPack, sharing memory (NumPy, PyTorch, CuPy ...)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor, _make

__all__ = ["from_dlpack", "to_dlpack"]


class _Capsule:
    """A bare DLPack capsule (``to_dlpack``'s result) presented as an exporter: NumPy's
    ``from_dlpack`` takes objects with ``__dlpack__``, not capsules."""

    def __init__(self, capsule: Any) -> None:
        self.capsule = capsule

    def __dlpack__(self, **kwargs: Any) -> Any:
        return self.capsule

    def __dlpack_device__(self) -> tuple:
        return (1, 0)  # a capsule that is no exporter's: read on the CPU


def to_dlpack(tensor: Tensor) -> Any:
    """``tensor``'s data as a DLPack capsule (shared memory; consumed once).  It is a
    versioned capsule (DLPack 1.0, which PyTorch reads too): NumPy reads the older kind only
    as read-only arrays."""
    return tensor.__dlpack__(max_version=(1, 0))


def from_dlpack(ext_tensor: Any) -> Tensor:
    """A tensor sharing the memory of ``ext_tensor``: an object with ``__dlpack__`` (a NumPy
    array, a PyTorch or CuPy tensor ...) or a DLPack capsule (one of the older, unversioned
    kind, such as ``torch.utils.dlpack.to_dlpack`` makes, gives a read-only tensor: NumPy's
    rule for them)."""
    if not hasattr(ext_tensor, "__dlpack__"):
        ext_tensor = _Capsule(ext_tensor)
    elif hasattr(ext_tensor, "__dlpack_device__") and ext_tensor.__dlpack_device__()[0] != 1:
        import cupy  # a device array's memory stays on its device

        return _make(cupy.from_dlpack(ext_tensor))
    return _make(np.from_dlpack(ext_tensor))
