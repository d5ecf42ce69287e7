"""utils.checkpoint: both variants give the gradients of the plain call and PyTorch's; the
non-reentrant one keeps no activation (one node for the call), reruns with the random numbers
of the first run, works under autograd.grad, and keeps its ordinary graph where it cannot
stand for the call; PyTorch's warnings and errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.utils.checkpoint

import chainrule
import chainrule.utils.checkpoint as ck
from chainrule.autograd import graph
from conftest import assert_close


def _block(lib, seed=0):
    rng = np.random.default_rng(seed)
    layers = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.Tanh(), lib.nn.Dropout(0.3), lib.nn.Linear(8, 3)).double()
    with lib.no_grad():
        for p in layers.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape))))
    return layers


def _run(lib, use_reentrant, checkpointed=True):
    block = _block(lib)
    block.eval()  # (dropout off: PyTorch's and chainrule's random streams differ)
    x = lib.tensor(np.linspace(-1, 1, 8).reshape(2, 4), requires_grad=True)
    if checkpointed:
        y = lib.utils.checkpoint.checkpoint(block, x, use_reentrant=use_reentrant)
    else:
        y = block(x)
    (y ** 2).sum().backward()
    return [y, x.grad] + [p.grad for p in block.parameters()]


@pytest.mark.parametrize("use_reentrant", [False, True])
def test_gradients_are_the_plain_calls_and_pytorchs(use_reentrant):
    ours = _run(chainrule, use_reentrant)
    for a, b in zip(ours, _run(chainrule, use_reentrant, checkpointed=False)):
        assert_close(a, b, rtol=0, atol=0)
    for a, b in zip(ours, _run(torch, use_reentrant)):
        assert_close(a, b)


def test_one_node_stands_for_the_call_and_keeps_no_activation():
    block = _block(chainrule)
    x = chainrule.randn(2, 4, dtype=chainrule.float64, requires_grad=True)
    y = ck.checkpoint(block, x, use_reentrant=False)
    nodes = graph.walk(y)
    assert [graph.op_name(n) for n in nodes] == ["Recomputation"]
    edges = graph.inputs(y.grad_fn)
    read = {id(e.leaf) for e in edges if e is not None}
    assert read == {id(x)} | {id(p) for p in block.parameters()}


def test_dropout_is_rerun_with_the_same_draws_and_the_stream_goes_on():
    def train_step(checkpointed):
        chainrule.manual_seed(5)
        block = _block(chainrule)
        x = chainrule.randn(16, 4, dtype=chainrule.float64, requires_grad=True)
        y = ck.checkpoint(block, x, use_reentrant=False) if checkpointed else block(x)
        y.sum().backward()
        return [x.grad] + [p.grad for p in block.parameters()] + [chainrule.rand(3)]

    for a, b in zip(train_step(True), train_step(False)):
        assert_close(a, b, rtol=0, atol=0)


def test_autograd_grad_reaches_the_parameters_through_the_call():
    block = _block(chainrule)
    block.eval()
    x = chainrule.randn(2, 4, dtype=chainrule.float64, requires_grad=True)
    y = ck.checkpoint(block, x, use_reentrant=False)
    found = chainrule.autograd.grad((y ** 2).sum(), [x] + list(block.parameters()))
    expected = chainrule.autograd.grad((block(x) ** 2).sum(), [x] + list(block.parameters()))
    for a, b in zip(found, expected):
        assert_close(a, b, rtol=0, atol=0)


def test_keyword_arguments_several_outputs_and_a_nonleaf_input():
    w = chainrule.tensor([0.5, -1.0], dtype=chainrule.float64, requires_grad=True)
    base = chainrule.tensor([1.0, 2.0], dtype=chainrule.float64, requires_grad=True)

    def fn(a, scale=1.0):
        return (a * w).sin() * scale, a.exp()

    for checkpointed in (True, False):
        w.grad = base.grad = None
        a = base * 3  # a non-leaf argument: its own history stays outside the node
        first, second = ck.checkpoint(fn, a, scale=2.0, use_reentrant=False) if checkpointed else fn(a, scale=2.0)
        (first.sum() + second.sum()).backward()
        if checkpointed:
            got = (w.grad, base.grad)
        else:
            assert_close(got[0], w.grad, rtol=0, atol=0)
            assert_close(got[1], base.grad, rtol=0, atol=0)


def test_a_custom_function_inside_keeps_the_ordinary_graph():
    class Cube(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x ** 2

    w = chainrule.tensor([2.0], dtype=chainrule.float64, requires_grad=True)
    y = ck.checkpoint(lambda x: Cube.apply(x * w), chainrule.tensor([1.5], dtype=chainrule.float64),
                      use_reentrant=False)
    assert graph.op_name(y.grad_fn) != "Recomputation"
    y.backward()
    assert_close(w.grad, np.array([3 * 1.5 ** 3 * 2.0 ** 2]))


def test_checkpoint_sequential_matches_the_sequential():
    for use_reentrant in (False, True):
        model = chainrule.nn.Sequential(*[chainrule.nn.Linear(3, 3).double() for _ in range(5)])
        x = chainrule.randn(2, 3, dtype=chainrule.float64, requires_grad=True)
        y = ck.checkpoint_sequential(model, 2, x, use_reentrant=use_reentrant)
        y.sum().backward()
        got = [x.grad] + [p.grad for p in model.parameters()]
        x.grad = None
        model.zero_grad()
        model(x).sum().backward()
        for a, b in zip(got, [x.grad] + [p.grad for p in model.parameters()]):
            assert_close(a, b, rtol=0, atol=0)


def test_pytorchs_warnings_and_errors():
    x = chainrule.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        ck.checkpoint(lambda t: t * 2, x)
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        ck.checkpoint_sequential([lambda t: t * 2], 1, x)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: scale"):
        ck.checkpoint(lambda t, scale: t * scale, x, scale=2, use_reentrant=True)
    with pytest.raises(ValueError, match="only supported when use_reentrant=False"):
        ck.checkpoint(lambda t: t, x, use_reentrant=True, debug=True)
    with pytest.raises(ValueError, match="determinism_check should be one of"):
        ck.checkpoint(lambda t: t, x, use_reentrant=False, determinism_check="strict")
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        ck.checkpoint(lambda t: t * 2, chainrule.ones(2), use_reentrant=True)
    calls = []

    def changing(t):
        calls.append(1)
        return t * 2 if len(calls) == 1 else t.repeat(2) * 2

    y = ck.checkpoint(changing, x, use_reentrant=False)
    with pytest.raises(ck.CheckpointError, match="different metadata"):
        y.sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert torch.utils.checkpoint.CheckpointError.__name__ == ck.CheckpointError.__name__


def test_activations_are_not_held_between_forward_and_backward():
    import tracemalloc

    blocks = [chainrule.nn.Sequential(chainrule.nn.Linear(64, 64), chainrule.nn.Tanh(), chainrule.nn.Linear(64, 64),
                                      chainrule.nn.Tanh()) for _ in range(6)]
    x = chainrule.randn(128, 64, requires_grad=True)
    held = {}
    for mode in ("plain", False, True):
        tracemalloc.start()
        h = x
        for block in blocks:
            h = block(h) if mode == "plain" else ck.checkpoint(block, h, use_reentrant=mode)
        held[mode] = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        h.sum().backward()
        del h
    # Plain: four (128, 64) activations a block; checkpointed: one output a block.
    assert held[False] < held["plain"] / 2.5 and held[True] < held["plain"] / 2.5


def test_second_derivatives_and_arguments_handed_back():
    x = chainrule.tensor([1.0, 2.0], dtype=chainrule.float64, requires_grad=True)
    y = ck.checkpoint(lambda a: a ** 3, x, use_reentrant=False)
    (g,) = chainrule.autograd.grad(y.sum(), x, create_graph=True)
    (gg,) = chainrule.autograd.grad(g.sum(), x)
    assert gg.tolist() == [6.0, 12.0]
    assert ck.checkpoint(lambda a: a, x, use_reentrant=False) is x
    same, doubled = ck.checkpoint(lambda a: (a, a * 2), x, use_reentrant=False)
    assert same is x and doubled.tolist() == [2.0, 4.0]
