"""Layers added for PyTorch programs that use them: RReLU, Softmax2d, AlphaDropout and
FeatureAlphaDropout, LocalResponseNorm, ChannelShuffle, MaxUnpool1d/2d/3d, LPPool1d/2d/3d, against
PyTorch in float64 (values, gradients, printing, errors); the random ones by their laws."""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import chainrule
import chainrule.nn as nn
from op_parity import check, raises_like_torch

RNG = np.random.default_rng(8)


def normal(*shape):
    return RNG.standard_normal(shape)


def _pattern(info) -> str:
    """PyTorch's message (its spaces collapsed, its first 50 characters), chainrule's names allowed."""
    message = " ".join(str(info.value).split())[:50]
    return re.escape(message).replace("torch\\.", "(?:torch|chainrule)\\.")


def _same_error(make):
    with pytest.raises(Exception) as theirs:
        make(torch)
    raises_like_torch(lambda: make(chainrule), lambda: make(torch), _pattern(theirs))


def test_rrelu_in_eval_mode_is_leaky_relu_with_the_mean_slope():
    check(lambda L, x: L.nn.functional.rrelu(x, 0.1, 0.3), normal(3, 4))
    check(lambda L, x: L.nn.RReLU().eval()(x), normal(3, 4))
    check(lambda L, x: L.nn.functional.rrelu_(x.clone(), 0.2, 0.4), normal(5))


def test_rrelu_while_training_draws_a_slope_per_negative_element():
    chainrule.manual_seed(0)
    x = chainrule.tensor(np.concatenate([-np.ones(20000), np.ones(5)]), requires_grad=True)
    y = nn.RReLU(0.1, 0.3)(x)
    slopes = (y / x).detach().numpy()
    assert np.all(slopes[-5:] == 1.0)
    negative = slopes[:-5]
    assert negative.min() >= 0.1 and negative.max() <= 0.3 and len(np.unique(negative)) > 19000
    assert abs(negative.mean() - 0.2) < 0.005
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), slopes)  # the gradient is each element's slope
    chainrule.manual_seed(0)
    again = nn.RReLU(0.1, 0.3)(x.detach())
    np.testing.assert_array_equal(again.numpy(), y.detach().numpy())  # the generator's stream


def test_softmax2d():
    check(lambda L, x: L.nn.Softmax2d()(x), normal(2, 3, 4, 5))
    check(lambda L, x: L.nn.Softmax2d()(x), normal(3, 4, 5))
    _same_error(lambda L: L.nn.Softmax2d()(L.zeros(2, 3)))


@pytest.mark.parametrize("feature", [False, True])
def test_alpha_dropout_keeps_mean_and_variance_of_selu_activations(feature):
    chainrule.manual_seed(1)
    x = chainrule.tensor(RNG.standard_normal((400, 50, 8)))
    layer = (nn.FeatureAlphaDropout if feature else nn.AlphaDropout)(0.2)
    y = layer(x).numpy()
    assert abs(y.mean()) < 0.03 and abs(y.var() - 1.0) < 0.05
    dropped = np.isclose(y, -1.7580993408473766 * (1 / np.sqrt((1.7580993408473766 ** 2 * 0.2 + 1) * 0.8))
                         + 1.7580993408473766 * (1 / np.sqrt((1.7580993408473766 ** 2 * 0.2 + 1) * 0.8)) * 0.2)
    assert abs(dropped.mean() - 0.2) < 0.01
    if feature:  # whole channels: every position of a channel dropped together
        assert np.all(dropped.all(axis=2) | ~dropped.any(axis=2))
    layer.eval()
    assert layer(x) is x


def test_alpha_dropout_gradient_and_edges():
    chainrule.manual_seed(2)
    x = chainrule.tensor(RNG.standard_normal((6, 7)), requires_grad=True)
    y = chainrule.nn.functional.alpha_dropout(x, 0.5, training=True)
    y.sum().backward()
    a = 1 / np.sqrt((1.7580993408473766 ** 2 * 0.5 + 1) * 0.5)
    kept = x.grad.numpy() != 0
    np.testing.assert_allclose(x.grad.numpy()[kept], a)
    np.testing.assert_allclose(y.detach().numpy()[kept], x.detach().numpy()[kept] * a + 1.7580993408473766 * a * 0.5)
    assert chainrule.nn.functional.alpha_dropout(x, 1.0, training=True).abs().sum().item() == 0.0
    for make in (lambda L: L.nn.AlphaDropout(1.5), lambda L: L.nn.functional.feature_alpha_dropout(L.ones(3), 0.5, True)):
        _same_error(make)
    assert repr(nn.AlphaDropout(0.1, inplace=True)) == repr(torch.nn.AlphaDropout(0.1, inplace=True))


@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_local_response_norm(size):
    check(lambda L, x: L.nn.LocalResponseNorm(size, alpha=0.3, beta=0.6, k=1.5)(x), normal(2, 6, 3, 3))
    check(lambda L, x: L.nn.functional.local_response_norm(x, size), normal(2, 4, 5))
    check(lambda L, x: L.nn.functional.local_response_norm(x, size, 0.1), normal(1, 3, 2, 2, 2))
    _same_error(lambda L: L.nn.functional.local_response_norm(L.zeros(2, 3), 2))


def test_channel_shuffle():
    check(lambda L, x: L.nn.ChannelShuffle(3)(x), normal(2, 6, 2, 2))
    check(lambda L, x: L.channel_shuffle(x, 2), normal(2, 4, 3))
    check(lambda L, x: L.nn.functional.channel_shuffle(x, 1), normal(1, 3, 2))
    for make in (lambda L: L.channel_shuffle(L.zeros(2, 6, 3, 3), 4), lambda L: L.channel_shuffle(L.zeros(3), 2),
                 lambda L: L.channel_shuffle(L.zeros(1, 2, 3), 0)):
        _same_error(make)


def test_max_unpool_inverts_max_pool():
    def round_trip_2d(L, x):
        pooled, indices = L.nn.functional.max_pool2d(x, 2, return_indices=True)
        return L.nn.MaxUnpool2d(2)(pooled, indices)

    check(round_trip_2d, normal(2, 3, 4, 6))

    def round_trip_1d(L, x):
        pooled, indices = L.nn.functional.max_pool1d(x, 3, 2, 1, return_indices=True)
        return L.nn.functional.max_unpool1d(pooled, indices, 3, 2, 1, output_size=[9])

    check(round_trip_1d, normal(2, 3, 9))

    def with_size(L, x):
        pooled, indices = L.nn.functional.max_pool2d(x, 2, return_indices=True)
        return L.nn.MaxUnpool2d(2)(pooled, indices, output_size=x.shape)

    check(with_size, normal(1, 2, 5, 5))
    check(lambda L, x: L.nn.MaxUnpool2d(2)(*L.nn.functional.max_pool2d(x, 2, return_indices=True)), normal(3, 4, 4))

    def round_trip_3d(L, x):
        pooled, indices = L.nn.MaxPool3d(3, 2, 1, return_indices=True)(x)
        return L.nn.MaxUnpool3d(3, 2, 1)(pooled, indices, output_size=x.shape)

    check(round_trip_3d, normal(2, 2, 5, 6, 5))
    check(lambda L, x: L.nn.functional.max_unpool3d(*L.nn.functional.max_pool3d(x, 2, return_indices=True), 2),
          normal(2, 4, 4, 6))
    assert repr(nn.MaxUnpool3d(2, 1)) == repr(torch.nn.MaxUnpool3d(2, 1))
    for make in (lambda L: L.nn.functional.max_unpool2d(L.ones(1, 1, 2, 2), L.tensor([[[[0, 1], [2, 99]]]]), 2),
                 lambda L: L.nn.functional.max_unpool2d(L.ones(1, 1, 2, 2), L.zeros(1, 1, 2, 2, dtype=L.int64), 2,
                                                        output_size=[9, 9]),
                 lambda L: L.nn.functional.max_unpool2d(L.ones(1, 1, 2, 2), L.zeros(1, 1, 2, 2, dtype=L.int64), 2,
                                                        output_size=[4])):
        _same_error(make)


@pytest.mark.parametrize("p", [1.0, 2.0, 3.5, float("inf")])
def test_lp_pool(p):
    x = RNG.uniform(0.1, 2.0, (2, 3, 6, 6))
    check(lambda L, t: L.nn.LPPool2d(p, 2)(t), x)
    check(lambda L, t: L.nn.LPPool2d(p, (3, 2), stride=(2, 1), ceil_mode=True)(t), x)
    check(lambda L, t: L.nn.functional.lp_pool1d(t, p, 3, 2), x[:, :, 0])
    check(lambda L, t: L.nn.LPPool3d(p, (2, 3, 2), stride=(1, 2, 2), ceil_mode=True)(t), x.reshape(2, 3, 4, 3, 3))
    check(lambda L, t: L.nn.functional.lp_pool3d(t, p, 2), x.reshape(3, 2, 6, 6))
    assert repr(nn.LPPool3d(p, (2, 3, 2), 1)) == repr(torch.nn.LPPool3d(p, (2, 3, 2), 1))
