"""Pooling: max_pool1d/2d (with indices), avg_pool2d, adaptive_avg_pool2d, the windows of
adaptive and fractional max pooling.

Windows are strided views of the (padded) input, one per kernel offset: the loops run over
the kh*kw offsets of the kernel, never over pixels, channels or batch items.  Max pooling
keeps, per output element, the offset of its maximum (the first one, or the last NaN, as PyTorch); the
backward adds the gradient back through the same views where that offset won.

Each pooling op's backward is itself an op (scatter <-> gather, average <-> its adjoint), so
second derivatives work under ``create_graph=True``.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..autograd.function import Op
from ..backend import get_array_module
from ..dtypes import not_implemented
from ..tensor import Tensor
from .conv import _int_tuple
from .namespace import ArrayKernels, kernel_selector


class PoolGeometry(NamedTuple):
    kernel: tuple  # (kh, kw)
    stride: tuple  # (sh, sw)
    padding: tuple  # (ph, pw)
    dilation: tuple  # (dh, dw)
    out_hw: tuple  # (ho, wo)


def _offsets(pg: PoolGeometry) -> list:
    """(k, rows, cols): the strided slices that pick kernel offset k of every window."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = pg.kernel, pg.stride, pg.dilation, pg.out_hw
    out = []
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
        for j in range(kw):
            out.append((i * kw + j, rows, slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)))
    return out


def _extent(pg: PoolGeometry, h: int, w: int) -> tuple:
    """Padding (top, bottom, left, right) so that every window lies inside the buffer."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (ho, wo) = pg
    bottom = max(0, (ho - 1) * sh + dh * (kh - 1) + 1 - h - ph)
    right = max(0, (wo - 1) * sw + dw * (kw - 1) + 1 - w - pw)
    return ph, bottom, pw, right


def _channel_major(x: Any) -> bool:
    return x.strides[1] > x.strides[0]


def _filled(xp: Any, x: Any, pads: tuple, value: float) -> Any:
    """``x`` inside a border of ``value``, keeping x's memory order (channel-major or not)."""
    top, bottom, left, right = pads
    if not (top or bottom or left or right):
        return x
    n, c, h, w = x.shape
    if _channel_major(x):
        buf = xp.full((c, n, h + top + bottom, w + left + right), value, dtype=x.dtype).transpose(1, 0, 2, 3)
    else:
        buf = xp.full((n, c, h + top + bottom, w + left + right), value, dtype=x.dtype)
    buf[:, :, top:top + h, left:left + w] = x
    return buf


def _zeros_channel_major(xp: Any, shape: tuple, dtype: Any) -> Any:
    n, c, h, w = shape
    return xp.zeros((c, n, h, w), dtype=dtype).transpose(1, 0, 2, 3)


def _in_layout_of(xp: Any, a: Any, like: Any) -> Any:
    """``a`` copied into an array with ``like``'s memory order."""
    out = xp.empty_like(like, dtype=a.dtype)
    out[...] = a
    return out


def _index_dtype(count: int) -> Any:
    return np.int8 if count <= 127 else np.int16 if count <= 32767 else np.int32


def max_pool2d_array(xp: Any, x: Any, pg: PoolGeometry) -> tuple:
    """(values, offset of each window's first maximum)."""
    h, w = x.shape[2:]
    pads = _extent(pg, h, w)
    x = _filled(xp, x, pads, -np.inf)
    offsets = _offsets(pg)
    views = [x[:, :, rows, cols] for _, rows, cols in offsets]
    best = views[0].copy(order="K")
    for view in views[1:]:
        xp.maximum(best, view, out=best)
    index_dtype = _index_dtype(len(offsets))
    # The first offset k whose value is the maximum, from the last offset inwards:
    # arg = ne_0 * (1 + ne_1 * (1 + ... (1 + ne_{K-2}))), ne_k = [view_k != best]; ten
    # passes for a 2x2 window, where choosing the best while scanning took seventeen.
    if len(views) == 1:
        arg = xp.zeros_like(best, dtype=index_dtype)
    else:
        arg = xp.not_equal(views[-2], best)
        arg = arg.view(index_dtype) if index_dtype is np.int8 else arg.astype(index_dtype)
        for view in reversed(views[:-2]):
            arg += index_dtype(1)
            arg *= xp.not_equal(view, best)
    if xp.isnan(best).any():
        # NaN wins, as in PyTorch: the position of the last NaN of each window (its kernel
        # takes every NaN it meets).
        for k, rows, cols in offsets:
            arg[xp.isnan(x[:, :, rows, cols])] = k
    return best, arg


def _disjoint(pg: PoolGeometry) -> bool:
    """No input position lies in two windows."""
    return all(s >= d * (k - 1) + 1 for k, s, d in zip(pg.kernel, pg.stride, pg.dilation))


def max_pool2d_scatter_array(xp: Any, g: Any, arg: Any, pg: PoolGeometry, hw: tuple) -> Any:
    """Each window's gradient onto the position of its maximum, (N, C, H, W) channel-major."""
    h, w = hw
    top, bottom, left, right = _extent(pg, h, w)
    n, c = g.shape[:2]
    buf = _zeros_channel_major(xp, (n, c, h + top + bottom, w + left + right), g.dtype)
    if _channel_major(g) != _channel_major(arg):
        # Read g in arg's memory order (one copy of the small pooled gradient): ops on
        # arrays of two orders walk one of them against its layout, several times slower.
        g = _in_layout_of(xp, g, arg)
    # g * [arg == k] is exact for finite g (a non-finite g times 0 would leak NaN).
    finite = bool(xp.isfinite(g).all())
    disjoint = _disjoint(pg)
    for k, rows, cols in _offsets(pg):
        region = buf[:, :, rows, cols]
        hit = arg == k
        if disjoint and finite:
            xp.multiply(g, hit, out=region)
        else:
            region += xp.where(hit, g, 0) if not finite else g * hit
    return buf[:, :, top:top + h, left:left + w]


def max_pool2d_gather_array(xp: Any, grad: Any, arg: Any, pg: PoolGeometry) -> Any:
    """The adjoint of the scatter: each window reads ``grad`` at its maximum's position."""
    h, w = grad.shape[2:]
    grad = _filled(xp, grad, _extent(pg, h, w), 0)
    out = xp.zeros(arg.shape, dtype=grad.dtype)
    for k, rows, cols in _offsets(pg):
        xp.copyto(out, grad[:, :, rows, cols], where=arg == k)
    return out


def _divisor(xp: Any, pg: PoolGeometry, hw: tuple, count_include_pad: bool, divisor_override: Any, dtype: Any) -> Any:
    """Per output position, what PyTorch's avg_pool2d divides the window sum by: (ho, wo)."""
    if divisor_override:
        return None
    sizes = []
    for size, k, s, p, out in zip(hw, pg.kernel, pg.stride, pg.padding, pg.out_hw):
        start = np.arange(out) * s - p
        end = np.minimum(start + k, size + p)
        if count_include_pad:
            sizes.append(end - start)
        else:
            sizes.append(np.minimum(end, size) - np.maximum(start, 0))
    return xp.asarray(np.multiply.outer(sizes[0], sizes[1]).astype(dtype))


def avg_pool2d_array(xp: Any, x: Any, pg: PoolGeometry, divisor: Any, override: Any) -> Any:
    h, w = x.shape[2:]
    x = _filled(xp, x, _extent(pg, h, w), 0)
    offsets = _offsets(pg)
    _, rows, cols = offsets[0]
    out = x[:, :, rows, cols].copy(order="K")
    for _, rows, cols in offsets[1:]:
        out += x[:, :, rows, cols]
    if override:
        out /= override
    else:
        out /= divisor
    return out


def avg_pool2d_transpose_array(xp: Any, g: Any, pg: PoolGeometry, hw: tuple, divisor: Any, override: Any) -> Any:
    h, w = hw
    top, bottom, left, right = _extent(pg, h, w)
    n, c = g.shape[:2]
    share = g / (override if override else divisor)
    buf = _zeros_channel_major(xp, (n, c, h + top + bottom, w + left + right), g.dtype)
    for _, rows, cols in _offsets(pg):
        buf[:, :, rows, cols] += share
    return buf[:, :, top:top + h, left:left + w]


class _ArrayKernels(ArrayKernels):
    __slots__ = ()

    def max_pool2d_scatter(self, g: Any, arg: Any, pg: PoolGeometry, hw: tuple) -> Any:
        return max_pool2d_scatter_array(self.xp, g, arg, pg, hw)

    def max_pool2d_gather(self, grad: Any, arg: Any, pg: PoolGeometry) -> Any:
        return max_pool2d_gather_array(self.xp, grad, arg, pg)

    def avg_pool2d(self, x: Any, pg: PoolGeometry, divisor: Any, override: Any) -> Any:
        return avg_pool2d_array(self.xp, x, pg, divisor, override)

    def avg_pool2d_transpose(self, g: Any, pg: PoolGeometry, hw: tuple, divisor: Any, override: Any) -> Any:
        return avg_pool2d_transpose_array(self.xp, g, pg, hw, divisor, override)


_kernels = kernel_selector(_ArrayKernels)


def _array(a: Any) -> Any:
    return a._data if isinstance(a, Tensor) else a


class MaxPool2d(Op):
    __slots__ = ("pg", "hw")
    presented_inputs = 1  # (PyTorch's node has the tensor inputs only: next_functions)
    pytorch_name = "MaxPool2DWithIndicesBackward0"
    derivative = ("d max_pool(x)/dx = G routed to each window's (first) maximum",)

    def forward(self, xp, x, pg, indices_out=None):
        self.pg, self.hw = pg, x.shape[2:]
        out, arg = max_pool2d_array(xp, x, pg)
        self.saved = (arg,)
        if indices_out is not None:
            indices_out.append(arg)
        return out

    def backward(self, xp, g):
        return _kernels(xp).max_pool2d_scatter(g, _array(self.saved[0]), self.pg, tuple(self.hw))


class MaxPool2dScatter(Op):
    """The backward of max pooling as an op (its own backward gathers)."""

    __slots__ = ("pg", "arg")
    derivative = ("d scatter(g)/dg = G read at each window's maximum",)

    def forward(self, xp, g, arg, pg, hw):
        self.pg, self.arg = pg, arg
        return max_pool2d_scatter_array(xp, g, arg, pg, hw)

    def backward(self, xp, grad):
        return _kernels(xp).max_pool2d_gather(grad, self.arg, self.pg)


class MaxPool2dGather(Op):
    __slots__ = ("pg", "arg", "hw")
    derivative = ("d gather(u)/du = G routed to each window's maximum",)

    def forward(self, xp, u, arg, pg):
        self.pg, self.arg, self.hw = pg, arg, u.shape[2:]
        return max_pool2d_gather_array(xp, u, arg, pg)

    def backward(self, xp, grad):
        return _kernels(xp).max_pool2d_scatter(grad, self.arg, self.pg, tuple(self.hw))


class AvgPool2d(Op):
    __slots__ = ("pg", "hw", "divisor", "override")
    presented_inputs = 1  # (PyTorch's node has the tensor inputs only: next_functions)
    pytorch_name = "AvgPool2DBackward0"
    derivative = ("d avg_pool(x)/dx = G / window size, spread over each window",)

    def forward(self, xp, x, pg, divisor, override):
        self.pg, self.hw, self.divisor, self.override = pg, x.shape[2:], divisor, override
        return avg_pool2d_array(xp, x, pg, divisor, override)

    def backward(self, xp, g):
        return _kernels(xp).avg_pool2d_transpose(g, self.pg, tuple(self.hw), self.divisor, self.override)


class AvgPool2dTranspose(Op):
    __slots__ = ("pg", "divisor", "override")
    derivative = ("d avg_pool^T(g)/dg = avg_pool(G)",)

    def forward(self, xp, g, pg, hw, divisor, override):
        self.pg, self.divisor, self.override = pg, divisor, override
        return avg_pool2d_transpose_array(xp, g, pg, hw, divisor, override)

    def backward(self, xp, grad):
        return _kernels(xp).avg_pool2d(grad, self.pg, self.divisor, self.override)


class AdaptiveMaxIndices(Op):
    """Where each of PyTorch's adaptive windows [floor(i*n/o), ceil((i+1)*n/o)) of the last
    ``len(output_size)`` dims of ``a`` has its (first) maximum, as an index into those dims
    flattened (int64).  An op of its own, never differentiable: the maxima are gathered there,
    and a plan (``chainrule.compiler``) finds them again at each call."""

    __slots__ = ()
    differentiable = False

    def forward(self, xp, a, output_size):
        k = len(output_size)
        sizes, lead = a.shape[-k:], a.shape[:-k]
        flat_values = a.reshape(lead + (-1,))
        positions = np.arange(int(np.prod(sizes))).reshape(sizes)
        indices = xp.empty(lead + tuple(output_size), dtype=xp.int64)
        for cell in np.ndindex(*output_size):
            window = tuple(slice(i * n // o, -(-(i + 1) * n // o)) for i, n, o in zip(cell, sizes, output_size))
            where = xp.asarray(positions[window].reshape(-1))
            indices[(Ellipsis,) + cell] = where[xp.argmax(flat_values[..., where], axis=-1)]
        return indices



class FractionalMaxIndices(Op):
    """Where each fractional max pooling window of ``x`` (N, C, *spatial) has its first
    maximum (or its last NaN, as PyTorch), as an index into the flattened spatial dims (int64).
    Window ``i`` along a dim starts at ``int((i + u) a) - int(u a)``, ``a = (in - k) / (out -
    1)``, the last at ``in - k``, computed in ``x``'s dtype as PyTorch's kernel does; ``u`` is the
    plane's sample for that dim (``samples``, (N', C, dims); dims in PyTorch's order: W, H for
    2-D, T, H, W for 3-D).  Never differentiable: the maxima are gathered there."""

    __slots__ = ()
    differentiable = False

    def forward(self, xp, x, kernel, output_size, samples):
        n, c = x.shape[:2]
        sizes = x.shape[2:]
        order = (1, 0) if len(sizes) == 2 else (0, 1, 2)
        strides = [int(np.prod(sizes[d + 1:])) for d in range(len(sizes))]
        starts = []  # per dim, (N, C, out) window starts, shaped to broadcast over the output
        for d, (size, k, out) in enumerate(zip(sizes, kernel, output_size)):
            start = _interval_starts(xp, samples[:n, :, order[d]], size, out, k) * strides[d]
            shape = (n, c) + tuple(out if e == d else 1 for e in range(len(sizes)))
            starts.append(start.reshape(shape))
        first = sum(starts[1:], starts[0])
        flat = x.reshape(n, c, int(np.prod(sizes)))
        best = xp.full((n, c) + tuple(output_size), -np.inf, dtype=x.dtype)
        indices = xp.broadcast_to(first, best.shape).astype(np.int64)
        for offset in np.ndindex(*kernel):
            where = first + sum(o * stride for o, stride in zip(offset, strides))
            where = xp.broadcast_to(where, best.shape)
            values = xp.take_along_axis(flat, where.reshape(n, c, int(np.prod(output_size))), axis=2).reshape(best.shape)
            better = (values > best) | xp.isnan(values)
            best = xp.where(better, values, best)
            indices = xp.where(better, where, indices)
        return indices


def _interval_starts(xp, sample, size, out, kernel):
    """PyTorch's ``generate_intervals``, for the samples ``sample`` (N, C) at once."""
    starts = xp.full(sample.shape + (out,), size - kernel, dtype=np.int64)
    if out > 1:
        dtype = sample.dtype.type
        alpha = dtype(size - kernel) / dtype(out - 1)
        steps = xp.arange(out - 1).astype(sample.dtype)
        scaled = ((steps + sample[..., None]) * alpha).astype(np.int64)  # truncation, as C's int cast
        starts[..., :-1] = scaled - (sample * alpha).astype(np.int64)[..., None]
    return starts

def namespace_functions() -> dict:
    """Tensor-namespace forms of the kernels, for backward formulas under create_graph."""

    def max_pool2d_scatter(g: Any, arg: Any, pg: PoolGeometry, hw: tuple) -> Any:
        return MaxPool2dScatter.apply(g, arg, pg, hw)

    def max_pool2d_gather(grad: Any, arg: Any, pg: PoolGeometry) -> Any:
        return MaxPool2dGather.apply(grad, arg, pg)

    def avg_pool2d(x: Any, pg: PoolGeometry, divisor: Any, override: Any) -> Any:
        return AvgPool2d.apply(x, pg, divisor, override)

    def avg_pool2d_transpose(g: Any, pg: PoolGeometry, hw: tuple, divisor: Any, override: Any) -> Any:
        return AvgPool2dTranspose.apply(g, pg, hw, divisor, override)

    return {"max_pool2d_scatter": max_pool2d_scatter, "max_pool2d_gather": max_pool2d_gather,
            "avg_pool2d": avg_pool2d, "avg_pool2d_transpose": avg_pool2d_transpose}


# -- public functional forms (re-exported by chainrule.nn.functional) ------------------------


def _pair(value: Any, n: int, name: str, op: str) -> tuple:
    value = _int_tuple(value, n)
    if len(value) != n:
        raise RuntimeError(f"{op}: {name} must either be a single int, or a tuple of {n} ints")
    return value


def _pool_out(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    span = size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = span // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _pool_setup(op: str, input: Any, nd: int, kernel_size: Any, stride: Any, padding: Any,
                dilation: Any, ceil_mode: bool) -> tuple:
    if input.ndim not in (nd + 1, nd + 2) or any(n == 0 for n in input.shape[-nd - 1:]):
        raise RuntimeError(
            f"{op}: Expected {nd + 1}D or {nd + 2}D (batch mode) non-empty tensor for input, but got "
            f"input of size: {list(input.shape)}"
        )
    kernel = _pair(kernel_size, nd, "kernel_size", op)
    stride = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) else _pair(stride, nd, "stride", op)
    padding = _pair(padding, nd, "padding", op)
    dilation = _pair(dilation, nd, "dilation", op)
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"{op}: kernel_size must be greater than zero, but got kernel_size={kernel}")
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"{op}: stride should be greater than zero, but got stride={stride}")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"{op}: dilation should be greater than zero, but got dilation={dilation}")
    for k, p, d in zip(kernel, padding, dilation):
        if p < 0 or p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(
                f"pad should be at most half of effective kernel size, but got pad={p}, "
                f"kernel_size={k} and dilation={d}"
            )
    spatial = tuple(input.shape[-nd:])
    out = tuple(_pool_out(n, k, s, p, d, ceil_mode) for n, k, s, p, d in zip(spatial, kernel, stride, padding, dilation))
    if any(o < 1 for o in out):
        channels = input.shape[-nd - 1]
        raise RuntimeError(
            f"Given input size: ({'x'.join(str(n) for n in (channels,) + spatial)}). Calculated output "
            f"size: ({'x'.join(str(n) for n in (channels,) + out)}). Output size is too small"
        )
    return kernel, stride, padding, dilation, out


def _batched(input: Any, nd: int) -> tuple:
    """``input`` as (N, C, H, W), and how to give the result back its own shape."""
    shape = tuple(input.shape)
    if nd == 1:
        x = input.reshape((-1, 1, 1, shape[-1])) if input.ndim == 2 else input.unsqueeze(2)
    else:
        x = input.unsqueeze(0) if input.ndim == 3 else input
    lead = shape[:-nd]
    if x is input:
        return x, lambda out: out

    def restore(out: Any) -> Any:
        return out.reshape(lead + tuple(out.shape[4 - nd:]))

    return x, restore


def _max_pool(op: str, nd: int, input: Any, kernel_size: Any, stride: Any, padding: Any,
              dilation: Any, ceil_mode: bool, return_indices: bool) -> Any:
    kernel, stride, padding, dilation, out_size = _pool_setup(
        op, input, nd, kernel_size, stride, padding, dilation, ceil_mode)
    if nd == 1:
        kernel, stride, padding, dilation, out_size = ((1,) + kernel, (1,) + stride, (0,) + padding,
                                                       (1,) + dilation, (1,) + out_size)
    x, restore = _batched(input, nd)
    pg = PoolGeometry(kernel, stride, padding, dilation, out_size)
    sink: list | None = [] if return_indices else None
    out = restore(MaxPool2d.apply(x, pg, sink))
    if not return_indices:
        return out
    arg = sink[0].astype(np.int64)
    w = x.shape[3]
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (ho, wo) = pg
    xp = get_array_module(arg)
    rows = xp.arange(ho).reshape(-1, 1) * sh - ph + (arg // kw) * dh
    cols = xp.arange(wo) * sw - pw + (arg % kw) * dw
    return out, restore(Tensor._wrap(rows * w + cols))


def max_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """2-D max pooling over (N, C, H, W) or (C, H, W), as ``F.max_pool2d``; with
    ``return_indices`` also the flat H*W index of each maximum."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool1d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """1-D max pooling over (N, C, L) or (C, L), as ``F.max_pool1d``."""
    if not return_indices and input._data.dtype.kind not in "fcV":  # (PyTorch's kernel without indices)
        raise not_implemented("max_pool1d_impl", input._data.dtype)
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def avg_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: Any = None) -> Any:
    """2-D average pooling, as ``F.avg_pool2d``."""
    kernel, stride, padding, dilation, out_size = _pool_setup(
        "avg_pool2d", input, 2, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    x, restore = _batched(input, 2)
    pg = PoolGeometry(kernel, stride, padding, dilation, out_size)
    divisor = _divisor(get_array_module(x._data), pg, tuple(x.shape[2:]), count_include_pad, divisor_override, x._data.dtype)
    return restore(AvgPool2d.apply(x, pg, divisor, divisor_override))


def avg_pool1d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Any:
    """1-D average pooling, as ``F.avg_pool1d``."""
    kernel, stride, padding, dilation, out_size = _pool_setup(
        "avg_pool1d", input, 1, kernel_size, stride, padding, 1, ceil_mode)
    x, restore = _batched(input, 1)
    pg = PoolGeometry((1,) + kernel, (1,) + stride, (0,) + padding, (1, 1), (1,) + out_size)
    divisor = _divisor(get_array_module(x._data), pg, tuple(x.shape[2:]), count_include_pad, None, x._data.dtype)
    return restore(AvgPool2d.apply(x, pg, divisor, None))


