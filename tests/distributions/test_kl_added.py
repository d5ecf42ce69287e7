"""The divergences registered for the added families against torch's kl_divergence: closed
forms, Bregman divergences of an exponential family, the infinite pairs, and gradients."""
from __future__ import annotations

import numpy as np
import pytest
from dist_parity import check, divergence


def _pairs(D, t):
    w = t([[0.5, -0.2], [0.1, 0.3], [1.0, 0.0]])
    lowrank = D.LowRankMultivariateNormal(t([0.0, 1.0, -1.0]), w, t([1.0, 0.5, 2.0]))
    lowrank2 = D.LowRankMultivariateNormal(t([0.5, 0.0, 0.0]), w * 0.5, t([0.7, 1.5, 1.0]))
    mvn = D.MultivariateNormal(t([0.1, 0.2, 0.3]), t([[2.0, 0.3, 0.0], [0.3, 1.0, 0.2], [0.0, 0.2, 1.5]]))
    cb, cb2 = D.ContinuousBernoulli(t([0.2, 0.7, 0.5])), D.ContinuousBernoulli(t([0.6, 0.1, 0.5]))
    pareto, pareto2 = D.Pareto(t([1.0, 2.0, 0.5]), t([3.0, 2.5, 1.5])), D.Pareto(t([0.5, 2.5, 0.5]), t([1.0, 2.0, 4.0]))
    return {
        "binomial": (D.Binomial(10, t([0.2, 0.5])), D.Binomial(10, t([0.4, 0.5]))),
        "binomial_more_trials": (D.Binomial(t([12.0, 10.0]), t([0.2, 0.5])), D.Binomial(10, t([0.4, 0.5]))),
        "continuous_bernoulli": (cb, cb2),
        "lowrank": (lowrank, lowrank2), "mvn_lowrank": (mvn, lowrank), "lowrank_mvn": (lowrank, mvn),
        "pareto": (pareto, pareto2),
        "pareto_exponential": (pareto, D.Exponential(t([1.0, 2.0, 0.5]))),
        "pareto_gamma": (pareto, D.Gamma(t([1.0, 2.0, 0.5]), t([2.0, 1.0, 1.0]))),
        "pareto_normal": (pareto, D.Normal(t([1.0, 2.0, 0.5]), t([2.0, 1.0, 1.0]))),
        "uniform_pareto": (D.Uniform(t([1.0, 0.2, 3.0]), t([2.0, 3.0, 4.0])), pareto),
        "beta_cb": (D.Beta(t([1.0, 2.0, 0.5]), t([2.0, 1.0, 1.0])), cb),
        "uniform_cb": (D.Uniform(t([0.0, 0.2, -1.0]), t([1.0, 0.5, 0.5])), cb),
        "cb_exponential": (cb, D.Exponential(t([1.0, 2.0, 0.5]))),
        "cb_normal": (cb, D.Normal(t([1.0, 2.0, 0.5]), t([2.0, 1.0, 1.0]))),
        "cb_uniform": (cb, D.Uniform(t([0.0, -1.0, 0.1]), t([1.0, 2.0, 0.9]))),
        "normal_pareto": (D.Normal(t([1.0, 2.0, 0.5]), t([2.0, 1.0, 1.0])), pareto),
        "poisson_binomial": (D.Poisson(t([1.0, 2.0])), D.Binomial(10, t([0.4, 0.5]))),
        "halfcauchy": (D.HalfCauchy(t([1.0, 2.0])), D.HalfCauchy(t([0.5, 2.5]))),
        "inverse_gamma": (D.InverseGamma(t([1.0, 2.0]), t([0.5, 2.5])), D.InverseGamma(t([2.0, 2.0]), t([1.0, 1.0]))),
        "weibull_weibull": (D.Weibull(t([1.0, 2.0]), t([0.5, 2.5])), D.Weibull(t([1.5, 2.0]), t([0.5, 2.0]))),
    }


@pytest.mark.parametrize("name", [
    "binomial", "binomial_more_trials", "continuous_bernoulli", "lowrank", "mvn_lowrank", "lowrank_mvn", "pareto",
    "pareto_exponential", "pareto_gamma", "pareto_normal", "uniform_pareto", "beta_cb", "uniform_cb",
    "cb_exponential", "cb_normal", "cb_uniform", "normal_pareto", "poisson_binomial", "halfcauchy", "inverse_gamma",
    "weibull_weibull"])
def test_kl_against_pytorch(name):
    check(divergence(lambda D, t: _pairs(D, t)[name]), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("name", ["normal", "bernoulli", "exponential", "poisson", "gamma", "dirichlet", "beta",
                                  "continuous_bernoulli"])
def test_exponential_family_members_and_their_bregman_quantities(name):
    def run(lib):
        D = lib.distributions
        t = lambda v: lib.tensor(np.asarray(v, dtype=np.float64))  # noqa: E731
        build = {"normal": lambda: (D.Normal(t([0.0, 1.0]), t([1.0, 2.0])), D.Normal(t([0.5, 0.0]), t([1.5, 1.0]))),
                 "bernoulli": lambda: (D.Bernoulli(t([0.3, 0.8])), D.Bernoulli(t([0.5, 0.4]))),
                 "exponential": lambda: (D.Exponential(t([0.5, 2.0])), D.Exponential(t([1.0, 3.0]))),
                 "poisson": lambda: (D.Poisson(t([0.5, 2.0])), D.Poisson(t([1.0, 3.0]))),
                 "gamma": lambda: (D.Gamma(t([2.0, 3.0]), t([1.0, 0.5])), D.Gamma(t([1.0, 2.0]), t([2.0, 1.0]))),
                 "dirichlet": lambda: (D.Dirichlet(t([[1.0, 2.0, 3.0]])), D.Dirichlet(t([[2.0, 2.0, 1.0]]))),
                 "beta": lambda: (D.Beta(t([1.0, 2.0]), t([3.0, 0.5])), D.Beta(t([2.0, 2.0]), t([1.0, 1.0]))),
                 "continuous_bernoulli": lambda: (D.ContinuousBernoulli(t([0.2, 0.9])),
                                                  D.ContinuousBernoulli(t([0.6, 0.5])))}
        p, q = build[name]()
        bregman = getattr(D, "kl_added", D.kl)._kl_expfamily_expfamily  # (chainrule keeps it in kl_added)
        out = [isinstance(p, D.ExponentialFamily), list(p._natural_params), p._log_normalizer(*p._natural_params),
               bregman(p, q)]
        try:
            out.append(D.ExponentialFamily.entropy(p))
        except NotImplementedError:
            out.append("NotImplementedError")
        return out
    check(run, rtol=1e-9, atol=1e-11)
