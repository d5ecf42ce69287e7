"""The functional forms (``chainrule.exp(x)`` ...): argument handling in PyTorch's
spellings, then one call into ``ops/``.  Tensor methods are these same functions."""
from __future__ import annotations

import builtins
from collections import namedtuple
from typing import Any, Sequence

import numpy as np

from .ops import elementwise as E
from .ops import linalg as L
from .ops import nn as N
from .ops import reduction as R
from .ops import shape as S
from .tensor import Tensor, _coerce, _dim, _make

values_indices = namedtuple("values_indices", ["values", "indices"])


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else _make(np.asarray(x), None, False)


def _shape_args(args: tuple) -> tuple:
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    return tuple(int(a) for a in args)


# -- elementwise ------------------------------------------------------------------------


def add(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    input = _t(input)
    if alpha != 1:
        other = other * alpha
    return E.Add.apply(input, _coerce(input, other))


def sub(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    input = _t(input)
    if alpha != 1:
        other = other * alpha
    return E.Sub.apply(input, _coerce(input, other))


subtract = sub


def mul(input: Any, other: Any) -> Tensor:
    input = _t(input)
    return E.Mul.apply(input, _coerce(input, other))


multiply = mul


def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    input = _t(input)
    if rounding_mode is None:
        return E.Div.apply(input, _coerce(input, other))
    if rounding_mode == "floor":
        return E.FloorDivide.apply(input, _coerce(input, other))
    if rounding_mode == "trunc":
        out = E.Div.apply(input, _coerce(input, other)).detach()
        result = np.trunc(out._data)
        if input._data.dtype.kind in "iu" and getattr(other, "dtype", None) is not None and _t(other)._data.dtype.kind in "iu":
            result = result.astype(input._data.dtype)
        return _make(result, None, False)
    raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")


divide = true_divide = div


def pow(input: Any, exponent: Any) -> Tensor:
    if not isinstance(input, Tensor):
        exponent = _t(exponent)
        return E.Pow.apply(_coerce(exponent, input), exponent)
    return E.Pow.apply(input, _coerce(input, exponent))


def floor_divide(input: Any, other: Any) -> Tensor:
    return E.FloorDivide.apply(_t(input), other)


def remainder(input: Any, other: Any) -> Tensor:
    return E.Remainder.apply(_t(input), other)


fmod_ = remainder


def neg(input: Tensor) -> Tensor:
    return E.Neg.apply(input)


negative = neg


def abs(input: Tensor) -> Tensor:
    return E.Abs.apply(input)


absolute = abs


def sign(input: Tensor) -> Tensor:
    return E.Sign.apply(input)


def exp(input: Tensor) -> Tensor:
    return E.Exp.apply(input)


def log(input: Tensor) -> Tensor:
    return E.Log.apply(input)


def log2(input: Tensor) -> Tensor:
    return E.Log2.apply(input)


def log10(input: Tensor) -> Tensor:
    return E.Log10.apply(input)


def log1p(input: Tensor) -> Tensor:
    return E.Log1p.apply(input)


def expm1(input: Tensor) -> Tensor:
    return E.Expm1.apply(input)


def sqrt(input: Tensor) -> Tensor:
    return E.Sqrt.apply(input)


def rsqrt(input: Tensor) -> Tensor:
    return E.Rsqrt.apply(input)


def square(input: Tensor) -> Tensor:
    return E.Square.apply(input)


def reciprocal(input: Tensor) -> Tensor:
    return E.Reciprocal.apply(input)


def sin(input: Tensor) -> Tensor:
    return E.Sin.apply(input)


def cos(input: Tensor) -> Tensor:
    return E.Cos.apply(input)


def tan(input: Tensor) -> Tensor:
    return E.Tan.apply(input)


def tanh(input: Tensor) -> Tensor:
    return E.Tanh.apply(input)


def sigmoid(input: Tensor) -> Tensor:
    return E.Sigmoid.apply(input)


def relu(input: Tensor) -> Tensor:
    return E.Relu.apply(input)


def atan2(input: Tensor, other: Any) -> Tensor:
    return E.Atan2.apply(input, other)


arctan2 = atan2


def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    return E.Clamp.apply(input, min, max)


clip = clamp


def clamp_min(input: Tensor, min: Any) -> Tensor:
    return E.Clamp.apply(input, min, None)


def clamp_max(input: Tensor, max: Any) -> Tensor:
    return E.Clamp.apply(input, None, max)


def maximum(input: Tensor, other: Tensor) -> Tensor:
    return E.Maximum.apply(input, other)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    return E.Minimum.apply(input, other)


def where(condition: Any, input: Any = None, other: Any = None) -> Any:
    condition_data = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if input is None and other is None:
        return tuple(_make(i.astype(np.int64), None, False) for i in np.nonzero(condition_data))
    if condition_data.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype {_t(condition).dtype.legacy_name[:-6]}")
    return E.Where.apply(condition_data, input, other)


def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    return E.Lerp.apply(input, end, weight)


def _nondifferentiable(ufunc: Any, name: str) -> Any:
    def op(input: Tensor, *args: Any) -> Tensor:
        data = ufunc(input._data, *args)
        if data.dtype == np.float64 and input._data.dtype != np.float64 and input._data.dtype.kind == "f":
            data = data.astype(input._data.dtype)
        return _make(np.asarray(data), None, False)

    op.__name__ = name
    op.__doc__ = f"{name} (piecewise constant: no gradient flows through it)."
    return op


def floor(input: Tensor) -> Tensor:
    return E.Rounding.apply(input, np.floor)


def ceil(input: Tensor) -> Tensor:
    return E.Rounding.apply(input, np.ceil)


def trunc(input: Tensor) -> Tensor:
    return E.Rounding.apply(input, np.trunc)


isnan = _nondifferentiable(np.isnan, "isnan")
isinf = _nondifferentiable(np.isinf, "isinf")
isfinite = _nondifferentiable(np.isfinite, "isfinite")


def round(input: Tensor, *, decimals: int = 0) -> Tensor:
    return E.Rounding.apply(input, np.round, decimals)


def _comparison(ufunc: Any) -> Any:
    def op(input: Any, other: Any) -> Tensor:
        input = _t(input)
        return E.Compare.apply(input, _coerce(input, other), ufunc=ufunc)

    op.__name__ = ufunc.__name__
    return op


eq = _comparison(np.equal)
ne = not_equal = _comparison(np.not_equal)
lt = less = _comparison(np.less)
le = less_equal = _comparison(np.less_equal)
gt = greater = _comparison(np.greater)
ge = greater_equal = _comparison(np.greater_equal)
logical_and = _comparison(np.logical_and)
logical_or = _comparison(np.logical_or)
logical_xor = _comparison(np.logical_xor)


def logical_not(input: Tensor) -> Tensor:
    return E.LogicalNot.apply(input)


def isclose(input: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    return _make(np.isclose(input._data, _t(other)._data, rtol, atol, equal_nan), None, False)


def allclose(input: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    return builtins.bool(np.allclose(input._data, _t(other)._data, rtol, atol, equal_nan))


def equal(input: Tensor, other: Tensor) -> bool:
    return input._data.shape == other._data.shape and builtins.bool((input._data == other._data).all())


def any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    axis = R.normalize_axis(dim, input._data.ndim)
    return _make(np.asarray(input._data.any(axis=axis, keepdims=keepdim)), None, False)


def all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    axis = R.normalize_axis(dim, input._data.ndim)
    return _make(np.asarray(input._data.all(axis=axis, keepdims=keepdim)), None, False)


def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:
    axis = R.normalize_axis(dim, input._data.ndim)
    return _make(np.asarray(np.count_nonzero(input._data, axis=axis), dtype=np.int64), None, False)


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:
    indices = np.nonzero(input._data)
    if as_tuple:
        return tuple(_make(i.astype(np.int64), None, False) for i in indices)
    return _make(np.stack(indices, axis=1).astype(np.int64), None, False)


# -- reductions ----------------------------------------------------------------------------


def _reduce_args(input: Tensor, dim: Any, keepdim: bool, kwargs: dict) -> tuple:
    if "axis" in kwargs:
        dim = kwargs.pop("axis")
    if "keepdims" in kwargs:
        keepdim = kwargs.pop("keepdims")
    return R.normalize_axis(dim, input._data.ndim), builtins.bool(keepdim)


def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, **kwargs: Any) -> Tensor:
    axis, keepdim = _reduce_args(input, dim, keepdim, kwargs)
    if dtype is not None:
        input = input.to(dtype)
    return R.Sum.apply(input, axis, keepdim)


def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, **kwargs: Any) -> Tensor:
    axis, keepdim = _reduce_args(input, dim, keepdim, kwargs)
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {input.dtype.legacy_name[:-6]}"
        )
    return R.Mean.apply(input, axis, keepdim)


def prod(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    if dtype is not None:
        input = input.to(dtype)
    return R.Prod.apply(input, R.normalize_axis(dim, input._data.ndim), keepdim)


def _correction(unbiased: Any, correction: Any) -> float:
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


def var(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = None) -> Tensor:
    if isinstance(dim, builtins.bool):
        dim, unbiased = None, dim
    axis = R.normalize_axis(dim, input._data.ndim)
    return R.Var.apply(input, axis, builtins.bool(keepdim), _correction(unbiased, correction))


def std(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = None) -> Tensor:
    if isinstance(dim, builtins.bool):
        dim, unbiased = None, dim
    axis = R.normalize_axis(dim, input._data.ndim)
    return R.Std.apply(input, axis, builtins.bool(keepdim), _correction(unbiased, correction))


def var_mean(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = None) -> tuple:
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def std_mean(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = None) -> tuple:
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def _check_nonempty(input: Tensor, axis: tuple | None, name: str, error: type = RuntimeError) -> None:
    """max-like reductions have no identity: PyTorch refuses an empty reduced dim."""
    if input._data.size:
        return
    if axis is None:
        suffix = " Specify the reduction dim with the 'dim' argument." if error is RuntimeError else ""
        raise error(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.{suffix}")
    for a in axis:
        if input._data.shape[a] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {a} to have non-zero size.")


def amax(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    axis = R.normalize_axis(dim, input._data.ndim)
    _check_nonempty(input, axis, "amax")
    return R.Amax.apply(input, axis, keepdim, True)


def amin(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    axis = R.normalize_axis(dim, input._data.ndim)
    _check_nonempty(input, axis, "amin")
    return R.Amax.apply(input, axis, keepdim, False)


def _extreme(input: Tensor, dim: Any, keepdim: bool, largest: bool, name: str) -> Any:
    if isinstance(dim, Tensor):
        return maximum(input, dim) if largest else minimum(input, dim)
    if dim is None:
        if input._data.size == 0:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                f"Specify the reduction dim with the 'dim' argument."
            )
        return R.Amax.apply(input, None, False, largest)
    axis = _dim(dim, input._data.ndim)
    if input._data.ndim == 0:
        return values_indices(input.clone(), _make(np.asarray(0, dtype=np.int64), None, False))
    if input._data.shape[axis] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
    indices = R.Argmax.apply(input, axis, True, largest)
    values = S.Gather.apply(input, axis, indices._data)
    if not keepdim:
        values = squeeze(values, axis)
        indices = squeeze(indices, axis)
    return values_indices(values, indices)


def max(input: Tensor, dim: Any = None, keepdim: bool = False, *, other: Any = None) -> Any:
    if other is not None:
        return maximum(input, other)
    return _extreme(input, dim, keepdim, True, "max")


def min(input: Tensor, dim: Any = None, keepdim: bool = False, *, other: Any = None) -> Any:
    if other is not None:
        return minimum(input, other)
    return _extreme(input, dim, keepdim, False, "min")


def argmax(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    axis = None if dim is None else _dim(dim, input._data.ndim)
    _check_nonempty(input, None if axis is None else (axis,), "argmax", IndexError)
    return R.Argmax.apply(input, axis, keepdim, True)


def argmin(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    axis = None if dim is None else _dim(dim, input._data.ndim)
    _check_nonempty(input, None if axis is None else (axis,), "argmin", IndexError)
    return R.Argmax.apply(input, axis, keepdim, False)


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    axis = R.normalize_axis(dim, input._data.ndim)
    out = R.LogSumExp.apply(input, axis)
    if not keepdim:
        out = out.reshape(tuple(n for i, n in enumerate(input._data.shape) if axis is not None and i not in axis))
    return out


def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    if dtype is not None:
        input = input.to(dtype)
    axis = R.normalize_axis(dim, input._data.ndim)
    if p in ("fro", 2, 2.0, None):
        return R.Norm2.apply(input, axis, keepdim)
    if p in (float("inf"), "inf"):
        return amax(abs(input), () if axis is None else axis, keepdim)
    if p in (float("-inf"), "-inf"):
        return amin(abs(input), () if axis is None else axis, keepdim)
    if p == 1:
        return R.Sum.apply(abs(input), axis, keepdim)
    if p == 0:
        return R.Sum.apply((input != 0).float(), axis, keepdim)
    return R.Sum.apply(abs(input) ** p, axis, keepdim) ** (1.0 / p)


def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    if dtype is not None:
        input = input.to(dtype)
    return R.Cumsum.apply(input, _dim(dim, input._data.ndim))


def softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    if dtype is not None:
        input = input.to(dtype)
    return N.Softmax.apply(input, _dim(dim, input._data.ndim))


def log_softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    if dtype is not None:
        input = input.to(dtype)
    return N.LogSoftmax.apply(input, _dim(dim, input._data.ndim))


# -- matrix products ---------------------------------------------------------------------


def matmul(input: Tensor, other: Tensor) -> Tensor:
    return L.Matmul.apply(input, other)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    if input._data.ndim != 2 or mat2._data.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {input._data.ndim}-D and {mat2._data.ndim}-D")
    return L.Matmul.apply(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    if input._data.ndim != 3 or mat2._data.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor (got {input._data.ndim}-D and {mat2._data.ndim}-D)")
    if input._data.shape[0] != mat2._data.shape[0]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{input._data.shape[0]}, "
            f"{input._data.shape[2]}] but got: [{mat2._data.shape[0]}, {mat2._data.shape[1]}]."
        )
    return L.Matmul.apply(input, mat2)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    return L.Matmul.apply(input, vec)


def dot(input: Tensor, other: Tensor) -> Tensor:
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and {other._data.ndim}D tensors")
    return L.Matmul.apply(input, other)


inner = dot


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    return L.Matmul.apply(reshape(input, (-1, 1)), reshape(vec2, (1, -1)))


ger = outer


# -- shape -----------------------------------------------------------------------------------


def reshape(input: Tensor, *shape: Any) -> Tensor:
    shape = _shape_args(shape)
    if shape == input._data.shape:
        return S.Reshape.apply(input, shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    try:
        np.empty(input._data.shape, dtype=np.bool_).reshape(shape) if input._data.size == 0 else None
    except ValueError:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {input._data.size}") from None
    known = 1
    for n in shape:
        if n != -1:
            known *= n
    if shape.count(-1) > 1 or (shape.count(-1) == 0 and known != input._data.size) or (
        shape.count(-1) == 1 and (known == 0 or input._data.size % known)
    ):
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {input._data.size}")
    return S.Reshape.apply(input, shape)


def view(input: Tensor, *shape: Any) -> Tensor:
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list, np.integer)):
        from . import dtypes

        target = dtypes.to_numpy(shape[0])
        return _make(input._data.view(target), None, False)
    return reshape(input, *shape)


def view_as(input: Tensor, other: Tensor) -> Tensor:
    return reshape(input, other._data.shape)


reshape_as = view_as


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    ndim = input._data.ndim
    if ndim == 0:
        return reshape(input, (1,))
    start, end = _dim(start_dim, ndim), _dim(end_dim, ndim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = input._data.shape
    middle = 1
    for n in shape[start:end + 1]:
        middle *= n
    return reshape(input, shape[:start] + (middle,) + shape[end + 1:])


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    axis = _dim(dim, input._data.ndim)
    shape = input._data.shape
    sizes = tuple(sizes)
    if -1 not in sizes and int(np.prod(sizes)) != shape[axis]:
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
            f"({shape[axis]}) in the input tensor"
        )
    return reshape(input, shape[:axis] + sizes + shape[axis + 1:])


def squeeze(input: Tensor, dim: Any = None) -> Tensor:
    shape = input._data.shape
    if dim is None:
        new = tuple(n for n in shape if n != 1)
    else:
        axes = {_dim(d, input._data.ndim) for d in ((dim,) if isinstance(dim, int) else dim)}
        new = tuple(n for i, n in enumerate(shape) if not (i in axes and n == 1))
    return S.Reshape.apply(input, new)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    ndim = input._data.ndim
    axis = _dim(dim, ndim + 1)
    shape = list(input._data.shape)
    shape.insert(axis, 1)
    return S.Reshape.apply(input, tuple(shape))


def permute(input: Tensor, *dims: Any) -> Tensor:
    dims = _shape_args(dims)
    ndim = input._data.ndim
    if len(dims) != ndim:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {ndim} is not equal "
            f"to len(dims) = {len(dims)}"
        )
    axes = tuple(_dim(d, ndim) for d in dims)
    if len(set(axes)) != ndim:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return S.Permute.apply(input, axes)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    ndim = input._data.ndim
    if ndim == 0:
        return input
    axes = list(range(ndim))
    a, b = _dim(dim0, ndim), _dim(dim1, ndim)
    axes[a], axes[b] = axes[b], axes[a]
    return S.Permute.apply(input, tuple(axes))


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    return transpose(input, 0, 1) if input._data.ndim == 2 else input


def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:
    ndim = input._data.ndim
    sources = [_dim(d, ndim) for d in ((source,) if isinstance(source, int) else source)]
    destinations = [_dim(d, ndim) for d in ((destination,) if isinstance(destination, int) else destination)]
    if len(sources) != len(destinations):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(sources)} dims) should "
            f"contain the same number of dims as destination ({list(destinations)} dims)"
        )
    order = [d for d in range(ndim) if d not in sources]
    for d, s in sorted(zip(destinations, sources)):
        order.insert(d, s)
    return S.Permute.apply(input, tuple(order))


moveaxis = movedim


def expand(input: Tensor, *sizes: Any) -> Tensor:
    sizes = _shape_args(sizes)
    shape = input._data.shape
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise RuntimeError(
            f"expand(torch.FloatTensor{{{list(shape)}}}, size={list(sizes)}): the number of sizes "
            f"provided ({len(sizes)}) must be greater or equal to the number of dimensions in the tensor ({len(shape)})"
        )
    target = []
    for i, n in enumerate(sizes):
        if i < lead:
            if n < 0:
                raise RuntimeError(f"expand: the expanded size {n} is not allowed in a leading, non-existing dimension {i}")
            target.append(n)
            continue
        current = shape[i - lead]
        if n == -1:
            n = current
        if current != n and current != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({n}) must match the existing size ({current}) at "
                f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: {list(shape)}"
            )
        target.append(n)
    return S.Expand.apply(input, tuple(target))


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, other._data.shape)


def broadcast_to(input: Tensor, shape: Sequence[int]) -> Tensor:
    return expand(input, tuple(shape))


def repeat(input: Tensor, *sizes: Any) -> Tensor:
    return S.Repeat.apply(input, _shape_args(sizes))


def tile(input: Tensor, dims: Sequence[int]) -> Tensor:
    dims = tuple(dims)
    if len(dims) < input._data.ndim:
        dims = (1,) * (input._data.ndim - len(dims)) + dims
    return S.Repeat.apply(input, dims)


def flip(input: Tensor, *dims: Any) -> Tensor:
    dims = _shape_args(dims)
    return S.Flip.apply(input, tuple(_dim(d, input._data.ndim) for d in dims))


def narrow(input: Tensor, dim: int, start: Any, length: int) -> Tensor:
    axis = _dim(dim, input._data.ndim)
    start = int(start)
    size = input._data.shape[axis]
    if start < 0:
        start += size
    if not 0 <= start <= size or length < 0 or start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    index = (slice(None),) * axis + (slice(start, start + length),)
    return S.Index.apply(input, index)


def select(input: Tensor, dim: int, index: int) -> Tensor:
    axis = _dim(dim, input._data.ndim)
    return S.Index.apply(input, (slice(None),) * axis + (int(index),))


def _index_array(index: Any, name: str) -> np.ndarray:
    data = index._data if isinstance(index, Tensor) else np.asarray(index)
    if data.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")
    return data


def gather(input: Tensor, dim: int, index: Any) -> Tensor:
    index = _index_array(index, "gather")
    if index.ndim != input._data.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    return S.Gather.apply(input, _dim(dim, input._data.ndim), index)


def scatter_add(input: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:
    index = _index_array(index, "scatter_add")
    return S.ScatterAdd.apply(input, _dim(dim, input._data.ndim), index, src)


def index_select(input: Tensor, dim: int, index: Any) -> Tensor:
    index = _index_array(index, "index_select")
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    return S.IndexSelect.apply(input, _dim(dim, input._data.ndim), index.reshape(-1))


def masked_fill(input: Tensor, mask: Any, value: Any) -> Tensor:
    mask = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if mask.dtype != np.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {mask.dtype}")
    if isinstance(value, Tensor) and value._data.ndim != 0:
        raise RuntimeError(
            f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with {value._data.ndim} dimension(s)."
        )
    if not isinstance(value, Tensor):
        value = np.asarray(value, dtype=input._data.dtype)
    return E.Where.apply(mask, value, input)


def _tensors(tensors: Any, name: str) -> list:
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{name}(): expected a non-empty list of Tensors")
    return [_t(x) for x in tensors]


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    if not list(tensors):
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    tensors = _tensors(tensors, "cat")
    # PyTorch skips 1-D empty tensors in cat.
    kept = [x for x in tensors if not (x._data.ndim == 1 and x._data.shape[0] == 0)] or tensors[:1]
    axis = _dim(dim, kept[0]._data.ndim)
    reference = kept[0]._data.shape
    for i, x in enumerate(kept):
        shape = x._data.shape
        if len(shape) != len(reference):
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {len(reference)} and {len(shape)}"
            )
        for d, (a, b) in enumerate(zip(shape, reference)):
            if d != axis and a != b:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {axis}. Expected size "
                    f"{b} but got size {a} for tensor number {i} in the list."
                )
    return S.Cat.apply(*kept, axis=axis)


concat = concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    tensors = _tensors(tensors, "stack")
    shape = tensors[0]._data.shape
    for i, x in enumerate(tensors):
        if x._data.shape != shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 "
                f"and {list(x._data.shape)} at entry {i}"
            )
    return S.Stack.apply(*tensors, axis=_dim(dim, len(shape) + 1))


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    tensors = _tensors(tensors, "hstack")
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    return cat([x if x._data.ndim > 1 else reshape(x, (1, -1)) for x in _tensors(tensors, "vstack")], 0)


def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple:
    axis = _dim(dim, tensor._data.ndim)
    size = tensor._data.shape[axis]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and size:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
        sections = [builtins.min(step, size - start) for start in range(0, size, step)] if size else [0]
    else:
        sections = list(split_size_or_sections)
        if builtins.sum(sections) != size:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size at "
                f"dimension {dim}), but got split_sizes={sections}"
            )
    out = []
    start = 0
    for length in sections:
        out.append(narrow(tensor, axis, start, length))
        start += length
    return tuple(out)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    size = input._data.shape[_dim(dim, input._data.ndim)]
    step = -(-size // chunks) if size else 1
    return split(input, step, dim)


def unbind(input: Tensor, dim: int = 0) -> tuple:
    axis = _dim(dim, input._data.ndim)
    return tuple(select(input, axis, i) for i in range(input._data.shape[axis]))


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    if input._data.ndim == 1:
        n = input._data.shape[0] + builtins.abs(diagonal)
        rows = np.arange(input._data.shape[0]) + builtins.max(-diagonal, 0)
        cols = np.arange(input._data.shape[0]) + builtins.max(diagonal, 0)
        return S.IndexAddInto.apply(input, (n, n), (rows, cols))
    rows, cols = np.nonzero(np.eye(*input._data.shape, k=diagonal, dtype=bool))
    return S.Index.apply(input, (rows, cols))


def trace(input: Tensor) -> Tensor:
    return R.Sum.apply(diag(input), None, False)


def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:
    return input.clone()


def numel(input: Tensor) -> int:
    return input.numel()


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    return input.is_floating_point()


def detach(input: Tensor) -> Tensor:
    return input.detach()


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    axis = _dim(dim, input._data.ndim)
    order = np.argsort(-input._data if descending else input._data, axis=axis, kind="stable")
    return values_indices(gather(input, axis, order), _make(order.astype(np.int64), None, False))


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    return sort(input, dim, descending, stable).indices


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
    values, indices = sort(input, dim, descending=largest)
    return values_indices(narrow(values, dim, 0, k), narrow(indices, dim, 0, k))


def einsum(equation: str, *operands: Any) -> Tensor:
    """einsum for two operands or one, through products and sums of the ops above."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    from .ops.einsum import einsum as _einsum

    return _einsum(equation, *operands)


_METHODS = (
    "add", "sub", "mul", "div", "pow", "neg", "abs", "sign", "exp", "log", "log2", "log10",
    "log1p", "expm1", "sqrt", "rsqrt", "square", "reciprocal", "sin", "cos", "tan", "tanh",
    "sigmoid", "relu", "clamp", "clip", "clamp_min", "clamp_max", "maximum", "minimum", "lerp",
    "atan2", "floor", "ceil", "trunc", "round", "isnan", "isinf", "isfinite", "eq", "ne", "lt",
    "le", "gt", "ge", "logical_and", "logical_or", "logical_xor", "logical_not", "isclose",
    "allclose", "equal", "any", "all", "count_nonzero", "nonzero", "sum", "mean", "prod", "var",
    "std", "amax", "amin", "max", "min", "argmax", "argmin", "logsumexp", "norm", "cumsum",
    "softmax", "log_softmax", "matmul", "mm", "bmm", "mv", "dot", "outer", "reshape", "view",
    "view_as", "reshape_as", "flatten", "unflatten", "squeeze", "unsqueeze", "permute",
    "transpose", "swapaxes", "t", "movedim", "expand", "expand_as", "broadcast_to", "repeat",
    "tile", "flip", "narrow", "select", "gather", "scatter_add", "index_select", "masked_fill",
    "split", "chunk", "unbind", "diag", "trace", "sort", "argsort", "topk", "floor_divide",
    "remainder", "divide", "multiply", "subtract", "true_divide", "negative", "absolute",
    "greater", "less", "greater_equal", "less_equal", "not_equal", "var_mean", "std_mean",
)

for _name in _METHODS:
    setattr(Tensor, _name, globals()[_name])
del _name
