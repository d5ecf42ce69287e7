"""Operations on the parts of numbers, as PyTorch's: ``gcd`` and ``lcm`` of integers,
``frexp``/``ldexp`` (mantissa and power of two), ``nextafter`` and ``heaviside`` of floats.
Functional forms, Tensor methods and in-place forms; a gradient flows through ``ldexp`` and
the mantissa of ``frexp`` (both scale by a power of two), through none of the others, as in
PyTorch."""
from __future__ import annotations

from typing import Any

import numpy as np

from .autograd.function import Op
from .bitwise import _integral
from .dtypes import get_default_dtype
from .functional import _coerce, _t, exp2
from .ops import elementwise as E
from .ops.linalg import _scalar
from .registry import ROWS, public
from .return_types import structseq
from .tensor import Tensor


def _same_floating_dtype(name: str, input: Tensor, other: Tensor) -> None:
    if input.dtype != other.dtype:
        raise RuntimeError(f"{name} is not yet implemented for tensors with different dtypes.")


#: ``torch.return_types.frexp``: the pair ``frexp`` returns.
frexp_result = structseq("frexp", ["mantissa", "exponent"])


@public(inplace=True, out=True)
def gcd(input: Tensor, other: Any) -> Tensor:
    """The greatest common divisor of each pair of integers (non-negative; gcd(0, 0) = 0)."""
    input = _t(input)
    _integral("gcd", input, other, kinds="iu")
    return E.Compare.apply(input, _coerce(input, other), ufunc=np.gcd)


@public(inplace=True, out=True)
def lcm(input: Tensor, other: Any) -> Tensor:
    """The least common multiple of each pair of integers (non-negative; 0 if either is 0)."""
    input = _t(input)
    _integral("lcm", input, other, kinds="iu")
    return E.Compare.apply(input, _coerce(input, other), ufunc=np.lcm)


@public(inplace=True, out=True)
def heaviside(input: Tensor, values: Tensor) -> Tensor:
    """The step function: 0 where ``input`` < 0, 1 where > 0, ``values`` where it is 0."""
    input, values = _t(input), _t(values)
    _same_floating_dtype("heaviside", input, values)
    return E.Compare.apply(input, values, ufunc=np.heaviside)


@public(inplace=True, out=True)
def nextafter(input: Tensor, other: Tensor) -> Tensor:
    """The next representable float after ``input`` in the direction of ``other``."""
    input, other = _t(input), _t(other)
    _same_floating_dtype("nextafter", input, other)
    if not input.dtype.is_floating_point:
        raise RuntimeError(f'"nextafter_cpu" not implemented for \'{_scalar(input._data)}\'')
    return E.Compare.apply(input, other, ufunc=np.nextafter)


class Ldexp(Op):
    """``input * 2**other``, as PyTorch's ``mul(input, pow(2.0, other))``; the gradient scale
    ``pow(2, other)`` is taken in ``other``'s dtype, as PyTorch's derivative does: for an
    integer ``other`` a negative exponent gives a zero gradient there (integer powers)."""

    __slots__ = ("shape", "integer")
    pytorch_name = "LdexpBackward0"
    derivative = ("d ldexp(u, e)/du = 2^e",)

    def forward(self, xp, a, e):
        self.integer = e.dtype.kind in "biu"
        scale = xp.exp2(e.astype(get_default_dtype().numpy) if self.integer else e)
        a, scale = E.promote(a, scale)
        out = a * scale
        self.saved, self.shape = (e,), a.shape
        return out

    def backward(self, xp, g):
        (e,) = self.saved
        if self.integer:
            scale = xp.where(e < 0, 0, xp.left_shift(1, xp.maximum(e, 0)))
        else:
            scale = xp.exp2(e)
        return E.sum_to_shape(g * scale, tuple(self.shape)).astype(g.dtype, copy=False), None


@public(inplace=True, out=True)
def ldexp(input: Tensor, other: Tensor) -> Tensor:
    """``input * 2**other`` (see :class:`Ldexp`)."""
    return Ldexp.apply(_t(input), _t(other))


class _Exponent(E.NoGradientUfunc):
    """The power-of-two exponent of each float, as int32 (``frexp``'s second result)."""

    __slots__ = ()

    def forward(self, xp, a, ufunc):
        return xp.frexp(a)[1].astype(xp.int32)


@public()
def frexp(input: Tensor) -> Any:
    """``(mantissa, exponent)`` with ``input = mantissa * 2**exponent`` and |mantissa| in
    [0.5, 1): the exponent as int32; the mantissa's gradient is the input's scaled by
    ``2**-exponent``, as PyTorch's."""
    if not input.is_floating_point():
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    exponent = _Exponent.apply(input, np.frexp)
    mantissa = input / exp2(exponent.to(input.dtype))
    return frexp_result(mantissa, exponent)


__all__ = [name for name, row in ROWS.items() if row.function.__module__ == __name__]
