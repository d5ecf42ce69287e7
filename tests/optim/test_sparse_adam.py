"""chainrule.optim.SparseAdam against torch.optim.SparseAdam, fed the sparse gradients of
``nn.Embedding(sparse=True)`` (and hand-made COO ones): the same parameters and state, step for
step; its state_dict round trip; PyTorch's errors."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import chainrule
from chainrule import optim

from conftest import assert_close

RNG = np.random.default_rng(5)
WEIGHT = RNG.standard_normal((10, 4))
BATCHES = [RNG.integers(0, 10, (3, 5)) for _ in range(25)]
TARGETS = [RNG.standard_normal((3, 5, 4)) for _ in range(25)]

CASES = [{}, {"lr": 0.05}, {"maximize": True}, {"betas": (0.5, 0.9), "eps": 1e-3}, {"lr": 0.02, "padding_idx": 2}]


def _run(lib, kwargs, steps, dtype=np.float64, start=0, model=None, opt=None):
    kwargs = dict(kwargs)
    padding_idx = kwargs.pop("padding_idx", None)
    if model is None:
        model = lib.nn.Embedding(10, 4, padding_idx=padding_idx, sparse=True,
                                 dtype=lib.float64 if dtype is np.float64 else lib.float32)
        with lib.no_grad():
            model.weight.copy_(lib.tensor(WEIGHT.astype(dtype)))
        opt = lib.optim.SparseAdam(model.parameters(), **kwargs)
    for batch, target in zip(BATCHES[start:start + steps], TARGETS[start:start + steps]):
        opt.zero_grad()
        loss = ((model(lib.tensor(batch)) - lib.tensor(target.astype(dtype))) ** 2).sum()
        loss.backward()
        assert model.weight.grad.is_sparse
        opt.step()
    return model, opt


def _same_state(ours, theirs, tol=1e-12):
    a, b = ours.state_dict(), theirs.state_dict()
    assert a["param_groups"] == b["param_groups"]
    assert a["state"].keys() == b["state"].keys()
    for key, state in a["state"].items():
        assert list(state) == list(b["state"][key])
        assert type(state["step"]) is int and state["step"] == b["state"][key]["step"]
        for name in ("exp_avg", "exp_avg_sq"):
            assert_close(state[name], b["state"][key][name], rtol=tol, atol=tol, what=name)


@pytest.mark.parametrize("kwargs", CASES, ids=str)
def test_embedding_training_matches_torch(kwargs):
    ours, opt = _run(chainrule, kwargs, 25)
    theirs, topt = _run(torch, kwargs, 25)
    assert_close(ours.weight, theirs.weight, rtol=1e-12, atol=1e-12)
    _same_state(opt, topt)


def test_float32_matches_torch():
    ours, opt = _run(chainrule, {"lr": 0.01}, 20, np.float32)
    theirs, topt = _run(torch, {"lr": 0.01}, 20, np.float32)
    assert ours.weight.dtype == chainrule.float32
    assert_close(ours.weight, theirs.weight, rtol=1e-5, atol=1e-6)
    _same_state(opt, topt, 1e-5)


def test_hand_made_sparse_gradients_with_repeats_and_two_sparse_dims():
    indices = [[0, 2, 2, 1], [1, 0, 0, 3]]
    results = []
    for lib in (chainrule, torch):
        p = lib.tensor(WEIGHT[:3].copy(), requires_grad=True)
        opt = lib.optim.SparseAdam([p], lr=0.1)
        for t in range(4):
            p.grad = lib.sparse_coo_tensor(indices, lib.tensor([1.0, -2.0, 0.5, 3.0], dtype=lib.float64) * (t + 1), (3, 4),
                                           check_invariants=True)
            opt.step()
        results.append((p, opt))
    assert_close(results[0][0], results[1][0], rtol=1e-12, atol=1e-12)
    _same_state(results[0][1], results[1][1])


def test_state_dict_round_trip_keeps_the_step_an_int_and_loads_into_torch():
    straight, _ = _run(chainrule, {"lr": 0.05}, 20)
    first, first_opt = _run(chainrule, {"lr": 0.05}, 10)
    saved = first_opt.state_dict()
    resumed = copy.deepcopy(first)
    resumed_opt = optim.SparseAdam(resumed.parameters(), lr=1.0)
    resumed_opt.load_state_dict(saved)
    assert resumed_opt.param_groups[0]["lr"] == 0.05
    assert type(resumed_opt.state[resumed.weight]["step"]) is int
    _run(chainrule, {}, 10, start=10, model=resumed, opt=resumed_opt)
    np.testing.assert_array_equal(resumed.weight.detach().numpy(), straight.weight.detach().numpy())

    theirs = torch.nn.Embedding(10, 4, sparse=True).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(first.weight.detach().numpy()))
    topt = torch.optim.SparseAdam(theirs.parameters())
    converted = {k: {n: torch.tensor(v.numpy()) if isinstance(v, chainrule.Tensor) else v for n, v in s.items()}
                 for k, s in saved["state"].items()}
    topt.load_state_dict({"state": converted, "param_groups": copy.deepcopy(saved["param_groups"])})
    _run(torch, {}, 10, start=10, model=theirs, opt=topt)
    assert_close(resumed.weight, theirs.weight, rtol=1e-12, atol=1e-12)
    _same_state(resumed_opt, topt)


def test_dense_gradients_are_refused_as_torch():
    messages = []
    for lib in (chainrule, torch):
        p = lib.zeros(3, requires_grad=True)
        p.grad = lib.ones(3)
        with pytest.raises(RuntimeError) as caught:
            lib.optim.SparseAdam([p]).step()
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


ERRORS = {
    "lr": lambda lib, p: lib.optim.SparseAdam([p], lr=0.0),
    "eps": lambda lib, p: lib.optim.SparseAdam([p], eps=0.0),
    "beta0": lambda lib, p: lib.optim.SparseAdam([p], betas=(1.0, 0.9)),
    "beta1": lambda lib, p: lib.optim.SparseAdam([p], betas=(0.9, -0.1)),
    "complex": lambda lib, p: lib.optim.SparseAdam([p, lib.zeros(2, dtype=lib.complex64, requires_grad=True)]),
    "sparse": lambda lib, p: lib.optim.SparseAdam(
        [{"params": [p]}, {"params": [lib.sparse_coo_tensor([[0]], [1.0], (2,), check_invariants=True).requires_grad_()]}]),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_match_torch(case):
    with pytest.raises(ValueError) as theirs:
        ERRORS[case](torch, torch.zeros(2, requires_grad=True))
    with pytest.raises(ValueError) as ours:
        ERRORS[case](chainrule, chainrule.zeros(2, requires_grad=True))
    assert str(ours.value) == str(theirs.value)


def test_defaults_and_repr_match_torch():
    p, q = chainrule.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    assert optim.SparseAdam([p]).defaults == torch.optim.SparseAdam([q]).defaults
    assert repr(optim.SparseAdam([p])) == repr(torch.optim.SparseAdam([q]))
