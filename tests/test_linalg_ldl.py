"""linalg.ldl_factor(_ex) and ldl_solve (ops/ldl.py) against PyTorch in float64: the packed
factor, Bunch-Kaufman's pivots (1x1 and 2x2 blocks), the solutions and the errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from op_parity import check

RNG = np.random.default_rng(31)


def _symmetric(*shape, diagonal=1.0):
    a = RNG.standard_normal(shape)
    a = a + np.swapaxes(a, -1, -2)
    n = shape[-1]
    a[..., np.arange(n), np.arange(n)] *= diagonal
    return a


@pytest.mark.parametrize("diagonal", [1.0, 0.01, 0.0])  # (small diagonals: 2x2 pivots)
def test_ldl_factor_and_solve_like_sytrf(diagonal):
    a = _symmetric(3, 6, 6, diagonal=diagonal)
    check(lambda L, x: list(L.linalg.ldl_factor_ex(x)), a, grad=False)
    check(lambda L, x: list(L.linalg.ldl_factor(x)), a[0], grad=False)
    b = RNG.standard_normal((3, 6, 2))
    check(lambda L, x, y: L.linalg.ldl_solve(*L.linalg.ldl_factor(x), y), a, b, grad=False)
    check(lambda L, x, y: L.linalg.ldl_solve(*L.linalg.ldl_factor(x), y), a[0], b, grad=False)
    pivots = chainrule.linalg.ldl_factor(chainrule.tensor(a)).pivots
    assert diagonal == 1.0 or (pivots < 0).any().item()


def test_upper_triangle_is_not_read_and_no_gradient():
    a = _symmetric(5, 5)
    upper_changed = a + np.triu(RNG.standard_normal((5, 5)), 1)
    check(lambda L, x: list(L.linalg.ldl_factor(x)), upper_changed, grad=False)
    for library in (torch, chainrule):
        factor = library.linalg.ldl_factor(library.tensor(a, requires_grad=True)).LD
        assert factor.requires_grad
        with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_factor_ex is not implemented"):
            factor.sum().backward()


def test_errors():
    for make in (lambda L: L.linalg.ldl_factor(L.zeros(3)), lambda L: L.linalg.ldl_factor(L.zeros(2, 3)),
                 lambda L: L.linalg.ldl_solve(*L.linalg.ldl_factor(L.eye(3, dtype=L.float64)), L.ones(3, 1)),
                 lambda L: L.linalg.ldl_solve(*L.linalg.ldl_factor(L.eye(3)), L.ones(2, 1))):
        with pytest.raises(RuntimeError) as theirs:
            make(torch)
        with pytest.raises(RuntimeError) as ours:
            make(chainrule)
        assert str(ours.value) == str(theirs.value)
    singular = chainrule.zeros(2, 3, 3)
    assert chainrule.linalg.ldl_factor_ex(singular).info.tolist() == [1, 1]
    with pytest.raises(chainrule.linalg.LinAlgError, match=r"\(Batch element 0\): .*D\[1,1\] is zero"):
        chainrule.linalg.ldl_factor(singular)
