"""Shape and indexing ops: reshape, permute, expand, indexing, cat/stack, flip, repeat,
gather/scatter/scatter_add, index_select."""
from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..autograd import observe
from ..autograd.function import Op, variant
from ..backend import get_array_module
from ..dtypes import printed, scalar_name
from .elementwise import sum_to_shape
from .namespace import arrays_for, plain


def expand_error(shape: tuple, sizes: tuple, dtype: Any) -> RuntimeError:
    """PyTorch's error for a tensor of ``shape`` (and ``dtype``) that does not expand to
    ``sizes`` (-1: a dim kept)."""
    lead = len(sizes) - len(shape)
    if lead < 0:
        return RuntimeError(
            f"expand({printed.namespace}.{scalar_name(dtype)}Tensor{{{list(shape)}}}, size={list(sizes)}): the "
            f"number of sizes provided ({len(sizes)}) must be greater or equal to the number of dimensions in the "
            f"tensor ({len(shape)})")
    dim = next(i for i, (n, current) in enumerate(zip(sizes[lead:], shape), lead) if n not in (-1, current)
               and current != 1)
    return RuntimeError(
        f"The expanded size of the tensor ({sizes[dim]}) must match the existing size ({shape[dim - lead]}) at "
        f"non-singleton dimension {dim}.  Target sizes: {list(sizes)}.  Tensor sizes: {list(shape)}")


def setitem_error(array: Any, index: tuple, value: Any) -> RuntimeError:
    """PyTorch's error for ``array[index] = value`` where ``value`` does not broadcast to the
    indexed shape: an expand's, or (an index of tensors) a shape mismatch."""
    target, shape = array[index].shape, np.shape(value)
    if any(hasattr(item, "shape") and not isinstance(item, np.generic) for item in index):
        return RuntimeError(f"shape mismatch: value tensor of shape {list(shape)} cannot be broadcast to indexing "
                            f"result of shape {list(target)}")
    return expand_error(shape, target, getattr(value, "dtype", np.float32))


class Reshape(Op):
    __slots__ = ("shape",)
    presented_inputs = 1
    pytorch_name = "ViewBackward0"  # view, reshape, flatten ... (unsqueeze/squeeze rename it)
    is_view = True
    derivative = ("d reshape(u)/du = 1 (reshaped back)",)

    def forward(self, xp, a, shape):
        self.shape = a.shape
        return a.reshape(shape)

    def backward(self, xp, g):
        return g.reshape(self.shape)


#: PyTorch's error for a view() that strides cannot express (NumPy would copy instead).
VIEW_ERROR = ("view size is not compatible with input tensor's size and stride (at least one dimension spans "
              "across two contiguous subspaces). Use .reshape(...) instead.")


def require_view(base: Any, reshaped: Any, own_layout: bool = False) -> None:
    """Raise PyTorch's view() error when ``reshaped`` (``base.reshape(...)``) is a copy:
    NumPy's reshape copies exactly when strides cannot express the new shape, the case
    where PyTorch's view() refuses (its stride rule is the same).  With ``own_layout`` (the
    tensor is no view of another) a channel-major array (N and C swapped in memory) passes:
    convolutions and pooling keep their outputs so where PyTorch's are contiguous, and
    ``x.view(-1, 320)`` after them must work (here it copies)."""
    if reshaped.size and not get_array_module(base).may_share_memory(base, reshaped) and not (
            own_layout and _channel_major(base)):
        raise RuntimeError(VIEW_ERROR)


def _channel_major(a: Any) -> bool:
    """Whether ``a`` (N, C, ...) is stored as a C-contiguous (C, N, ...) array."""
    return a.ndim >= 3 and a.shape[0] > 1 and a.transpose((1, 0) + tuple(range(2, a.ndim))).flags.c_contiguous


class Permute(Op):
    __slots__ = ("axes",)
    presented_inputs = 1
    is_view = True
    derivative = ("d permute(u)/du = 1 (permuted back)",)

    def forward(self, xp, a, axes):
        self.axes = axes
        return a.transpose(axes)

    def backward(self, xp, g):
        inverse = [0] * len(self.axes)
        for i, axis in enumerate(self.axes):
            inverse[axis] = i
        return xp.transpose(g, tuple(inverse))


class Expand(Op):
    __slots__ = ("shape",)
    presented_inputs = 1
    is_view = True
    derivative = ("d expand(u)/du = 1 (summed over the copies)",)

    def forward(self, xp, a, shape):
        self.shape = a.shape
        return xp.broadcast_to(a, shape)

    def backward(self, xp, g):
        return sum_to_shape(g, self.shape)


def diagonal_view(xp: Any, a: Any, offset: int, dim1: int, dim2: int) -> Any:
    """The ``offset`` diagonal of ``a``'s (dim1, dim2) planes as the last dim of a strided view
    that writes through (NumPy's own ``diagonal`` is read-only): the other dims first, then the
    diagonal with stride ``stride[dim1] + stride[dim2]``."""
    rows, columns = a.shape[dim1], a.shape[dim2]
    length = max(0, min(rows, columns - offset) if offset >= 0 else min(rows + offset, columns))
    rest = [d for d in range(a.ndim) if d not in (dim1, dim2)]
    shape = tuple(a.shape[d] for d in rest) + (length,)
    if length == 0:
        return xp.empty(shape, dtype=a.dtype)
    start = [slice(None)] * a.ndim
    start[dim2 if offset >= 0 else dim1] = slice(abs(offset), None)
    shifted = a[tuple(start)]  # (a view starting at the diagonal's first element)
    strides = tuple(a.strides[d] for d in rest) + (a.strides[dim1] + a.strides[dim2],)
    return xp.lib.stride_tricks.as_strided(shifted, shape, strides)


class Diagonal(Op):
    """A diagonal of the (dim1, dim2) planes, as PyTorch's: a view (in-place changes of it
    change the input)."""

    __slots__ = ("shape", "where")
    presented_inputs = 1
    is_view = True
    derivative = ("d diagonal(u)/du = 1 on the diagonal",)

    def forward(self, xp, a, offset, dim1, dim2):
        self.shape, self.where = a.shape, (offset, dim1, dim2)
        return diagonal_view(xp, a, offset, dim1, dim2)

    def backward(self, xp, g):
        if plain(xp):
            return DiagonalInto.forward(self, xp, g, self.shape, *self.where)
        return DiagonalInto.apply(g, self.shape, *self.where)


class DiagonalInto(Op):
    """zeros(shape) with ``g`` on a diagonal: the backward of :class:`Diagonal`, as an op so
    that it is itself differentiable (its backward takes the diagonal again)."""

    __slots__ = ("where",)
    derivative = ("d diag_into(g)/dg = 1 on the diagonal",)

    def forward(self, xp, g, shape, offset, dim1, dim2):
        self.where = (offset, dim1, dim2)
        out = xp.zeros(shape, dtype=g.dtype)
        diagonal_view(xp, out, offset, dim1, dim2)[...] = g
        return out

    def backward(self, xp, g):
        if plain(xp):
            return diagonal_view(xp, g, *self.where).copy(), None, None, None, None
        return Diagonal.apply(g, *self.where), None, None, None, None


def is_basic_index(index: tuple) -> bool:
    """True when ``index`` only holds ints, slices, None and Ellipsis (no element twice)."""
    for item in index:
        if not (item is None or item is Ellipsis or isinstance(item, (int, slice, np.integer))):
            return False
    return True


def _basic_index_name(index: tuple) -> str:
    """PyTorch's node for basic indexing: it indexes with a chain of select/slice/unsqueeze
    views, so its node is that of the last step."""
    for key in reversed(index):
        if key is None:
            return "UnsqueezeBackward0"
        if isinstance(key, slice):
            if key != slice(None):
                return "SliceBackward0"
        elif key is not Ellipsis:
            return "SelectBackward0"
    return "SliceBackward0" if any(isinstance(k, slice) for k in index) else "AliasBackward0"


class Index(Op):
    __slots__ = ("shape", "dtype", "index", "basic")
    presented_inputs = 1
    is_view = True
    derivative = ("d u[i]/du = 1 at the selected elements",)

    def forward(self, xp, a, index):
        self.shape, self.dtype, self.index = a.shape, a.dtype, index
        self.basic = is_basic_index(index)
        if observe.read and not self.basic and _masks(index):
            # A boolean mask makes a result whose shape depends on the mask's values: a graph
            # capture stops here (chainrule.compiler), as PyTorch's dynamo does by default.
            observe.notify_read(None, "boolean-mask indexing (a result whose shape depends on the values)")
        if self.basic:  # PyTorch's node for a view: SelectBackward0, SliceBackward0 ...
            self.__class__ = _INDEX_VIEWS[_basic_index_name(index)]
        try:
            out = a[index]
        except IndexError as error:
            raise _index_error(error, a.shape) from None
        if self.basic and isinstance(out, np.generic):
            # Integers in every dim: NumPy answers with a scalar, a copy; PyTorch's result is a
            # 0-d view, through which an in-place change reaches ``a`` (``w[0].zero_()``).
            out = a[index + (Ellipsis,)]
        return out

    def backward(self, xp, g):
        return index_backward(xp, self.shape, self.dtype, self.index, self.basic, g)


def _masks(index: Any) -> bool:
    """Whether an index holds a boolean array (a mask)."""
    parts = index if type(index) is tuple else (index,)
    return any(getattr(part, "dtype", None) == np.bool_ for part in parts)


def index_backward(xp: Any, shape: tuple, dtype: Any, index: tuple, basic: bool, g: Any) -> Any:
    """Scatter ``g`` into zeros of ``shape`` at ``index``, summing repeated positions."""
    if plain(xp):
        out = xp.zeros(shape, dtype=g.dtype)
        if basic:
            out[index] = g
        else:
            xp.add.at(out, index, g)
        return out
    return xp.index_add_into(shape, index, g)


def _index_error(error: IndexError, shape: tuple) -> IndexError:
    """NumPy's indexing errors in PyTorch's words (dimensions and tensors, not axes and arrays)."""
    message = str(error)
    if message.startswith("too many indices"):
        return IndexError(f"too many indices for tensor of dimension {len(shape)}")
    mask = re.match(r"boolean index did not match indexed array along (?:axis|dimension) (\d+); size of "
                    r"(?:axis|dimension) is (\d+) but size of corresponding boolean (?:axis|dimension) is (\d+)", message)
    if mask:
        return IndexError(f"The shape of the mask [{mask.group(3)}] at index {mask.group(1)} does not match "
                          f"the shape of the indexed tensor [{mask.group(2)}] at index {mask.group(1)}")
    return IndexError(message.replace(" for axis ", " for dimension "))


_INDEX_VIEWS = {name: variant(Index, name) for name in
                ("SelectBackward0", "SliceBackward0", "UnsqueezeBackward0", "AliasBackward0")}


class IndexAddInto(Op):
    """zeros(shape) with ``g`` summed in at ``index``: the backward of indexing, as an op so
    that it is itself differentiable (its backward is indexing again)."""

    __slots__ = ("index",)
    derivative = ("d scatter(g)/dg = 1 at the selected elements",)

    def forward(self, xp, g, shape, index):
        self.index = index
        out = xp.zeros(shape, dtype=g.dtype)
        xp.add.at(out, index, g)
        return out

    def backward(self, xp, grad):
        return grad[self.index], None, None


class IndexPut(Op):
    """``out = a`` with ``out[index] = value`` (index assignment recorded on the graph)."""

    pytorch_name = "CopySlices"

    __slots__ = ("index", "value_shape", "accumulate")
    derivative = ("d put(a)/da = 1 outside the index", "d put/d value = 1 at the index")

    def forward(self, xp, a, value, index, accumulate=False):
        self.index, self.accumulate = index, accumulate
        self.value_shape = getattr(value, "shape", None)
        out = a.copy()
        if accumulate:
            xp.add.at(out, index, value)
        else:
            try:
                out[index] = value
            except ValueError as error:
                if "broadcast" not in str(error):
                    raise
                raise setitem_error(a, index, value) from None
        return out

    def backward(self, xp, g):
        ga = None
        if self.needs_grad(0):
            if self.accumulate:
                ga = g
            else:
                mask = arrays_for(xp, g).ones(g.shape, dtype=bool)
                mask[self.index] = False
                ga = g * mask
        gv = None
        if self.value_shape is not None and self.needs_grad(1):
            gv = sum_to_shape(g[self.index], self.value_shape)
        return ga, gv


class ViewScatter(Op):
    """A base tensor after an in-place change of one of its views (PyTorch's CopySlices):
    its old history outside the view's region, the view's new history inside."""

    __slots__ = ("view_op", "view_args", "view_kwargs", "shape")
    pytorch_name = "CopySlices"
    derivative = ("d base'/d base = 1 outside the view", "d base'/d view = 1 inside the view")

    def forward(self, xp, base, view, view_op, view_args, view_kwargs):
        self.view_op, self.view_args, self.view_kwargs = view_op, view_args, view_kwargs
        self.shape = base.shape
        return base  # the view's change already wrote into the base's storage

    def _view(self, xp, array):
        return self.view_op.__new__(self.view_op).forward(xp, array, *self.view_args, **self.view_kwargs)

    def backward(self, xp, g):
        module = xp if hasattr(xp, "ndarray") else np
        g_base = None
        if self.needs_grad(0) and module is xp and g.dtype.kind == "c":
            g_base = g.copy()  # (the view may be a part of each element, .real or .imag: not a mask's work)
            self._view(xp, g_base)[...] = 0
        elif self.needs_grad(0):
            outside = module.ones(self.shape, dtype=bool)
            self._view(module, outside)[...] = False
            g_base = g * outside
        g_view = None
        if self.needs_grad(1):
            if module is xp:
                g_view = self._view(xp, g)
            else:
                g_view = self.view_op.apply(g, *self.view_args, **self.view_kwargs)
        return g_base, g_view, None, None, None


class Cat(Op):
    __slots__ = ("axis", "sizes")
    derivative = ("d cat(u, v)/du = 1 on u's slice",)

    def forward(self, xp, *arrays, axis):
        self.axis = axis
        self.sizes = [a.shape[axis] for a in arrays]
        return xp.concatenate(arrays, axis=axis)

    def backward(self, xp, g):
        grads = []
        start = 0
        lead = (slice(None),) * self.axis
        for size in self.sizes:
            grads.append(g[lead + (slice(start, start + size),)])
            start += size
        return tuple(grads)


class Stack(Op):
    __slots__ = ("axis", "count")
    derivative = ("d stack(u, v)/du = 1 on u's slot",)

    def forward(self, xp, *arrays, axis):
        self.axis, self.count = axis, len(arrays)
        return xp.stack(arrays, axis=axis)

    def backward(self, xp, g):
        lead = (slice(None),) * self.axis
        return tuple(g[lead + (i,)] for i in range(self.count))


class Flip(Op):
    __slots__ = ("axis",)
    presented_inputs = 1
    derivative = ("d flip(u)/du = 1 (flipped back)",)

    def forward(self, xp, a, axis):
        self.axis = axis
        return xp.flip(a, axis).copy()

    def backward(self, xp, g):
        return xp.flip(g, self.axis)


class Repeat(Op):
    __slots__ = ("shape", "reps", "lead")
    presented_inputs = 1
    derivative = ("d repeat(u)/du = 1 (summed over the copies)",)

    def forward(self, xp, a, reps):
        if len(reps) < a.ndim:
            raise RuntimeError(
                f"Number of dimensions of repeat dims ({len(reps)}) can not be smaller than "
                f"number of dimensions of tensor ({a.ndim})"
            )
        self.lead = len(reps) - a.ndim
        self.shape = (1,) * self.lead + a.shape
        self.reps = reps
        return xp.tile(a.reshape(self.shape), reps)

    def backward(self, xp, g):
        interleaved = []
        for r, s in zip(self.reps, self.shape):
            interleaved += [r, s]
        g = g.reshape(tuple(interleaved)).sum(axis=tuple(range(0, 2 * len(self.shape), 2)))
        return g.reshape(self.shape[self.lead:]) if self.lead else g


def _out_of_bounds(index: Any, size: int) -> int | None:
    """The first entry of ``index`` outside ``[0, size)``, or None.  PyTorch's gather, scatter
    and index_select refuse a negative index, where NumPy would count it from the end."""
    if not index.size:
        return None
    if int(index.min()) >= 0 and int(index.max()) < size:
        return None
    return int(index[(index < 0) | (index >= size)].reshape(-1)[0])


def _axis_size(a: Any, axis: int) -> int:
    """The length of ``a`` along ``axis`` (a 0-d array counts as one element along dim 0)."""
    return a.shape[axis] if a.ndim else 1


def _check_scatter_index(index: Any, axis: int, size: int) -> None:
    bad = _out_of_bounds(index, size)
    if bad is not None:
        raise RuntimeError(f"index {bad} is out of bounds for dimension {axis} with size {size}")


def _full_index(index: Any, axis: int) -> tuple:
    """Open-mesh index tuple that addresses ``index``'s positions, with ``index`` on ``axis``."""
    xp = get_array_module(index)
    last = index.ndim - 1
    grids = [xp.arange(n).reshape((1,) * i + (n,) + (1,) * (last - i)) for i, n in enumerate(index.shape)]
    grids[axis] = index
    return tuple(grids)


class Gather(Op):
    __slots__ = ("shape", "axis", "index")
    presented_inputs = 1
    derivative = ("d gather(u)/du = 1 at the gathered positions",)

    def forward(self, xp, a, axis, index):
        self.shape, self.axis, self.index = a.shape, axis, index
        for d in range(a.ndim):
            if d != axis and index.shape[d] > a.shape[d]:
                raise RuntimeError(
                    f"Size does not match at dimension {d} expected index {list(index.shape)} "
                    f"to be no larger than self {list(a.shape)} apart from dimension {axis}"
                )
        _check_scatter_index(index, axis, _axis_size(a, axis))
        try:
            return a[_full_index(index, axis)]
        except IndexError as error:  # PyTorch raises RuntimeError for gather's indices
            raise RuntimeError(str(_index_error(error, a.shape))) from None

    def backward(self, xp, g):
        if plain(xp):
            out = xp.zeros(self.shape, dtype=g.dtype)
            xp.add.at(out, _full_index(self.index, self.axis), g)
            return out, None, None
        return xp.index_add_into(self.shape, _full_index(self.index, self.axis), g), None, None


class ScatterAdd(Op):
    __slots__ = ("axis", "index", "src_shape")
    derivative = ("d scatter_add/d self = 1", "", "", "d scatter_add/d src = 1 at the index")

    def forward(self, xp, a, axis, index, src):
        self.axis, self.index = axis, index
        self.src_shape = src.shape
        _check_scatter_index(index, axis, _axis_size(a, axis))
        out = a.copy()
        region = tuple(slice(0, n) for n in index.shape)
        xp.add.at(out, _full_index(index, axis), src[region])
        return out

    def backward(self, xp, g):
        grad_src = None
        if self.needs_grad(3):
            picked = g[_full_index(self.index, self.axis)]
            if picked.shape != self.src_shape:
                pad = [(0, s - p) for s, p in zip(self.src_shape, picked.shape)]
                picked = xp.pad(picked, pad)
            grad_src = picked
        return g, None, None, grad_src


_SCATTER_UFUNCS = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum", "amin": "minimum"}


def _scatter_identity(dtype: Any, reduce: str) -> Any:
    """The value a place starts from when its own value is left out (``include_self=False``)."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    largest = reduce == "amax"
    if dtype.kind == "f":
        return -np.inf if largest else np.inf
    if dtype.kind == "b":
        return not largest
    info = np.iinfo(dtype)
    return info.min if largest else info.max


class ScatterReduce(Op):
    """``scatter_reduce``: the values of ``src`` combined into ``a`` at ``index`` along ``axis``
    by a sum, product, mean, max or min, with or without ``a``'s own value; the backward as
    PyTorch's (equal extremes share their gradient)."""

    __slots__ = ("axis", "index", "reduce", "include_self", "counts", "src_shape")
    derivative = ("d/d self: 1, 1/count, prod/self or [self == result] / ties", "", "",
                  "d/d src: at the index, likewise")

    def forward(self, xp, a, axis, index, src, reduce, include_self):
        _check_scatter_index(index, axis, _axis_size(a, axis))
        where = _full_index(index, axis)
        values = src[tuple(slice(0, n) for n in index.shape)]
        out = a.copy()
        if not include_self:
            out[where] = _scatter_identity(a.dtype, reduce)
        getattr(xp, _SCATTER_UFUNCS[reduce]).at(out, where, values)
        self.axis, self.index, self.reduce, self.include_self = axis, index, reduce, include_self
        self.src_shape, self.counts = src.shape, None
        if reduce == "mean":
            counts = xp.full(a.shape, 1 if include_self else 0, dtype=xp.int64)
            xp.add.at(counts, where, 1)
            self.counts = xp.maximum(counts, 1)
            out = out // self.counts if a.dtype.kind in "iub" else (out / self.counts).astype(a.dtype)
        self.saved = (a, values, out)
        return out

    def backward(self, xp, g):
        if not plain(xp):
            raise NotImplementedError("scatter_reduce: backward with create_graph=True is not supported")
        a, values, out = self.saved
        where = _full_index(self.index, self.axis)
        scattered = xp.zeros(a.shape, dtype=bool)
        scattered[where] = True
        own = xp.ones(a.shape, dtype=bool) if self.include_self else ~scattered
        reduce = self.reduce
        if reduce == "sum":
            grad_a, grad_values = g * own, g[where]
        elif reduce == "mean":
            share = (g / self.counts).astype(g.dtype, copy=False)
            grad_a, grad_values = share * own, share[where]
        elif reduce == "prod":
            grad_a, grad_values = self._product_gradients(xp, g, a, values, out, where, own)
        else:  # amax / amin: the gradient shared among the places that hold the extreme
            # (as PyTorch, a left-out own value equal to the extreme still takes its share,
            # which is then dropped)
            a_is = a == out
            values_is = values == out[where]
            ties = a_is.astype(g.dtype)
            xp.add.at(ties, where, values_is.astype(g.dtype))
            share = g / xp.maximum(ties, 1)
            grad_a, grad_values = share * (a_is & own), share[where] * values_is
        grad_src = None
        if self.needs_grad(3):
            grad_src = xp.zeros(self.src_shape, dtype=g.dtype)
            grad_src[tuple(slice(0, n) for n in self.index.shape)] = grad_values
        return (grad_a if self.needs_grad(0) else None), None, None, grad_src, None, None

    def _product_gradients(self, xp, g, a, values, out, where, own):
        """The product of the other factors at each place: ``out / factor`` where the factor is
        not 0; where it is, the product recomputed without it."""
        with np.errstate(divide="ignore", invalid="ignore"):
            grad_a = xp.where(own, g * out / a, 0)
            grad_values = (g * out)[where] / values
        for flat in zip(*xp.nonzero(own & (a == 0))):
            others = self._product_without(xp, a, values, where, own, self_at=flat)
            grad_a[flat] = g[flat] * others
        target = [w for w in xp.broadcast_arrays(*where)]
        for position in zip(*xp.nonzero(values == 0)):
            place = tuple(t[position] for t in target)
            others = self._product_without(xp, a, values, where, own, skip=position)[place]
            grad_values[position] = g[place] * others
        return xp.where(xp.isnan(grad_a), 0, grad_a), grad_values

    def _product_without(self, xp, a, values, where, own, self_at=None, skip=None):
        start = xp.where(own, a, 1).astype(a.dtype)
        if self_at is not None:
            start[self_at] = 1
        factors = values.copy()
        if skip is not None:
            factors[skip] = 1
        xp.multiply.at(start, where, factors)
        return start[self_at] if self_at is not None else start


class Scatter(Op):
    """``scatter``: ``src`` (a tensor, or one value) written at ``index`` along ``axis``."""
    __slots__ = ("axis", "index", "src_shape")
    derivative = ("d scatter/d self = 1 where not overwritten", "", "", "d scatter/d src = 1 at the index")

    def forward(self, xp, a, axis, index, src):
        self.axis, self.index = axis, index
        _check_scatter_index(index, axis, _axis_size(a, axis))
        out = a.copy()
        if getattr(src, "ndim", 0):
            self.src_shape = src.shape
            src = src[tuple(slice(0, n) for n in index.shape)]
        else:
            self.src_shape = None
        out[_full_index(index, axis)] = src
        return out

    def backward(self, xp, g):
        grad_self = grad_src = None
        where = _full_index(self.index, self.axis)
        if self.needs_grad(0):
            keep = arrays_for(xp, g).ones(g.shape, dtype=bool)
            keep[where] = False
            grad_self = g * keep
        if self.needs_grad(3):
            grad_src = g[where]
            if grad_src.shape != self.src_shape:
                region = tuple(slice(0, n) for n in grad_src.shape)
                grad_src = index_backward(xp, self.src_shape, None, region, True, grad_src)
        return grad_self, None, None, grad_src


class IndexSelect(Op):
    __slots__ = ("shape", "axis", "index")
    presented_inputs = 1
    derivative = ("d index_select(u)/du = 1 at the selected slices",)

    def forward(self, xp, a, axis, index):
        self.shape, self.axis, self.index = a.shape, axis, index
        size = _axis_size(a, axis)
        bad = _out_of_bounds(index, size)
        if bad is not None:  # (PyTorch's two messages: its kernel for dim 0, another for the rest)
            if axis == 0:
                raise IndexError(f"index out of range in self: index {bad} is out of bounds for dimension 0 with "
                                 f"size {size}")
            raise RuntimeError(f"INDICES element is out of DATA bounds, id={bad} axis_dim={size}")
        return xp.take(a, index, axis=axis)

    def backward(self, xp, g):
        index = (slice(None),) * self.axis + (self.index,)
        return index_backward(xp, self.shape, None, index, False, g), None, None
