"""Random draws as ops: ``rand``, ``randn``, ``randint``, ``randperm``, ``normal`` and
``bernoulli`` (and so ``rand_like``, ``randn_like``) draw from the generator's stream (on the
CPU PyTorch's, :mod:`chainrule.mt19937`) through one non-differentiable op, so
that a captured plan (``chainrule.compiler``) draws again at each call, from the generator's
stream, as eager does (dropout's masks are drawn the same way, by ``KeepMask``)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Op
from ..backend import device_of, get_array_module
from ..mt19937 import CpuSampler
from ..random import _generator


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
