"""nn.utils: gradient clipping and parameter/vector conversion against PyTorch."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import chainrule
import chainrule.nn as nn
from conftest import assert_close
from nn_twins import twin


def with_grads(scale=1.0):
    c, t = twin(lambda nn: nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)))
    x = np.random.default_rng(0).standard_normal((5, 3)) * scale
    (c(chainrule.tensor(x)) ** 2).sum().backward()
    (t(torch.tensor(x)) ** 2).sum().backward()
    return c, t


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.1, 1e6])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    c, t = with_grads()
    total_c = nn.utils.clip_grad_norm_(c.parameters(), max_norm, norm_type=norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(t.parameters(), max_norm, norm_type=norm_type)
    assert isinstance(total_c, chainrule.Tensor) and total_c.shape == ()
    assert_close(total_c, total_t)
    for pc, pt in zip(c.parameters(), t.parameters()):
        assert_close(pc.grad, pt.grad)


def test_clip_grad_norm_single_tensor_and_no_grads():
    p = nn.Parameter(chainrule.tensor([3.0, 4.0]))
    p.grad = chainrule.tensor([3.0, 4.0])
    grad = p.grad
    total = nn.utils.clip_grad_norm_(p, 1.0)
    assert total.item() == pytest.approx(5.0)
    assert p.grad is grad
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8], rtol=1e-5)
    assert nn.utils.clip_grad_norm_([nn.Parameter(chainrule.ones(2))], 1.0).item() == 0.0


def test_clip_grad_norm_nonfinite():
    p = nn.Parameter(chainrule.ones(2))
    p.grad = chainrule.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="is non-finite, so it cannot be clipped"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert math.isinf(nn.utils.clip_grad_norm_([p], 1.0).item())


def test_clip_grad_norm_keeps_float32():
    model = nn.Linear(3, 2)
    model(chainrule.randn(4, 3)).sum().backward()
    total = nn.utils.clip_grad_norm_(model.parameters(), 0.01)
    assert total.dtype == chainrule.float32 and model.weight.grad.dtype == chainrule.float32


def test_clip_grad_value_matches_torch():
    c, t = with_grads(scale=3.0)
    assert nn.utils.clip_grad_value_(c.parameters(), 0.5) is None
    torch.nn.utils.clip_grad_value_(t.parameters(), 0.5)
    for pc, pt in zip(c.parameters(), t.parameters()):
        assert_close(pc.grad, pt.grad)
        assert np.abs(pc.grad.numpy()).max() <= 0.5


def test_parameters_to_vector_and_back():
    c, t = twin(lambda nn: nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2)))
    vec_c = nn.utils.parameters_to_vector(c.parameters())
    vec_t = torch.nn.utils.parameters_to_vector(t.parameters())
    assert_close(vec_c, vec_t)
    new = np.arange(vec_t.numel(), dtype=np.float64)
    weight = c[0].weight
    nn.utils.vector_to_parameters(chainrule.tensor(new), c.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(new), t.parameters())
    assert c[0].weight is weight
    for pc, pt in zip(c.parameters(), t.parameters()):
        assert_close(pc, pt)
    with pytest.raises(TypeError, match="expected torch.Tensor"):
        nn.utils.vector_to_parameters(new, c.parameters())


def test_parameters_to_vector_is_differentiable():
    layer = nn.Linear(2, 2)
    (nn.utils.parameters_to_vector(layer.parameters()) ** 2).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), 2 * layer.weight.detach().numpy(), rtol=1e-6)
