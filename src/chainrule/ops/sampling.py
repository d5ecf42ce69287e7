"""Random draws as ops: ``rand``, ``randn``, ``randint``, ``randperm``, ``normal`` and
``bernoulli`` (and so ``rand_like``, ``randn_like``) make the same draws from the same
generator as NumPy's ``Generator`` methods always did, through one non-differentiable op, so
that a captured plan (``chainrule.compiler``) draws again at each call, from the generator's
stream, as eager does (dropout's masks are drawn the same way, by ``KeepMask``)."""
from __future__ import annotations

from typing import Any

from ..autograd.function import Op
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
        if method == "bernoulli":
            probability, shape = args
            return (rng.random(shape) < probability).astype(dtype)
        return getattr(rng, method)(*args).astype(dtype)
