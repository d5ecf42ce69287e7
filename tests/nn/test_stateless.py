"""functional_call (chainrule.func / nn.utils.stateless) against PyTorch's: a MAML-style inner
step through autograd.grad, buffers swapped and updated in place, tied weights, strict keys,
and the module left exactly as it was."""
from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch

import chainrule


def _net(lib):
    net = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.Tanh(), lib.nn.Linear(4, 2)).double()
    rng = np.random.default_rng(8)
    with lib.no_grad():
        for p in net.parameters():
            p.copy_(lib.tensor(rng.uniform(-1, 1, tuple(p.shape))))
    return net


def _maml_step(lib):
    func = importlib.import_module(lib.__name__ + ".func")
    net = _net(lib)
    x = lib.tensor(np.random.default_rng(9).standard_normal((5, 3)))
    params = {name: p.detach().clone().requires_grad_() for name, p in net.named_parameters()}
    inner = func.functional_call(net, params, (x,)).pow(2).sum()
    grads = lib.autograd.grad(inner, list(params.values()), create_graph=True)
    fast = {name: p - 0.1 * g for (name, p), g in zip(params.items(), grads)}
    stats = {"1.running_mean": lib.zeros(4, dtype=lib.double)}
    outer = func.functional_call(net, (fast, stats), x, strict=False).sum()
    outer.backward()  # through the inner step: second derivatives
    return {"inner": inner.detach().numpy(), "outer": outer.detach().numpy(),
            "meta": [params[n].grad.numpy() for n in params], "swapped stats": stats["1.running_mean"].numpy(),
            "own stats": net[1].running_mean.numpy(), "own grads": [p.grad for p in net.parameters()],
            "parameter types": {type(p).__name__ for p in net.parameters()}}


def test_maml_inner_step_matches_pytorch_and_leaves_the_module_as_it_was():
    ours, theirs = _maml_step(chainrule), _maml_step(torch)
    for key in ("inner", "outer", "swapped stats", "own stats"):
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-10, atol=1e-12, err_msg=key)
    for a, b in zip(ours["meta"], theirs["meta"]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    assert ours["own grads"] == [None] * 6 and ours["parameter types"] == {"Parameter"}


def test_tied_weights_strict_keys_and_errors_like_pytorch():
    for lib in (chainrule, torch):
        stateless = importlib.import_module(lib.__name__ + ".func")
        seq = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Linear(2, 2)).double()
        seq[1].weight, seq[1].bias = seq[0].weight, seq[0].bias  # one pair of parameters, two layers
        given = {"0.weight": 2 * lib.eye(2, dtype=lib.double), "0.bias": lib.ones(2, dtype=lib.double)}
        ones = lib.ones(1, 2, dtype=lib.double)
        assert stateless.functional_call(seq, given, ones).tolist() == [[7.0, 7.0]]  # both layers replaced
        untied = stateless.functional_call(seq, given, ones, tie_weights=False)
        assert untied.tolist() == seq[1](lib.tensor([[3.0, 3.0]], dtype=lib.double)).tolist()  # the second kept its own
        with pytest.raises(RuntimeError, match="Missing key\\(s\\): '0.bias'"):
            stateless.functional_call(seq, {"0.weight": lib.eye(2, dtype=lib.double)}, ones, strict=True)
        with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
            stateless.functional_call(seq, (given, given), ones)
        with pytest.raises(ValueError, match="which are tied"):
            stateless.functional_call(seq, {**given, "1.weight": lib.eye(2, dtype=lib.double)}, ones)


def test_the_older_spelling_warns_as_pytorch():
    for lib in (chainrule, torch):
        stateless = importlib.import_module(lib.__name__ + ".nn.utils.stateless")
        layer = lib.nn.Linear(2, 1)
        with pytest.warns(FutureWarning, match="use `torch.func.functional_call` instead"):
            out = stateless.functional_call(layer, {"weight": lib.ones(1, 2), "bias": lib.zeros(1)}, lib.ones(1, 2))
        assert out.tolist() == [[2.0]]


def test_module_restored_when_the_call_raises():
    net = _net(chainrule)
    before = {name: p for name, p in net.named_parameters()}
    with pytest.raises(RuntimeError):
        chainrule.func.functional_call(net, {"0.weight": chainrule.zeros(4, 3, dtype=chainrule.double)},
                                       chainrule.zeros(5, 7, dtype=chainrule.double))
    assert all(p is before[name] for name, p in net.named_parameters())
