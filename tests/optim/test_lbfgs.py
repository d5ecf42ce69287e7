"""LBFGS against PyTorch's in float64: the same parameters, losses and counters after
several steps, with a fixed step and with the strong-Wolfe line search."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from conftest import assert_close


def problem(lib, seed=0):
    """A small tanh network fitting a sine: (params, closure, optimizer factory)."""
    rng = np.random.default_rng(seed)
    x = lib.tensor(rng.uniform(-2, 2, (40, 1)))
    y = lib.sin(2 * x)
    model = lib.nn.Sequential(lib.nn.Linear(1, 8), lib.nn.Tanh(), lib.nn.Linear(8, 1)).double()
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)) * 0.7))
    return model, x, y


def run(lib, steps, **options):
    model, x, y = problem(lib)
    optimizer = lib.optim.LBFGS(model.parameters(), **options)
    losses = []

    def closure():
        optimizer.zero_grad()
        loss = lib.nn.functional.mse_loss(model(x), y)
        loss.backward()
        return loss

    for _ in range(steps):
        losses.append(optimizer.step(closure).item())
    state = optimizer.state[next(iter(model.parameters()))]
    return [p.detach() for p in model.parameters()], losses, state


@pytest.mark.parametrize("options", [
    dict(),
    dict(lr=0.5, max_iter=5, history_size=3),
    dict(line_search_fn="strong_wolfe"),
    dict(lr=0.8, max_iter=7, max_eval=9, history_size=4, line_search_fn="strong_wolfe"),
    dict(tolerance_change=1e-3, max_iter=50),
], ids=str)
def test_lbfgs_matches_torch(options):
    # Three steps: near the optimum L-BFGS amplifies last-bit differences (from the order of
    # a GEMM's sums) about a thousandfold per 20 iterations.
    c_params, c_losses, c_state = run(chainrule, 3, **options)
    t_params, t_losses, t_state = run(torch, 3, **options)
    np.testing.assert_allclose(c_losses, t_losses, rtol=1e-9, atol=1e-12)
    for c, t in zip(c_params, t_params):
        assert_close(c, t)
    assert (c_state["func_evals"], c_state["n_iter"]) == (t_state["func_evals"], t_state["n_iter"])
    assert_close(c_state["d"], t_state["d"])
    assert len(c_state["old_dirs"]) == len(t_state["old_dirs"])
    assert float(c_state["t"]) == pytest.approx(float(t_state["t"]), rel=1e-9)


def test_lbfgs_stops_at_a_zero_gradient_and_checks_arguments():
    w = chainrule.tensor([0.0], requires_grad=True)
    optimizer = chainrule.optim.LBFGS([w])
    calls = []

    def closure():
        calls.append(1)
        optimizer.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    assert float(optimizer.step(closure)) == 0.0
    assert len(calls) == 1
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        chainrule.optim.LBFGS([w], lr=-1)
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        chainrule.optim.LBFGS([{"params": [w]}, {"params": [chainrule.zeros(1, requires_grad=True)]}])
    v = chainrule.tensor([1.0], requires_grad=True)
    armijo = chainrule.optim.LBFGS([v], line_search_fn="armijo")

    def quadratic():
        armijo.zero_grad()
        loss = (v * v).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        armijo.step(quadratic)
