"""Binomial against torch: samples (PyTorch's inversion and BTRS samplers on its stream, in float64
and float32), densities, moments, entropy by enumeration, and its errors."""
from __future__ import annotations

import numpy as np
import pytest
from dist_parity import check, family


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_binomial_against_pytorch(dtype):
    check(family(lambda D, p: D.Binomial(10, p), ([0.05, 0.3, 0.5, 0.97],), dtype=dtype,
                 extra=lambda d, lib: [d.enumerate_support(), d.logits, d.param_shape]),
          rtol=1e-5 if dtype == "float32" else 1e-10)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_binomial_draws_match_pytorchs_sampler_across_regimes(dtype):
    rng = np.random.default_rng(0)
    counts = np.concatenate([[0, 1, 5, 10, 25, 100, 1000, 3000, 7, 40], np.floor(rng.uniform(0, 3000, 300))])
    probs = np.concatenate([[0.3, 0.5, 0.2, 0.9, 0.5, 0.05, 0.3, 0.999, 1.0, 0.7], rng.uniform(0, 1, 300)])

    def run(lib):
        lib.manual_seed(3)
        kind = getattr(lib, dtype)
        return [lib.binomial(lib.tensor(counts, dtype=kind), lib.tensor(probs, dtype=kind)), lib.rand(2)]
    check(run)


def test_binomial_with_logits_and_tensor_counts():
    def run(lib):
        D = lib.distributions
        d = D.Binomial(lib.tensor([[5.0], [20.0]]), logits=lib.tensor([-1.0, 0.5, 2.0]))
        value = lib.tensor([[1.0, 2.0, 5.0], [3.0, 10.0, 20.0]])
        out = [d.log_prob(value), d.mean, d.mode, d.variance, d.probs, tuple(d.batch_shape)]
        for call in (d.entropy, d.enumerate_support, lambda: D.Binomial(3, lib.tensor([0.5]), validate_args=True).log_prob(
                lib.tensor([4.0])), lambda: D.Binomial(3, probs=lib.tensor([0.5]), logits=lib.tensor([0.0]))):
            try:
                out.append(call())
            except Exception as error:  # noqa: BLE001
                out.append(type(error).__name__ + str(error))
        return out
    check(run, rtol=1e-5, atol=1e-6)
