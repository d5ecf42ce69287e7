"""lgamma, digamma, polygamma, mvlgamma (ops/gamma.py) against PyTorch: values at the poles, on
the negative axis, far out and in float32; first and second derivatives."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from op_parity import check

POINTS = np.array([0.1, 0.5, 1.0, 2.0, 3.7, 9.5, 10.0, 10.5, 25.3, 1e6, -0.5, -2.3, -3.7, 1e-300, 7.0])
EDGES = np.array([0.0, -0.0, -3.0, np.inf, -np.inf, np.nan])


@pytest.mark.parametrize("name", ["lgamma", "digamma"])
def test_values_and_derivatives(name):
    check(lambda L, x: getattr(L, name)(x), POINTS, rtol=1e-13, atol=1e-13)
    check(lambda L, x: getattr(L, name)(x), EDGES, grad=False)
    check(lambda L, x: getattr(L.special, {"lgamma": "gammaln", "digamma": "psi"}[name])(x), POINTS[:5])
    check(lambda L, x: getattr(L, name)(x.float()), POINTS[:8], rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("n", [1, 2, 3, 6])
def test_polygamma(n):
    points = np.array([0.3, 1.0, 2.5, 10.0, 30.0, -1.5])
    check(lambda L, x: L.polygamma(n, x), points, rtol=1e-12, atol=1e-12)
    check(lambda L, x: x.polygamma(n), points[:3], rtol=1e-12, atol=1e-12)


def test_second_derivatives_and_mvlgamma():
    x = np.array([0.7, 1.5, 4.2])
    for lib in (torch, chainrule):
        t = lib.tensor(x, requires_grad=True)
        (first,) = lib.autograd.grad(lib.lgamma(t).sum(), t, create_graph=True)
        (second,) = lib.autograd.grad(first.sum(), t)
        if lib is torch:
            expected = (first.detach().numpy(), second.numpy())
    np.testing.assert_allclose(first.detach().numpy(), expected[0], rtol=1e-13)
    np.testing.assert_allclose(second.numpy(), expected[1], rtol=1e-13)
    check(lambda L, x: L.mvlgamma(x, 3), x + 2)
    check(lambda L, x: L.special.multigammaln(x, 2), x + 1)
    check(lambda L, x: L.mvlgamma(x, 4), x, grad=False)  # (at or below (p-1)/2: inf and NaN, no error)


def test_in_place_forms():
    check(lambda L, x: x.clone().lgamma_(), POINTS[:5], grad=False)
    check(lambda L, x: x.clone().digamma_(), POINTS[:5], grad=False)
    check(lambda L, x: x.clone().polygamma_(2), POINTS[:5], grad=False)
    check(lambda L, x: x.clone().mvlgamma_(2), POINTS[2:5], grad=False)
    check(lambda L, x: L.mvlgamma(x, 2, out=L.empty(0, dtype=x.dtype)), POINTS[2:5], grad=False)


@pytest.mark.parametrize("n", [2, 3, 5])
def test_higher_orders_at_the_edges(n):
    # (an infinite argument once overflowed the count of Hurwitz zeta's summation steps)
    check(lambda L, x: L.polygamma(n, x), EDGES, grad=False)
    check(lambda L, x: L.polygamma(n, x.float()), np.concatenate([POINTS[:8], EDGES]), grad=False, rtol=2e-6, atol=0)


def test_trigamma_float32_poles():
    # PyTorch reflects in float32: sin(pi x) is not 0 at the negative integers, the value finite
    # (check() makes float64 inputs: the float32 ones are made inside)
    check(lambda L, x: L.polygamma(1, x.float()), np.array([-1.0, -2.0, -3.0, -2.5, 0.25]), grad=False,
          rtol=2e-6, atol=0)


def test_erfinv():
    """(erf's inverse lives with erf in ops/nn.py; tested here with the other special functions)"""
    y = np.array([-1.0, -0.999, -0.9, -0.7, -0.69, -0.3, 0.0, 1e-8, 0.25, 0.7, 0.71, 0.95, 1.0, 1.5])
    check(lambda L, y: L.erfinv(y), y, grad=False, rtol=1e-10, atol=1e-12)
    check(lambda L, y: L.special.erfinv(y), y[1:-2], rtol=1e-10, atol=1e-12)
    check(lambda L, y: L.erfinv(y.float()), y[1:-2], grad=False, rtol=1e-5, atol=1e-6)


def test_regularized_incomplete_gamma():
    a = np.array([0.5, 1.0, 2.0, 3.5, 10.0, 0.1, 0.0, 1.0, 2.0, -1.0, 5.0])
    x = np.array([0.3, 1.0, 2.5, 1.0, 12.0, 5.0, 1.0, 0.0, np.inf, 1.0, 5.9])
    check(lambda L, a, x: [L.igamma(a, x), L.igammac(a, x), L.special.gammainc(a, x)], a, x, grad=False,
          rtol=1e-12, atol=1e-14)
    # (for large a PyTorch's asymptotic expansion is off by ~2e-10: these values are the exact ones)
    check(lambda L, a, x: L.igamma(a, x), np.array([50.0, 100.0]), np.array([45.0, 110.0]), grad=False, atol=1e-9)
    check(lambda L, x: [L.special.gammainc(L.tensor([2.0, 0.5], dtype=L.float64), x),
                        L.special.gammaincc(L.tensor([2.0, 0.5], dtype=L.float64), x)], np.array([1.5, 3.0]))
    for lib in (torch, chainrule):
        a_grad = lib.tensor([2.0], requires_grad=True)
        with pytest.raises(NotImplementedError, match="the derivative for 'igamma: input' is not implemented"):
            lib.igamma(a_grad, lib.tensor([1.5])).sum().backward()
