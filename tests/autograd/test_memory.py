"""Graphs are freed by reference counting alone: training-like loops leave no growing number
of live nodes, and no tensor/node reference cycles are left for the cyclic GC to find."""
from __future__ import annotations

import gc
import weakref

import pytest

import chainrule
from chainrule.autograd import Node
from chainrule.autograd import graph


class NodeTracker:
    """Weak references to every node an op records, while installed."""

    def __init__(self):
        self.refs = []

    def __call__(self, node, args, kwargs, result):
        self.refs.append(weakref.ref(node))

    def live(self):
        return sum(1 for r in self.refs if r() is not None)

    def __enter__(self):
        self.handle = graph.on_record(self)
        return self

    def __exit__(self, *exc):
        self.handle.remove()


@pytest.fixture
def no_cyclic_gc():
    """Run with the cyclic collector off: whatever is freed is freed by refcounting."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def live_nodes_by_gc():
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, Node))


def _model():
    g = chainrule.Generator().manual_seed(0)
    w1 = chainrule.randn(4, 8, generator=g, requires_grad=True)
    b1 = chainrule.zeros(8, requires_grad=True)
    w2 = chainrule.randn(8, 1, generator=g, requires_grad=True)
    x = chainrule.randn(16, 4, generator=g)
    y = chainrule.randn(16, 1, generator=g)
    return [w1, b1, w2], x, y


def _step(params, x, y, lr=0.01):
    w1, b1, w2 = params
    h = (x @ w1 + b1).tanh()
    h2 = h.relu() * h.sigmoid()
    pred = h2 @ w2
    loss = ((pred - y) ** 2).mean() + 1e-3 * (w1 * w1).sum()
    loss.backward()
    with chainrule.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad = None
    return loss.item()


def test_training_loop_leaves_no_live_nodes(no_cyclic_gc):
    params, x, y = _model()
    losses = []
    with NodeTracker() as tracker:
        for i in range(1000):
            losses.append(_step(params, x, y))
            if i in (0, 10, 500, 999):
                assert tracker.live() == 0, f"iteration {i}: {tracker.live()} nodes still alive"
        assert len(tracker.refs) >= 1000 * 10
    assert losses[-1] < losses[0]
    for p in params:
        assert p.grad_fn is None and p.is_leaf


def test_training_loop_node_count_does_not_grow():
    params, x, y = _model()
    for _ in range(20):
        _step(params, x, y)
    before = live_nodes_by_gc()
    for _ in range(1000):
        _step(params, x, y)
    after = live_nodes_by_gc()
    assert after <= before


def test_grad_accumulating_loop_without_zeroing_keeps_no_graph(no_cyclic_gc):
    # Gradients accumulate into .grad across iterations; .grad itself must hold no graph.
    params, x, y = _model()
    with NodeTracker() as tracker:
        for _ in range(50):
            w1, b1, w2 = params
            loss = ((((x @ w1 + b1).tanh() @ w2) - y) ** 2).mean()
            loss.backward()
            del loss
        assert tracker.live() == 0
    for p in params:
        assert p.grad.grad_fn is None and not p.grad.requires_grad


def test_dropping_graph_frees_nodes_without_gc(no_cyclic_gc):
    x = chainrule.randn(3, 4, requires_grad=True)
    w = chainrule.randn(4, 2, requires_grad=True)
    h = (x @ w).tanh()
    out = (h * h).sum()
    node_ref = weakref.ref(out.grad_fn)
    inner_ref = weakref.ref(h.grad_fn)
    tensor_ref = weakref.ref(h)
    del h, out
    assert node_ref() is None
    assert inner_ref() is None
    assert tensor_ref() is None


def test_graph_after_backward_is_freed_without_gc(no_cyclic_gc):
    x = chainrule.randn(3, 4, requires_grad=True)
    y = (x.exp() * x).sum()
    refs = [weakref.ref(y.grad_fn), weakref.ref(y.grad_fn.next_functions[0][0])]
    y.backward()
    del y
    assert all(r() is None for r in refs)


def test_inputs_saved_by_nodes_are_released_with_the_graph(no_cyclic_gc):
    x = chainrule.randn(3, 4, requires_grad=True)
    h = x * 2
    h_ref = weakref.ref(h._data)  # the storage: nodes keep saved arrays, not tensor objects
    y = (h * h).sum()  # MulBackward saves h
    del h
    assert h_ref() is not None  # kept alive by the graph, as PyTorch does
    y.backward()  # frees what backward needed
    assert h_ref() is None
    del y


def test_create_graph_and_higher_order_free_without_gc(no_cyclic_gc):
    x = chainrule.randn(3, requires_grad=True)
    with NodeTracker() as tracker:
        y = (x.sin() * x).sum()
        (g,) = chainrule.autograd.grad(y, x, create_graph=True)
        (gg,) = chainrule.autograd.grad(g.sum(), x)
        del y, g, gg
        assert tracker.live() == 0


def test_inplace_and_views_free_without_gc(no_cyclic_gc):
    x = chainrule.randn(3, 4, requires_grad=True)
    w = chainrule.randn(4, requires_grad=True)
    with NodeTracker() as tracker:
        y = x * 2
        y[0].mul_(w)
        y[1] += 1.0
        y.clamp_(-1, 1)
        (y * y).sum().backward()
        del y
        assert tracker.live() == 0


def test_retain_grad_and_hooks_free_without_gc(no_cyclic_gc):
    x = chainrule.randn(3, requires_grad=True)
    with NodeTracker() as tracker:
        h = x.exp()
        h.retain_grad()
        handle = h.register_hook(lambda g: g * 2)
        h_ref = weakref.ref(h)
        (h * 3).sum().backward()
        assert h.grad is not None
        handle.remove()
        del h, handle
        assert h_ref() is None
        assert tracker.live() == 0


def test_custom_function_graph_frees_without_gc(no_cyclic_gc):
    class Square(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x * x
            ctx.save_for_backward(x, y)
            return y

        @staticmethod
        def backward(ctx, grad):
            x, _ = ctx.saved_tensors
            return 2 * grad * x

    x = chainrule.randn(3, requires_grad=True)
    y = Square.apply(x)
    ref = weakref.ref(y.grad_fn)
    out = y.sum()
    del y
    out.backward()
    del out
    assert ref() is None


def test_no_reference_cycles_for_the_collector(no_cyclic_gc):
    gc.collect()
    params, x, y = _model()
    for _ in range(5):
        _step(params, x, y)
    z = chainrule.randn(2, 3, requires_grad=True)
    v = (z * 2)[0]
    (v.exp() * z[1]).sum().backward()
    del v
    assert gc.collect() == 0


def test_deep_chain_is_freed(no_cyclic_gc):
    x = chainrule.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(200_000):
        y = -y
    ref = weakref.ref(y.grad_fn)
    del y  # freeing a deep chain must not overflow the C stack either
    assert ref() is None


def test_fresh_leaf_gradients_are_kept_not_copied(monkeypatch):
    # The engine keeps a freshly computed gradient array as the leaf's .grad (no copy, no
    # extra peak memory) and copies one that is still in use elsewhere (see test_engine).
    from chainrule.autograd import engine

    seen = []
    accumulate = engine._accumulate

    def spy(leaf, grad, create_graph, handed, owned=False):
        seen.append((tuple(leaf.shape), owned))
        return accumulate(leaf, grad, create_graph, handed, owned)

    monkeypatch.setattr(engine, "_accumulate", spy)
    layer = chainrule.nn.Linear(4, 3)
    layer(chainrule.randn(5, 4)).sum().backward()
    assert seen == [((3, 4), True), ((3,), True)]
    seen.clear()
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    seed = chainrule.tensor([1.0, -1.0])
    (x + 1.0).backward(seed)  # the seed itself reaches x: it must be copied
    assert seen == [((2,), False)] and x.grad.tolist() == [1.0, -1.0]
