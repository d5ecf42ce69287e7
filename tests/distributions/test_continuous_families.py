"""The continuous families added for PyTorch compatibility (Weibull, Pareto, HalfCauchy,
InverseGamma, Kumaraswamy, FisherSnedecor, GeneralizedPareto, ContinuousBernoulli, VonMises,
LogisticNormal, LowRankMultivariateNormal, OneHotCategoricalStraightThrough) against torch:
seeded samples, densities, moments, entropies, cdfs, expand and gradients through rsample."""
from __future__ import annotations

import numpy as np
import pytest
from dist_parity import check, family

W = np.array([[[0.5, -0.2], [0.1, 0.3], [1.0, 0.0]], [[0.2, 0.2], [-0.4, 0.1], [0.0, 0.7]]])

FAMILIES = {
    "weibull": (lambda D, s, c: D.Weibull(s, c), ([1.0, 2.0, 0.5], [0.7, 1.5, 3.0]), True),
    "pareto": (lambda D, s, a: D.Pareto(s, a), ([1.0, 2.0, 0.5], [0.7, 2.5, 3.0]), True),
    "half_cauchy": (lambda D, s: D.HalfCauchy(s), ([1.0, 0.3],), True),
    "inverse_gamma": (lambda D, c, r: D.InverseGamma(c, r), ([0.5, 1.5, 3.0], [1.0, 2.0, 0.5]), True),
    "kumaraswamy": (lambda D, a, b: D.Kumaraswamy(a, b), ([0.5, 2.0, 3.0], [0.7, 1.5, 4.0]), True),
    "fisher_snedecor": (lambda D, a, b: D.FisherSnedecor(a, b), ([1.5, 3.0, 10.0], [1.0, 3.0, 6.0]), True),
    "generalized_pareto": (lambda D, m, s, c: D.GeneralizedPareto(m, s, c),
                           ([0.0, 1.0, -1.0], [1.0, 0.5, 2.0], [0.0, 0.3, -0.2]), True),
    "continuous_bernoulli": (lambda D, p: D.ContinuousBernoulli(p), ([0.1, 0.4995, 0.5, 0.8],), True),
    "continuous_bernoulli_logits": (lambda D, x: D.ContinuousBernoulli(logits=x), ([-2.0, 0.001, 1.5],), True),
    "von_mises": (lambda D, m, k: D.VonMises(m, k), ([0.5, -1.0, 3.0], [0.3, 4.0, 1e-6]), False),
    "logistic_normal": (lambda D, m, s: D.LogisticNormal(m, s), ([[0.5, -1.0, 0.0]], [[1.0, 0.5, 2.0]]), True),
    "lowrank_mvn": (lambda D, m, w, d: D.LowRankMultivariateNormal(m, w, d),
                    ([[0.0, 1.0, -1.0], [0.5, 0.5, 0.5]], W, [[1.0, 0.5, 2.0], [0.3, 0.3, 1.0]]), True),
    "straight_through": (lambda D, p: D.OneHotCategoricalStraightThrough(p), ([[0.2, 0.3, 0.5]],), True),
}


@pytest.mark.parametrize("name", list(FAMILIES))
def test_family_against_pytorch(name):
    build, params, reparameterised = FAMILIES[name]
    # (PyTorch's GeneralizedPareto.log_prob fails in float64: it compares with a float32 zero)
    dtype = "float32" if name == "generalized_pareto" else "float64"
    tolerance = {"rtol": 2e-5, "atol": 1e-6} if dtype == "float32" else {"rtol": 1e-8, "atol": 1e-10}
    check(family(build, params, reparameterised=reparameterised, dtype=dtype), **tolerance)


@pytest.mark.parametrize("name", ["weibull", "kumaraswamy", "von_mises", "fisher_snedecor"])
def test_float32_samples_match(name):
    build, params, _ = FAMILIES[name]
    check(family(build, params, dtype="float32", sample_shape=(50,)), rtol=2e-5, atol=1e-5)


def test_lowrank_matrices_and_entropy_against_pytorch():
    def run(lib):
        t = lambda v: lib.tensor(np.asarray(v, dtype=np.float64))  # noqa: E731
        d = lib.distributions.LowRankMultivariateNormal(t([0.0, 1.0, -1.0]), t(W), t([[1.0, 0.5, 2.0]]))
        return [d.covariance_matrix, d.precision_matrix, d.scale_tril, d.entropy(), tuple(d.batch_shape)]
    check(run)


def test_exponential_family_entropy_by_bregman_divergence():
    def run(lib):
        d = lib.distributions.ContinuousBernoulli(lib.tensor([0.2, 0.7], dtype=lib.float64))
        return [lib.distributions.ExponentialFamily.entropy(d), d.entropy()]
    check(run)


@pytest.mark.parametrize("parameter", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_wishart_against_pytorch(parameter):
    def run(lib):
        lib.manual_seed(2)
        matrix = lib.tensor([[2.0, 0.3, 0.1], [0.3, 1.0, 0.2], [0.1, 0.2, 1.5]], dtype=lib.float64, requires_grad=True)
        df = lib.tensor([4.0, 6.5], dtype=lib.float64, requires_grad=True)
        given = lib.linalg.cholesky(matrix) if parameter == "scale_tril" else matrix
        d = lib.distributions.Wishart(df, **{parameter: given})
        sample = d.rsample((2,)).detach()  # (PyTorch's rsample cannot backward: it writes into its noise in place)
        out = [sample, d.log_prob(sample), d.mean, d.mode, d.variance, d.entropy(), d.covariance_matrix,
               d.precision_matrix, d.scale_tril, tuple(d.batch_shape), tuple(d.event_shape),
               lib.distributions.kl_divergence(d, lib.distributions.Wishart(df + 1, **{parameter: given}))]
        return out + list(lib.autograd.grad(out[1].sum() + out[5].sum(), [matrix, df]))
    check(run, rtol=1e-8, atol=1e-10)


def test_lkj_cholesky_against_pytorch():
    def run(lib):
        lib.manual_seed(4)
        concentration = lib.tensor([0.5, 1.0, 3.0], dtype=lib.float64, requires_grad=True)
        d = lib.distributions.LKJCholesky(4, concentration)
        sample = d.sample((2,))
        log_prob = d.log_prob(sample)
        return [sample, log_prob, d.support.check(sample), tuple(d.batch_shape), tuple(d.event_shape),
                lib.autograd.grad(log_prob.sum(), concentration)[0], d.expand((2, 3)).log_prob(sample[0])]
    check(run)
