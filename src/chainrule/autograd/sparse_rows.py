"""A gradient that lives in a few rows of its tensor: what ``embedding(..., sparse=True)``
hands its weight, kept sparse on its way to the leaf.

The engine sums it like an array (``+`` with another one concatenates the rows; with a dense
array it becomes dense) and, reaching a leaf, stores ``to_tensor(self)``: the sparse COO
tensor of the layer that defines them (``chainrule.sparse``), given by whoever made the
gradient, since autograd imports nothing above it.
"""
from __future__ import annotations

from typing import Any, Callable

from ..backend import get_array_module

__all__ = ["SparseRows"]


class SparseRows:
    """``values[k]`` belongs at row ``rows[k]`` of a gradient of ``shape`` (repeats add up),
    as PyTorch's uncoalesced COO gradient of a sparse embedding."""

    __slots__ = ("rows", "values", "shape", "to_tensor")
    __array_ufunc__ = None  # ``array + rows`` is ``rows.__radd__(array)``, not an object array

    def __init__(self, rows: Any, values: Any, shape: tuple, to_tensor: Callable[["SparseRows"], Any]) -> None:
        self.rows, self.values, self.shape, self.to_tensor = rows, values, tuple(shape), to_tensor

    @property
    def dtype(self) -> Any:
        return self.values.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def dense(self) -> Any:
        """The gradient as a dense array."""
        xp = get_array_module(self.values)
        out = xp.zeros(self.shape, dtype=self.values.dtype)
        xp.add.at(out, self.rows, self.values)
        return out

    def __add__(self, other: Any) -> Any:
        if type(other) is SparseRows:
            xp = get_array_module(self.values)
            return SparseRows(xp.concatenate([self.rows, other.rows]), xp.concatenate([self.values, other.values]),
                              self.shape, self.to_tensor)
        return self.dense() + other

    __radd__ = __add__
