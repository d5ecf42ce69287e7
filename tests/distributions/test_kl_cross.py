"""The divergences between different families of the first set against torch's kl_divergence,
with their gradients (closed forms; infinite where the support is not covered)."""
from __future__ import annotations

import itertools

import pytest
from dist_parity import check, divergence


def _members(D, t):
    return {"normal": D.Normal(t([0.3, -1.0]), t([1.0, 2.0])), "laplace": D.Laplace(t([0.3, 1.0]), t([0.5, 2.0])),
            "gumbel": D.Gumbel(t([0.3, -1.0]), t([1.5, 2.0])), "exponential": D.Exponential(t([0.5, 2.0])),
            "gamma": D.Gamma(t([2.0, 0.7]), t([1.0, 3.0])), "beta": D.Beta(t([2.0, 0.7]), t([1.5, 3.0])),
            "uniform": D.Uniform(t([0.2, 0.1]), t([0.7, 0.9])), "uniform_wide": D.Uniform(t([-0.5, 1.0]), t([2.0, 3.0])),
            "bernoulli": D.Bernoulli(t([0.3, 0.8])), "poisson": D.Poisson(t([0.5, 2.0]))}


PAIRS = [("bernoulli", "poisson"), ("poisson", "bernoulli")] + [
    (p, q) for p, q in itertools.product(["normal", "laplace", "gumbel", "exponential", "gamma", "beta", "uniform",
                                          "uniform_wide"],
                                         ["normal", "laplace", "gumbel", "exponential", "gamma", "beta", "uniform"])
    if p.split("_")[0] != q]


@pytest.mark.parametrize("pair", PAIRS, ids=["-".join(pair) for pair in PAIRS])
def test_cross_kl_against_pytorch(pair):
    def pick(D, t):
        members = _members(D, t)
        return members[pair[0]], members[pair[1]]
    check(divergence(pick), rtol=1e-9, atol=1e-11)


def test_every_pair_pytorch_registers_is_registered():
    import torch.distributions.kl as torch_kl

    import chainrule.distributions.kl as chainrule_kl
    names = lambda table: {(p.__name__, q.__name__) for p, q in table}  # noqa: E731
    assert names(chainrule_kl._KL) == names(torch_kl._KL_REGISTRY)
