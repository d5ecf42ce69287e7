"""chainrule.distributions.constraints against torch's: each constraint's check on valid and
invalid values, its repr, is_discrete and event_dim; and argument validation's switch and
messages."""
from __future__ import annotations

import pytest
from dist_parity import check

MATRICES = [[[2.0, 0.0], [0.5, 1.0]], [[1.0, 2.0], [2.0, 1.0]], [[1.0, 0.0], [-0.3, 0.0]]]


def _cases(C):
    return [
        (C.real, [0.0, float("nan"), -3.0]), (C.positive, [1.0, 0.0, -1.0]), (C.nonnegative, [1.0, 0.0, -1.0]),
        (C.greater_than(1.5), [1.0, 2.0]), (C.greater_than_eq(1.5), [1.5, 1.0]), (C.less_than(-1.0), [-2.0, 0.0]),
        (C.unit_interval, [0.0, 1.0, 1.5]), (C.interval(-1.0, 2.0), [-1.0, 2.0, 2.5]),
        (C.half_open_interval(-1.0, 2.0), [-1.0, 2.0]), (C.boolean, [0.0, 1.0, 0.5]),
        (C.nonnegative_integer, [0.0, 3.0, 1.5, -1.0]), (C.positive_integer, [0.0, 3.0]),
        (C.integer_interval(0, 3), [0.0, 3.0, 4.0, 1.5]), (C.simplex, [[0.2, 0.8], [0.5, 0.6], [-0.1, 1.1]]),
        (C.real_vector, [[0.0, float("nan")], [1.0, 2.0]]), (C.independent(C.positive, 1), [[1.0, 2.0], [1.0, 0.0]]),
        (C.one_hot, [[0.0, 1.0], [1.0, 1.0]]), (C.multinomial(3), [[1.0, 2.0], [2.0, 2.0]]),
        (C.lower_triangular, MATRICES), (C.lower_cholesky, MATRICES), (C.symmetric, MATRICES),
        (C.positive_definite, MATRICES), (C.positive_semidefinite, MATRICES), (C.square, MATRICES),
        (C.corr_cholesky, [[[1.0, 0.0], [0.6, 0.8]], [[1.0, 0.0], [0.6, 0.7]]]),
        (C.cat([C.positive, C.real], 0, [2, 1]), [1.0, -1.0, -5.0]),
        (C.stack([C.positive, C.unit_interval], -1), [[1.0, 0.5], [-1.0, 1.5]]),
    ]


@pytest.mark.parametrize("index", range(27))
def test_each_constraint_checks_and_prints_as_pytorchs(index):
    def run(lib):
        constraint, value = _cases(lib.distributions.constraints)[index]
        value = lib.tensor(value, dtype=lib.float64)
        return [constraint.check(value), repr(constraint), constraint.is_discrete, constraint.event_dim]
    check(run)


def test_dependent_constraints():
    def run(lib):
        C = lib.distributions.constraints
        D = lib.distributions
        custom = C.dependent(is_discrete=True, event_dim=1)
        uniform = D.Uniform(lib.tensor([0.0, 1.0]), lib.tensor([1.0, 3.0]))
        return [C.is_dependent(C.dependent), C.is_dependent(C.real), custom.is_discrete, custom.event_dim,
                C.is_dependent(D.Uniform.support), repr(uniform.support),
                uniform.support.check(lib.tensor([0.5, 3.5])), C.is_dependent(D.Categorical.support)]
    check(run)


@pytest.mark.parametrize("build", [
    lambda lib, D: D.Normal(lib.tensor([0.0]), lib.tensor([-1.0]), validate_args=True),
    lambda lib, D: D.Gamma(lib.tensor([1.0]), lib.tensor([0.0]), validate_args=True).rate,
    lambda lib, D: D.Exponential(lib.tensor([1.0]), validate_args=True).log_prob(lib.tensor([-1.0])),
    lambda lib, D: D.Poisson(lib.tensor([2.0]), validate_args=True).log_prob(lib.tensor([1.5])),
    lambda lib, D: D.Categorical(lib.tensor([0.2, 0.8]), validate_args=True).log_prob(lib.tensor(2)),
    lambda lib, D: D.Categorical(logits=lib.tensor([0.2, 0.8]), validate_args=True).log_prob(lib.tensor(-1)),
    lambda lib, D: D.Bernoulli(logits=lib.tensor([0.3]), validate_args=True).log_prob(lib.tensor([2.0])),
    lambda lib, D: D.Geometric(lib.tensor([0.3]), validate_args=True).log_prob(lib.tensor([-1.0])),
    lambda lib, D: D.Binomial(5, logits=lib.tensor([0.3]), validate_args=True).log_prob(lib.tensor([6.0])),
    lambda lib, D: D.Dirichlet(lib.tensor([1.0, 2.0]), validate_args=True).log_prob(lib.tensor([0.3, 0.3])),
    lambda lib, D: D.MultivariateNormal(lib.zeros(2), scale_tril=lib.tensor([[1.0, 0.0], [0.0, -1.0]]),
                                   validate_args=True),
    lambda lib, D: D.Independent(D.Normal(lib.zeros(2), lib.ones(2)), 1).support,
    lambda lib, D: D.MixtureSameFamily(D.Categorical(lib.ones(2)), D.Gamma(lib.ones(2), lib.ones(2)),
                                   validate_args=True).log_prob(
        lib.tensor([1.0, -1.0]).unsqueeze(-1)),
], ids=["normal", "gamma", "exponential value", "poisson value", "categorical probs", "categorical logits",
         "bernoulli logits", "geometric probs", "binomial logits", "dirichlet simplex", "scale_tril",
        "independent support", "mixture support"])
def test_validation_messages_are_pytorchs(build):
    check(lambda lib: build(lib, lib.distributions))


def test_default_validation_can_be_switched_off():
    def run(lib):
        D = lib.distributions
        previous = D.Distribution._validate_args
        D.Distribution.set_default_validate_args(False)
        try:
            quiet = D.Normal(lib.tensor([0.0]), lib.tensor([-1.0])).log_prob(lib.tensor([1.0]))
            loud = D.Normal(lib.tensor([0.0]), lib.tensor([-1.0]), validate_args=True)
        finally:
            D.Distribution.set_default_validate_args(previous)
        return [quiet, loud]
    check(run)
