"""chainrule.distributions against torch.distributions: densities, entropies, divergences,
shapes, reparameterised gradients and the validation messages."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.distributions as TD

import chainrule
import chainrule.distributions as CD

RNG = np.random.default_rng(0)


def _pair(values):
    array = np.asarray(values, dtype=np.float64)
    return chainrule.tensor(array), torch.tensor(array)


def _close(ours, theirs):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


LOC, SCALE = RNG.standard_normal((2, 3)), RNG.uniform(0.2, 2.0, (2, 3))
LOGITS = RNG.standard_normal((2, 4)) * 2
PROBS = RNG.uniform(0.01, 0.99, (5,))

CASES = {
    "normal": (lambda lib, a, b: lib.Normal(a, b), (LOC, SCALE), RNG.standard_normal((2, 3))),
    "normal scalar": (lambda lib, a, b: lib.Normal(a, b), (0.5, 2.0), RNG.standard_normal((4,))),
    "categorical logits": (lambda lib, a: lib.Categorical(logits=a), (LOGITS,), np.array([3, 0])),
    "categorical probs": (lambda lib, a: lib.Categorical(probs=a), (np.exp(LOGITS),), np.array([[1, 2], [0, 3]])),
    "bernoulli probs": (lambda lib, a: lib.Bernoulli(probs=a), (PROBS,), (RNG.random(5) > 0.5).astype(float)),
    "bernoulli logits": (lambda lib, a: lib.Bernoulli(logits=a), (LOGITS,), (RNG.random((2, 4)) > 0.5).astype(float)),
    "uniform": (lambda lib, a, b: lib.Uniform(a, b), (LOC - 3, LOC + 3), LOC + 1),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_densities_entropy_and_moments_are_pytorchs(name):
    make, params, value = CASES[name]
    pairs = [_pair(p) if isinstance(p, np.ndarray) else (p, p) for p in params]
    ours, theirs = make(CD, *[p[0] for p in pairs]), make(TD, *[p[1] for p in pairs])
    v_ours, v_theirs = _pair(value)
    if "categorical" in name:
        v_ours, v_theirs = v_ours.long(), v_theirs.long()
    _close(ours.log_prob(v_ours), theirs.log_prob(v_theirs))
    _close(ours.entropy(), theirs.entropy())
    for moment in ("mean", "variance", "stddev"):
        _close(getattr(ours, moment), getattr(theirs, moment))
    assert ours.batch_shape == theirs.batch_shape and ours.event_shape == theirs.event_shape
    assert tuple(ours.sample((3, 2)).shape) == tuple(theirs.sample((3, 2)).shape)
    assert repr(ours).replace("chainrule.", "torch.") == repr(theirs)


@pytest.mark.parametrize("kind", ["normal", "categorical", "bernoulli", "uniform"])
def test_kl_divergence_is_pytorchs(kind):
    makes = {"normal": (lambda lib, t: lib.Normal(t[0], t[1]), [(LOC, SCALE), (LOC[::-1].copy(), SCALE * 2)]),
             "categorical": (lambda lib, t: lib.Categorical(logits=t[0]), [(LOGITS,), (LOGITS[::-1].copy(),)]),
             "bernoulli": (lambda lib, t: lib.Bernoulli(probs=t[0]), [(PROBS,), (np.r_[PROBS[1:], 0.0],)]),
             "uniform": (lambda lib, t: lib.Uniform(t[0], t[1]), [(LOC - 1, LOC + 1), (LOC - 2, LOC + 1.5)])}
    make, (p_args, q_args) = makes[kind]
    ours = [make(CD, [_pair(a)[0] for a in args]) for args in (p_args, q_args)]
    theirs = [make(TD, [_pair(a)[1] for a in args]) for args in (p_args, q_args)]
    _close(CD.kl_divergence(*ours), TD.kl_divergence(*theirs))


def test_rsample_carries_gradients_to_the_parameters():
    loc = chainrule.tensor([0.5, -1.0], requires_grad=True)
    scale = chainrule.tensor([2.0, 0.5], requires_grad=True)
    chainrule.manual_seed(0)
    draws = CD.Normal(loc, scale).rsample((4,))
    chainrule.manual_seed(0)
    eps = chainrule.randn(4, 2)
    draws.sum().backward()
    np.testing.assert_array_equal(loc.grad.numpy(), [4.0, 4.0])
    np.testing.assert_allclose(scale.grad.numpy(), eps.sum(0).numpy(), rtol=1e-6)
    assert not CD.Normal(loc, scale).sample().requires_grad


def test_the_validation_messages_are_pytorchs():
    with pytest.raises(ValueError, match=r"Expected parameter scale \(Tensor of shape \(1,\)\) of distribution "
                                         r"Normal\(loc: tensor\(\[0.\]\), scale: tensor\(\[-1.\]\)\) to satisfy the "
                                         r"constraint GreaterThan\(lower_bound=0.0\), but found invalid values"):
        CD.Normal(chainrule.tensor([0.0]), chainrule.tensor([-1.0]))
    with pytest.raises(ValueError, match=r"to be within the support \(IntegerInterval\(lower_bound=0, upper_bound=3\)\)"):
        CD.Categorical(logits=chainrule.zeros(4)).log_prob(chainrule.tensor(4))
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified, but not both."):
        CD.Bernoulli()
    with pytest.raises(ValueError, match="Uniform is not defined when low>= high"):
        CD.Uniform(chainrule.tensor([1.0]), chainrule.tensor([0.0]))
    with pytest.raises(NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for p type Normal and q type "
                                                  "Categorical"):
        CD.kl_divergence(CD.Normal(0.0, 1.0), CD.Categorical(probs=chainrule.tensor([0.5, 0.5])))
    with pytest.raises(NotImplementedError, match="The cross KL-divergence between different exponential families "
                                                  "cannot {29}be computed using Bregman divergences"):
        CD.kl_divergence(CD.Normal(0.0, 1.0), CD.Bernoulli(probs=chainrule.tensor(0.5)))
    assert CD.Normal(chainrule.tensor([0.0]), chainrule.tensor([-1.0]), validate_args=False).scale.item() == -1.0


def test_samples_follow_the_distribution():
    chainrule.manual_seed(0)
    draws = CD.Categorical(probs=chainrule.tensor([0.1, 0.2, 0.7])).sample((20000,))
    frequencies = np.bincount(draws.numpy(), minlength=3) / 20000
    np.testing.assert_allclose(frequencies, [0.1, 0.2, 0.7], atol=0.015)
    ones = CD.Bernoulli(probs=chainrule.full((20000,), 0.3)).sample().numpy()
    assert set(np.unique(ones)) <= {0.0, 1.0} and abs(ones.mean() - 0.3) < 0.015
    normal = CD.Normal(2.0, 3.0).sample((20000,)).numpy()
    assert abs(normal.mean() - 2.0) < 0.1 and abs(normal.std() - 3.0) < 0.1


def test_the_module_paths_import_under_the_torch_alias():
    from chainrule.torch_alias import aliased

    namespace: dict = {}
    with aliased():
        exec("import torch.distributions as D\nfrom torch.distributions.normal import Normal\n"
             "from torch.distributions import Categorical, kl_divergence", namespace)
    assert namespace["Normal"] is CD.Normal and namespace["D"] is CD
