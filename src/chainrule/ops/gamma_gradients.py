"""Implicit reparameterisation gradients of Gamma and Dirichlet draws, as PyTorch's CPU kernels
compute them (``torch._standard_gamma_grad``, ``torch._dirichlet_grad``).

A draw ``x`` of a distribution with CDF ``F(x; alpha)`` moves with its parameter at a fixed CDF
value: ``dx/dalpha = -(dF/dalpha) / pdf(x)``.  Neither has a closed form; PyTorch evaluates them
by a handful of approximations chosen per element (series near 0, saddle-point expansions for
large parameters, fitted rational functions elsewhere), and so does this module, elementwise on
NumPy arrays, each branch on the elements it applies to, with PyTorch's operation order so that
float64 results agree to the last few bits.

Both functions work in float64 where PyTorch's kernels do (its ``accscalar_t`` on the CPU) and in
the array's own dtype where they do not (the Beta series of ``dirichlet_grad``), and return the
dtype of the draws."""
from __future__ import annotations

import math

import numpy as np

from .gamma import _DIGAMMA_SERIES, _PSI_10

#: Coefficients of the bivariate rational fit of d x / d alpha for Gamma(alpha) draws x:
#: rows are the powers of log(x / alpha) (0, 1, 2); columns 0-3 the numerator's coefficients of
#: the powers of log(alpha), 4-7 the denominator's.
_GAMMA_FIT = np.array([
    [0.16009398, -0.094634809, 0.025146376, -0.0030648343, 1, 0.32668115, 0.10406089, 0.0014179084],
    [0.53487893, 0.1298071, 0.065735949, -0.0015649758, 0.16639465, 0.020070113, -0.0035938915, -0.00058392623],
    [0.040121004, -0.0065914022, -0.0026286047, -0.0013441777, 0.017050642, -0.0021309326, 0.00085092367,
     -1.5247877e-07]])

#: Coefficients of the rational correction for Beta draws: [numerator|denominator][power of u]
#: [power of a][power of b], u = log x, a = log alpha - u, b = log total - a.
_BETA_FIT = np.array([
    [[[1.003668233, -0.01061107488, -0.0657888334, 0.01201642863],
      [0.6336835991, -0.3557432599, 0.05486251648, -0.001465281033],
      [-0.03276231906, 0.004474107445, 0.002429354597, -0.0001557569013]],
     [[0.221950385, -0.3187676331, 0.01799915743, 0.01074823814],
      [-0.2951249643, 0.06219954479, 0.01535556598, 0.001550077057],
      [0.02155310298, 0.004170831599, 0.001292462449, 6.976601077e-05]],
     [[-0.05980841433, 0.008441916499, 0.01085618172, 0.002319392565],
      [0.02911413504, 0.01400243777, -0.002721828457, 0.000751041181],
      [0.005900514878, -0.001936558688, -9.495446725e-06, 5.385558597e-05]]],
    [[[1, -0.02924021934, -0.04438342661, 0.007285809825],
      [0.6357567472, -0.3473456711, 0.05454656494, -0.002407477521],
      [-0.03301322327, 0.004845219414, 0.00231480583, -0.0002307248149]],
     [[0.5925320577, -0.1757678135, 0.01505928619, 0.000564515273],
      [0.1014815858, -0.06589186703, 0.01272886114, -0.0007316646956],
      [-0.007258481865, 0.001096195486, 0.0003934994223, -4.12701925e-05]],
     [[0.06469649321, -0.0236701437, 0.002902096474, -5.896963079e-05],
      [0.001925008108, -0.002869809258, 0.0008000589141, -6.063713228e-05],
      [-0.0003477407336, 6.959756487e-05, 1.097287507e-05, -1.650964693e-06]]]])


def _c_log(v: float) -> float:
    if v > 0:
        return math.log(v)
    return -math.inf if v == 0 else math.nan


def _c_exp(v: float) -> float:
    try:
        return math.exp(v)
    except OverflowError:
        return math.inf


def _c_pow(base: float, exponent: float) -> float:
    try:
        return math.pow(base, exponent)
    except OverflowError:
        return math.inf
    except ValueError:  # (0 to a negative power: C's pow gives inf)
        return math.inf if base == 0 else math.nan


# PyTorch's kernels call the C library's log, exp and pow on each element; NumPy's SIMD versions
# differ from them in the last bit now and then, so float64 takes them from ``math`` (the C
# library's), and float32 rounds the float64 value, which is what C's logf and powf give.
_libm = {"log": np.frompyfunc(_c_log, 1, 1), "exp": np.frompyfunc(_c_exp, 1, 1), "pow": np.frompyfunc(_c_pow, 2, 1)}


def _c_library(name: str, *arrays: object) -> np.ndarray:
    first = np.asarray(arrays[0])
    wide = [np.asarray(a, dtype=np.float64) for a in arrays]
    out = np.asarray(_libm[name](*wide), dtype=np.float64)
    return out if first.dtype != np.float32 else out.astype(np.float32)


def _log(v: np.ndarray) -> np.ndarray:
    """log in v's dtype, as C's log (logf)."""
    return _c_library("log", v)


def _exp(v: np.ndarray) -> np.ndarray:
    """exp in v's dtype, as C's exp."""
    return _c_library("exp", v)


def _pow(base: np.ndarray, exponent: object) -> np.ndarray:
    """base ** exponent in base's dtype, as C's pow (powf)."""
    return _c_library("pow", base, exponent)


def _by_branch(out: np.ndarray, branches: list, *arrays: np.ndarray) -> np.ndarray:
    """Fill ``out`` branch by branch: ``branches`` is a list of (mask, function of the masked
    arrays); each element takes the first branch whose mask holds there."""
    taken = np.zeros(out.shape, dtype=bool)
    for mask, function in branches:
        mask = mask & ~taken
        if mask.any():
            out[mask] = function(*(a[mask] for a in arrays))
        taken |= mask
    return out


def _digamma(x: np.ndarray) -> np.ndarray:
    """psi(x) for positive ``x`` as PyTorch's gradient kernels take it (``digamma_one``): the
    recurrence up to 10 and the asymptotic series; the recurrence's steps, the logarithm and
    ``0.5 / x`` in x's dtype, the sums and the series in float64; returned in x's dtype."""
    result = np.zeros(x.shape)
    zero, x = x == 0, x.copy()
    for _ in range(10):  # (enough for x >= 0; the parameters here are positive)
        below = x < 10
        result[below] -= 1 / x[below]
        x[below] += 1
    z = 1.0 / (x * x).astype(np.float64)
    series = np.zeros(x.shape)
    for coefficient in _DIGAMMA_SERIES:
        series = series * z + coefficient
    tail = np.where(x < 1.0e17, z * series, 0.0)
    psi = np.where(x == 10, result + _PSI_10, result + _log(x) - 0.5 / x - tail)
    return np.where(zero, np.inf, psi).astype(x.dtype)


# -- Gamma --------------------------------------------------------------------------------------


def _gamma_small_x(alpha: np.ndarray, x: np.ndarray) -> np.ndarray:
    """x < 0.8: the CDF's Taylor series in x (six terms), differentiated in alpha."""
    numer, denom = np.ones_like(x), alpha.copy()
    series1, series2 = numer / denom, numer / (denom * denom)
    for i in range(1, 6):
        numer = numer * (-x / i)
        denom = denom + 1
        series1 = series1 + numer / denom
        series2 = series2 + numer / (denom * denom)
    power = _pow(x, alpha)
    pdf = _pow(x, alpha - 1) * _exp(-x)
    cdf = power * series1
    cdf_alpha = (_log(x) - _digamma(alpha)) * cdf - power * series2
    result = -cdf_alpha / pdf
    return np.where(np.isnan(result), 0.0, result)


def _gamma_large_alpha(alpha: np.ndarray, x: np.ndarray) -> np.ndarray:
    """alpha > 8: Rice's saddle-point expansion (a polynomial within 10% of alpha, where the
    expansion's terms cancel)."""
    near = (0.9 * alpha <= x) & (x <= 1.1 * alpha)
    numer_1 = 1 + 24 * alpha * (1 + 12 * alpha)
    numer_2 = (1440 * (alpha * alpha) + 6 * x * (53 - 120 * x) - 65 * x * x / alpha
               + alpha * (107 + 3600 * x))
    saddle = numer_1 * numer_2 / (1244160 * (alpha * alpha) * (alpha * alpha))
    root = np.sqrt(8 * alpha)
    term2 = root / (alpha - x)
    term3 = _pow(x - alpha - alpha * _log(x / alpha), -1.5)
    term23 = np.where(x < alpha, term2 - term3, term2 + term3)
    term1 = _log(x / alpha) * term23 - np.sqrt(2 / alpha) * (alpha + x) / ((alpha - x) * (alpha - x))
    stirling = 1 + 1 / (12 * alpha) * (1 + 1 / (24 * alpha))
    return np.where(near, saddle, -stirling * (x * term1) / root)


def _gamma_fit(alpha: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Elsewhere: exp of the bivariate rational fit in (log(x / alpha), log alpha)."""
    u, v = _log(x / alpha), _log(alpha)
    c = _GAMMA_FIT
    coef = c[0][:, None] + u * (c[1][:, None] + u * c[2][:, None])
    p = coef[0] + v * (coef[1] + v * (coef[2] + v * coef[3]))
    q = coef[4] + v * (coef[5] + v * (coef[6] + v * coef[7]))
    return _exp(p / q)


def standard_gamma_grad(alpha: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d x / d alpha of Gamma(alpha, 1) draws ``x`` held at their CDF value
    (``torch._standard_gamma_grad(alpha, x)``), in float64, returned in ``x``'s dtype."""
    shape = np.broadcast_shapes(alpha.shape, x.shape)
    a = np.broadcast_to(alpha.astype(np.float64), shape)
    v = np.broadcast_to(x.astype(np.float64), shape)
    with np.errstate(all="ignore"):
        small = v < 0.8
        out = _by_branch(np.empty(shape), [(small, _gamma_small_x), (a > 8.0, _gamma_large_alpha),
                                           (np.ones(shape, dtype=bool), _gamma_fit)], a, v)
    return out.astype(x.dtype, copy=False)


# -- Dirichlet (through Beta marginals) ---------------------------------------------------------


def _beta_grad_alpha_small(x: np.ndarray, alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """x near 0: the Beta CDF's series in x (eleven terms), differentiated in alpha (in the
    draws' dtype, as PyTorch's)."""
    factor = _digamma(alpha) - _digamma(alpha + beta) - _log(x)
    numer = np.ones_like(x)
    series = numer / alpha * (factor + 1 / alpha)
    for i in range(1, 11):
        numer = numer * ((i - beta) * x / i)
        denom = alpha + i
        series = series + numer / denom * (factor + 1 / denom)
    result = x * _pow(1 - x, -beta) * series
    return np.where(np.isnan(result), 0, result)


def _beta_grad_beta_small(x: np.ndarray, alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """d x / d beta for x near 0 by the series (nine terms; in the draws' dtype)."""
    factor = _digamma(alpha + beta) - _digamma(beta)
    numer, betas, dbetas = np.ones_like(x), np.ones_like(x), np.zeros_like(x)
    series = factor / alpha
    for i in range(1, 9):
        numer = numer * (-x / i)
        dbetas = dbetas * (beta - i) + betas
        betas = betas * (beta - i)
        series = series + numer / (alpha + i) * (dbetas + factor * betas)
    result = -_pow(1 - x, 1 - beta) * series
    return np.where(np.isnan(result), 0, result)


def _beta_grad_alpha_mid(x: np.ndarray, alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """alpha and beta both above 6: Rice's saddle-point expansion (a polynomial within a tenth
    of a standard deviation of the mean, where its terms cancel); float64."""
    total = alpha + beta
    mean = alpha / total
    std = np.sqrt(alpha * beta / (total + 1)) / total
    near = (mean - 0.1 * std <= x) & (x <= mean + 0.1 * std)
    beta2 = beta * beta
    poly = 47 * x * beta2 * beta2 + alpha * (
        (43 + 20 * (16 + 27 * beta) * x) * beta2 * beta + alpha * (
            3 * (59 + 180 * beta - 90 * x) * beta2 + alpha * (
                (453 + 1620 * beta * (1 - x) - 455 * x) * beta + alpha * (
                    8 * (1 - x) * (135 * beta - 11)))))
    prefactor_num = (1 + 12 * alpha) * (1 + 12 * beta) / (total * total)
    prefactor_den = 12960 * alpha * alpha * alpha * beta * beta * (1 + 12 * total)
    at_mean = prefactor_num / (1 - x) * poly / prefactor_den
    prefactor = -x / np.sqrt(2 * alpha * beta / total)
    stirling = ((1 + 1 / (12 * alpha) + 1 / (288 * alpha * alpha)) * (1 + 1 / (12 * beta) + 1 / (288 * beta2))
                / (1 + 1 / (12 * total) + 1 / (288 * total * total)))
    term1_num = 2 * (alpha * alpha) * (x - 1) + alpha * beta * (x - 1) - x * beta2
    axbx = alpha * (x - 1) + beta * x
    term1 = term1_num / (np.sqrt(2 * alpha / beta) * _pow(total, 1.5) * axbx * axbx)
    term2 = 0.5 * _log(alpha / (total * x))
    term3 = np.sqrt(8 * alpha * beta / total) / (beta * x + alpha * (x - 1))
    term4 = _pow(beta * _log(beta / (total * (1 - x))) + alpha * _log(alpha / (total * x)), -1.5)
    term1234 = term1 + term2 * (term3 + np.where(x < mean, term4, -term4))
    return np.where(near, at_mean, stirling * prefactor * term1234)


def _beta_fit(x: np.ndarray, alpha: np.ndarray, beta: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Elsewhere: a rational correction, fitted in (log x, log alpha - log x, ...), to the
    analytic approximation ``x (psi(total) - psi(alpha)) / beta``; float64 (the digammas of the
    draws' dtype's alpha and total, as PyTorch's)."""
    psi_total, psi_alpha = (_digamma(v).astype(np.float64) for v in (total, alpha))
    x, alpha, total = (v.astype(np.float64) for v in (x, alpha, total))
    u = _log(x)
    a = _log(alpha) - u
    b = _log(total) - a
    p, q = np.zeros_like(x), np.zeros_like(x)
    for i, pow_u in enumerate((1.0, u, u * u)):
        for j, pow_a in enumerate((1.0, a, a * a)):
            ua = pow_u * pow_a
            cp, cq = _BETA_FIT[0, i, j], _BETA_FIT[1, i, j]
            p = p + ua * (cp[0] + b * (cp[1] + b * (cp[2] + b * cp[3])))
            q = q + ua * (cq[0] + b * (cq[1] + b * (cq[2] + b * cq[3])))
    approx = x * (psi_total - psi_alpha) / (total - alpha)
    return p / q * approx


def dirichlet_grad(x: np.ndarray, alpha: np.ndarray, total: np.ndarray) -> np.ndarray:
    """``torch._dirichlet_grad(x, alpha, total)``: for the Beta(alpha, total - alpha) marginal
    ``x`` of a Dirichlet draw, ``-(dF/dalpha) / pdf(x) / (1 - x)``, elementwise (broadcast), in
    ``x``'s dtype."""
    shape = np.broadcast_shapes(x.shape, alpha.shape, total.shape)
    kind = x.dtype
    x, alpha, total = (np.broadcast_to(v.astype(kind, copy=False), shape) for v in (x, alpha, total))
    with np.errstate(all="ignore"):
        beta = total - alpha
        boundary = total * x * (1 - x)
        branches = [
            ((x <= 0.5) & (boundary < 2.5), lambda x, a, b, t: _beta_grad_alpha_small(x, a, b)),
            ((x >= 0.5) & (boundary < 0.75), lambda x, a, b, t: -_beta_grad_beta_small(1 - x, b, a)),
            ((alpha > 6) & (beta > 6), lambda x, a, b, t: _beta_grad_alpha_mid(
                x.astype(np.float64), a.astype(np.float64), t.astype(np.float64) - a.astype(np.float64))),
            (np.ones(shape, dtype=bool), _beta_fit),
        ]
        return _by_branch(np.empty(shape, dtype=kind), branches, x, alpha, beta, total)
