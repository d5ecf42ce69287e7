"""The product of a sparse COO matrix and a dense one, forward and backward side by side.

A sparse matrix here is its nonzero entries: ``values[k]`` at ``(rows[k], cols[k])``
(repeated positions add up, as in an uncoalesced PyTorch tensor).  ``S @ D`` sums
``values[k] * D[cols[k]]`` into row ``rows[k]``; the gradient of the dense operand is
``S.T @ g`` (the same sum, into the columns), that of each value ``g[rows[k]] . D[cols[k]]``
(the dense gradient ``g @ D.T`` read at the nonzero positions only).

The sums go through :class:`Segments`: the entries sorted by their target row (once per
sparsity pattern) and summed per row with ``np.add.reduceat``, two to three times as fast as
``np.add.at`` on the same entries (benchmarks/sparse_mm.py).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Op
from .namespace import plain
from .shape import index_backward


class Segments:
    """How to sum a product's entries per output row: entry ``k`` adds ``values[k] *
    dense[source[k]]`` to row ``target[k]``.  The entries are sorted by target once per
    sparsity pattern (``order``, None when they already are; ``sorted_source``, the sources in
    that order) and summed per run of one target with ``np.add.reduceat``."""

    __slots__ = ("target", "source", "order", "sorted_source", "starts", "present")

    def __init__(self, target: np.ndarray, source: np.ndarray) -> None:
        self.target, self.source = target, source
        if target.size and np.any(target[1:] < target[:-1]):
            self.order = np.argsort(target, kind="stable")
            ordered, self.sorted_source = target[self.order], source[self.order]
        else:
            self.order, ordered, self.sorted_source = None, target, source
        boundaries = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
        self.starts = np.concatenate([np.zeros(min(1, ordered.size), np.int64), boundaries])
        self.present = ordered[self.starts]  # the rows that receive anything

    def product(self, xp: Any, values: Any, dense: Any, n_rows: int) -> Any:
        """The (n_rows, k) sums of ``values[k] * dense[source[k]]`` into rows ``target[k]``."""
        shape = (n_rows, dense.shape[1])
        if not plain(xp):  # create_graph: the recorded scatter, itself differentiable
            return index_backward(xp, shape, None, (self.target,), False, values[:, None] * dense[self.source])
        if not self.starts.size:
            return xp.zeros(shape, dtype=dense.dtype)
        contributions = dense[self.sorted_source]
        contributions *= (values if self.order is None else values[self.order])[:, None]
        sums = xp.add.reduceat(contributions, self.starts, axis=0)
        if self.present.size == n_rows:  # every row has an entry (a graph with self-loops)
            return sums
        out = xp.zeros(shape, dtype=sums.dtype)
        out[self.present] = sums
        return out


class SparseMatmul(Op):
    """``S @ D`` for ``S`` given as its entries (``values`` at ``rows.target``,
    ``rows.source``; ``columns`` is the same entries summed by column, for ``S.T @ g``) and a
    2-D dense ``D``.  ``whole`` (None, or a tensor) stands for ``S`` as a whole matrix: it
    receives the dense gradient ``g @ D.T``, which PyTorch's ``torch.mm`` gives a sparse leaf
    (its value is not read)."""

    __slots__ = ("rows", "columns")
    pytorch_name = "MmBackward0"
    derivative = ("d (S @ D)/d S[i, j] = g[i] . D[j] at the nonzero entries", "d (S @ D)/d D = S.T @ g",
                  "", "", "", "d (S @ D)/d S = g @ D.T")

    def forward(self, xp, values, dense, rows, columns, n_rows, whole):
        self.rows, self.columns = rows, columns
        self.saved = (values, dense)
        return rows.product(xp, values, dense, n_rows)

    def backward(self, xp, g):
        values, dense = self.saved
        rows = self.rows
        grad_values = (g[rows.target] * dense[rows.source]).sum(axis=1) if self.needs_grad(0) else None
        grad_dense = self.columns.product(xp, values, g, dense.shape[0]) if self.needs_grad(1) else None
        grad_whole = g @ xp.swapaxes(dense, 0, 1) if self.needs_grad(5) else None
        return grad_values, grad_dense, None, None, None, grad_whole
