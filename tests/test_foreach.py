"""``torch._foreach_*`` against PyTorch: results, the tensors changed in place, gradients, and
the list-length errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule

from conftest import assert_close

RNG = np.random.default_rng(3)
A = [RNG.uniform(0.5, 2.0, (2, 3)), RNG.uniform(0.5, 2.0, (4,))]
B = [RNG.uniform(0.5, 2.0, (2, 3)), RNG.uniform(0.5, 2.0, (4,))]


def lists(L, values, requires_grad=False):
    return [L.tensor(v, requires_grad=requires_grad) for v in values]


CALLS = [
    ("add-scalar", lambda L, a, b: L._foreach_add(a, 1.5)),
    ("add-list-alpha", lambda L, a, b: L._foreach_add(a, b, alpha=-0.5)),
    ("add-tensor", lambda L, a, b: L._foreach_add(a, L.tensor(2.0, dtype=L.float64))),
    ("sub-scalars", lambda L, a, b: L._foreach_sub(a, [1.0, 2.0])),
    ("mul-list", lambda L, a, b: L._foreach_mul(a, b)),
    ("div-scalar", lambda L, a, b: L._foreach_div(a, 4.0)),
    ("pow-scalar", lambda L, a, b: L._foreach_pow(a, 3)),
    ("maximum-list", lambda L, a, b: L._foreach_maximum(a, b)),
    ("clamp_min", lambda L, a, b: L._foreach_clamp_min(a, 1.0)),
    ("lerp-scalar", lambda L, a, b: L._foreach_lerp(a, b, 0.25)),
    ("addcmul-value", lambda L, a, b: L._foreach_addcmul(a, b, b, value=0.5)),
    ("addcdiv-scalars", lambda L, a, b: L._foreach_addcdiv(a, b, a, [0.5, -1.0])),
    ("sqrt", lambda L, a, b: L._foreach_sqrt(a)),
    ("neg", lambda L, a, b: L._foreach_neg(a)),
    ("exp", lambda L, a, b: L._foreach_exp(a)),
    ("reciprocal", lambda L, a, b: L._foreach_reciprocal(a)),
    ("norm", lambda L, a, b: L._foreach_norm(a)),
    ("norm-inf", lambda L, a, b: L._foreach_norm(a, float("inf"))),
]


@pytest.mark.parametrize("name,call", CALLS, ids=[c[0] for c in CALLS])
def test_foreach_against_pytorch(name, call):
    ta, tb = lists(torch, A, True), lists(torch, B)
    ca, cb = lists(chainrule, A, True), lists(chainrule, B)
    expected, actual = call(torch, ta, tb), call(chainrule, ca, cb)
    assert type(actual) is type(expected) is tuple and len(actual) == len(expected)
    for e, a in zip(expected, actual):
        assert_close(a, e, what=name)
    sum(e.sum() for e in expected).backward()
    sum(a.sum() for a in actual).backward()
    for e, a in zip(ta, ca):
        assert_close(a.grad, e.grad, what=f"{name} gradient")


INPLACE = [
    ("mul_", lambda L, a, b: L._foreach_mul_(a, 0.5)),
    ("add_-list-alpha", lambda L, a, b: L._foreach_add_(a, b, alpha=2.0)),
    ("lerp_-scalar", lambda L, a, b: L._foreach_lerp_(a, b, 0.1)),
    ("lerp_-weights", lambda L, a, b: L._foreach_lerp_(a, b, [0.1, 0.9])),
    ("addcmul_-scalars", lambda L, a, b: L._foreach_addcmul_(a, b, b, [1.0, 0.5])),
    ("maximum_", lambda L, a, b: L._foreach_maximum_(a, 1.2)),
    ("sqrt_", lambda L, a, b: L._foreach_sqrt_(a)),
    ("zero_", lambda L, a, b: L._foreach_zero_(a)),
    ("copy_", lambda L, a, b: L._foreach_copy_(a, b)),
]


@pytest.mark.parametrize("name,call", INPLACE, ids=[c[0] for c in INPLACE])
def test_foreach_in_place_changes_the_tensors_and_returns_the_list(name, call):
    ta, tb = lists(torch, A), lists(torch, B)
    ca, cb = lists(chainrule, A), lists(chainrule, B)
    before = list(ca)
    assert call(chainrule, ca, cb) is ca
    call(torch, ta, tb)
    for e, a, b in zip(ta, ca, before):
        assert a is b
        assert_close(a, e, what=name)


def test_foreach_on_parameters_under_no_grad_is_a_weight_ema():
    model = chainrule.nn.Linear(3, 2)
    ema = [p.detach().clone() for p in model.parameters()]
    with chainrule.no_grad():
        chainrule._foreach_lerp_(ema, list(model.parameters()), 1.0)
    for e, p in zip(ema, model.parameters()):
        assert not e.requires_grad
        assert_close(e, p.detach())


@pytest.mark.parametrize("call,message", [
    (lambda L, a, b: L._foreach_add(a, b[:1]), "Tensor lists must have the same number of tensors, got 2 and 1"),
    (lambda L, a, b: L._foreach_mul(a, [1.0]), "Tensor list must have same number of elements as scalar list"),
    (lambda L, a, b: L._foreach_add([], 1.0), "Tensor list must have at least one tensor"),
])
def test_foreach_list_errors(call, message):
    for L in (torch, chainrule):
        with pytest.raises(RuntimeError, match=message):
            call(L, lists(L, A), lists(L, B))


def test_an_unknown_foreach_name_is_an_attribute_error():
    with pytest.raises(AttributeError):
        chainrule._foreach_frobnicate
