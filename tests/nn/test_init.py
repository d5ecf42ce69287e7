"""nn.init: distributions checked by their statistics over large samples (chainrule's random
stream is NumPy's, not PyTorch's), gains and fans against PyTorch, generator use."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import chainrule
import chainrule.nn as nn
from chainrule.nn import init


def empty(*shape):
    return chainrule.empty(*shape, requires_grad=True)


@pytest.mark.parametrize("nonlinearity,param", [
    ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None),
])
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(nonlinearity, param)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "x")


@pytest.mark.parametrize("shape", [(3, 5), (4, 2, 3, 3), (6, 1, 7)])
def test_fans_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(chainrule.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(chainrule.empty(3))


def test_uniform_and_normal_statistics():
    chainrule.manual_seed(0)
    t = init.uniform_(empty(200, 500), -2.0, 3.0)
    values = t.detach().numpy()
    assert t.requires_grad and t.grad_fn is None and values.dtype == np.float32
    assert values.min() >= -2.0 and values.max() <= 3.0
    assert abs(values.mean() - 0.5) < 0.02 and abs(values.std() - 5 / math.sqrt(12)) < 0.02
    values = init.normal_(empty(200, 500), 1.5, 0.5).detach().numpy()
    assert abs(values.mean() - 1.5) < 0.01 and abs(values.std() - 0.5) < 0.01


def test_constant_ones_zeros_eye_dirac():
    assert (init.constant_(empty(2, 3), 0.3).detach().numpy() == np.float32(0.3)).all()
    assert (init.ones_(empty(4)).detach().numpy() == 1).all()
    assert (init.zeros_(empty(4)).detach().numpy() == 0).all()
    np.testing.assert_array_equal(init.eye_(empty(3, 4)).detach().numpy(), np.eye(3, 4))
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(empty(3))
    kernel = init.dirac_(empty(2, 2, 3, 3))
    expected = torch.nn.init.dirac_(torch.empty(2, 2, 3, 3))
    np.testing.assert_array_equal(kernel.detach().numpy(), expected.numpy())


@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_xavier(gain):
    chainrule.manual_seed(1)
    fan_in, fan_out = 300, 200
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    values = init.xavier_uniform_(empty(fan_out, fan_in), gain=gain).detach().numpy()
    bound = math.sqrt(3.0) * std
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.99 * bound
    assert abs(values.std() - std) < 0.02 * std
    values = init.xavier_normal_(empty(fan_out, fan_in), gain=gain).detach().numpy()
    assert abs(values.std() - std) < 0.02 * std and abs(values.mean()) < 0.02 * std


@pytest.mark.parametrize("a,mode,nonlinearity", [
    (0, "fan_in", "leaky_relu"), (0, "fan_out", "relu"), (math.sqrt(5), "fan_in", "leaky_relu"),
    (0.1, "fan_out", "leaky_relu"), (0, "fan_in", "tanh"),
])
def test_kaiming(a, mode, nonlinearity):
    chainrule.manual_seed(2)
    shape = (200, 30, 3, 3)
    fan = 30 * 9 if mode == "fan_in" else 200 * 9
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    values = init.kaiming_uniform_(empty(*shape), a=a, mode=mode, nonlinearity=nonlinearity).detach().numpy()
    assert np.abs(values).max() <= math.sqrt(3.0) * std
    assert abs(values.std() - std) < 0.02 * std
    values = init.kaiming_normal_(empty(*shape), a=a, mode=mode, nonlinearity=nonlinearity).detach().numpy()
    assert abs(values.std() - std) < 0.02 * std and abs(values.mean()) < 0.02 * std


def test_kaiming_bad_mode():
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(empty(3, 3), mode="fan_avg")


@pytest.mark.parametrize("shape", [(5, 8), (8, 5), (4, 2, 3)])
def test_orthogonal(shape):
    chainrule.manual_seed(3)
    values = init.orthogonal_(empty(*shape), gain=2.0).detach().numpy().reshape(shape[0], -1).astype(np.float64)
    rows, cols = values.shape
    product = values @ values.T if rows <= cols else values.T @ values
    np.testing.assert_allclose(product, 4.0 * np.eye(min(rows, cols)), atol=1e-5)


def test_trunc_normal():
    chainrule.manual_seed(4)
    values = init.trunc_normal_(empty(400, 500), mean=0.5, std=1.0, a=-1.0, b=1.5).detach().numpy()
    assert values.min() >= -1.0 and values.max() <= 1.5
    # Moments of N(0.5, 1) truncated to [-1.5, 1] (after centring), from scipy's formulas.
    from math import erf, exp, pi, sqrt

    alpha, beta = -1.5, 1.0
    phi = lambda z: exp(-z * z / 2) / sqrt(2 * pi)  # noqa: E731
    cdf = lambda z: 0.5 * (1 + erf(z / sqrt(2)))  # noqa: E731
    z = cdf(beta) - cdf(alpha)
    mean = 0.5 + (phi(alpha) - phi(beta)) / z
    var = 1 + (alpha * phi(alpha) - beta * phi(beta)) / z - ((phi(alpha) - phi(beta)) / z) ** 2
    assert abs(values.mean() - mean) < 0.01 and abs(values.std() - math.sqrt(var)) < 0.01
    with pytest.warns(UserWarning, match="more than 2 std"):
        narrow = init.trunc_normal_(empty(1000), mean=0.0, std=1.0, a=5.0, b=5.5).detach().numpy()
    assert narrow.min() >= 5.0 and narrow.max() <= 5.5


def test_draws_come_from_the_global_generator_or_a_given_one():
    chainrule.manual_seed(7)
    a = init.normal_(empty(10)).detach().numpy()
    chainrule.manual_seed(7)
    b = init.normal_(empty(10)).detach().numpy()
    np.testing.assert_array_equal(a, b)
    g1, g2 = chainrule.Generator().manual_seed(1), chainrule.Generator().manual_seed(1)
    np.testing.assert_array_equal(init.uniform_(empty(5), generator=g1).detach().numpy(),
                                  init.uniform_(empty(5), generator=g2).detach().numpy())
    chainrule.manual_seed(9)
    first = nn.Linear(3, 3).weight.detach().numpy()
    chainrule.manual_seed(9)
    np.testing.assert_array_equal(nn.Linear(3, 3).weight.detach().numpy(), first)


def test_init_runs_without_recording_and_bumps_the_version():
    t = empty(3, 3)
    before = t._version
    init.normal_(t)
    assert t.grad_fn is None and t.requires_grad and t._version > before


@pytest.mark.parametrize("make,expected", [
    (lambda: nn.BatchNorm1d(3), {"weight": 1, "bias": 0, "running_mean": 0, "running_var": 1}),
    (lambda: nn.LayerNorm(4), {"weight": 1, "bias": 0}),
    (lambda: nn.GroupNorm(2, 4), {"weight": 1, "bias": 0}),
])
def test_norm_layers_default_init(make, expected):
    state = make().state_dict()
    for key, value in expected.items():
        assert (state[key].numpy() == value).all(), key


def test_bias_bound_of_linear():
    chainrule.manual_seed(5)
    layer = nn.Linear(50, 2000)
    bias = layer.bias.detach().numpy()
    bound = 1 / math.sqrt(50)
    assert np.abs(bias).max() <= bound and abs(bias.std() - bound / math.sqrt(3)) < 0.05 * bound
