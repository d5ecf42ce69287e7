"""``nn.functional.adaptive_max_pool1d/2d/3d`` (and ``*_with_indices``) and ``nn.AdaptiveMaxPool1d/2d/3d`` against PyTorch
in float64: values, argmax indices, gradients (to the one maximal element) and reprs."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.autograd import gradcheck, gradgradcheck
from op_parity import check_pair, raises_like_torch


@pytest.mark.parametrize("output_size", [1, 2, 3, (3, 4), (None, 2), (7, 5)])
def test_adaptive_max_pool2d(output_size, rng):
    x = rng.standard_normal((2, 3, 7, 5))
    check_pair(lambda t: F.adaptive_max_pool2d(t, output_size, return_indices=True),
               lambda t: TF.adaptive_max_pool2d(t, output_size, return_indices=True), x, rng, str(output_size))
    check_pair(lambda t: F.adaptive_max_pool2d(t[0], output_size),
               lambda t: TF.adaptive_max_pool2d(t[0], output_size), x, rng, "unbatched")


@pytest.mark.parametrize("output_size", [1, 3, 4, 6])
def test_adaptive_max_pool1d(output_size, rng):
    x = rng.standard_normal((2, 3, 6))
    check_pair(lambda t: F.adaptive_max_pool1d(t, output_size, return_indices=True),
               lambda t: TF.adaptive_max_pool1d(t, output_size, return_indices=True), x, rng, str(output_size))


@pytest.mark.parametrize("output_size", [1, 2, (2, 3, 1), (None, 2, 4), (4, 5, 6)])
def test_adaptive_max_pool3d(output_size, rng):
    x = rng.standard_normal((2, 3, 4, 5, 6))
    check_pair(lambda t: F.adaptive_max_pool3d(t, output_size, return_indices=True),
               lambda t: TF.adaptive_max_pool3d(t, output_size, return_indices=True), x, rng, str(output_size))
    check_pair(lambda t: nn.AdaptiveMaxPool3d(output_size)(t[0]),
               lambda t: torch.nn.AdaptiveMaxPool3d(output_size)(t[0]), x, rng, "unbatched")


@pytest.mark.parametrize("name,shape", [("adaptive_max_pool1d_with_indices", (2, 3, 7)),
                                        ("adaptive_max_pool2d_with_indices", (2, 3, 7, 5)),
                                        ("adaptive_max_pool3d_with_indices", (2, 3, 4, 3))])
def test_with_indices_forms_return_both(name, shape, rng):
    check_pair(lambda t: getattr(F, name)(t, 3), lambda t: getattr(TF, name)(t, 3), rng.standard_normal(shape), rng,
               name)


def test_adaptive_max_pool_ties_gradient_and_double_backward(rng):
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, :2, :2] = 1.0  # a tie in the first window: the first maximum takes the gradient
    check_pair(lambda t: F.adaptive_max_pool2d(t, 2), lambda t: TF.adaptive_max_pool2d(t, 2), x, rng, "ties")
    t = chainrule.tensor(rng.standard_normal((1, 2, 5, 5)), requires_grad=True)
    assert gradcheck(lambda u: F.adaptive_max_pool2d(u, 3), (t,))
    assert gradgradcheck(lambda u: F.adaptive_max_pool2d(u, 3), (t,))


def test_modules_and_errors():
    for name, args in (("AdaptiveMaxPool2d", ((2, 3),)), ("AdaptiveMaxPool1d", (4,)), ("AdaptiveMaxPool3d", (2, True))):
        assert repr(getattr(nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))
    x = chainrule.ones(1, 2, 4, 4)
    out, idx = nn.AdaptiveMaxPool2d(2, return_indices=True)(x)
    assert tuple(out.shape) == (1, 2, 2, 2) and idx.dtype == chainrule.int64
    raises_like_torch(lambda: F.adaptive_max_pool2d(chainrule.ones(4, 4), 2),
                      lambda: TF.adaptive_max_pool2d(torch.ones(4, 4), 2), "Expected 3D or 4D")
    raises_like_torch(lambda: F.adaptive_max_pool3d(chainrule.ones(4, 4, 4), 2),
                      lambda: TF.adaptive_max_pool3d(torch.ones(4, 4, 4), 2), r"Expected 4D or 5D tensor, but got: \[4, 4, 4\]")
    raises_like_torch(lambda: F.adaptive_max_pool3d(chainrule.ones(1, 4, 4, 4), (2, -1, 2)),
                      lambda: TF.adaptive_max_pool3d(torch.ones(1, 4, 4, 4), (2, -1, 2)),
                      r"negative dimension -1: \[1, 2, -1, 2\]")
    raises_like_torch(lambda: F.adaptive_max_pool2d(chainrule.ones(1, 0, 4), 2),
                      lambda: TF.adaptive_max_pool2d(torch.ones(1, 0, 4), 2), "with dimension 1 being empty")
