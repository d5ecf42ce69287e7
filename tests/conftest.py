"""Shared test helpers.  PyTorch is the oracle; it runs single-threaded so that the suite
behaves the same on a 2-core CI machine as on a laptop."""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch  # a hard requirement of the test suite: .ci/run installs it
from hypothesis import settings

torch.set_num_threads(1)

# Property tests draw the same examples at every run (a failure in CI reproduces at the next
# run and on a laptop), never time an example (a loaded machine is slow) and keep no example
# database in the working folder. HYPOTHESIS_PROFILE=explore draws new examples each run.
settings.register_profile("deterministic", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))

import chainrule  # noqa: E402


def to_numpy(x):
    """A chainrule or torch tensor (or anything array-like) as a NumPy array."""
    if isinstance(x, chainrule.Tensor):
        return x.detach().numpy()
    if isinstance(x, torch.Tensor):
        if x._is_zerotensor():  # PyTorch's lazily zero gradients (of linear ops' grad graphs)
            return np.zeros(tuple(x.shape), dtype=np.float64 if x.dtype == torch.float64 else np.float32)
        return x.detach().cpu().numpy()
    return np.asarray(x)


def assert_close(actual, expected, rtol=1e-9, atol=1e-9, what=""):
    """Values (and shapes) of two tensors agree."""
    a, e = to_numpy(actual), to_numpy(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=what)


def pair(array, requires_grad=True):
    """The same float64 values as a chainrule tensor and a torch tensor."""
    array = np.array(array, dtype=np.float64)
    return (chainrule.tensor(array, requires_grad=requires_grad),
            torch.tensor(array, requires_grad=requires_grad))


@pytest.fixture
def rng():
    return np.random.default_rng(0)
