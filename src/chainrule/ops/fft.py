"""Discrete Fourier transforms, PyTorch's three kernels: complex to complex (``FftC2C``), real
to complex (``FftR2C``, one-sided or full) and complex to real (``FftC2R``), each over several
dims, and ``Resize`` (the zero padding or trimming that ``n=``/``s=`` ask for).

A transform is linear, so its gradient (PyTorch's convention: ``dL/dx + i dL/dy``) is its
adjoint applied to the upstream gradient: the transform of the other direction with the
normalization swapped ("backward" <-> "forward"; "ortho" is its own).  The adjoint of the
real-to-complex transform extends the one-sided gradient with zeros and keeps the real part;
that of the complex-to-real one doubles the bins whose conjugate twins the Hermitian
half-spectrum leaves out.  Each backward is written with the ops themselves, so that
create_graph records it.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Op
from .namespace import arrays_for, plain

#: The adjoint's normalization: the scale of a transform is the scale of its adjoint's inverse.
ADJOINT_NORM = {"backward": "forward", "forward": "backward", "ortho": "ortho"}

#: The complex dtype a transform computes in, by its input's dtype (integers: the default's).
_COMPLEX = {np.dtype(np.float32): np.dtype(np.complex64), np.dtype(np.float64): np.dtype(np.complex128),
            np.dtype(np.complex64): np.dtype(np.complex64), np.dtype(np.complex128): np.dtype(np.complex128)}


def complex_dtype(dtype: np.dtype) -> np.dtype:
    """The complex dtype of a transform of ``dtype`` values."""
    return _COMPLEX[dtype]


def resize(xp: Any, a: Any, dims: tuple, sizes: tuple) -> Any:
    """``a`` trimmed or padded with zeros at the end of each of ``dims`` to ``sizes``."""
    trim = tuple(slice(0, min(n, a.shape[d])) if d in dims else slice(None)
                 for d, n in zip(range(a.ndim), _full(a.shape, dims, sizes)))
    a = a[trim]
    shape = _full(a.shape, dims, sizes)
    if shape == a.shape:
        return a
    out = xp.zeros(shape, dtype=a.dtype)
    out[tuple(slice(0, n) for n in a.shape)] = a
    return out


def _full(shape: tuple, dims: tuple, sizes: tuple) -> tuple:
    wanted = dict(zip(dims, sizes))
    return tuple(wanted.get(d, n) for d, n in enumerate(shape))


class Resize(Op):
    """Zero padding or trimming along some dims (a transform's ``n``/``s``): its adjoint is
    the resize back to the original sizes."""

    __slots__ = ("dims", "sizes")
    presented_inputs = 1
    pytorch_name = "ConstantPadNdBackward0"
    derivative = ("d resize(u)/du: the gradient resized back (trimmed, or padded with zeros)",)

    def forward(self, xp, a, dims, sizes):
        self.dims, self.sizes = dims, tuple(a.shape[d] for d in dims)
        return resize(xp, a, dims, sizes)

    def backward(self, xp, g):
        if plain(xp):
            return resize(xp, g, self.dims, self.sizes), None, None
        return Resize.apply(g, self.dims, self.sizes), None, None


def _c2c(xp: Any, a: Any, dims: tuple, norm: str, forward: bool) -> Any:
    if not plain(xp):
        return FftC2C.apply(a, dims, norm, forward)
    transform = xp.fft.fftn if forward else xp.fft.ifftn
    return transform(a, axes=dims, norm=norm).astype(complex_dtype(a.dtype), copy=False)


class FftC2C(Op):
    """The complex transform over ``dims`` (``forward``: exponent -2 pi i, else the inverse's +)."""

    __slots__ = ("dims", "norm", "direction")
    presented_inputs = 1
    derivative = ("d fft(u)/du: the adjoint, the transform of the other direction, normalization swapped",)

    def forward(self, xp, a, dims, norm, forward):
        self.dims, self.norm, self.direction = dims, norm, forward
        return _c2c(xp, a, dims, norm, forward)

    def backward(self, xp, g):
        return _c2c(xp, g, self.dims, ADJOINT_NORM[self.norm], not self.direction), None, None, None


class FftR2C(Op):
    """The transform of a real input over ``dims``: one-sided (the last dim's first n//2 + 1
    bins, ``rfft``) or full (``fft`` of a real tensor)."""

    __slots__ = ("dims", "norm", "length")
    presented_inputs = 1
    derivative = ("d rfft(u)/du: the real part of the adjoint of the gradient extended with zeros",)

    def forward(self, xp, a, dims, norm, onesided):
        self.dims, self.norm, self.length = dims, norm, a.shape[dims[-1]]
        dtype = complex_dtype(a.dtype)
        if onesided:
            out = xp.fft.rfftn(a, axes=dims, norm=norm)
        else:
            out = xp.fft.fftn(a, axes=dims, norm=norm)
        return out.astype(dtype, copy=False)

    def backward(self, xp, g):
        last = self.dims[-1]
        if g.shape[last] != self.length:  # one-sided: the missing bins' gradient is zero
            g = resize(xp, g, (last,), (self.length,)) if plain(xp) else Resize.apply(g, (last,), (self.length,))
        return xp.real(_c2c(xp, g, self.dims, ADJOINT_NORM[self.norm], False)), None, None, None


class FftC2R(Op):
    """The real inverse transform of a Hermitian half-spectrum over ``dims`` (``irfft``): the
    last dim's n//2 + 1 bins give ``length`` real values."""

    __slots__ = ("dims", "norm", "length")
    presented_inputs = 1
    derivative = ("d irfft(u)/du: the one-sided transform of the gradient, bins with a conjugate twin doubled",)

    def forward(self, xp, a, dims, norm, length):
        self.dims, self.norm, self.length = dims, norm, length
        out = xp.fft.irfftn(a, s=[*(a.shape[d] for d in dims[:-1]), length], axes=dims, norm=norm)
        return out.astype(a.real.dtype, copy=False)

    def backward(self, xp, g):
        last = self.dims[-1]
        if plain(xp):
            spectrum = xp.fft.rfftn(g, axes=self.dims, norm=ADJOINT_NORM[self.norm]).astype(
                complex_dtype(g.dtype), copy=False)
        else:
            spectrum = FftR2C.apply(g, self.dims, ADJOINT_NORM[self.norm], True)
        bins = spectrum.shape[last]
        weights = arrays_for(xp, g).ones(bins, dtype=np.dtype(g.dtype))
        weights[1:1 + self.length - bins] = 2  # the bins that stand for their conjugate twins too
        return spectrum * weights.reshape((bins,) + (1,) * (len(g.shape) - 1 - last)), None, None, None
