"""ops/sparse.py: the per-target sums of the sparse product (Segments) against np.add.at, and
SparseMatmul's gradients against PyTorch's dense product on the same matrix."""
import numpy as np
import pytest
import torch

import chainrule
from chainrule.ops.sparse import Segments, SparseMatmul
from conftest import assert_close


@pytest.mark.parametrize("target", [
    np.array([0, 0, 1, 3, 3, 3]),       # sorted, a target (2) receiving nothing
    np.array([3, 0, 2, 0, 3, 1, 0]),    # unsorted
    np.array([], dtype=np.int64),       # no entries
    np.array([4]),
])
def test_segments_product_as_add_at(target, rng):
    source = rng.integers(0, 4, target.size)
    values, dense = rng.standard_normal(target.size), rng.standard_normal((4, 3))
    expected = np.zeros((5, 3))
    np.add.at(expected, target, values[:, None] * dense[source])
    segments = Segments(target, source)
    np.testing.assert_allclose(segments.product(np, values, dense, 5), expected, rtol=1e-15, atol=1e-15)
    assert (segments.order is None) == bool(np.all(target[1:] >= target[:-1]))


def test_segments_product_with_every_row_present():
    target, source = np.array([1, 0, 2, 1]), np.array([0, 1, 1, 0])
    out = Segments(target, source).product(np, np.array([1.0, 2.0, 3.0, 4.0]), np.eye(2), 3)
    np.testing.assert_array_equal(out, [[0.0, 2.0], [5.0, 0.0], [0.0, 3.0]])


def test_sparse_matmul_is_the_dense_product_with_its_gradients(rng):
    rows, cols = np.array([2, 0, 1, 2, 0, 2]), np.array([1, 3, 3, 1, 0, 2])
    values, dense, g = rng.standard_normal(6), rng.standard_normal((4, 2)), rng.standard_normal((3, 2))
    v = chainrule.tensor(values, requires_grad=True)
    d = chainrule.tensor(dense, requires_grad=True)
    out = SparseMatmul.apply(v, d, Segments(rows, cols), Segments(cols, rows), 3, None)
    out.backward(chainrule.tensor(g))

    tv, td = torch.tensor(values, requires_grad=True), torch.tensor(dense, requires_grad=True)
    matrix = torch.zeros(3, 4, dtype=torch.float64).index_put((torch.tensor(rows), torch.tensor(cols)), tv,
                                                              accumulate=True)
    expected = matrix @ td
    expected.backward(torch.tensor(g))
    assert_close(out, expected, 1e-13, 1e-13)
    assert_close(d.grad, td.grad, 1e-13, 1e-13)
    assert_close(v.grad, tv.grad, 1e-13, 1e-13)
    assert out.grad_fn.name() == "MmBackward0"
