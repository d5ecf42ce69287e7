"""3-D convolution and pooling (ops/volumetric.py) against PyTorch in float64: values and the
gradients of input, weight and bias for strides, paddings, dilations, groups, unbatched input,
ceil_mode and count_include_pad; the modules; the errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from op_parity import check, raises_like_torch

RNG = np.random.default_rng(3)


def normal(*shape):
    return RNG.standard_normal(shape)


@pytest.mark.parametrize("options", [
    {}, {"stride": 2}, {"stride": (2, 1, 2), "padding": (1, 0, 1), "dilation": (1, 2, 1)}, {"padding": "same"},
    {"padding": "valid", "dilation": 2}, {"groups": 2},
])
@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")  # (PyTorch's own note)
def test_conv3d(options):
    weight = normal(4, 4 // options.get("groups", 1), 3, 2, 3)
    check(lambda L, x, w, b: L.nn.functional.conv3d(x, w, b, **options), normal(2, 4, 6, 7, 5), weight, normal(4))
    check(lambda L, x, w: L.nn.functional.conv3d(x, w, **options), normal(4, 6, 7, 5), weight)  # unbatched


@pytest.mark.parametrize("options", [
    {}, {"stride": 2, "padding": 1, "output_padding": 1},
    {"stride": (2, 1, 3), "padding": (1, 0, 1), "output_padding": (1, 0, 2), "dilation": (1, 2, 1)},
    {"stride": 3, "dilation": 2, "output_padding": 1, "padding": 2}, {"groups": 2, "stride": (1, 2, 1)},
])
def test_conv_transpose3d(options):
    weight = normal(4, 6 // options.get("groups", 1), 2, 3, 2)
    check(lambda L, x, w, b: L.nn.functional.conv_transpose3d(x, w, b, **options), normal(2, 4, 3, 4, 5), weight,
          normal(6))
    check(lambda L, x, w: L.nn.functional.conv_transpose3d(x, w, **options), normal(4, 3, 2, 3), weight)  # unbatched


@pytest.mark.parametrize("options", [
    {"kernel_size": 2}, {"kernel_size": (2, 3, 2), "stride": (2, 1, 1), "padding": 1, "ceil_mode": True},
    {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": (2, 1, 1)},
])
def test_max_pool3d(options):
    check(lambda L, x: L.nn.functional.max_pool3d(x, **options), normal(2, 3, 6, 7, 5))
    check(lambda L, x: L.nn.MaxPool3d(**options)(x), normal(3, 6, 7, 5))
    check(lambda L, x: L.nn.functional.max_pool3d(x, **options, return_indices=True), normal(2, 3, 6, 7, 5))
    check(lambda L, x: L.nn.MaxPool3d(**options, return_indices=True)(x), normal(3, 6, 7, 5))
    check(lambda L, x: L.nn.functional.max_pool3d_with_indices(x, **options), normal(1, 2, 6, 7, 5))


def test_max_pool3d_ties_and_nan_like_torch():
    """Ties go to the first maximum in (depth, row, column) order, the gradient with them;
    a NaN wins, the last one of a window where it has several."""
    x = np.round(normal(2, 2, 5, 6, 5))
    x[0, 0, 0, 0, 1] = x[0, 0, 1, 1, 1] = x[1, 1, 3, 2, 2] = np.nan
    check(lambda L, x: L.nn.functional.max_pool3d(x, 2, return_indices=True), x)
    check(lambda L, x: L.nn.functional.max_pool3d(x, 3, stride=2, padding=1, ceil_mode=True, return_indices=True),
          np.round(normal(1, 2, 5, 6, 5)))


@pytest.mark.parametrize("name", ["max_pool1d_with_indices", "max_pool2d_with_indices"])
def test_max_pool_with_indices(name):
    shape = (2, 3, 7) if "1d" in name else (2, 3, 7, 6)
    check(lambda L, x: getattr(L.nn.functional, name)(x, 3, 2, 1), normal(*shape))


@pytest.mark.parametrize("options", [
    {"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1}, {"kernel_size": 3, "stride": 2, "padding": 1,
                                                                      "count_include_pad": False},
    {"kernel_size": (2, 2, 3), "ceil_mode": True}, {"kernel_size": 2, "divisor_override": 3},
    {"kernel_size": (3, 2, 2), "stride": 2, "padding": (1, 1, 0), "ceil_mode": True, "count_include_pad": False},
])
def test_avg_pool3d(options):
    check(lambda L, x: L.nn.functional.avg_pool3d(x, **options), normal(2, 3, 6, 7, 5))
    check(lambda L, x: L.nn.AvgPool3d(**options)(x), normal(3, 6, 7, 5))


def test_modules_print_and_initialise_like_torch():
    assert repr(chainrule.nn.Conv3d(2, 4, 3, stride=2, padding=1, bias=False)) == \
        repr(torch.nn.Conv3d(2, 4, 3, stride=2, padding=1, bias=False))
    assert repr(chainrule.nn.MaxPool3d(2)) == repr(torch.nn.MaxPool3d(2))
    assert repr(chainrule.nn.AvgPool3d((1, 2, 2), stride=1)) == repr(torch.nn.AvgPool3d((1, 2, 2), stride=1))
    chainrule.manual_seed(0)
    conv = chainrule.nn.Conv3d(8, 16, 3)
    bound = 1 / np.sqrt(8 * 27)
    weights = conv.weight.detach().numpy()
    assert abs(weights).max() <= bound and abs(weights).max() > 0.9 * bound
    theirs = torch.nn.Conv3d(8, 16, 3)
    conv.load_state_dict({k: chainrule.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = RNG.standard_normal((1, 8, 5, 5, 5)).astype(np.float32)
    np.testing.assert_allclose(conv(chainrule.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("make", [
    lambda L: L.nn.functional.conv3d(L.zeros(1, 2, 4, 4), L.zeros(3, 2, 2, 2, 2)),
    lambda L: L.nn.functional.conv3d(L.zeros(1, 2, 2, 4, 4), L.zeros(3, 2, 3, 2, 2)),
    lambda L: L.nn.functional.conv3d(L.zeros(1, 3, 4, 4, 4), L.zeros(4, 2, 2, 2, 2), groups=2),
    lambda L: L.nn.functional.max_pool3d(L.zeros(1, 1, 2, 2, 2), 2, padding=2),
    lambda L: L.nn.functional.conv_transpose3d(L.zeros(1, 2, 3, 3, 3), L.zeros(2, 2, 2, 2, 2), stride=2,
                                               output_padding=2),
    lambda L: L.nn.functional.conv_transpose3d(L.zeros(1, 2, 1, 1, 1), L.zeros(2, 2, 2, 2, 2), padding=2),
    lambda L: L.nn.functional.conv_transpose3d(L.zeros(1, 2, 3, 3, 3), L.zeros(2, 2, 2, 2, 2), stride=0),
])
def test_errors_like_torch(make):
    import re

    with pytest.raises(Exception) as theirs:
        make(torch)
    raises_like_torch(lambda: make(chainrule), lambda: make(torch), re.escape(str(theirs.value).split("\n")[0][:30]))
