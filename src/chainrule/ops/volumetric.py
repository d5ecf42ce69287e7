"""3-D convolution and pooling over (N, C, D, H, W), built from the 2-D kernels: for each
offset of the kernel in depth, one 2-D convolution (or pooling) over every output depth at
once (those depth slices stacked into the batch), the results summed (or maximised).  kD
calls of the 2-D kernel, with its gradients; nothing of its own to get wrong."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..amp import lower_precision
from ..autograd.function import Op
from ..backend import get_array_module
from ..tensor import Tensor
from .conv import _check_groups, _check_positive, _conv_setup, _size_str, _tuple, conv2d, conv_transpose2d, \
    conv_transpose_setup
from .nn import ConstantPad
from .pooling import PoolGeometry, _pool_setup, avg_pool2d, max_pool2d_array


def _depth_slices(padded: Tensor, offset: int, step: int, count: int) -> Tensor:
    """Depth planes ``offset, offset + step, ...`` (``count`` of them) of (N, C, D, H, W) as a
    batch of 2-D inputs: (N * count, C, H, W)."""
    n, c, _, h, w = padded.shape
    xp = get_array_module(padded._data)  # (the index lives where the planes do)
    index = Tensor._wrap(xp.arange(offset, offset + step * count, step, dtype=np.int64)[:count])
    planes = padded.index_select(2, index)  # (N, C, count, H, W)
    return planes.transpose(1, 2).reshape(n * count, c, h, w)


def _pad(x: Tensor, pads: tuple, value: float) -> Tensor:
    """``x`` (N, C, D, H, W) padded by ``pads`` ((before, after) for D, H, W) with ``value``."""
    if not any(a or b for a, b in pads):
        return x
    return ConstantPad.apply(x, ((0, 0), (0, 0)) + tuple(pads), value)


def conv3d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
           groups: int = 1) -> Any:
    """3-D cross-correlation over (N, C, D, H, W) or (C, D, H, W), as
    ``torch.nn.functional.conv3d`` (padding may be 'same'/'valid')."""
    op = "conv3d"
    input, weight, bias = lower_precision(input, weight, bias)
    input, unbatched = _conv_setup(op, input, weight, bias, 3)
    stride = _tuple(stride, 3, "stride", op)
    dilation = _tuple(dilation, 3, "dilation", op)
    _check_positive(stride, dilation)
    _check_groups(op, groups, weight, input, False)
    kernel = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * 3
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            pads = tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for d, k in zip(dilation, kernel))
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        padding = _tuple(padding, 3, "padding", op)
        if any(p < 0 for p in padding):
            raise RuntimeError("negative padding is not supported")
        pads = tuple((p, p) for p in padding)
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != weight.shape[0]):
        raise RuntimeError(f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional with "
                           f"{weight.shape[0]} elements, but got bias of size {list(bias.shape)} instead")
    padded = [s + a + b for s, (a, b) in zip(input.shape[2:], pads)]
    effective = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    if any(p < e for p, e in zip(padded, effective)):
        raise RuntimeError(f"Calculated padded input size per channel: {_size_str(padded)}. Kernel size: "
                           f"{_size_str(effective)}. Kernel size can't be greater than actual input size")
    x = _pad(input, pads, 0)
    depth = (padded[0] - effective[0]) // stride[0] + 1
    total = None
    for k in range(kernel[0]):
        planes = _depth_slices(x, k * dilation[0], stride[0], depth)
        out = conv2d(planes, weight[:, :, k], None, stride[1:], 0, dilation[1:], groups)
        total = out if total is None else total + out
    n = input.shape[0]
    result = total.reshape(n, depth, *total.shape[1:]).transpose(1, 2)
    if bias is not None:
        result = result + bias.reshape(1, -1, 1, 1, 1)
    return result.squeeze(0) if unbatched else result


def _spread_depth(planes: Tensor, step: int, offset: int, depth: int) -> Tensor:
    """(N, C, D, H, W) planes placed at depths ``offset + step * i`` of a zero (N, C, depth, H, W)."""
    n, c, d, h, w = planes.shape
    if step > 1:  # zeros between the planes: (N, C, D, step, H, W) -> (N, C, D * step, H, W)
        planes = ConstantPad.apply(planes.unsqueeze(3), ((0, 0),) * 3 + ((0, step - 1), (0, 0), (0, 0)), 0)
        planes = planes.reshape(n, c, d * step, h, w).narrow(2, 0, (d - 1) * step + 1)
    return _pad(planes, ((offset, depth - offset - planes.shape[2]), (0, 0), (0, 0)), 0)


def conv_transpose3d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Any:
    """The transpose (adjoint) of conv3d, as ``torch.nn.functional.conv_transpose3d``; weight
    is (in_channels, out_channels/groups, kd, kh, kw)."""
    input, weight, bias = lower_precision(input, weight, bias)
    input, unbatched, stride, padding, output_padding, dilation, out_size = conv_transpose_setup(
        "conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups, dilation)
    n, _, depth = input.shape[:3]
    planes = input.transpose(1, 2).reshape(n * depth, input.shape[1], *input.shape[3:])
    # Input depth i and kernel depth k reach output depth i * stride + k * dilation - padding.
    full = out_size[0] + 2 * padding[0]
    total = None
    for k in range(weight.shape[2]):
        out = conv_transpose2d(planes, weight[:, :, k], None, stride[1:], padding[1:], output_padding[1:], groups,
                               dilation[1:])
        out = out.reshape(n, depth, *out.shape[1:]).transpose(1, 2)
        out = _spread_depth(out, stride[0], k * dilation[0], full)
        total = out if total is None else total + out
    result = total.narrow(2, padding[0], out_size[0])
    if bias is not None:
        result = result + bias.reshape(1, -1, 1, 1, 1)
    return result.squeeze(0) if unbatched else result


def _pool3d_frame(op: str, input: Any, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
                  ceil_mode: bool) -> tuple:
    kernel, stride, padding, dilation, out_size = _pool_setup(op, input, 3, kernel_size, stride, padding, dilation,
                                                              ceil_mode)
    unbatched = input.ndim == 4
    x = input.unsqueeze(0) if unbatched else input
    # Depth padded so that every window (ceil_mode's last one too) lies inside.
    back = max(0, (out_size[0] - 1) * stride[0] + dilation[0] * (kernel[0] - 1) + 1 - x.shape[2] - padding[0])
    return x, unbatched, kernel, stride, padding, dilation, out_size, (padding[0], back)


class MaxPool3dIndices(Op):
    """Where each 3-D max pooling window of (N, C, D, H, W) has its first maximum (or its
    last NaN, as PyTorch), as a flat D*H*W index (int64): the 2-D kernel over the planes of each
    kernel depth, the earliest depth kept on ties.  Never differentiable: the maxima are
    gathered there, so the gradient goes to that one element."""

    __slots__ = ()
    differentiable = False

    def forward(self, xp, x, kernel, stride, padding, dilation, out_size):
        n, c, depth, h, w = x.shape
        (kd, kh, kw), (sd, sh, sw), (pd, ph, pw), (dd, dh, dw), (od, oh, ow) = kernel, stride, padding, dilation, out_size
        back = max(0, (od - 1) * sd + dd * (kd - 1) + 1 - depth - pd)
        padded = xp.full((n, c, depth + pd + back, h, w), -np.inf, dtype=x.dtype)
        padded[:, :, pd:pd + depth] = x
        pg = PoolGeometry((kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow))
        rows = xp.arange(oh).reshape(-1, 1) * sh - ph
        cols = xp.arange(ow) * sw - pw
        depths = xp.arange(od).reshape(-1, 1, 1) * sd - pd
        best = indices = None
        for k in range(kd):
            planes = padded[:, :, k * dd:k * dd + sd * (od - 1) + 1:sd].reshape(n, c * od, h, w)
            values, arg = max_pool2d_array(xp, planes, pg)
            values, arg = values.reshape(n, c, od, oh, ow), arg.reshape(n, c, od, oh, ow).astype(np.int64)
            where = ((depths + k * dd) * h + rows + (arg // kw) * dh) * w + cols + (arg % kw) * dw
            if best is None:
                best, indices = values, where
                continue
            better = (values > best) | xp.isnan(values)
            best = xp.where(better, values, best)
            indices = xp.where(better, where, indices)
        return indices


def max_pool3d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """3-D max pooling over (N, C, D, H, W) or (C, D, H, W), as ``F.max_pool3d``; with
    ``return_indices`` also the flat D*H*W index of each maximum."""
    kernel, stride, padding, dilation, out_size = _pool_setup("max_pool3d", input, 3, kernel_size, stride, padding,
                                                              dilation, ceil_mode)
    x = input.unsqueeze(0) if input.ndim == 4 else input
    n, c = x.shape[:2]
    indices = MaxPool3dIndices.apply(x, kernel, stride, padding, dilation, out_size)
    out = x.reshape(n, c, -1).gather(2, indices.reshape(n, c, -1)).reshape(indices.shape)
    if input.ndim == 4:
        out, indices = out.squeeze(0), indices.squeeze(0)
    return (out, indices) if return_indices else out


def _window_counts(size: int, kernel: int, stride: int, padding: int, out: int, include_pad: bool) -> np.ndarray:
    """How many places each window along one dim covers (inside the input, or inside the
    input and its padding)."""
    start = np.arange(out) * stride - padding
    end = np.minimum(start + kernel, size + padding)
    if include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


def avg_pool3d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: Any = None) -> Any:
    """3-D average pooling over (N, C, D, H, W) or (C, D, H, W), as ``F.avg_pool3d``."""
    x, unbatched, kernel, stride, padding, _, out_size, depth_pads = _pool3d_frame(
        "avg_pool3d", input, kernel_size, stride, padding, 1, ceil_mode)
    spatial = tuple(x.shape[2:])
    x = _pad(x, (depth_pads, (0, 0), (0, 0)), 0)
    total = None
    for k in range(kernel[0]):
        planes = _depth_slices(x, k, stride[0], out_size[0])
        summed = avg_pool2d(planes, kernel[1:], stride[1:], padding[1:], ceil_mode, True, 1)  # window sums
        total = summed if total is None else total + summed
    n = x.shape[0]
    total = total.reshape(n, out_size[0], *total.shape[1:]).transpose(1, 2)
    if divisor_override:
        result = total / divisor_override
    else:
        counts = [_window_counts(s, k, st, p, o, count_include_pad)
                  for s, k, st, p, o in zip(spatial, kernel, stride, padding, out_size)]
        divisor = np.multiply.outer(np.multiply.outer(counts[0], counts[1]), counts[2])
        result = total / Tensor._wrap(get_array_module(x._data).asarray(divisor.astype(x._data.dtype)))
    return result.squeeze(0) if unbatched else result
