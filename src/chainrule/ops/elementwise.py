"""_Elementwise math: each op's forward and backward side by side.

Backward formulas are written against ``xp`` (NumPy, or the Tensor namespace when the
backward itself is recorded), so one formula serves first and higher-order gradients.
Broadcasting is undone in one place: :func:`sum_to_shape`.
"""
from __future__ import annotations

import math
import operator
from typing import Any, Callable, NamedTuple

import numpy as np

from ..autograd import observe
from ..autograd.function import Op, variant
from ..backend import DEVICE_ARRAY_TYPES as _device_types, device_of, get_array_module, to_device
from .. import numpy_errstate as fp_errors
from ..dtypes import cpp_name, get_default_dtype, not_implemented
from ..tensor import Tensor
from .namespace import plain
from .wirtinger import holomorphic, is_complex, is_complex_gradient

_ndarray = np.ndarray


def promote(a: Any, b: Any) -> tuple:
    """Two operands cast to PyTorch's result dtype where NumPy's promotion differs: an
    integer tensor with a float scalar gives the default float dtype, an integer with a float
    tensor the float's dtype, and a dimensioned tensor's dtype beats a 0-d tensor's of the
    same category (float32 tensor + float64 0-d tensor is float32)."""
    ta, tb = type(a), type(b)
    if ta is _ndarray or ta in _device_types:
        if tb is _ndarray or tb in _device_types:
            da, db = a.dtype, b.dtype
            if da is db or da == db:
                return a, b
            want = _result_type(a, b)
            return (a if da == want else a.astype(want)), (b if db == want else b.astype(want))
        if tb is float:
            return (a if a.dtype.kind in "fcV" else a.astype(get_default_dtype().numpy)), b
        if tb is int or tb is bool:
            return a, b
        return _with_scalar(a, b)
    if tb is _ndarray or tb in _device_types:
        if ta is float:
            return a, (b if b.dtype.kind in "fcV" else b.astype(get_default_dtype().numpy))
        if ta is int or ta is bool:
            return a, b
        b, a = _with_scalar(b, a)
    return a, b


def _floating(a: Any) -> Any:
    """Integer and bool inputs of float-valued math give the default float dtype, as in
    PyTorch (exp of an int64 tensor is float32, not NumPy's float64)."""
    return a.astype(get_default_dtype().numpy) if a.dtype.kind in "biu" else a


def _kind(x: Any) -> str:
    """The dtype kind of an operand, an array or a Python number ("b" for a bool)."""
    try:
        return x.dtype.kind
    except AttributeError:
        return "b" if type(x) is bool else np.dtype(type(x)).kind


def bool_subtraction(a: Any, b: Any) -> RuntimeError:
    """PyTorch's refusal of a subtraction with a bool operand, which says what was meant."""
    if _kind(a) == "b" and _kind(b) == "b":
        return RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                            "Use the `^` or `logical_xor()` operator instead.")
    return RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                        "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")


def check_divisor(kernel: str, a: Any, b: Any) -> None:
    """PyTorch's errors of an integer division (``//``, ``%``, fmod, rounded ``div``) of
    promoted operands: none for bools (``kernel``'s name in the refusal), ``ZeroDivisionError``
    for a zero divisor.  Float operands pass (the ops skip the call for a float array)."""
    first = _kind(a)
    if first in "fcV":
        return
    second = _kind(b)
    if second in "fcV":
        return
    if first == "b" and second == "b":
        raise not_implemented(kernel, np.dtype(np.bool_))
    if not (b.all() if hasattr(b, "all") else b):
        raise RuntimeError("ZeroDivisionError")


def _with_scalar(array: Any, scalar: Any) -> tuple:
    """An array and a NumPy (or other) scalar: the scalar is weak, like a Python number."""
    if isinstance(scalar, np.generic):
        scalar = scalar.item()
    if array.dtype.kind in "biu" and isinstance(scalar, (float, complex)):
        array = array.astype(get_default_dtype().numpy)
    return array, scalar


def _promote_types(da: Any, db: Any) -> Any:
    fa, fb = da.kind in "fcV", db.kind in "fcV"
    if fa != fb:
        return da if fa else db
    return np.promote_types(da, db)


def _result_type(a: Any, b: Any) -> Any:
    da, db = a.dtype, b.dtype
    if (a.ndim == 0) == (b.ndim == 0):
        return _promote_types(da, db)
    dim, zero = (db, da) if a.ndim == 0 else (da, db)
    if zero.kind == "c" and dim.kind != "c":  # a higher category: complex, of the dimensioned one's precision
        return np.dtype(np.complex128 if dim == _F64 else np.complex64)
    if dim.kind in "fcV" or (dim.kind != "b" and zero.kind not in "fcV"):
        return dim
    return _promote_types(dim, zero)


def sum_to_shape(grad: Any, shape: tuple) -> Any:
    """Undo broadcasting: sum ``grad`` over the axes that were broadcast to reach its shape."""
    grad_shape = grad.shape
    if grad_shape == shape:
        return grad
    lead = len(grad_shape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and grad_shape[i + lead] != 1
    )
    if axes:
        grad = (grad.sum(axis=axes, keepdims=True) if type(grad) is not _ndarray or grad.dtype.kind != "V"
                else grad.sum(axis=axes, keepdims=True, dtype=np.float32).astype(grad.dtype))
    if lead or grad.shape != shape:
        grad = grad.reshape(shape)
    return grad


def _shape(x: Any) -> Any:
    return x.shape if type(x) is _ndarray else getattr(x, "shape", None)


def _scalar(x: Any) -> Any:
    """A 0-d array as a NumPy scalar: NumPy's scalar arithmetic is several times faster than
    its 0-d array path and gives the same result (``Op.apply`` wraps it back into an array)."""
    return x[()] if type(x) is _ndarray and not x.shape else x


class _Elementwise(Op):
    """Ops that work element by element (``explain`` shows their local derivative as one
    number per element)."""

    __slots__ = ()
    elementwise = True


class _Binary(_Elementwise):
    """Binary ops remember input shapes only when broadcasting happened."""

    __slots__ = ("shapes",)

    def _remember_shapes(self, a: Any, b: Any, out_shape: tuple) -> None:
        # Python scalars have no shape and need no gradient: only arrays are compared.
        sa = a.shape if type(a) is _ndarray or type(a) in _device_types else None
        sb = b.shape if type(b) is _ndarray or type(b) in _device_types else None
        if sa == out_shape:
            sa = None
        if sb == out_shape:
            sb = None
        self.shapes = None if sa is None and sb is None else (sa, sb)

    def _reduce(self, ga: Any, gb: Any) -> tuple:
        shapes = self.shapes
        if shapes is None:
            return ga, gb
        sa, sb = shapes
        if sa is not None and ga is not None:
            ga = sum_to_shape(ga, sa)
        if sb is not None and gb is not None:
            gb = sum_to_shape(gb, sb)
        return ga, gb


class Add(_Binary):
    __slots__ = ()
    arguments = "binary"
    kernel = np.add
    derivative = ("d(a+b)/da = 1", "d(a+b)/db = 1")

    def forward(self, xp, a, b):
        if type(a) is not _ndarray or type(b) is not _ndarray or a.dtype is not b.dtype:
            if is_complex(a) is not is_complex(b):  # the real operand's gradient: the real part
                self.__class__ = holomorphic(Add, a, b)
            a, b = promote(a, b)
        if type(a) is _ndarray and a.shape:
            out = a + b
            # The common case, same shapes, needs no bookkeeping for broadcasting.
            if type(b) is _ndarray and b.shape == a.shape == out.shape:
                self.shapes = None
            else:
                self._remember_shapes(a, b, out.shape)
        else:
            out = _scalar(a) + _scalar(b)
            self._remember_shapes(a, b, out.shape)
        return out

    def backward(self, xp, g):
        return (g, g) if self.shapes is None else self._reduce(g, g)


_F32, _F64, _F16 = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.float16)


def reduced_float(dtype: Any) -> bool:
    """Whether ``dtype`` is a reduced-precision float (float16, or ml_dtypes' bfloat16, of
    kind "V"), which PyTorch's CPU kernels compute in float32 and round once (its opmath)."""
    return dtype is _F16 or dtype.kind == "V"


def in_float32(cls: type) -> type:
    """Class decorator for an op whose forward takes several steps (softmax, GELU ...): on
    a bfloat16 input it computes in float32 and rounds its output once, and its node rounds
    its gradients to bfloat16, as PyTorch's CPU kernels for reduced floats (ml_dtypes'
    ufuncs would round after every step)."""
    forward = cls.forward

    def computed(self, xp, a, *rest):
        if type(a) is not _ndarray or a.dtype.kind != "V":
            return forward(self, xp, a, *rest)
        out = forward(self, xp, a.astype(np.float32), *rest)
        self.__class__ = _rounding(type(self), a.dtype)
        return out.astype(a.dtype)

    computed.__doc__ = forward.__doc__
    cls.forward = computed
    return cls


_ROUNDING: dict = {}


def _rounding(cls: type, dtype: Any) -> type:
    """``cls`` with a backward that takes its gradient in float32 and rounds what it gives
    to ``dtype`` (made once per class and dtype; same name and slots)."""
    sub = _ROUNDING.get((cls, dtype))
    if sub is None:
        backward = cls.backward

        def rounded(self, xp, g):
            grads = backward(self, xp, g.astype(np.float32) if type(g) is _ndarray else g)
            if type(grads) is tuple:
                return tuple(v.astype(dtype) if type(v) is _ndarray else v for v in grads)
            return grads.astype(dtype) if type(grads) is _ndarray else grads

        sub = _ROUNDING[cls, dtype] = type(cls.__name__, (cls,), {"__slots__": (), "backward": rounded,
                                                                "__module__": cls.__module__})
    return sub


def _reflected_sub(a: Any, c: Any) -> Any:
    return c - a


#: The ops whose bfloat16 kernels round a Python number operand to bfloat16 (PyTorch's
#: ``scalar_value``; mul and div keep it in float32, its ``original_scalar_value``).
_SCALAR_ROUNDED = frozenset((operator.add, operator.sub, _reflected_sub, operator.pow))


def _with_number(a: Any, c: Any, fn: Any) -> Any:
    """``fn(a, c)`` for a tensor of another dtype than float32/64 and a Python number:
    integers and bools promote as PyTorch does; float16 and bfloat16 are computed in float32
    and rounded once (PyTorch's opmath: ``half / 100000`` is 1e-5, not 0 from a 100000 that
    overflows float16; ``bfloat16 * 1.1`` multiplies by 1.1, not by 1.1 rounded to bfloat16).
    PyTorch's bfloat16 add, sub and pow take the number rounded to bfloat16 first: ml_dtypes'
    own loops, which compute in float32 and round once (``x ** 3`` and ``x ** -2`` are
    products in bfloat16, as PyTorch's kernel writes them)."""
    if reduced_float(a.dtype):
        if a.dtype.kind == "V" and fn in _SCALAR_ROUNDED:
            if fn is operator.pow and (c == 3 or c == -2):
                square = a * a
                return square * a if c == 3 else a.dtype.type(1) / square
            return fn(a, c) if a.shape else fn(a[()], c)
        return fn(a.astype(np.float32), c).astype(a.dtype)  # an array or a NumPy scalar
    if a.dtype.kind not in "fcV":
        a, c = promote(a, c)
    return fn(a, c) if a.shape else fn(a[()], c)


class AddScalar(_Elementwise):
    """``tensor + number`` (and ``number + tensor``): PyTorch's Add with a constant operand,
    recorded with one edge; the number is not saved, since the gradient does not need it."""

    __slots__ = ()
    arguments = "unary"
    kernel = np.add
    display_name = "Add"
    derivative = ("d(a+c)/da = 1",)

    def forward(self, xp, a, c):
        dtype = a.dtype
        if dtype is not _F32 and dtype is not _F64:
            return _with_number(a, c, operator.add)
        return a + c if a.shape else a[()] + c

    def backward(self, xp, g):
        return g, None


class Sub(_Binary):
    __slots__ = ()
    arguments = "binary"
    kernel = np.subtract
    derivative = ("d(a-b)/da = 1", "d(a-b)/db = -1")

    def forward(self, xp, a, b):
        if type(a) is not _ndarray or type(b) is not _ndarray or a.dtype is not b.dtype:
            if _kind(a) == "b" or _kind(b) == "b":
                raise bool_subtraction(a, b)
            if is_complex(a) is not is_complex(b):  # the real operand's gradient: the real part
                self.__class__ = holomorphic(Sub, a, b)
            a, b = promote(a, b)
        if type(a) is _ndarray and a.shape:
            try:
                out = a - b
            except TypeError:  # (NumPy's refusal of two bool arrays)
                raise bool_subtraction(a, b) from None
            # The common case, same shapes, needs no bookkeeping for broadcasting.
            if type(b) is _ndarray and b.shape == a.shape == out.shape:
                self.shapes = None
            else:
                self._remember_shapes(a, b, out.shape)
        else:
            try:
                out = _scalar(a) - _scalar(b)
            except TypeError:
                raise bool_subtraction(a, b) from None
            self._remember_shapes(a, b, out.shape)
        return out

    def backward(self, xp, g):
        gb = -g if self.second_edge is not None else None
        return (g, gb) if self.shapes is None else self._reduce(g, gb)


class SubScalar(_Elementwise):
    """``tensor - number``."""

    __slots__ = ()
    arguments = "unary"
    kernel = np.subtract
    display_name = "Sub"
    derivative = ("d(a-c)/da = 1",)

    def forward(self, xp, a, c):
        dtype = a.dtype
        if dtype is not _F32 and dtype is not _F64:
            if dtype.kind == "b":
                raise bool_subtraction(a, c)
            return _with_number(a, c, operator.sub)
        return a - c if a.shape else a[()] - c

    def backward(self, xp, g):
        return g, None


class RsubScalar(_Elementwise):
    """``number - tensor`` (PyTorch's rsub)."""

    __slots__ = ()
    arguments = "unary"
    kernel = staticmethod(lambda a, c, out: np.subtract(c, a, out))
    display_name = "Rsub"
    pytorch_name = "RsubBackward1"
    presented_inputs = 1
    derivative = ("d(c-a)/da = -1",)

    def forward(self, xp, a, c):
        dtype = a.dtype
        if dtype is not _F32 and dtype is not _F64:
            if dtype.kind == "b":
                raise bool_subtraction(c, a)
            return _with_number(a, c, _reflected_sub)
        return c - a if a.shape else c - a[()]

    def backward(self, xp, g):
        return (-g,)


class Mul(_Binary):
    __slots__ = ()
    arguments = "binary"
    kernel = np.multiply
    derivative = ("d(a*b)/da = b", "d(a*b)/db = a")
    saved_needed_by = (1, 0)

    def forward(self, xp, a, b):
        if type(a) is not _ndarray or type(b) is not _ndarray or a.dtype is not b.dtype:
            if is_complex(a) or is_complex(b):
                self.__class__ = holomorphic(Mul, a, b)
            a, b = promote(a, b)
        elif a.dtype is not _F32 and a.dtype is not _F64 and a.dtype.kind == "c":
            self.__class__ = holomorphic(Mul, a, b)
        if type(a) is _ndarray and a.shape:
            out = a * b
            # The common case, same shapes, needs no bookkeeping for broadcasting.
            if type(b) is _ndarray and b.shape == a.shape == out.shape:
                self.shapes = None
            else:
                self._remember_shapes(a, b, out.shape)
        else:
            out = _scalar(a) * _scalar(b)
            self._remember_shapes(a, b, out.shape)
        self.saved = (a, b)
        return out

    def backward(self, xp, g):
        a, b = self.saved
        ga = g * b if self.first_edge is not None else None
        gb = g * a if self.second_edge is not None else None
        return (ga, gb) if self.shapes is None else self._reduce(ga, gb)


class MulScalar(_Elementwise):
    """``tensor * number`` (and ``number * tensor``).  The number is saved, as PyTorch saves
    it: a second backward without ``retain_graph`` raises here as it does there."""

    __slots__ = ()
    arguments = "unary"
    display_name = "Mul"
    kernel = np.multiply
    derivative = ("d(a*c)/da = c",)

    def forward(self, xp, a, c):
        self.saved = (c,)
        dtype = a.dtype
        if dtype is not _F32 and dtype is not _F64 or type(c) is complex:
            if dtype.kind == "c" or type(c) is complex:
                self.__class__ = holomorphic(MulScalar, a)
            return _with_number(a, c, operator.mul)
        return a * c if a.shape else a[()] * c

    def backward(self, xp, g):
        return g * self.saved[0], None


class Div(_Binary):
    __slots__ = ()
    kernel = np.true_divide
    arguments = "binary"
    derivative = ("d(a/b)/da = 1/b", "d(a/b)/db = -a/b^2")

    def forward(self, xp, a, b):
        if is_complex(a) or is_complex(b):
            self.__class__ = holomorphic(Div, a, b)
        a, b = promote(a, b)
        out = a / b if type(a) is _ndarray and a.shape else _scalar(a) / _scalar(b)
        if out.dtype == xp.float64 and _dtype_kind(a) != "f64" and _dtype_kind(b) != "f64":
            out = out.astype(xp.float32)
        self._remember_shapes(a, b, out.shape)
        self.saved = (a, b)
        return out

    def backward(self, xp, g):
        a, b = self.saved
        ga = g / b if self.needs_grad(0) else None
        gb = -g * a / (b * b) if self.needs_grad(1) else None
        return self._reduce(ga, gb)


class DivScalar(_Elementwise):
    """``tensor / number``: true division, so integer tensors give the default float dtype."""

    __slots__ = ()
    arguments = "unary"
    display_name = "Div"
    kernel = np.true_divide
    derivative = ("d(a/c)/da = 1/c",)

    def forward(self, xp, a, c):
        self.saved = (c,)
        dtype = a.dtype
        if dtype is not _F32 and dtype is not _F64 or type(c) is complex:
            if dtype.kind == "c" or type(c) is complex:
                self.__class__ = holomorphic(DivScalar, a)
            if dtype.kind not in "fcV":  # true division: integers give the default float dtype
                a = a.astype(get_default_dtype().numpy)
            return _with_number(a, c, operator.truediv)
        return a / c if a.shape else a[()] / c

    def backward(self, xp, g):
        return g / self.saved[0], None


def _dtype_kind(x: Any) -> str:
    dtype = getattr(x, "dtype", None)
    if dtype is None:
        return "scalar"
    return "f64" if dtype.itemsize == 8 and dtype.kind == "f" else dtype.kind


class Pow(_Binary):
    __slots__ = ()
    pytorch_name = "PowBackward1"  # tensor ** tensor (PowBackward0 is tensor ** number)
    derivative = ("d(a^b)/da = b*a^(b-1)", "d(a^b)/db = a^b*log(a)")

    def forward(self, xp, a, b):
        if is_complex(a) or is_complex(b):
            self.__class__ = holomorphic(Pow, a, b)
        a, b = promote(a, b)
        try:
            out = a ** b
        except ValueError:  # (NumPy refuses integers to negative integer powers; PyTorch computes them)
            out = _integer_power(xp, a, b)
        self._remember_shapes(a, b, out.shape)
        self.saved = (a, b, out)
        return out

    def backward(self, xp, g):
        a, b, out = self.saved
        ga = gb = None
        if self.needs_grad(0):
            if isinstance(b, (int, float)):
                ga = g * b * a ** (b - 1) if b != 0 else g * 0
            else:
                ga = xp.where(b == 0, 0.0, g * b * a ** (b - 1))
        if self.needs_grad(1):
            # d/db a^b = a^b log a; PyTorch takes it as 0 where a == 0 and b >= 0.
            safe_log = xp.log(xp.where(a == 0, 1.0, a)) if not isinstance(a, (int, float)) else _log_scalar(a)
            gb = g * out * safe_log
            if not isinstance(a, (int, float)):
                gb = xp.where((a == 0) & (b >= 0), 0.0, gb)
        return self._reduce(ga, gb)


def _integer_power(xp, a, b):
    """``a ** b`` for integers with some exponents negative, as PyTorch's kernel: 1 / a^|b|
    truncated (1 for a == 1, -1 or 1 for a == -1 as b is odd or even, else 0)."""
    negative = b < 0
    out = a ** xp.where(negative, 0, b)
    inverse = xp.where(a == 1, 1, xp.where(a == -1, 1 - 2 * (b % 2), 0))
    return xp.where(negative, inverse, out).astype(out.dtype)


class PowScalar(_Elementwise):
    """``tensor ** number``: the base is saved for the gradient ``c * a^(c-1)``."""

    __slots__ = ()
    arguments = "unary"
    display_name = "Pow"
    presented_inputs = 1
    derivative = ("d(a^c)/da = c*a^(c-1)",)
    saved_needed_by = (0, 0)

    def forward(self, xp, a, c):
        dtype = a.dtype
        if dtype is not _F32 and dtype is not _F64 or type(c) is complex:
            if dtype.kind == "c" or type(c) is complex:
                self.__class__ = holomorphic(PowScalar, a)
            if dtype.kind not in "fcV":
                if type(c) is int and c < 0:
                    raise RuntimeError("Integers to negative integer powers are not allowed.")
                a, c = promote(a, c)
            self.saved = (a, c)
            return _with_number(a, c, operator.pow)
        self.saved = (a, c)
        return a ** c if a.shape else a[()] ** c

    def backward(self, xp, g):
        a, c = self.saved
        return (g * c * a ** (c - 1) if c != 0 else g * 0), None


def _log_scalar(a: float) -> float:
    return math.log(a) if a > 0 else (0.0 if a == 0 else float("nan"))


class Maximum(_Binary):
    __slots__ = ()
    derivative = ("d max(a,b)/da = [a>b] (1/2 on ties)", "d max(a,b)/db = [b>a] (1/2 on ties)")

    def forward(self, xp, a, b):
        a, b = promote(a, b)
        out = xp.maximum(a, b)
        self._remember_shapes(a, b, out.shape)
        self.saved = (a, b)
        return out

    def backward(self, xp, g):
        a, b = self.saved
        # PyTorch splits the gradient evenly on ties.
        weight_a = (a > b) + (a == b) * 0.5
        return self._reduce(g * weight_a if self.needs_grad(0) else None,
                            g * (1 - weight_a) if self.needs_grad(1) else None)


class Minimum(_Binary):
    __slots__ = ()
    derivative = ("d min(a,b)/da = [a<b] (1/2 on ties)", "d min(a,b)/db = [b<a] (1/2 on ties)")

    def forward(self, xp, a, b):
        a, b = promote(a, b)
        out = xp.minimum(a, b)
        self._remember_shapes(a, b, out.shape)
        self.saved = (a, b)
        return out

    def backward(self, xp, g):
        a, b = self.saved
        weight_a = (a < b) + (a == b) * 0.5
        return self._reduce(g * weight_a if self.needs_grad(0) else None,
                            g * (1 - weight_a) if self.needs_grad(1) else None)


class Atan2(_Binary):
    __slots__ = ()
    derivative = ("d atan2(a,b)/da = b/(a^2+b^2)", "d atan2(a,b)/db = -a/(a^2+b^2)")

    def forward(self, xp, a, b):
        a, b = promote(a, b)
        out = xp.arctan2(a, b)
        self._remember_shapes(a, b, out.shape)
        self.saved = (a, b)
        return out

    def backward(self, xp, g):
        a, b = self.saved
        denominator = a * a + b * b
        # At the origin both numerators are 0 too: PyTorch's gradient there is 0, not 0/0.
        denominator = xp.where(denominator == 0, 1.0, denominator)
        return self._reduce(g * b / denominator if self.needs_grad(0) else None,
                            -g * a / denominator if self.needs_grad(1) else None)


class Fmod(_Binary):
    """C's fmod: the remainder with the sign of the dividend, ``a - trunc(a / b) * b``."""

    __slots__ = ("quotient",)
    derivative = ("d fmod(a,b)/da = 1", "d fmod(a,b)/db = -trunc(a/b)")

    def forward(self, xp, a, b):
        a, b = promote(a, b)
        if type(a) is not _ndarray or a.dtype.kind not in "fcV":  # (float arrays: nothing to check)
            check_divisor("fmod_cpu", a, b)
        out = xp.fmod(a, b)
        self._remember_shapes(a, b, out.shape)
        with np.errstate(divide="ignore", invalid="ignore"):  # a constant: trunc's derivative is 0
            self.quotient = xp.trunc(a / b)
        return out

    def backward(self, xp, g):
        return self._reduce(g if self.needs_grad(0) else None,
                            -g * self.quotient if self.needs_grad(1) else None)


class Xlogy(_Binary):
    """x * log(y), 0 where x is 0 (unless y is NaN)."""

    __slots__ = ()
    derivative = ("d xlogy(x,y)/dx = log(y)", "d xlogy(x,y)/dy = x / y")

    def forward(self, xp, a, b):
        a, b = promote(_floating(a) if isinstance(a, xp.ndarray) else a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = xp.where((a == 0) & ~xp.isnan(b), 0.0, a * xp.log(b)).astype(np.result_type(a, b))
        self._remember_shapes(a, b, out.shape)
        self.saved = (a, b)
        return out

    def backward(self, xp, g):
        a, b = self.saved
        ga = gb = None
        if self.needs_grad(0):  # PyTorch: log(y), and 0 where x and y are both 0
            both_zero = (a == 0) & (b == 0)
            ga = g * xp.log(xp.where(both_zero, 1.0, b))
        if self.needs_grad(1):
            gb = g * a / b
        return self._reduce(ga, gb)


class FloorDivide(_Elementwise):
    """``a // b``.  PyTorch records it with a node whose backward is not implemented (a
    float result requires grad; backward through it raises): so does chainrule."""

    __slots__ = ()
    pytorch_name = "NotImplemented"
    derivative = ("d(a // b)/da: not implemented (PyTorch has none)", "d(a // b)/db: not implemented")

    def forward(self, xp, a, b):
        a, b = promote(a, b)
        if type(a) is not _ndarray or a.dtype.kind not in "fcV":  # (float arrays: nothing to check)
            check_divisor("div_floor_cpu", a, b)
        return xp.floor_divide(a, b)

    def backward(self, xp, g):
        raise RuntimeError("derivative for aten::floor_divide is not implemented")


class DivRounding(_Binary):
    """``div(a, b, rounding_mode="floor" | "trunc")``: piecewise constant, so its gradient
    is zero everywhere (PyTorch's DivBackward2); integer inputs keep an integer result."""

    __slots__ = ()
    pytorch_name = "DivBackward2"
    presented_inputs = 2
    derivative = ("d floor(a/b)/da = 0", "d floor(a/b)/db = 0")

    def forward(self, xp, a, b, mode):
        a, b = promote(a, b)
        if type(a) is not _ndarray or a.dtype.kind not in "fcV":  # (float arrays: nothing to check)
            check_divisor(f"div_{mode}_cpu", a, b)
        if mode == "floor":
            out = xp.floor_divide(a, b)
        else:
            integers = all(getattr(v, "dtype", np.dtype(type(v))).kind in "biu" for v in (a, b))
            out = xp.trunc(xp.true_divide(a, b))
            if integers:
                out = out.astype(xp.result_type(a, b))
        self._remember_shapes(a, b, out.shape)
        return out

    def backward(self, xp, g):
        zero = g * 0
        return self._reduce(zero if self.needs_grad(0) else None, zero if self.needs_grad(1) else None) + (None,)


class Remainder(_Binary):
    """Python's modulo, ``a - floor(a / b) * b`` (the sign of the divisor).  PyTorch's
    remainder.Scalar (RemainderBackward0) with a number, remainder.Tensor with a tensor."""

    __slots__ = ()
    presented_inputs = 1
    saved_needed_by = (1, 1)  # a and b are kept for b's gradient only
    derivative = ("d(a mod b)/da = 1", "d(a mod b)/db = -floor(a/b)")

    def forward(self, xp, a, b):
        a, b = promote(a, b)
        if type(a) is not _ndarray or a.dtype.kind not in "fcV":  # (float arrays: nothing to check)
            check_divisor("remainder_cpu", a, b)
        out = xp.remainder(a, b)
        self._remember_shapes(a, b, out.shape)
        if type(b) is xp.ndarray:
            self.__class__ = variant(Remainder, "RemainderBackward1", (0, 1))
            self.saved = (a, b)
        return out

    def backward(self, xp, g):
        gb = None
        if self.needs_grad(1):
            a, b = self.saved
            # floor(a / b) is piecewise constant: recorded (under create_graph) as a
            # zero-gradient node on a and b, as PyTorch records it.
            quotient = xp.floor_divide(a, b) if plain(xp) else DivRounding.apply(a, b, "floor")
            gb = -g * quotient
        return self._reduce(g if self.needs_grad(0) else None, gb)


class Compare(_Elementwise):
    """Comparisons and logical ops: a boolean result, no gradient."""

    __slots__ = ()
    differentiable = False

    def forward(self, xp, a, b, ufunc):
        return ufunc(a, b)


class LogicalNot(_Elementwise):
    __slots__ = ()
    arguments = "unary"
    differentiable = False

    def forward(self, xp, a):
        return xp.logical_not(a)


class NoGradientUfunc(_Elementwise):
    """``ufunc(a)`` for a NumPy ufunc no gradient flows through: a yes/no test per element
    (``isnan``, ``isinf``, ``isfinite``) or an integer's bitwise not.  An op so that a
    compiled plan computes it again at each call."""

    __slots__ = ()
    arguments = "unary"
    differentiable = False

    def forward(self, xp, a, ufunc):
        return getattr(xp, ufunc.__name__)(a)


# -- unary ------------------------------------------------------------------------------


class _Unary(_Elementwise):
    """A plain unary op made from one row of :data:`UNARY` (see :func:`_unary_op`)."""

    __slots__ = ()
    arguments = "unary"


def _refuse(error: Exception) -> Any:
    raise error


class UnaryRow(NamedTuple):
    """One plain unary op: its name (chainrule's, and the functional form's), the array
    namespace function, what its derivative is written in terms of, the gradient rule
    ``(xp, upstream gradient, saved value) -> gradient``, and the formula ``explain`` shows."""

    name: str
    function: str
    saves: str
    rule: Callable
    formula: str
    floating: bool = True
    pytorch_name: str | None = None
    holomorphic: bool = True  # (of a complex input: the rule is conjugated, see ops.wirtinger)
    on_bool: Callable | None = None  # (array -> the result of a bool input, or PyTorch's refusal raised)


#: The plain unary ufuncs, one row each: from a row come the Op class (``ops.elementwise.Tanh``),
#: the functional form and method (``chainrule.tanh``, ``Tensor.tanh``), the in-place and out=
#: forms and the create_graph namespace entry (see ``chainrule.functional``).
UNARY = (
    UnaryRow("neg", "negative", "", lambda xp, g, _: -g, "d(-u)/du = -1", floating=False,
             on_bool=lambda a: _refuse(RuntimeError(
                 "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a "
                 "mask, use the `~` or `logical_not()` operator instead."))),
    # (|z| of a complex z: g z/|z|, NumPy's sign of a complex number being z/|z|, as PyTorch's sgn)
    UnaryRow("abs", "abs", "input", lambda xp, g, a: g * xp.sign(a), "d|u|/du = sign(u)", floating=False,
             holomorphic=False, on_bool=lambda a: _refuse(not_implemented("abs_cpu", a.dtype))),
    UnaryRow("sign", "sign", "", lambda xp, g, _: g * 0, "d sign(u)/du = 0", floating=False, holomorphic=False,
             on_bool=lambda a: a.copy()),
    UnaryRow("exp", "exp", "output", lambda xp, g, y: g * y, "d exp(u)/du = exp(u)"),
    UnaryRow("log", "log", "input", lambda xp, g, a: g / a, "d log(u)/du = 1/u"),
    UnaryRow("log2", "log2", "input", lambda xp, g, a: g / (a * 0.6931471805599453), "d log2(u)/du = 1/(u ln 2)"),
    UnaryRow("log10", "log10", "input", lambda xp, g, a: g / (a * 2.302585092994046),
             "d log10(u)/du = 1/(u ln 10)"),
    UnaryRow("log1p", "log1p", "input", lambda xp, g, a: g / (a + 1), "d log(1+u)/du = 1/(1+u)"),
    UnaryRow("expm1", "expm1", "output", lambda xp, g, y: g * (y + 1), "d (exp(u)-1)/du = exp(u)"),
    UnaryRow("exp2", "exp2", "output", lambda xp, g, y: g * (y * 0.6931471805599453), "d 2^u/du = 2^u ln 2"),
    UnaryRow("sqrt", "sqrt", "output", lambda xp, g, y: g / (2 * y), "d sqrt(u)/du = 1/(2 sqrt(u))"),
    UnaryRow("sin", "sin", "input", lambda xp, g, a: g * xp.cos(a), "d sin(u)/du = cos(u)"),
    UnaryRow("cos", "cos", "input", lambda xp, g, a: -g * xp.sin(a), "d cos(u)/du = -sin(u)"),
    UnaryRow("tan", "tan", "output", lambda xp, g, y: g * (1 + y * y), "d tan(u)/du = 1 + tan(u)^2"),
    UnaryRow("asin", "arcsin", "input", lambda xp, g, a: g / xp.sqrt(1 - a * a), "d asin(u)/du = 1 / sqrt(1 - u^2)"),
    UnaryRow("acos", "arccos", "input", lambda xp, g, a: -g / xp.sqrt(1 - a * a),
             "d acos(u)/du = -1 / sqrt(1 - u^2)"),
    UnaryRow("atan", "arctan", "input", lambda xp, g, a: g / (1 + a * a), "d atan(u)/du = 1 / (1 + u^2)"),
    UnaryRow("sinh", "sinh", "input", lambda xp, g, a: g * ((xp.exp(a) + xp.exp(-a)) * 0.5), "d sinh(u)/du = cosh(u)"),
    UnaryRow("cosh", "cosh", "input", lambda xp, g, a: g * ((xp.exp(a) - xp.exp(-a)) * 0.5), "d cosh(u)/du = sinh(u)"),
    UnaryRow("tanh", "tanh", "output", lambda xp, g, y: g * (_one(xp, y.dtype) - y * y),
             "d tanh(u)/du = 1 - tanh(u)^2"),
    UnaryRow("asinh", "arcsinh", "input", lambda xp, g, a: g / xp.sqrt(a * a + 1), "d asinh(u)/du = 1 / sqrt(u^2 + 1)"),
    UnaryRow("acosh", "arccosh", "input", lambda xp, g, a: g / xp.sqrt(a * a - 1), "d acosh(u)/du = 1 / sqrt(u^2 - 1)"),
    UnaryRow("atanh", "arctanh", "input", lambda xp, g, a: g / (1 - a * a), "d atanh(u)/du = 1 / (1 - u^2)"),
)


def _unary_op(row: UnaryRow) -> type:
    """The Op class of one row, named as chainrule names ops (``Tanh``; its node TanhBackward0):
    ``out = function(a)`` (integer inputs made the default float dtype first where the function
    is float-valued), ``backward = rule(xp, g, saved)`` with ``saved`` the input or the output."""
    op_name, name, rule, floating, saves = row.name.capitalize(), row.function, row.rule, row.floating, row.saves
    numpy_function = getattr(np, name)
    conjugated, on_bool = row.holomorphic, row.on_bool

    def forward(self, xp, a):
        kind = a.dtype.kind
        if kind != "f":  # (one test on the common path, float inputs)
            if kind == "c":
                if conjugated:
                    self.__class__ = holomorphic(type(self), a)
            elif floating:
                a = _floating(a)
            elif kind == "b" and on_bool is not None:
                return on_bool(a)  # (no gradient to keep anything for: bools never require grad)
        out = numpy_function(a) if xp is np else getattr(xp, name)(a)
        if saves:
            self.saved = (out if saves == "output" else a,)
        return out

    def backward(self, xp, g):
        return rule(xp, g, self.saved[0] if saves else None)

    attributes = {"__slots__": (), "op_name": op_name, "forward": forward, "backward": backward,
                  "kernel": numpy_function, "derivative": (row.formula,), "__module__": __name__,
                  "__doc__": f"``{row.name}``: {row.formula}."}
    if row.pytorch_name:
        attributes["pytorch_name"] = row.pytorch_name
    return type(op_name, (_Unary,), attributes)


for _row in UNARY:
    globals()[_row.name.capitalize()] = _unary_op(_row)
del _row


class Entr(_Elementwise):
    """``special.entr``: -u log(u), 0 at 0, -inf below 0."""

    __slots__ = ()
    arguments = "unary"
    derivative = ("d entr(u)/du = -(1 + log u)",)

    def forward(self, xp, a):
        with np.errstate(divide="ignore", invalid="ignore"):
            out = xp.where(a > 0, -a * xp.log(xp.where(a > 0, a, 1)), xp.where(a == 0, 0.0, -xp.inf))
        self.saved = (a,)
        return out.astype(a.dtype, copy=False)

    def backward(self, xp, g):
        (a,) = self.saved
        return g * -(xp.log(a) + 1)


@in_float32
class Rsqrt(_Elementwise):
    __slots__ = ()
    arguments = "unary"
    derivative = ("d u^(-1/2)/du = -1/2 u^(-3/2)",)

    def forward(self, xp, a):
        if a.dtype.kind == "c":
            self.__class__ = holomorphic(Rsqrt, a)
        a = _floating(a)
        out = 1 / xp.sqrt(a)
        self.saved = (out,)
        return out

    def backward(self, xp, g):
        out = self.saved[0]
        return g * -0.5 * out * out * out


class Frac(_Elementwise):
    """The fractional part, ``u - trunc(u)`` (the sign of u)."""

    __slots__ = ()
    arguments = "unary"
    derivative = ("d frac(u)/du = 1",)

    def forward(self, xp, a):
        if a.dtype.kind not in "fcV":
            raise not_implemented("frac_cpu", a.dtype)
        return a - xp.trunc(a)

    def backward(self, xp, g):
        return g


class Square(_Elementwise):
    __slots__ = ()
    arguments = "unary"
    pytorch_name = "PowBackward0"
    derivative = ("d u^2/du = 2u",)

    def forward(self, xp, a):
        if a.dtype.kind == "c":
            self.__class__ = holomorphic(Square, a)
        self.saved = (a,)
        return a * a

    def backward(self, xp, g):
        return g * 2 * self.saved[0]


class Reciprocal(_Elementwise):
    __slots__ = ()
    arguments = "unary"
    derivative = ("d (1/u)/du = -1/u^2",)

    def forward(self, xp, a):
        if _dtype_kind(a) == "c":
            self.__class__ = holomorphic(Reciprocal, a)
        out = 1 / a
        if _dtype_kind(a) in "iub":
            out = out.astype(xp.float32)
        self.saved = (out,)
        return out

    def backward(self, xp, g):
        out = self.saved[0]
        return -g * out * out


def sigmoid_into(a: Any, out: Any) -> Any:
    """``1 / (1 + exp(-a))`` written into ``out`` (a new array if None, for an ``a`` that is
    not 0-d), as PyTorch computes it: where exp(-a) overflows to inf the result is exactly 0
    (sigmoid(-1000.) == 0, not a denormal).  The caller silences the overflow warning."""
    xp = np if type(a) is _ndarray else get_array_module(a)
    out = xp.negative(a, out)  # (out positionally: NumPy parses it faster)
    xp.exp(out, out)
    xp.add(out, _one(xp, out.dtype), out)
    return xp.reciprocal(out, out)


class Sigmoid(_Elementwise):
    __slots__ = ()
    arguments = "unary"
    derivative = ("d sigmoid(u)/du = sigmoid(u) (1 - sigmoid(u))",)
    kernel = staticmethod(sigmoid_into)
    #: numpy.errstate settings its kernel runs under (a compiled plan's forward takes them): the
    #: ones its own forward sets.
    kernel_errstate = fp_errors.OVERFLOW.kwargs

    def forward(self, xp, a):
        dtype = a.dtype
        reduced = dtype if dtype is _F16 or dtype.kind == "V" else None  # (reduced_float, inlined)
        kind = dtype.kind
        if kind == "c":
            self.__class__ = holomorphic(Sigmoid, a)
        elif kind != "f" or reduced:  # float16/bfloat16 in float32, rounded once (PyTorch's opmath)
            a = a.astype(xp.float32)
        token = fp_errors.ignore(fp_errors.OVERFLOW)
        try:
            # (NumPy would answer a 0-d input with a scalar, which the next ufuncs cannot write)
            out = sigmoid_into(a, None if a.ndim else xp.empty_like(a))
        finally:
            fp_errors.restore(token)
        if reduced:
            out = out.astype(reduced)
        self.saved = (out,)
        return out

    def backward(self, xp, g):
        out = self.saved[0]
        return g * (_one(xp, out.dtype) - out) * out  # (PyTorch's order: the same rounding)


_ONES: dict = {}


def _one(xp: Any, dtype: Any) -> Any:
    """1 as a 0-d NumPy array of the given dtype: ufuncs take that a few hundred nanoseconds
    faster than a Python number (which they must first type as a weak scalar) and give the
    same result; sigmoid and tanh make several calls on what are often small tensors."""
    if xp is not np or dtype.kind != "f":
        return 1
    one = _ONES.get(dtype)
    if one is None:
        one = _ONES[dtype] = np.array(1.0, dtype=dtype)
    return one


class Relu(_Elementwise):
    __slots__ = ()
    arguments = "unary"
    kernel = staticmethod(lambda a, out: np.maximum(a, 0, out=out))
    derivative = ("d relu(u)/du = [u > 0]",)

    def forward(self, xp, a):
        out = xp.maximum(a, 0)
        if out.dtype != a.dtype:
            if a.dtype.kind == "b":
                raise RuntimeError("Boolean inputs not supported for relu")
            out = out.astype(a.dtype)
        self.saved = (out,)
        return out

    def backward(self, xp, g):
        out = self.saved[0]
        return step_scaled(xp, g, out, out > 0)

    def backward_over(self, xp, g):
        """:meth:`backward` written over ``g``, for a caller that owns ``g`` (a compiled
        plan's backward, when nothing else holds that gradient): the same values, no new
        array."""
        out = self.saved[0]
        return xp.multiply(g, out > 0, out=g)


def step_scaled(xp: Any, g: Any, a: Any, mask: Any, slope: float = 0.0) -> Any:
    """``g`` where ``mask`` holds, ``g * slope`` elsewhere, ``mask`` being a condition on
    ``a``: the backward of the piecewise-linear activations (relu, leaky relu, hardtanh,
    threshold).  When the backward is recorded (create_graph) it becomes a node with ``a``
    as an input of derivative zero, as PyTorch records ``threshold_backward``: a gradient
    of this gradient with respect to ``a`` is then zeros, as there, not missing."""
    if not plain(xp):
        return StepScaled.apply(g, a, mask, slope)
    return g * mask if slope == 0 else xp.where(mask, g, g * slope)


class StepScaled(_Elementwise):
    """The recorded form of :func:`step_scaled` (PyTorch's ThresholdBackward)."""

    __slots__ = ("mask", "slope")
    display_name = "ThresholdBackward"
    derivative = ("d(g*s(a))/dg = s(a)", "d(g*s(a))/da = 0")

    def forward(self, xp, g, a, mask, slope):
        self.mask, self.slope = mask, slope
        return step_scaled(xp, g, a, mask, slope)

    def backward(self, xp, grad):
        return (step_scaled(xp, grad, None, self.mask, self.slope) if self.needs_grad(0) else None,
                xp.zeros_like(grad) if self.needs_grad(1) else None, None, None)


class Clamp(_Elementwise):
    __slots__ = ()
    presented_inputs = 1
    pytorch_name = "ClampBackward1"  # number bounds (the common case)
    derivative = ("d clamp(u)/du = [min <= u <= max]", "d clamp(u)/d min = [u < min]",
                  "d clamp(u)/d max = [u > max]")

    def forward(self, xp, a, low, high):
        if type(low) is xp.ndarray or type(high) is xp.ndarray:  # clamp.Tensor: bounds are inputs
            self.__class__ = variant(Clamp, "ClampBackward0", (0, 1, 2))
        if a.dtype.kind in "biu" and (type(low) is float or type(high) is float):
            a = a.astype(get_default_dtype().numpy)  # an integer tensor with float bounds, as PyTorch
        out = a
        if low is not None:
            out = xp.maximum(out, low)
        if high is not None:
            out = xp.minimum(out, high)
        if out is a:
            out = a.copy()
        self.saved = (a, low, high)
        return out

    def backward(self, xp, g):
        a, low, high = self.saved
        mask = True
        if low is not None:
            mask = a >= low
        if high is not None:
            mask = (a <= high) if mask is True else mask & (a <= high)
        grad_a = g if mask is True else g * mask
        # Tensor bounds get the gradient where they bind, as in PyTorch.
        grad_low = g * (a < low) if low is not None and self.needs_grad(1) else None
        grad_high = g * (a > high) if high is not None and self.needs_grad(2) else None
        shape = getattr(a, "shape", ())
        if grad_low is not None:
            grad_low = sum_to_shape(grad_low, low.shape)
        if grad_high is not None:
            grad_high = sum_to_shape(grad_high, high.shape)
        return sum_to_shape(grad_a, shape), grad_low, grad_high


class Where(_Elementwise):
    __slots__ = ("shapes",)
    presented = (1, 2)  # the condition is not an input of PyTorch's node
    derivative = ("", "d where(c,a,b)/da = [c]", "d where(c,a,b)/db = [not c]")

    def forward(self, xp, condition, a, b):
        a, b = promote(a, b)
        out = xp.where(condition, a, b)
        if out.dtype == xp.float64 and _dtype_kind(a) != "f64" and _dtype_kind(b) != "f64":
            out = out.astype(xp.float32)
        self.saved = (condition,)
        self.shapes = (_shape(a), _shape(b))
        return out

    def backward(self, xp, g):
        (condition,) = self.saved
        sa, sb = self.shapes
        ga = sum_to_shape(xp.where(condition, g, 0.0), sa) if self.needs_grad(1) else None
        gb = sum_to_shape(xp.where(condition, 0.0, g), sb) if self.needs_grad(2) else None
        return None, ga, gb


class Lerp(_Elementwise):
    __slots__ = ("shapes",)
    presented_inputs = 2  # a number weight is not an input of PyTorch's LerpBackward0
    derivative = ("d lerp/d start = 1 - w", "d lerp/d end = w", "d lerp/dw = end - start")

    def forward(self, xp, start, end, weight):
        tensor_weight = type(weight) is xp.ndarray
        dtype = start.dtype
        if getattr(end, "dtype", dtype) != dtype or tensor_weight and weight.dtype != dtype:
            name, other = ("end", end) if getattr(end, "dtype", dtype) != dtype else ("weight", weight)
            raise RuntimeError(f"expected dtype {cpp_name(dtype)} for `{name}` but got dtype {cpp_name(other.dtype)}")
        if dtype.kind not in "fcV":
            raise not_implemented("lerp_kernel_tensor" if tensor_weight else "lerp_kernel_scalar", dtype)
        if tensor_weight:
            self.__class__ = variant(Lerp, "LerpBackward1", (0, 1, 2))
        out = start + weight * (end - start)
        self.saved = (start, end, weight)
        self.shapes = (_shape(start), _shape(end), _shape(weight))
        return out

    def backward(self, xp, g):
        start, end, weight = self.saved
        s0, s1, s2 = self.shapes
        g0 = sum_to_shape(g * (1 - weight), s0) if self.needs_grad(0) else None
        g1 = sum_to_shape(g * weight, s1) if self.needs_grad(1) else None
        g2 = sum_to_shape(g * (end - start), s2) if s2 is not None and self.needs_grad(2) else None
        return g0, g1, g2


class Rounding(_Elementwise):
    """floor, ceil, trunc, round: piecewise constant, so the gradient is zero, but (as in
    PyTorch) the result still requires grad and backward through it works."""

    __slots__ = ("kind",)
    presented_inputs = 1
    derivative = ("d round(u)/du = 0",)

    def forward(self, xp, a, ufunc, *args):
        self.kind = ufunc.__name__
        self.__class__ = variant(Rounding, self.kind.capitalize() + "Backward0")  # FloorBackward0 ...
        if a.dtype.kind in "biu":
            decimals = args and args[0]
            if decimals or a.dtype.kind == "b":  # (PyTorch rounds integers to decimals by no kernel)
                raise not_implemented("round_cpu" if decimals else self.kind + "_vml_cpu", a.dtype)
            return a.copy()
        return ufunc(a, *args)

    def backward(self, xp, g):
        return (g * 0,) + (None,) * len(self.other_edges)


class Cast(_Elementwise):
    """dtype conversion; the gradient goes back in the source dtype."""

    __slots__ = ("source",)
    presented_inputs = 1
    pytorch_name = "ToCopyBackward0"
    derivative = ("d cast(u)/du = 1",)

    @classmethod
    def apply(cls, tensor: Any, dtype: Any) -> Any:
        # Integer and bool results carry no gradient, as in PyTorch: x.long() is a constant.
        if np.dtype(dtype).kind not in "fcV" and getattr(tensor, "requires_grad", False):
            out = Tensor._wrap(tensor._data.astype(dtype))
            if observe.cuts:
                observe.notify_cut("integer_cast", (tensor,), out, np.dtype(dtype).name)
            return out
        return super().apply(tensor, dtype)

    def forward(self, xp, a, dtype):
        self.source = a.dtype
        return a.astype(dtype)

    def backward(self, xp, g):
        if self.source.kind != "c" and is_complex_gradient(g):  # real to complex: the real part
            g = xp.real(g)
        return g.astype(self.source) if hasattr(g, "astype") else g.to(self.source), None


class ToDevice(_Elementwise):
    """A copy on another device (and maybe dtype), as PyTorch's ``to``: the gradient is moved
    back to the source's device and dtype."""

    __slots__ = ("source",)
    presented_inputs = 1
    pytorch_name = "ToCopyBackward0"
    derivative = ("d copy(u)/du = 1",)

    def forward(self, xp, a, target, dtype):
        self.source = (device_of(a), a.dtype)
        out = to_device(a, target)
        return out if dtype is None or out.dtype == dtype else out.astype(dtype)

    def backward(self, xp, g):
        where, dtype = self.source
        if not plain(xp):  # create_graph: the same move, recorded
            return g.to(where, dtype), None, None
        g = to_device(g, where)
        return (g if g.dtype == dtype else g.astype(dtype)), None, None


class Clone(_Elementwise):
    __slots__ = ()
    arguments = "unary"
    derivative = ("d u/du = 1",)

    def forward(self, xp, a):
        return a.copy()

    def backward(self, xp, g):
        return g
