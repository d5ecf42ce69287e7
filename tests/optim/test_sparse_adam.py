"""SparseAdam against PyTorch's: an Embedding with sparse=True, rows touched some steps and
not others, maximize, and the errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule

from conftest import assert_close

WEIGHT = np.random.default_rng(5).standard_normal((10, 3)).astype(np.float32)
BATCHES = [[[1, 3, 3], [7, 1, 2]], [[4, 4, 1], [0, 9, 3]], [[2, 5, 6], [6, 6, 1]], [[1, 1, 1], [8, 3, 0]]]


def train(L, dtype, **options):
    embedding = L.nn.Embedding(10, 3, sparse=True, _weight=L.tensor(WEIGHT, dtype=dtype))
    optimizer = L.optim.SparseAdam(embedding.parameters(), **options)
    for batch in BATCHES:
        optimizer.zero_grad()
        (embedding(L.tensor(batch)) ** 2).sum().backward()
        optimizer.step()
    return embedding.weight, optimizer.state[embedding.weight]


@pytest.mark.parametrize("options", [{}, {"lr": 0.1, "betas": (0.8, 0.99)}, {"lr": 0.05, "eps": 1e-3, "maximize": True}])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sparse_adam_updates_the_touched_rows_like_torch(options, dtype):
    ours, our_state = train(chainrule, getattr(chainrule, dtype), **options)
    theirs, their_state = train(torch, getattr(torch, dtype), **options)
    tolerance = 1e-6 if dtype == "float32" else 1e-12
    assert_close(ours, theirs, rtol=tolerance, atol=tolerance)
    assert our_state["step"] == their_state["step"] == len(BATCHES)
    for name in ("exp_avg", "exp_avg_sq"):
        assert_close(our_state[name], their_state[name], rtol=tolerance, atol=tolerance, what=name)


def test_sparse_adam_errors():
    for L in (torch, chainrule):
        with pytest.raises(ValueError, match="Invalid learning rate"):
            L.optim.SparseAdam([L.nn.Parameter(L.ones(2))], lr=-1.0)
        with pytest.raises(ValueError, match="SparseAdam does not support complex parameters"):
            L.optim.SparseAdam([L.nn.Parameter(L.ones(2, dtype=L.complex64))])
