"""The implicit-reparameterisation kernels (``torch._standard_gamma_grad``, ``torch._dirichlet_grad``)
against PyTorch's, on grids that visit every branch of its approximations.

The kernels follow PyTorch's operation order and take log, exp and pow from the C library as
PyTorch's scalar CPU kernels do, so float64 results are PyTorch's bit for bit in nearly every
element; the tolerance in float64 (1e-13 relative) allows the rare last-bit difference where
PyTorch's compiled code rounds an intermediate differently.  float32 is compared separately
below, with the reason for its tolerance."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from chainrule.ops.gamma_gradients import dirichlet_grad, standard_gamma_grad


def _gamma_grid(dtype):
    """Concentrations from 1e-3 to 1e4 and draws at quantile-like multiples of them: x < 0.8
    (the Taylor series), alpha > 8 inside and outside 10% of alpha (the saddle point), and the
    rest (the rational fit)."""
    alpha = np.logspace(-3, 4, 57)
    ratio = np.array([1e-6, 1e-3, 0.05, 0.3, 0.7, 0.89, 0.95, 1.0, 1.05, 1.11, 1.5, 3.0, 10.0])
    a, r = np.meshgrid(alpha, ratio)
    x = np.maximum(a * r, 1e-300)
    return a.ravel().astype(dtype), x.ravel().astype(dtype)


def _dirichlet_grid(dtype):
    """Beta marginals: alpha and beta from 1e-3 to 1e3 and x from 1e-6 to 1 - 1e-6, covering
    x near 0 and near 1 (the series), alpha and beta above 6 (the saddle point, near its mean
    too) and the rest (the rational correction)."""
    alpha = np.logspace(-3, 3, 19)
    beta = np.logspace(-3, 3, 19)
    x = np.concatenate([[1e-6, 1e-3, 0.02, 0.1, 0.3, 0.5, 0.7, 0.9, 0.98, 0.999, 1 - 1e-6]])
    a, b, v = np.meshgrid(alpha, beta, x, indexing="ij")
    mean = a / (a + b)
    v = np.concatenate([v.ravel(), mean.ravel()])  # (at the mean: the saddle point's polynomial)
    a, b = np.concatenate([a.ravel(), a.ravel()]), np.concatenate([b.ravel(), b.ravel()])
    return v.astype(dtype), a.astype(dtype), (a + b).astype(dtype)


def _torch(fn, *arrays):
    return fn(*(torch.from_numpy(np.ascontiguousarray(a)) for a in arrays)).numpy()


def test_standard_gamma_grad_is_pytorchs_in_float64():
    alpha, x = _gamma_grid(np.float64)
    expected = _torch(torch._standard_gamma_grad, alpha, x)
    actual = chainrule._standard_gamma_grad(chainrule.tensor(alpha), chainrule.tensor(x)).numpy()
    assert np.isfinite(expected).all()
    np.testing.assert_allclose(actual, expected, rtol=1e-13, atol=0)


def test_standard_gamma_grad_is_pytorchs_in_float32():
    # (PyTorch computes this one in double for float32 too, then rounds: the same bits)
    alpha, x = _gamma_grid(np.float32)
    x = np.maximum(x, np.finfo(np.float32).tiny)
    actual = standard_gamma_grad(alpha, x)
    assert actual.dtype == np.float32
    np.testing.assert_array_equal(actual, _torch(torch._standard_gamma_grad, alpha, x))


def test_dirichlet_grad_is_pytorchs_in_float64():
    x, alpha, total = _dirichlet_grid(np.float64)
    expected = _torch(torch._dirichlet_grad, x, alpha, total)
    actual = chainrule._dirichlet_grad(*(chainrule.tensor(v) for v in (x, alpha, total))).numpy()
    np.testing.assert_allclose(actual, expected, rtol=1e-13, atol=0)


def test_dirichlet_grad_in_float32():
    """PyTorch's Beta series run in float32 (with digamma's recurrence, log and 0.5 / x in
    float32, its sums in double), and so do chainrule's, taking logf and powf as the float64
    value rounded, which is what C's are; on this grid that gives PyTorch's bits in 98% of the
    elements and one ulp off in the rest (an intermediate rounded the other way).  (Off the grid,
    where beta is tiny next to alpha and x within a few ulps of 1, the series subtract nearly
    equal float32 numbers and such a one-ulp difference can grow to parts in 1e4.)"""
    x, alpha, total = _dirichlet_grid(np.float32)
    expected = _torch(torch._dirichlet_grad, x, alpha, total)
    actual = dirichlet_grad(x, alpha, total)
    assert actual.dtype == np.float32
    np.testing.assert_allclose(actual, expected, rtol=2.5e-7, atol=0)
    assert np.mean(actual == expected) > 0.98


def test_the_gradient_ops_refuse_mixed_dtypes_and_a_second_derivative():
    for lib in (torch, chainrule):
        a = lib.tensor([1.0, 2.0])
        x = lib.tensor([0.5, 1.5], dtype=lib.float64)
        with pytest.raises(RuntimeError, match="Found dtype Double but expected Float"):
            lib._standard_gamma_grad(a, x)
        with pytest.raises(RuntimeError, match="Found dtype Float but expected Double"):
            lib._dirichlet_grad(x, x, a)
        alpha = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        with pytest.raises(NotImplementedError, match="the derivative for '_standard_gamma_grad' is not implemented."):
            lib._standard_gamma_grad(alpha, x).sum().backward()
        with pytest.raises(RuntimeError, match="derivative for aten::_dirichlet_grad is not implemented"):
            lib._dirichlet_grad(x * 0.5, alpha, alpha + 1).sum().backward()


def test_degenerate_arguments_give_pytorchs_values():
    alpha = np.array([0.0, np.nan, 1e-300, 1e300, 5.0, 5.0])
    x = np.array([0.5, 0.5, 0.5, 0.5, 0.0, np.inf])
    expected = _torch(torch._standard_gamma_grad, alpha, x)
    np.testing.assert_array_equal(standard_gamma_grad(alpha, x), expected)
    beta_x, beta_alpha, total = np.array([0.3, 0.0, 1.0]), np.array([0.0, 2.0, 2.0]), np.array([1.0, 5.0, 5.0])
    np.testing.assert_array_equal(dirichlet_grad(beta_x, beta_alpha, total),
                                  _torch(torch._dirichlet_grad, beta_x, beta_alpha, total))
