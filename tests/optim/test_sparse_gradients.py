"""Sparse gradients (``nn.Embedding(sparse=True)``) reaching the dense optimizers: SGD,
Adagrad and LBFGS take them as PyTorch's do (the same updates; ``.grad`` stays sparse), the
others refuse them with PyTorch's errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from conftest import assert_close

INDICES = [[1, 3, 1], [0, 3, 4]]  # (row 1 twice: an uncoalesced gradient)


def _train(library, name, steps=3, **options):
    library.manual_seed(0)
    emb = library.nn.Embedding(5, 3, sparse=True, dtype=library.float64)
    optimizer = getattr(library.optim, name)(emb.parameters(), **options)
    for step in range(steps):
        optimizer.zero_grad()
        (emb(library.tensor(INDICES[step % 2])) ** 2).sum().backward()
        if name == "LBFGS":
            optimizer.step(lambda: (emb(library.tensor(INDICES[0])) ** 2).sum())
        else:
            optimizer.step()
    return emb


@pytest.mark.parametrize("name,options", [
    ("SGD", {"lr": 0.1}), ("SGD", {"lr": 0.1, "momentum": 0.9}), ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "maximize": True}), ("Adagrad", {"lr": 0.5}), ("Adagrad", {"lr": 0.5, "lr_decay": 0.1}),
    ("LBFGS", {"lr": 0.5, "max_iter": 3}),
])
def test_the_updates_that_take_sparse_gradients_match_pytorch(name, options):
    ours, theirs = _train(chainrule, name, **options), _train(torch, name, **options)
    # (PyTorch adds an uncoalesced gradient's entries one by one: the last bits may differ)
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=1e-14, atol=1e-15)
    assert ours.weight.grad.is_sparse and theirs.weight.grad.is_sparse  # put back after the step
    assert_close(ours.weight.grad.to_dense(), theirs.weight.grad.to_dense())


@pytest.mark.parametrize("name,options", [
    ("Adam", {}), ("AdamW", {}), ("Adamax", {}), ("NAdam", {}), ("RAdam", {}), ("RMSprop", {}), ("Rprop", {}),
    ("Adadelta", {}), ("ASGD", {}), ("Adafactor", {}), ("SGD", {"weight_decay": 0.1}),
    ("Adagrad", {"weight_decay": 0.1}),
])
def test_the_others_refuse_them_with_pytorchs_errors(name, options):
    messages = []
    for library in (chainrule, torch):
        with pytest.raises(RuntimeError) as error:
            _train(library, name, steps=1, **options)
        messages.append(str(error.value))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("owner", ["optimizer", "module"])
def test_zero_grad_in_place_empties_a_sparse_gradient(owner):
    found = []
    for library in (chainrule, torch):
        emb = library.nn.Embedding(5, 2, sparse=True)
        optimizer = library.optim.SGD(emb.parameters(), lr=0.1)
        emb(library.tensor([1, 2, 1])).sum().backward()
        (optimizer if owner == "optimizer" else emb).zero_grad(set_to_none=False)
        grad = emb.weight.grad
        found.append((grad.is_sparse, grad._nnz(), grad.is_coalesced(), grad.to_dense().abs().sum().item()))
        emb(library.tensor([3])).sum().backward()  # and the next gradient adds into it
        found.append(emb.weight.grad.coalesce().indices().tolist())
    assert found[:2] == found[2:] and found[0] == (True, 0, True, 0.0)
