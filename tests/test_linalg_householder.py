"""torch.geqrf, orgqr and linalg.householder_product (ops/householder.py, factorizations.py),
linalg.tensorinv and tensorsolve against PyTorch in float64: values, gradients, errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from op_parity import check

RNG = np.random.default_rng(29)


@pytest.mark.parametrize("shape", [(4, 4), (2, 5, 3), (3, 5), (2, 3, 4, 2)])
def test_geqrf_as_lapack_packs_it(shape):
    a = RNG.standard_normal(shape)
    check(lambda L, x: list(L.geqrf(x)), a, grad=False)
    check(lambda L, x: list(x.geqrf()), np.array([[1.0, 2.0], [0.0, 3.0], [0.0, 0.0]]), grad=False)
    for library in (torch, chainrule):
        with pytest.raises(NotImplementedError, match="the derivative for 'geqrf' is not implemented."):
            library.geqrf(library.tensor(a, requires_grad=True)).a.sum().backward()


@pytest.mark.parametrize("shape", [(4, 4), (2, 5, 3), (6, 2)])
def test_householder_product_values_and_gradients(shape):
    a = RNG.standard_normal(shape)
    packed, tau = (t.numpy() for t in torch.geqrf(torch.tensor(a)))
    check(lambda L, x, t: L.linalg.householder_product(x, t), packed, tau)
    check(lambda L, x, t: L.orgqr(x, t[..., :1]), packed, tau)
    check(lambda L, x: x.orgqr(L.geqrf(x).tau), a, grad=False)
    q = chainrule.linalg.householder_product(*chainrule.geqrf(chainrule.tensor(a)))
    np.testing.assert_allclose(q.numpy(), np.linalg.qr(a)[0] * np.sign(np.linalg.qr(a)[0][..., :1, :]
                                                                        / q.numpy()[..., :1, :]), atol=1e-12)


def test_tensorinv_and_tensorsolve():
    a = RNG.standard_normal((4, 6, 8, 3))
    check(lambda L, x: L.linalg.tensorinv(x), a)
    check(lambda L, x: L.linalg.tensorinv(x, ind=1), RNG.standard_normal((6, 2, 3)))
    b = RNG.standard_normal((2, 3, 4))
    check(lambda L, x, y: L.linalg.tensorsolve(x, y), RNG.standard_normal((2, 3, 4, 6, 4)), b)
    check(lambda L, x, y: L.linalg.tensorsolve(x, y, dims=(0, 2)), RNG.standard_normal((6, 2, 4, 3, 4)), b)


def test_errors_like_pytorch():
    for make in (lambda L: L.geqrf(L.zeros(3)),
                 lambda L: L.linalg.householder_product(L.zeros(3, 4), L.zeros(2)),
                 lambda L: L.linalg.householder_product(L.zeros(4, 3), L.zeros(4)),
                 lambda L: L.linalg.householder_product(L.zeros(3), L.zeros(2)),
                 lambda L: L.linalg.householder_product(L.zeros(4, 3), L.zeros(2, 2)),
                 lambda L: L.linalg.householder_product(L.zeros(4, 3), L.zeros(2, dtype=L.float64)),
                 lambda L: L.linalg.tensorinv(L.zeros(4, 3, 2)), lambda L: L.linalg.tensorinv(L.zeros(4, 3), ind=0),
                 lambda L: L.linalg.tensorsolve(L.zeros(4, 6, 8, 3), L.zeros(5))):
        with pytest.raises(RuntimeError) as theirs:
            make(torch)
        with pytest.raises(RuntimeError) as ours:
            make(chainrule)
        assert str(ours.value) == str(theirs.value)
