"""The transforms onto the simplex and onto matrices, and the combinators, against torch's:
forward values, inverses, log-Jacobians and their gradients, domains, codomains and shapes."""
from __future__ import annotations

import numpy as np
import pytest
from dist_parity import check

X = np.random.default_rng(0).normal(size=(2, 3, 3))


def _transforms(D, lib):
    normal = D.Normal(lib.tensor(0.5, dtype=lib.float64), lib.tensor(2.0, dtype=lib.float64))
    return {
        "softmax": (D.SoftmaxTransform(), X[0]),
        "stick": (D.StickBreakingTransform(), X[0]),
        "lower_cholesky": (D.LowerCholeskyTransform(), X),
        "positive_definite": (D.PositiveDefiniteTransform(), X),
        "corr_cholesky": (D.CorrCholeskyTransform(), X[:, 0]),
        "reshape": (D.ReshapeTransform((3, 3), (9,)), X),
        "independent": (D.IndependentTransform(D.ExpTransform(), 2), X),
        "cat": (D.CatTransform([D.ExpTransform(), D.AffineTransform(1.0, 3.0), D.SigmoidTransform()], -1, [1, 1, 1]),
                X),
        "stack": (D.StackTransform([D.ExpTransform(), D.TanhTransform(), D.SoftplusTransform()], 1), X),
        "cdf": (D.CumulativeDistributionTransform(normal), X),
        "compose": (D.ComposeTransform([D.StickBreakingTransform(), D.IndependentTransform(D.ExpTransform().inv, 1)]),
                    X[0]),
        "inverse": (D.StickBreakingTransform().inv, np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])),
    }


@pytest.mark.parametrize("name", [
    "softmax", "stick", "lower_cholesky", "positive_definite", "corr_cholesky", "reshape", "independent", "cat",
    "stack", "cdf", "compose", "inverse"])
def test_transform_against_pytorch(name):
    def run(lib):
        transform, value = _transforms(lib.distributions, lib)[name]
        x = lib.tensor(value, requires_grad=True)
        y = transform(x)
        out = [y, transform.inv(y), transform.domain, transform.codomain, transform.bijective,
               tuple(transform.forward_shape(tuple(x.shape))), tuple(transform.inverse_shape(tuple(y.shape))),
               repr(transform), transform == transform, transform.with_cache(1)(x)]
        if name not in ("softmax", "lower_cholesky", "positive_definite"):  # (no log-Jacobian in PyTorch)
            jacobian = transform.log_abs_det_jacobian(x, y)
            out += [jacobian, lib.autograd.grad(jacobian.sum() + y.sum(), x)[0]]
        return out
    check(run, rtol=1e-9, atol=1e-11)


def test_transformed_distribution_over_a_changed_event_shape():
    def run(lib):
        D = lib.distributions
        lib.manual_seed(5)
        base = D.Normal(lib.zeros(2, 3, dtype=lib.float64), lib.ones(2, 3, dtype=lib.float64))
        d = D.TransformedDistribution(base, [D.StickBreakingTransform()])
        sample = d.sample((4,))
        return [tuple(d.batch_shape), tuple(d.event_shape), sample, d.log_prob(sample), d.support]
    check(run)


def test_transform_sign_and_errors():
    def run(lib):
        D = lib.distributions
        out = [D.ExpTransform().sign, D.AffineTransform(0.0, -2.0).sign, D.ExpTransform().inv.sign]
        for call in (lambda: D.SoftmaxTransform().sign, lambda: D.ReshapeTransform((2, 3), (5,)),
                     lambda: D.CorrCholeskyTransform().forward_shape((4,)), lambda: D.Transform(cache_size=2),
                     lambda: D.StickBreakingTransform().event_dim, lambda: D.ReshapeTransform((3,), (3, 1)).event_dim):
            try:
                out.append(call())
            except Exception as error:  # noqa: BLE001
                out.append(type(error).__name__ + str(error))
        return out
    check(run)
