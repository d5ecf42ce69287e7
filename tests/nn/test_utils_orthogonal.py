"""nn.utils.parametrizations.orthogonal (the Cayley, matrix-exponential and Householder maps) against PyTorch."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from conftest import assert_close


def _orthogonal_linear(lib, shape, **kwargs):
    lib.manual_seed(0)
    layer = lib.nn.Linear(shape[1], shape[0]).double()
    return lib.nn.utils.parametrizations.orthogonal(layer, **kwargs)


@pytest.mark.parametrize("orthogonal_map", ["cayley", "matrix_exp", "householder", None])
@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
def test_weight_and_its_training_step_as_pytorch(shape, orthogonal_map):
    results = []
    for lib in (chainrule, torch):
        layer = _orthogonal_linear(lib, shape, orthogonal_map=orthogonal_map)
        weight = layer.weight
        product = weight @ weight.mT if shape[0] <= shape[1] else weight.mT @ weight
        assert_close(product, np.eye(min(shape)), atol=1e-12)
        optimizer = lib.optim.SGD(layer.parameters(), lr=0.1)
        x = lib.tensor(np.linspace(-1, 1, 2 * shape[1]).reshape(2, shape[1]))
        layer(x).pow(3).sum().backward()
        grad = layer.parametrizations.weight.original.grad.clone()
        optimizer.step()
        results.append((weight, layer.parametrizations.weight[0].base, grad, layer.weight))
    for ours, theirs in zip(*results):
        assert_close(ours, theirs)


def test_orthogonal_errors_as_pytorch():
    for lib in (chainrule, torch):
        with pytest.raises(ValueError, match='orthogonal_map has to be one of "matrix_exp", "cayley", "householder"'):
            _orthogonal_linear(lib, (3, 3), orthogonal_map="qr")
        with pytest.raises(ValueError, match="Expected a matrix or batch of matrices. Got a tensor of 1 dimensions."):
            lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(2, 2), name="bias")
        with pytest.raises(ValueError, match="has no parameter or buffer with name 'nothing'"):
            lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(2, 2), name="nothing")
        layer = _orthogonal_linear(lib, (3, 3), orthogonal_map="cayley", use_trivialization=False)
        with pytest.raises(NotImplementedError, match="use_trivialization=False"):
            layer.weight = lib.eye(3, dtype=lib.float64)


def test_cayley_without_trivialization_maps_the_weight_itself():
    ours = _orthogonal_linear(chainrule, (4, 2), orthogonal_map="cayley", use_trivialization=False).weight
    theirs = _orthogonal_linear(torch, (4, 2), orthogonal_map="cayley", use_trivialization=False).weight
    assert_close(ours, theirs)
