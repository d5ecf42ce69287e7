"""Shared by the planted-bug scripts: a small batch of data (NumPy-drawn, so PyTorch and
chainrule see the same numbers) and the usual imports' worth of helpers."""
import numpy as np


def batch(n=32, features=16, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, features)).astype(np.float32),
            rng.integers(0, classes, n))
