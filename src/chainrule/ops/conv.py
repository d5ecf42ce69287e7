"""Convolutions: conv1d/conv2d, conv_transpose1d/2d, unfold/fold (im2col/col2im).

One convolution is one GEMM.  ``im2col`` builds the matrix of input windows through a
strided view (``as_strided``: no Python loop over pixels, channels or batch items) and one
copy; groups are a batch dimension of the same ``matmul``.

Memory layout: the GEMM ``W (C_out x K) @ cols (K x N*H*W)`` writes a (C_out, N, H, W)
block, which is returned as an (N, C_out, H, W) *view* ("channel-major" storage).  The
elementwise ops and pooling after it keep that layout, so the next im2col reads rows that
are contiguous along W, and the backward reads the upstream gradient as a (C_out, N*H*W)
matrix without a copy.  Callers only ever see NCHW shapes.

Three ops close under differentiation, so double backward needs no extra code:

* ``Convolution(x, w)``      -> y,  backward: dx = ConvInput(g, w),  dw = ConvWeight(x, g)
* ``ConvInput(g, w)``        -> x-shaped (this *is* conv_transpose),
                                backward: dg = Convolution(G, w),  dw = ConvWeight(G, g)
* ``ConvWeight(x, g)``       -> w-shaped, backward: dx = ConvInput(g, G),  dg = Convolution(x, G)

Backward formulas call them through ``_kernels(xp)``: the array kernels below for NumPy
(or CuPy), the Tensor namespace (which maps the same names to these ops) under
``create_graph=True``.
"""
from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import numpy as np

from ..amp import lower_precision
from ..autograd.function import Op
from ..gemm import product
from ..tensor import Tensor
from .namespace import ArrayKernels, kernel_selector


class Geometry(NamedTuple):
    """How a kernel slides over a 2-D input (1-D convolutions use a height of 1)."""

    stride: tuple  # (sh, sw)
    padding: tuple  # (top, bottom, left, right)
    dilation: tuple  # (dh, dw)
    groups: int


def _as_strided(xp: Any, x: Any, shape: tuple, strides: tuple) -> Any:
    if xp is np:
        return np.lib.stride_tricks.as_strided(x, shape, strides, writeable=False)
    return xp.lib.stride_tricks.as_strided(x, shape, strides)  # CuPy's takes no ``writeable``


def _out_size(size: int, kernel: int, stride: int, before: int, after: int, dilation: int) -> int:
    return (size + before + after - dilation * (kernel - 1) - 1) // stride + 1


def _pad_channel_major(xp: Any, x: Any, top: int, bottom: int, left: int, right: int) -> Any:
    """``x`` (N, C, H, W) zero-padded, as an (N, C, H', W') view of channel-major memory."""
    n, c, h, w = x.shape
    buf = xp.zeros((c, n, h + top + bottom, w + left + right), dtype=x.dtype)
    buf[:, :, top:top + h, left:left + w] = x.transpose(1, 0, 2, 3)
    return buf.transpose(1, 0, 2, 3)


def im2col(xp: Any, x: Any, kh: int, kw: int, geom: Geometry, ho: int, wo: int) -> Any:
    """The (groups, C/groups*kh*kw, N*ho*wo) matrix of the windows of ``x`` (N, C, H, W).

    Rows are ordered (channel, kernel row, kernel column) as PyTorch's weights and
    ``unfold``; columns (image, output row, output column)."""
    top, bottom, left, right = geom.padding
    if top or bottom or left or right:
        x = _pad_channel_major(xp, x, top, bottom, left, right)
    n, c = x.shape[:2]
    groups = geom.groups
    cg = c // groups
    sn, sc, sy, sx = x.strides
    (sh, sw), (dh, dw) = geom.stride, geom.dilation
    windows = _as_strided(xp, x, (groups, cg, kh, kw, n, ho, wo),
                          (cg * sc, sc, sy * dh, sx * dw, sn, sy * sh, sx * sw))
    return windows.reshape(groups, cg * kh * kw, n * ho * wo)


def col2im(xp: Any, cols: Any, hw: tuple, geom: Geometry) -> Any:
    """Sum (C, kh, kw, N, ho, wo) window values back onto an (N, C, H, W) image: the
    adjoint of :func:`im2col`.  One strided add per kernel offset."""
    c, kh, kw, n, ho, wo = cols.shape
    h, w = hw
    top, bottom, left, right = geom.padding
    (sh, sw), (dh, dw) = geom.stride, geom.dilation
    buf = xp.zeros((c, n, h + top + bottom, w + left + right), dtype=cols.dtype)
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
        for j in range(kw):
            buf[:, :, rows, j * dw:j * dw + sw * (wo - 1) + 1:sw] += cols[:, i, j]
    if top or bottom or left or right:
        buf = buf[:, :, top:top + h, left:left + w]
    return buf.transpose(1, 0, 2, 3)


def _channel_major(g: Any, groups: int) -> Any:
    """(N, C, H, W) as the (groups, C/groups, N*H*W) matrix (a view for channel-major g)."""
    n, c, h, w = g.shape
    return g.transpose(1, 0, 2, 3).reshape(groups, c // groups, n * h * w)


def _matmul(xp: Any, a: Any, b: Any) -> Any:
    # One group: a plain 2-D GEMM (NumPy's stacked matmul would loop over a batch of 1).
    if a.shape[0] == 1:
        return product(xp, a[0], b[0])[None]
    return xp.matmul(a, b)


def conv2d_array(xp: Any, x: Any, w: Any, b: Any, geom: Geometry, out_hw: tuple | None = None) -> Any:
    """Cross-correlation of x (N, C, H, W) with w (C_out, C/groups, kh, kw)."""
    n, _, h, width = x.shape
    co, _, kh, kw = w.shape
    if out_hw is None:
        top, bottom, left, right = geom.padding
        out_hw = (_out_size(h, kh, geom.stride[0], top, bottom, geom.dilation[0]),
                  _out_size(width, kw, geom.stride[1], left, right, geom.dilation[1]))
    ho, wo = out_hw
    groups = geom.groups
    cols = im2col(xp, x, kh, kw, geom, ho, wo)
    out = _matmul(xp, w.reshape(groups, co // groups, -1), cols).reshape(co, n, ho, wo)
    if b is not None:
        out += b.reshape(co, 1, 1, 1)
    return out.transpose(1, 0, 2, 3)


def conv2d_input_array(xp: Any, g: Any, w: Any, geom: Geometry, hw: tuple) -> Any:
    """The adjoint of convolving with ``w`` (conv_transpose): g (N, C_out, ho, wo) onto an
    (N, C, H, W) image; one GEMM and a col2im."""
    n, _, ho, wo = g.shape
    co, cg, kh, kw = w.shape
    groups = geom.groups
    wm = w.reshape(groups, co // groups, cg * kh * kw)
    if geom.stride == (1, 1) and geom.dilation == (1, 1) and kw > 1:
        return _input_grad_wide_rows(xp, g, wm, (cg, kh, kw), hw, geom)
    cols = _matmul(xp, wm.transpose(0, 2, 1), _channel_major(g, groups))
    return col2im(xp, cols.reshape(groups * cg, kh, kw, n, ho, wo), hw, geom)


def _input_grad_wide_rows(xp: Any, g: Any, wm: Any, kernel: tuple, hw: tuple, geom: Geometry) -> Any:
    """conv2d_input_array for stride 1, dilation 1, with a col2im of kh*kw long additions.

    ``g`` is first widened to the padded input's width with zero columns, so that the GEMM's
    column block for each kernel offset (i, j) is, per channel and image, one run of ho*W'
    values that lands on the padded image's flat memory from position i*W' + j on: each of
    the kh*kw additions runs along rows of hundreds of values instead of ho*wo rows of wo.
    The widened columns are exact zeros (W^T @ 0), so what they add past a row's end (into
    the next row, or by kw - 1 values past the last image) changes nothing.  Each position
    receives its gradients in :func:`col2im`'s order: the result is the same, bit for bit."""
    n, co, ho, wo = g.shape
    cg, kh, kw = kernel
    h, w = hw
    groups = geom.groups
    top, bottom, left, right = geom.padding
    hp, wp = h + top + bottom, w + left + right
    wide = xp.zeros((co, n, ho, wp), dtype=g.dtype)
    wide[..., :wo] = g.transpose(1, 0, 2, 3)
    cols = _matmul(xp, wm.transpose(0, 2, 1), wide.reshape(groups, co // groups, n * ho * wp))
    c = groups * cg
    cols = cols.reshape(c, kh, kw, n, ho * wp)
    image = hp * wp
    flat = xp.zeros(c * n * image + kw - 1, dtype=cols.dtype)
    item = flat.itemsize
    as_strided = np.lib.stride_tricks.as_strided if xp is np else xp.lib.stride_tricks.as_strided
    for i in range(kh):
        for j in range(kw):
            start = i * wp + j
            target = as_strided(flat[start:], (c, n, ho * wp), (n * image * item, image * item, item))
            target += cols[:, i, j]
    buf = flat[:c * n * image].reshape(c, n, hp, wp)
    if top or bottom or left or right:
        buf = buf[:, :, top:top + h, left:left + w]
    return buf.transpose(1, 0, 2, 3)


def conv2d_weight_array(xp: Any, x: Any, g: Any, geom: Geometry, khw: tuple) -> Any:
    """The weight gradient: windows of x correlated with g; one GEMM."""
    n, co, ho, wo = g.shape
    kh, kw = khw
    groups = geom.groups
    cols = im2col(xp, x, kh, kw, geom, ho, wo)
    # Computed transposed, cols @ g^T: the same dot products (bit for bit), but OpenBLAS runs
    # this long-inner-dimension GEMM ~1.5x faster with the wide operand first (measured on
    # the CNN benchmark's (16 x 7744) @ (7744 x 72)); the small result is then copied back.
    out = _long_matmul(xp, cols, _channel_major(g, groups).transpose(0, 2, 1)).transpose(0, 2, 1)
    return xp.ascontiguousarray(out).reshape(co, x.shape[1] // groups, kh, kw)


#: A product with at most this many outputs and an inner dimension of at least twice
#: ``_INNER_BLOCK`` is summed block by block over its inner dimension.
_SMALL_RESULT = 1024
_INNER_BLOCK = 8192


def _long_matmul(xp: Any, a: Any, b: Any) -> Any:
    """``_matmul(a, b)`` for the weight gradient's (groups, m, K) @ (groups, K, n), where K
    (batch x output pixels) is long and m x n (a first layer's 9 x 8, say) is small: in
    blocks of ``_INNER_BLOCK`` along K, summed.  OpenBLAS streams a long product with a
    tiny result through memory; blocks that stay in cache run it 2.5x faster (measured:
    (9 x 43264) @ (43264 x 8), 302 against 117 us).  The sum's grouping differs from one
    GEMM's by float rounding only."""
    inner = a.shape[-1]
    if xp is not np or a.shape[-2] * b.shape[-1] > _SMALL_RESULT or inner < 2 * _INNER_BLOCK:
        return _matmul(xp, a, b)
    out = _matmul(xp, a[..., :_INNER_BLOCK], b[..., :_INNER_BLOCK, :])
    for start in range(_INNER_BLOCK, inner, _INNER_BLOCK):
        out += _matmul(xp, a[..., start:start + _INNER_BLOCK], b[..., start:start + _INNER_BLOCK, :])
    return out


class _ArrayKernels(ArrayKernels):
    """The array kernels under the Tensor namespace's names (see ``namespace_functions``)."""

    __slots__ = ()

    def conv2d(self, x: Any, w: Any, geom: Geometry, out_hw: tuple | None = None) -> Any:
        return conv2d_array(self.xp, x, w, None, geom, out_hw)

    def conv2d_input(self, g: Any, w: Any, geom: Geometry, hw: tuple) -> Any:
        return conv2d_input_array(self.xp, g, w, geom, hw)

    def conv2d_weight(self, x: Any, g: Any, geom: Geometry, khw: tuple) -> Any:
        return conv2d_weight_array(self.xp, x, g, geom, khw)

    def unfold(self, x: Any, khw: tuple, geom: Geometry, out_hw: tuple) -> Any:
        return unfold_array(self.xp, x, khw, geom, out_hw)

    def fold(self, cols: Any, hw: tuple, khw: tuple, geom: Geometry, out_hw: tuple) -> Any:
        return fold_array(self.xp, cols, hw, khw, geom, out_hw)


_kernels = kernel_selector(_ArrayKernels)


def _bias_grad(g: Any) -> Any:
    return g.sum(axis=(0, 2, 3))


class Convolution(Op):
    # Saves x and w, not the im2col matrix (kh*kw times x's size): the backward rebuilds it,
    # which costs one copy and keeps a deep network's memory at PyTorch's.
    __slots__ = ("geom", "out_hw")
    presented_inputs = 3  # (PyTorch's node has the tensor inputs only: next_functions)
    derivative = (
        "d conv(x, w)/dx = conv_transpose(G, w)",
        "d conv(x, w)/dw = correlate(x, G) (windows of x times G, summed)",
        "d conv(x, w)/db = G summed over batch and space",
    )

    def forward(self, xp, x, w, b, geom, out_hw=None):
        self.geom, self.out_hw = geom, out_hw
        self.saved = (x, w)
        return conv2d_array(xp, x, w, b, geom, out_hw)

    def backward(self, xp, g):
        x, w = self.saved
        kernels = _kernels(xp)
        gx = gw = gb = None
        if self.needs_grad(0):
            gx = kernels.conv2d_input(g, w, self.geom, tuple(x.shape[2:]))
        if self.needs_grad(1):
            gw = kernels.conv2d_weight(x, g, self.geom, tuple(w.shape[2:]))
        if self.needs_grad(2):
            gb = _bias_grad(g)
        return gx, gw, gb


class ConvInput(Op):
    """conv_transpose2d: the adjoint of a convolution with ``w`` (C_in, C_out/groups, kh, kw),
    mapping g (N, C_in, h, w) to (N, C_out, H, W) of the given ``hw``."""

    __slots__ = ("geom", "hw")
    presented_inputs = 3  # (PyTorch's node has the tensor inputs only: next_functions)
    derivative = (
        "d conv_transpose(g, w)/dg = conv(G, w)",
        "d conv_transpose(g, w)/dw = correlate(G, g)",
        "d conv_transpose(g, w)/db = G summed over batch and space",
    )

    def forward(self, xp, g, w, b, geom, hw):
        self.geom, self.hw = geom, hw
        self.saved = (g, w)
        out = conv2d_input_array(xp, g, w, geom, hw)
        if b is not None:
            out = out + b.reshape(1, -1, 1, 1)
        return out

    def backward(self, xp, grad):
        g, w = self.saved
        kernels = _kernels(xp)
        gg = gw = gb = None
        if self.needs_grad(0):
            gg = kernels.conv2d(grad, w, self.geom, tuple(g.shape[2:]))
        if self.needs_grad(1):
            gw = kernels.conv2d_weight(grad, g, self.geom, tuple(w.shape[2:]))
        if self.needs_grad(2):
            gb = _bias_grad(grad)
        return gg, gw, gb


class ConvWeight(Op):
    """The weight gradient of a convolution as an op of (x, g), so that it has a gradient."""

    __slots__ = ("geom", "khw")
    derivative = ("d correlate(x, g)/dx = conv_transpose(g, G)", "d correlate(x, g)/dg = conv(x, G)")

    def forward(self, xp, x, g, geom, khw):
        self.geom, self.khw = geom, khw
        self.saved = (x, g)
        return conv2d_weight_array(xp, x, g, geom, khw)

    def backward(self, xp, grad):
        x, g = self.saved
        kernels = _kernels(xp)
        gx = gg = None
        if self.needs_grad(0):
            gx = kernels.conv2d_input(g, grad, self.geom, tuple(x.shape[2:]))
        if self.needs_grad(1):
            gg = kernels.conv2d(x, grad, self.geom, tuple(g.shape[2:]))
        return gx, gg


def unfold_array(xp: Any, x: Any, khw: tuple, geom: Geometry, out_hw: tuple) -> Any:
    """PyTorch's unfold: (N, C*kh*kw, L) blocks, a view of one im2col matrix."""
    n, c = x.shape[:2]
    cols = im2col(xp, x, khw[0], khw[1], geom, out_hw[0], out_hw[1])
    if xp.may_share_memory(cols, x):  # a 1x1 kernel's windows are x itself: never alias it
        cols = cols.copy()
    return cols.reshape(c * khw[0] * khw[1], n, out_hw[0] * out_hw[1]).transpose(1, 0, 2)


def fold_array(xp: Any, cols: Any, hw: tuple, khw: tuple, geom: Geometry, out_hw: tuple) -> Any:
    """PyTorch's fold: (N, C*kh*kw, L) blocks summed onto (N, C, H, W)."""
    n, ck, _ = cols.shape
    kh, kw = khw
    c = ck // (kh * kw)
    cols = cols.transpose(1, 0, 2).reshape(c, kh, kw, n, out_hw[0], out_hw[1])
    return col2im(xp, cols, hw, geom)


class Unfold(Op):
    __slots__ = ("khw", "geom", "hw", "out_hw")
    presented_inputs = 1  # (PyTorch's node has the tensor inputs only: next_functions)
    derivative = ("d unfold(x)/dx = fold(G) (each block's gradient summed back in place)",)

    def forward(self, xp, x, khw, geom, out_hw):
        self.khw, self.geom, self.out_hw = khw, geom, out_hw
        self.hw = x.shape[2:]
        return unfold_array(xp, x, khw, geom, out_hw)

    def backward(self, xp, g):
        return _kernels(xp).fold(g, tuple(self.hw), self.khw, self.geom, self.out_hw)


class Fold(Op):
    __slots__ = ("khw", "geom", "hw", "out_hw")
    presented_inputs = 1  # (PyTorch's node has the tensor inputs only: next_functions)
    derivative = ("d fold(c)/dc = unfold(G)",)

    def forward(self, xp, cols, hw, khw, geom, out_hw):
        self.khw, self.geom, self.hw, self.out_hw = khw, geom, hw, out_hw
        return fold_array(xp, cols, hw, khw, geom, out_hw)

    def backward(self, xp, g):
        return _kernels(xp).unfold(g, self.khw, self.geom, self.out_hw)


def namespace_functions() -> dict:
    """The Tensor-namespace forms of the kernels, for backward formulas under create_graph."""

    def conv2d(x: Any, w: Any, geom: Geometry, out_hw: tuple | None = None) -> Any:
        return Convolution.apply(x, w, None, geom, out_hw)

    def conv2d_input(g: Any, w: Any, geom: Geometry, hw: tuple) -> Any:
        return ConvInput.apply(g, w, None, geom, hw)

    def conv2d_weight(x: Any, g: Any, geom: Geometry, khw: tuple) -> Any:
        return ConvWeight.apply(x, g, geom, khw)

    def unfold(x: Any, khw: tuple, geom: Geometry, out_hw: tuple) -> Any:
        return Unfold.apply(x, khw, geom, out_hw)

    def fold(cols: Any, hw: tuple, khw: tuple, geom: Geometry, out_hw: tuple) -> Any:
        return Fold.apply(cols, hw, khw, geom, out_hw)

    return {"conv2d": conv2d, "conv2d_input": conv2d_input, "conv2d_weight": conv2d_weight,
            "unfold": unfold, "fold": fold}


# -- public functional forms (re-exported by chainrule.nn.functional) ------------------------


def _int_tuple(value: Any, n: int) -> tuple:
    """``value`` (an int or a sequence of ints) as a tuple of ints: an int or a one-element
    sequence repeated ``n`` times; a sequence of another length as it is, for the caller to
    reject in its own words."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    value = tuple(int(v) for v in value)
    return value * n if len(value) == 1 else value


def _tuple(value: Any, n: int, name: str, op: str) -> tuple:
    value = _int_tuple(value, n)
    if len(value) != n:
        raise RuntimeError(
            f"expected {name} to be a single integer value or a list of {n} values to match the "
            f"convolution dimensions, but got {name}={list(value)}"
        )
    return value


def _size_str(sizes: Sequence[int]) -> str:
    return "(" + " x ".join(str(s) for s in sizes) + ")"


def _to_2d(values: tuple, fill: int) -> tuple:
    return values if len(values) == 2 else (fill,) + values


def _conv_setup(op: str, input: Any, weight: Any, bias: Any, nd: int) -> tuple:
    """Checks dims and dtypes; returns (input with a batch dim, unbatched?)."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}(): argument 'input' and 'weight' must be Tensors, got "
                        f"{type(input).__name__} and {type(weight).__name__}")
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {op}, but got input "
            f"of size: {list(input.shape)}"
        )
    if weight.ndim != nd + 2:
        raise RuntimeError(
            f"Expected a {nd + 2}D weight for {op} (out_channels, in_channels/groups, kernel...), "
            f"but got weight of size {list(weight.shape)}"
        )
    if input._data.dtype != weight._data.dtype or (bias is not None and bias._data.dtype != input._data.dtype):
        names = f"Input type ({input.dtype}) and weight type ({weight.dtype})"
        if bias is not None:
            names = f"Input type ({input.dtype}), weight type ({weight.dtype}) and bias type ({bias.dtype})"
        raise RuntimeError(f"{names} should be the same")
    unbatched = input.ndim == nd + 1
    if unbatched:
        input = input.unsqueeze(0)
    return input, unbatched


def _check_groups(op: str, groups: int, weight: Any, input: Any, transposed: bool) -> None:
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    w_shape, x_shape = list(weight.shape), list(input.shape)
    if transposed:
        if w_shape[0] != x_shape[1]:
            raise RuntimeError(
                f"Given transposed=1, weight of size {w_shape}, expected input{x_shape} to have "
                f"{w_shape[0]} channels, but got {x_shape[1]} channels instead"
            )
        if w_shape[0] % groups:
            raise RuntimeError(
                f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                f"but got weight of size {w_shape} instead"
            )
        return
    if w_shape[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
            f"but got weight of size {w_shape} instead"
        )
    if x_shape[1] != w_shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {w_shape}, expected input{x_shape} to have "
            f"{w_shape[1] * groups} channels, but got {x_shape[1]} channels instead"
        )


def _check_positive(stride: tuple, dilation: tuple) -> None:
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("non-positive dilation is not supported")


def _convnd(op: str, nd: int, input: Any, weight: Any, bias: Any, stride: Any, padding: Any,
            dilation: Any, groups: int) -> Any:
    input, weight, bias = lower_precision(input, weight, bias)
    input, unbatched = _conv_setup(op, input, weight, bias, nd)
    stride = _tuple(stride, nd, "stride", op)
    dilation = _tuple(dilation, nd, "dilation", op)
    _check_positive(stride, dilation)
    _check_groups(op, groups, weight, input, False)
    kernel = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
            pads = tuple((t // 2, t - t // 2) for t in totals)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        padding = _tuple(padding, nd, "padding", op)
        if any(p < 0 for p in padding):
            raise RuntimeError("negative padding is not supported")
        pads = tuple((p, p) for p in padding)
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != weight.shape[0]):
        raise RuntimeError(
            f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional with "
            f"{weight.shape[0]} elements, but got bias of size {list(bias.shape)} instead"
        )
    spatial = tuple(input.shape[2:])
    padded = [s + a + b for s, (a, b) in zip(spatial, pads)]
    effective = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    if any(p < e for p, e in zip(padded, effective)):
        raise RuntimeError(
            f"Calculated padded input size per channel: {_size_str(padded)}. Kernel size: "
            f"{_size_str(effective)}. Kernel size can't be greater than actual input size"
        )
    if nd == 1:
        pads = ((0, 0),) + pads
        input = input.unsqueeze(2)
        weight = weight.unsqueeze(2)
    geom = Geometry(_to_2d(stride, 1), (pads[0][0], pads[0][1], pads[1][0], pads[1][1]),
                    _to_2d(dilation, 1), int(groups))
    out = Convolution.apply(input, weight, bias, geom)
    if nd == 1:
        out = out.squeeze(2)
    return out.squeeze(0) if unbatched else out


def conv2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Any:
    """2-D cross-correlation, as ``torch.nn.functional.conv2d`` (padding may be 'same'/'valid').

    >>> F.conv2d(chainrule.randn(1, 1, 5, 5), chainrule.ones(2, 1, 3, 3)).shape
    chainrule.Size([1, 2, 3, 3])
    """
    return _convnd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Any:
    """1-D cross-correlation over (N, C, L), as ``torch.nn.functional.conv1d``."""
    return _convnd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose_setup(op: str, nd: int, input: Any, weight: Any, bias: Any, stride: Any, padding: Any,
                         output_padding: Any, groups: int, dilation: Any) -> tuple:
    """PyTorch's checks of a transposed convolution's arguments: (input batched, unbatched,
    stride, padding, output_padding, dilation, output size per spatial dim)."""
    input, unbatched = _conv_setup(op, input, weight, bias, nd)
    stride = _tuple(stride, nd, "stride", op)
    dilation = _tuple(dilation, nd, "dilation", op)
    if isinstance(padding, str):
        raise RuntimeError(f"{op}: padding must be an int or a tuple of ints, got '{padding}'")
    padding = _tuple(padding, nd, "padding", op)
    output_padding = _tuple(output_padding, nd, "output_padding", op)
    _check_positive(stride, dilation)
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(p < 0 for p in output_padding):
        raise RuntimeError("negative output_padding is not supported")
    _check_groups(op, groups, weight, input, True)
    if any(op_ >= max(s, d) for op_, s, d in zip(output_padding, stride, dilation)):
        names = ("depth", "height", "width")[3 - nd:]
        parts = [f"output_padding_{n}: {v}" for n, v in zip(names, output_padding)]
        parts += [f"stride_{n}: {v}" for n, v in zip(names, stride)]
        parts += [f"dilation_{n}: {v}" for n, v in zip(names, dilation)]
        raise RuntimeError("output padding must be smaller than either stride or dilation, but got "
                           + " ".join(parts))
    out_channels = weight.shape[1] * groups
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != out_channels):
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight.shape)}, expected bias to be "
            f"1-dimensional with {out_channels} elements, but got bias of size {list(bias.shape)} instead"
        )
    kernel = tuple(weight.shape[2:])
    spatial = tuple(input.shape[2:])
    out_size = tuple((s - 1) * st - 2 * p + d * (k - 1) + o + 1
                     for s, st, p, d, k, o in zip(spatial, stride, padding, dilation, kernel, output_padding))
    if any(s <= 0 for s in out_size):
        raise RuntimeError(
            f"Given input size per channel: {_size_str(spatial)}. Calculated output size per channel: "
            f"{_size_str(out_size)}. Output size is too small"
        )
    return input, unbatched, stride, padding, output_padding, dilation, out_size


def _conv_transposend(op: str, nd: int, input: Any, weight: Any, bias: Any, stride: Any,
                      padding: Any, output_padding: Any, groups: int, dilation: Any) -> Any:
    input, weight, bias = lower_precision(input, weight, bias)
    input, unbatched, stride, padding, _, dilation, out_size = conv_transpose_setup(
        op, nd, input, weight, bias, stride, padding, output_padding, groups, dilation)
    if nd == 1:
        input = input.unsqueeze(2)
        weight = weight.unsqueeze(2)
    geom = Geometry(_to_2d(stride, 1), (_to_2d(padding, 0)[0],) * 2 + (padding[-1],) * 2,
                    _to_2d(dilation, 1), int(groups))
    out = ConvInput.apply(input, weight, bias, geom, _to_2d(out_size, 1))
    if nd == 1:
        out = out.squeeze(2)
    return out.squeeze(0) if unbatched else out


def conv_transpose2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Any:
    """The transpose (adjoint) of conv2d, as ``torch.nn.functional.conv_transpose2d``; weight
    is (in_channels, out_channels/groups, kh, kw)."""
    return _conv_transposend("conv_transpose2d", 2, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def conv_transpose1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Any:
    """The transpose of conv1d, as ``torch.nn.functional.conv_transpose1d``."""
    return _conv_transposend("conv_transpose1d", 1, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def _block_args(op: str, kernel_size: Any, dilation: Any, padding: Any, stride: Any) -> tuple:
    kernel = _tuple(kernel_size, 2, "kernel_size", op)
    dilation = _tuple(dilation, 2, "dilation", op)
    padding = _tuple(padding, 2, "padding", op)
    stride = _tuple(stride, 2, "stride", op)
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"{op}(): kernel size should be greater than zero, but got kernel_size={kernel}")
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"{op}(): stride should be greater than zero, but got stride={stride}")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"{op}(): dilation should be greater than zero, but got dilation={dilation}")
    if any(p < 0 for p in padding):
        raise RuntimeError(f"{op}(): padding should be non-negative, but got padding={padding}")
    geom = Geometry(stride, (padding[0], padding[0], padding[1], padding[1]), dilation, 1)
    return kernel, dilation, padding, stride, geom


def _blocks(op: str, spatial: tuple, kernel: tuple, dilation: tuple, padding: tuple, stride: tuple) -> tuple:
    blocks = tuple(_out_size(s, k, st, p, p, d) for s, k, st, p, d in zip(spatial, kernel, stride, padding, dilation))
    if any(b < 1 for b in blocks):
        raise RuntimeError(
            f"Given {'output_size' if op == 'fold' else 'input with spatial size'} "
            f"{tuple(spatial)}, kernel_size={kernel}, dilation={dilation}, padding={padding}, "
            f"stride={stride}, calculated shape of the array of sliding blocks as {blocks}, but "
            f"its components must be at least one."
        )
    return blocks


def unfold(input: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Any:
    """im2col: sliding blocks of (N, C, H, W) as (N, C*kh*kw, L), as ``F.unfold``."""
    if input.ndim not in (3, 4):
        raise RuntimeError(f"Input Error: Only 3D or 4D input Tensors are supported (got {input.ndim}D) "
                           f"for unfold, input of size {list(input.shape)}")
    kernel, dilation, padding, stride, geom = _block_args("unfold", kernel_size, dilation, padding, stride)
    unbatched = input.ndim == 3
    if unbatched:
        input = input.unsqueeze(0)
    blocks = _blocks("unfold", tuple(input.shape[2:]), kernel, dilation, padding, stride)
    out = Unfold.apply(input, kernel, geom, blocks)
    return out.squeeze(0) if unbatched else out


def fold(input: Any, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> Any:
    """col2im: sums (N, C*kh*kw, L) blocks onto (N, C, H, W), as ``F.fold``."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported "
                           f"(got {input.ndim}D) for fold, input of size {list(input.shape)}")
    kernel, dilation, padding, stride, geom = _block_args("fold", kernel_size, dilation, padding, stride)
    output_size = _tuple(output_size, 2, "output_size", "fold")
    unbatched = input.ndim == 2
    if unbatched:
        input = input.unsqueeze(0)
    n, ck, length = input.shape
    if ck % (kernel[0] * kernel[1]):
        raise RuntimeError(
            f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, "
            f"but got input.size(1)={ck} and kernel_size={kernel}."
        )
    blocks = _blocks("fold", output_size, kernel, dilation, padding, stride)
    if blocks[0] * blocks[1] != length:
        raise RuntimeError(
            f"Given output_size={output_size}, kernel_size={kernel}, dilation={dilation}, "
            f"padding={padding}, stride={stride}, expected size of input's dimension 2 to match the "
            f"calculated number of sliding blocks {blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, "
            f"but got input.size(2)={length}."
        )
    out = Fold.apply(input, output_size, kernel, geom, blocks)
    return out.squeeze(0) if unbatched else out
