"""Activations against PyTorch in float64: the functional forms, the modules, in-place
variants, second derivatives and float32 staying float32."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
import chainrule.nn as nn
from conftest import assert_close
from op_parity import check

RNG = np.random.default_rng(11)


def values(*shape, scale=2.0):
    x = RNG.standard_normal(shape) * scale
    x.flat[0] = 0.0  # the kink of relu-like functions
    return x


FUNCTIONAL = [
    ("relu", lambda F, x: F.relu(x)),
    ("relu6", lambda F, x: F.relu6(x * 4)),
    ("hardtanh", lambda F, x: F.hardtanh(x, -0.5, 1.5)),
    ("leaky_relu", lambda F, x: F.leaky_relu(x)),
    ("leaky_relu_slope", lambda F, x: F.leaky_relu(x, 0.2)),
    ("elu", lambda F, x: F.elu(x)),
    ("elu_alpha", lambda F, x: F.elu(x, alpha=0.7)),
    ("selu", lambda F, x: F.selu(x)),
    ("gelu", lambda F, x: F.gelu(x)),
    ("gelu_tanh", lambda F, x: F.gelu(x, approximate="tanh")),
    ("silu", lambda F, x: F.silu(x)),
    ("mish", lambda F, x: F.mish(x)),
    ("sigmoid", lambda F, x: F.sigmoid(x)),
    ("tanh", lambda F, x: F.tanh(x)),
    ("softplus", lambda F, x: F.softplus(x)),
    ("softplus_beta", lambda F, x: F.softplus(x, beta=2.0, threshold=3.0)),
    ("logsigmoid", lambda F, x: F.logsigmoid(x)),
    ("softsign", lambda F, x: F.softsign(x)),
    ("tanhshrink", lambda F, x: F.tanhshrink(x)),
    ("hardshrink", lambda F, x: F.hardshrink(x)),
    ("hardshrink_lambd", lambda F, x: F.hardshrink(x, 1.1)),
    ("softshrink", lambda F, x: F.softshrink(x)),
    ("softshrink_lambd", lambda F, x: F.softshrink(x, 0.25)),
    ("threshold", lambda F, x: F.threshold(x, 0.3, -2.0)),
    ("hardswish", lambda F, x: F.hardswish(x * 2 + 0.1)),
    ("softmax", lambda F, x: F.softmax(x, dim=1)),
    ("softmax_dim0", lambda F, x: F.softmax(x, 0)),
    ("log_softmax", lambda F, x: F.log_softmax(x, dim=-1)),
    ("softmin", lambda F, x: F.softmin(x, dim=1)),
    ("glu", lambda F, x: F.glu(x, dim=1)),
]


@pytest.mark.parametrize("name,fn", FUNCTIONAL, ids=[n for n, _ in FUNCTIONAL])
def test_functional_matches_torch(name, fn):
    check(lambda lib, x: fn(lib.nn.functional, x), values(3, 4))


@pytest.mark.parametrize("fn", [lambda F, x: F.celu(x, alpha=1.3), lambda F, x: F.hardsigmoid(x * 2 + 0.1)])
def test_float32_constants_in_torch(fn):
    # PyTorch's celu and hardsigmoid backwards use float32 constants (1/alpha, 1/6) even in
    # float64, so their gradients are float32-accurate only; chainrule's are exact.
    check(lambda lib, x: fn(lib.nn.functional, x), values(3, 4), rtol=1e-6, atol=1e-7)


def test_extreme_inputs_stay_finite():
    big = np.array([-1e4, -50.0, -20.0, 0.0, 20.0, 50.0, 1e4])
    for fn in (lambda F, x: F.softplus(x), lambda F, x: F.logsigmoid(x), lambda F, x: F.silu(x),
               lambda F, x: F.elu(x), lambda F, x: F.mish(x), lambda F, x: F.gelu(x)):
        out_c, _ = check(lambda lib, x: fn(lib.nn.functional, x), big)
        assert np.isfinite(out_c.detach().numpy()).all()


MODULES = [
    ("ReLU", (), {}), ("ReLU6", (), {}), ("LeakyReLU", (0.1,), {}), ("ELU", (), {"alpha": 0.5}),
    ("GELU", (), {}), ("GELU", (), {"approximate": "tanh"}), ("SiLU", (), {}), ("Sigmoid", (), {}),
    ("Tanh", (), {}), ("Softplus", (), {"beta": 1.5, "threshold": 10.0}), ("Softmax", (), {"dim": 1}),
    ("LogSoftmax", (), {"dim": 1}), ("Mish", (), {}), ("Hardtanh", (-2.0, 2.0), {}), ("SELU", (), {}),
    ("CELU", (), {"alpha": 1.0}), ("LogSigmoid", (), {}), ("Softmin", (), {"dim": 0}), ("Hardswish", (), {}),
("Softsign", (), {}), ("Tanhshrink", (), {}), ("Threshold", (0.1, 20.0), {}),
    ("GLU", (), {}), ("Hardshrink", (), {}), ("Hardshrink", (0.8,), {}), ("Softshrink", (), {"lambd": 0.3}),
]


def test_shrink_at_the_boundary_and_a_negative_lambda():
    # |x| == lambd is shrunk to 0 with a zero gradient, as PyTorch's; softshrink refuses lambd < 0.
    check(lambda lib, x: lib.nn.functional.hardshrink(x, 0.5) + lib.nn.functional.softshrink(x, 0.5),
          np.array([-0.5, 0.5, -0.75, 0.25, 2.0]))
    assert np.isnan(nn.functional.hardshrink(chainrule.tensor([float("nan")])).item())  # passes, as PyTorch's
    with pytest.raises(RuntimeError, match=r"lambda must be in range \[0, .*\] for input dtype Float, but found -1"):
        nn.functional.softshrink(chainrule.randn(3), -1.0)


@pytest.mark.parametrize("name,args,kwargs", MODULES)
def test_modules_match_torch_and_print_alike(name, args, kwargs):
    check(lambda lib, x: getattr(lib.nn, name)(*args, **kwargs)(x), values(2, 6))
    assert repr(getattr(nn, name)(*args, **kwargs)) == repr(getattr(torch.nn, name)(*args, **kwargs))


@pytest.mark.parametrize("name", ["ReLU", "LeakyReLU", "ELU", "SiLU", "Hardtanh", "ReLU6", "Mish"])
def test_inplace_modules(name):
    x_np = values(3, 4)

    def run(lib):
        x = lib.tensor(x_np, requires_grad=True)
        h = x * 1.5
        out = getattr(lib.nn, name)(inplace=True)(h)
        assert out is h
        out.sum().backward()
        return out, x.grad

    (out_c, grad_c), (out_t, grad_t) = run(chainrule), run(torch)
    assert_close(out_c, out_t)
    assert_close(grad_c, grad_t)
    assert repr(getattr(nn, name)(inplace=True)) == repr(getattr(torch.nn, name)(inplace=True))


def test_inplace_on_a_leaf_that_requires_grad_raises():
    x = chainrule.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        nn.functional.relu(x, inplace=True)


def test_inplace_without_grad_writes_through():
    x = chainrule.tensor([-1.0, 2.0])
    assert nn.functional.relu_(x) is x
    assert x.tolist() == [0.0, 2.0]


@pytest.mark.parametrize("name,fn", [
    ("gelu", lambda F, x: F.gelu(x)),
    ("gelu_tanh", lambda F, x: F.gelu(x, approximate="tanh")),
    ("silu", lambda F, x: F.silu(x)),
    ("elu", lambda F, x: F.elu(x)),
    ("softplus", lambda F, x: F.softplus(x)),
    ("mish", lambda F, x: F.mish(x)),
    ("logsigmoid", lambda F, x: F.logsigmoid(x)),
    ("leaky_relu", lambda F, x: F.leaky_relu(x, 0.3)),
])
def test_second_derivatives_match_torch(name, fn):
    x_np = values(5) + 0.01

    def run(lib):
        x = lib.tensor(x_np, requires_grad=True)
        (g,) = lib.autograd.grad((fn(lib.nn.functional, x) ** 2).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), x)
        return g, gg

    (g_c, gg_c), (g_t, gg_t) = run(chainrule), run(torch)
    assert_close(g_c, g_t)
    assert_close(gg_c, gg_t)


@pytest.mark.parametrize("fn", [
    lambda F, x: F.gelu(x), lambda F, x: F.gelu(x, approximate="tanh"), lambda F, x: F.silu(x),
    lambda F, x: F.elu(x), lambda F, x: F.leaky_relu(x), lambda F, x: F.softplus(x),
    lambda F, x: F.mish(x), lambda F, x: F.relu(x), lambda F, x: F.hardtanh(x),
    lambda F, x: F.logsigmoid(x), lambda F, x: F.softmax(x, 1), lambda F, x: F.log_softmax(x, 1),
])
def test_float32_stays_float32(fn):
    x = chainrule.tensor(values(2, 3).astype(np.float32), requires_grad=True)
    out = fn(nn.functional, x)
    assert out.dtype == chainrule.float32
    out.sum().backward()
    assert x.grad.dtype == chainrule.float32


def test_softmax_without_dim_warns_and_picks_torchs_dim():
    x = values(2, 3)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = nn.functional.softmax(chainrule.tensor(x))
    with pytest.warns(UserWarning):
        expected = torch.nn.functional.softmax(torch.tensor(x))
    assert_close(out, expected)


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        nn.functional.gelu(chainrule.zeros(2), approximate="fast")


def test_derivative_strings_are_documented():
    from chainrule.ops import nn as ops

    for op in (ops.Gelu, ops.LeakyRelu, ops.Elu, ops.Silu, ops.Softplus, ops.Mish, ops.Hardtanh,
               ops.LogSigmoid, ops.Erf, ops.CrossEntropy, ops.Normalize, ops.Embedding, ops.Dropout):
        assert op.derivative and all(isinstance(d, str) for d in op.derivative)


def test_functional_inplace_on_a_view_rewrites_the_base_history():
    # F.relu(view, inplace=True) must change the base's gradient as Tensor.relu_ does.
    x = np.array([[1.0, -2.0], [-3.0, 4.0]])
    grads = []
    for lib in (chainrule, torch):
        w = lib.tensor(x, requires_grad=True)
        b = w * 1.0
        lib.nn.functional.relu(b[0], inplace=True)
        b.sum().backward()
        grads.append(w.grad)
    assert_close(grads[0], grads[1])


@pytest.mark.parametrize("name, fn", [
    ("relu", lambda F, x: F.relu(x)),
    ("relu6", lambda F, x: F.relu6(x)),
    ("leaky_relu", lambda F, x: F.leaky_relu(x, 0.2)),
    ("hardtanh", lambda F, x: F.hardtanh(x)),
    ("threshold", lambda F, x: F.threshold(x, 0.5, -1.0)),
])
def test_piecewise_linear_second_derivative_is_zeros_not_missing(name, fn):
    # PyTorch records relu's backward with the input as a (zero-derivative) dependency, so
    # differentiating the gradient again gives zeros; a program doing that must not fail.
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor([1.5, -2.0, 0.3, -0.1], dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad(fn(lib.nn.functional, x).sum(), x, create_graph=True)
        assert g.requires_grad
        (gg,) = lib.autograd.grad((g * g).sum(), x)
        results.append((g, gg))
    (g_c, gg_c), (g_t, gg_t) = results
    assert_close(g_c, g_t)
    assert_close(gg_c, gg_t)
    assert g_c.grad_fn.name() == "ThresholdBackwardBackward0"


@pytest.mark.parametrize("name,args", [("threshold_", (0.5, -2.0)), ("selu_", ()), ("celu_", (0.5,)), ("celu_", ())])
def test_functional_inplace_forms(name, args, rng):
    """``F.threshold_/selu_/celu_`` write into their input (a non-leaf here) and differentiate
    as the out-of-place form, as PyTorch's (celu's alpha a power of two: PyTorch's celu
    gradient uses 1/alpha rounded to float32)."""
    x = rng.standard_normal(7)

    def run(lib):
        leaf = lib.tensor(x, requires_grad=True)
        h = leaf * 1.5
        out = getattr(lib.nn.functional, name)(h, *args)
        assert out is h
        (out * lib.arange(7.0)).sum().backward()
        return out, leaf.grad

    (out_c, grad_c), (out_t, grad_t) = run(chainrule), run(torch)
    assert_close(out_c, out_t)
    assert_close(grad_c, grad_t)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        getattr(nn.functional, name)(chainrule.ones(3, requires_grad=True), *args)
