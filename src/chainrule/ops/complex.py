"""Ops of complex tensors that are not holomorphic: their parts, conjugate, angle, and the
ways between a complex tensor and real ones.  Gradients follow PyTorch's convention (see
``ops.wirtinger``): a complex input's gradient is ``dL/dx + i dL/dy``."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Op
from ..dtypes import get_default_dtype
from .elementwise import sum_to_shape
from .linalg import _scalar
from .namespace import plain

#: The complex dtype of each real one's precision (torch.complex of float32 parts is complex64).
COMPLEX_OF = {np.dtype(np.float32): np.dtype(np.complex64), np.dtype(np.float64): np.dtype(np.complex128)}


class Real(Op):
    """The real parts of a complex tensor, a view of its storage."""

    __slots__ = ()
    arguments = "unary"
    is_view = True
    derivative = ("d Re(z)/dz: the gradient g as a complex number g + 0i",)

    def forward(self, xp, a):
        return a.real

    def backward(self, xp, g):
        return g + 0j


class Imag(Op):
    """The imaginary parts of a complex tensor, a view of its storage."""

    __slots__ = ()
    arguments = "unary"
    is_view = True
    derivative = ("d Im(z)/dz: the gradient g as the complex number 0 + gi",)

    def forward(self, xp, a):
        return a.imag

    def backward(self, xp, g):
        return g * 1j


class Conj(Op):
    """The complex conjugate (a new array: chainrule has no lazy conjugate bit)."""

    __slots__ = ()
    arguments = "unary"
    derivative = ("d conj(z)/dz: the conjugate of the gradient",)

    def forward(self, xp, a):
        return xp.conj(a)

    def backward(self, xp, g):
        return xp.conj(g)


class Angle(Op):
    """The argument of each complex element, atan2(y, x) (0 or pi for reals)."""

    __slots__ = ()
    arguments = "unary"
    derivative = ("d angle(z)/dz = i z / |z|^2 (0 at 0; 0 for real z)",)

    def forward(self, xp, a):
        self.saved = (a,)
        out = xp.angle(a)
        return out if a.dtype.kind in "fc" else out.astype(get_default_dtype().numpy)  # (of integers)

    def backward(self, xp, g):
        (a,) = self.saved
        if a.dtype.kind != "c" if plain(xp) else not a.is_complex():
            return g * 0
        size = a.real * a.real + a.imag * a.imag
        return xp.where(size == 0, 0j, g * a * 1j / xp.where(size == 0, 1.0, size))


class Sgn(Op):
    """``z / |z|`` of complex elements (0 at 0): only its angle moves, so the gradient is the
    upstream one less its part along the result, over |z|."""

    __slots__ = ()
    arguments = "unary"
    derivative = ("d sgn(z)/dz: (g - sgn(z) Re(g conj(sgn(z)))) / |z| (0 at 0)",)

    def forward(self, xp, a):
        size = xp.abs(a)
        out = xp.where(size == 0, 0, a / xp.where(size == 0, 1, size)).astype(a.dtype, copy=False)
        self.saved = (a, out)
        return out

    def backward(self, xp, g):
        a, out = self.saved
        size = xp.abs(a)
        along = xp.real(g * xp.conj(out))
        return xp.where(size == 0, 0j, (g - out * along) / xp.where(size == 0, 1.0, size))


class Complex(Op):
    """``torch.complex(real, imag)``: a complex tensor from its parts (broadcast)."""

    __slots__ = ("shapes",)
    derivative = ("d z/d real = 1: Re(g)", "d z/d imag = i: Im(g)")

    def forward(self, xp, real, imag):
        out = _from_parts(xp, real, imag)
        self.shapes = (real.shape, imag.shape)
        return out

    def backward(self, xp, g):
        return (sum_to_shape(xp.real(g), self.shapes[0]) if self.needs_grad(0) else None,
                sum_to_shape(xp.imag(g), self.shapes[1]) if self.needs_grad(1) else None)


class Polar(Op):
    """``torch.polar(abs, angle)``: ``abs * (cos(angle) + i sin(angle))``."""

    __slots__ = ("shapes",)
    derivative = ("d z/d abs = e^(i angle): Re(g conj(e^(i angle)))", "d z/d angle = i z: Im(g conj(z))")

    def forward(self, xp, radius, angle):
        unit = _from_parts(xp, xp.cos(angle), xp.sin(angle), radius)
        out = radius * unit
        self.shapes = (radius.shape, angle.shape)
        self.saved = (unit, out)
        return out

    def backward(self, xp, g):
        unit, out = self.saved
        return (sum_to_shape(xp.real(g * xp.conj(unit)), self.shapes[0]) if self.needs_grad(0) else None,
                sum_to_shape(xp.imag(g * xp.conj(out)), self.shapes[1]) if self.needs_grad(1) else None)


class ViewAsReal(Op):
    """A complex tensor as a real one with a last dim of 2 (real, imaginary), a view."""

    __slots__ = ()
    arguments = "unary"
    is_view = True
    derivative = ("d view_as_real(z)/dz: the gradient's pairs as complex numbers",)

    def forward(self, xp, a):
        if a.dtype.kind != "c":
            raise RuntimeError("view_as_real is only supported for complex tensors")
        return a[..., None].view(a.real.dtype)

    def backward(self, xp, g):
        return ViewAsComplex.forward(self, xp, xp.ascontiguousarray(g)) if plain(xp) else ViewAsComplex.apply(g)


class ViewAsComplex(Op):
    """A real tensor whose last dim is 2 (real, imaginary) as a complex one, a view."""

    __slots__ = ()
    arguments = "unary"
    is_view = True
    derivative = ("d view_as_complex(x)/dx: the gradient as (real, imaginary) pairs",)

    def forward(self, xp, a):
        if a.dtype not in COMPLEX_OF:
            raise RuntimeError(f"view_as_complex is only supported for floating point tensors, but got a tensor "
                               f"of scalar type: {_scalar(a)}")
        if not a.ndim or a.shape[-1] != 2:
            raise RuntimeError("Tensor must have a last dimension of size 2")
        if a.strides[-1] != a.itemsize:
            raise RuntimeError("Tensor must have a last dimension with stride 1")
        if any(stride % (2 * a.itemsize) for stride in a.strides[:-1]):
            raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
        return a.view(COMPLEX_OF[a.dtype])[..., 0]

    def backward(self, xp, g):
        return ViewAsReal.forward(self, xp, g) if plain(xp) else ViewAsReal.apply(g)


def _from_parts(xp: Any, real: Any, imag: Any, other: Any = None) -> Any:
    """The complex array of the given parts (broadcast, with ``other`` too when given), with
    PyTorch's checks of them."""
    if real.dtype != imag.dtype:
        raise RuntimeError(f"Expected object of scalar type {_scalar(real)} but got scalar type "
                           f"{_scalar(imag)} for second argument")
    if real.dtype not in COMPLEX_OF:
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got "
                           f"{_scalar(real)} and {_scalar(imag)}")
    shape = xp.broadcast_shapes(real.shape, imag.shape, *(() if other is None else (other.shape,)))
    out = xp.empty(shape, dtype=COMPLEX_OF[real.dtype])
    out.real, out.imag = real, imag
    return out
