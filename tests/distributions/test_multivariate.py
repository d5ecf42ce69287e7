"""MultivariateNormal (from a covariance, a precision or a Cholesky factor), Independent and
their KL divergences against PyTorch's in float64: densities, entropies, moments, gradients
reaching the mean and the covariance, shapes, and the argument errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule

RNG = np.random.default_rng(31)
_M = RNG.standard_normal((2, 3, 3))
COVARIANCE = _M @ _M.transpose(0, 2, 1) + np.eye(3)
_M2 = RNG.standard_normal((3, 3))
OTHER = _M2 @ _M2.T + np.eye(3)
LOC = RNG.standard_normal((2, 3))
VALUES = RNG.standard_normal((4, 2, 3))


def _results(lib, parametrisation):
    D = lib.distributions
    loc, matrix = lib.tensor(LOC, requires_grad=True), lib.tensor(COVARIANCE, requires_grad=True)
    if parametrisation == "scale_tril":
        given = {"scale_tril": lib.linalg.cholesky(matrix)}
    else:
        given = {parametrisation: matrix}
    d = D.MultivariateNormal(loc, **given)
    other = D.MultivariateNormal(lib.tensor(LOC[0]), scale_tril=lib.linalg.cholesky(lib.tensor(OTHER)))
    log_prob = d.log_prob(lib.tensor(VALUES))
    kl = D.kl_divergence(d, other) + D.kl_divergence(other, d)
    (log_prob.sum() + d.entropy().sum() + kl.sum()).backward()
    out = {"log_prob": log_prob, "entropy": d.entropy(), "kl": kl, "mean": d.mean, "variance": d.variance,
           "covariance": d.covariance_matrix, "precision": d.precision_matrix, "scale_tril": d.scale_tril,
           "loc grad": loc.grad, "matrix grad": matrix.grad}
    out = {k: v.detach().numpy() for k, v in out.items()}
    out["shapes"] = (tuple(d.batch_shape), tuple(d.event_shape), tuple(other.batch_shape), tuple(d.rsample((5,)).shape))
    return out


@pytest.mark.parametrize("parametrisation", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_multivariate_normal_matches_pytorch(parametrisation):
    ours, theirs = _results(chainrule, parametrisation), _results(torch, parametrisation)
    assert ours.pop("shapes") == theirs.pop("shapes")
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-9, atol=1e-10, err_msg=key)


def test_rsample_is_reparameterised():
    loc = chainrule.tensor(LOC, requires_grad=True)
    d = chainrule.distributions.MultivariateNormal(loc, covariance_matrix=chainrule.tensor(COVARIANCE))
    chainrule.manual_seed(0)
    d.rsample((200,)).sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), 200.0)


def test_independent_normal_and_its_kl():
    results = []
    for lib in (chainrule, torch):
        D = lib.distributions
        scale = lib.tensor(np.exp(LOC), requires_grad=True)
        diagonal = D.Independent(D.Normal(lib.tensor(LOC), scale), 1)
        standard = D.Independent(D.Normal(lib.zeros(2, 3, dtype=lib.double), lib.ones(2, 3, dtype=lib.double)), 1)
        log_prob = diagonal.log_prob(lib.tensor(VALUES))
        kl = D.kl_divergence(diagonal, standard)
        (log_prob.sum() + kl.sum() + diagonal.entropy().sum()).backward()
        results.append([log_prob.detach().numpy(), kl.detach().numpy(), diagonal.entropy().detach().numpy(),
                        scale.grad.numpy(), (tuple(diagonal.batch_shape), tuple(diagonal.event_shape)),
                        tuple(diagonal.rsample((2,)).shape)])
    ours, theirs = results
    for a, b in zip(ours[:4], theirs[:4]):
        np.testing.assert_allclose(a, b, rtol=1e-10)
    assert ours[4:] == theirs[4:]


def test_argument_errors_like_pytorch():
    for make in (lambda D, L: D.MultivariateNormal(L.tensor(LOC)),
                 lambda D, L: D.MultivariateNormal(L.tensor(1.0), covariance_matrix=L.eye(1, dtype=L.double)),
                 lambda D, L: D.MultivariateNormal(L.tensor(LOC), covariance_matrix=L.tensor([1.0, 2.0])),
                 # (validate_args given: a torch.compile call earlier in the process turns PyTorch's default off)
                 lambda D, L: D.MultivariateNormal(L.tensor(LOC), covariance_matrix=-L.tensor(COVARIANCE),
                                                   validate_args=True),
                 lambda D, L: D.MultivariateNormal(L.tensor(LOC), scale_tril=L.tensor(COVARIANCE), validate_args=True),
                 lambda D, L: D.Independent(D.Normal(L.tensor(LOC), L.ones(2, 3, dtype=L.double)), 3)):
        with pytest.raises(ValueError) as theirs:
            make(torch.distributions, torch)
        with pytest.raises(ValueError) as ours:
            make(chainrule.distributions, chainrule)
        assert str(ours.value).split("(")[0] == str(theirs.value).split("(")[0]
