"""Random draws as ops: ``rand``, ``randn``, ``randint``, ``randperm``, ``normal`` and
``bernoulli`` (and so ``rand_like``, ``randn_like``) draw from the generator's stream (on the
CPU PyTorch's, :mod:`chainrule.mt19937`) through one non-differentiable op, so
that a captured plan (``chainrule.compiler``) draws again at each call, from the generator's
stream, as eager does (dropout's masks are drawn the same way, by ``KeepMask``)."""
from __future__ import annotations

import numpy as np

from ..autograd.function import Op
from ..backend import device_of, get_array_module
from ..mt19937 import CpuSampler
from ..random import _generator
from .gamma import digamma_array


class Sample(Op):
    """``generator.<method>(*args)`` as ``dtype`` on ``device`` (the default generator of the
    device when ``generator`` is None); method "bernoulli" is ``random(shape) < probability``
    for the arguments ``(probability, shape)``."""

    __slots__ = ()
    differentiable = False
    random = True

    def forward(self, xp, method, generator, device, dtype, *args):
        rng = _generator(generator, device)
        if method == "permutation":
            return rng.permutation(*args).astype(dtype)
        if method == "bernoulli" and not isinstance(rng, CpuSampler):
            probability, shape = args
            return (rng.random(shape) < probability).astype(dtype)
        # (the result's dtype decides how many bits of PyTorch's stream each value takes)
        return getattr(rng, method)(*args, dtype=dtype).astype(dtype, copy=False)


class Multinomial(Op):
    """``num_samples`` indices per row of ``weights`` (1-D or 2-D), drawn with or without
    ``replacement`` from the row's categorical distribution, as int64: NumPy's ``choice`` on
    the CPU; on a device, the inverse of the cumulative distribution (with replacement) or
    the Gumbel top-k trick (without)."""

    __slots__ = ()
    arguments = "unary"
    differentiable = False
    random = True

    def forward(self, xp, weights, num_samples, replacement, generator):
        if xp is np:
            rows = np.atleast_2d(weights)
            if rows.dtype.kind != "f":
                rows = rows.astype(np.float32)
            out = _generator(generator).multinomial(rows, num_samples, replacement)
            return out if weights.ndim == 2 else out[0]
        return _multinomial_on_device(weights, num_samples, replacement, _generator(generator, device_of(weights)))


def _multinomial_on_device(weights, num_samples, replacement, rng):
    xp = get_array_module(weights)
    rows = (weights.reshape(1, -1) if weights.ndim == 1 else weights).astype(xp.float64)
    if replacement:
        cdf = xp.cumsum(rows, axis=1)
        cdf = cdf / cdf[:, -1:]
        u = rng.random((rows.shape[0], num_samples))
        out = xp.minimum((cdf[:, None, :] <= u[:, :, None]).sum(axis=2), rows.shape[1] - 1)
    else:
        if num_samples > rows.shape[1]:
            raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
        keys = xp.log(rows) - xp.log(-xp.log(rng.random(rows.shape)))
        out = xp.argsort(-keys, axis=1)[:, :num_samples]
    out = out.astype(xp.int64)
    return out if weights.ndim == 2 else out[0]


# -- Gamma and Poisson draws ------------------------------------------------------------------------

#: PyTorch's bivariate rational approximation of d x / d alpha for Gamma(alpha) draws x.
_GAMMA_GRAD_COEFFICIENTS = np.array([
    [0.16009398, -0.094634809, 0.025146376, -0.0030648343, 1, 0.32668115, 0.10406089, 0.0014179084],
    [0.53487893, 0.1298071, 0.065735949, -0.0015649758, 0.16639465, 0.020070113, -0.0035938915, -0.00058392623],
    [0.040121004, -0.0065914022, -0.0026286047, -0.0013441777, 0.017050642, -0.0021309326, 0.00085092367,
     -1.5247877e-07]])


def standard_gamma_grad(alpha: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d x / d alpha of a Gamma(alpha, 1) draw x, held at its CDF value (implicit
    reparameterisation), by PyTorch's approximations: a Taylor series of the CDF for x < 0.8, a
    saddle-point expansion for alpha > 8, a rational fit in (log(x / alpha), log alpha) else."""
    a = alpha.astype(np.float64)
    v = x.astype(np.float64)
    out = np.empty(np.broadcast_shapes(a.shape, v.shape))
    a, v = np.broadcast_to(a, out.shape), np.broadcast_to(v, out.shape)
    with np.errstate(all="ignore"):
        small = v < 0.8
        if small.any():
            aa, xx = a[small], v[small]
            numer, denom = np.ones_like(xx), aa.copy()
            series1, series2 = numer / denom, numer / (denom * denom)
            for i in range(1, 6):
                numer = numer * (-xx / i)
                denom = denom + 1
                series1 = series1 + numer / denom
                series2 = series2 + numer / (denom * denom)
            power = xx ** aa
            pdf = xx ** (aa - 1) * np.exp(-xx)
            cdf = power * series1
            cdf_alpha = (np.log(xx) - digamma_array(aa)) * cdf - power * series2
            result = -cdf_alpha / pdf
            out[small] = np.where(np.isnan(result), 0.0, result)
        large = ~small & (a > 8.0)
        if large.any():
            aa, xx = a[large], v[large]
            near = (0.9 * aa <= xx) & (xx <= 1.1 * aa)
            numer_1 = 1 + 24 * aa * (1 + 12 * aa)
            numer_2 = 1440 * aa * aa + 6 * xx * (53 - 120 * xx) - 65 * xx * xx / aa + aa * (107 + 3600 * xx)
            saddle = numer_1 * numer_2 / (1244160 * aa * aa * aa * aa)
            root = np.sqrt(8 * aa)
            term2 = root / (aa - xx)
            term3 = (xx - aa - aa * np.log(xx / aa)) ** -1.5
            term23 = np.where(xx < aa, term2 - term3, term2 + term3)
            term1 = np.log(xx / aa) * term23 - np.sqrt(2 / aa) * (aa + xx) / ((aa - xx) * (aa - xx))
            stirling = 1 + 1 / (12 * aa) * (1 + 1 / (24 * aa))
            out[large] = np.where(near, saddle, -stirling * xx * term1 / root)
        rest = ~small & ~large
        if rest.any():
            aa, xx = a[rest], v[rest]
            u, w = np.log(xx / aa), np.log(aa)
            c = _GAMMA_GRAD_COEFFICIENTS
            coef = c[0][:, None] + u * (c[1][:, None] + u * c[2][:, None])
            p = coef[0] + w * (coef[1] + w * (coef[2] + w * coef[3]))
            q = coef[4] + w * (coef[5] + w * (coef[6] + w * coef[7]))
            out[rest] = np.exp(p / q)
    return out


class StandardGamma(Op):
    """Gamma(alpha, 1) draws (``torch._standard_gamma``) from the CPU's stream, PyTorch's
    sampler; differentiable in alpha by implicit reparameterisation."""

    __slots__ = ()
    arguments = "unary"
    random = True
    pytorch_name = "StandardGammaBackward0"
    derivative = ("d x/d alpha = -(d CDF(x; alpha)/d alpha) / pdf(x; alpha)",)

    def forward(self, xp, alpha):
        if xp is not np:
            raise NotImplementedError("Gamma draws are implemented on the CPU only in chainrule")
        out = _generator(None).standard_gamma(alpha)
        self.saved = (alpha, out)
        return out

    def backward(self, xp, g):
        alpha, out = self.saved
        if xp is not np:
            raise NotImplementedError("the second derivative of a Gamma draw is not implemented")
        return g * standard_gamma_grad(alpha, out).astype(alpha.dtype)


class DirichletDraw(Op):
    """Dirichlet draws along the last dim (``torch._sample_dirichlet``), PyTorch's sampler.
    Their gradient in the concentration (PyTorch's ``_dirichlet_grad``) is not implemented:
    the backward says so rather than give a wrong one."""

    __slots__ = ()
    arguments = "unary"
    random = True
    pytorch_name = "_DirichletBackward"

    def forward(self, xp, alpha):
        if xp is not np:
            raise NotImplementedError("Dirichlet draws are implemented on the CPU only in chainrule")
        return _generator(None).dirichlet(alpha)

    def backward(self, xp, g):
        raise NotImplementedError("the gradient of a Dirichlet (or Beta) sample with respect to its concentration "
                                  "(rsample) is not implemented in chainrule; sample() draws the same values")


class PoissonDraw(Op):
    """Poisson draws of the given rates (``torch.poisson``), PyTorch's sampler."""

    __slots__ = ()
    arguments = "unary"
    differentiable = False
    random = True

    def forward(self, xp, rates, generator):
        if xp is not np:
            raise NotImplementedError("Poisson draws are implemented on the CPU only in chainrule")
        return _generator(generator).poisson(rates)


class BinomialDraw(Op):
    """Binomial draws of ``count`` trials each succeeding with ``prob`` (``torch.binomial``),
    PyTorch's sampler (inversion below 10 expected successes, BTRS above)."""

    __slots__ = ()
    differentiable = False
    random = True

    def forward(self, xp, count, prob, generator):
        if xp is not np:
            raise NotImplementedError("Binomial draws are implemented on the CPU only in chainrule")
        return _generator(generator).binomial(count, prob)
