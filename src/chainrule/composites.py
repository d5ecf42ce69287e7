"""Functional forms that PyTorch itself composes from other ops (``addmm``, ``kron``, ``rot90``,
``tensor_split`` ...), written with chainrule's functional forms: each one's gradient is the
gradient of what it is made of, with nothing of its own to get wrong.  Registered like the rest
of the functional layer (``@public``): Tensor methods, in-place and out= forms come from the
rows."""
from __future__ import annotations

import builtins
import itertools
import math
import warnings
from typing import Any, Sequence

import numpy as np

from . import dtypes
from . import functional as F
from .autograd.function import broadcast_shape, named
from .autograd.versions import storage_root
from .backend import get_array_module, to_numpy
from .ops import elementwise as E
from .ops import gamma as G
from .ops import linalg as L
from .ops import nn as N
from .ops import reduction as R
from .complex_numbers import conj
from .ops.complex import Sgn
from .ops.linalg import _scalar
from .ops.shape import expand_error
from .ops.spacing import linspace_values
from .registry import ROWS, public
from .return_types import structseq
from .tensor import Tensor, _dim, _make

aminmax_result = structseq("aminmax", ["min", "max"])
slogdet_result = structseq("slogdet", ["sign", "logabsdet"])
cummax_result = structseq("cummax", ["values", "indices"])
cummin_result = structseq("cummin", ["values", "indices"])
mode_result = structseq("mode", ["values", "indices"])
histogram_result = structseq("histogram", ["hist", "bin_edges"])
nanmedian_result = structseq("nanmedian", ["values", "indices"])

_EVERYWHERE = np.ones((), dtype=bool)  # a where() condition that picks its first value everywhere


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else _make(np.asarray(x))


def _pad_last(input: Tensor, before: int, after: int) -> Tensor:
    """``input`` with ``before`` zeros in front of its last dim and ``after`` behind."""
    pads = ((0, 0),) * (input.ndim - 1) + ((before, after),)
    return N.ConstantPad.apply(input, pads, 0)


# -- a product plus a scaled input: beta * input + alpha * (product) --------------------------


def _scaled_sum(input: Tensor, product: Tensor, beta: Any, alpha: Any, name: str) -> Tensor:
    """``beta * input + alpha * product`` as PyTorch defines it: with ``beta == 0`` the input
    is ignored (its NaN and inf do not reach the result), though it must still broadcast to
    the product's shape."""
    shape, own = tuple(product.shape), tuple(input.shape)
    if len(own) > len(shape) or any(o not in (1, n) for o, n in zip(own[::-1], shape[::-1])):
        raise expand_error(own, shape, input._data.dtype)
    scaled = product if alpha == 1 else product * alpha
    if beta == 0:  # the input's gradient is 0 * grad: zeros, as PyTorch's
        return named(E.Where.apply(_EVERYWHERE, scaled, input), name)
    return named((input if beta == 1 else input * beta) + scaled, name)


def _matrix(name: str, tensor: Tensor) -> None:
    if tensor.ndim != 2:
        raise RuntimeError(f"{name} must be a matrix, got {tensor.ndim}-D tensor")


@public(inplace=True, out=True)
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)`` (``input`` broadcast to the product's shape)."""
    _matrix("mat1", mat1)
    _matrix("mat2", mat2)
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x{mat1.shape[1]} and "
                           f"{mat2.shape[0]}x{mat2.shape[1]})")
    return _scaled_sum(input, F.mm(mat1, mat2), beta, alpha, "AddmmBackward0")


@public(inplace=True, out=True)
def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * (mat @ vec)``."""
    if mat.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.ndim}, {mat.ndim}, {vec.ndim}")
    if mat.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input.shape[0] if input.ndim else 1}), "
                           f"mat ({mat.shape[0]}x{mat.shape[1]}), vec ({vec.shape[0]})")
    return _scaled_sum(input, F.mv(mat, vec), beta, alpha, "AddmvBackward0")


@public(inplace=True, out=True)
def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * outer(vec1, vec2)``."""
    if vec1.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec1, but got {vec1.ndim}-D" if vec1.ndim != 1
                           else f"addr: Expected 1-D argument vec2, but got {vec2.ndim}-D")
    return _scaled_sum(input, F.outer(vec1, vec2), beta, alpha, "AddrBackward0")


@public(inplace=True, out=True)
def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * (batch1 @ batch2)``, a matrix product per batch entry."""
    return _scaled_sum(input, F.bmm(batch1, batch2), beta, alpha, "BaddbmmBackward0")


@public(inplace=True, out=True)
def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * sum_b(batch1[b] @ batch2[b])``."""
    return _scaled_sum(input, F.bmm(batch1, batch2).sum(0), beta, alpha, "AddbmmBackward0")


# -- along a dim, by index --------------------------------------------------------------------


@public()
def index_add(input: Tensor, dim: int, index: Any, source: Any, *, alpha: Any = 1) -> Tensor:
    """A copy of ``input`` with ``alpha * source`` added at ``index`` along ``dim``."""
    return input.clone().index_add_(dim, index, source, alpha=alpha)


@public(inplace=True)
def index_reduce(input: Tensor, dim: int, index: Any, source: Any, reduce: str, *, include_self: bool = True) -> Tensor:
    """A copy of ``input`` whose slices at ``index`` along ``dim`` are combined by ``reduce``
    ("prod", "mean", "amax", "amin") with the slices of ``source`` sent there (and with their
    own values, unless ``include_self`` is False): ``scatter_reduce`` with the index spread
    over each slice."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    index, source = _t(index), _t(source)
    axis = _dim(dim, input.ndim)
    if index.ndim > 1:
        raise IndexError(f"index_reduce_(): Index is supposed to be a vector, but got dim: {index.ndim} with type: "
                         f"{index.dtype.scalar_name} and size: {list(index.shape)}")
    if index.dtype not in (dtypes.int64, dtypes.int32):
        raise RuntimeError(f"index_reduce_(): Expected dtype int32/int64 for index but got: {index.dtype.scalar_name}")
    if input.dtype != source.dtype:
        raise RuntimeError(f"index_reduce_(): self ({input.dtype.scalar_name}) and source "
                           f"({source.dtype.scalar_name}) must have the same scalar type")
    count = source.shape[axis] if source.ndim else 1
    if index.numel() != count:
        raise RuntimeError(f"index_reduce_(): Number of indices ({index.numel()}) should be equal to "
                           f"source.size(dim): ({count}), for dim: {axis}")
    others = [n for d, n in enumerate(input.shape) if d != axis]
    if others != [n for d, n in enumerate(source.shape) if d != axis]:
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the specified dimension. "
                           f"Got self.shape = {list(input.shape)} source.shape = {list(source.shape)}")
    positions = index._data.reshape(-1)
    if positions.size and (int(positions.min()) < 0 or int(positions.max()) >= input.shape[axis]):
        raise IndexError("index out of range in self")
    spread = [1] * source.ndim
    spread[axis] = -1
    spread_index = F.expand(F.reshape(index.long(), tuple(spread)), tuple(source.shape))
    return named(F.scatter_reduce(input, axis, spread_index, source, reduce, include_self=include_self),
                 "IndexReduceBackward0")


@public()
def index_copy(input: Tensor, dim: int, index: Any, source: Any) -> Tensor:
    """A copy of ``input`` with the slices of ``source`` written at ``index`` along ``dim``."""
    return input.clone().index_copy_(dim, index, source)


@public()
def index_fill(input: Tensor, dim: int, index: Any, value: Any) -> Tensor:
    """A copy of ``input`` with ``value`` written at ``index`` along ``dim``."""
    return input.clone().index_fill_(dim, index, value)


@public()
def take(input: Tensor, index: Any) -> Tensor:
    """The elements of ``input`` as a flat list, picked by ``index`` (the result has its shape)."""
    index = _t(index)
    size = input.numel()
    bad = index._data[(index._data < -size) | (index._data >= size)] if index.numel() else index._data[:0]
    if bad.size:
        raise IndexError(f"out of range: tried to access index {int(bad.reshape(-1)[0])} on a tensor of {size} "
                         f"elements.")
    return F.reshape(input, (-1,))[index]


@public()
def index_put(input: Tensor, indices: tuple, values: Any, accumulate: bool = False) -> Tensor:
    """A copy of ``input`` with ``values`` written (or added) at ``indices``."""
    return input.clone().index_put_(indices, values, accumulate)


@public(inplace=True)
def masked_scatter(input: Tensor, mask: Any, source: Tensor) -> Tensor:
    """A copy of ``input`` whose places where ``mask`` is True take ``source``'s elements in
    order."""
    mask = _t(mask)
    if mask.dtype != dtypes.bool:
        raise RuntimeError("masked_scatter_ only supports boolean masks, but got mask with dtype "
                           f"{dtypes.scalar_name(mask._data.dtype)}")
    shape = broadcast_shape(tuple(mask.shape), tuple(input.shape))
    mask = F.expand(mask, shape)
    count = int(F.sum(mask).item())
    if count > source.numel():
        raise RuntimeError("masked_scatter: expected source to have at least as many elements as ones in mask")
    result = F.expand(input, shape).clone()
    result[mask] = F.reshape(source, (-1,))[:count]
    return result


@public()
def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start: int | None = None, end: int | None = None,
                  step: int = 1) -> Tensor:
    """A copy of ``input`` with ``src`` written into ``input[start:end:step]`` along ``dim``."""
    where = (slice(None),) * _dim(dim, input.ndim) + (slice(start, end, step),)
    return _scatter_into(input, where, src)


def _scatter_into(input: Tensor, where: tuple, src: Tensor) -> Tensor:
    """A copy of ``input`` with ``src`` written at ``where``; ``src`` must have that slice's
    shape exactly (PyTorch's *_scatter forms do not broadcast it)."""
    expected = tuple(np.empty(tuple(input.shape), dtype=bool)[where].shape)
    if tuple(src.shape) != expected:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = {list(src.shape)}, "
                           f"slice size = {list(expected)}")
    result = input.clone()
    result[where] = src
    return result


@public()
def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """A copy of ``input`` with ``src`` written into ``input.select(dim, index)``."""
    where = (slice(None),) * _dim(dim, input.ndim) + (index,)
    return _scatter_into(input, where, src)


@public()
def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """A copy of ``input`` with ``src`` written onto its ``offset`` diagonal of ``dim1``/``dim2``."""
    first, second = _dim(dim1, input.ndim), _dim(dim2, input.ndim)
    rows, columns = input.shape[first], input.shape[second]
    count = builtins.max(0, builtins.min(rows, columns - offset) if offset >= 0 else builtins.min(rows + offset, columns))
    start_row, start_column = (0, offset) if offset >= 0 else (-offset, 0)
    where = [slice(None)] * input.ndim
    where[first] = _make(np.arange(start_row, start_row + count))
    where[second] = _make(np.arange(start_column, start_column + count))
    expected = tuple(n for d, n in enumerate(input.shape) if d not in (first, second)) + (count,)
    if tuple(src.shape) != expected:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = {list(src.shape)}, "
                           f"slice size = {list(expected)}")
    # NumPy puts the diagonal's dim where the two index arrays are when they are neighbours,
    # first otherwise.
    place = builtins.min(first, second) if abs(first - second) == 1 else 0
    result = input.clone()
    result[tuple(where)] = F.movedim(src, -1, place) if src.ndim > 1 else src
    return result


@public()
def take_along_dim(input: Tensor, indices: Any, dim: int | None = None) -> Tensor:
    """``gather`` after broadcasting ``input`` and ``indices`` in every dim but ``dim`` (no
    ``dim``: the flattened input at the flattened indices)."""
    indices = _t(indices)
    if dim is None:
        return F.gather(input.reshape(-1), 0, indices.reshape(-1))
    axis = _dim(dim, input.ndim)
    if indices.ndim != input.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {input.ndim} dimensions for input, and {indices.ndim} dimensions for indices")
    indices = F.where(indices < 0, indices + input.shape[axis], indices)  # (counted from the end, as PyTorch)
    shape_in, shape_ix = list(input.shape), list(indices.shape)
    shape_in[axis] = shape_ix[axis] = 1
    common = list(broadcast_shape(tuple(shape_in), tuple(shape_ix)))
    input_shape, index_shape = list(common), list(common)
    input_shape[axis], index_shape[axis] = input.shape[axis], indices.shape[axis]
    return F.gather(F.expand(input, tuple(input_shape)), axis, F.expand(indices, tuple(index_shape)))


# -- splitting and shaping --------------------------------------------------------------------


def _sections_or_indices(name: str, given: dict) -> Any:
    """The one split argument PyTorch's overloads name ``sections``, ``indices`` or
    ``tensor_indices_or_sections`` (or positionally)."""
    found = [value for value in given.values() if value is not None]
    if len(found) != 1:
        raise TypeError(f"{name}() expected one of the arguments {', '.join(given)}, got {len(found)}")
    return found[0]


@public()
def tensor_split(input: Tensor, indices_or_sections: Any = None, dim: int = 0, *, sections: int | None = None,
                 indices: Any = None, tensor_indices_or_sections: Tensor | None = None) -> tuple:
    """Views of ``input`` along ``dim``: ``n`` sections as even as possible (the first ones one
    longer), or the pieces between the given indices."""
    indices_or_sections = _sections_or_indices("tensor_split", {
        "indices_or_sections": indices_or_sections, "sections": sections, "indices": indices,
        "tensor_indices_or_sections": tensor_indices_or_sections})
    axis = _dim(dim, input.ndim)
    size = input.shape[axis]
    if isinstance(indices_or_sections, Tensor):
        if indices_or_sections.ndim > 1 or indices_or_sections.dtype.is_floating_point:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                               "one-dimensional tensor, but got a tensor with "
                               f"{indices_or_sections.ndim} dims")
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, int):
        sections = indices_or_sections
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        small, extra = divmod(size, sections)
        bounds = [i * small + builtins.min(i, extra) for i in range(sections + 1)]
    else:  # (a negative index counts from the end, as a slice's)
        bounds = [0] + [int(i) + size if int(i) < 0 else int(i) for i in indices_or_sections] + [size]
    pieces = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        start = builtins.min(builtins.max(start, 0), size)
        stop = builtins.min(builtins.max(stop, start), size)
        pieces.append(F.narrow(input, axis, start, stop - start))
    return tuple(pieces)


def _split_by(name: str, input: Tensor, indices_or_sections: Any, dim: int, least: int) -> tuple:
    if input.ndim < least:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {least} dimension, but got a tensor "
                           f"with {input.ndim} dimensions!")
    if isinstance(indices_or_sections, int):
        size = input.shape[dim]
        if indices_or_sections == 0 or size % indices_or_sections:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the size of the "
                               f"dimension {size} is not divisible by the split_size {indices_or_sections}!")
    return tensor_split(input, indices_or_sections, dim)


@public()
def hsplit(input: Tensor, indices_or_sections: Any = None, *, sections: int | None = None,
           indices: Any = None) -> tuple:
    """``tensor_split`` along the columns (dim 1; dim 0 of a 1-D tensor), in equal sections."""
    indices_or_sections = _sections_or_indices("hsplit", {
        "indices_or_sections": indices_or_sections, "sections": sections, "indices": indices})
    return _split_by("hsplit", input, indices_or_sections, 1 if input.ndim > 1 else 0, 1)


@public()
def vsplit(input: Tensor, indices_or_sections: Any = None, *, sections: int | None = None,
           indices: Any = None) -> tuple:
    """``tensor_split`` along the rows (dim 0), in equal sections."""
    indices_or_sections = _sections_or_indices("vsplit", {
        "indices_or_sections": indices_or_sections, "sections": sections, "indices": indices})
    return _split_by("vsplit", input, indices_or_sections, 0, 2)


@public()
def dsplit(input: Tensor, indices_or_sections: Any = None, *, sections: int | None = None,
           indices: Any = None) -> tuple:
    """``tensor_split`` along the depth (dim 2), in equal sections."""
    indices_or_sections = _sections_or_indices("dsplit", {
        "indices_or_sections": indices_or_sections, "sections": sections, "indices": indices})
    return _split_by("dsplit", input, indices_or_sections, 2, 3)


@public()
def ravel(input: Tensor) -> Tensor:
    """The elements as a 1-D tensor (a view when the layout allows)."""
    return F.reshape(input, (-1,))


def _at_least(tensors: tuple, shape_of: Any) -> Any:
    """Each tensor reshaped (itself where it has the dims already); a tuple or list given
    alone comes back as a tuple, as PyTorch's."""
    given_as_sequence = len(tensors) == 1 and isinstance(tensors[0], (tuple, list))
    if given_as_sequence:
        tensors = tuple(tensors[0])
    shaped = tuple(t if shape_of(tuple(t.shape)) == tuple(t.shape) else F.reshape(t, shape_of(tuple(t.shape)))
                   for t in tensors)
    return shaped[0] if len(shaped) == 1 and not given_as_sequence else shaped


@public(method=False)
def atleast_1d(*tensors: Any) -> Any:
    """Each tensor with at least one dim (a 0-d tensor as shape (1,))."""
    return _at_least(tensors, lambda s: s if len(s) >= 1 else (1,))


@public(method=False)
def atleast_2d(*tensors: Any) -> Any:
    """Each tensor with at least two dims (1-D as a row)."""
    return _at_least(tensors, lambda s: s if len(s) >= 2 else (1,) * (2 - len(s)) + s)


@public(method=False)
def atleast_3d(*tensors: Any) -> Any:
    """Each tensor with at least three dims, as NumPy's atleast_3d: (n,) as (1, n, 1), (m, n)
    as (m, n, 1)."""
    return _at_least(tensors, lambda s: s if len(s) >= 3 else {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}[len(s)])


@public(method=False)
def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """ShuffleNet's shuffle: the channels (dim 1) dealt out of ``groups`` groups in turn."""
    if input.ndim <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes {list(input.shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    channels = input.shape[1]
    if channels % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {channels} channels and {groups} "
                           f"groups.")
    rest = tuple(input.shape[2:])
    grouped = F.reshape(input, (input.shape[0], groups, channels // groups) + rest)
    return F.reshape(F.transpose(grouped, 1, 2), tuple(input.shape))


@public()
def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """``input`` turned by ``k`` quarter turns in the plane of ``dims`` (from the first dim
    towards the second)."""
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    first, second = _dim(dims[0], input.ndim), _dim(dims[1], input.ndim)
    if first == second:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {first} and dim1 = {second}")
    k %= 4
    if k == 1:
        return F.transpose(F.flip(input, second), first, second)
    if k == 2:
        return F.flip(input, first, second)
    if k == 3:
        return F.flip(F.transpose(input, first, second), second)
    return F.clone(input)


@public()
def fliplr(input: Tensor) -> Tensor:
    """``input`` with its columns (dim 1) in reverse order."""
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return F.flip(input, 1)


@public()
def flipud(input: Tensor) -> Tensor:
    """``input`` with its rows (dim 0) in reverse order."""
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return F.flip(input, 0)


# -- reductions that skip NaN, and pairs of reductions ----------------------------------------


@public(out=True)
def nansum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The sum, NaN counted as zero."""
    if input.dtype.is_floating_point:
        input = F.where(F.isnan(input), 0.0, input)
    return F.sum(input, dim, keepdim, dtype=dtype)


@public(out=True)
def nanmean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The mean of the values that are not NaN (NaN where all are)."""
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got "
                           f"{_scalar(input._data)}")
    present = F.logical_not(F.isnan(input))
    return nansum(input, dim, keepdim, dtype=dtype) / F.sum(present, dim, keepdim).to(input.dtype)


@public()
def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False) -> Any:
    """``(min, max)`` over ``dim`` (all elements without one), a named tuple."""
    if input.numel() == 0 and (dim is None or input.shape[_dim(dim, input.ndim)] == 0):
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                           "identity.")
    if dim is None:
        low, high = F.amin(input), F.amax(input)
        if keepdim:
            low, high = F.reshape(low, (1,) * input.ndim), F.reshape(high, (1,) * input.ndim)
        return aminmax_result(low, high)
    return aminmax_result(F.amin(input, dim, keepdim), F.amax(input, dim, keepdim))


# -- along a dim: running extremes, sums of exponentials, order statistics --------------------


def _cumulative_extreme(input: Tensor, dim: int, largest: bool, result: type) -> Any:
    axis = _dim(dim, builtins.max(input.ndim, 1))
    indices = R.CumExtremeIndices.apply(input, axis, largest)
    values = F.gather(input, axis, indices) if input.ndim else F.clone(input)
    return result(named(values, "CummaxBackward0" if largest else "CumminBackward0"), indices)


@public()
def cummax(input: Tensor, dim: int) -> Any:
    """The running maximum along ``dim`` and where it was reached (the latest place)."""
    return _cumulative_extreme(input, dim, True, cummax_result)


@public()
def cummin(input: Tensor, dim: int) -> Any:
    """The running minimum along ``dim`` and where it was reached (the latest place)."""
    return _cumulative_extreme(input, dim, False, cummin_result)


@public()
def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """``log(cumsum(exp(input)))`` along ``dim``, without overflow."""
    return R.LogCumSumExp.apply(input, _dim(dim, builtins.max(input.ndim, 1)))


@public()
def msort(input: Tensor) -> Tensor:
    """``input`` sorted along its first dim."""
    return F.sort(input, 0).values


@public()
def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> Any:
    """The most frequent value along ``dim`` (the smallest of equally frequent ones) and the
    index of its last occurrence.  Which value wins depends on the values: a graph capture
    stops here."""
    F._reads(input, "mode() (which element is chosen depends on the values)")
    if input.ndim == 0:
        return mode_result(F.clone(input), _make(np.zeros((), dtype=np.int64)))
    axis = _dim(dim, input.ndim)
    if input.shape[axis] == 0:
        raise IndexError(f"mode(): Expected reduction dim {axis} to have non-zero size.")
    data = np.moveaxis(to_numpy(input._data), axis, -1)
    rows = data.reshape(-1, data.shape[-1])
    found = np.empty(rows.shape[0], dtype=np.int64)
    for r, row in enumerate(rows):
        # A NaN equals nothing, itself included: each one counts once (PyTorch's ordering).
        numbers = row[~np.isnan(row)] if row.dtype.kind == "f" else row
        if numbers.size == 0:
            found[r] = 0
            continue
        values, counts = np.unique(numbers, return_counts=True)
        winner = values[np.argmax(counts)]
        found[r] = np.flatnonzero(row == winner)[-1]
    index_shape = data.shape[:-1] + (1,)
    indices = _make(get_array_module(input._data).asarray(np.moveaxis(found.reshape(index_shape), -1, axis)))
    values = F.gather(input, axis, indices)
    if not keepdim:
        values, indices = F.squeeze(values, axis), F.squeeze(indices, axis)
    return mode_result(values, indices)


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(name: str, input: Tensor, q: Any, dim: Any, keepdim: bool, interpolation: str,
              ignore_nan: bool) -> Tensor:
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, midpoint or nearest, "
                           f"but got {interpolation}")
    scalar_q = not isinstance(q, Tensor) or q.ndim == 0
    if not isinstance(q, Tensor):
        if not 0 <= q <= 1:
            raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {q}")
        q = _make(np.asarray([float(q)], dtype=input._data.dtype))
    elif q.ndim > 1:
        raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
    elif q.dtype != input.dtype:
        raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
    else:
        F._reads(q, f"{name}() checks that q lies in [0, 1]")
        if bool(((q < 0) | (q > 1)).any()):
            raise RuntimeError(f"{name}() q values should be in the range [0, 1]")
    q = q.reshape(-1)
    if dim is None:
        values, axis = F.reshape(input, (-1,)), 0
    else:
        values, axis = input, _dim(dim, builtins.max(input.ndim, 1))
    if values.ndim == 0:
        values = F.reshape(values, (1,))
    if values.shape[axis] == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    ordered = F.movedim(F.sort(values, axis).values, axis, -1)  # NaN sort last
    length = ordered.shape[-1]
    missing = F.isnan(ordered)
    if ignore_nan:
        counts = (length - F.sum(missing, -1, keepdim=True)).to(input.dtype)
        last = F.clamp_min(counts - 1, 0)
    else:
        last = float(length - 1)
    slots = (q.shape[0],) + tuple(ordered.shape[:-1]) + (1,)
    ranks = F.expand(q.reshape((-1,) + (1,) * ordered.ndim) * last, slots)  # (q, ..., 1)
    if interpolation == "lower":
        ranks = F.floor(ranks)
    elif interpolation == "higher":
        ranks = F.ceil(ranks)
    elif interpolation == "nearest":
        ranks = F.round(ranks)
    below = F.floor(ranks)
    above = F.clamp_max(F.ceil(ranks), length - 1)
    expanded = F.expand(F.unsqueeze(ordered, 0), (q.shape[0],) + tuple(ordered.shape))
    low = F.gather(expanded, -1, below.long())
    high = F.gather(expanded, -1, above.long())
    if interpolation == "midpoint":
        result = low + (high - low) * 0.5
    else:
        result = F.lerp(low, high, ranks - below)
    result = F.squeeze(result, -1)  # (q, ...)
    empty_or_nan = counts == 0 if ignore_nan else F.any(missing, -1, keepdim=True)
    result = F.where(F.squeeze(empty_or_nan, -1), float("nan"), result)
    if keepdim:
        result = F.unsqueeze(result, axis + 1) if dim is not None else F.reshape(
            result, (q.shape[0],) + (1,) * input.ndim)
    return result[0] if scalar_q else result


@public(out=True)
def quantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The ``q``-th quantiles (``q`` a number or a 1-D tensor: then a first dim of them) of all
    elements or along ``dim``; NaN where a slice holds a NaN."""
    return _quantile("quantile", input, q, dim, keepdim, interpolation, ignore_nan=False)


@public(out=True)
def nanquantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """:func:`quantile` of the values that are not NaN."""
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, ignore_nan=True)


@public()
def nanmedian(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """The lower median of the values that are not NaN (NaN where all are), over all elements or
    along ``dim`` (then with its index)."""
    if dim is None:
        if input._data.dtype.kind == "b":
            raise dtypes.not_implemented("median_cpu", input._data.dtype)
        flat = F.reshape(input, (-1,))
        ordered = F.sort(flat).values
        count = int(F.sum(F.logical_not(F.isnan(flat))).item()) if flat.shape[0] else 0
        F._reads(input, "nanmedian() (which element is the median depends on the values)")
        if count == 0:
            return _make(np.asarray(np.nan, dtype=input._data.dtype))
        return named(ordered[(count - 1) // 2], "NanmedianBackward0")
    if input.ndim == 0:
        return nanmedian_result(F.clone(input), _make(np.zeros((), dtype=np.int64)))
    axis = _dim(dim, input.ndim)
    if input.shape[axis] == 0:
        raise IndexError(f"median(): Expected reduction dim {axis} to have non-zero size.")
    values, order = F.sort(input, axis)
    counts = F.sum(F.logical_not(F.isnan(input)), axis, keepdim=True)
    middle = F.clamp_min(counts - 1, 0) // 2
    picked, indices = F.gather(values, axis, middle), F.gather(order, axis, middle)
    if not keepdim:
        picked, indices = F.squeeze(picked, axis), F.squeeze(indices, axis)
    return nanmedian_result(picked, indices)


@public()
def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """Counts of the elements in ``bins`` equal-width bins over [min, max] (both 0: the data's
    own range); elements outside are left out.  Counts depend on the values: a graph capture
    stops here."""
    F._reads(input, "histc() (counts of the values)")
    if not input.dtype.is_floating_point:
        raise dtypes.not_implemented("histogram_cpu", input._data.dtype)
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    data = to_numpy(input._data).reshape(-1)
    dtype = data.dtype.type
    low, high = dtype(min), dtype(max)
    if low == high and data.size:
        low, high = data.min(), data.max()
    if low == high:
        low, high = low - dtype(1), high + dtype(1)
    if not (np.isfinite(low) and np.isfinite(high)):
        raise RuntimeError(f"torch.histogram(): range of [{low}, {high}] is not finite")
    if low > high:
        raise RuntimeError("torch.histogram(): min should not exceed max")
    inside = data[(data >= low) & (data <= high)]
    # Each element's bin in the input's own precision, as PyTorch computes it (float32 rounding
    # decides where an element on a bin edge falls); the maximum goes in the last bin.
    position = ((inside - low) * dtype(bins) / (high - low)).astype(np.int64)
    counts = np.bincount(np.minimum(position, bins - 1), minlength=bins)
    return _make(get_array_module(input._data).asarray(counts.astype(input._data.dtype)))


@public()
def histogram(input: Tensor, bins: Any = 100, *, range: Sequence[float] | None = None, weight: Tensor | None = None,
              density: bool = False) -> Any:
    """``(hist, bin_edges)``: the (weighted) count of the elements in each bin, the bins being
    ``bins`` equal-width ones over ``range`` (by default the data's own; a single value widens
    to +-0.5) or the edges in the tensor ``bins``.  Each bin holds [left, right), the last one
    its right edge too; elements outside are left out.  ``density``: counts divided by their
    total and the bin widths."""
    F._reads(input, "histogram() (counts of the values)")
    if not input.dtype.is_floating_point:
        raise dtypes.not_implemented("histogramdd", input._data.dtype)
    data = to_numpy(input._data).reshape(-1)
    dtype = data.dtype.type
    if isinstance(bins, Tensor):
        edges = to_numpy(bins._data).astype(data.dtype)
    else:
        if bins <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
        low, high = (dtype(range[0]), dtype(range[1])) if range is not None else (
            (data.min(), data.max()) if data.size else (dtype(0), dtype(0)))
        if low > high:
            raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min {low:g} max {high:g} for "
                               "dimension 0")
        if low == high:
            low, high = low - dtype(0.5), high + dtype(0.5)
        edges = linspace_values(float(low), float(high), bins + 1, data.dtype)
    weights = None if weight is None else to_numpy(weight._data).reshape(-1)
    inside = (data >= edges[0]) & (data <= edges[-1])
    position = np.minimum(np.searchsorted(edges, data[inside], side="right") - 1, len(edges) - 2)
    hist = np.bincount(position, weights=None if weights is None else weights[inside], minlength=len(edges) - 1)
    hist = hist.astype(data.dtype)
    if density:
        hist = hist / (hist.sum() * np.diff(edges))
    xp = get_array_module(input._data)
    return histogram_result(_make(xp.asarray(hist.astype(data.dtype))), _make(xp.asarray(edges)))


@public()
def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None) -> Any:
    """Each run of equal consecutive elements (or slices along ``dim``) once, with, when asked,
    which run each element belongs to and each run's length."""
    F._reads(input, "unique_consecutive() (a result whose shape depends on the values)")
    data = to_numpy(input._data)
    axis = None if dim is None else _dim(dim, input.ndim)
    rows = data.reshape(-1) if axis is None else np.moveaxis(data, axis, 0).reshape(data.shape[axis], -1)
    if rows.shape[0]:
        changed = np.ones(rows.shape[0], dtype=bool)
        changed[1:] = (rows[1:] != rows[:-1]) if rows.ndim == 1 else (rows[1:] != rows[:-1]).any(axis=1)
    else:
        changed = np.zeros(0, dtype=bool)
    starts = np.flatnonzero(changed)
    if axis is None:
        values = _make(get_array_module(input._data).asarray(rows[starts]))
    else:
        values = F.index_select(input, axis, _make(starts.astype(np.int64)))
    result = (values,)
    if return_inverse:
        inverse = np.cumsum(changed) - 1
        result += (_make(inverse.reshape(input.shape if axis is None else (-1,)).astype(np.int64)),)
    if return_counts:
        result += (_make(np.diff(np.append(starts, rows.shape[0])).astype(np.int64)),)
    return result[0] if len(result) == 1 else result


@public()
def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """A square matrix with the flattened ``input`` on its ``offset`` diagonal."""
    return diag_embed(F.reshape(input, (-1,)), offset)


@public(out=True)
def vdot(input: Tensor, other: Tensor) -> Tensor:
    """The dot product of two 1-D tensors, the first conjugated (of real ones: ``dot``)."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    return F.dot(conj(input), other)


@public()
def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """The ``p``-norm of ``input - other``."""
    return F.norm(input - other, p)


@public()
def cov(input: Tensor, *, correction: int = 1, fweights: Tensor | None = None, aweights: Tensor | None = None) -> Tensor:
    """The covariance matrix of the variables in ``input``'s rows (observations in columns),
    with frequency and observation weights as NumPy's ``cov``."""
    if input.ndim > 2:
        raise ValueError(f"cov(): expected input to have two or fewer dimensions but got an input with {input.ndim} "
                         f"dimensions")
    x = F.reshape(input, (1, -1)) if input.ndim < 2 else input
    if not x.dtype.is_floating_point:
        x = x.to(dtypes.get_default_dtype())
    observations = x.shape[1]
    weights = None
    if fweights is not None:
        weights = fweights.to(x.dtype)
    if aweights is not None:
        weights = aweights.to(x.dtype) if weights is None else weights * aweights.to(x.dtype)
    if weights is None:
        total = float(observations)
        mean = F.mean(x, 1, keepdim=True)
        norm = total - correction
    else:
        total = F.sum(weights)
        mean = F.sum(x * weights, 1, keepdim=True) / total
        if aweights is None or correction == 0:
            norm = total - correction
        else:
            norm = total - correction * F.sum(weights * aweights.to(x.dtype)) / total
    centered = x - mean
    weighted = centered if weights is None else centered * weights
    denominator = F.clamp_min(norm, 0) if isinstance(norm, Tensor) else builtins.max(norm, 0)
    result = F.matmul(weighted, F.transpose(centered, 0, 1)) / denominator
    return F.reshape(result, ()) if input.ndim < 2 else result


@public()
def corrcoef(input: Tensor) -> Tensor:
    """Pearson's correlation coefficients of the variables in ``input``'s rows (clipped to
    [-1, 1], as PyTorch)."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    stddev = F.sqrt(F.diagonal(c))
    c = c / F.unsqueeze(stddev, 1) / F.unsqueeze(stddev, 0)
    return F.clamp(c, -1, 1)


@public()
def sum_to_size(input: Tensor, *size: Any) -> Tensor:
    """``input`` summed down to ``size`` (the shape it was broadcast from)."""
    shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)
    lead = input.ndim - len(shape)
    if lead < 0 or any(n not in (1, m) for n, m in zip(shape, input.shape[lead:])):
        raise RuntimeError(f"size {{{list(shape)}}} is not expandable to size {{{list(input.shape)}}}.")
    result = F.sum(input, tuple(range(lead))) if lead else input
    keep = tuple(i for i, (n, m) in enumerate(zip(shape, result.shape)) if n == 1 and m != 1)
    return F.sum(result, keep, keepdim=True) if keep else result


@public()
def split_with_sizes(input: Tensor, split_sizes: Sequence[int], dim: int = 0) -> tuple:
    """``split`` into pieces of the given sizes."""
    return F.split(input, list(split_sizes), dim)


@public(inplace=True)
def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """Each slice along ``dim`` whose ``p``-norm exceeds ``maxnorm`` scaled down to it."""
    if input.ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} dimensions")
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    axis = _dim(dim, input.ndim)
    others = tuple(d for d in range(input.ndim) if d != axis)
    norms = F.norm(input, p, others, keepdim=True)
    return input * F.where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)


# -- elementwise ------------------------------------------------------------------------------


@public(inplace=True, out=True)
def logaddexp2(input: Tensor, other: Tensor) -> Tensor:
    """log2(2^input + 2^other) without overflow."""
    other = _t(other)
    # (equal infinities: inf - inf would be NaN; their difference is 0)
    same = input == other
    difference = F.where(same, 0.0, input) - F.where(same, 0.0, other)
    return F.maximum(input, other) + F.log1p(F.exp2(-F.abs(difference))) / math.log(2.0)


@public(out=True)
def fmax(input: Tensor, other: Tensor) -> Tensor:
    """The larger of each pair, a NaN losing to a number; ties and NaN pairs take ``input``
    (and its gradient), as PyTorch's."""
    other = _t(other)
    return F.where(F.logical_or(input >= other, F.isnan(other)), input, other)


@public(out=True)
def fmin(input: Tensor, other: Tensor) -> Tensor:
    """The smaller of each pair, a NaN losing to a number; ties take ``input``."""
    other = _t(other)
    return F.where(F.logical_or(input <= other, F.isnan(other)), input, other)


@public(inplace=True, out=True)
def copysign(input: Tensor, other: Any) -> Tensor:
    """|input| with the sign of ``other`` (-0.0 counts as negative); the gradient flows to
    ``input`` only."""
    other_tensor = other if isinstance(other, Tensor) else None
    dtype = input.dtype if input.dtype.is_floating_point else dtypes.get_default_dtype()
    if other_tensor is not None and other_tensor.dtype.is_floating_point and \
            other_tensor.element_size() > dtypes.finfo(dtype).bits // 8:
        dtype = other_tensor.dtype  # (the wider float of the two, as PyTorch promotes)
    input = input.to(dtype)
    negative = signbit(other_tensor if other_tensor is not None else _make(np.asarray(other, dtype=input._data.dtype)))
    result = F.where(negative, -F.abs(input), F.abs(input))
    if isinstance(other, Tensor) and other.requires_grad:  # its gradient: zeros, as PyTorch's
        result = E.Where.apply(_EVERYWHERE, result, other)
    return result


@public(inplace=True, out=True)
def float_power(input: Any, exponent: Any) -> Tensor:
    """``input ** exponent`` computed in float64."""
    base = _t(input).to(dtypes.float64)
    return base ** (exponent.to(dtypes.float64) if isinstance(exponent, Tensor) else exponent)


@public(out=True)
def signbit(input: Tensor) -> Tensor:
    """Whether each element's sign bit is set (True for -0.0)."""
    return E.NoGradientUfunc.apply(_t(input), np.signbit)


@public(inplace=True, out=True)
def sgn(input: Tensor) -> Tensor:
    """The sign of each element: ``z / |z|`` of a complex one (0 at 0), ``sign`` of a real one."""
    return Sgn.apply(input) if input.is_complex() else F.sign(input)


@public(out=True)
def isposinf(input: Tensor) -> Tensor:
    return input == float("inf")


@public(out=True)
def isneginf(input: Tensor) -> Tensor:
    return input == float("-inf")


@public(inplace=True, out=True)
def sinc(input: Tensor) -> Tensor:
    """sin(pi x) / (pi x), and 1 at 0 (where its gradient is 0)."""
    input = input if input.dtype.is_floating_point else input.to(dtypes.get_default_dtype())
    zero = input == 0
    # (the quotient is taken of 1 where x is 0: a 0/0 there would send NaN into the gradient)
    scaled = F.where(zero, 1.0, input) * math.pi
    return F.where(zero, 1.0, F.sin(scaled) / scaled)


@public(inplace=True, out=True)
def deg2rad(input: Tensor) -> Tensor:
    """Degrees to radians."""
    return _floating(input) * (math.pi / 180.0)


@public(inplace=True, out=True)
def rad2deg(input: Tensor) -> Tensor:
    """Radians to degrees."""
    return _floating(input) * (180.0 / math.pi)


def _floating(input: Tensor) -> Tensor:
    return input if input.dtype.is_floating_point else input.to(dtypes.get_default_dtype())


@public()
def positive(input: Tensor) -> Tensor:
    """``input`` itself (unary plus)."""
    if input.dtype == dtypes.bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


@public(inplace=True, out=True)
def fix(input: Tensor) -> Tensor:
    """``trunc``: rounded towards zero."""
    return F.trunc(input)


# -- products of whole tensors ----------------------------------------------------------------


def _positions(offset: int, shape: Sequence[int], strides: Sequence[int]) -> np.ndarray:
    """The storage position of each element of a (shape, strides, offset) layout, C order."""
    positions = np.full(tuple(shape), offset, dtype=np.int64)
    for axis, (n, step) in enumerate(zip(shape, strides)):
        positions += (np.arange(n, dtype=np.int64) * step).reshape([-1 if a == axis else 1 for a in range(len(shape))])
    return positions


def _check_storage_bounds(input: Tensor, size: tuple, stride: tuple, offset: int) -> None:
    """PyTorch's checks of an as_strided layout against the storage, with its messages."""
    if builtins.min(stride, default=0) < 0:
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got strides: {list(stride)}")
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    if 0 in size:
        return
    itemsize = input._data.itemsize
    needed = (offset + builtins.sum((n - 1) * step for n, step in zip(size, stride)) + 1) * itemsize
    available = storage_root(input._data).nbytes
    if needed > available:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and "
                           f"itemsize {itemsize} requiring a storage size of {needed} are out of bounds for "
                           f"storage of size {available}")


@public()
def as_strided(input: Tensor, size: Sequence[int], stride: Sequence[int], storage_offset: int | None = None) -> Tensor:
    """The elements at ``storage_offset + sum(i_k * stride_k)`` of ``input``'s storage, in the
    shape ``size`` (strides and offset in elements; the offset is ``input``'s own by default):
    sliding windows, overlapping patches.  chainrule gathers them into a new tensor (writing
    to it does not reach ``input``; gradients flow back, summed where windows overlap), and
    reads only storage that ``input`` itself covers."""
    size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    offset = input.storage_offset() if storage_offset is None else int(storage_offset)
    _check_storage_bounds(input, size, stride, offset)
    own = _positions(input.storage_offset(), input.shape, input.stride()).reshape(-1)
    wanted = _positions(offset, size, stride)
    lookup = np.full(builtins.max(int(own.max(initial=-1)), int(wanted.max(initial=-1))) + 1, -1, dtype=np.int64)
    lookup[own] = np.arange(own.size)
    index = lookup[wanted] if wanted.size else wanted
    if wanted.size and (wanted.min() < 0 or (index < 0).any()):
        raise NotImplementedError(
            f"as_strided(size={list(size)}, stride={list(stride)}, storage_offset={offset}) reads storage outside "
            f"the tensor's own elements (shape {list(input.shape)}, strides {list(input.stride())}, offset "
            f"{input.storage_offset()}); chainrule reads only those: call it on the tensor that owns the storage")
    flat = F.reshape(input, (-1,))
    return named(flat[_make(get_array_module(input._data).asarray(index))], "AsStridedBackward0")


@public(out=True)
def narrow_copy(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``narrow``'s slice as a new tensor (a copy, not a view)."""
    return F.narrow(input, dim, start, length).clone()


@public(out=True)
def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sums of products over the last dims: ``out[i..., j...] = sum_k input[i..., k] other[j..., k]``
    (``dot`` for two vectors; a product where one is 0-d)."""
    if input.dim() == 0 or other.dim() == 0:
        return F.mul(input, other)
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input.shape)} and {list(other.shape)}")
    if input.dim() == other.dim() == 1:
        return F.dot(input, other)
    size = input.shape[-1]
    products = F.matmul(F.reshape(input, (-1, size)), F.reshape(other, (-1, size)).t())
    return F.reshape(products, (*input.shape[:-1], *other.shape[:-1]))


@public(out=True)
def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product: every element of ``input`` times the whole of ``other``, laid
    out block by block."""
    ndim = builtins.max(input.ndim, other.ndim)
    a = F.reshape(input, (1,) * (ndim - input.ndim) + tuple(input.shape))
    b = F.reshape(other, (1,) * (ndim - other.ndim) + tuple(other.shape))
    # a's dims interleaved with b's: (a0, 1, a1, 1 ...) * (1, b0, 1, b1 ...)
    a_shape = [n for size in a.shape for n in (size, 1)]
    b_shape = [n for size in b.shape for n in (1, size)]
    product = F.reshape(a, tuple(a_shape)) * F.reshape(b, tuple(b_shape))
    return F.reshape(product, tuple(m * n for m, n in zip(a.shape, b.shape)))


@public()
def slogdet(input: Tensor) -> Any:
    """``(sign, log|det A|)`` of (batches of) square matrices: the determinant as a sign and a
    logarithm (finite where ``det`` itself would overflow)."""
    return slogdet_result(L.DetSign.apply(input), L.LogAbsDet.apply(input))


@public()
def det(input: Tensor) -> Tensor:
    """The determinant of (batches of) square matrices; its gradient is ``det A * A^-T``."""
    return L.Det.apply(input)


@public()
def logdet(input: Tensor) -> Tensor:
    """``log det A``: NaN where the determinant is negative, -inf where it is 0."""
    sign, logabsdet = slogdet(input)
    return F.where(sign < 0, float("nan"), logabsdet)


@public()
def inverse(input: Tensor) -> Tensor:
    """``A^-1`` (``linalg.inv``)."""
    return L.Inverse.apply(input)


@public()
def matrix_power(input: Tensor, n: int) -> Tensor:
    """``A^n`` by repeated squaring (``n`` < 0: of the inverse; 0: the identity)."""
    if input.ndim < 2 or input.shape[-1] != input.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{input.shape[-2] if input.ndim > 1 else 1} by {input.shape[-1] if input.ndim else 1} matrices")
    if n == 0:  # the identity; the input's gradient zeros, as PyTorch's
        xp = get_array_module(input._data)
        return E.Where.apply(_EVERYWHERE, xp.eye(input.shape[-1], dtype=input._data.dtype), input)
    base = inverse(input) if n < 0 else input
    n = abs(n)
    result = None
    while n:
        if n & 1:
            result = base if result is None else F.matmul(result, base)
        n >>= 1
        if n:
            base = F.matmul(base, base)
    return result


def _cross(input: Tensor, other: Tensor, axis: int) -> Tensor:
    a = [F.select(input, axis, i) for i in range(3)]
    b = [F.select(other, axis, i) for i in range(3)]
    return F.stack([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]], axis)


def linalg_cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """``torch.linalg.cross``: the cross product of 3-vectors along ``dim`` (broadcast)."""
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    axis = _dim(dim, input.ndim)
    if input.shape[axis] != 3 or other.shape[axis] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {input.shape[axis]} and "
                           f"{other.shape[axis]}")
    shape = broadcast_shape(tuple(input.shape), tuple(other.shape))
    return named(_cross(F.expand(input, shape), F.expand(other, shape), axis), "LinalgCrossBackward0")


@public(out=True)
def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """The cross product along ``dim`` (without one: the first dim of size 3, as PyTorch)."""
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the "
                        "dim explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to "
                        "agree with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
        shape = broadcast_shape(tuple(input.shape), tuple(other.shape))
        dim = next((i for i, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return linalg_cross(input, other, dim=dim)


@public()
def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices with ``input``'s last dim on their ``offset`` diagonal, in dims ``dim1`` and
    ``dim2`` of the result (zeros elsewhere)."""
    ndim = input.ndim + 1
    first, second = _dim(dim1, ndim), _dim(dim2, ndim)
    if first == second:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = input.shape[-1] if input.ndim else 1
    size = n + abs(offset)
    # Row i of the (size x size) matrix holds input[i] (offset >= 0) or input[i + offset] at
    # column i + offset: the input padded to ``size`` rows, times the shifted identity.
    padding = (0, abs(offset)) if offset >= 0 else (abs(offset), 0)
    rows = F.unsqueeze(_pad_last(F.reshape(input, tuple(input.shape[:-1]) + (n,)), *padding), -1)
    xp = get_array_module(input._data)
    # (where, not a product with the identity: inf and NaN stay on the diagonal)
    matrices = E.Where.apply(xp.eye(size, k=offset, dtype=bool), rows, xp.zeros((), dtype=input._data.dtype))
    return F.movedim(matrices, (-2, -1), (first, second))


@public(method=False)
def block_diag(*tensors: Tensor) -> Tensor:
    """The tensors (0-d, 1-D as a row, 2-D) along the diagonal of one matrix, zeros elsewhere."""
    blocks = [F.reshape(t, {0: (1, 1), 1: (1, t.shape[0] if t.ndim else 1)}.get(t.ndim, tuple(t.shape)))
              for t in tensors]
    for t in blocks:
        if t.ndim != 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {blocks.index(t)} "
                               f"has {t.ndim} dimensions")
    width = builtins.sum(t.shape[1] for t in blocks)
    rows, left = [], 0
    for t in blocks:
        right = width - left - t.shape[1]
        rows.append(_pad_last(t, left, right))
        left += t.shape[1]
    if not rows:
        return _make(np.zeros((1, 0), dtype=dtypes.to_numpy(dtypes.get_default_dtype())))
    return F.cat(rows, 0)


@public(method=False)
def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Every combination of one element from each 1-D tensor, one row each (a 1-D tensor
    given alone comes back as it is)."""
    for t in tensors:
        if t.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len({t.dtype for t in tensors}) > 1:
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    if len(tensors) == 1:
        return tensors[0]
    grids = F.meshgrid(*tensors, indexing="ij")
    return F.stack([g.reshape(-1) for g in grids], 1)


@public(method=False, out=True)
def bucketize(input: Any, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each value of ``input`` between the sorted 1-D ``boundaries``: the index
    of the first boundary >= the value (``right``: > the value)."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return F.searchsorted(boundaries, input, out_int32=out_int32, right=right)


@public(method=False, out=True)
def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """The sum of products over ``a``'s last ``dims`` dimensions and ``b``'s first ones (or over
    the two lists of dimensions ``dims`` names): one matrix product of the two reshaped."""
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > builtins.min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        if len(dims) != 2:
            raise RuntimeError(f"tensordot expects dims to be a pair of lists, but got {dims}")
        dims_a, dims_b = ([d] if isinstance(d, (int, np.integer)) else list(d) for d in dims)
    if len(dims_a) != len(dims_b):
        raise RuntimeError(f"both dimension lists should have same length, but got {len(dims_a)} and {len(dims_b)}")
    dims_a, dims_b = [_dim(d, a.ndim) for d in dims_a], [_dim(d, b.ndim) for d in dims_b]
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[da]} in dim {da} "
                               f"and second has size {b.shape[db]} in dim {db}")
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    size = math.prod(a.shape[d] for d in dims_a)
    left = F.reshape(F.permute(a, free_a + dims_a), (math.prod(a.shape[d] for d in free_a), size))
    right = F.reshape(F.permute(b, dims_b + free_b), (size, math.prod(b.shape[d] for d in free_b)))
    return F.reshape(F.matmul(left, right), tuple(a.shape[d] for d in free_a) + tuple(b.shape[d] for d in free_b))


def _trapezoid_parts(name: str, y: Tensor, x: Any, dx: Any, dim: int) -> tuple:
    """``y``'s left and right ends of each interval along ``dim``, and the intervals' widths."""
    if x is not None and dx is not None:
        raise RuntimeError(f"{name}: received both x and dx; pass only one of them")
    axis = _dim(dim, y.ndim)
    length = y.shape[axis]
    left, right = F.narrow(y, axis, 0, builtins.max(length - 1, 0)), F.narrow(y, axis, builtins.min(1, length),
                                                                          builtins.max(length - 1, 0))
    if x is None:
        return left, right, 1 if dx is None else dx
    if x.ndim == 1:
        if x.shape[0] != length:
            raise RuntimeError(f"{name}: There must be one `x` value for each sample point")
        widths = F.diff(x)
        return left, right, F.reshape(widths, (-1,) + (1,) * (y.ndim - 1 - axis))
    return left, right, F.diff(x, dim=dim)


@public(method=False, aliases=("trapz",))
def trapezoid(y: Tensor, x: Tensor | None = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """The trapezoidal rule's integral of ``y`` along ``dim``: samples ``dx`` apart (1 by
    default) or at the places ``x``."""
    left, right, widths = _trapezoid_parts("trapezoid", y, x, dx, dim)
    return F.sum(widths * (left + right), dim) / 2


trapz = trapezoid  # the older name


@public(method=False)
def cumulative_trapezoid(y: Tensor, x: Tensor | None = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """The trapezoidal rule's running integral of ``y`` along ``dim`` (one value per interval)."""
    left, right, widths = _trapezoid_parts("cumulative_trapezoid", y, x, dx, dim)
    return F.cumsum(widths / 2 * (left + right), dim)


@public(method=False)
def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """Every ``r``-element combination of a 1-D tensor's elements, one row each, in the order of
    ``itertools.combinations`` (``with_replacement``: ``combinations_with_replacement``)."""
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return F.reshape(input[:0], (0,)).detach()  # a new empty tensor, as PyTorch gives
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = list(pick(range(input.shape[0]), r))
    index = _make(np.asarray(rows, dtype=np.int64).reshape(len(rows), r))
    return F.reshape(F.index_select(input, 0, F.reshape(index, (-1,))), (len(rows), r))


@public(method=False)
def pdist(input: Tensor, p: float = 2) -> Tensor:
    """The ``p``-norm distance between every pair of ``input``'s rows (N, M), the upper
    triangle of ``cdist(input, input)`` row by row: N (N - 1) / 2 values."""
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if not input.is_floating_point():
        raise RuntimeError(f"pdist only supports floating-point dtypes, got: {input.dtype}")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    first, second = np.triu_indices(input.shape[0], 1)
    pairs = F.index_select(input, 0, _make(first)) - F.index_select(input, 0, _make(second))
    return F.norm(pairs, p, 1)



@public(inplace=True, out=True)
def lgamma(input: Tensor) -> Tensor:
    """log|Gamma(x)| (inf at 0 and the negative integers); its derivative is ``digamma``."""
    return G.Lgamma.apply(input)


@public(inplace=True, out=True)
def digamma(input: Tensor) -> Tensor:
    """psi(x) = d lgamma(x) / dx (-inf at +0, NaN at the negative integers)."""
    return G.Polygamma.apply(input, 0)


@public(method=False, out=True)
def polygamma(n: int, input: Tensor) -> Tensor:
    """The n-th derivative of digamma (n = 0: digamma itself)."""
    if not isinstance(n, int) or n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return G.Polygamma.apply(input, n)


@public(inplace=True, out=True)
def mvlgamma(input: Tensor, p: int) -> Tensor:
    """The multivariate log-gamma of dimension ``p``: ``p(p-1)/4 log(pi) + sum_j lgamma(x - j/2)``."""
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    offsets = _make(np.arange(p, dtype=input._data.dtype) * -0.5)
    return lgamma(input.unsqueeze(-1) + offsets).sum(-1) + p * (p - 1) / 4 * math.log(math.pi)



@public(inplace=True, out=True)
def igamma(input: Tensor, other: Any) -> Tensor:
    """The regularised lower incomplete gamma function P(input, other)."""
    return G.RegularizedGamma.apply(input, other if isinstance(other, Tensor) else F._t(other), False)


@public(inplace=True, out=True)
def igammac(input: Tensor, other: Any) -> Tensor:
    """The regularised upper incomplete gamma function Q(input, other) = 1 - P."""
    return G.RegularizedGamma.apply(input, other if isinstance(other, Tensor) else F._t(other), True)


__all__ = [name for name, row in ROWS.items() if row.function.__module__ == __name__]

