"""Reparameterised draws of the gamma family differentiate in their concentrations, rates and
degrees of freedom as PyTorch's do (implicit reparameterisation: ``_standard_gamma_grad`` for
Gamma, Chi2, StudentT, FisherSnedecor and InverseGamma, ``_dirichlet_grad`` for Dirichlet and
Beta), with the same draws after the same seed.

In float64 the draws are PyTorch's bit for bit, and so, elementwise, are the kernels'
gradients (tests/ops/test_gamma_gradients.py); what reaches the parameters is summed over the
draws (expand's backward) and through the families' transforms in another order than PyTorch's
reductions, hence 1e-12 relative: a few dozen ulps."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule

LIBS = (torch, chainrule)

# name -> (build(D, *params), params): parameters spread over every branch of the approximations
# (concentrations below 1, between 1 and 8, above 8, in the hundreds; Beta marginals near 0 and 1)
FAMILIES = {
    "gamma": (lambda D, c, r: D.Gamma(c, r), ([0.05, 0.5, 1.0, 3.0, 7.5, 12.0, 200.0],
                                              [1.0, 2.0, 0.5, 1.5, 3.0, 0.25, 1.0])),
    "chi2": (lambda D, df: D.Chi2(df), ([0.1, 1.0, 3.0, 17.0, 50.0],)),
    "beta": (lambda D, a, b: D.Beta(a, b), ([0.05, 0.5, 2.0, 9.0, 30.0, 300.0, 0.3],
                                            [0.4, 3.0, 2.0, 12.0, 0.7, 250.0, 40.0])),
    "dirichlet": (lambda D, c: D.Dirichlet(c), ([[0.05, 0.5, 1.0, 4.0], [2.0, 2.0, 2.0, 2.0],
                                                 [10.0, 30.0, 7.0, 0.2]],)),
    "studentt": (lambda D, df, m, s: D.StudentT(df, m, s), ([0.7, 3.0, 10.0, 80.0], [0.0, 1.0, -2.0, 0.5],
                                                             [1.0, 2.0, 0.5, 1.5])),
    "fishersnedecor": (lambda D, a, b: D.FisherSnedecor(a, b), ([1.0, 5.0, 30.0], [2.0, 9.0, 0.8])),
    "inversegamma": (lambda D, c, r: D.InverseGamma(c, r), ([0.7, 3.0, 15.0], [1.0, 0.5, 2.0])),
}


def _draws_and_gradients(lib, name, dtype="float64", sample_shape=(40,)):
    build, params = FAMILIES[name]
    lib.manual_seed(7)
    tensors = [lib.tensor(np.asarray(p, dtype=dtype), requires_grad=True) for p in params]
    draw = build(lib.distributions, *tensors).rsample(sample_shape)
    weights = lib.tensor(np.random.default_rng(1).uniform(-1, 1, tuple(draw.shape)).astype(dtype))
    loss = (weights * draw).sum()  # (an upstream gradient that varies per draw)
    return draw.detach().numpy(), [g.numpy() for g in lib.autograd.grad(loss, tensors)]


@pytest.mark.parametrize("name", list(FAMILIES))
def test_rsample_gradients_are_pytorchs(name):
    (expected_draw, expected), (draw, actual) = (_draws_and_gradients(lib, name) for lib in LIBS)
    np.testing.assert_array_equal(draw, expected_draw)
    for a, e in zip(actual, expected):
        assert np.any(e != 0)
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", ["gamma", "beta", "dirichlet"])
def test_rsample_gradients_in_float32(name):
    """float32 draws are PyTorch's bit for bit.  The Gamma gradient runs in double and is
    rounded, as PyTorch's; the Beta series run in float32 as PyTorch's do, and a one-ulp
    difference in their intermediates (C's logf/powf) sums over the batch: relative 1e-5."""
    (expected_draw, expected), (draw, actual) = (_draws_and_gradients(lib, name, "float32") for lib in LIBS)
    np.testing.assert_array_equal(draw, expected_draw)
    for a, e in zip(actual, expected):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6)


def test_create_graph_gives_a_first_derivative_and_refuses_a_second_as_pytorch():
    out = []
    for lib in LIBS:
        lib.manual_seed(3)
        concentration = lib.tensor([0.5, 4.0, 20.0], dtype=lib.float64, requires_grad=True)
        draw = lib.distributions.Gamma(concentration, 1.0).rsample((2,))
        (grad,) = lib.autograd.grad(draw.pow(2).sum(), concentration, create_graph=True)
        assert grad.requires_grad
        with pytest.raises(NotImplementedError, match="the derivative for '_standard_gamma_grad' is not implemented."):
            lib.autograd.grad(grad.sum(), concentration)
        # Dirichlet's backward is once differentiable: a constant, tied to the upstream
        # gradient's history by a node that refuses a second derivative
        dirichlet = lib.tensor([[0.5, 3.0, 1.0]], dtype=lib.float64, requires_grad=True)
        sample = lib.distributions.Dirichlet(dirichlet).rsample((3,))
        (dgrad,) = lib.autograd.grad(sample.pow(2).sum(), dirichlet, create_graph=True)
        with pytest.raises(RuntimeError, match="trying to differentiate twice a function that was marked with "
                                               "@once_differentiable"):
            dgrad.sum().backward()
        (linear,) = lib.autograd.grad(sample[..., 0].sum(), dirichlet, create_graph=True)
        assert not linear.requires_grad
        out.append((grad.detach().numpy(), dgrad.detach().numpy(), linear.numpy()))
    for a, e in zip(out[1], out[0]):
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=0)


def test_node_names_are_pytorchs():
    for lib in LIBS:
        c = lib.tensor([[1.0, 2.0]], dtype=lib.float64, requires_grad=True)
        assert type(lib.distributions.Dirichlet(c).rsample().grad_fn).__name__ == "_DirichletBackward"
        assert type(lib._standard_gamma(c).grad_fn).__name__ == "StandardGammaBackward0"


def test_the_sampling_functions_take_a_generator_and_sample_dirichlet_has_no_gradient():
    out = []
    for lib in LIBS:
        generator = lib.Generator().manual_seed(5)
        alpha = lib.tensor([[0.3, 1.0, 9.0], [2.0, 0.5, 30.0]], dtype=lib.float64, requires_grad=True)
        gamma = lib._standard_gamma(alpha, generator=generator)
        dirichlet = lib._sample_dirichlet(alpha, generator=generator)
        with pytest.raises(RuntimeError, match="derivative for aten::_sample_dirichlet is not implemented"):
            dirichlet.sum().backward()
        (grad,) = lib.autograd.grad(gamma.sum(), alpha)
        lib.manual_seed(5)
        out.append((gamma.detach().numpy(), dirichlet.detach().numpy(), grad.numpy(),
                    lib._standard_gamma(lib.tensor([2.0, 0.2])).numpy()))
    for a, e in zip(out[1], out[0]):
        np.testing.assert_array_equal(a, e)


def _fit_beta_by_vi(lib):
    """Variational inference for a coin's bias: q = Beta(softplus(a), softplus(b)) fitted to the
    posterior of 12 flips under a Beta(2, 2) prior by maximising a Monte Carlo ELBO through
    rsample with Adam, 20 steps; the losses and final parameters."""
    lib.manual_seed(0)
    D = lib.distributions
    flips = lib.tensor([1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0], dtype=lib.float64)
    raw = lib.tensor([0.0, 0.0], dtype=lib.float64, requires_grad=True)
    optimizer = lib.optim.Adam([raw], lr=0.1)
    prior = D.Beta(lib.tensor(2.0, dtype=lib.float64), lib.tensor(2.0, dtype=lib.float64))
    losses = []
    for _ in range(20):
        optimizer.zero_grad()
        concentrations = lib.nn.functional.softplus(raw)
        q = D.Beta(concentrations[0], concentrations[1])
        z = q.rsample((16,))
        log_likelihood = D.Bernoulli(probs=z.unsqueeze(-1)).log_prob(flips).sum(-1)
        elbo = (log_likelihood + prior.log_prob(z) - q.log_prob(z)).mean()
        loss = -elbo
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return np.array(losses), raw.detach().numpy()


def test_variational_inference_through_beta_rsample_follows_pytorch():
    (expected_losses, expected_raw), (losses, raw) = (_fit_beta_by_vi(lib) for lib in LIBS)
    assert losses[-1] < losses[0]
    np.testing.assert_allclose(losses, expected_losses, rtol=1e-11, atol=0)
    np.testing.assert_allclose(raw, expected_raw, rtol=1e-11, atol=0)
