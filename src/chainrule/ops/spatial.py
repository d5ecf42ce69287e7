"""Spatial resampling: pad (reflect, replicate, circular), interpolate (nearest,
nearest-exact, linear/bilinear/trilinear, area), channel dropout (dropout1d/2d/3d).

Every resampling here is *separable*: one linear map per spatial axis (``AxisMap``), applied
one axis at a time.  A map is a gather (``out[i] = sum_j w_ij x[index_ij]``, for nearest,
linear and the non-constant pads), its adjoint a scatter, or a small dense matrix (adaptive
average pooling).  The backward of a map is its adjoint, itself a ``Resample`` op, so second
derivatives come for free.
"""
from __future__ import annotations

import math
import warnings
from typing import Any, NamedTuple

import numpy as np

from ..autograd.function import Op
from ..backend import device_of
from .namespace import plain
from .nn import keep_mask


class AxisMap(NamedTuple):
    """A linear map along one axis.  kind 'matrix': ``values`` is an (out, in) matrix;
    'gather': ``values`` is an (out, k) index array, ``weight`` (out, k) or None (all ones),
    ``size`` the input length; 'scatter': the adjoint of that gather (``size`` is then the
    output length)."""

    kind: str
    values: Any
    weight: Any = None
    size: int = 0

    def adjoint(self) -> "AxisMap":
        if self.kind == "matrix":
            return AxisMap("matrix", self.values.T)
        return AxisMap("scatter" if self.kind == "gather" else "gather", self.values, self.weight, self.size)


def _along(weight: Any, axis: int, ndim: int) -> Any:
    return weight.reshape(weight.shape + (1,) * (ndim - axis - 1))


def _scatter(xp: Any, g: Any, index: Any, size: int, axis: int) -> Any:
    """Sum the slices of ``g`` along ``axis`` into position ``index[i]`` of a length-``size``
    axis (a segmented sum: no Python loop, no dense matrix)."""
    order = np.argsort(index, kind="stable")
    positions, starts = np.unique(index[order], return_index=True)
    summed = xp.add.reduceat(xp.take(g, order, axis=axis), starts, axis=axis)
    if positions.size == size:
        return summed
    shape = list(g.shape)
    shape[axis] = size
    out = xp.zeros(shape, dtype=g.dtype)
    out[(slice(None),) * axis + (positions,)] = summed
    return out


def _apply_map(xp: Any, x: Any, m: AxisMap, axis: int) -> Any:
    if m.kind == "matrix":
        out = xp.tensordot(x, m.values, axes=([axis], [1]))
        return out if axis == x.ndim - 1 else xp.moveaxis(out, -1, axis)
    index, weight = m.values, m.weight
    if m.kind == "gather":
        out = None
        for j in range(index.shape[1]):
            term = xp.take(x, index[:, j], axis=axis)
            if weight is not None:
                term *= _along(weight[:, j], axis, x.ndim)
            out = term if out is None else out + term
        return out
    parts = []
    for j in range(index.shape[1]):
        parts.append(x if weight is None else x * _along(weight[:, j], axis, x.ndim))
    stacked = parts[0] if len(parts) == 1 else xp.concatenate(parts, axis=axis)
    return _scatter(xp, stacked, index.T.reshape(-1), m.size, axis)


def resample_array(xp: Any, x: Any, maps: tuple) -> Any:
    """Apply ``maps`` (one per trailing axis, None to leave an axis alone)."""
    first = x.ndim - len(maps)
    for k, m in enumerate(maps):
        if m is not None:
            x = _apply_map(xp, x, m, first + k)
    return x


class Resample(Op):
    __slots__ = ("maps",)
    presented_inputs = 1  # (PyTorch's node has the tensor inputs only: next_functions)
    derivative = ("d (A_1 ... A_k x)/dx = A_k^T ... A_1^T G (each axis map's adjoint)",)

    def forward(self, xp, x, maps):
        if xp is not np:  # the maps are made on the host: their arrays go where x is
            maps = tuple(None if m is None else m._replace(
                values=xp.asarray(m.values), weight=None if m.weight is None else xp.asarray(m.weight))
                for m in maps)
        self.maps = maps
        return resample_array(xp, x, maps)

    def backward(self, xp, g):
        adjoint = tuple(None if m is None else m.adjoint() for m in self.maps)
        if plain(xp):
            return resample_array(xp, g, adjoint)
        return xp.resample(g, adjoint)


class Upsample(Resample):
    """interpolate's nearest / linear modes."""

    __slots__ = ()
    derivative = ("d interpolate(x)/dx = each output's interpolation weights, its gradient summed back onto x",)


class AdaptiveAvgPool(Resample):
    """adaptive_avg_pool1d/2d/3d and interpolate's 'area' mode."""

    __slots__ = ()
    derivative = ("d adaptive_avg_pool(x)/dx = G / window size, spread over each window",)


class ReflectionPad(Resample):
    __slots__ = ()
    derivative = ("d reflect_pad(x)/dx = 1 at each copied position (the mirrored copies summed back)",)


class ReplicationPad(Resample):
    __slots__ = ()
    derivative = ("d replicate_pad(x)/dx = 1 at each copied position (the edge copies summed back)",)


class CircularPad(Resample):
    __slots__ = ()
    derivative = ("d circular_pad(x)/dx = 1 at each copied position (the wrapped copies summed back)",)


_PAD_OPS = {"reflect": ReflectionPad, "replicate": ReplicationPad, "circular": CircularPad}


class ChannelMask(Op):
    """Dropout of whole channels: ``x * mask`` with one mask value per (sample, channel)."""

    __slots__ = ("mask",)
    derivative = ("d (x * mask)/dx = mask",)

    def forward(self, xp, x, mask):
        self.mask = mask
        return x * mask

    def backward(self, xp, g):
        return g * self.mask


class ChannelKeep(Op):
    """Channel dropout's mask of ``shape`` (one value per sample and channel): 0 with
    probability ``p``, else ``1 / (1 - p)``, as ``a``'s dtype.  An op of its own, never
    differentiable, so that a captured plan draws a new mask at each call, as eager does."""

    __slots__ = ()
    differentiable = False
    random = True

    def forward(self, xp, a, p, shape):
        return keep_mask(shape, a.dtype, p, device_of(a))  # (dropout's, drawn per channel)


def namespace_functions() -> dict:
    """Tensor-namespace forms, for backward formulas under create_graph."""

    def resample(x: Any, maps: tuple) -> Any:
        return Resample.apply(x, maps)

    return {"resample": resample}


# -- public functional forms (re-exported by chainrule.nn.functional) ------------------------


def _source_index(mode: str, size: int, pads: tuple) -> np.ndarray:
    before, after = pads
    p = np.arange(-before, size + after)
    if mode == "reflect":
        period = 2 * (size - 1)
        p = np.abs(p) % period if period else np.zeros_like(p)
        return np.where(p >= size, period - p, p)
    if mode == "replicate":
        return np.clip(p, 0, size - 1)
    return p % size


def _pad_with(mode: str) -> Any:
    def pad(input: Any, pairs: tuple, value: Any) -> Any:
        """``input`` padded by ``pairs`` ((before, after) for every dim) in ``mode``."""
        if value not in (None, 0):
            raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
        padded = [i for i, pair in enumerate(pairs) if pair != (0, 0)]
        if not padded:
            return input.clone()
        first = padded[0]
        if input.ndim - first > 3 or first < 1:
            raise NotImplementedError(
                f"Only 2D, 3D, 4D, 5D padding with non-constant padding are supported for now: "
                f"{mode} padding of dims {padded} of a {input.ndim}D input tensor (the first dim is "
                f"never padded, at most the last 3 are)")
        maps = []
        for axis in range(first, input.ndim):
            before, after = pairs[axis]
            size = input.shape[axis]
            if mode == "reflect" and (before >= size or after >= size):
                raise RuntimeError(
                    f"Argument #4: Padding size should be less than the corresponding input dimension, "
                    f"but got: padding ({before}, {after}) at dimension {axis} of input {list(input.shape)}"
                )
            if mode == "circular" and (before > size or after > size):
                raise RuntimeError("Padding value causes wrapping around more than once.")
            if before < 0 or after < 0:
                raise RuntimeError(f"negative padding {(before, after)} is only supported in 'constant' mode")
            if size == 0:
                raise RuntimeError(f"{mode} padding: dimension {axis} of input {list(input.shape)} is empty")
            index = _source_index(mode, size, (before, after))
            maps.append(AxisMap("gather", index.reshape(-1, 1), None, size))
        return _PAD_OPS[mode].apply(input, tuple(maps))

    pad.__name__ = f"pad_{mode}"
    return pad


def pad_modes() -> dict:
    """``F.pad``'s non-constant modes: name -> fn(input, (before, after) pairs, value)."""
    return {mode: _pad_with(mode) for mode in ("reflect", "replicate", "circular")}


_INTERPOLATE_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")
_LINEAR_DIMS = {"linear": 1, "bilinear": 2, "trilinear": 3}


def _nearest_map(size: int, out: int, scale: Any, exact: bool) -> AxisMap:
    if not exact and out == size:
        index = np.arange(out)
    elif not exact and out == 2 * size:
        index = np.arange(out) >> 1
    else:
        # PyTorch computes these in float32, whatever the tensor's dtype.
        ratio = np.float32(1.0 / scale) if scale else np.float32(size) / np.float32(out)
        position = np.arange(out, dtype=np.float32) + (np.float32(0.5) if exact else np.float32(0))
        index = np.minimum(np.floor(position * ratio).astype(np.int64), size - 1)
    return AxisMap("gather", index.reshape(-1, 1), None, size)


def _linear_map(size: int, out: int, scale: Any, align_corners: bool, dtype: Any) -> AxisMap:
    real = np.float64 if dtype == np.float64 else np.float32
    if align_corners:
        ratio = real(size - 1) / real(out - 1) if out > 1 else real(0)
        source = ratio * np.arange(out, dtype=real)
    else:
        ratio = real(1.0 / scale) if scale else real(size) / real(out)
        source = np.maximum(ratio * (np.arange(out, dtype=real) + real(0.5)) - real(0.5), real(0))
    low = np.minimum(np.floor(source).astype(np.int64), size - 1)
    lam = np.clip(source - low, 0, 1).astype(real)
    high = low + (low < size - 1)
    index = np.stack([low, high], axis=1)
    weight = np.stack([real(1) - lam, lam], axis=1).astype(dtype)
    return AxisMap("gather", index, weight, size)


def _cubic_map(size: int, out: int, scale: Any, align_corners: bool, dtype: Any) -> AxisMap:
    """Bicubic's taps along one axis: Keys' cubic convolution (A = -0.75) over the four
    neighbours of each source position, the neighbours clamped to the edge, as PyTorch's
    kernel (its arithmetic in float32 unless the tensor is float64)."""
    real = np.float64 if dtype == np.float64 else np.float32
    if align_corners:
        ratio = real(size - 1) / real(out - 1) if out > 1 else real(0)
        source = ratio * np.arange(out, dtype=real)
    else:  # (not clamped at 0, unlike the linear modes)
        ratio = real(1.0 / scale) if scale else real(size) / real(out)
        source = ratio * (np.arange(out, dtype=real) + real(0.5)) - real(0.5)
    floor = np.floor(source)
    t = (source - floor).astype(real)
    a = real(-0.75)

    def near(x: Any) -> Any:  # |x| <= 1
        return ((a + real(2)) * x - (a + real(3))) * x * x + real(1)

    def far(x: Any) -> Any:  # 1 < |x| < 2
        return ((a * x - real(5) * a) * x + real(8) * a) * x - real(4) * a

    weight = np.stack([far(t + real(1)), near(t), near(real(1) - t), far(real(2) - t)], axis=1).astype(dtype)
    index = np.clip(floor.astype(np.int64)[:, None] + np.arange(-1, 3), 0, size - 1)
    return AxisMap("gather", index, weight, size)


def _antialias_map(size: int, out: int, scale: Any, align_corners: bool, dtype: Any, cubic: bool) -> AxisMap:
    """Antialiased taps along one axis, as PyTorch's separable kernel (PIL's): when shrinking,
    the filter (the triangle of bilinear, or Keys' cubic with A = -0.5) is stretched by the
    scale, so each output averages all the inputs it covers; the weights are normalised."""
    real = np.float64 if dtype == np.float64 else np.float32
    if align_corners:
        ratio = real(size - 1) / real(out - 1) if out > 1 else real(0)
    else:
        ratio = real(1.0 / scale) if scale else real(size) / real(out)
    half = real(2 if cubic else 1)
    support = half * ratio if ratio >= 1 else half
    inverse = real(1) / ratio if ratio >= 1 else real(1)
    a = real(-0.5)

    def taps(x: Any) -> Any:
        x = np.abs(x)
        if not cubic:
            return np.where(x < 1, real(1) - x, real(0)).astype(real)
        near = ((a + real(2)) * x - (a + real(3))) * x * x + real(1)
        far = ((a * x - real(5) * a) * x + real(8) * a) * x - real(4) * a
        return np.where(x < 1, near, np.where(x < 2, far, real(0))).astype(real)

    center = ratio * (np.arange(out, dtype=real) + real(0.5))
    low = np.maximum((center - support + real(0.5)).astype(np.int64), 0)
    count = np.minimum((center + support + real(0.5)).astype(np.int64), size) - low
    width = int(count.max())
    offsets = np.arange(width)
    inside = offsets[None, :] < count[:, None]
    weight = np.where(inside, taps((low[:, None] + offsets - center[:, None] + real(0.5)) * inverse), real(0))
    total = weight.sum(axis=1, keepdims=True, dtype=real)
    weight = np.where(total != 0, weight / np.where(total != 0, total, real(1)), weight).astype(dtype)
    index = np.where(inside, low[:, None] + offsets, 0)
    return AxisMap("gather", index, weight, size)


def interpolate(input: Any, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: Any = None, recompute_scale_factor: Any = None, antialias: bool = False) -> Any:
    """Resize (N, C, *spatial), as ``F.interpolate``: modes 'nearest', 'nearest-exact',
    'linear' (3-D input), 'bilinear' and 'bicubic' (4-D), 'trilinear' (5-D), 'area'."""
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if mode not in _INTERPOLATE_MODES or input.ndim not in (3, 4, 5):
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for the modes: "
            f"nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact (got {mode})"
        )
    nd = input.ndim - 2
    if mode in _LINEAR_DIMS and _LINEAR_DIMS[mode] != nd:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {_LINEAR_DIMS[mode] + 2}D input")
    if mode == "bicubic" and nd != 2:
        raise NotImplementedError(f"Got {input.ndim}D input, but bicubic mode needs 4D input")
    if antialias and (mode not in ("bilinear", "bicubic") or input.ndim != 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a "
                         "4-D tensor as input")
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    spatial = tuple(input.shape[2:])
    if size is not None:
        sizes = (int(size),) * nd if isinstance(size, (int, np.integer)) else tuple(int(s) for s in size)
        if len(sizes) != nd:
            raise ValueError(
                f"Input and output must have the same number of spatial dimensions, but got input with "
                f"spatial dimensions of {list(spatial)} and output size of {list(sizes)}. Please provide "
                f"input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format."
            )
        scales = (None,) * nd
    elif scale_factor is not None:
        scales = (float(scale_factor),) * nd if not isinstance(scale_factor, (tuple, list)) else tuple(float(s) for s in scale_factor)
        if len(scales) != nd:
            raise ValueError(
                f"Input and scale_factor must have the same number of spatial dimensions, but got input "
                f"with spatial dimensions of {list(spatial)} and scale_factor of shape {list(scales)}. "
                f"Please provide input tensor in (N, C, d1, d2, ...,dK) format and scale_factor in "
                f"(s1, s2, ...,sK) format."
            )
        sizes = tuple(int(math.floor(float(s) * f)) for s, f in zip(spatial, scales))
        if recompute_scale_factor:
            scales = (None,) * nd
    else:
        raise ValueError("either size or scale_factor should be defined")
    if any(s <= 0 for s in sizes):
        raise RuntimeError(
            f"Input and output sizes should be greater than 0, but got input ({', '.join(map(str, spatial))}) "
            f"and output ({', '.join(map(str, sizes))})"
        )
    if mode in ("area", "bicubic") or mode in _LINEAR_DIMS:
        if input._data.dtype.kind != "f":
            raise NotImplementedError(f"interpolate: mode '{mode}' needs a floating point input, got {input.dtype}")
    dtype = input._data.dtype
    maps = []
    for s, o, f in zip(spatial, sizes, scales):
        if mode == "area":
            maps.append(AxisMap("matrix", averaging_matrix(s, o, dtype)))
        elif antialias:
            maps.append(_antialias_map(s, o, f, bool(align_corners), dtype, mode == "bicubic"))
        elif mode in _LINEAR_DIMS:
            maps.append(_linear_map(s, o, f, bool(align_corners), dtype))
        elif mode == "bicubic":
            maps.append(_cubic_map(s, o, f, bool(align_corners), dtype))
        else:
            maps.append(_nearest_map(s, o, f, mode == "nearest-exact"))
    return (AdaptiveAvgPool if mode == "area" else Upsample).apply(input, tuple(maps))


def _channel_dropout(name: str, input: Any, p: float, training: bool, inplace: bool, dims: int) -> Any:
    if p < 0 or p > 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim not in (dims + 1, dims + 2):
        warnings.warn(
            f"{name}: Received a {input.ndim}-D input to {name}, which is deprecated and will result in "
            f"an error in a future release. Expected a {dims + 1}-D or {dims + 2}-D input.",
            UserWarning, stacklevel=3)
    if not training or p == 0:
        return input
    # An unbatched (C, *spatial) input masks whole channels too: its leading dim is the channel.
    lead = 1 if input.ndim == dims + 1 else 2
    shape = tuple(input.shape[:lead]) + (1,) * (input.ndim - lead)
    mask = ChannelKeep.apply(input, p, shape)
    if inplace:
        return input.mul_(mask)
    return ChannelMask.apply(input, mask)


def dropout2d(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Any:
    """Zero whole channels of (N, C, H, W) with probability p, scaling the rest by 1/(1-p)."""
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
            "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel "
            "dim. This behavior will change in a future release to interpret the input as one "
            "without a batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise "
            "dropout behavior, please switch to using dropout1d instead.", UserWarning, stacklevel=2)
        return _channel_dropout("dropout2d", input, p, training, inplace, 1)
    return _channel_dropout("dropout2d", input, p, training, inplace, 2)


def dropout1d(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Any:
    """Zero whole channels of (N, C, L) or (C, L) with probability p."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. "
                           f"Note that dropout1d exists to provide channel-wise dropout on inputs with 1 "
                           f"spatial dimension, a channel dimension, and an optional batch dimension "
                           f"(i.e. 2D or 3D inputs).")
    return _channel_dropout("dropout1d", input, p, training, inplace, 1)


def dropout3d(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Any:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) with probability p."""
    return _channel_dropout("dropout3d", input, p, training, inplace, 3)


def _adaptive_bounds(size: int, out: int) -> tuple:
    index = np.arange(out)
    return (index * size) // out, -((-(index + 1) * size) // out)


def averaging_matrix(size: int, out: int, dtype: Any) -> Any:
    """(out, size): row i averages PyTorch's adaptive window [floor(i*size/out), ceil((i+1)*size/out))."""
    start, end = _adaptive_bounds(size, out)
    positions = np.arange(size)
    inside = (positions >= start[:, None]) & (positions < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def check_adaptive_input(name: str, shape: tuple, nd: int) -> None:
    """PyTorch's checks of an adaptive pooling input over ``nd`` spatial dims."""
    if len(shape) not in (nd + 1, nd + 2):
        got = ": " if name == "adaptive_max_pool3d" else " "
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got{got}{list(shape)}")
    # (PyTorch's adaptive_avg_pool2d allows empty channels; the others only an empty first dim)
    first = len(shape) - nd if name == "adaptive_avg_pool2d" else 1
    for dim in range(first, len(shape)):
        if shape[dim] == 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch dimensions, but input "
                               f"has sizes {list(shape)} with dimension {dim} being empty")


def _adaptive_avg_pool(name: str, input: Any, output_size: Any, nd: int) -> Any:
    """Average pooling of the last ``nd`` dims to a fixed size: a separable linear map (one
    averaging matrix per axis)."""
    check_adaptive_input(name, tuple(input.shape), nd)
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        output_size = (output_size,) * nd
    if len(output_size) != nd:
        raise RuntimeError(f"{name}: output_size must be {nd}")
    sizes = tuple(input.shape[-nd:])
    output_size = tuple(s if o is None else int(o) for o, s in zip(output_size, sizes))
    if any(o < 0 for o in output_size):
        shown = ", ".join(str(o) for o in output_size[:2]) + "".join(f",{o}" for o in output_size[2:])
        raise RuntimeError(f"{name}: elements of output_size must be greater than or equal to 0 "
                           f"but received {{{shown}}}")
    dtype = input._data.dtype
    maps = tuple(AxisMap("matrix", averaging_matrix(s, o, dtype)) for s, o in zip(sizes, output_size))
    return AdaptiveAvgPool.apply(input, maps)


def adaptive_avg_pool2d(input: Any, output_size: Any) -> Any:
    """Average pooling of (N, C, H, W) or (C, H, W) to a fixed size, as ``F.adaptive_avg_pool2d``."""
    return _adaptive_avg_pool("adaptive_avg_pool2d", input, output_size, 2)


def adaptive_avg_pool3d(input: Any, output_size: Any) -> Any:
    """Average pooling of (N, C, D, H, W) or (C, D, H, W) to a fixed size, as ``F.adaptive_avg_pool3d``."""
    return _adaptive_avg_pool("adaptive_avg_pool3d", input, output_size, 3)


def adaptive_avg_pool1d(input: Any, output_size: Any) -> Any:
    """Average pooling of (N, C, L) to a fixed length, as ``F.adaptive_avg_pool1d``."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"adaptive_avg_pool1d(): Expected 2D or 3D tensor, but got {list(input.shape)}")
    output_size = output_size if isinstance(output_size, (int, np.integer)) else tuple(output_size)[0]
    return AdaptiveAvgPool.apply(input, (AxisMap("matrix", averaging_matrix(input.shape[-1], int(output_size), input._data.dtype)),))
