"""Convolutions (chainrule.ops.conv) against PyTorch in float64: conv1d/conv2d,
conv_transpose1d/2d, unfold/fold; gradients, double backward, errors and memory layout."""
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


# -- conv2d ---------------------------------------------------------------------------------

CONV2D_CASES = [
    (stride, padding, dilation, groups, bias)
    for stride in (1, 2, (2, 1))
    for padding in (0, 1, (1, 2), "same", "valid")
    for dilation in (1, (2, 1))
    for groups in (1, 2)
    for bias in (True, False)
    if not (padding == "same" and stride != 1)
]


@pytest.mark.parametrize("stride,padding,dilation,groups,bias", CONV2D_CASES)
def test_conv2d_matches_torch(stride, padding, dilation, groups, bias, rng):
    x = rng.standard_normal((2, 4, 7, 8))
    w = rng.standard_normal((6, 4 // groups, 3, 2))
    b = rng.standard_normal(6)
    arrays = [x, w, b] if bias else [x, w]
    check_pair(lambda *a: F.conv2d(*a, stride=stride, padding=padding, dilation=dilation, groups=groups),
               lambda *a: TF.conv2d(*a, stride=stride, padding=padding, dilation=dilation, groups=groups),
               arrays, rng, f"conv2d {stride} {padding} {dilation} {groups} {bias}")


@pytest.mark.parametrize("kernel", [(1, 1), (3, 3), (4, 4), (2, 5), (7, 8)])
def test_conv2d_kernel_shapes_including_even_same(kernel, rng):
    x, w, b = rng.standard_normal((2, 3, 7, 8)), rng.standard_normal((5, 3) + kernel), rng.standard_normal(5)
    check_pair(lambda *a: F.conv2d(*a), lambda *a: TF.conv2d(*a), [x, w, b], rng, f"valid {kernel}")
    check_pair(lambda *a: F.conv2d(*a, padding="same", dilation=2) if kernel[0] * 2 <= 8 else F.conv2d(*a, padding="same"),
               lambda *a: TF.conv2d(*a, padding="same", dilation=2) if kernel[0] * 2 <= 8 else TF.conv2d(*a, padding="same"),
               [x, w, b], rng, f"same {kernel}")


def test_conv2d_depthwise_and_unbatched(rng):
    x, w, b = rng.standard_normal((2, 6, 5, 5)), rng.standard_normal((12, 1, 3, 3)), rng.standard_normal(12)
    check_pair(lambda *a: F.conv2d(*a, padding=1, groups=6), lambda *a: TF.conv2d(*a, padding=1, groups=6),
               [x, w, b], rng, "depthwise")
    x1, w1 = rng.standard_normal((3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    check_pair(lambda *a: F.conv2d(*a, stride=2, padding=1), lambda *a: TF.conv2d(*a, stride=2, padding=1),
               [x1, w1], rng, "unbatched")


def test_conv2d_float32_stays_float32_and_matches(rng):
    x = rng.standard_normal((4, 3, 9, 9)).astype(np.float32)
    w = rng.standard_normal((8, 3, 3, 3)).astype(np.float32)
    out = F.conv2d(chainrule.tensor(x), chainrule.tensor(w), padding=1)
    assert out.dtype == chainrule.float32
    assert_close(out, TF.conv2d(torch.tensor(x), torch.tensor(w), padding=1), rtol=1e-5, atol=1e-5)


def test_conv2d_of_non_contiguous_and_channel_major_inputs(rng):
    """Conv outputs are channel-major views; the next conv, reshapes and in-place ops on
    them behave as on any tensor."""
    x = rng.standard_normal((2, 3, 6, 5))
    w1, w2 = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal((2, 4, 2, 2))
    xc, xt = pair(x.transpose(0, 1, 3, 2).copy().transpose(0, 1, 3, 2))
    w1c, w1t = pair(w1)
    w2c, w2t = pair(w2)
    hc, ht = F.conv2d(xc, w1c, padding=1), TF.conv2d(xt, w1t, padding=1)
    assert not hc.is_contiguous()
    oc = F.conv2d(F.relu(hc), w2c, stride=2).reshape(2, -1)
    ot = TF.conv2d(TF.relu(ht), w2t, stride=2).reshape(2, -1)
    assert_close(oc, ot)
    (oc * oc).sum().backward()
    (ot * ot).sum().backward()
    for c, t in ((xc, xt), (w1c, w1t), (w2c, w2t)):
        assert_close(c.grad, t.grad)


def test_conv2d_backward_twice_needs_retain_graph(rng):
    x = chainrule.tensor(rng.standard_normal((1, 2, 5, 5)), requires_grad=True)
    w = chainrule.tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    conv = F.conv2d(x, w)
    assert conv.grad_fn.name() == "ConvolutionBackward0"
    out = conv.sum()
    out.backward(retain_graph=True)
    first = w.grad.numpy().copy()
    out.backward()
    assert_close(w.grad, 2 * first)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        out.backward()


# -- conv1d ---------------------------------------------------------------------------------


@pytest.mark.parametrize("stride,padding,dilation,groups,bias", [
    (1, 0, 1, 1, True), (2, 1, 1, 1, False), (1, "same", 2, 2, True), (3, 2, 2, 2, True),
    (1, "valid", 1, 1, True), (1, "same", 1, 1, False),
])
def test_conv1d_matches_torch(stride, padding, dilation, groups, bias, rng):
    x, w, b = rng.standard_normal((2, 4, 11)), rng.standard_normal((6, 4 // groups, 4)), rng.standard_normal(6)
    check_pair(lambda *a: F.conv1d(*a, stride=stride, padding=padding, dilation=dilation, groups=groups),
               lambda *a: TF.conv1d(*a, stride=stride, padding=padding, dilation=dilation, groups=groups),
               [x, w, b] if bias else [x, w], rng, "conv1d")


# -- conv_transpose -------------------------------------------------------------------------

TRANSPOSE_CASES = [
    (1, 0, 0, 1, 1, True), (2, 1, 1, 1, 1, True), (2, 1, 1, 2, 2, False), (3, 2, 2, 2, 1, True),
    (1, 0, 1, 1, 2, True), ((2, 3), (1, 0), (1, 2), 1, (1, 2), True), (2, 0, 0, 2, 1, False),
]


@pytest.mark.parametrize("stride,padding,output_padding,groups,dilation,bias", TRANSPOSE_CASES)
def test_conv_transpose2d_matches_torch(stride, padding, output_padding, groups, dilation, bias, rng):
    x = rng.standard_normal((2, 4, 5, 6))
    w = rng.standard_normal((4, 3, 3, 2))
    b = rng.standard_normal(3 * groups)
    check_pair(lambda *a: F.conv_transpose2d(*a, stride=stride, padding=padding, output_padding=output_padding,
                                         groups=groups, dilation=dilation),
               lambda *a: TF.conv_transpose2d(*a, stride=stride, padding=padding, output_padding=output_padding,
                                          groups=groups, dilation=dilation),
               [x, w, b] if bias else [x, w], rng, "conv_transpose2d")


@pytest.mark.parametrize("stride,padding,output_padding,groups,dilation", [
    (1, 0, 0, 1, 1), (2, 1, 1, 2, 1), (3, 1, 2, 1, 2),
])
def test_conv_transpose1d_matches_torch(stride, padding, output_padding, groups, dilation, rng):
    x, w, b = rng.standard_normal((2, 4, 7)), rng.standard_normal((4, 2, 3)), rng.standard_normal(2 * groups)
    check_pair(lambda *a: F.conv_transpose1d(*a, stride, padding, output_padding, groups, dilation),
               lambda *a: TF.conv_transpose1d(*a, stride, padding, output_padding, groups, dilation),
               [x, w, b], rng, "conv_transpose1d")


def test_conv_transpose_is_the_adjoint_of_conv(rng):
    """<conv(x, w), y> == <x, conv_transpose(y, w)>."""
    x = chainrule.tensor(rng.standard_normal((2, 4, 9, 8)))
    w = chainrule.tensor(rng.standard_normal((6, 2, 3, 3)))
    y = chainrule.tensor(rng.standard_normal((2, 6, 5, 4)))
    left = (F.conv2d(x, w, stride=2, padding=1, dilation=1, groups=2) * y).sum()
    right = (x * F.conv_transpose2d(y, w, stride=2, padding=1, output_padding=(0, 1), groups=2)).sum()
    assert abs(left.item() - right.item()) < 1e-9 * abs(left.item())


# -- gradients of gradients -----------------------------------------------------------------


@pytest.mark.parametrize("stride,padding,dilation,groups", [(1, 1, 1, 1), (2, 1, 2, 2), (1, "same", 1, 1)])
def test_conv2d_double_backward_matches_torch(stride, padding, dilation, groups, rng):
    x, w, b = rng.standard_normal((2, 4, 7, 6)), rng.standard_normal((6, 4 // groups, 3, 3)), rng.standard_normal(6)
    (xc, xt), (wc, wt), (bc, bt) = pair(x), pair(w), pair(b)
    yc = F.conv2d(xc, wc, bc, stride, padding, dilation, groups)
    yt = TF.conv2d(xt, wt, bt, stride, padding, dilation, groups)
    gc = chainrule.autograd.grad((yc * yc).sum(), [xc, wc, bc], create_graph=True)
    gt = torch.autograd.grad((yt * yt).sum(), [xt, wt, bt], create_graph=True)
    for c, t in zip(gc, gt):
        assert_close(c, t)
    (sum(((g * g).sum() for g in gc[:2]), gc[2].sum())).backward()
    (sum(((g * g).sum() for g in gt[:2]), gt[2].sum())).backward()
    for c, t in ((xc, xt), (wc, wt), (bc, bt)):
        assert_close(c.grad, t.grad, rtol=1e-8, atol=1e-8)


def test_conv_transpose2d_double_backward_matches_torch(rng):
    x, w = rng.standard_normal((2, 4, 4, 5)), rng.standard_normal((4, 3, 3, 3))
    (xc, xt), (wc, wt) = pair(x), pair(w)
    yc = F.conv_transpose2d(xc, wc, stride=2, padding=1, output_padding=1)
    yt = TF.conv_transpose2d(xt, wt, stride=2, padding=1, output_padding=1)
    gc = chainrule.autograd.grad((yc ** 3).sum(), [xc, wc], create_graph=True)
    gt = torch.autograd.grad((yt ** 3).sum(), [xt, wt], create_graph=True)
    (gc[0].sum() + (gc[1] ** 2).sum()).backward()
    (gt[0].sum() + (gt[1] ** 2).sum()).backward()
    assert_close(xc.grad, xt.grad, rtol=1e-8, atol=1e-8)
    assert_close(wc.grad, wt.grad, rtol=1e-8, atol=1e-8)


def test_conv_gradcheck_and_gradgradcheck(rng):
    def t(*shape):
        return chainrule.tensor(rng.standard_normal(shape), requires_grad=True)

    x, w, b = t(1, 2, 5, 4), t(2, 1, 2, 3), t(2)
    assert gradcheck(lambda *a: F.conv2d(*a, stride=(2, 1), padding=1, dilation=(1, 2), groups=2), (x, w, b))
    assert gradgradcheck(lambda *a: F.conv2d(*a, stride=(2, 1), padding=1, groups=2), (x, w, b))
    xt, wt = t(1, 2, 3, 3), t(2, 2, 2, 3)
    assert gradcheck(lambda *a: F.conv_transpose2d(*a, stride=2, padding=1, output_padding=1), (xt, wt))
    assert gradgradcheck(lambda *a: F.conv_transpose2d(*a, stride=2), (xt, wt))
    w1 = chainrule.tensor(rng.standard_normal((3, 2, 2)))
    assert gradcheck(lambda a: F.conv1d(a, w1, padding="same"), (t(1, 2, 5),))


# -- unfold / fold --------------------------------------------------------------------------


@pytest.mark.parametrize("kernel,dilation,padding,stride", [
    (2, 1, 0, 1), ((2, 3), 2, 1, (2, 1)), (3, 1, 1, 2), ((1, 2), (1, 2), (0, 1), 1),
])
def test_unfold_and_fold_match_torch(kernel, dilation, padding, stride, rng):
    x = rng.standard_normal((2, 3, 7, 8))
    check_pair(lambda a: F.unfold(a, kernel, dilation, padding, stride),
               lambda a: TF.unfold(a, kernel, dilation, padding, stride), [x], rng, "unfold")
    blocks = TF.unfold(torch.tensor(x), kernel, dilation, padding, stride)
    cols = rng.standard_normal(tuple(blocks.shape))
    check_pair(lambda a: F.fold(a, (7, 8), kernel, dilation, padding, stride),
               lambda a: TF.fold(a, (7, 8), kernel, dilation, padding, stride), [cols], rng, "fold")
    check_pair(lambda a: F.fold(a, (7, 8), kernel, dilation, padding, stride),
               lambda a: TF.fold(a, (7, 8), kernel, dilation, padding, stride), [cols[0]], rng, "fold unbatched")


def test_unfold_fold_double_backward(rng):
    x = chainrule.tensor(rng.standard_normal((1, 2, 4, 4)), requires_grad=True)
    assert gradgradcheck(lambda a: F.unfold(a, 2, 1, 1, 2) ** 2, (x,))
    cols = chainrule.tensor(rng.standard_normal((1, 8, 9)), requires_grad=True)
    assert gradgradcheck(lambda a: F.fold(a, (4, 4), 2, 1, 1, 2) ** 2, (cols,))


# -- errors ---------------------------------------------------------------------------------


def test_conv_errors_match_torch_and_name_the_shapes(rng):
    def both(x_shape, w_shape, **kwargs):
        x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
        return (lambda: F.conv2d(chainrule.tensor(x), chainrule.tensor(w), **kwargs),
                lambda: TF.conv2d(torch.tensor(x), torch.tensor(w), **kwargs))

    raises_like_torch(*both((2, 4, 5, 5), (6, 4, 7, 7)),
                      r"padded input size per channel: \(5 x 5\)\. Kernel size: \(7 x 7\)")
    raises_like_torch(*both((2, 4, 5, 5), (6, 4, 4, 4), dilation=2),
                      r"padded input size per channel: \(5 x 5\)\. Kernel size: \(7 x 7\)")
    raises_like_torch(*both((2, 4, 5, 5), (6, 2, 3, 3)), r"expected input\[2, 4, 5, 5\] to have 2 channels, but got 4")
    raises_like_torch(*both((2, 3, 5, 5), (6, 1, 3, 3), groups=2), r"groups=2.*to have 2 channels, but got 3")
    raises_like_torch(*both((2, 4, 5, 5), (5, 2, 3, 3), groups=2), r"divisible by 2 at dimension 0.*\[5, 2, 3, 3\]")
    raises_like_torch(*both((5, 5), (6, 4, 3, 3)), r"3D \(unbatched\) or 4D \(batched\) input to conv2d.*\[5, 5\]")
    raises_like_torch(*both((2, 4, 5, 5), (6, 4, 3, 3), stride=2, padding="same"), "not supported for strided")
    raises_like_torch(*both((2, 4, 5, 5), (6, 4, 3, 3), padding="full"), "Invalid padding string: 'full'")
    raises_like_torch(*both((2, 4, 5, 5), (6, 4, 3, 3), padding=-1), "negative padding")
    raises_like_torch(*both((2, 4, 5, 5), (6, 4, 3, 3), stride=0), "non-positive stride")
    raises_like_torch(*both((2, 4, 5, 5), (6, 4, 3, 3), groups=0), "non-positive groups")
    x, w, b = rng.standard_normal((2, 4, 5, 5)), rng.standard_normal((6, 4, 3, 3)), rng.standard_normal(5)
    raises_like_torch(lambda: F.conv2d(chainrule.tensor(x), chainrule.tensor(w), chainrule.tensor(b)),
                      lambda: TF.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b)),
                      r"bias to be 1-dimensional with 6 elements, but got bias of size \[5\]")
    raises_like_torch(lambda: F.conv2d(chainrule.tensor(x), chainrule.tensor(w).float()),
                      lambda: TF.conv2d(torch.tensor(x), torch.tensor(w).float()), r"float64.*float32")
    raises_like_torch(lambda: F.conv1d(chainrule.tensor(x[:, :, 0, :2]), chainrule.tensor(w[:, :, 0])),
                      lambda: TF.conv1d(torch.tensor(x[:, :, 0, :2]), torch.tensor(w[:, :, 0])),
                      r"padded input size per channel: \(2\)\. Kernel size: \(3\)")


def test_conv_transpose_and_fold_errors_match_torch(rng):
    x = rng.standard_normal((2, 4, 5, 5))
    w = rng.standard_normal((4, 3, 3, 3))
    raises_like_torch(lambda: F.conv_transpose2d(chainrule.tensor(x), chainrule.tensor(w), stride=2, output_padding=2),
                      lambda: TF.conv_transpose2d(torch.tensor(x), torch.tensor(w), stride=2, output_padding=2),
                      "output padding must be smaller than either stride or dilation")
    raises_like_torch(lambda: F.conv_transpose2d(chainrule.tensor(x), chainrule.tensor(w[:3])),
                      lambda: TF.conv_transpose2d(torch.tensor(x), torch.tensor(w[:3])),
                      r"transposed=1, weight of size \[3, 3, 3, 3\], expected input\[2, 4, 5, 5\] to have 3 channels")
    with pytest.raises(RuntimeError, match=r"Calculated output size per channel: \(-3 x -3\)"):
        F.conv_transpose2d(chainrule.tensor(x), chainrule.tensor(w), padding=5)
    cols = rng.standard_normal((2, 13, 4))
    raises_like_torch(lambda: F.fold(chainrule.tensor(cols), (3, 3), 2),
                      lambda: TF.fold(torch.tensor(cols), (3, 3), 2),
                      r"input.size\(1\)=13 and kernel_size=\(2, 2\)")
    raises_like_torch(lambda: F.fold(chainrule.tensor(cols[:, :12, :3]), (3, 3), 2),
                      lambda: TF.fold(torch.tensor(cols[:, :12, :3]), (3, 3), 2), r"2 \* 2 = 4.*input.size\(2\)=3")
    raises_like_torch(lambda: F.unfold(chainrule.tensor(x), 7), lambda: TF.unfold(torch.tensor(x), 7),
                      r"spatial size \(5, 5\), kernel_size=\(7, 7\).*\(-1, -1\)")


# -- the fast paths of the backward: the same numbers as the plain formulas -------------------

@pytest.mark.parametrize("shape,kernel,padding,groups", [
    ((64, 8, 13, 13), (3, 3), (0, 0, 0, 0), 1),
    ((2, 3, 7, 9), (3, 2), (1, 1, 2, 2), 1),
    ((3, 4, 5, 8), (2, 3), (0, 1, 0, 1), 2),
    ((1, 2, 6, 6), (5, 5), (2, 2, 2, 2), 1),
])
@pytest.mark.parametrize("channel_major", [False, True])
def test_stride_one_input_gradient_is_col2im_bit_for_bit(shape, kernel, padding, groups, channel_major, rng):
    """conv2d_input_array's wide-row col2im (stride 1) gives the plain GEMM + col2im's
    result exactly, whatever the gradient's memory order."""
    from chainrule.ops import conv
    n, c, h, w = shape
    kh, kw = kernel
    top, bottom, left, right = padding
    ho, wo = h + top + bottom - kh + 1, w + left + right - kw + 1
    co = 2 * groups
    geom = conv.Geometry((1, 1), padding, (1, 1), groups)
    g = rng.standard_normal((n, co, ho, wo)).astype(np.float32)
    if channel_major:
        g = np.ascontiguousarray(g.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    weight = rng.standard_normal((co, c // groups, kh, kw)).astype(np.float32)
    fast = conv.conv2d_input_array(np, g, weight, geom, (h, w))
    wm = weight.reshape(groups, co // groups, -1)
    cols = conv._matmul(np, wm.transpose(0, 2, 1), conv._channel_major(g, groups))
    plain = conv.col2im(np, cols.reshape(c, kh, kw, n, ho, wo), (h, w), geom)
    assert fast.shape == plain.shape == (n, c, h, w)
    np.testing.assert_array_equal(fast, plain)


def test_weight_gradient_of_a_long_inner_dimension_is_summed_in_blocks(rng):
    """A first layer's weight gradient (few outputs, batch x pixels long) runs in blocks of
    the inner dimension: within float rounding of one GEMM, and PyTorch's gradient."""
    from chainrule.ops import conv
    x = rng.standard_normal((48, 1, 28, 28))  # 48 * 26 * 26 = 32448 >= 2 blocks
    weight = rng.standard_normal((8, 1, 3, 3))
    xc, xt = pair(x)
    wc, wt = pair(weight)
    F.conv2d(xc, wc).square().sum().backward()
    TF.conv2d(xt, wt).square().sum().backward()
    assert_close(wc.grad.numpy(), wt.grad.numpy(), what="conv2d weight gradient, long inner dimension")
    a = rng.standard_normal((1, 9, 40000)).astype(np.float32)
    b = rng.standard_normal((1, 40000, 8)).astype(np.float32)
    blocked = conv._long_matmul(np, a, b)
    np.testing.assert_allclose(blocked, a @ b, rtol=1e-4, atol=1e-3)
    assert not np.shares_memory(blocked, a)
