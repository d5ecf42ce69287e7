"""Spatial transformers: ``affine_grid`` (where an affine map sends each output pixel) and
``grid_sample`` (the input read at those places, bilinearly, bicubically or at the nearest pixel), as
``torch.nn.functional``'s, written with the tensor ops so that the gradients reach both the
input and the grid (and through it the affine parameters)."""
from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

from ..autograd.function import Op
from ..tensor import Tensor

_CHANGED = ("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. Please "
            "specify align_corners=True if the old behavior is desired. See the documentation of grid_sample for "
            "details.")


def _fused(a: Any, b: np.ndarray, c: Any, dtype: Any) -> np.ndarray:
    """``a * b + c`` rounded once to ``dtype``, as a fused multiply-add gives it: worked in a
    wider type (float64 holds a float32 product exactly; long double, where the platform has one,
    a float64 product by a small integer)."""
    wide = np.float64 if dtype.itemsize < 8 else np.longdouble
    return (wide(a) * np.asarray(b, dtype=wide) + wide(c)).astype(dtype)


def _base(size: int, align_corners: bool, dtype: Any) -> np.ndarray:
    """The normalised coordinates [-1, 1] of ``size`` pixels: their centres, or (aligned) the
    corner pixels' centres at -1 and 1.  Computed as PyTorch computes them, in ``dtype`` (its
    linspace counts the second half back from the end, each value one fused multiply-add): the
    identity transform puts samples exactly on pixel centres, where the rounding decides which
    side a gradient is taken on."""
    if size <= 1:
        return np.zeros(max(size, 0), dtype=dtype)
    step = dtype.type(2) / dtype.type(size - 1)
    index = np.arange(size)
    first = _fused(step, index, -1, dtype)
    second = _fused(-step, size - 1 - index, 1, dtype)
    steps = np.where(index < size // 2, first, second).astype(dtype)
    return steps if align_corners else (steps * dtype.type(size - 1) / dtype.type(size)).astype(dtype)


def affine_grid(theta: Tensor, size: Sequence[int], align_corners: bool | None = None) -> Tensor:
    """For a batch of affine maps ``theta`` (N, 2, 3) and an output ``size`` (N, C, H, W): the
    (N, H, W, 2) input coordinates, x first, each in [-1, 1] at the input's edges (3-D: (N, 3, 4)
    and (N, C, D, H, W) give (N, D, H, W, 3))."""
    if align_corners is None:
        warnings.warn(_CHANGED, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = [int(s) for s in size]
    if len(size) == 4:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. Got "
                             f"{theta.shape}.")
        spatial = size[-2:]
    elif len(size) == 5:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. Got "
                             f"{theta.shape}.")
        spatial = size[-3:]
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the documentation "
                      "of affine_grid for details.", stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    # Homogeneous coordinates of every output pixel, x first: (..., ndim + 1).
    axes = [_base(n, align_corners, theta._data.dtype) for n in spatial]
    mesh = np.meshgrid(*axes, indexing="ij")  # (D,) H, W
    columns = [m.reshape(-1) for m in reversed(mesh)] + [np.ones(mesh[0].size)]
    base = Tensor._wrap(np.stack(columns, axis=1).astype(theta._data.dtype))  # (P, ndim + 1)
    grid = base.matmul(theta.transpose(1, 2))  # (N, P, ndim)
    return grid.reshape(size[0], *spatial, len(spatial))


class Unnormalize(Op):
    """A normalised coordinate as a pixel coordinate: ``(u + 1) * scale - 1/2`` (``align_corners=False``),
    its last two steps rounded once, as PyTorch's CPU kernel computes them (a fused multiply-add).
    A sample on a pixel centre (the identity transform) then floors to the same pixel as there,
    and its gradient is taken from the same pixel pair."""

    __slots__ = ("scale",)
    presented_inputs = 1
    derivative = ("d ((u + 1) s - 1/2)/du = s",)

    def forward(self, xp, coordinate, scale):
        self.scale = scale
        shifted = coordinate + 1
        if xp is not np:  # the device's own arithmetic
            return shifted * scale - 0.5
        return _fused(scale, shifted, -0.5, coordinate.dtype)

    def backward(self, xp, g):
        return g * self.scale


def _unnormalize(coordinate: Tensor, size: int, align_corners: bool) -> Tensor:
    if align_corners:
        return (coordinate + 1) * ((size - 1) / 2)
    return Unnormalize.apply(coordinate, size / 2)


def _reflect(coordinate: Tensor, twice_low: int, twice_high: int) -> Tensor:
    """``coordinate`` folded back into [low, high] as many times as it takes (PyTorch's
    reflect_coordinates)."""
    if twice_low == twice_high:
        return coordinate * 0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    distance = (coordinate - low).abs()
    extra = distance.fmod(span)
    flips = (distance / span).floor()
    return (extra + low).where(flips.remainder(2) == 0, span - extra + low)


def _source(coordinate: Tensor, size: int, padding_mode: str, align_corners: bool) -> Tensor:
    """A normalised coordinate as a pixel coordinate, folded or clipped as ``padding_mode`` says."""
    pixel = _unnormalize(coordinate, size, align_corners)
    if padding_mode == "reflection":
        pixel = _reflect(pixel, 0, 2 * (size - 1)) if align_corners else _reflect(pixel, -1, 2 * size - 1)
    if padding_mode in ("border", "reflection"):
        pixel = pixel.clamp(0, size - 1)
        # PyTorch counts the borders themselves as outside: no gradient flows from a clipped 0 or size - 1.
        pixel = pixel.where((pixel > 0) & (pixel < size - 1), pixel.detach())
    return pixel


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """``input`` (N, C, H, W) read at the (N, Ho, Wo, 2) places of ``grid`` (x first, -1 and 1
    at the edges): bilinearly, bicubically or at the nearest pixel; outside, zeros, the
    border's value or the reflection's."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', "
                         f"but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_CHANGED, stacklevel=2)
        align_corners = False
    if input.ndim != 4:
        raise NotImplementedError("grid_sample: only 4-D input (N, C, H, W) is supported by chainrule")
    if grid.ndim != 4 or grid.shape[-1] != 2 or grid.shape[0] != input.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid to have size 2 in last dimension and the batch size of "
                           f"input, but got grid with sizes {list(grid.shape)}")
    if grid.dtype != input.dtype:
        raise RuntimeError("grid_sampler(): expected input and grid to have same dtype, but input has "
                           f"{input.dtype} and grid has {grid.dtype}")
    n, c, h, w = input.shape
    out_h, out_w = grid.shape[1], grid.shape[2]
    flat = input.reshape(n, c, h * w)

    def read(ys: Tensor, xs: Tensor) -> Tensor:
        """The input at integer places (ys, xs), 0 where they fall outside: (N, C, Ho, Wo)."""
        inside = (xs >= 0) & (xs <= w - 1) & (ys >= 0) & (ys <= h - 1)  # (False for NaN)
        place = (ys.clamp(0, h - 1) * w + xs.clamp(0, w - 1)).where(inside, 0.0)
        index = place.long().reshape(n, 1, out_h * out_w)
        values = flat.gather(2, index.expand(n, c, out_h * out_w)).reshape(n, c, out_h, out_w)
        return values * inside.unsqueeze(1).to(input.dtype)

    if mode == "bicubic":
        return _bicubic(read, grid, (h, w), padding_mode, align_corners)
    x = _source(grid[..., 0], w, padding_mode, align_corners)  # (N, Ho, Wo)
    y = _source(grid[..., 1], h, padding_mode, align_corners)
    # A NaN or infinite place reads nothing (it falls outside), and sends no gradient back.
    x, y = x.where(x.isfinite(), -2.0), y.where(y.isfinite(), -2.0)
    if mode == "nearest":
        sampled = read(y.detach().round(), x.detach().round())
        # The grid's gradient is zero (rounding), but present, as PyTorch's: a term that is 0.
        rounded = x.round() + y.round()
        rounded = rounded.where(rounded.isfinite(), 0.0)
        return sampled + (rounded - rounded.detach()).unsqueeze(1)
    x0, y0 = x.detach().floor(), y.detach().floor()
    right, down = x - x0, y - y0  # the weights of the second column and row: the grid's gradient flows here
    left, up = 1 - right, 1 - down
    return (read(y0, x0) * (up * left).unsqueeze(1) + read(y0, x0 + 1) * (up * right).unsqueeze(1)
            + read(y0 + 1, x0) * (down * left).unsqueeze(1) + read(y0 + 1, x0 + 1) * (down * right).unsqueeze(1))


class CubicCoefficients(Op):
    """The weights of the four taps at -1, 0, 1, 2 for fractions ``t``, stacked first: Keys'
    cubic convolution (A = -0.75) in PyTorch's CPU kernel's order of operations, and its
    gradient by the kernel's own derivative formulas (an exact 0 on a pixel, where the
    reflected taps on both sides carry the same value)."""

    __slots__ = ()
    arguments = "unary"
    derivative = ("d w_k(t)/dt = Keys' cubic kernel's derivative at each tap",)

    def forward(self, xp, t):
        self.saved = (t,)
        a = -0.75
        far = lambda x: ((a * x - 5 * a) * x + 8 * a) * x - 4 * a  # noqa: E731  (1 <= |x| < 2)
        near = lambda x: ((a + 2) * x - (a + 3)) * x * x + 1  # noqa: E731  (|x| <= 1)
        return xp.stack([far(t + 1), near(t), near(1 - t), far(2 - t)])

    def backward(self, xp, g):
        (t,) = self.saved
        a = -0.75
        # (-d/dt of each weight, as the kernel writes them, each at its tap's distance x)
        slopes = [(-3 * a * (-1 - t) - 10 * a) * (-1 - t) - 8 * a,
                  (-3 * (a + 2) * (0 - t) - 2 * (a + 3)) * (0 - t),
                  (3 * (a + 2) * (1 - t) - 2 * (a + 3)) * (1 - t),
                  (3 * a * (2 - t) - 10 * a) * (2 - t) + 8 * a]
        return -(g[0] * slopes[0] + g[1] * slopes[1] + g[2] * slopes[2] + g[3] * slopes[3])


def _bicubic(read: Any, grid: Tensor, size: tuple, padding_mode: str, align_corners: bool) -> Tensor:
    """``grid_sample``'s bicubic mode: 4 x 4 taps around each place, the unnormalised (not
    padded) place giving the weights and each tap folded or clipped on its own as
    ``padding_mode`` says; the grid's gradient flows through the weights."""
    h, w = size
    x = _unnormalize(grid[..., 0], w, align_corners)
    y = _unnormalize(grid[..., 1], h, align_corners)
    x0, y0 = x.detach().floor(), y.detach().floor()
    weights_x, weights_y = CubicCoefficients.apply(x - x0), CubicCoefficients.apply(y - y0)

    def tap(coordinate: Tensor, n: int) -> Tensor:
        if padding_mode == "reflection":
            coordinate = _reflect(coordinate, 0, 2 * (n - 1)) if align_corners else _reflect(coordinate, -1, 2 * n - 1)
        return coordinate.clamp(0, n - 1) if padding_mode != "zeros" else coordinate

    columns = [tap(x0 + k, w) for k in (-1, 0, 1, 2)]
    rows = []
    for k in (-1, 0, 1, 2):
        row = tap(y0 + k, h)
        taps = [read(row, column) * weight.unsqueeze(1) for column, weight in zip(columns, weights_x)]
        rows.append(taps[0] + taps[1] + taps[2] + taps[3])
    return sum((row * weight.unsqueeze(1) for row, weight in zip(rows[1:], weights_y[1:])),
               rows[0] * weights_y[0].unsqueeze(1))
