"""PReLU, the padding modules and the distance modules against PyTorch in float64:
outputs, gradients, parameters and reprs."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
import chainrule.nn as nn
from nn_twins import run_both, twin
from op_parity import raises_like_torch

MODULES = [
    (lambda m: m.PReLU(), (2, 3, 4)),
    (lambda m: m.PReLU(3, init=0.1), (2, 3, 4, 2)),
    (lambda m: m.PReLU(), (5,)),
    (lambda m: m.ZeroPad2d(1), (2, 3, 4, 5)),
    (lambda m: m.ZeroPad2d((1, 2, 0, 3)), (2, 3, 4, 5)),
    (lambda m: m.ZeroPad1d((0, 2)), (2, 3, 4)),
    (lambda m: m.ZeroPad2d((1, 2)), (2, 3, 4, 5)),
    (lambda m: m.ConstantPad1d((1, 2, 3, 4), 0.5), (2, 3, 4)),
    (lambda m: m.ConstantPad1d(2, 3.5), (2, 3, 4)),
    (lambda m: m.ConstantPad2d((1, 0, -1, 2), -1.0), (2, 3, 4, 5)),
    (lambda m: m.ReflectionPad1d((1, 2)), (2, 3, 4)),
    (lambda m: m.ReflectionPad2d(2), (2, 3, 4, 5)),
    (lambda m: m.ReplicationPad1d(3), (2, 3, 4)),
    (lambda m: m.ReplicationPad2d((1, 1, 0, 2)), (2, 3, 4, 5)),
    (lambda m: m.CircularPad1d(1), (2, 3, 4)),
    (lambda m: m.CircularPad2d((1, 2, 2, 1)), (2, 3, 4, 5)),
    (lambda m: m.ZeroPad3d((1, 0, 2, 1, 0, 1)), (2, 2, 3, 4, 3)),
    (lambda m: m.ConstantPad3d(1, 2.5), (2, 3, 4, 3)),
    (lambda m: m.ReflectionPad3d((1, 2, 0, 1, 2, 1)), (2, 2, 3, 4, 3)),
    (lambda m: m.ReplicationPad3d(2), (2, 2, 3, 4, 3)),
    (lambda m: m.CircularPad3d((1, 2, 2, 1, 0, 3)), (2, 3, 4, 3)),
]


@pytest.mark.parametrize("make,shape", MODULES)
def test_modules_match_torch(make, shape, rng):
    c, t = twin(make)
    assert repr(c) == repr(t)
    run_both(c, t, rng.standard_normal(shape))


def test_3d_padding_errors_like_torch():
    raises_like_torch(lambda: nn.ReflectionPad3d(3)(chainrule.ones(1, 1, 3, 4, 4)),
                      lambda: torch.nn.ReflectionPad3d(3)(torch.ones(1, 1, 3, 4, 4)), "Padding size should be less")
    raises_like_torch(lambda: nn.CircularPad3d(4)(chainrule.ones(1, 1, 3, 4, 4)),
                      lambda: torch.nn.CircularPad3d(4)(torch.ones(1, 1, 3, 4, 4)), "wrapping around more than once")


def test_prelu_gradient_at_zero_and_channel_mismatch():
    c, t = twin(lambda m: m.PReLU(2))
    run_both(c, t, np.array([[0.0, -1.0], [2.0, 0.0]]))
    raises_like_torch(lambda: nn.PReLU(3)(chainrule.ones(2, 4)), lambda: torch.nn.PReLU(3)(torch.ones(2, 4)),
                      "channel size")


@pytest.mark.parametrize("make", [lambda m: m.CosineSimilarity(), lambda m: m.CosineSimilarity(dim=0, eps=1e-3),
                                  lambda m: m.PairwiseDistance(), lambda m: m.PairwiseDistance(p=1.0, keepdim=True)])
def test_distance_modules(make, rng):
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    c, t = make(nn), make(torch.nn)
    ca, cb = chainrule.tensor(a, requires_grad=True), chainrule.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out_c, out_t = c(ca, cb), t(ta, tb)
    np.testing.assert_allclose(out_c.detach().numpy(), out_t.detach().numpy(), rtol=1e-9, atol=1e-12)
    out_c.sum().backward()
    out_t.sum().backward()
    np.testing.assert_allclose(ca.grad.numpy(), ta.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert repr(c) == repr(t)
