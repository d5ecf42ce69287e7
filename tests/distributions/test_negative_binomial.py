"""NegativeBinomial against torch: Gamma-Poisson samples on PyTorch's stream, densities, moments."""
from __future__ import annotations

from dist_parity import check, family


def test_negative_binomial_against_pytorch():
    check(family(lambda D, n, p: D.NegativeBinomial(n, p), ([2.0, 5.0, 0.5], [0.3, 0.6, 0.9]),
                 extra=lambda d, lib: [d.logits, d.param_shape]))


def test_negative_binomial_with_logits_and_a_zero_count():
    def run(lib):
        d = lib.distributions.NegativeBinomial(lib.tensor([0.0, 3.0]), logits=lib.tensor([0.2, -1.0]))
        value = lib.tensor([0.0, 4.0])
        return [d.log_prob(value), d.mean, d.mode, d.variance, d.probs]
    check(run, rtol=1e-6, atol=1e-7)
