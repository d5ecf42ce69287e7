"""softmax and log_softmax against PyTorch (values, gradients, dims, stability)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import chainrule
from op_parity import check

RNG = np.random.default_rng(11)


def normal(*shape):
    return np.asarray(RNG.standard_normal(shape))


FORMS = [
    ("softmax-method", lambda L, x, d: x.softmax(d)),
    ("softmax-fn", lambda L, x, d: L.softmax(x, dim=d)),
    ("log_softmax-method", lambda L, x, d: x.log_softmax(d)),
    ("log_softmax-fn", lambda L, x, d: L.log_softmax(x, d)),
]
CASES = [((5,), 0), ((5,), -1), ((2, 3), 0), ((2, 3), 1), ((2, 3), -1), ((2, 3, 4), 1), ((2, 3, 4), -3),
         ((), 0), ((1, 4), 0), ((0, 3), 1), ((3, 0), 1)]


@pytest.mark.parametrize("shape,dim", CASES, ids=str)
@pytest.mark.parametrize("name,fn", FORMS, ids=[f[0] for f in FORMS])
def test_softmax(name, fn, shape, dim):
    check(lambda L, x: fn(L, x, dim), normal(*shape))


@pytest.mark.parametrize("name,fn", FORMS, ids=[f[0] for f in FORMS])
def test_softmax_gradcheck(name, fn):
    for dim in (0, 1, -1):
        x = chainrule.tensor(normal(2, 3, 2), requires_grad=True)
        assert chainrule.autograd.gradcheck(lambda t: fn(chainrule, t, dim), (x,))


@pytest.mark.parametrize("name,fn", FORMS, ids=[f[0] for f in FORMS])
def test_softmax_large_values_are_stable(name, fn):
    x = np.array([[1000.0, 0.0, -1000.0], [-1e4, -1e4, -1e4], [800.0, 800.0, 0.0]])
    check(lambda L, t: fn(L, t, 1), x)


def test_softmax_with_minus_inf():
    x = np.array([[0.0, -np.inf, 1.0], [2.0, 2.0, -np.inf]])
    check(lambda L, t: t.softmax(1), x)


def test_softmax_dtype_argument():
    x = normal(2, 3).astype(np.float32)
    check(lambda L, t: t.softmax(1, dtype=L.float64), x, grad=False)
    check(lambda L, t: L.log_softmax(t, 0, dtype=L.float64), x, grad=False)


def test_softmax_float32_stays_float32():
    x = chainrule.tensor(normal(2, 3).astype(np.float32))
    assert x.softmax(1).dtype == chainrule.float32
    assert x.log_softmax(1).dtype == chainrule.float32


def test_softmax_bad_dim():
    with pytest.raises(IndexError) as expected:
        torch.ones(2, 3).softmax(2)
    with pytest.raises(IndexError) as error:
        chainrule.ones(2, 3).softmax(2)
    assert str(error.value) == str(expected.value)


@settings(max_examples=30, deadline=None)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), data=st.data())
def test_softmax_hypothesis(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    scale = data.draw(st.sampled_from([1.0, 30.0]))
    x = normal(*shape) * scale
    check(lambda L, t: t.softmax(dim) * t.log_softmax(dim), x)
