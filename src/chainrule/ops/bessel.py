"""Modified Bessel functions of the first kind and the normal distribution's tails, with
their derivatives: ``i0``, ``i0e``, ``i1``, ``i1e`` (``torch.i0``, ``torch.special.i0e`` ...),
``erfcx``, ``log_ndtr`` and ``ndtri`` (``torch.special``).

Each is computed in float64 on the host with NumPy (erf and erfc are ``ops.nn``'s: SciPy's
when installed, the ``math`` module's otherwise) and rounded once to the input's dtype: Bessel functions by their power series up to
|x| = 30 and Hankel's asymptotic expansion beyond, the scaled ones (``i0e = i0 exp(-|x|)``)
without ever forming the overflowing ``exp(|x|)``; ``erfcx = exp(x^2) erfc(x)`` by the
continued fraction of erfc above x = 4; ``log_ndtr`` as PyTorch composes it from erfc and
erfcx; ``ndtri`` by Newton's method on the exact ``ndtr``.  Values agree with PyTorch's
(Cephes and Faddeeva kernels) to a few units in the last place of float64.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Op
from .gamma import _floating, _on_host
from .namespace import plain
from .nn import _error_function

_SERIES_LIMIT = 30.0  # power series below, asymptotic expansion above (both ~1e-16 there)
_SERIES_TERMS = 80
_ASYMPTOTIC_TERMS = 30
_SQRT_PI = math.sqrt(math.pi)
_SQRT_2PI = math.sqrt(2 * math.pi)
def _erf_array(x):
    return _error_function("erf", x)


def _erfc_array(x):
    return _error_function("erfc", x)


def _bessel_series(order: int, x):
    """I_order(x) = sum_k (x/2)^(2k+order) / (k! (k+order)!) for |x| <= 30."""
    half = x / 2
    term = half ** order / math.factorial(order)
    total = term.copy()
    square = half * half
    for k in range(1, _SERIES_TERMS):
        term = term * square / (k * (k + order))
        total += term
    return total


def _bessel_asymptotic_scaled(order: int, x):
    """I_order(x) exp(-x) for x > 30: Hankel's expansion
    (1/sqrt(2 pi x)) sum_k (-1)^k prod_j (4 order^2 - (2j-1)^2) / (k! (8x)^k)."""
    mu = 4.0 * order * order
    term = np.ones_like(x)
    total = term.copy()
    for k in range(1, _ASYMPTOTIC_TERMS):
        term = -term * (mu - (2 * k - 1) ** 2) / (k * 8.0 * x)
        total += term
    return total / np.sqrt(2 * math.pi * x)


def bessel_i(order: int, a, scaled: bool):
    """I_order(a), or I_order(a) exp(-|a|) when ``scaled``, in a's floating dtype."""
    a = _floating(a)
    x = a.astype(np.float64)
    magnitude = np.abs(x)
    out = np.empty_like(x)
    small = magnitude <= _SERIES_LIMIT
    with np.errstate(over="ignore", invalid="ignore"):
        series = _bessel_series(order, magnitude[small])
        out[small] = series * np.exp(-magnitude[small]) if scaled else series
        large = ~small & ~np.isnan(x)
        scaled_large = _bessel_asymptotic_scaled(order, magnitude[large])
        out[large] = scaled_large if scaled else scaled_large * np.exp(magnitude[large])
    out[np.isnan(x)] = np.nan
    if order % 2:  # I_1 is odd
        out = np.where(x < 0, -out, out)
    return out.astype(a.dtype)


def erfcx_array(a):
    """exp(x^2) erfc(x): directly below x = 4 (x^2 exact enough there), the continued
    fraction erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))) above;
    for negative x, 2 exp(x^2) - erfcx(-x) (overflowing to inf below about -26.6)."""
    a = _floating(a)
    x = a.astype(np.float64)
    out = np.empty_like(x)
    with np.errstate(over="ignore", invalid="ignore"):
        far = x > 4.0
        t = x[far]
        fraction = t.copy()
        for n in range(120, 0, -1):
            fraction = t + (n / 2.0) / fraction
        out[far] = 1.0 / (_SQRT_PI * fraction)
        near = ~far & (x >= 0)
        out[near] = np.exp(x[near] ** 2) * _erfc_array(x[near])
        negative = x < 0
        if negative.any():
            out[negative] = 2.0 * np.exp(x[negative] ** 2) - erfcx_array(-x[negative])
    out[np.isnan(x)] = np.nan
    return out.astype(a.dtype)


def log_ndtr_array(a):
    """log of the standard normal CDF, as PyTorch's ``calc_log_ndtr``: log(erfcx(-t)/2) - t^2
    below x = -1 (t = x/sqrt(2)), log1p(-erfc(t)/2) above."""
    a = _floating(a)
    x = a.astype(np.float64)
    t = x * (1 / math.sqrt(2))
    out = np.empty_like(x)
    low = x < -1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        out[low] = np.log(erfcx_array(-t[low]) / 2) - t[low] * t[low]
        out[~low] = np.log1p(-_erfc_array(t[~low]) / 2)
    return out.astype(a.dtype)


def _ndtr64(x):
    return 0.5 * _erfc_array(-x * (1 / math.sqrt(2)))


def ndtri_array(a):
    """The standard normal quantile: Newton's method on ndtr (through erfc, exact in the
    tails) from the tail approximation -sqrt(-2 log p) corrected, to full float64 precision;
    -inf at 0, inf at 1, NaN outside [0, 1]."""
    a = _floating(a)
    p = a.astype(np.float64)
    out = np.full_like(p, np.nan)
    inside = (p > 0) & (p < 1)
    q = p[inside]
    lower = np.minimum(q, 1 - q)  # the nearer tail, where the start is accurate
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.sqrt(-2.0 * np.log(lower))
        z = -(r - (2.515517 + 0.802853 * r + 0.010328 * r * r) /
              (1 + 1.432788 * r + 0.189269 * r * r + 0.001308 * r ** 3))
        z = np.where(q > 0.5, -z, z)
        for _ in range(8):
            density = np.exp(-0.5 * z * z) / _SQRT_2PI
            # ndtr(z) - q, computed where it has its digits: through erf around the middle
            # (q - 1/2 is exact there), through the nearer tail's erfc elsewhere.
            residual = np.where(np.abs(q - 0.5) < 0.25, 0.5 * _erf_array(z * (1 / math.sqrt(2))) - (q - 0.5),
                                np.where(q > 0.5, (1 - q) - _ndtr64(-z), _ndtr64(z) - q))
            z = z - np.where(density > 0, residual / density, 0)
    out[inside] = np.where(q == 0.5, 0.0, z)  # (Newton's steps approach 0 there without reaching it)
    out[p == 0] = -np.inf
    out[p == 1] = np.inf
    return out.astype(a.dtype)


class _BesselI(Op):
    """I_order(u), or the exponentially scaled I_order(u) exp(-|u|): the four ops below."""

    __slots__ = ()
    arguments = "unary"
    order, scaled = 0, False

    def forward(self, xp, a):
        self.saved = (a,)
        return _on_host(lambda x: bessel_i(self.order, x, self.scaled), a)

    def backward(self, xp, g):
        (a,) = self.saved
        if plain(xp):
            def i(order):
                return _on_host(lambda x: bessel_i(order, x, self.scaled), a)
        else:
            def i(order):
                return _BESSEL[order, self.scaled].apply(a)
        if self.order == 0:
            slope = i(1) - xp.sign(a) * i(0) if self.scaled else i(1)
        else:
            zero = a == 0
            ratio = i(1) / xp.where(zero, 1.0, a)
            slope = xp.where(zero, 0.5, i(0) - i(1) * xp.sign(a) - ratio if self.scaled else i(0) - ratio)
        return g * slope


class I0(_BesselI):
    __slots__ = ()
    derivative = ("d i0(u)/du = i1(u)",)


class I0e(_BesselI):
    __slots__ = ()
    scaled = True
    pytorch_name = "SpecialI0EBackward0"
    derivative = ("d i0e(u)/du = i1e(u) - sign(u) i0e(u)",)


class I1(_BesselI):
    __slots__ = ()
    order = 1
    pytorch_name = "SpecialI1Backward0"
    derivative = ("d i1(u)/du = i0(u) - i1(u)/u (1/2 at 0)",)


class I1e(_BesselI):
    __slots__ = ()
    order, scaled = 1, True
    pytorch_name = "SpecialI1EBackward0"
    derivative = ("d i1e(u)/du = i0e(u) - i1e(u) (sign(u) + 1/u) (1/2 at 0)",)


_BESSEL = {(0, False): I0, (0, True): I0e, (1, False): I1, (1, True): I1e}


class Erfcx(Op):
    """exp(u^2) erfc(u)."""

    __slots__ = ()
    pytorch_name = "SpecialErfcxBackward0"
    arguments = "unary"
    derivative = ("d erfcx(u)/du = 2 u erfcx(u) - 2/sqrt(pi)",)

    def forward(self, xp, a):
        out = _on_host(erfcx_array, a)
        self.saved = (a, out)
        return out

    def backward(self, xp, g):
        a, out = self.saved
        value = out if plain(xp) else Erfcx.apply(a)
        return g * (2 * a * value - 2 / _SQRT_PI)


class LogNdtr(Op):
    """log Phi(u), Phi the standard normal CDF."""

    __slots__ = ()
    pytorch_name = "SpecialLogNdtrBackward0"
    arguments = "unary"
    derivative = ("d log_ndtr(u)/du = exp(-u^2/2 - log_ndtr(u)) / sqrt(2 pi)",)

    def forward(self, xp, a):
        out = _on_host(log_ndtr_array, a)
        self.saved = (a, out)
        return out

    def backward(self, xp, g):
        a, out = self.saved
        value = out if plain(xp) else LogNdtr.apply(a)
        return g / _SQRT_2PI * xp.exp(-(a * a) / 2 - value)


class Ndtri(Op):
    """Phi^-1(p), the standard normal quantile."""

    __slots__ = ()
    pytorch_name = "SpecialNdtriBackward0"
    arguments = "unary"
    derivative = ("d ndtri(p)/dp = sqrt(2 pi) exp(ndtri(p)^2 / 2)",)

    def forward(self, xp, a):
        out = _on_host(ndtri_array, a)
        self.saved = (a, out)
        return out

    def backward(self, xp, g):
        a, out = self.saved
        value = out if plain(xp) else Ndtri.apply(a)
        return g * _SQRT_2PI * xp.exp(value * value / 2)
