"""chainrule.optim.Adafactor against torch.optim.Adafactor: the same parameters and gradients
give the same parameters and state (factored for matrices and stacks of them), step for step."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import chainrule
from chainrule import optim

from conftest import assert_close
from test_optimizers import STEPS, Run, _assert_same_state

CASES = [
    {}, {"weight_decay": 0.1}, {"maximize": True}, {"eps": (1e-3, 1e-2)}, {"d": 1.5}, {"beta2_decay": -0.5},
    {"lr": 0.5, "eps": (None, 0.0)}, {"foreach": True}, {"foreach": False},
    {"lr": 0.05, "beta2_decay": -0.3, "eps": (1e-8, 1e-2), "d": 2.0, "weight_decay": 0.2, "maximize": True},
]


@pytest.mark.parametrize("kwargs", CASES, ids=str)
def test_matches_torch_over_20_steps(kwargs):
    ours, theirs = Run(chainrule, "Adafactor", kwargs), Run(torch, "Adafactor", kwargs)
    for _ in range(STEPS):
        ours.step()
        theirs.step()
        for a, b in zip(ours.params, theirs.params):
            assert_close(a, b, rtol=1e-10, atol=1e-12)
    _assert_same_state(ours.opt.state_dict(), theirs.opt.state_dict())


def _mlp(lib, seed=0):
    rng = np.random.default_rng(seed)
    model = lib.nn.Sequential(lib.nn.Linear(6, 8), lib.nn.Tanh(), lib.nn.Linear(8, 3)).double()
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape))))
    return model


def _train(lib, model, opt, steps, start=0):
    rng = np.random.default_rng(1)
    data = [(rng.standard_normal((5, 6)), rng.standard_normal((5, 3))) for _ in range(start + steps)]
    for x, y in data[start:]:
        opt.zero_grad()
        loss = ((model(lib.tensor(x)) - lib.tensor(y)) ** 2).mean()
        loss.backward()
        opt.step()


def test_mlp_training_matches_torch():
    ours, theirs = _mlp(chainrule), _mlp(torch)
    opt = optim.Adafactor(ours.parameters(), lr=0.05, weight_decay=0.01)
    topt = torch.optim.Adafactor(theirs.parameters(), lr=0.05, weight_decay=0.01)
    _train(chainrule, ours, opt, 25)
    _train(torch, theirs, topt, 25)
    for a, b in zip(ours.parameters(), theirs.parameters()):
        assert_close(a, b, rtol=1e-10, atol=1e-12)
    _assert_same_state(opt.state_dict(), topt.state_dict())
    assert set(opt.state_dict()["state"][0]) == {"step", "row_var", "col_var"}
    assert set(opt.state_dict()["state"][1]) == {"step", "variance"}


def test_state_dict_round_trip_and_into_torch():
    straight = _mlp(chainrule)
    opt = optim.Adafactor(straight.parameters())
    _train(chainrule, straight, opt, 20)

    first = _mlp(chainrule)
    first_opt = optim.Adafactor(first.parameters())
    _train(chainrule, first, first_opt, 10)
    saved = first_opt.state_dict()
    resumed = copy.deepcopy(first)
    resumed_opt = optim.Adafactor(resumed.parameters(), lr=123.0)
    resumed_opt.load_state_dict(saved)
    assert resumed_opt.param_groups[0]["lr"] == 1e-2
    _train(chainrule, first, first_opt, 1, start=10)  # the loaded state is a copy
    _train(chainrule, resumed, resumed_opt, 10, start=10)
    for a, b in zip(resumed.parameters(), straight.parameters()):
        np.testing.assert_array_equal(a.data, b.data)

    theirs = _mlp(torch)
    with torch.no_grad():
        for p, q in zip(theirs.parameters(), first.parameters()):
            p.copy_(torch.tensor(q.detach().numpy()))
    ours = copy.deepcopy(first)
    ours_opt = optim.Adafactor(ours.parameters())
    ours_opt.load_state_dict(first_opt.state_dict())
    sd = first_opt.state_dict()
    topt = torch.optim.Adafactor(theirs.parameters())
    topt.load_state_dict({
        "state": {k: {n: torch.tensor(v.numpy()) for n, v in s.items()} for k, s in sd["state"].items()},
        "param_groups": copy.deepcopy(sd["param_groups"])})
    _train(chainrule, ours, ours_opt, 5, start=11)
    _train(torch, theirs, topt, 5, start=11)
    for a, b in zip(ours.parameters(), theirs.parameters()):
        assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_stacked_matrices_float32_and_groups_match_torch():
    rng = np.random.default_rng(3)
    starts = [rng.standard_normal(s).astype(np.float32) for s in ((2, 3, 4), (4, 5), (3,))]
    grads = [[rng.standard_normal(a.shape).astype(np.float32) for a in starts] for _ in range(STEPS)]
    results = []
    for lib in (chainrule, torch):
        params = [lib.tensor(a.copy(), requires_grad=True) for a in starts]
        opt = lib.optim.Adafactor([{"params": params[:2], "lr": 0.1}, {"params": params[2:], "d": 2.0}],
                                  weight_decay=0.05)
        for step in grads:
            for p, g in zip(params, step):
                p.grad = lib.tensor(g)
            opt.step()
        results.append((params, opt))
    (ours, opt), (theirs, topt) = results
    for a, b in zip(ours, theirs):
        assert a.dtype == chainrule.float32
        assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert opt.state[ours[0]]["row_var"].shape == (2, 3, 1)
    assert opt.state[ours[0]]["col_var"].shape == (2, 1, 4)
    assert opt.state[ours[0]]["step"].dtype == chainrule.float32
    _assert_same_state(opt.state_dict(), topt.state_dict(), rtol=1e-5, atol=1e-6)


def test_repr_and_defaults_match_torch():
    p, q = chainrule.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    assert repr(optim.Adafactor([p])) == repr(torch.optim.Adafactor([q]))
    assert optim.Adafactor([p]).defaults == torch.optim.Adafactor([q]).defaults


ERRORS = {
    "lr": {"lr": -1.0},
    "beta2_decay": {"beta2_decay": 0.5},
    "eps1": {"eps": (-1.0, 1e-3)},
    "eps2": {"eps": (None, -1e-3)},
    "d": {"d": 0.5},
    "weight_decay": {"weight_decay": -0.1},
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_match_torch(case):
    with pytest.raises(ValueError) as theirs:
        torch.optim.Adafactor([torch.zeros(2, requires_grad=True)], **ERRORS[case])
    with pytest.raises(ValueError) as ours:
        optim.Adafactor([chainrule.zeros(2, requires_grad=True)], **ERRORS[case])
    assert str(ours.value) == str(theirs.value)


def test_complex_parameters_are_refused_as_torch():
    messages = []
    for lib in (chainrule, torch):
        p = lib.zeros(2, dtype=lib.complex128, requires_grad=True)
        p.grad = lib.ones(2, dtype=lib.complex128)
        with pytest.raises(RuntimeError) as caught:
            lib.optim.Adafactor([p]).step()
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
