"""chainrule.signal.windows against torch.signal.windows: every window, symmetric and periodic,
in both float dtypes and lengths 0, 1, 2 and more (the values to the last bits of the
transcendentals), their options, and PyTorch's errors."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import chainrule

NAMES = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_hamming", "hamming", "hann", "kaiser",
         "nuttall"]


def windows(call):
    """``call(lib.signal.windows, lib)`` for PyTorch and chainrule, as NumPy arrays."""
    return [call(lib.signal.windows, lib).numpy() for lib in (torch, chainrule)]


def same(expected, actual):
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    tolerance = 1e-6 if expected.dtype == np.float32 else 1e-14
    np.testing.assert_allclose(actual, expected, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("name", NAMES)
def test_each_window(name):
    for M, sym, dtype in itertools.product([0, 1, 2, 5, 8, 33], [True, False], ["float32", "float64"]):
        same(*windows(lambda w, lib: getattr(w, name)(M, sym=sym, dtype=getattr(lib, dtype))))


def test_options_and_the_default_dtype():
    same(*windows(lambda w, lib: w.gaussian(7, std=2.5)))
    same(*windows(lambda w, lib: w.exponential(6, center=1.0, tau=2.0, sym=False)))
    same(*windows(lambda w, lib: w.exponential(5, tau=0.5)))
    same(*windows(lambda w, lib: w.general_cosine(9, a=[0.5, 0.3, 0.2], dtype=lib.float64)))
    same(*windows(lambda w, lib: w.general_hamming(6, alpha=0.6, sym=False)))
    same(*windows(lambda w, lib: w.kaiser(10, beta=5.0, dtype=lib.float64)))
    ours = chainrule.signal.windows.hann(5, requires_grad=True)
    assert ours.requires_grad and ours.is_leaf is False  # (a product of a leaf, as PyTorch's)


@pytest.mark.parametrize("call, error, message", [
    (lambda w, lib: w.hann(-1), ValueError, "general_cosine requires non-negative window length, got M=-1"),
    (lambda w, lib: w.bartlett(-2), ValueError, "bartlett requires non-negative window length, got M=-2"),
    (lambda w, lib: w.gaussian(4, dtype=lib.int64), ValueError, "gaussian expects float32 or float64 dtypes"),
    (lambda w, lib: w.gaussian(4, std=0.0), ValueError, "Standard deviation must be positive, got: 0.0 instead."),
    (lambda w, lib: w.exponential(4, tau=-1.0), ValueError, "Tau must be positive, got: -1.0 instead."),
    (lambda w, lib: w.exponential(4, center=1.0), ValueError, "Center must be None for symmetric windows"),
    (lambda w, lib: w.kaiser(4, beta=-1.0), ValueError, "beta must be non-negative, got: -1.0 instead."),
    (lambda w, lib: w.general_cosine(4, a=[]), ValueError, "Coefficients cannot be empty"),
    (lambda w, lib: w.general_cosine(4, a=3), TypeError, "Coefficients must be a list/tuple"),
    (lambda w, lib: w.cosine(4, layout=lib.sparse_coo), ValueError, "cosine is implemented for strided tensors only"),
])
def test_errors_like_torch(call, error, message):
    for lib in (torch, chainrule):
        with pytest.raises(error, match=message):
            call(lib.signal.windows, lib)
