"""The classical orthogonal polynomials of ``torch.special``: Chebyshev T, U, V, W (and their
shifted forms on [0, 1]), Hermite H and He, Laguerre L and Legendre P, evaluated as PyTorch's
kernels evaluate them (the three-term recurrence in the input's dtype, the closed forms at
|x| = 1, the trigonometric form for Chebyshev polynomials of high degree inside (-1, 1)), with
the degree ``n`` per element (truncated to an integer).  No gradient flows through them, as
in PyTorch."""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..autograd.function import Op
from .gamma import _floating


def _recurrence(x, n, first: Callable, step: Callable):
    """p_n(x) per element for degrees ``n`` >= 1 (0 elsewhere): p_0 = 1, p_1 = first(x),
    p_{k+1} = step(x, k, p_k, p_{k-1}) for k = 1 .. n - 1."""
    previous, current = np.ones_like(x), first(x)
    out = np.where(n == 1, current, 0).astype(x.dtype)
    top = int(n.max()) if n.size else 0
    for k in range(1, top):
        previous, current = current, step(x, x.dtype.type(k), current, previous)
        out = np.where(n == k + 1, current, out)
    return out


def _chebyshev(kind: str, x, n):
    one = x.dtype.type(1)
    two_x = x + x
    first = {"t": lambda v: v, "u": lambda v: v + v, "v": lambda v: v + v - one, "w": lambda v: v + v + one}[kind]
    out = _recurrence(x, n, first, lambda v, k, q, p: two_x * q - p)
    inside = np.abs(x) < 1
    with np.errstate(all="ignore"):
        theta = np.arccos(np.where(inside, x, 0)).astype(x.dtype)
        if kind == "t":
            trig, threshold = np.cos(n * theta), 6
        elif kind == "u":
            sine = np.sin(theta)
            trig = np.where(sine != 0, np.sin((n + 1) * theta) / sine, (n + 1) * np.cos((n + 1) * theta) * x)
            threshold = 8
        elif kind == "v":
            trig = np.where(np.sin(theta / 2) != 1, np.cos((n + x.dtype.type(0.5)) * theta) / np.cos(theta / 2),
                            np.where(n % 2 == 0, n + n + 1, -(n + n + 1)))
            threshold = 8
        else:
            trig = np.where(np.cos(theta / 2) != 1, np.sin((n + x.dtype.type(0.5)) * theta) / np.sin(theta / 2),
                            np.where(x > 0, n + n + 1, np.where(n % 2 == 0, 1, -1)))
            threshold = 8
    out = np.where((n > threshold) & inside, trig, out)
    even = n % 2 == 0
    edge = {"t": np.where((x > 0) | even, 1, -1),
            "u": np.where((x > 0) | even, n + 1, -(n + 1)),
            "v": np.where(x > 0, 1, np.where(even, n + n + 1, -(n + n + 1))),
            "w": np.where(x > 0, n + n + 1, np.where(even, 1, -1))}[kind]
    return np.where(np.abs(x) == 1, edge, out)


def _hermite_h(x, n):
    return _recurrence(x, n, lambda v: v + v, lambda v, k, q, p: (v + v) * q - (k + k) * p)


def _hermite_he(x, n):
    return _recurrence(x, n, lambda v: v, lambda v, k, q, p: v * q - k * p)


def _laguerre(x, n):
    one = x.dtype.type(1)
    out = _recurrence(x, n, lambda v: one - v, lambda v, k, q, p: (((k + k) + (one - v)) * q - k * p) / (k + one))
    return np.where(x == 0, 1, out)


def _legendre(x, n):
    one = x.dtype.type(1)
    out = _recurrence(x, n, lambda v: v, lambda v, k, q, p: ((k + k + one) * v * q - k * p) / (k + one))
    return np.where(np.abs(x) == 1, np.where((x > 0) | (n % 2 == 0), 1, -1), out)


_POLYNOMIALS = {
    "chebyshev_polynomial_t": lambda x, n: _chebyshev("t", x, n),
    "chebyshev_polynomial_u": lambda x, n: _chebyshev("u", x, n),
    "chebyshev_polynomial_v": lambda x, n: _chebyshev("v", x, n),
    "chebyshev_polynomial_w": lambda x, n: _chebyshev("w", x, n),
    "hermite_polynomial_h": _hermite_h,
    "hermite_polynomial_he": _hermite_he,
    "laguerre_polynomial_l": _laguerre,
    "legendre_polynomial_p": _legendre,
}


class OrthogonalPolynomial(Op):
    """p_n(x) of the polynomial family ``name`` (a key of :data:`_POLYNOMIALS`, or one of the
    shifted Chebyshev families, p_n(2x - 1)); 0 for a negative degree, 1 for degree 0."""

    __slots__ = ()
    differentiable = False

    def forward(self, xp, x, n, name):
        x = _floating(np.asarray(x))
        degree = np.trunc(np.asarray(n)).astype(np.int64) if np.asarray(n).dtype.kind == "f" else np.asarray(n, np.int64)
        x, degree = np.broadcast_arrays(x, degree)
        if name.startswith("shifted_"):
            x = x + x - x.dtype.type(1)
            name = name[len("shifted_"):]
        with np.errstate(all="ignore"):
            out = _POLYNOMIALS[name](x, degree)
        out = np.where(degree == 0, 1, out)
        return np.where(degree < 0, 0, out).astype(x.dtype)


NAMES = tuple(_POLYNOMIALS) + tuple(f"shifted_{name}" for name in _POLYNOMIALS if name.startswith("chebyshev"))
