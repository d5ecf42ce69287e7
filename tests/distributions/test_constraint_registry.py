"""biject_to and transform_to against torch's: the transform each constraint gets, its values
on unconstrained input (which land inside the constraint), log-Jacobians and gradients."""
from __future__ import annotations

import numpy as np
import pytest
from dist_parity import check

U = np.random.default_rng(1).normal(size=(2, 3))


def _constraints(C, lib):
    return [C.real, C.positive, C.nonnegative, C.greater_than(2.0), C.greater_than_eq(-1.0), C.less_than(3.0),
            C.unit_interval, C.interval(-2.0, 5.0), C.half_open_interval(0.0, 4.0),
            C.interval(lib.tensor([0.0, 1.0, 2.0], dtype=lib.float64), 3.0), C.simplex,
            C.independent(C.positive, 1), C.lower_cholesky, C.positive_definite, C.corr_cholesky,
            C.cat([C.positive, C.interval(0.0, 2.0)], -1, [2, 1]), C.stack([C.real, C.positive], 0)]


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("index", range(17))
def test_registry_against_pytorch(registry, index):
    def run(lib):
        D = lib.distributions
        constraint = _constraints(D.constraints, lib)[index]
        transform = getattr(D, registry)(constraint)
        value = U[0] if constraint in (D.constraints.simplex, D.constraints.corr_cholesky) else U
        if constraint in (D.constraints.lower_cholesky, D.constraints.positive_definite):
            value = U[:, :2]
        u = lib.tensor(value, requires_grad=True)
        y = transform(u)
        out = [repr(transform), y, constraint.check(y), transform.inv(y)]
        if transform.bijective:
            jacobian = transform.log_abs_det_jacobian(u, y)
            out += [jacobian, lib.autograd.grad(jacobian.sum() + y.sum(), u)[0]]
        return out
    check(run, rtol=1e-9, atol=1e-11)


def test_registry_errors_and_custom_registration():
    def run(lib):
        D = lib.distributions
        out = []
        for call in (lambda: D.transform_to(D.constraints.boolean), lambda: D.biject_to(D.constraints.lower_cholesky),
                     lambda: D.transform_to.register(3, lambda c: None)):
            try:
                out.append(call())
            except Exception as error:  # noqa: BLE001
                out.append(type(error).__name__ + str(error))
        registry = D.constraint_registry.ConstraintRegistry()
        registry.register(D.constraints.positive, lambda c: D.SoftplusTransform())
        return out + [repr(registry(D.constraints.greater_than(3.0)))]
    check(run)


def test_every_distributions_support_maps_as_pytorchs():
    """What Pyro-style code does: ``transform_to(d.support)`` for a guide's parameters."""
    def run(lib):
        D = lib.distributions
        t = lambda v: lib.tensor(np.asarray(v, dtype=np.float64))  # noqa: E731
        dists = [D.Normal(t(0.0), t(1.0)), D.Gamma(t(2.0), t(1.0)), D.Beta(t(2.0), t(1.0)),
                 D.Dirichlet(t([1.0, 2.0])), D.Uniform(t(-1.0), t(2.0)), D.Exponential(t(1.0)),
                 D.LogNormal(t(0.0), t(1.0)), D.HalfNormal(t(1.0)), D.HalfCauchy(t(1.0)), D.Pareto(t(1.0), t(2.0)),
                 D.Weibull(t(1.0), t(2.0)), D.Kumaraswamy(t(1.0), t(2.0)), D.InverseGamma(t(2.0), t(1.0)),
                 D.LogisticNormal(t([0.0, 1.0]), t([1.0, 1.0])), D.MultivariateNormal(t([0.0, 0.0]), t([[1.0, 0.0],
                                                                                                      [0.0, 1.0]])),
                 D.Wishart(t(3.0), t([[1.0, 0.0], [0.0, 1.0]])), D.LKJCholesky(3, t(1.0)),
                 D.Independent(D.Gamma(t([1.0, 2.0]), t([1.0, 1.0])), 1), D.Binomial(5, t(0.3)),
                 D.ContinuousBernoulli(t(0.3)), D.VonMises(t(0.0), t(1.0)), D.FisherSnedecor(t(2.0), t(3.0))]
        out = []
        for d in dists:
            try:
                transform = D.transform_to(d.support)
                shape = tuple(transform.inverse_shape(tuple(d.batch_shape) + tuple(d.event_shape)))
                u = lib.tensor(np.linspace(-1.0, 1.0, int(np.prod(shape))).reshape(shape), dtype=lib.float64)
                value = transform(u)
                out.append([repr(transform), value, d.support.check(value)])
            except Exception as error:  # noqa: BLE001
                out.append(type(error).__name__ + str(error))
        return out
    check(run)
