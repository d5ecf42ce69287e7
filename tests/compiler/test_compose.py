"""A replayed region is one node in the graph: it composes with losses outside it, hooks on
its parameters, ``autograd.grad``, ``create_graph`` (recomputed eagerly), several pending
calls, ``retain_graph`` and the in-place checks, as eager does."""
from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

import chainrule
from chainrule import nn


def _twins():
    chainrule.manual_seed(0)
    eager = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2))
    twin = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2))
    twin.load_state_dict(eager.state_dict())
    compiled = chainrule.compile(twin)
    for _ in range(2):  # the two traced calls: later ones replay
        compiled(_x(0))
    return eager, twin, compiled


def _x(seed, requires_grad=False):
    values = np.random.default_rng(seed).standard_normal((5, 4))
    return chainrule.tensor(values, dtype=chainrule.float32, requires_grad=requires_grad)


def _bytes(tensors):
    return [None if t is None else t.detach().numpy().tobytes() for t in tensors]


def test_hooks_on_parameters_see_and_change_the_gradients():
    eager, twin, compiled = _twins()
    grads = []
    for model, net in ((eager, eager), (twin, compiled)):
        seen = []
        handle = model[0].weight.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 2.0)
        net(_x(1)).pow(2).sum().backward()
        handle.remove()
        grads.append((_bytes([model[0].weight.grad]), [s.tobytes() for s in seen]))
    assert grads[0] == grads[1]


def test_autograd_grad_through_a_replay_leaves_grad_alone():
    eager, twin, compiled = _twins()
    found = []
    for model, net in ((eager, eager), (twin, compiled)):
        loss = net(_x(2)).sum()
        found.append(_bytes(chainrule.autograd.grad(loss, list(model.parameters()))))
        assert all(p.grad is None for p in model.parameters())
    assert found[0] == found[1]


def test_create_graph_recomputes_eagerly_and_gives_second_derivatives():
    eager, twin, compiled = _twins()
    chainrule.compiler.reset()  # its warnings too
    for _ in range(2):
        compiled(_x(3, requires_grad=True))
    second = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for model, net in ((eager, eager), (twin, compiled)):
            x = _x(3, requires_grad=True)
            loss = net(x).pow(2).sum()
            (gx,) = chainrule.autograd.grad(loss, [x], create_graph=True)
            gx.pow(2).sum().backward()
            second.append([t.detach().numpy().copy() for t in [gx, x.grad] + [p.grad for p in model.parameters()]])
    # The recomputed graph sums the second-order terms in another order: equal to rounding.
    for a, b in zip(*second):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert any("create_graph=True" in str(w.message) for w in caught)


def test_create_graph_through_dropout_reuses_the_masks():
    chainrule.manual_seed(0)
    layer = nn.Linear(4, 4)
    drop = nn.Dropout(0.5)

    def region(x):
        return drop(layer(x)).tanh()

    compiled = chainrule.compile(region)
    results = []
    for fn in (region, compiled):
        chainrule.manual_seed(5)
        for _ in range(3):
            x = _x(9, requires_grad=True)[:, :4]
            (gx,) = chainrule.autograd.grad(fn(x).pow(2).sum(), [x], create_graph=True)
        layer.zero_grad()
        gx.pow(2).sum().backward()
        results.append([gx.detach().numpy().copy(), layer.weight.grad.numpy().copy(), chainrule.rand(2).numpy()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_two_pending_calls_each_keep_their_values():
    eager, twin, compiled = _twins()
    results = []
    for model, net in ((eager, eager), (twin, compiled)):
        first, second = net(_x(4)), net(_x(5))
        (first.pow(2).sum() + second.pow(3).sum()).backward()
        results.append(_bytes([first, second] + [p.grad for p in model.parameters()]))
    assert results[0] == results[1]


def test_retain_graph_and_a_second_backward():
    eager, twin, compiled = _twins()
    results = []
    for model, net in ((eager, eager), (twin, compiled)):
        loss = net(_x(6)).sum()
        loss.backward(retain_graph=True)
        loss.backward()
        results.append(_bytes([p.grad for p in model.parameters()]))
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            loss.backward()
    assert results[0] == results[1]


def test_changing_a_saved_input_in_place_before_backward_raises():
    _, _, compiled = _twins()
    x = _x(7, requires_grad=True)
    y = x * 1.0
    loss = compiled(y).sum()
    with chainrule.no_grad():
        y.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_several_outputs_one_unused_an_input_and_a_parameter_returned():
    chainrule.manual_seed(0)
    layer = nn.Linear(3, 3)

    def many(x):
        h = layer(x)
        return h.tanh(), h.sigmoid() * 2.0, x, layer.weight

    compiled = chainrule.compile(many)
    results = []
    for fn in (many, compiled, compiled, compiled, compiled):
        layer.zero_grad()
        x = chainrule.tensor(np.linspace(-1, 1, 6).reshape(2, 3), dtype=chainrule.float32, requires_grad=True)
        a, b, same_x, weight = fn(x)
        assert same_x is x and weight is layer.weight
        b.sum().backward()  # a's gradient is None
        results.append(_bytes([a, b, x.grad, layer.weight.grad, layer.bias.grad]))
    assert all(r == results[0] for r in results)
    assert compiled.region.last_plan is not None


def test_dropout_draws_from_the_generator_as_eager():
    chainrule.manual_seed(0)
    drop = nn.Dropout(0.5)
    compiled = chainrule.compile(drop)
    streams = []
    for net in (drop, compiled):
        chainrule.manual_seed(7)
        outs = [net(chainrule.ones(50)).numpy().tobytes() for _ in range(5)]
        streams.append((outs, chainrule.rand(3).numpy().tobytes()))
    assert streams[0] == streams[1]


def test_a_compiled_module_inside_a_compiled_function():
    _, twin, compiled = _twins()

    def outer(x):
        return compiled(x).sum() * 2.0

    twice = chainrule.compile(outer)
    values = [twice(_x(8)).item() for _ in range(4)]
    assert values == [twin(_x(8)).sum().item() * 2.0] * 4
    assert twice.region.last_plan is not None


def test_a_buffer_set_is_handed_out_again_only_once_its_release_is_done():
    """Another thread's call may take a buffer set the moment it is free: by then the arrays
    the last call's ops saved must be let go of, or letting go would drop the new call's."""
    _, _, compiled = _twins()
    plan = compiled.__dict__["_region"].last_plan
    held = plan.acquire()
    taken = []

    class Node:  # letting go of its saved arrays is where another thread's call comes in
        def __setattr__(self, name, value):
            taken.append(plan.acquire())

    held.transient = [Node()]
    held.release()
    assert len(taken) == 1 and taken[0] is not held
    assert plan.acquire() is held  # free again once released


def test_calls_from_several_threads_never_share_buffers():
    chainrule.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 3))
    compiled = chainrule.compile(model)
    batches = [chainrule.randn(64, 64) for _ in range(6)]
    with chainrule.no_grad():
        expected = [model(x).numpy().copy() for x in batches]
        for _ in range(3):
            compiled(batches[0])
        assert compiled.__dict__["_region"].last_plan is not None  # the calls below replay
    wrong = []

    def infer(offset):
        with chainrule.no_grad():
            for i in range(60):
                k = (i + offset) % len(batches)
                if not np.array_equal(compiled(batches[k]).numpy(), expected[k]):
                    wrong.append((offset, i))

    def train(offset):  # calls that hold their buffers until their backward
        for i in range(30):
            k = (i + offset) % len(batches)
            out = compiled(batches[k])
            if not np.array_equal(out.detach().numpy(), expected[k]):
                wrong.append(("grad", offset, i))
            out.sum().backward()

    threads = [threading.Thread(target=infer, args=(k,)) for k in range(3)]
    threads.append(threading.Thread(target=train, args=(1,)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []
