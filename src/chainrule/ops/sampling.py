"""Random draws as ops: ``rand``, ``randn``, ``randint``, ``randperm``, ``normal`` and
``bernoulli`` (and so ``rand_like``, ``randn_like``) draw from the generator's stream (on the
CPU PyTorch's, :mod:`chainrule.mt19937`) through one non-differentiable op, so
that a captured plan (``chainrule.compiler``) draws again at each call, from the generator's
stream, as eager does (dropout's masks are drawn the same way, by ``KeepMask``).  Gamma and
Dirichlet draws are differentiable in their parameters by implicit reparameterisation, with
PyTorch's approximations (:mod:`chainrule.ops.gamma_gradients`)."""
from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from ..autograd.function import Op
from ..backend import device_of, get_array_module
from ..dtypes import not_implemented
from ..mt19937 import CpuSampler
from ..random import _generator
from ..tensor import Tensor
from .linalg import _scalar
from .namespace import plain


def standard_gamma_grad(alpha: Any, x: Any) -> Any:
    """:func:`chainrule.ops.gamma_gradients.standard_gamma_grad`; that module (PyTorch's
    series and asymptotic approximations) loads at the first gradient, not at import."""
    return _gamma_gradients().standard_gamma_grad(alpha, x)


def dirichlet_grad(x: Any, alpha: Any, total: Any) -> Any:
    """:func:`chainrule.ops.gamma_gradients.dirichlet_grad`, loaded at first use."""
    return _gamma_gradients().dirichlet_grad(x, alpha, total)


def _gamma_gradients() -> Any:
    return importlib.import_module(f"{__package__}.gamma_gradients")


#: The continuous draws, by the name of PyTorch's kernel that refuses an integer dtype.
_CONTINUOUS = {"random": "check_uniform_bounds", "standard_normal": "normal_kernel_cpu", "normal": "normal_kernel_cpu"}


class Sample(Op):
    """``generator.<method>(*args)`` as ``dtype`` on ``device`` (the default generator of the
    device when ``generator`` is None); method "bernoulli" is ``random(shape) < probability``
    for the arguments ``(probability, shape)``."""

    __slots__ = ()
    differentiable = False
    random = True

    def forward(self, xp, method, generator, device, dtype, *args):
        if method in _CONTINUOUS and np.dtype(dtype).kind not in "fcV":
            raise not_implemented(_CONTINUOUS[method], dtype)
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

class StandardGamma(Op):
    """Gamma(alpha, 1) draws (``torch._standard_gamma``) from the CPU's stream, PyTorch's
    sampler; differentiable in alpha by implicit reparameterisation (PyTorch's
    ``_standard_gamma_grad``, whose own derivative PyTorch leaves unimplemented: under
    create_graph the gradient records a :class:`StandardGammaGrad`, which refuses a second)."""

    __slots__ = ()
    arguments = "unary"
    random = True
    pytorch_name = "StandardGammaBackward0"
    derivative = ("d x/d alpha = -(d CDF(x; alpha)/d alpha) / pdf(x; alpha)",)

    def forward(self, xp, alpha, generator=None):
        if xp is not np:
            raise NotImplementedError("Gamma draws are implemented on the CPU only in chainrule")
        out = _generator(generator).standard_gamma(alpha)
        self.saved = (alpha, out)
        return out

    def backward(self, xp, g):
        alpha, out = self.saved
        return g * (standard_gamma_grad(alpha, out) if plain(xp) else StandardGammaGrad.apply(alpha, out))


class StandardGammaGrad(Op):
    """``torch._standard_gamma_grad(alpha, x)``: d x / d alpha of Gamma(alpha, 1) draws x
    (:func:`chainrule.ops.gamma_gradients.standard_gamma_grad`); not differentiable itself."""

    __slots__ = ()
    pytorch_name = "StandardGammaGradBackward0"
    derivative = ("d/d alpha: not implemented (as in PyTorch)", "d/d x: not implemented (as in PyTorch)")

    def forward(self, xp, alpha, x):
        if xp is not np:
            raise NotImplementedError("the gradient of Gamma draws is implemented on the CPU only in chainrule")
        _same_dtype(alpha, x)
        return standard_gamma_grad(alpha, x)

    def backward(self, xp, g):
        raise NotImplementedError("the derivative for '_standard_gamma_grad' is not implemented.")


class DirichletDraw(Op):
    """Dirichlet draws along the last dim, PyTorch's sampler, differentiable in the
    concentration as ``torch.distributions.Dirichlet.rsample`` is (its ``_Dirichlet`` function):
    by implicit reparameterisation through the Beta marginals (``_dirichlet_grad``), once
    differentiable, as PyTorch's (under create_graph: :class:`DelayedError`)."""

    __slots__ = ()
    arguments = "unary"
    random = True
    pytorch_name = "_DirichletBackward"
    derivative = ("d x/d alpha = _dirichlet_grad(x, alpha, sum(alpha)) * (g - sum(x g)), once differentiable",)

    def forward(self, xp, alpha, generator=None):
        if xp is not np:
            raise NotImplementedError("Dirichlet draws are implemented on the CPU only in chainrule")
        out = _generator(generator).dirichlet(alpha)
        self.saved = (alpha, out)
        return out

    def backward(self, xp, g):
        alpha, x = self.saved
        if plain(xp):
            return _dirichlet_backward(alpha, x, g)
        # (PyTorch's backward is once_differentiable)
        return DelayedError.apply(Tensor._wrap(_dirichlet_backward(alpha._data, x._data, g._data)), g)


def _dirichlet_backward(alpha, x, g):
    total = np.broadcast_to(alpha.sum(-1, keepdims=True), alpha.shape)
    return dirichlet_grad(x, alpha, total) * (g - (x * g).sum(-1, keepdims=True))


class DelayedError(Op):
    """What a once-differentiable backward gives under create_graph (PyTorch's
    ``DelayedError`` node): its value, computed outside the graph, tied to the incoming
    gradient's history by a node that refuses to be differentiated."""

    __slots__ = ()
    pytorch_name = "torch::autograd::Error"
    derivative = ("d/d value: none (a constant)", "d/d upstream gradient: refused (once differentiable)")

    def forward(self, xp, value, upstream):
        return value

    def backward(self, xp, g):
        raise RuntimeError("trying to differentiate twice a function that was marked with @once_differentiable")


class SampleDirichlet(DirichletDraw):
    """``torch._sample_dirichlet``: the draws of :class:`DirichletDraw` without their gradient
    (PyTorch's function has none; the distribution's rsample adds it)."""

    __slots__ = ()
    pytorch_name = "NotImplemented"
    derivative = ("d x/d alpha: not implemented (as in PyTorch's _sample_dirichlet)",)

    def backward(self, xp, g):
        raise RuntimeError("derivative for aten::_sample_dirichlet is not implemented")


class DirichletGrad(Op):
    """``torch._dirichlet_grad(x, alpha, total)`` (:func:`chainrule.ops.gamma_gradients.dirichlet_grad`);
    not differentiable itself."""

    __slots__ = ()
    pytorch_name = "NotImplemented"
    derivative = ("d/d x: not implemented (as in PyTorch)", "d/d alpha: not implemented (as in PyTorch)",
                  "d/d total: not implemented (as in PyTorch)")

    def forward(self, xp, x, alpha, total):
        if xp is not np:
            raise NotImplementedError("the gradient of Dirichlet draws is implemented on the CPU only in chainrule")
        _same_dtype(x, alpha, total)
        return dirichlet_grad(x, alpha, total)

    def backward(self, xp, g):
        raise RuntimeError("derivative for aten::_dirichlet_grad is not implemented")


def _same_dtype(first, *others) -> None:
    for other in others:
        if other.dtype != first.dtype:
            raise RuntimeError(f"Found dtype {_scalar(other)} but expected {_scalar(first)}")


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
