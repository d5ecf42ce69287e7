"""The functional forms (``chainrule.exp(x)`` ...): argument handling in PyTorch's
spellings, then one call into ``ops/``.  Each is registered once (``@public``, see
``chainrule.registry``): Tensor methods, in-place and out= forms and the create_graph
namespace entries are made from those rows by ``chainrule.tensor_methods``.  The plain unary
ufuncs (exp, log, tanh ...) are made from their rows of ``ops.elementwise.UNARY``."""
from __future__ import annotations

import builtins
import functools
import warnings
from typing import Any, Callable, Sequence

import numpy as np

from . import dtypes, upcalls
from .amp import lower_precision
from .autograd import observe
from .autograd.function import broadcast_shape, named
from .backend import build_on, get_array_module, resolve_device
from .inplace import clamp_kernel, ufunc_kernel
from .ops import bessel as BESSEL
from .ops import elementwise as E
from .ops import linalg as L
from .ops import nn as N
from .ops import reduction as R
from .ops import shape as S
from .ops.einsum import einsum as _einsum
from .registry import ROWS, public
from .return_types import structseq
from .tensor import Tensor, _dim, _make

_STRIDED = dtypes.strided  # (a sparse operand's layout is another: chainrule.sparse multiplies it)
#: The (values, indices) pairs these functions return, under PyTorch's names.
EXTREMES = {"max": structseq("max", ["values", "indices"]), "min": structseq("min", ["values", "indices"])}
median_result = structseq("median", ["values", "indices"])
kthvalue_result = structseq("kthvalue", ["values", "indices"])
sort_result = structseq("sort", ["values", "indices"])
topk_result = structseq("topk", ["values", "indices"])


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else _make(np.asarray(x))


def _coerce(tensor: Tensor, other: Any) -> Any:
    """The second operand of arithmetic with ``tensor``: Python scalars stay scalars (weakly
    typed, as in PyTorch; the ops promote dtypes as PyTorch does, see
    ``ops.elementwise.promote``), arrays and lists become tensors."""
    kind = other.__class__
    if kind is bool:
        return int(other) if tensor._data.dtype.kind != "b" else other
    if kind is int or kind is float or kind is Tensor:
        return other
    if isinstance(other, Tensor):
        return other
    if isinstance(other, np.ndarray):
        return _make(other)
    if isinstance(other, np.generic):
        return other.item()
    if isinstance(other, (list, tuple)):
        return _make(np.asarray(other, dtype=tensor._data.dtype if tensor._data.dtype.kind == "f" else None))
    return other


def _shape_args(args: tuple, keyword: Any = None, name: str = "shape") -> tuple:
    """A shape given as ``f(2, 3)``, ``f((2, 3))`` or by its keyword ``f(shape=(2, 3))``."""
    if keyword is not None:
        if args:
            raise TypeError(f"got multiple values for argument '{name}'")
        args = tuple(keyword) if isinstance(keyword, (tuple, list)) else (keyword,)
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    return tuple(int(a) for a in args)


# -- elementwise ------------------------------------------------------------------------


def _unary_form(row: E.UnaryRow) -> Callable:
    """The functional form of one row of ``ops.elementwise.UNARY``."""
    op = getattr(E, row.name.capitalize())

    def form(input: Tensor) -> Tensor:
        return op.apply(input)

    form.__name__ = form.__qualname__ = row.name
    form.__doc__ = f"``{row.name}`` of each element ({row.formula})."
    return form


#: Aliases of the table's forms, by PyTorch's other spellings.
_UNARY_ALIASES = {"neg": ("negative",), "abs": ("absolute",), "asin": ("arcsin",), "acos": ("arccos",),
                  "atan": ("arctan",), "asinh": ("arcsinh",), "acosh": ("arccosh",), "atanh": ("arctanh",)}
#: The table's forms backward formulas use under create_graph (``xp.exp`` ...).
_UNARY_XP = {"exp", "log", "sqrt", "sin", "cos", "tanh", "sign", "abs"}

for _row in E.UNARY:
    globals()[_row.name] = public(inplace=True, out=True, aliases=_UNARY_ALIASES.get(_row.name, ()),
                                  xp=_row.name if _row.name in _UNARY_XP else None)(_unary_form(_row))


@public(inplace=True, out=True, kernel=ufunc_kernel(np.add))
def add(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    input = _t(input)
    if alpha != 1:
        other = other * alpha
    return E.Add.apply(input, _coerce(input, other))


@public(inplace=True, out=True, aliases=("subtract",), kernel=ufunc_kernel(np.subtract))
def sub(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    input = _t(input)
    if alpha != 1:
        other = other * alpha
    return E.Sub.apply(input, _coerce(input, other))


@public(inplace=True, out=True, aliases=("multiply",), kernel=ufunc_kernel(np.multiply))
def mul(input: Any, other: Any) -> Tensor:
    input = _t(input)
    return E.Mul.apply(input, _coerce(input, other))


@public(inplace=True, out=True, aliases=("divide", "true_divide"), kernel=ufunc_kernel(np.true_divide))
def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    input = _t(input)
    if rounding_mode is None:
        return E.Div.apply(input, _coerce(input, other))
    if rounding_mode in ("floor", "trunc"):
        return E.DivRounding.apply(input, _coerce(input, other), rounding_mode)
    raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")


@public(inplace=True, out=True, kernel=ufunc_kernel(np.power))
def pow(input: Any, exponent: Any) -> Tensor:
    if not isinstance(input, Tensor):
        exponent = _t(exponent)
        return named(E.Pow.apply(_coerce(exponent, input), exponent), "PowBackward2", (1,))
    if type(exponent) is float or type(exponent) is int:
        return E.PowScalar.apply(input, exponent)
    return E.Pow.apply(input, _coerce(input, exponent))


@public(inplace=True, out=True)
def floor_divide(input: Any, other: Any) -> Tensor:
    return E.FloorDivide.apply(_t(input), other)


@public(inplace=True, out=True)
def remainder(input: Any, other: Any) -> Tensor:
    return E.Remainder.apply(_t(input), other)


@public(inplace=True, out=True)
def frac(input: Tensor) -> Tensor:
    """The fractional part of each element, with its sign: ``input - trunc(input)``."""
    return E.Frac.apply(input)


@public(inplace=True, out=True)
def rsqrt(input: Tensor) -> Tensor:
    return E.Rsqrt.apply(input)


@public(inplace=True, out=True)
def square(input: Tensor) -> Tensor:
    return E.Square.apply(input)


@public(inplace=True, out=True)
def reciprocal(input: Tensor) -> Tensor:
    return E.Reciprocal.apply(input)


@public(inplace=True, out=True)
def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-x)), computed without overflow."""
    return E.Sigmoid.apply(input)


@public(inplace=True)
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0) (``inplace``: written into ``input``, as ``F.relu(x, inplace=True)``)."""
    return input.relu_() if inplace else E.Relu.apply(input)


@public(inplace=True, out=True, aliases=("arctan2",))
def atan2(input: Tensor, other: Any) -> Tensor:
    return E.Atan2.apply(input, other)


@public(inplace=True, out=True, aliases=("clip",), kernel=clamp_kernel)
def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    return E.Clamp.apply(input, min, max)


@public(inplace=True)
def clamp_min(input: Tensor, min: Any) -> Tensor:
    return E.Clamp.apply(input, min, None)


@public(inplace=True)
def clamp_max(input: Tensor, max: Any) -> Tensor:
    return E.Clamp.apply(input, None, max)


@public(out=True, xp="maximum")
def maximum(input: Tensor, other: Tensor) -> Tensor:
    return E.Maximum.apply(input, other)


@public(out=True, xp="minimum")
def minimum(input: Tensor, other: Tensor) -> Tensor:
    return E.Minimum.apply(input, other)


@public(inplace=True, out=True)
def erf(input: Tensor) -> Tensor:
    return N.Erf.apply(input if input.is_floating_point() else input.float())


@public(inplace=True, out=True)
def erfc(input: Tensor) -> Tensor:
    """The complementary error function ``1 - erf(x)``, accurate where erf(x) is near 1."""
    return N.Erfc.apply(input if input.is_floating_point() else input.float())


@public(inplace=True, out=True)
def i0(input: Tensor) -> Tensor:
    """The modified Bessel function of the first kind of order 0."""
    return BESSEL.I0.apply(input if input.is_floating_point() else input.float())


@public(inplace=True, out=True)
def erfinv(input: Tensor) -> Tensor:
    """The inverse of erf on (-1, 1) (+-inf at +-1, NaN outside)."""
    return N.Erfinv.apply(input if input.is_floating_point() else input.float())




@public(inplace=True, out=True)
def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """log(p / (1 - p)), with p clamped to [eps, 1 - eps] when ``eps`` is given."""
    if eps is not None:
        input = clamp(input, eps, 1 - eps)
    return log(input) - log1p(-input)


@public(inplace=True, out=True)
def hypot(input: Tensor, other: Tensor) -> Tensor:
    return sqrt(input * input + other * other)


@public(inplace=True, out=True)
def fmod(input: Any, other: Any) -> Tensor:
    """The remainder of the division with the sign of ``input`` (C's fmod)."""
    input = _t(input)
    return E.Fmod.apply(input, _coerce(input, other))


@public(out=True)
def logaddexp(input: Tensor, other: Tensor) -> Tensor:
    """log(exp(input) + exp(other)) without overflow (equal infinities give themselves)."""
    same = input == other  # (equal infinities: inf - inf would be NaN; their difference is 0)
    difference = where(same, 0.0, input) - where(same, 0.0, other)
    return maximum(input, other) + log1p(exp(-abs(difference)))


@public(inplace=True, out=True)
def xlogy(input: Any, other: Any) -> Tensor:
    """input * log(other), and 0 where input is 0 (unless other is NaN)."""
    if not isinstance(input, Tensor):
        other = _t(other)
        return E.Xlogy.apply(_coerce(other, input), other)
    return E.Xlogy.apply(input, _coerce(input, other))


@public(inplace=True, out=True)
def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    """NaN, +inf and -inf replaced (by 0 and the dtype's largest and lowest finite values,
    unless told otherwise); the gradient is 1 elsewhere and 0 at the replaced elements."""
    data = input._data
    if data.dtype.kind != "f":
        return input.clone()
    info = np.finfo(data.dtype)
    xp = get_array_module(data)
    out = input
    # Each replacement through ops, whether or not this call has such values: a compiled plan
    # replays the ops of its first calls, and must replace what a later call brings.
    for mask, value in ((isnan(input), nan), (input == float("inf"), info.max if posinf is None else posinf),
                        (input == float("-inf"), info.min if neginf is None else neginf)):
        out = E.Where.apply(mask._data, xp.asarray(value, dtype=data.dtype), out)
    return out


@public(method=False, out=True)
def where(condition: Any, input: Any = None, other: Any = None) -> Any:
    condition_data = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if input is None and other is None:
        _reads(condition, "where(condition) (a result whose shape depends on the values)")
        return tuple(_make(i.astype(np.int64)) for i in np.nonzero(condition_data))
    if condition_data.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype {_t(condition).dtype.scalar_name}")
    return E.Where.apply(condition_data, input, other)


@public(inplace=True)
def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """``input + value * tensor1 * tensor2``."""
    product = tensor1 * tensor2
    return input + (product if value == 1 else product * value)


@public(inplace=True)
def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """``input + value * tensor1 / tensor2``."""
    quotient = tensor1 / tensor2
    return input + (quotient if value == 1 else quotient * value)


@public(inplace=True, out=True)
def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    return E.Lerp.apply(input, end, weight)


def _nondifferentiable(ufunc: Any, name: str) -> Any:
    def op(input: Tensor) -> Tensor:
        return E.NoGradientUfunc.apply(_t(input), ufunc)

    op.__name__ = name
    op.__doc__ = f"{name} (piecewise constant: no gradient flows through it)."
    return op


@public(inplace=True, out=True)
def floor(input: Tensor) -> Tensor:
    return E.Rounding.apply(input, np.floor)


@public(inplace=True, out=True)
def ceil(input: Tensor) -> Tensor:
    return E.Rounding.apply(input, np.ceil)


@public(inplace=True, out=True)
def trunc(input: Tensor) -> Tensor:
    return E.Rounding.apply(input, np.trunc)


isnan = public(name="isnan")(_nondifferentiable(np.isnan, "isnan"))
isinf = public(name="isinf")(_nondifferentiable(np.isinf, "isinf"))
isfinite = public(name="isfinite")(_nondifferentiable(np.isfinite, "isfinite"))


@public(inplace=True, out=True)
def round(input: Tensor, *, decimals: int = 0) -> Tensor:
    return E.Rounding.apply(input, np.round, decimals)


def _comparison(ufunc: Any) -> Any:
    def op(input: Any, other: Any) -> Tensor:
        input = _t(input)
        return E.Compare.apply(input, _coerce(input, other), ufunc=ufunc)

    op.__name__ = ufunc.__name__
    return op


eq = public(out=True, name="eq")(_comparison(np.equal))
ne = public(out=True, aliases=("not_equal",), name="ne")(_comparison(np.not_equal))
lt = public(out=True, aliases=("less",), name="lt")(_comparison(np.less))
le = public(out=True, aliases=("less_equal",), name="le")(_comparison(np.less_equal))
gt = public(out=True, aliases=("greater",), name="gt")(_comparison(np.greater))
ge = public(out=True, aliases=("greater_equal",), name="ge")(_comparison(np.greater_equal))
logical_and = public(out=True, name="logical_and")(_comparison(np.logical_and))
logical_or = public(out=True, name="logical_or")(_comparison(np.logical_or))
logical_xor = public(out=True, name="logical_xor")(_comparison(np.logical_xor))


def _reads(tensor: Any, how: str) -> None:
    """``how`` computes a result from ``tensor``'s values outside the ops (a shape or a Python
    value that depends on them): a graph capture must stop there (chainrule.compiler), as it
    stops at ``.item()``, or it would replay the first result for every call."""
    if observe.read and isinstance(tensor, Tensor):
        observe.notify_read(tensor, how)


@public(inplace=True, out=True)
def logical_not(input: Tensor) -> Tensor:
    return E.LogicalNot.apply(input)


@public()
def isclose(input: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    _reads(input, "isclose()")
    return _make(np.isclose(input._data, _t(other)._data, rtol, atol, equal_nan))


@public()
def allclose(input: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    _reads(input, "allclose()")
    return builtins.bool(np.allclose(input._data, _t(other)._data, rtol, atol, equal_nan))


@public()
def equal(input: Tensor, other: Tensor) -> bool:
    _reads(input, "equal()")
    return input._data.shape == other._data.shape and builtins.bool((input._data == other._data).all())


@public()
def any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return R.Truth.apply(input, "any", R.normalize_axis(dim, input._data.ndim), keepdim)


@public()
def all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return R.Truth.apply(input, "all", R.normalize_axis(dim, input._data.ndim), keepdim)


@public()
def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:
    # Through ops (a comparison and an integer sum), so that a compiled plan counts again.
    return sum(input != 0, dim)


@public()
def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:
    _reads(input, "nonzero() (a result whose shape depends on the values)")
    indices = np.nonzero(input._data)
    if as_tuple:
        return tuple(_make(i.astype(np.int64)) for i in indices)
    return _make(np.stack(indices, axis=1).astype(np.int64))


# -- reductions ----------------------------------------------------------------------------


def _reduce_args(input: Tensor, dim: Any, keepdim: bool, kwargs: dict) -> tuple:
    if "axis" in kwargs:
        dim = kwargs.pop("axis")
    if "keepdims" in kwargs:
        keepdim = kwargs.pop("keepdims")
    return R.normalize_axis(dim, input._data.ndim), builtins.bool(keepdim)


@public(out=True)
def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, **kwargs: Any) -> Tensor:
    axis, keepdim = _reduce_args(input, dim, keepdim, kwargs)
    if dtype is not None:
        input = input.to(dtype)
    return R.Sum.apply(input, axis, keepdim)


@public(out=True)
def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, **kwargs: Any) -> Tensor:
    axis, keepdim = _reduce_args(input, dim, keepdim, kwargs)
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind not in "fcV":
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {input.dtype.scalar_name}"
        )
    return R.Mean.apply(input, axis, keepdim)


@public(out=True)
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


@public(out=True)
def var(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = None) -> Tensor:
    if isinstance(dim, builtins.bool):
        dim, unbiased = None, dim
    if input.is_complex():  # the mean squared distance |z - mean|^2: the parts' variances summed
        return add(var(input.real, dim, unbiased, keepdim, correction=correction),
                   var(input.imag, dim, unbiased, keepdim, correction=correction))
    axis = R.normalize_axis(dim, input._data.ndim)
    return R.Var.apply(input, axis, builtins.bool(keepdim), _correction(unbiased, correction))


@public(out=True)
def std(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = None) -> Tensor:
    if isinstance(dim, builtins.bool):
        dim, unbiased = None, dim
    if input.is_complex():
        return sqrt(var(input, dim, unbiased, keepdim, correction=correction))
    axis = R.normalize_axis(dim, input._data.ndim)
    return R.Std.apply(input, axis, builtins.bool(keepdim), _correction(unbiased, correction))


@public()
def var_mean(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = None) -> tuple:
    _check_floating(input, "var_mean")
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


@public()
def std_mean(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = None) -> tuple:
    _check_floating(input, "std_mean")
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def _check_floating(input: Tensor, name: str) -> None:
    if input._data.dtype.kind not in "fcV":
        raise RuntimeError(f"{name} only support floating point and complex dtypes")


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


@public(out=True)
def amax(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    axis = R.normalize_axis(dim, input._data.ndim)
    _check_nonempty(input, axis, "amax")
    return R.Amax.apply(input, axis, keepdim, True)


@public(out=True)
def amin(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    axis = R.normalize_axis(dim, input._data.ndim)
    _check_nonempty(input, axis, "amin")
    return named(R.Amax.apply(input, axis, keepdim, False), "AminBackward0")


def _extreme(input: Tensor, dim: Any, keepdim: bool, largest: bool, name: str) -> Any:
    if isinstance(dim, Tensor):
        return maximum(input, dim) if largest else minimum(input, dim)
    if dim is None:
        if input._data.size == 0:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                f"Specify the reduction dim with the 'dim' argument."
            )
        return named(R.Amax.apply(input, None, False, largest), "MaxBackward1" if largest else "MinBackward1")
    axis = _dim(dim, input._data.ndim)
    if input._data.ndim == 0:
        return EXTREMES[name](input.clone(), _make(get_array_module(input._data).asarray(0, dtype=np.int64)))
    if input._data.shape[axis] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
    indices = R.Argmax.apply(input, axis, True, largest)
    values = S.Gather.apply(input, axis, indices._data)
    if not keepdim:
        values = squeeze(values, axis)
        indices = squeeze(indices, axis)
    return EXTREMES[name](named(values, "MaxBackward0" if largest else "MinBackward0"), indices)


@public(out=True)
def max(input: Tensor, dim: Any = None, keepdim: bool = False, *, other: Any = None) -> Any:
    if other is not None:
        return maximum(input, other)
    return _extreme(input, dim, keepdim, True, "max")


@public(out=True)
def min(input: Tensor, dim: Any = None, keepdim: bool = False, *, other: Any = None) -> Any:
    if other is not None:
        return minimum(input, other)
    return _extreme(input, dim, keepdim, False, "min")


@public(out=True)
def argmax(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    axis = None if dim is None else _dim(dim, input._data.ndim)
    _check_nonempty(input, None if axis is None else (axis,), "argmax", IndexError)
    return R.Argmax.apply(input, axis, keepdim, True)


@public(out=True)
def argmin(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    axis = None if dim is None else _dim(dim, input._data.ndim)
    _check_nonempty(input, None if axis is None else (axis,), "argmin", IndexError)
    return R.Argmax.apply(input, axis, keepdim, False)


@public(out=True)
def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    axis = R.normalize_axis(dim, input._data.ndim)
    out = R.LogSumExp.apply(input, axis)
    if not keepdim:
        out = named(out.reshape(tuple(n for i, n in enumerate(input._data.shape) if axis is not None and i not in axis)),
                    "LogsumexpBackward0")
    return out


@public(out=True)
def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind not in "fcV":
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as input. "
                           f"Got {dtypes.scalar_name(input._data.dtype)}")
    if p == "nuc":  # (the sum of the singular values: linalg's, over two dims)
        return upcalls.linalg().matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim)
    if input.is_complex():  # a norm of complex numbers is that of their magnitudes
        input = abs(input)
    axis = R.normalize_axis(dim, input._data.ndim)
    if p in ("fro", 2, 2.0, None):
        return R.Norm2.apply(input, axis, keepdim)
    if p in (float("inf"), "inf"):
        return amax(abs(input), () if axis is None else axis, keepdim)
    if p in (float("-inf"), "-inf"):
        return amin(abs(input), () if axis is None else axis, keepdim)
    if p == 1:
        return R.Sum.apply(abs(input), axis, keepdim)
    if p == 0:  # the count of nonzeros, in the input's dtype, with a zero gradient
        return R.Sum.apply(sign(abs(input)), axis, keepdim)
    return R.PNorm.apply(input, float(p), axis, keepdim)


@public(inplace=True, out=True)
def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    if dtype is not None:
        input = input.to(dtype)
    return R.Cumprod.apply(input, _dim(dim, input._data.ndim))


@public(inplace=True, out=True)
def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    if dtype is not None:
        input = input.to(dtype)
    return R.Cumsum.apply(input, _dim(dim, input._data.ndim))


@public()
def softmax(input: Tensor, dim: int | None = None, _stacklevel: Any = 3, dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim`` (``F.softmax``'s implicit dim, with its warning, when
    omitted; ``torch.softmax(x, dim, dtype)``'s third argument is the dtype)."""
    dtype, dim = _softmax_args("softmax", input, dim, _stacklevel, dtype)
    if dtype is not None:
        input = input.to(dtype)
    return N.Softmax.apply(input, _dim(dim, input._data.ndim))


def _softmax_args(name: str, input: Tensor, dim: Any, stacklevel: Any, dtype: Any) -> tuple:
    if not isinstance(stacklevel, int):
        dtype, stacklevel = stacklevel, 3
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
                      f"dim=X as an argument.", stacklevel=stacklevel + 1)
        dim = 0 if input.ndim in (0, 1, 3) else 1
    return dtype, dim


@public()
def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: Any = 3, dtype: Any = None) -> Tensor:
    """x - logsumexp(x) along ``dim``, computed in one pass (see :func:`softmax` for ``dim``)."""
    dtype, dim = _softmax_args("log_softmax", input, dim, _stacklevel, dtype)
    if dtype is not None:
        input = input.to(dtype)
    return N.LogSoftmax.apply(input, _dim(dim, input._data.ndim))


# -- matrix products ---------------------------------------------------------------------


@public(out=True)
def matmul(input: Tensor, other: Tensor) -> Tensor:
    if input.layout is not _STRIDED or other.layout is not _STRIDED:  # a sparse operand multiplies itself
        return input.matmul(other) if input.layout is not _STRIDED else other.__rmatmul__(input)
    return L.Matmul.apply(*lower_precision(input, other))


@public(out=True)
def mm(input: Tensor, mat2: Tensor) -> Tensor:
    if input.layout is not _STRIDED or mat2.layout is not _STRIDED:  # a sparse operand multiplies itself
        return input.mm(mat2) if input.layout is not _STRIDED else mat2.__rmatmul__(input)
    if input._data.ndim != 2 or mat2._data.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {input._data.ndim}-D and {mat2._data.ndim}-D")
    return L.Matmul.apply(*lower_precision(input, mat2))


@public(out=True)
def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    if input._data.ndim != 3 or mat2._data.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor (got {input._data.ndim}-D and {mat2._data.ndim}-D)")
    if input._data.shape[0] != mat2._data.shape[0]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{input._data.shape[0]}, "
            f"{input._data.shape[2]}] but got: [{mat2._data.shape[0]}, {mat2._data.shape[1]}]."
        )
    return named(L.Matmul.apply(*lower_precision(input, mat2)), "BmmBackward0")


@public(out=True)
def mv(input: Tensor, vec: Tensor) -> Tensor:
    if input.layout is not _STRIDED:  # a sparse matrix multiplies itself (chainrule.sparse)
        return input.matmul(vec)
    return L.Matmul.apply(input, vec)


@public(out=True)
def dot(input: Tensor, tensor: Tensor) -> Tensor:
    if input._data.ndim != 1 or tensor._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and {tensor._data.ndim}D tensors")
    return L.Matmul.apply(input, tensor)


@public(out=True, aliases=("ger",))
def outer(input: Tensor, vec2: Tensor) -> Tensor:
    return named(L.Matmul.apply(reshape(input, (-1, 1)), reshape(vec2, (1, -1))), "MulBackward0")


# -- shape -----------------------------------------------------------------------------------


@public()
def reshape(input: Tensor, *sizes: Any, shape: Any = None) -> Tensor:
    shape = _shape_args(sizes, shape)
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


@public()
def view(input: Tensor, *shape: Any, size: Any = None, dtype: Any = None) -> Tensor:
    if dtype is not None:
        shape = (dtype,)
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list, np.integer)):
        return _make(input._data.view(dtypes.to_numpy(shape[0])))
    result = reshape(input, _shape_args(shape, size, "size"))
    S.require_view(input._data, result._data, own_layout=getattr(input, "_view_of", None) is None)
    return result


@public()
def view_as(input: Tensor, other: Tensor) -> Tensor:
    return view(input, other._data.shape)


@public()
def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    return reshape(input, other._data.shape)


@public()
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


@public()
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


@public()
def squeeze(input: Tensor, dim: Any = None) -> Tensor:
    shape = input._data.shape
    if dim is None:
        new = tuple(n for n in shape if n != 1)
    else:
        axes = {_dim(d, input._data.ndim) for d in ((dim,) if isinstance(dim, int) else dim)}
        new = tuple(n for i, n in enumerate(shape) if not (i in axes and n == 1))
    variant = "0" if dim is None else "1" if isinstance(dim, int) else "2"
    return named(S.Reshape.apply(input, new), "SqueezeBackward" + variant)


@public()
def unsqueeze(input: Tensor, dim: int) -> Tensor:
    ndim = input._data.ndim
    axis = _dim(dim, ndim + 1)
    shape = list(input._data.shape)
    shape.insert(axis, 1)
    return named(S.Reshape.apply(input, tuple(shape)), "UnsqueezeBackward0")


@public()
def permute(input: Tensor, *order: Any, dims: Any = None) -> Tensor:
    dims = _shape_args(order, dims, "dims")
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


@public(aliases=("swapaxes", "swapdims"))
def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    if input.is_sparse:  # a sparse tensor transposes itself (chainrule.sparse)
        return input.transpose(dim0, dim1)
    ndim = input._data.ndim
    if ndim == 0:
        return input
    axes = list(range(ndim))
    a, b = _dim(dim0, ndim), _dim(dim1, ndim)
    axes[a], axes[b] = axes[b], axes[a]
    return named(S.Permute.apply(input, tuple(axes)), "TransposeBackward0")


@public()
def t(input: Tensor) -> Tensor:
    if input.is_sparse:
        return input.t()
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    return named(transpose(input, 0, 1), "TBackward0") if input._data.ndim == 2 else input


@public(aliases=("moveaxis",))
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


@public()
def expand(input: Tensor, *sizes: Any, size: Any = None) -> Tensor:
    sizes = _shape_args(sizes, size, "size")
    shape = input._data.shape
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise S.expand_error(shape, sizes, input._data.dtype)
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
            raise S.expand_error(shape, sizes, input._data.dtype)
        target.append(n)
    return S.Expand.apply(input, tuple(target))


@public()
def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, other._data.shape)


@public()
def broadcast_to(input: Tensor, shape: Sequence[int]) -> Tensor:
    return expand(input, tuple(shape))


@public()
def repeat(input: Tensor, *sizes: Any, repeats: Any = None) -> Tensor:
    return S.Repeat.apply(input, _shape_args(sizes, repeats, "repeats"))


@public()
def tile(input: Tensor, *dims: Any, **kwargs: Any) -> Tensor:
    """``input`` repeated ``dims`` times per dim (``x.tile(2, 1)``, ``x.tile((2, 1))`` or
    ``torch.tile(x, dims=(2, 1))``)."""
    if "dims" in kwargs:
        dims = (kwargs.pop("dims"),)
    if kwargs:
        raise TypeError(f"tile() got an unexpected keyword argument '{next(iter(kwargs))}'")
    dims = _shape_args(dims)
    if len(dims) < input._data.ndim:
        dims = (1,) * (input._data.ndim - len(dims)) + dims
    return S.Repeat.apply(input, dims)


@public()
def flip(input: Tensor, *dims: Any, **kwargs: Any) -> Tensor:
    if "dims" in kwargs:  # torch.flip(x, dims=[0])
        dims = (kwargs.pop("dims"),)
    if kwargs:
        raise TypeError(f"flip() got an unexpected keyword argument '{next(iter(kwargs))}'")
    dims = _shape_args(dims)
    return S.Flip.apply(input, tuple(_dim(d, input._data.ndim) for d in dims))


@public()
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


@public()
def select(input: Tensor, dim: int, index: int) -> Tensor:
    axis = _dim(dim, input._data.ndim)
    return S.Index.apply(input, (slice(None),) * axis + (int(index),))


def _index_array(index: Any, name: str) -> np.ndarray:
    data = index._data if isinstance(index, Tensor) else np.asarray(index)
    if data.dtype != np.int64 and data.dtype != np.int32:
        raise RuntimeError(f"{name}(): Expected dtype int32{' or ' if name == 'index_select' else '/'}int64 for index")
    return data


def _scalar_as_vector(form: Callable) -> Callable:
    """``form`` (gather, scatter ...) on a 0-d tensor: PyTorch treats it, its index and its
    source as one-element vectors and gives a 0-d result."""

    @functools.wraps(form)
    def wrapper(input: Tensor, dim: int, index: Any, *args: Any, **kwargs: Any) -> Tensor:
        if input._data.ndim != 0:
            return form(input, dim, index, *args, **kwargs)
        _dim(dim, 1)  # (0 and -1 only)
        one = [reshape(a, (1,)) if isinstance(a, Tensor) and a._data.ndim == 0 else a for a in args]
        index = _t(index) if not isinstance(index, Tensor) else index
        return reshape(form(reshape(input, (1,)), 0, reshape(index, (-1,)), *one, **kwargs), ())

    return wrapper


@public(out=True)
@_scalar_as_vector
def gather(input: Tensor, dim: int, index: Any) -> Tensor:
    index = _index_array(index, "gather")
    if index.ndim != input._data.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    return S.Gather.apply(input, _dim(dim, input._data.ndim), index)


@public(inplace=True)
@_scalar_as_vector
def scatter_add(input: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:
    index = _index_array(index, "scatter_add")
    return S.ScatterAdd.apply(input, _dim(dim, input._data.ndim), index, src)


def _scatter_with(input: Tensor, dim: int, index: Any, src: Any, reduce: str) -> Tensor:
    if reduce not in ("add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    if isinstance(src, Tensor):
        warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated and will be removed in a "
                      "future PyTorch release. Use torch.scatter_reduce instead for more reduction options.",
                      UserWarning, stacklevel=3)
    else:
        src = _make(get_array_module(input._data).full(np.shape(_index_array(index, "scatter")), src,
                                                       dtype=input._data.dtype))
    return scatter_reduce(input, dim, index, src, "sum" if reduce == "add" else "prod")


@public(inplace=True)
@_scalar_as_vector
def scatter_reduce(input: Tensor, dim: int, index: Any, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """``src``'s values combined into a copy of ``input`` at ``index`` along ``dim`` by
    ``reduce`` ("sum", "prod", "mean", "amax", "amin"), ``input``'s own value included or
    not; where several are the extreme they share its gradient."""
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    index = _index_array(index, "scatter_reduce")
    src = _t(src)
    if index.ndim != input._data.ndim or src._data.ndim != index.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if src._data.dtype != input._data.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    if reduce == "mean" and input._data.dtype == np.bool_:
        raise NotImplementedError('"scatter_gather_tensor_cpu_reduce_mean" not implemented for \'Bool\'')
    axis = _dim(dim, input._data.ndim)
    for d in range(index.ndim):
        if index.shape[d] > src._data.shape[d] or (d != axis and index.shape[d] > input._data.shape[d]):
            raise RuntimeError(f"Expected index {list(index.shape)} to be no larger than self {list(input.shape)} "
                               f"apart from dimension {axis} and to be no larger size than src {list(src.shape)}")
    return S.ScatterReduce.apply(input, axis, index, src, reduce, include_self)


@public(inplace=True)
@_scalar_as_vector
def scatter(input: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None, reduce: str | None = None) -> Tensor:
    """``input`` with ``src`` (a tensor, or a single ``value``) written at ``index`` along
    ``dim``: ``out[i][index[i][j]] = src[i][j]`` for dim=1; ``reduce`` ("add" or "multiply",
    PyTorch's older spelling of ``scatter_reduce``) combines them with ``input``'s values."""
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter() missing 1 required positional argument: 'src' (or 'value')")
    if reduce is not None:
        return _scatter_with(input, dim, index, src, reduce)
    index = _index_array(index, "scatter")
    ndim = input._data.ndim
    if index.ndim != ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    axis = _dim(dim, ndim)
    if isinstance(src, Tensor):
        if src._data.dtype != input._data.dtype:
            raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
        if src._data.ndim != ndim or builtins.any(
                i > s or (d != axis and i > n)
                for d, (i, s, n) in enumerate(zip(index.shape, src._data.shape, input._data.shape))):
            raise RuntimeError(
                f"Expected index {list(index.shape)} to be no larger than self {list(input._data.shape)} apart "
                f"from dimension {axis} and to be no larger size than src {list(src._data.shape)}")
    else:
        src = get_array_module(input._data).asarray(src, dtype=input._data.dtype)
    return S.Scatter.apply(input, axis, index, src)


@public(out=True)
def index_select(input: Tensor, dim: int, index: Any) -> Tensor:
    index = _index_array(index, "index_select")
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if input._data.ndim == 0:  # one element, as a vector; the result 0-d, as PyTorch's
        _dim(dim, 1)
        return reshape(index_select(reshape(input, (1,)), 0, index), ())
    # (a 1-D index passes as it is: a view of it would hide from a compiled plan where it came from)
    return S.IndexSelect.apply(input, _dim(dim, input._data.ndim), index if index.ndim == 1 else index.reshape(-1))


@public(inplace=True)
def masked_fill(input: Tensor, mask: Any, value: Any) -> Tensor:
    mask = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if mask.dtype != np.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {dtypes.cpp_name(mask.dtype)}")
    if isinstance(value, Tensor) and value._data.ndim != 0:
        raise RuntimeError(
            f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with {value._data.ndim} dimension(s)."
        )
    if not isinstance(value, Tensor):
        value = get_array_module(input._data).asarray(value, dtype=input._data.dtype)
    if isinstance(value, Tensor):  # masked_fill.Tensor: the value is an input too
        return named(E.Where.apply(mask, value, input), "MaskedFillBackward1", (2, 1))
    return named(E.Where.apply(mask, value, input), "MaskedFillBackward0", (2,))


@public(out=True)
def masked_select(input: Tensor, mask: Any) -> Tensor:
    """The elements of ``input`` where ``mask`` (broadcast with it) is True, as a 1-D tensor."""
    mask = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if mask.dtype != np.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = broadcast_shape(mask.shape, input._data.shape)
    if input._data.shape != shape:
        input = expand(input, shape)
    return S.Index.apply(input, (np.broadcast_to(mask, shape),))


def _tensors(tensors: Any, name: str) -> list:
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{name}(): expected a non-empty list of Tensors")
    return [_t(x) for x in tensors]


@public(method=False, out=True, aliases=("concat", "concatenate"))
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


@public(method=False, out=True)
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


@public(method=False, out=True)
def hstack(tensors: Sequence[Tensor]) -> Tensor:
    tensors = _tensors(tensors, "hstack")
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


@public(method=False, out=True)
def vstack(tensors: Sequence[Tensor]) -> Tensor:
    return cat([x if x._data.ndim > 1 else reshape(x, (1, -1)) for x in _tensors(tensors, "vstack")], 0)


@public()
def split(tensor: Tensor, split_size_or_sections: Any = None, dim: int = 0, *, split_size: Any = None) -> tuple:
    """``tensor`` in pieces of ``split_size_or_sections`` along ``dim`` (``split_size`` is
    the Tensor method's name for it)."""
    if split_size is not None:
        if split_size_or_sections is not None:
            raise TypeError("split() got multiple values for argument 'split_size'")
        split_size_or_sections = split_size
    if split_size_or_sections is None:
        raise TypeError("split() missing 1 required positional argument: 'split_size_or_sections'")
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
    name = "SplitBackward0" if isinstance(split_size_or_sections, int) else "SplitWithSizesBackward0"
    out = []
    start = 0
    for length in sections:
        out.append(named(narrow(tensor, axis, start, length), name))
        start += length
    return tuple(out)


@public()
def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    size = input._data.shape[_dim(dim, input._data.ndim)]
    step = -(-size // chunks) if size else 1
    return split(input, step, dim)


@public()
def unbind(input: Tensor, dim: int = 0) -> tuple:
    axis = _dim(dim, input._data.ndim)
    return tuple(named(select(input, axis, i), "UnbindBackward0") for i in range(input._data.shape[axis]))


@public(out=True)
def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    if input._data.ndim == 1:
        n = input._data.shape[0] + builtins.abs(diagonal)
        rows = np.arange(input._data.shape[0]) + builtins.max(-diagonal, 0)
        cols = np.arange(input._data.shape[0]) + builtins.max(diagonal, 0)
        return S.IndexAddInto.apply(input, (n, n), (rows, cols))
    rows, cols = np.nonzero(np.eye(*input._data.shape, k=diagonal, dtype=bool))
    return S.Index.apply(input, (rows, cols))


@public()
def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of the (dim1, dim2) planes, as the last dim (``offset`` > 0: above it): a
    view, as PyTorch's (``x.diagonal().fill_(1)`` changes ``x``)."""
    ndim = input._data.ndim
    d1, d2 = _dim(dim1, ndim), _dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return S.Diagonal.apply(input, offset, d1, d2)


@public()
def repeat_interleave(input: Any, repeats: Any = None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Each element (each slice along ``dim``) repeated ``repeats`` times, in place:
    [a, b] -> [a, a, b, b]."""
    if repeats is None:  # torch.repeat_interleave(counts): indices repeated by their counts
        _reads(input, "repeat_interleave() (a result whose shape depends on the values)")
        counts = _t(input)._data
        return _make(np.repeat(np.arange(len(counts)), counts).astype(np.int64))
    if dim is None:
        input, dim = reshape(input, (-1,)), 0
    axis = _dim(dim, input._data.ndim)
    _reads(repeats, "repeat_interleave() (a result whose shape depends on the values)")
    counts = repeats._data if isinstance(repeats, Tensor) else np.asarray(repeats)
    size = input._data.shape[axis]
    if counts.ndim and counts.shape[0] != size:
        raise RuntimeError("repeats must have the same size as input along dim, but got repeats.size(0) = "
                           f"{counts.shape[0]} and input.size({axis}) = {size}")
    return S.Index.apply(input, (slice(None),) * axis + (np.repeat(np.arange(size), counts),))


@public()
def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Any = None, append: Any = None) -> Tensor:
    """The n-th forward difference along ``dim`` (``prepend``/``append`` joined first)."""
    parts = [x for x in (prepend, input, append) if x is not None]
    if len(parts) > 1:
        input = cat(parts, dim)
    axis = _dim(dim, input._data.ndim)
    for _ in range(n):
        size = input._data.shape[axis]
        if size == 0:
            break
        input = narrow(input, axis, 1, size - 1) - narrow(input, axis, 0, size - 1)
    return input


@public(method=False)
def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple:
    """Coordinate grids from 1-D tensors: ``indexing='ij'`` (matrix, the default) or 'xy'
    (Cartesian: the first two dims swapped)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in (None, "ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    sizes = [t.numel() for t in tensors]
    swap = indexing == "xy" and len(tensors) >= 2
    if swap:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    grids = []
    for i, t in enumerate(tensors):
        position = (1 - i if i < 2 else i) if swap else i
        shape = [1] * len(tensors)
        shape[position] = -1
        grids.append(expand(reshape(t, tuple(shape)), tuple(sizes)))
    return tuple(grids)


@public(method=False)
def broadcast_tensors(*tensors: Tensor) -> tuple:
    shape = broadcast_shape(*(t._data.shape for t in tensors))
    return tuple(t if t._data.shape == shape else expand(t, shape) for t in tensors)


@public()
def median(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """The lower median (the element at (n - 1) // 2 in sorted order), over all elements or
    along ``dim`` (then with its indices)."""
    if input._data.dtype.kind == "b":
        raise dtypes.not_implemented("median_cpu" if dim is None else "median_out", input._data.dtype)
    if dim is None:
        flat = reshape(input, (-1,))
        if flat._data.shape[0] == 0:
            return _make(get_array_module(input._data).asarray(np.nan, dtype=input._data.dtype))
        return R.Median.apply(input)
    axis = _dim(dim, input._data.ndim)
    values, indices = sort(input, axis)
    middle = (input._data.shape[axis] - 1) // 2
    values, indices = narrow(values, axis, middle, 1), narrow(indices, axis, middle, 1)
    if input._data.dtype.kind == "f":  # a slice with a NaN: its median is its first NaN, as PyTorch's
        missing = isnan(input)
        first_missing = argmax(missing.long(), axis, keepdim=True)
        indices = where(any(missing, axis, keepdim=True), first_missing, indices)
        values = gather(input, axis, indices)
    if not keepdim:
        values, indices = squeeze(values, axis), squeeze(indices, axis)
    return median_result(named(values, "MedianBackward1"), indices)


@public()
def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> Any:
    """The ``k``-th smallest element along ``dim`` (1-based), with its index."""
    if input._data.dtype.kind == "b":
        raise dtypes.not_implemented("kthvalue_cpu", input._data.dtype)
    if input._data.ndim == 0:
        if k != 1:
            raise RuntimeError("kthvalue(): selected number k out of range for dimension 0")
        return kthvalue_result(input.clone(), _make(get_array_module(input._data).asarray(0, dtype=np.int64)))
    axis = _dim(dim, input._data.ndim)
    if not 1 <= k <= input._data.shape[axis]:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {axis}")
    values, indices = sort(input, axis)
    values, indices = narrow(values, axis, k - 1, 1), narrow(indices, axis, k - 1, 1)
    if not keepdim:
        values, indices = squeeze(values, axis), squeeze(indices, axis)
    return kthvalue_result(named(values, "KthvalueBackward0"), indices)


@public()
def bincount(input: Tensor, weights: Any = None, minlength: int = 0) -> Tensor:
    """How often each non-negative integer occurs (or the sum of its ``weights``)."""
    _reads(input, "bincount() (a result whose shape depends on the values)")
    data = input._data
    if data.dtype.kind not in "iu":
        raise dtypes.not_implemented("bincount_cpu", data.dtype)
    if data.ndim != 1:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if data.size and data.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return _make(np.bincount(data, minlength=minlength).astype(np.int64))
    w = _t(weights)._data
    dtype = w.dtype if w.dtype.kind == "f" else np.float64
    return _make(np.bincount(data, weights=w, minlength=minlength).astype(dtype))


@public(method=False)
def searchsorted(sorted_sequence: Tensor, input: Any, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, sorter: Any = None) -> Tensor:
    """Where each value would be inserted to keep each (innermost) sorted row sorted."""
    side = side or ("right" if right else "left")
    values = _t(input)
    if sorted_sequence.ndim != 1 and tuple(sorted_sequence.shape[:-1]) != tuple(values.shape[:-1]):
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           "dimensions of boundaries tensor and input value tensor must match")
    if sorter is not None:
        sorted_sequence = gather(sorted_sequence, -1, sorter)
    return R.SearchSorted.apply(sorted_sequence, values, side, np.int32 if out_int32 else np.int64)


@public(method=False)
def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None) -> Tensor:
    """The (2, N) row and column indices of the upper triangle of a row x col matrix."""
    return _make(build_on(resolve_device(device), lambda xp: xp.stack(xp.triu_indices(row, offset, col)).astype(np.int64)))


@public(method=False)
def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None) -> Tensor:
    """The (2, N) row and column indices of the lower triangle of a row x col matrix."""
    return _make(build_on(resolve_device(device), lambda xp: xp.stack(xp.tril_indices(row, offset, col)).astype(np.int64)))


@public()
def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """Elements shifted along ``dims`` (wrapping around); without ``dims``, along the
    flattened tensor, then reshaped back."""
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return reshape(roll(reshape(input, (-1,)), shifts, 0), input._data.shape)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    out = input
    for shift, dim in zip(shifts, dims):
        axis = _dim(dim, input._data.ndim)
        size = input._data.shape[axis]
        if size:
            out = S.Index.apply(out, (slice(None),) * axis + (np.roll(np.arange(size), int(shift)),))
    return out


@public()
def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,
           dim: int | None = None) -> Any:
    """The distinct values (or slices along ``dim``), sorted; optionally where each element
    went (``inverse``) and how often each value occurs (``counts``). Not differentiable."""
    _reads(input, "unique() (a result whose shape depends on the values)")
    axis = None if dim is None else _dim(dim, input._data.ndim)
    values, inverse, counts = np.unique(input._data, return_inverse=True, return_counts=True, axis=axis)
    out = _make(values)
    if not (return_inverse or return_counts):
        return out
    result = (out,)
    if return_inverse:
        shape = input._data.shape if axis is None else (input._data.shape[axis],)
        result += (_make(inverse.reshape(shape).astype(np.int64)),)
    if return_counts:
        result += (_make(counts.astype(np.int64)),)
    return result


@public(method=False)
def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str | None = None) -> Tensor:
    """The p-norm distance between each row of ``x1`` (..., P, M) and each row of ``x2``
    (..., R, M): a (..., P, R) tensor."""
    for name, x in (("X1", x1), ("X2", x2)):
        if x._data.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {x._data.ndim}D")
    if x1._data.shape[-1] != x2._data.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1._data.shape[-1]} "
                           f"X2: {x2._data.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    return norm(unsqueeze(x1, -2) - unsqueeze(x2, -3), p, dim=-1)


@public(method=False)
def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """The cosine of the angle between ``x1`` and ``x2`` along ``dim`` (after broadcasting)."""
    shape = broadcast_shape(tuple(x1.shape), tuple(x2.shape))
    x1, x2 = expand(x1, shape), expand(x2, shape)
    n1 = clamp_min(norm(x1, 2, dim, keepdim=True), eps)
    n2 = clamp_min(norm(x2, 2, dim, keepdim=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


@public(method=False)
def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """The p-norm of ``x1 - x2 + eps`` along the last dim (of the one with more dims)."""
    return norm(x1 - x2 + eps, p, builtins.max(x1.ndim, x2.ndim) - 1, keepdim=keepdim)


def _triangle(input: Tensor, keep: Any, name: str) -> Tensor:
    if input._data.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    rows, cols = input._data.shape[-2:]
    xp = get_array_module(input._data)
    return E.Where.apply(keep(xp, xp.ones((rows, cols), dtype=bool)), input, xp.zeros((), dtype=input._data.dtype))


@public(inplace=True, out=True)
def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims (on and above ``diagonal``); zeros below."""
    return _triangle(input, lambda xp, ones: xp.triu(ones, diagonal), "triu")


@public(inplace=True, out=True)
def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (on and below ``diagonal``); zeros above."""
    return _triangle(input, lambda xp, ones: xp.tril(ones, diagonal), "tril")


@public()
def trace(input: Tensor) -> Tensor:
    return R.Sum.apply(diag(input), None, False)


@public(method=False)
def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:
    return input.clone()


@public(method=False)
def numel(input: Tensor) -> int:
    return input.numel()


@public(method=False)
def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


@public(method=False)
def is_floating_point(input: Tensor) -> bool:
    return input.is_floating_point()


@public(method=False)
def detach(input: Tensor) -> Tensor:
    return input.detach()


@public(out=True)
def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    axis = _dim(dim, input._data.ndim)
    order = R.Argsort.apply(input, axis, descending)
    return sort_result(gather(input, axis, order), order)


@public()
def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    return sort(input, dim, descending, stable).indices


@public(out=True)
def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
    """The ``k`` largest (or smallest) values along ``dim`` and their indices, PyTorch's CPU
    indices among equal values (``ops.reduction.TopkIndices``); with ``sorted=False`` the
    same elements, in sorted order (PyTorch's order is then its selection algorithm's)."""
    if input._data.dtype.kind == "b":
        raise RuntimeError("topk does not support bool dtypes on CPU")
    axis = _dim(dim, input._data.ndim)
    if not 0 <= k <= (input._data.shape[axis] if input._data.ndim else 1):
        raise RuntimeError("selected index k out of range")
    if input._data.ndim == 0:  # PyTorch gives the element itself for k = 0 and 1
        values, indices = topk(reshape(input, (1,)), 1, 0, largest, sorted)
        return topk_result(reshape(values, ()), reshape(indices, ()))
    indices = R.TopkIndices.apply(input, k, axis, largest, sorted)
    return topk_result(named(gather(input, axis, indices), "TopkBackward0"), indices)


@public(method=False)
def einsum(equation: Any, *operands: Any) -> Tensor:
    """Sums of products along the equation's subscripts (``"bij,bjk->bik"``, with ``...`` for
    broadcast dims), or in the sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])``."""
    if isinstance(equation, str) and len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return _einsum(equation, *operands)


# Aliases (``subtract`` of ``sub`` ...): the names their forms' rows list, bound to the same forms.
for _row in list(ROWS.values()):
    if _row.name not in globals():
        globals()[_row.name] = globals()[_row.primary]
del _row

__all__ = [name for name, row in ROWS.items() if row.function.__module__ == __name__]
