"""Resampling (chainrule.ops.spatial) against PyTorch in float64: F.pad's reflect /
replicate / circular modes, interpolate (nearest, nearest-exact, linear, bilinear, bicubic, antialiased,
trilinear, area), and channel dropout (dropout1d/2d/3d)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule
import chainrule.nn.functional as F
from chainrule.autograd import gradcheck, gradgradcheck
from conftest import assert_close
from op_parity import check_pair, raises_like_torch


# -- pad ------------------------------------------------------------------------------------

PAD_CASES = [
    ((2, 3, 7), (1, 2)), ((3, 7), (2, 0)), ((2, 3, 6, 7), (1, 2, 2, 1)), ((3, 6, 7), (0, 3, 1, 0)),
    ((2, 2, 4, 5, 6), (1, 1, 2, 0, 0, 3)), ((2, 3, 6, 7), (5, 6, 0, 0)),
]


def _valid_pad(mode, shape, pad):
    """reflect needs pads smaller than the dim; circular wraps at most once."""
    smallest = min(shape[-len(pad) // 2:])
    return not ((mode == "reflect" and max(pad) >= smallest) or (mode == "circular" and max(pad) > smallest))


@pytest.mark.parametrize("mode,shape,pad", [
    (mode, shape, pad) for mode in ("reflect", "replicate", "circular") for shape, pad in PAD_CASES
    if _valid_pad(mode, shape, pad)
])
def test_pad_modes_match_torch(mode, shape, pad, rng):
    check_pair(lambda a: F.pad(a, pad, mode), lambda a: TF.pad(a, pad, mode), rng.standard_normal(shape), rng,
               f"pad {mode} {pad}")


def test_pad_constant_and_cropping_match_torch(rng):
    x = rng.standard_normal((2, 3, 6, 7))
    for pad, value in (((1, 2), 0.0), ((2, 1, 0, 3), 1.5), ((-1, 2, 1, -2), 0.0), ((1, 1, 1, 1, 1, 1), -2.0)):
        check_pair(lambda a: F.pad(a, pad, value=value), lambda a: TF.pad(a, pad, value=value), x, rng, f"constant {pad}")


def test_pad_double_backward(rng):
    x = chainrule.tensor(rng.standard_normal((1, 2, 4, 5)), requires_grad=True)
    for mode in ("reflect", "replicate", "circular"):
        assert gradgradcheck(lambda a: F.pad(a, (2, 1, 1, 3), mode) ** 2, (x,))


def test_pad_errors_match_torch(rng):
    x = rng.standard_normal((2, 3, 5, 5))
    xc, xt = chainrule.tensor(x), torch.tensor(x)
    raises_like_torch(lambda: F.pad(xc, (5, 5, 1, 1), mode="reflect"), lambda: TF.pad(xt, (5, 5, 1, 1), mode="reflect"),
                      r"Padding size should be less than the corresponding input dimension, but got: padding \(5, 5\) "
                      r"at dimension 3 of input \[2, 3, 5, 5\]")
    raises_like_torch(lambda: F.pad(xc, (1, 1, 1)), lambda: TF.pad(xt, (1, 1, 1)), "divisible by 2")
    raises_like_torch(lambda: F.pad(xc, (6, 6, 1, 1), mode="circular"), lambda: TF.pad(xt, (6, 6, 1, 1), mode="circular"),
                      "wrapping around more than once")


# -- interpolate ----------------------------------------------------------------------------

SIZES = [dict(size=(5, 13)), dict(size=7), dict(scale_factor=2), dict(scale_factor=1.7),
         dict(scale_factor=(0.5, 3)), dict(size=(20, 4)), dict(scale_factor=1.7, recompute_scale_factor=True)]
MODES = [("nearest", None), ("nearest-exact", None), ("bilinear", False), ("bilinear", True), ("area", None),
         ("bicubic", False), ("bicubic", True)]


@pytest.mark.parametrize("mode,align_corners", MODES)
@pytest.mark.parametrize("kwargs", SIZES)
def test_interpolate_2d_matches_torch(mode, align_corners, kwargs, rng):
    x = rng.standard_normal((2, 3, 9, 10))
    check_pair(lambda a: F.interpolate(a, mode=mode, align_corners=align_corners, **kwargs),
               lambda a: TF.interpolate(a, mode=mode, align_corners=align_corners, **kwargs), x, rng,
               f"interpolate {mode} {align_corners} {kwargs}")


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("kwargs", [dict(size=(4, 3)), dict(scale_factor=0.3), dict(size=(9, 10)),
                                    dict(scale_factor=(0.5, 1.7)), dict(size=(1, 1))])
def test_interpolate_antialias_matches_torch(mode, align_corners, kwargs, rng):
    x = rng.standard_normal((2, 3, 9, 10))
    check_pair(lambda a: F.interpolate(a, mode=mode, align_corners=align_corners, antialias=True, **kwargs),
               lambda a: TF.interpolate(a, mode=mode, align_corners=align_corners, antialias=True, **kwargs), x, rng,
               f"antialias {mode} {align_corners} {kwargs}")


@pytest.mark.parametrize("mode,align_corners", [("nearest", None), ("nearest-exact", None), ("linear", False),
                                                ("linear", True), ("area", None)])
@pytest.mark.parametrize("kwargs", [dict(size=17), dict(scale_factor=2.5), dict(size=4)])
def test_interpolate_1d_matches_torch(mode, align_corners, kwargs, rng):
    x = rng.standard_normal((2, 3, 11))
    check_pair(lambda a: F.interpolate(a, mode=mode, align_corners=align_corners, **kwargs),
               lambda a: TF.interpolate(a, mode=mode, align_corners=align_corners, **kwargs), x, rng, f"1d {mode}")


@pytest.mark.parametrize("mode,align_corners", [("nearest", None), ("trilinear", False), ("trilinear", True)])
def test_interpolate_3d_matches_torch(mode, align_corners, rng):
    x = rng.standard_normal((1, 2, 3, 4, 5))
    check_pair(lambda a: F.interpolate(a, size=(5, 3, 7), mode=mode, align_corners=align_corners),
               lambda a: TF.interpolate(a, size=(5, 3, 7), mode=mode, align_corners=align_corners), x, rng, f"3d {mode}")


def test_interpolate_float32_matches_torch_float32(rng):
    x = rng.standard_normal((2, 3, 9, 10)).astype(np.float32)
    for mode, ac in (("nearest", None), ("bilinear", False), ("bilinear", True), ("bicubic", False), ("bicubic", True)):
        out = F.interpolate(chainrule.tensor(x), scale_factor=1.7, mode=mode, align_corners=ac)
        assert out.dtype == chainrule.float32
        assert_close(out, TF.interpolate(torch.tensor(x), scale_factor=1.7, mode=mode, align_corners=ac),
                     rtol=1e-5, atol=1e-5)


def test_interpolate_gradcheck_and_double_backward(rng):
    x = chainrule.tensor(rng.standard_normal((1, 2, 3, 4)), requires_grad=True)
    assert gradcheck(lambda a: F.interpolate(a, size=(5, 7), mode="bilinear", align_corners=False), (x,))
    assert gradgradcheck(lambda a: F.interpolate(a, scale_factor=2, mode="bilinear") ** 2, (x,))
    assert gradgradcheck(lambda a: F.interpolate(a, size=(5, 3), mode="nearest") ** 2, (x,))
    assert gradgradcheck(lambda a: F.interpolate(a, size=(2, 6), mode="bicubic") ** 2, (x,))
    assert gradgradcheck(lambda a: F.interpolate(a, size=(2, 3), mode="bilinear", antialias=True) ** 2, (x,))


def test_interpolate_errors_match_torch(rng):
    x = rng.standard_normal((2, 3, 4, 4))
    xc, xt = chainrule.tensor(x), torch.tensor(x)
    raises_like_torch(lambda: F.interpolate(xc, mode="bilinear"), lambda: TF.interpolate(xt, mode="bilinear"),
                      "either size or scale_factor should be defined")
    raises_like_torch(lambda: F.interpolate(xc, size=3, scale_factor=2), lambda: TF.interpolate(xt, size=3, scale_factor=2),
                      "only one of size or scale_factor")
    raises_like_torch(lambda: F.interpolate(xc, size=3, align_corners=True), lambda: TF.interpolate(xt, size=3, align_corners=True),
                      "align_corners option can only be set with the interpolating modes")
    raises_like_torch(lambda: F.interpolate(xc[0], size=3, mode="bilinear"),
                      lambda: TF.interpolate(xt[0], size=3, mode="bilinear"), "Got 3D input, but bilinear mode needs 4D input")
    raises_like_torch(lambda: F.interpolate(xc, size=3, mode="cubic"), lambda: TF.interpolate(xt, size=3, mode="cubic"),
                      r"got cubic")
    raises_like_torch(lambda: F.interpolate(xc, size=3, mode="nearest", antialias=True),
                      lambda: TF.interpolate(xt, size=3, mode="nearest", antialias=True),
                      "Anti-alias option is restricted to bilinear, bicubic")
    raises_like_torch(lambda: F.interpolate(xc[0], size=3, mode="bicubic"),
                      lambda: TF.interpolate(xt[0], size=3, mode="bicubic"), "Got 3D input, but bicubic mode needs 4D input")
    raises_like_torch(lambda: F.interpolate(xc, size=(3, 3, 3)), lambda: TF.interpolate(xt, size=(3, 3, 3)),
                      r"spatial dimensions of \[4, 4\] and output size of \[3, 3, 3\]")


# -- channel dropout ------------------------------------------------------------------------


def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    chainrule.manual_seed(0)
    x = chainrule.ones(64, 32, 3, 3, requires_grad=True)
    out = F.dropout2d(x, p=0.25)
    values = out.detach().numpy()
    per_channel = values.reshape(64, 32, 9)
    assert np.all(per_channel == per_channel[:, :, :1])  # one value per channel
    assert set(np.unique(values)) <= {0.0, np.float32(1 / 0.75)}
    dropped = (per_channel[:, :, 0] == 0).mean()
    assert abs(dropped - 0.25) < 0.03  # 2048 channels: 3 standard deviations
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), values)  # the gradient is the mask


def test_dropout2d_is_identity_when_not_training_and_reproducible_with_a_seed():
    x = chainrule.randn(4, 5, 2, 2)
    assert F.dropout2d(x, 0.5, training=False) is x
    assert F.dropout2d(x, 0.0) is x
    assert (F.dropout2d(x, 1.0).numpy() == 0).all()
    chainrule.manual_seed(3)
    a = F.dropout2d(x, 0.5)
    chainrule.manual_seed(3)
    b = F.dropout2d(x, 0.5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        F.dropout2d(x, 1.5)


def test_dropout1d_and_3d_mask_channels():
    chainrule.manual_seed(1)
    out1 = F.dropout1d(chainrule.ones(8, 16, 5), 0.5).numpy()
    assert np.all(out1 == out1[:, :, :1])
    out3 = F.dropout3d(chainrule.ones(8, 16, 2, 3, 4), 0.5).numpy().reshape(8, 16, -1)
    assert np.all(out3 == out3[:, :, :1]) and 0 < (out3 == 0).mean() < 1
    with pytest.warns(UserWarning, match="dropout2d: Received a 3D input"):
        out = F.dropout2d(chainrule.ones(8, 16, 5), 0.5).numpy()
    assert np.all(out == out[:, :, :1])


@pytest.mark.parametrize("name,kwargs", [("upsample_nearest", {"scale_factor": 2}), ("upsample_nearest", {"size": 5}),
                                         ("upsample_bilinear", {"size": (5, 7)}),
                                         ("upsample_bilinear", {"scale_factor": 1.5}),
                                         ("upsample", {"scale_factor": 2, "mode": "bilinear"})])
def test_deprecated_upsample_forms_warn_and_interpolate(name, kwargs, rng):
    x = rng.standard_normal((2, 3, 4, 5))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_pair(lambda a: getattr(F, name)(a, **kwargs), lambda a: getattr(TF, name)(a, **kwargs), x, rng, name)
    message = f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` instead."
    assert [(w.category, str(w.message), w.filename) for w in caught] == [(UserWarning, message, __file__)] * 2
