"""``chainrule.fft``: PyTorch's ``torch.fft``, discrete Fourier transforms with gradients.

``n``/``s`` pad with zeros or trim each transformed dim first; ``norm`` is "backward" (the
default: the inverse transforms scale by 1/n), "ortho" (both by 1/sqrt(n)) or "forward" (the
forward transforms scale by 1/n).  Real inputs of float32 give complex64, float64 complex128,
integers the default dtype's complex type; the computation stays in the input's precision.
The transforms are the three ops of ``ops/fft.py``; ``hfft``/``ihfft`` are ``irfft``/``rfft``
of the conjugate with the normalization swapped, as PyTorch computes them.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import functional as F
from .complex_numbers import conj
from .creation import tensor
from .dtypes import get_default_dtype, to_numpy
from .ops import fft as K
from .ops.elementwise import Cast
from .ops.linalg import _scalar
from .tensor import Tensor, _dim

__all__ = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn",
           "rfftn", "irfftn", "hfft2", "ihfft2", "hfftn", "ihfftn", "fftfreq", "rfftfreq", "fftshift", "ifftshift"]


def _norm(norm: str | None) -> str:
    if norm is None:
        return "backward"
    if norm not in K.ADJOINT_NORM:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm


def _floating(input: Tensor) -> Tensor:
    """Integer and bool inputs as the default float dtype; float16 is refused, as PyTorch's
    CPU transforms refuse it."""
    kind = input._data.dtype.kind
    if kind in "biu":
        return Cast.apply(input, get_default_dtype().numpy)
    if input._data.dtype == np.float16:
        raise RuntimeError("Unsupported dtype Half")
    return input


def _as_complex(input: Tensor) -> Tensor:
    input = _floating(input)
    return input if input.is_complex() else Cast.apply(input, K.complex_dtype(input._data.dtype))


def _plan(input: Tensor, s: Any, dim: Any) -> tuple:
    """(dims, sizes): the transformed dims (non-negative) and the size of each signal, from
    PyTorch's ``s``/``dim`` (or ``n``/``dim``) arguments."""
    ndim = input._data.ndim
    if isinstance(dim, int):
        dim = (dim,)
    if isinstance(s, int):
        s = (s,)
    if dim is None:
        if s is not None:
            dim = tuple(range(ndim - len(s), ndim))
        else:
            dim = tuple(range(ndim))
    dims = tuple(_dim(d, ndim) for d in dim)
    if len(set(dims)) != len(dims):
        raise RuntimeError("FFT dims must be unique")
    if s is None:
        sizes = tuple(input._data.shape[d] for d in dims)
    else:
        if len(s) != len(dims):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
        sizes = tuple(input._data.shape[d] if n == -1 else int(n) for d, n in zip(dims, s))
    for n in sizes:
        if n < 1:
            raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return dims, sizes


def _resized(input: Tensor, dims: tuple, sizes: tuple) -> Tensor:
    if all(input._data.shape[d] == n for d, n in zip(dims, sizes)):
        return input
    return K.Resize.apply(input, dims, sizes)


def _c2c(input: Tensor, s: Any, dim: Any, norm: str | None, forward: bool) -> Tensor:
    norm = _norm(norm)
    input = _floating(input)
    dims, sizes = _plan(input, s, dim)
    x = _resized(input, dims, sizes)
    if x.is_complex():
        return K.FftC2C.apply(x, dims, norm, forward)
    # A real signal, as PyTorch transforms it: the full (not one-sided) real transform along
    # the last dim, then the complex one along the others; the inverse is the conjugate of
    # the forward transform with the normalization swapped.
    spectrum = K.FftR2C.apply(x, dims[-1:], norm if forward else K.ADJOINT_NORM[norm], False)
    if not forward:
        spectrum = conj(spectrum)
    return K.FftC2C.apply(spectrum, dims[:-1], norm, forward) if len(dims) > 1 else spectrum


def _real_signal(name: str, input: Tensor, s: Any, dim: Any) -> tuple:
    """(the real signal resized, the transformed dims) for a transform of real signals."""
    if input.is_complex():
        raise RuntimeError(f"{name} expects a real input tensor, but got {_scalar(input._data)}")
    input = _floating(input)
    dims, sizes = _plan(input, s, dim)
    return _resized(input, dims, sizes), dims


def _r2c(name: str, input: Tensor, s: Any, dim: Any, norm: str | None) -> Tensor:
    norm = _norm(norm)
    x, dims = _real_signal(name, input, s, dim)
    return K.FftR2C.apply(x, dims, norm, True)


def _ihfft(name: str, input: Tensor, s: Any, dim: Any, norm: str | None) -> Tensor:
    """The one-sided inverse transform of a real signal, as PyTorch computes it: the conjugate
    of the one-sided forward transform along the last dim (normalization swapped), then the
    inverse complex transform along the others."""
    norm = _norm(norm)
    x, dims = _real_signal(name, input, s, dim)
    half = conj(K.FftR2C.apply(x, dims[-1:], K.ADJOINT_NORM[norm], True))
    return K.FftC2C.apply(half, dims[:-1], norm, False) if len(dims) > 1 else half


def _c2r(input: Tensor, s: Any, dim: Any, norm: str | None) -> Tensor:
    norm = _norm(norm)
    input = _as_complex(input)
    dims, sizes = _plan(input, s, dim)
    if s is None or (isinstance(s, Sequence) and s[-1] == -1):
        sizes = sizes[:-1] + (2 * (input._data.shape[dims[-1]] - 1),)
    length = sizes[-1]
    if length < 1:
        raise RuntimeError(f"Invalid number of data points ({length}) specified")
    x = _resized(input, dims, sizes[:-1] + (length // 2 + 1,))
    return K.FftC2R.apply(x, dims, norm, length)


def fft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The one-dimensional discrete Fourier transform along ``dim`` (of ``n`` points)."""
    return _c2c(input, n, dim, norm, True)


def ifft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of :func:`fft`."""
    return _c2c(input, n, dim, norm, False)


def fft2(input: Tensor, s: Any = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:
    """The two-dimensional discrete Fourier transform (over the last two dims by default)."""
    return _c2c(input, s, dim, norm, True)


def ifft2(input: Tensor, s: Any = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:
    """The inverse of :func:`fft2`."""
    return _c2c(input, s, dim, norm, False)


def fftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None) -> Tensor:
    """The n-dimensional discrete Fourier transform (over every dim by default)."""
    return _c2c(input, s, dim, norm, True)


def ifftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None) -> Tensor:
    """The inverse of :func:`fftn`."""
    return _c2c(input, s, dim, norm, False)


def rfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The transform of a real signal along ``dim``: its n // 2 + 1 non-negative frequencies."""
    return _r2c("rfft", input, n, dim, norm)


def irfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of :func:`rfft`: ``n`` (by default 2 * (bins - 1)) real values from a
    one-sided spectrum."""
    return _c2r(input, n, dim, norm)


def rfft2(input: Tensor, s: Any = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:
    """:func:`rfftn` over the last two dims (by default)."""
    return _r2c("rfftn", input, s, dim, norm)


def irfft2(input: Tensor, s: Any = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:
    """The inverse of :func:`rfft2`."""
    return _c2r(input, s, dim, norm)


def rfftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None) -> Tensor:
    """The n-dimensional transform of a real signal, one-sided along the last transformed dim."""
    return _r2c("rfftn", input, s, dim, norm)


def irfftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None) -> Tensor:
    """The inverse of :func:`rfftn`."""
    return _c2r(input, s, dim, norm)


def hfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The transform of a Hermitian-symmetric signal given by its first half: ``n`` real values."""
    return _c2r(conj(input), n, dim, K.ADJOINT_NORM[_norm(norm)])


def ihfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of :func:`hfft`: the one-sided spectrum of a real signal's inverse transform."""
    return _ihfft("ihfft", input, n, dim, norm)


def hfft2(input: Tensor, s: Any = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:
    """:func:`hfftn` over the last two dims (by default)."""
    return _c2r(conj(input), s, dim, K.ADJOINT_NORM[_norm(norm)])


def ihfft2(input: Tensor, s: Any = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:
    """The inverse of :func:`hfft2`."""
    return _ihfft("ihfftn", input, s, dim, norm)


def hfftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None) -> Tensor:
    """The n-dimensional transform of a Hermitian-symmetric signal given by its half along the
    last transformed dim: real values."""
    return _c2r(conj(input), s, dim, K.ADJOINT_NORM[_norm(norm)])


def ihfftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None) -> Tensor:
    """The inverse of :func:`hfftn`."""
    return _ihfft("ihfftn", input, s, dim, norm)


def fftfreq(n: int, d: float = 1.0, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """The sample frequencies of an ``n``-point transform, cycles per unit of the sample
    spacing ``d``: ``[0, 1, ..., (n - 1) // 2, -(n // 2), ..., -1] / (d * n)``."""
    counts = np.concatenate([np.arange((n - 1) // 2 + 1), np.arange(-(n // 2), 0)])
    return _frequencies(counts, n, d, dtype, device, requires_grad)


def rfftfreq(n: int, d: float = 1.0, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """The non-negative sample frequencies of an ``n``-point :func:`rfft`: ``[0, 1, ..., n // 2] / (d * n)``."""
    return _frequencies(np.arange(n // 2 + 1), n, d, dtype, device, requires_grad)


def _frequencies(counts: np.ndarray, n: int, d: float, dtype: Any, device: Any, requires_grad: bool) -> Tensor:
    # (the counts in the result's dtype times 1 / (n d) rounded to it, as PyTorch computes them)
    values = counts.astype(to_numpy(dtype or get_default_dtype())) * (1.0 / (n * d))
    return tensor(values, device=device, requires_grad=requires_grad)


def fftshift(input: Tensor, dim: Any = None) -> Tensor:
    """The zero frequency moved to the centre of each of ``dim`` (every dim by default)."""
    return _shift(input, dim, lambda n: n // 2)


def ifftshift(input: Tensor, dim: Any = None) -> Tensor:
    """The inverse of :func:`fftshift`."""
    return _shift(input, dim, lambda n: (n + 1) // 2)


def _shift(input: Tensor, dim: Any, by: Any) -> Tensor:
    dims = tuple(range(input._data.ndim)) if dim is None else ((dim,) if isinstance(dim, int) else tuple(dim))
    return F.roll(input, tuple(by(input._data.shape[d]) for d in dims), dims)
