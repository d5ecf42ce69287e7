"""The product of a sparse COO matrix and a dense one, forward and backward side by side.

A sparse matrix here is its nonzero entries: ``values[k]`` at ``(rows[k], cols[k])``
(repeated positions add up, as in an uncoalesced PyTorch tensor).  ``S @ D`` sums
``values[k] * D[cols[k]]`` into row ``rows[k]``; the gradient of the dense operand is
``S.T @ g`` (the same sum, into the columns), that of each value ``g[rows[k]] . D[cols[k]]``
(the dense gradient ``g @ D.T`` read at the nonzero positions only).

The sums go through :class:`Segments`: the entries sorted by their target (once per sparsity
pattern) and summed per target with ``np.add.reduceat``, about twice as fast as ``np.add.at``
on the same entries.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Op
from .namespace import plain
from .shape import index_backward


class Segments:
    """Where each of a list of entries goes (``target[k]``), arranged for summing them per
    target: the entries' order sorted by target (None when they already are) and the start of
    each run of one target.  Made once per sparsity pattern and reused by every product."""

    __slots__ = ("target", "order", "starts", "present")

    def __init__(self, target: np.ndarray) -> None:
        self.target = target
        if target.size and np.any(target[1:] < target[:-1]):
            self.order = np.argsort(target, kind="stable")
            ordered = target[self.order]
        else:
            self.order, ordered = None, target
        boundaries = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
        self.starts = np.concatenate([np.zeros(min(1, ordered.size), np.int64), boundaries])
        self.present = ordered[self.starts]  # the targets that receive anything

    def sum(self, xp: Any, shape: tuple, contributions: Any) -> Any:
        """zeros(shape) with each entry's contribution added to its target row."""
        if not plain(xp):  # create_graph: the recorded scatter, itself differentiable
            return index_backward(xp, shape, None, (self.target,), False, contributions)
        out = xp.zeros(shape, dtype=contributions.dtype)
        if self.starts.size:
            ordered = contributions if self.order is None else contributions[self.order]
            out[self.present] = xp.add.reduceat(ordered, self.starts, axis=0)
        return out


class SparseMatmul(Op):
    """``S @ D`` for ``S`` given as its entries (``values`` at ``rows.target``,
    ``cols.target``) and a 2-D dense ``D``.  ``whole`` (None, or a tensor) stands for ``S`` as a whole
    matrix: it receives the dense gradient ``g @ D.T``, which PyTorch's ``torch.mm`` gives a
    sparse leaf (its value is not read)."""

    __slots__ = ("rows", "cols")
    pytorch_name = "MmBackward0"
    derivative = ("d (S @ D)/d S[i, j] = g[i] . D[j] at the nonzero entries", "d (S @ D)/d D = S.T @ g",
                  "", "", "", "d (S @ D)/d S = g @ D.T")

    def forward(self, xp, values, dense, rows, cols, n_rows, whole):
        self.rows, self.cols = rows, cols
        self.saved = (values, dense)
        return rows.sum(xp, (n_rows, dense.shape[1]), values[:, None] * dense[cols.target])

    def backward(self, xp, g):
        values, dense = self.saved
        picked = g[self.rows.target]
        grad_values = (picked * dense[self.cols.target]).sum(axis=1) if self.needs_grad(0) else None
        grad_dense = self.cols.sum(xp, dense.shape, values[:, None] * picked) if self.needs_grad(1) else None
        grad_whole = g @ xp.swapaxes(dense, 0, 1) if self.needs_grad(5) else None
        return grad_values, grad_dense, None, None, None, grad_whole
