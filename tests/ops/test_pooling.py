"""Pooling (chainrule.ops.pooling) against PyTorch in float64: max_pool1d/2d (indices, ties,
NaN), avg_pool1d/2d, adaptive_avg_pool1d/2d; gradients, double backward and errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule
import chainrule.nn.functional as F
from chainrule.autograd import gradcheck, gradgradcheck
from conftest import assert_close, pair
from op_parity import check_pair, raises_like_torch


MAX_CASES = [
    (kernel, stride, padding, dilation, ceil_mode)
    for kernel in (2, 3, (2, 3))
    for stride in (None, 1, 2, (2, 1))
    for padding in (0, 1)
    for dilation in (1, 2)
    for ceil_mode in (False, True)
]


@pytest.mark.parametrize("kernel,stride,padding,dilation,ceil_mode", MAX_CASES)
def test_max_pool2d_matches_torch(kernel, stride, padding, dilation, ceil_mode, rng):
    x = rng.standard_normal((2, 3, 9, 10))
    args = dict(kernel_size=kernel, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
    check_pair(lambda a: F.max_pool2d(a, **args, return_indices=True),
               lambda a: TF.max_pool2d(a, **args, return_indices=True), x, rng, f"max_pool2d {args}")
    check_pair(lambda a: F.max_pool2d(a, **args), lambda a: TF.max_pool2d(a, **args), x, rng, f"max_pool2d {args}")


def test_max_pool2d_ties_go_to_the_first_maximum(rng):
    x = np.maximum(rng.standard_normal((2, 3, 8, 9)), 0).round(0)  # mostly zeros after the ReLU
    for args in (dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1), dict(kernel_size=3, stride=2)):
        check_pair(lambda a: F.max_pool2d(a, **args, return_indices=True),
                   lambda a: TF.max_pool2d(a, **args, return_indices=True), x, rng, f"ties {args}")


def test_max_pool2d_propagates_nan_and_inf_like_torch(rng):
    x = rng.standard_normal((1, 2, 6, 6))
    x[0, 0, 1, 1] = x[0, 0, 0, 0] = np.nan  # two in one window: PyTorch's index is the last one's
    x[0, 1, 2, 3] = np.inf
    x[0, 1, 4, 4] = -np.inf
    xc, xt = pair(x)
    (vc, ic), (vt, it) = F.max_pool2d(xc, 2, return_indices=True), TF.max_pool2d(xt, 2, return_indices=True)
    np.testing.assert_array_equal(vc.detach().numpy(), vt.detach().numpy())
    np.testing.assert_array_equal(ic.numpy(), it.numpy())
    vc.sum().backward()
    vt.sum().backward()
    np.testing.assert_array_equal(xc.grad.numpy(), xt.grad.numpy())


def test_max_pool2d_unbatched_and_channel_major_input(rng):
    x = rng.standard_normal((3, 7, 7))
    check_pair(lambda a: F.max_pool2d(a, 3, 2, 1), lambda a: TF.max_pool2d(a, 3, 2, 1), x, rng, "unbatched")
    w = rng.standard_normal((4, 3, 3, 3))
    xb = rng.standard_normal((2, 3, 8, 8))
    check_pair(lambda a: F.max_pool2d(F.conv2d(a, chainrule.tensor(w), padding=1), 2),
               lambda a: TF.max_pool2d(TF.conv2d(a, torch.tensor(w), padding=1), 2), xb, rng, "after conv")


@pytest.mark.parametrize("kernel,stride,padding,dilation,ceil_mode", [
    (2, None, 0, 1, False), (3, 2, 1, 1, True), (3, 1, 1, 2, False), (4, 3, 2, 1, True),
])
def test_max_pool1d_matches_torch(kernel, stride, padding, dilation, ceil_mode, rng):
    args = dict(kernel_size=kernel, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
    for shape in ((2, 3, 11), (3, 11)):
        x = rng.standard_normal(shape)
        check_pair(lambda a: F.max_pool1d(a, **args, return_indices=True),
                   lambda a: TF.max_pool1d(a, **args, return_indices=True), x, rng, f"max_pool1d {args}")


AVG_CASES = [
    (kernel, stride, padding, ceil_mode, count_include_pad, divisor)
    for kernel in (2, 3, (2, 3))
    for stride in (None, 1, 2)
    for padding in (0, 1)
    for ceil_mode in (False, True)
    for count_include_pad in (True, False)
    for divisor in (None, 5)
]


@pytest.mark.parametrize("kernel,stride,padding,ceil_mode,count_include_pad,divisor", AVG_CASES)
def test_avg_pool2d_matches_torch(kernel, stride, padding, ceil_mode, count_include_pad, divisor, rng):
    x = rng.standard_normal((2, 3, 9, 10))
    args = dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode,
                count_include_pad=count_include_pad, divisor_override=divisor)
    check_pair(lambda a: F.avg_pool2d(a, **args), lambda a: TF.avg_pool2d(a, **args), x, rng, f"avg_pool2d {args}")


@pytest.mark.parametrize("kernel,stride,padding,ceil_mode,count_include_pad", [
    (2, None, 0, False, True), (3, 2, 1, True, False), (4, 3, 2, True, True),
])
def test_avg_pool1d_matches_torch(kernel, stride, padding, ceil_mode, count_include_pad, rng):
    x = rng.standard_normal((2, 3, 11))
    check_pair(lambda a: F.avg_pool1d(a, kernel, stride, padding, ceil_mode, count_include_pad),
               lambda a: TF.avg_pool1d(a, kernel, stride, padding, ceil_mode, count_include_pad), x, rng, "avg_pool1d")


@pytest.mark.parametrize("output_size", [1, 3, (4, 7), (9, 10), (5, None), 13, (2, 1)])
def test_adaptive_avg_pool2d_matches_torch(output_size, rng):
    for shape in ((2, 3, 9, 10), (3, 9, 10)):
        x = rng.standard_normal(shape)
        check_pair(lambda a: F.adaptive_avg_pool2d(a, output_size), lambda a: TF.adaptive_avg_pool2d(a, output_size),
                   x, rng, f"adaptive_avg_pool2d {output_size}")


@pytest.mark.parametrize("output_size", [1, 3, (2, 4, 3), (5, None, 7)])
def test_adaptive_avg_pool3d_matches_torch(output_size, rng):
    for shape in ((2, 3, 4, 5, 6), (3, 4, 5, 6)):
        x = rng.standard_normal(shape)
        check_pair(lambda a: F.adaptive_avg_pool3d(a, output_size), lambda a: TF.adaptive_avg_pool3d(a, output_size),
                   x, rng, f"adaptive_avg_pool3d {output_size}")
    assert repr(chainrule.nn.AdaptiveAvgPool3d((2, None, 3))) == repr(torch.nn.AdaptiveAvgPool3d((2, None, 3)))
    check_pair(lambda a: chainrule.nn.AdaptiveAvgPool3d(output_size)(a),
               lambda a: torch.nn.AdaptiveAvgPool3d(output_size)(a), x, rng, "module")


@pytest.mark.parametrize("output_size", [1, 4, 11, 15])
def test_adaptive_avg_pool1d_matches_torch(output_size, rng):
    x = rng.standard_normal((2, 3, 11))
    check_pair(lambda a: F.adaptive_avg_pool1d(a, output_size), lambda a: TF.adaptive_avg_pool1d(a, output_size),
               x, rng, f"adaptive_avg_pool1d {output_size}")


@pytest.mark.parametrize("name,args", [
    ("max_pool2d", dict(kernel_size=3, stride=2, padding=1)),
    ("max_pool2d", dict(kernel_size=2, dilation=2, ceil_mode=True)),
    ("avg_pool2d", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("adaptive_avg_pool2d", dict(output_size=(3, 4))),
])
def test_pooling_double_backward_matches_torch(name, args, rng):
    x = rng.standard_normal((2, 3, 7, 8))
    xc, xt = pair(x)
    yc, yt = getattr(F, name)(xc, **args), getattr(TF, name)(xt, **args)
    gc, = chainrule.autograd.grad((yc ** 3).sum(), [xc], create_graph=True)
    gt, = torch.autograd.grad((yt ** 3).sum(), [xt], create_graph=True)
    assert_close(gc, gt)
    (gc ** 2).sum().backward()
    (gt ** 2).sum().backward()
    assert_close(xc.grad, xt.grad)


def test_pooling_gradcheck(rng):
    x = chainrule.tensor(rng.standard_normal((1, 2, 5, 6)), requires_grad=True)
    assert gradcheck(lambda a: F.max_pool2d(a, 3, 2, 1, ceil_mode=True), (x,))
    assert gradcheck(lambda a: F.avg_pool2d(a, 3, 2, 1, ceil_mode=True, count_include_pad=False), (x,))
    assert gradcheck(lambda a: F.adaptive_avg_pool2d(a, (4, 4)), (x,))
    assert gradgradcheck(lambda a: F.avg_pool2d(a, 2, 1) ** 2, (x,))
    assert gradgradcheck(lambda a: F.max_pool2d(a, 2) ** 2, (x,))


def test_pooling_errors_match_torch(rng):
    x = rng.standard_normal((2, 4, 5, 5))
    xc, xt = chainrule.tensor(x), torch.tensor(x)
    raises_like_torch(lambda: F.max_pool2d(xc, 3, padding=2), lambda: TF.max_pool2d(xt, 3, padding=2),
                      "pad should be at most half of effective kernel size, but got pad=2, kernel_size=3")
    raises_like_torch(lambda: F.max_pool2d(xc, 7), lambda: TF.max_pool2d(xt, 7),
                      r"Given input size: \(4x5x5\)\. Calculated output size: \(4x0x0\)\. Output size is too small")
    raises_like_torch(lambda: F.avg_pool2d(xc, 3, padding=2), lambda: TF.avg_pool2d(xt, 3, padding=2),
                      "pad should be at most half")
    raises_like_torch(lambda: F.avg_pool2d(xc, 7), lambda: TF.avg_pool2d(xt, 7), "Output size is too small")
    raises_like_torch(lambda: F.max_pool2d(xc[0, 0], 2), lambda: TF.max_pool2d(xt[0, 0], 2), r"\[5, 5\]")
    raises_like_torch(lambda: F.adaptive_avg_pool2d(xc[0, 0], 2), lambda: TF.adaptive_avg_pool2d(xt[0, 0], 2),
                      r"3D or 4D tensor.*\[5, 5\]")
    raises_like_torch(lambda: F.max_pool1d(xc[0], 7), lambda: TF.max_pool1d(xt[0], 7), "Output size is too small")
    raises_like_torch(lambda: F.adaptive_avg_pool3d(xc[0], 2), lambda: TF.adaptive_avg_pool3d(xt[0], 2),
                      r"adaptive_avg_pool3d\(\): Expected 4D or 5D tensor, but got \[4, 5, 5\]")
    raises_like_torch(lambda: F.adaptive_avg_pool3d(xc, (2, -1, 2)), lambda: TF.adaptive_avg_pool3d(xt, (2, -1, 2)),
                      r"greater than or equal to 0 but received \{2, -1,2\}")
    raises_like_torch(lambda: F.adaptive_avg_pool3d(xc, (2, 2)), lambda: TF.adaptive_avg_pool3d(xt, (2, 2)),
                      "output_size must be 3")
    assert F.adaptive_avg_pool2d(xc[:, :0], 2).shape == TF.adaptive_avg_pool2d(xt[:, :0], 2).shape == (2, 0, 2, 2)
    raises_like_torch(lambda: F.adaptive_avg_pool3d(xc[:, :0], 2), lambda: TF.adaptive_avg_pool3d(xt[:, :0], 2),
                      r"non-zero size for non-batch dimensions, but input has sizes \[2, 0, 5, 5\] with dimension 1")
    with pytest.raises(RuntimeError, match="stride should be greater than zero"):
        F.max_pool2d(xc, 2, stride=0)


def _first_maximum_reference(x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple):
    """Max pooling by the definition: every window's values in row-major order, the first
    maximum's offset (the last NaN wins), by a Python loop over output positions."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    n, c, h, w = x.shape
    padded = np.full((n, c, h + 2 * ph + kh * dh, w + 2 * pw + kw * dw), -np.inf)
    padded[:, :, ph:ph + h, pw:pw + w] = x
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    best, arg = np.empty((n, c, ho, wo)), np.empty((n, c, ho, wo), int)
    for r in range(ho):
        for q in range(wo):
            window = np.stack([padded[:, :, r * sh + i * dh, q * sw + j * dw]
                               for i in range(kh) for j in range(kw)], axis=-1)
            nan = np.isnan(window)
            k = np.where(nan.any(-1), nan.shape[-1] - 1 - nan[..., ::-1].argmax(-1), window.argmax(-1))
            arg[:, :, r, q] = k
            best[:, :, r, q] = np.take_along_axis(window, k[..., None], -1)[..., 0]
    return best, arg


@pytest.mark.parametrize("kernel,stride,padding,dilation", [
    ((2, 2), (2, 2), (0, 0), (1, 1)), ((3, 3), (1, 1), (1, 1), (1, 1)), ((3, 2), (2, 1), (1, 0), (2, 1)),
    ((1, 3), (1, 2), (0, 1), (1, 2)), ((1, 1), (1, 1), (0, 0), (1, 1)),
])
@pytest.mark.parametrize("channel_major", [False, True])
def test_max_pool2d_array_picks_the_first_maximum_or_last_nan_with_many_ties(kernel, stride, padding, dilation,
                                                                        channel_major, rng):
    from chainrule.ops import pooling
    x = rng.integers(-2, 3, (2, 3, 9, 8)).astype(np.float32)  # five values: ties everywhere
    x[rng.random(x.shape) < 0.05] = np.nan
    if channel_major:
        x = np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    want_best, want_arg = _first_maximum_reference(x, kernel, stride, padding, dilation)
    pg = pooling.PoolGeometry(kernel, stride, padding, dilation, want_best.shape[2:])
    best, arg = pooling.max_pool2d_array(np, x, pg)
    np.testing.assert_array_equal(best, want_best.astype(np.float32))
    np.testing.assert_array_equal(arg, want_arg)
    # The backward reads the gradient in arg's memory order whatever order it comes in.
    g = rng.standard_normal(best.shape).astype(np.float32)
    g_other = np.ascontiguousarray(g.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    np.testing.assert_array_equal(pooling.max_pool2d_scatter_array(np, g, arg, pg, x.shape[2:]),
                                  pooling.max_pool2d_scatter_array(np, g_other, arg, pg, x.shape[2:]))
