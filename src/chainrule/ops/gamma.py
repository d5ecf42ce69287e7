"""The log-gamma function and its derivatives: ``lgamma``, ``digamma`` and ``polygamma(n, .)``
(``torch.lgamma``, ``torch.digamma``, ``torch.polygamma``), each the derivative of the one
before, as PyTorch computes them on the CPU: ``lgamma`` is the C library's (``math.lgamma``,
elementwise), ``digamma`` and ``trigamma`` are PyTorch's series (recurrence up to 10 or 6, then
the asymptotic expansion), higher orders ``(-1)^(n+1) n! zeta(n + 1, x)`` with Cephes' Hurwitz
zeta."""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Op
from ..backend import to_device, to_numpy
from .elementwise import sum_to_shape
from .namespace import plain

_PSI_10 = 2.25175258906672110764
_DIGAMMA_SERIES = (8.33333333333333333333e-2, -2.10927960927960927961e-2, 7.57575757575757575758e-3,
                   -4.16666666666666666667e-3, 3.96825396825396825397e-3, -8.33333333333333333333e-3,
                   8.33333333333333333333e-2)
_ZETA_SERIES = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9, 7.47242496e10,
                -2.950130727918164224e12, 1.1646782814350067249e14, -4.5979787224074726105e15,
                1.8152105401943546773e17, -7.1661652561756670113e18)
_MACHEP = 1.11022302462515654042e-16

_lgamma = np.frompyfunc(math.lgamma, 1, 1)


def _floating(a):
    return a if a.dtype.kind == "f" else a.astype(np.float32)


def _on_host(function, a):
    """``function`` of a device array computed on the host (the series are NumPy code)."""
    if type(a) is np.ndarray:
        return function(a)
    return to_device(function(to_numpy(a)), a.device) if hasattr(a, "device") else function(np.asarray(a))


def lgamma_array(a):
    """log|Gamma(a)| by the C library, elementwise (inf at 0 and the negative integers)."""
    a = _floating(a)
    with np.errstate(all="ignore"):
        out = np.empty(a.shape, dtype=a.dtype)
        flat = a.reshape(-1).astype(np.float64)
        result = np.empty(flat.shape)
        finite = np.isfinite(flat)
        poles = finite & (flat <= 0) & (flat == np.floor(flat))
        regular = finite & ~poles
        result[regular] = _lgamma(flat[regular]).astype(np.float64) if regular.any() else 0
        result[poles] = np.inf
        result[~finite] = np.where(np.isnan(flat[~finite]), np.nan, np.inf)
        out.reshape(-1)[...] = result
    return out


def digamma_array(a):
    """psi(a): PyTorch's ``calc_digamma`` (reflection below 0, recurrence up to 10, asymptotic
    series), elementwise in a's precision."""
    a = _floating(a)
    x = a.astype(np.float64)
    with np.errstate(all="ignore"):
        negative = x < 0
        integer = x == np.trunc(x)
        fraction = x - np.trunc(x)
        reflected = np.where(negative, 1 - x, x)
        result = np.zeros_like(reflected)
        value = reflected.copy()
        for _ in range(10):
            small = value < 10
            result = np.where(small, result - 1 / value, result)
            value = np.where(small, value + 1, value)
        z = 1.0 / (value * value)
        series = 0.0
        for coefficient in _DIGAMMA_SERIES:
            series = series * z + coefficient
        tail = np.where(value < 1.0e17, z * series, 0.0)
        psi = np.where(value == 10, result + _PSI_10, result + np.log(value) - 0.5 / value - tail)
        psi = np.where(negative, psi - math.pi / np.tan(math.pi * fraction), psi)
        psi = np.where(negative & integer, np.nan, psi)
        psi = np.where(x == 0, np.copysign(np.inf, -x), psi)
    return psi.astype(a.dtype)


def trigamma_array(a):
    """psi'(a): PyTorch's ``calc_trigamma`` (reflection below 1/2, six recurrence steps, then
    the asymptotic series)."""
    a = _floating(a)
    x = a.astype(np.float64)
    with np.errstate(all="ignore"):
        reflect = x < 0.5
        pi = a.dtype.type(math.pi)  # the reflection in a's precision, as PyTorch's (its value at the poles)
        sin_pi_x = np.sin(pi * a)
        result = np.where(reflect, -(pi * pi) / (sin_pi_x * sin_pi_x), 0.0).astype(np.float64)
        x = np.where(reflect, 1 - x, x)
        for _ in range(6):
            result = result + 1 / (x * x)
            x = x + 1
        ixx = 1 / (x * x)
        result = result + (1 + 1 / (2 * x) + ixx * (1.0 / 6 - ixx * (1.0 / 30 - ixx * (1.0 / 42)))) / x
    return np.where(reflect, -result, result).astype(a.dtype)


def hurwitz_zeta(s, q):
    """zeta(s, q) = sum_k (k + q)^-s elementwise over the broadcast ``s`` and ``q`` (Cephes'
    Euler-Maclaurin summation): inf at s = 1 and at the poles q = 0, -1, ...; NaN for s < 1
    and for a negative q with a non-integer s."""
    q = np.asarray(q, dtype=np.float64)
    s = np.asarray(s, dtype=np.float64)
    s, q = np.broadcast_arrays(s, q)
    with np.errstate(all="ignore"):
        total = q ** -s
        a = q.copy()
        b = np.zeros_like(q)
        finite = q[np.isfinite(q)]  # (an infinite q gives its limit without changing the count)
        steps = int(max(9, math.ceil(9 - float(finite.min())) + 1)) if finite.size else 9
        for _ in range(steps):
            a = a + 1.0
            b = a ** -s
            total = total + b
        w = a
        total = total + b * w / (s - 1) - 0.5 * b
        factor = np.ones_like(s)
        k = 0.0
        for coefficient in _ZETA_SERIES:
            factor = factor * (s + k)
            b = b / w
            total = total + factor * b / coefficient
            k += 1.0
            factor = factor * (s + k)
            b = b / w
            k += 1.0
        poles = (q <= 0) & (q == np.floor(q))
        total = np.where(poles, np.inf, total)
        total = np.where((q <= 0) & ~poles & (s != np.floor(s)), np.nan, total)
        total = np.where(s == 1, np.inf, np.where(s < 1, np.nan, total))
    return total


class Zeta(Op):
    """The Hurwitz zeta function zeta(x, q); a gradient flows to q only (PyTorch has none for x)."""

    __slots__ = ()
    pytorch_name = "SpecialZetaBackward0"
    derivative = ("d zeta(x, q)/dq = -x zeta(x + 1, q)",)

    def forward(self, xp, x, q):
        x, q = _floating(x), _floating(q)
        self.saved = (x, q)
        out = hurwitz_zeta(to_numpy(x), to_numpy(q)).astype(np.promote_types(x.dtype, q.dtype))
        return out if type(x) is np.ndarray else to_device(out, x.device)

    def backward(self, xp, g):
        x, q = self.saved
        if self.needs_grad(0):
            raise RuntimeError("the derivative for 'zeta' is not implemented.")
        if not plain(xp):
            return None, g * -x * Zeta.apply(x + 1, q)
        slope = _on_host(lambda values: -values * hurwitz_zeta(values + 1, to_numpy(q)), x)
        return None, sum_to_shape((g * slope).astype(g.dtype), q.shape)


def polygamma_array(n: int, a):
    """psi^(n)(a)."""
    if n == 0:
        return digamma_array(a)
    if n == 1:
        return trigamma_array(a)
    a = _floating(a)
    sign = 1.0 if n % 2 else -1.0
    return (sign * math.exp(math.lgamma(n + 1.0)) * hurwitz_zeta(n + 1.0, a.astype(np.float64))).astype(a.dtype)


class Lgamma(Op):
    """log|Gamma(u)|."""

    __slots__ = ()
    arguments = "unary"
    derivative = ("d lgamma(u)/du = digamma(u)",)

    def forward(self, xp, a):
        self.saved = (a,)
        return _on_host(lgamma_array, a)

    def backward(self, xp, g):
        (a,) = self.saved
        return g * Polygamma.apply(a, 0) if not plain(xp) else g * _on_host(digamma_array, a)


class Polygamma(Op):
    """psi^(n)(u), the (n+1)-th derivative of lgamma (n = 0: digamma)."""

    __slots__ = ("n",)
    arguments = "unary"
    derivative = ("d polygamma(n, u)/du = polygamma(n + 1, u)",)

    def forward(self, xp, a, n):
        self.n = n
        self.saved = (a,)
        return _on_host(lambda x: polygamma_array(n, x), a)

    def backward(self, xp, g):
        (a,) = self.saved
        n = self.n + 1
        if not plain(xp):
            return g * Polygamma.apply(a, n)
        return g * _on_host(lambda x: polygamma_array(n, x), a)



_TINY = 1e-300


def regularized_gamma(a, x, upper: bool):
    """P(a, x) = gamma(a, x) / Gamma(a) (``upper``: Q = 1 - P), elementwise in doubles: the
    series below x = a + 1, Lentz's continued fraction for Q above (Numerical Recipes' split).
    P(0, x) = 1 for x > 0, P(a, 0) = 0; NaN for a negative a or x, as PyTorch's igamma."""
    a, x = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(x, dtype=np.float64))
    with np.errstate(all="ignore"):
        log_front = a * np.log(x) - x - lgamma_array(a)
        # the series: sum_n x^n / (a (a+1) ... (a+n))
        term = 1.0 / a
        total = term.copy()
        shifted = a.copy()
        for _ in range(300):
            shifted = shifted + 1.0
            term = term * x / shifted
            total = total + term
        lower_series = total * np.exp(log_front)
        # the continued fraction for Q
        b = x + 1.0 - a
        c = np.full_like(x, 1.0 / _TINY)
        d = 1.0 / np.where(np.abs(b) < _TINY, _TINY, b)
        h = d.copy()
        for i in range(1, 300):
            an = -i * (i - a)
            b = b + 2.0
            d = an * d + b
            d = 1.0 / np.where(np.abs(d) < _TINY, _TINY, d)
            c = b + an / c
            c = np.where(np.abs(c) < _TINY, _TINY, c)
            h = h * d * c
        upper_fraction = np.exp(log_front) * h
        p = np.where(x < a + 1.0, lower_series, 1.0 - upper_fraction)
        p = np.where(x == 0, 0.0, p)
        p = np.where(np.isinf(x) & (x > 0), 1.0, p)
        p = np.where((a == 0) & (x > 0), 1.0, p)
        p = np.where((a < 0) | (x < 0) | np.isnan(a) | np.isnan(x), np.nan, p)
        q = np.where(x < a + 1.0, 1.0 - lower_series, upper_fraction)
        q = np.where(x == 0, 1.0, q)
        q = np.where(np.isinf(x) & (x > 0), 0.0, q)
        q = np.where((a == 0) & (x > 0), 0.0, q)
        q = np.where((a < 0) | (x < 0) | np.isnan(a) | np.isnan(x), np.nan, q)
        return np.clip(q, 0.0, 1.0) if upper else np.clip(p, 0.0, 1.0)


class RegularizedGamma(Op):
    """``igamma(a, x)`` (P) or ``igammac(a, x)`` (Q); differentiable in x only, as PyTorch's."""

    __slots__ = ("upper", "kind")
    pytorch_name = "IgammaBackward0"
    derivative = ("d P(a, x)/dx = x^(a-1) e^-x / Gamma(a)",)

    def forward(self, xp, a, x, upper):
        kind = np.result_type(a, x)
        kind = kind if kind.kind == "f" else np.dtype(np.float32)
        self.upper, self.kind = upper, kind
        self.saved = (a, x)
        return _on_host(lambda _: regularized_gamma(to_numpy(a), to_numpy(x), upper).astype(kind), a)

    def backward(self, xp, g):
        a, x = self.saved
        if self.needs_grad(0):
            raise NotImplementedError(f"the derivative for '{'igammac' if self.upper else 'igamma'}: input' is not "
                                      f"implemented.")
        with np.errstate(all="ignore"):
            density = np.exp((to_numpy(a) - 1) * np.log(to_numpy(x)) - to_numpy(x) - lgamma_array(to_numpy(a)))
        density = density.astype(self.kind)
        grad = g * (-density if self.upper else density)
        return None, sum_to_shape(grad, x.shape), None
