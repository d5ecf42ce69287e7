"""Guards: a call that differs in what a plan is specialised to (input shapes, dtypes,
``requires_grad``, grad mode, training mode, the modules' parts) gets a plan of its own, and
gives eager's numbers."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule
from chainrule import nn


def _mlp(dropout=0.0):
    chainrule.manual_seed(0)
    layers = [nn.Linear(4, 8), nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else []) + [nn.Linear(8, 3)]
    return nn.Sequential(*layers)


def _plans(compiled):
    return sum(entry.plan is not None for entry in compiled.__dict__["_region"].entries.values())


def _x(rows, seed=0, requires_grad=False):
    return chainrule.tensor(np.random.default_rng(seed).standard_normal((rows, 4)), dtype=chainrule.float32,
                            requires_grad=requires_grad)


def _step(model, net, x):
    model.zero_grad()
    out = net(x)
    out.sum().backward()
    return out.detach().numpy().tobytes(), [p.grad.numpy().tobytes() for p in model.parameters()]


def test_a_new_batch_size_gets_a_plan_of_its_own():
    eager, twin = _mlp(), _mlp()
    compiled = chainrule.compile(twin)
    for rows in (8, 8, 8, 5, 5, 5, 8):
        assert _step(twin, compiled, _x(rows)) == _step(eager, eager, _x(rows))
    assert _plans(compiled) == 2


def test_train_and_eval_switch_plans_and_dropout_follows():
    eager, twin = _mlp(dropout=0.5), _mlp(dropout=0.5)
    compiled = chainrule.compile(twin)
    results = []
    for model, net in ((eager, eager), (twin, compiled)):
        chainrule.manual_seed(3)
        outs = []
        for training in (True, True, True, False, False, False, True, True):
            model.train(training)
            outs.append(_step(model, net, _x(6)))
        results.append(outs)
    assert results[0] == results[1]
    assert _plans(compiled) == 2


def test_no_grad_calls_get_their_own_plan_and_record_nothing():
    model = _mlp()
    compiled = chainrule.compile(model)
    for _ in range(3):
        with chainrule.no_grad():
            out = compiled(_x(4))
        assert out.grad_fn is None and not out.requires_grad
        assert out.numpy().tobytes() == model(_x(4)).detach().numpy().tobytes()
        out = compiled(_x(4))
        assert out.grad_fn is not None
    assert _plans(compiled) == 2


def test_an_input_that_requires_grad_gets_its_gradient():
    eager, twin = _mlp(), _mlp()
    compiled = chainrule.compile(twin)
    for _ in range(3):
        compiled(_x(4))
    grads = []
    for net in (eager, compiled):
        for _ in range(3):
            x = _x(4, requires_grad=True)
            net(x).sum().backward()
        grads.append(x.grad.numpy().tobytes())
    assert grads[0] == grads[1]


def test_freezing_a_parameter_changes_the_plan():
    eager, twin = _mlp(), _mlp()
    compiled = chainrule.compile(twin)
    for _ in range(3):
        _step(twin, compiled, _x(4))
    for model in (eager, twin):
        model[0].weight.requires_grad_(False)
    for _ in range(3):
        a = _step_frozen(twin, compiled)
        b = _step_frozen(eager, eager)
        assert a == b and twin[0].weight.grad is None


def _step_frozen(model, net):
    for p in model.parameters():
        p.grad = None
    net(_x(4)).sum().backward()
    return [None if p.grad is None else p.grad.numpy().tobytes() for p in model.parameters()]


def test_replacing_a_parameter_or_changing_dtype_is_seen():
    model = _mlp()
    compiled = chainrule.compile(model)
    for _ in range(3):
        compiled(_x(4))
    model[2].weight = nn.Parameter(chainrule.zeros(3, 8))
    for _ in range(3):
        out = compiled(_x(4))
        assert np.array_equal(out.detach().numpy(), np.broadcast_to(model[2].bias.detach().numpy(), (4, 3)))
    model.double()
    x = chainrule.tensor(np.ones((2, 4)))
    for _ in range(3):
        out = compiled(x)
        assert out.dtype == chainrule.float64
        assert out.detach().numpy().tobytes() == model(x).detach().numpy().tobytes()


def test_past_the_cache_size_limit_new_shapes_run_eagerly():
    model = _mlp()
    compiled = chainrule.compile(model, options={"cache_size_limit": 2})
    chainrule.compiler.reset()  # warnings are once per reason and process
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for rows in (2, 2, 2, 3, 3, 3, 4, 4, 4):
            out = compiled(_x(rows))
            assert out.detach().numpy().tobytes() == model(_x(rows)).detach().numpy().tobytes()
    assert _plans(compiled) == 2
    assert any("cache size limit" in str(w.message) for w in caught)


@pytest.mark.parametrize("recompile_limit", [1])
def test_recompile_limit_is_the_cache_size_limit(recompile_limit):
    compiled = chainrule.compile(_mlp(), recompile_limit=recompile_limit)
    chainrule.compiler.reset()  # warnings are once per reason and process
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for rows in (2, 2, 2, 3):
            compiled(_x(rows))
    assert any("cache size limit (1" in str(w.message) for w in caught)
