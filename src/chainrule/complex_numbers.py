"""Complex tensors: their parts (``real``, ``imag``, also Tensor properties), ``conj``,
``angle``, ``polar``, ``complex`` and the real views ``view_as_real``/``view_as_complex``.

chainrule has no lazy conjugate bit: ``conj`` makes the conjugate at once, so ``is_conj`` is
always False and ``resolve_conj`` returns the tensor itself.  Gradients follow PyTorch's
convention for complex numbers (``ops.wirtinger``)."""
from __future__ import annotations

from .backend import get_array_module
from .ops import complex as C
from .registry import ROWS, public
from .tensor import Tensor, _make


@public(method=False, xp="real")
def real(input: Tensor) -> Tensor:
    """The real parts of a complex tensor (a view: writing to it changes ``input``); a real
    tensor itself."""
    return C.Real.apply(input) if input.is_complex() else input


@public(method=False, xp="imag")
def imag(input: Tensor) -> Tensor:
    """The imaginary parts of a complex tensor (a view: writing to it changes ``input``)."""
    if not input.is_complex():
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return C.Imag.apply(input)


@public(xp="conj")
def conj(input: Tensor) -> Tensor:
    """The complex conjugate of each element (a real tensor itself)."""
    return C.Conj.apply(input) if input.is_complex() else input


@public()
def conj_physical(input: Tensor) -> Tensor:
    """The complex conjugate of each element, computed now (as ``conj`` in chainrule)."""
    return C.Conj.apply(input) if input.is_complex() else input


@public()
def resolve_conj(input: Tensor) -> Tensor:
    """``input`` itself: chainrule's conjugates are always computed, never pending."""
    return input


@public()
def resolve_neg(input: Tensor) -> Tensor:
    """``input`` itself: chainrule's negations are always computed, never pending."""
    return input


@public()
def is_conj(input: Tensor) -> bool:
    """False: chainrule has no lazy conjugate bit (``conj`` computes the conjugate)."""
    return False


@public()
def is_neg(input: Tensor) -> bool:
    """False: chainrule has no lazy negation bit (negations are computed)."""
    return False


@public()
def isreal(input: Tensor) -> Tensor:
    """Whether each element is real: its imaginary part is 0 (every element of a real tensor)."""
    data = input._data
    return _make(get_array_module(data).isreal(data))


@public()
def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dims (``.mH``): a view for real tensors."""
    if input.ndim < 2:
        raise RuntimeError(f"tensor.adjoint() is only supported on matrices or batches of matrices. Got "
                           f"{input.ndim}-D tensor.")
    return conj(input.transpose(-2, -1))


@public(method=False)
def is_complex(input: Tensor) -> bool:
    """Whether ``input``'s dtype is complex64 or complex128."""
    return input.is_complex()


@public(out=True)
def angle(input: Tensor) -> Tensor:
    """The argument of each element in radians, atan2(imag, real): 0 or pi for real values."""
    return C.Angle.apply(input)


@public(method=False, out=True)
def complex(real: Tensor, imag: Tensor) -> Tensor:
    """The complex tensor ``real + i imag`` (float32 parts give complex64, float64 complex128)."""
    return C.Complex.apply(real, imag)


@public(method=False, out=True)
def polar(abs: Tensor, angle: Tensor) -> Tensor:
    """The complex tensor of the given magnitudes and angles: ``abs * (cos(angle) + i sin(angle))``."""
    return C.Polar.apply(abs, angle)


@public(method=False)
def view_as_real(input: Tensor) -> Tensor:
    """A complex tensor as a real one with a last dim of 2 (real, imaginary), sharing its storage."""
    return C.ViewAsReal.apply(input)


@public(method=False)
def view_as_complex(input: Tensor) -> Tensor:
    """A real tensor with a last dim of 2 (real, imaginary) as a complex one, sharing its storage."""
    return C.ViewAsComplex.apply(input)


def real_part(self: Tensor) -> Tensor:
    """``tensor.real``: the real parts (a view; the tensor itself when it is real)."""
    return real(self)


def set_real_part(self: Tensor, value: object) -> None:
    """``tensor.real = value``: the real parts overwritten (copied into the view)."""
    real(self).copy_(value)


def imag_part(self: Tensor) -> Tensor:
    """``tensor.imag``: the imaginary parts (a view)."""
    return imag(self)


def set_imag_part(self: Tensor, value: object) -> None:
    """``tensor.imag = value``: the imaginary parts overwritten (copied into the view)."""
    imag(self).copy_(value)


__all__ = [name for name, row in ROWS.items() if row.function.__module__ == __name__]
