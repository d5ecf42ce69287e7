"""chainrule.special against torch.special in float64: values and gradients."""
from __future__ import annotations

import numpy as np
import pytest

from op_parity import check

RNG = np.random.default_rng(5)


@pytest.mark.parametrize("name", ["erf", "erfc", "ndtr", "exp2", "expit", "expm1", "log1p", "sinc", "round"])
def test_unary(name):
    check(lambda L, x: getattr(L.special, name)(x), RNG.standard_normal(6) * 2)


def test_the_rest():
    p = RNG.uniform(0.05, 0.95, 6)
    x = RNG.standard_normal((3, 4))
    check(lambda L, t: [L.special.logit(t), L.special.logit(t, eps=0.1)], p)
    check(lambda L, t: [L.special.softmax(t, 1), L.special.log_softmax(t, 0), L.special.logsumexp(t, 1)], x)
    check(lambda L, t: L.special.softmax(t, 1, dtype=L.float32), x, rtol=1e-5)  # (float32 exp: ulps apart)
    check(lambda L, a, b: [L.special.xlogy(a, b), L.special.xlog1py(a, b)], RNG.standard_normal(5), p[:5])
    check(lambda L, a: L.special.xlog1py(L.tensor([0.0, 2.0], dtype=L.float64), a), np.array([np.nan, 0.5]), grad=False)
    check(lambda L, t: L.special.entr(t), np.array([0.25, 0.5, 2.0, 3.5]))
    check(lambda L, t: L.special.entr(t), np.array([0.0, -1.0, 1.0]), grad=False)


def test_erfc_keeps_its_digits_where_erf_is_near_one():
    x = np.array([0.5, 3.0, 6.0, 9.0, 26.0, -4.0])
    check(lambda L, t: [L.erfc(t), L.special.erfc(t), t.erfc()], x)
    check(lambda L, t: L.special.ndtr(t), np.array([-9.0, -2.0, 0.0, 1.5, 10.0]))
    check(lambda L, t: [L.erfc(t), L.special.ndtr(t)], x.astype(np.float32), rtol=1e-6)
    check(lambda L, t: t.clone().erfc_(), x, grad=False)


def test_zeta_like_torch():
    import torch

    import chainrule
    x = np.array([1.0, 0.5, 1.5, 2.0, 3.0, 7.5, 2.0, 4.0])
    q = np.array([1.0, 1.0, 0.3, -1.5, 2.5, 10.0, 0.0, -0.5])
    check(lambda L, a: L.special.zeta(L.tensor(x, dtype=L.float64), a), np.abs(q) + 0.25)  # values and d/dq
    check(lambda L, a, b: L.special.zeta(a, b), x, q, grad=False)
    check(lambda L, a: [L.special.zeta(2.0, a), L.special.zeta(a, 3)], np.array([1.5, 2.0, 4.0]), grad=False)
    for L in (torch, chainrule):
        with pytest.raises(RuntimeError, match="the derivative for 'zeta' is not implemented"):
            L.special.zeta(L.tensor([2.0], requires_grad=True), L.tensor([1.0])).backward()
