"""column_stack, row_stack, dstack, argwhere, isin, unravel_index and broadcast_shapes against
PyTorch: values, shapes, gradients through the stacks, and errors."""
import numpy as np
import pytest
import torch

import chainrule
from conftest import assert_close


def both(make):
    return make(torch), make(chainrule)


@pytest.mark.parametrize("name", ["column_stack", "row_stack", "dstack"])
@pytest.mark.parametrize("shapes", [[(3,), (3,)], [(3, 1), (3, 2)], [(), ()], [(2, 3), (2, 3)], [(2, 3, 2), (2, 3, 1)]])
def test_stacks_like_torch(name, shapes):
    rng = np.random.default_rng(len(shapes[0]))
    arrays = [rng.standard_normal(s) for s in shapes]

    def run(L):
        tensors = [L.tensor(a, requires_grad=True) for a in arrays]
        try:
            out = getattr(L, name)(tensors)
        except RuntimeError:
            return None
        (out * L.arange(out.numel(), dtype=L.float64).reshape(out.shape)).sum().backward()
        return [out] + [t.grad for t in tensors]

    expected, got = both(run)
    if expected is None:
        assert got is None
        return
    for g, e in zip(got, expected):
        assert_close(g, e)


def test_argwhere_and_isin():
    def run(L):
        x = L.tensor([[0, 1, 3], [2, 0, 3]])
        return [L.argwhere(x), x.argwhere(), L.isin(x, L.tensor([3, 0])), L.isin(x, 2),
                L.isin(x, L.tensor([3]), invert=True), L.isin(2, x), L.isin(L.tensor([1.5, 2.0]), L.tensor([2.0]))]

    expected, got = both(run)
    for g, e in zip(got, expected):
        assert_close(g, e)


def test_unravel_index_wraps_as_torch():
    def run(L):
        return list(L.unravel_index(L.tensor([4, 1, -1, 6, -7, 7]), (2, 3))) + list(L.unravel_index(L.tensor(5), (2, 3)))

    expected, got = both(run)
    for g, e in zip(got, expected):
        assert_close(g, e)
    for L in (torch, chainrule):
        with pytest.raises(TypeError, match="expected 'indices' to be integer dtype"):
            L.unravel_index(L.tensor([1.0]), (2,))


def test_broadcast_shapes_and_its_error():
    for shapes in [((2, 1), (3,), 1), (), ([1, 4], (5, 1)), ((0, 1), (3,))]:
        assert tuple(chainrule.broadcast_shapes(*shapes)) == tuple(torch.broadcast_shapes(*shapes))
    for shapes in [((2,), (3,)), ((2, 3), (4, 2, 1), [5, 1, 2, 4])]:
        with pytest.raises(RuntimeError) as expected:
            torch.broadcast_shapes(*shapes)
        with pytest.raises(RuntimeError) as got:
            chainrule.broadcast_shapes(*shapes)
        assert str(got.value) == str(expected.value)
