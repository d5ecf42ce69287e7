"""Forms that arrange or look up elements, composed of chainrule's ops as PyTorch composes
them: ``column_stack``, ``row_stack``, ``dstack``, ``argwhere``, ``isin``,
``unravel_index`` and ``broadcast_shapes``."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .composites import atleast_3d
from .functional import _t, cat, hstack, nonzero, reshape, vstack
from .ops import elementwise as E
from .registry import ROWS, public
from .tensor import Size, Tensor
from .tensor import _make


@public(method=False, out=True)
def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors side by side as columns: 0-d and 1-d ones made (n, 1) first."""
    return hstack([reshape(t, (t.numel(), 1)) if t.dim() <= 1 else t for t in tensors])


@public(method=False, out=True)
def row_stack(tensors: Sequence[Tensor]) -> Tensor:
    """:func:`vstack` (its older name)."""
    return vstack(tensors)


@public(method=False, out=True)
def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors stacked along a third dim (each made at least 3-d first)."""
    return cat(list(atleast_3d(*tensors)), 2)


@public()
def argwhere(input: Tensor) -> Tensor:
    """The indices of the nonzero elements, one row each (``nonzero(input)``)."""
    return nonzero(input)


class IsIn(E.NoGradientUfunc):
    """Whether each element is among ``members``: a yes/no test, no gradient."""

    __slots__ = ()

    def forward(self, xp, a, members, assume_unique, invert):
        return xp.isin(a, members, assume_unique=assume_unique, invert=invert)


@public(method=False)
def isin(elements: Any, test_elements: Any, *, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """Whether each element of ``elements`` is in ``test_elements`` (either may be a number);
    ``invert`` asks whether it is not."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin() received an invalid combination of arguments: expected at least one Tensor")
    members = test_elements._data if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    return IsIn.apply(_t(elements), members, assume_unique, invert)


@public(method=False)
def unravel_index(indices: Any, shape: Any) -> tuple:
    """The coordinates in a tensor of ``shape`` of each flat index, one int64 tensor per dim;
    an index outside the tensor wraps around, as PyTorch's (floor division and modulo from
    the last dim)."""
    flat = _t(indices)
    if flat.dtype.is_floating_point or flat.dtype.is_complex or flat._data.dtype.kind == "b":
        raise TypeError("expected 'indices' to be integer dtype, but got " + str(flat.dtype).replace("chainrule", "torch"))
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(n) for n in shape)
    if any(n < 0 for n in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    rest = np.asarray(flat._data).astype(np.int64)
    coordinates = []
    for n in reversed(shape):
        coordinates.append(np.mod(rest, n) if n else rest * 0)
        rest = np.floor_divide(rest, n) if n else rest * 0
    return tuple(_make(c) for c in reversed(coordinates))


def broadcast_shapes(*shapes: Any) -> Size:
    """The shape tensors of these shapes broadcast to, found as PyTorch finds it (and its
    error naming the first shape that does not fit)."""
    sizes = [(int(s),) if isinstance(s, (int, np.integer)) else s for s in shapes if s is not None]
    if not sizes:
        return Size(())
    common = [1] * max(len(size) for size in sizes)
    for position, size in enumerate(sizes):
        for axis in range(-1, -1 - len(size), -1):
            if size[axis] == common[axis]:
                continue
            if common[axis] == 1:
                if size[axis] < 0:
                    raise ValueError("Attempting to broadcast a dimension with negative length!")
                common[axis] = size[axis]
            elif size[axis] != 1:
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {size[axis]} at {axis}! Mismatching argument "
                    f"at index {position} had {size}; but expected shape should be broadcastable to {common}")
    return Size(common)


__all__ = [name for name, row in ROWS.items() if row.function.__module__ == __name__] + ["broadcast_shapes"]
