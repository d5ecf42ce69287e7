"""The exponential, gamma, count, transformed and mixture families against torch.distributions:
samples (the same numbers after the same seed), densities, moments, entropies, reparameterised
gradients and divergences."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule

LIBS = (torch, chainrule)

# name -> (build(D, *params), params, has a reparameterised gradient to compare)
FAMILIES = {
    "exponential": (lambda D, r: D.Exponential(r), ([0.5, 2.0],), True),
    "laplace": (lambda D, m, s: D.Laplace(m, s), ([0.0, 1.0], [1.0, 0.5]), True),
    "cauchy": (lambda D, m, s: D.Cauchy(m, s), ([0.0, 1.0], [1.0, 0.5]), True),
    "gumbel": (lambda D, m, s: D.Gumbel(m, s), ([0.0, 1.0], [1.0, 0.5]), True),
    "lognormal": (lambda D, m, s: D.LogNormal(m, s), ([0.0, 1.0], [1.0, 0.5]), True),
    "halfnormal": (lambda D, s: D.HalfNormal(s), ([1.0, 0.5],), True),
    "gamma": (lambda D, c, r: D.Gamma(c, r), ([0.5, 3.0, 12.0], [1.0, 2.0, 0.5]), True),
    "chi2": (lambda D, df: D.Chi2(df), ([1.5, 4.0],), True),
    "beta": (lambda D, a, b: D.Beta(a, b), ([0.5, 3.0], [2.0, 1.5]), True),
    "dirichlet": (lambda D, c: D.Dirichlet(c), ([[0.5, 3.0, 1.0], [2.0, 2.0, 2.0]],), True),
    "studentt": (lambda D, df, m, s: D.StudentT(df, m, s), ([3.0, 10.0], [0.0, 1.0], [1.0, 2.0]), True),
    "poisson": (lambda D, r: D.Poisson(r), ([0.5, 12.0, 40.0],), False),
    "geometric": (lambda D, p: D.Geometric(p), ([0.3, 0.8],), False),
    "onehot": (lambda D, p: D.OneHotCategorical(p), ([0.2, 0.3, 0.5],), False),
    "mixture": (lambda D, w, m, s: D.MixtureSameFamily(D.Categorical(w), D.Normal(m, s)),
                ([0.3, 0.7], [-1.0, 2.0], [0.5, 1.0]), False),
    "squashed": (lambda D, m, s: D.TransformedDistribution(D.Normal(m, s), [D.TanhTransform(),
                                                                              D.AffineTransform(1.0, 2.0)]),
                 ([0.1, -0.3], [0.5, 1.0]), True),
}


def _numpy(value):
    if isinstance(value, (tuple, list)):
        return [_numpy(v) for v in value]
    return value.detach().numpy() if hasattr(value, "detach") else value


def _run(lib, name):
    build, params, reparameterised = FAMILIES[name]
    lib.manual_seed(11)
    tensors = [lib.tensor(np.asarray(p, dtype=np.float64), requires_grad=True) for p in params]
    d = build(lib.distributions, *tensors)
    sample = d.sample((4,))
    out = {"sample": sample, "log_prob": d.log_prob(sample), "shapes": (tuple(d.batch_shape), tuple(d.event_shape))}
    for attribute in ("mean", "variance", "mode", "entropy"):
        try:
            value = getattr(d, attribute)
            out[attribute] = value() if callable(value) else value
        except NotImplementedError:
            out[attribute] = "NotImplementedError"
    if reparameterised:
        draw = d.rsample((3,))
        out["rsample"] = draw
        out["grads"] = lib.autograd.grad((draw ** 2).sum() + out["log_prob"].sum(), tensors, allow_unused=True)
    return out


@pytest.mark.parametrize("name", list(FAMILIES))
def test_family_against_pytorch(name):
    expected, actual = (_run(lib, name) for lib in LIBS)
    assert list(actual) == list(expected)
    for key in expected:
        e, a = _numpy(expected[key]), _numpy(actual[key])
        if isinstance(e, list):
            for x, y in zip(e, a):
                assert (x is None) == (y is None), key
                if x is not None:
                    np.testing.assert_allclose(y, x, rtol=1e-7, atol=1e-9, err_msg=key)
        elif isinstance(e, np.ndarray):
            np.testing.assert_allclose(a, e, rtol=1e-7, atol=1e-9, err_msg=key)
        else:
            assert a == e, key


def test_gamma_draws_and_poisson_draws_match_pytorchs_samplers():
    alpha = np.array([0.05, 0.5, 1.0, 2.5, 10.0, 30.0])
    rates = np.array([0.0, 0.5, 3.0, 9.9, 10.0, 55.5, 1000.0])
    out = []
    for lib in LIBS:
        lib.manual_seed(3)
        out.append((lib.distributions.Gamma(lib.tensor(alpha), 1.0).sample().numpy(),
                    lib.poisson(lib.tensor(rates)).numpy(), lib.rand(2).numpy()))
    for e, a in zip(*out):
        np.testing.assert_array_equal(a, e)


def _pairs(D, t):
    return [(D.Exponential(t([0.5, 2.0])), D.Exponential(t([1.0, 3.0]))),
            (D.Laplace(t([0.0, 1.0]), t([1.0, 0.5])), D.Laplace(t([0.5, 1.0]), t([2.0, 0.5]))),
            (D.Cauchy(t(0.0), t(1.0)), D.Cauchy(t(1.0), t(2.0))),
            (D.Gumbel(t(0.0), t(1.0)), D.Gumbel(t(1.0), t(2.0))),
            (D.Gamma(t([0.5, 3.0]), t([1.0, 2.0])), D.Gamma(t([1.0, 2.0]), t([2.0, 2.0]))),
            (D.Beta(t([0.5, 3.0]), t([2.0, 1.5])), D.Beta(t([1.0, 1.0]), t([1.0, 2.0]))),
            (D.Dirichlet(t([[0.5, 3.0, 1.0]])), D.Dirichlet(t([[1.0, 1.0, 1.0]]))),
            (D.Poisson(t([0.5, 12.0])), D.Poisson(t([1.0, 10.0]))),
            (D.Geometric(t([0.3, 0.8])), D.Geometric(t([0.5, 0.5]))),
            (D.OneHotCategorical(t([0.2, 0.8])), D.OneHotCategorical(t([0.5, 0.5]))),
            (D.HalfNormal(t(1.0)), D.HalfNormal(t(2.0))),
            (D.LogNormal(t(0.0), t(1.0)), D.LogNormal(t(1.0), t(0.5)))]


def test_divergences():
    expected, actual = ([lib.distributions.kl_divergence(p, q).detach().numpy()
                         for p, q in _pairs(lib.distributions, lambda v: lib.tensor(np.asarray(v, dtype=np.float64)))]
                        for lib in LIBS)
    for e, a in zip(expected, actual):
        np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-12)


def test_transforms_invert_and_give_their_jacobians():
    x = np.array([-1.5, -0.2, 0.3, 2.0])
    out = []
    for lib in LIBS:
        D = lib.distributions
        value = lib.tensor(x)
        rows = []
        for transform in (D.ExpTransform(), D.TanhTransform(), D.SigmoidTransform(), D.AffineTransform(1.0, -2.0),
                          D.SoftplusTransform(), D.ComposeTransform([D.TanhTransform(), D.AffineTransform(0.5, 3.0)]),
                          D.ExpTransform().inv.inv):
            y = transform(value)
            rows.append([y, transform.inv(y), transform.log_abs_det_jacobian(value, y)])
        rows.append([D.PowerTransform(2.0)(value.abs()), D.AbsTransform()(value)])
        out.append(_numpy(rows))
    for e_row, a_row in zip(*out):
        for e, a in zip(e_row, a_row):
            np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-12)


def _outcome(call):
    try:
        value = call()
    except Exception as error:  # noqa: BLE001 (the exception itself is what is compared)
        return type(error).__name__, str(error).replace("torch", "chainrule")
    return value.detach().numpy() if hasattr(value, "detach") else str(value).replace("torch", "chainrule")


@pytest.mark.parametrize("case", [
    ("gamma support holds 0", lambda D, t: D.Gamma(t([2.0]), t([1.0]), validate_args=True).log_prob(t([0.0, -1.0]))),
    ("chi2 support", lambda D, t: D.Chi2(t([2.0])).support),
    ("value not a tensor", lambda D, t: D.Exponential(t([2.0]), validate_args=True).log_prob(0.5)),
    ("event shape", lambda D, t: D.Dirichlet(t([[1.0, 2.0, 3.0]]), validate_args=True).log_prob(t([0.5, 0.5]))),
    ("event shape one-hot",
     lambda D, t: D.OneHotCategorical(t([0.2, 0.8]), validate_args=True).log_prob(t([1.0, 0.0, 0.0]))),
    ("not broadcastable", lambda D, t: D.Poisson(t([1.0, 2.0]), validate_args=True).log_prob(t([1.0, 2.0, 3.0]))),
    ("one-hot param_shape", lambda D, t: D.OneHotCategorical(logits=t([[0.3, 0.5, 1.0]])).param_shape),
    ("enumerate_support", lambda D, t: D.Exponential(t([2.0])).enumerate_support()),
    ("has_enumerate_support", lambda D, t: (D.Gamma(t([1.0]), t([1.0])).has_enumerate_support,
                                            D.OneHotCategorical(t([0.2, 0.8])).has_enumerate_support)),
    ("uniform icdf", lambda D, t: D.Uniform(t([0.0, 1.0]), t([2.0, 5.0])).icdf(t([0.25, 0.5]))),
    ("gumbel icdf", lambda D, t: D.Gumbel(t([0.0, 1.0]), t([1.0, 0.5])).icdf(t([0.25, 0.5]))),
], ids=lambda case: case[0])
def test_validation_and_api_against_pytorch(case):
    # (validate_args=True where it matters: the suite runs code that turns PyTorch's default off)
    _, build = case
    expected, actual = (_outcome(lambda: build(lib.distributions, lambda x: lib.tensor(x, dtype=lib.float64)))
                        for lib in LIBS)
    if isinstance(expected, np.ndarray):
        np.testing.assert_allclose(actual, expected, rtol=1e-12)
    else:
        assert actual == expected


def test_a_transformed_distribution_lives_on_its_last_transforms_codomain():
    supports = []
    for lib in LIBS:
        D = lib.distributions
        transforms = (D.ExpTransform(), D.TanhTransform(), D.SigmoidTransform(), D.AffineTransform(0.0, 2.0),
                      D.SoftplusTransform(), D.AbsTransform(), D.PowerTransform(2.0), D.ExpTransform().inv)
        supports.append([str(D.TransformedDistribution(D.Normal(0.0, 1.0), [t]).support) for t in transforms])
        with pytest.raises(ValueError, match="to be within the support \\(GreaterThan\\(lower_bound=0.0\\)\\)"):
            D.TransformedDistribution(D.Normal(0.0, 1.0), [D.ExpTransform()], validate_args=True).log_prob(
                lib.tensor(-1.0))
    assert supports[1] == supports[0]


def test_expand_gives_a_larger_batch_of_the_same_distribution():
    def run(lib):
        D = lib.distributions
        t = lambda v: lib.tensor(np.asarray(v, dtype=np.float64))  # noqa: E731
        dists = [D.Normal(t(0.5), t(2.0)), D.Categorical(t([0.2, 0.8])), D.Bernoulli(t(0.3)), D.StudentT(t(3.0)),
                 D.Beta(t(2.0), t(3.0)), D.Dirichlet(t([1.0, 2.0])), D.OneHotCategorical(t([0.5, 0.5])),
                 D.MultivariateNormal(t([0.0, 1.0]), t([[1.0, 0.2], [0.2, 1.0]])),
                 D.Independent(D.Normal(t([0.0, 1.0]), t([1.0, 2.0])), 1), D.LogNormal(t(0.0), t(1.0)),
                 D.Gamma(t(2.0), t(1.0)), D.Gumbel(t(0.0), t(1.0)),
                 D.MixtureSameFamily(D.Categorical(t([0.3, 0.7])), D.Normal(t([0.0, 1.0]), t([1.0, 0.5])))]
        out = []
        for d in dists:
            wider = d.expand([3])
            lib.manual_seed(0)
            sample = wider.sample((2,))
            out.append((tuple(wider.batch_shape), tuple(wider.event_shape), _numpy(sample),
                        _numpy(wider.log_prob(sample))))
        return out

    for expected, actual in zip(*(run(lib) for lib in LIBS)):
        assert actual[:2] == expected[:2]
        np.testing.assert_allclose(actual[2], expected[2], rtol=1e-12)
        np.testing.assert_allclose(actual[3], expected[3], rtol=1e-10)


def test_quantiles_through_erfinv():
    values = np.array([0.01, 0.3, 0.5, 0.9])
    out = []
    for lib in LIBS:
        D, q = lib.distributions, lib.tensor(values)
        out.append(_numpy([D.Normal(lib.tensor(1.0, dtype=lib.float64), 2.0).icdf(q),
                           D.LogNormal(lib.tensor(0.5, dtype=lib.float64), 1.0).icdf(q),
                           D.Gumbel(lib.tensor(0.0, dtype=lib.float64), 1.0).icdf(q)]))
    for e, a in zip(*out):
        np.testing.assert_allclose(a, e, rtol=1e-9)


def test_gamma_and_chi2_cdf():
    values = np.array([0.1, 1.0, 2.5, 7.0])
    out = []
    for lib in LIBS:
        D, v = lib.distributions, lib.tensor(values)
        out.append(_numpy([D.Gamma(lib.tensor([0.5, 2.0, 3.0, 9.0]), lib.tensor([1.0, 2.0, 0.5, 1.5])).cdf(v),
                           D.Chi2(lib.tensor([1.0, 2.0, 3.0, 4.0], dtype=lib.float64)).cdf(v)]))
    for e, a in zip(*out):
        np.testing.assert_allclose(a, e, rtol=1e-6, atol=1e-7)


def test_multinomial_and_the_relaxed_distributions():
    from torch.distributions.relaxed_bernoulli import LogitRelaxedBernoulli
    from torch.distributions.relaxed_categorical import ExpRelaxedCategorical

    def run(lib):
        D = lib.distributions
        t = lambda v: lib.tensor(np.asarray(v, dtype=np.float64), requires_grad=True)  # noqa: E731
        exp_relaxed = ExpRelaxedCategorical if lib is torch else D.ExpRelaxedCategorical
        logit_relaxed = LogitRelaxedBernoulli if lib is torch else D.LogitRelaxedBernoulli
        lib.manual_seed(2)
        probs, temperature = t([0.2, 0.3, 0.5]), t(0.7)
        out = []
        for d in (D.Multinomial(10, probs), D.RelaxedOneHotCategorical(temperature, probs=probs),
                  D.RelaxedBernoulli(temperature, probs=t([0.3, 0.8])),
                  exp_relaxed(temperature, logits=t([0.1, -0.4, 1.0])), logit_relaxed(temperature, logits=t([0.5]))):
            sample = d.sample((3,))
            out += [sample, d.log_prob(sample)]
            if d.has_rsample:
                draw = d.rsample((2,))
                out += [draw, lib.autograd.grad((draw ** 2).sum(), [temperature])[0]]
        return _numpy(out)

    for e, a in zip(*(run(lib) for lib in LIBS)):
        np.testing.assert_allclose(a, e, rtol=1e-9, atol=1e-12)
